//! Selection over HTTP: designation preview, confirmation and reruns, capacity, the FY2023 plan.

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

async fn plan(app: &TestApp) {
    assert_eq!(app.post_json("/api/v1/plans", &app.hr(), &json!({"fiscal_year": 2023})).await.status(), 201);
}

#[tokio::test]
async fn designation_previews_confirms_and_reruns_after_a_promotion() {
    let app = spawn().await;
    plan(&app).await;
    let id = course(
        &app,
        8,
        json!([{"route": "designation", "conditions": [{"kind": "newly_promoted", "grade": "主任"}]}]),
        None,
    )
    .await;
    let before = app.audit_count().await;

    let preview = post(&app, &format!("/api/v1/courses/{id}/designation?dry_run=true&limit=3")).await;
    assert_eq!((preview["new_count"].as_u64(), preview["selected"].as_u64()), (Some(19), Some(19)));
    assert_eq!(preview["new"].as_array().unwrap().len(), 3);
    assert_eq!(app.audit_count().await, before, "a preview writes nothing");
    let list = app.get_json(&format!("/api/v1/courses/{id}/nominations"), &app.hr()).await;
    assert_eq!(list["items"], json!([]));

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

    // A rerun changes nothing.
    let again = post(&app, &format!("/api/v1/courses/{id}/designation")).await;
    assert_eq!((again["new_count"].as_u64(), again["already"].as_u64()), (Some(0), Some(19)));

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
    let done = post(&app, &format!("/api/v1/courses/{id}/designation")).await;
    assert_eq!((done["selected"].as_u64(), done["waitlisted"].as_u64()), (Some(5), Some(33)));
    let list =
        app.get_json(&format!("/api/v1/courses/{id}/nominations?state=waitlisted&limit=10"), &app.hr()).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 10);
    assert!(list["next_cursor"].is_string());
    assert_eq!(list["counts"]["by_state"], json!({"selected": 5, "waitlisted": 33}));
    // Courses without designation rules designate nobody.
    let other =
        course(&app, 2, json!([{"route": "application", "conditions": [{"kind": "all_staff"}]}]), None).await;
    let none = post(&app, &format!("/api/v1/courses/{other}/designation")).await;
    assert_eq!(none["new_count"], 0);
}

#[tokio::test]
async fn the_whole_fy2023_plan_is_designated_at_once() {
    let app = spawn().await;
    let res = app
        .request(Method::POST, "/api/v1/plans/2023/import", Some(&app.hr()))
        .header("Content-Type", "application/json")
        .body(kenshu_api::demo::FY2023_PLAN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
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
