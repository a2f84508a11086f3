//! After the course over HTTP: post-training reports (研修報告書) from the trainee through the
//! head of their department to the training office, the overdue lists, and 職場還元.

use chrono::NaiveDate;
use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::attendance::{event, ok, put_sheet, recommend, selected_trainee, selected_trainee_on};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn report_path(r: &Value) -> String {
    format!("/api/v1/reports/{}", r["id"].as_str().unwrap())
}

/// PUT with the report's current version (`path` is the report or its workplace-sharing).
async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    let current = app.get_json(path.trim_end_matches("/workplace-sharing"), &app.hr()).await;
    app.put_json(path, token, Some(&format!("\"{}\"", current["version"])), body).await
}

/// The employee number of the head of department `code`.
async fn department_head(app: &TestApp, code: &str) -> (String, String) {
    let list = app.get_json("/api/v1/departments?limit=100", &app.hr()).await;
    let dep = list["items"].as_array().unwrap().iter().find(|d| d["code"] == code).unwrap().clone();
    let head = app
        .get_json(&format!("/api/v1/employees/{}", dep["head_employee_id"].as_str().unwrap()), &app.hr())
        .await;
    (dep["id"].as_str().unwrap().to_string(), head["employee_no"].as_str().unwrap().to_string())
}

fn numbers(list: &Value) -> Vec<(String, Option<i64>)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["employee"]["employee_no"].as_str().unwrap().to_string(), l["days_overdue"].as_i64()))
        .collect()
}

/// The overdue list reads only the courses, and of them the trainees, that may owe: a report
/// handed in takes its line off the list (a page that followed it goes on after it), and the same
/// report returned (submitted once, back with the trainee) puts it back where nothing else is owed.
#[tokio::test]
async fn a_returned_report_is_overdue_again_where_nothing_else_is_owed() {
    let app = spawn().await;
    let (course, sessions, nid) = selected_trainee(&app, 2023, 1, &[d(2023, 7, 12)]).await;
    let colleague_nomination = recommend(&app, &course, people::SAME_SECTION, "select").await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    let hr = app.hr();
    let present = json!([{"employee_no": people::EMPLOYEE, "status": "present"}, {"employee_no": people::SAME_SECTION, "status": "present"}]);
    ok(put_sheet(&app, &course, &sessions[0], present).await, 200).await;
    // Due a week after the session, 19 July.
    let overdue = format!("/api/v1/reports?course_id={course}&overdue=true&as_of=2023-08-31");
    let both = vec![(people::EMPLOYEE.to_string(), Some(43)), (people::SAME_SECTION.to_string(), Some(43))];
    assert_eq!(numbers(&app.get_json(&overdue, &hr).await), both);
    let first = app.get_json(&format!("{overdue}&limit=1"), &hr).await;
    assert_eq!(numbers(&first), both[..1]);
    let text = json!({"learned": "傾聴の技法", "application": "窓口での聞き取りに活かす", "submit": true});
    let report = ok(app.post_json(&format!("/api/v1/nominations/{nid}/report"), &me, &text).await, 201).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app.get_json(&format!("{overdue}&limit=1&cursor={cursor}"), &hr).await;
    assert_eq!(numbers(&rest), both[1..], "the page goes on after the line that left the list");
    ok(app.post_json(&format!("{colleague_nomination}/report"), &colleague, &text).await, 201).await;
    assert_eq!(numbers(&app.get_json(&overdue, &hr).await), vec![]);
    let dep_head = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);
    let back = json!({"event": "return", "comment": "活用方法を具体的に"});
    ok(event(&app, &dep_head, &report_path(&report), back).await, 200).await;
    let list = app.get_json(&overdue, &hr).await;
    assert_eq!(numbers(&list), both[..1]);
    assert_eq!(list["items"][0]["state"], "returned");
}

