//! Every trainee's paperwork has an approver: a section head's own items go to their department's
//! head, a department head's to the organisation's approver (the training office by default),
//! acting heads act, a section without a head goes to its department's head, HR files on a
//! trainee's behalf, and a head-role claim without a headship on the roster reads nobody else's
//! records. Nobody decides on their own item.

use chrono::NaiveDate;
use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::attendance::{event, ok, put_sheet, selected_trainee};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A published FY2023 course open to application by all staff, with a session on each of `days`.
pub(crate) async fn open_course(app: &TestApp, number: u32, days: &[NaiveDate]) -> (String, Vec<String>) {
    let hr = app.hr();
    let plan = app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": 2023})).await;
    assert!(matches!(plan.status().as_u16(), 201 | 409));
    let body = json!({
        "fiscal_year": 2023, "category": "thematic", "number": number, "title": format!("公募研修{number}"),
        "rules": [{"route": "application", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published"
    });
    let course =
        ok(app.post_json("/api/v1/courses", &hr, &body).await, 201).await["id"].as_str().unwrap().to_string();
    let mut sessions = Vec::new();
    for day in days {
        let body =
            json!({"starts_at": format!("{day}T09:00:00+09:00"), "ends_at": format!("{day}T17:00:00+09:00")});
        let s = ok(app.post_json(&format!("/api/v1/courses/{course}/sessions"), &hr, &body).await, 201).await;
        sessions.push(s["id"].as_str().unwrap().to_string());
    }
    app.publish_plan(2023).await;
    (course, sessions)
}

/// `token` applies for `course`; returns the nomination's path.
pub(crate) async fn apply(app: &TestApp, token: &str, course: &str) -> String {
    let n =
        ok(app.post_json(&format!("/api/v1/courses/{course}/applications"), token, &json!({})).await, 201)
            .await;
    format!("/api/v1/nominations/{}", n["id"].as_str().unwrap())
}

pub(crate) fn path_of(kind: &str, v: &Value) -> String {
    format!("/api/v1/{kind}/{}", v["id"].as_str().unwrap())
}

/// File an absence notice for the nomination at `session`, submitted at once.
pub(crate) async fn file_notice(
    app: &TestApp,
    token: &str,
    nomination: &str,
    session: &str,
) -> reqwest::Response {
    let body = json!({"session_id": session, "kind": "absence", "reason": "災害対応のため", "submit": true});
    app.post_json(&format!("{nomination}/absence-notices"), token, &body).await
}

/// Change a section's head and acting head (HR).
pub(crate) async fn set_heads(app: &TestApp, section_id: &str, head: Option<&str>, acting: Option<&str>) {
    let hr = app.hr();
    let path = format!("/api/v1/sections/{section_id}");
    let s = app.get_json(&path, &hr).await;
    let mut ids = Vec::new();
    for no in [head, acting] {
        ids.push(match no {
            Some(no) => app.employee(no).await["id"].clone(),
            None => Value::Null,
        });
    }
    let body = json!({
        "department_id": s["department_id"], "code": s["code"], "name": s["name"],
        "head_employee_id": ids[0], "acting_head_employee_id": ids[1],
    });
    ok(app.put_json(&path, &hr, Some(&format!("\"{}\"", s["version"])), &body).await, 200).await;
}

#[tokio::test]
async fn a_section_heads_own_application_notice_and_subsidy_go_to_their_department_head() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions) = open_course(&app, 31, &[d(2023, 7, 12)]).await;
    let me = app.token(people::SECTION_HEAD, &[Role::Employee, Role::SectionHead]);
    let dept = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);
    let application = apply(&app, &me, &course).await;

    // Neither the section head themself nor HR confirms; the department head does.
    let confirm = json!({"event": "confirm"});
    assert_problem(event(&app, &me, &application, confirm.clone()).await, 403, "forbidden").await;
    assert_problem(event(&app, &hr, &application, confirm.clone()).await, 403, "forbidden").await;
    assert_problem(
        event(&app, &hr, &application, json!({"event": "select"})).await,
        409,
        "invalid-transition",
    )
    .await;
    // The department head sees it waiting and rejects only with a reason.
    assert_eq!(app.get(&application, &dept).await.status(), 200);
    let reject = json!({"event": "reject"});
    let p = assert_problem(event(&app, &dept, &application, reject).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let confirmed = ok(event(&app, &dept, &application, confirm.clone()).await, 200).await;
    assert_eq!(confirmed["nomination"]["state"], "confirmed");
    assert_eq!(confirmed["nomination"]["decided_by"], people::DEPARTMENT_HEAD);
    ok(event(&app, &hr, &application, json!({"event": "select"})).await, 200).await;

    // The absence notice likewise: the department head confirms, not the head themself.
    let notice = ok(file_notice(&app, &me, &application, &sessions[0]).await, 201).await;
    assert_eq!(notice["on_behalf"], false);
    let notice = path_of("absence-notices", &notice);
    assert_problem(event(&app, &me, &notice, confirm.clone()).await, 403, "forbidden").await;
    let confirmed = ok(event(&app, &dept, &notice, confirm.clone()).await, 200).await;
    assert_eq!(confirmed["confirmed_by"], people::DEPARTMENT_HEAD);
    ok(event(&app, &hr, &notice, json!({"event": "receive"})).await, 200).await;

    // And the subsidy application.
    let courses = crate::subsidies::programme(&app, 100_000).await;
    let body = json!({"course_id": courses["簿記3級"]});
    let a = ok(app.post_json("/api/v1/subsidy-applications", &me, &body).await, 201).await;
    let id = a["id"].as_str().unwrap();
    assert_problem(crate::subsidies::event(&app, &me, id, confirm.clone()).await, 403, "forbidden").await;
    assert_problem(
        crate::subsidies::event(&app, &hr, id, json!({"event": "approve"})).await,
        409,
        "invalid-transition",
    )
    .await;
    let confirmed = ok(crate::subsidies::event(&app, &dept, id, confirm.clone()).await, 200).await;
    assert_eq!(
        (confirmed["state"].as_str(), confirmed["confirmed_by"].as_str()),
        (Some("confirmed"), Some(people::DEPARTMENT_HEAD))
    );
    ok(crate::subsidies::event(&app, &hr, id, json!({"event": "approve"})).await, 200).await;
}

