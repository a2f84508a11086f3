//! HTTP conventions every route shares: one text rule for every field and parameter (no control
//! characters such as NUL, which PostgreSQL cannot store), undocumented query parameters refused
//! instead of ignored, and lists that grow paged the one way the API pages.

use base64::Engine;
use chrono::NaiveDate;
use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn};
use serde_json::{json, Value};

use crate::attendance::{ok, put_sheet, recommend, selected_trainee};

#[tokio::test]
async fn control_characters_are_refused_in_bodies_parameters_and_files_and_nothing_is_written() {
    let app = spawn().await;
    let hr = app.hr();
    let before = app.audit_count().await;
    let me = app.employee(people::EMPLOYEE).await;
    let path = format!("/api/v1/employees/{}", me["id"].as_str().unwrap());
    let mut body = me.clone();
    for k in ["id", "version", "created_at", "updated_at", "department_id", "active"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["post"] = json!("課長\u{0}職");
    body["email"] = json!("a\u{0}@example.jp");
    let etag = format!("\"{}\"", me["version"]);
    let p = assert_problem(app.put_json(&path, &hr, Some(&etag), &body).await, 422, "validation").await;
    let fields: Vec<&str> =
        p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["email", "post"], "{p}");
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("U+0000"));
    // Nested fields are named by their path.
    let group = json!({"fiscal_year": 2023, "name": "政策研究会", "theme": "地域交通", "member_nos": ["10010", "100\u{0}11"]});
    let member = app.token(people::EMPLOYEE, &[Role::Employee]);
    let p =
        assert_problem(app.post_json("/api/v1/study-groups", &member, &group).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "member_nos[1]");
    // Query parameters.
    for q in
        ["/api/v1/employees?q=%00", "/api/v1/audit?entity_type=a%00b", "/api/v1/training-gaps?course_q=%00"]
    {
        let p = assert_problem(app.get(q, &hr).await, 400, "bad-request").await;
        assert!(p["detail"].as_str().unwrap().contains("U+0000"), "{q}: {p}");
    }
    // Files: the line is named.
    let csv = "職員番号,氏名,フリガナ,所属コード,職級,採用日\n30001,新田\u{0}一郎,ニッタ イチロウ,S0101,一般,2023-04-01\n";
    let res = app.post_csv("/api/v1/employees/import?mode=upsert", &hr, "text/csv", csv.into()).await;
    let p = assert_problem(res, 422, "import-file").await;
    assert!(p["detail"].as_str().unwrap().starts_with("line 2 "), "{p}");
    assert_eq!(app.audit_count().await, before, "nothing was written");
}

