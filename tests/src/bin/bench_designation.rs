//! Benchmark: designation (指名) for the whole FY2023 plan over a large roster.
//!
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo run --release -p kenshu-tests --bin bench-designation [-- --rows N --record]`
//!
//! Builds a roster of N staff (default 50,000) with the demo roster's mix of profiles (new hires,
//! promotions, heads, duties …) spread over its sections, loads the FY2023 plan of the seed, and
//! times `POST /api/v1/plans/2023/designation` through the real HTTP stack: the preview (dry
//! run: the roster read once and every designation rule evaluated) three times, the confirming
//! run that writes every nomination with its audit record, and a rerun that finds nothing new;
//! then the year's results (JSON and CSV) and the owed-reports list over those nominations. On
//! PostgreSQL it also times the database writing the confirmed rows again by `INSERT … SELECT`
//! into a table like `nomination` (same indexes and foreign keys): the floor for the confirm.

use std::time::Instant;

use kenshu_tests::bench::{
    checkpoint, current_rss_mib, demo_like_roster, peak_rss_mib, record, run_context, write_floor, BenchArgs,
};
use kenshu_tests::spawn;
use reqwest::Method;
use serde_json::Value;

/// The resident size now and the peak so far, so a step that raises the peak shows.
fn memory_so_far() -> String {
    format!("RSS {:.0} MiB, peak {:.0} MiB", current_rss_mib(), peak_rss_mib())
}

#[tokio::main]
async fn main() {
    let BenchArgs { rows, record: record_result, backend, .. } = BenchArgs::from_env();
    let app = spawn().await;
    let hr = app.hr();
    let res = app
        .post_csv(
            "/api/v1/employees/import?mode=upsert",
            &hr,
            "text/csv",
            demo_like_roster(rows).into_bytes(),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    app.import_fy2023_plan().await;
    app.publish_plan(2023).await;
    println!("roster: {rows} staff added to the demo's; plan: FY2023 (61 courses); backend: {backend}");
    println!("after loading them: {}", memory_so_far());

    let mut lines = Vec::new();
    let run = |label: &'static str, dry_run: bool| {
        let app = &app;
        let hr = hr.clone();
        async move {
            let path = format!("/api/v1/plans/2023/designation?limit=0&dry_run={dry_run}");
            let started = Instant::now();
            let res = app.request(Method::POST, &path, Some(&hr)).send().await.unwrap();
            let elapsed = started.elapsed();
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            assert!(status.is_success(), "{status}: {body}");
            let line = format!(
                "{label:18} {:>7.0} ms  courses {}  new designations {}  {}",
                elapsed.as_secs_f64() * 1000.0,
                body["courses"].as_array().map_or(0, Vec::len),
                body["new_count"],
                memory_so_far()
            );
            println!("{line}");
            (line, elapsed.as_secs_f64() * 1000.0)
        }
    };
    for _ in 0..3 {
        lines.push(run("preview (dry run)", true).await.0);
    }
    checkpoint(&app).await;
    let (line, confirm_ms) = run("confirm (writes)", false).await;
    lines.push(line);
    // What PostgreSQL itself needs to write the same rows with the same indexes and foreign keys.
    if let Some((floor, rows)) = write_floor(&app, &[("nomination", "route = 'designation'")]).await {
        let line = format!(
            "INSERT … SELECT {floor:>6.0} ms  the {rows} designations again into a table like nomination \
             (its indexes and foreign keys; same run): confirm takes {:.1}× that",
            confirm_ms / floor
        );
        println!("{line}");
        lines.push(line);
    }
    lines.push(run("rerun", false).await.0);
    // The year's reads over the nominations just written (no attendance is recorded, so no
    // report is owed yet: this times reading and tallying the nominations and the roster).
    for (label, path) in [
        ("results (json)", "/api/v1/plans/2023/results"),
        ("results (csv)", "/api/v1/plans/2023/results?format=csv"),
        ("reports owed", "/api/v1/reports?fiscal_year=2023"),
    ] {
        let started = Instant::now();
        let res = app.request(Method::GET, path, Some(&hr)).send().await.unwrap();
        let status = res.status();
        let body = res.bytes().await.unwrap();
        let elapsed = started.elapsed();
        assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&body));
        let line = format!(
            "{label:18} {:>7.0} ms  {} bytes  {}",
            elapsed.as_secs_f64() * 1000.0,
            body.len(),
            memory_so_far()
        );
        println!("{line}");
        lines.push(line);
    }
    let memory = format!("peak RSS {:.0} MiB", peak_rss_mib());
    println!("{memory}");
    if record_result {
        record(
            &format!("bench-designation · {backend} · {rows} staff · FY2023 plan · release build"),
            &format!("{}\n{memory}\n{}", lines.join("\n"), run_context()),
        );
    }
}