#[tokio::test]
async fn a_department_heads_own_items_go_to_the_organisations_approver() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions) = open_course(&app, 32, &[d(2023, 7, 12)]).await;
    // The head of 企画部 sits in 企画政策課, whose head reports to them.
    let me = app.token(people::DEPARTMENT_HEAD, &[Role::Employee, Role::DepartmentHead]);
    let their_section_head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let application = apply(&app, &me, &course).await;
    let confirm = json!({"event": "confirm"});
    assert_problem(event(&app, &their_section_head, &application, confirm.clone()).await, 403, "forbidden")
        .await;
    assert_problem(event(&app, &me, &application, confirm.clone()).await, 403, "forbidden").await;
    ok(event(&app, &hr, &application, confirm.clone()).await, 200).await;
    ok(event(&app, &hr, &application, json!({"event": "select"})).await, 200).await;
    let attended = json!([{"employee_no": people::DEPARTMENT_HEAD, "status": "present"}]);
    ok(put_sheet(&app, &course, &sessions[0], attended).await, 200).await;
    let nid = application.rsplit('/').next().unwrap();
    let text = json!({"learned": "交渉の技法", "application": "部内の調整に活かす", "submit": true});
    let report = ok(app.post_json(&format!("/api/v1/nominations/{nid}/report"), &me, &text).await, 201).await;
    let report = path_of("reports", &report);

    // Nobody approves their own report, not even holding the role; by default HR approves.
    let approve = json!({"event": "approve"});
    assert_problem(event(&app, &me, &report, approve.clone()).await, 403, "forbidden").await;
    let top = "/api/v1/organisation/workflow";
    let current = app.get_json(top, &me).await;
    assert_eq!(
        current,
        json!({"top_approver": {"kind": "training_office"}, "top_approver_employee": null, "promotion_cutoff_days": 2, "language": null})
    );

    // The organisation names someone else (full-width digits are a number as typed): HR no longer
    // approves, the named employee does and reads it.
    let etag = app.get(top, &hr).await.headers()["etag"].to_str().unwrap().to_string();
    let bad = app
        .put_json(
            top,
            &hr,
            Some(&etag),
            &json!({"top_approver_employee_no": "99999", "promotion_cutoff_days": 2}),
        )
        .await;
    assert_eq!(
        assert_problem(bad, 422, "validation").await["errors"][0]["field"],
        "top_approver_employee_no"
    );
    let named = app
        .put_json(
            top,
            &hr,
            Some(&etag),
            &json!({"top_approver_employee_no": "１０２８５", "promotion_cutoff_days": 2}),
        )
        .await;
    let named = ok(named, 200).await;
    assert_eq!(named["top_approver"]["kind"], "employee");
    assert_eq!(named["top_approver_employee"]["employee_no"], people::OTHER_DEPARTMENT);
    assert_problem(
        app.put_json(
            top,
            &hr,
            Some(&etag),
            &json!({"top_approver_employee_no": null, "promotion_cutoff_days": 2}),
        )
        .await,
        412,
        "precondition-failed",
    )
    .await;
    assert_problem(event(&app, &hr, &report, approve.clone()).await, 403, "forbidden").await;
    let deputy = app.token(people::OTHER_DEPARTMENT, &[Role::Employee]);
    assert_eq!(app.get(&report, &deputy).await.status(), 200);
    let approved = ok(event(&app, &deputy, &report, approve.clone()).await, 200).await;
    assert_eq!(approved["approved_by"], people::OTHER_DEPARTMENT);
    ok(event(&app, &hr, &report, json!({"event": "receive"})).await, 200).await;
    // The named approver reads nobody else's records.
    let colleague = app.employee(people::EMPLOYEE).await;
    let history = format!("/api/v1/employees/{}/training-history", colleague["id"].as_str().unwrap());
    assert_eq!(app.get(&history, &deputy).await.status(), 403);
    // Back to the training office.
    let etag = app.get(top, &hr).await.headers()["etag"].to_str().unwrap().to_string();
    let back = ok(
        app.put_json(
            top,
            &hr,
            Some(&etag),
            &json!({"top_approver_employee_no": null, "promotion_cutoff_days": 2}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(back["top_approver"]["kind"], "training_office");
}

#[tokio::test]
async fn acting_heads_act_and_a_section_without_a_head_goes_to_its_department_head() {
    let app = spawn().await;
    let hr = app.hr();
    let days = [d(2023, 7, 12), d(2023, 7, 19)];
    let (_, sessions, nid) = selected_trainee(&app, 2023, 33, &days).await;
    let nomination = format!("/api/v1/nominations/{nid}");
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let section = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    let confirm = json!({"event": "confirm"});

    // A colleague acts for the head while the head is away (代理).
    set_heads(&app, &section, Some(people::SECTION_HEAD), Some(people::SAME_SECTION)).await;
    let acting = app.token(people::SAME_SECTION, &[Role::Employee, Role::SectionHead]);
    let first =
        path_of("absence-notices", &ok(file_notice(&app, &me, &nomination, &sessions[0]).await, 201).await);
    let confirmed = ok(event(&app, &acting, &first, confirm.clone()).await, 200).await;
    assert_eq!(confirmed["confirmed_by"], people::SAME_SECTION);
    assert_eq!(app.get(&first, &acting).await.status(), 200);
    // The acting head does not confirm the head's own notice: that goes to the department head.
    let head = app.token(people::SECTION_HEAD, &[Role::Employee, Role::SectionHead]);
    let (course, head_sessions) = open_course(&app, 34, &[d(2023, 8, 2)]).await;
    let head_application = apply(&app, &head, &course).await;
    assert_problem(event(&app, &acting, &head_application, confirm.clone()).await, 403, "forbidden").await;

    // Without a head at all, the department head confirms; the former head no longer does or reads.
    set_heads(&app, &section, None, None).await;
    let second =
        path_of("absence-notices", &ok(file_notice(&app, &me, &nomination, &sessions[1]).await, 201).await);
    let former = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    assert_problem(event(&app, &former, &second, confirm.clone()).await, 403, "forbidden").await;
    assert_eq!(app.get(&second, &former).await.status(), 403);
    let dept = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);
    ok(event(&app, &dept, &second, confirm.clone()).await, 200).await;
    ok(event(&app, &dept, &head_application, confirm.clone()).await, 200).await;
    ok(event(&app, &hr, &head_application, json!({"event": "select"})).await, 200).await;
    assert!(!head_sessions.is_empty());
}

#[tokio::test]
async fn hr_files_an_absence_notice_on_the_trainees_behalf_and_may_receive_it_directly() {
    let app = spawn().await;
    let hr = app.hr();
    let days = [d(2023, 7, 12), d(2023, 7, 19)];
    let (_, sessions, nid) = selected_trainee(&app, 2023, 35, &days).await;
    let nomination = format!("/api/v1/nominations/{nid}");
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);

    // The trainee phoned the office (事前に研修担当へ連絡): HR files it, recorded as on their behalf,
    // and the section head still confirms it.
    let filed = ok(file_notice(&app, &hr, &nomination, &sessions[0]).await, 201).await;
    assert_eq!((filed["on_behalf"].as_bool(), filed["written_by"].as_str()), (Some(true), Some(people::HR)));
    let first = path_of("absence-notices", &filed);
    assert_problem(event(&app, &hr, &first, json!({"event": "confirm"})).await, 403, "forbidden").await;
    ok(event(&app, &head, &first, json!({"event": "confirm"})).await, 200).await;
    ok(event(&app, &hr, &first, json!({"event": "receive"})).await, 200).await;

    // Or HR receives it directly, with a reason the trainee sees.
    let second =
        path_of("absence-notices", &ok(file_notice(&app, &hr, &nomination, &sessions[1]).await, 201).await);
    let direct = json!({"event": "receive_directly"});
    let p = assert_problem(event(&app, &hr, &second, direct).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "comment");
    assert_problem(
        event(&app, &head, &second, json!({"event": "receive_directly", "comment": "所属長不在"})).await,
        403,
        "forbidden",
    )
    .await;
    let direct = json!({"event": "receive_directly", "comment": "所属長が出張中で当日のため"});
    let received = ok(event(&app, &hr, &second, direct).await, 200).await;
    assert_eq!(received["state"], "received");
    assert!(received["confirmed_by"].is_null());
    let mine = app.get_json("/api/v1/me/absence-notices", &me).await;
    let notes: Vec<&Value> = mine["items"].as_array().unwrap().iter().map(|n| &n["receipt_note"]).collect();
    assert_eq!(notes, vec![&Value::Null, &json!("所属長が出張中で当日のため")]);
}