#[tokio::test]
async fn undocumented_query_parameters_are_refused() {
    let app = spawn().await;
    let hr = app.hr();
    let p = assert_problem(app.get("/api/v1/audit?actorr=10002", &hr).await, 400, "bad-request").await;
    assert!(p["detail"].as_str().unwrap().contains("'actorr'"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("actor"), "names what the operation takes: {p}");
    let p = assert_problem(app.get("/api/v1/me?verbose=1", &hr).await, 400, "bad-request").await;
    assert!(p["detail"].as_str().unwrap().contains("takes none"), "{p}");
    // Documented ones pass.
    assert_eq!(app.get("/api/v1/audit?limit=2", &hr).await.status(), 200);
}

#[tokio::test]
async fn the_audit_log_filters_by_who_and_when() {
    let app = spawn().await;
    let hr = app.hr();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let (course, _, _) = selected_trainee(&app, 2023, 41, &[d(2023, 7, 12)]).await;
    recommend(&app, &course, people::SAME_SECTION, "select").await;
    let all = app.get_json("/api/v1/audit?limit=200", &hr).await;
    let by_head = app.get_json(&format!("/api/v1/audit?limit=200&actor={}", people::SECTION_HEAD), &hr).await;
    let items = by_head["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "two recommendations: {by_head}");
    assert!(items
        .iter()
        .all(|e| e["actor"] == people::SECTION_HEAD && e["action"] == "nomination.recommend"));
    assert!(all["items"].as_array().unwrap().len() > items.len());
    // A time range: nothing before the service existed, everything up to now.
    let newest = all["items"][0]["at"].as_str().unwrap().to_string();
    let none = app.get_json("/api/v1/audit?to=2000-01-01T00:00:00%2B09:00", &hr).await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    let from = app.get_json(&format!("/api/v1/audit?from={}", newest.replace('+', "%2B")), &hr).await;
    assert!(!from["items"].as_array().unwrap().is_empty());
    assert!(from["items"].as_array().unwrap().iter().all(|e| e["at"].as_str().unwrap() >= newest.as_str()));
    let p = assert_problem(
        app.get("/api/v1/audit?from=2024-01-01T00:00:00Z&to=2023-01-01T00:00:00Z", &hr).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "to");
}

#[tokio::test]
async fn reports_owed_are_paged() {
    let app = spawn().await;
    let hr = app.hr();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let (course, sessions, _) = selected_trainee(&app, 2023, 42, &[d(2023, 7, 12)]).await;
    let staff = ["10010", "10011", "10012"];
    for no in staff {
        recommend(&app, &course, no, "select").await;
    }
    let mut entries = vec![json!({"employee_no": people::EMPLOYEE, "status": "present"})];
    entries.extend(staff.iter().map(|no| json!({"employee_no": no, "status": "present"})));
    ok(put_sheet(&app, &course, &sessions[0], Value::Array(entries)).await, 200).await;
    let mut seen = Vec::new();
    let mut next = "/api/v1/reports?fiscal_year=2023&limit=3".to_string();
    loop {
        let page = app.get_json(&next, &hr).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|l| l["employee"]["employee_no"].clone()));
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("/api/v1/reports?fiscal_year=2023&limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    let whole = app.get_json("/api/v1/reports?fiscal_year=2023", &hr).await;
    let all: Vec<Value> =
        whole["items"].as_array().unwrap().iter().map(|l| l["employee"]["employee_no"].clone()).collect();
    assert_eq!(seen, all, "pages add up to the list, in its order");
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let p = assert_problem(app.get("/api/v1/me/reports?cursor=xyz", &me).await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "cursor");
}

/// The organisation's whole list (no year) is read a course at a time, only as far as a page
/// needs: pages of one line, across courses and years, with and without filters, add up to the
/// list in its order, and a cursor naming a line that is not on the list is refused.
#[tokio::test]
async fn reports_owed_across_years_page_course_by_course_with_their_filters() {
    let app = spawn().await;
    let hr = app.hr();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let mut ours = Vec::new();
    let mut absent = String::new();
    let courses = [
        (2022, 44, d(2022, 7, 12), &["10010", "10011"][..]),
        (2023, 44, d(2023, 7, 12), &["10012"][..]),
        (2023, 45, d(2023, 9, 12), &["10010", "10013"][..]),
    ];
    for (fy, number, day, staff) in courses {
        let (course, sessions, _) = selected_trainee(&app, fy, number, &[day]).await;
        for no in staff {
            recommend(&app, &course, no, "select").await;
        }
        let mut entries = vec![json!({"employee_no": people::EMPLOYEE, "status": "present"})];
        entries.extend(staff.iter().map(|no| json!({"employee_no": no, "status": "present"})));
        if number == 45 {
            // Selected but absent: owes no report, so is on no list.
            absent =
                recommend(&app, &course, "10014", "select").await.rsplit('/').next().unwrap().to_string();
            entries.push(json!({"employee_no": "10014", "status": "absent"}));
        }
        ok(put_sheet(&app, &course, &sessions[0], Value::Array(entries)).await, 200).await;
        ours.push(course);
    }
    let ids = |page: &Value| -> Vec<(String, String)> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (l["nomination_id"].as_str().unwrap().into(), l["course"]["id"].as_str().unwrap().into())
            })
            .collect()
    };
    let walk = |list: String| {
        let (app, hr) = (&app, &hr);
        async move {
            let mut seen = Vec::new();
            let mut next = format!("{list}limit=1");
            loop {
                let page = app.get_json(&next, hr).await;
                seen.extend(ids(&page));
                match page["next_cursor"].as_str() {
                    Some(c) => next = format!("{list}limit=1&cursor={c}"),
                    None => return seen,
                }
            }
        }
    };
    // A section's list (its staff's nominations read first) pages the same way.
    let section = app.employee(people::EMPLOYEE).await["section_id"].as_str().unwrap().to_string();
    let of_section = format!("/api/v1/sections/{section}/reports?");
    let whole = ids(&app.get_json(&format!("{of_section}limit=200"), &hr).await);
    assert!(whole.len() >= 3, "the trainee's three lines at least: {whole:?}");
    assert_eq!(walk(of_section).await, whole, "a section's pages add up to its list");
    for query in ["", "overdue=true&as_of=2023-08-31&", "state=submitted&"] {
        let whole = ids(&app.get_json(&format!("/api/v1/reports?{query}limit=200"), &hr).await);
        assert_eq!(
            walk(format!("/api/v1/reports?{query}")).await,
            whole,
            "pages of one line add up to the list ({query})"
        );
        let of = |course: &String| whole.iter().filter(|(_, c)| c == course).count();
        let expected = match query {
            "" => [3, 2, 3],
            // Due in July 2022 and 2023: overdue by the end of August 2023; September's course not.
            "overdue=true&as_of=2023-08-31&" => [3, 2, 0],
            _ => [0, 0, 0],
        };
        assert_eq!(ours.iter().map(of).collect::<Vec<_>>(), expected, "{query}");
        // The latest year first, then the plan's order.
        let positions: Vec<usize> = [&ours[1], &ours[2], &ours[0]]
            .iter()
            .filter_map(|c| whole.iter().position(|(_, of)| of == *c))
            .collect();
        assert!(positions.is_sorted(), "in the list's order: {positions:?}");
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // A line that left the list, an id never given, and a well-formed cursor whose key is not an
    // id at all: each is the same answer, start again.
    for stale in [absent, uuid::Uuid::now_v7().to_string(), "not-a-nomination".to_string()] {
        let cursor = b64.encode(serde_json::to_vec(&json!(["reports", stale])).unwrap());
        let res = app.get(&format!("/api/v1/reports?limit=1&cursor={cursor}"), &hr).await;
        let p = assert_problem(res, 422, "validation").await;
        assert_eq!(p["errors"][0]["field"], "cursor");
    }
}

