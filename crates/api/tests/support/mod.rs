//! Running the real `kenshu` binary: start it, read its JSON log lines, talk HTTP to it.

#![allow(dead_code)] // Each test file uses its own part.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const SECRET: &str = "a-log-test-secret-that-is-long-enough-0123456789";

pub struct Server {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
    pub dir: std::path::PathBuf,
    /// The database it serves.
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The binary, set up for the database at `url`.
pub fn kenshu(url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kenshu"));
    cmd.env("KENSHU_DATABASE_URL", url)
        .env("KENSHU_JWT_SECRET", SECRET)
        .env("KENSHU_BIND", "127.0.0.1:0")
        .env("KENSHU_LOG_FORMAT", "json")
        .env("KENSHU_LOG", "debug")
        // These tests send hundreds of writes a second as one caller; limits are tested in e2e.
        .env("KENSHU_RATE_LIMIT_PER_MINUTE", "0")
        .env("KENSHU_WRITE_RATE_LIMIT_PER_MINUTE", "0");
    cmd
}

/// `kenshu serve --demo` on a SQLite file of its own.
pub fn start() -> (Server, String) {
    start_on(None)
}

/// `kenshu serve --demo` on `url`, or on a SQLite file of its own; its address once listening.
pub fn start_on(url: Option<String>) -> (Server, String) {
    let dir = std::env::temp_dir().join(format!("kenshu-bin-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = url.unwrap_or_else(|| format!("sqlite://{}/kenshu.db?mode=rwc", dir.display()));
    let mut child = kenshu(&url).args(["serve", "--demo"]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let server = Server { child, lines, dir, url };
    let listening =
        server.wait_for_line(|v| v["fields"]["message"] == "listening", "the service did not start");
    let address = listening["fields"]["address"].as_str().unwrap().to_string();
    (server, address)
}

impl Server {
    /// The next JSON log line that `wanted` picks (within a minute), skipping the others.
    pub fn wait_for_line(
        &self,
        wanted: impl Fn(&serde_json::Value) -> bool,
        what: &str,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let line =
                self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect(what);
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            if wanted(&v) {
                return v;
            }
        }
    }

    /// `Bearer …` for `sub` with `roles`, from `kenshu token`.
    pub fn bearer(&self, sub: &str, roles: &[&str]) -> String {
        let mut cmd = kenshu(&self.url);
        cmd.args(["token", "--org", "isehara", "--sub", sub]);
        for r in roles {
            cmd.args(["--role", r]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        format!("Bearer {}", String::from_utf8(out.stdout).unwrap().trim())
    }

    /// Wait for the process to end (at most a minute).
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the service did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One request on its own connection; the whole answer as text, or the error when no answer
/// came (the connection was refused or cut).
pub fn try_http(
    address: &str,
    request_line: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(address)?;
    let mut req = format!("{request_line} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(req.as_bytes())?;
    stream.write_all(body)?;
    let mut res = String::new();
    stream.read_to_string(&mut res)?;
    Ok(res)
}

pub fn http(address: &str, request_line: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
    try_http(address, request_line, headers, body).unwrap()
}

/// The status of an answer (`HTTP/1.1 201 Created…`); `None` for an empty one.
pub fn status(answer: &str) -> Option<u16> {
    answer.split(' ').nth(1).and_then(|s| s.parse().ok())
}

/// The body of an answer as JSON.
pub fn body(answer: &str) -> serde_json::Value {
    serde_json::from_str(answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)).unwrap()
}
