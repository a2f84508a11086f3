//! Internship hosting (就業体験学生受入れ) over HTTP: the programme, students recommended by their
//! universities, host sections and their heads, capacity, and the erasure of a student's
//! personal data after the programme, audited without the data.

use kenshu_domain::auth::Role;
use kenshu_domain::calendar::{tokyo_date, FiscalYear};
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::attendance::{event, ok};

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect()
}

pub(crate) fn programme(year: i32, capacity: i32) -> Value {
    json!({"title": "就業体験学生（インターンシップ）受入れ", "starts_on": format!("{year}-08-07"),
        "ends_on": format!("{year}-08-18"), "capacity": capacity})
}

pub(crate) fn student(name: &str, email: &str, host: &Value) -> Value {
    json!({"name": name, "name_kana": "さがみ はなこ", "university": "東海大学", "faculty": "政治経済学部",
        "year_of_study": 3, "email": email, "recommended_on": "2023-06-30", "host_section_id": host,
        "hosted_from": "2023-08-14", "hosted_to": "2023-08-18"})
}

/// Add a student to the FY2023 programme; returns its path.
pub(crate) async fn add(app: &TestApp, body: &Value) -> String {
    let res = app.post_json("/api/v1/internships/2023/students", &app.hr(), body).await;
    assert_eq!(res.status(), 201);
    res.headers()["location"].to_str().unwrap().to_string()
}

pub(crate) async fn erase(app: &TestApp, path: &str, requested_on: &str) -> reqwest::Response {
    let current = app.get_json(path, &app.hr()).await;
    app.request(Method::POST, &format!("{path}/erasure"), Some(&app.hr()))
        .header("If-Match", format!("\"{}\"", current["version"]))
        .json(&json!({"requested_on": requested_on}))
        .send()
        .await
        .unwrap()
}

async fn put_student(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    let current = app.get_json(path, &app.hr()).await;
    app.put_json(path, &app.hr(), Some(&format!("\"{}\"", current["version"])), body).await
}

