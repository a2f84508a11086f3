//! Benchmark: the hot reads under load, each against PostgreSQL's own ceiling in the same run.
//!
//! `cargo build --release --bins && TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres target/release/bench-load [--seconds 10 --clients 8,64 --rows N --only PATH-PART --record]`
//!
//! Generates the data in this process (the demo organisation with the FY2023 plan published, plus
//! `--rows` more staff if asked), then starts the release build's `kenshu serve` (beside this
//! binary: `cargo build --release --bins`) as a process of its own on that database, with the
//! pool deployed by default (10 on PostgreSQL, 4 on SQLite), so the resident size read is the
//! service's alone. For each client count it first runs
//! `pgbench -S -M prepared` (a database `kenshu_bench_pgbench` it initialises once at scale 10)
//! and then `wrk --latency` against each endpoint, and prints requests per second, p50 and p99,
//! the statements each request ran (the service's own count, from its `/metrics`), the ratio to
//! pgbench, and the service's peak resident size during the row and its size after.
//! Needs `wrk` and `pgbench`; installs them from Debian's packages (`wrk`, `postgresql-client`)
//! when they are not on the PATH.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use kenshu_domain::auth::Role;
use kenshu_tests::bench::{peak_rss_mib, record, run_context, Process};
use kenshu_tests::prefecture::{generate, last_year_sheets, open_notice_pairs, LastYearSheet, Scale};
use kenshu_tests::{people, spawn_configured, TestApp};

struct Args {
    seconds: u32,
    clients: Vec<u32>,
    rows: usize,
    record: bool,
    /// Only the endpoints whose path contains this (for profiling one).
    only: Option<String>,
    /// The service's pool size (`KENSHU_DB_MAX_CONNECTIONS`); the production default if not given.
    pool: Option<u32>,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().collect();
    let value = |name: &str| argv.iter().position(|a| a == name).and_then(|i| argv.get(i + 1)).cloned();
    Args {
        seconds: value("--seconds").and_then(|s| s.parse().ok()).unwrap_or(10),
        clients: value("--clients")
            .unwrap_or_else(|| "8,64".into())
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect(),
        rows: value("--rows").and_then(|s| s.parse().ok()).unwrap_or(0),
        record: argv.iter().any(|a| a == "--record"),
        only: value("--only"),
        pool: value("--pool").and_then(|s| s.parse().ok()),
    }
}

/// Where pgbench connects: the tests' PostgreSQL, or the machine's default one.
fn pg_target() -> (String, String, String) {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let (user, rest) = rest.split_once('@').unwrap_or(("postgres", rest));
    let host_port = rest.split('/').next().unwrap_or("127.0.0.1:5432");
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
    (user.split(':').next().unwrap_or("postgres").to_string(), host.to_string(), port.to_string())
}

const PGBENCH_DB: &str = "kenshu_bench_pgbench";

fn pgbench(args: &[&str]) -> String {
    let (user, host, port) = pg_target();
    let out = Command::new("pgbench")
        .args(["-h", &host, "-p", &port, "-U", &user])
        .args(args)
        .output()
        .expect("pgbench on the PATH");
    assert!(out.status.success(), "pgbench {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn prepare_pgbench() {
    let (user, host, port) = pg_target();
    // Create it once; initialise it once (an existing pgbench_accounts is kept).
    let _ = Command::new("createdb").args(["-h", &host, "-p", &port, "-U", &user, PGBENCH_DB]).output();
    let has = Command::new("psql")
        .args(["-h", &host, "-p", &port, "-U", &user, "-d", PGBENCH_DB, "-tAc"])
        .arg("SELECT count(*) FROM pg_tables WHERE tablename = 'pgbench_accounts'")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "1")
        .unwrap_or(false);
    if !has {
        pgbench(&["-i", "-s", "10", "-q", PGBENCH_DB]);
    }
}

/// pgbench -S -M prepared: transactions per second.
fn pgbench_tps(clients: u32, seconds: u32) -> f64 {
    let out = pgbench(&[
        "-S",
        "-M",
        "prepared",
        "-c",
        &clients.to_string(),
        "-j",
        "2",
        "-T",
        &seconds.to_string(),
        PGBENCH_DB,
    ]);
    out.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|n| n.parse().ok())
        .expect("pgbench prints its tps")
}