#[tokio::test]
async fn a_report_goes_from_the_trainee_through_the_department_head_to_hr() {
    let app = spawn().await;
    let (course, sessions, nid) = selected_trainee(&app, 2023, 1, &[d(2023, 7, 12), d(2023, 7, 19)]).await;
    recommend(&app, &course, people::SAME_SECTION, "select").await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let hr = app.hr();
    let write = format!("/api/v1/nominations/{nid}/report");
    let text = json!({"learned": "傾聴の技法", "application": "窓口での聞き取りに活かす"});

    // Nothing to report before attending.
    let p = assert_problem(app.post_json(&write, &me, &text).await, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("attending"), "{p}");
    // The trainee attends the first session only; the colleague the second only.
    let first = json!([{"employee_no": people::EMPLOYEE, "status": "present"}, {"employee_no": people::SAME_SECTION, "status": "absent"}]);
    ok(put_sheet(&app, &course, &sessions[0], first).await, 200).await;
    let second = json!([{"employee_no": people::EMPLOYEE, "status": "absent"}, {"employee_no": people::SAME_SECTION, "status": "late", "arrived_at": "2023-07-19T09:40:00+09:00"}]);
    ok(put_sheet(&app, &course, &sessions[1], second).await, 200).await;

    // Due 7 days after the last session. On 28 July both are two days overdue: one not started.
    let list = app.get_json("/api/v1/reports?fiscal_year=2023&overdue=true&as_of=2023-07-28", &hr).await;
    assert_eq!(list["as_of"], "2023-07-28");
    assert_eq!(
        numbers(&list),
        vec![(people::EMPLOYEE.to_string(), Some(2)), (people::SAME_SECTION.to_string(), Some(2))]
    );
    assert_eq!(list["items"][0]["due_on"], "2023-07-26");
    assert!(list["items"][0]["state"].is_null() && list["items"][0]["report_id"].is_null());
    let on_time = app.get_json("/api/v1/reports?fiscal_year=2023&overdue=true&as_of=2023-07-26", &hr).await;
    assert_eq!(on_time["items"].as_array().unwrap().len(), 0, "due today is not overdue");

    // Submitting needs what was learned and how it will be used; a refused report writes nothing.
    let incomplete = json!({"learned": "傾聴の技法", "application": "  ", "submit": true});
    let p = assert_problem(app.post_json(&write, &me, &incomplete).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "application");
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    assert_problem(app.post_json(&write, &colleague, &text).await, 403, "forbidden").await;
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    assert_problem(app.post_json(&write, &head, &text).await, 403, "forbidden").await;
    let mine = app.get_json("/api/v1/me/reports", &me).await;
    assert!(mine["items"][0]["report_id"].is_null(), "{mine}");

    // A draft, corrected, then submitted (after its due date: late).
    let draft =
        ok(app.post_json(&write, &me, &json!({"learned": "傾聴", "application": ""})).await, 201).await;
    assert_eq!((draft["state"].as_str(), draft["due_on"].as_str()), (Some("draft"), Some("2023-07-26")));
    assert!(draft["days_overdue"].as_i64().unwrap() > 1000, "{draft}");
    assert_problem(app.post_json(&write, &me, &text).await, 409, "conflict").await;
    let path = report_path(&draft);
    let p =
        assert_problem(event(&app, &me, &path, json!({"event": "submit"})).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "application");
    assert_problem(app.put_json(&path, &me, None, &text).await, 428, "precondition-required").await;
    ok(put(&app, &path, &me, &text).await, 200).await;
    let submitted = ok(event(&app, &me, &path, json!({"event": "submit"})).await, 200).await;
    assert_eq!(
        (submitted["state"].as_str(), submitted["submitted_late"].as_bool()),
        (Some("submitted"), Some(true))
    );
    assert!(submitted["days_overdue"].is_null());
    let p = assert_problem(put(&app, &path, &me, &text).await, 409, "invalid-transition").await;
    assert_eq!(p["current_state"], "submitted");

    // Nobody approves their own report, not even as a department head; nor does the head of
    // another department, the section head or HR.
    let me_as_head = app.token(people::EMPLOYEE, &[Role::Employee, Role::DepartmentHead]);
    let (other_dep, other_head_no) = department_head(&app, "D09").await;
    let other_head = app.token(&other_head_no, &[Role::DepartmentHead]);
    for token in [&me_as_head, &other_head, &head, &hr] {
        assert_problem(event(&app, token, &path, json!({"event": "approve"})).await, 403, "forbidden").await;
    }
    assert_problem(app.get(&path, &other_head).await, 403, "forbidden").await;
    let p =
        assert_problem(event(&app, &hr, &path, json!({"event": "receive"})).await, 409, "invalid-transition")
            .await;
    assert_eq!(p["current_state"], "submitted");

    // The head of the trainee's department sees it waiting and returns it with a comment.
    let dep_head = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);
    let department = app.employee(people::EMPLOYEE).await["department_id"].as_str().unwrap().to_string();
    let waiting =
        app.get_json(&format!("/api/v1/departments/{department}/reports?state=submitted"), &dep_head).await;
    assert_eq!(waiting["items"][0]["report_id"], submitted["id"], "{waiting}");
    assert_problem(
        app.get(&format!("/api/v1/departments/{department}/reports"), &other_head).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.get_json(&format!("/api/v1/departments/{other_dep}/reports"), &other_head).await["items"],
        json!([])
    );
    let p =
        assert_problem(event(&app, &dep_head, &path, json!({"event": "return"})).await, 422, "validation")
            .await;
    assert_eq!(p["errors"][0]["field"], "comment");
    let returned = ok(
        event(&app, &dep_head, &path, json!({"event": "return", "comment": "活用方法を具体的に"})).await,
        200,
    )
    .await;
    assert_eq!(
        (returned["state"].as_str(), returned["return_comment"].as_str()),
        (Some("returned"), Some("活用方法を具体的に"))
    );
    assert!(returned["days_overdue"].as_i64().is_some(), "back with the trainee, overdue again");

    // Corrected, resubmitted, approved, received. Lateness is that of the first submission.
    let better = json!({"learned": "傾聴の技法", "application": "窓口の聞き取り票を見直す", "comments": "演習が実践的"});
    ok(put(&app, &path, &me, &better).await, 200).await;
    ok(event(&app, &me, &path, json!({"event": "submit"})).await, 200).await;
    let approved = ok(event(&app, &dep_head, &path, json!({"event": "approve"})).await, 200).await;
    assert_eq!(approved["approved_by"], people::DEPARTMENT_HEAD);
    let received = ok(event(&app, &hr, &path, json!({"event": "receive"})).await, 200).await;
    assert_eq!(
        (received["state"].as_str(), received["comments"].as_str()),
        (Some("received"), Some("演習が実践的"))
    );
    assert_eq!(received["first_submitted_at"], submitted["first_submitted_at"]);
    let p = assert_problem(
        event(&app, &hr, &path, json!({"event": "return", "comment": "再提出"})).await,
        409,
        "invalid-transition",
    )
    .await;
    assert_eq!(p["detail"], "a received report cannot be returned");

    // The section head's list: the colleague still owes one; the trainee's is in.
    let section = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    let owed = app.get_json(&format!("/api/v1/sections/{section}/reports?overdue=true"), &head).await;
    assert_eq!(numbers(&owed).into_iter().map(|(n, _)| n).collect::<Vec<_>>(), vec![people::SAME_SECTION]);
    let all = app.get_json(&format!("/api/v1/reports?course_id={course}"), &hr).await;
    assert_eq!(all["items"][0]["state"], "received");
    assert_eq!(all["items"][0]["submitted_late"], true);
    // 職場還元 is for dispatch training only.
    let sharing = json!({"shared_on": "2023-08-01"});
    assert_problem(put(&app, &format!("{path}/workplace-sharing"), &head, &sharing).await, 409, "conflict")
        .await;
    // Each move is audited.
    let history = app
        .get_json(
            &format!("/api/v1/audit?entity_type=report&entity_id={}", draft["id"].as_str().unwrap()),
            &hr,
        )
        .await;
    let actions: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"report.approve") && actions.contains(&"report.return"), "{actions:?}");
}

