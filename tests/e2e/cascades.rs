//! Every change is carried through, in the transaction of the change, with a notice for everyone
//! concerned: a cancelled course cancels its nominations, more places (headcount, a session's
//! capacity) move the waiting list up in order, up to a cut-off before the session, a moved or
//! cancelled session is told to its trainees.

use chrono::{Duration, Utc};
use kenshu_domain::auth::Role;
use kenshu_domain::calendar::{jst, tokyo_date, FiscalYear};
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::attendance::{event, ok, recommend};

/// A published course of the current fiscal year open to recommendation, with `headcount` and a
/// session of `capacity` starting `days` from now; returns the course and session ids.
async fn course(
    app: &TestApp,
    number: u32,
    headcount: Option<u32>,
    days: i64,
    capacity: Option<u32>,
) -> (String, String) {
    let hr = app.hr();
    let fy = FiscalYear::containing(tokyo_date(Utc::now()));
    let plan = app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": fy.year()})).await;
    assert!(matches!(plan.status().as_u16(), 201 | 409));
    let body = json!({
        "fiscal_year": fy.year(), "category": "thematic", "number": number, "title": format!("研修{number}"),
        "rules": [{"route": "recommendation", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published", "headcount": headcount
    });
    let id =
        ok(app.post_json("/api/v1/courses", &hr, &body).await, 201).await["id"].as_str().unwrap().to_string();
    let start = (Utc::now() + Duration::days(days)).with_timezone(&jst());
    let body = json!({"starts_at": start.to_rfc3339(), "ends_at": (start + Duration::hours(3)).to_rfc3339(),
        "venue": "本庁舎 3階 会議室", "capacity": capacity});
    let s = ok(app.post_json(&format!("/api/v1/courses/{id}/sessions"), &hr, &body).await, 201).await;
    app.publish_plan(fy.year()).await;
    (id, s["id"].as_str().unwrap().to_string())
}

/// Recommend `no` for a session of the course (pinned) by the head of S0101.
async fn recommend_on(app: &TestApp, course: &str, session: &str, no: &str) -> String {
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let body = json!({"employee_no": no, "session_id": session, "reason": "推薦"});
    let n = ok(app.post_json(&format!("/api/v1/courses/{course}/recommendations"), &head, &body).await, 201)
        .await;
    format!("/api/v1/nominations/{}", n["id"].as_str().unwrap())
}

/// PUT the course with `change` applied to its current state.
async fn change_course(app: &TestApp, id: &str, change: Value) -> reqwest::Response {
    let hr = app.hr();
    let path = format!("/api/v1/courses/{id}");
    let current = app.get_json(&path, &hr).await;
    let mut body = current.clone();
    for k in
        ["id", "routes", "timing_label", "joint_share_id", "sessions", "version", "created_at", "updated_at"]
    {
        body.as_object_mut().unwrap().remove(k);
    }
    for (k, v) in change.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.put_json(&path, &hr, Some(&format!("\"{}\"", current["version"])), &body).await
}

async fn change_session(app: &TestApp, course: &str, session: &str, change: Value) -> reqwest::Response {
    let hr = app.hr();
    let c = app.get_json(&format!("/api/v1/courses/{course}"), &hr).await;
    let s = c["sessions"].as_array().unwrap().iter().find(|s| s["id"] == session).unwrap().clone();
    let mut body = json!({"starts_at": s["starts_at"], "ends_at": s["ends_at"], "venue": s["venue"], "capacity": s["capacity"]});
    for (k, v) in change.as_object().unwrap() {
        body[k] = v.clone();
    }
    let path = format!("/api/v1/courses/{course}/sessions/{session}");
    app.put_json(&path, &hr, Some(&format!("\"{}\"", s["version"])), &body).await
}

/// The kinds of the notices `no` has received, newest first.
pub(crate) async fn notices(app: &TestApp, no: &str) -> Vec<String> {
    let token = app.token(no, &[Role::Employee]);
    let list = app.get_json("/api/v1/me/notices?limit=200", &token).await;
    list["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_cancelled_course_cancels_its_nominations_and_tells_trainees_and_heads() {
    let app = spawn().await;
    let hr = app.hr();
    let (id, _) = course(&app, 51, Some(1), 10, None).await;
    let placed = recommend(&app, &id, people::EMPLOYEE, "select").await;
    let waiting = recommend(&app, &id, people::SAME_SECTION, "waitlist").await;
    let before_head = notices(&app, people::SECTION_HEAD).await.len();
    ok(change_course(&app, &id, json!({"status": "cancelled"})).await, 200).await;
    for path in [&placed, &waiting] {
        let n = app.get_json(path, &hr).await;
        assert_eq!(
            (n["state"].as_str(), n["decision_reason"].as_str()),
            (Some("cancelled"), Some("研修中止")),
            "{n}"
        );
    }
    assert_eq!(notices(&app, people::EMPLOYEE).await, vec!["course_cancelled"]);
    assert_eq!(notices(&app, people::SAME_SECTION).await, vec!["course_cancelled", "waitlisted"]);
    let head = notices(&app, people::SECTION_HEAD).await;
    assert_eq!(head.len(), before_head + 2, "the head is told of each of their staff: {head:?}");
    let trainee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let mine = app.get_json("/api/v1/me/notices", &trainee).await;
    let n = &mine["items"][0];
    assert_eq!(n["subject"], "【研修中止】研修51");
    assert_eq!(n["body"]["kind"], "course_cancelled");
    assert!(n["body"]["message"].as_str().unwrap().contains("中止"));
    // Saving it again (still cancelled) changes nothing more.
    ok(change_course(&app, &id, json!({"status": "cancelled", "notes": "講師都合"})).await, 200).await;
    assert_eq!(notices(&app, people::EMPLOYEE).await.len(), 1);
}

#[tokio::test]
async fn more_places_move_the_waiting_list_up_in_order_and_tell_them() {
    let app = spawn().await;
    let hr = app.hr();
    let (id, session) = course(&app, 52, Some(1), 10, Some(1)).await;
    let first = recommend_on(&app, &id, &session, people::EMPLOYEE).await;
    let second = recommend_on(&app, &id, &session, people::SAME_SECTION).await;
    let third = recommend_on(&app, &id, &session, "10011").await;
    ok(event(&app, &hr, &first, json!({"event": "select"})).await, 200).await;
    for p in [&second, &third] {
        ok(event(&app, &hr, p, json!({"event": "waitlist"})).await, 200).await;
    }
    // The course's headcount goes up, but the session is still full: nobody moves.
    ok(change_course(&app, &id, json!({"headcount": 3})).await, 200).await;
    assert_eq!(app.get_json(&second, &hr).await["state"], "waitlisted");
    // The session's capacity goes up by one: the first waiting moves up, the next waits on.
    ok(change_session(&app, &id, &session, json!({"capacity": 2})).await, 200).await;
    let moved = app.get_json(&second, &hr).await;
    assert_eq!(
        (moved["state"].as_str(), moved["decided_by"].as_str()),
        (Some("selected"), Some("kenshu:waiting-list"))
    );
    assert_eq!(app.get_json(&third, &hr).await["state"], "waitlisted");
    assert_eq!(notices(&app, people::SAME_SECTION).await, vec!["place_given", "waitlisted"]);
    assert_eq!(notices(&app, "10011").await, vec!["waitlisted"], "still waiting: told nothing new");
    // No limit any more on the course and a bigger session: the last one too.
    ok(change_session(&app, &id, &session, json!({"capacity": 5})).await, 200).await;
    assert_eq!(app.get_json(&third, &hr).await["state"], "selected");
}

#[tokio::test]
async fn the_waiting_list_stops_moving_up_near_the_session_and_hr_selects_by_hand() {
    let app = spawn().await;
    let hr = app.hr();
    // The session is tomorrow: within the default two days.
    let (id, session) = course(&app, 53, Some(1), 1, None).await;
    let first = recommend_on(&app, &id, &session, people::EMPLOYEE).await;
    let second = recommend_on(&app, &id, &session, people::SAME_SECTION).await;
    ok(event(&app, &hr, &first, json!({"event": "select"})).await, 200).await;
    ok(event(&app, &hr, &second, json!({"event": "waitlist"})).await, 200).await;
    let res = ok(event(&app, &hr, &first, json!({"event": "cancel"})).await, 200).await;
    assert!(res["promoted"].is_null(), "{res}");
    assert_eq!(app.get_json(&second, &hr).await["state"], "waitlisted");
    let picked = ok(event(&app, &hr, &second, json!({"event": "select"})).await, 200).await;
    assert_eq!(picked["nomination"]["decided_by"], people::HR);
    // With the cut-off at 0 days, it would have moved up by itself.
    let (id, session) = course(&app, 54, Some(1), 1, None).await;
    app.set_promotion_cutoff(0).await;
    let first = recommend_on(&app, &id, &session, people::EMPLOYEE).await;
    let second = recommend_on(&app, &id, &session, people::SAME_SECTION).await;
    ok(event(&app, &hr, &first, json!({"event": "select"})).await, 200).await;
    ok(event(&app, &hr, &second, json!({"event": "waitlist"})).await, 200).await;
    let res = ok(event(&app, &hr, &first, json!({"event": "cancel"})).await, 200).await;
    assert_eq!(res["promoted"]["decided_by"], "kenshu:waiting-list");
    let etag =
        app.get("/api/v1/organisation/workflow", &hr).await.headers()["etag"].to_str().unwrap().to_string();
    let res = app
        .put_json("/api/v1/organisation/workflow", &hr, Some(&etag), &json!({"promotion_cutoff_days": 31}))
        .await;
    let p = assert_problem(res, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "promotion_cutoff_days");
}

#[tokio::test]
async fn a_moved_or_cancelled_session_is_told_to_its_trainees() {
    let app = spawn().await;
    let hr = app.hr();
    let (id, session) = course(&app, 55, None, 10, None).await;
    let placed = recommend(&app, &id, people::EMPLOYEE, "select").await;
    recommend(&app, &id, people::SAME_SECTION, "waitlist").await;
    // A new lecturer note changes nothing a trainee acts on; a new room does.
    ok(change_session(&app, &id, &session, json!({"notes": "講師変更"})).await, 200).await;
    assert!(notices(&app, people::EMPLOYEE).await.is_empty());
    ok(change_session(&app, &id, &session, json!({"venue": "分庁舎 1階"})).await, 200).await;
    assert_eq!(notices(&app, people::EMPLOYEE).await, vec!["session_changed"]);
    assert_eq!(notices(&app, people::SAME_SECTION).await, vec!["waitlisted"], "not on the session: not told");
    let trainee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let n = app.get_json("/api/v1/me/notices", &trainee).await["items"][0].clone();
    assert_eq!(n["body"]["previous"]["venue"], "本庁舎 3階 会議室");
    assert_eq!(n["body"]["sessions"][0]["venue"], "分庁舎 1階");
    // A second session is cancelled: the course's trainees are told.
    let start = (Utc::now() + Duration::days(20)).with_timezone(&jst());
    let body = json!({"starts_at": start.to_rfc3339(), "ends_at": (start + Duration::hours(2)).to_rfc3339()});
    let extra = ok(app.post_json(&format!("/api/v1/courses/{id}/sessions"), &hr, &body).await, 201).await;
    let spath = format!("/api/v1/courses/{id}/sessions/{}", extra["id"].as_str().unwrap());
    let res =
        app.request(Method::DELETE, &spath, Some(&hr)).header("If-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(notices(&app, people::EMPLOYEE).await, vec!["session_cancelled", "session_changed"]);
    assert_eq!(app.get_json(&placed, &hr).await["state"], "selected");
    // A session trainees are placed on is not cancelled until HR moves them.
    let pinned = recommend_on(&app, &id, &session, "10011").await;
    ok(event(&app, &hr, &pinned, json!({"event": "select"})).await, 200).await;
    let res = crate::attendance::cancel_session(&app, &id, &session).await;
    let p = assert_problem(res, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("move them"), "{p}");
}

#[tokio::test]
async fn a_session_moved_to_another_time_lets_its_absence_notices_lapse_and_another_room_does_not() {
    let app = spawn().await;
    let hr = app.hr();
    let (id, session) = course(&app, 61, None, 10, None).await;
    let placed = recommend(&app, &id, people::EMPLOYEE, "select").await;
    let trainee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let notice = filed(&app, &trainee, &placed, &session).await;
    ok(change_session(&app, &id, &session, json!({"venue": "分庁舎 1階"})).await, 200).await;
    assert_eq!(app.get_json(&notice, &hr).await["state"], "submitted", "another room: still absent");
    // An hour later: what was written for the old time lapses; the trainee files again.
    let c = app.get_json(&format!("/api/v1/courses/{id}"), &hr).await;
    let later = |t: &Value| {
        (chrono::DateTime::parse_from_rfc3339(t.as_str().unwrap()).unwrap() + Duration::hours(1)).to_rfc3339()
    };
    let s = &c["sessions"][0];
    let retimed = json!({"starts_at": later(&s["starts_at"]), "ends_at": later(&s["ends_at"])});
    ok(change_session(&app, &id, &session, retimed).await, 200).await;
    let lapsed = app.get_json(&notice, &hr).await;
    assert_eq!(
        (lapsed["state"].as_str(), lapsed["comment"].as_str()),
        (Some("withdrawn"), Some("研修日時の変更により取下げ"))
    );
    ok(crate::routing::file_notice(&app, &trainee, &placed, &session).await, 201).await;
}

/// An absence notice filed and submitted for the nomination at `session`; its path.
async fn filed(app: &TestApp, token: &str, nomination: &str, session: &str) -> String {
    let n = ok(crate::routing::file_notice(app, token, nomination, session).await, 201).await;
    crate::routing::path_of("absence-notices", &n)
}

/// A day of a two-day course is cancelled (a typhoon): the notices filed for it go with it,
/// whatever their state, each kept in the audit log; the other day's stay.
#[tokio::test]
async fn a_cancelled_day_takes_its_absence_notices_with_it() {
    let app = spawn().await;
    let hr = app.hr();
    let next = FiscalYear::containing(tokyo_date(Utc::now())).next();
    let day = next.start() + Duration::days(20);
    let (course, sessions, nid) =
        crate::attendance::selected_trainee(&app, next.year(), 62, &[day, day + Duration::days(7)]).await;
    let placed = format!("/api/v1/nominations/{nid}");
    let colleague = recommend(&app, &course, people::SAME_SECTION, "select").await;
    let trainee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let waiting = filed(&app, &trainee, &placed, &sessions[1]).await;
    let kept = filed(&app, &trainee, &placed, &sessions[0]).await;
    let other = app.token(people::SAME_SECTION, &[Role::Employee]);
    let received = filed(&app, &other, &colleague, &sessions[1]).await;
    ok(event(&app, &head, &received, json!({"event": "confirm"})).await, 200).await;
    ok(event(&app, &hr, &received, json!({"event": "receive"})).await, 200).await;

    let res = crate::attendance::cancel_session(&app, &course, &sessions[1]).await;
    assert_eq!(res.status(), 204);
    for gone in [&waiting, &received] {
        assert_eq!(app.get(gone, &hr).await.status(), 404, "{gone}");
    }
    assert_eq!(app.get_json(&kept, &hr).await["state"], "submitted", "the other day's stays");
    let section = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    let list =
        app.get_json(&format!("/api/v1/sections/{section}/absence-notices?state=submitted"), &head).await;
    let ids: Vec<&Value> = list["items"].as_array().unwrap().iter().map(|n| &n["id"]).collect();
    assert_eq!(ids, vec![&app.get_json(&kept, &hr).await["id"]], "the head no longer waits on it");
    let audit = app.get_json("/api/v1/audit?entity_type=absence_notice&limit=50", &hr).await;
    let mut deleted: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "absence_notice.delete")
        .map(|a| a["before"]["state"].as_str().unwrap())
        .collect();
    deleted.sort_unstable();
    assert_eq!(deleted, vec!["received", "submitted"]);
    for no in [people::EMPLOYEE, people::SAME_SECTION] {
        assert_eq!(notices(&app, no).await.first().map(String::as_str), Some("session_cancelled"), "{no}");
    }
}

#[tokio::test]
async fn designated_trainees_spread_over_dates_within_their_capacities_and_the_rest_wait() {
    let app = spawn().await;
    let hr = app.hr();
    let fy = FiscalYear::containing(tokyo_date(Utc::now()));
    let plan = app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": fy.year()})).await;
    assert!(matches!(plan.status().as_u16(), 201 | 409));
    // Every member of staff is designated; the two dates hold five.
    let body = json!({
        "fiscal_year": fy.year(), "category": "thematic", "number": 56, "title": "文書事務研修",
        "rules": [{"route": "designation", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published"
    });
    let id =
        ok(app.post_json("/api/v1/courses", &hr, &body).await, 201).await["id"].as_str().unwrap().to_string();
    let mut dates = Vec::new();
    for (days, capacity) in [(10, 3), (17, 2)] {
        let start = (Utc::now() + Duration::days(days)).with_timezone(&jst());
        let body = json!({"starts_at": start.to_rfc3339(), "ends_at": (start + Duration::hours(3)).to_rfc3339(), "capacity": capacity});
        let s = ok(app.post_json(&format!("/api/v1/courses/{id}/sessions"), &hr, &body).await, 201).await;
        dates.push(s["id"].as_str().unwrap().to_string());
    }
    app.publish_plan(fy.year()).await;
    let res = app
        .request(Method::POST, &format!("/api/v1/courses/{id}/designation"), Some(&hr))
        .send()
        .await
        .unwrap();
    let done: Value = ok(res, 200).await;
    assert_eq!(done["selected"], 5, "{done}");
    let sheet = |s: &str| format!("/api/v1/courses/{id}/sessions/{s}/attendance");
    assert_eq!(app.get_json(&sheet(&dates[0]), &hr).await["counts"]["expected"], 3);
    assert_eq!(app.get_json(&sheet(&dates[1]), &hr).await["counts"]["expected"], 2);
    let list = app.get_json(&format!("/api/v1/courses/{id}/nominations?state=waitlisted&limit=1"), &hr).await;
    let waiting_total = list["counts"]["by_state"]["waitlisted"].as_u64().unwrap();
    assert!(waiting_total > 100, "{list}");
    let first_waiting = format!("/api/v1/nominations/{}", list["items"][0]["id"].as_str().unwrap());
    // One placed on the first date drops out: the first waiting takes that place, on that date.
    let placed =
        app.get_json(&format!("/api/v1/courses/{id}/nominations?state=selected&limit=200"), &hr).await;
    let on_first =
        placed["items"].as_array().unwrap().iter().find(|n| n["session_id"] == dates[0].as_str()).unwrap();
    let res = ok(
        event(
            &app,
            &hr,
            &format!("/api/v1/nominations/{}", on_first["id"].as_str().unwrap()),
            json!({"event": "cancel"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(res["promoted"]["id"], app.get_json(&first_waiting, &hr).await["id"]);
    assert_eq!(res["promoted"]["session_id"], dates[0].as_str());
    assert_eq!(app.get_json(&sheet(&dates[0]), &hr).await["counts"]["expected"], 3);
}

/// A section of the demo organisation by its code, as HR lists it.
async fn section(app: &TestApp, code: &str) -> Value {
    let list = app.get_json("/api/v1/sections?limit=200", &app.hr()).await;
    list["items"].as_array().unwrap().iter().find(|s| s["code"] == code).unwrap().clone()
}

/// A leaver's place `placed` was cancelled for leaving, and `waiting` (10011's) moved up into it
/// and was told.
async fn gave_back_to_the_waiting(app: &TestApp, placed: &str, waiting: &str) {
    let hr = app.hr();
    let gone = app.get_json(placed, &hr).await;
    assert_eq!((gone["state"].as_str(), gone["decision_reason"].as_str()), (Some("cancelled"), Some("退職")));
    let moved = app.get_json(waiting, &hr).await;
    assert_eq!(
        (moved["state"].as_str(), moved["decided_by"].as_str()),
        (Some("selected"), Some("kenshu:waiting-list"))
    );
    assert!(notices(app, "10011").await.contains(&"place_given".to_string()));
}

pub(crate) async fn import_roster(app: &TestApp, query: &str, csv: String) -> Value {
    let res =
        app.post_csv(&format!("/api/v1/employees/import?{query}"), &app.hr(), "text/csv", csv.into()).await;
    ok(res, 200).await
}

#[tokio::test]
async fn a_leaver_gives_places_back_and_a_transfer_takes_what_waits_to_the_new_head() {
    let app = spawn().await;
    let hr = app.hr();
    let (id, _) = course(&app, 57, Some(1), 10, None).await;
    let placed = recommend(&app, &id, people::EMPLOYEE, "select").await;
    let waiting = recommend(&app, &id, "10011", "waitlist").await;
    // 情報政策課 (S0102) staff applies to an open course: waiting for S0102's head.
    let fy = FiscalYear::containing(tokyo_date(Utc::now()));
    let body = json!({
        "fiscal_year": fy.year(), "category": "thematic", "number": 58, "title": "公募研修58",
        "rules": [{"route": "application", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "e_learning", "status": "published"
    });
    let open =
        ok(app.post_json("/api/v1/courses", &hr, &body).await, 201).await["id"].as_str().unwrap().to_string();
    app.publish_plan(fy.year()).await;
    let mover = app.token(people::SAME_DEPARTMENT, &[Role::Employee]);
    let n = ok(app.post_json(&format!("/api/v1/courses/{open}/applications"), &mover, &json!({})).await, 201)
        .await;
    let application = format!("/api/v1/nominations/{}", n["id"].as_str().unwrap());

    // April: the trainee retires (left out of the full roster), the applicant moves to S0101.
    let csv = crate::import::roster_csv(&app, |e, code| match e["employee_no"].as_str().unwrap() {
        people::EMPLOYEE => None,
        people::SAME_DEPARTMENT => Some("S0101".into()),
        _ => Some(code),
    })
    .await;
    let dry = import_roster(&app, "mode=full&dry_run=true", csv.clone()).await;
    assert_eq!(
        (
            dry["deactivated"].as_u64(),
            dry["transferred"].as_u64(),
            dry["released_places"].as_u64(),
            dry["promoted"].as_u64(),
            dry["awaiting_new_head"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(1), Some(1)),
        "{dry}"
    );
    assert_eq!(app.get_json(&placed, &hr).await["state"], "selected", "a dry run changes nothing");
    let report = import_roster(&app, "mode=full", csv).await;
    assert_eq!(report["released_places"], 1, "{report}");
    gave_back_to_the_waiting(&app, &placed, &waiting).await;
    // What waited for the old head now waits for the new one.
    let old_head = app.token("10017", &[Role::SectionHead]);
    let new_head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let s0102 = section(&app, "S0102").await;
    let old_head_no = app
        .get_json(&format!("/api/v1/employees/{}", s0102["head_employee_id"].as_str().unwrap()), &hr)
        .await["employee_no"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(old_head_no, "10017", "the fixture's S0102 head");
    assert_problem(event(&app, &old_head, &application, json!({"event": "confirm"})).await, 403, "forbidden")
        .await;
    ok(event(&app, &new_head, &application, json!({"event": "confirm"})).await, 200).await;
}

#[tokio::test]
async fn an_employee_marked_as_left_by_hand_gives_places_back_and_leaves_the_units_they_led() {
    let app = spawn().await;
    let hr = app.hr();
    let (id, _) = course(&app, 59, Some(1), 10, None).await;
    let placed = recommend(&app, &id, people::EMPLOYEE, "select").await;
    let waiting = recommend(&app, &id, "10011", "waitlist").await;
    // A correction of the trainee's own record that moves nothing carries nothing through.
    app.edit_employee(people::EMPLOYEE, |e| e["name"] = json!("山口 裕子（旧姓 佐藤）")).await;
    assert_eq!(app.get_json(&placed, &hr).await["state"], "selected");
    // HR marks them as having left, one record rather than a roster file.
    app.edit_employee(people::EMPLOYEE, |e| e["active"] = json!(false)).await;
    gave_back_to_the_waiting(&app, &placed, &waiting).await;

    // The head of 企画政策課 (S0101) leaves with a colleague's application waiting for them: the
    // section is left without its head, and the head of 企画部 confirms instead.
    let open = crate::routing::open_course(&app, 60, &[]).await.0;
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    let application = crate::routing::apply(&app, &colleague, &open).await;
    app.edit_employee(people::SECTION_HEAD, |e| e["active"] = json!(false)).await;
    let s0101 = section(&app, "S0101").await;
    assert_eq!(s0101["head_employee_id"], Value::Null, "{s0101}");
    let audit = app
        .get_json(
            &format!("/api/v1/audit?entity_type=section&entity_id={}", s0101["id"].as_str().unwrap()),
            &hr,
        )
        .await;
    assert_eq!(audit["items"][0]["action"], "section.head_left");
    let department_head = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);
    ok(event(&app, &department_head, &application, json!({"event": "confirm"})).await, 200).await;

    // The organisation's named approver leaves: the training office decides again.
    let top = "/api/v1/organisation/workflow";
    let etag = app.get(top, &hr).await.headers()["etag"].to_str().unwrap().to_string();
    let named = json!({"top_approver_employee_no": people::OTHER_DEPARTMENT, "promotion_cutoff_days": 2});
    ok(app.put_json(top, &hr, Some(&etag), &named).await, 200).await;
    app.edit_employee(people::OTHER_DEPARTMENT, |e| e["active"] = json!(false)).await;
    let workflow = app.get_json(top, &hr).await;
    assert_eq!(workflow["top_approver"], json!({"kind": "training_office"}), "{workflow}");
}

/// A head transferred out of their unit stays its head (a concurrent post, 兼務, reads the same
/// in a roster), and the import's answer names them for the office; a head the same file names
/// in their place, or a department head who moves within the department, is not named.
#[tokio::test]
async fn a_head_moved_out_of_their_unit_is_named_for_the_office_to_check() {
    let app = spawn().await;
    let hr = app.hr();
    let csv = crate::import::roster_csv(&app, |e, code| match e["employee_no"].as_str().unwrap() {
        "10017" => Some("S0201".into()),
        people::DEPARTMENT_HEAD => Some("S0102".into()),
        _ => Some(code),
    })
    .await;
    // With the 所属長 column naming 10025 for S0102, nobody is left to check.
    let named: String = csv
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            0 => format!("{l},section_head\n"),
            _ if l.starts_with(&format!("{},", people::SAME_DEPARTMENT)) => format!("{l},〇\n"),
            _ => format!("{l},\n"),
        })
        .collect();
    let dry = import_roster(&app, "mode=full&dry_run=true", named).await;
    assert_eq!((dry["heads_named"].as_u64(), dry["heads_elsewhere"].clone()), (Some(1), json!([])), "{dry}");
    // Without it, the old head is named.
    let report = import_roster(&app, "mode=full", csv).await;
    assert_eq!(report["transferred"], 2, "{report}");
    assert_eq!(
        report["heads_elsewhere"],
        json!([{"employee_no": "10017", "section_code": "S0201", "unit": "section", "unit_code": "S0102", "acting": false}])
    );
    let s0102 = section(&app, "S0102").await;
    let head = app
        .get_json(&format!("/api/v1/employees/{}", s0102["head_employee_id"].as_str().unwrap()), &hr)
        .await;
    assert_eq!(head["employee_no"], "10017", "nothing is changed");
}

/// HR changing one record by hand is told what a roster import would tell: a head moved out of
/// their section still heads it, and a leaver represented a study group under way.
#[tokio::test]
async fn a_change_by_hand_names_what_it_leaves_for_the_office() {
    let app = spawn().await;
    let hr = app.hr();
    // A correction that moves nothing leaves nothing; the answer is the employee as read.
    let fixed = app.edit_employee(people::SECTION_HEAD, |e| e["kana"] = json!("カチョウ タロウ")).await;
    assert_eq!(
        (&fixed["employee_no"], &fixed["kana"], &fixed["heads_elsewhere"], &fixed["groups_to_hand_over"]),
        (&json!(people::SECTION_HEAD), &json!("カチョウ タロウ"), &json!([]), &json!(0)),
        "{fixed}"
    );
    // The head of 企画政策課 (S0101) moved to 人事課 (S0201): still its head, and named.
    let s0201 = section(&app, "S0201").await["id"].clone();
    let moved = app.edit_employee(people::SECTION_HEAD, |e| e["section_id"] = s0201.clone()).await;
    assert_eq!(moved["section_id"], s0201);
    assert_eq!(
        moved["heads_elsewhere"],
        json!([{"employee_no": people::SECTION_HEAD, "section_code": "S0201", "unit": "section", "unit_code": "S0101", "acting": false}]),
        "{moved}"
    );
    assert_eq!(
        section(&app, "S0101").await["head_employee_id"],
        app.employee(people::SECTION_HEAD).await["id"]
    );

    // A representative of a group under way marked as left: the group waits to be handed over.
    let fy = crate::subsidies::this_year();
    let budget = json!({"budget_yen": 50_000});
    ok(app.post_json(&format!("/api/v1/subsidies/{fy}/study_group"), &hr, &budget).await, 201).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let body = json!({"fiscal_year": fy, "name": "窓口研究会", "theme": "待ち時間", "member_nos": [people::SAME_SECTION]});
    ok(app.post_json("/api/v1/study-groups", &me, &body).await, 201).await;
    let left = app.edit_employee(people::EMPLOYEE, |e| e["active"] = json!(false)).await;
    assert_eq!((&left["groups_to_hand_over"], &left["heads_elsewhere"]), (&json!(1), &json!([])), "{left}");
}

#[tokio::test]
async fn an_april_import_moves_a_thousand_staff_in_one_transaction() {
    let app = spawn().await;
    let hr = app.hr();
    // A thousand more staff in 企画政策課 (S0101), then April moves them all to 情報政策課 (S0102).
    let mut csv = String::from("employee_no,name,kana,section_code,grade,hire_date\n");
    for i in 0..1000 {
        csv.push_str(&format!("4{i:04},異動 太郎{i},イドウ タロウ,S0101,一般,2020-04-01\n"));
    }
    assert_eq!(import_roster(&app, "mode=upsert", csv.clone()).await["created"], 1000);
    let (id, _) = course(&app, 59, None, 10, None).await;
    let applicant = app.token("40007", &[Role::Employee]);
    let body = json!({
        "fiscal_year": FiscalYear::containing(tokyo_date(Utc::now())).year(), "category": "thematic", "number": 60,
        "title": "公募研修60", "rules": [{"route": "application", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "e_learning", "status": "published"
    });
    let open =
        ok(app.post_json("/api/v1/courses", &hr, &body).await, 201).await["id"].as_str().unwrap().to_string();
    app.publish_plan(FiscalYear::containing(tokyo_date(Utc::now())).year()).await;
    let n =
        ok(app.post_json(&format!("/api/v1/courses/{open}/applications"), &applicant, &json!({})).await, 201)
            .await;
    assert!(!id.is_empty());
    let moved = csv.replace(",S0101,", ",S0102,");
    let report = import_roster(&app, "mode=upsert", moved).await;
    assert_eq!(
        (report["updated"].as_u64(), report["transferred"].as_u64()),
        (Some(1000), Some(1000)),
        "{report}"
    );
    assert_eq!(report["awaiting_new_head"], 1);
    let e = app.employee("40999").await;
    let s0102 = section(&app, "S0102").await["id"].clone();
    assert_eq!(e["section_id"], s0102);
    let new_head = app.token("10017", &[Role::SectionHead]);
    let path = format!("/api/v1/nominations/{}", n["id"].as_str().unwrap());
    ok(event(&app, &new_head, &path, json!({"event": "confirm"})).await, 200).await;
}
