//! 合同研修 over HTTP, on both backends: a host (伊勢原市) shares a course with a participant
//! (厚木市), which answers the offer and selects its own staff on a course of its own; the host's
//! combined roster; places under concurrent selections in both organisations; leaving and
//! cancelling; and every joint route refused across organisations.

use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, other_hr, people, spawn, token_for, TestApp, OTHER_ORG};
use reqwest::Method;
use serde_json::{json, Value};

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn tag(v: &Value) -> String {
    format!("\"{}\"", v["version"])
}

/// The host's FY2023 plan, published, with 地域別研修 (two sessions in 2023, ten places of its own).
async fn host_course(app: &TestApp, number: u32) -> Value {
    let hr = app.hr();
    let res = app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": 2023})).await;
    assert!(res.status() == 201 || res.status() == 409);
    let body = json!({
        "fiscal_year": 2023, "category": "thematic", "number": number, "title": "地域別研修",
        "purpose": "近隣市町村の職員と交流し、広域的な視野を養う。",
        "rules": [{"route": "recommendation", "conditions": [{"kind": "all_staff"}]}],
        "timing": {"kind": "month", "month": 10}, "delivery": "classroom", "headcount": 1,
        "report": {"kind": "days_after_end", "days": 7}, "status": "published"
    });
    let course = created(app.post_json("/api/v1/courses", &hr, &body).await).await;
    let id = course["id"].as_str().unwrap();
    for day in ["2023-10-12", "2023-10-19"] {
        let s = json!({"starts_at": format!("{day}T09:00:00+09:00"), "ends_at": format!("{day}T17:00:00+09:00"),
            "venue": "伊勢原市役所 第1会議室"});
        created(app.post_json(&format!("/api/v1/courses/{id}/sessions"), &hr, &s).await).await;
    }
    let plan = app.get_json("/api/v1/plans/2023", &hr).await;
    if plan["status"] != "published" {
        app.publish_plan(2023).await;
    }
    app.get_json(&format!("/api/v1/courses/{id}"), &hr).await
}

/// 厚木市's plan for FY2023 and two more staff in its one section (three in all).
async fn participant_ready(app: &TestApp) {
    let theirs = other_hr();
    created(app.post_json("/api/v1/plans", &theirs, &json!({"fiscal_year": 2023})).await).await;
    let section = app.get_json("/api/v1/employees", &theirs).await["items"][0]["section_id"].clone();
    for (no, name, kana) in [("A002", "厚木 二郎", "アツギ ジロウ"), ("A003", "厚木 三子", "アツギ ミツコ")]
    {
        let body = json!({"employee_no": no, "name": name, "kana": kana, "section_id": section,
            "grade": "主任", "hire_date": "2016-04-01"});
        created(app.post_json("/api/v1/employees", &theirs, &body).await).await;
    }
}

