//! Departments, sections and the grade ladder.

use kenshu_tests::{assert_problem, people, spawn};
use serde_json::{json, Value};

#[tokio::test]
async fn departments_and_sections_with_heads_versions_and_conflicts() {
    let app = spawn().await;
    let hr = app.hr();
    let res =
        app.post_json("/api/v1/departments", &hr, &json!({"code": "ｄ１０", "name": "会計管理部"})).await;
    assert_eq!(res.status(), 201);
    let dept: Value = res.json().await.unwrap();
    assert_eq!(dept["code"], "d10");
    let dup = app.post_json("/api/v1/departments", &hr, &json!({"code": "d10", "name": "x"})).await;
    assert_problem(dup, 409, "conflict").await;
    let bad = app.post_json("/api/v1/departments", &hr, &json!({"code": "a b", "name": ""})).await;
    let p = assert_problem(bad, 422, "validation").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);

    let res = app
        .post_json(
            "/api/v1/sections",
            &hr,
            &json!({"code": "S1001", "name": "会計課", "department_id": dept["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let section: Value = res.json().await.unwrap();
    let orphan = app
        .post_json(
            "/api/v1/sections",
            &hr,
            &json!({"code": "S1002", "name": "x", "department_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_problem(orphan, 422, "validation").await;

    // A head must be an employee of this organisation.
    let head = app.employee(people::EMPLOYEE).await;
    let path = format!("/api/v1/sections/{}", section["id"].as_str().unwrap());
    let body = json!({"code": "S1001", "name": "会計課", "department_id": dept["id"], "head_employee_id": head["id"]});
    let res = app.put_json(&path, &hr, Some("\"1\""), &body).await;
    assert_eq!(res.status(), 200);
    let stale = app.put_json(&path, &hr, Some("\"1\""), &body).await;
    assert_problem(stale, 412, "precondition-failed").await;
    // Repeating the same change changes nothing: same version and ETag, nothing audited.
    let audited = app.audit_count().await;
    let again = app.put_json(&path, &hr, Some("\"2\""), &body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["etag"], "\"2\"");
    assert_eq!(again.json::<Value>().await.unwrap()["version"], 2);
    assert_eq!(app.audit_count().await, audited);
    let stranger = json!({"code": "S1001", "name": "会計課", "department_id": dept["id"], "head_employee_id": uuid::Uuid::now_v7()});
    assert_problem(app.put_json(&path, &hr, Some("\"2\""), &stranger).await, 422, "validation").await;

    // The new head now sees the section's staff (none) and their own record.
    let as_head = app.token(people::EMPLOYEE, &[kenshu_domain::auth::Role::SectionHead]);
    let me = app.get_json("/api/v1/me", &as_head).await;
    assert_eq!(me["headed_sections"], json!([section["id"]]));

    let sections =
        app.get_json(&format!("/api/v1/sections?department_id={}", dept["id"].as_str().unwrap()), &hr).await;
    assert_eq!(sections["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn grade_ladder_replacement_keeps_grades_in_use() {
    let app = spawn().await;
    let hr = app.hr();
    let res = app.get("/api/v1/grades", &hr).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let ladder: Value = res.json().await.unwrap();
    assert_eq!(ladder["grades"].as_array().unwrap().len(), 7);
    assert_eq!(ladder["grades"][0]["name"], "一般");

    // Dropping 部長, which nine people hold, is refused.
    let mut shorter = ladder.clone();
    shorter["grades"].as_array_mut().unwrap().pop();
    let p =
        assert_problem(app.put_json("/api/v1/grades", &hr, Some(&etag), &shorter).await, 422, "validation")
            .await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("部長"));
    let dup = json!({"grades": [{"name": "主任"}, {"name": "主任"}]});
    assert_problem(app.put_json("/api/v1/grades", &hr, Some(&etag), &dup).await, 422, "validation").await;

    let mut longer = ladder.clone();
    longer["grades"].as_array_mut().unwrap().push(json!({"name": "理事", "aliases": ["参与"]}));
    let res = app.put_json("/api/v1/grades", &hr, Some(&etag), &longer).await;
    assert_eq!(res.status(), 200);
    assert_problem(
        app.put_json("/api/v1/grades", &hr, Some(&etag), &longer).await,
        412,
        "precondition-failed",
    )
    .await;
    let after = app.get_json("/api/v1/grades", &hr).await;
    assert_eq!(after["grades"][7]["name"], "理事");
}
