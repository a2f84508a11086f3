//! What reaches the socket as bytes a client wrote (not as reqwest would encode them): raw
//! UTF-8 in a query string, requests in a row on one connection with bodies between them, and
//! heads the HTTP parser would refuse with an empty answer.

use kenshu_domain::auth::Role;
use kenshu_tests::people;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One answer read off a raw connection.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Send `bytes` as they are on one connection and read `count` answers (each with a
/// Content-Length, as Kenshu's JSON answers have).
async fn exchange(app: &kenshu_tests::TestApp, bytes: &[u8], count: usize) -> Vec<Answer> {
    let mut conn = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    conn.write_all(bytes).await.unwrap();
    let mut input = Vec::new();
    let mut answers = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while answers.len() < count {
        if let Some(end) = input.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(input[..end].to_vec()).unwrap();
            let mut lines = head.split("\r\n");
            let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().unwrap());
            if input.len() >= end + 4 + length {
                let body = input[end + 4..end + 4 + length].to_vec();
                input.drain(..end + 4 + length);
                answers.push(Answer { status, headers, body });
                continue;
            }
        }
        let n = tokio::time::timeout(std::time::Duration::from_secs(20), conn.read(&mut buf))
            .await
            .expect("an answer within 20 s")
            .unwrap();
        assert!(n > 0, "the connection closed after {} answers", answers.len());
        input.extend_from_slice(&buf[..n]);
    }
    answers
}

fn get(path: &str, token: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: kenshu\r\nAuthorization: Bearer {token}\r\n{extra}\r\n")
        .into_bytes()
}

/// curl sends `?grade=係長` as raw UTF-8: it is read as its percent-encoded form, on a
/// connection that goes on serving requests after bodies of either framing.
#[tokio::test]
async fn raw_utf8_in_a_query_is_read_as_percent_encoded_between_bodies_of_either_framing() {
    let app = kenshu_tests::spawn().await;
    let hr = app.hr();
    let encoded: Value = app.get_json("/api/v1/employees?grade=%E4%BF%82%E9%95%B7&limit=100", &hr).await;
    let expected = encoded["items"].as_array().unwrap().len();
    assert!(expected > 0, "{encoded}");
    assert!(encoded["items"].as_array().unwrap().iter().all(|e| e["grade"] == "係長"));

    let mut bytes = get("/api/v1/employees?grade=係長&limit=100", &hr, "");
    // A body with Content-Length, holding a request-like line and raw UTF-8.
    let body = "{\"employee_no\": \"GET /x?係長 HTTP/1.1\"}";
    bytes.extend_from_slice(
        format!(
            "POST /api/v1/employees HTTP/1.1\r\nHost: kenshu\r\nAuthorization: Bearer {hr}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    bytes.extend_from_slice(&get("/api/v1/employees?grade=係長&limit=100", &hr, ""));
    // A chunked body, split inside a character, with an extension and a trailer.
    let json = body.as_bytes();
    bytes.extend_from_slice(
        format!(
            "POST /api/v1/employees HTTP/1.1\r\nHost: kenshu\r\nAuthorization: Bearer {hr}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x};note=1\r\n",
            26
        )
        .as_bytes(),
    );
    bytes.extend_from_slice(&json[..26]);
    bytes.extend_from_slice(format!("\r\n{:x}\r\n", json.len() - 26).as_bytes());
    bytes.extend_from_slice(&json[26..]);
    bytes.extend_from_slice(b"\r\n0\r\nX-Trailer: yes\r\n\r\n");
    bytes.extend_from_slice(&get("/api/v1/employees?grade=係長&limit=100", &hr, ""));
    let answers = exchange(&app, &bytes, 5).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 422, 200, 422, 200], "{:?}", String::from_utf8_lossy(&answers[1].body));
    for a in [&answers[0], &answers[2], &answers[4]] {
        assert_eq!(a.json()["items"].as_array().unwrap().len(), expected);
    }
    // Both bodies arrived whole: the same field refused for the same reason.
    assert_eq!(answers[1].json()["errors"], answers[3].json()["errors"]);
}

/// Heads the HTTP parser would answer with an empty 400 or 431 get a problem document, in the
/// language asked for, carrying the client's request id; nothing is written.
#[tokio::test]
async fn heads_the_parser_refuses_are_answered_with_problems() {
    let app = kenshu_tests::spawn().await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let before = app.audit_count().await;
    let pad = "a".repeat(70 * 1024);
    let cases: Vec<(Vec<u8>, u16, &str, &str)> = vec![
        (get("/api/v1/me", &me, &format!("X-Pad: {pad}\r\n")), 431, "head-too-large", "65536"),
        (
            format!(
                "GET /api/v1/me HTTP/1.1\r\nHost: kenshu\r\nAccept-Language: ja\r\n\
                 X-Request-Id: wire-test-1\r\nX-Pad: {pad}\r\n\r\n"
            )
            .into_bytes(),
            431,
            "head-too-large",
            "バイト",
        ),
        (get("/api/v1/me", &me, "Host: second\r\n"), 400, "bad-request", "Host"),
        (b"GET /api/v1/me HTTP/1.1\r\nAuthorization: x\r\n\r\n".to_vec(), 400, "bad-request", "Host"),
        (
            get("/api/v1/me", &me, &(0..100).map(|i| format!("X-{i}: {i}\r\n")).collect::<String>()),
            400,
            "bad-request",
            "96",
        ),
        (
            get("/api/v1/me", &me, "Content-Length: 1\r\nContent-Length: 2\r\n"),
            400,
            "bad-request",
            "Content-Length",
        ),
        (get("/api/v1/me", &me, "Transfer-Encoding: gzip\r\n"), 400, "bad-request", "Transfer-Encoding"),
        (b"GET /api/v1/me HTTP/1.1 extra\r\nHost: kenshu\r\n\r\n".to_vec(), 400, "bad-request", "RFC 9112"),
    ];
    let mut japanese = 0;
    for (bytes, status, code, quoted) in cases {
        let answer = exchange(&app, &bytes, 1).await.remove(0);
        assert_eq!(answer.status, status, "{}", String::from_utf8_lossy(&answer.body));
        assert_eq!(answer.header("content-type"), Some("application/problem+json"));
        let p = answer.json();
        assert_eq!(p["code"], code, "{p}");
        assert!(p["detail"].as_str().unwrap().contains(quoted), "{p}");
        if answer.header("x-request-id") == Some("wire-test-1") {
            assert_eq!(p["title"], "リクエストヘッダーが大きすぎます", "{p}");
            japanese += 1;
        }
    }
    assert_eq!(japanese, 1, "the client's language and request id reach the problem");
    assert_eq!(app.audit_count().await, before);
}
