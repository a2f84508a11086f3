//! What a request costs the database, counted on the service's own pool: identifying the caller
//! is one statement, and the hot single-row reads stay at the counts below (a change that adds or
//! saves a statement per request shows here first; bench-load reports the same counts under load).

use kenshu_domain::auth::Role;
use kenshu_tests::{people, spawn, TestApp};

/// Statements the request ran.
async fn cost(app: &TestApp, path: &str, token: &str) -> (u16, u64) {
    let before = app.db.statements();
    let status = app.get(path, token).await.status().as_u16();
    (status, app.db.statements() - before)
}

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
    // Warm: the first request of a connection may prepare statements.
    for _ in 0..2 {
        app.get("/api/v1/me", &employee).await;
    }
    // The caller alone: an employee, a head (with the units they head), a refused request.
    assert_eq!(cost(&app, "/api/v1/me", &employee).await, (200, 1));
    assert_eq!(cost(&app, "/api/v1/me", &head).await, (200, 1));
    assert_eq!(cost(&app, "/api/v1/notification-channels", &employee).await, (403, 1));
    // A service account's token (no employee row) is one statement too.
    let importer = app.token("personnel-system", &[Role::Importer]);
    assert_eq!(cost(&app, "/api/v1/me", &importer).await, (200, 1));
    // Hot single-row reads: the caller, then the row and what it carries.
    let (status, employee_read) = cost(&app, &format!("/api/v1/employees/{me}"), &hr).await;
    assert_eq!(status, 200);
    let (status, course_read) = cost(&app, &format!("/api/v1/courses/{course}"), &employee).await;
    assert_eq!(status, 200);
    // The caller; the employee with their section's department.
    assert_eq!(employee_read, 2, "GET /employees/{{id}}");
    // The caller; the course with its plan's status and its sessions.
    assert_eq!(course_read, 2, "GET /courses/{{id}}");
    println!("statements: /me 1, /employees/{{id}} {employee_read}, /courses/{{id}} {course_read}");
}
