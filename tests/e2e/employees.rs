//! The roster over HTTP: create, read, update with versions, filters and pagination.

use std::collections::HashSet;

use kenshu_tests::{assert_problem, people, spawn};
use serde_json::{json, Value};

fn new_employee(section_id: &Value) -> Value {
    json!({
        "employee_no": "２０００１",
        "name": "伊勢原　次郎",
        "kana": "いせはら じろう",
        "email": "Jiro@Example.JP",
        "section_id": section_id,
        "grade": "主任",
        "hire_date": "2015-04-01",
        "promotions": {"主任": "2021-04-01"},
        "employment_type": "regular",
        "tags": ["防災担当", "評価者"]
    })
}

#[tokio::test]
async fn create_read_update_with_etags_and_audit() {
    let app = spawn().await;
    let hr = app.hr();
    let section = app.employee(people::EMPLOYEE).await["section_id"].clone();
    let res = app.post_json("/api/v1/employees", &hr, &new_employee(&section)).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["employee_no"], "20001");
    assert_eq!(created["name"], "伊勢原 次郎");
    assert_eq!(created["kana"], "イセハラ ジロウ");
    assert_eq!(created["email"], "jiro@example.jp");
    assert_eq!(created["hired_fiscal_year"], 2015);
    assert_eq!(created["tags"], json!(["評価者", "防災担当"]));
    assert_eq!(location, format!("/api/v1/employees/{}", created["id"].as_str().unwrap()));

    // Same number again: conflict, nothing written.
    let res = app.post_json("/api/v1/employees", &hr, &new_employee(&section)).await;
    let p = assert_problem(res, 409, "conflict").await;
    assert_eq!(p["detail"], "an employee with this employee number exists");
    // The same conflict in Japanese, when the client asks for it.
    let res = app
        .request(reqwest::Method::POST, "/api/v1/employees", Some(&hr))
        .header("Accept-Language", "ja")
        .json(&new_employee(&section))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 409, "conflict").await;
    assert_eq!(p["detail"], "同じ職員番号の職員がすでに登録されています", "{p}");

    let mut body = new_employee(&section);
    body["grade"] = json!("係長");
    body["promotions"] = json!({"主任": "2021-04-01", "係長": "2025-04-01"});
    // Without If-Match: 428. With a stale one: 412, naming the current version.
    assert_problem(app.put_json(&location, &hr, None, &body).await, 428, "precondition-required").await;
    let p =
        assert_problem(app.put_json(&location, &hr, Some("\"7\""), &body).await, 412, "precondition-failed")
            .await;
    assert_eq!(p["current_version"], 1);
    // A made-up value is not an ETag: 400, nothing written. (`*` is RFC 9110's "any version":
    // see `conventions::if_match_takes_star_refuses_weak_tags_and_answers_412_before_409`.)
    for bad in ["1", "\"one\"", "\"99999999999\""] {
        assert_problem(app.put_json(&location, &hr, Some(bad), &body).await, 400, "bad-request").await;
    }
    let res = app.put_json(&location, &hr, Some("\"1\""), &body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["grade"], "係長");
    // Someone else still holding version 1 cannot overwrite.
    assert_problem(app.put_json(&location, &hr, Some("\"1\""), &body).await, 412, "precondition-failed")
        .await;

    // Leaving the roster: inactive, never deleted.
    body["active"] = json!(false);
    let res = app.put_json(&location, &hr, Some("\"2\""), &body).await;
    assert_eq!(res.status(), 200);
    let listed = app.get_json("/api/v1/employees?q=20001", &hr).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    let listed = app.get_json("/api/v1/employees?q=20001&include_inactive=true", &hr).await;
    assert_eq!(listed["items"][0]["active"], false);

    let id = created["id"].as_str().unwrap();
    let audit = app.get_json(&format!("/api/v1/audit?entity_type=employee&entity_id={id}"), &hr).await;
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["employee.update", "employee.update", "employee.create"]);
    let last = &audit["items"][1];
    assert_eq!(last["actor"], people::HR);
    assert_eq!(last["before"]["grade"], "主任");
    assert_eq!(last["after"]["grade"], "係長");
    assert!(last["request_id"].is_string());
}

