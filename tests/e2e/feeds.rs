//! Calendar feeds: subscribed to by URL, read back with a real iCalendar parser. An employee's
//! places only (never pending or wait-listed), stable UIDs and a rising SEQUENCE as sessions
//! change, cancellations kept as cancelled, ETag and 304, a revoked token refused; a section
//! head's feed of their staff, the training office's of a course.

use icalendar::{Calendar, Component, EventLike, EventStatus};
use kenshu_domain::auth::Role;
use kenshu_domain::ics::place_uid;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::attendance::{event, ok, recommend, selected_trainee};
use crate::routing::{apply, open_course};

fn d(y: i32, m: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Make a feed as `token`; returns the feed and the path of its URL.
async fn make(app: &TestApp, token: &str, body: Value) -> (Value, String) {
    let feed = ok(app.post_json("/api/v1/calendar-feeds", token, &body).await, 201).await;
    let url = feed["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with(".ics"), "{url}");
    let path = url[url.find("/calendar/").unwrap()..].to_string();
    (feed, path)
}

/// Read a feed as a calendar client does: no login; its ETag and the parsed calendar.
async fn read(app: &TestApp, path: &str) -> (String, Calendar) {
    let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let text = res.text().await.unwrap();
    (etag, text.parse().unwrap())
}

/// UID, SEQUENCE and status of each entry.
fn entries(cal: &Calendar) -> Vec<(String, u32, Option<EventStatus>)> {
    cal.events()
        .map(|e| (e.get_uid().unwrap().to_string(), e.get_sequence().unwrap(), e.get_status()))
        .collect()
}

#[tokio::test]
async fn an_employee_subscribes_to_their_places_and_follows_every_change() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions, nid) = selected_trainee(&app, 2023, 81, &[d(2023, 7, 12), d(2023, 7, 19)]).await;
    // An application still waiting and a wait-listed place are not in the calendar.
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let (other, _) = open_course(&app, 82, &[d(2023, 8, 2)]).await;
    apply(&app, &me, &other).await;
    let (third, _, _) = selected_trainee(&app, 2023, 83, &[d(2023, 9, 6)]).await;
    let waiting = recommend(&app, &third, people::SAME_SECTION, "waitlist").await;
    let _ = waiting;

    let (feed, path) = make(&app, &me, json!({"scope": "me"})).await;
    assert_eq!(feed["scope"], "me");
    let (etag, cal) = read(&app, &path).await;
    let uid = |s: &str| place_uid(s.parse().unwrap(), nid.parse().unwrap());
    let first = entries(&cal);
    let extra: Vec<&(String, u32, Option<EventStatus>)> =
        first.iter().filter(|e| !e.0.ends_with(&format!("{nid}@kenshu"))).collect();
    assert_eq!(
        first.iter().filter(|e| e.0 == uid(&sessions[0]) || e.0 == uid(&sessions[1])).count(),
        2,
        "{first:?}"
    );
    // The third course's own place is there (selected), its colleague's waiting place is not theirs.
    assert_eq!(extra.len(), 1, "only the other selected place: {first:?}");
    let ev = cal.events().find(|e| e.get_uid() == Some(uid(&sessions[0]).as_str())).unwrap();
    assert_eq!(ev.get_summary(), Some("研修81"));
    assert!(ev.get_description().unwrap().contains("集合: 08:50"));
    assert_eq!(ev.get_status(), Some(EventStatus::Confirmed));

    // Unchanged: 304 for the ETag read.
    let res =
        app.client.get(format!("{}{path}", app.base)).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(res.status(), 304);

    // The first session moves to another room: same UID, a higher SEQUENCE, a new ETag.
    let c = app.get_json(&format!("/api/v1/courses/{course}"), &hr).await;
    let s =
        c["sessions"].as_array().unwrap().iter().find(|s| s["id"] == sessions[0].as_str()).unwrap().clone();
    let body = json!({"starts_at": s["starts_at"], "ends_at": s["ends_at"], "venue": "分庁舎 2階"});
    let spath = format!("/api/v1/courses/{course}/sessions/{}", sessions[0]);
    ok(app.put_json(&spath, &hr, Some(&format!("\"{}\"", s["version"])), &body).await, 200).await;
    let (etag2, cal) = read(&app, &path).await;
    assert_ne!(etag, etag2);
    let seq = |cal: &Calendar, u: &str| entries(cal).into_iter().find(|e| e.0 == u).unwrap();
    let moved = seq(&cal, &uid(&sessions[0]));
    assert!(moved.1 > first.iter().find(|e| e.0 == uid(&sessions[0])).unwrap().1);
    assert_eq!(
        cal.events().find(|e| e.get_uid() == Some(uid(&sessions[0]).as_str())).unwrap().get_location(),
        Some("分庁舎 2階")
    );

    // The second session is deleted: it stays, cancelled, so calendars remove it.
    let s2 = format!("/api/v1/courses/{course}/sessions/{}", sessions[1]);
    let version = c["sessions"].as_array().unwrap().iter().find(|s| s["id"] == sessions[1].as_str()).unwrap()
        ["version"]
        .clone();
    let res = app
        .request(Method::DELETE, &s2, Some(&hr))
        .header("If-Match", format!("\"{version}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (_, cal) = read(&app, &path).await;
    let gone = seq(&cal, &uid(&sessions[1]));
    assert_eq!(gone.2, Some(EventStatus::Cancelled));

    // The place is cancelled: every entry of it is cancelled, UIDs kept, SEQUENCE above the last.
    ok(event(&app, &hr, &format!("/api/v1/nominations/{nid}"), json!({"event": "cancel"})).await, 200).await;
    let (_, cal) = read(&app, &path).await;
    let after = seq(&cal, &uid(&sessions[0]));
    assert_eq!(after.2, Some(EventStatus::Cancelled));
    assert!(after.1 > moved.1);

    // Revoked by its maker: the URL is refused; another employee cannot even see it.
    let feed_path = format!("/api/v1/calendar-feeds/{}", feed["id"].as_str().unwrap());
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    let res = app.request(Method::DELETE, &feed_path, Some(&colleague)).send().await.unwrap();
    assert_problem(res, 404, "not-found").await;
    let listed = app.get_json("/api/v1/calendar-feeds", &me).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("url").is_none(), "the token is shown once");
    assert_eq!(app.get(&feed_path, &me).await.status(), 200);
    let res = app.request(Method::DELETE, &feed_path, Some(&me)).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get(&feed_path, &me).await, 404, "not-found").await;
    let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(app.get_json("/api/v1/calendar-feeds", &me).await["items"][0]["revoked_at"].is_string());
}

