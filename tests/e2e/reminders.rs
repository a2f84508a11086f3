//! Reminders and digests the service sends by itself, on a clock the tests hold: sessions days
//! away, reports due and overdue (and the head once long overdue), each decider's one daily list
//! of what waits for them, each written once however often or by however many instances the
//! service looks.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kenshu_domain::auth::Role;
use kenshu_domain::calendar::{jst, tokyo_date, FiscalYear};
use kenshu_tests::standins::WebhookReceiver;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use serde_json::{json, Value};

use crate::attendance::{event, ok, put_sheet, recommend, selected_trainee};
use crate::routing::{apply, file_notice, open_course, path_of};
use crate::subsidies::{confirmed, programme, put_proof};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A moment in Japan time.
fn jst_at(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    jst().with_ymd_and_hms(y, m, day, h, min, 0).unwrap().with_timezone(&Utc)
}

async fn inbox(app: &TestApp, no: &str) -> Vec<Value> {
    let token = app.token(no, &[Role::Employee]);
    app.get_json("/api/v1/me/notices?limit=200", &token).await["items"].as_array().unwrap().clone()
}

async fn kinds(app: &TestApp, no: &str) -> Vec<String> {
    inbox(app, no).await.iter().map(|n| n["kind"].as_str().unwrap().to_string()).collect()
}

/// Hold the clock at `at` and run the scheduled work, as the service would then.
async fn at(app: &TestApp, when: DateTime<Utc>) -> kenshu_api::scheduler::ScheduledRun {
    app.clock.set(when);
    app.run_scheduled().await
}

#[tokio::test]
async fn sessions_and_reports_are_reminded_once_at_the_sending_hour_and_a_long_overdue_report_reaches_the_head(
) {
    let app = spawn().await;
    let (course, sessions, nid) = selected_trainee(&app, 2023, 71, &[d(2023, 7, 12)]).await;
    let before_head = inbox(&app, people::SECTION_HEAD).await.len();

    // Three days before, from eight in the morning Japan time: the trainee, not the head.
    let run = at(&app, jst_at(2023, 7, 9, 7, 55)).await;
    assert!(run.looked_for_reminders);
    assert!(kinds(&app, people::EMPLOYEE).await.is_empty());
    at(&app, jst_at(2023, 7, 9, 8, 5)).await;
    assert_eq!(kinds(&app, people::EMPLOYEE).await, vec!["session_reminder"]);
    let n = &inbox(&app, people::EMPLOYEE).await[0];
    assert_eq!(n["body"]["session"]["starts_at"], "2023-07-12T09:00:00+09:00");
    assert!(n["body"]["gather"].as_str().unwrap().contains("10分前"));
    // Looking again, that day or the next, writes nothing more.
    let run = at(&app, jst_at(2023, 7, 9, 8, 6)).await;
    assert!(!run.looked_for_reminders, "another look within five minutes is left out");
    at(&app, jst_at(2023, 7, 10, 8, 5)).await;
    assert_eq!(kinds(&app, people::EMPLOYEE).await, vec!["session_reminder"]);

    // The trainee attends; the report is due a week after the session: 19 July.
    let attended = json!([{"employee_no": people::EMPLOYEE, "status": "present"}]);
    ok(put_sheet(&app, &course, &sessions[0], attended).await, 200).await;
    at(&app, jst_at(2023, 7, 17, 8, 5)).await;
    let due = &inbox(&app, people::EMPLOYEE).await[0];
    assert_eq!(
        (due["kind"].as_str(), due["body"]["due_on"].as_str()),
        (Some("report_due"), Some("2023-07-19"))
    );
    assert!(due["body"]["message"].as_str().unwrap().contains("2023年7月19日"));
    at(&app, jst_at(2023, 7, 20, 8, 5)).await;
    at(&app, jst_at(2023, 7, 21, 8, 5)).await;
    assert_eq!(kinds(&app, people::EMPLOYEE).await, vec!["report_overdue", "report_due", "session_reminder"]);
    // A week overdue: the head is told, once; the trainee's next round comes a week after the first.
    at(&app, jst_at(2023, 7, 26, 8, 5)).await;
    let head = inbox(&app, people::SECTION_HEAD).await;
    assert_eq!(head.len(), before_head + 1);
    assert_eq!(
        (head[0]["kind"].as_str(), head[0]["recipient_role"].as_str()),
        (Some("report_overdue"), Some("section_head"))
    );
    at(&app, jst_at(2023, 7, 27, 8, 5)).await;
    at(&app, jst_at(2023, 7, 28, 8, 5)).await;
    assert_eq!(
        kinds(&app, people::EMPLOYEE).await,
        vec!["report_overdue", "report_overdue", "report_due", "session_reminder"]
    );
    assert_eq!(inbox(&app, people::SECTION_HEAD).await.len(), before_head + 1);

    // Handed in: no more reminders, however long it waits for approval.
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let text = json!({"learned": "傾聴の技法", "application": "窓口対応に活かす", "submit": true});
    ok(app.post_json(&format!("/api/v1/nominations/{nid}/report"), &me, &text).await, 201).await;
    at(&app, jst_at(2023, 8, 3, 8, 5)).await;
    assert_eq!(kinds(&app, people::EMPLOYEE).await.len(), 4);
}

