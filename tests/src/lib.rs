//! The end-to-end harness: the real actix app on 127.0.0.1:0 against a fresh database per test.
//!
//! SQLite by default; PostgreSQL when `TEST_DATABASE_URL` is set (an admin URL, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`). Each process builds one template database
//! (migrated and seeded with the demo organisation plus a second organisation) and every test
//! gets a copy: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL. Test
//! databases are dropped when the test ends, even when it fails.

pub mod bench;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use kenshu_api::config::Config;
use kenshu_domain::auth::Role;
use kenshu_persistence::Db;
use reqwest::{Method, RequestBuilder, Response};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use uuid::Uuid;

pub const SECRET: &str = "kenshu-test-secret-0123456789abcdef";
pub const ISSUER: &str = "kenshu";
pub const AUDIENCE: &str = "kenshu";
pub const ORG: &str = "isehara";
pub const OTHER_ORG: &str = "atsugi";

/// Demo people (see `kenshu_api::demo`): who holds which role in the tests.
pub mod people {
    /// 一般 in 企画政策課 (S0101, 企画部 D01).
    pub const EMPLOYEE: &str = "10009";
    /// Another 一般 in S0101.
    pub const SAME_SECTION: &str = "10010";
    /// Head of S0101.
    pub const SECTION_HEAD: &str = "10002";
    /// Head of 企画部 (D01).
    pub const DEPARTMENT_HEAD: &str = "10001";
    /// 情報政策課 (S0102), same department D01, other section.
    pub const SAME_DEPARTMENT: &str = "10025";
    /// 人事課 (S0201, 総務部 D02), HR.
    pub const HR: &str = "10035";
    /// 教育総務課 (S0901, 教育部 D09): another department.
    pub const OTHER_DEPARTMENT: &str = "10285";
    /// The only employee of the second organisation.
    pub const OTHER_ORG_EMPLOYEE: &str = "A001";
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the repo").to_path_buf()
}

fn test_config(database_url: &str) -> Config {
    test_config_with(database_url, &[])
}

/// The tests' configuration, with `extra` settings added or replacing the usual ones.
fn test_config_with(database_url: &str, extra: &[(&str, String)]) -> Config {
    let vars = test_env(database_url);
    Config::from_lookup(|k| {
        extra.iter().chain(vars.iter()).find(|(key, _)| *key == k).map(|(_, v)| v.clone())
    })
    .expect("test config")
}

/// The settings the tests run the service with (`KENSHU_*` names), for one on `database_url`:
/// the same for a service started as a process of its own (the benchmarks).
pub fn test_env(database_url: &str) -> Vec<(&'static str, String)> {
    let keys = fixtures().join("keys");
    vec![
        ("KENSHU_BIND", "127.0.0.1:0".to_string()),
        ("KENSHU_DATABASE_URL", database_url.to_string()),
        ("KENSHU_DB_MAX_CONNECTIONS", "5".to_string()),
        ("KENSHU_JWT_SECRET", SECRET.to_string()),
        (
            "KENSHU_JWT_PUBLIC_KEYS",
            format!(
                "rsa-1={},ec-1={}",
                keys.join("rsa-public.pem").display(),
                keys.join("ec-public.pem").display()
            ),
        ),
        ("KENSHU_JWT_JWKS_FILE", keys.join("jwks.json").display().to_string()),
        ("KENSHU_MAX_UPLOAD_BYTES", (8 * 1024 * 1024).to_string()),
        ("KENSHU_CORS_ORIGINS", "https://portal.example.jp".to_string()),
        // A fixed test key: channel secrets are sealed with it.
        ("KENSHU_SECRET_KEY", "a2Vuc2h1LXRlc3Qtc2VjcmV0LWtleS0zMi1ieXRlcyE=".to_string()),
        // The tests run deliveries themselves, on a clock they hold.
        ("KENSHU_DELIVERY_INTERVAL_SECONDS", "0".to_string()),
        // Tests send many requests as one person in a moment; those of limits set their own.
        ("KENSHU_RATE_LIMIT_PER_MINUTE", "0".to_string()),
        ("KENSHU_AUTH_FAILURES_PER_MINUTE", "0".to_string()),
        ("KENSHU_WRITE_RATE_LIMIT_PER_MINUTE", "0".to_string()),
        ("KENSHU_BULK_RATE_LIMIT_PER_MINUTE", "0".to_string()),
    ]
}

