//! Portal forms in: desknet's NEO AppSuite apps post each added or updated record to Kenshu
//! (the documented webhook body), and the record is filed as the employee would file it.

use chrono::NaiveDate;
use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::attendance::{event, ok, put_sheet, selected_trainee};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Set up a form (HR); its id, webhook path and access token.
async fn form(app: &TestApp, kind: &str, app_id: &str, fields: Value) -> (String, String, String) {
    let body = json!({"kind": kind, "name": format!("{kind} form"), "app_id": app_id, "fields": fields});
    let f = ok(app.post_json("/api/v1/portal-forms", &app.hr(), &body).await, 201).await;
    (
        f["id"].as_str().unwrap().to_string(),
        f["webhook_path"].as_str().unwrap().to_string(),
        f["access_token"].as_str().unwrap().to_string(),
    )
}

/// What AppSuite posts for a record: every part as `{"value": …}`, the creator as a user list.
fn webhook(
    app_id: &str,
    data_id: u32,
    change: &str,
    token: &str,
    creator: &str,
    parts: &[(&str, &str)],
) -> Value {
    let mut data = json!({"登録者": {"value": [{"login_id": creator, "name": "職員"}]}});
    for (k, v) in parts {
        data[*k] = json!({"value": v});
    }
    json!({
        "app_id": app_id, "data_id": data_id, "type": change, "data": data,
        "app_name": "研修様式", "action_name": "Kenshu連携", "access_token": token,
        "url": format!("https://neo.example.jp/cgi-bin/dneo/zap.cgi?app_id={app_id}&data_id={data_id}"),
    })
}

async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.request(Method::POST, path, None).json(body).send().await.unwrap()
}

