//! What a request costs the database, counted on the service's own pool: identifying the caller
//! is one statement the first time (none after, until the roster changes), and
//! the hot single-row reads stay at the counts below (a change that adds or saves a statement per
//! request shows here first; bench-load reports the same counts under load).

use kenshu_domain::auth::Role;
use kenshu_tests::{people, spawn, until_reads_kept, TestApp};

#[tokio::test]
async fn identifying_the_caller_is_one_statement_and_hot_reads_stay_small() {
    let app = spawn().await;
    app.import_fy2023_plan().await;
    app.publish_plan(2023).await;
    let employee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let head = app.token(people::SECTION_HEAD, &[Role::Employee, Role::SectionHead]);
    let hr = app.hr();
    let course = app.get_json("/api/v1/courses?fiscal_year=2023&limit=1", &hr).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let me = app.employee(people::EMPLOYEE).await["id"].as_str().unwrap().to_string();
    // Warm: the first request of a connection may prepare statements, and the instance keeps
    // each caller it has identified once it watches for roster changes.
    until_reads_kept(&app.db).await;
    for token in [&employee, &head, &hr] {
        for _ in 0..2 {
            app.get("/api/v1/me", token).await;
        }
    }
    let importer = app.token("personnel-system", &[Role::Importer]);
    app.get("/api/v1/me", &importer).await;
    // Identifying a known caller: nothing (kept in memory, see tests/e2e/kept.rs).
    // The caller alone: an employee, a head (with the units they head), a refused request.
    assert_eq!(app.cost("/api/v1/me", &employee).await, (200, 0));
    assert_eq!(app.cost("/api/v1/me", &head).await, (200, 0));
    assert_eq!(app.cost("/api/v1/notification-channels", &employee).await, (403, 0));
    // A service account's token (no employee row) too.
    assert_eq!(app.cost("/api/v1/me", &importer).await, (200, 0));
    // Hot single-row reads: the caller, then the row and what it carries. The first read of a
    // row goes to the database; the next is kept in memory until its tables change.
    let employee_path = format!("/api/v1/employees/{me}");
    let course_path = format!("/api/v1/courses/{course}");
    let (status, employee_read) = app.cost(&employee_path, &hr).await;
    assert_eq!(status, 200);
    let (status, course_read) = app.cost(&course_path, &employee).await;
    assert_eq!(status, 200);
    // The employee with their section's department.
    assert_eq!(employee_read, 1, "GET /employees/{{id}}");
    // The course with its plan's status and its sessions.
    assert_eq!(course_read, 1, "GET /courses/{{id}}");
    // A page of courses is chosen from the organisation's courses kept in memory and its courses
    // taken as rendered before: the first page reads what is not kept yet (the index, the
    // courses), the next nothing.
    let list = "/api/v1/courses?fiscal_year=2023&limit=50";
    let (status, first) = app.cost(list, &employee).await;
    assert_eq!(status, 200);
    assert!((1..=2).contains(&first), "the first page read {first} statements");
    assert_eq!(app.cost(list, &employee).await, (200, 0), "a page again");
    let search = "/api/v1/courses?q=%E7%A0%94%E4%BF%AE&limit=50";
    app.get(search, &employee).await;
    assert_eq!(app.cost(search, &employee).await, (200, 0), "a text search again");
    assert_eq!(app.cost(&employee_path, &hr).await, (200, 0), "GET /employees/{{id}} again");
    assert_eq!(app.cost(&course_path, &employee).await, (200, 0), "GET /courses/{{id}} again");
    // The courses I can take: the member of staff, the ladder and the year's published courses,
    // each kept once read.
    let mine = "/api/v1/me/courses?fiscal_year=2023";
    app.get(mine, &employee).await;
    assert_eq!(app.cost(mine, &employee).await, (200, 0), "/me/courses again");
    // An employee's nominations with their courses: two statements, the employee kept.
    let plan = app.get_json("/api/v1/courses?fiscal_year=2023&route=recommendation&limit=200", &hr).await;
    let for_everyone = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["rules"].as_array().unwrap().iter().any(|r| {
                r["route"] == "recommendation"
                    && r["conditions"].as_array().unwrap().iter().any(|k| k["kind"] == "all_staff")
            })
        })
        .expect("a course any head may recommend anyone for");
    let path = format!("/api/v1/courses/{}/recommendations", for_everyone["id"].as_str().unwrap());
    let body = serde_json::json!({"employee_no": people::EMPLOYEE, "reason": "推薦"});
    let res = app.post_json(&path, &head, &body).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let history = format!("/api/v1/employees/{me}/training-history");
    for (path, token) in
        [("/api/v1/me/nominations?fiscal_year=2023", &employee), (history.as_str(), &employee)]
    {
        app.get(path, token).await;
        assert_eq!(app.cost(path, token).await, (200, 2), "{path}");
    }
    // A caller never seen is read once, whatever the backend.
    let stranger = app.token(people::SAME_SECTION, &[Role::Employee]);
    assert_eq!(app.cost("/api/v1/me", &stranger).await, (200, 1));
    println!("statements: /employees/{{id}} {employee_read}, /courses/{{id}} {course_read}");
}

