//! Soak run: mixed load for a long while, recording the service's memory and open files, to show
//! neither grows. Documented, not in CI.
//!
//! `cargo run --release -p kenshu-tests --bin soak [-- --minutes 30 --clients 8 --record]`
//! (SQLite; PostgreSQL with `TEST_DATABASE_URL`).
//!
//! The service runs in this process (its production pool of 10, no limits per caller); clients
//! keep their connections. Each client loops over reads (`/me`, the course list, an employee,
//! the year's results, the audit log) and a write (an edit of an employee of its own), and
//! every minute the demo roster is imported again unchanged. Every interval it prints requests
//! so far, answers other than 2xx, resident memory and open file descriptors; at the end it
//! compares the last reading with the one after warm-up (a fifth of the run).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kenshu_domain::auth::Role;
use kenshu_tests::bench::{current_rss_mib, record, run_context};
use kenshu_tests::{people, spawn_configured, TestApp};
use serde_json::json;

fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    not_ok: AtomicU64,
    /// Answers other than 2xx by status, to tell honest refusals (a 409 when the roster import
    /// meets a client's edit) from failures.
    statuses: std::sync::Mutex<std::collections::BTreeMap<u16, u64>>,
}

impl Counts {
    fn answered(&self, status: reqwest::StatusCode) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if !status.is_success() {
            self.not_ok.fetch_add(1, Ordering::Relaxed);
            *self.statuses.lock().unwrap().entry(status.as_u16()).or_default() += 1;
        }
    }
}

async fn client(app: Arc<TestApp>, n: usize, employee_no: String, until: Instant, counts: Arc<Counts>) {
    let employee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let hr = app.hr();
    let target = app.employee(&employee_no).await["id"].as_str().unwrap().to_string();
    let reads = [
        ("/api/v1/me".to_string(), &employee),
        ("/api/v1/courses?fiscal_year=2023&limit=50".to_string(), &employee),
        (format!("/api/v1/employees/{target}"), &hr),
        ("/api/v1/plans/2023/results".to_string(), &hr),
        ("/api/v1/audit?limit=50".to_string(), &hr),
    ];
    let mut i = n;
    while Instant::now() < until {
        let status = if i % 6 == 5 {
            let current = app.employee(&employee_no).await;
            let mut body = current.clone();
            for k in
                ["id", "department_id", "hired_fiscal_year", "version", "created_at", "updated_at", "active"]
            {
                body.as_object_mut().unwrap().remove(k);
            }
            body["email"] = json!(format!("soak-{n}-{i}@city.isehara.example.jp"));
            let path = format!("/api/v1/employees/{target}");
            app.put_json(&path, &hr, Some(&format!("\"{}\"", current["version"])), &body).await.status()
        } else {
            let (path, token) = &reads[i % 6];
            app.get(path, token).await.status()
        };
        counts.answered(status);
        i += 1;
    }
}

#[tokio::main]
async fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let value = |name: &str| argv.iter().position(|a| a == name).and_then(|i| argv.get(i + 1)).cloned();
    let minutes: f64 = value("--minutes").and_then(|m| m.parse().ok()).unwrap_or(30.0);
    let clients: usize = value("--clients").and_then(|c| c.parse().ok()).unwrap_or(8);
    let backend =
        if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) { "PostgreSQL" } else { "SQLite" };
    let app = Arc::new(
        spawn_configured(&[
            ("KENSHU_DB_MAX_CONNECTIONS", "10".into()),
            ("KENSHU_BULK_CONCURRENCY", "0".into()),
        ])
        .await,
    );
    app.import_fy2023_plan().await;
    app.publish_plan(2023).await;
    let roster = kenshu_api::demo::roster_csv();
    let staff: Vec<String> =
        app.all_employees().await.iter().map(|e| e["employee_no"].as_str().unwrap().to_string()).collect();

    let run = Duration::from_secs_f64(minutes * 60.0);
    let started = Instant::now();
    let until = started + run;
    let counts = Arc::new(Counts::default());
    let mut tasks: Vec<_> = (0..clients)
        .map(|n| {
            tokio::spawn(client(
                app.clone(),
                n,
                staff[(n * 7 + 3) % staff.len()].clone(),
                until,
                counts.clone(),
            ))
        })
        .collect();
    let importer = {
        let app = app.clone();
        let counts = counts.clone();
        tokio::spawn(async move {
            while Instant::now() + Duration::from_secs(60) < until {
                tokio::time::sleep(Duration::from_secs(60)).await;
                let res = app
                    .post_csv(
                        "/api/v1/employees/import?mode=upsert",
                        &app.hr(),
                        "text/csv",
                        roster.clone().into_bytes(),
                    )
                    .await;
                counts.answered(res.status());
            }
        })
    };
    tasks.push(importer);

    let interval = (run / 20).max(Duration::from_secs(5));
    let mut lines = vec![
        format!("{backend}, {} staff, {clients} clients, {minutes} min, release build; memory and files of the whole process (service and clients)", staff.len()),
        format!("{:>8} {:>10} {:>7} {:>9} {:>6}", "minute", "requests", "not 2xx", "RSS MiB", "fds"),
    ];
    let mut readings = Vec::new();
    while Instant::now() < until {
        tokio::time::sleep(interval.min(until.saturating_duration_since(Instant::now()))).await;
        let reading = (started.elapsed().as_secs_f64() / 60.0, current_rss_mib(), open_files());
        readings.push(reading);
        let line = format!(
            "{:>8.1} {:>10} {:>7} {:>9.1} {:>6}",
            reading.0,
            counts.requests.load(Ordering::Relaxed),
            counts.not_ok.load(Ordering::Relaxed),
            reading.1,
            reading.2
        );
        println!("{line}");
        lines.push(line);
    }
    for t in tasks {
        t.await.unwrap();
    }
    let warm = readings[readings.len() / 5];
    let last = readings[readings.len() - 1];
    lines.push(format!(
        "after warm-up (minute {:.1}) → end: RSS {:.1} → {:.1} MiB ({:+.1} %), fds {} → {}",
        warm.0,
        warm.1,
        last.1,
        (last.1 / warm.1 - 1.0) * 100.0,
        warm.2,
        last.2
    ));
    lines.push(format!("answers other than 2xx by status: {:?}", counts.statuses.lock().unwrap()));
    lines.push(run_context());
    println!("{}\n{}", lines[lines.len() - 3], lines[lines.len() - 2]);
    if argv.iter().any(|a| a == "--record") {
        record(&format!("soak · {backend} · {minutes} min"), &lines.join("\n"));
    }
}
