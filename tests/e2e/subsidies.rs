//! The correspondence-course subsidy (通信教育講座助成) over HTTP: the year's budget and course
//! catalogue, applications through the section head and HR, proofs, the subsidy and the budget.

use kenshu_domain::auth::Role;
use kenshu_domain::calendar::{tokyo_date, FiscalYear};
use kenshu_tests::{assert_problem, people, row_errors, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::attendance::ok;

const CATALOGUE: &str = "実施団体,講座名,分野,受講料,期間\n\
    日本通信教育協会,実用英語入門,語学,\"45,001\",6か月\n\
    日本通信教育協会,簿記3級,資格,40000,4\n\
    ビジネス教育社,Excel実践,ＯＡ,10000,3\n";

pub(crate) fn this_year() -> i32 {
    FiscalYear::containing(tokyo_date(chrono::Utc::now())).year()
}

async fn import(app: &TestApp, fy: i32, q: &str, csv: &str) -> reqwest::Response {
    let path = format!("/api/v1/subsidies/{fy}/correspondence/courses/import{q}");
    app.post_csv(&path, &app.hr(), "text/csv", csv.as_bytes().to_vec()).await
}

/// The year's programme with `budget` and the catalogue loaded; the course ids by title.
pub(crate) async fn programme(app: &TestApp, budget: i64) -> std::collections::HashMap<String, String> {
    let fy = this_year();
    let body = json!({"budget_yen": budget});
    ok(app.post_json(&format!("/api/v1/subsidies/{fy}/correspondence"), &app.hr(), &body).await, 201).await;
    ok(import(app, fy, "", CATALOGUE).await, 200).await;
    let list = app.get_json(&format!("/api/v1/subsidies/{fy}/correspondence/courses"), &app.hr()).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["title"].as_str().unwrap().to_string(), c["id"].as_str().unwrap().to_string()))
        .collect()
}