enum Backend {
    Sqlite { template: PathBuf },
    Postgres { admin_url: String, template: String },
}

static TEMPLATE: OnceLock<Backend> = OnceLock::new();

/// The second organisation: one department, one section, one employee.
async fn seed_other_org(db: &Db) {
    use kenshu_persistence::repo::{employee, org, structure};
    let txn = db.begin_write().await.unwrap();
    let o = org::create(&txn, "test", OTHER_ORG, "厚木市").await.unwrap();
    let actor = kenshu_persistence::Actor { org_id: o.id, subject: "test".into(), request_id: None };
    let unit = |code: &str, name: &str| structure::UnitInput {
        code: code.into(),
        name: name.into(),
        head_employee_id: None,
        acting_head_employee_id: None,
    };
    let d = structure::create_department(&txn, &actor, unit("D01", "総務部")).await.unwrap();
    let s = structure::create_section(&txn, &actor, d.id, unit("S0101", "職員課")).await.unwrap();
    let fields = kenshu_domain::employee::EmployeeFields {
        employee_no: people::OTHER_ORG_EMPLOYEE.into(),
        name: "厚木 一郎".into(),
        kana: "アツギ イチロウ".into(),
        grade: "主任".into(),
        hire_date: chrono::NaiveDate::from_ymd_opt(2015, 4, 1),
        ..Default::default()
    };
    let data =
        kenshu_domain::employee::EmployeeData::validate(fields, &kenshu_domain::org::GradeLadder::default())
            .unwrap();
    employee::create(&txn, &actor, &data, s.id).await.unwrap();
    txn.commit().await.unwrap();
}

async fn seed(db: &Db) {
    db.migrate().await.expect("migrations");
    kenshu_api::demo::seed(db).await.expect("demo seed");
    seed_other_org(db).await;
}

/// Build the template on a thread of its own: the tests' runtimes come and go.
fn template() -> &'static Backend {
    TEMPLATE.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
                    None => {
                        let dir = std::env::temp_dir().join(format!("kenshu-tests-{}", std::process::id()));
                        std::fs::create_dir_all(&dir).unwrap();
                        let path = dir.join("template.db");
                        let _ = std::fs::remove_file(&path);
                        let db =
                            Db::connect(&format!("sqlite://{}?mode=rwc", path.display()), 1).await.unwrap();
                        seed(&db).await;
                        // Fold the WAL back into the file so a plain copy is complete.
                        db.conn()
                            .execute(Statement::from_string(db.backend(), "PRAGMA wal_checkpoint(TRUNCATE)"))
                            .await
                            .unwrap();
                        db.close().await.unwrap();
                        Backend::Sqlite { template: path }
                    }
                    Some(admin_url) => {
                        let template = postgres_template(&admin_url).await;
                        Backend::Postgres { admin_url, template }
                    }
                }
            })
        })
        .join()
        .expect("template database")
    })
}

