//! The staff directory from the portal: desknet's NEO's 共通API (`zrconst.cgi`) stand-in holds the
//! demo organisation's tree and staff; a sync reads them one request at a time and applies what
//! the portal owns (names, mail, login ids, posts, placement) through the roster import's path.

use chrono::{TimeZone, Utc};
use kenshu_domain::auth::Role;
use kenshu_tests::standins::{Directory, Scripted};
use kenshu_tests::{assert_problem, people, row_errors, spawn_configured, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const KEY: &str = "neo-directory-access-key";
const PAGE: usize = 100;

async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    app.get_json(path, &app.hr()).await["items"].as_array().unwrap().clone()
}

/// The portal as it would be set up for the demo organisation: the city at the top, its
/// departments below, their sections below them, and a 係 under the first section; every active
/// employee in their section (the first section's staff in its 係), plus a system account.
async fn portal_of(app: &TestApp) -> (Vec<Value>, Vec<Value>) {
    let departments = items(app, "/api/v1/departments?limit=200").await;
    let sections = items(app, "/api/v1/sections?limit=200").await;
    let mut groups = vec![json!({"id": 1, "code": "CITY", "name": "伊勢原市", "parent_id": 0})];
    for d in &departments {
        groups.push(json!({"id": d["id"], "code": d["code"], "name": d["name"], "parent_id": 1}));
    }
    for s in &sections {
        groups.push(
            json!({"id": s["id"], "code": s["code"], "name": s["name"], "parent_id": s["department_id"]}),
        );
    }
    let first = sections[0]["id"].clone();
    groups.push(json!({"id": "kakari-1", "code": "K0001", "name": "庶務係", "parent_id": first}));
    let mut users = vec![json!({"id": 1, "employee_no": "", "name": "システム管理者", "group_id": 1})];
    for e in app.all_employees().await.into_iter().filter(|e| e["active"] == true) {
        let group = if e["section_id"] == first { json!("kakari-1") } else { e["section_id"].clone() };
        users.push(json!({
            "id": users.len() + 1, "employee_no": e["employee_no"], "name": e["name"], "kana": e["kana"],
            "email": e["email"], "login_id": e["portal_login_id"], "post": e["post"], "group_id": group,
        }));
    }
    (groups, users)
}

async fn with_portal(extra: &[(&str, String)]) -> (TestApp, Directory) {
    // The portal's address is known only once it runs, and its contents only once the app has its
    // demo data: start it empty, then fill it.
    let portal = Directory::start(KEY, vec![], vec![]).await;
    let mut settings = vec![
        ("KENSHU_DIRECTORY_URL", portal.url.clone()),
        ("KENSHU_DIRECTORY_ACCESS_KEY", KEY.to_string()),
        ("KENSHU_DIRECTORY_ORGANISATION", "isehara".to_string()),
        ("KENSHU_DIRECTORY_DEPARTMENT_DEPTH", "2".to_string()),
        ("KENSHU_DIRECTORY_PAGE_SIZE", PAGE.to_string()),
        ("KENSHU_DIRECTORY_BUSY_WAIT_MS", "20".to_string()),
        ("KENSHU_DIRECTORY_ATTEMPTS", "4".to_string()),
    ];
    settings.extend(extra.iter().cloned());
    let app = spawn_configured(&settings).await;
    let (groups, users) = portal_of(&app).await;
    portal.edit(|g, u| {
        *g = groups;
        *u = users;
    });
    (app, portal)
}

async fn sync(app: &TestApp, query: &str) -> reqwest::Response {
    app.request(Method::POST, &format!("/api/v1/directory/sync?{query}"), Some(&app.hr()))
        .send()
        .await
        .unwrap()
}

async fn synced(app: &TestApp, query: &str) -> Value {
    let res = sync(app, query).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn user<'a>(users: &'a mut [Value], no: &str) -> &'a mut Value {
    users.iter_mut().find(|u| u["employee_no"] == no).unwrap()
}

