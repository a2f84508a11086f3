//! Benchmark: import a 50,000-row roster in one request.
//!
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo run --release -p kenshu-tests --bin bench-import [-- --rows N --imports N --record]`
//!
//! Runs the real app over HTTP against a fresh database (as the tests do), posts the file six
//! times (all new, all unchanged, 10% changed, then the changed file three times more, unchanged
//! by then, which must leave the resident memory where it was) and prints wall time per request
//! and the process's resident memory: its peak during the request above the size before it, and
//! the size after it;
//! on PostgreSQL also `COPY` of the same file into a plain table (the database's ceiling) and the
//! ratio. `--record` appends the result to bench/results.md.

use std::fmt::Write as _;
use std::time::Instant;

use kenshu_tests::bench::{current_rss_mib, peak_rss_mib, record, run_context, BenchArgs};
use kenshu_tests::spawn;
use serde_json::Value;

/// PostgreSQL's own ceiling for the same rows: `COPY` of the file into a plain table of its
/// columns, in milliseconds (the best of three). None on SQLite.
async fn copy_ceiling(app: &kenshu_tests::TestApp, csv: &str) -> Option<f64> {
    use sea_orm::ConnectionTrait;
    if app.db.conn().get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return None;
    }
    let pool = app.db.conn().get_postgres_connection_pool().clone();
    let columns: Vec<String> = (0..10).map(|i| format!("c{i} text")).collect();
    let mut conn = pool.acquire().await.expect("a connection");
    let mut best = f64::MAX;
    for _ in 0..3 {
        sea_orm::sqlx::query("DROP TABLE IF EXISTS bench_copy").execute(&mut *conn).await.unwrap();
        sea_orm::sqlx::query(&format!("CREATE TABLE bench_copy ({})", columns.join(", ")))
            .execute(&mut *conn)
            .await
            .unwrap();
        let started = Instant::now();
        let mut copy =
            conn.copy_in_raw("COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)").await.expect("COPY");
        copy.send(csv.as_bytes()).await.expect("rows");
        let rows = copy.finish().await.expect("COPY done");
        assert_eq!(rows as usize + 1, csv.lines().count());
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
    }
    sea_orm::sqlx::query("DROP TABLE bench_copy").execute(&mut *conn).await.unwrap();
    Some(best)
}

const SECTIONS: &[&str] = &[
    "S0101", "S0102", "S0201", "S0202", "S0203", "S0301", "S0302", "S0401", "S0402", "S0403", "S0501",
    "S0502", "S0503", "S0601", "S0602", "S0701", "S0702", "S0801", "S0901",
];
const GRADES: &[&str] = &["一般", "主任", "主査", "係長", "課長補佐", "課長"];
const FAMILY: &[&str] = &[
    "イセハラ",
    "オオヤマ",
    "サトウ",
    "スズキ",
    "タナカ",
    "ワタナベ",
    "イトウ",
    "ヤマモト",
    "ナカムラ",
    "コバヤシ",
    "カトウ",
    "ヨシダ",
    "ヤマダ",
    "ササキ",
    "ヤマグチ",
    "マツモト",
    "イノウエ",
    "キムラ",
    "ハヤシ",
    "シミズ",
];
const SYLLABLES: &[char] = &[
    'ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク', 'ケ', 'コ', 'サ', 'シ', 'ス', 'セ', 'ソ', 'タ', 'チ',
    'ツ', 'テ', 'ト', 'ナ', 'ニ', 'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ', 'フ', 'ヘ', 'ホ', 'マ', 'ミ', 'ム', 'メ',
    'モ', 'ヤ', 'ユ', 'ヨ', 'ラ', 'リ',
];

/// A reading as varied as a real roster's: common family names, given names nearly unique.
fn kana(i: usize) -> String {
    let n = SYLLABLES.len();
    let k = i / FAMILY.len();
    let given: String = [k % n, k / n % n, k / n / n % n].iter().map(|&x| SYLLABLES[x]).collect();
    format!("{} {given}", FAMILY[i % FAMILY.len()])
}

fn roster(rows: usize, variant: usize) -> String {
    let mut csv = String::with_capacity(rows * 140);
    csv.push_str("職員番号,氏名,フリガナ,メールアドレス,所属コード,職級,採用日,昇格日,雇用形態,タグ\n");
    for i in 0..rows {
        // In the changed variant every tenth employee moves to another section.
        let moved = usize::from(variant > 0 && i % 10 == 0);
        let grade = GRADES[i % GRADES.len()];
        let promotion = if grade == "一般" { String::new() } else { format!("{grade}=R{}.4.1", 2 + i % 5) };
        let _ = writeln!(
            csv,
            "B{i:06},職員 {i},{},b{i}@bench.example.jp,{},{grade},{}-04-01,{promotion},正規,{}",
            kana(i),
            SECTIONS[(i + moved) % SECTIONS.len()],
            1990 + i % 30,
            if i % 7 == 0 { "評価者" } else { "" },
        );
    }
    csv
}

#[tokio::main]
async fn main() {
    let args = BenchArgs::from_env();
    let (rows, record_result, backend) = (args.rows, args.record, args.backend);
    let app = spawn().await;
    let hr = app.hr();
    let first = roster(rows, 0);
    let changed = roster(rows, 1);
    println!("file: {rows} rows, {:.1} MiB; backend: {backend}", first.len() as f64 / 1048576.0);
    let rss_before = peak_rss_mib();
    let mut lines = Vec::new();
    // `--imports N` (at least 3, default 6): the unchanged re-imports after the first three show
    // whether memory levels off.
    let count = args.number("--imports").unwrap_or(6).max(3);
    let mut imports =
        vec![("all new".to_string(), &first), ("unchanged".into(), &first), ("10% changed".into(), &changed)];
    imports.extend((2..=count - 2).map(|k| (format!("unchanged {k}"), &changed)));
    for (label, body) in imports {
        // Linux: writing 5 to clear_refs resets the peak (VmHWM) to the current RSS, so each
        // request's own peak can be read.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let base = current_rss_mib();
        // Each write and the floor start from a checkpoint (see `bench::checkpoint`).
        kenshu_tests::bench::checkpoint(&app).await;
        let started = Instant::now();
        let res = app
            .post_csv("/api/v1/employees/import?mode=upsert", &hr, "text/csv", body.clone().into_bytes())
            .await;
        let elapsed = started.elapsed();
        let status = res.status();
        let report: Value = res.json().await.unwrap();
        assert!(status.is_success(), "{status}: {report}");
        let line = format!(
            "{label:12} {:>7.0} ms  peak +{:>3.0} MiB  after {:>4.0} MiB  created {} updated {} unchanged {}",
            elapsed.as_secs_f64() * 1000.0,
            peak_rss_mib() - base,
            current_rss_mib(),
            report["created"],
            report["updated"],
            report["unchanged"]
        );
        println!("{line}");
        lines.push(line);
    }
    if let Some(copy) = copy_ceiling(&app, &first).await {
        let new_ms: f64 = lines[0].split_whitespace().nth(2).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
        let line = format!(
            "COPY ceiling {copy:>7.0} ms  (the same file into a table of its ten text columns, same run); \
             the first import runs at {:.2}× COPY's row rate",
            copy / new_ms
        );
        println!("{line}");
        lines.push(line);
    }
    // The floor with the indexes, the foreign keys and the audit rows the import keeps: the
    // employees and the first import's audit records written again by the database alone.
    let floor_tables = [("employee", "true"), ("audit_log", "action = 'employee.import' AND before IS NULL")];
    if let Some((floor, written)) = kenshu_tests::bench::write_floor(&app, &floor_tables).await {
        let new_ms: f64 = lines[0].split_whitespace().nth(2).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
        let line = format!(
            "INSERT … SELECT {floor:>4.0} ms  ({written} rows: the employees and their creation's audit records \
             again into tables like theirs, same indexes and foreign keys, same run); the first import takes \
             {:.1}× that",
            new_ms / floor
        );
        println!("{line}");
        lines.push(line);
    }
    let rss_after = peak_rss_mib();
    let memory = format!(
        "peak RSS {rss_after:.0} MiB (before the imports, with the file generated: {rss_before:.0} MiB)"
    );
    println!("{memory}");
    if record_result {
        record(
            &format!("bench-import · {backend} · {rows} rows · release build"),
            &format!("{}\n{memory}\n{}", lines.join("\n"), run_context()),
        );
    }
}
