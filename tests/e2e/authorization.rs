//! Every route of the OpenAPI document × every role, with the expected outcome. A route added
//! without a row here fails the test, so each new endpoint is covered from its first day.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use kenshu_domain::auth::Role;
use kenshu_tests::{people, spawn, TestApp, OTHER_ORG};
use reqwest::Method;
use serde_json::{json, Value};

/// Who calls, in this order in every row.
const CALLERS: [(&str, Option<Role>, &str); 7] = [
    ("anonymous", None, ""),
    ("employee", Some(Role::Employee), people::EMPLOYEE),
    ("section_head", Some(Role::SectionHead), people::SECTION_HEAD),
    ("department_head", Some(Role::DepartmentHead), people::DEPARTMENT_HEAD),
    ("hr_admin", Some(Role::HrAdmin), people::HR),
    ("importer", Some(Role::Importer), "personnel-system"),
    ("auditor", Some(Role::Auditor), "auditor"),
];

/// Expected status per caller, in CALLERS order. Objects are in another department than every
/// head and employee caller, so only organisation-wide roles may see them.
const MATRIX: &[(&str, &str, [u16; 7])] = &[
    ("GET", "/healthz", [200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/readyz", [200, 200, 200, 200, 200, 200, 200]),
    // Only with the metrics token, which no user's token is; none is set here.
    ("GET", "/metrics", [404, 404, 404, 404, 404, 404, 404]),
    ("GET", "/api/v1/me", [401, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/v1/me/courses", [401, 200, 200, 200, 200, 403, 200]),
    ("GET", "/api/v1/me/nominations", [401, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/v1/me/notices", [401, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/v1/courses/{id}/notify", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/notices", [401, 403, 403, 403, 200, 200, 403]),
    ("POST", "/api/v1/notices/claim", [401, 403, 403, 403, 200, 200, 403]),
    ("GET", "/api/v1/notices/{id}/deliveries", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/notification-channels", [401, 403, 403, 403, 200, 403, 403]),
    ("POST", "/api/v1/notification-channels", [401, 403, 403, 403, 201, 403, 403]),
    ("GET", "/api/v1/notification-channels/{id}", [401, 403, 403, 403, 200, 403, 403]),
    ("PUT", "/api/v1/notification-channels/{id}", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/deliveries", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/portal-forms", [401, 403, 403, 403, 200, 403, 403]),
    ("POST", "/api/v1/portal-forms", [401, 403, 403, 403, 201, 403, 403]),
    ("GET", "/api/v1/portal-forms/{id}", [401, 403, 403, 403, 200, 403, 403]),
    ("PUT", "/api/v1/portal-forms/{id}", [401, 403, 403, 403, 200, 403, 403]),
    // The body's access token decides, whatever bearer token comes with it: here a wrong one.
    ("POST", "/api/v1/portal-forms/{id}/webhook", [401, 401, 401, 401, 401, 401, 401]),
    ("GET", "/api/v1/portal-inbox", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/portal-inbox/{id}", [401, 403, 403, 403, 200, 403, 403]),
    // It fails again (nobody on the roster has the login id it names) and says so.
    ("POST", "/api/v1/portal-inbox/{id}/replay", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/calendar-feeds", [401, 200, 200, 200, 200, 200, 200]),
    // Of the caller's own places: employees only.
    ("POST", "/api/v1/calendar-feeds", [401, 201, 201, 201, 201, 403, 403]),
    // A feed is read by its token alone, like a calendar client does.
    ("GET", "/calendar/{file}", [200, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/v1/calendar-feeds/{id}", [401, 404, 404, 404, 200, 404, 404]),
    // HR's course feed: only HR (or its maker) revokes it; to others it is not there.
    ("DELETE", "/api/v1/calendar-feeds/{id}", [401, 404, 404, 404, 204, 404, 404]),
    // Still pending: only a failed or skipped delivery is delivered again by hand.
    ("POST", "/api/v1/deliveries/{id}/redeliver", [401, 403, 403, 403, 409, 403, 403]),
    ("GET", "/api/v1/training-gaps", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/notices/{id}/delivered", [401, 403, 403, 403, 200, 200, 403]),
    ("GET", "/api/v1/employees", [401, 200, 200, 200, 200, 403, 200]),
    ("POST", "/api/v1/employees", [401, 403, 403, 403, 201, 403, 403]),
    ("GET", "/api/v1/employees/{id}", [401, 403, 403, 403, 200, 403, 200]),
    ("PUT", "/api/v1/employees/{id}", [401, 403, 403, 403, 200, 403, 403]),
    ("POST", "/api/v1/employees/import", [401, 403, 403, 403, 200, 200, 403]),
    // No portal directory is set up in this app: the roles that may sync learn so.
    ("POST", "/api/v1/directory/sync", [401, 403, 403, 403, 404, 404, 403]),
    ("GET", "/api/v1/departments", [401, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/v1/departments", [401, 403, 403, 403, 201, 403, 403]),
    ("GET", "/api/v1/departments/{id}", [401, 200, 200, 200, 200, 200, 200]),
    ("PUT", "/api/v1/departments/{id}", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/sections", [401, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/v1/sections", [401, 403, 403, 403, 201, 403, 403]),
    ("GET", "/api/v1/sections/{id}", [401, 200, 200, 200, 200, 200, 200]),
    ("PUT", "/api/v1/sections/{id}", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/grades", [401, 200, 200, 200, 200, 200, 200]),
    ("PUT", "/api/v1/grades", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/organisation/workflow", [401, 200, 200, 200, 200, 200, 200]),
    ("POST", "/api/v1/organisation/structure/import", [401, 403, 403, 403, 200, 200, 403]),
    ("PUT", "/api/v1/organisation/workflow", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/organisation/reminders", [401, 200, 200, 200, 200, 200, 200]),
    ("PUT", "/api/v1/organisation/reminders", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/plans", [401, 200, 200, 200, 200, 403, 200]),
    ("POST", "/api/v1/plans", [401, 403, 403, 403, 201, 403, 403]),
    ("GET", "/api/v1/plans/{fiscal_year}", [401, 200, 200, 200, 200, 403, 200]),
    ("PUT", "/api/v1/plans/{fiscal_year}", [401, 403, 403, 403, 200, 403, 403]),
    ("POST", "/api/v1/plans/{fiscal_year}/publish", [401, 403, 403, 403, 200, 403, 403]),
    ("POST", "/api/v1/plans/{fiscal_year}/copy", [401, 403, 403, 403, 201, 403, 403]),
    ("POST", "/api/v1/plans/{fiscal_year}/import", [401, 403, 403, 403, 200, 200, 403]),
    ("GET", "/api/v1/plans/{fiscal_year}/export", [401, 403, 403, 403, 200, 200, 200]),
    ("GET", "/api/v1/courses", [401, 200, 200, 200, 200, 403, 200]),
    ("POST", "/api/v1/courses", [401, 403, 403, 403, 201, 403, 403]),
    ("GET", "/api/v1/courses/{id}", [401, 200, 200, 200, 200, 403, 200]),
    ("PUT", "/api/v1/courses/{id}", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/courses/{id}/history", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/courses/{id}/eligible", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/courses/{id}/designation", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/courses/{id}/nominations", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/courses/{id}/nominations/bulk", [401, 403, 403, 403, 200, 403, 403]),
    ("POST", "/api/v1/plans/{fiscal_year}/nominations/import", [401, 403, 403, 403, 200, 200, 403]),
    ("POST", "/api/v1/plans/{fiscal_year}/designation", [401, 403, 403, 403, 200, 403, 403]),
    ("POST", "/api/v1/courses/{id}/recommendations", [401, 403, 201, 403, 403, 403, 403]),
    ("POST", "/api/v1/courses/{id}/applications", [401, 201, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/nominations/{id}", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/employees/{id}/training-history", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/sections/{id}/nominations", [401, 403, 403, 403, 200, 403, 200]),
    // Before the events row, whose HR call cancels the applicant's place.
    ("GET", "/api/v1/courses/{id}/sessions/{session_id}/attendance", [401, 403, 403, 403, 200, 403, 200]),
    ("PUT", "/api/v1/courses/{id}/sessions/{session_id}/attendance", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/courses/{id}/sessions/{session_id}/check-in", [401, 403, 403, 403, 200, 403, 403]),
    ("POST", "/api/v1/courses/{id}/sessions/{session_id}/check-in", [401, 403, 403, 403, 409, 403, 403]),
    ("DELETE", "/api/v1/courses/{id}/sessions/{session_id}/check-in", [401, 403, 403, 403, 404, 403, 403]),
    (
        "GET",
        "/api/v1/courses/{id}/sessions/{session_id}/check-in/qr.svg",
        [401, 403, 403, 403, 409, 403, 403],
    ),
    ("POST", "/api/v1/me/check-ins", [401, 409, 409, 409, 409, 403, 403]),
    (
        "POST",
        "/api/v1/courses/{id}/sessions/{session_id}/attendance/import",
        [401, 403, 403, 403, 200, 200, 403],
    ),
    // Before the nomination's events too: the place's cancellation withdraws its notices.
    ("GET", "/api/v1/absence-notices/{id}", [401, 403, 403, 403, 200, 403, 200]),
    ("PUT", "/api/v1/absence-notices/{id}", [401, 403, 403, 403, 409, 403, 403]),
    ("POST", "/api/v1/absence-notices/{id}/events", [401, 403, 403, 403, 200, 403, 403]),
    ("POST", "/api/v1/nominations/{id}/events", [401, 403, 403, 403, 200, 403, 403]),
    // HR files on a trainee's behalf (the trainee phoned): allowed, here for the place just
    // cancelled (no longer on the session).
    ("POST", "/api/v1/nominations/{id}/absence-notices", [401, 403, 403, 403, 422, 403, 403]),
    ("POST", "/api/v1/courses/{id}/sessions", [401, 403, 403, 403, 201, 403, 403]),
    ("PUT", "/api/v1/courses/{id}/sessions/{session_id}", [401, 403, 403, 403, 200, 403, 403]),
    ("DELETE", "/api/v1/courses/{id}/sessions/{session_id}", [401, 403, 403, 403, 204, 403, 403]),
    ("GET", "/api/v1/audit", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/audit/verification", [401, 403, 403, 403, 200, 403, 200]),
    (
        "GET",
        "/api/v1/courses/{id}/sessions/{session_id}/absence-notices",
        [401, 403, 403, 403, 200, 403, 200],
    ),
    ("GET", "/api/v1/me/absence-notices", [401, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/v1/sections/{id}/absence-notices", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/nominations/{id}/report", [401, 403, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/reports", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/reports/{id}", [401, 403, 403, 403, 200, 403, 200]),
    ("PUT", "/api/v1/reports/{id}", [401, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/reports/{id}/events", [401, 403, 403, 403, 200, 403, 403]),
    ("PUT", "/api/v1/reports/{id}/workplace-sharing", [401, 403, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/me/reports", [401, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/v1/sections/{id}/reports", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/departments/{id}/reports", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/plans/{fiscal_year}/results", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/subsidies/{fiscal_year}/{programme}", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/subsidies/{fiscal_year}/{programme}", [401, 403, 403, 403, 201, 403, 403]),
    ("PUT", "/api/v1/subsidies/{fiscal_year}/{programme}", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/subsidies/{fiscal_year}/correspondence/courses", [401, 200, 200, 200, 200, 403, 200]),
    (
        "POST",
        "/api/v1/subsidies/{fiscal_year}/correspondence/courses/import",
        [401, 403, 403, 403, 200, 200, 403],
    ),
    ("GET", "/api/v1/subsidy-applications", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/subsidy-applications", [401, 201, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/subsidy-applications/{id}", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/subsidy-applications/{id}/events", [401, 403, 403, 403, 409, 403, 403]),
    ("PUT", "/api/v1/subsidy-applications/{id}/proof", [401, 403, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/subsidy-applications/{id}/proof", [401, 403, 403, 403, 404, 403, 404]),
    ("GET", "/api/v1/me/subsidy-applications", [401, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/v1/sections/{id}/subsidy-applications", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/study-groups", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/study-groups", [401, 201, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/study-groups/{id}", [401, 403, 403, 403, 200, 403, 200]),
    // HR may hand a group over (its representative left); the group stays as it was.
    ("PUT", "/api/v1/study-groups/{id}/members", [401, 403, 403, 403, 200, 403, 403]),
    ("PUT", "/api/v1/study-groups/{id}/plan", [401, 403, 403, 403, 403, 403, 403]),
    ("PUT", "/api/v1/study-groups/{id}/settlement", [401, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/study-groups/{id}/events", [401, 403, 403, 403, 409, 403, 403]),
    ("GET", "/api/v1/me/study-groups", [401, 200, 200, 200, 200, 200, 200]),
    ("GET", "/api/v1/internships/{fiscal_year}", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/internships/{fiscal_year}", [401, 403, 403, 403, 201, 403, 403]),
    ("PUT", "/api/v1/internships/{fiscal_year}", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/internships/{fiscal_year}/students", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/internships/{fiscal_year}/students", [401, 403, 403, 403, 201, 403, 403]),
    // The student is accepted into the other department's section: no caller heads it.
    ("GET", "/api/v1/internship-students/{id}", [401, 403, 403, 403, 200, 403, 200]),
    ("PUT", "/api/v1/internship-students/{id}", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/sections/{id}/internship-students", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/internship-students/{id}/events", [401, 403, 403, 403, 409, 403, 403]),
    // Last: after it the student's data is gone.
    ("POST", "/api/v1/internship-students/{id}/erasure", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/courses/{id}/survey", [401, 404, 404, 404, 404, 403, 404]),
    ("POST", "/api/v1/courses/{id}/survey", [401, 403, 403, 403, 201, 403, 403]),
    ("PUT", "/api/v1/courses/{id}/survey", [401, 403, 403, 403, 200, 403, 403]),
    // After the row above, the course has a survey.
    ("POST", "/api/v1/courses/{id}/survey/responses", [401, 403, 403, 403, 403, 403, 403]),
    ("GET", "/api/v1/courses/{id}/survey/results", [401, 403, 403, 403, 200, 403, 200]),
    // 合同研修: the course is shared with 厚木市 (the target share), so sharing it again with them
    // is a conflict for the one role that may share.
    ("POST", "/api/v1/courses/{id}/shares", [401, 403, 403, 403, 409, 403, 403]),
    ("GET", "/api/v1/courses/{id}/shares", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/courses/{id}/shares/{share_id}", [401, 403, 403, 403, 200, 403, 200]),
    ("PUT", "/api/v1/courses/{id}/shares/{share_id}", [401, 403, 403, 403, 200, 403, 403]),
    ("GET", "/api/v1/courses/{id}/joint-roster", [401, 403, 403, 403, 200, 403, 200]),
    (
        "GET",
        "/api/v1/courses/{id}/sessions/{session_id}/joint-attendance",
        [401, 403, 403, 403, 200, 403, 200],
    ),
    // No participant's trainee has that id.
    (
        "PUT",
        "/api/v1/courses/{id}/sessions/{session_id}/joint-attendance",
        [401, 403, 403, 403, 422, 403, 403],
    ),
    // After the places: the share is taken back.
    ("POST", "/api/v1/courses/{id}/shares/{share_id}/events", [401, 403, 403, 403, 200, 403, 403]),
    // The target notice is not for a joint course.
    ("PUT", "/api/v1/absence-notices/{id}/host-sharing", [401, 403, 403, 403, 409, 403, 403]),
    // 厚木市 offers this organisation a course of its own.
    ("GET", "/api/v1/joint-offers", [401, 403, 403, 403, 200, 403, 200]),
    ("GET", "/api/v1/joint-offers/{id}", [401, 403, 403, 403, 200, 403, 200]),
    ("POST", "/api/v1/joint-offers/{id}/events", [401, 403, 403, 403, 200, 403, 403]),
];

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

struct Targets {
    employee: Value,
    department: Value,
    section: Value,
    /// A published course of the published FY2023 plan, with one session.
    course: Value,
    /// An application by an employee of another department than every head and employee caller.
    nomination: Value,
    /// A training notice in the outbox.
    notice: Value,
    /// A webhook channel the notice went to.
    channel: Value,
    /// The notice's delivery on the channel, pending.
    delivery: Value,
    /// A portal form for absence notices.
    portal_form: Value,
    /// A change it sent that could not be applied (an unknown login id).
    portal_change: Value,
    /// HR's feed of the course.
    feed: Value,
    /// The path of an employee's own feed (token and .ics).
    feed_file: String,
    /// The applicant's absence notice for the course's session, submitted.
    absence_notice: Value,
    /// The applicant's post-training report, submitted.
    report: Value,
    /// The applicant's correspondence-course subsidy application, applied.
    subsidy: Value,
    /// A study group of the applicant's, registered.
    group: Value,
    /// A student of the FY2023 internship programme (ended), accepted into `section`.
    intern: Value,
    /// `course` shared with 厚木市, offered.
    share: Value,
    /// A course of 厚木市 offered to this organisation.
    offer: Value,
}

const SESSION: &str =
    r#"{"starts_at": "2023-07-12T09:00:00+09:00", "ends_at": "2023-07-12T17:00:00+09:00", "capacity": 40}"#;

fn session_body() -> Value {
    serde_json::from_str(SESSION).unwrap()
}

/// The FY2023 plan, published, with one published course that has a session.
async fn catalogue_target(app: &TestApp) -> Value {
    let hr = app.hr();
    assert_eq!(app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": 2023})).await.status(), 201);
    let course = json!({
        "fiscal_year": 2023, "category": "hierarchical", "number": 1, "title": "新採用職員 採用時研修Ⅰ",
        "rules": [
            {"route": "designation", "conditions": [{"kind": "new_hires"}]},
            {"route": "recommendation", "conditions": [{"kind": "all_staff"}]},
            {"route": "application", "conditions": [{"kind": "all_staff"}]}
        ],
        "timing": {"kind": "month", "month": 4}, "delivery": "classroom"
    });
    let res = app.post_json("/api/v1/courses", &hr, &course).await;
    assert_eq!(res.status(), 201);
    let course: Value = res.json().await.unwrap();
    let id = course["id"].as_str().unwrap();
    let res = app.post_json(&format!("/api/v1/courses/{id}/sessions"), &hr, &session_body()).await;
    assert_eq!(res.status(), 201);
    app.publish_plan(2023).await;
    app.get_json(&format!("/api/v1/courses/{id}"), &hr).await
}

fn course_body(course: &Value) -> Value {
    let mut body = course.clone();
    for k in
        ["id", "routes", "timing_label", "joint_share_id", "sessions", "version", "created_at", "updated_at"]
    {
        body.as_object_mut().unwrap().remove(k);
    }
    body
}

async fn etag(app: &TestApp, path: &str) -> String {
    let res = app.get(path, &app.hr()).await;
    res.headers()["etag"].to_str().unwrap().to_string()
}

/// A webhook channel nobody listens at: its deliveries stay pending while the tests run none.
fn channel_body(name: &str) -> Value {
    json!({"name": name, "settings": {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}, "secret": "matrix-signing-secret-0001"})
}

fn portal_form_body(name: &str) -> Value {
    json!({"kind": "absence_notice", "name": name, "app_id": name, "fields": {
        "employee": "登録者", "course": "研修名", "session": "研修日", "kind": "区分", "reason": "理由"}})
}

/// What the form's AppSuite app posts for a record.
fn portal_webhook(form: &Value, token: &str, login: &str) -> Value {
    json!({"app_id": form["app_id"], "data_id": 1, "type": "added", "access_token": token, "data": {
        "登録者": {"value": login}, "研修名": {"value": "1"}, "研修日": {"value": "2023-07-12"},
        "区分": {"value": "欠席"}, "理由": {"value": "災害対応のため"}}})
}

fn intern_programme(year: &str) -> Value {
    json!({"title": "インターンシップ", "starts_on": format!("{year}-08-07"), "ends_on": format!("{year}-08-18"), "capacity": 4})
}

async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>, t: &Targets) -> u16 {
    let hr = app.hr();
    let concrete = match path {
        p if p.starts_with("/api/v1/employees/{id}") => p.replace("{id}", t.employee["id"].as_str().unwrap()),
        p if p.starts_with("/api/v1/departments/{id}") => {
            p.replace("{id}", t.department["id"].as_str().unwrap())
        }
        p if p.starts_with("/api/v1/sections/{id}") => p.replace("{id}", t.section["id"].as_str().unwrap()),
        p if p.starts_with("/api/v1/plans/{fiscal_year}") => p.replace("{fiscal_year}", "2023"),
        p if p.starts_with("/api/v1/nominations/{id}") => {
            p.replace("{id}", t.nomination["id"].as_str().unwrap())
        }
        p if p.starts_with("/api/v1/notices/{id}") => p.replace("{id}", t.notice["id"].as_str().unwrap()),
        p if p.starts_with("/api/v1/notification-channels/{id}") => {
            p.replace("{id}", t.channel["id"].as_str().unwrap())
        }
        p if p.starts_with("/api/v1/portal-forms/{id}") => {
            p.replace("{id}", t.portal_form["id"].as_str().unwrap())
        }
        p if p.starts_with("/api/v1/portal-inbox/{id}") => {
            p.replace("{id}", t.portal_change["id"].as_str().unwrap())
        }
        p if p.starts_with("/api/v1/deliveries/{id}") => {
            p.replace("{id}", t.delivery["id"].as_str().unwrap())
        }
        p if p.starts_with("/api/v1/calendar-feeds/{id}") => {
            p.replace("{id}", t.feed["id"].as_str().unwrap())
        }
        "/calendar/{file}" => t.feed_file.clone(),
        "/api/v1/internships/{fiscal_year}" if method == "POST" => {
            format!("/api/v1/internships/{}", 2030 + COUNTER.fetch_add(1, Ordering::Relaxed) % 60)
        }
        p if p.starts_with("/api/v1/internships/{fiscal_year}") => p.replace("{fiscal_year}", "2023"),
        p if p.starts_with("/api/v1/internship-students/{id}") => {
            p.replace("{id}", t.intern["id"].as_str().unwrap())
        }
        p if p.starts_with("/api/v1/study-groups/{id}") => p.replace("{id}", t.group["id"].as_str().unwrap()),
        p if p.starts_with("/api/v1/subsidy-applications/{id}") => {
            p.replace("{id}", t.subsidy["id"].as_str().unwrap())
        }
        // A new programme needs a year without one.
        "/api/v1/subsidies/{fiscal_year}/{programme}" if method == "POST" => {
            format!(
                "/api/v1/subsidies/{}/correspondence",
                2030 + COUNTER.fetch_add(1, Ordering::Relaxed) % 60
            )
        }
        p if p.starts_with("/api/v1/subsidies/{fiscal_year}") => {
            p.replace("{fiscal_year}", "2023").replace("{programme}", "correspondence")
        }
        p if p.starts_with("/api/v1/reports/{id}") => p.replace("{id}", t.report["id"].as_str().unwrap()),
        p if p.starts_with("/api/v1/absence-notices/{id}") => {
            p.replace("{id}", t.absence_notice["id"].as_str().unwrap())
        }
        p if p.starts_with("/api/v1/joint-offers/{id}") => p.replace("{id}", t.offer["id"].as_str().unwrap()),
        p if p.starts_with("/api/v1/courses/{id}") => {
            let course_id = t.course["id"].as_str().unwrap();
            let session_id = if p.contains("{session_id}") {
                // Each call gets its own session, so a successful DELETE leaves the next intact.
                let res = app
                    .post_json(&format!("/api/v1/courses/{course_id}/sessions"), &hr, &session_body())
                    .await;
                res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
            } else {
                String::new()
            };
            p.replace("{id}", course_id)
                .replace("{session_id}", &session_id)
                .replace("{share_id}", t.share["id"].as_str().unwrap())
        }
        p => p.to_string(),
    };
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut rb = app.request(method.clone(), &concrete, token);
    rb = match (method.as_str(), path) {
        ("POST", "/api/v1/employees") => rb.json(&json!({
            "employee_no": unique("M"), "name": "試験 太郎", "kana": "シケン タロウ",
            "section_id": t.section["id"], "grade": "一般", "hire_date": "2023-04-01"
        })),
        ("PUT", "/api/v1/employees/{id}") => {
            let mut body = t.employee.clone();
            for k in ["id", "department_id", "hired_fiscal_year", "version", "created_at", "updated_at"] {
                body.as_object_mut().unwrap().remove(k);
            }
            body["post"] = json!(unique("担当"));
            rb.header("If-Match", etag(app, &concrete).await).json(&body)
        }
        ("POST", "/api/v1/employees/import") => {
            let csv = format!(
                "employee_no,name,kana,section_code,grade,hire_date\n{},{},{},S0901,一般,2020-04-01\n",
                unique("N"),
                "取込 花子",
                "トリコミ ハナコ"
            );
            app.request(method.clone(), "/api/v1/employees/import?dry_run=true&mode=upsert", token)
                .header("Content-Type", "text/csv")
                .body(csv)
        }
        ("POST", "/api/v1/directory/sync") => {
            app.request(method.clone(), "/api/v1/directory/sync?dry_run=true&mode=upsert", token)
        }
        ("POST", "/api/v1/departments") => rb.json(&json!({"code": unique("MD"), "name": "試験部"})),
        ("PUT", "/api/v1/departments/{id}") => rb
            .header("If-Match", etag(app, &concrete).await)
            .json(&json!({"code": t.department["code"], "name": unique("部名"), "head_employee_id": t.department["head_employee_id"]})),
        ("POST", "/api/v1/sections") => {
            rb.json(&json!({"code": unique("MS"), "name": "試験課", "department_id": t.department["id"]}))
        }
        ("PUT", "/api/v1/sections/{id}") => rb.header("If-Match", etag(app, &concrete).await).json(&json!({
            "code": t.section["code"], "name": unique("課名"), "department_id": t.section["department_id"],
            "head_employee_id": t.section["head_employee_id"]
        })),
        ("POST", "/api/v1/plans") => {
            rb.json(&json!({"fiscal_year": 2100 + COUNTER.fetch_add(1, Ordering::Relaxed) % 100}))
        }
        ("PUT", "/api/v1/plans/{fiscal_year}") | ("POST", "/api/v1/plans/{fiscal_year}/publish") => {
            let plan_etag = etag(app, "/api/v1/plans/2023").await;
            rb.header("If-Match", plan_etag).json(&json!({"policy": unique("方針")}))
        }
        ("POST", "/api/v1/plans/{fiscal_year}/copy") => {
            rb.json(&json!({"to_fiscal_year": 2199 - COUNTER.fetch_add(1, Ordering::Relaxed) % 90}))
        }
        ("POST", "/api/v1/plans/{fiscal_year}/import") => {
            let csv = "区分,No,研修名,対象ルール,実施時期\n階層別,6,採用後２次研修,designation: years_after_hire(3),7月\n";
            app.request(method.clone(), &format!("{concrete}?dry_run=true"), token)
                .header("Content-Type", "text/csv; charset=utf-8")
                .body(csv)
        }
        ("POST", "/api/v1/courses/{id}/designation") | ("POST", "/api/v1/plans/{fiscal_year}/designation") => {
            app.request(method.clone(), &format!("{concrete}?dry_run=true"), token)
        }
        ("POST", "/api/v1/courses/{id}/recommendations") => {
            let same_section = app.employee(people::SAME_SECTION).await;
            rb.json(&json!({"employee_id": same_section["id"], "reason": "推薦理由"}))
        }
        ("POST", "/api/v1/courses/{id}/applications") => rb.json(&json!({"reason": "志望理由"})),
        ("POST", "/api/v1/nominations/{id}/events") => {
            rb.header("If-Match", etag(app, &concrete.replace("/events", "")).await).json(&json!({"event": "cancel"}))
        }
        ("POST", "/api/v1/courses/{id}/nominations/bulk") => {
            rb.json(&json!({"ids": [t.nomination["id"]], "move_to_session": null}))
        }
        ("POST", "/api/v1/plans/{fiscal_year}/nominations/import") => app
            .request(method.clone(), &format!("{concrete}?dry_run=true"), token)
            .header("Content-Type", "text/csv")
            .body(format!("区分,No,職員番号,選考方法\n階層別,1,{},指名\n", people::OTHER_DEPARTMENT)),
        ("GET", "/api/v1/training-gaps") => {
            let path = format!("/api/v1/training-gaps?course_ids={}", t.course["id"].as_str().unwrap());
            app.request(method.clone(), &path, token)
        }
        ("POST", "/api/v1/courses") => {
            let number = 100 + COUNTER.fetch_add(1, Ordering::Relaxed) % 800;
            rb.json(&json!({"fiscal_year": 2023, "category": "thematic", "number": number,
                "title": "試験研修", "delivery": "e_learning"}))
        }
        ("PUT", "/api/v1/courses/{id}") => {
            let mut body = course_body(&t.course);
            body["notes"] = json!(unique("備考"));
            rb.header("If-Match", etag(app, &concrete).await).json(&body)
        }
        ("POST", "/api/v1/courses/{id}/sessions") => rb.json(&session_body()),
        ("PUT", "/api/v1/courses/{id}/sessions/{session_id}/joint-attendance") => rb.json(
            &json!({"entries": [{"trainee_id": "01939a4e-7c1a-7d2e-8f00-0000000000e1", "status": "present"}]}),
        ),
        ("POST", "/api/v1/courses/{id}/shares") => rb.json(&json!({"organisation": OTHER_ORG, "places": 2})),
        ("PUT", "/api/v1/courses/{id}/shares/{share_id}") => rb
            .header("If-Match", etag(app, &concrete).await)
            .json(&json!({"places": 2 + COUNTER.fetch_add(1, Ordering::Relaxed) % 50})),
        ("POST", "/api/v1/courses/{id}/shares/{share_id}/events") => rb
            .header("If-Match", etag(app, &concrete.replace("/events", "")).await)
            .json(&json!({"event": "cancel"})),
        ("PUT", "/api/v1/absence-notices/{id}/host-sharing") => rb
            .header("If-Match", etag(app, &concrete.replace("/host-sharing", "")).await)
            .json(&json!({"share_reason": true})),
        ("POST", "/api/v1/joint-offers/{id}/events") => rb
            .header("If-Match", etag(app, &concrete.replace("/events", "")).await)
            .json(&json!({"event": "decline"})),
        ("PUT", "/api/v1/courses/{id}/sessions/{session_id}/attendance") => {
            rb.json(&json!({"entries": [{"employee_no": people::OTHER_DEPARTMENT, "status": "present"}]}))
        }
        ("POST", "/api/v1/courses/{id}/sessions/{session_id}/attendance/import") => app
            .request(method.clone(), &format!("{concrete}?dry_run=true"), token)
            .header("Content-Type", "text/csv")
            .body(format!("職員番号,出欠\n{},〇\n", people::OTHER_DEPARTMENT)),
        ("POST", "/api/v1/courses/{id}/survey") => {
            rb.json(&json!({"questions": [{"text": unique("満足度"), "kind": "rating"}]}))
        }
        ("PUT", "/api/v1/courses/{id}/survey") => rb
            .header("If-Match", etag(app, &concrete).await)
            .json(&json!({"questions": [{"text": unique("満足度"), "kind": "rating"}]})),
        ("POST", "/api/v1/courses/{id}/survey/responses") => rb.json(&json!({"answers": [{"question": 1, "rating": 5}]})),
        ("POST", "/api/v1/subsidies/{fiscal_year}/{programme}") => rb.json(&json!({"budget_yen": 50000})),
        ("PUT", "/api/v1/subsidies/{fiscal_year}/{programme}") => rb
            .header("If-Match", etag(app, &concrete).await)
            .json(&json!({"budget_yen": 100000 + COUNTER.fetch_add(1, Ordering::Relaxed)})),
        ("POST", "/api/v1/subsidies/{fiscal_year}/correspondence/courses/import") => app
            .request(method.clone(), &format!("{concrete}?dry_run=true"), token)
            .header("Content-Type", "text/csv")
            .body("実施団体,講座名,分野,受講料,期間\n協会,英会話,語学,30000,6\n"),
        ("POST", "/api/v1/internships/{fiscal_year}") => {
            let year = concrete.rsplit('/').next().unwrap();
            rb.json(&intern_programme(year))
        }
        ("PUT", "/api/v1/internships/{fiscal_year}") => {
            rb.header("If-Match", etag(app, &concrete).await).json(&intern_programme("2023"))
        }
        ("POST", "/api/v1/internships/{fiscal_year}/students") => {
            rb.json(&json!({"name": unique("相模 花子"), "university": "東海大学", "recommended_on": "2023-06-30"}))
        }
        ("PUT", "/api/v1/internship-students/{id}") => rb.header("If-Match", etag(app, &concrete).await).json(&json!({
            "name": unique("相模 花子"), "university": "東海大学", "recommended_on": "2023-06-30",
            "host_section_id": t.section["id"]
        })),
        ("POST", "/api/v1/internship-students/{id}/events") => rb
            .header("If-Match", etag(app, &concrete.replace("/events", "")).await)
            .json(&json!({"event": "accept"})),
        ("POST", "/api/v1/internship-students/{id}/erasure") => rb
            .header("If-Match", etag(app, &concrete.replace("/erasure", "")).await)
            .json(&json!({"requested_on": "2023-09-01"})),
        ("POST", "/api/v1/study-groups") => rb.json(&json!({
            "fiscal_year": 2023, "name": unique("研究会"), "theme": "窓口改善", "member_nos": [people::SAME_SECTION]
        })),
        ("PUT", "/api/v1/study-groups/{id}/members") => rb
            .header("If-Match", etag(app, &concrete.replace("/members", "")).await)
            .json(&json!({"representative_no": people::OTHER_DEPARTMENT, "member_nos": ["10286"]})),
        ("PUT", "/api/v1/study-groups/{id}/plan") => rb
            .header("If-Match", etag(app, &concrete.replace("/plan", "")).await)
            .json(&json!({"plan": "勉強会", "planned_yen": 30000})),
        ("PUT", "/api/v1/study-groups/{id}/settlement") => rb
            .header("If-Match", etag(app, &concrete.replace("/settlement", "")).await)
            .json(&json!({"spent_yen": 1000, "report": "報告"})),
        ("POST", "/api/v1/study-groups/{id}/events") => rb
            .header("If-Match", etag(app, &concrete.replace("/events", "")).await)
            .json(&json!({"event": "settle"})),
        ("POST", "/api/v1/notification-channels") => rb.json(&channel_body(&unique("連携"))),
        ("POST", "/api/v1/portal-forms") => rb.json(&portal_form_body(&unique("様式"))),
        ("PUT", "/api/v1/portal-forms/{id}") => {
            let mut body = portal_form_body(&unique("様式"));
            body["app_id"] = t.portal_form["app_id"].clone();
            rb.header("If-Match", etag(app, &concrete).await).json(&body)
        }
        ("POST", "/api/v1/portal-forms/{id}/webhook") => {
            rb.json(&portal_webhook(&t.portal_form, "not-the-forms-token", "matrix.nobody"))
        }
        ("POST", "/api/v1/calendar-feeds") => rb.json(&json!({"scope": "me"})),
        ("PUT", "/api/v1/notification-channels/{id}") => {
            rb.header("If-Match", etag(app, &concrete).await).json(&channel_body(&unique("連携")))
        }
        ("POST", "/api/v1/notices/claim") => rb.json(&json!({"limit": 1, "lease_seconds": 10})),
        ("POST", "/api/v1/subsidy-applications") => rb.json(&json!({"course_id": t.subsidy["course"]["id"]})),
        ("POST", "/api/v1/subsidy-applications/{id}/events") => rb
            .header("If-Match", etag(app, &concrete.replace("/events", "")).await)
            .json(&json!({"event": "approve"})),
        ("PUT", "/api/v1/subsidy-applications/{id}/proof") => {
            rb.header("Content-Type", "application/pdf").body(b"%PDF-1.4".to_vec())
        }
        ("POST", "/api/v1/me/check-ins") => {
            rb.json(&json!({"session_id": t.course["sessions"][0]["id"], "code": "123456"}))
        }
        ("POST", "/api/v1/nominations/{id}/absence-notices") => rb.json(&json!({
            "session_id": t.course["sessions"][0]["id"], "kind": "absence", "reason": unique("理由")
        })),
        ("PUT", "/api/v1/absence-notices/{id}") => rb
            .header("If-Match", etag(app, &concrete).await)
            .json(&json!({"kind": "absence", "reason": unique("理由")})),
        ("POST", "/api/v1/absence-notices/{id}/events") => rb
            .header("If-Match", etag(app, &concrete.replace("/events", "")).await)
            .json(&json!({"event": "return", "comment": "日付を確認してください"})),
        ("POST", "/api/v1/nominations/{id}/report") => {
            rb.json(&json!({"learned": unique("学び"), "application": "業務に活かす"}))
        }
        ("PUT", "/api/v1/reports/{id}") => rb
            .header("If-Match", etag(app, &concrete).await)
            .json(&json!({"learned": unique("学び"), "application": "業務に活かす"})),
        ("POST", "/api/v1/reports/{id}/events") => rb
            .header("If-Match", etag(app, &concrete.replace("/events", "")).await)
            .json(&json!({"event": "return", "comment": "具体的に記入してください"})),
        ("PUT", "/api/v1/reports/{id}/workplace-sharing") => rb
            .header("If-Match", etag(app, &concrete.replace("/workplace-sharing", "")).await)
            .json(&json!({"shared_on": "2023-07-20"})),
        ("PUT", "/api/v1/courses/{id}/sessions/{session_id}") | ("DELETE", "/api/v1/courses/{id}/sessions/{session_id}") => {
            let mut body = session_body();
            body["venue"] = json!(unique("会議室"));
            rb.header("If-Match", "\"1\"").json(&body)
        }
        ("POST", "/api/v1/organisation/structure/import") => app
            .request(method.clone(), "/api/v1/organisation/structure/import?dry_run=true", token)
            .header("Content-Type", "text/csv")
            .body("部コード,部名,所属コード,所属名\nD01,企画部,S0101,企画政策課\n"),
        ("PUT", "/api/v1/organisation/reminders") => rb
            .header("If-Match", etag(app, "/api/v1/organisation/reminders").await)
            .json(&json!({"session_days_before": 3, "report_days_before": 2, "overdue_every_days": 7, "escalate_after_days": 7, "send_hour": 8})),
        ("PUT", "/api/v1/organisation/workflow") => rb
            .header("If-Match", etag(app, "/api/v1/organisation/workflow").await)
            .json(&json!({"top_approver_employee_no": null, "promotion_cutoff_days": 2})),
        ("PUT", "/api/v1/grades") => {
            let ladder = app.get_json("/api/v1/grades", &hr).await;
            rb.header("If-Match", etag(app, "/api/v1/grades").await).json(&ladder)
        }
        _ => rb,
    };
    rb.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn every_route_for_every_role() {
    let app = spawn().await;
    let hr = app.hr();
    let doc: Value =
        app.request(Method::GET, "/openapi.json", None).send().await.unwrap().json().await.unwrap();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let covered: BTreeSet<(String, String)> =
        MATRIX.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&documented).collect();
    assert!(missing.is_empty(), "routes without an authorisation row: {missing:?}");
    assert!(stale.is_empty(), "rows for routes that no longer exist: {stale:?}");

    let employee = app.employee(people::OTHER_DEPARTMENT).await;
    let section =
        app.get_json(&format!("/api/v1/sections/{}", employee["section_id"].as_str().unwrap()), &hr).await;
    let department = app
        .get_json(&format!("/api/v1/departments/{}", employee["department_id"].as_str().unwrap()), &hr)
        .await;
    let course = catalogue_target(&app).await;
    // The employee of another department applies for the course.
    let applicant = app.token(people::OTHER_DEPARTMENT, &[Role::Employee]);
    let path = format!("/api/v1/courses/{}/applications", course["id"].as_str().unwrap());
    let res = app.post_json(&path, &applicant, &json!({})).await;
    assert_eq!(res.status(), 201);
    let nomination: Value = res.json().await.unwrap();
    // The department heads are designated for a second course and notified: notices exist.
    let heads_course = json!({
        "fiscal_year": 2023, "category": "hierarchical", "number": 2, "title": "部長研修",
        "rules": [{"route": "designation", "conditions": [{"kind": "grade", "grade": "部長"}]}],
        "timing": {"kind": "month", "month": 5}, "delivery": "classroom", "status": "published"
    });
    let res = app.post_json("/api/v1/notification-channels", &hr, &channel_body("matrix")).await;
    assert_eq!(res.status(), 201);
    let channel: Value = res.json().await.unwrap();
    let res = app.post_json("/api/v1/portal-forms", &hr, &portal_form_body("matrix")).await;
    assert_eq!(res.status(), 201);
    let portal_form: Value = res.json().await.unwrap();
    let webhook = format!("/api/v1/portal-forms/{}/webhook", portal_form["id"].as_str().unwrap());
    let body = portal_webhook(&portal_form, portal_form["access_token"].as_str().unwrap(), "matrix.nobody");
    let res = app.request(Method::POST, &webhook, None).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let failed = app.get_json("/api/v1/portal-inbox?state=failed", &hr).await;
    let portal_change = failed["items"][0].clone();
    let res = app.post_json("/api/v1/courses", &hr, &heads_course).await;
    let heads_id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    for step in ["designation", "notify"] {
        let res =
            app.request(Method::POST, &format!("/api/v1/courses/{heads_id}/{step}"), Some(&hr)).send().await;
        assert_eq!(res.unwrap().status().as_u16(), 200, "{step}");
    }
    let outbox = app.get_json("/api/v1/notices?limit=200", &hr).await;
    let notice =
        outbox["items"].as_array().unwrap().iter().find(|n| n["kind"] == "training_notice").unwrap().clone();
    let deliveries = format!("/api/v1/notices/{}/deliveries", notice["id"].as_str().unwrap());
    let delivery = app.get_json(&deliveries, &hr).await["items"][0].clone();
    // The applicant's head confirms, HR selects, and the applicant files an absence notice.
    let head_id = section["head_employee_id"].as_str().unwrap();
    let head_no = app.get_json(&format!("/api/v1/employees/{head_id}"), &hr).await["employee_no"].clone();
    let head = app.token(head_no.as_str().unwrap(), &[Role::SectionHead]);
    let nomination_path = format!("/api/v1/nominations/{}", nomination["id"].as_str().unwrap());
    for (token, event) in [(&head, "confirm"), (&hr, "select")] {
        let res = app
            .request(Method::POST, &format!("{nomination_path}/events"), Some(token))
            .header("If-Match", etag(&app, &nomination_path).await)
            .json(&json!({"event": event}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{event}");
    }
    let body = json!({"session_id": course["sessions"][0]["id"], "kind": "absence", "reason": "公務のため", "submit": true});
    let res = app.post_json(&format!("{nomination_path}/absence-notices"), &applicant, &body).await;
    assert_eq!(res.status(), 201);
    let absence_notice: Value = res.json().await.unwrap();
    // The applicant attends the session (a second, unrecorded one keeps the course open) and
    // submits a report.
    let course_id = course["id"].as_str().unwrap();
    let res = app.post_json(&format!("/api/v1/courses/{course_id}/sessions"), &hr, &session_body()).await;
    assert_eq!(res.status(), 201);
    let sheet = json!({"entries": [{"employee_no": people::OTHER_DEPARTMENT, "status": "present"}]});
    let sheet_path = format!(
        "/api/v1/courses/{course_id}/sessions/{}/attendance",
        course["sessions"][0]["id"].as_str().unwrap()
    );
    let res = app.request(Method::PUT, &sheet_path, Some(&hr)).json(&sheet).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = json!({"learned": "公務の基本", "application": "窓口で活かす", "submit": true});
    let res = app.post_json(&format!("{nomination_path}/report"), &applicant, &body).await;
    assert_eq!(res.status(), 201);
    let report: Value = res.json().await.unwrap();
    // The FY2023 correspondence-course subsidy with one course, and the applicant's application.
    let res =
        app.post_json("/api/v1/subsidies/2023/correspondence", &hr, &json!({"budget_yen": 100000})).await;
    assert_eq!(res.status(), 201);
    let csv = "実施団体,講座名,分野,受講料,期間\n協会,簿記3級,資格,40000,4\n";
    let res = app
        .post_csv(
            "/api/v1/subsidies/2023/correspondence/courses/import",
            &hr,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(res.status(), 200);
    let courses = app.get_json("/api/v1/subsidies/2023/correspondence/courses", &hr).await;
    let body = json!({"course_id": courses["items"][0]["id"]});
    let res = app.post_json("/api/v1/subsidy-applications", &applicant, &body).await;
    assert_eq!(res.status(), 201);
    let subsidy: Value = res.json().await.unwrap();
    let body =
        json!({"fiscal_year": 2023, "name": "窓口研究会", "theme": "窓口改善", "member_nos": ["10286"]});
    let res = app.post_json("/api/v1/study-groups", &applicant, &body).await;
    assert_eq!(res.status(), 201);
    let group: Value = res.json().await.unwrap();
    // The FY2023 internship programme and a student accepted into the applicant's section.
    let res = app.post_json("/api/v1/internships/2023", &hr, &intern_programme("2023")).await;
    assert_eq!(res.status(), 201);
    let body = json!({"name": "相模 花子", "university": "東海大学", "recommended_on": "2023-06-30", "host_section_id": section["id"]});
    let res = app.post_json("/api/v1/internships/2023/students", &hr, &body).await;
    assert_eq!(res.status(), 201);
    let intern_path = res.headers()["location"].to_str().unwrap().to_string();
    let res = app
        .request(Method::POST, &format!("{intern_path}/events"), Some(&hr))
        .header("If-Match", etag(&app, &intern_path).await)
        .json(&json!({"event": "accept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let intern: Value = res.json().await.unwrap();
    let body = json!({"scope": "course", "course_id": course["id"]});
    let res = app.post_json("/api/v1/calendar-feeds", &hr, &body).await;
    assert_eq!(res.status(), 201);
    let feed: Value = res.json().await.unwrap();
    let mine = app.token(people::EMPLOYEE, &[Role::Employee]);
    let res = app.post_json("/api/v1/calendar-feeds", &mine, &json!({"scope": "me"})).await;
    let url = res.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_string();
    let feed_file = url[url.find("/calendar/").unwrap()..].to_string();
    // 合同研修: the course shared with 厚木市, and a course of 厚木市 offered to this organisation.
    let res = app
        .post_json(
            &format!("/api/v1/courses/{course_id}/shares"),
            &hr,
            &json!({"organisation": OTHER_ORG, "places": 2}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let share: Value = res.json().await.unwrap();
    let offer = kenshu_tests::offer_from_other_org(&app, 2023, "地域別研修").await;
    let targets = Targets {
        employee,
        department,
        section,
        course,
        nomination,
        notice,
        channel,
        portal_form,
        portal_change,
        delivery,
        feed,
        feed_file,
        absence_notice,
        report,
        subsidy,
        group,
        intern,
        share,
        offer,
    };

    let mut failures = Vec::new();
    for (method, path, expected) in MATRIX {
        for (i, (caller, role, sub)) in CALLERS.iter().enumerate() {
            let token = role.map(|r| app.token(sub, &[r]));
            let got = call(&app, method, path, token.as_deref(), &targets).await;
            if got != expected[i] {
                failures.push(format!("{method} {path} as {caller}: expected {}, got {got}", expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "authorisation mismatches:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn scopes_own_record_section_and_department() {
    let app = spawn().await;
    let get = |no: &'static str, token: String| {
        let app = &app;
        async move {
            let id = app.employee(no).await["id"].as_str().unwrap().to_string();
            app.get(&format!("/api/v1/employees/{id}"), &token).await.status().as_u16()
        }
    };
    let employee = app.token(people::EMPLOYEE, &[Role::Employee]);
    assert_eq!(get(people::EMPLOYEE, employee.clone()).await, 200);
    assert_eq!(get(people::SAME_SECTION, employee.clone()).await, 403);

    let head = app.token(people::SECTION_HEAD, &[Role::Employee, Role::SectionHead]);
    assert_eq!(get(people::SAME_SECTION, head.clone()).await, 200);
    assert_eq!(get(people::SAME_DEPARTMENT, head.clone()).await, 403);

    let dept = app.token(people::DEPARTMENT_HEAD, &[Role::Employee, Role::DepartmentHead]);
    assert_eq!(get(people::SAME_DEPARTMENT, dept.clone()).await, 200);
    assert_eq!(get(people::OTHER_DEPARTMENT, dept.clone()).await, 403);

    // Lists show exactly what single reads allow.
    let list = |token: String| {
        let app = &app;
        async move {
            let page = app.get_json("/api/v1/employees?limit=200", &token).await;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["employee_no"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(employee).await, vec![people::EMPLOYEE.to_string()]);
    let section_list = list(head).await;
    assert_eq!(section_list.len(), 16, "S0101: 15 staff and the head of D01");
    assert!(section_list.contains(&people::SAME_SECTION.to_string()));
    let dept_list = list(dept).await;
    assert_eq!(dept_list.len(), 31, "D01: its head and two sections of 15");
    assert!(!dept_list.contains(&people::OTHER_DEPARTMENT.to_string()));
}

#[tokio::test]
async fn another_organisation_is_not_found_for_every_role() {
    let app = spawn().await;
    let other =
        kenshu_tests::token_for(kenshu_tests::OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[Role::HrAdmin]);
    let theirs = app.get_json("/api/v1/employees", &other).await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 1);
    let their_id = theirs["items"][0]["id"].as_str().unwrap().to_string();
    let their_section = theirs["items"][0]["section_id"].as_str().unwrap().to_string();
    for role in Role::ALL {
        let t = app.token(people::HR, &[role]);
        for path in [format!("/api/v1/employees/{their_id}"), format!("/api/v1/sections/{their_section}")] {
            let res = app.get(&path, &t).await;
            assert_eq!(res.status(), 404, "{role:?} {path}");
        }
    }
    // HR of the other organisation cannot reach ours either, nor change it.
    let ours = app.employee(people::EMPLOYEE).await;
    let path = format!("/api/v1/employees/{}", ours["id"].as_str().unwrap());
    assert_eq!(app.get(&path, &other).await.status(), 404);
    let res = app.put_json(&path, &other, Some("\"1\""), &json!({})).await;
    assert!(res.status() == 404 || res.status() == 422, "{}", res.status());
    let page = app.get_json("/api/v1/employees?limit=200", &other).await;
    assert!(page["items"].as_array().unwrap().iter().all(|e| e["employee_no"] == people::OTHER_ORG_EMPLOYEE));
}