#[tokio::test]
async fn numbers_and_dates_typed_by_people_read_the_same_in_bodies_and_files() {
    let app = spawn().await;
    let hr = app.hr();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let (course, sessions, _) = selected_trainee(&app, 2023, 43, &[d(2023, 7, 12)]).await;
    // A recommendation names the colleague by number, typed full-width.
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let body = json!({"employee_no": "１００１０", "reason": "窓口改善の担当"});
    let n = ok(app.post_json(&format!("/api/v1/courses/{course}/recommendations"), &head, &body).await, 201)
        .await;
    assert_eq!(n["employee"]["employee_no"], "10010");
    let both = json!({"employee_no": "10011", "employee_id": n["employee"]["id"], "reason": "x"});
    let p = assert_problem(
        app.post_json(&format!("/api/v1/courses/{course}/recommendations"), &head, &both).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "employee_id");
    let path = format!("/api/v1/nominations/{}", n["id"].as_str().unwrap());
    ok(crate::attendance::event(&app, &hr, &path, json!({"event": "select"})).await, 200).await;
    // The JSON sign-in sheet reads numbers as the CSV sheet does.
    let entries = json!([{"employee_no": "１０００９", "status": "present"}, {"employee_no": " 10010 ", "status": "absent"}]);
    let sheet = ok(put_sheet(&app, &course, &sessions[0], entries).await, 200).await;
    assert_eq!(sheet["sheet"]["counts"]["present"], 1, "{sheet}");
    // One date range for bodies and files.
    let section = app.employee(people::EMPLOYEE).await["section_id"].clone();
    for hire in ["0001-01-01", "9999-12-31"] {
        let body = json!({"employee_no": "30001", "name": "新田 一郎", "kana": "ニッタ イチロウ",
            "section_id": section, "grade": "一般", "hire_date": hire});
        let p = assert_problem(app.post_json("/api/v1/employees", &hr, &body).await, 422, "validation").await;
        assert_eq!(p["errors"][0]["field"], "hire_date", "{hire}");
    }
}

