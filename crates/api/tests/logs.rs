//! The real `kenshu` binary's logs: structured JSON lines, a request id on every line of a
//! request, and no tokens or personal data, whatever the request carried.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SECRET: &str = "a-log-test-secret-that-is-long-enough-0123456789";

struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn kenshu(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kenshu"));
    cmd.env("KENSHU_DATABASE_URL", format!("sqlite://{}/kenshu.db?mode=rwc", dir.display()))
        .env("KENSHU_JWT_SECRET", SECRET)
        .env("KENSHU_BIND", "127.0.0.1:0")
        .env("KENSHU_LOG_FORMAT", "json")
        .env("KENSHU_LOG", "debug");
    cmd
}

fn start() -> (Server, String) {
    let dir = std::env::temp_dir().join(format!("kenshu-logs-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = kenshu(&dir).args(["serve", "--demo"]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let server = Server { child, lines, dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = server
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the service did not start");
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if v["fields"]["message"] == "listening" {
            let address = v["fields"]["address"].as_str().unwrap().to_string();
            return (server, address);
        }
    }
}

fn http(address: &str, request_line: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut req = format!("{request_line} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(req.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut res = String::new();
    stream.read_to_string(&mut res).unwrap();
    res
}

#[test]
fn logs_are_json_with_request_ids_and_no_tokens_or_personal_data() {
    let (server, address) = start();
    let out = kenshu(&server.dir)
        .args(["token", "--org", "isehara", "--sub", "10035", "--role", "employee", "--role", "hr_admin"])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let bearer = format!("Bearer {token}");

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
    let out = kenshu(&server.dir)
        .args(["token", "--org", "isehara", "--sub", "10035", "--role", "employee", "--role", "hr_admin"])
        .output()
        .unwrap();
    let bearer = format!("Bearer {}", String::from_utf8(out.stdout).unwrap().trim());
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
    // Give the request time to arrive and start, then stop the service as an orchestrator would.
    std::thread::sleep(Duration::from_millis(400));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let res = import.join().unwrap();
    assert!(res.starts_with("HTTP/1.1 200"), "the import in flight was not finished: {res}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the service did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
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
