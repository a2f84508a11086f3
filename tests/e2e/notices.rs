//! Notices for every event someone must know about or act on: each workflow move tells the
//! trainee, their heads, whoever must decide, or the training office, in the same transaction;
//! notices name their recipients by number, name, e-mail and portal login id; the pull outbox is
//! claimed with a lease, so two readers never take the same notice.

use chrono::{Duration, NaiveDate, Utc};
use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::attendance::{event, ok, put_sheet, selected_trainee};
use crate::routing::{apply, file_notice, open_course, path_of};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// What `no` has received, newest first.
async fn inbox(app: &TestApp, no: &str) -> Vec<Value> {
    let token = app.token(no, &[Role::Employee]);
    app.get_json("/api/v1/me/notices?limit=200", &token).await["items"].as_array().unwrap().clone()
}

/// The newest notice of `kind` `no` has received.
async fn newest(app: &TestApp, no: &str, kind: &str) -> Value {
    let all = inbox(app, no).await;
    all.iter().find(|n| n["kind"] == kind).cloned().unwrap_or_else(|| panic!("no {kind} for {no}: {all:?}"))
}

fn kinds(list: &[Value]) -> Vec<&str> {
    list.iter().map(|n| n["kind"].as_str().unwrap()).collect()
}

fn id_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn applications_and_selection_decisions_tell_the_trainee_their_head_and_the_confirmer() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, _) = open_course(&app, 41, &[d(2023, 7, 12)]).await;
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);

    // An application waits for the section head: they are asked, in the digest, by name.
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let mine = apply(&app, &me, &course).await;
    let asked = newest(&app, people::SECTION_HEAD, "awaiting_confirmation").await;
    assert_eq!((asked["recipient_role"].as_str(), asked["digest"].as_bool()), (Some("approver"), Some(true)));
    assert_eq!(asked["item"], json!({"type": "nomination", "id": id_of(&mine)}));
    assert_eq!(asked["recipient"]["employee_no"], people::SECTION_HEAD);
    assert_eq!(asked["body"]["trainee_employee_no"], people::EMPLOYEE);
    assert_eq!(
        asked["subject"],
        format!("【確認依頼】公募研修41（{}）", asked["body"]["trainee_name"].as_str().unwrap())
    );
    assert!(inbox(&app, people::EMPLOYEE).await.is_empty(), "the applicant is not told of their own act");

    // Not confirmed: the trainee hears why.
    let reject = json!({"event": "reject", "reason": "業務繁忙のため今回は見送り"});
    ok(event(&app, &head, &mine, reject).await, 200).await;
    let told = newest(&app, people::EMPLOYEE, "not_confirmed").await;
    assert_eq!(told["body"]["reason"], "業務繁忙のため今回は見送り");
    assert_eq!(told["recipient_role"], "trainee");
    assert_eq!(told["digest"], false);

    // Wait-listed, then not selected: the trainee and their head are told each time.
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    let theirs = apply(&app, &colleague, &course).await;
    ok(event(&app, &head, &theirs, json!({"event": "confirm"})).await, 200).await;
    ok(event(&app, &hr, &theirs, json!({"event": "waitlist"})).await, 200).await;
    ok(event(&app, &hr, &theirs, json!({"event": "decline", "reason": "定員超過のため"})).await, 200).await;
    assert_eq!(kinds(&inbox(&app, people::SAME_SECTION).await), vec!["not_selected", "waitlisted"]);
    let head_told = inbox(&app, people::SECTION_HEAD).await;
    let about_them: Vec<&str> = head_told
        .iter()
        .filter(|n| n["item"]["id"] == id_of(&theirs))
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(about_them, vec!["not_selected", "waitlisted", "awaiting_confirmation"]);
    assert_eq!(newest(&app, people::SAME_SECTION, "not_selected").await["body"]["reason"], "定員超過のため");

    // A trainee who withdraws a place: their head is told, they are not.
    let third = app.token("10011", &[Role::Employee]);
    let place = apply(&app, &third, &course).await;
    ok(event(&app, &head, &place, json!({"event": "confirm"})).await, 200).await;
    ok(event(&app, &hr, &place, json!({"event": "select"})).await, 200).await;
    ok(event(&app, &third, &place, json!({"event": "cancel"})).await, 200).await;
    assert!(inbox(&app, "10011").await.is_empty());
    let withdrawn = newest(&app, people::SECTION_HEAD, "place_cancelled").await;
    assert_eq!(withdrawn["item"]["id"], id_of(&place));
    assert_eq!(withdrawn["recipient_role"], "section_head");
    assert!(withdrawn["body"]["message"].as_str().unwrap().contains("取り下げ"));

    // An application withdrawn before anyone decided tells nobody anything new.
    let before = inbox(&app, people::SECTION_HEAD).await.len();
    let fourth = app.token("10012", &[Role::Employee]);
    let early = apply(&app, &fourth, &course).await;
    ok(event(&app, &fourth, &early, json!({"event": "cancel"})).await, 200).await;
    assert_eq!(inbox(&app, people::SECTION_HEAD).await.len(), before + 1, "only the request to confirm");
}

