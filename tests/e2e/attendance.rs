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
async fn selected_trainee(
    app: &TestApp,
    fy: i32,
    number: u32,
    days: &[NaiveDate],
) -> (String, Vec<String>, String) {
    let plan = app.post_json("/api/v1/plans", &app.hr(), &json!({"fiscal_year": fy})).await;
    assert!(matches!(plan.status().as_u16(), 201 | 409));
    let body = json!({
        "fiscal_year": fy, "category": "thematic", "number": number, "title": format!("研修{number}"),
        "rules": [{"route": "recommendation", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published"
    });
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

async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// POST `{path}/events` with the current version.
async fn event(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
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
    assert_problem(app.post_json(&file, &hr, &second).await, 403, "forbidden").await;
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
    // A session with notices on file is not deleted.
    let s = app.get_json(&format!("/api/v1/courses/{course}"), &hr).await["sessions"][0].clone();
    let res = app
        .request(Method::DELETE, &format!("/api/v1/courses/{course}/sessions/{}", sessions[0]), Some(&hr))
        .header("If-Match", format!("\"{}\"", s["version"]))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "conflict").await;
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
