//! Faults around the service, on a PostgreSQL cluster the test starts and stops itself: while the
//! database is away requests are told so quickly (503 with Retry-After) and readiness says not
//! ready; when it is back the service recovers without a restart.

use std::time::{Duration, Instant};

use kenshu_domain::auth::Role;
use kenshu_tests::standins::PgCluster;
use kenshu_tests::{assert_problem, people, spawn_on};

#[tokio::test]
async fn a_database_outage_is_answered_503_within_seconds_and_recovers() {
    let pg = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    let url = pg.database("kenshu");
    let app = spawn_on(&url).await;
    let token = app.token(people::EMPLOYEE, &[Role::Employee]);
    assert_eq!(app.get("/api/v1/me", &token).await.status(), 200);
    assert_eq!(app.request(reqwest::Method::GET, "/readyz", None).send().await.unwrap().status(), 200);

    let pg = tokio::task::spawn_blocking(move || {
        pg.stop();
        pg
    })
    .await
    .unwrap();
    for path in ["/api/v1/me", "/api/v1/courses?fiscal_year=2023"] {
        let started = Instant::now();
        let res = app.get(path, &token).await;
        // The pool's acquire timeout (1 s) and a connection attempt: not the old ten seconds.
        assert!(started.elapsed() < Duration::from_secs(5), "{path} took {:?}", started.elapsed());
        assert!(res.headers().contains_key("retry-after"), "{path}");
        assert_problem(res, 503, "unavailable").await;
    }
    let started = Instant::now();
    let ready = app.request(reqwest::Method::GET, "/readyz", None).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(3), "readyz took {:?}", started.elapsed());
    // Liveness is not readiness: the process is fine.
    assert_eq!(app.request(reqwest::Method::GET, "/healthz", None).send().await.unwrap().status(), 200);

    let pg = tokio::task::spawn_blocking(move || {
        pg.resume();
        pg
    })
    .await
    .unwrap();
    // Back: the pool reconnects by itself (a connection the restart closed may fail once).
    let mut status = 0;
    for _ in 0..20 {
        status = app.get("/api/v1/me", &token).await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200);
    assert_eq!(app.request(reqwest::Method::GET, "/readyz", None).send().await.unwrap().status(), 200);
    drop(app);
    drop(pg);
}