#[tokio::test]
async fn a_section_head_sees_their_staff_and_the_training_office_a_course() {
    let app = spawn().await;
    let hr = app.hr();
    let (course, sessions, nid) = selected_trainee(&app, 2023, 84, &[d(2023, 7, 12)]).await;
    let me = app.employee(people::EMPLOYEE).await;
    let section = me["section_id"].as_str().unwrap().to_string();
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let (_, path) = make(&app, &head, json!({"scope": "section", "section_id": section})).await;
    let (_, cal) = read(&app, &path).await;
    let ev = cal
        .events()
        .find(|e| e.get_uid() == Some(place_uid(sessions[0].parse().unwrap(), nid.parse().unwrap()).as_str()))
        .unwrap();
    assert_eq!(ev.get_summary(), Some(format!("研修84（{}）", me["name"].as_str().unwrap()).as_str()));
    // Another section's head, or an employee, is refused; so is a course feed but for HR.
    let employee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let res = app
        .post_json("/api/v1/calendar-feeds", &employee, &json!({"scope": "section", "section_id": section}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .post_json("/api/v1/calendar-feeds", &head, &json!({"scope": "course", "course_id": course}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app.post_json("/api/v1/calendar-feeds", &hr, &json!({"scope": "course"})).await;
    assert_eq!(assert_problem(res, 422, "validation").await["errors"][0]["field"], "course_id");
    let (_, course_path) = make(&app, &hr, json!({"scope": "course", "course_id": course})).await;
    let (_, cal) = read(&app, &course_path).await;
    assert_eq!(
        entries(&cal).into_iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![kenshu_domain::ics::session_uid(sessions[0].parse().unwrap())]
    );
    // HR sees every feed of the organisation.
    assert_eq!(app.get_json("/api/v1/calendar-feeds", &hr).await["items"].as_array().unwrap().len(), 2);

    // The head hands the section over: their feed of its staff stops.
    crate::routing::set_heads(&app, &section, Some(people::SAME_SECTION), None).await;
    let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 404);
}