#[tokio::test]
async fn a_department_heads_long_overdue_report_reaches_the_training_office() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions) = open_course(&app, 74, &[d(2023, 7, 12)]).await;
    // Nobody heads the head of 企画部 on the roster: the office confirms and selects them.
    let own = app.token(people::DEPARTMENT_HEAD, &[Role::Employee, Role::DepartmentHead]);
    let application = apply(&app, &own, &course).await;
    ok(event(&app, &hr, &application, json!({"event": "confirm"})).await, 200).await;
    ok(event(&app, &hr, &application, json!({"event": "select"})).await, 200).await;
    let attended = json!([{"employee_no": people::DEPARTMENT_HEAD, "status": "present"}]);
    ok(put_sheet(&app, &course, &sessions[0], attended).await, 200).await;
    let nid = application.rsplit('/').next().unwrap().to_string();
    let overdue_to_office = || async {
        let outbox = app.get_json("/api/v1/notices?limit=200", &hr).await;
        outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "report_overdue" && n["item"]["id"] == nid.as_str())
            .map(|n| (n["recipient_role"].as_str().unwrap().to_string(), n["recipient"].clone()))
            .collect::<Vec<_>>()
    };
    let head_before = inbox(&app, people::SECTION_HEAD).await.len();

    // Overdue: the writer is reminded, the office not yet.
    at(&app, jst_at(2023, 7, 20, 8, 5)).await;
    assert_eq!(
        kinds(&app, people::DEPARTMENT_HEAD).await.first().map(String::as_str),
        Some("report_overdue")
    );
    assert!(!overdue_to_office().await.iter().any(|(role, _)| role == "training_office"));
    // A week overdue: with no head above the writer, the training office is told, once; the head
    // of the section they sit in, who reports to them, is not.
    at(&app, jst_at(2023, 7, 26, 8, 5)).await;
    at(&app, jst_at(2023, 7, 27, 8, 5)).await;
    let told = overdue_to_office().await;
    assert!(told.contains(&("training_office".to_string(), Value::Null)), "{told:?}");
    assert_eq!(told.iter().filter(|(role, _)| role == "training_office").count(), 1, "{told:?}");
    assert_eq!(inbox(&app, people::SECTION_HEAD).await.len(), head_before);
}

