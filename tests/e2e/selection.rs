//! Selection over HTTP: designation preview, confirmation and reruns, capacity, the FY2023 plan.

use chrono::NaiveDate;
use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

async fn post(app: &TestApp, path: &str) -> Value {
    let res = app.request(Method::POST, path, Some(&app.hr())).send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn course(app: &TestApp, number: u32, rules: Value, headcount: Option<u32>) -> String {
    let body = json!({
        "fiscal_year": 2023, "category": "hierarchical", "number": number, "title": format!("研修{number}"),
        "rules": rules, "timing": {"kind": "month", "month": 9}, "delivery": "classroom", "headcount": headcount
    });
    let res = app.post_json("/api/v1/courses", &app.hr(), &body).await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

/// 主任者研修Ⅰ: designation of the 19 promoted to 主任 this year.
async fn newly_promoted_chief_course(app: &TestApp) -> String {
    let rules =
        json!([{"route": "designation", "conditions": [{"kind": "newly_promoted", "grade": "主任"}]}]);
    course(app, 8, rules, None).await
}

async fn plan(app: &TestApp) {
    assert_eq!(app.post_json("/api/v1/plans", &app.hr(), &json!({"fiscal_year": 2023})).await.status(), 201);
}

#[tokio::test]
async fn designation_previews_confirms_and_reruns_after_a_promotion() {
    let app = spawn().await;
    plan(&app).await;
    let id = newly_promoted_chief_course(&app).await;
    let before = app.audit_count().await;

    let preview = post(&app, &format!("/api/v1/courses/{id}/designation?dry_run=true&limit=3")).await;
    assert_eq!((preview["new_count"].as_u64(), preview["selected"].as_u64()), (Some(19), Some(19)));
    assert_eq!(preview["new"].as_array().unwrap().len(), 3);
    assert_eq!(app.audit_count().await, before, "a preview writes nothing");
    let list = app.get_json(&format!("/api/v1/courses/{id}/nominations"), &app.hr()).await;
    assert_eq!(list["items"], json!([]));

    // Staff see their own nominations, so a draft course is previewed but not confirmed.
    let res = app.request(Method::POST, &format!("/api/v1/courses/{id}/designation"), Some(&app.hr())).send();
    let p = assert_problem(res.await.unwrap(), 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("publish"), "{p}");
    assert_eq!(app.audit_count().await, before);
    app.publish_plan(2023).await;

    let done = post(&app, &format!("/api/v1/courses/{id}/designation")).await;
    assert_eq!(done["new_count"], 19);
    let list = app.get_json(&format!("/api/v1/courses/{id}/nominations?limit=200"), &app.hr()).await;
    assert_eq!(list["counts"]["by_state"], json!({"selected": 19}));
    assert_eq!(list["counts"]["by_route"], json!({"designation": 19}));
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["state"] == "selected" && n["route"] == "designation"));

    // The run is one audit record in the course's history, naming each nomination it made.
    let history = app.get_json(&format!("/api/v1/courses/{id}/history"), &app.hr()).await;
    let run = &history["items"][0];
    assert_eq!(run["action"], "nomination.designate");
    let made = &run["after"];
    let mut made_ids: Vec<&str> =
        made["nominations"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    let mut listed: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    made_ids.sort_unstable();
    listed.sort_unstable();
    assert_eq!(made_ids, listed);
    assert_eq!(made["fiscal_year"], 2023);

    // A rerun changes nothing and records nothing.
    let audited = app.audit_count().await;
    let again = post(&app, &format!("/api/v1/courses/{id}/designation")).await;
    assert_eq!((again["new_count"].as_u64(), again["already"].as_u64()), (Some(0), Some(19)));
    assert_eq!(app.audit_count().await, audited);

    // One 一般 is promoted to 主任 this year; one designee's promotion date is corrected to last year.
    let hr = app.hr();
    let promote = |no: String, grade: &'static str, date: &'static str| {
        let app = &app;
        let hr = hr.clone();
        async move {
            let e = app.employee(&no).await;
            let path = format!("/api/v1/employees/{}", e["id"].as_str().unwrap());
            let mut body = e.clone();
            for k in ["id", "department_id", "hired_fiscal_year", "version", "created_at", "updated_at"] {
                body.as_object_mut().unwrap().remove(k);
            }
            body["grade"] = json!(grade);
            body["promotions"][grade] = json!(date);
            let etag = format!("\"{}\"", e["version"]);
            let res = app.put_json(&path, &hr, Some(&etag), &body).await;
            assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        }
    };
    let designee = list["items"][0]["employee"]["employee_no"].as_str().unwrap().to_string();
    promote(people::EMPLOYEE.to_string(), "主任", "2023-10-01").await;
    promote(designee.clone(), "主任", "2022-10-01").await;
    let rerun = post(&app, &format!("/api/v1/courses/{id}/designation")).await;
    assert_eq!(rerun["new_count"], 1);
    assert_eq!(rerun["new"][0]["employee_no"], people::EMPLOYEE);
    assert_eq!(rerun["no_longer_matching_count"], 1);
    assert_eq!(rerun["no_longer_matching"][0]["employee_no"], designee.as_str());
    let list = app.get_json(&format!("/api/v1/courses/{id}/nominations?limit=200"), &app.hr()).await;
    assert_eq!(
        list["counts"]["by_state"],
        json!({"selected": 20}),
        "no longer matching is reported, not cancelled"
    );
}

#[tokio::test]
async fn designation_beyond_the_headcount_waits_in_order() {
    let app = spawn().await;
    plan(&app).await;
    let id =
        course(&app, 1, json!([{"route": "designation", "conditions": [{"kind": "new_hires"}]}]), Some(5))
            .await;
    let other =
        course(&app, 2, json!([{"route": "application", "conditions": [{"kind": "all_staff"}]}]), None).await;
    app.publish_plan(2023).await;
    let done = post(&app, &format!("/api/v1/courses/{id}/designation")).await;
    assert_eq!((done["selected"].as_u64(), done["waitlisted"].as_u64()), (Some(5), Some(33)));
    let list =
        app.get_json(&format!("/api/v1/courses/{id}/nominations?state=waitlisted&limit=10"), &app.hr()).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 10);
    assert!(list["next_cursor"].is_string());
    assert_eq!(list["counts"]["by_state"], json!({"selected": 5, "waitlisted": 33}));
    // Courses without designation rules designate nobody.
    let none = post(&app, &format!("/api/v1/courses/{other}/designation")).await;
    assert_eq!(none["new_count"], 0);
}