#[tokio::test]
async fn absence_notices_and_subsidy_applications_page_like_every_list() {
    let app = spawn().await;
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let days = [d(2023, 7, 12), d(2023, 7, 19), d(2023, 7, 26)];
    let (_, sessions, nid) = selected_trainee(&app, 2023, 44, &days).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    for s in &sessions {
        let body = json!({"session_id": s, "kind": "absence", "reason": "公務のため"});
        ok(app.post_json(&format!("/api/v1/nominations/{nid}/absence-notices"), &me, &body).await, 201).await;
    }
    let first = app.get_json("/api/v1/me/absence-notices?limit=2", &me).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app.get_json(&format!("/api/v1/me/absence-notices?limit=2&cursor={cursor}"), &me).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    assert_ne!(rest["items"][0]["id"], first["items"][0]["id"]);
    for path in ["/api/v1/me/absence-notices?cursor=x", "/api/v1/me/subsidy-applications?cursor=x"] {
        let p = assert_problem(app.get(path, &me).await, 422, "validation").await;
        assert_eq!(p["errors"][0]["field"], "cursor", "{path}");
    }
}

/// A browser on the portal's origin may use every method and header the API has and read the
/// headers that matter; another origin may not.
#[tokio::test]
async fn cors_allows_every_method_and_header_clients_send_and_exposes_what_they_read() {
    let app = spawn().await;
    let preflight = |origin: &'static str, method: &'static str| {
        app.request(reqwest::Method::OPTIONS, "/api/v1/courses/x/sessions/y/check-in", None)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .header(
                "Access-Control-Request-Headers",
                "authorization,if-match,if-none-match,x-request-id,accept-language",
            )
            .send()
    };
    for method in ["GET", "HEAD", "POST", "PUT", "DELETE"] {
        let res = preflight("https://portal.example.jp", method).await.unwrap();
        assert_eq!(res.status(), 200, "{method}");
        let h = res.headers();
        assert_eq!(h["access-control-allow-origin"], "https://portal.example.jp");
        assert!(h["access-control-allow-methods"].to_str().unwrap().contains(method), "{method}");
        let allowed = h["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
        for name in ["authorization", "if-match", "if-none-match", "x-request-id", "accept-language"] {
            assert!(allowed.contains(name), "{name} not in {allowed}");
        }
    }
    let res = preflight("https://elsewhere.example", "DELETE").await.unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"), "another origin is not allowed");

    let res = app
        .request(reqwest::Method::GET, "/api/v1/me", Some(&app.hr()))
        .header("Origin", "https://portal.example.jp")
        .send()
        .await
        .unwrap();
    let exposed = res.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    for name in ["etag", "location", "content-disposition", "retry-after", "x-request-id"] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }
}

/// JSON and CSV answers are compressed as the client accepts (gzip or brotli), never unasked.
#[tokio::test]
async fn answers_are_compressed_as_the_client_accepts() {
    let app = spawn().await;
    app.import_fy2023_plan().await;
    let get = |path: &'static str, encoding: Option<&'static str>| {
        let mut rb = app.request(reqwest::Method::GET, path, Some(&app.hr()));
        if let Some(e) = encoding {
            rb = rb.header("Accept-Encoding", e);
        }
        rb.send()
    };
    for path in ["/api/v1/courses?fiscal_year=2023&limit=200", "/api/v1/plans/2023/export"] {
        let plain = get(path, None).await.unwrap();
        assert!(!plain.headers().contains_key("content-encoding"), "{path}");
        let size = plain.bytes().await.unwrap().len();
        for encoding in ["gzip", "br"] {
            let res = get(path, Some(encoding)).await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["content-encoding"], encoding, "{path}");
            assert!(res.headers()["vary"].to_str().unwrap().to_ascii_lowercase().contains("accept-encoding"));
            let compressed = res.bytes().await.unwrap().len();
            // At least 2.5×: gzip runs at actix's fast level, and zlib-rs (flate2's backend since
            // rust_xlsxwriter's zip enabled it) trades some ratio for speed there.
            assert!(compressed * 5 < size * 2, "{path} {encoding}: {compressed} of {size} bytes");
        }
    }
}