pub(crate) async fn event(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    let path = format!("/api/v1/subsidy-applications/{id}");
    let current = app.get_json(&path, &app.hr()).await;
    app.request(Method::POST, &format!("{path}/events"), Some(token))
        .header("If-Match", format!("\"{}\"", current["version"]))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `no` applies for `course`; their section head confirms. Returns the application id.
pub(crate) async fn confirmed(app: &TestApp, no: &str, course: &str) -> String {
    let me = app.token(no, &[Role::Employee]);
    let a = ok(app.post_json("/api/v1/subsidy-applications", &me, &json!({"course_id": course})).await, 201)
        .await;
    let id = a["id"].as_str().unwrap().to_string();
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    ok(event(app, &head, &id, json!({"event": "confirm"})).await, 200).await;
    id
}

pub(crate) async fn put_proof(
    app: &TestApp,
    token: &str,
    id: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.request(Method::PUT, &format!("/api/v1/subsidy-applications/{id}/proof"), Some(token))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_catalogue_imports_all_or_nothing_and_again_changes_nothing() {
    let app = spawn().await;
    let fy = this_year();
    let bad = "実施団体,講座名,分野,受講料,期間\n協会,英語,語学,38500,6\n協会,料理,趣味,1000,3\n協会,英語,語学,38500,6\n協会,x,教養,無料,3\n";
    let p = assert_problem(import(&app, fy, "", bad).await, 422, "import-rejected").await;
    assert_eq!(row_errors(&p), vec![(3, "分野"), (4, "講座名"), (5, "受講料")]);
    let dry = ok(import(&app, fy, "?dry_run=true", CATALOGUE).await, 200).await;
    assert_eq!((dry["dry_run"].as_bool(), dry["created"].as_u64()), (Some(true), Some(3)));
    let list = format!("/api/v1/subsidies/{fy}/correspondence/courses");
    assert_eq!(app.get_json(&list, &app.hr()).await["items"], json!([]));
    ok(import(&app, fy, "", CATALOGUE).await, 200).await;
    let again = ok(import(&app, fy, "", CATALOGUE).await, 200).await;
    assert_eq!((again["created"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(3)));
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let languages = app.get_json(&format!("{list}?field=language"), &me).await;
    assert_eq!(languages["items"][0]["tuition_yen"], 45_001);
    assert_eq!(languages["items"].as_array().unwrap().len(), 1);
    let res = app.post_csv(&format!("{list}/import"), &me, "text/csv", CATALOGUE.as_bytes().to_vec()).await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn an_application_goes_through_the_section_head_and_hr_to_a_subsidy_of_half_the_tuition_paid() {
    let app = spawn().await;
    let fy = this_year();
    let courses = programme(&app, 40_000).await;
    let hr = app.hr();
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let english = &courses["実用英語入門"];

    let a = ok(
        app.post_json(
            "/api/v1/subsidy-applications",
            &me,
            &json!({"course_id": english, "reason": "窓口対応"}),
        )
        .await,
        201,
    )
    .await;
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!((a["state"].as_str(), a["tuition_yen"].as_i64()), (Some("applied"), Some(45_001)));
    assert_problem(
        app.post_json("/api/v1/subsidy-applications", &me, &json!({"course_id": english})).await,
        409,
        "conflict",
    )
    .await;
    // Nobody confirms their own, not even as a section head; HR cannot approve before the head.
    let me_as_head = app.token(people::EMPLOYEE, &[Role::Employee, Role::SectionHead]);
    assert_problem(event(&app, &me_as_head, &id, json!({"event": "confirm"})).await, 403, "forbidden").await;
    let p =
        assert_problem(event(&app, &hr, &id, json!({"event": "approve"})).await, 409, "invalid-transition")
            .await;
    assert_eq!(p["current_state"], "applied");
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let section = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    let waiting =
        app.get_json(&format!("/api/v1/sections/{section}/subsidy-applications?state=applied"), &head).await;
    assert_eq!(waiting["items"][0]["id"], a["id"]);
    ok(event(&app, &head, &id, json!({"event": "confirm"})).await, 200).await;
    let approved = ok(event(&app, &hr, &id, json!({"event": "approve"})).await, 200).await;
    assert_eq!(approved["approved_yen"], 22_500, "half of 45,001, rounded down");

    // The colleague's 20,000 would exceed the remaining 17,500: refused, nothing written.
    let bookkeeping = confirmed(&app, people::SAME_SECTION, &courses["簿記3級"]).await;
    let p =
        assert_problem(event(&app, &hr, &bookkeeping, json!({"event": "approve"})).await, 409, "conflict")
            .await;
    assert!(p["detail"].as_str().unwrap().contains("17500 remains"), "{p}");
    assert_eq!(
        app.get_json(&format!("/api/v1/subsidy-applications/{bookkeeping}"), &hr).await["state"],
        "confirmed"
    );

    // The proof: a PDF, JPEG or PNG of at most 5 MiB that is what it says.
    let pdf = b"%PDF-1.4\n% proof of completion\n".to_vec();
    assert_problem(
        put_proof(&app, &me, &id, "application/zip", b"PK\x03\x04".to_vec()).await,
        415,
        "unsupported-media-type",
    )
    .await;
    assert_problem(put_proof(&app, &me, &id, "image/png", pdf.clone()).await, 415, "unsupported-media-type")
        .await;
    let big = [b"%PDF-".to_vec(), vec![0u8; 5 * 1024 * 1024]].concat();
    assert_problem(put_proof(&app, &me, &id, "application/pdf", big).await, 413, "payload-too-large").await;
    assert_problem(put_proof(&app, &head, &id, "application/pdf", pdf.clone()).await, 403, "forbidden").await;
    let p = assert_problem(
        event(&app, &me, &id, json!({"event": "report_completion", "paid_tuition_yen": 39_999})).await,
        409,
        "conflict",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("proof"), "{p}");
    // A second proof replaces the first.
    let png = b"\x89PNG\r\n\x1a\n first scan".to_vec();
    assert_eq!(put_proof(&app, &me, &id, "image/png", png).await.status(), 204);
    assert_eq!(put_proof(&app, &me, &id, "application/pdf", pdf.clone()).await.status(), 204);
    assert_problem(event(&app, &me, &id, json!({"event": "report_completion"})).await, 422, "validation")
        .await;
    let reported = ok(
        event(&app, &me, &id, json!({"event": "report_completion", "paid_tuition_yen": 39_999})).await,
        200,
    )
    .await;
    assert_eq!((reported["state"].as_str(), reported["has_proof"].as_bool()), (Some("reported"), Some(true)));
    let res = app.get(&format!("/api/v1/subsidy-applications/{id}/proof"), &hr).await;
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);

    // HR verifies: half of 39,999 rounded down; then pays.
    let verified = ok(event(&app, &hr, &id, json!({"event": "verify"})).await, 200).await;
    assert_eq!(verified["subsidy_yen"], 19_999);
    ok(event(&app, &hr, &id, json!({"event": "mark_paid"})).await, 200).await;
    let budget = app.get_json(&format!("/api/v1/subsidies/{fy}/correspondence"), &hr).await;
    assert_eq!(
        (budget["paid_yen"].as_i64(), budget["committed_yen"].as_i64(), budget["remaining_yen"].as_i64()),
        (Some(19_999), Some(0), Some(20_001)),
        "{budget}"
    );
    // Now the colleague's 20,000 fits.
    ok(event(&app, &hr, &bookkeeping, json!({"event": "approve"})).await, 200).await;
    let mine = app.get_json("/api/v1/me/subsidy-applications", &me).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    // The lists read applicants, courses and proofs once for all rows and show the same as one.
    let one = app
        .get_json(&format!("/api/v1/subsidy-applications/{}", mine["items"][0]["id"].as_str().unwrap()), &hr)
        .await;
    assert_eq!(mine["items"][0], one);
    assert_eq!(one["has_proof"], true);
    let all = app.get_json(&format!("/api/v1/subsidy-applications?fiscal_year={fy}"), &hr).await;
    let proofs: Vec<_> =
        all["items"].as_array().unwrap().iter().map(|a| a["has_proof"].as_bool().unwrap()).collect();
    assert_eq!(proofs.len(), 2);
    assert_eq!(proofs.iter().filter(|p| **p).count(), 1, "{all}");
    // A budget below what is drawn is refused.
    let res = app
        .put_json(
            &format!("/api/v1/subsidies/{fy}/correspondence"),
            &hr,
            Some(&format!("\"{}\"", budget["version"])),
            &json!({"budget_yen": 30_000}),
        )
        .await;
    assert_problem(res, 422, "validation").await;
}

#[tokio::test]
async fn hr_does_not_approve_its_own_and_not_completed_means_no_subsidy() {
    let app = spawn().await;
    let courses = programme(&app, 100_000).await;
    let hr = app.hr();
    // HR's own application: HR cannot move it as HR.
    let hr_as_employee = app.token(people::HR, &[Role::Employee, Role::HrAdmin]);
    let a = ok(
        app.post_json(
            "/api/v1/subsidy-applications",
            &hr_as_employee,
            &json!({"course_id": courses["Excel実践"]}),
        )
        .await,
        201,
    )
    .await;
    let own = a["id"].as_str().unwrap().to_string();
    assert_problem(
        event(&app, &hr_as_employee, &own, json!({"event": "reject", "comment": "x"})).await,
        403,
        "forbidden",
    )
    .await;
    // Not completed: no subsidy, the commitment is released.
    let id = confirmed(&app, people::EMPLOYEE, &courses["Excel実践"]).await;
    ok(event(&app, &hr, &id, json!({"event": "approve"})).await, 200).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let done = ok(event(&app, &me, &id, json!({"event": "report_not_completed"})).await, 200).await;
    assert_eq!((done["state"].as_str(), done["subsidy_yen"].as_i64()), (Some("not_completed"), Some(0)));
    let budget = app.get_json(&format!("/api/v1/subsidies/{}/correspondence", this_year()), &hr).await;
    assert_eq!(budget["remaining_yen"], 100_000);
    // Rejecting needs a reason.
    let other = confirmed(&app, people::SAME_SECTION, &courses["Excel実践"]).await;
    assert_problem(event(&app, &hr, &other, json!({"event": "reject"})).await, 422, "validation").await;
    let rejected =
        ok(event(&app, &hr, &other, json!({"event": "reject", "comment": "予算の都合"})).await, 200).await;
    assert_eq!(rejected["comment"], "予算の都合");
}

/// The whole roster as the personnel system exports it, without `no` (who has retired).
async fn roster_without(app: &TestApp, no: &str) -> String {
    crate::import::roster_csv(app, |e, code| (e["employee_no"] != no).then_some(code)).await
}

/// A leaver's application still waiting for a decision is withdrawn with them (退職により取下げ);
/// an approved one keeps its commitment until HR settles it.
#[tokio::test]
async fn a_leavers_waiting_application_is_withdrawn_and_an_approved_one_waits_for_hr() {
    let app = spawn().await;
    let courses = programme(&app, 100_000).await;
    let hr = app.hr();
    let waiting = confirmed(&app, people::EMPLOYEE, &courses["簿記3級"]).await;
    let approved = confirmed(&app, people::EMPLOYEE, &courses["Excel実践"]).await;
    ok(event(&app, &hr, &approved, json!({"event": "approve"})).await, 200).await;
    let colleague = confirmed(&app, people::SAME_SECTION, &courses["簿記3級"]).await;

    // The employee retires: left out of the full roster.
    let csv = roster_without(&app, people::EMPLOYEE).await;
    let dry = crate::cascades::import_roster(&app, "mode=full&dry_run=true", csv.clone()).await;
    assert_eq!(dry["subsidies_withdrawn"], 1, "{dry}");
    let path = |id: &str| format!("/api/v1/subsidy-applications/{id}");
    assert_eq!(app.get_json(&path(&waiting), &hr).await["state"], "confirmed", "a dry run changes nothing");
    let report = crate::cascades::import_roster(&app, "mode=full", csv).await;
    assert_eq!((report["deactivated"].as_u64(), report["subsidies_withdrawn"].as_u64()), (Some(1), Some(1)));
    let lapsed = app.get_json(&path(&waiting), &hr).await;
    assert_eq!(
        (lapsed["state"].as_str(), lapsed["comment"].as_str()),
        (Some("withdrawn"), Some("退職により取下げ"))
    );
    assert_eq!(app.get_json(&path(&colleague), &hr).await["state"], "confirmed", "a colleague's stays");
    let audit = app.get_json(&format!("/api/v1/audit?entity_id={waiting}&limit=1"), &hr).await;
    assert_eq!(audit["items"][0]["action"], "subsidy_application.lapse");
    // The approved one keeps its commitment; HR settles it as not completed, which releases it.
    assert_eq!(app.get_json(&path(&approved), &hr).await["state"], "approved");
    let budget = format!("/api/v1/subsidies/{}/correspondence", this_year());
    assert_eq!(app.get_json(&budget, &hr).await["committed_yen"], 5_000);
    ok(event(&app, &hr, &approved, json!({"event": "report_not_completed"})).await, 200).await;
    assert_eq!(app.get_json(&budget, &hr).await["committed_yen"], 0);
}

#[tokio::test]
async fn concurrent_approvals_never_overspend_the_budget() {
    let app = spawn().await;
    let courses = programme(&app, 12_000).await;
    // Four applications of 5,000 each against 12,000: two fit.
    let mut ids = Vec::new();
    for no in ["10006", "10007", "10008", people::EMPLOYEE] {
        ids.push(confirmed(&app, no, &courses["Excel実践"]).await);
    }
    let hr = app.hr();
    let (a, b, c, d) = tokio::join!(
        event(&app, &hr, &ids[0], json!({"event": "approve"})),
        event(&app, &hr, &ids[1], json!({"event": "approve"})),
        event(&app, &hr, &ids[2], json!({"event": "approve"})),
        event(&app, &hr, &ids[3], json!({"event": "approve"})),
    );
    let statuses: Vec<u16> = [a, b, c, d].iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 2, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 200 | 409)), "{statuses:?}");
    let budget = app.get_json(&format!("/api/v1/subsidies/{}/correspondence", this_year()), &hr).await;
    assert_eq!(
        (budget["committed_yen"].as_i64(), budget["remaining_yen"].as_i64()),
        (Some(10_000), Some(2_000))
    );
}