#[tokio::test]
async fn the_whole_fy2023_plan_is_designated_at_once() {
    let app = spawn().await;
    app.import_fy2023_plan().await;
    let preview = post(&app, "/api/v1/plans/2023/designation?dry_run=true&limit=0").await;
    let courses = preview["courses"].as_array().unwrap();
    // Every course with a designation rule, in plan order; 採用時研修Ⅰ designates the 38 new hires.
    assert_eq!(courses.len(), 28, "14 階層別, 13 課題別・職能別 and 政策研究研修");
    assert_eq!(courses[0]["title"], "新採用職員 採用時研修Ⅰ");
    assert_eq!(courses[0]["new_count"], 38);
    assert!(courses[0]["new"].as_array().unwrap().is_empty(), "limit=0 lists no names");
    // 情報セキュリティ: new hires and My Number handlers; one who is both counts once.
    let security = courses.iter().find(|c| c["title"] == "情報セキュリティ及びマイナンバー研修").unwrap();
    assert_eq!(security["new_count"], 38 + 15 - 2, "the two new hires of 戸籍住民課 are in both groups");
    let total = preview["new_count"].as_u64().unwrap();
    let res = app.request(Method::POST, "/api/v1/plans/2023/designation", Some(&app.hr())).send();
    assert_problem(res.await.unwrap(), 409, "conflict").await;
    app.publish_plan(2023).await;
    let done = post(&app, "/api/v1/plans/2023/designation").await;
    assert_eq!(done["new_count"].as_u64(), Some(total));
    let again = post(&app, "/api/v1/plans/2023/designation").await;
    assert_eq!(again["new_count"], 0);
}