#[tokio::test]
async fn a_sync_takes_names_login_ids_and_placement_and_a_renamed_department() {
    let (app, portal) = with_portal(&[]).await;
    let staff = app.all_employees().await.iter().filter(|e| e["active"] == true).count() as u64;

    // The portal as the roster already is: nothing to change.
    let r = synced(&app, "mode=upsert").await;
    assert_eq!(r["users"], staff + 1);
    assert_eq!(r["roster"]["unchanged"], staff, "{r}");
    assert_eq!((r["roster"]["updated"].as_u64(), r["roster"]["created"].as_u64()), (Some(0), Some(0)));
    assert_eq!(r["structure"]["departments_updated"], 0);
    assert_eq!(r["left_aside"].as_array().unwrap().len(), 1, "the system account");
    let (asked, at_once) = portal.asked();
    assert_eq!(asked[0], "list_groups");
    assert_eq!(asked.len(), 1 + (staff as usize + 1).div_ceil(PAGE), "{asked:?}");
    assert_eq!(at_once, 1, "one request at a time");

    // Between two syncs: a department renamed, a login id set, a transfer, a new hire the portal
    // knows before the personnel system does.
    let me = app.employee(people::EMPLOYEE).await;
    let other = app.employee(people::OTHER_DEPARTMENT).await;
    let departments = items(&app, "/api/v1/departments?limit=200").await;
    let renamed = departments[0]["id"].clone();
    portal.edit(|groups, users| {
        groups.iter_mut().find(|g| g["id"] == renamed).unwrap()["name"] = json!("未来創造部");
        user(users, people::EMPLOYEE)["login_id"] = json!("Isehara.Taro");
        user(users, people::EMPLOYEE)["email"] = json!("taro@city.isehara.example");
        user(users, people::SAME_SECTION)["group_id"] = other["section_id"].clone();
        users.push(json!({"id": 9001, "employee_no": "20001", "name": "新人 花子", "kana": "シンジン ハナコ", "group_id": other["section_id"]}));
    });
    let audit_before = app.audit_count().await;
    let dry = synced(&app, "mode=upsert&dry_run=true").await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["structure"]["departments_updated"], 1);
    assert_eq!(dry["roster"]["updated"], 2, "{dry}");
    assert_eq!(dry["roster"]["transferred"], 1);
    let aside = dry["left_aside"].as_array().unwrap();
    assert!(aside
        .iter()
        .any(|a| a["employee_no"] == "20001"
            && a["reason"].as_str().unwrap().contains("personnel roster import")));
    // A dry run writes nothing.
    assert_eq!(app.employee(people::EMPLOYEE).await["portal_login_id"], me["portal_login_id"]);
    assert_eq!(app.audit_count().await, audit_before);

    let r = synced(&app, "mode=upsert").await;
    assert_eq!((r["roster"]["updated"].as_u64(), r["roster"]["transferred"].as_u64()), (Some(2), Some(1)));
    let d = app.get_json(&format!("/api/v1/departments/{}", renamed.as_str().unwrap()), &app.hr()).await;
    assert_eq!(d["name"], "未来創造部");
    let me_now = app.employee(people::EMPLOYEE).await;
    assert_eq!(me_now["portal_login_id"], "Isehara.Taro");
    assert_eq!(me_now["email"], "taro@city.isehara.example");
    assert_eq!(me_now["grade"], me["grade"], "the roster's own fields are kept");
    assert_eq!(me_now["promotions"], me["promotions"]);
    assert_eq!(app.employee(people::SAME_SECTION).await["section_id"], other["section_id"]);
    assert!(app.audit_count().await > audit_before);
    // The login id now signs the employee in to the portal's notices and SSO; a second sync of
    // the same directory changes nothing.
    let again = synced(&app, "mode=upsert").await;
    assert_eq!(again["roster"]["updated"], 0);
    assert_eq!(again["structure"]["departments_updated"], 0);
}

#[tokio::test]
async fn a_busy_portal_is_waited_for_and_asked_again() {
    let (app, portal) = with_portal(&[]).await;
    portal.script(&[Scripted::Status(429), Scripted::Pass, Scripted::Status(429), Scripted::Status(429)]);
    let r = synced(&app, "mode=upsert&dry_run=true").await;
    assert_eq!(r["busy"], 3);
    let (asked, at_once) = portal.asked();
    assert_eq!(r["requests"].as_u64().unwrap() as usize, asked.len() + 3);
    assert_eq!(at_once, 1);

    // Busy for longer than the attempts allow: the sync gives up and changes nothing.
    portal.script(&[Scripted::Status(429); 4]);
    let p = assert_problem(sync(&app, "mode=upsert").await, 502, "directory-unavailable").await;
    assert!(p["detail"].as_str().unwrap().contains("busy"), "{p}");
}