async fn inbox(app: &TestApp, state: &str) -> Vec<Value> {
    app.get_json(&format!("/api/v1/portal-inbox?state={state}"), &app.hr()).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn an_absence_notice_form_is_filed_once_corrected_while_returned_and_refused_once_it_moved_on() {
    let app = spawn().await;
    let (_, sessions, _) = selected_trainee(&app, 2023, 1, &[d(2023, 7, 12), d(2023, 7, 19)]).await;
    app.set_login_id(people::EMPLOYEE, "yamaguchi").await;
    let fields = json!({"employee": "登録者", "course": "研修名", "fiscal_year": "年度", "session": "研修日",
        "kind": "区分", "reason": "理由", "arrives_at": "到着予定"});
    let (form_id, path, token) = form(&app, "absence_notice", "12", fields).await;
    let parts = [
        ("研修名", "1"),
        ("年度", "令和5年度"),
        ("研修日", "2023/07/12"),
        ("区分", "欠席"),
        ("理由", "災害対応のため"),
    ];
    let added = webhook("12", 501, "added", &token, "YAMAGUCHI", &parts);

    // A wrong token, another app's webhook, a body that is not one: refused, nothing stored.
    let mut tampered = added.clone();
    tampered["access_token"] = json!(format!("{token}x"));
    assert_problem(post(&app, &path, &tampered).await, 401, "unauthorized").await;
    let mut other_app = added.clone();
    other_app["app_id"] = json!(13);
    assert_problem(post(&app, &path, &other_app).await, 422, "validation").await;
    let mut deleted = added.clone();
    deleted["type"] = json!("deleted");
    assert_problem(post(&app, &path, &deleted).await, 422, "validation").await;
    let res = app
        .request(Method::POST, &path, None)
        .header("Content-Type", "application/json")
        .body("{\"app_id\":")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "bad-request").await;
    assert_problem(
        post(&app, "/api/v1/portal-forms/01939a4e-7c1a-7d2e-8f00-000000000001/webhook", &added).await,
        404,
        "not-found",
    )
    .await;
    for state in ["pending", "applied", "failed"] {
        assert!(inbox(&app, state).await.is_empty(), "{state}");
    }

    // The record is filed as the trainee, submitted to their head.
    let answer = ok(post(&app, &path, &added).await, 200).await;
    assert_eq!(answer["first_delivery"], true);
    assert_eq!(answer["change"]["state"], "applied");
    assert_eq!(answer["change"]["item"]["type"], "absence_notice");
    let notice_path = format!("/api/v1/absence-notices/{}", answer["change"]["item"]["id"].as_str().unwrap());
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let notice = app.get_json(&notice_path, &me).await;
    assert_eq!(
        (notice["state"].as_str(), notice["session_id"].as_str()),
        (Some("submitted"), Some(sessions[0].as_str()))
    );
    assert_eq!(notice["reason"], "災害対応のため");
    let history = app.get_json("/api/v1/audit?entity_type=absence_notice", &app.hr()).await;
    let entry = &history["items"][0];
    assert_eq!(entry["actor"], people::EMPLOYEE, "{entry}");
    assert_eq!(entry["request_id"], format!("portal-inbound:{}", answer["change"]["id"].as_str().unwrap()));

    // Delivered again: the same change, nothing changes.
    let again = ok(post(&app, &path, &added).await, 200).await;
    assert_eq!(
        (again["first_delivery"].as_bool(), again["change"]["id"].as_str()),
        (Some(false), answer["change"]["id"].as_str())
    );
    let mine = app.get_json("/api/v1/me/absence-notices", &me).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    // Corrected in the portal while submitted: refused (it has moved on), kept for HR.
    let parts2 = [
        ("研修名", "1"),
        ("年度", "2023"),
        ("研修日", "2023/07/12"),
        ("区分", "遅刻"),
        ("理由", "窓口当番のため"),
        ("到着予定", "10:30"),
    ];
    let updated = webhook("12", 501, "updated", &token, "yamaguchi", &parts2);
    let p = assert_problem(post(&app, &path, &updated).await, 422, "portal-change-failed").await;
    assert!(p["detail"].as_str().unwrap().contains("draft or returned"), "{p}");
    let failed = inbox(&app, "failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["payload"]["data"]["理由"]["value"], "窓口当番のため");
    assert!(failed[0]["payload"].get("access_token").is_none(), "the token is not kept");
    assert_eq!(app.get_json(&notice_path, &me).await["reason"], "災害対応のため");

    // The head returns it; the same correction replayed now corrects and submits it again.
    let head = app.token(people::SECTION_HEAD, &[Role::Employee, Role::SectionHead]);
    ok(event(&app, &head, &notice_path, json!({"event": "return", "comment": "遅刻なら時刻を"})).await, 200)
        .await;
    let replayed_path = format!("/api/v1/portal-inbox/{}/replay", failed[0]["id"].as_str().unwrap());
    let replayed =
        ok(app.request(Method::POST, &replayed_path, Some(&app.hr())).send().await.unwrap(), 200).await;
    assert_eq!(replayed["state"], "applied", "{replayed}");
    let notice = app.get_json(&notice_path, &me).await;
    assert_eq!(
        (notice["state"].as_str(), notice["kind"].as_str()),
        (Some("submitted"), Some("late_arrival"))
    );
    assert_eq!(notice["arrives_at"], "2023-07-12T10:30:00+09:00");
    let res = app.request(Method::POST, &replayed_path, Some(&app.hr())).send().await.unwrap();
    assert_problem(res, 409, "invalid-transition").await;
    // The same update delivered once more changes nothing.
    assert_eq!(ok(post(&app, &path, &updated).await, 200).await["first_delivery"], false);

    // Only the training office sees the forms and what they sent; the token is shown once.
    let f = app.get_json(&format!("/api/v1/portal-forms/{form_id}"), &app.hr()).await;
    assert!(f.get("access_token").is_none());
    let res = app.get(&format!("/api/v1/portal-forms/{form_id}"), &me).await;
    assert_problem(res, 403, "forbidden").await;
    assert_problem(app.get("/api/v1/portal-inbox", &me).await, 403, "forbidden").await;
}

#[tokio::test]
async fn a_report_that_cannot_be_applied_is_kept_and_replayed_once_the_mapping_and_roster_are_right() {
    let app = spawn().await;
    let (course, sessions, _) = selected_trainee(&app, 2023, 2, &[d(2023, 9, 5)]).await;
    ok(
        put_sheet(
            &app,
            &course,
            &sessions[0],
            json!([{"employee_no": people::EMPLOYEE, "status": "present"}]),
        )
        .await,
        200,
    )
    .await;
    // The part is misnamed in the mapping, and the trainee has no login id on the roster yet.
    let fields =
        json!({"employee": "登録者", "course": "研修名", "learned": "学んだ事", "application": "活かし方"});
    let (form_id, path, token) = form(&app, "training_report", "20", fields).await;
    // Without a fiscal year, the year of the day it arrives (and the year before) is searched.
    app.clock.set("2024-05-10T03:00:00Z".parse().unwrap());
    let parts = [("研修名", "研修2"), ("学んだこと", "傾聴の技法"), ("活かし方", "窓口で活かす")];
    let body = webhook("20", 7, "added", &token, "sato", &parts);
    let p = assert_problem(post(&app, &path, &body).await, 422, "portal-change-failed").await;
    assert!(p["detail"].as_str().unwrap().contains("'学んだ事'"), "{p}");

    // The mapping is put right; the replay now finds nobody called sato on the roster.
    let f = app.get_json(&format!("/api/v1/portal-forms/{form_id}"), &app.hr()).await;
    let mut fix =
        json!({"kind": "training_report", "name": f["name"], "app_id": "20", "fields": f["fields"]});
    fix["fields"]["learned"] = json!("学んだこと");
    let put = app
        .put_json(
            &format!("/api/v1/portal-forms/{form_id}"),
            &app.hr(),
            Some(&format!("\"{}\"", f["version"])),
            &fix,
        )
        .await;
    ok(put, 200).await;
    let change = &inbox(&app, "failed").await[0];
    let replay = format!("/api/v1/portal-inbox/{}/replay", change["id"].as_str().unwrap());
    let again = ok(app.request(Method::POST, &replay, Some(&app.hr())).send().await.unwrap(), 200).await;
    assert_eq!(again["state"], "failed");
    assert!(again["reason"].as_str().unwrap().contains("sato"), "{again}");
    assert_eq!(again["attempts"], 2);
    // Until it is put right, the training office's daily digest lists it.
    app.run_scheduled().await;
    let outbox = app.get_json("/api/v1/notices?limit=200", &app.hr()).await;
    let office = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "digest" && n["recipient_role"] == "training_office")
        .expect("the office's digest")
        .clone();
    let item = &office["body"]["waiting"][0];
    assert_eq!(
        (item["item"]["type"].as_str(), item["item"]["id"].as_str()),
        (Some("portal_change"), change["id"].as_str()),
        "{office}"
    );
    assert!(item["title"].as_str().unwrap().contains("sato"), "{item}");

    // The roster gets the login id; the replay files the report, submitted.
    app.set_login_id(people::EMPLOYEE, "Sato").await;
    let done = ok(app.request(Method::POST, &replay, Some(&app.hr())).send().await.unwrap(), 200).await;
    assert_eq!(done["state"], "applied", "{done}");
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let report =
        app.get_json(&format!("/api/v1/reports/{}", done["item"]["id"].as_str().unwrap()), &me).await;
    assert_eq!(
        (report["state"].as_str(), report["learned"].as_str()),
        (Some("submitted"), Some("傾聴の技法"))
    );
    assert!(inbox(&app, "failed").await.is_empty());
    let audit = app.get_json("/api/v1/audit?entity_type=portal_inbound", &app.hr()).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 2, "each replay is recorded");
}