#[tokio::test]
async fn bad_input_is_a_clear_problem_and_writes_nothing() {
    let app = spawn().await;
    let hr = app.hr();
    let section = app.employee(people::EMPLOYEE).await["section_id"].clone();
    let before = app.audit_count().await;

    let mut unknown_field = new_employee(&section);
    unknown_field["salary"] = json!(1);
    let p = assert_problem(app.post_json("/api/v1/employees", &hr, &unknown_field).await, 422, "validation")
        .await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("salary"));
    assert_eq!(
        (&p["errors"][0]["field"], &p["errors"][0]["code"]),
        (&json!("salary"), &json!("unknown_value"))
    );
    let mut missing = new_employee(&section);
    missing.as_object_mut().unwrap().remove("name");
    let p = assert_problem(app.post_json("/api/v1/employees", &hr, &missing).await, 422, "validation").await;
    assert_eq!((&p["errors"][0]["field"], &p["errors"][0]["code"]), (&json!("name"), &json!("required")));

    let mut bad = new_employee(&section);
    bad["kana"] = json!("Jiro");
    bad["grade"] = json!("社長");
    bad["email"] = json!("no-at-sign");
    bad["promotions"] = json!({"理事": "2020-04-01"});
    let p = assert_problem(app.post_json("/api/v1/employees", &hr, &bad).await, 422, "validation").await;
    let fields: HashSet<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["kana", "grade", "email", "promotions"] {
        assert!(fields.contains(f), "{f} not reported: {p}");
    }
    // Each error carries a stable code an SPA can show its own words for.
    let codes: HashSet<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    for pair in
        [("kana", "format"), ("grade", "unknown_value"), ("email", "format"), ("promotions", "unknown_value")]
    {
        assert!(codes.contains(&pair), "{pair:?} in {codes:?}");
    }

    let mut wrong_date = new_employee(&section);
    wrong_date["hire_date"] = json!("2023-02-30");
    assert_problem(app.post_json("/api/v1/employees", &hr, &wrong_date).await, 422, "validation").await;

    let mut other_section = new_employee(&section);
    other_section["section_id"] = json!(uuid::Uuid::now_v7());
    let p = assert_problem(app.post_json("/api/v1/employees", &hr, &other_section).await, 422, "validation")
        .await;
    assert_eq!(p["errors"][0]["field"], "section_id");
    assert_eq!(p["errors"][0]["code"], "not_found");

    let res = app
        .request(reqwest::Method::POST, "/api/v1/employees", Some(&hr))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "bad-request").await;
    let res = app
        .request(reqwest::Method::POST, "/api/v1/employees", Some(&hr))
        .header("Content-Type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported-media-type").await;
    let huge = json!({"employee_no": "1", "name": "x".repeat(400_000)});
    assert_problem(app.post_json("/api/v1/employees", &hr, &huge).await, 413, "payload-too-large").await;

    assert_problem(app.get("/api/v1/employees/not-a-uuid", &hr).await, 404, "not-found").await;
    assert_problem(app.get("/api/v1/nothing-here", &hr).await, 404, "not-found").await;
    assert_problem(app.get("/api/v1/employees?limit=0", &hr).await, 422, "validation").await;
    assert_problem(app.get("/api/v1/employees?limit=abc", &hr).await, 400, "bad-request").await;
    assert_problem(app.get("/api/v1/employees?cursor=bogus", &hr).await, 422, "validation").await;
    let res = app.request(reqwest::Method::DELETE, "/api/v1/employees", Some(&hr)).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET, POST");
    assert_problem(res, 405, "method-not-allowed").await;

    assert!(app.all_employees().await.iter().all(|e| e["employee_no"] != "20001"));
    assert_eq!(app.audit_count().await, before, "a refused request wrote to the audit log");
}

#[tokio::test]
async fn filters_and_keyset_pagination() {
    let app = spawn().await;
    let hr = app.hr();
    // Every page, no duplicates, stable order, for both sorts.
    for sort in ["employee_no", "kana"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/employees?limit=37&sort={sort}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get_json(&path, &hr).await;
            for e in page["items"].as_array().unwrap() {
                seen.push((
                    e["kana"].as_str().unwrap().to_string(),
                    e["employee_no"].as_str().unwrap().to_string(),
                ));
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 294, "{sort}");
        assert_eq!(seen.iter().map(|s| &s.1).collect::<HashSet<_>>().len(), 294, "{sort}: duplicates");
        let mut sorted = seen.clone();
        // Code point order on every backend, whatever the database's locale.
        if sort == "employee_no" {
            sorted.sort_by(|a, b| a.1.cmp(&b.1));
        } else {
            sorted.sort();
        }
        assert_eq!(seen, sorted, "{sort}");
    }
    // A cursor of one sort is refused by the other.
    let page = app.get_json("/api/v1/employees?limit=5", &hr).await;
    let c = page["next_cursor"].as_str().unwrap();
    assert_problem(app.get(&format!("/api/v1/employees?sort=kana&cursor={c}"), &hr).await, 422, "validation")
        .await;

    let count = |q: &'static str| {
        let app = &app;
        let hr = hr.clone();
        async move {
            app.get_json(&format!("/api/v1/employees?limit=200&{q}"), &hr).await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("grade=部長").await, 9);
    assert_eq!(
        count("tag=%E9%98%B2%E7%81%BD%E6%8B%85%E5%BD%93").await,
        15,
        "防災担当: the 15 of 防災危機管理課"
    );
    assert_eq!(count("hired_fiscal_year=2023").await, 38, "new hires: two in each of 19 sections");
    // Half-width kana and hiragana find the same people as katakana.
    let a = count("q=%EF%BD%BB%EF%BE%84%EF%BD%B3").await; // ｻﾄｳ
    let b = count("q=%E3%81%95%E3%81%A8%E3%81%86").await; // さとう
    let c = count("q=%E3%82%B5%E3%83%88%E3%82%A6").await; // サトウ
    assert!(a > 0 && a == b && b == c, "{a} {b} {c}");
    assert_eq!(count("q=%25").await, 0, "LIKE wildcards are literal");
    let section = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    assert_eq!(count(Box::leak(format!("section_id={section}").into_boxed_str())).await, 16);
    assert_problem(app.get("/api/v1/employees?hired_fiscal_year=1700", &hr).await, 422, "validation").await;
}
