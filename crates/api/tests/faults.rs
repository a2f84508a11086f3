//! The binary under faults, on a PostgreSQL cluster of the test's own (run in the PostgreSQL
//! pass, `TEST_DATABASE_URL` set): SIGTERM while several clients write fails none of them, and a
//! service killed in the middle of an import leaves nothing of it.

#[path = "../../../tests/src/pg_cluster.rs"]
#[allow(dead_code)] // Shared with the e2e suite, which stops and crashes it.
mod pg_cluster;
mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kenshu_persistence::Db;
use pg_cluster::PgCluster;
use sea_orm::{ConnectionTrait, Statement};
use support::{body, http, kenshu, start_on, status, try_http};

fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

async fn strings(db: &Db, sql: &str) -> BTreeSet<String> {
    let rows = db.conn().query_all(Statement::from_string(db.backend(), sql)).await.unwrap();
    rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

async fn count(db: &Db, sql: &str) -> i64 {
    let row = db.conn().query_one(Statement::from_string(db.backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

/// `kenshu audit verify` on `url` succeeds (every chain intact).
fn audit_intact(url: &str) {
    let out = kenshu(url).args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sigterm_while_clients_write_fails_none_of_them() {
    if !on_postgres() {
        return;
    }
    let pg = PgCluster::start();
    let (mut server, address) = start_on(Some(pg.database("kenshu")));
    let bearer = server.bearer("10035", &["employee", "hr_admin"]);
    let me = body(&http(&address, "GET /api/v1/me", &[("Authorization", &bearer)], b""));
    let section = me["employee"]["section_id"].as_str().unwrap().to_string();

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (address, bearer, section, stop) = (address.clone(), bearer.clone(), section.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                for n in 0.. {
                    let no = format!("T{w}{n:05}");
                    let json = format!(
                        r#"{{"employee_no":"{no}","name":"終了 試験","kana":"シュウリョウ シケン","section_id":"{section}","grade":"一般","hire_date":"2020-04-01"}}"#
                    );
                    let headers = [("Authorization", bearer.as_str()), ("Content-Type", "application/json")];
                    match try_http(&address, "POST /api/v1/employees", &headers, json.as_bytes()) {
                        // Refused once the service stops accepting: this writer is done.
                        Err(_) if stop.load(Ordering::Relaxed) => break,
                        Err(e) => panic!("{no}: {e} before the signal"),
                        Ok(answer) => answers.push((no, status(&answer))),
                    }
                }
                answers
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    assert!(Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap().success());
    let answers: Vec<(String, Option<u16>)> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(server.wait_exit().success());

    let failed: Vec<_> = answers.iter().filter(|(_, s)| *s != Some(201)).collect();
    assert!(failed.is_empty(), "requests the shutdown failed: {failed:?}");
    let acknowledged: BTreeSet<String> = answers.into_iter().map(|(no, _)| no).collect();
    assert!(acknowledged.len() >= 10, "only {} writes before the signal", acknowledged.len());
    let stored = block_on(async {
        let db = Db::connect(&server.url, 1).await.unwrap();
        strings(&db, "SELECT employee_no FROM employee WHERE employee_no LIKE 'T%'").await
    });
    assert_eq!(stored, acknowledged, "stored rows and 201s differ");
    audit_intact(&server.url);
}

#[test]
fn a_service_killed_in_the_middle_of_an_import_leaves_nothing_of_it() {
    if !on_postgres() {
        return;
    }
    let pg = PgCluster::start();
    let (mut server, address) = start_on(Some(pg.database("kenshu")));
    let bearer = server.bearer("10035", &["employee", "hr_admin"]);
    let url = server.url.clone();
    block_on(async {
        let db = Db::connect(&url, 2).await.unwrap();
        let audit_before = count(&db, "SELECT count(*) FROM audit_log").await;
        // Hold the audit chain's heads: the import writes all its rows, then waits at its commit
        // for the chain, in the middle of its transaction, for as long as the test likes.
        let hold = db.begin_write().await.unwrap();
        hold.execute_unprepared("LOCK TABLE audit_chain_head IN EXCLUSIVE MODE").await.unwrap();

        let mut csv = String::from("職員番号,氏名,フリガナ,所属コード,職級,採用日\n");
        for i in 0..3000 {
            csv.push_str(&format!("K{i:05},職員 {i},ショクイン,S0101,一般,2020-04-01\n"));
        }
        let import = {
            let (address, bearer) = (address.clone(), bearer.clone());
            std::thread::spawn(move || {
                let headers = [("Authorization", bearer.as_str()), ("Content-Type", "text/csv")];
                try_http(&address, "POST /api/v1/employees/import?mode=upsert", &headers, csv.as_bytes())
            })
        };
        let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%audit_chain_head%'";
        let deadline = Instant::now() + Duration::from_secs(60);
        while count(&db, waiting).await == 0 {
            assert!(Instant::now() < deadline, "the import never reached its commit");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.child.kill().unwrap();
        server.wait_exit();
        hold.rollback().await.unwrap();
        let answer = import.join().unwrap();
        assert!(
            answer.as_ref().map_or(true, |a| status(a).is_none()),
            "the killed import answered: {answer:?}"
        );

        // The killed transaction is rolled back whole: no row, no audit record.
        assert_eq!(count(&db, "SELECT count(*) FROM employee WHERE employee_no LIKE 'K%'").await, 0);
        assert_eq!(count(&db, "SELECT count(*) FROM audit_log").await, audit_before);
        db.close().await.unwrap();
    });
    audit_intact(&url);
}