/// RFC 9110 on reads: `HEAD` answers every `GET` route without the body, and `If-None-Match`
/// holding the current tag (weak comparison, a list, or `*`) is a `304` without the body.
#[tokio::test]
async fn head_and_if_none_match_answer_reads_as_rfc_9110_says() {
    let app = spawn().await;
    let hr = app.hr();
    let id = app.employee(people::EMPLOYEE).await["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/employees/{id}");
    let got = app.get(&path, &hr).await;
    let tag = got.headers()["etag"].to_str().unwrap().to_string();
    let length = got.bytes().await.unwrap().len();

    for route in
        [path.as_str(), "/api/v1/me", "/api/v1/courses?fiscal_year=2023", "/api/v1/plans/2023/results"]
    {
        let res = app.request(reqwest::Method::HEAD, route, Some(&hr)).send().await.unwrap();
        let status = res.status().as_u16();
        let get_status = app.get(route, &hr).await.status().as_u16();
        assert_eq!(status, get_status, "HEAD {route}");
        assert!(res.bytes().await.unwrap().is_empty(), "HEAD {route} has no body");
    }
    let head = app.request(reqwest::Method::HEAD, &path, Some(&hr)).send().await.unwrap();
    assert_eq!(head.headers()["etag"].to_str().unwrap(), tag);
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), length.to_string(), "the GET's length");

    let conditional = |held: String| {
        let path = path.clone();
        let hr = hr.clone();
        let app = &app;
        async move {
            app.request(reqwest::Method::GET, &path, Some(&hr))
                .header("If-None-Match", held)
                .send()
                .await
                .unwrap()
        }
    };
    for held in [tag.clone(), format!("W/{tag}"), format!("\"99\", {tag}"), "*".to_string()] {
        let res = conditional(held.clone()).await;
        assert_eq!(res.status(), 304, "If-None-Match: {held}");
        assert_eq!(res.headers()["etag"].to_str().unwrap(), tag);
        assert!(res.bytes().await.unwrap().is_empty());
    }
    let res = conditional("\"99\"".into()).await;
    assert_eq!(res.status(), 200, "another version is sent whole");
    assert_eq!(res.bytes().await.unwrap().len(), length);
}

/// Every problem names its occurrence: the path, with the request id as fragment.
#[tokio::test]
async fn problems_carry_their_instance() {
    let app = spawn().await;
    let path = format!("/api/v1/employees/{}", uuid::Uuid::now_v7());
    let res = app
        .request(reqwest::Method::GET, &path, Some(&app.hr()))
        .header("X-Request-Id", "trace-me-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-1");
    let p = assert_problem(res, 404, "not-found").await;
    assert_eq!(p["instance"], format!("{path}#trace-me-1"));
    let res = app.request(reqwest::Method::GET, "/api/v1/me", None).send().await.unwrap();
    let p = assert_problem(res, 401, "unauthorized").await;
    assert!(p["instance"].as_str().unwrap().starts_with("/api/v1/me#"), "{p}");
}