#[tokio::test]
async fn only_hr_designates_and_other_organisations_see_nothing() {
    let app = spawn().await;
    plan(&app).await;
    let id =
        course(&app, 1, json!([{"route": "designation", "conditions": [{"kind": "new_hires"}]}]), None).await;
    let path = format!("/api/v1/courses/{id}/designation");
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let res = app.request(Method::POST, &path, Some(&head)).send().await.unwrap();
    assert_problem(res, 403, "forbidden").await;
    let other =
        kenshu_tests::token_for(kenshu_tests::OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[Role::HrAdmin]);
    let res = app.request(Method::POST, &path, Some(&other)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(app.get(&format!("/api/v1/courses/{id}/nominations"), &other).await.status(), 404);
    let res = app.request(Method::POST, "/api/v1/plans/2023/designation", Some(&other)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_problem(
        app.get(&format!("/api/v1/courses/{id}/nominations?cursor=x"), &app.hr()).await,
        422,
        "validation",
    )
    .await;
}

/// A published course open to recommendation and application, in a published FY2023 plan.
async fn open_course(app: &TestApp, headcount: Option<u32>) -> String {
    plan(app).await;
    let id = course(
        app,
        30,
        json!([
            {"route": "recommendation", "conditions": [{"kind": "all_staff"}]},
            {"route": "application", "conditions": [{"kind": "all_staff"}]}
        ]),
        headcount,
    )
    .await;
    app.publish_plan(2023).await;
    id
}

async fn event(app: &TestApp, token: &str, id: &str, name: &str) -> reqwest::Response {
    let n = app.get_json(&format!("/api/v1/nominations/{id}"), &app.hr()).await;
    app.request(Method::POST, &format!("/api/v1/nominations/{id}/events"), Some(token))
        .header("If-Match", format!("\"{}\"", n["version"]))
        .json(&json!({"event": name}))
        .send()
        .await
        .unwrap()
}

/// The head of S0101 recommends these staff of S0101; the nominations' ids, in order.
async fn recommend_all(app: &TestApp, course: &str, staff: &[&str]) -> Vec<String> {
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let mut ids = Vec::new();
    for no in staff {
        let e = app.employee(no).await;
        let body = json!({"employee_id": e["id"], "reason": "推薦"});
        let res = app.post_json(&format!("/api/v1/courses/{course}/recommendations"), &head, &body).await;
        ids.push(created(res).await["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

#[tokio::test]
async fn an_application_needs_the_section_head_and_hr() {
    let app = spawn().await;
    let id = open_course(&app, None).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let applied = created(
        app.post_json(
            &format!("/api/v1/courses/{id}/applications"),
            &me,
            &json!({"reason": "業務で必要なため"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (applied["state"].as_str(), applied["route"].as_str()),
        (Some("proposed"), Some("application"))
    );
    let nid = applied["id"].as_str().unwrap().to_string();
    // Applying twice is refused.
    assert_problem(
        app.post_json(&format!("/api/v1/courses/{id}/applications"), &me, &json!({})).await,
        409,
        "conflict",
    )
    .await;

    // The applicant cannot confirm their own application, not even as a section head.
    let me_as_head = app.token(people::EMPLOYEE, &[Role::Employee, Role::SectionHead]);
    assert_problem(event(&app, &me_as_head, &nid, "confirm").await, 403, "forbidden").await;
    // HR cannot select before the section head confirms: the state is named.
    let p = assert_problem(event(&app, &app.hr(), &nid, "select").await, 409, "invalid-transition").await;
    assert_eq!(p["current_state"], "proposed");
    // The head of another section cannot confirm; the applicant's own head can.
    let other_head = app.token(people::DEPARTMENT_HEAD, &[Role::SectionHead]);
    assert_eq!(event(&app, &other_head, &nid, "confirm").await.status(), 403);
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let res = event(&app, &head, &nid, "confirm").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["nomination"]["state"], "confirmed");
    let res = event(&app, &app.hr(), &nid, "select").await;
    assert_eq!(res.json::<Value>().await.unwrap()["nomination"]["state"], "selected");
    let p = assert_problem(event(&app, &app.hr(), &nid, "select").await, 409, "invalid-transition").await;
    assert_eq!(p["current_state"], "selected");
    // The applicant sees their nomination; a colleague does not.
    assert_eq!(app.get(&format!("/api/v1/nominations/{nid}"), &me).await.status(), 200);
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    assert_eq!(app.get(&format!("/api/v1/nominations/{nid}"), &colleague).await.status(), 403);
    // A stale version is refused.
    let res = app
        .request(Method::POST, &format!("/api/v1/nominations/{nid}/events"), Some(&app.hr()))
        .header("If-Match", "\"1\"")
        .json(&json!({"event": "notify"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition-failed").await;
}

/// A published course of `fy` open to application by all staff from `opens` to `closes`.
async fn windowed_course(app: &TestApp, fy: i32, number: u32, opens: NaiveDate, closes: NaiveDate) -> Value {
    let plan = app.post_json("/api/v1/plans", &app.hr(), &json!({"fiscal_year": fy})).await;
    assert!(matches!(plan.status().as_u16(), 201 | 409));
    let body = json!({
        "fiscal_year": fy, "category": "thematic", "number": number, "title": format!("公募研修{number}"),
        "rules": [{"route": "application", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published",
        "application_window": {"opens": opens, "closes": closes}
    });
    let course = created(app.post_json("/api/v1/courses", &app.hr(), &body).await).await;
    assert_eq!(course["application_window"], json!({"opens": opens, "closes": closes}));
    app.publish_plan(fy).await;
    course
}

#[tokio::test]
async fn applications_are_taken_within_the_application_window_only() {
    let app = spawn().await;
    let today = kenshu_domain::calendar::tokyo_date(chrono::Utc::now());
    let fy = kenshu_domain::calendar::FiscalYear::containing(today);
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let apply = |id: Value| {
        let path = format!("/api/v1/courses/{}/applications", id.as_str().unwrap());
        let me = me.clone();
        let app = &app;
        async move { app.post_json(&path, &me, &json!({})).await }
    };
    let nominations = |id: Value| {
        let path = format!("/api/v1/courses/{}/nominations", id.as_str().unwrap());
        let app = &app;
        async move { app.get_json(&path, &app.hr()).await["items"].as_array().unwrap().len() }
    };

    // 通信教育講座助成 FY2023 took applications from August to February: closed now.
    let past = windowed_course(&app, 2023, 1, date(2023, 8, 1), date(2024, 2, 29)).await;
    let p = assert_problem(apply(past["id"].clone()).await, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("closed on 2024-02-29"), "{p}");
    assert_eq!(nominations(past["id"].clone()).await, 0, "a refused application writes nothing");

    // A window that opens tomorrow, for next year's course: not yet.
    let next = fy.next();
    let future = windowed_course(&app, next.year(), 1, today.succ_opt().unwrap(), next.end()).await;
    let p = assert_problem(apply(future["id"].clone()).await, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("applications open on"), "{p}");
    assert_eq!(nominations(future["id"].clone()).await, 0);

    // A window that holds today, both ends included.
    let open = windowed_course(&app, fy.year(), 2, today, today).await;
    assert_eq!(created(apply(open["id"].clone()).await).await["state"], "proposed");

    // A window must close within the course's year and open no earlier than the year before.
    for (opens, closes) in [
        (date(2023, 9, 1), date(2023, 8, 1)),
        (date(2023, 8, 1), date(2024, 4, 1)),
        (date(2022, 3, 31), date(2023, 5, 1)),
    ] {
        let body = json!({
            "fiscal_year": 2023, "category": "thematic", "number": 9, "title": "公募研修",
            "delivery": "classroom", "application_window": {"opens": opens, "closes": closes}
        });
        let p =
            assert_problem(app.post_json("/api/v1/courses", &app.hr(), &body).await, 422, "validation").await;
        assert_eq!(p["errors"][0]["field"], "application_window", "{p}");
    }
    let list = app.get_json("/api/v1/courses?fiscal_year=2023", &app.hr()).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "refused courses are not stored");
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn section_heads_recommend_their_own_staff_only() {
    let app = spawn().await;
    let id = open_course(&app, None).await;
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let path = format!("/api/v1/courses/{id}/recommendations");
    let own = app.employee(people::SAME_SECTION).await;
    let rec = created(
        app.post_json(&path, &head, &json!({"employee_id": own["id"], "reason": "窓口改善の担当"})).await,
    )
    .await;
    assert_eq!((rec["state"].as_str(), rec["route"].as_str()), (Some("confirmed"), Some("recommendation")));
    let other = app.employee(people::SAME_DEPARTMENT).await;
    let res = app.post_json(&path, &head, &json!({"employee_id": other["id"], "reason": "他課"})).await;
    assert_problem(res, 403, "forbidden").await;
    let res = app.post_json(&path, &head, &json!({"employee_id": own["id"], "reason": "再推薦"})).await;
    assert_problem(res, 409, "conflict").await;
    let fresh = app.employee(people::EMPLOYEE).await;
    let res = app.post_json(&path, &head, &json!({"employee_id": fresh["id"], "reason": " "})).await;
    assert_problem(res, 422, "validation").await;
    // HR of another organisation finds nothing.
    let stranger =
        kenshu_tests::token_for(kenshu_tests::OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[Role::HrAdmin]);
    assert_eq!(
        app.get(&format!("/api/v1/nominations/{}", rec["id"].as_str().unwrap()), &stranger).await.status(),
        404
    );
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/nominations/{}/events", rec["id"].as_str().unwrap()),
            Some(&stranger),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"event": "select"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn concurrent_selections_never_overbook_the_last_place() {
    let app = spawn().await;
    let id = open_course(&app, Some(1)).await;
    // Five confirmed recommendations from the head's own section (S0101: staff 10003 … 10016).
    let ids = recommend_all(&app, &id, &["10003", "10004", "10005", "10006", "10007"]).await;
    let hr = app.hr();
    let results = futures_util::future::join_all(ids.iter().map(|nid| {
        let app = &app;
        let hr = hr.clone();
        async move {
            app.request(Method::POST, &format!("/api/v1/nominations/{nid}/events"), Some(&hr))
                .header("If-Match", "\"1\"")
                .json(&json!({"event": "select"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    }))
    .await;
    assert_eq!(results.iter().filter(|s| **s == 200).count(), 1, "{results:?}");
    assert_eq!(results.iter().filter(|s| **s == 409).count(), 4, "{results:?}");
    let list = app.get_json(&format!("/api/v1/courses/{id}/nominations"), &hr).await;
    assert_eq!(list["counts"]["by_state"]["selected"], 1);
}

#[tokio::test]
async fn a_cancellation_gives_the_place_to_the_first_waiting() {
    let app = spawn().await;
    let id = open_course(&app, Some(1)).await;
    let ids = recommend_all(&app, &id, &[people::EMPLOYEE, people::SAME_SECTION, "10011"]).await;
    let hr = app.hr();
    assert_eq!(event(&app, &hr, &ids[0], "select").await.status(), 200);
    assert_problem(event(&app, &hr, &ids[1], "select").await, 409, "conflict").await;
    assert_eq!(event(&app, &hr, &ids[1], "waitlist").await.status(), 200);
    assert_eq!(event(&app, &hr, &ids[2], "waitlist").await.status(), 200);
    // The selected trainee withdraws: the first on the waiting list moves up.
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let res = event(&app, &me, &ids[0], "cancel").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["nomination"]["state"], "cancelled");
    assert_eq!(body["promoted"]["id"], ids[1].as_str());
    assert_eq!(body["promoted"]["state"], "selected");
    let third = app.get_json(&format!("/api/v1/nominations/{}", ids[2]), &hr).await;
    assert_eq!(third["state"], "waitlisted");
    // A colleague cannot cancel someone else's place.
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    assert_eq!(event(&app, &colleague, &ids[2], "cancel").await.status(), 403);
}

#[tokio::test]
async fn employees_heads_and_hr_see_the_nominations_they_should() {
    let app = spawn().await;
    let id = open_course(&app, None).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let applied =
        created(app.post_json(&format!("/api/v1/courses/{id}/applications"), &me, &json!({})).await).await;

    // My courses this year.
    let mine = app.get_json("/api/v1/me/nominations?fiscal_year=2023", &me).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["course"]["title"], "研修30");
    assert_eq!(mine["items"][0]["nomination"]["state"], "proposed");
    assert_eq!(app.get_json("/api/v1/me/nominations?fiscal_year=2022", &me).await["items"], json!([]));

    // The section head sees what waits for them; the head of another section may not look.
    let section = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let pending = app
        .get_json(&format!("/api/v1/sections/{section}/nominations?fiscal_year=2023&state=proposed"), &head)
        .await;
    assert_eq!(pending["items"][0]["nomination"]["id"], applied["id"]);
    let dept_head = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);
    assert_eq!(
        app.get(&format!("/api/v1/sections/{section}/nominations?fiscal_year=2023"), &dept_head)
            .await
            .status(),
        200
    );
    let other_section =
        app.employee(people::OTHER_DEPARTMENT).await["section_id"].as_str().unwrap().to_string();
    assert_eq!(app.get(&format!("/api/v1/sections/{other_section}/nominations"), &head).await.status(), 403);

    // Training history across years, for the employee and HR; not for a colleague.
    let my_id = app.employee(people::EMPLOYEE).await["id"].as_str().unwrap().to_string();
    let history = app.get_json(&format!("/api/v1/employees/{my_id}/training-history"), &me).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/employees/{my_id}/training-history"), &app.hr()).await.status(),
        200
    );
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    assert_eq!(
        app.get(&format!("/api/v1/employees/{my_id}/training-history"), &colleague).await.status(),
        403
    );
}

#[tokio::test]
async fn training_notices_reach_trainees_and_their_heads_through_the_outbox() {
    let app = spawn().await;
    plan(&app).await;
    let id = newly_promoted_chief_course(&app).await;
    let session = json!({"starts_at": "2023-09-12T09:00:00+09:00", "ends_at": "2023-09-12T17:00:00+09:00", "venue": "市役所 4階 大会議室"});
    assert_eq!(
        app.post_json(&format!("/api/v1/courses/{id}/sessions"), &app.hr(), &session).await.status(),
        201
    );
    app.publish_plan(2023).await;
    post(&app, &format!("/api/v1/courses/{id}/designation")).await;
    let before = app.get_json("/api/v1/notices?undelivered=true&limit=200", &app.hr()).await;
    assert_eq!(before["items"], json!([]));

    let report = post(&app, &format!("/api/v1/courses/{id}/notify")).await;
    // 19 trainees, each with a notice, and their 19 section heads.
    assert_eq!((report["notified"].as_u64(), report["notices"].as_u64()), (Some(19), Some(38)));
    let list = app.get_json(&format!("/api/v1/courses/{id}/nominations?limit=200"), &app.hr()).await;
    assert_eq!(list["counts"]["by_state"], json!({"notified": 19}));
    // Notifying again finds nobody newly selected.
    let again = post(&app, &format!("/api/v1/courses/{id}/notify")).await;
    assert_eq!(again["notified"], 0);

    // The trainee reads what, when and where; their head gets a notice naming them.
    let trainee_no = list["items"][0]["employee"]["employee_no"].as_str().unwrap().to_string();
    let trainee = app.token(&trainee_no, &[Role::Employee]);
    let mine = app.get_json("/api/v1/me/notices", &trainee).await;
    let notice = &mine["items"][0];
    assert_eq!(notice["recipient_role"], "trainee");
    assert_eq!(notice["subject"], "【研修通知】研修8");
    assert_eq!(notice["body"]["sessions"][0]["starts_at"], "2023-09-12T09:00:00+09:00");
    assert_eq!(notice["body"]["sessions"][0]["venue"], "市役所 4階 大会議室");
    assert!(notice["body"]["gather"].as_str().unwrap().contains("10分前"));
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let heads = app.get_json("/api/v1/me/notices", &head).await;
    assert_eq!(heads["items"].as_array().unwrap().len(), 1, "one trainee in S0101");
    assert_eq!(heads["items"][0]["recipient_role"], "section_head");

    // The portal reads the outbox with its service account and marks deliveries, once.
    let portal = app.token("desknets-portal", &[Role::Importer]);
    let outbox = app.get_json("/api/v1/notices?undelivered=true&limit=10", &portal).await;
    assert_eq!(outbox["items"].as_array().unwrap().len(), 10);
    assert!(outbox["next_cursor"].is_string());
    let first = outbox["items"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/notices/{first}/delivered");
    let res = app.request(Method::POST, &path, Some(&portal)).send().await.unwrap();
    let delivered: Value = res.json().await.unwrap();
    let at = delivered["delivered_at"].clone();
    assert!(at.is_string());
    let res = app.request(Method::POST, &path, Some(&portal)).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["delivered_at"], at, "the first delivery time stays");
    let left = app.get_json("/api/v1/notices?undelivered=true&limit=200", &portal).await;
    assert_eq!(left["items"].as_array().unwrap().len(), 37);
    assert_eq!(app.get("/api/v1/notices", &trainee).await.status(), 403);
}

#[tokio::test]
async fn who_has_not_yet_taken_a_human_rights_course() {
    let app = spawn().await;
    plan(&app).await;
    let rules = json!([{"route": "designation", "conditions": [{"kind": "years_after_hire", "years": 5}]}]);
    let body = json!({
        "fiscal_year": 2023, "category": "thematic", "number": 5, "title": "人権研修Ⅰ", "rules": rules,
        "timing": {"kind": "undecided"}, "delivery": "classroom"
    });
    let res = app.post_json("/api/v1/courses", &app.hr(), &body).await;
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    app.publish_plan(2023).await;
    post(&app, &format!("/api/v1/courses/{id}/designation")).await;
    post(&app, &format!("/api/v1/courses/{id}/notify")).await;
    let list = app.get_json(&format!("/api/v1/courses/{id}/nominations?limit=2"), &app.hr()).await;
    for n in list["items"].as_array().unwrap() {
        let res = event(&app, &app.hr(), n["id"].as_str().unwrap(), "complete").await;
        assert_eq!(res.status(), 200);
    }
    let done: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["employee"]["employee_no"].as_str().unwrap())
        .collect();

    // Hired in FY2018 or before: 9 profiles in every section (slots 0–6, 10, 11), a 10th in the
    // even ones (slot 14), and the 9 department heads (crates/api/src/demo.rs): 171 + 10 + 9 =
    // 190, less the 2 who completed.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_json(&format!("/api/v1/training-gaps?course_q=%E4%BA%BA%E6%A8%A9&min_years_since_hire=5&fiscal_year=2023&limit=50{cursor}"), &app.hr())
            .await;
        assert_eq!(page["courses_considered"], 1);
        seen.extend(
            page["items"].as_array().unwrap().iter().map(|e| e["employee_no"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 188);
    assert!(done.iter().all(|d| !seen.iter().any(|s| s == d)), "those who completed are not listed");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    assert_problem(
        app.get("/api/v1/training-gaps?min_years_since_hire=5", &app.hr()).await,
        422,
        "validation",
    )
    .await;
    // Text that matches no course is said to, never answered with the whole roster.
    let p = assert_problem(
        app.get("/api/v1/training-gaps?course_q=%E5%AD%98%E5%9C%A8%E3%81%97%E3%81%AA%E3%81%84", &app.hr())
            .await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "course_q");
    for bad in
        ["min_years_since_hire=10000", "min_years_since_hire=4294967295", "course_ids=x", "course_number=1"]
    {
        let res =
            app.get(&format!("/api/v1/training-gaps?course_q=%E4%BA%BA%E6%A8%A9&{bad}"), &app.hr()).await;
        assert!(matches!(res.status().as_u16(), 400 | 422), "{bad}: {}", res.status());
    }
    let staff = app.token(people::EMPLOYEE, &[Role::Employee]);
    assert_eq!(app.get("/api/v1/training-gaps?course_q=x", &staff).await.status(), 403);
}

/// Completes `no`'s nomination for a new designated FY2023 course titled `title` numbered `number`.
async fn completed_course(app: &TestApp, fy: i32, number: u32, title: &str, no: &str) -> String {
    let hr = app.hr();
    let plan = app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": fy})).await;
    assert!(matches!(plan.status().as_u16(), 201 | 409));
    let body = json!({
        "fiscal_year": fy, "category": "thematic", "number": number, "title": title,
        "rules": [{"route": "recommendation", "conditions": [{"kind": "all_staff"}]}],
        "timing": {"kind": "undecided"}, "delivery": "classroom", "status": "published"
    });
    let id = app.post_json("/api/v1/courses", &hr, &body).await.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.publish_plan(fy).await;
    let path = crate::attendance::recommend(app, &id, no, "select").await;
    let n = app.get_json(&path, &hr).await;
    assert_eq!(event(app, &hr, n["id"].as_str().unwrap(), "complete").await.status(), 200);
    id
}

#[tokio::test]
async fn numbered_courses_are_named_exactly_across_years() {
    let app = spawn().await;
    let hr = app.hr();
    // 10010 took only Ⅲ; 10011 took Ⅰ in FY2022; 10012 took Ⅰ by its FY2023 number.
    completed_course(&app, 2023, 13, "メンタルヘルスセミナーⅢ", "10010").await;
    completed_course(&app, 2022, 11, "メンタルヘルスセミナーⅠ", "10011").await;
    let one = completed_course(&app, 2023, 11, "メンタルヘルスセミナーⅠ", "10012").await;
    let untrained = |q: String| {
        let app = &app;
        let hr = hr.clone();
        async move {
            let page =
                app.get_json(&format!("/api/v1/training-gaps?fiscal_year=2023&limit=200&{q}"), &hr).await;
            let nos: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["employee_no"].as_str().unwrap().to_string())
                .collect();
            (page["courses_considered"].as_u64().unwrap(), nos)
        }
    };
    let title = "%E3%83%A1%E3%83%B3%E3%82%BF%E3%83%AB%E3%83%98%E3%83%AB%E3%82%B9%E3%82%BB%E3%83%9F%E3%83%8A%E3%83%BC%E2%85%A0";
    for q in [
        format!("course_q={title}"),
        format!("course_ids={one}"),
        "course_category=thematic&course_number=11".into(),
    ] {
        let (considered, nos) = untrained(q.clone()).await;
        assert_eq!(considered, 2, "Ⅰ in both years, not Ⅱ or Ⅲ: {q}");
        assert!(nos.iter().any(|n| n == "10010"), "took only Ⅲ, so not Ⅰ: {q}");
        assert!(!nos.iter().any(|n| n == "10011" || n == "10012"), "{q}");
    }
}

#[tokio::test]
async fn bulk_actions_are_all_or_nothing() {
    let app = spawn().await;
    let id = open_course(&app, Some(3)).await;
    let ids = recommend_all(&app, &id, &["10003", "10004", "10005", "10006", "10007"]).await;
    let bulk = format!("/api/v1/courses/{id}/nominations/bulk");
    let hr = app.hr();
    let res = app.post_json(&bulk, &hr, &json!({"ids": &ids[..3], "event": "select"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["applied"], 3);
    // Two more than the headcount: refused whole.
    assert_problem(
        app.post_json(&bulk, &hr, &json!({"ids": &ids[3..], "event": "select"})).await,
        409,
        "conflict",
    )
    .await;
    let counts =
        app.get_json(&format!("/api/v1/courses/{id}/nominations"), &hr).await["counts"]["by_state"].clone();
    assert_eq!(counts, json!({"confirmed": 2, "selected": 3}));
    // Every fault is named: a nomination of another course, a state that does not allow it.
    let stranger = uuid::Uuid::now_v7().to_string();
    let p = assert_problem(
        app.post_json(&bulk, &hr, &json!({"ids": [ids[3], stranger, ids[0]], "event": "waitlist"})).await,
        422,
        "validation",
    )
    .await;
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["ids[1]", "ids[2]"]);
    assert_problem(app.post_json(&bulk, &hr, &json!({"ids": [ids[3]]})).await, 422, "validation").await;

    // Moving between sessions respects each session's capacity.
    let session = |day: u32| json!({"starts_at": format!("2023-10-{day:02}T09:00:00+09:00"), "ends_at": format!("2023-10-{day:02}T17:00:00+09:00"), "capacity": 2});
    let a: Value = app
        .post_json(&format!("/api/v1/courses/{id}/sessions"), &hr, &session(2))
        .await
        .json()
        .await
        .unwrap();
    let b: Value = app
        .post_json(&format!("/api/v1/courses/{id}/sessions"), &hr, &session(3))
        .await
        .json()
        .await
        .unwrap();
    let res = app.post_json(&bulk, &hr, &json!({"ids": &ids[..2], "move_to_session": a["id"]})).await;
    assert_eq!(res.status(), 200);
    assert_problem(
        app.post_json(&bulk, &hr, &json!({"ids": [ids[2]], "move_to_session": a["id"]})).await,
        409,
        "conflict",
    )
    .await;
    assert_eq!(
        app.post_json(&bulk, &hr, &json!({"ids": [ids[2]], "move_to_session": b["id"]})).await.status(),
        200
    );
    let moved = app.get_json(&format!("/api/v1/nominations/{}", ids[0]), &hr).await;
    assert_eq!(moved["session_id"], a["id"]);
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    assert_eq!(app.post_json(&bulk, &head, &json!({"ids": [ids[3]], "event": "select"})).await.status(), 403);
}

#[tokio::test]
async fn nominations_import_from_csv_all_or_nothing() {
    let app = spawn().await;
    let id = open_course(&app, Some(2)).await;
    let import = |query: &'static str, csv: String| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                &format!("/api/v1/plans/2023/nominations/import?{query}"),
                Some(&app.hr()),
            )
            .header("Content-Type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap()
        }
    };
    let good = "区分,No,職員番号,選考方法,理由\n階層別,30,10003,指名,\n階層別,30,10004,指名,\n階層別,30,10005,指名,\n階層別,30,10006,推薦,窓口改善\n";
    let before = app.audit_count().await;
    let dry: Value = import("dry_run=true", good.into()).await.json().await.unwrap();
    assert_eq!((dry["created"].as_u64(), dry["waitlisted"].as_u64()), (Some(4), Some(1)), "{dry}");
    assert_eq!(app.audit_count().await, before, "a dry run writes nothing");
    let done: Value = import("", good.into()).await.json().await.unwrap();
    assert_eq!(done["created"], 4);
    let counts =
        app.get_json(&format!("/api/v1/courses/{id}/nominations"), &app.hr()).await["counts"].clone();
    assert_eq!(counts["by_state"], json!({"confirmed": 1, "selected": 2, "waitlisted": 1}));
    let again: Value = import("", good.into()).await.json().await.unwrap();
    assert_eq!((again["created"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(4)));

    // Unknown course, unknown employee, a bad route, a row twice: all listed, nothing written.
    let before = app.audit_count().await;
    let bad = "区分,No,職員番号,選考方法\n階層別,99,10007,指名\n階層別,30,99999,指名\n階層別,30,10008,抽選\n階層別,30,10009,公募\n階層別,30,10009,公募\n";
    let p = assert_problem(import("", bad.into()).await, 422, "import-rejected").await;
    let got = kenshu_tests::row_errors(&p);
    assert_eq!(got, vec![(2, "No"), (3, "職員番号"), (4, "選考方法"), (6, "職員番号")]);
    assert_eq!(app.audit_count().await, before);
    assert_problem(import("", "職員番号\n10003\n".into()).await, 422, "import-file").await;
}

/// An application the course cannot take is refused for what it is: a designation-only course
/// names how it is filled, and an application rule that leaves the caller out says so, neither
/// blaming a field the client never sent.
#[tokio::test]
async fn an_application_the_course_does_not_take_says_why() {
    let app = spawn().await;
    plan(&app).await;
    let designated =
        course(&app, 31, json!([{"route": "designation", "conditions": [{"kind": "all_staff"}]}]), None)
            .await;
    let chiefs_only = course(
        &app,
        32,
        json!([{"route": "application", "conditions": [{"kind": "grade", "grade": "課長"}]}]),
        None,
    )
    .await;
    app.publish_plan(2023).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let before = app.audit_count().await;

    let res = app.post_json(&format!("/api/v1/courses/{designated}/applications"), &me, &json!({})).await;
    let p = assert_problem(res, 409, "conflict").await;
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("takes no 公募") && detail.contains("指名"), "{p}");
    assert!(p.get("errors").is_none(), "no field is blamed: {p}");

    let res = app.post_json(&format!("/api/v1/courses/{chiefs_only}/applications"), &me, &json!({})).await;
    let p = assert_problem(res, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("does not match you"), "{p}");
    assert_eq!(app.audit_count().await, before, "nothing written");
}