#[tokio::test]
async fn dispatch_training_is_due_a_month_later_and_the_section_head_records_workplace_sharing() {
    let app = spawn().await;
    let dispatch = json!({"category": "dispatch", "delivery": "dispatch", "institution": "市町村研修センター",
        "report": {"kind": "months_after_end", "months": 1}});
    let (course, sessions, nid) =
        selected_trainee_on(&app, 2023, 1, &[d(2024, 1, 15), d(2024, 1, 31)], dispatch).await;
    let entries = json!([{"employee_no": people::EMPLOYEE, "status": "present"}]);
    for s in &sessions {
        ok(put_sheet(&app, &course, s, entries.clone()).await, 200).await;
    }
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let text = json!({"learned": "政策形成", "application": "課内で共有", "submit": true});
    let report = ok(app.post_json(&format!("/api/v1/nominations/{nid}/report"), &me, &text).await, 201).await;
    // 31 January + 1 month: 29 February 2024 (a leap year).
    assert_eq!(report["due_on"], "2024-02-29");
    let path = report_path(&report);
    // The last session moves to 29 February: due 31 March, as the Civil Code reckons a month
    // (民法第143条: the day before 1 April), not 29 March.
    let hr = app.hr();
    let last = format!("/api/v1/courses/{course}/sessions/{}", sessions[1]);
    let moved = json!({"starts_at": "2024-02-29T09:00:00+09:00", "ends_at": "2024-02-29T17:00:00+09:00"});
    ok(app.put_json(&last, &hr, Some("\"1\""), &moved).await, 200).await;
    assert_eq!(app.get_json(&path, &me).await["due_on"], "2024-03-31");
    let back = json!({"starts_at": "2024-01-31T09:00:00+09:00", "ends_at": "2024-01-31T17:00:00+09:00"});
    ok(app.put_json(&last, &hr, Some("\"2\""), &back).await, 200).await;
    let share = format!("{path}/workplace-sharing");

    // Only the trainee's own section head records it, on a day within the course and today.
    let body = json!({"shared_on": "2024-02-20", "note": "課内会議で報告"});
    for token in [
        me.clone(),
        app.token(people::EMPLOYEE, &[Role::Employee, Role::SectionHead]),
        app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead, Role::SectionHead]),
        app.hr(),
    ] {
        assert_problem(put(&app, &share, &token, &body).await, 403, "forbidden").await;
    }
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let p = assert_problem(
        put(&app, &share, &head, &json!({"shared_on": "2024-01-10"})).await,
        422,
        "validation",
    )
    .await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("before the course began"), "{p}");
    assert_problem(put(&app, &share, &head, &json!({"shared_on": "2999-01-01"})).await, 422, "validation")
        .await;
    assert_problem(app.put_json(&share, &head, None, &body).await, 428, "precondition-required").await;
    let shared = ok(put(&app, &share, &head, &body).await, 200).await;
    assert_eq!(
        shared["workplace_sharing"],
        json!({"shared_on": "2024-02-20", "note": "課内会議で報告", "recorded_by": people::SECTION_HEAD})
    );
    assert_eq!(shared["state"], "submitted", "recording it does not move the report");
    assert_eq!(shared["submitted_late"], true, "submitted in 2026, due in 2024");
}

