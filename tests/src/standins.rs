//! Stand-ins for the systems notices are delivered to, started by the tests on a free loopback
//! port: a webhook receiver and the desknet's NEO AppSuite API (`appsr.cgi`), each following the
//! documented request and reply formats and keeping what it received.

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

/// One request a stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str).unwrap_or("")
    }
}

/// Start a stand-in's routes on a free loopback port, handling one request at a time: its port
/// and the handle that stops it.
fn serve(
    routes: impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
) -> (u16, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || App::new().configure(routes.clone()))
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    (port, handle)
}

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    /// Statuses to answer with, in order; then 200.
    script: VecDeque<u16>,
    /// Requests being handled right now, and the most ever at once.
    in_flight: usize,
    most_at_once: usize,
}

/// A webhook receiver: answers each POST with the next scripted status (200 once the script is
/// spent) and keeps every request.
pub struct WebhookReceiver {
    pub url: String,
    log: Arc<Mutex<Log>>,
    server: actix_web::dev::ServerHandle,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let data = web::Data::new(log.clone());
        let (port, server) = serve(move |c| {
            c.app_data(data.clone()).route("/hook", web::post().to(hook));
        });
        Self { url: format!("http://127.0.0.1:{port}/hook"), log, server }
    }

    /// Answer the next requests with these statuses.
    pub fn script(&self, statuses: &[u16]) {
        self.log.lock().unwrap().script.extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().received.clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

fn headers(req: &HttpRequest) -> HashMap<String, String> {
    req.headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string()))
        .collect()
}