/// RFC 9110 on writes: `If-Match: *` updates whatever version there is; a list matches when any
/// of its tags is current; a weak tag never matches (If-Match compares strongly) and is a 412
/// naming the current version; a stale version is a
/// 412 before any state-machine 409 about a state the client has not seen.
#[tokio::test]
async fn if_match_takes_star_and_lists_refuses_weak_tags_and_answers_412_before_409() {
    use crate::attendance::event;
    use crate::internships::{add, erase, programme, student};
    let app = spawn().await;
    let hr = app.hr();
    let e = app.employee(people::SAME_SECTION).await;
    let path = format!("/api/v1/employees/{}", e["id"].as_str().unwrap());
    let mut body = e.clone();
    for k in ["id", "department_id", "hired_fiscal_year", "version", "created_at", "updated_at", "active"] {
        body.as_object_mut().unwrap().remove(k);
    }
    let version = e["version"].as_i64().unwrap();
    body["email"] = json!("weak@city.isehara.example.jp");
    let p = assert_problem(
        app.put_json(&path, &hr, Some(&format!("W/\"{version}\"")), &body).await,
        412,
        "precondition-failed",
    )
    .await;
    assert_eq!(p["current_version"], version);
    let p = assert_problem(app.put_json(&path, &hr, Some("\"0\""), &body).await, 412, "precondition-failed")
        .await;
    assert_eq!(p["current_version"], version, "a well-formed tag that is never current");
    body["email"] = json!("star@city.isehara.example.jp");
    let res = app.put_json(&path, &hr, Some("*"), &body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), format!("\"{}\"", version + 1));
    // A list of tags (RFC 9110: `#entity-tag`) matches when any of them is current.
    let current = version + 1;
    body["email"] = json!("list@city.isehara.example.jp");
    let listed = format!("\"{}\", W/\"{current}\", \"{current}\"", current + 5);
    let res = app.put_json(&path, &hr, Some(&listed), &body).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let listed = format!("\"{}\", W/\"{}\"", current, current + 1);
    let p = assert_problem(app.put_json(&path, &hr, Some(&listed), &body).await, 412, "precondition-failed")
        .await;
    assert_eq!(p["current_version"], current + 1, "none of the strong tags is current");
    assert_problem(app.put_json(&path, &hr, Some("\"3\", 4"), &body).await, 400, "bad-request").await;

    // An erased student cannot be erased again (409), but a client holding an old version hears
    // first that it is stale.
    let host = app.employee(people::EMPLOYEE).await["section_id"].clone();
    ok(app.post_json("/api/v1/internships/2023", &hr, &programme(2023, 2)).await, 201).await;
    let s = add(&app, &student("相模 花子", "hanako@example.ac.jp", &host)).await;
    let old = app.get_json(&s, &hr).await["version"].as_i64().unwrap();
    ok(event(&app, &hr, &s, json!({"event": "accept"})).await, 200).await;
    ok(erase(&app, &s, "2023-09-01").await, 200).await;
    let stale = app
        .request(reqwest::Method::POST, &format!("{s}/erasure"), Some(&hr))
        .header("If-Match", format!("\"{old}\""))
        .json(&json!({"requested_on": "2023-09-01"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412, "precondition-failed").await;
    assert_problem(erase(&app, &s, "2023-09-01").await, 409, "invalid-transition").await;
}

/// Problems speak Japanese when the client asks (Accept-Language), or when the service's
/// default is Japanese and the client names nothing Kenshu writes; codes, fields and the
/// instance stay as they are.
#[tokio::test]
async fn problems_follow_accept_language_and_the_default_language() {
    let app = kenshu_tests::spawn().await;
    let me = app.token(kenshu_tests::people::EMPLOYEE, &[kenshu_domain::auth::Role::Employee]);
    let missing = format!("/api/v1/employees/{}", uuid::Uuid::now_v7());
    let ask = |lang: Option<&'static str>| {
        let mut req = app.request(reqwest::Method::GET, &missing, Some(&me));
        if let Some(l) = lang {
            req = req.header("Accept-Language", l);
        }
        req.send()
    };
    let res = ask(Some("ja-JP,ja;q=0.9,en;q=0.8")).await.unwrap();
    assert!(res.headers()["vary"].to_str().unwrap().to_ascii_lowercase().contains("accept-language"));
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let p: serde_json::Value = res.json().await.unwrap();
    assert_eq!((p["title"].as_str(), p["code"].as_str()), (Some("見つかりません"), Some("not-found")), "{p}");
    assert_eq!(p["detail"], "指定されたものは存在しません");
    assert_eq!(p["instance"], format!("{missing}#{id}"));
    let p: serde_json::Value = ask(Some("en-US,ja;q=0.5")).await.unwrap().json().await.unwrap();
    assert_eq!(p["title"], "Not found");

    // A validation problem: Japanese title and count, the fields and reasons as they are.
    let hr = app.hr();
    let res = app
        .request(reqwest::Method::POST, "/api/v1/employees", Some(&hr))
        .header("Accept-Language", "ja")
        .json(&serde_json::json!({"employee_no": "1"}))
        .send()
        .await
        .unwrap();
    let p = kenshu_tests::assert_problem(res, 422, "validation").await;
    assert_eq!(p["title"], "入力内容に誤りがあります");
    assert!(p["detail"].as_str().unwrap().ends_with("項目に誤りがあります"), "{p}");
    assert!(p["errors"][0]["field"].is_string());
    // Each error: its code as it is, its reason led by the code's Japanese.
    let e = &p["errors"][0];
    assert_eq!(e["code"], "required", "{p}");
    assert!(e["reason"].as_str().unwrap().starts_with("入力してください（"), "{p}");

    // The service's default, for clients that name no language Kenshu writes.
    let ja = kenshu_tests::spawn_configured(&[("KENSHU_LANGUAGE", "ja".to_string())]).await;
    let me = ja.token(kenshu_tests::people::EMPLOYEE, &[kenshu_domain::auth::Role::Employee]);
    let p: serde_json::Value = ja.get(&missing, &me).await.json().await.unwrap();
    assert_eq!(p["title"], "見つかりません");
    let res = ja
        .request(reqwest::Method::GET, &missing, Some(&me))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    let p: serde_json::Value = res.json().await.unwrap();
    assert_eq!(p["title"], "Not found");

    // An organisation's own default: its clients that ask for no language get Japanese; those
    // that ask for English still get English, and other organisations keep the service's.
    let workflow = "/api/v1/organisation/workflow";
    let put = |language: serde_json::Value| {
        let app = &app;
        let hr = hr.clone();
        async move {
            let etag = app.get(workflow, &hr).await.headers()["etag"].to_str().unwrap().to_string();
            app.request(reqwest::Method::PUT, workflow, Some(&hr))
                .header("If-Match", etag)
                .json(&serde_json::json!({"promotion_cutoff_days": 2, "language": language}))
                .send()
                .await
                .unwrap()
        }
    };
    let p = kenshu_tests::assert_problem(put(serde_json::json!("fr")).await, 422, "validation").await;
    assert_eq!(
        (&p["errors"][0]["field"], &p["errors"][0]["code"]),
        (&serde_json::json!("language"), &serde_json::json!("unknown_value")),
        "{p}"
    );
    let set: serde_json::Value = put(serde_json::json!("ja")).await.json().await.unwrap();
    assert_eq!(set["language"], "ja", "{set}");
    let p: serde_json::Value = ask(None).await.unwrap().json().await.unwrap();
    assert_eq!(p["title"], "見つかりません", "{p}");
    let p: serde_json::Value = ask(Some("*")).await.unwrap().json().await.unwrap();
    assert_eq!(p["title"], "見つかりません", "`*` asks for nothing in particular");
    let p: serde_json::Value = ask(Some("en")).await.unwrap().json().await.unwrap();
    assert_eq!(p["title"], "Not found");
    let other = kenshu_tests::token_for(
        kenshu_tests::OTHER_ORG,
        kenshu_tests::people::OTHER_ORG_EMPLOYEE,
        &[kenshu_domain::auth::Role::Employee],
    );
    let p: serde_json::Value = app.get(&missing, &other).await.json().await.unwrap();
    assert_eq!(p["title"], "Not found", "another organisation keeps the service's default");
    let back: serde_json::Value = put(serde_json::Value::Null).await.json().await.unwrap();
    assert_eq!(back["language"], serde_json::Value::Null);
    let p: serde_json::Value = ask(None).await.unwrap().json().await.unwrap();
    assert_eq!(p["title"], "Not found");
}

