//! Limits per caller: requests per token subject, and failed authentications per source address
//! (refused before the next token is checked). Wrong check-in codes are in `attendance.rs`.

use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn_configured};

#[tokio::test]
async fn a_caller_over_their_requests_per_minute_waits_and_others_do_not() {
    let app = spawn_configured(&[("KENSHU_RATE_LIMIT_PER_MINUTE", "5".into())]).await;
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/me", &me).await.status(), 200);
    }
    let res = app.get("/api/v1/me", &me).await;
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=12).contains(&retry), "a cell frees every 12 s: {retry}");
    let p = assert_problem(res, 429, "too-many-requests").await;
    assert!(p["detail"].as_str().unwrap().contains("requests for this caller"), "{p}");
    // The limit is the caller's: a colleague behind the same address goes on.
    let colleague = app.token(people::SAME_SECTION, &[Role::Employee]);
    assert_eq!(app.get("/api/v1/me", &colleague).await.status(), 200);
}

#[tokio::test]
async fn an_address_sending_bad_tokens_is_refused_before_its_next_token_is_checked() {
    let app = spawn_configured(&[("KENSHU_AUTH_FAILURES_PER_MINUTE", "3".into())]).await;
    for bad in ["not.a.token", "still.not.one", "nor.this", "x.y.z"] {
        assert_problem(app.get("/api/v1/me", bad).await, 401, "unauthorized").await;
    }
    // Spent: the next request from this address waits, whatever it carries.
    let good = app.token(people::EMPLOYEE, &[Role::Employee]);
    let res = app.get("/api/v1/me", &good).await;
    assert!(res.headers().contains_key("retry-after"));
    let p = assert_problem(res, 429, "too-many-requests").await;
    assert!(p["detail"].as_str().unwrap().contains("failed authentications"), "{p}");
    // Unauthenticated routes are not behind it.
    assert_eq!(app.request(reqwest::Method::GET, "/healthz", None).send().await.unwrap().status(), 200);
}
