//! What an instance keeps in memory: callers, employees as HR reads them, courses with their
//! sessions, course lists, the courses a member of staff can take. A transfer, a change of head, a session moved, a change made outside
//! the service and a lost watch (PostgreSQL's listening connection, SQLite's poll of the change
//! counts) all count on the next requests of every instance, on both backends.

use std::time::{Duration, Instant};

use kenshu_domain::auth::Role;
use kenshu_persistence::entities::{course, course_session, employee};
use kenshu_persistence::Db;
use kenshu_tests::{on_postgres, people, spawn, spawn_configured, until_reads_kept, TestApp};
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

/// `GET {path}` at `base`.
async fn get_at(app: &TestApp, base: &str, path: &str, token: &str) -> Value {
    let res = app.client.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// `GET /api/v1/me` at `base`.
async fn me_at(app: &TestApp, base: &str, token: &str) -> Value {
    get_at(app, base, "/api/v1/me", token).await
}

/// How many requests until `path` at `base` satisfies `holds`: another instance hears of a
/// change when PostgreSQL delivers the notification, or at its next poll of SQLite's change
/// counts, so it is waited for (up to ten seconds), never assumed. One means the first request after the change already showed it.
async fn until_at(app: &TestApp, base: &str, path: &str, token: &str, holds: impl Fn(&Value) -> bool) -> u32 {
    let start = Instant::now();
    let mut requests = 0;
    loop {
        requests += 1;
        if holds(&get_at(app, base, path, token).await) {
            return requests;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{base}{path} still answers as before");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// [`until_at`] for `/me`.
async fn until(app: &TestApp, base: &str, token: &str, holds: impl Fn(&Value) -> bool) -> u32 {
    until_at(app, base, "/api/v1/me", token, holds).await
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

    // Kept in memory: the second request of a caller reads nothing.
    until_reads_kept(&app.db).await;
    until_reads_kept(&other.state.db).await;
    for base in [&app.base, &other.base] {
        assert_eq!(section_of(&me_at(&app, base, &token).await), home);
    }
    assert_eq!(me_cost(&app, &token).await, 0, "a known caller's /me");
    let stats = app.db.kept().stats();
    assert!(stats.listening);
    assert!(stats.callers.hits > 0);
    // HR's read of the same employee, kept on the second instance.
    let record = format!("/api/v1/employees/{}", before["id"].as_str().unwrap());
    for _ in 0..2 {
        assert_eq!(get_at(&app, &other.base, &record, &hr).await["section_id"], json!(home));
    }
    assert!(other.state.db.kept().stats().employees.hits > 0);

    // A transfer made on the first instance: that instance answers with it at once...
    app.edit_employee(people::EMPLOYEE, |b| b["section_id"] = json!(away)).await;
    assert_eq!(section_of(&me_at(&app, &app.base, &token).await), away);
    // ...and the second as soon as the notification arrives, to the caller and to HR.
    let heard = until(&app, &other.base, &token, |me| section_of(me) == away).await;
    println!("the second instance showed the transfer on request {heard}");
    until_at(&app, &other.base, &record, &hr, |e| e["section_id"] == json!(away)).await;

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
            kenshu_persistence::change_watch::APPLICATION_NAME
        );
        outside.conn().execute_unprepared(&sql).await.unwrap();
        move_outside(&outside, before["id"].as_str().unwrap(), &away).await;
        for base in [&app.base, &other.base] {
            until(&app, base, &token, |me| section_of(me) == away).await;
        }
        until_reads_kept(&app.db).await;
        until_reads_kept(&other.state.db).await;
        me_at(&app, &app.base, &token).await;
        assert_eq!(me_cost(&app, &token).await, 0, "kept again once listening");
        assert_eq!(section_of(&me_at(&app, &app.base, &token).await), away);
    } else {
        // The change counts cannot be read (the table renamed away): within the lease both
        // instances stop keeping anything, so a change made meanwhile is seen at once, and once
        // the counts read again they keep callers again.
        outside
            .conn()
            .execute_unprepared("ALTER TABLE kenshu_change RENAME TO kenshu_change_away")
            .await
            .unwrap();
        for db in [&app.db, &other.state.db] {
            let start = Instant::now();
            while db.kept().stats().listening {
                assert!(start.elapsed() < Duration::from_secs(10), "still keeping without the change counts");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        move_outside(&outside, before["id"].as_str().unwrap(), &away).await;
        for base in [&app.base, &other.base] {
            assert_eq!(section_of(&me_at(&app, base, &token).await), away, "{base}");
        }
        assert_eq!(me_cost(&app, &token).await, 1, "read while the counts cannot be");
        outside
            .conn()
            .execute_unprepared("ALTER TABLE kenshu_change_away RENAME TO kenshu_change")
            .await
            .unwrap();
        until_reads_kept(&app.db).await;
        me_at(&app, &app.base, &token).await;
        assert_eq!(me_cost(&app, &token).await, 0, "kept again once the counts read");
        assert_eq!(section_of(&me_at(&app, &app.base, &token).await), away);
    }
    outside.close().await.unwrap();
}

/// Move the employee to `section` with a statement of its own, as `kenshu directory sync` or an
/// operator in `psql` would: not through the service's write path.
async fn move_outside(db: &Db, employee_id: &str, section: &str) {
    let section: Uuid = section.parse().unwrap();
    set_outside(db, employee_id, employee::Column::SectionId, section).await;
}

/// Set one column of the employee with a statement of its own, as an operator in `psql` would.
async fn set_outside(db: &Db, employee_id: &str, column: employee::Column, value: impl Into<sea_orm::Value>) {
    let id: Uuid = employee_id.parse().unwrap();
    let changed = employee::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(employee::Column::Id.eq(id))
        .exec(db.conn())
        .await
        .unwrap();
    assert_eq!(changed.rows_affected, 1);
}

/// Rename the course at `course` (its path) with a statement of its own, as an operator in
/// `psql` would.
async fn rename_outside(db: &Db, course: &str, title: &str) {
    let id: Uuid = course.rsplit('/').next().unwrap().parse().unwrap();
    let renamed = course::Entity::update_many()
        .col_expr(course::Column::Title, Expr::value(title))
        .filter(course::Column::Id.eq(id))
        .exec(db.conn())
        .await
        .unwrap();
    assert_eq!(renamed.rows_affected, 1);
}

/// Four clients sending `GET {path}` back to back until stopped; each answer must be 200.
struct Readers {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Readers {
    fn start(app: &TestApp, path: &str, token: &str) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tasks = (0..4)
            .map(|_| {
                let (client, url, token, stop) =
                    (app.client.clone(), format!("{}{path}", app.base), token.to_string(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let res = client.get(&url).bearer_auth(&token).send().await.unwrap();
                        assert_eq!(res.status(), 200);
                    }
                })
            })
            .collect();
        Self { stop, tasks }
    }

    async fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
    }
}

/// Requests identifying a caller while the caller is transferred back and forth on the same
/// instance: after each transfer is answered, the next request shows it. A request that read
/// the caller just before a transfer committed must not keep what it read.
#[tokio::test]
async fn a_caller_read_while_a_transfer_commits_is_not_kept() {
    let app = spawn().await;
    until_reads_kept(&app.db).await;
    let token = app.token(people::EMPLOYEE, &[Role::Employee]);
    let home = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    let away = app.employee(people::OTHER_DEPARTMENT).await["section_id"].as_str().unwrap().to_string();
    let readers = Readers::start(&app, "/api/v1/me", &token);
    for round in 0..20 {
        let to = if round % 2 == 0 { &away } else { &home };
        app.edit_employee(people::EMPLOYEE, |b| b["section_id"] = json!(to)).await;
        // Twice: the first may be the one that keeps what it reads.
        for _ in 0..2 {
            assert_eq!(section_of(&me_at(&app, &app.base, &token).await), to, "round {round}");
        }
    }
    readers.stop().await;
    assert!(app.db.kept().stats().callers.hits > 0, "callers were kept between transfers");
}

/// A published course of a published plan with one session: the course's path and the
/// session's.
async fn published_course(app: &TestApp) -> (String, String) {
    let hr = app.hr();
    assert_eq!(app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": 2031})).await.status(), 201);
    let body = json!({
        "fiscal_year": 2031, "category": "thematic", "number": 1, "title": "文書事務研修",
        "rules": [{"route": "recommendation", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published"
    });
    let res = app.post_json("/api/v1/courses", &hr, &body).await;
    assert_eq!(res.status(), 201);
    let course = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = app
        .post_json(&format!("/api/v1/courses/{course}/sessions"), &hr, &session_body("本庁舎 3階 会議室"))
        .await;
    assert_eq!(res.status(), 201);
    let session = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    app.publish_plan(2031).await;
    (format!("/api/v1/courses/{course}"), format!("/api/v1/courses/{course}/sessions/{session}"))
}

fn session_body(venue: &str) -> Value {
    json!({"starts_at": "2031-06-10T09:00:00+09:00", "ends_at": "2031-06-10T12:00:00+09:00", "venue": venue, "capacity": null})
}

/// Move the session to `venue` through the instance at `base`; its new version.
async fn move_session(app: &TestApp, base: &str, session: &str, version: i64, venue: &str) -> i64 {
    let res = app
        .client
        .put(format!("{base}{session}"))
        .bearer_auth(app.hr())
        .header("If-Match", format!("\"{version}\""))
        .json(&session_body(venue))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["version"].as_i64().unwrap()
}

fn venue_of(course: &Value) -> &str {
    course["sessions"][0]["venue"].as_str().unwrap()
}

#[tokio::test]
async fn a_course_change_counts_at_once_on_every_instance() {
    let app = spawn().await;
    let other = app.serve_second_instance().await;
    let (course, session) = published_course(&app).await;
    let staff = app.token(people::EMPLOYEE, &[Role::Employee]);
    until_reads_kept(&app.db).await;
    until_reads_kept(&other.state.db).await;
    // The year's list too: kept course by course, as rendered.
    let list = "/api/v1/courses?fiscal_year=2031";
    let listed = |l: &Value| l["items"][0]["title"].as_str().unwrap().to_string();
    for base in [&app.base, &other.base] {
        for _ in 0..2 {
            assert_eq!(venue_of(&get_at(&app, base, &course, &staff).await), "本庁舎 3階 会議室");
            assert_eq!(listed(&get_at(&app, base, list, &staff).await), "文書事務研修");
        }
    }
    // Kept: the caller and the course read nothing.
    assert_eq!(app.cost(&course, &staff).await, (200, 0));
    assert!(other.state.db.kept().stats().courses.hits > 0);

    // Moved on the first instance: shown there at once, and on the second when it hears.
    let version = move_session(&app, &app.base, &session, 1, "分庁舎 1階").await;
    assert_eq!(venue_of(&get_at(&app, &app.base, &course, &staff).await), "分庁舎 1階");
    let heard = until_at(&app, &other.base, &course, &staff, |c| venue_of(c) == "分庁舎 1階").await;
    println!("the second instance showed the moved session on request {heard}");
    // Moved again on the second.
    move_session(&app, &other.base, &session, version, "本庁舎 5階 大会議室").await;
    assert_eq!(venue_of(&get_at(&app, &other.base, &course, &staff).await), "本庁舎 5階 大会議室");
    until_at(&app, &app.base, &course, &staff, |c| venue_of(c) == "本庁舎 5階 大会議室").await;

    // Changes made outside the service, to a session and to the course itself.
    let outside = Db::connect(&app.database_url, 1).await.unwrap();
    let session_id: Uuid = session.rsplit('/').next().unwrap().parse().unwrap();
    let moved = course_session::Entity::update_many()
        .col_expr(course_session::Column::Venue, Expr::value("オンライン"))
        .filter(course_session::Column::Id.eq(session_id))
        .exec(outside.conn())
        .await
        .unwrap();
    assert_eq!(moved.rows_affected, 1);
    for base in [&app.base, &other.base] {
        until_at(&app, base, &course, &staff, |c| venue_of(c) == "オンライン").await;
    }
    rename_outside(&outside, &course, "文書事務研修（改）").await;
    for base in [&app.base, &other.base] {
        until_at(&app, base, &course, &staff, |c| c["title"] == "文書事務研修（改）").await;
        until_at(&app, base, list, &staff, |l| listed(l) == "文書事務研修（改）").await;
    }
    outside.close().await.unwrap();
    // A listed course is the course as read alone, without its sessions.
    let mut alone = get_at(&app, &app.base, &course, &staff).await;
    alone.as_object_mut().unwrap().remove("sessions");
    for base in [&app.base, &other.base] {
        assert_eq!(get_at(&app, base, list, &staff).await["items"], json!([alone]), "{base}");
    }
    assert!(app.db.kept().stats().course_items.hits > 0);
}

/// Requests reading a course while HR moves its session back and forth on the same instance:
/// after each move is answered, the next requests show it. A read that saw the session just
/// before a move committed must not keep what it saw.
#[tokio::test]
async fn a_course_read_while_its_session_moves_is_not_kept() {
    let app = spawn().await;
    let (course, session) = published_course(&app).await;
    until_reads_kept(&app.db).await;
    let staff = app.token(people::EMPLOYEE, &[Role::Employee]);
    let readers = Readers::start(&app, &course, &staff);
    let mut version = 1;
    for round in 0..20 {
        let venue = format!("会議室 {round}");
        version = move_session(&app, &app.base, &session, version, &venue).await;
        // Twice: the first may be the one that keeps what it reads.
        for _ in 0..2 {
            assert_eq!(venue_of(&get_at(&app, &app.base, &course, &staff).await), venue, "round {round}");
        }
    }
    readers.stop().await;
    assert!(app.db.kept().stats().courses.hits > 0, "the course was kept between moves");
}

/// Wait until `scope_drops` has grown by two: the commit's own drop and the watch's of the same
/// change (PostgreSQL's notification, or SQLite's next poll of the counts), so that the second
/// does not come between the reads that follow.
async fn until_dropped_twice(app: &TestApp, scope_drops: impl Fn(&Db) -> u64, before: u64) {
    let start = Instant::now();
    while scope_drops(&app.db) < before + 2 {
        assert!(start.elapsed() < Duration::from_secs(10), "the notification of the change never came");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A change drops only the reads made from its tables: a session moved keeps callers and
/// employees, an employee's change keeps courses.
#[tokio::test]
async fn a_change_drops_only_the_reads_made_from_its_tables() {
    let app = spawn().await;
    let (course, session) = published_course(&app).await;
    until_reads_kept(&app.db).await;
    let (staff, hr) = (app.token(people::EMPLOYEE, &[Role::Employee]), app.hr());
    let record =
        format!("/api/v1/employees/{}", app.employee(people::OTHER_DEPARTMENT).await["id"].as_str().unwrap());
    let reads = [("/api/v1/me", &staff), (course.as_str(), &staff), (record.as_str(), &hr)];
    for (path, token) in reads {
        app.cost(path, token).await;
        assert_eq!(app.cost(path, token).await, (200, 0), "{path} kept");
    }

    let catalogue = |db: &Db| db.kept().stats().catalogue_drops;
    let before = catalogue(&app.db);
    move_session(&app, &app.base, &session, 1, "分庁舎 1階").await;
    until_dropped_twice(&app, catalogue, before).await;
    assert_eq!(app.cost("/api/v1/me", &staff).await, (200, 0), "callers kept across a moved session");
    assert_eq!(app.cost(&record, &hr).await, (200, 0), "employees kept across a moved session");
    assert_eq!(app.cost(&course, &staff).await, (200, 1), "the course read again");
    assert_eq!(app.cost(&course, &staff).await, (200, 0));

    let roster = |db: &Db| db.kept().stats().roster_drops;
    let before = roster(&app.db);
    app.edit_employee(people::SAME_SECTION, |b| b["post"] = json!("主任")).await;
    until_dropped_twice(&app, roster, before).await;
    assert_eq!(app.cost(&record, &hr).await, (200, 2), "HR and the employee read again");
    assert_eq!(app.cost("/api/v1/me", &staff).await, (200, 1), "the caller read again");
    assert_eq!(app.cost(&course, &staff).await, (200, 0), "the course kept across a roster change");
}

/// The instance that makes a change drops what it keeps of the change's scope as it commits,
/// before it answers (a request that follows at once must not wait for the notification or the
/// next poll), and a write of another kind drops nothing. Counted on both backends; on SQLite the
/// change counts are read once a minute here, so after the first poll only the commit drops and
/// the counts are exact there.
#[tokio::test]
async fn a_write_drops_its_scope_as_it_commits_and_other_writes_drop_nothing() {
    let app = spawn_configured(&[("KENSHU_SQLITE_CHANGE_POLL_MS", "60000".into())]).await;
    let (course, session) = published_course(&app).await;
    let drops = || {
        let s = app.db.kept().stats();
        (s.roster_drops, s.catalogue_drops)
    };
    let (roster, catalogue) = drops();
    move_session(&app, &app.base, &session, 1, "分庁舎 1階").await;
    let after = drops();
    assert!(after.1 > catalogue, "the move's commit drops the catalogue");
    if !on_postgres() {
        assert_eq!(after, (roster, catalogue + 1));
    }
    let (roster, catalogue) = drops();
    app.edit_employee(people::SAME_SECTION, |b| b["post"] = json!("主任")).await;
    let after = drops();
    assert!(after.0 > roster, "an employee's change drops the roster");
    if !on_postgres() {
        assert_eq!(after, (roster + 1, catalogue));
    }
    // A recommendation writes a nomination and its audit record: neither scope.
    let before = drops();
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let body = json!({"employee_no": people::EMPLOYEE, "reason": "推薦"});
    let res = app.post_json(&format!("{course}/recommendations"), &head, &body).await;
    assert_eq!(res.status(), 201);
    if !on_postgres() {
        assert_eq!(drops(), before, "a nomination drops nothing");
    }
}

/// The courses' titles of a `/me/courses` answer, in its order.
fn titles(mine: &Value) -> Vec<&str> {
    mine["items"].as_array().unwrap().iter().map(|i| i["course"]["title"].as_str().unwrap()).collect()
}

/// `/me/courses` is answered from three kept reads (the member of staff, the grade ladder, the
/// year's published courses): warm it costs no statement, and a study group registered, the
/// ladder reordered and a course cancelled by hand each count at once on the instance that made
/// them and on the next requests of the other.
#[tokio::test]
async fn my_courses_follow_a_study_group_the_ladder_and_a_cancelled_course_on_every_instance() {
    let app = spawn().await;
    let other = app.serve_second_instance().await;
    let (hr, staff) = (app.hr(), app.token(people::EMPLOYEE, &[Role::Employee]));
    let grade = app.employee(people::EMPLOYEE).await["grade"].as_str().unwrap().to_string();
    let res = app.get("/api/v1/grades", &hr).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let ladder: Value = res.json().await.unwrap();
    let held = ladder["grades"].as_array().unwrap().iter().position(|g| g["name"] == grade.as_str()).unwrap();
    let above = ladder["grades"][held + 1]["name"].clone();
    assert_eq!(app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": 2031})).await.status(), 201);
    let mut ids = Vec::new();
    for (number, title, condition) in [
        (1, "全職員研修", json!({"kind": "all_staff"})),
        (2, "自主研究グループ研修", json!({"kind": "study_group_members"})),
        (3, "上位級研修", json!({"kind": "grade_at_least", "grade": above})),
    ] {
        let body = json!({
            "fiscal_year": 2031, "category": "thematic", "number": number, "title": title,
            "rules": [{"route": "application", "conditions": [condition]}],
            "delivery": "classroom", "status": "published"
        });
        let res = app.post_json("/api/v1/courses", &hr, &body).await;
        assert_eq!(res.status(), 201);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse::<Uuid>().unwrap());
    }
    app.publish_plan(2031).await;
    let path = "/api/v1/me/courses?fiscal_year=2031";
    until_reads_kept(&app.db).await;
    until_reads_kept(&other.state.db).await;
    for base in [&app.base, &other.base] {
        assert_eq!(titles(&get_at(&app, base, path, &staff).await), ["全職員研修"], "{base}");
    }
    assert_eq!(app.cost(path, &staff).await, (200, 0), "kept whole");

    // A colleague registers a study group with them as a member, on the first instance.
    let representative = app.token(people::SAME_SECTION, &[Role::Employee]);
    let body = json!({"fiscal_year": 2031, "name": "窓口研究会", "theme": "窓口改善", "member_nos": [people::EMPLOYEE]});
    assert_eq!(app.post_json("/api/v1/study-groups", &representative, &body).await.status(), 201);
    let with_group = ["全職員研修", "自主研究グループ研修"];
    assert_eq!(titles(&get_at(&app, &app.base, path, &staff).await), with_group, "at once where it was made");
    until_at(&app, &other.base, path, &staff, |v| titles(v) == with_group).await;

    // HR reorders the ladder on the second: their grade now ranks above the course's.
    let mut reordered = ladder.clone();
    reordered["grades"].as_array_mut().unwrap().swap(held, held + 1);
    let res = app
        .client
        .put(format!("{}/api/v1/grades", other.base))
        .bearer_auth(&hr)
        .header("If-Match", &etag)
        .json(&reordered)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let all = ["全職員研修", "自主研究グループ研修", "上位級研修"];
    assert_eq!(titles(&get_at(&app, &other.base, path, &staff).await), all, "at once where it was made");
    until_at(&app, &app.base, path, &staff, |v| titles(v) == all).await;

    // An operator cancels the first course by hand: both instances hear of it.
    let outside = Db::connect(&app.database_url, 1).await.unwrap();
    let cancelled = course::Entity::update_many()
        .col_expr(course::Column::Status, Expr::value("cancelled"))
        .filter(course::Column::Id.eq(ids[0]))
        .exec(outside.conn())
        .await
        .unwrap();
    assert_eq!(cancelled.rows_affected, 1);
    for base in [&app.base, &other.base] {
        until_at(&app, base, path, &staff, |v| titles(v) == all[1..]).await;
    }
    outside.close().await.unwrap();
    let stats = app.db.kept().stats();
    assert!(stats.members.hits > 0 && stats.ladders.hits > 0 && stats.published.hits > 0, "{stats:?}");
}

/// The number of recommendations in a year's results, in all and of staff of `grade`.
fn recommended(results: &Value, grade: &str) -> (u64, u64) {
    let of_grade = results["by_grade"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["grade"] == grade)
        .map(|g| g["recommended"].as_u64().unwrap())
        .sum();
    (results["total"]["recommended"].as_u64().unwrap(), of_grade)
}

/// A year's results are kept as rendered: warm they cost one statement (where the organisation's
/// audit chain stands), as JSON and as a table. A nomination recorded on either instance shows on the next request to
/// both, with no wait; a grade or a course title changed outside the service shows as soon as
/// each instance hears of it.
#[tokio::test]
async fn a_years_results_are_kept_until_anything_they_count_changes_on_any_instance() {
    let app = spawn().await;
    let other = app.serve_second_instance().await;
    let (course, _) = published_course(&app).await;
    until_reads_kept(&app.db).await;
    until_reads_kept(&other.state.db).await;
    let hr = app.hr();
    let results = "/api/v1/plans/2031/results";
    let grade = app.employee(people::EMPLOYEE).await["grade"].as_str().unwrap().to_string();
    for base in [&app.base, &other.base] {
        assert_eq!(recommended(&get_at(&app, base, results, &hr).await, &grade), (0, 0), "{base}");
    }
    assert_eq!(app.cost(results, &hr).await, (200, 1), "warm: the audit chain's head only");
    assert!(app.db.kept().stats().results.hits > 0);

    // Recorded on one instance, shown by both at once; then the other way round.
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    for (n, (base, no)) in
        [(&app.base, people::EMPLOYEE), (&other.base, people::SAME_SECTION)].into_iter().enumerate()
    {
        let res = app
            .client
            .post(format!("{base}{course}/recommendations"))
            .bearer_auth(&head)
            .json(&json!({"employee_no": no, "reason": "推薦"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        for base in [&app.base, &other.base] {
            let total = recommended(&get_at(&app, base, results, &hr).await, "").0;
            assert_eq!(total, n as u64 + 1, "{base} right after the recommendation through {base}");
        }
    }
    let cost = app.cost(results, &hr).await;
    assert_eq!(cost, (200, 1), "kept again after the change");
    // The tables (CSV, XLSX) are made from the year as kept.
    let by_grade = format!("{results}?format=csv&by=grade&encoding=utf8");
    assert_eq!(app.cost(&by_grade, &hr).await, (200, 1), "a table from the kept year");

    // Changed outside the service: the employee's grade, then the course's title.
    let outside = Db::connect(&app.database_url, 1).await.unwrap();
    let id = app.employee(people::EMPLOYEE).await["id"].as_str().unwrap().to_string();
    set_outside(&outside, &id, employee::Column::Grade, "部長").await;
    for base in [&app.base, &other.base] {
        until_at(&app, base, results, &hr, |r| recommended(r, "部長") == (2, 1)).await;
    }
    let table = app.get(&by_grade, &hr).await.text().await.unwrap();
    assert!(table.lines().any(|l| l.starts_with("部長,0,1,")), "one recommended 部長 now: {table}");
    rename_outside(&outside, &course, "文書事務研修（改）").await;
    for base in [&app.base, &other.base] {
        until_at(&app, base, results, &hr, |r| r["courses"][0]["course"]["title"] == "文書事務研修（改）")
            .await;
    }
    outside.close().await.unwrap();
}