#[tokio::test]
async fn a_course_without_a_report_rule_takes_no_report() {
    let app = spawn().await;
    let (course, sessions, nid) =
        selected_trainee_on(&app, 2023, 1, &[d(2023, 7, 12)], json!({"report": {"kind": "none"}})).await;
    let entries = json!([{"employee_no": people::EMPLOYEE, "status": "present"}]);
    ok(put_sheet(&app, &course, &sessions[0], entries).await, 200).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let text = json!({"learned": "a", "application": "b"});
    let p = assert_problem(
        app.post_json(&format!("/api/v1/nominations/{nid}/report"), &me, &text).await,
        409,
        "conflict",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("needs no post-training report"), "{p}");
    let owed = app.get_json("/api/v1/reports?fiscal_year=2023", &app.hr()).await;
    assert_eq!(owed["items"], json!([]));
    let res =
        app.request(Method::GET, "/api/v1/reports?fiscal_year=1800", Some(&app.hr())).send().await.unwrap();
    assert_problem(res, 422, "validation").await;
}

#[tokio::test]
async fn the_years_results_count_places_attendance_absences_and_reports_as_json_and_csv() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions, nid) = selected_trainee(&app, 2023, 1, &[d(2023, 7, 12), d(2023, 7, 19)]).await;
    let colleague = recommend(&app, &course, people::SAME_SECTION, "select").await;
    recommend(&app, &course, "10008", "decline").await;
    // The colleague's first absence is covered by a received notice; the second is not.
    let colleague_id = app.get_json(&colleague, &hr).await["id"].as_str().unwrap().to_string();
    let me2 = app.token(people::SAME_SECTION, &[Role::Employee]);
    let body = json!({"session_id": sessions[0], "kind": "absence", "reason": "体調不良", "submit": true});
    let notice = ok(
        app.post_json(&format!("/api/v1/nominations/{colleague_id}/absence-notices"), &me2, &body).await,
        201,
    )
    .await;
    let notice_path = format!("/api/v1/absence-notices/{}", notice["id"].as_str().unwrap());
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    ok(event(&app, &head, &notice_path, json!({"event": "confirm"})).await, 200).await;
    ok(event(&app, &hr, &notice_path, json!({"event": "receive"})).await, 200).await;
    for s in &sessions {
        let sheet = json!([{"employee_no": people::EMPLOYEE, "status": "present"}, {"employee_no": people::SAME_SECTION, "status": "absent"}]);
        ok(put_sheet(&app, &course, s, sheet).await, 200).await;
    }
    // The trainee who attended reports (late: it is written years after the course).
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let text = json!({"learned": "傾聴", "application": "窓口で活かす", "submit": true});
    ok(app.post_json(&format!("/api/v1/nominations/{nid}/report"), &me, &text).await, 201).await;

    let r = app.get_json("/api/v1/plans/2023/results", &hr).await;
    let row = &r["courses"][0];
    let got = |k: &str| row[k].as_u64().unwrap();
    assert_eq!((got("designated"), got("recommended"), got("applied")), (0, 3, 0), "{row}");
    assert_eq!((got("selected"), got("attended"), got("completed")), (2, 1, 1));
    assert_eq!(row["completion_permille"], 500);
    assert_eq!((got("excused_absences"), got("unexcused_absences")), (1, 1));
    assert_eq!(
        (got("reports_owed"), got("reports_on_time"), got("reports_late"), got("reports_outstanding")),
        (1, 0, 1, 0)
    );
    assert_eq!(r["total"]["selected"], 2);
    assert_eq!(r["by_category"][0]["label"], "課題別・職能別");
    let grades: u64 = r["by_grade"].as_array().unwrap().iter().map(|g| g["selected"].as_u64().unwrap()).sum();
    assert_eq!(grades, 2, "every selected trainee under one grade: {}", r["by_grade"]);

    // CSV for Excel: UTF-8 with a BOM, Japanese headers, a total row.
    let res = app.get("/api/v1/plans/2023/results?format=csv", &hr).await;
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(lines[0].starts_with("区分,No,研修名,指名,推薦,公募,受講決定,受講者,修了者,修了率"), "{text}");
    assert_eq!(lines[1], "課題別・職能別,1,研修1,0,3,0,2,1,1,50.0%,1,1,1,0,1,0");
    assert!(lines[2].starts_with("合計,,,0,3,0,2,1,1,50.0%"), "{text}");
    let res = app.get("/api/v1/plans/2023/results?format=csv&by=grade&encoding=shift_jis", &hr).await;
    assert_eq!(res.headers()["content-type"], "text/csv; charset=shift_jis");
    let bytes = res.bytes().await.unwrap();
    let (decoded, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad && decoded.starts_with("職級,指名"), "{decoded}");

    assert_problem(app.get("/api/v1/plans/2023/results", &me).await, 403, "forbidden").await;
    assert_problem(app.get("/api/v1/plans/1800/results", &hr).await, 404, "not-found").await;
    let res =
        app.request(Method::GET, "/api/v1/plans/2023/results?by=month", Some(&hr)).send().await.unwrap();
    assert_eq!(res.status(), 400, "an unknown table");

    // A year with more trainees than the small-list lookups take (over 2,000): the roster and
    // attendance are then read whole or by course, and course 1's facts stay the same.
    let staff = kenshu_tests::bench::demo_like_roster(2_100).into_bytes();
    let res = app.post_csv("/api/v1/employees/import?mode=upsert", &hr, "text/csv", staff).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let body = json!({
        "fiscal_year": 2023, "category": "thematic", "number": 2, "title": "研修2",
        "rules": [{"route": "designation", "conditions": [{"kind": "all_staff"}]}],
        "delivery": "classroom", "status": "published"
    });
    let second = ok(app.post_json("/api/v1/courses", &hr, &body).await, 201).await;
    let second = second["id"].as_str().unwrap().to_string();
    let mut days = Vec::new();
    for day in ["2023-09-05", "2023-09-12"] {
        let body =
            json!({"starts_at": format!("{day}T09:00:00+09:00"), "ends_at": format!("{day}T17:00:00+09:00")});
        let s = ok(app.post_json(&format!("/api/v1/courses/{second}/sessions"), &hr, &body).await, 201).await;
        days.push(s["id"].as_str().unwrap().to_string());
    }
    let mut csv = String::from("区分,No,職員番号,選考方法,理由\n");
    for i in 0..2_100 {
        csv.push_str(&format!("課題別・職能別,2,D{i:06},指名,\n"));
    }
    let res = app.post_csv("/api/v1/plans/2023/nominations/import", &hr, "text/csv", csv.into_bytes()).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // One of them attends the first day only: attended, not completed, owes a report.
    let sheet = json!([{"employee_no": "D000000", "status": "present"}]);
    ok(put_sheet(&app, &second, &days[0], sheet).await, 200).await;
    let r = app.get_json("/api/v1/plans/2023/results", &hr).await;
    assert_eq!(r["courses"][0], *row, "course 1 unchanged");
    let big = &r["courses"][1];
    assert_eq!(
        (&big["designated"], &big["attended"], &big["completed"]),
        (&json!(2_100), &json!(1), &json!(0)),
        "{big}"
    );
    assert_eq!(big["reports_owed"], 1, "{big}");
    let grades: u64 =
        r["by_grade"].as_array().unwrap().iter().map(|g| g["designated"].as_u64().unwrap()).sum();
    assert_eq!(grades, 2_100, "every trainee found with a grade: {}", r["by_grade"]);
    let owed = app.get_json("/api/v1/reports?fiscal_year=2023", &hr).await;
    let owed = owed["items"].as_array().unwrap();
    let owing: Vec<&str> = owed.iter().map(|l| l["employee"]["employee_no"].as_str().unwrap()).collect();
    assert_eq!(owing, [people::EMPLOYEE, "D000000"], "only those who attended owe a report");
}

