//! Limits per caller: requests per token subject, and failed authentications per source address
//! (refused before the next token is checked). Wrong check-in codes are in `attendance.rs`.

use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn_configured, token_for, OTHER_ORG};

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

#[tokio::test]
async fn writes_have_their_own_limit_and_reads_go_on() {
    let app = spawn_configured(&[("KENSHU_WRITE_RATE_LIMIT_PER_MINUTE", "2".into())]).await;
    for (i, no) in ["10009", "10010"].iter().enumerate() {
        app.edit_employee(no, |e| e["email"] = serde_json::json!(format!("w{i}@city.isehara.example.jp")))
            .await;
    }
    let e = app.employee("10011").await;
    let path = format!("/api/v1/employees/{}", e["id"].as_str().unwrap());
    let res = app.put_json(&path, &app.hr(), Some(&format!("\"{}\"", e["version"])), &e).await;
    let p = assert_problem(res, 429, "too-many-requests").await;
    assert!(p["detail"].as_str().unwrap().contains("writes for this caller"), "{p}");
    assert_eq!(app.get(&path, &app.hr()).await.status(), 200, "reads are not writes");
}

/// Start a roster import whose body never finishes arriving: the request holds its place among
/// the organisation's bulk requests until the connection is closed.
async fn stalled_import(app: &kenshu_tests::TestApp) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut conn = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let head = format!(
        "POST /api/v1/employees/import?mode=upsert HTTP/1.1\r\nHost: kenshu\r\nAuthorization: Bearer {}\r\n\
         Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\nemployee_no,name,kana,section_code,grade,hire_date\n",
        app.hr()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn
}

#[tokio::test]
async fn an_organisations_bulk_requests_in_flight_are_bounded_and_others_go_on() {
    let app = spawn_configured(&[("KENSHU_BULK_CONCURRENCY", "1".into())]).await;
    app.import_fy2023_plan().await;
    // Under a loaded machine a new connection can wait to be picked up: start the import again
    // until the service has it in hand.
    let in_flight = || app.state.in_flight.load(std::sync::atomic::Ordering::SeqCst);
    let mut stalled = stalled_import(&app).await;
    for _ in 0..3 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while in_flight() == 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if in_flight() > 0 {
            break;
        }
        stalled = stalled_import(&app).await;
    }
    assert!(in_flight() >= 1, "the import is in flight");
    let results = "/api/v1/plans/2023/results";
    // The request is accepted once its caller is known; wait for that.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut res = app.get(results, &app.hr()).await;
    while res.status() != 429 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        res = app.get(results, &app.hr()).await;
    }
    assert_eq!(res.headers()["retry-after"], "5");
    let p = assert_problem(res, 429, "too-many-requests").await;
    assert!(p["detail"].as_str().unwrap().contains("running for this organisation"), "{p}");
    // Ordinary reads and writes go on, and another organisation's bulk requests too.
    assert_eq!(app.get("/api/v1/plans/2023", &app.hr()).await.status(), 200);
    let theirs = token_for(OTHER_ORG, "A001", &[Role::HrAdmin]);
    assert_eq!(app.get(results, &theirs).await.status(), 200);
    // The import's client goes away: its place is given back.
    drop(stalled);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut status = app.get(results, &app.hr()).await.status();
    while status != 200 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        status = app.get(results, &app.hr()).await.status();
    }
    assert_eq!(status, 200);
}