#[tokio::test]
async fn paperwork_asks_its_decider_and_comes_back_to_its_writer_with_the_comment() {
    let app = spawn().await;
    let hr = app.hr();
    let days = [d(2023, 7, 12), d(2023, 7, 19)];
    let (course, sessions, nid) = selected_trainee(&app, 2023, 42, &days).await;
    let nomination = format!("/api/v1/nominations/{nid}");
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);

    // An absence notice: the section head is asked, with the session it is for.
    let notice =
        path_of("absence-notices", &ok(file_notice(&app, &me, &nomination, &sessions[1]).await, 201).await);
    let asked = newest(&app, people::SECTION_HEAD, "awaiting_confirmation").await;
    assert_eq!(asked["item"], json!({"type": "absence_notice", "id": id_of(&notice)}));
    assert_eq!(asked["body"]["session"]["starts_at"], "2023-07-19T09:00:00+09:00");
    assert!(asked["body"]["message"].as_str().unwrap().contains("研修講座欠席届"));
    // Returned: the trainee reads the comment; confirming tells nobody (the office acts next).
    ok(event(&app, &head, &notice, json!({"event": "return", "comment": "理由を具体的に"})).await, 200).await;
    let back = newest(&app, people::EMPLOYEE, "returned").await;
    assert_eq!(
        (back["body"]["reason"].as_str(), back["item"]["type"].as_str()),
        (Some("理由を具体的に"), Some("absence_notice"))
    );
    let count = inbox(&app, people::SECTION_HEAD).await.len();
    ok(event(&app, &me, &notice, json!({"event": "submit"})).await, 200).await;
    assert_eq!(inbox(&app, people::SECTION_HEAD).await.len(), count + 1, "asked again on resubmission");
    ok(event(&app, &head, &notice, json!({"event": "confirm"})).await, 200).await;
    assert_eq!(inbox(&app, people::SECTION_HEAD).await.len(), count + 1);

    // A report waits for the department head's approval, not the section head's.
    let attended = json!([{"employee_no": people::EMPLOYEE, "status": "present"}]);
    ok(put_sheet(&app, &course, &sessions[0], attended).await, 200).await;
    let text = json!({"learned": "傾聴の技法", "application": "窓口対応に活かす", "submit": true});
    let report =
        path_of("reports", &ok(app.post_json(&format!("{nomination}/report"), &me, &text).await, 201).await);
    let asked = newest(&app, people::DEPARTMENT_HEAD, "awaiting_approval").await;
    assert_eq!(asked["item"], json!({"type": "training_report", "id": id_of(&report)}));
    assert_eq!(asked["subject"].as_str().unwrap().split('（').next(), Some("【決裁依頼】研修42"));
    let department_head = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);
    let comment = json!({"event": "return", "comment": "職場での活用を具体的に"});
    ok(event(&app, &department_head, &report, comment).await, 200).await;
    let back = newest(&app, people::EMPLOYEE, "returned").await;
    assert_eq!(back["item"]["type"], "training_report");
    assert_eq!(back["body"]["reason"], "職場での活用を具体的に");

    // A department head's own report: nobody above them on the roster, so the training office
    // as a whole is asked; it has no one recipient, and HR reads it in the outbox.
    let (course2, sessions2) = open_course(&app, 43, &[d(2023, 7, 12)]).await;
    let own = app.token(people::DEPARTMENT_HEAD, &[Role::Employee, Role::DepartmentHead]);
    let application = apply(&app, &own, &course2).await;
    let asked = app.get_json("/api/v1/notices?limit=200", &hr).await;
    let office: Vec<&Value> = asked["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["item"]["id"] == id_of(&application))
        .collect();
    assert_eq!(office.len(), 1, "{office:?}");
    assert_eq!(
        (office[0]["recipient_role"].as_str(), &office[0]["recipient"]),
        (Some("training_office"), &Value::Null)
    );
    ok(event(&app, &hr, &application, json!({"event": "confirm"})).await, 200).await;
    ok(event(&app, &hr, &application, json!({"event": "select"})).await, 200).await;
    let attended = json!([{"employee_no": people::DEPARTMENT_HEAD, "status": "present"}]);
    ok(put_sheet(&app, &course2, &sessions2[0], attended).await, 200).await;
    let text = json!({"learned": "交渉の技法", "application": "部内の調整に活かす", "submit": true});
    let nid2 = id_of(&application);
    ok(app.post_json(&format!("/api/v1/nominations/{nid2}/report"), &own, &text).await, 201).await;
    let asked = app.get_json("/api/v1/notices?limit=200", &hr).await;
    assert!(asked["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["kind"] == "awaiting_approval" && n["recipient_role"] == "training_office"));
}

#[tokio::test]
async fn subsidy_and_study_group_decisions_reach_the_applicant_with_the_amount() {
    let app = spawn().await;
    let hr = app.hr();
    let courses = crate::subsidies::programme(&app, 100_000).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let a = ok(
        app.post_json("/api/v1/subsidy-applications", &me, &json!({"course_id": courses["簿記3級"]})).await,
        201,
    )
    .await;
    let id = a["id"].as_str().unwrap();
    let asked = newest(&app, people::SECTION_HEAD, "awaiting_confirmation").await;
    assert_eq!(asked["item"], json!({"type": "subsidy_application", "id": id}));
    assert_eq!(asked["body"]["title"], "簿記3級");
    assert!(asked["body"].get("course_id").is_none(), "not a course of the catalogue");
    ok(crate::subsidies::event(&app, &head, id, json!({"event": "confirm"})).await, 200).await;
    ok(crate::subsidies::event(&app, &hr, id, json!({"event": "approve"})).await, 200).await;
    let approved = newest(&app, people::EMPLOYEE, "subsidy_decided").await;
    assert_eq!(approved["subject"], "【通信教育講座助成】簿記3級");
    assert_eq!(approved["body"]["amount_yen"], 20_000);
    assert!(approved["body"]["message"].as_str().unwrap().contains("承認されました"));

    // A study group's grant: its representative hears of it.
    let fy = crate::subsidies::this_year();
    ok(
        app.post_json(&format!("/api/v1/subsidies/{fy}/study_group"), &hr, &json!({"budget_yen": 50_000}))
            .await,
        201,
    )
    .await;
    let body = json!({"fiscal_year": fy, "name": "窓口サービス研究会", "theme": "待ち時間の短縮", "member_nos": [people::SAME_SECTION]});
    let g = ok(app.post_json("/api/v1/study-groups", &me, &body).await, 201).await;
    let path = format!("/api/v1/study-groups/{}", g["id"].as_str().unwrap());
    let plan = json!({"plan": "月1回の勉強会", "planned_yen": 25_000});
    ok(crate::subsidies::group_put(&app, &me, &format!("{path}/plan"), plan).await, 200).await;
    let grant = json!({"event": "approve", "grant_yen": 25_000});
    ok(crate::subsidies::group_put(&app, &hr, &format!("{path}/events"), grant).await, 200).await;
    let granted = newest(&app, people::EMPLOYEE, "study_group_decided").await;
    assert_eq!(
        (granted["body"]["amount_yen"].as_i64(), granted["body"]["title"].as_str()),
        (Some(25_000), Some("窓口サービス研究会"))
    );
    assert!(inbox(&app, people::SAME_SECTION).await.is_empty(), "the representative is told, for the group");
}

/// Claim from the outbox as `token`.
async fn claim(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_json("/api/v1/notices/claim", token, &body).await
}

#[tokio::test]
async fn readers_claim_the_outbox_with_a_lease_and_never_take_the_same_notice() {
    let app = spawn().await;
    let hr = app.hr();
    // Recipients are named as the roster has them now, with e-mail and portal login id.
    let me = app.employee(people::EMPLOYEE).await;
    let mut body = me.clone();
    for k in ["id", "department_id", "hired_fiscal_year", "version", "created_at", "updated_at", "active"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["email"] = json!("yuko.yamaguchi@example.jp");
    body["portal_login_id"] = json!("ｙａｍａｇｕｃｈｉ");
    let path = format!("/api/v1/employees/{}", me["id"].as_str().unwrap());
    let saved = ok(app.put_json(&path, &hr, Some(&format!("\"{}\"", me["version"])), &body).await, 200).await;
    assert_eq!(saved["portal_login_id"], "yamaguchi");
    let (course, _, _) = selected_trainee(&app, 2023, 44, &[d(2023, 7, 12)]).await;
    for no in [people::SAME_SECTION, "10011", "10012"] {
        crate::attendance::recommend(&app, &course, no, "select").await;
    }
    ok(app.post_json(&format!("/api/v1/courses/{course}/notify"), &hr, &json!({})).await, 200).await;
    let all = app.get_json("/api/v1/notices?undelivered=true&limit=200", &hr).await;
    let total = all["items"].as_array().unwrap().len();
    assert_eq!(total, 8, "four trainees and their head four times");

    // Bad limits and leases are refused and claim nothing.
    let portal = app.token("desknets-portal", &[Role::Importer]);
    for bad in [
        json!({"limit": 0}),
        json!({"limit": 201}),
        json!({"lease_seconds": 5}),
        json!({"limit": 1, "lease": 60}),
    ] {
        assert_problem(claim(&app, &portal, bad).await, 422, "validation").await;
    }
    let untouched = app.get_json("/api/v1/notices?limit=200", &hr).await;
    assert!(untouched["items"].as_array().unwrap().iter().all(|n| n["claimed_until"].is_null()));

    // Two readers at once: what one holds the other does not get.
    let start = Utc::now();
    app.clock.set(start);
    let (a, b) = tokio::join!(
        claim(&app, &portal, json!({"limit": 5, "lease_seconds": 60})),
        claim(&app, &portal, json!({"limit": 5, "lease_seconds": 60}))
    );
    let (a, b) = (ok(a, 200).await, ok(b, 200).await);
    let ids = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect()
    };
    let (ia, ib) = (ids(&a), ids(&b));
    assert_eq!(ia.len() + ib.len(), total, "{ia:?} {ib:?}");
    assert!(ia.iter().all(|id| !ib.contains(id)), "the same notice twice: {ia:?} {ib:?}");
    let trainee = a["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(b["items"].as_array().unwrap())
        .find(|n| n["recipient"]["employee_no"] == people::EMPLOYEE && n["recipient_role"] == "trainee")
        .unwrap()
        .clone();
    assert_eq!(trainee["recipient"]["email"], "yuko.yamaguchi@example.jp");
    assert_eq!(trainee["recipient"]["portal_login_id"], "yamaguchi");
    assert_eq!(trainee["kind"], "training_notice");
    assert!(claim(&app, &portal, json!({})).await.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // One is delivered; the lease of the rest runs out and they are offered again, once.
    let first = &ia[0];
    let res = app
        .request(Method::POST, &format!("/api/v1/notices/{first}/delivered"), Some(&portal))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.clock.set(start + Duration::seconds(61));
    let again = ok(claim(&app, &portal, json!({"limit": 200})).await, 200).await;
    let again = ids(&again);
    assert_eq!(again.len(), total - 1);
    assert!(!again.contains(first), "a delivered notice is never offered again");
    // Employees and heads do not read or claim the outbox.
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    assert_problem(claim(&app, &head, json!({})).await, 403, "forbidden").await;
}

#[tokio::test]
async fn a_trainee_moved_to_another_date_is_told_with_their_one_session() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions, nid) = selected_trainee(&app, 2023, 45, &[d(2023, 7, 12), d(2023, 7, 19)]).await;
    ok(app.post_json(&format!("/api/v1/courses/{course}/notify"), &hr, &json!({})).await, 200).await;
    let told = newest(&app, people::EMPLOYEE, "training_notice").await;
    assert_eq!(told["body"]["sessions"].as_array().unwrap().len(), 2, "the whole course: both dates");
    let body = json!({"ids": [nid], "move_to_session": sessions[1]});
    ok(app.post_json(&format!("/api/v1/courses/{course}/nominations/bulk"), &hr, &body).await, 200).await;
    let moved = newest(&app, people::EMPLOYEE, "session_changed").await;
    let dates: Vec<&str> = moved["body"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    assert_eq!(dates, vec!["2023-07-19T09:00:00+09:00"], "only the date they are on now");
    assert!(moved["body"]["previous"].is_null(), "they were on the whole course");
    assert!(moved["body"]["message"].as_str().unwrap().contains("日程が変更"));
    assert_eq!(newest(&app, people::SECTION_HEAD, "session_changed").await["item"]["id"], nid.as_str());
    // Moved again, from one date to the other: the date it was on is named.
    let body = json!({"ids": [nid], "move_to_session": sessions[0]});
    ok(app.post_json(&format!("/api/v1/courses/{course}/nominations/bulk"), &hr, &body).await, 200).await;
    let again = newest(&app, people::EMPLOYEE, "session_changed").await;
    assert_eq!(again["body"]["previous"]["starts_at"], "2023-07-19T09:00:00+09:00");
}