/// Every problem Kenshu writes has a Japanese detail when asked for, not only a Japanese title:
/// token refusals, malformed requests, unsupported bodies and unreadable files included. Words
/// quoted from outside (a parser's message) may stay inside the Japanese sentence.
#[tokio::test]
async fn every_kind_of_problem_has_a_japanese_detail() {
    let app = kenshu_tests::spawn().await;
    let hr = app.hr();
    let ja = |method: reqwest::Method, path: &str, token: Option<&str>| {
        app.request(method, path, token).header("Accept-Language", "ja")
    };
    let japanese =
        |s: &str| s.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'));
    let cases: Vec<(reqwest::Response, u16, &str, &str)> = vec![
        (ja(reqwest::Method::GET, "/api/v1/me", None).send().await.unwrap(), 401, "unauthorized", "Bearer"),
        (
            ja(reqwest::Method::GET, "/api/v1/me", Some("not.a.token")).send().await.unwrap(),
            401,
            "unauthorized",
            "トークン",
        ),
        (
            ja(reqwest::Method::GET, "/api/v1/employees?bogus=1", Some(&hr)).send().await.unwrap(),
            400,
            "bad-request",
            "'bogus'",
        ),
        (
            ja(reqwest::Method::POST, "/api/v1/employees", Some(&hr))
                .header("Content-Type", "application/json")
                .body("{not json")
                .send()
                .await
                .unwrap(),
            400,
            "bad-request",
            "JSON",
        ),
        (
            ja(reqwest::Method::POST, "/api/v1/employees/import?mode=upsert", Some(&hr))
                .header("Content-Type", "application/pdf")
                .body("%PDF-1.7")
                .send()
                .await
                .unwrap(),
            415,
            "unsupported-media-type",
            "text/csv",
        ),
        (
            ja(reqwest::Method::POST, "/api/v1/employees/import?mode=upsert", Some(&hr))
                .header("Content-Type", "text/csv")
                .body("職員番号,氏名\n1,a\n")
                .send()
                .await
                .unwrap(),
            422,
            "import-file",
            "必須の列",
        ),
        (
            ja(reqwest::Method::POST, "/api/v1/employees/import?mode=upsert", Some(&hr))
                .header("Content-Type", "text/csv")
                .body(b"\xFF\xFEa\x00".to_vec())
                .send()
                .await
                .unwrap(),
            422,
            "import-file",
            "UTF-16",
        ),
    ];
    // A rejected file's rows: each with its stable code, its reason led by the code's Japanese.
    let bad_rows = "職員番号,氏名,フリガナ,所属コード,職級,採用日\n\
        30001,新田 一郎,ニッタ イチロウ,S0101,一般,2020-13-01\n\
        30002,新田 二郎,ニッタ ジロウ,NOPE,一般,2020-04-01\n";
    let res = ja(reqwest::Method::POST, "/api/v1/employees/import?mode=upsert", Some(&hr))
        .header("Content-Type", "text/csv")
        .body(bad_rows)
        .send()
        .await
        .unwrap();
    let p = kenshu_tests::assert_problem(res, 422, "import-rejected").await;
    let rows: Vec<(u64, &str, &str)> = p["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["column"].as_str().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(2, "採用日", "format"), (3, "所属コード", "not_found")], "{p}");
    assert!(p["rows"][0]["reason"].as_str().unwrap().starts_with("形式が正しくありません（"), "{p}");
    assert!(japanese(p["detail"].as_str().unwrap()), "{p}");

    let before = app.audit_count().await;
    for (res, status, code, quoted) in cases {
        let p = kenshu_tests::assert_problem(res, status, code).await;
        let detail = p["detail"].as_str().unwrap();
        assert!(japanese(detail) && detail.contains(quoted), "{p}");
        assert!(japanese(p["title"].as_str().unwrap()), "{p}");
    }
    assert_eq!(app.audit_count().await, before, "nothing was written");
}