#[tokio::test]
async fn applications_are_taken_only_within_the_window() {
    let app = spawn().await;
    let fy = FiscalYear::containing(tokyo_date(chrono::Utc::now()));
    let closed = json!({"budget_yen": 1000, "application_window": {"opens": fy.start().to_string(), "closes": fy.start().to_string()}});
    let today = tokyo_date(chrono::Utc::now());
    ok(
        app.post_json(&format!("/api/v1/subsidies/{}/correspondence", fy.year()), &app.hr(), &closed).await,
        201,
    )
    .await;
    ok(import(&app, fy.year(), "", CATALOGUE).await, 200).await;
    let list =
        app.get_json(&format!("/api/v1/subsidies/{}/correspondence/courses", fy.year()), &app.hr()).await;
    let course = list["items"][0]["id"].clone();
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let res = app.post_json("/api/v1/subsidy-applications", &me, &json!({"course_id": course})).await;
    if today == fy.start() {
        assert_eq!(res.status(), 201, "the window is today");
    } else {
        assert_problem(res, 409, "conflict").await;
        assert_eq!(app.get_json("/api/v1/me/subsidy-applications", &me).await["items"], json!([]));
    }
}

pub(crate) async fn group_put(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    let base =
        ["/plan", "/settlement", "/events", "/members"].iter().fold(path, |p, s| p.trim_end_matches(s));
    let current = app.get_json(base, &app.hr()).await;
    let method = if path.ends_with("/events") { Method::POST } else { Method::PUT };
    app.request(method, path, Some(token))
        .header("If-Match", format!("\"{}\"", current["version"]))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_study_group_is_granted_at_most_thirty_thousand_within_the_budget_and_settled_on_spending() {
    let app = spawn().await;
    let fy = this_year();
    let hr = app.hr();
    ok(
        app.post_json(&format!("/api/v1/subsidies/{fy}/study_group"), &hr, &json!({"budget_yen": 50_000}))
            .await,
        201,
    )
    .await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let bad = json!({"fiscal_year": fy, "name": " ", "theme": "窓口改善", "member_nos": ["99999", people::SAME_SECTION, people::SAME_SECTION]});
    let p = assert_problem(app.post_json("/api/v1/study-groups", &me, &bad).await, 422, "validation").await;
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["name", "member_nos[0]", "member_nos[2]"]);
    let body = json!({"fiscal_year": fy, "name": "窓口サービス研究会", "theme": "待ち時間の短縮", "member_nos": [people::SAME_SECTION]});
    let g = ok(app.post_json("/api/v1/study-groups", &me, &body).await, 201).await;
    assert_eq!(g["members"].as_array().unwrap().len(), 2);
    assert_problem(app.post_json("/api/v1/study-groups", &me, &body).await, 409, "conflict").await;
    let path = format!("/api/v1/study-groups/{}", g["id"].as_str().unwrap());

    // Only the representative files; members and HR read; outsiders do not.
    let member = app.token(people::SAME_SECTION, &[Role::Employee]);
    let plan = json!({"plan": "月1回の勉強会と先進市視察", "planned_yen": 45_000});
    assert_problem(group_put(&app, &member, &format!("{path}/plan"), plan.clone()).await, 403, "forbidden")
        .await;
    assert_eq!(app.get_json(&path, &member).await["state"], "registered");
    let outsider = app.token(people::OTHER_DEPARTMENT, &[Role::Employee]);
    assert_problem(app.get(&path, &outsider).await, 403, "forbidden").await;
    // Settling before a grant is refused.
    let settle = json!({"spent_yen": 27_480, "report": "視察報告を共有"});
    assert_problem(
        group_put(&app, &me, &format!("{path}/settlement"), settle.clone()).await,
        409,
        "invalid-transition",
    )
    .await;
    ok(group_put(&app, &me, &format!("{path}/plan"), plan).await, 200).await;

    // ¥30,000 at most, never more than the plan; members do not decide.
    let events = format!("{path}/events");
    let p = assert_problem(
        group_put(&app, &hr, &events, json!({"event": "approve", "grant_yen": 30_001})).await,
        422,
        "validation",
    )
    .await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("30000"), "{p}");
    let member_hr = app.token(people::SAME_SECTION, &[Role::Employee, Role::HrAdmin]);
    assert_problem(
        group_put(&app, &member_hr, &events, json!({"event": "approve", "grant_yen": 30_000})).await,
        403,
        "forbidden",
    )
    .await;
    let granted =
        ok(group_put(&app, &hr, &events, json!({"event": "approve", "grant_yen": 30_000})).await, 200).await;
    assert_eq!(
        (granted["state"].as_str(), granted["approved_yen"].as_i64()),
        (Some("approved"), Some(30_000))
    );

    // A second group finds ¥20,000 left in the budget.
    let colleague = app.token("10008", &[Role::Employee]);
    let second =
        json!({"fiscal_year": fy, "name": "防災研究会", "theme": "避難所運営", "member_nos": ["10007"]});
    let g2 = ok(app.post_json("/api/v1/study-groups", &colleague, &second).await, 201).await;
    let path2 = format!("/api/v1/study-groups/{}", g2["id"].as_str().unwrap());
    ok(
        group_put(&app, &colleague, &format!("{path2}/plan"), json!({"plan": "訓練", "planned_yen": 30_000}))
            .await,
        200,
    )
    .await;
    let p = assert_problem(
        group_put(&app, &hr, &format!("{path2}/events"), json!({"event": "approve", "grant_yen": 25_000}))
            .await,
        409,
        "conflict",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("20000"), "{p}");
    let budget = app.get_json(&format!("/api/v1/subsidies/{fy}/study_group"), &hr).await;
    assert_eq!(
        (budget["committed_yen"].as_i64(), budget["remaining_yen"].as_i64()),
        (Some(30_000), Some(20_000))
    );

    // Statement and report; the grant is settled on the spending.
    ok(group_put(&app, &me, &format!("{path}/settlement"), settle).await, 200).await;
    let settled = ok(group_put(&app, &hr, &events, json!({"event": "settle"})).await, 200).await;
    assert_eq!((settled["state"].as_str(), settled["settled_yen"].as_i64()), (Some("settled"), Some(27_480)));
    let budget = app.get_json(&format!("/api/v1/subsidies/{fy}/study_group"), &hr).await;
    assert_eq!((budget["paid_yen"].as_i64(), budget["remaining_yen"].as_i64()), (Some(27_480), Some(22_520)));
    assert_eq!(
        app.get_json("/api/v1/me/study-groups", &member).await["items"][0]["name"],
        "窓口サービス研究会"
    );

    // Membership is an audience rule of the catalogue: the two groups' four members, this year.
    ok(app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": fy})).await, 201).await;
    let course = json!({"fiscal_year": fy, "category": "self_development", "number": 2, "title": "自主研究グループ助成",
        "rules": [{"route": "designation", "conditions": [{"kind": "study_group_members"}]}], "delivery": "classroom"});
    let c = ok(app.post_json("/api/v1/courses", &hr, &course).await, 201).await;
    let id = c["id"].as_str().unwrap();
    let preview = app.get_json(&format!("/api/v1/courses/{id}/eligible"), &hr).await;
    assert_eq!(preview["rules"][0]["count"], 4, "{preview}");
    let last_year = app.get_json(&format!("/api/v1/courses/{id}/eligible?fiscal_year={}", fy - 1), &hr).await;
    assert_eq!(last_year["rules"][0]["count"], 0, "groups count for their own year");
}