#[tokio::test]
async fn a_trainee_who_left_is_not_reminded_of_a_report_and_their_head_is_not_asked() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions, nid) = selected_trainee(&app, 2023, 75, &[d(2023, 7, 12)]).await;
    let attended = json!([{"employee_no": people::EMPLOYEE, "status": "present"}]);
    ok(put_sheet(&app, &course, &sessions[0], attended).await, 200).await;
    let nid = nid.rsplit('/').next().unwrap().to_string();
    let about_it = || async {
        let outbox = app.get_json("/api/v1/notices?limit=200", &hr).await;
        let mut kinds: Vec<(String, String)> = outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["item"]["id"] == nid.as_str() && n["kind"] != "training_notice")
            .map(|n| {
                (n["kind"].as_str().unwrap().to_string(), n["recipient_role"].as_str().unwrap().to_string())
            })
            .collect();
        kinds.sort();
        kinds
    };
    at(&app, jst_at(2023, 7, 20, 8, 5)).await;
    let overdue = ("report_overdue".to_string(), "trainee".to_string());
    assert_eq!(about_it().await, vec![overdue.clone()]);

    // The trainee leaves: no second round for them, and their head is not asked to chase it.
    app.edit_employee(people::EMPLOYEE, |e| e["active"] = json!(false)).await;
    at(&app, jst_at(2023, 7, 27, 8, 5)).await;
    at(&app, jst_at(2023, 8, 3, 8, 5)).await;
    assert_eq!(about_it().await, vec![overdue]);
    // The report is still owed on the office's list.
    let owed = app.get_json("/api/v1/reports?overdue=true&as_of=2023-08-03&limit=200", &hr).await;
    let line = owed["items"].as_array().unwrap().iter().find(|l| l["nomination_id"] == nid.as_str()).cloned();
    assert_eq!(line.map(|l| l["on_roster"].clone()), Some(json!(false)), "{owed}");
}

#[tokio::test]
async fn absence_notices_lapse_with_their_place_or_session_and_leave_the_heads_list() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions) = open_course(&app, 76, &[d(2023, 7, 12), d(2023, 7, 19)]).await;
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let mut nominations = Vec::new();
    let mut notices = Vec::new();
    for no in [people::EMPLOYEE, people::SAME_SECTION] {
        let who = app.token(no, &[Role::Employee]);
        let n = apply(&app, &who, &course).await;
        ok(event(&app, &head, &n, json!({"event": "confirm"})).await, 200).await;
        ok(event(&app, &hr, &n, json!({"event": "select"})).await, 200).await;
        notices.push(path_of(
            "absence-notices",
            &ok(file_notice(&app, &who, &n, &sessions[0]).await, 201).await,
        ));
        nominations.push((who, n));
    }
    let waiting_for_head = |day: u32| {
        let app = &app;
        async move {
            at(app, jst_at(2023, 7, day, 8, 5)).await;
            inbox(app, people::SECTION_HEAD)
                .await
                .into_iter()
                .find(|n| {
                    n["kind"] == "digest" && n["subject"].as_str().unwrap().contains(&format!("7月{day}日"))
                })
                .map(|n| n["body"]["waiting_total"].clone())
        }
    };
    assert_eq!(waiting_for_head(1).await, Some(json!(2)));

    // HR moves the first trainee to the second day; the second withdraws from the course.
    let bulk = format!("/api/v1/courses/{course}/nominations/bulk");
    let first = nominations[0].1.rsplit('/').next().unwrap();
    ok(app.post_json(&bulk, &hr, &json!({"ids": [first], "move_to_session": sessions[1]})).await, 200).await;
    ok(event(&app, &nominations[1].0, &nominations[1].1, json!({"event": "cancel"})).await, 200).await;
    for path in &notices {
        let n = app.get_json(path, &hr).await;
        assert_eq!(n["state"], "withdrawn", "{n}");
        assert!(n["comment"].as_str().unwrap().contains("取下げ"), "{n}");
    }
    assert_eq!(waiting_for_head(2).await, None, "nothing waits for the head any more");
    // The moved trainee files again for the day they are now on.
    let again = file_notice(&app, &nominations[0].0, &nominations[0].1, &sessions[1]).await;
    ok(again, 201).await;
}

