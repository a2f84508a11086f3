//! The fault suite, on PostgreSQL clusters the tests start and stop themselves (never the shared
//! server; these run in the PostgreSQL pass): while the database is away requests are told so
//! quickly (503 with Retry-After) and readiness says not ready; writes under restarts (fast and
//! immediate) and a brief stop are acknowledged exactly when they were committed; an upload
//! whose client goes away leaves nothing. The binary's own (SIGTERM under writes, a service
//! killed mid-import) are in `crates/api/tests/faults.rs`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kenshu_domain::auth::Role;
use kenshu_tests::standins::PgCluster;
use kenshu_tests::{assert_problem, on_postgres, people, spawn, spawn_on, until_reads_kept, TestApp};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

async fn cluster(op: impl FnOnce(&PgCluster) + Send + 'static, pg: Arc<PgCluster>) {
    tokio::task::spawn_blocking(move || op(&pg)).await.unwrap();
}

async fn ready(app: &TestApp) -> u16 {
    app.request(reqwest::Method::GET, "/readyz", None).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_database_outage_is_answered_503_within_seconds_and_recovers() {
    if !on_postgres() {
        return;
    }
    let pg = Arc::new(tokio::task::spawn_blocking(PgCluster::start).await.unwrap());
    let app = spawn_on(&pg.database("kenshu")).await;
    let token = app.token(people::EMPLOYEE, &[Role::Employee]);
    assert_eq!(app.get("/api/v1/me", &token).await.status(), 200);
    assert_eq!(ready(&app).await, 200);

    cluster(PgCluster::stop, pg.clone()).await;
    for path in ["/api/v1/me", "/api/v1/courses?fiscal_year=2023"] {
        let started = Instant::now();
        let res = app.get(path, &token).await;
        // The pool's acquire timeout (1 s) and a connection attempt: not the old ten seconds.
        assert!(started.elapsed() < Duration::from_secs(5), "{path} took {:?}", started.elapsed());
        assert!(res.headers().contains_key("retry-after"), "{path}");
        assert_problem(res, 503, "unavailable").await;
    }
    let started = Instant::now();
    assert_eq!(ready(&app).await, 503);
    assert!(started.elapsed() < Duration::from_secs(3), "readyz took {:?}", started.elapsed());
    // Liveness is not readiness: the process is fine.
    assert_eq!(app.request(reqwest::Method::GET, "/healthz", None).send().await.unwrap().status(), 200);

    cluster(PgCluster::resume, pg.clone()).await;
    // Back: the pool reconnects by itself (a connection the restart closed may fail once).
    let mut status = 0;
    for _ in 0..20 {
        status = app.get("/api/v1/me", &token).await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200);
    assert_eq!(ready(&app).await, 200);
}

fn new_employee(no: &str, section: &Value) -> Value {
    json!({"employee_no": no, "name": "障害 試験", "kana": "ショウガイ シケン", "section_id": section,
        "grade": "一般", "hire_date": "2020-04-01"})
}

/// One writer: creates employees F{w}{n} until told to stop; what each request was answered.
async fn writer(
    app: Arc<TestApp>,
    w: usize,
    section: Value,
    stop: Arc<AtomicBool>,
) -> Vec<(String, Option<u16>)> {
    let hr = app.hr();
    let mut out = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let no = format!("F{w}{n:05}");
        let res = app
            .request(reqwest::Method::POST, "/api/v1/employees", Some(&hr))
            .json(&new_employee(&no, &section))
            .send()
            .await;
        out.push((no, res.ok().map(|r| r.status().as_u16())));
        n += 1;
    }
    out
}

