//! The training catalogue over HTTP: plans, courses with audience rules, sessions, history,
//! filters and who sees drafts; every refused write changes nothing.

use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

async fn plan(app: &TestApp, year: i32) {
    let res = app.post_json("/api/v1/plans", &app.hr(), &json!({"fiscal_year": year})).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

async fn course(app: &TestApp, body: Value) -> Value {
    let res = app.post_json("/api/v1/courses", &app.hr(), &body).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn mental_health(number: u32, title: &str, content: &str) -> Value {
    json!({
        "fiscal_year": 2023, "category": "thematic", "number": number, "title": title,
        "content": content,
        "rules": [{"route": "recommendation", "conditions": [{"kind": "all_staff"}]}],
        "timing": {"kind": "month", "month": 9}, "delivery": "classroom"
    })
}

/// The FY2023 plan with a few courses of the seed, published.
async fn seeded(app: &TestApp) -> Vec<Value> {
    plan(app, 2023).await;
    let mut out = vec![
        course(
            app,
            json!({
                "fiscal_year": 2023, "category": "hierarchical", "number": 1, "title": "新採用職員 採用時研修Ⅰ",
                "purpose": "社会人、公務員としての自覚を促す。",
                "rules": [{"route": "designation", "conditions": [{"kind": "new_hires"}]}],
                "timing": {"kind": "month", "month": 4}, "delivery": "classroom"
            }),
        )
        .await,
        course(
            app,
            json!({
                "fiscal_year": 2023, "category": "hierarchical", "number": 8, "title": "主任者研修Ⅰ",
                "content": "グループによる政策立案研究",
                "rules": [{"route": "designation", "conditions": [{"kind": "newly_promoted", "grade": "主任級"}]}],
                "timing": {"kind": "months", "from": 9, "to": 3}, "delivery": "classroom"
            }),
        )
        .await,
        course(
            app,
            json!({
                "fiscal_year": 2023, "category": "hierarchical", "number": 12,
                "title": "監督者研修Ⅱ①（マネジメント（中級））",
                "rules": [{"route": "recommendation", "conditions": [{"kind": "grade", "grade": "係長"}]}],
                "timing": {"kind": "month", "month": 11}, "delivery": "dispatch",
                "institution": "市町村研修センター", "report": {"kind": "months_after_end", "months": 1}
            }),
        )
        .await,
    ];
    out.push(course(app, mental_health(11, "メンタルヘルスセミナーⅠ", "基礎知識と適切な対応等")).await);
    out.push(
        course(app, mental_health(12, "メンタルヘルスセミナーⅡ", "組織マネジメントからのメンタルヘルス等"))
            .await,
    );
    out.push(course(app, mental_health(13, "メンタルヘルスセミナーⅢ", "ストレスチェック結果の活用")).await);
    out.push(
        course(
            app,
            json!({
                "fiscal_year": 2023, "category": "thematic", "number": 22, "title": "その他eラーニング等研修",
                "rules": [
                    {"route": "recommendation", "conditions": [{"kind": "all_staff"}]},
                    {"route": "application", "conditions": [{"kind": "all_staff"}]}
                ],
                "timing": {"kind": "year_round"}, "delivery": "e_learning"
            }),
        )
        .await,
    );
    app.publish_plan(2023).await;
    out
}

/// A course as HR reads it, less what a PUT does not take.
async fn editable(app: &TestApp, path: &str) -> Value {
    let mut body = app.get_json(path, &app.hr()).await;
    for k in
        ["id", "routes", "timing_label", "joint_share_id", "sessions", "version", "created_at", "updated_at"]
    {
        body.as_object_mut().unwrap().remove(k);
    }
    body
}

async fn titles(app: &TestApp, query: &str, token: &str) -> Vec<String> {
    let page = app.get_json(&format!("/api/v1/courses?{query}"), token).await;
    page["items"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn catalogue_filters_search_and_order() {
    let app = spawn().await;
    seeded(&app).await;
    let staff = app.token(people::EMPLOYEE, &[Role::Employee]);

    // Plan order: 階層別 before 課題別, by number.
    let all = titles(&app, "fiscal_year=2023", &staff).await;
    assert_eq!(all.len(), 7);
    assert_eq!(all[0], "新採用職員 採用時研修Ⅰ");
    assert_eq!(all[3], "メンタルヘルスセミナーⅠ");

    // Full-width, half-width katakana and hiragana find the same three seminars.
    for q in ["メンタルヘルス", "ﾒﾝﾀﾙﾍﾙｽ", "めんたるへるす"] {
        let found = titles(&app, &format!("q={}", urlencode(q)), &staff).await;
        assert_eq!(found.len(), 3, "{q}: {found:?}");
    }
    assert_eq!(titles(&app, "category=hierarchical", &staff).await.len(), 3);
    assert_eq!(titles(&app, "route=application", &staff).await, vec!["その他eラーニング等研修"]);
    assert_eq!(titles(&app, "route=designation", &staff).await.len(), 2);
    assert_eq!(titles(&app, "delivery=dispatch", &staff).await.len(), 1);
    let institution = urlencode("市町村研修センター");
    assert_eq!(titles(&app, &format!("institution={institution}"), &staff).await.len(), 1);
    // 9月～3月 runs in January; 通年 runs in every month.
    assert_eq!(titles(&app, "month=1", &staff).await, vec!["主任者研修Ⅰ", "その他eラーニング等研修"]);
    assert_eq!(titles(&app, "month=9", &staff).await.len(), 5);

    // Keyset pages, no duplicates, same order.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get_json(&format!("/api/v1/courses?limit=2{cursor}"), &staff).await;
        seen.extend(
            page["items"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, all);

    assert_problem(app.get("/api/v1/courses?month=13", &staff).await, 422, "validation").await;
    assert_problem(app.get("/api/v1/courses?fiscal_year=1800", &staff).await, 422, "validation").await;
    assert_eq!(app.get("/api/v1/courses?category=unknown", &staff).await.status(), 400);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn staff_see_published_courses_only() {
    let app = spawn().await;
    let courses = seeded(&app).await;
    let hr = app.hr();
    let staff = app.token(people::EMPLOYEE, &[Role::Employee]);
    // A draft added after publishing: HR sees it, staff do not, not even by id.
    let draft = course(&app, mental_health(30, "下書きの研修", "未公開")).await;
    let path = format!("/api/v1/courses/{}", draft["id"].as_str().unwrap());
    assert_eq!(app.get(&path, &hr).await.status(), 200);
    assert_eq!(app.get(&path, &staff).await.status(), 404);
    assert!(!titles(&app, "", &staff).await.contains(&"下書きの研修".to_string()));
    assert!(titles(&app, "status=draft", &hr).await.contains(&"下書きの研修".to_string()));
    // A draft plan and its courses are invisible to staff.
    plan(&app, 2024).await;
    assert_eq!(app.get("/api/v1/plans/2024", &staff).await.status(), 404);
    assert_eq!(app.get("/api/v1/plans/2024", &hr).await.status(), 200);
    let plans = app.get_json("/api/v1/plans", &staff).await;
    assert_eq!(plans["items"].as_array().unwrap().len(), 1);
    assert_eq!(plans["items"][0]["fiscal_year_label"], "令和5年度");
    // A published course reads with its routes and timing label.
    let c = app.get_json(&format!("/api/v1/courses/{}", courses[1]["id"].as_str().unwrap()), &staff).await;
    assert_eq!(c["timing_label"], "9月～3月");
    assert_eq!(c["routes"], json!(["designation"]));
    assert_eq!(c["rules"][0]["conditions"][0], json!({"kind": "newly_promoted", "grade": "主任"}));
    assert_eq!(c["status"], "published");

    // Across years and states, each caller's list and search (chosen in memory from the kept
    // course index, and by the database's own filter while nothing is kept: both must give
    // these answers).
    let mut next_year = mental_health(1, "メンタルヘルス（次年度）", "次年度の計画");
    next_year["fiscal_year"] = json!(2024);
    let next_year = course(&app, next_year).await;
    // Published itself, the course stays hidden from staff while its plan is a draft.
    let next_path = format!("/api/v1/courses/{}", next_year["id"].as_str().unwrap());
    let mut body = editable(&app, &next_path).await;
    body["status"] = json!("published");
    assert_eq!(app.put_json(&next_path, &hr, Some("\"1\""), &body).await.status(), 200);
    let cancelled = course(&app, mental_health(31, "中止するメンタルヘルス研修", "中止")).await;
    let path = format!("/api/v1/courses/{}", cancelled["id"].as_str().unwrap());
    let mut body = app.get_json(&path, &hr).await;
    for k in
        ["id", "routes", "timing_label", "joint_share_id", "sessions", "version", "created_at", "updated_at"]
    {
        body.as_object_mut().unwrap().remove(k);
    }
    body["status"] = json!("published");
    assert_eq!(app.put_json(&path, &hr, Some("\"1\""), &body).await.status(), 200);
    body["status"] = json!("cancelled");
    assert_eq!(app.put_json(&path, &hr, Some("\"2\""), &body).await.status(), 200);
    let search = format!("q={}", urlencode("メンタルヘルス"));
    let seminars = ["メンタルヘルスセミナーⅠ", "メンタルヘルスセミナーⅡ", "メンタルヘルスセミナーⅢ"];
    let mut staff_sees = seminars.to_vec();
    staff_sees.push("中止するメンタルヘルス研修");
    assert_eq!(titles(&app, &search, &staff).await, staff_sees);
    let mut hr_sees = staff_sees.clone();
    hr_sees.push("メンタルヘルス（次年度）");
    assert_eq!(titles(&app, &search, &hr).await, hr_sees);
    assert_eq!(titles(&app, &format!("{search}&fiscal_year=2024"), &staff).await, Vec::<String>::new());
    assert_eq!(
        titles(&app, &format!("{search}&status=cancelled"), &staff).await,
        vec!["中止するメンタルヘルス研修"]
    );
    assert_eq!(
        titles(&app, &format!("{search}&status=published&fiscal_year=2024"), &hr).await,
        vec!["メンタルヘルス（次年度）"]
    );
    assert_eq!(
        titles(&app, &format!("{search}&status=published&fiscal_year=2024"), &staff).await,
        Vec::<String>::new()
    );
    // Pages of a search follow plan order across years, for HR as for staff.
    for (token, expected) in [(&staff, &staff_sees), (&hr, &hr_sees)] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = app.get_json(&format!("/api/v1/courses?{search}&limit=2{cursor}"), token).await;
            seen.extend(
                page["items"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap().to_string()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(&seen, expected);
    }
    // Publishing the next year's plan (and with it its courses) shows them to staff at once.
    app.publish_plan(2024).await;
    assert_eq!(titles(&app, &search, &staff).await, hr_sees);
    assert!(app.db.kept().stats().course_index.hits > 0, "the lists were chosen in memory");
}

#[tokio::test]
async fn bad_courses_and_sessions_are_refused_and_write_nothing() {
    let app = spawn().await;
    let courses = seeded(&app).await;
    let hr = app.hr();
    plan(&app, 2022).await;
    let before = app.audit_count().await;
    let base = mental_health(40, "試験研修", "内容");
    let with = |patch: Value| {
        let mut b = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases = [
        // Unknown category: the JSON does not fit the schema, and the answer names the field.
        (with(json!({"category": "研究"})), "category"),
        (
            with(
                json!({"rules": [{"route": "designation", "conditions": [{"kind": "years_after_promotion", "grade": "社長", "years": 5}]}]}),
            ),
            "rules[0].conditions",
        ),
        (
            with(
                json!({"rules": [{"route": "designation", "conditions": [{"kind": "grade", "grade": "主任"}, {"kind": "grade_at_least", "grade": "課長"}]}]}),
            ),
            "rules[0].conditions",
        ),
        (
            with(
                json!({"rules": [{"route": "designation", "conditions": [{"kind": "new_hires", "extra": 1}]}]}),
            ),
            "rules[0].conditions[0].extra",
        ),
        (with(json!({"timing": {"kind": "months", "from": 3, "to": 9}})), "timing"),
        (with(json!({"delivery": "dispatch"})), "institution"),
        (with(json!({"headcount": -1})), "headcount"),
        (with(json!({"fiscal_year": 2031})), "fiscal_year"),
        (with(json!({"number": 1, "category": "hierarchical"})), "conflict"),
    ];
    for (body, field) in cases {
        let res = app.post_json("/api/v1/courses", &hr, &body).await;
        if field == "conflict" {
            assert_problem(res, 409, "conflict").await;
            continue;
        }
        let problem = assert_problem(res, 422, "validation").await;
        let fields: Vec<_> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
        assert!(fields.contains(&json!(field)), "{field} not in {problem}");
    }
    // Positioned within a course of another fiscal year.
    let old = course(&app, with(json!({"fiscal_year": 2022, "number": 1}))).await;
    let before = before + 1;
    let problem = assert_problem(
        app.post_json("/api/v1/courses", &hr, &with(json!({"within_course_id": old["id"]}))).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "within_course_id", "{problem}");

    // Sessions: ending before starting, negative capacity, outside the fiscal year, bad URL.
    let id = courses[0]["id"].as_str().unwrap();
    let sessions = format!("/api/v1/courses/{id}/sessions");
    for (body, field) in [
        (
            json!({"starts_at": "2023-04-03T17:00:00+09:00", "ends_at": "2023-04-03T09:00:00+09:00"}),
            "ends_at",
        ),
        (
            json!({"starts_at": "2023-04-03T09:00:00+09:00", "ends_at": "2023-04-03T17:00:00+09:00", "capacity": -1}),
            "capacity",
        ),
        (
            json!({"starts_at": "2024-04-03T09:00:00+09:00", "ends_at": "2024-04-03T17:00:00+09:00"}),
            "starts_at",
        ),
        (
            json!({"starts_at": "2023-04-03T09:00:00+09:00", "ends_at": "2023-04-03T17:00:00+09:00", "online_url": "javascript:alert(1)"}),
            "online_url",
        ),
    ] {
        let problem = assert_problem(app.post_json(&sessions, &hr, &body).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    assert_eq!(app.audit_count().await, before, "a refused request wrote to the audit log");
    let c = app.get_json(&format!("/api/v1/courses/{id}"), &hr).await;
    assert_eq!(c["sessions"], json!([]));
}

#[tokio::test]
async fn updates_need_the_current_version_and_keep_history() {
    let app = spawn().await;
    let courses = seeded(&app).await;
    let hr = app.hr();
    let id = courses[0]["id"].as_str().unwrap();
    let path = format!("/api/v1/courses/{id}");
    let mut body = editable(&app, &path).await;
    body["timing"] = json!({"kind": "month", "month": 5});
    assert_problem(app.put_json(&path, &hr, None, &body).await, 428, "precondition-required").await;
    assert_problem(app.put_json(&path, &hr, Some("\"9\""), &body).await, 412, "precondition-failed").await;
    // A published course is cancelled, never taken back to draft.
    let mut draft = body.clone();
    draft["status"] = json!("draft");
    assert_problem(app.put_json(&path, &hr, Some("\"2\""), &draft).await, 422, "validation").await;
    let res = app.put_json(&path, &hr, Some("\"2\""), &body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"3\"");
    // `If-Match: *` updates a course as it does any resource.
    body["timing"] = json!({"kind": "month", "month": 6});
    let res = app.put_json(&path, &hr, Some("*"), &body).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    body["timing"] = json!({"kind": "month", "month": 5});
    let res = app.put_json(&path, &hr, Some("\"4\""), &body).await;
    assert_eq!(res.headers()["etag"], "\"5\"");

    // A session added, moved and removed shows in the course's history with the course edits.
    let res = app
        .post_json(
            &format!("{path}/sessions"),
            &hr,
            &json!({"starts_at": "2023-05-08T09:00:00+09:00", "ends_at": "2023-05-08T17:00:00+09:00",
                    "venue": "市役所 4階 大会議室", "capacity": 30,
                    "lecturer": {"kind": "outside", "name": "山田 花子"}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let session: Value = res.json().await.unwrap();
    assert_eq!(session["starts_at"], "2023-05-08T09:00:00+09:00", "shown in Japan time");
    let spath = format!("{path}/sessions/{}", session["id"].as_str().unwrap());
    let moved = json!({"starts_at": "2023-05-09T09:00:00+09:00", "ends_at": "2023-05-09T17:00:00+09:00"});
    assert_eq!(app.put_json(&spath, &hr, Some("\"1\""), &moved).await.status(), 200);
    assert_problem(app.put_json(&spath, &hr, Some("\"1\""), &moved).await, 412, "precondition-failed").await;
    let res =
        app.request(Method::DELETE, &spath, Some(&hr)).header("If-Match", "\"2\"").send().await.unwrap();
    assert_eq!(res.status(), 204);

    let history = app.get_json(&format!("{path}/history"), &hr).await;
    let actions: Vec<_> =
        history["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        vec![
            "course_session.delete",
            "course_session.update",
            "course_session.create",
            "course.update",
            "course.update",
            "course.update",
            "course.publish",
            "course.create"
        ]
    );
    let staff = app.token(people::EMPLOYEE, &[Role::Employee]);
    assert_eq!(app.get(&format!("{path}/history"), &staff).await.status(), 403);
}

#[tokio::test]
async fn another_organisation_cannot_see_or_change_the_catalogue() {
    let app = spawn().await;
    let courses = seeded(&app).await;
    let other =
        kenshu_tests::token_for(kenshu_tests::OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[Role::HrAdmin]);
    let path = format!("/api/v1/courses/{}", courses[0]["id"].as_str().unwrap());
    assert_eq!(app.get(&path, &other).await.status(), 404);
    assert_eq!(app.get("/api/v1/plans/2023", &other).await.status(), 404);
    assert_eq!(app.get_json("/api/v1/courses", &other).await["items"], json!([]));
    let res = app
        .post_json(
            &format!("{path}/sessions"),
            &other,
            &json!({"starts_at": "2023-05-08T09:00:00+09:00", "ends_at": "2023-05-08T17:00:00+09:00"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    // Their own plan for the same year is theirs alone.
    assert_eq!(app.post_json("/api/v1/plans", &other, &json!({"fiscal_year": 2023})).await.status(), 201);
}

async fn count(app: &TestApp, query: &str) -> usize {
    let mut n = 0;
    let mut cursor = String::new();
    loop {
        let page = app.get_json(&format!("/api/v1/employees?limit=200&{query}{cursor}"), &app.hr()).await;
        n += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return n,
        }
    }
}

#[tokio::test]
async fn eligibility_matches_the_roster_as_its_filters_see_it() {
    let app = spawn().await;
    seeded(&app).await;
    let hr = app.hr();
    let rules = json!([
        {"route": "designation", "conditions": [{"kind": "new_hires"}]},
        {"route": "designation", "conditions": [{"kind": "years_after_hire", "years": 3}]},
        {"route": "recommendation", "conditions": [{"kind": "grade", "grade": "係長"}]},
        {"route": "designation", "conditions": [{"kind": "tag", "tag": "評価者"}]},
        {"route": "application", "conditions": [{"kind": "all_staff"}]}
    ]);
    let mut body = mental_health(50, "対象確認用", "");
    body["rules"] = rules;
    let c = course(&app, body).await;
    let preview =
        app.get_json(&format!("/api/v1/courses/{}/eligible?limit=5", c["id"].as_str().unwrap()), &hr).await;
    let counts: Vec<usize> =
        preview["rules"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap() as usize).collect();
    // The same questions asked through the roster's own filters, a different code path.
    let expected = vec![
        count(&app, "hired_fiscal_year=2023").await,
        count(&app, "hired_fiscal_year=2020").await,
        count(&app, &format!("grade={}", urlencode("係長"))).await,
        count(&app, &format!("tag={}", urlencode("評価者"))).await,
        count(&app, "").await,
    ];
    assert_eq!(counts, expected);
    assert!(expected.iter().take(4).all(|n| *n > 0), "the demo roster covers every rule: {expected:?}");
    assert_eq!(preview["distinct_count"].as_u64().unwrap() as usize, expected[4]);
    assert_eq!(preview["rules"][1]["description"], "採用後3年を経過した者・指名制");
    assert_eq!(preview["rules"][4]["employees"].as_array().unwrap().len(), 5);
    assert_eq!(preview["rules"][4]["truncated"], true);
    // Evaluated in another year, the same rule finds that year's new hires.
    let p22 = app
        .get_json(&format!("/api/v1/courses/{}/eligible?fiscal_year=2022", c["id"].as_str().unwrap()), &hr)
        .await;
    assert_eq!(
        p22["rules"][0]["count"].as_u64().unwrap() as usize,
        count(&app, "hired_fiscal_year=2022").await
    );
    let staff = app.token(people::EMPLOYEE, &[Role::Employee]);
    assert_eq!(
        app.get(&format!("/api/v1/courses/{}/eligible", c["id"].as_str().unwrap()), &staff).await.status(),
        403
    );
    // 新任の課長職 (appointed this year) are the newly promoted 課長 in the demo; 所属長 are the
    // heads of sections.
    let mut body = mental_health(51, "管理者実務研修", "");
    body["rules"] = json!([
        {"route": "designation", "conditions": [{"kind": "newly_appointed_to_post", "post": "課長職"}]},
        {"route": "designation", "conditions": [{"kind": "newly_promoted", "grade": "課長"}]},
        {"route": "designation", "conditions": [{"kind": "section_head"}]}
    ]);
    let c = course(&app, body).await;
    let preview = app.get_json(&format!("/api/v1/courses/{}/eligible", c["id"].as_str().unwrap()), &hr).await;
    let n = |i: usize| preview["rules"][i]["count"].as_u64().unwrap();
    assert!(n(0) > 0);
    assert_eq!(n(0), n(1));
    let sections = app.get_json("/api/v1/sections?limit=200", &hr).await;
    let headed =
        sections["items"].as_array().unwrap().iter().filter(|s| !s["head_employee_id"].is_null()).count();
    assert_eq!(n(2) as usize, headed);
}

#[tokio::test]
async fn courses_i_can_take() {
    let app = spawn().await;
    seeded(&app).await;
    let hr = app.hr();
    let mut for_heads = mental_health(52, "所属長研修", "");
    for_heads["rules"] = json!([{"route": "designation", "conditions": [{"kind": "section_head"}]}]);
    for_heads["status"] = json!("published");
    course(&app, for_heads).await;
    let newcomer = app.get_json("/api/v1/employees?hired_fiscal_year=2023&limit=1", &hr).await;
    let no = newcomer["items"][0]["employee_no"].as_str().unwrap();
    let token = app.token(no, &[Role::Employee]);
    let mine = app.get_json("/api/v1/me/courses?fiscal_year=2023", &token).await;
    let got: Vec<(String, Value)> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["course"]["title"].as_str().unwrap().to_string(), i["routes"].clone()))
        .collect();
    assert_eq!(got[0], ("新採用職員 採用時研修Ⅰ".to_string(), json!(["designation"])));
    assert!(got.contains(&("その他eラーニング等研修".to_string(), json!(["recommendation", "application"]))));
    assert!(!got.iter().any(|(t, _)| t == "主任者研修Ⅰ"), "a new hire was not promoted to 主任");
    assert!(!got.iter().any(|(t, _)| t == "所属長研修"), "for 所属長 only: {got:?}");
    // A section head (所属長) is designated to the course for heads; the reader looks only at
    // the sections this caller heads.
    let head = app.token(people::SECTION_HEAD, &[Role::Employee]);
    let theirs = app.get_json("/api/v1/me/courses?fiscal_year=2023", &head).await;
    let for_heads: Vec<&Value> =
        theirs["items"].as_array().unwrap().iter().filter(|i| i["course"]["title"] == "所属長研修").collect();
    assert_eq!(for_heads.len(), 1, "{theirs}");
    assert_eq!(for_heads[0]["routes"], json!(["designation"]));
    // Another year without a published plan: nothing to take.
    let none = app.get_json("/api/v1/me/courses?fiscal_year=2030", &token).await;
    assert_eq!(none["items"], json!([]));
    assert_problem(app.get("/api/v1/me/courses?fiscal_year=1800", &token).await, 422, "validation").await;
}

#[tokio::test]
async fn a_plan_is_copied_into_the_next_year_without_sessions() {
    let app = spawn().await;
    let courses = seeded(&app).await;
    let hr = app.hr();
    // 市民サービス向上研修Ⅰ is positioned within 採用時研修Ⅰ; the copy keeps that within the new year.
    let mut inner = mental_health(1, "市民サービス向上研修Ⅰ", "ビジネスマナー、仕事の進め方");
    inner["category"] = json!("thematic");
    inner["number"] = json!(60);
    inner["within_course_id"] = courses[0]["id"].clone();
    course(&app, inner).await;
    let first = courses[0]["id"].as_str().unwrap();
    let sessions = format!("/api/v1/courses/{first}/sessions");
    let session = json!({"starts_at": "2023-04-03T09:00:00+09:00", "ends_at": "2023-04-03T17:00:00+09:00"});
    assert_eq!(app.post_json(&sessions, &hr, &session).await.status(), 201);

    let res = app.post_json("/api/v1/plans/2023/copy", &hr, &json!({})).await;
    assert_eq!(res.status(), 201);
    let copied: Value = res.json().await.unwrap();
    assert_eq!(copied["courses_copied"], 8);
    assert_eq!(copied["plan"]["fiscal_year"], 2024);
    assert_eq!(copied["plan"]["status"], "draft");
    assert_eq!(copied["plan"]["title"], "令和6年度 職員研修計画");

    let new = app.get_json("/api/v1/courses?fiscal_year=2024&limit=200", &hr).await;
    let items = new["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    assert!(items.iter().all(|c| c["status"] == "draft" && c["fiscal_year"] == 2024));
    let new_first = items.iter().find(|c| c["title"] == "新採用職員 採用時研修Ⅰ").unwrap();
    let new_inner = items.iter().find(|c| c["title"] == "市民サービス向上研修Ⅰ").unwrap();
    assert_eq!(new_inner["within_course_id"], new_first["id"], "positioned within the new year's course");
    assert_eq!(new_first["rules"], courses[0]["rules"]);
    let detail = app.get_json(&format!("/api/v1/courses/{}", new_first["id"].as_str().unwrap()), &hr).await;
    assert_eq!(detail["sessions"], json!([]), "sessions are not copied");
    let dispatch = items.iter().find(|c| c["delivery"] == "dispatch").unwrap();
    assert_eq!(dispatch["institution"], "市町村研修センター");

    // Copying again would mix two plans; copying into the same year makes no sense.
    let before = app.audit_count().await;
    assert_problem(app.post_json("/api/v1/plans/2023/copy", &hr, &json!({})).await, 409, "conflict").await;
    let same = json!({"to_fiscal_year": 2023});
    assert_problem(app.post_json("/api/v1/plans/2023/copy", &hr, &same).await, 422, "validation").await;
    assert_eq!(app.post_json("/api/v1/plans/2019/copy", &hr, &json!({})).await.status(), 404);
    assert_eq!(app.audit_count().await, before);
    // Staff do not see the copied drafts.
    let staff = app.token(people::EMPLOYEE, &[Role::Employee]);
    assert!(titles(&app, "fiscal_year=2024", &staff).await.is_empty());
}

/// A session with the longest venue and online URL a session takes is removed like any other:
/// its tombstone (for calendars) keeps them whole (PostgreSQL refused it once: the tombstone's
/// columns were shorter than the session's).
#[tokio::test]
async fn a_session_with_the_longest_venue_and_url_is_removed() {
    let app = spawn().await;
    let hr = app.hr();
    assert_eq!(app.post_json("/api/v1/plans", &hr, &json!({"fiscal_year": 2023})).await.status(), 201);
    let course = json!({"fiscal_year": 2023, "category": "thematic", "number": 40, "title": "長い会場名の研修",
        "timing": {"kind": "month", "month": 7}, "delivery": "classroom"});
    let res = app.post_json("/api/v1/courses", &hr, &course).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let url = format!("https://example.jp/{}", "a".repeat(2000 - "https://example.jp/".len()));
    let session = json!({"starts_at": "2023-07-12T09:00:00+09:00", "ends_at": "2023-07-12T17:00:00+09:00",
        "venue": "会".repeat(500), "online_url": url});
    let res = app.post_json(&format!("/api/v1/courses/{id}/sessions"), &hr, &session).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let path = res.headers()["location"].to_str().unwrap().to_string();
    let res = app.request(Method::DELETE, &path, Some(&hr)).header("If-Match", "*").send().await.unwrap();
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
}