#[tokio::test]
async fn attendees_answer_the_survey_once_and_hr_reads_the_aggregate_without_names() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions, _) = selected_trainee(&app, 2023, 1, &[d(2023, 7, 12)]).await;
    recommend(&app, &course, people::SAME_SECTION, "select").await;
    recommend(&app, &course, "10008", "select").await;
    let sheet = json!([
        {"employee_no": people::EMPLOYEE, "status": "present"},
        {"employee_no": people::SAME_SECTION, "status": "late", "arrived_at": "2023-07-12T09:30:00+09:00"},
        {"employee_no": "10008", "status": "absent"}
    ]);
    ok(put_sheet(&app, &course, &sessions[0], sheet).await, 200).await;
    let path = format!("/api/v1/courses/{course}/survey");
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let answer = |token: String, body: Value| {
        let app = &app;
        let url = format!("{path}/responses");
        async move { app.post_json(&url, &token, &body).await }
    };

    // No survey yet.
    assert_problem(app.get(&path, &me).await, 404, "not-found").await;
    let one = json!({"answers": [{"question": 1, "rating": 5}]});
    assert_problem(answer(me.clone(), one.clone()).await, 404, "not-found").await;
    // HR sets the questions; bad ones are named and nothing is stored.
    let bad = json!({"questions": [{"text": "", "kind": "rating"}, {"text": "役立つか", "kind": "choice", "options": ["はい"]}]});
    let p = assert_problem(app.post_json(&path, &hr, &bad).await, 422, "validation").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 2, "{p}");
    assert_problem(app.get(&path, &me).await, 404, "not-found").await;
    let questions = json!({"questions": [
        {"text": "研修の満足度", "kind": "rating", "required": true},
        {"text": "業務に役立ちますか", "kind": "choice", "options": ["役立つ", "どちらでもない", "役立たない"]},
        {"text": "ご意見・ご感想", "kind": "text"}
    ]});
    assert_problem(app.post_json(&path, &me, &questions).await, 403, "forbidden").await;
    let set = ok(app.post_json(&path, &hr, &questions).await, 201).await;
    assert_problem(app.post_json(&path, &hr, &questions).await, 409, "conflict").await;
    assert_eq!(set["questions"][1]["options"][2], "役立たない");
    // A change needs the version read.
    assert_problem(app.put_json(&path, &hr, None, &questions).await, 428, "precondition-required").await;
    assert_eq!(app.get_json(&path, &me).await["questions"][0]["text"], "研修の満足度");

    // Answers must fit; the required rating is required.
    let p = assert_problem(
        answer(me.clone(), json!({"answers": [{"question": 2, "choice": "少し"}]})).await,
        422,
        "validation",
    )
    .await;
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["answers[0].choice", "answers"]);
    // Only attendees answer: not the absent trainee, not HR, not a colleague from elsewhere.
    let absent = app.token("10008", &[Role::Employee]);
    assert_problem(answer(absent, one.clone()).await, 403, "forbidden").await;
    assert_problem(answer(hr.clone(), one.clone()).await, 403, "forbidden").await;
    let full = json!({"answers": [{"question": 1, "rating": 5}, {"question": 2, "choice": "役立つ"}, {"question": 3, "text": "演習が実践的だった"}]});
    assert_eq!(answer(me.clone(), full.clone()).await.status(), 201);
    assert_problem(answer(me.clone(), full).await, 409, "conflict").await;
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    assert_eq!(answer(colleague, json!({"answers": [{"question": 1, "rating": 4}]})).await.status(), 201);
    // Answered: the questions stay.
    let res = app
        .put_json(
            &path,
            &hr,
            Some(&format!("\"{}\"", set["version"])),
            &json!({"questions": [{"text": "別の質問", "kind": "text"}]}),
        )
        .await;
    assert_problem(res, 409, "conflict").await;

    // HR and auditors read the aggregate; it names nobody.
    let auditor = app.token("auditor", &[Role::Auditor]);
    let results = app.get_json(&format!("{path}/results"), &auditor).await;
    assert_eq!((results["attendees"].as_u64(), results["responses"].as_u64()), (Some(2), Some(2)));
    assert_eq!(results["questions"][0]["ratings"], json!([0, 0, 0, 1, 1]));
    assert_eq!(results["questions"][0]["mean"], 4.5);
    assert_eq!(results["questions"][1]["choices"][0], json!({"option": "役立つ", "count": 1}));
    assert_eq!(results["questions"][2]["comments"], json!(["演習が実践的だった"]));
    let text = results.to_string();
    assert!(!text.contains(people::EMPLOYEE) && !text.contains("nomination"), "{text}");
    assert_problem(app.get(&format!("{path}/results"), &me).await, 403, "forbidden").await;
}