/// A latency as wrk prints it (`812.00us`, `1.23ms`, `2.01s`), in milliseconds.
fn millis(text: &str) -> f64 {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().unwrap_or(f64::NAN) * factor
}

struct Load {
    rps: f64,
    p50: f64,
    p99: f64,
    requests: u64,
    non_2xx: u64,
    /// Requests wrk gave up on (`--timeout`); they count in neither the rate nor the latencies.
    timeouts: u64,
}

/// How long wrk waits for an answer. Its default, 2 s, silently dropped every year's results on
/// SQLite at 50,000 staff (about 4 s each, two at once) and cut the sheets' latencies at 2 s.
const WRK_TIMEOUT: &str = "60s";

/// Install from Debian's packages each `(command, package)` whose command is not on the PATH.
fn install_missing(tools: &[(&str, &str)]) {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(command, _)| Command::new(command).arg("--version").output().is_err())
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return;
    }
    eprintln!("installing {} from Debian's packages", missing.join(", "));
    let install = || Command::new("apt-get").args(["install", "-y", "-q"]).args(&missing).status();
    if !install().is_ok_and(|s| s.success()) {
        let _ = Command::new("apt-get").args(["update", "-q"]).status();
        assert!(install().is_ok_and(|s| s.success()), "apt-get install {} failed", missing.join(" "));
    }
}