/// The representative retires mid-year: HR hands the group to a member, who files its statement;
/// once settled, the group is as it was.
#[tokio::test]
async fn a_group_whose_representative_left_is_handed_over_and_the_new_one_files() {
    let app = spawn().await;
    let fy = this_year();
    let hr = app.hr();
    let budget = json!({"budget_yen": 50_000});
    ok(app.post_json(&format!("/api/v1/subsidies/{fy}/study_group"), &hr, &budget).await, 201).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let body = json!({"fiscal_year": fy, "name": "窓口研究会", "theme": "待ち時間", "member_nos": [people::SAME_SECTION, "10011"]});
    let g = ok(app.post_json("/api/v1/study-groups", &me, &body).await, 201).await;
    let path = format!("/api/v1/study-groups/{}", g["id"].as_str().unwrap());
    ok(
        group_put(&app, &me, &format!("{path}/plan"), json!({"plan": "勉強会", "planned_yen": 20_000})).await,
        200,
    )
    .await;
    let events = format!("{path}/events");
    ok(group_put(&app, &hr, &events, json!({"event": "approve", "grant_yen": 20_000})).await, 200).await;
    assert_eq!(app.get_json(&path, &hr).await["representative_on_roster"], true);
    assert_eq!(app.get_json(&path, &hr).await["members_left"], json!([]));
    let csv = roster_without(&app, people::EMPLOYEE).await;
    let report = crate::cascades::import_roster(&app, "mode=full", csv).await;
    assert_eq!(report["groups_to_hand_over"], 1, "{report}");
    let left = app.get_json(&path, &hr).await;
    assert_eq!(left["representative_on_roster"], false);
    assert_eq!(left["members_left"], json!([people::EMPLOYEE]), "still listed, and named as left");

    // A member is not the representative; who has left, or is not on the roster, is not named.
    let members = format!("{path}/members");
    let member = app.token(people::SAME_SECTION, &[Role::Employee]);
    let handover = json!({"representative_no": people::SAME_SECTION, "member_nos": ["10011", "10012"]});
    assert_problem(group_put(&app, &member, &members, handover.clone()).await, 403, "forbidden").await;
    let bad = json!({"representative_no": people::EMPLOYEE, "member_nos": ["99999", "10011", "10011"]});
    let p = assert_problem(group_put(&app, &hr, &members, bad).await, 422, "validation").await;
    let faults: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(faults[0], ("representative_no", "10009 is no longer on the roster (退職)"), "{p}");
    let fields: Vec<&str> = faults.iter().map(|f| f.0).collect();
    assert_eq!(fields, vec!["representative_no", "member_nos[0]", "member_nos[2]"]);
    assert_eq!(
        app.get_json(&path, &hr).await["version"],
        g["version"].as_i64().unwrap() + 2,
        "nothing written"
    );

    // Without If-Match, or against an old version, nothing is written either.
    let res = app.put_json(&members, &hr, None, &handover).await;
    assert_problem(res, 428, "precondition-required").await;
    let res = app.put_json(&members, &hr, Some("\"1\""), &handover).await;
    assert_problem(res, 412, "precondition-failed").await;
    assert_eq!(app.get_json(&path, &hr).await["representative_on_roster"], false);

    // HR hands it over; the new representative files the statement; the old one is gone.
    let after = ok(group_put(&app, &hr, &members, handover.clone()).await, 200).await;
    assert_eq!(after["representative"]["employee_no"], people::SAME_SECTION);
    assert_eq!(after["representative_on_roster"], true);
    let nos: Vec<&str> =
        after["members"].as_array().unwrap().iter().map(|m| m["employee_no"].as_str().unwrap()).collect();
    assert_eq!(nos, vec!["10010", "10011", "10012"]);
    assert_eq!(after["members_left"], json!([]), "taken off the list");
    assert_eq!(after["approved_yen"], 20_000, "the grant stays with the group");
    let told = crate::cascades::notices(&app, people::SAME_SECTION).await;
    assert_eq!(
        told.first().map(String::as_str),
        Some("study_group_decided"),
        "the new representative is told"
    );
    let mine = app.get_json("/api/v1/me/notices", &member).await;
    assert!(mine["items"][0]["body"]["message"].as_str().unwrap().contains("代表者になりました"), "{mine}");
    let audit =
        app.get_json(&format!("/api/v1/audit?entity_id={}&limit=1", g["id"].as_str().unwrap()), &hr).await;
    assert_eq!(audit["items"][0]["action"], "study_group.members");
    let settle = json!({"spent_yen": 18_000, "report": "報告を共有"});
    ok(group_put(&app, &member, &format!("{path}/settlement"), settle).await, 200).await;
    ok(group_put(&app, &hr, &events, json!({"event": "settle"})).await, 200).await;
    let p =
        assert_problem(group_put(&app, &member, &members, handover).await, 409, "invalid-transition").await;
    assert_eq!(p["current_state"], "settled");
}