#[tokio::test]
async fn application_and_subsidy_forms_apply_as_the_employee_and_are_not_corrected_afterwards() {
    let app = spawn().await;
    let (course, _) = crate::routing::open_course(&app, 31, &[d(2023, 10, 3)]).await;
    app.set_login_id(people::EMPLOYEE, "yamaguchi").await;
    let fields =
        json!({"employee": "登録者", "course": "研修名", "fiscal_year": "年度", "reason": "志望理由"});
    let (_, path, token) = form(&app, "course_application", "30", fields).await;
    let parts = [("研修名", "31 公募研修31"), ("年度", "2023"), ("志望理由", "業務で必要なため")];
    let answer =
        ok(post(&app, &path, &webhook("30", 1, "added", &token, "yamaguchi", &parts)).await, 200).await;
    let n = app
        .get_json(
            &format!("/api/v1/nominations/{}", answer["change"]["item"]["id"].as_str().unwrap()),
            &app.hr(),
        )
        .await;
    assert_eq!(
        (n["course_id"].as_str(), n["state"].as_str(), n["route"].as_str()),
        (Some(course.as_str()), Some("proposed"), Some("application"))
    );
    let parts2 = [("研修名", "31"), ("年度", "2023"), ("志望理由", "変更")];
    let p = assert_problem(
        post(&app, &path, &webhook("30", 1, "updated", &token, "yamaguchi", &parts2)).await,
        422,
        "portal-change-failed",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("withdraw"), "{p}");
    // A course that does not exist, by number.
    let parts3 = [("研修名", "99"), ("年度", "2023")];
    let p = assert_problem(
        post(&app, &path, &webhook("30", 2, "added", &token, "yamaguchi", &parts3)).await,
        422,
        "portal-change-failed",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("no course number 99 in FY2023"), "{p}");

    let titles = crate::subsidies::programme(&app, 100_000).await;
    let title = titles.keys().next().unwrap().clone();
    let fields = json!({"employee": "登録者", "course": "講座名", "reason": "動機"});
    let (_, path, token) = form(&app, "subsidy_application", "40", fields).await;
    let parts = [("講座名", title.as_str()), ("動機", "窓口での英語対応のため")];
    let answer =
        ok(post(&app, &path, &webhook("40", 9, "added", &token, "yamaguchi", &parts)).await, 200).await;
    assert_eq!(answer["change"]["item"]["type"], "subsidy_application");
    let a = app
        .get_json(
            &format!("/api/v1/subsidy-applications/{}", answer["change"]["item"]["id"].as_str().unwrap()),
            &app.hr(),
        )
        .await;
    assert_eq!(a["course"]["id"].as_str(), titles.get(&title).map(String::as_str));
    assert_eq!(
        (a["state"].as_str(), a["reason"].as_str()),
        (Some("applied"), Some("窓口での英語対応のため"))
    );
}