#[tokio::test]
async fn an_ng_reply_or_a_partial_read_changes_nothing() {
    let (app, portal) = with_portal(&[]).await;
    // Everyone but the first ten left the portal, and a department was renamed: taken whole with
    // mode=full this would retire most of the roster.
    let departments = items(&app, "/api/v1/departments?limit=200").await;
    let renamed = departments[0]["id"].clone();
    portal.edit(|groups, users| {
        groups.iter_mut().find(|g| g["id"] == renamed).unwrap()["name"] = json!("未来創造部");
        users.truncate(PAGE + 10);
    });
    let before = app.all_employees().await;
    let audit_before = app.audit_count().await;
    let cases: [(&[Scripted], &str); 4] = [
        (&[Scripted::Ng], "権限がありません"),
        // The second page of users: cut short, one user missing, or refused.
        (&[Scripted::Pass, Scripted::Pass, Scripted::Cut], "not complete JSON"),
        (&[Scripted::Pass, Scripted::Pass, Scripted::Short], "were read"),
        (&[Scripted::Pass, Scripted::Pass, Scripted::Ng], "ng"),
    ];
    for (script, says) in cases {
        portal.script(script);
        let p = assert_problem(sync(&app, "mode=full").await, 502, "directory-unavailable").await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(says) && detail.contains("nothing was changed"), "{detail}");
    }
    assert_eq!(app.all_employees().await, before, "nobody retired, nothing renamed");
    let d = app.get_json(&format!("/api/v1/departments/{}", renamed.as_str().unwrap()), &app.hr()).await;
    assert_eq!(d["name"], departments[0]["name"]);
    assert_eq!(app.audit_count().await, audit_before);

    // A portal that lists nobody at all is not taken as "everyone left".
    portal.edit(|_, users| users.clear());
    assert_problem(sync(&app, "mode=full").await, 502, "directory-unavailable").await;
    assert_eq!(app.audit_count().await, audit_before);
}

#[tokio::test]
async fn a_full_sync_retires_those_the_portal_no_longer_lists_or_has_stopped() {
    let (app, portal) = with_portal(&[]).await;
    portal.edit(|_, users| {
        users.retain(|u| u["employee_no"] != people::OTHER_DEPARTMENT);
        user(users, people::SAME_SECTION)["stopped"] = json!(1);
    });
    // upsert leaves them be.
    let r = synced(&app, "mode=upsert").await;
    assert_eq!(r["roster"]["deactivated"], 0);
    assert!(r["left_aside"].as_array().unwrap().iter().any(|a| a["employee_no"] == people::SAME_SECTION));
    let r = synced(&app, "mode=full").await;
    assert_eq!(r["roster"]["deactivated"], 2, "{r}");
    assert_eq!(app.employee(people::OTHER_DEPARTMENT).await["active"], false);
    assert_eq!(app.employee(people::SAME_SECTION).await["active"], false);
    // Back in the portal: active again.
    portal.edit(|_, users| user(users, people::SAME_SECTION)["stopped"] = json!(0));
    synced(&app, "mode=upsert").await;
    assert_eq!(app.employee(people::SAME_SECTION).await["active"], true);
}

#[tokio::test]
async fn records_that_do_not_read_are_named_and_nothing_is_written() {
    let (app, portal) = with_portal(&[]).await;
    portal.edit(|groups, users| {
        groups.push(json!({"id": "x", "code": "", "name": "名無し課", "parent_id": 1}));
        user(users, people::EMPLOYEE)["group_id"] = json!(1);
        user(users, people::SAME_SECTION)["name"] = json!("");
    });
    let audit_before = app.audit_count().await;
    // The tree first: a group without its code.
    let p = assert_problem(sync(&app, "mode=upsert").await, 422, "import-rejected").await;
    assert_eq!(row_errors(&p).iter().map(|(_, c)| *c).collect::<Vec<_>>(), ["groups.code"]);
    portal.edit(|groups, _| {
        groups.pop();
    });
    let p = assert_problem(sync(&app, "mode=upsert").await, 422, "import-rejected").await;
    let columns: Vec<&str> = row_errors(&p).iter().map(|(_, c)| *c).collect();
    assert_eq!(columns, ["users.group_id", "users.name"], "{p}");
    assert_eq!(app.audit_count().await, audit_before);
}