async fn hook(req: HttpRequest, body: web::Bytes, log: web::Data<Arc<Mutex<Log>>>) -> HttpResponse {
    let mut log = log.lock().unwrap();
    log.received.push(Received { headers: headers(&req), body: body.to_vec() });
    let status = log.script.pop_front().unwrap_or(200);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

/// The AppSuite API of desknet's NEO as documented: `POST …/appsr.cgi` with form parameters
/// (`action`, `app_id`, `data`), the access key in `X-Desknets-Auth`, JSON replies with `status`
/// `ok` or `ng` and `errorno`/`errormessage`. It handles one request at a time; with more than
/// ten waiting it answers 429. Records go into apps by id; a part it does not have, a login id
/// it does not know, or a duplicate 通知ID (the part is set to refuse duplicates) is an `ng`.
pub struct Portal {
    pub url: String,
    state: Arc<Mutex<PortalState>>,
    log: Arc<Mutex<Log>>,
    server: actix_web::dev::ServerHandle,
}

struct PortalState {
    key: String,
    app: String,
    users: Vec<String>,
    records: Vec<Value>,
    /// Statuses to answer with before handling (429 to play the busy portal).
    script: VecDeque<u16>,
}

impl Portal {
    pub async fn start(key: &str, app: &str, users: &[&str]) -> Self {
        let state = Arc::new(Mutex::new(PortalState {
            key: key.into(),
            app: app.into(),
            users: users.iter().map(|u| u.to_string()).collect(),
            records: Vec::new(),
            script: VecDeque::new(),
        }));
        let log = Arc::new(Mutex::new(Log::default()));
        let data = web::Data::new(state.clone());
        let queue = web::Data::new(log.clone());
        let (port, server) = serve(move |c| {
            c.app_data(data.clone())
                .app_data(queue.clone())
                .route("/cgi-bin/dneo/appsr.cgi", web::post().to(appsr));
        });
        Self { url: format!("http://127.0.0.1:{port}/cgi-bin/dneo/appsr.cgi"), state, log, server }
    }

    pub fn script(&self, statuses: &[u16]) {
        self.state.lock().unwrap().script.extend(statuses);
    }

    /// The records the app holds, oldest first.
    pub fn records(&self) -> Vec<Value> {
        self.state.lock().unwrap().records.clone()
    }

    /// How many requests it received, and the most it was ever handling at once.
    pub fn requests(&self) -> (usize, usize) {
        let l = self.log.lock().unwrap();
        (l.received.len(), l.most_at_once)
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

/// The portal's queue as documented: it works on one request at a time, and while more than ten
/// wait it answers 429. False: refused as busy.
async fn queue(log: &Mutex<Log>, req: &HttpRequest) -> bool {
    {
        let mut l = log.lock().unwrap();
        l.received.push(Received { headers: headers(req), body: Vec::new() });
        l.in_flight += 1;
        l.most_at_once = l.most_at_once.max(l.in_flight);
        if l.in_flight > 11 {
            l.in_flight -= 1;
            return false;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    log.lock().unwrap().in_flight -= 1;
    true
}

fn ng(errorno: i32, message: &str, add: Option<&str>) -> HttpResponse {
    let mut body = json!({"status": "ng", "errorno": errorno, "errormessage": message});
    if let Some(a) = add {
        body["errmsgadd"] = json!(a);
    }
    HttpResponse::Ok().json(body)
}

async fn appsr(
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<Arc<Mutex<PortalState>>>,
    log: web::Data<Arc<Mutex<Log>>>,
) -> HttpResponse {
    if !queue(&log, &req).await {
        return HttpResponse::TooManyRequests().finish();
    }
    let mut s = state.lock().unwrap();
    if let Some(status) = s.script.pop_front() {
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish();
    }
    let key = req.headers().get("X-Desknets-Auth").and_then(|v| v.to_str().ok()).unwrap_or("");
    if key != s.key {
        return ng(-1, "アクセスキーが正しくありません", None);
    }
    if form.get("action").map(String::as_str) != Some("insert_data") {
        return ng(-2, "処理名が正しくありません", None);
    }
    if form.get("app_id") != Some(&s.app) {
        return ng(-3, "アプリケーションが見つかりません", None);
    }
    let Some(data) = form.get("data").and_then(|d| serde_json::from_str::<Value>(d).ok()) else {
        return ng(-4, "データの形式が正しくありません", None);
    };
    for part in data.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !kenshu_domain::delivery::PORTAL_PARTS.contains(&part.as_str()) {
            return ng(-10, "部品が見つかりません", Some(&format!("{{{{{part}}}}}")));
        }
    }
    let login = data["宛先ログインID"]["value"].as_str().unwrap_or("");
    if !s.users.iter().any(|u| u == login) {
        return ng(-11, "ユーザーが見つかりません", Some("{{宛先ログインID}}"));
    }
    let id = &data["通知ID"]["value"];
    if s.records.iter().any(|r| r["通知ID"]["value"] == *id) {
        return ng(-12, "値が重複しています", Some("{{通知ID}}"));
    }
    s.records.push(data);
    let n = s.records.len();
    HttpResponse::Ok().json(json!({"status": "ok", "id": n.to_string()}))
}

/// How the directory stand-in answers one request instead of handling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripted {
    /// Handle it as usual.
    Pass,
    /// This HTTP status, no body (429: the portal is busy).
    Status(u16),
    /// An `ng` reply (権限がありません).
    Ng,
    /// A 200 whose JSON stops halfway (the connection dropped mid-reply).
    Cut,
    /// The page without its last user, `total` as before (a portal that lost one mid-read).
    Short,
}

/// desknet's NEO 共通API for the directory (`zrconst.cgi`): form parameters, the access key in
/// `X-Desknets-Auth`, JSON with `status` ok/ng. `action=list_groups` answers every group;
/// `action=list_users` a page (`offset`, `limit`) with the `total`. One request at a time, 429
/// with more than ten waiting, as the AppSuite stand-in.
pub struct Directory {
    pub url: String,
    state: Arc<Mutex<DirectoryState>>,
    log: Arc<Mutex<Log>>,
    server: actix_web::dev::ServerHandle,
}

struct DirectoryState {
    key: String,
    groups: Vec<Value>,
    users: Vec<Value>,
    script: VecDeque<Scripted>,
    /// `action` and `offset` of each request handled.
    asked: Vec<String>,
}

impl Directory {
    pub async fn start(key: &str, groups: Vec<Value>, users: Vec<Value>) -> Self {
        let state = Arc::new(Mutex::new(DirectoryState {
            key: key.into(),
            groups,
            users,
            script: VecDeque::new(),
            asked: Vec::new(),
        }));
        let log = Arc::new(Mutex::new(Log::default()));
        let (data, queue) = (web::Data::new(state.clone()), web::Data::new(log.clone()));
        let (port, server) = serve(move |c| {
            c.app_data(data.clone())
                .app_data(queue.clone())
                .route("/cgi-bin/dneo/zrconst.cgi", web::post().to(zrconst));
        });
        Self { url: format!("http://127.0.0.1:{port}/cgi-bin/dneo/zrconst.cgi"), state, log, server }
    }

    /// Change the portal's groups and users (an administrator's edits between two syncs).
    pub fn edit(&self, change: impl FnOnce(&mut Vec<Value>, &mut Vec<Value>)) {
        let mut s = self.state.lock().unwrap();
        let s = &mut *s;
        change(&mut s.groups, &mut s.users);
    }

    /// Answer the next requests so, in order; then as usual.
    pub fn script(&self, answers: &[Scripted]) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// What each handled request asked for (`list_users@200`), and the most ever at once.
    pub fn asked(&self) -> (Vec<String>, usize) {
        (self.state.lock().unwrap().asked.clone(), self.log.lock().unwrap().most_at_once)
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

async fn zrconst(
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<Arc<Mutex<DirectoryState>>>,
    log: web::Data<Arc<Mutex<Log>>>,
) -> HttpResponse {
    if !queue(&log, &req).await {
        return HttpResponse::TooManyRequests().finish();
    }
    let mut s = state.lock().unwrap();
    let scripted = s.script.pop_front().unwrap_or(Scripted::Pass);
    match scripted {
        Scripted::Status(code) => {
            return HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).finish()
        }
        Scripted::Ng => return ng(9, "権限がありません", None),
        _ => {}
    }
    let key = req.headers().get("X-Desknets-Auth").and_then(|v| v.to_str().ok()).unwrap_or("");
    if key != s.key {
        return ng(-1, "アクセスキーが正しくありません", None);
    }
    let action = form.get("action").cloned().unwrap_or_default();
    let number = |k: &str, default: usize| form.get(k).and_then(|v| v.parse().ok()).unwrap_or(default);
    let body = match action.as_str() {
        "list_groups" => {
            s.asked.push(action);
            json!({"status": "ok", "groups": s.groups})
        }
        "list_users" => {
            let (offset, limit) = (number("offset", 0), number("limit", 100));
            s.asked.push(format!("{action}@{offset}"));
            let mut page: Vec<Value> = s.users.iter().skip(offset).take(limit).cloned().collect();
            if scripted == Scripted::Short {
                page.pop();
            }
            json!({"status": "ok", "total": s.users.len(), "users": page})
        }
        _ => return ng(-2, "処理名が正しくありません", None),
    };
    let mut text = body.to_string();
    if scripted == Scripted::Cut {
        text.truncate(text.len() / 2);
    }
    HttpResponse::Ok().content_type("application/json").body(text)
}

/// A real SMTP server (aiosmtpd, from PyPI; `scripts/test` installs it): STARTTLS required with
/// the test certificate (issued by `tests/fixtures/smtp/ca.pem`), then login as `kenshu` with
/// `password`. It keeps each message it accepts.
pub struct SmtpServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

/// A message the SMTP server accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The whole message as sent (headers and MIME parts).
    pub data: String,
    pub tls: bool,
    pub authenticated: bool,
}

impl SmtpServer {
    pub fn start(password: &str) -> Self {
        use std::io::BufRead;
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let fixtures = crate::fixtures().join("smtp");
        let python = std::env::var("KENSHU_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = std::process::Command::new(&python)
            .arg(fixtures.join("server.py"))
            .arg(port.to_string())
            .arg(fixtures.join("cert.pem"))
            .arg(fixtures.join("key.pem"))
            .arg("kenshu")
            .arg(password)
            .arg(dir.path().join("out.jsonl"))
            .arg(dir.path().join("script"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{python} could not start: {e}"));
        let mut ready = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
        assert_eq!(
            ready.trim(),
            "READY",
            "the SMTP server did not start: install its requirements with scripts/test (pip install -r tests/requirements.txt)"
        );
        Self { port, dir, child }
    }

    /// The CA the server's certificate is issued by, as a channel names it.
    pub fn ca_certificate() -> String {
        std::fs::read_to_string(crate::fixtures().join("smtp").join("ca.pem")).unwrap()
    }

    /// Answer the next messages with these replies (e.g. `451 4.3.0 try again later`).
    pub fn script(&self, replies: &[&str]) {
        std::fs::write(self.dir.path().join("script"), replies.join("\n")).unwrap();
    }

    pub fn received(&self) -> Vec<Mail> {
        match std::fs::read_to_string(self.dir.path().join("out.jsonl")) {
            Ok(text) => text.lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// The keys a [`JwksServer`] publishes, and how many times they were read.
type Published = Arc<Mutex<(Vec<Value>, usize)>>;

/// The municipality's identity provider's JWKS endpoint: publishes the public keys of the test
/// keys named (`tests/fixtures/keys/idp-public-jwks.json`), can rotate them, and counts reads.
pub struct JwksServer {
    pub url: String,
    published: Published,
    server: actix_web::dev::ServerHandle,
}

impl JwksServer {
    pub async fn start(kids: &[&str]) -> Self {
        let published = Arc::new(Mutex::new((Vec::new(), 0)));
        let data = web::Data::new(published.clone());
        let (port, server) = serve(move |c| {
            c.app_data(data.clone()).route("/certs", web::get().to(certs));
        });
        let jwks = Self { url: format!("http://127.0.0.1:{port}/certs"), published, server };
        jwks.publish(kids);
        jwks
    }

    /// Publish these keys instead of the earlier ones (a rotation).
    pub fn publish(&self, kids: &[&str]) {
        let all: Value = serde_json::from_slice(
            &std::fs::read(crate::fixtures().join("keys").join("idp-public-jwks.json")).unwrap(),
        )
        .unwrap();
        self.published.lock().unwrap().0 = kids.iter().map(|k| all[*k].clone()).collect();
    }

    /// How many times the keys were read.
    pub fn reads(&self) -> usize {
        self.published.lock().unwrap().1
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

async fn certs(published: web::Data<Published>) -> HttpResponse {
    let mut p = published.lock().unwrap();
    p.1 += 1;
    HttpResponse::Ok().json(json!({ "keys": p.0 }))
}

pub use crate::pg_cluster::PgCluster;