async fn pg(admin: &Db, sql: &str) {
    admin
        .conn()
        .execute(Statement::from_string(admin.backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn with_db(url: &str, name: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = url[after_scheme..].find('/').map(|i| i + after_scheme).unwrap_or(url.len());
    let query = url[path_start..].find('?').map(|q| &url[path_start + q..]).unwrap_or("");
    format!("{}/{name}{query}", &url[..path_start])
}

/// One template per build of the test binary, shared by its processes (nextest runs one per
/// test) and by later runs of the same build; templates of older builds are dropped.
async fn postgres_template(admin_url: &str) -> String {
    use std::hash::{Hash, Hasher};
    let exe = std::env::current_exe().unwrap();
    let modified = std::fs::metadata(&exe).and_then(|m| m.modified()).ok();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (exe, modified).hash(&mut h);
    let name = format!("kenshu_tpl_{:016x}", h.finish());
    let admin = Db::connect(admin_url, 1).await.unwrap();
    let exists = |n: String| {
        let admin = admin.clone();
        async move {
            let sql = format!("SELECT 1 FROM pg_database WHERE datname = '{n}'");
            admin.conn().query_one(Statement::from_string(admin.backend(), sql)).await.unwrap().is_some()
        }
    };
    if !exists(name.clone()).await {
        let tmp = format!("kenshu_tmp_{}", Uuid::new_v4().simple());
        pg(&admin, &format!("CREATE DATABASE {tmp}")).await;
        let db = Db::connect(&with_db(admin_url, &tmp), 2).await.unwrap();
        seed(&db).await;
        db.close().await.unwrap();
        // Renaming is atomic: a process that lost the race drops its copy.
        let rename = format!("ALTER DATABASE {tmp} RENAME TO {name}");
        if admin.conn().execute(Statement::from_string(admin.backend(), rename)).await.is_err() {
            pg(&admin, &format!("DROP DATABASE IF EXISTS {tmp}")).await;
        }
        let stale = "SELECT datname FROM pg_database WHERE datname LIKE 'kenshu_tpl_%' OR datname LIKE 'kenshu_tmp_%'";
        let rows = admin.conn().query_all(Statement::from_string(admin.backend(), stale)).await.unwrap();
        for row in rows {
            let old: String = row.try_get("", "datname").unwrap();
            if old != name {
                // Fails harmlessly while another process still uses it.
                let sql = format!("DROP DATABASE IF EXISTS {old}");
                let _ = admin.conn().execute(Statement::from_string(admin.backend(), sql)).await;
            }
        }
    }
    admin.close().await.unwrap();
    name
}

/// Remove what the test made, whether it passed or not.
struct Cleanup {
    pg: Option<(String, String)>,
    sqlite: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(admin) = Db::connect(&admin_url, 1).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = admin.conn().execute(Statement::from_string(admin.backend(), sql)).await;
                        let _ = admin.close().await;
                    }
                })
            })
            .join();
        }
        if let Some(path) = self.sqlite.take() {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

pub mod pg_cluster;
pub mod prefecture;
pub mod standins;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub database_url: String,
    /// The service's clock for scheduled and leased work: hold it with `clock.set`.
    pub clock: kenshu_api::state::Clock,
    /// The service's state, to run its scheduled work (`deliver_due`).
    pub state: kenshu_api::state::AppState,
    server: actix_web::dev::ServerHandle,
    _cleanup: Cleanup,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting; the runtime ending with the test drops the rest.
        drop(self.server.stop(false));
    }
}

/// Whether the tests run on PostgreSQL (`TEST_DATABASE_URL`): the fault suite, which starts
/// PostgreSQL clusters of its own, runs in that pass only.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// Start the app against a fresh copy of the template database.
pub async fn spawn() -> TestApp {
    spawn_configured(&[]).await
}

/// Start the app with `extra` settings (`KENSHU_*` names) beside the tests' usual ones.
pub async fn spawn_configured(extra: &[(&str, String)]) -> TestApp {
    let (database_url, cleanup) = match template() {
        Backend::Sqlite { template } => {
            let path = template.with_file_name(format!("{}.db", Uuid::new_v4().simple()));
            std::fs::copy(template, &path).unwrap();
            (format!("sqlite://{}?mode=rw", path.display()), Cleanup { pg: None, sqlite: Some(path) })
        }
        Backend::Postgres { admin_url, template } => {
            let name = format!("kenshu_test_{}", Uuid::new_v4().simple());
            let admin = Db::connect(admin_url, 1).await.unwrap();
            pg(&admin, &format!("CREATE DATABASE {name} TEMPLATE {template}")).await;
            admin.close().await.unwrap();
            (with_db(admin_url, &name), Cleanup { pg: Some((admin_url.clone(), name)), sqlite: None })
        }
    };
    spawn_with(test_config_with(&database_url, extra), cleanup).await
}

