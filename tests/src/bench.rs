//! What the benchmark binaries (and the tests of large years) share: memory readings, the
//! results file, a large roster.

use std::fmt::Write as _;

use crate::repo_root;

/// `--rows N` (default 50,000) and `--record`, and the backend `TEST_DATABASE_URL` selects.
pub struct BenchArgs {
    pub rows: usize,
    pub record: bool,
    pub backend: &'static str,
    args: Vec<String>,
}

impl BenchArgs {
    pub fn from_env() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let backend = if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        let mut parsed = Self { rows: 0, record: args.iter().any(|a| a == "--record"), backend, args };
        parsed.rows = parsed.number("--rows").unwrap_or(50_000);
        parsed
    }

    /// The number after `flag` (`--rows 5000`), if given.
    pub fn number(&self, flag: &str) -> Option<usize> {
        let i = self.args.iter().position(|a| a == flag)?;
        self.args.get(i + 1)?.parse().ok()
    }
}

/// A process whose resident size is read from `/proc`: this one, or the service started as a
/// process of its own (bench-load), whose size then holds nothing of the data's generation.
#[derive(Debug, Clone, Copy)]
pub enum Process {
    Own,
    Pid(u32),
}

impl Process {
    fn path(self, file: &str) -> String {
        match self {
            Process::Own => format!("/proc/self/{file}"),
            Process::Pid(pid) => format!("/proc/{pid}/{file}"),
        }
    }

    /// The highest resident size since the start or the last [`Process::reset_peak_rss`].
    pub fn peak_rss_mib(self) -> f64 {
        self.status_mib("VmHWM:")
    }

    /// Start the peak again from the size now (Linux: `clear_refs` 5), so a run measures its
    /// own peak, not the data generation's or the previous run's before it.
    pub fn reset_peak_rss(self) {
        let _ = std::fs::write(self.path("clear_refs"), "5");
    }

    pub fn current_rss_mib(self) -> f64 {
        self.status_mib("VmRSS:")
    }

    fn status_mib(self, key: &str) -> f64 {
        let status = std::fs::read_to_string(self.path("status")).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }
}

/// This process's peak resident size ([`Process::peak_rss_mib`]).
pub fn peak_rss_mib() -> f64 {
    Process::Own.peak_rss_mib()
}

pub fn current_rss_mib() -> f64 {
    Process::Own.current_rss_mib()
}

/// The machine's load and the commit, for the last line of a recorded run.
pub fn run_context() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("load average before the run ended: {}; commit {commit}", load.trim())
}

/// Append a run to bench/results.md under a dated heading.
pub fn record(title: &str, body: &str) {
    let path = repo_root().join("bench/results.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = writeln!(text, "\n## {} · {title}\n\n```\n{body}\n```", chrono::Utc::now().format("%Y-%m-%d"));
    std::fs::write(&path, text).unwrap();
    println!("recorded in {}", path.display());
}

/// A roster CSV of `rows` staff numbered D000000…: the demo roster's rows again and again under
/// new numbers, so a large roster has the same proportions of every audience the plan names.
pub fn demo_like_roster(rows: usize) -> String {
    roster_in_sections(rows, &[])
}

/// [`demo_like_roster`], the staff spread over `sections` (by code) instead of the demo's
/// sections when any are given.
pub fn roster_in_sections(rows: usize, sections: &[String]) -> String {
    let demo = kenshu_api::demo::roster_csv();
    let mut lines = demo.lines();
    let header = lines.next().expect("a header");
    let body: Vec<&str> = lines.collect();
    let mut csv = String::with_capacity(rows * 160);
    csv.push_str(header);
    csv.push('\n');
    for i in 0..rows {
        let fields: Vec<&str> = body[i % body.len()].split(',').collect();
        let section = if sections.is_empty() { fields[4] } else { sections[i % sections.len()].as_str() };
        let _ = writeln!(
            csv,
            "D{i:06},{},{},d{i}@bench.example.jp,{section},{}",
            fields[1],
            fields[2],
            fields[5..].join(",")
        );
    }
    csv
}

/// On PostgreSQL, a checkpoint now, before a timed bulk write: otherwise the WAL the earlier
/// steps left (a 50,000-staff import, the database made from its template) forces one in the
/// middle of the write, and the full-page images after it, at a different point in each run
/// (seen: the same floor took 2.0–3.6 s). The service's write and its floor both start from
/// one. Nothing on SQLite.
pub async fn checkpoint(app: &crate::TestApp) {
    use sea_orm::ConnectionTrait;
    if app.db.conn().get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        app.db
            .conn()
            .execute_unprepared("CHECKPOINT")
            .await
            .expect("CHECKPOINT (the tests connect as a superuser)");
    }
}

/// PostgreSQL's own cost of writing rows the service has just written, in milliseconds (the
/// best of three), and how many rows that was: the rows of each `(table, filter)` are copied by
/// `INSERT … SELECT` into a new table made like it (its columns, defaults, checks and indexes,
/// `LIKE … INCLUDING ALL`) with the same foreign keys, in a transaction that is rolled back. It
/// is the floor for a bulk write that keeps its indexes and foreign keys, measured in the same
/// run as the write. None on SQLite.
pub async fn write_floor(app: &crate::TestApp, tables: &[(&str, &str)]) -> Option<(f64, u64)> {
    use sea_orm::sqlx::{self, Row as _};
    use sea_orm::ConnectionTrait;
    if app.db.conn().get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return None;
    }
    let pool = app.db.conn().get_postgres_connection_pool().clone();
    let mut conn = pool.acquire().await.expect("a connection");
    let mut best = (f64::MAX, 0);
    for _ in 0..3 {
        checkpoint(app).await;
        sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
        let mut elapsed = 0.0;
        let mut rows = 0;
        for (table, filter) in tables {
            // Table names and filters are the benchmark's own constants.
            let copy = format!("bench_floor_{table}");
            sqlx::query(&format!("CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)"))
                .execute(&mut *conn)
                .await
                .unwrap();
            let keys = sqlx::query(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE conrelid = $1::regclass AND contype = 'f'",
            )
            .bind(*table)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            for key in keys {
                let definition: String = key.get(0);
                sqlx::query(&format!("ALTER TABLE {copy} ADD {definition}"))
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
            let started = std::time::Instant::now();
            let written = sqlx::query(&format!("INSERT INTO {copy} SELECT * FROM {table} WHERE {filter}"))
                .execute(&mut *conn)
                .await
                .unwrap()
                .rows_affected();
            elapsed += started.elapsed().as_secs_f64() * 1000.0;
            rows += written;
        }
        sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
        if elapsed < best.0 {
            best = (elapsed, rows);
        }
    }
    Some(best)
}