#[tokio::test]
async fn a_representative_replaced_by_hr_is_told_and_one_who_hands_over_is_not() {
    let app = spawn().await;
    let fy = this_year();
    let hr = app.hr();
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let body = json!({"fiscal_year": fy, "name": "庁内報研究会", "theme": "読まれる庁内報", "member_nos": [people::SAME_SECTION, "10011"]});
    let g = ok(app.post_json("/api/v1/study-groups", &me, &body).await, 201).await;
    let members = format!("/api/v1/study-groups/{}/members", g["id"].as_str().unwrap());
    let decided = |kinds: Vec<String>| kinds.iter().filter(|k| *k == "study_group_decided").count();

    // The representative hands it over: the new one is told, they are not (they made the change).
    let handover =
        json!({"representative_no": people::SAME_SECTION, "member_nos": [people::EMPLOYEE, "10011"]});
    ok(group_put(&app, &me, &members, handover).await, 200).await;
    assert_eq!(decided(crate::cascades::notices(&app, people::EMPLOYEE).await), 0);
    assert_eq!(decided(crate::cascades::notices(&app, people::SAME_SECTION).await), 1);

    // HR hands it on while that representative is still on the roster: both are told.
    let handover =
        json!({"representative_no": "10011", "member_nos": [people::EMPLOYEE, people::SAME_SECTION]});
    let after = ok(group_put(&app, &hr, &members, handover).await, 200).await;
    assert_eq!(after["representative"]["employee_no"], "10011");
    assert_eq!(decided(crate::cascades::notices(&app, "10011").await), 1);
    let replaced = app.token(people::SAME_SECTION, &[Role::Employee]);
    let mine = app.get_json("/api/v1/me/notices", &replaced).await;
    assert_eq!(mine["items"][0]["kind"], "study_group_decided", "{mine}");
    assert!(
        mine["items"][0]["body"]["message"].as_str().unwrap().contains("新しい代表者が提出します"),
        "{mine}"
    );
    assert_eq!(decided(crate::cascades::notices(&app, people::EMPLOYEE).await), 0, "members are not told");
}