#[tokio::test]
async fn the_training_office_sets_when_reminders_go_out() {
    let app = spawn().await;
    let hr = app.hr();
    let path = "/api/v1/organisation/reminders";
    let current = app.get_json(path, &app.token(people::EMPLOYEE, &[Role::Employee])).await;
    assert_eq!(
        current,
        json!({"session_days_before": 3, "report_days_before": 2, "overdue_every_days": 7, "escalate_after_days": 7, "send_hour": 8})
    );
    let etag = app.get(path, &hr).await.headers()["etag"].to_str().unwrap().to_string();
    let bad = json!({"session_days_before": 31, "report_days_before": 2, "overdue_every_days": 0, "escalate_after_days": 7, "send_hour": 24});
    let p = assert_problem(app.put_json(path, &hr, Some(&etag), &bad).await, 422, "validation").await;
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["session_days_before", "overdue_every_days", "send_hour"]);
    let day_before = json!({"session_days_before": 1, "report_days_before": 2, "overdue_every_days": 7, "escalate_after_days": 7, "send_hour": 17});
    let saved = ok(app.put_json(path, &hr, Some(&etag), &day_before).await, 200).await;
    assert_eq!(saved["send_hour"], 17);
    assert_problem(app.put_json(path, &hr, Some(&etag), &day_before).await, 412, "precondition-failed").await;

    selected_trainee(&app, 2023, 72, &[d(2023, 7, 12)]).await;
    at(&app, jst_at(2023, 7, 9, 8, 5)).await;
    at(&app, jst_at(2023, 7, 11, 16, 55)).await;
    assert!(kinds(&app, people::EMPLOYEE).await.is_empty());
    at(&app, jst_at(2023, 7, 11, 17, 5)).await;
    assert_eq!(kinds(&app, people::EMPLOYEE).await, vec!["session_reminder"]);
}

#[tokio::test]
async fn deciders_get_one_daily_digest_of_what_waits_for_them_and_it_alone_goes_out() {
    let app = spawn().await;
    let hr = app.hr();
    let receiver = WebhookReceiver::start().await;
    let body = json!({"name": "通知", "settings": {"kind": "webhook", "url": receiver.url}, "secret": "whsec_digest_test_000001"});
    ok(app.post_json("/api/v1/notification-channels", &hr, &body).await, 201).await;
    let (course, _) = open_course(&app, 73, &[d(2023, 7, 12)]).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    let mine = apply(&app, &me, &course).await;
    apply(&app, &colleague, &course).await;
    // A department head's own application waits for the training office.
    let own = app.token(people::DEPARTMENT_HEAD, &[Role::Employee, Role::DepartmentHead]);
    apply(&app, &own, &course).await;

    at(&app, jst_at(2023, 6, 1, 7, 55)).await;
    assert!(!kinds(&app, people::SECTION_HEAD).await.contains(&"digest".to_string()));
    let run = at(&app, jst_at(2023, 6, 1, 8, 5)).await;
    assert_eq!(run.reminders.digests, 2, "{run:?}");
    let digest = inbox(&app, people::SECTION_HEAD).await.into_iter().find(|n| n["kind"] == "digest").unwrap();
    assert_eq!(digest["subject"], "【承認待ち】2件（2023年6月1日）");
    let waiting: Vec<&str> = digest["body"]["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["trainee_employee_no"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, vec![people::EMPLOYEE, people::SAME_SECTION]);
    assert_eq!(digest["body"]["waiting"][0]["item"]["type"], "nomination");
    let outbox = app.get_json("/api/v1/notices?limit=200", &hr).await;
    let office: Vec<&Value> = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "digest" && n["recipient_role"] == "training_office")
        .collect();
    assert_eq!(office.len(), 1);
    assert_eq!(office[0]["body"]["waiting"][0]["trainee_employee_no"], people::DEPARTMENT_HEAD);
    // The channel got the digests, not one message per waiting application.
    let sent: Vec<String> =
        receiver.received().iter().map(|r| r.json()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(sent, vec!["digest", "digest"]);

    // Once a day: the same day writes nothing more; the next day lists what still waits.
    at(&app, jst_at(2023, 6, 1, 12, 0)).await;
    assert_eq!(kinds(&app, people::SECTION_HEAD).await.iter().filter(|k| *k == "digest").count(), 1);
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    ok(event(&app, &head, &mine, json!({"event": "confirm"})).await, 200).await;
    at(&app, jst_at(2023, 6, 2, 8, 5)).await;
    let digests: Vec<Value> =
        inbox(&app, people::SECTION_HEAD).await.into_iter().filter(|n| n["kind"] == "digest").collect();
    assert_eq!(digests.len(), 2);
    assert_eq!(digests[0]["body"]["waiting"].as_array().unwrap().len(), 1, "one application confirmed since");
    // The office's list has what comes to it next: the confirmed application to select, beside
    // the department head's own application it confirms.
    let outbox = app.get_json("/api/v1/notices?limit=200", &hr).await;
    let office = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|n| n["kind"] == "digest" && n["recipient_role"] == "training_office")
        .unwrap()
        .clone();
    let steps: Vec<(&str, &str)> = office["body"]["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["trainee_employee_no"].as_str().unwrap(), w["step"].as_str().unwrap()))
        .collect();
    assert!(steps.contains(&(people::EMPLOYEE, "選考")), "{steps:?}");
    assert!(steps.contains(&(people::DEPARTMENT_HEAD, "確認")), "{steps:?}");
}

/// A digest's waiting items as (trainee, kind of record, step).
fn steps(digest: &Value) -> Vec<(String, String, String)> {
    digest["body"]["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let text = |v: &Value| v.as_str().unwrap().to_string();
            (text(&w["trainee_employee_no"]), text(&w["item"]["type"]), text(&w["step"]))
        })
        .collect()
}

