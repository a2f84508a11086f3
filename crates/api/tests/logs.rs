//! The real `kenshu` binary's logs: structured JSON lines, a request id on every line of a
//! request, and no tokens or personal data, whatever the request carried.

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::{http, start, SECRET};

#[test]
fn logs_are_json_with_request_ids_and_no_tokens_or_personal_data() {
    let (server, address) = start();
    let bearer = server.bearer("10035", &["employee", "hr_admin"]);
    let token = bearer.trim_start_matches("Bearer ").to_string();

    // Personal data in the path, the query, the body and a rejected import's rows.
    let name = "伊勢原 太郎";
    let q = "%E4%BC%8A%E5%8B%A2%E5%8E%9F";
    let res = http(&address, &format!("GET /api/v1/employees?q={q}"), &[("Authorization", &bearer)], b"");
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    let res = http(&address, "GET /api/v1/me", &[("Authorization", "Bearer not.a.token")], b"");
    assert!(res.starts_with("HTTP/1.1 401"), "{res}");
    let csv = format!(
        "職員番号,氏名,フリガナ,所属コード,職級,採用日\nZX9381,{name},イセハラ タロウ,S0101,一般,2023-02-30\n"
    );
    let res = http(
        &address,
        "POST /api/v1/employees/import?mode=upsert",
        &[("Authorization", &bearer), ("Content-Type", "text/csv"), ("X-Request-Id", "portal-req-42")],
        csv.as_bytes(),
    );
    assert!(res.starts_with("HTTP/1.1 422"), "{res}");
    let email = "hanako.test@example.jp";
    let body = format!(
        r#"{{"employee_no":"ZX7777","name":"{name}","kana":"イセハラ","email":"{email}","unknown":1}}"#
    );
    let res = http(
        &address,
        "POST /api/v1/employees",
        &[("Authorization", &bearer), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert!(res.starts_with("HTTP/1.1 422"), "{res}");

    // A calendar feed's token is in its URL: a log names the route, never the token.
    let res = http(
        &address,
        "POST /api/v1/calendar-feeds",
        &[("Authorization", &bearer), ("Content-Type", "application/json")],
        br#"{"scope":"me"}"#,
    );
    assert!(res.starts_with("HTTP/1.1 201"), "{res}");
    let feed_token = res.split("/calendar/").nth(1).and_then(|r| r.split(".ics").next()).unwrap().to_string();
    let res = http(&address, &format!("GET /calendar/{feed_token}.ics"), &[], b"");
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");

    // The request lines arrive asynchronously; wait for all six.
    let mut logs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while logs.iter().filter(|l: &&serde_json::Value| l["fields"]["message"] == "request").count() < 6 {
        let line =
            server.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("log lines");
        // The demo's printed tokens are the only non-JSON output, and precede the server's start.
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        logs.push(v);
    }
    let text: Vec<String> = logs.iter().map(|l| l.to_string()).collect();
    for line in &text {
        for secret in [
            token.as_str(),
            SECRET,
            "not.a.token",
            name,
            "伊勢原",
            email,
            "ZX9381",
            "ZX7777",
            q,
            feed_token.as_str(),
        ] {
            assert!(!line.contains(secret), "a log line contains {secret:?}: {line}");
        }
    }
    let requests: Vec<&serde_json::Value> =
        logs.iter().filter(|l| l["fields"]["message"] == "request").collect();
    for r in &requests {
        assert!(r["span"]["request_id"].as_str().is_some_and(|id| !id.is_empty()), "no request id: {r}");
        assert!(r["fields"]["route"].as_str().is_some(), "no route: {r}");
    }
    assert!(requests.iter().any(|r| r["span"]["request_id"] == "portal-req-42"), "{text:?}");
    assert!(requests
        .iter()
        .any(|r| r["fields"]["route"] == "/api/v1/employees" && r["fields"]["status"] == 200));
}

/// SIGTERM while an import runs: the service stops accepting, lets the import finish and answer,
/// then stops and exits cleanly (it used to fail such an import with "Tokio context being
/// shutdown" once a worker it had used stopped).
#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits() {
    let (mut server, address) = start();
    let bearer = server.bearer("10035", &["employee", "hr_admin"]);
    let mut csv = String::from("職員番号,氏名,フリガナ,所属コード,職級,採用日\n");
    for i in 0..40_000 {
        csv.push_str(&format!("Q{i:06},職員 {i},ショクイン,S0101,一般,2020-04-01\n"));
    }
    let import = {
        let address = address.clone();
        std::thread::spawn(move || {
            http(
                &address,
                "POST /api/v1/employees/import?mode=upsert",
                &[("Authorization", &bearer), ("Content-Type", "text/csv")],
                csv.as_bytes(),
            )
        })
    };
    // Once the service has the request in hand (its debug line says so), stop the service as an
    // orchestrator would. A fixed pause was not enough on a loaded machine.
    server.wait_for_line(
        |v| v["fields"]["message"] == "request started" && v["fields"]["route"] == "/api/v1/employees/import",
        "the import did not start",
    );
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let res = import.join().unwrap();
    assert!(res.starts_with("HTTP/1.1 200"), "the import in flight was not finished: {res}");
    let status = server.wait_exit();
    assert!(status.success(), "exit status {status}");
    let lines: Vec<String> = server.lines.try_iter().collect();
    let said = |message: &str| {
        lines.iter().any(|l| {
            serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v["fields"]["message"] == message)
        })
    };
    assert!(said("shutting down") && said("stopping"), "{lines:?}");
    // The import was still running when the signal came: its request line follows.
    let position = |pred: &dyn Fn(&serde_json::Value) -> bool| {
        lines.iter().position(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| pred(&v)))
    };
    let signalled = position(&|v| v["fields"]["message"] == "shutting down").unwrap();
    let answered = position(&|v| {
        v["fields"]["message"] == "request" && v["fields"]["route"] == "/api/v1/employees/import"
    })
    .expect("the import's request line");
    assert!(signalled < answered, "the import had finished before the signal; make it larger");
    assert!(TcpStream::connect(&address).is_err(), "still accepting after it stopped");
}

/// `kenshu probe`, the container's health check: 0 when the service answers ready, 1 when it
/// does not answer.
#[test]
fn probe_says_whether_the_service_is_ready() {
    let (server, address) = start();
    let out = support::kenshu(&server.url)
        .args(["probe", "--url", &format!("http://{address}/readyz")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ready");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = support::kenshu(&server.url)
        .args(["probe", "--url", &format!("http://{closed}/readyz")])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a service that does not answer is not ready");
}