/// Start the app on an empty database at `database_url`, migrated and seeded as the template is:
/// for tests that bring their own server (a PostgreSQL cluster they stop and start).
pub async fn spawn_on(database_url: &str) -> TestApp {
    let db = Db::connect(database_url, 2).await.expect("the test's own database");
    seed(&db).await;
    db.close().await.unwrap();
    spawn_with(test_config_with(database_url, &[]), Cleanup { pg: None, sqlite: None }).await
}

/// An empty database on the tests' backend (a file not yet made; a new PostgreSQL database),
/// removed when dropped: for a restore to go into.
pub struct ScratchDatabase {
    pub url: String,
    cleanup: Cleanup,
}

pub async fn scratch_database() -> ScratchDatabase {
    match template() {
        Backend::Sqlite { template } => {
            let path = template.with_file_name(format!("{}.db", Uuid::new_v4().simple()));
            ScratchDatabase {
                url: format!("sqlite://{}?mode=rwc", path.display()),
                cleanup: Cleanup { pg: None, sqlite: Some(path) },
            }
        }
        Backend::Postgres { admin_url, .. } => {
            let name = format!("kenshu_test_{}", Uuid::new_v4().simple());
            let admin = Db::connect(admin_url, 1).await.unwrap();
            pg(&admin, &format!("CREATE DATABASE {name}")).await;
            admin.close().await.unwrap();
            ScratchDatabase {
                url: with_db(admin_url, &name),
                cleanup: Cleanup { pg: Some((admin_url.clone(), name)), sqlite: None },
            }
        }
    }
}

/// Start the app on the database `scratch` now holds (a restored backup), as it is.
pub async fn spawn_restored(scratch: ScratchDatabase) -> TestApp {
    spawn_with(test_config_with(&scratch.url, &[]), scratch.cleanup).await
}

/// The service's errors (an `internal` problem's cause) printed with the test that met them:
/// libtest shows a failing test's captured output. `KENSHU_LOG` chooses more.
fn log_errors() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_env("KENSHU_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    });
}

async fn spawn_with(config: Config, cleanup: Cleanup) -> TestApp {
    log_errors();
    let database_url = config.database_url.clone();
    let state = kenshu_api::build_state(config).await.expect("app state");
    let db = state.db.clone();
    let clock = state.clock.clone();
    let kept = state.clone();
    let (base, handle) = listen(state);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    TestApp { base, client, db, database_url, clock, state: kept, server: handle, _cleanup: cleanup }
}