#[tokio::test]
async fn an_internship_runs_from_recommendation_through_host_sections_to_erasure() {
    let app = spawn().await;
    let hr = app.hr();
    let host = app.employee(people::EMPLOYEE).await["section_id"].clone();
    let section_path = format!("/api/v1/sections/{}/internship-students", host.as_str().unwrap());

    // The programme: invalid terms are refused whole, a second programme for the year is a 409.
    let before = app.audit_count().await;
    let bad = json!({"title": " ", "starts_on": "2023-08-18", "ends_on": "2024-04-01", "capacity": 0});
    let p =
        assert_problem(app.post_json("/api/v1/internships/2023", &hr, &bad).await, 422, "validation").await;
    assert_eq!(fields(&p), ["title", "ends_on", "capacity"]);
    assert_eq!(app.audit_count().await, before);
    ok(app.post_json("/api/v1/internships/2023", &hr, &programme(2023, 2)).await, 201).await;
    let res = app.post_json("/api/v1/internships/2023", &hr, &programme(2023, 2)).await;
    assert_problem(res, 409, "conflict").await;

    // Students: every bad field named, nothing written; an unknown host section is a 422.
    let before = app.audit_count().await;
    let bad = json!({"name": "", "name_kana": "Hanako", "university": "東海大学", "year_of_study": 7,
        "email": "hanako", "recommended_on": "2023-06-30", "hosted_from": "2023-08-01", "hosted_to": "2023-08-18"});
    let p = assert_problem(
        app.post_json("/api/v1/internships/2023/students", &hr, &bad).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(fields(&p), ["name", "name_kana", "email", "year_of_study", "hosted_from"]);
    let half = json!({"name": "相模 花子", "university": "東海大学", "recommended_on": "2023-06-30", "hosted_from": "2023-08-14"});
    let res = app.post_json("/api/v1/internships/2023/students", &hr, &half).await;
    assert_eq!(fields(&assert_problem(res, 422, "validation").await), ["hosted_to"]);
    let nowhere = student("相模 花子", "hanako@example.ac.jp", &json!(uuid::Uuid::now_v7()));
    let res = app.post_json("/api/v1/internships/2023/students", &hr, &nowhere).await;
    assert_eq!(fields(&assert_problem(res, 422, "validation").await), ["host_section_id"]);
    assert_eq!(app.audit_count().await, before);

    let a = add(&app, &student("相模 花子", "Hanako@Example.AC.JP", &host)).await;
    let b = add(&app, &student("大山 次郎", "jiro@example.ac.jp", &host)).await;
    let c = add(
        &app,
        &json!({"name": "伊勢原 三郎", "university": "神奈川大学", "recommended_on": "2023-07-03"}),
    )
    .await;
    let shown = app.get_json(&a, &hr).await;
    assert_eq!(
        (&shown["state"], &shown["name_kana"], &shown["email"], &shown["host_section"]["id"]),
        (&json!("recommended"), &json!("サガミ ハナコ"), &json!("hanako@example.ac.jp"), &host)
    );

    // Accepting needs a host section and a place; the places are counted on the programme.
    let p = assert_problem(event(&app, &hr, &c, json!({"event": "accept"})).await, 409, "invalid-transition")
        .await;
    assert!(p["detail"].as_str().unwrap().contains("host section"), "{p}");
    for s in [&a, &b] {
        ok(event(&app, &hr, s, json!({"event": "accept"})).await, 200).await;
    }
    let places = app.get_json("/api/v1/internships/2023", &hr).await["places"].clone();
    assert_eq!(
        places,
        json!({"recommended": 1, "accepted": 2, "declined": 0, "withdrawn": 0, "erased": 0, "free": 0})
    );
    let body = json!({"name": "伊勢原 三郎", "university": "神奈川大学", "recommended_on": "2023-07-03", "host_section_id": host});
    ok(put_student(&app, &c, &body).await, 200).await;
    let p = assert_problem(event(&app, &hr, &c, json!({"event": "accept"})).await, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("2 of 2"), "{p}");
    assert_problem(event(&app, &hr, &a, json!({"event": "decline"})).await, 409, "invalid-transition").await;
    // An accepted student keeps a host section; the capacity cannot fall below the accepted.
    let res = put_student(
        &app,
        &a,
        &json!({"name": "相模 花子", "university": "東海大学", "recommended_on": "2023-06-30"}),
    )
    .await;
    assert_eq!(fields(&assert_problem(res, 422, "validation").await), ["host_section_id"]);
    let etag = app.get("/api/v1/internships/2023", &hr).await.headers()["etag"].to_str().unwrap().to_string();
    let res = app.put_json("/api/v1/internships/2023", &hr, Some(&etag), &programme(2023, 1)).await;
    assert_eq!(fields(&assert_problem(res, 422, "validation").await), ["capacity"]);
    let shorter = json!({"title": "インターンシップ", "starts_on": "2023-08-07", "ends_on": "2023-08-16", "capacity": 2});
    let res = app.put_json("/api/v1/internships/2023", &hr, Some(&etag), &shorter).await;
    assert_eq!(fields(&assert_problem(res, 422, "validation").await), ["starts_on"]);
    // A withdrawal frees a place.
    ok(event(&app, &hr, &b, json!({"event": "withdraw"})).await, 200).await;
    ok(event(&app, &hr, &c, json!({"event": "accept"})).await, 200).await;

    // The host section's head sees the students it hosts (accepted), nobody else's; the
    // department head, employees and the head of another section do not.
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let hosted = app.get_json(&section_path, &head).await;
    let names: Vec<_> =
        hosted["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["相模 花子", "伊勢原 三郎"]);
    assert_eq!(app.get(&a, &head).await.status(), 200);
    assert_eq!(app.get(&b, &head).await.status(), 403, "withdrawn: no longer hosted");
    let dept_head = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);
    assert_eq!(app.get(&section_path, &dept_head).await.status(), 403);
    let employee = app.token(people::EMPLOYEE, &[Role::Employee, Role::SectionHead]);
    assert_eq!(app.get(&section_path, &employee).await.status(), 403);
    assert_eq!(app.get(&a, &employee).await.status(), 403);
    assert_eq!(app.get("/api/v1/internships/2023/students", &head).await.status(), 403);
    assert_eq!(app.get(&format!("{section_path}?fiscal_year=2022"), &head).await.status(), 200);
    let other_year = app.get_json(&format!("{section_path}?fiscal_year=2022"), &head).await;
    assert_eq!(other_year["items"], json!([]));

    // After the programme (FY2023 has ended), a request erases the personal data for good.
    let future = tokyo_date(chrono::Utc::now()) + chrono::Days::new(1);
    let res = erase(&app, &a, &future.to_string()).await;
    assert_eq!(fields(&assert_problem(res, 422, "validation").await), ["requested_on"]);
    let erased = ok(erase(&app, &a, "2023-09-01").await, 200).await;
    for f in ["name", "name_kana", "faculty", "year_of_study", "email"] {
        assert_eq!(erased[f], Value::Null, "{f}");
    }
    assert_eq!((&erased["university"], &erased["host_section"]["id"]), (&json!("東海大学"), &host));
    assert_eq!((&erased["erased"], &erased["erasure_requested_on"]), (&json!(true), &json!("2023-09-01")));
    assert_problem(erase(&app, &a, "2023-09-01").await, 409, "invalid-transition").await;
    let again = student("相模 花子", "hanako@example.ac.jp", &host);
    assert_problem(put_student(&app, &a, &again).await, 409, "invalid-transition").await;
    assert_eq!(app.get_json(&a, &head).await["name"], Value::Null);
    let places = app.get_json("/api/v1/internships/2023", &hr).await["places"].clone();
    assert_eq!((&places["accepted"], &places["erased"]), (&json!(2), &json!(1)));

    // The audit log says who erased whom and when, and never held the data.
    let log = app.get_json("/api/v1/audit?entity_type=internship_student&limit=200", &hr).await;
    let entries = log["items"].as_array().unwrap();
    let id = a.rsplit('/').next().unwrap();
    let erasure = entries.iter().find(|e| e["action"] == "internship_student.erase").unwrap();
    assert_eq!((&erasure["entity_id"], &erasure["actor"]), (&json!(id), &json!(people::HR)));
    assert_eq!(
        (&erasure["before"]["personal_data"], &erasure["after"]["personal_data"]),
        (&json!("held"), &json!("erased"))
    );
    let text = log.to_string();
    for personal in ["相模", "サガミ", "hanako@", "政治経済学部", "大山", "伊勢原 三郎"] {
        assert!(!text.contains(personal), "the audit log holds {personal}");
    }
}

#[tokio::test]
async fn a_hosted_students_data_waits_for_the_end_and_a_declined_ones_does_not() {
    let app = spawn().await;
    let hr = app.hr();
    let fy = FiscalYear::containing(tokyo_date(chrono::Utc::now()));
    let host = app.employee(people::EMPLOYEE).await["section_id"].clone();
    // This year's programme runs to the last day of the fiscal year, so it has not ended.
    let body =
        json!({"title": "インターンシップ", "starts_on": fy.start(), "ends_on": fy.end(), "capacity": 3});
    ok(app.post_json(&format!("/api/v1/internships/{}", fy.year()), &hr, &body).await, 201).await;
    let path = format!("/api/v1/internships/{}/students", fy.year());
    let today = tokyo_date(chrono::Utc::now()).to_string();
    let body = json!({"name": "相模 花子", "university": "東海大学", "recommended_on": fy.start(), "host_section_id": host});
    let hosted = ok(app.post_json(&path, &hr, &body).await, 201).await;
    let hosted = format!("/api/v1/internship-students/{}", hosted["id"].as_str().unwrap());
    let declined = ok(app.post_json(&path, &hr, &body).await, 201).await;
    let declined = format!("/api/v1/internship-students/{}", declined["id"].as_str().unwrap());
    ok(event(&app, &hr, &hosted, json!({"event": "accept"})).await, 200).await;
    ok(event(&app, &hr, &declined, json!({"event": "decline"})).await, 200).await;

    let p = assert_problem(erase(&app, &hosted, &today).await, 409, "invalid-transition").await;
    assert!(p["detail"].as_str().unwrap().contains("after it ends"), "{p}");
    assert_eq!(app.get_json(&hosted, &hr).await["name"], "相模 花子");
    let erased = ok(erase(&app, &declined, &today).await, 200).await;
    assert_eq!((&erased["name"], &erased["state"]), (&Value::Null, &json!("declined")));
    // Only HR erases; a change from a stale read is refused.
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let res = app
        .request(Method::POST, &format!("{hosted}/erasure"), Some(&head))
        .header("If-Match", "\"2\"")
        .json(&json!({"requested_on": today}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app.put_json(&hosted, &hr, Some("\"1\""), &body).await;
    assert_problem(res, 412, "precondition-failed").await;
}

#[tokio::test]
async fn concurrent_acceptances_never_exceed_the_capacity() {
    let app = spawn().await;
    let hr = app.hr();
    let host = app.employee(people::EMPLOYEE).await["section_id"].clone();
    ok(app.post_json("/api/v1/internships/2023", &hr, &programme(2023, 2)).await, 201).await;
    let mut students = Vec::new();
    for name in ["相模 一", "相模 二", "相模 三", "相模 四"] {
        students.push(add(&app, &student(name, "s@example.ac.jp", &host)).await);
    }
    let accept = |path: &String| {
        let path = path.clone();
        let hr = hr.clone();
        let app = &app;
        async move { event(app, &hr, &path, json!({"event": "accept"})).await.status().as_u16() }
    };
    let (s1, s2, s3, s4) =
        tokio::join!(accept(&students[0]), accept(&students[1]), accept(&students[2]), accept(&students[3]));
    let mut got = vec![s1, s2, s3, s4];
    got.sort();
    assert_eq!(got, [200, 200, 409, 409]);
    let places = app.get_json("/api/v1/internships/2023", &hr).await["places"].clone();
    assert_eq!((&places["accepted"], &places["free"]), (&json!(2), &json!(0)));
}