#[tokio::test]
async fn digests_list_waiting_absence_notices_reports_and_subsidy_applications_at_their_step() {
    let app = spawn().await;
    let hr = app.hr();
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let dep_head = app.token(people::DEPARTMENT_HEAD, &[Role::DepartmentHead]);

    // Reports: the trainee's waits for the department head's decision (決裁), the colleague's,
    // approved, for the office to receive.
    let (course, sessions, nid) = selected_trainee(&app, 2023, 75, &[d(2023, 7, 12)]).await;
    let colleague_nomination = recommend(&app, &course, people::SAME_SECTION, "select").await;
    let both = json!([{"employee_no": people::EMPLOYEE, "status": "present"}, {"employee_no": people::SAME_SECTION, "status": "present"}]);
    ok(put_sheet(&app, &course, &sessions[0], both).await, 200).await;
    let text = json!({"learned": "傾聴の技法", "application": "窓口対応に活かす", "submit": true});
    ok(app.post_json(&format!("/api/v1/nominations/{nid}/report"), &me, &text).await, 201).await;
    let theirs =
        ok(app.post_json(&format!("{colleague_nomination}/report"), &colleague, &text).await, 201).await;
    ok(event(&app, &dep_head, &path_of("reports", &theirs), json!({"event": "approve"})).await, 200).await;

    // Absence notices for next year's course: the trainee's waits for the section head's
    // confirmation, the colleague's, confirmed, for the office to receive.
    let next = FiscalYear::containing(tokyo_date(Utc::now())).next();
    let day = next.start() + chrono::Duration::days(20);
    let (later, later_sessions, later_nid) = selected_trainee(&app, next.year(), 76, &[day]).await;
    let later_colleague = recommend(&app, &later, people::SAME_SECTION, "select").await;
    let mine = format!("/api/v1/nominations/{later_nid}");
    ok(file_notice(&app, &me, &mine, &later_sessions[0]).await, 201).await;
    let notice = ok(file_notice(&app, &colleague, &later_colleague, &later_sessions[0]).await, 201).await;
    ok(event(&app, &head, &path_of("absence-notices", &notice), json!({"event": "confirm"})).await, 200)
        .await;

    // Subsidy applications: the trainee's new one waits for the section head; the colleague's,
    // confirmed, for the office to approve; the trainee's earlier one, reported complete, for
    // the office to check.
    let courses = programme(&app, 100_000).await;
    let english = confirmed(&app, people::EMPLOYEE, &courses["実用英語入門"]).await;
    ok(crate::subsidies::event(&app, &hr, &english, json!({"event": "approve"})).await, 200).await;
    let pdf = b"%PDF-1.4\n% proof of completion\n".to_vec();
    assert_eq!(put_proof(&app, &me, &english, "application/pdf", pdf).await.status(), 204);
    let report = json!({"event": "report_completion", "paid_tuition_yen": 45_001});
    ok(crate::subsidies::event(&app, &me, &english, report).await, 200).await;
    confirmed(&app, people::SAME_SECTION, &courses["簿記3級"]).await;
    let apply = json!({"course_id": courses["Excel実践"]});
    ok(app.post_json("/api/v1/subsidy-applications", &me, &apply).await, 201).await;

    let run = at(&app, jst_at(2023, 8, 1, 8, 5)).await;
    assert!(run.reminders.digests >= 3, "{run:?}");
    let digest_of = |notices: Vec<Value>| notices.into_iter().find(|n| n["kind"] == "digest").unwrap();
    let own = |kind: &str, step: &str| (people::EMPLOYEE.to_string(), kind.to_string(), step.to_string());
    let theirs =
        |kind: &str, step: &str| (people::SAME_SECTION.to_string(), kind.to_string(), step.to_string());

    let section_head = steps(&digest_of(inbox(&app, people::SECTION_HEAD).await));
    assert!(section_head.contains(&own("absence_notice", "確認")), "{section_head:?}");
    assert!(section_head.contains(&own("subsidy_application", "確認")), "{section_head:?}");
    assert_eq!(section_head.len(), 2, "what the head has decided is not theirs to do: {section_head:?}");

    let department_head = steps(&digest_of(inbox(&app, people::DEPARTMENT_HEAD).await));
    assert_eq!(department_head, vec![own("training_report", "決裁")]);

    let outbox = app.get_json("/api/v1/notices?limit=200", &hr).await["items"].as_array().unwrap().clone();
    let office = digest_of(outbox.into_iter().filter(|n| n["recipient_role"] == "training_office").collect());
    assert_eq!(office["body"]["waiting_total"], 4, "{office}");
    let office = steps(&office);
    for expected in [
        theirs("training_report", "受理"),
        theirs("absence_notice", "受理"),
        theirs("subsidy_application", "承認"),
        own("subsidy_application", "修了確認"),
    ] {
        assert!(office.contains(&expected), "{expected:?} in {office:?}");
    }
    assert_eq!(office.len(), 4, "{office:?}");
}

#[tokio::test]
async fn two_instances_looking_at_once_write_each_reminder_once() {
    let app = spawn().await;
    if !app.database_url.starts_with("postgres") {
        // Several instances share PostgreSQL; SQLite is the one-instance embedded default.
        return;
    }
    let second = app.second_instance().await;
    selected_trainee(&app, 2023, 74, &[d(2023, 7, 12)]).await;
    let when = jst_at(2023, 7, 9, 8, 5);
    app.clock.set(when);
    second.clock.set(when);
    let (a, b) = tokio::join!(app.run_scheduled(), kenshu_api::scheduler::run_scheduled(&second));
    let b = b.unwrap();
    assert!(a.looked_for_reminders ^ b.looked_for_reminders, "one instance looks: {a:?} {b:?}");
    // Even two looks at once (bypassing the turn-taking) write each reminder once.
    let (x, y) =
        tokio::join!(kenshu_api::scheduler::remind(&app.state), kenshu_api::scheduler::remind(&second));
    x.unwrap();
    y.unwrap();
    assert_eq!(kinds(&app, people::EMPLOYEE).await, vec!["session_reminder"]);
}
