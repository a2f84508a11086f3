//! The callers an instance keeps in memory (PostgreSQL): a transfer, a change of head, a change
//! made outside the service and a lost listening connection all count on the next requests of
//! every instance. On SQLite nothing is kept, and the same steps show the same answers.

use std::time::{Duration, Instant};

use kenshu_domain::auth::Role;
use kenshu_persistence::entities::employee;
use kenshu_persistence::Db;
use kenshu_tests::{on_postgres, people, spawn, until_callers_kept, TestApp};
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

/// `GET /api/v1/me` at `base`.
async fn me_at(app: &TestApp, base: &str, token: &str) -> Value {
    let res = app.client.get(format!("{base}/api/v1/me")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// How many requests until `/me` at `base` satisfies `holds`: another instance hears of a change
/// when PostgreSQL delivers the notification, so it is waited for (up to ten seconds), never
/// assumed. One means the first request after the change already showed it.
async fn until(app: &TestApp, base: &str, token: &str, holds: impl Fn(&Value) -> bool) -> u32 {
    let start = Instant::now();
    let mut requests = 0;
    loop {
        requests += 1;
        if holds(&me_at(app, base, token).await) {
            return requests;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{base} still answers the caller as before");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn section_of(me: &Value) -> &str {
    me["employee"]["section_id"].as_str().unwrap()
}

/// Statements `/me` at this instance costs.
async fn me_cost(app: &TestApp, token: &str) -> u64 {
    let (status, statements) = app.cost("/api/v1/me", token).await;
    assert_eq!(status, 200);
    statements
}

#[tokio::test]
async fn a_transfer_or_a_change_of_head_counts_at_once_on_every_instance() {
    let app = spawn().await;
    let other = app.serve_second_instance().await;
    let token = app.token(people::EMPLOYEE, &[Role::Employee, Role::SectionHead]);
    let hr = app.hr();
    let before = app.employee(people::EMPLOYEE).await;
    let home = before["section_id"].as_str().unwrap().to_string();
    let away = app.employee(people::OTHER_DEPARTMENT).await["section_id"].as_str().unwrap().to_string();
    assert_ne!(home, away);

    // Kept in memory on PostgreSQL: the second request of a caller reads nothing.
    if on_postgres() {
        until_callers_kept(&app.db).await;
        until_callers_kept(&other.state.db).await;
    }
    for base in [&app.base, &other.base] {
        assert_eq!(section_of(&me_at(&app, base, &token).await), home);
    }
    let kept = if on_postgres() { 0 } else { 1 };
    assert_eq!(me_cost(&app, &token).await, kept, "a known caller's /me");
    let stats = app.db.principals().stats();
    assert_eq!(stats.listening, on_postgres());
    assert_eq!(stats.hits > 0, on_postgres());

    // A transfer made on the first instance: that instance answers with it at once...
    app.edit_employee(people::EMPLOYEE, |b| b["section_id"] = json!(away)).await;
    assert_eq!(section_of(&me_at(&app, &app.base, &token).await), away);
    // ...and the second as soon as the notification arrives.
    let heard = until(&app, &other.base, &token, |me| section_of(me) == away).await;
    println!("the second instance showed the transfer on request {heard}");

    // A change of head on the second instance: the caller heads a new section at once there,
    // and on the first when it hears.
    let department = app.employee(people::EMPLOYEE).await["department_id"].clone();
    let body = json!({"code": "S9101", "name": "臨時課", "department_id": department, "head_employee_id": before["id"]});
    let res = app
        .client
        .post(format!("{}/api/v1/sections", other.base))
        .bearer_auth(&hr)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let section = res.json::<Value>().await.unwrap()["id"].clone();
    assert_eq!(me_at(&app, &other.base, &token).await["headed_sections"], json!([section]));
    let heard = until(&app, &app.base, &token, |me| me["headed_sections"] == json!([section])).await;
    println!("the first instance showed the new head on request {heard}");

    // A change made outside the service (another process, or by hand): both instances hear of
    // it from the database.
    let outside = Db::connect(&app.database_url, 1).await.unwrap();
    move_outside(&outside, before["id"].as_str().unwrap(), &home).await;
    for base in [&app.base, &other.base] {
        let heard = until(&app, base, &token, |me| section_of(me) == home).await;
        println!("{base} showed a change made outside on request {heard}");
    }

    if on_postgres() {
        // The listening connection is lost: the instance stops keeping callers until it listens
        // again, so a change committed meanwhile cannot be missed.
        let sql = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = '{}'",
            kenshu_persistence::roster_watch::APPLICATION_NAME
        );
        outside.conn().execute_unprepared(&sql).await.unwrap();
        move_outside(&outside, before["id"].as_str().unwrap(), &away).await;
        for base in [&app.base, &other.base] {
            until(&app, base, &token, |me| section_of(me) == away).await;
        }
        until_callers_kept(&app.db).await;
        until_callers_kept(&other.state.db).await;
        me_at(&app, &app.base, &token).await;
        assert_eq!(me_cost(&app, &token).await, 0, "kept again once listening");
        assert_eq!(section_of(&me_at(&app, &app.base, &token).await), away);
    }
    outside.close().await.unwrap();
}

/// Move the employee to `section` with a statement of its own, as `kenshu directory sync` or an
/// operator in `psql` would: not through the service's write path.
async fn move_outside(db: &Db, employee_id: &str, section: &str) {
    let id: Uuid = employee_id.parse().unwrap();
    let section: Uuid = section.parse().unwrap();
    let moved = employee::Entity::update_many()
        .col_expr(employee::Column::SectionId, Expr::value(section))
        .filter(employee::Column::Id.eq(id))
        .exec(db.conn())
        .await
        .unwrap();
    assert_eq!(moved.rows_affected, 1);
}

/// Requests identifying a caller while the caller is transferred back and forth on the same
/// instance: after each transfer is answered, the next request shows it. A request that read
/// the caller just before a transfer committed must not keep what it read.
#[tokio::test]
async fn a_caller_read_while_a_transfer_commits_is_not_kept() {
    let app = spawn().await;
    if on_postgres() {
        until_callers_kept(&app.db).await;
    }
    let token = app.token(people::EMPLOYEE, &[Role::Employee]);
    let home = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    let away = app.employee(people::OTHER_DEPARTMENT).await["section_id"].as_str().unwrap().to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (client, url, token, stop) =
            (app.client.clone(), format!("{}/api/v1/me", app.base), token.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = client.get(&url).bearer_auth(&token).send().await.unwrap();
                assert_eq!(res.status(), 200);
            }
        }));
    }
    for round in 0..20 {
        let to = if round % 2 == 0 { &away } else { &home };
        app.edit_employee(people::EMPLOYEE, |b| b["section_id"] = json!(to)).await;
        // Twice: the first may be the one that keeps what it reads.
        for _ in 0..2 {
            assert_eq!(section_of(&me_at(&app, &app.base, &token).await), to, "round {round}");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    if on_postgres() {
        assert!(app.db.principals().stats().hits > 0, "callers were kept between transfers");
    }
}

/// Only a change to what identifies callers drops them: a new plan keeps every caller, a change
/// to anyone's roster record drops them all (not only theirs: a section or a department may
/// change with it).
#[tokio::test]
async fn a_write_that_changes_no_caller_keeps_them() {
    if !on_postgres() {
        return;
    }
    let app = spawn().await;
    until_callers_kept(&app.db).await;
    let token = app.token(people::EMPLOYEE, &[Role::Employee]);
    me_at(&app, &app.base, &token).await;
    assert_eq!(me_cost(&app, &token).await, 0);
    let res = app.post_json("/api/v1/plans", &app.hr(), &json!({"fiscal_year": 2031})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(me_cost(&app, &token).await, 0, "kept across a new plan");
    let drops = app.db.principals().stats().drops;
    app.edit_employee(people::SAME_SECTION, |b| b["post"] = json!("主任")).await;
    // Dropped by the commit, and again when the trigger's notification of it arrives: wait for
    // both, so that the second does not come between the two reads below.
    let start = Instant::now();
    while app.db.principals().stats().drops < drops + 2 {
        assert!(start.elapsed() < Duration::from_secs(10), "the notification of the change never came");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(me_cost(&app, &token).await, 1, "read again after a roster change");
    assert_eq!(me_cost(&app, &token).await, 0);
}