#[tokio::test]
async fn a_head_role_claim_without_a_headship_reads_nobody_elses_records() {
    let app = spawn().await;
    let (_, sessions, nid) = selected_trainee(&app, 2023, 36, &[d(2023, 7, 12)]).await;
    let nomination = format!("/api/v1/nominations/{nid}");
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let notice =
        path_of("absence-notices", &ok(file_notice(&app, &me, &nomination, &sessions[0]).await, 201).await);
    let trainee = app.employee(people::EMPLOYEE).await;
    let trainee_id = trainee["id"].as_str().unwrap();
    let section = trainee["section_id"].as_str().unwrap();
    // A colleague whose token claims both head roles, heading nothing on the roster.
    let pretender =
        app.token(people::SAME_SECTION, &[Role::Employee, Role::SectionHead, Role::DepartmentHead]);
    for path in [
        notice.clone(),
        nomination.clone(),
        format!("/api/v1/employees/{trainee_id}"),
        format!("/api/v1/employees/{trainee_id}/training-history"),
        format!("/api/v1/sections/{section}/absence-notices"),
        format!("/api/v1/sections/{section}/nominations"),
    ] {
        assert_eq!(app.get(&path, &pretender).await.status(), 403, "{path}");
    }
    assert_problem(event(&app, &pretender, &notice, json!({"event": "confirm"})).await, 403, "forbidden")
        .await;
    // Their own records stay theirs.
    let own = app.employee(people::SAME_SECTION).await;
    let res = app
        .request(Method::GET, &format!("/api/v1/employees/{}", own["id"].as_str().unwrap()), Some(&pretender))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The real head reads and confirms.
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    assert_eq!(app.get(&notice, &head).await.status(), 200);
    ok(event(&app, &head, &notice, json!({"event": "confirm"})).await, 200).await;
}