#[tokio::test]
async fn writes_under_restarts_and_a_stop_are_acknowledged_exactly_when_committed() {
    if !on_postgres() {
        return;
    }
    let pg = Arc::new(tokio::task::spawn_blocking(PgCluster::start).await.unwrap());
    let app = Arc::new(spawn_on(&pg.database("kenshu")).await);
    let section = app.employee(people::EMPLOYEE).await["section_id"].clone();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> =
        (0..4).map(|w| tokio::spawn(writer(app.clone(), w, section.clone(), stop.clone()))).collect();

    let pause = || tokio::time::sleep(Duration::from_millis(700));
    pause().await;
    cluster(
        |pg| {
            pg.stop();
            pg.resume()
        },
        pg.clone(),
    )
    .await;
    pause().await;
    cluster(
        |pg| {
            pg.crash();
            pg.resume()
        },
        pg.clone(),
    )
    .await;
    pause().await;
    cluster(PgCluster::stop, pg.clone()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let down = ready(&app).await;
    cluster(PgCluster::resume, pg.clone()).await;
    pause().await;
    stop.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    for w in writers {
        answers.extend(w.await.unwrap());
    }
    assert_eq!(down, 503, "not ready while stopped");

    let mut acknowledged = BTreeSet::new();
    let mut refused = 0;
    for (no, status) in &answers {
        match status {
            Some(201) => {
                acknowledged.insert(no.clone());
            }
            Some(503) => refused += 1,
            other => panic!("{no} was answered {other:?}: only 201 or 503 are honest here"),
        }
    }
    let rows = app
        .db
        .conn()
        .query_all(Statement::from_string(
            app.db.backend(),
            "SELECT employee_no FROM employee WHERE employee_no LIKE 'F%'",
        ))
        .await
        .unwrap();
    let stored: BTreeSet<String> = rows.iter().map(|r| r.try_get("", "employee_no").unwrap()).collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    let unacknowledged: Vec<_> = stored.difference(&acknowledged).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert!(unacknowledged.is_empty(), "stored but answered 503: {unacknowledged:?}");
    assert!(
        acknowledged.len() >= 20 && refused >= 1,
        "{} acknowledged, {refused} refused",
        acknowledged.len()
    );
    // Every stored write has its audit record, chained.
    let auditor = app.token("auditor", &[Role::Auditor]);
    let chain = app.get_json("/api/v1/audit/verification", &auditor).await;
    assert_eq!((&chain["status"], &chain["unchained"]), (&json!("intact"), &json!(0)), "{chain}");
    eprintln!("{} writes acknowledged and stored, {refused} answered 503", acknowledged.len());
}

#[tokio::test]
async fn an_upload_whose_client_goes_away_leaves_nothing() {
    use tokio::io::AsyncWriteExt;
    let app = spawn().await;
    let (employees, audit) = (app.all_employees().await.len(), app.audit_count().await);
    let mut conn = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let mut rows = String::from("employee_no,name,kana,section_code,grade,hire_date\n");
    for i in 0..2000 {
        rows.push_str(&format!("G{i:05},職員 {i},ショクイン,S0101,一般,2020-04-01\n"));
    }
    let head = format!(
        "POST /api/v1/employees/import?mode=upsert HTTP/1.1\r\nHost: kenshu\r\nAuthorization: Bearer {}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        app.hr(),
        rows.len() * 2
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(rows.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(conn);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((app.all_employees().await.len(), app.audit_count().await), (employees, audit));
    // Nothing is left holding the database: the next write goes through.
    app.edit_employee(people::EMPLOYEE, |e| e["email"] = json!("after-abort@city.isehara.example.jp")).await;
    assert_eq!(app.audit_count().await, audit + 1);
}

/// Continues a stopped process when dropped, whatever the test did.
struct Stopped(u32);

impl Stopped {
    fn stop(pid: u32) -> Self {
        assert!(std::process::Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status()
            .unwrap()
            .success());
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-CONT", &self.0.to_string()]).status();
    }
}

/// The connection listening for changes hangs without a word (its server process is
/// stopped, as a dropped network would leave it): the instance stops using the reads it keeps once its
/// heartbeats stop coming back, so a change committed meanwhile shows within the lease, and it
/// listens again on a new connection.
#[tokio::test]
async fn a_silent_listening_connection_stops_the_callers_kept_within_the_lease() {
    if !on_postgres() {
        return;
    }
    let pg = Arc::new(tokio::task::spawn_blocking(PgCluster::start).await.unwrap());
    let app = spawn_on(&pg.database("kenshu")).await;
    let token = app.token(people::EMPLOYEE, &[Role::Employee]);
    let section = |me: &Value| me["employee"]["section_id"].as_str().unwrap().to_string();
    let me = || async { app.get_json("/api/v1/me", &token).await };
    let home = section(&me().await);
    let away = app.employee(people::OTHER_DEPARTMENT).await["section_id"].as_str().unwrap().to_string();
    me().await;
    assert!(app.db.kept().stats().listening);
    let before = app.db.statements();
    me().await;
    assert_eq!(app.db.statements() - before, 0, "the caller is kept");

    let pid_sql = format!(
        "SELECT pid FROM pg_stat_activity WHERE application_name = '{}'",
        kenshu_persistence::change_watch::APPLICATION_NAME
    );
    let pids = |rows: Vec<sea_orm::QueryResult>| -> Vec<i32> {
        rows.iter().map(|r| r.try_get::<i32>("", "pid").unwrap()).collect()
    };
    let backend = app.db.backend();
    let listening =
        pids(app.db.conn().query_all(Statement::from_string(backend, pid_sql.clone())).await.unwrap());
    assert_eq!(listening.len(), 1, "one listening connection: {listening:?}");
    // Stopped: neither notices nor the heartbeats (still sent) get through, and it never closes.
    let stopped = Stopped::stop(listening[0] as u32);
    let move_sql =
        format!("UPDATE employee SET section_id = '{away}' WHERE employee_no = '{}'", people::EMPLOYEE);
    app.db.conn().execute(Statement::from_string(backend, move_sql)).await.unwrap();
    let started = Instant::now();
    while section(&me().await) != away {
        assert!(
            started.elapsed() < kenshu_persistence::kept::LEASE + Duration::from_secs(5),
            "the caller is still kept after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("the change showed after {:?} with the listening connection silent", started.elapsed());
    assert!(started.elapsed() > Duration::from_millis(100), "kept until the lease ran out");
    drop(stopped);
    // It listens again on a new connection and keeps callers again.
    until_reads_kept(&app.db).await;
    let now_listening =
        pids(app.db.conn().query_all(Statement::from_string(backend, pid_sql)).await.unwrap());
    assert!(now_listening.iter().any(|p| !listening.contains(p)), "a new connection listens");
    me().await;
    let before = app.db.statements();
    assert_eq!(section(&me().await), away);
    assert_eq!(app.db.statements() - before, 0, "kept again");
    assert_ne!(home, away);
}
