//! `GET /metrics` for operators: only with the metrics token (a user's token is not it), and
//! what it counts: requests by route pattern and status with latency buckets, the pool, the
//! statements and the notice outbox. No person, path or tenant in a label.

use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, spawn_configured};
use reqwest::Method;

const TOKEN: &str = "metrics-token-for-the-tests-0123456789";

#[tokio::test]
async fn metrics_answer_the_operators_token_with_requests_pool_and_outbox() {
    let app = spawn_configured(&[("KENSHU_METRICS_TOKEN", TOKEN.to_string())]).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/me", &me).await.status(), 200);
    }
    let course =
        app.get_json("/api/v1/courses?fiscal_year=2023&limit=1", &me).await["items"][0]["id"].clone();
    let missing = format!("/api/v1/courses/{}", uuid::Uuid::now_v7());
    assert_eq!(app.get(&missing, &me).await.status(), 404);

    let scrape = |token: Option<&str>| {
        let mut req = app.request(Method::GET, "/metrics", None);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_problem(scrape(None).await.unwrap(), 401, "unauthorized").await;
    assert_problem(scrape(Some(&me)).await.unwrap(), 401, "unauthorized").await;
    assert_problem(
        scrape(Some("metrics-token-for-the-tests-012345678X")).await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    let res = scrape(Some(TOKEN)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    for line in [
        r#"kenshu_http_requests_total{method="GET",route="/api/v1/me",status="200"} 3"#,
        r#"kenshu_http_requests_total{method="GET",route="/api/v1/courses/{id}",status="404"} 1"#,
        r#"kenshu_http_request_duration_seconds_count{method="GET",route="/api/v1/me"} 3"#,
        r#"kenshu_http_request_duration_seconds_bucket{method="GET",route="/api/v1/me",le="+Inf"} 3"#,
        "kenshu_db_pool_max_connections ",
        r#"kenshu_db_pool_connections{state="idle"} "#,
        r#"kenshu_notice_deliveries{state="pending"} "#,
        r#"kenshu_notice_deliveries{state="failed"} 0"#,
        "kenshu_db_statements_total ",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    // SQLite's own allocations, where SQLite is the database: the schema it parsed at least.
    let sqlite_now = text
        .lines()
        .find_map(|l| l.strip_prefix(r#"kenshu_sqlite_memory_bytes{at="now"} "#))
        .map(|v| v.parse::<f64>().unwrap());
    match app.db.backend() {
        sea_orm::DatabaseBackend::Sqlite => assert!(sqlite_now.is_some_and(|b| b > 100_000.0), "{text}"),
        _ => assert_eq!(sqlite_now, None, "{text}"),
    }
    // Routes by pattern only: no id, employee number or organisation in any label.
    assert!(!text.contains(&missing) && !text.contains(course.as_str().unwrap_or("-")), "{text}");
    assert!(!text.contains(people::EMPLOYEE) && !text.contains("isehara"), "{text}");

    // Without a metrics token set there is nothing there.
    let plain = spawn().await;
    let res = plain.request(Method::GET, "/metrics", None).bearer_auth(TOKEN).send().await.unwrap();
    assert_problem(res, 404, "not-found").await;
}