/// The employee numbers of a list's lines with their course's number, in the list's order.
fn course_lines(list: &Value) -> Vec<(i64, String)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (l["course"]["number"].as_i64().unwrap(), l["employee"]["employee_no"].as_str().unwrap().into())
        })
        .collect()
}

/// An organisation's list of reports owed over many small courses (a small organisation's): the
/// pages, followed by their cursors, hold every line once and in the list's order whatever their
/// size, and a page over several courses reads them together rather than a course at a time.
#[tokio::test]
async fn pages_of_the_reports_owed_walk_many_small_courses_in_order() {
    let app = spawn().await;
    let hr = app.hr();
    let mut expected = Vec::new();
    for number in 1..=7u32 {
        let (course, sessions, _) = selected_trainee(&app, 2023, number, &[d(2023, 7, number)]).await;
        let mut present = vec![json!({"employee_no": people::EMPLOYEE, "status": "present"})];
        expected.push((i64::from(number), people::EMPLOYEE.to_string()));
        if number % 2 == 0 {
            recommend(&app, &course, people::SAME_SECTION, "select").await;
            present.push(json!({"employee_no": people::SAME_SECTION, "status": "present"}));
            expected.push((i64::from(number), people::SAME_SECTION.to_string()));
        }
        ok(put_sheet(&app, &course, &sessions[0], json!(present)).await, 200).await;
    }
    expected.sort();
    let all = "/api/v1/reports?fiscal_year=2023&limit=200";
    assert_eq!(course_lines(&app.get_json(all, &hr).await), expected);
    // The overdue list asks which courses may hold a line a stretch at a time (four, then
    // thirty-two): a page of 200 crosses from one to the next.
    let overdue = "/api/v1/reports?fiscal_year=2023&overdue=true&as_of=2024-03-31";
    for list in ["/api/v1/reports?fiscal_year=2023", overdue] {
        for limit in [1, 3, 4, 200] {
            let mut walked = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let after = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
                let page = app.get_json(&format!("{list}&limit={limit}{after}"), &hr).await;
                let lines = course_lines(&page);
                assert!(lines.len() <= limit, "limit {limit}: {page}");
                walked.extend(lines);
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break,
                }
            }
            assert_eq!(walked, expected, "{list}, pages of {limit}");
        }
    }
    // Seven courses in two batches (one, then the six left: the first gave a line or two of
    // the 201 wanted), the courses and their last days kept: 6 statements on both backends,
    // where batches doubling (one, two, four) took 9 and a course at a time 29.
    kenshu_tests::until_reads_kept(&app.db).await;
    app.get_json(all, &hr).await;
    assert_eq!(app.cost(all, &hr).await, (200, 6), "a page over seven courses");
    // The overdue page: the first stretch asked (four courses), the reports back with their
    // trainees (once a page), the first batch (one course), the next stretch (the three left)
    // and the second batch (the six left): 9 statements.
    let overdue_page = format!("{overdue}&limit=200");
    app.get_json(&overdue_page, &hr).await;
    assert_eq!(app.cost(&overdue_page, &hr).await, (200, 9), "an overdue page over seven courses");
    // A new course that asks for a report is on the next page read.
    let (course, sessions, _) = selected_trainee(&app, 2023, 8, &[d(2023, 7, 8)]).await;
    let present = json!([{"employee_no": people::EMPLOYEE, "status": "present"}]);
    ok(put_sheet(&app, &course, &sessions[0], present).await, 200).await;
    expected.push((8, people::EMPLOYEE.to_string()));
    assert_eq!(course_lines(&app.get_json(all, &hr).await), expected);
    // Its session moved ten days later: its reports fall due ten days later on the next read
    // (the last days are kept with the courses), and are no longer overdue on 20 July.
    let due_of_8 = |list: &Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["course"]["number"] == 8)
            .map(|l| l["due_on"].clone())
    };
    let overdue_then = "/api/v1/reports?fiscal_year=2023&overdue=true&as_of=2023-07-20";
    assert_eq!(due_of_8(&app.get_json(overdue_then, &hr).await), Some(json!("2023-07-15")));
    let version =
        app.get_json(&format!("/api/v1/courses/{course}"), &hr).await["sessions"][0]["version"].clone();
    let moved = json!({"starts_at": "2023-07-18T09:00:00+09:00", "ends_at": "2023-07-18T17:00:00+09:00"});
    let session = format!("/api/v1/courses/{course}/sessions/{}", sessions[0]);
    ok(app.put_json(&session, &hr, Some(&format!("\"{version}\"")), &moved).await, 200).await;
    assert_eq!(due_of_8(&app.get_json(overdue_then, &hr).await), None);
    assert_eq!(due_of_8(&app.get_json(all, &hr).await), Some(json!("2023-07-25")));
}