/// Wait (up to ten seconds) until `db`'s instance keeps reads in memory (callers, employees,
/// courses, lists): once it watches for changes (PostgreSQL: listens; SQLite: polls the change
/// counts; it starts before the service answers, and after a lost watch it watches again within
/// a few seconds).
pub async fn until_reads_kept(db: &Db) {
    let start = std::time::Instant::now();
    // Also until every change committed before now has been heard of: the test's own set-up
    // writes drop their scopes once more when the watch hears of them (PostgreSQL's
    // notification, SQLite's next poll), which must not happen between the reads that follow.
    while !db.kept().stats().listening || !db.kept().watch.heard_since(start) {
        assert!(start.elapsed() < Duration::from_secs(10), "not listening for changes");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Serve `state` on a free loopback port: its base address and the server's handle.
fn listen(state: kenshu_api::state::AppState) -> (String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = kenshu_api::app::serve(listener, state).unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle)
}

/// Another instance of the service on the test's database, serving HTTP on a port of its own.
pub struct Instance {
    pub base: String,
    pub state: kenshu_api::state::AppState,
    server: actix_web::dev::ServerHandle,
}

impl Drop for Instance {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

impl TestApp {
    /// A second service instance on the same database, serving requests, as a second replica
    /// behind a load balancer would.
    pub async fn serve_second_instance(&self) -> Instance {
        let state = self.second_instance().await;
        let (base, server) = listen(state.clone());
        Instance { base, state, server }
    }

    /// Run the scheduled work once (reminders if due, then deliveries), as the service does
    /// every few seconds.
    pub async fn run_scheduled(&self) -> kenshu_api::scheduler::ScheduledRun {
        kenshu_api::scheduler::run_scheduled(&self.state).await.expect("a scheduled run")
    }

    /// Run the dispatcher once, as the service does every few seconds.
    pub async fn deliver_due(&self) -> kenshu_api::delivery::RunReport {
        kenshu_api::delivery::run_due(&self.state).await.expect("a delivery run")
    }

    /// A second service instance on the same database (its own pool and clock), as a second
    /// server behind a load balancer would be.
    pub async fn second_instance(&self) -> kenshu_api::state::AppState {
        kenshu_api::build_state(test_config(&self.database_url)).await.expect("a second instance")
    }

    /// A GET's status and the statements it ran on the service's pool.
    pub async fn cost(&self, path: &str, token: &str) -> (u16, u64) {
        let before = self.db.statements();
        let status = self.get(path, token).await.status().as_u16();
        (status, self.db.statements() - before)
    }

    pub fn token(&self, sub: &str, roles: &[Role]) -> String {
        token_for(ORG, sub, roles)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let res = self.get(path, token).await;
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(token)).json(body).send().await.unwrap()
    }

    pub async fn put_json(&self, path: &str, token: &str, etag: Option<&str>, body: &Value) -> Response {
        let mut rb = self.request(Method::PUT, path, Some(token)).json(body);
        if let Some(e) = etag {
            rb = rb.header("If-Match", e);
        }
        rb.send().await.unwrap()
    }

    /// Load the FY2023 plan of the seed (data/isehara-fy2023.json) as HR, through the API; the
    /// import's report.
    pub async fn import_fy2023_plan(&self) -> Value {
        let res = self
            .request(Method::POST, "/api/v1/plans/2023/import", Some(&self.hr()))
            .header("Content-Type", "application/json")
            .body(kenshu_api::demo::FY2023_PLAN)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let report: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{report}");
        report
    }

    /// Publish a year's plan and its draft courses (HR).
    pub async fn publish_plan(&self, fy: i32) {
        let path = format!("/api/v1/plans/{fy}");
        let plan = self.get_json(&path, &self.hr()).await;
        let res = self
            .request(Method::POST, &format!("{path}/publish"), Some(&self.hr()))
            .header("If-Match", format!("\"{}\"", plan["version"]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }

    pub async fn post_csv(&self, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Response {
        self.request(Method::POST, path, Some(token))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Give employee `no` a portal login id on the roster (as HR, through the API).
    pub async fn set_login_id(&self, no: &str, login: &str) {
        self.edit_employee(no, |body| body["portal_login_id"] = serde_json::json!(login)).await;
    }

    /// Change employee `no`'s record as HR through the API: `change` edits the body of the PUT
    /// (the record as read, less what is read-only). Returns the answer.
    pub async fn edit_employee(&self, no: &str, change: impl FnOnce(&mut Value)) -> Value {
        let e = self.employee(no).await;
        let mut body = e.clone();
        for k in ["id", "department_id", "hired_fiscal_year", "version", "created_at", "updated_at", "active"]
        {
            body.as_object_mut().unwrap().remove(k);
        }
        change(&mut body);
        let path = format!("/api/v1/employees/{}", e["id"].as_str().unwrap());
        let res = self.put_json(&path, &self.hr(), Some(&format!("\"{}\"", e["version"])), &body).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// An HR token of the demo organisation.
    pub fn hr(&self) -> String {
        self.token(people::HR, &[Role::Employee, Role::HrAdmin])
    }

    /// Find an employee by number through the API, as HR.
    pub async fn employee(&self, no: &str) -> Value {
        let page =
            self.get_json(&format!("/api/v1/employees?q={no}&include_inactive=true"), &self.hr()).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["employee_no"] == no)
            .cloned()
            .unwrap_or_else(|| panic!("employee {no} not found"))
    }

    /// Every employee of the organisation (active or not), walking all pages as HR.
    /// An employee of organisation `org` by number, as HR there reads them.
    pub async fn employee_in(&self, org: &str, no: &str) -> Value {
        let hr = token_for(org, "hr", &[Role::HrAdmin]);
        let list = self.get_json(&format!("/api/v1/employees?q={no}&limit=200"), &hr).await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["employee_no"] == no)
            .cloned()
            .expect("employee exists")
    }

    pub async fn all_employees(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = "/api/v1/employees?include_inactive=true&limit=200".to_string();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.get_json(&path, &self.hr()).await;
            out.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }

    /// Number of audit entries, read as HR.
    /// Set how many days before a session the waiting list stops moving up by itself.
    pub async fn set_promotion_cutoff(&self, days: i32) {
        let path = "/api/v1/organisation/workflow";
        let current = self.get(path, &self.hr()).await;
        let etag = current.headers()["etag"].to_str().unwrap().to_string();
        let body: Value = current.json().await.unwrap();
        let no = match body["top_approver_employee"]["employee_no"].as_str() {
            Some(no) => Value::String(no.to_string()),
            None => Value::Null,
        };
        let body = serde_json::json!({"top_approver_employee_no": no, "promotion_cutoff_days": days});
        let res = self.put_json(path, &self.hr(), Some(&etag), &body).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }

    pub async fn audit_count(&self) -> usize {
        let mut n = 0;
        let mut cursor: Option<String> = None;
        loop {
            let mut path = "/api/v1/audit?limit=200".to_string();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.get_json(&path, &self.hr()).await;
            n += page["items"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return n,
            }
        }
    }
}

/// HR of the second organisation (厚木市).
pub fn other_hr() -> String {
    token_for(OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[Role::HrAdmin])
}

/// 合同研修: the second organisation (厚木市) creates its plan for `fy` (if it has none) and a
/// course titled `title`, and shares it with this organisation (伊勢原市) with two places.
/// Returns the offer as this organisation's HR reads it.
pub async fn offer_from_other_org(app: &TestApp, fy: i32, title: &str) -> Value {
    use serde_json::json;
    let theirs = other_hr();
    let res = app.post_json("/api/v1/plans", &theirs, &json!({"fiscal_year": fy})).await;
    assert!(res.status() == 201 || res.status() == 409, "{}", res.status());
    let number =
        100 + app.get_json("/api/v1/courses?limit=200", &theirs).await["items"].as_array().unwrap().len();
    let body = json!({"fiscal_year": fy, "category": "thematic", "number": number, "title": title,
        "timing": {"kind": "month", "month": 10}, "delivery": "classroom", "headcount": 20});
    let res = app.post_json("/api/v1/courses", &theirs, &body).await;
    assert_eq!(res.status(), 201);
    let course: Value = res.json().await.unwrap();
    let path = format!("/api/v1/courses/{}/shares", course["id"].as_str().unwrap());
    let res = app.post_json(&path, &theirs, &json!({"organisation": ORG, "places": 2})).await;
    assert_eq!(res.status(), 201);
    let share: Value = res.json().await.unwrap();
    app.get_json(&format!("/api/v1/joint-offers/{}", share["id"].as_str().unwrap()), &app.hr()).await
}

/// A valid HS256 token, minted by the same code as `kenshu token`.
pub fn token_for(org: &str, sub: &str, roles: &[Role]) -> String {
    kenshu_api::auth::mint(SECRET, ISSUER, AUDIENCE, org, sub, roles, Duration::from_secs(3600)).unwrap()
}

/// Assert a problem response: status, `application/problem+json`, and the stable code.
pub async fn assert_problem(res: Response, status: u16, code: &str) -> Value {
    let got = res.status().as_u16();
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "unexpected status; body: {body}");
    assert_eq!(ct, "application/problem+json", "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["type"], format!("urn:kenshu:problem:{code}"));
    assert_eq!(body["status"], status);
    body
}

/// The (line, column) of each row error of an `import-rejected` problem.
pub fn row_errors(problem: &Value) -> Vec<(u64, &str)> {
    problem["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["column"].as_str().unwrap()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::with_db;

    #[test]
    fn database_name_replaced_in_url() {
        assert_eq!(
            with_db("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(with_db("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_db("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
    }
}
