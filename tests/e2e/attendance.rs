//! During the course over HTTP: absence notices (研修講座欠席届) from the trainee through the
//! section head to the training office.

use chrono::{Duration, NaiveDate};
use kenshu_domain::auth::Role;
use kenshu_domain::calendar::{tokyo_date, FiscalYear};
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// A course of `fy` with a session on each of `days` (09:00–17:00 Japan time), published, that
/// the head of S0101 recommended `people::EMPLOYEE` for and HR selected. Returns the course, its
/// session ids and the nomination.
pub(crate) async fn selected_trainee(
    app: &TestApp,
    fy: i32,
    number: u32,
    days: &[NaiveDate],
) -> (String, Vec<String>, String) {
    selected_trainee_on(app, fy, number, days, json!({})).await
}

/// As `selected_trainee`, with the course's fields overridden by those of `extra`.
pub(crate) async fn selected_trainee_on(
    app: &TestApp,
    fy: i32,
    number: u32,
    days: &[NaiveDate],
    extra: Value,
) -> (String, Vec<String>, String) {
    let plan = app.post_json("/api/v1/plans", &app.hr(), &json!({"fiscal_year": fy})).await;
    assert!(matches!(plan.status().as_u16(), 201 | 409));
    let mut body = json!({
        "fiscal_year": fy, "category": "thematic", "number": number, "title": format!("研修{number}"),
        "rules": [{"route": "recommendation", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published"
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let course = ok(app.post_json("/api/v1/courses", &app.hr(), &body).await, 201).await;
    let id = course["id"].as_str().unwrap().to_string();
    let mut sessions = Vec::new();
    for day in days {
        let body =
            json!({"starts_at": format!("{day}T09:00:00+09:00"), "ends_at": format!("{day}T17:00:00+09:00")});
        let s =
            ok(app.post_json(&format!("/api/v1/courses/{id}/sessions"), &app.hr(), &body).await, 201).await;
        sessions.push(s["id"].as_str().unwrap().to_string());
    }
    app.publish_plan(fy).await;
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let me = app.employee(people::EMPLOYEE).await;
    let body = json!({"employee_id": me["id"], "reason": "窓口改善の担当"});
    let n =
        ok(app.post_json(&format!("/api/v1/courses/{id}/recommendations"), &head, &body).await, 201).await;
    let nid = n["id"].as_str().unwrap().to_string();
    let res = event(app, &app.hr(), &format!("/api/v1/nominations/{nid}"), json!({"event": "select"})).await;
    assert_eq!(res.status(), 200);
    (id, sessions, nid)
}

pub(crate) async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// POST `{path}/events` with the current version.
pub(crate) async fn event(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    let current = app.get_json(path, &app.hr()).await;
    app.request(Method::POST, &format!("{path}/events"), Some(token))
        .header("If-Match", format!("\"{}\"", current["version"]))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn notice_path(n: &Value) -> String {
    format!("/api/v1/absence-notices/{}", n["id"].as_str().unwrap())
}

#[tokio::test]
async fn an_absence_notice_goes_from_the_trainee_through_the_head_to_hr() {
    let app = spawn().await;
    let next = FiscalYear::containing(tokyo_date(chrono::Utc::now())).next();
    let day = next.start() + Duration::days(20);
    let (course, sessions, nid) =
        selected_trainee(&app, next.year(), 1, &[day, day + Duration::days(7)]).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let hr = app.hr();
    let file = format!("/api/v1/nominations/{nid}/absence-notices");

    // A draft for a late arrival; the arrival time must fall inside the session.
    let outside = json!({"session_id": sessions[0], "kind": "late_arrival", "reason": "通院のため", "arrives_at": format!("{day}T18:00:00+09:00")});
    let p = assert_problem(app.post_json(&file, &me, &outside).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "arrives_at");
    let body = json!({"session_id": sessions[0], "kind": "late_arrival", "reason": "通院のため", "arrives_at": format!("{day}T10:30:00+09:00")});
    let draft = ok(app.post_json(&file, &me, &body).await, 201).await;
    assert_eq!((draft["state"].as_str(), draft["late"].as_bool()), (Some("draft"), Some(false)));
    assert_eq!(draft["arrives_at"], format!("{day}T10:30:00+09:00"));
    let path = notice_path(&draft);

    // One live notice per session; none for a session the trainee is not on; nobody else files.
    assert_problem(app.post_json(&file, &me, &body).await, 409, "conflict").await;
    let (_, others, _) = selected_trainee(&app, next.year(), 2, &[day]).await;
    let p = assert_problem(
        app.post_json(&file, &me, &json!({"session_id": others[0], "kind": "absence", "reason": "私用"}))
            .await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "session_id", "{p}");
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    let second = json!({"session_id": sessions[1], "kind": "absence", "reason": "私用"});
    assert_problem(app.post_json(&file, &colleague, &second).await, 403, "forbidden").await;
    let mine = app.get_json("/api/v1/me/absence-notices", &me).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "refused notices write nothing");

    // Corrected while a draft, then submitted: before the session, so not late.
    let fix = json!({"kind": "absence", "reason": "災害対応のため"});
    let res = app.put_json(&path, &me, Some(&format!("\"{}\"", draft["version"])), &fix).await;
    let fixed = ok(res, 200).await;
    // A stale version is refused.
    let res = app.put_json(&path, &me, Some("\"1\""), &fix).await;
    assert_problem(res, 412, "precondition-failed").await;
    assert_eq!((fixed["kind"].as_str(), fixed["arrives_at"].is_null()), (Some("absence"), true));
    let submitted = ok(event(&app, &me, &path, json!({"event": "submit"})).await, 200).await;
    assert_eq!((submitted["state"].as_str(), submitted["late"].as_bool()), (Some("submitted"), Some(false)));

    // The trainee cannot confirm their own, not even as a section head; another head cannot;
    // HR cannot receive before the head confirms.
    let me_as_head = app.token(people::EMPLOYEE, &[Role::Employee, Role::SectionHead]);
    assert_problem(event(&app, &me_as_head, &path, json!({"event": "confirm"})).await, 403, "forbidden")
        .await;
    let other_head = app.token(people::DEPARTMENT_HEAD, &[Role::SectionHead]);
    assert_problem(event(&app, &other_head, &path, json!({"event": "confirm"})).await, 403, "forbidden")
        .await;
    let p =
        assert_problem(event(&app, &hr, &path, json!({"event": "receive"})).await, 409, "invalid-transition")
            .await;
    assert_eq!(p["current_state"], "submitted");
    // The head sees it waiting, confirms; HR returns it with a comment (a comment is required).
    let section = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    let waiting =
        app.get_json(&format!("/api/v1/sections/{section}/absence-notices?state=submitted"), &head).await;
    assert_eq!(waiting["items"][0]["id"], submitted["id"]);
    let confirmed = ok(event(&app, &head, &path, json!({"event": "confirm"})).await, 200).await;
    assert_eq!(confirmed["confirmed_by"], people::SECTION_HEAD);
    assert_problem(event(&app, &hr, &path, json!({"event": "return"})).await, 422, "validation").await;
    let back = json!({"event": "return", "comment": "理由を具体的に"});
    let returned = ok(event(&app, &hr, &path, back).await, 200).await;
    assert_eq!(
        (returned["state"].as_str(), returned["comment"].as_str()),
        (Some("returned"), Some("理由を具体的に"))
    );
    // Corrected and round again; once received it is final.
    let fix = json!({"kind": "absence", "reason": "台風第7号の災害対応のため"});
    ok(app.put_json(&path, &me, Some(&format!("\"{}\"", returned["version"])), &fix).await, 200).await;
    ok(event(&app, &me, &path, json!({"event": "submit"})).await, 200).await;
    ok(event(&app, &head, &path, json!({"event": "confirm"})).await, 200).await;
    let received = ok(event(&app, &hr, &path, json!({"event": "receive"})).await, 200).await;
    assert_eq!(
        (received["state"].as_str(), received["received_by"].as_str()),
        (Some("received"), Some(people::HR))
    );
    let res = app.put_json(&path, &me, Some(&format!("\"{}\"", received["version"])), &fix).await;
    assert_eq!(assert_problem(res, 409, "invalid-transition").await["current_state"], "received");
    let p = assert_problem(
        event(&app, &me, &path, json!({"event": "withdraw"})).await,
        409,
        "invalid-transition",
    )
    .await;
    assert_eq!(p["current_state"], "received");
    // In Japanese, the detail says so with the state.
    let current = app.get_json(&path, &hr).await;
    let res = app
        .request(Method::POST, &format!("{path}/events"), Some(&me))
        .header("If-Match", format!("\"{}\"", current["version"]))
        .header("Accept-Language", "ja")
        .json(&json!({"event": "withdraw"}))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 409, "invalid-transition").await;
    assert_eq!(p["detail"], "現在の状態（received）ではこの操作はできません", "{p}");
    // HR sees the session's notices; the department head reads it; another organisation does not.
    let list = app
        .get_json(&format!("/api/v1/courses/{course}/sessions/{}/absence-notices", sessions[0]), &hr)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["employee"]["employee_no"], people::EMPLOYEE);
    let dept = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);
    assert_eq!(app.get(&path, &dept).await.status(), 200);
    assert_eq!(app.get(&path, &colleague).await.status(), 403);
    let other =
        kenshu_tests::token_for(kenshu_tests::OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[Role::HrAdmin]);
    assert_eq!(app.get(&path, &other).await.status(), 404);
}

#[tokio::test]
async fn heads_file_for_their_staff_late_notices_are_flagged_and_withdrawn_ones_free_the_session() {
    let app = spawn().await;
    let day = NaiveDate::from_ymd_opt(2023, 7, 12).unwrap();
    let (_, sessions, nid) = selected_trainee(&app, 2023, 1, &[day]).await;
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let file = format!("/api/v1/nominations/{nid}/absence-notices");

    // The head files on the trainee's behalf, after the session started: accepted, flagged late.
    let body = json!({"session_id": sessions[0], "kind": "early_leave", "reason": "急な公務", "leaves_at": format!("{day}T15:00:00+09:00"), "submit": true});
    let late = ok(app.post_json(&file, &head, &body).await, 201).await;
    assert_eq!((late["state"].as_str(), late["late"].as_bool()), (Some("submitted"), Some(true)));
    assert_eq!(late["written_by"], people::SECTION_HEAD);
    // The trainee withdraws it; a new notice for the session is then accepted.
    let withdrawn = ok(event(&app, &me, &notice_path(&late), json!({"event": "withdraw"})).await, 200).await;
    assert_eq!(withdrawn["state"], "withdrawn");
    let again = json!({"session_id": sessions[0], "kind": "absence", "reason": "体調不良"});
    let draft = ok(app.post_json(&file, &me, &again).await, 201).await;
    assert_eq!(draft["state"], "draft");
    let mine = app.get_json("/api/v1/me/absence-notices", &me).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2, "the withdrawn notice stays on record");

    // A cancelled trainee holds no place: no notice.
    let n = format!("/api/v1/nominations/{nid}");
    ok(event(&app, &app.hr(), &n, json!({"event": "cancel"})).await, 200).await;
    let body = json!({"session_id": sessions[0], "kind": "absence", "reason": "私用"});
    let p = assert_problem(app.post_json(&file, &me, &body).await, 422, "validation").await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("cancelled"), "{p}");
}