fn wrk(url: &str, token: Option<&str>, script: Option<&Path>, clients: u32, seconds: u32) -> Load {
    let mut cmd = Command::new("wrk");
    // wrk needs a connection per thread at least.
    cmd.args([
        "-t",
        &clients.min(2).to_string(),
        "-c",
        &clients.to_string(),
        "-d",
        &format!("{seconds}s"),
        "--timeout",
        WRK_TIMEOUT,
        "--latency",
    ]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.arg(url).output().expect("wrk on the PATH");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    };
    let percentile =
        |p: &str| field(p).map_or(f64::NAN, |v| millis(v.split_whitespace().next().unwrap_or("")));
    Load {
        rps: field("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(0.0),
        p50: percentile("50%"),
        p99: percentile("99%"),
        requests: text
            .lines()
            .find(|l| l.contains(" requests in "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        non_2xx: field("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0),
        // "Socket errors: connect 0, read 0, write 0, timeout 12"
        timeouts: field("Socket errors:")
            .and_then(|v| v.rsplit("timeout").next().and_then(|n| n.trim().parse().ok()))
            .unwrap_or(0),
    }
}

/// Wait until the service has finished what the previous row left queued: wrk stops sending when
/// its time is up, but the service still works through the writes it accepted (at 64 clients,
/// a minute of sheets queued on their course's lock), and the next row would measure that queue's
/// 503s as its own.
async fn settle(service: &Served) {
    let started = std::time::Instant::now();
    // The scrape that reads it is in flight itself.
    while service.metric("kenshu_http_requests_in_flight").await > 1.0
        && started.elapsed() < std::time::Duration::from_secs(300)
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if started.elapsed() > std::time::Duration::from_secs(1) {
        eprintln!(
            "(waited {:.1} s for the service to finish the previous row's requests)",
            started.elapsed().as_secs_f64()
        );
    }
}

/// The service under load: the release build's `kenshu serve` in a process of its own on the
/// generated database, with the tests' settings (their token secret among them), stopped when
/// dropped.
struct Served {
    child: Child,
    base: String,
    client: reqwest::Client,
}

/// The token `/metrics` asks of the benchmark.
const METRICS_TOKEN: &str = "bench-load-metrics-token-0123456789";

impl Served {
    async fn start(app: &TestApp, pool: u32) -> Served {
        let exe = std::env::current_exe().expect("this binary's path").with_file_name("kenshu");
        assert!(exe.exists(), "{} is missing: cargo build --release --bins", exe.display());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = Command::new(exe);
        cmd.arg("serve").envs(kenshu_tests::test_env(&app.database_url));
        cmd.env("KENSHU_BIND", format!("127.0.0.1:{port}"))
            .env("KENSHU_DB_MAX_CONNECTIONS", pool.to_string())
            .env("KENSHU_METRICS_TOKEN", METRICS_TOKEN)
            // A line per request would cost the service more than some requests do.
            .env("KENSHU_LOG", std::env::var("KENSHU_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::null());
        let served = Served {
            child: cmd.spawn().expect("kenshu serve"),
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        let started = std::time::Instant::now();
        while !served
            .client
            .get(format!("{}/healthz", served.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(started.elapsed().as_secs() < 120, "kenshu serve did not answer /healthz");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        served
    }

    fn process(&self) -> Process {
        Process::Pid(self.child.id())
    }

    /// One unlabelled figure of the service's `/metrics`.
    async fn metric(&self, name: &str) -> f64 {
        let text = self
            .client
            .get(format!("{}/metrics", self.base))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("/metrics")
            .text()
            .await
            .unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in /metrics"))
    }

    async fn probe(&self, path: &str, token: Option<&str>) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        if !status.is_success() {
            eprintln!("GET {path}: {status} {}", res.text().await.unwrap_or_default());
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Lua string literal.
fn lua(text: &str) -> String {
    format!("{text:?}")
}

/// The wrk script that sends `items` (method, absolute path, bodies) to the host of the URL wrk
/// is given, in turn, the two threads taking
/// alternate ones; each pass over the list sends the next of an item's bodies.
fn rotating_script(token: &str, items: &[(&str, String, Vec<String>)]) -> String {
    let mut s = String::from("local items = {\n");
    for (method, path, bodies) in items {
        let bodies: Vec<String> = bodies.iter().map(|b| lua(b)).collect();
        s.push_str(&format!("  {{ {}, {}, {{ {} }} }},\n", lua(method), lua(path), bodies.join(", ")));
    }
    s.push_str(&format!(
        "}}\nlocal headers = {{ [\"Authorization\"] = {}, [\"Content-Type\"] = \"application/json\" }}\n",
        lua(&format!("Bearer {token}"))
    ));
    s.push_str(
        r#"local threads = 0
function setup(thread)
  thread:set("n", threads)
  threads = threads + 1
end
function request()
  local item = items[(n % #items) + 1]
  local pass = math.floor(n / #items)
  n = n + 2
  return wrk.format(item[1], item[2], headers, item[3][(pass % #item[3]) + 1])
end
"#,
    );
    s
}

/// Each sheet recorded whole: all present, then its first trainee absent, in turn (each a
/// correction, audited, that may complete or reopen a nomination).
fn sheet_script(token: &str, sheets: &[LastYearSheet]) -> String {
    let items: Vec<(&str, String, Vec<String>)> = sheets
        .iter()
        .map(|s| {
            let body = |first: &str| {
                let entries: Vec<serde_json::Value> = s
                    .employee_nos
                    .iter()
                    .enumerate()
                    .map(|(i, no)| {
                        serde_json::json!({ "employee_no": no, "status": if i == 0 { first } else { "present" } })
                    })
                    .collect();
                serde_json::json!({ "entries": entries }).to_string()
            };
            (
                "PUT",
                format!("/api/v1/courses/{}/sessions/{}/attendance", s.course_id, s.session_id),
                vec![body("present"), body("absent")],
            )
        })
        .collect();
    rotating_script(token, &items)
}

/// One absence notice for each (nomination, session) in turn, filed on the trainee's behalf.
fn notice_script(token: &str, pairs: &[(uuid::Uuid, uuid::Uuid)]) -> String {
    let items: Vec<(&str, String, Vec<String>)> = pairs
        .iter()
        .map(|(nomination, session)| {
            (
                "POST",
                format!("/api/v1/nominations/{nomination}/absence-notices"),
                vec![serde_json::json!({ "session_id": session, "kind": "absence", "reason": BENCH_REASON })
                    .to_string()],
            )
        })
        .collect();
    rotating_script(token, &items)
}

/// Rounds of [`results_after_changes`].
const ROUNDS_AFTER_CHANGES: usize = 12;

/// The year's results (JSON) read right after a change, which is when they are read rather than
/// answered as kept: each round files one absence notice (recorded in the organisation's audit
/// chain, so the kept year no longer answers), then one request alone; then another notice and
/// two requests at once, which the service reads once between them. Times as the client sees
/// them, best of nothing: p50 and the highest of the rounds.
async fn results_after_changes(
    service: &Served,
    hr: &str,
    year: i32,
    pairs: &[(uuid::Uuid, uuid::Uuid)],
    scrape_statements: f64,
) -> String {
    let results = format!("{}/api/v1/plans/{year}/results", service.base);
    let mut pairs = pairs.iter().rev();
    let mut change = async || {
        let (nomination, session) = pairs.next().expect("a (nomination, session) pair still open");
        let res = service
            .client
            .post(format!("{}/api/v1/nominations/{nomination}/absence-notices", service.base))
            .bearer_auth(hr)
            .json(&serde_json::json!({ "session_id": session, "kind": "absence", "reason": BENCH_REASON }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    };
    let read = async || {
        let started = std::time::Instant::now();
        let res = service.client.get(&results).bearer_auth(hr).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.bytes().await.unwrap();
        started.elapsed().as_secs_f64() * 1000.0
    };
    let (mut alone, mut together, mut statements) = (Vec::new(), Vec::new(), 0.0);
    for _ in 0..ROUNDS_AFTER_CHANGES {
        change().await;
        let before = service.metric("kenshu_db_statements_total").await;
        alone.push(read().await);
        statements += service.metric("kenshu_db_statements_total").await - before - scrape_statements;
        change().await;
        let (a, b) = tokio::join!(read(), read());
        together.extend([a, b]);
    }
    let p50 = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() - 1])
    };
    let ((alone_p50, alone_max), (two_p50, two_max)) = (p50(&mut alone), p50(&mut together));
    format!(
        "GET /api/v1/plans/{year}/results after a change, {ROUNDS_AFTER_CHANGES} rounds: alone p50 {alone_p50:.0} ms, \
         highest {alone_max:.0} ms, {:.1} stmts; two at once p50 {two_p50:.0} ms, highest {two_max:.0} ms",
        statements / ROUNDS_AFTER_CHANGES as f64
    )
}

/// The service's default bound on an organisation's bulk requests in flight.
const BULK_CLIENTS: u32 = 2;

/// Marks the notices this benchmark files, so that each run starts from none.
const BENCH_REASON: &str = "bench-load";

/// Remove the notices an earlier run filed (straight from the table: the benchmark's own
/// rows), so that every run has the same (nomination, session) pairs open.
async fn forget_bench_notices(conn: &sea_orm::DatabaseConnection) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    kenshu_persistence::entities::absence_notice::Entity::delete_many()
        .filter(kenshu_persistence::entities::absence_notice::Column::Reason.eq(BENCH_REASON))
        .exec(conn)
        .await
        .unwrap();
}

/// Fewer open (nomination, session) pairs than this, and the notice row opens them again while
/// it runs ([`reopen_pairs`]). At 300 staff the year has about 430 (the sheets' courses set
/// aside) against some 11,000 requests in six seconds: a pair filed twice is refused, so the row
/// measured refusals (10,809 of 11,221 not 2xx, session 39). At 5,000 staff 10,974 suffice.
const REOPEN_BELOW: usize = 5_000;

/// Every 50 ms while wrk files notices, the notices filed so far removed again (the benchmark's
/// own rows, from the benchmark's own connection: not counted among the service's statements),
/// so that each pair is open when the rotation comes back to it (430 pairs at ~2,000 a second:
/// every 0.2 s). Only for a small organisation's few pairs: the statement reads every notice.
fn reopen_pairs(conn: sea_orm::DatabaseConnection) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            forget_bench_notices(&conn).await;
        }
    })
}

fn write_script(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".lua").tempfile().unwrap();
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
    file
}

/// One request before the load, so that a refusal is explained rather than only counted.
async fn first_id(app: &TestApp, path: &str, token: &str) -> String {
    app.get_json(path, token).await["items"][0]["id"].as_str().expect("an item").to_string()
}

#[tokio::main]
async fn main() {
    let args = args();
    if std::env::var_os("KENSHU_LOG").is_some() {
        // The service's own log, to see why a request failed (KENSHU_LOG=warn).
        kenshu_api::app::init_logging(kenshu_api::config::LogFormat::Pretty);
    }
    install_missing(&[("wrk", "wrk"), ("pgbench", "postgresql-client")]);
    let backend =
        if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) { "PostgreSQL" } else { "SQLite" };
    // The generator's own pool, for writing the data.
    let app = spawn_configured(&[("KENSHU_DB_MAX_CONNECTIONS", args.pool.unwrap_or(10).to_string())]).await;
    let scale = Scale::for_staff(args.rows);
    let made = generate(&app, &scale).await;
    println!("{made}");
    prepare_pgbench();
    let employee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let hr = app.hr();
    let year = scale.last_year;
    let course = first_id(&app, &format!("/api/v1/courses?fiscal_year={year}&limit=1"), &employee).await;
    let me = app.employee(people::EMPLOYEE).await["id"].as_str().unwrap().to_string();
    let sheets = last_year_sheets(&app, year, 200).await;
    // Recording a sheet may complete its trainees, who then hold no place to be absent from:
    // the notices go to the other courses.
    let recorded: std::collections::HashSet<uuid::Uuid> = sheets.iter().map(|s| s.course_id).collect();
    // wrk's LuaJIT allows 65,536 constants in one chunk (two per pair here): more pairs make a
    // script that does not load, and wrk then sends plain GETs.
    let pairs = open_notice_pairs(&app, year, 15_000, &recorded).await;
    let sheets = write_script(&sheet_script(&hr, &sheets));
    let notices = write_script(&notice_script(&hr, &pairs));
    let reopen = pairs.len() < REOPEN_BELOW;
    // (as printed, as requested, as whom, the wrk script that makes the requests)
    let endpoints: Vec<(String, String, Option<&str>, Option<&std::path::Path>)> = vec![
        ("/healthz".into(), "/healthz".into(), None, None),
        ("/api/v1/me".into(), "/api/v1/me".into(), Some(&employee), None),
        ("/api/v1/courses/{id}".into(), format!("/api/v1/courses/{course}"), Some(&employee), None),
        ("/api/v1/employees/{id} (HR)".into(), format!("/api/v1/employees/{me}"), Some(&hr), None),
        (
            format!("/api/v1/courses?fiscal_year={year}&limit=50"),
            format!("/api/v1/courses?fiscal_year={year}&limit=50"),
            Some(&employee),
            None,
        ),
        (
            "/api/v1/courses?q=接遇 (text search)".into(),
            "/api/v1/courses?q=%E6%8E%A5%E9%81%87".into(),
            Some(&employee),
            None,
        ),
        ("/api/v1/me/courses".into(), "/api/v1/me/courses".into(), Some(&employee), None),
        ("/api/v1/me/nominations".into(), "/api/v1/me/nominations".into(), Some(&employee), None),
        (
            "/api/v1/employees/{id}/training-history (own)".into(),
            format!("/api/v1/employees/{me}/training-history"),
            Some(&employee),
            None,
        ),
        (
            "/api/v1/reports?limit=50 (HR, every year)".into(),
            "/api/v1/reports?limit=50".into(),
            Some(&hr),
            None,
        ),
        // The 未提出 list: only the trainees whose reports are not handed in, a few per course.
        (
            "/api/v1/reports?overdue=true&limit=50 (HR)".into(),
            "/api/v1/reports?overdue=true&limit=50".into(),
            Some(&hr),
            None,
        ),
        // The issue's goal is for one request; two at once is what the service allows. The year
        // is kept as rendered after the first request (nothing changes it meanwhile), and the
        // CSV is made from it; read right after a change, see `results_after_changes`.
        (
            format!("/api/v1/plans/{year}/results (HR, alone)"),
            format!("/api/v1/plans/{year}/results"),
            Some(&hr),
            None,
        ),
        (
            format!("/api/v1/plans/{year}/results (HR, ≤{BULK_CLIENTS} clients)"),
            format!("/api/v1/plans/{year}/results"),
            Some(&hr),
            None,
        ),
        (
            format!("/api/v1/plans/{year}/results?format=csv (alone)"),
            format!("/api/v1/plans/{year}/results?format=csv&by=course"),
            Some(&hr),
            None,
        ),
        ("PUT …/sessions/{id}/attendance (HR, a sheet)".into(), "/".into(), None, Some(sheets.path())),
        (
            format!(
                "POST /nominations/{{id}}/absence-notices (HR, {} open{})",
                pairs.len(),
                if reopen { ", reopened" } else { "" }
            ),
            "/".into(),
            None,
            Some(notices.path()),
        ),
    ];
    let staff = app.all_employees().await.len();
    let generated_peak = peak_rss_mib();
    let pool =
        args.pool.unwrap_or_else(|| kenshu_api::config::default_max_connections(app.db.backend()).into());
    let service = Served::start(&app, pool).await;
    let memory = service.process();
    // What one scrape of `/metrics` runs itself, read after the figure it reports.
    let scrape_statements = {
        let first = service.metric("kenshu_db_statements_total").await;
        service.metric("kenshu_db_statements_total").await - first
    };
    let mut run_peak: f64 = 0.0;
    let mut lines = vec![format!(
        "{backend}, {staff} staff, {}s per run, wrk -t2, service pool {}; statements as the service counts them",
        args.seconds, pool
    )];
    lines.push(format!(
        "{:<48} {:>7} {:>9} {:>8} {:>8} {:>6} {:>7} {:>7}",
        "request", "clients", "req/s", "p50 ms", "p99 ms", "stmts", "×pgbench", "peak/after MiB"
    ));
    for &clients in &args.clients {
        let ceiling = pgbench_tps(clients, args.seconds);
        lines.push(format!("{:<48} {clients:>7} {ceiling:>9.0}", "pgbench -S -M prepared (tps)"));
        println!("{}", lines.last().unwrap());
        for (label, path, token, script) in &endpoints {
            if args.only.as_ref().is_some_and(|o| !label.contains(o.as_str())) {
                continue;
            }
            settle(&service).await;
            let notices = label.contains("absence-notices");
            if notices {
                forget_bench_notices(app.db.conn()).await;
            }
            if script.is_none() {
                service.probe(path, *token).await;
            }
            // The peak of this row alone (it starts from the size now, which the previous rows
            // or the generation may have left high).
            memory.reset_peak_rss();
            let before = service.metric("kenshu_db_statements_total").await;
            // A year-wide read is a bulk request: the service runs two at once for an
            // organisation and refuses a third (KENSHU_BULK_CONCURRENCY), so more clients would
            // only measure refusals.
            let clients = match (label.contains("results"), label.contains("alone")) {
                (true, true) => 1,
                (true, false) => clients.min(BULK_CLIENTS),
                _ => clients,
            };
            let reopening = (notices && reopen).then(|| reopen_pairs(app.db.conn().clone()));
            let load = wrk(&format!("{}{path}", service.base), *token, *script, clients, args.seconds);
            if let Some(task) = reopening {
                task.abort();
            }
            // Less what the scrape that read `before` ran itself.
            let statements =
                (service.metric("kenshu_db_statements_total").await - before - scrape_statements)
                    / load.requests.max(1) as f64;
            let mut line = format!(
                "{:<48} {clients:>7} {:>9} {:>8.2} {:>8.2} {:>6.1} {:>7.3} {:>7.0}/{:.0}",
                if script.is_some() { label.clone() } else { format!("GET {label}") },
                // A year's results run at well under 10 a second: a whole number would print 0.
                if load.rps < 10.0 { format!("{:.1}", load.rps) } else { format!("{:.0}", load.rps) },
                load.p50,
                load.p99,
                statements,
                load.rps / ceiling,
                memory.peak_rss_mib(),
                memory.current_rss_mib()
            );
            run_peak = run_peak.max(memory.peak_rss_mib());
            if load.non_2xx > 0 {
                line.push_str(&format!("  ({} not 2xx!)", load.non_2xx));
            }
            if load.timeouts > 0 {
                line.push_str(&format!("  ({} timed out after {WRK_TIMEOUT}!)", load.timeouts));
            }
            println!("{line}");
            lines.push(line);
        }
    }
    if args.only.as_ref().is_none_or(|o| "results after a change".contains(o.as_str())) {
        settle(&service).await;
        forget_bench_notices(app.db.conn()).await;
        memory.reset_peak_rss();
        let line = results_after_changes(&service, &hr, year, &pairs, scrape_statements).await;
        run_peak = run_peak.max(memory.peak_rss_mib());
        let line =
            format!("{line}; peak/after {:.0}/{:.0} MiB", memory.peak_rss_mib(), memory.current_rss_mib());
        println!("{line}");
        lines.push(line);
    }
    // The process is the service and the generator: the generation's peak is reported apart.
    lines.push(format!(
        "resident size of the service (kenshu serve, a process of its own): the highest row peak {run_peak:.0} MiB (a row's peak starts from the size the row found); the generator's process peaked at {generated_peak:.0} MiB"
    ));
    println!("{}", lines.last().unwrap());
    lines.push(run_context());
    if args.record {
        record(&format!("bench-load · {backend} · {staff} staff · release build"), &lines.join("\n"));
    }
}