/// Statements a PUT of `entries` on the sign-in sheet at `path` ran, and its answer.
async fn sheet_cost(app: &TestApp, path: &str, entries: &[serde_json::Value]) -> (u64, serde_json::Value) {
    // The caller as every sheet finds them: the write before dropped the callers kept in memory.
    app.get("/api/v1/me", &app.hr()).await;
    let before = app.db.statements();
    let res = app
        .request(reqwest::Method::PUT, path, Some(&app.hr()))
        .json(&serde_json::json!({ "entries": entries }))
        .send()
        .await
        .unwrap();
    let count = app.db.statements() - before;
    assert_eq!(res.status(), 200);
    (count, res.json().await.unwrap())
}

/// A sign-in sheet costs the same few statements for 5 trainees as for 60, whether it records,
/// corrects, completes or reopens them: nothing is written one trainee at a time.
#[tokio::test]
async fn a_sheet_costs_the_same_statements_for_five_trainees_as_for_sixty() {
    use serde_json::json;
    let app = spawn().await;
    let hr = app.hr();
    let plan = app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": 2023})).await;
    assert!(matches!(plan.status().as_u16(), 201 | 409));
    let body = json!({
        "fiscal_year": 2023, "category": "thematic", "number": 77, "title": "文書事務研修",
        "rules": [{"route": "designation", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published"
    });
    let res = app.post_json("/api/v1/courses", &hr, &body).await;
    assert_eq!(res.status(), 201);
    let course = res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let session = json!({"starts_at": "2023-07-12T09:00:00+09:00", "ends_at": "2023-07-12T17:00:00+09:00"});
    let res = app.post_json(&format!("/api/v1/courses/{course}/sessions"), &hr, &session).await;
    assert_eq!(res.status(), 201);
    let session = res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    app.publish_plan(2023).await;
    let res = app
        .request(reqwest::Method::POST, &format!("/api/v1/courses/{course}/designation"), Some(&hr))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let path = format!("/api/v1/courses/{course}/sessions/{session}/attendance");
    let numbers: Vec<String> = app.get_json(&path, &hr).await["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["employee"]["employee_no"].as_str().unwrap().to_string())
        .collect();
    assert!(numbers.len() >= 65, "every member of staff is on the session");
    let entries = |from: usize, n: usize, status: &str| -> Vec<serde_json::Value> {
        numbers[from..from + n].iter().map(|no| json!({"employee_no": no, "status": status})).collect()
    };
    // Recorded present: each completes the one-session course.
    let (few, done) = sheet_cost(&app, &path, &entries(0, 5, "present")).await;
    assert_eq!(done["result"]["completed"].as_array().unwrap().len(), 5, "{}", done["result"]);
    let (many, done) = sheet_cost(&app, &path, &entries(5, 60, "present")).await;
    assert_eq!(done["result"]["completed"].as_array().unwrap().len(), 60, "{}", done["result"]);
    assert_eq!(few, many, "recording and completing 5 or 60 trainees");
    // Corrected to absent: each is reopened.
    let (few, done) = sheet_cost(&app, &path, &entries(0, 5, "absent")).await;
    assert_eq!(done["result"]["corrected"], 5);
    assert_eq!(done["result"]["reopened"].as_array().unwrap().len(), 5);
    let (many, done) = sheet_cost(&app, &path, &entries(5, 60, "absent")).await;
    assert_eq!(done["result"]["reopened"].as_array().unwrap().len(), 60);
    assert_eq!(few, many, "correcting and reopening 5 or 60 trainees");
    // What was written is what the sheet and the audit log say.
    let sheet = app.get_json(&path, &hr).await;
    assert_eq!(sheet["counts"]["absent"], 65, "{}", sheet["counts"]);
    let log = app.get_json("/api/v1/audit?entity_type=nomination&limit=200", &hr).await;
    let count =
        |action: &str| log["items"].as_array().unwrap().iter().filter(|r| r["action"] == action).count();
    assert_eq!(
        (count("nomination.complete"), count("nomination.reopen")),
        (65, 65),
        "one record per trainee moved"
    );
}