/// Recommend `no` (of S0101) for a course and let HR `then` (select or waitlist).
pub(crate) async fn recommend(app: &TestApp, course: &str, no: &str, then: &str) -> String {
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let e = app.employee(no).await;
    let body = json!({"employee_id": e["id"], "reason": "推薦"});
    let n = ok(app.post_json(&format!("/api/v1/courses/{course}/recommendations"), &head, &body).await, 201)
        .await;
    let path = format!("/api/v1/nominations/{}", n["id"].as_str().unwrap());
    let body = match then {
        "decline" => json!({"event": then, "reason": "定員超過のため"}),
        _ => json!({"event": then}),
    };
    ok(event(app, &app.hr(), &path, body).await, 200).await;
    path
}

pub(crate) async fn put_sheet(
    app: &TestApp,
    course: &str,
    session: &str,
    entries: Value,
) -> reqwest::Response {
    let path = format!("/api/v1/courses/{course}/sessions/{session}/attendance");
    app.request(Method::PUT, &path, Some(&app.hr())).json(&json!({"entries": entries})).send().await.unwrap()
}

/// HR cancels a session of the course outright (`DELETE`, at its current version).
pub(crate) async fn cancel_session(app: &TestApp, course: &str, session: &str) -> reqwest::Response {
    let hr = app.hr();
    let c = app.get_json(&format!("/api/v1/courses/{course}"), &hr).await;
    let s = c["sessions"].as_array().unwrap().iter().find(|s| s["id"] == session).unwrap();
    app.request(Method::DELETE, &format!("/api/v1/courses/{course}/sessions/{session}"), Some(&hr))
        .header("If-Match", format!("\"{}\"", s["version"]))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sign_in_sheet_records_attendance_excuses_absences_and_completes_the_course() {
    let app = spawn().await;
    let (d1, d2) =
        (NaiveDate::from_ymd_opt(2023, 7, 12).unwrap(), NaiveDate::from_ymd_opt(2023, 7, 19).unwrap());
    let (course, sessions, nid) = selected_trainee(&app, 2023, 1, &[d1, d2]).await;
    let colleague = recommend(&app, &course, people::SAME_SECTION, "select").await;
    let hr = app.hr();
    let sheet_path = |s: &str| format!("/api/v1/courses/{course}/sessions/{s}/attendance");

    let sheet = app.get_json(&sheet_path(&sessions[0]), &hr).await;
    assert_eq!(sheet["counts"]["expected"], 2);
    assert_eq!(sheet["counts"]["unrecorded"], 2);
    // The colleague's absence notice is received by HR: their absence is excused.
    let colleague_id = app.get_json(&colleague, &hr).await["id"].as_str().unwrap().to_string();
    let body = json!({"session_id": sessions[0], "kind": "absence", "reason": "体調不良", "submit": true});
    let me2 = app.token(people::SAME_SECTION, &[Role::Employee]);
    let notice = ok(
        app.post_json(&format!("/api/v1/nominations/{colleague_id}/absence-notices"), &me2, &body).await,
        201,
    )
    .await;
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    ok(event(&app, &head, &notice_path(&notice), json!({"event": "confirm"})).await, 200).await;
    ok(event(&app, &hr, &notice_path(&notice), json!({"event": "receive"})).await, 200).await;

    let first = json!([
        {"employee_no": people::EMPLOYEE, "status": "present"},
        {"employee_no": people::SAME_SECTION, "status": "absent"}
    ]);
    let done = ok(put_sheet(&app, &course, &sessions[0], first.clone()).await, 200).await;
    assert_eq!(
        (done["result"]["created"].as_u64(), done["result"]["unchanged"].as_u64()),
        (Some(2), Some(0))
    );
    let counts = &done["sheet"]["counts"];
    assert_eq!(
        (counts["present"].as_u64(), counts["absent"].as_u64(), counts["excused"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    // The same sheet again changes and records nothing.
    let audited = app.audit_count().await;
    let again = ok(put_sheet(&app, &course, &sessions[0], first).await, 200).await;
    assert_eq!(again["result"]["unchanged"], 2);
    assert_eq!(app.audit_count().await, audited);
    // A session that was held is not cancelled: its sheet and the notice that excused stay.
    let res = cancel_session(&app, &course, &sessions[0]).await;
    let p = assert_problem(res, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("attendance"), "{p}");
    assert_eq!(app.audit_count().await, audited);
    assert_eq!(app.get_json(&notice_path(&notice), &hr).await["state"], "received");

    // Every fault is named and nothing is written.
    let bad = json!([
        {"employee_no": people::OTHER_DEPARTMENT, "status": "present"},
        {"employee_no": people::EMPLOYEE, "status": "late"},
        {"employee_no": people::EMPLOYEE, "status": "present"},
        {"employee_no": people::SAME_SECTION, "status": "left_early", "left_at": format!("{d2}T18:00:00+09:00")}
    ]);
    let p = assert_problem(put_sheet(&app, &course, &sessions[1], bad).await, 422, "validation").await;
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        vec![
            "entries[0].employee_no",
            "entries[1].arrived_at",
            "entries[2].employee_no",
            "entries[3].left_at"
        ]
    );
    assert_eq!(app.audit_count().await, audited);

    // The second session completes the trainee who attended both (late counts as attended).
    let second = json!([
        {"employee_no": people::EMPLOYEE, "status": "late", "arrived_at": format!("{d2}T09:40:00+09:00"), "note": "電車遅延"},
        {"employee_no": people::SAME_SECTION, "status": "present"}
    ]);
    let done = ok(put_sheet(&app, &course, &sessions[1], second).await, 200).await;
    assert_eq!(done["result"]["completed"], json!([nid]), "the colleague missed the first session");
    assert_eq!(done["sheet"]["counts"]["unexcused"], 1, "late without a notice");
    let n = app.get_json(&format!("/api/v1/nominations/{nid}"), &hr).await;
    assert_eq!(n["state"], "completed");
    let me = app.employee(people::EMPLOYEE).await;
    let history = app
        .get_json(&format!("/api/v1/employees/{}/training-history", me["id"].as_str().unwrap()), &hr)
        .await;
    assert!(history["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["nomination"]["id"] == json!(nid) && i["nomination"]["state"] == "completed"));
    assert_eq!(app.get_json(&colleague, &hr).await["state"], "selected");

    // A correction is audited and undoes the completion.
    let fix = json!([{"employee_no": people::EMPLOYEE, "status": "absent"}]);
    let done = ok(put_sheet(&app, &course, &sessions[1], fix).await, 200).await;
    assert_eq!(
        (done["result"]["corrected"].as_u64(), done["result"]["reopened"].clone()),
        (Some(1), json!([nid]))
    );
    assert_eq!(app.get_json(&format!("/api/v1/nominations/{nid}"), &hr).await["state"], "notified");
    let audit = app.get_json("/api/v1/audit?entity_type=attendance&limit=1", &hr).await;
    assert_eq!(audit["items"][0]["action"], "attendance.correct");
    assert_eq!(audit["items"][0]["before"]["status"], "late");
}

#[tokio::test]
async fn sessions_before_a_trainee_moved_up_from_the_waiting_list_do_not_count() {
    let app = spawn().await;
    // One session an hour ago and one in half an hour, in the fiscal year of the first. (Around
    // midnight at a fiscal year's end the two would fall in different years; sessions start in
    // their course's year, so the course would refuse the second.)
    let now = chrono::Utc::now();
    let jst = kenshu_domain::calendar::jst();
    let fy = FiscalYear::containing(tokyo_date(now - Duration::hours(1)));
    let hr = app.hr();
    let plan = app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": fy.year()})).await;
    assert_eq!(plan.status(), 201);
    let body = json!({
        "fiscal_year": fy.year(), "category": "thematic", "number": 1, "title": "研修",
        "rules": [{"route": "recommendation", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published", "headcount": 1
    });
    let course =
        ok(app.post_json("/api/v1/courses", &hr, &body).await, 201).await["id"].as_str().unwrap().to_string();
    let mut sessions = Vec::new();
    for (from, to) in [(-60, -30), (30, 60)] {
        let t = |m: i64| (now + Duration::minutes(m)).with_timezone(&jst).to_rfc3339();
        let body = json!({"starts_at": t(from), "ends_at": t(to)});
        let s = ok(app.post_json(&format!("/api/v1/courses/{course}/sessions"), &hr, &body).await, 201).await;
        sessions.push(s["id"].as_str().unwrap().to_string());
    }
    app.publish_plan(fy.year()).await;
    let first = recommend(&app, &course, people::EMPLOYEE, "select").await;
    let waiting = recommend(&app, &course, people::SAME_SECTION, "waitlist").await;
    // The next session starts in half an hour: within the default two days' cut-off the place
    // would wait for HR; this office moves the list up until the start.
    app.set_promotion_cutoff(0).await;
    // The first trainee cancels after the first session; the waiting one moves up.
    let res = ok(event(&app, &hr, &first, json!({"event": "cancel"})).await, 200).await;
    assert_eq!(res["promoted"]["employee"]["employee_no"], people::SAME_SECTION);
    // The waiting list decided the place, not the trainee whose cancellation freed it.
    assert_eq!(res["promoted"]["decided_by"], "kenshu:waiting-list");
    assert_eq!(res["nomination"]["decided_by"], people::HR);

    let sheet = |s: String| {
        let app = &app;
        let hr = hr.clone();
        let path = format!("/api/v1/courses/{course}/sessions/{s}/attendance");
        async move { app.get_json(&path, &hr).await }
    };
    assert_eq!(sheet(sessions[0].clone()).await["counts"]["expected"], 0, "they joined after it started");
    assert_eq!(sheet(sessions[1].clone()).await["counts"]["expected"], 1);
    let entries = json!([{"employee_no": people::SAME_SECTION, "status": "present"}]);
    let done = ok(put_sheet(&app, &course, &sessions[1], entries).await, 200).await;
    let promoted = app.get_json(&waiting, &hr).await;
    assert_eq!(done["result"]["completed"], json!([promoted["id"]]), "only the session after joining counts");
}

/// A sheet is checked against the places as they are when it is written: a trainee cancelled
/// before gets a 422 naming the entry; one cancelled after the entries were resolved (a
/// check-in read outside the write, a joint sheet resolved on another organisation's copy, or
/// PostgreSQL's concurrent writers) gets a 409 and no record.
#[tokio::test]
async fn a_place_cancelled_before_the_write_gets_no_attendance_record() {
    use kenshu_domain::attendance::{AttendanceEntry, AttendanceStatus};
    use kenshu_persistence::repo::attendance::{record, trainees_by_number, Recording, Source};
    use kenshu_persistence::repo::{catalogue, org};
    use kenshu_persistence::{Actor, RepoError};
    use uuid::Uuid;

    let app = spawn().await;
    // Two sessions: recording the first completes nobody, so only the check of the places can
    // refuse it.
    let days = [NaiveDate::from_ymd_opt(2023, 7, 12).unwrap(), NaiveDate::from_ymd_opt(2023, 7, 19).unwrap()];
    let (course, sessions, nid) = selected_trainee(&app, 2023, 1, &days).await;
    let colleague = recommend(&app, &course, people::SAME_SECTION, "select").await;
    let hr = app.hr();

    // The entries are resolved: both hold a place ...
    let conn = app.db.conn();
    let o = org::find_by_code(conn, "isehara").await.unwrap().unwrap();
    let session =
        catalogue::get_session(conn, o.id, course.parse::<Uuid>().unwrap(), sessions[0].parse().unwrap())
            .await
            .unwrap();
    let numbers = [people::EMPLOYEE.to_string(), people::SAME_SECTION.to_string()];
    let found = trainees_by_number(conn, o.id, &session, &numbers).await.unwrap();
    assert_eq!(found.len(), 2);
    let present = AttendanceEntry { status: AttendanceStatus::Present, arrived_at: None, left_at: None };
    let recordings: Vec<Recording> =
        found.into_values().map(|n| Recording { nomination: n, entry: present, note: None }).collect();

    // ... then one trainee's place is cancelled ...
    ok(event(&app, &hr, &format!("/api/v1/nominations/{nid}"), json!({"event": "cancel"})).await, 200).await;

    // ... and the write, under the course lock, refuses the whole sheet.
    let actor = Actor { org_id: o.id, subject: people::HR.into(), request_id: None };
    let txn = app.db.begin_write().await.unwrap();
    match record(&txn, &actor, &session, recordings, Source::Sheet).await {
        Err(RepoError::Conflict(m)) => assert!(m.en.contains("place on this session changed"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    txn.rollback().await.unwrap();
    let sheet_path = format!("/api/v1/courses/{course}/sessions/{}/attendance", sessions[0]);
    let sheet = app.get_json(&sheet_path, &hr).await;
    assert_eq!(sheet["counts"]["expected"], 1, "{sheet}");
    assert_eq!(sheet["counts"]["unrecorded"], 1, "nothing was written: {sheet}");

    // Over HTTP the sheet is resolved in the write itself: the cancelled trainee is named.
    let entries = json!([
        {"employee_no": people::SAME_SECTION, "status": "present"},
        {"employee_no": people::EMPLOYEE, "status": "present"}
    ]);
    let p = assert_problem(put_sheet(&app, &course, &sessions[0], entries).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "entries[1].employee_no", "{p}");
    assert_eq!(app.get_json(&sheet_path, &hr).await["counts"]["unrecorded"], 1);
    let entries = json!([{"employee_no": people::SAME_SECTION, "status": "present"}]);
    let done = ok(put_sheet(&app, &course, &sessions[0], entries.clone()).await, 200).await;
    assert_eq!(done["result"]["created"], 1, "{done}");
    let done = ok(put_sheet(&app, &course, &sessions[1], entries).await, 200).await;
    let colleague = app.get_json(&colleague, &hr).await;
    assert_eq!(done["result"]["completed"], json!([colleague["id"]]), "{done}");
}

#[tokio::test]
async fn a_sign_in_sheet_imports_as_csv_all_or_nothing_with_a_dry_run() {
    let app = spawn().await;
    let day = NaiveDate::from_ymd_opt(2023, 7, 12).unwrap();
    let (course, sessions, _) = selected_trainee(&app, 2023, 1, &[day]).await;
    recommend(&app, &course, people::SAME_SECTION, "select").await;
    let path = format!("/api/v1/courses/{course}/sessions/{}/attendance", sessions[0]);
    let import = |q: &str, token: String, csv: String| {
        let app = &app;
        let url = format!("{path}/import{q}");
        async move {
            let mut body = b"\xEF\xBB\xBF".to_vec();
            body.extend(csv.into_bytes());
            app.post_csv(&url, &token, "text/csv", body).await
        }
    };
    let before = app.audit_count().await;

    // Every bad row is named by line and column, and nothing is written.
    let bad = format!(
        "職員番号,氏名,出欠,到着時刻,備考\n{e},伊勢原,〇,,\n{e},伊勢原,出席,,\n{o},他部,〇,,\n{s},同課,遅刻,,\n{s},同課,休み,,\n",
        e = people::EMPLOYEE,
        o = people::OTHER_DEPARTMENT,
        s = people::SAME_SECTION
    );
    let p = assert_problem(import("", app.hr(), bad).await, 422, "import-rejected").await;
    let got = kenshu_tests::row_errors(&p);
    assert_eq!(got, vec![(3, "職員番号"), (4, "職員番号"), (5, "到着時刻"), (6, "出欠")], "{p}");
    assert_eq!(app.audit_count().await, before);

    // A dry run says what would be recorded; nothing is.
    let good = format!(
        "職員番号,氏名,出欠,到着時刻,退出時刻,備考\n{},伊勢原 太郎,〇,,,\n{},伊勢原 花子,遅刻,9:40,,電車遅延\n",
        people::EMPLOYEE,
        people::SAME_SECTION
    );
    let dry = ok(import("?dry_run=true", app.hr(), good.clone()).await, 200).await;
    assert_eq!((dry["dry_run"].as_bool(), dry["result"]["created"].as_u64()), (Some(true), Some(2)));
    assert_eq!(dry["sheet"]["counts"]["late"], 1);
    assert_eq!(app.get_json(&path, &app.hr()).await["counts"]["unrecorded"], 2);
    assert_eq!(app.audit_count().await, before);

    // Imported by the personnel system's script; the same file again changes nothing.
    assert_problem(
        import("", app.token(people::EMPLOYEE, &[Role::Employee]), good.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let importer = app.token("personnel-system", &[Role::Importer]);
    let done = ok(import("", importer.clone(), good.clone()).await, 200).await;
    assert_eq!((done["dry_run"].as_bool(), done["result"]["created"].as_u64()), (Some(false), Some(2)));
    let late =
        done["sheet"]["lines"].as_array().unwrap().iter().find(|l| l["status"] == "late").unwrap().clone();
    assert_eq!(
        (late["arrived_at"].as_str(), late["source"].as_str()),
        (Some("2023-07-12T09:40:00+09:00"), Some("import"))
    );
    assert_eq!(late["note"], "電車遅延");
    let again = ok(import("", importer, good).await, 200).await;
    assert_eq!(again["result"]["unchanged"], 2);
    let p =
        assert_problem(import("", app.hr(), "氏名,出欠\n太郎,〇\n".into()).await, 422, "import-file").await;
    assert!(p["detail"].as_str().unwrap().contains("職員番号"), "{p}");
}

/// A session of `course` from `start` to `end` minutes from now.
async fn session_from_now(app: &TestApp, course: &str, start: i64, end: i64) -> String {
    let now = chrono::Utc::now();
    let body = json!({"starts_at": now + Duration::minutes(start), "ends_at": now + Duration::minutes(end)});
    let s =
        ok(app.post_json(&format!("/api/v1/courses/{course}/sessions"), &app.hr(), &body).await, 201).await;
    s["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn trainees_check_in_with_the_current_code_during_the_session_and_late_after_the_start() {
    let app = spawn().await;
    let fy = FiscalYear::containing(tokyo_date(chrono::Utc::now())).year();
    let (course, _, _) = selected_trainee(&app, fy, 1, &[]).await;
    let running = session_from_now(&app, &course, -10, 120).await;
    let later = session_from_now(&app, &course, 120, 240).await;
    let (other_course, _, _) = selected_trainee(&app, fy, 2, &[]).await;
    let elsewhere = session_from_now(&app, &other_course, -5, 60).await;
    let hr = app.hr();
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let check_in = |s: &str| format!("/api/v1/courses/{course}/sessions/{s}/check-in");
    let post = |token: String, session: String, code: String| {
        let app = &app;
        async move {
            app.post_json("/api/v1/me/check-ins", &token, &json!({"session_id": session, "code": code})).await
        }
    };

    // Not open yet: no code, and checking in is refused.
    let status = app.get_json(&check_in(&running), &hr).await;
    assert_eq!((status["open"].as_bool(), status["code"].is_null()), (Some(false), true), "{status}");
    assert_problem(post(me.clone(), running.clone(), "123456".into()).await, 409, "conflict").await;
    // HR opens it for the running session; not two hours ahead of a session.
    let opened = ok(app.post_json(&check_in(&running), &hr, &json!({})).await, 200).await;
    let code = opened["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert_problem(app.post_json(&check_in(&later), &hr, &json!({})).await, 409, "conflict").await;
    assert_problem(app.post_json(&check_in(&running), &me, &json!({})).await, 403, "forbidden").await;
    // The QR image of the code.
    let res = app.get(opened["qr_url"].as_str().unwrap(), &hr).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(res.text().await.unwrap().contains("<svg"));

    // A wrong code, another session's code, someone not on the session: refused, nothing written.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let p = assert_problem(post(me.clone(), running.clone(), wrong.into()).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "code");
    let other = ok(
        app.post_json(
            &format!("/api/v1/courses/{other_course}/sessions/{elsewhere}/check-in"),
            &hr,
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let other_code = other["code"].as_str().unwrap().to_string();
    if other_code != code {
        assert_problem(post(me.clone(), running.clone(), other_code).await, 422, "validation").await;
    }
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    let p = assert_problem(post(colleague, running.clone(), code.clone()).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "session_id");
    let script = app.token("personnel-system", &[Role::Importer]);
    assert_problem(post(script, running.clone(), code.clone()).await, 403, "forbidden").await;
    let sheet = format!("/api/v1/courses/{course}/sessions/{running}/attendance");
    assert_eq!(app.get_json(&sheet, &hr).await["counts"]["unrecorded"], 1);

    // The trainee checks in with the current code: after the start, so late. Again: the first stands.
    let code = app.get_json(&check_in(&running), &hr).await["code"].as_str().unwrap().to_string();
    let done = ok(post(me.clone(), running.clone(), code.clone()).await, 201).await;
    assert_eq!(done["status"], "late");
    let again = ok(post(me.clone(), running.clone(), code).await, 200).await;
    assert_eq!(again["arrived_at"], done["arrived_at"]);
    let line = app.get_json(&sheet, &hr).await["lines"][0].clone();
    assert_eq!((line["status"].as_str(), line["source"].as_str()), (Some("late"), Some("check_in")));

    // Closed: codes stop; reopening makes new ones.
    let closed =
        ok(app.request(Method::DELETE, &check_in(&running), Some(&hr)).send().await.unwrap(), 200).await;
    assert_eq!((closed["open"].as_bool(), closed["code"].is_null()), (Some(false), true));
    assert_problem(app.get(opened["qr_url"].as_str().unwrap(), &hr).await, 409, "conflict").await;
}

#[tokio::test]
async fn a_course_completes_on_its_own_share_of_sessions() {
    let app = spawn().await;
    let days = [NaiveDate::from_ymd_opt(2023, 7, 12).unwrap(), NaiveDate::from_ymd_opt(2023, 7, 19).unwrap()];
    let bad = json!({"fiscal_year": 2023, "category": "thematic", "number": 9, "title": "x", "delivery": "classroom",
        "completion": {"kind": "min_share", "percent": 0}});
    let p = assert_problem(app.post_json("/api/v1/courses", &app.hr(), &bad).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "completion");
    let rule = json!({"completion": {"kind": "min_share", "percent": 50}});
    let (course, sessions, nid) = selected_trainee_on(&app, 2023, 1, &days, rule).await;
    recommend(&app, &course, people::SAME_SECTION, "select").await;
    let first = json!([{"employee_no": people::EMPLOYEE, "status": "present"}, {"employee_no": people::SAME_SECTION, "status": "absent"}]);
    let done = ok(put_sheet(&app, &course, &sessions[0], first).await, 200).await;
    assert_eq!(done["result"]["completed"], json!([]), "decided once every session is recorded");
    let second = json!([{"employee_no": people::EMPLOYEE, "status": "absent"}, {"employee_no": people::SAME_SECTION, "status": "absent"}]);
    let done = ok(put_sheet(&app, &course, &sessions[1], second).await, 200).await;
    assert_eq!(done["result"]["completed"], json!([nid]), "one of two sessions is half");
    let course_json = app.get_json(&format!("/api/v1/courses/{course}"), &app.hr()).await;
    assert_eq!(course_json["completion"], json!({"kind": "min_share", "percent": 50}));
    // The catalogue file carries the rule.
    let res = app.get("/api/v1/plans/2023/export", &app.hr()).await;
    let text = res.text().await.unwrap();
    assert!(text.contains("修了要件") && text.contains("50%以上出席"), "{text}");
}

#[tokio::test]
async fn a_trainee_gets_a_few_wrong_check_in_codes_then_waits_even_with_the_right_one() {
    let app = spawn().await;
    let fy = FiscalYear::containing(tokyo_date(chrono::Utc::now())).year();
    let (course, _, _) = selected_trainee(&app, fy, 1, &[]).await;
    let running = session_from_now(&app, &course, -10, 120).await;
    let opened = ok(
        app.post_json(
            &format!("/api/v1/courses/{course}/sessions/{running}/check-in"),
            &app.hr(),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let code = opened["code"].as_str().unwrap().to_string();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let try_code = |c: String| {
        let (app, me, running) = (&app, me.clone(), running.clone());
        async move { app.post_json("/api/v1/me/check-ins", &me, &json!({"session_id": running, "code": c})).await }
    };
    // Five wrong codes a minute (the default) are answered as wrong; the sixth spends the tries.
    for _ in 0..6 {
        assert_problem(try_code(wrong.into()).await, 422, "validation").await;
    }
    // Now even the right code waits: guessing six digits stays out of reach.
    let res = try_code(code.clone()).await;
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let p = assert_problem(res, 429, "too-many-requests").await;
    assert!(p["detail"].as_str().unwrap().contains("check-in codes"), "{p}");
    let sheet = format!("/api/v1/courses/{course}/sessions/{running}/attendance");
    assert_eq!(app.get_json(&sheet, &app.hr()).await["counts"]["unrecorded"], 1, "nothing recorded");
}

/// Writes that read through the pool while their transaction holds a connection (filing a notice
/// does) must not take every connection: with a pool of 2 and a dozen notices filed at once, on
/// PostgreSQL each transaction waited for a second connection that another held, and the
/// requests failed with 503 after the pool's timeout. Every one must be filed.
#[tokio::test]
async fn many_notices_at_once_all_get_filed_on_a_small_pool() {
    let app = kenshu_tests::spawn_configured(&[("KENSHU_DB_MAX_CONNECTIONS", "2".to_string())]).await;
    let next = FiscalYear::containing(tokyo_date(chrono::Utc::now())).next();
    let days: Vec<NaiveDate> = (0..12).map(|i| next.start() + Duration::days(20 + i)).collect();
    let (_, sessions, nid) = selected_trainee(&app, next.year(), 1, &days).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let file = format!("/api/v1/nominations/{nid}/absence-notices");
    let bodies: Vec<Value> =
        sessions.iter().map(|s| json!({"session_id": s, "kind": "absence", "reason": "私用"})).collect();
    let filed = futures_util::future::join_all(bodies.iter().map(|b| app.post_json(&file, &me, b))).await;
    let statuses: Vec<u16> = filed.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses, vec![201; 12]);
    let mine = app.get_json("/api/v1/me/absence-notices", &me).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(12), "{mine}");
}