#[tokio::test]
async fn the_scheduled_sync_runs_once_per_interval_on_the_services_clock() {
    let (app, portal) = with_portal(&[("KENSHU_DIRECTORY_SYNC_EVERY_SECONDS", "86400".into())]).await;
    let t0 = Utc.with_ymd_and_hms(2024, 4, 1, 18, 0, 0).unwrap();
    app.clock.set(t0);
    portal.edit(|_, users| user(users, people::EMPLOYEE)["login_id"] = json!("taro"));
    let first = kenshu_api::directory::sync_if_due(&app.state).await.unwrap().expect("due");
    assert_eq!(first.roster.updated, 1);
    assert_eq!(app.employee(people::EMPLOYEE).await["portal_login_id"], "taro");
    app.clock.set(t0 + chrono::Duration::hours(23));
    assert!(kenshu_api::directory::sync_if_due(&app.state).await.unwrap().is_none());
    app.clock.set(t0 + chrono::Duration::hours(24));
    assert!(kenshu_api::directory::sync_if_due(&app.state).await.unwrap().is_some());

    // A scheduled sync the portal refuses is tried again a quarter of an hour later, not a day.
    let t1 = t0 + chrono::Duration::hours(48);
    app.clock.set(t1);
    portal.script(&[Scripted::Ng]);
    assert!(kenshu_api::directory::sync_if_due(&app.state).await.is_err());
    app.clock.set(t1 + chrono::Duration::minutes(14));
    assert!(kenshu_api::directory::sync_if_due(&app.state).await.unwrap().is_none());
    app.clock.set(t1 + chrono::Duration::minutes(15));
    assert!(kenshu_api::directory::sync_if_due(&app.state).await.unwrap().is_some());
}

#[tokio::test]
async fn only_hr_and_the_importer_sync_and_only_for_the_portals_organisation() {
    let (app, _portal) = with_portal(&[]).await;
    let employee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let res = app
        .request(Method::POST, "/api/v1/directory/sync?mode=upsert", Some(&employee))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "forbidden").await;
    let importer = app.token("personnel-system", &[Role::Importer]);
    let res = app
        .request(Method::POST, "/api/v1/directory/sync?mode=upsert&dry_run=true", Some(&importer))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let other = kenshu_tests::token_for(kenshu_tests::OTHER_ORG, "hr", &[Role::HrAdmin]);
    let res =
        app.request(Method::POST, "/api/v1/directory/sync?mode=upsert", Some(&other)).send().await.unwrap();
    assert_problem(res, 404, "not-found").await;
    // The mode is required: a sync taken as whole by default could retire staff.
    assert_eq!(sync(&app, "").await.status(), 400);
}

/// The `kenshu` binary beside the test binary. `cargo test --workspace` (the README's command)
/// builds it; the tests package alone (`-p kenshu-tests`) does not, as it is another package's.
fn kenshu_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let binary = dir.join(format!("kenshu{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --bin kenshu` first, or the whole workspace's tests",
        binary.display()
    );
    binary
}

#[tokio::test]
async fn kenshu_directory_sync_runs_the_same_sync_from_the_command_line() {
    let (app, portal) = with_portal(&[]).await;
    portal.edit(|_, users| user(users, people::EMPLOYEE)["login_id"] = json!("cli.taro"));
    let run = |args: &'static [&'static str]| {
        let mut cmd = std::process::Command::new(kenshu_binary());
        cmd.args(args)
            // The service's own environment, as on the server.
            .env("KENSHU_JWT_SECRET", kenshu_tests::SECRET)
            .env("KENSHU_DATABASE_URL", &app.database_url)
            .env("KENSHU_DIRECTORY_URL", &portal.url)
            .env("KENSHU_DIRECTORY_ACCESS_KEY", KEY)
            .env("KENSHU_DIRECTORY_ORGANISATION", "isehara")
            .env("KENSHU_DIRECTORY_DEPARTMENT_DEPTH", "2")
            .env("KENSHU_DIRECTORY_PAGE_SIZE", PAGE.to_string())
            .env("KENSHU_DIRECTORY_BUSY_WAIT_MS", "20")
            .env("KENSHU_DIRECTORY_ATTEMPTS", "2")
            .env("KENSHU_LOG", "warn");
        // The portal stand-in runs on this test's runtime: wait for the command off it.
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    let out = run(&["directory", "sync", "--dry-run"]).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["dry_run"].as_bool(), report["roster"]["updated"].as_u64()), (Some(true), Some(1)));
    assert_ne!(app.employee(people::EMPLOYEE).await["portal_login_id"], "cli.taro", "a dry run");

    portal.script(&[Scripted::Ng]);
    let out = run(&["directory", "sync"]).await.unwrap();
    assert!(!out.status.success());
    let problem: Value =
        serde_json::from_slice(&out.stderr[..out.stderr.iter().rposition(|b| *b == b'}').unwrap() + 1])
            .unwrap();
    assert_eq!(problem["code"], "directory-unavailable");

    let out = run(&["directory", "sync", "--mode", "upsert"]).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(app.employee(people::EMPLOYEE).await["portal_login_id"], "cli.taro");
}