async fn event(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    let current = app.get_json(path, token).await;
    app.request(Method::POST, &format!("{path}/events"), Some(token))
        .header("If-Match", tag(&current))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The participant's course as its HR reads it, made its own: a designation rule for all its
/// staff, published in its published plan, then designated.
async fn run_participant_selection(app: &TestApp, course_id: &str) -> Value {
    let theirs = other_hr();
    let path = format!("/api/v1/courses/{course_id}");
    let current = app.get_json(&path, &theirs).await;
    let mut body = current.clone();
    for k in
        ["id", "routes", "timing_label", "joint_share_id", "sessions", "version", "created_at", "updated_at"]
    {
        body.as_object_mut().unwrap().remove(k);
    }
    body["rules"] = json!([{"route": "designation", "conditions": [{"kind": "all_staff"}]}]);
    body["status"] = json!("published");
    ok(app.put_json(&path, &theirs, Some(&tag(&current)), &body).await).await;
    let plan_path = format!("/api/v1/plans/{}", current["fiscal_year"]);
    let plan = app.get_json(&plan_path, &theirs).await;
    if plan["status"] != "published" {
        let res = app
            .request(Method::POST, &format!("{plan_path}/publish"), Some(&theirs))
            .header("If-Match", tag(&plan))
            .send()
            .await
            .unwrap();
        ok(res).await;
    }
    let res = app.request(Method::POST, &format!("{path}/designation"), Some(&theirs)).send().await.unwrap();
    ok(res).await
}

#[tokio::test]
async fn a_host_shares_a_course_and_the_participant_selects_its_own_staff() {
    let app = spawn().await;
    let hr = app.hr();
    let theirs = other_hr();
    let course = host_course(&app, 7).await;
    let course_id = course["id"].as_str().unwrap();
    let shares = format!("/api/v1/courses/{course_id}/shares");

    // Offers that cannot be: nothing is written.
    for (body, field) in [
        (json!({"organisation": "nowhere", "places": 2}), "organisation"),
        (json!({"organisation": "isehara", "places": 2}), "organisation"),
        (json!({"organisation": OTHER_ORG, "places": 0}), "places"),
        (json!({"organisation": OTHER_ORG, "places": 501}), "places"),
    ] {
        let p = assert_problem(app.post_json(&shares, &hr, &body).await, 422, "validation").await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    assert_eq!(app.get_json(&shares, &hr).await["items"], json!([]));
    assert!(app.get_json("/api/v1/joint-offers", &theirs).await["items"].as_array().unwrap().is_empty());

    let share =
        created(app.post_json(&shares, &hr, &json!({"organisation": OTHER_ORG, "places": 1})).await).await;
    assert_eq!(share["state"], "offered");
    assert_eq!(share["participant"], json!({"code": OTHER_ORG, "name": "厚木市"}));
    assert_eq!(share["host"]["code"], "isehara");
    assert_problem(
        app.post_json(&shares, &hr, &json!({"organisation": OTHER_ORG, "places": 3})).await,
        409,
        "conflict",
    )
    .await;

    // 厚木市's training office is told, and sees the offer with the host's course and sessions.
    let told = office_told(&app, &theirs).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["item"], json!({"type": "course_share", "id": share["id"]}));
    assert!(told[0]["body"]["message"].as_str().unwrap().contains("伊勢原市から合同研修の参加依頼（1人）"));
    let offers = app.get_json("/api/v1/joint-offers", &theirs).await;
    assert_eq!(offers["items"].as_array().unwrap().len(), 1);
    let offer = &offers["items"][0];
    assert_eq!(offer["id"], share["id"]);
    assert_eq!(offer["course"]["title"], "地域別研修");
    assert_eq!(offer["course"]["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(offer["course"]["sessions"][0]["starts_at"], "2023-10-12T09:00:00+09:00");
    assert_eq!(offer["your_course_id"], Value::Null);
    let offer_path = format!("/api/v1/joint-offers/{}", share["id"].as_str().unwrap());

    // Accepting needs a plan of one's own for the year; a number only goes with accepting.
    let p =
        assert_problem(event(&app, &theirs, &offer_path, json!({"event": "accept"})).await, 409, "conflict")
            .await;
    assert!(p["detail"].as_str().unwrap().contains("FY2023"), "{p}");
    assert_problem(
        event(&app, &theirs, &offer_path, json!({"event": "decline", "number": 3})).await,
        422,
        "validation",
    )
    .await;
    // Staff of the participant cannot answer for their training office.
    let staff = token_for(OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[Role::Employee, Role::SectionHead]);
    assert_eq!(event(&app, &theirs, &offer_path, json!({"event": "withdraw"})).await.status(), 409);
    let res = app
        .request(Method::POST, &format!("{offer_path}/events"), Some(&staff))
        .header("If-Match", "*")
        .json(&json!({"event": "accept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    participant_ready(&app).await;
    let accepted =
        ok(event(&app, &theirs, &offer_path, json!({"event": "accept", "number": 12})).await).await;
    assert_eq!(accepted["state"], "accepted");
    let told = office_told(&app, &hr).await;
    assert!(told.iter().any(|n| n["body"]["message"] == "厚木市が合同研修に参加します。"), "{told:?}");
    let their_course_id = accepted["your_course_id"].as_str().unwrap().to_string();
    let their_path = format!("/api/v1/courses/{their_course_id}");
    let mine = app.get_json(&their_path, &theirs).await;
    assert_eq!((mine["title"].as_str(), mine["number"].as_u64()), (Some("地域別研修"), Some(12)));
    assert_eq!(mine["headcount"], 1, "the places are the headcount");
    assert_eq!(mine["status"], "draft");
    assert_eq!(mine["rules"], json!([]), "its own rules are its own to set");
    assert_eq!(mine["joint_share_id"], share["id"]);
    let sessions = mine["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[1]["starts_at"], "2023-10-19T09:00:00+09:00");
    assert_eq!(sessions[1]["venue"], "伊勢原市役所 第1会議室");
    // Answered already; and the host's course is not theirs to read, nor theirs the host's.
    assert_problem(
        event(&app, &theirs, &offer_path, json!({"event": "accept"})).await,
        409,
        "invalid-transition",
    )
    .await;
    assert_eq!(app.get(&format!("/api/v1/courses/{course_id}"), &theirs).await.status(), 404);
    assert_eq!(app.get(&shares, &theirs).await.status(), 404);
    assert_eq!(app.get(&their_path, &hr).await.status(), 404);

    // The places and the sessions are the host's; leaving goes through the share.
    let mut body = mine.clone();
    for k in
        ["id", "routes", "timing_label", "joint_share_id", "sessions", "version", "created_at", "updated_at"]
    {
        body.as_object_mut().unwrap().remove(k);
    }
    for (k, v, field) in [("headcount", json!(5), "headcount"), ("status", json!("cancelled"), "status")] {
        let mut b = body.clone();
        b[k] = v;
        let p = assert_problem(
            app.put_json(&their_path, &theirs, Some(&tag(&mine)), &b).await,
            422,
            "validation",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let s = json!({"starts_at": "2023-11-01T09:00:00+09:00", "ends_at": "2023-11-01T12:00:00+09:00"});
    assert_problem(app.post_json(&format!("{their_path}/sessions"), &theirs, &s).await, 409, "conflict")
        .await;
    let sid = sessions[0]["id"].as_str().unwrap();
    let res = app
        .request(Method::DELETE, &format!("{their_path}/sessions/{sid}"), Some(&theirs))
        .header("If-Match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);

    // 厚木市 designates its own three staff for its one place: one selected, two waiting.
    let done = run_participant_selection(&app, &their_course_id).await;
    assert_eq!((done["selected"].as_u64(), done["waitlisted"].as_u64()), (Some(1), Some(2)), "{done}");
    let listed = app.get_json(&shares, &hr).await;
    assert_eq!(listed["items"][0]["selected"], 1);
    assert_eq!(listed["shared_places"], 1);

    // 伊勢原市 recommends three of its own for its one place.
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let mut ours = Vec::new();
    for no in ["10003", "10004", "10005"] {
        let e = app.employee(no).await;
        let body = json!({"employee_id": e["id"], "reason": "推薦"});
        let n = created(
            app.post_json(&format!("/api/v1/courses/{course_id}/recommendations"), &head, &body).await,
        )
        .await;
        ours.push(n["id"].as_str().unwrap().to_string());
    }
    // The host gives 厚木市 a second place. The sessions are past, so the waiting list stays
    // where it is and HR selects by hand: both organisations' training offices at once, for
    // each one's last place.
    let share_path = format!("{shares}/{}", share["id"].as_str().unwrap());
    let current = app.get_json(&share_path, &hr).await;
    let raised = ok(app.put_json(&share_path, &hr, Some(&tag(&current)), &json!({"places": 2})).await).await;
    assert_eq!(raised["places"], 2);
    let told = office_told(&app, &theirs).await;
    assert!(
        told.iter().any(|n| n["body"]["message"].as_str().unwrap().contains("枠数を2人に変更")),
        "{told:?}"
    );
    assert_eq!(app.get_json(&their_path, &theirs).await["headcount"], 2);
    let waiting = app.get_json(&format!("{their_path}/nominations?state=waitlisted"), &theirs).await;
    let theirs_waiting: Vec<String> =
        waiting["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(theirs_waiting.len(), 2);
    let calls = ours
        .iter()
        .map(|id| (hr.clone(), id.clone()))
        .chain(theirs_waiting.iter().map(|id| (theirs.clone(), id.clone())))
        .collect::<Vec<_>>();
    let results = futures_util::future::join_all(calls.iter().map(|(token, id)| {
        let app = &app;
        async move {
            app.request(Method::POST, &format!("/api/v1/nominations/{id}/events"), Some(token))
                .header("If-Match", "*")
                .json(&json!({"event": "select"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    }))
    .await;
    let (host_results, their_results) = results.split_at(3);
    assert_eq!(host_results.iter().filter(|s| **s == 200).count(), 1, "{results:?}");
    assert_eq!(their_results.iter().filter(|s| **s == 200).count(), 1, "{results:?}");
    assert!(results.iter().all(|s| *s == 200 || *s == 409), "{results:?}");
    let counts =
        app.get_json(&format!("{their_path}/nominations"), &theirs).await["counts"]["by_state"].clone();
    assert_eq!((counts["selected"].as_u64(), counts["waitlisted"].as_u64()), (Some(2), Some(1)));

    // Fewer places than it has selected: refused, nothing changed.
    let current = app.get_json(&share_path, &hr).await;
    let p = assert_problem(
        app.put_json(&share_path, &hr, Some(&tag(&current)), &json!({"places": 1})).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "places");
    assert_eq!(app.get_json(&share_path, &hr).await["version"], current["version"]);
    assert_eq!(app.get_json(&their_path, &theirs).await["headcount"], 2);
    // Out of range is refused as such, before the version is looked at: a stale tag does not
    // turn a bad body into 412.
    let p = assert_problem(
        app.put_json(&share_path, &hr, Some("\"999999\""), &json!({"places": 501})).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("places"), Some("range"))
    );
    assert_eq!(app.get_json(&share_path, &hr).await["version"], current["version"]);

    // The host's combined roster: its own trainee and 厚木市's two, with only what running the
    // course needs.
    let roster = app.get_json(&format!("/api/v1/courses/{course_id}/joint-roster"), &hr).await;
    let items = roster["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{roster}");
    assert_eq!(items[0]["organisation"]["code"], "isehara");
    assert!(items[1..].iter().all(|t| t["organisation"]["name"] == "厚木市"));
    assert!(items[1..].iter().all(|t| t["section"] == "職員課" && t["grade"] == "主任"));
    assert!(items[1..].iter().all(|t| t["name"].as_str().unwrap().starts_with("厚木")));
    for t in items {
        let mut keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["grade", "name", "name_kana", "organisation", "section", "session_id", "state", "trainee_id"]
        );
    }
    assert_eq!(
        roster["by_organisation"],
        json!([{"organisation": {"code": "isehara", "name": "伊勢原市"}, "trainees": 1, "completed": 0},
               {"organisation": {"code": OTHER_ORG, "name": "厚木市"}, "trainees": 2, "completed": 0}])
    );
    // A participant's course has no combined roster of its own; auditors of the host read it.
    assert_eq!(app.get(&format!("{their_path}/joint-roster"), &theirs).await.status(), 404);
    let auditor = app.token("auditor", &[Role::Auditor]);
    assert_eq!(app.get(&format!("/api/v1/courses/{course_id}/joint-roster"), &auditor).await.status(), 200);

    // 厚木市's audit log shows the host's change to its course, signed by the host.
    let log = app.get_json("/api/v1/audit?limit=200", &theirs).await;
    let by_host = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "course.joint_places")
        .unwrap_or_else(|| panic!("no host write in {log}"));
    assert_eq!(by_host["actor"], format!("isehara:{}", people::HR));
    // … and the host's, the participant's answer to its share.
    let log = app.get_json("/api/v1/audit?limit=200", &hr).await;
    let answer =
        log["items"].as_array().unwrap().iter().find(|e| e["action"] == "course_share.accept").unwrap();
    assert_eq!(answer["actor"], format!("{OTHER_ORG}:{}", people::OTHER_ORG_EMPLOYEE));
}

/// The notices to the training office (as a whole) in the caller's organisation's outbox about
/// joint courses.
async fn office_told(app: &TestApp, token: &str) -> Vec<Value> {
    let outbox = app.get_json("/api/v1/notices?limit=200", token).await;
    outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "joint_course" && n["recipient_role"] == "training_office")
        .cloned()
        .collect()
}

async fn shared_and_selected(app: &TestApp, number: u32) -> (Value, String, String) {
    let hr = app.hr();
    let course = host_course(app, number).await;
    let shares = format!("/api/v1/courses/{}/shares", course["id"].as_str().unwrap());
    let share =
        created(app.post_json(&shares, &hr, &json!({"organisation": OTHER_ORG, "places": 2})).await).await;
    let offer_path = format!("/api/v1/joint-offers/{}", share["id"].as_str().unwrap());
    let accepted = ok(event(app, &other_hr(), &offer_path, json!({"event": "accept"})).await).await;
    let their_course = accepted["your_course_id"].as_str().unwrap().to_string();
    let done = run_participant_selection(app, &their_course).await;
    assert_eq!(done["selected"], 2, "{done}");
    (course, offer_path, their_course)
}

async fn live_nominations(app: &TestApp, course_id: &str) -> Value {
    app.get_json(&format!("/api/v1/courses/{course_id}/nominations"), &other_hr()).await["counts"]["by_state"]
        .clone()
}

#[tokio::test]
async fn leaving_and_cancelling_cancel_the_participants_course_and_tell_its_trainees() {
    let app = spawn().await;
    let hr = app.hr();
    let theirs = other_hr();
    participant_ready(&app).await;

    // 厚木市 withdraws: its course is cancelled with its nominations, the trainees are told,
    // and the host sees the places back.
    let (course, offer_path, their_course) = shared_and_selected(&app, 7).await;
    let left = ok(event(&app, &theirs, &offer_path, json!({"event": "withdraw"})).await).await;
    assert_eq!(left["state"], "withdrawn");
    let mine = app.get_json(&format!("/api/v1/courses/{their_course}"), &theirs).await;
    assert_eq!(mine["status"], "cancelled");
    assert_eq!(
        live_nominations(&app, &their_course).await,
        json!({"cancelled": 3}),
        "two selected, one waiting"
    );
    let outbox = app.get_json("/api/v1/notices?limit=200", &theirs).await;
    let told = outbox["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "course_cancelled").count();
    assert!(told >= 2, "the selected trainees are told: {outbox}");
    let shares = format!("/api/v1/courses/{}/shares", course["id"].as_str().unwrap());
    let listed = app.get_json(&shares, &hr).await;
    assert_eq!(
        (listed["items"][0]["state"].as_str(), listed["shared_places"].as_u64()),
        (Some("withdrawn"), Some(0))
    );
    assert_problem(
        event(&app, &theirs, &offer_path, json!({"event": "withdraw"})).await,
        409,
        "invalid-transition",
    )
    .await;

    // The host cancels another shared course: every participant's course goes with it.
    let (course, offer_path, their_course) = shared_and_selected(&app, 8).await;
    let path = format!("/api/v1/courses/{}", course["id"].as_str().unwrap());
    let current = app.get_json(&path, &hr).await;
    let mut body = current.clone();
    for k in
        ["id", "routes", "timing_label", "joint_share_id", "sessions", "version", "created_at", "updated_at"]
    {
        body.as_object_mut().unwrap().remove(k);
    }
    body["status"] = json!("cancelled");
    ok(app.put_json(&path, &hr, Some(&tag(&current)), &body).await).await;
    let offer = app.get_json(&offer_path, &theirs).await;
    assert_eq!(offer["state"], "cancelled");
    assert_eq!(
        app.get_json(&format!("/api/v1/courses/{their_course}"), &theirs).await["status"],
        "cancelled"
    );
    assert_eq!(live_nominations(&app, &their_course).await, json!({"cancelled": 3}));
    let log = app.get_json("/api/v1/audit?limit=200", &theirs).await;
    let cancelled = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "course.cancel_with_share")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(cancelled["actor"], format!("isehara:{}", people::HR));
    // Both training offices were told: the host of the withdrawal, 厚木市 of the cancellation.
    let host_told = office_told(&app, &hr).await;
    assert!(host_told
        .iter()
        .any(|n| n["body"]["message"].as_str().unwrap().contains("参加を取りやめました")));
    let their_told = office_told(&app, &theirs).await;
    assert!(their_told.iter().any(|n| n["body"]["message"].as_str().unwrap().contains("取り消しました")));
    // A cancelled course is shared with nobody.
    assert_problem(
        app.post_json(&format!("{path}/shares"), &hr, &json!({"organisation": OTHER_ORG, "places": 1})).await,
        409,
        "conflict",
    )
    .await;
}

#[tokio::test]
async fn declining_and_taking_back_an_offer() {
    let app = spawn().await;
    let hr = app.hr();
    let theirs = other_hr();
    let course = host_course(&app, 7).await;
    let shares = format!("/api/v1/courses/{}/shares", course["id"].as_str().unwrap());
    let share =
        created(app.post_json(&shares, &hr, &json!({"organisation": OTHER_ORG, "places": 2})).await).await;
    let share_path = format!("{shares}/{}", share["id"].as_str().unwrap());
    let offer_path = format!("/api/v1/joint-offers/{}", share["id"].as_str().unwrap());
    // A stale answer is refused before the state is looked at.
    let res = app
        .request(Method::POST, &format!("{offer_path}/events"), Some(&theirs))
        .header("If-Match", "\"9\"")
        .json(&json!({"event": "decline"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition-failed").await;
    assert_eq!(
        ok(event(&app, &theirs, &offer_path, json!({"event": "decline"})).await).await["state"],
        "declined"
    );
    // Declined: the host can neither change its places nor take it back.
    let current = app.get_json(&share_path, &hr).await;
    assert_problem(
        app.put_json(&share_path, &hr, Some(&tag(&current)), &json!({"places": 3})).await,
        409,
        "invalid-transition",
    )
    .await;
    assert_problem(
        event(&app, &hr, &share_path, json!({"event": "cancel"})).await,
        409,
        "invalid-transition",
    )
    .await;
    // … but offers it again, and this time 厚木市 takes part.
    let again =
        created(app.post_json(&shares, &hr, &json!({"organisation": OTHER_ORG, "places": 3})).await).await;
    assert_eq!(again["id"], share["id"]);
    assert_eq!((again["state"].as_str(), again["places"].as_u64()), (Some("offered"), Some(3)));
    created(app.post_json("/api/v1/plans", &theirs, &json!({"fiscal_year": 2023})).await).await;
    let accepted = ok(event(&app, &theirs, &offer_path, json!({"event": "accept"})).await).await;
    assert_eq!(accepted["state"], "accepted");
    let p = app.post_json(&shares, &hr, &json!({"organisation": OTHER_ORG, "places": 3})).await;
    assert_problem(p, 409, "conflict").await;

    // An offer taken back before it is answered cannot be accepted.
    let course = host_course(&app, 8).await;
    let shares = format!("/api/v1/courses/{}/shares", course["id"].as_str().unwrap());
    let share =
        created(app.post_json(&shares, &hr, &json!({"organisation": OTHER_ORG, "places": 2})).await).await;
    let share_path = format!("{shares}/{}", share["id"].as_str().unwrap());
    assert_eq!(
        ok(event(&app, &hr, &share_path, json!({"event": "cancel"})).await).await["state"],
        "cancelled"
    );
    let offer_path = format!("/api/v1/joint-offers/{}", share["id"].as_str().unwrap());
    assert_problem(
        event(&app, &theirs, &offer_path, json!({"event": "accept"})).await,
        409,
        "invalid-transition",
    )
    .await;
}

/// Every joint route, called by another organisation with this organisation's ids: not found for
/// the roles that may use the route at all (the others are refused before anything is looked up).
#[tokio::test]
async fn every_joint_route_is_not_found_from_another_organisation() {
    let app = spawn().await;
    let hr = app.hr();
    let course = host_course(&app, 7).await;
    let course_id = course["id"].as_str().unwrap();
    let share = created(
        app.post_json(
            &format!("/api/v1/courses/{course_id}/shares"),
            &hr,
            &json!({"organisation": OTHER_ORG, "places": 2}),
        )
        .await,
    )
    .await;
    let share_id = share["id"].as_str().unwrap();
    let session_id = course["sessions"][0]["id"].as_str().unwrap();
    // A course 厚木市 offers to 伊勢原市: 厚木市's own offer list does not hold it.
    let offer = kenshu_tests::offer_from_other_org(&app, 2023, "派遣研修").await;
    let offer_id = offer["id"].as_str().unwrap();
    let share_body = json!({"organisation": OTHER_ORG, "places": 1});
    let routes: Vec<(Method, String, Value)> = vec![
        (Method::GET, format!("/api/v1/courses/{course_id}/shares"), Value::Null),
        (Method::POST, format!("/api/v1/courses/{course_id}/shares"), share_body),
        (Method::GET, format!("/api/v1/courses/{course_id}/shares/{share_id}"), Value::Null),
        (Method::PUT, format!("/api/v1/courses/{course_id}/shares/{share_id}"), json!({"places": 3})),
        (
            Method::POST,
            format!("/api/v1/courses/{course_id}/shares/{share_id}/events"),
            json!({"event": "cancel"}),
        ),
        (Method::GET, format!("/api/v1/courses/{course_id}/joint-roster"), Value::Null),
        (
            Method::GET,
            format!("/api/v1/courses/{course_id}/sessions/{session_id}/joint-attendance"),
            Value::Null,
        ),
        (
            Method::PUT,
            format!("/api/v1/courses/{course_id}/sessions/{session_id}/joint-attendance"),
            json!({"entries": [{"trainee_id": share_id, "status": "present"}]}),
        ),
        // The participant's routes with the host's side of an offer: 厚木市 hosts this one.
        (Method::GET, format!("/api/v1/joint-offers/{offer_id}"), Value::Null),
        (Method::POST, format!("/api/v1/joint-offers/{offer_id}/events"), json!({"event": "decline"})),
    ];
    for role in [Role::HrAdmin, Role::Auditor] {
        let other = token_for(OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[role]);
        for (method, path, body) in &routes {
            let mut rb = app.request(method.clone(), path, Some(&other)).header("If-Match", "*");
            if !body.is_null() {
                rb = rb.json(body);
            }
            let status = rb.send().await.unwrap().status().as_u16();
            let writes = *method != Method::GET;
            let expected = if role == Role::Auditor && writes { 403 } else { 404 };
            assert_eq!(status, expected, "{role:?} {method} {path}");
        }
    }
    // Nothing changed on either side.
    assert_eq!(
        app.get_json(&format!("/api/v1/courses/{course_id}/shares/{share_id}"), &hr).await["version"],
        1
    );
    assert_eq!(app.get_json(&format!("/api/v1/joint-offers/{offer_id}"), &hr).await["state"], "offered");
    // 厚木市 is offered 伊勢原市's course only; the course it offers is no offer to itself.
    let theirs = app.get_json("/api/v1/joint-offers", &other_hr()).await;
    let ids: Vec<&str> =
        theirs["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [share_id]);
}

async fn kinds_told(app: &TestApp, kind: &str) -> usize {
    let outbox = app.get_json("/api/v1/notices?limit=200", &other_hr()).await;
    outbox["items"].as_array().unwrap().iter().filter(|n| n["kind"] == kind).count()
}

#[tokio::test]
async fn the_hosts_session_changes_reach_the_participants_and_their_trainees() {
    let app = spawn().await;
    let hr = app.hr();
    let theirs = other_hr();
    participant_ready(&app).await;
    let (course, _, their_course) = shared_and_selected(&app, 7).await;
    let course_id = course["id"].as_str().unwrap();
    let their_path = format!("/api/v1/courses/{their_course}");
    let first = course["sessions"][0].clone();
    let session_path = format!("/api/v1/courses/{course_id}/sessions/{}", first["id"].as_str().unwrap());

    // Moved to another room: the copy follows, 厚木市's two selected trainees (and their head,
    // when they have one) are told.
    let mut body =
        json!({"starts_at": first["starts_at"], "ends_at": first["ends_at"], "venue": "厚木市役所 会議室A"});
    ok(app.put_json(&session_path, &hr, Some(&tag(&first)), &body).await).await;
    let copies = app.get_json(&their_path, &theirs).await["sessions"].clone();
    assert_eq!(copies[0]["venue"], "厚木市役所 会議室A");
    assert_eq!(copies[0]["version"], 2);
    assert_eq!(kinds_told(&app, "session_changed").await, 2);
    // A note only: the copy keeps it, nobody is told again.
    let current = app.get_json(&format!("/api/v1/courses/{course_id}"), &hr).await["sessions"][0].clone();
    body["notes"] = json!("筆記用具持参");
    ok(app.put_json(&session_path, &hr, Some(&tag(&current)), &body).await).await;
    assert_eq!(app.get_json(&their_path, &theirs).await["sessions"][0]["notes"], "筆記用具持参");
    assert_eq!(kinds_told(&app, "session_changed").await, 2);

    // A third day added reaches the copy; a day removed goes from it, and its trainees are told.
    let s = json!({"starts_at": "2023-10-26T09:00:00+09:00", "ends_at": "2023-10-26T12:00:00+09:00", "capacity": 30});
    let added = created(app.post_json(&format!("/api/v1/courses/{course_id}/sessions"), &hr, &s).await).await;
    let copies = app.get_json(&their_path, &theirs).await["sessions"].clone();
    assert_eq!(copies.as_array().unwrap().len(), 3);
    assert_eq!(copies[2]["starts_at"], "2023-10-26T09:00:00+09:00");
    assert_eq!(copies[2]["capacity"], Value::Null, "the share's places bound the participant");
    let added_path = format!("/api/v1/courses/{course_id}/sessions/{}", added["id"].as_str().unwrap());
    let res = app
        .request(Method::DELETE, &added_path, Some(&hr))
        .header("If-Match", tag(&added))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_json(&their_path, &theirs).await["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(kinds_told(&app, "session_cancelled").await, 2);

    // A day on which 厚木市 has attendance on file stays, on both sides.
    let copy = app.get_json(&their_path, &theirs).await["sessions"][1].clone();
    let sheet = json!({"entries": [{"employee_no": people::OTHER_ORG_EMPLOYEE, "status": "present"}]});
    let sheet_path = format!("{their_path}/sessions/{}/attendance", copy["id"].as_str().unwrap());
    let res = app.request(Method::PUT, &sheet_path, Some(&theirs)).json(&sheet).send().await.unwrap();
    assert_eq!(res.status(), 200, "厚木市 records attendance on its copy");
    let second = app.get_json(&format!("/api/v1/courses/{course_id}"), &hr).await["sessions"][1].clone();
    let second_path = format!("/api/v1/courses/{course_id}/sessions/{}", second["id"].as_str().unwrap());
    let res = app
        .request(Method::DELETE, &second_path, Some(&hr))
        .header("If-Match", tag(&second))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("participating organisation"), "{p}");
    let sessions = app.get_json(&format!("/api/v1/courses/{course_id}"), &hr).await["sessions"].clone();
    assert_eq!(sessions.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn attendance_the_host_records_reaches_the_trainees_history_and_results() {
    let app = spawn().await;
    let hr = app.hr();
    let theirs = other_hr();
    participant_ready(&app).await;
    let (course, _, their_course) = shared_and_selected(&app, 7).await;
    let course_id = course["id"].as_str().unwrap();
    let sessions: Vec<String> = course["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let sheet_path = |sid: &str| format!("/api/v1/courses/{course_id}/sessions/{sid}/joint-attendance");

    // The host's joint sheet: 厚木市's two selected trainees, nothing recorded yet, no employee
    // numbers or records of theirs.
    let sheet = app.get_json(&sheet_path(&sessions[0]), &hr).await;
    let lines = sheet["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{sheet}");
    assert!(lines
        .iter()
        .all(|l| l["expected"] == true && l["status"].is_null() && l["organisation"]["code"] == OTHER_ORG));
    assert!(lines.iter().all(|l| l.get("employee_no").is_none() && l.get("employee").is_none()));
    let trainees: Vec<Value> = lines.iter().map(|l| l["trainee_id"].clone()).collect();

    // Entries that name nobody of a participant on the session: the waiting trainee, one of the
    // host's own, an unknown id, twice the same. All refused, nothing written.
    let waiting =
        app.get_json(&format!("/api/v1/courses/{their_course}/nominations?state=waitlisted"), &theirs).await;
    let waiting_id = waiting["items"][0]["id"].clone();
    let body = json!({"entries": [
        {"trainee_id": trainees[0], "status": "present"},
        {"trainee_id": waiting_id, "status": "present"},
        {"trainee_id": "01939a4e-7c1a-7d2e-8f00-0000000000e1", "status": "present"},
        {"trainee_id": trainees[0], "status": "absent"},
        {"trainee_id": trainees[1], "status": "late"}
    ]});
    let res =
        app.request(Method::PUT, &sheet_path(&sessions[0]), Some(&hr)).json(&body).send().await.unwrap();
    let p = assert_problem(res, 422, "validation").await;
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["entries[4].arrived_at"], "times are checked first: {p}");
    let body = json!({"entries": [
        {"trainee_id": trainees[0], "status": "present"},
        {"trainee_id": waiting_id, "status": "present"},
        {"trainee_id": "01939a4e-7c1a-7d2e-8f00-0000000000e1", "status": "present"},
        {"trainee_id": trainees[0], "status": "absent"}
    ]});
    let res =
        app.request(Method::PUT, &sheet_path(&sessions[0]), Some(&hr)).json(&body).send().await.unwrap();
    let p = assert_problem(res, 422, "validation").await;
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["entries[1].trainee_id", "entries[2].trainee_id", "entries[3].trainee_id"], "{p}");
    assert!(app.get_json(&sheet_path(&sessions[0]), &hr).await["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["status"].is_null()));
    // Another organisation's HR cannot record on the host's session.
    let res =
        app.request(Method::PUT, &sheet_path(&sessions[0]), Some(&theirs)).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 404);

    // 厚木市's results as they stand, kept by the instance: the host's sheets below change them.
    kenshu_tests::until_reads_kept(&app.db).await;
    for _ in 0..2 {
        app.get_json("/api/v1/plans/2023/results", &theirs).await;
    }
    assert!(app.db.kept().stats().results.hits > 0);

    // Day one: one present, one absent without a notice (the host sees it unexcused, no reason).
    let body = json!({"entries": [
        {"trainee_id": trainees[0], "status": "present"},
        {"trainee_id": trainees[1], "status": "absent"}
    ]});
    let report =
        ok(app.request(Method::PUT, &sheet_path(&sessions[0]), Some(&hr)).json(&body).send().await.unwrap())
            .await;
    assert_eq!((report["created"].as_u64(), report["completed"].as_u64()), (Some(2), Some(0)));
    let absent = report["sheet"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["trainee_id"] == trainees[1])
        .unwrap()
        .clone();
    assert_eq!((absent["status"].as_str(), absent["excused"].as_bool()), (Some("absent"), Some(false)));
    assert_eq!(absent["absence_notified"], false);
    assert!(absent.get("reason").is_none() && absent.get("note").is_none(), "{absent}");
    // Day two: both present. The first has attended every session: completed (修了) in 厚木市.
    let body = json!({"entries": [
        {"trainee_id": trainees[0], "status": "present"},
        {"trainee_id": trainees[1], "status": "present"}
    ]});
    let report =
        ok(app.request(Method::PUT, &sheet_path(&sessions[1]), Some(&hr)).json(&body).send().await.unwrap())
            .await;
    assert_eq!((report["created"].as_u64(), report["completed"].as_u64()), (Some(2), Some(1)));

    // 厚木市's own sign-in sheet of its copy shows what the host recorded, signed by the host.
    let mine = app.get_json(&format!("/api/v1/courses/{their_course}"), &theirs).await;
    let copy = mine["sessions"][0]["id"].as_str().unwrap();
    let own_sheet =
        app.get_json(&format!("/api/v1/courses/{their_course}/sessions/{copy}/attendance"), &theirs).await;
    let recorded: Vec<&str> =
        own_sheet["lines"].as_array().unwrap().iter().filter_map(|l| l["recorded_by"].as_str()).collect();
    assert_eq!(recorded, [format!("isehara:{}", people::HR), format!("isehara:{}", people::HR)]);
    // The completed trainee's training history, and 厚木市's results for the year.
    let completed =
        app.get_json(&format!("/api/v1/courses/{their_course}/nominations?state=completed"), &theirs).await;
    let who = completed["items"][0]["employee"]["id"].as_str().unwrap().to_string();
    let history = app.get_json(&format!("/api/v1/employees/{who}/training-history"), &theirs).await;
    let entry = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["course"]["id"] == their_course.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["nomination"]["state"], "completed", "{history}");
    assert_eq!(entry["nomination"]["decided_by"], format!("isehara:{}", people::HR), "the host completed it");
    let results = app.get_json("/api/v1/plans/2023/results", &theirs).await;
    let row = results["courses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["course"]["id"] == their_course.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (row["selected"].as_u64(), row["attended"].as_u64(), row["completed"].as_u64()),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(row["unexcused_absences"], 1);
    let roster = app.get_json(&format!("/api/v1/courses/{course_id}/joint-roster"), &hr).await;
    assert_eq!(roster["by_organisation"][0]["completed"], 1, "{roster}");
    // The host's results count its own staff only: nobody of 厚木市.
    let ours = app.get_json("/api/v1/plans/2023/results", &hr).await;
    let host_row =
        ours["courses"].as_array().unwrap().iter().find(|c| c["course"]["id"] == course_id).unwrap().clone();
    assert_eq!(host_row["completed"], 0);
    // The host's survey is answered by 厚木市's attendees through their own course; the host's
    // results count every organisation's attendees. 厚木市 sets no survey of its own.
    let questions = json!({"questions": [{"text": "満足度", "kind": "rating", "required": true}]});
    created(app.post_json(&format!("/api/v1/courses/{course_id}/survey"), &hr, &questions).await).await;
    assert_problem(
        app.post_json(&format!("/api/v1/courses/{their_course}/survey"), &theirs, &questions).await,
        409,
        "conflict",
    )
    .await;
    let no = completed["items"][0]["employee"]["employee_no"].as_str().unwrap();
    let attendee = token_for(OTHER_ORG, no, &[Role::Employee]);
    let survey = app.get_json(&format!("/api/v1/courses/{their_course}/survey"), &attendee).await;
    assert_eq!(survey["questions"][0]["text"], "満足度");
    let answer = json!({"answers": [{"question": 1, "rating": 4}]});
    let path = format!("/api/v1/courses/{their_course}/survey/responses");
    assert_eq!(app.post_json(&path, &attendee, &answer).await.status(), 201);
    assert_problem(app.post_json(&path, &attendee, &answer).await, 409, "conflict").await;
    let results = app.get_json(&format!("/api/v1/courses/{course_id}/survey/results"), &hr).await;
    assert_eq!(
        (results["attendees"].as_u64(), results["responses"].as_u64()),
        (Some(2), Some(1)),
        "{results}"
    );
    // 厚木市's audit log has the records, signed by the host.
    let log = app.get_json("/api/v1/audit?limit=200", &theirs).await;
    let by_host =
        log["items"].as_array().unwrap().iter().filter(|e| e["action"] == "attendance.record").count();
    assert_eq!(by_host, 4);
}

#[tokio::test]
async fn the_demo_has_atsugi_taking_part_in_iseharas_regional_training() {
    let app = spawn().await;
    kenshu_api::demo::seed_catalogue(&app.db).await.unwrap();
    kenshu_api::demo::seed_joint(&app.db).await.unwrap();
    kenshu_api::demo::seed_joint(&app.db).await.unwrap();
    let offers = app.get_json("/api/v1/joint-offers", &other_hr()).await;
    let items = offers["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "once: {offers}");
    let offer = &items[0];
    assert_eq!((offer["state"].as_str(), offer["places"].as_u64()), (Some("accepted"), Some(3)));
    assert_eq!(offer["host"]["name"], "伊勢原市");
    assert_eq!(offer["course"]["title"], "地域別研修");
    let theirs = app
        .get_json(&format!("/api/v1/courses/{}", offer["your_course_id"].as_str().unwrap()), &other_hr())
        .await;
    assert_eq!((theirs["headcount"].as_u64(), theirs["number"].as_u64()), (Some(3), Some(7)));
    let shares = app
        .get_json(&format!("/api/v1/courses/{}/shares", offer["course_id"].as_str().unwrap()), &app.hr())
        .await;
    assert_eq!(shares["items"][0]["participant"]["code"], OTHER_ORG);
}

#[tokio::test]
async fn absence_notices_and_reports_stay_in_the_trainees_organisation() {
    let app = spawn().await;
    let hr = app.hr();
    let theirs = other_hr();
    // 厚木市's training office as someone who is none of the trainees (A001 is one).
    let office = token_for(OTHER_ORG, "atsugi-office", &[Role::HrAdmin]);
    participant_ready(&app).await;
    let (course, _, their_course) = shared_and_selected(&app, 7).await;
    let course_id = course["id"].as_str().unwrap();
    let host_sessions: Vec<String> = course["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let copies = app.get_json(&format!("/api/v1/courses/{their_course}"), &theirs).await["sessions"].clone();
    let selected =
        app.get_json(&format!("/api/v1/courses/{their_course}/nominations?state=selected"), &theirs).await;
    let (a, b) = (selected["items"][0].clone(), selected["items"][1].clone());
    let token_of =
        |n: &Value| token_for(OTHER_ORG, n["employee"]["employee_no"].as_str().unwrap(), &[Role::Employee]);

    // A's absence notice for day one goes to 厚木市: its training office receives it (the section
    // has no head to confirm it). 伊勢原市 sees no notice, only that the absence is notified.
    let body =
        json!({"session_id": copies[0]["id"], "kind": "absence", "reason": "公務のため", "submit": true});
    let notice = created(
        app.post_json(
            &format!("/api/v1/nominations/{}/absence-notices", a["id"].as_str().unwrap()),
            &token_of(&a),
            &body,
        )
        .await,
    )
    .await;
    let notice_path = format!("/api/v1/absence-notices/{}", notice["id"].as_str().unwrap());
    let received = ok(event(
        &app,
        &office,
        &notice_path,
        json!({"event": "receive_directly", "comment": "所属長不在のため"}),
    )
    .await)
    .await;
    assert_eq!(received["state"], "received");
    assert_eq!(app.get(&notice_path, &hr).await.status(), 404);
    let host_notices = app
        .get_json(&format!("/api/v1/courses/{course_id}/sessions/{}/absence-notices", host_sessions[0]), &hr)
        .await;
    assert_eq!(host_notices["items"], json!([]), "{host_notices}");
    let sheet_path = |sid: &str| format!("/api/v1/courses/{course_id}/sessions/{sid}/joint-attendance");
    let sheet = app.get_json(&sheet_path(&host_sessions[0]), &hr).await;
    let line = |sheet: &Value, n: &Value| {
        sheet["lines"].as_array().unwrap().iter().find(|l| l["trainee_id"] == n["id"]).unwrap().clone()
    };
    assert_eq!(line(&sheet, &a)["absence_notified"], true);
    assert_eq!(line(&sheet, &b)["absence_notified"], false);
    assert!(!sheet.to_string().contains("公務のため"), "the reason stays with 厚木市");
    // … unless 厚木市's training office shares it. 伊勢原市 cannot.
    let sharing = format!("{notice_path}/host-sharing");
    let current = app.get_json(&notice_path, &office).await;
    let res = app.put_json(&sharing, &hr, Some(&tag(&current)), &json!({"share_reason": true})).await;
    assert_eq!(res.status(), 404);
    let shared =
        ok(app.put_json(&sharing, &office, Some(&tag(&current)), &json!({"share_reason": true})).await).await;
    assert_eq!(shared["share_reason"], true);
    let sheet = app.get_json(&sheet_path(&host_sessions[0]), &hr).await;
    assert_eq!(line(&sheet, &a)["absence_reason"], "公務のため");
    assert_eq!(line(&sheet, &b)["absence_reason"], Value::Null);

    // The host records day one (A absent: excused) and day two; B completes.
    let day = |a_status: &str| {
        json!({"entries": [
            {"trainee_id": a["id"], "status": a_status}, {"trainee_id": b["id"], "status": "present"}
        ]})
    };
    let report = ok(app
        .request(Method::PUT, &sheet_path(&host_sessions[0]), Some(&hr))
        .json(&day("absent"))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(line(&report["sheet"], &a)["excused"], true);
    ok(app
        .request(Method::PUT, &sheet_path(&host_sessions[1]), Some(&hr))
        .json(&day("present"))
        .send()
        .await
        .unwrap())
    .await;

    // B's report is approved within 厚木市 (no department head there: its training office).
    let body =
        json!({"learned": "近隣市町村の事例", "application": "窓口業務の改善に活かす", "submit": true});
    let filed = created(
        app.post_json(
            &format!("/api/v1/nominations/{}/report", b["id"].as_str().unwrap()),
            &token_of(&b),
            &body,
        )
        .await,
    )
    .await;
    let report_path = format!("/api/v1/reports/{}", filed["id"].as_str().unwrap());
    assert_eq!(app.get(&report_path, &hr).await.status(), 404);
    let ours = app.get_json("/api/v1/reports?limit=200", &hr).await;
    assert!(ours["items"].as_array().unwrap().iter().all(|r| r["id"] != filed["id"]));
    let approved = ok(event(&app, &office, &report_path, json!({"event": "approve"})).await).await;
    assert_eq!(approved["state"], "approved");
    let results = app.get_json("/api/v1/plans/2023/results", &theirs).await;
    let row = results["courses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["course"]["id"] == their_course.as_str())
        .unwrap()
        .clone();
    assert_eq!((row["completed"].as_u64(), row["excused_absences"].as_u64()), (Some(1), Some(1)), "{row}");
}

/// An organisation that only hosts (a prefectural training centre): no staff of its own, a plan
/// with one course shared with two municipalities, each selecting its own.
#[tokio::test]
async fn an_organisation_that_only_hosts_shares_with_two_municipalities() {
    let app = spawn().await;
    {
        let txn = app.db.begin_write().await.unwrap();
        kenshu_persistence::repo::org::create(&txn, "test", "kanagawa-center", "神奈川県市町村研修センター")
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    let center = token_for("kanagawa-center", "center-hr", &[Role::HrAdmin]);
    created(app.post_json("/api/v1/plans", &center, &json!({"fiscal_year": 2023})).await).await;
    let body = json!({"fiscal_year": 2023, "category": "dispatch", "number": 1, "title": "政策形成能力研修",
        "timing": {"kind": "month", "month": 11}, "delivery": "dispatch", "institution": "市町村研修センター",
        "headcount": 0, "status": "published"});
    let course = created(app.post_json("/api/v1/courses", &center, &body).await).await;
    let id = course["id"].as_str().unwrap();
    let s = json!({"starts_at": "2023-11-09T09:30:00+09:00", "ends_at": "2023-11-09T16:30:00+09:00", "venue": "研修センター"});
    created(app.post_json(&format!("/api/v1/courses/{id}/sessions"), &center, &s).await).await;
    for (org, places) in ["isehara", OTHER_ORG].iter().zip([2, 1]) {
        created(
            app.post_json(
                &format!("/api/v1/courses/{id}/shares"),
                &center,
                &json!({"organisation": org, "places": places}),
            )
            .await,
        )
        .await;
    }
    // Both accept into plans of their own.
    created(app.post_json("/api/v1/plans", &app.hr(), &json!({"fiscal_year": 2023})).await).await;
    let isehara_offer = app.get_json("/api/v1/joint-offers", &app.hr()).await["items"][0].clone();
    assert_eq!(isehara_offer["host"]["name"], "神奈川県市町村研修センター");
    let ours = ok(event(
        &app,
        &app.hr(),
        &format!("/api/v1/joint-offers/{}", isehara_offer["id"].as_str().unwrap()),
        json!({"event": "accept"}),
    )
    .await)
    .await;
    participant_ready(&app).await;
    let atsugi_offer = app.get_json("/api/v1/joint-offers", &other_hr()).await["items"][0].clone();
    let theirs = ok(event(
        &app,
        &other_hr(),
        &format!("/api/v1/joint-offers/{}", atsugi_offer["id"].as_str().unwrap()),
        json!({"event": "accept"}),
    )
    .await)
    .await;
    let our_course = ours["your_course_id"].as_str().unwrap().to_string();
    assert_eq!(app.get_json(&format!("/api/v1/courses/{our_course}"), &app.hr()).await["headcount"], 2);
    let done = run_participant_selection(&app, theirs["your_course_id"].as_str().unwrap()).await;
    assert_eq!(done["selected"], 1);
    let roster = app.get_json(&format!("/api/v1/courses/{id}/joint-roster"), &center).await;
    assert_eq!(
        roster["by_organisation"],
        json!([{"organisation": {"code": OTHER_ORG, "name": "厚木市"}, "trainees": 1, "completed": 0}]),
        "{roster}"
    );
}

#[tokio::test]
async fn a_participants_trainee_checks_in_with_the_hosts_code() {
    use chrono::{Duration, Utc};
    let app = spawn().await;
    let hr = app.hr();
    let theirs = other_hr();
    let fy = kenshu_domain::calendar::FiscalYear::containing(kenshu_domain::calendar::tokyo_date(Utc::now()))
        .year();
    created(app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": fy})).await).await;
    let body = json!({"fiscal_year": fy, "category": "thematic", "number": 7, "title": "地域別研修",
        "timing": {"kind": "undecided"}, "delivery": "classroom", "headcount": 1, "status": "published"});
    let course = created(app.post_json("/api/v1/courses", &hr, &body).await).await;
    let id = course["id"].as_str().unwrap();
    let now = Utc::now();
    let s = json!({"starts_at": (now - Duration::minutes(10)).to_rfc3339(), "ends_at": (now + Duration::minutes(120)).to_rfc3339()});
    let session = created(app.post_json(&format!("/api/v1/courses/{id}/sessions"), &hr, &s).await).await;
    let sid = session["id"].as_str().unwrap();
    app.publish_plan(fy).await;
    let share = created(
        app.post_json(
            &format!("/api/v1/courses/{id}/shares"),
            &hr,
            &json!({"organisation": OTHER_ORG, "places": 1}),
        )
        .await,
    )
    .await;
    created(app.post_json("/api/v1/plans", &theirs, &json!({"fiscal_year": fy})).await).await;
    let offer_path = format!("/api/v1/joint-offers/{}", share["id"].as_str().unwrap());
    let accepted = ok(event(&app, &theirs, &offer_path, json!({"event": "accept"})).await).await;
    let their_course = accepted["your_course_id"].as_str().unwrap().to_string();
    assert_eq!(run_participant_selection(&app, &their_course).await["selected"], 1);

    // The host opens check-in; 厚木市's trainee scans the host's code (the host's session id).
    let opened =
        ok(app.post_json(&format!("/api/v1/courses/{id}/sessions/{sid}/check-in"), &hr, &json!({})).await)
            .await;
    let code = opened["code"].as_str().unwrap().to_string();
    let trainee = token_for(OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[Role::Employee]);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let post = |code: &str| {
        let body = json!({"session_id": sid, "code": code});
        let (app, trainee) = (&app, trainee.clone());
        async move { app.post_json("/api/v1/me/check-ins", &trainee, &body).await }
    };
    let p = assert_problem(post(wrong).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "code");
    let done = created(post(&code).await).await;
    assert_eq!(done["status"], "late");
    assert_eq!(done["course_id"], their_course.as_str(), "recorded on 厚木市's own course");
    // Someone of 伊勢原市 who holds no place there is refused with the same code.
    let colleague = app.token(people::EMPLOYEE, &[Role::Employee]);
    let res =
        app.post_json("/api/v1/me/check-ins", &colleague, &json!({"session_id": sid, "code": code})).await;
    assert_problem(res, 422, "validation").await;
    // The host's joint sheet shows it, recorded in 厚木市 as a check-in.
    let sheet = app.get_json(&format!("/api/v1/courses/{id}/sessions/{sid}/joint-attendance"), &hr).await;
    assert_eq!(sheet["lines"][0]["status"], "late", "{sheet}");
    let copy = done["session_id"].as_str().unwrap();
    let own =
        app.get_json(&format!("/api/v1/courses/{their_course}/sessions/{copy}/attendance"), &theirs).await;
    assert_eq!(own["lines"][0]["source"], "check_in");
    // Closed by the host: codes stop for everyone.
    ok(app
        .request(Method::DELETE, &format!("/api/v1/courses/{id}/sessions/{sid}/check-in"), Some(&hr))
        .send()
        .await
        .unwrap())
    .await;
    assert_problem(post(&code).await, 409, "conflict").await;
}
