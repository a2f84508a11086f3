//! Roster import: encodings, headers, idempotence, dry run, all-or-nothing.

use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use serde_json::Value;

const HEADER_JA: &str =
    "職員番号,氏名,フリガナ,所属コード,職級,採用日,昇格日,雇用形態,退職予定日,タグ,備考\n";

fn rows() -> String {
    let mut s = String::from(HEADER_JA);
    s.push_str(
        "３０００１,新田　一郎,ﾆｯﾀ ｲﾁﾛｳ,S0101,主任,令和2年4月1日,主任=R5.4.1,正規,,防災担当;評価者,メモ\n",
    );
    s.push_str("30002,新田 二郎,にった じろう,S0102,一般,2023/4/1,,会計年度任用,,,\n");
    s.push_str("30003,新田 三郎,ニッタ サブロウ,S0201,係長,H20.4.1,主任=2012-04-01;係長=2022-04-01,正規,2024-03-31,,\n");
    s
}

async fn import(app: &TestApp, query: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.post_csv(&format!("/api/v1/employees/import?{query}"), &app.hr(), content_type, body).await
}

#[tokio::test]
async fn upsert_utf8_bom_and_shift_jis_idempotently() {
    let app = spawn().await;
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(rows().as_bytes());
    let res = import(&app, "mode=upsert", "text/csv", bom.clone()).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["created"], 3);
    assert_eq!(report["ignored_columns"], serde_json::json!(["備考"]));
    let e = app.employee("30001").await;
    assert_eq!(e["kana"], "ニッタ イチロウ");
    assert_eq!(e["hire_date"], "2020-04-01");
    assert_eq!(e["promotions"]["主任"], "2023-04-01");
    assert_eq!(app.employee("30002").await["employment_type"], "fixed_term");
    assert_eq!(app.employee("30003").await["retirement_date"], "2024-03-31");
    // In one batch with a date the others have none: NULL, not a stand-in (PostgreSQL's bulk
    // write sends a date array with the NULLs marked apart).
    assert!(e["retirement_date"].is_null(), "{e}");
    assert!(e["post_since"].is_null(), "{e}");

    // The same roster as Shift_JIS, detected, then declared: nothing changes.
    let text = rows();
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    for ct in ["text/csv", "text/csv; charset=Shift_JIS"] {
        let report: Value = import(&app, "mode=upsert", ct, sjis.to_vec()).await.json().await.unwrap();
        assert_eq!(
            (report["created"].as_u64(), report["unchanged"].as_u64()),
            (Some(0), Some(3)),
            "{ct}: {report}"
        );
    }
    // English headers, one change.
    let csv = "employee_no,name,kana,section_code,grade,hire_date\n30002,新田 二郎,ニッタ ジロウ,S0102,主任,2023-04-01\n";
    let report: Value = import(&app, "mode=upsert", "text/csv", csv.into()).await.json().await.unwrap();
    assert_eq!(report["updated"], 1);
    assert_eq!(app.employee("30002").await["grade"], "主任");
}

#[tokio::test]
async fn full_roster_marks_missing_employees_inactive_and_dry_run_writes_nothing() {
    let app = spawn().await;
    let all = app.all_employees().await;
    assert_eq!(all.len(), 294);
    // The personnel system's roster: everyone but one, who retired.
    let csv = roster_csv(&app, |e, code| (e["employee_no"] != people::SAME_SECTION).then_some(code)).await;
    let audit_before = app.audit_count().await;
    let report: Value =
        import(&app, "dry_run=true&mode=full", "text/csv", csv.clone().into()).await.json().await.unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(
        (report["unchanged"].as_u64(), report["deactivated"].as_u64()),
        (Some(293), Some(1)),
        "{report}"
    );
    assert_eq!(app.employee(people::SAME_SECTION).await["active"], true, "dry run changed data");
    assert_eq!(app.audit_count().await, audit_before, "dry run wrote audit entries");

    let report: Value = import(&app, "mode=full", "text/csv", csv.into()).await.json().await.unwrap();
    assert_eq!(report["deactivated"], 1);
    let gone = app.employee(people::SAME_SECTION).await;
    assert_eq!(gone["active"], false);
    assert_eq!(gone["version"], 2);
    // Audit: one deactivation and one summary.
    assert_eq!(app.audit_count().await, audit_before + 2);
}

#[tokio::test]
async fn bad_files_are_rejected_whole_with_every_bad_row() {
    let app = spawn().await;
    let before = app.all_employees().await;
    let audit_before = app.audit_count().await;

    let mut csv = rows();
    csv.push_str("30004,誤り 日付,アヤマリ ヒヅケ,S0101,一般,2023-02-30,,,,,\n");
    csv.push_str("30005,不明 所属,フメイ ショゾク,S9999,一般,2023-04-01,,,,,\n");
    csv.push_str("30001,重複 番号,チョウフク バンゴウ,S0101,一般,2023-04-01,,,,,\n");
    csv.push_str("30006,誤り 職級,アヤマリ ショッキュウ,S0101,社長,R5.13.1,,,,,\n");
    let p = assert_problem(import(&app, "mode=upsert", "text/csv", csv.into()).await, 422, "import-rejected")
        .await;
    let bad_rows = p["rows"].as_array().unwrap();
    let has = |line: u64, column: &str, needle: &str| {
        bad_rows.iter().any(|r| {
            r["line"] == line && r["column"] == column && r["reason"].as_str().unwrap().contains(needle)
        })
    };
    assert!(has(5, "採用日", "2023-02-30"), "{p}");
    assert!(has(6, "所属コード", "S9999"), "{p}");
    assert!(has(7, "職員番号", "line 2"), "{p}");
    assert!(has(8, "職級", "社長"), "{p}");
    assert!(has(8, "採用日", "R5.13.1"), "{p}");
    assert_eq!(bad_rows.len(), 5, "{p}");

    // Missing columns, duplicate columns, empty file, UTF-16, wrong declared encoding.
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("text/csv", "職員番号,氏名\n1,a\n".into(), "missing required columns"),
        ("text/csv", "employee_no,職員番号,name,kana,section_code,grade,hire_date\n".into(), "twice"),
        ("text/csv", Vec::new(), "empty"),
        ("text/csv", b"\xFF\xFEe\x00m\x00".to_vec(), "UTF-16"),
        ("text/csv; charset=utf-8", encoding_rs::SHIFT_JIS.encode(&rows()).0.to_vec(), "not valid UTF-8"),
        ("text/csv", vec![0x82, 0xFF, 0xFE, 0x81, 0x0A], "neither UTF-8 nor Shift_JIS"),
        // Refused before any parsing: 400,000 columns (took 9.5 s), and a few hundred.
        ("text/csv", format!("{}\n", vec!["x"; 400_000].join(",")).into_bytes(), "longer than 65536 bytes"),
        (
            "text/csv",
            format!("{},{}\n", HEADER_JA.trim_end(), vec!["備考"; 250].join(",")).into_bytes(),
            "at most 200",
        ),
    ];
    // A header without rows would, as a full roster, retire everyone: refused.
    let p = assert_problem(import(&app, "mode=full", "text/csv", HEADER_JA.into()).await, 422, "import-file")
        .await;
    assert!(p["detail"].as_str().unwrap().contains("no rows"), "{p}");
    for (ct, body, needle) in cases {
        let p = assert_problem(import(&app, "mode=upsert", ct, body).await, 422, "import-file").await;
        assert!(p["detail"].as_str().unwrap().contains(needle), "{needle}: {p}");
    }
    assert_problem(
        import(&app, "mode=upsert", "application/json", b"{}".to_vec()).await,
        415,
        "unsupported-media-type",
    )
    .await;
    assert_problem(
        import(&app, "mode=upsert", "text/csv; charset=latin1", rows().into()).await,
        415,
        "unsupported-media-type",
    )
    .await;
    // The mode is never assumed: a partial file taken as whole would retire everyone it leaves out.
    let p = assert_problem(import(&app, "dry_run=true", "text/csv", rows().into()).await, 400, "bad-request")
        .await;
    assert!(p["detail"].as_str().unwrap().contains("mode"), "{p}");
    let big = vec![b'a'; 9 * 1024 * 1024];
    assert_problem(import(&app, "mode=upsert", "text/csv", big).await, 413, "payload-too-large").await;
    let employee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let res =
        app.post_csv("/api/v1/employees/import?mode=upsert", &employee, "text/csv", rows().into()).await;
    assert_problem(res, 403, "forbidden").await;

    assert_eq!(app.all_employees().await, before, "a rejected import changed the roster");
    assert_eq!(app.audit_count().await, audit_before, "a rejected import wrote audit entries");
}

#[tokio::test]
async fn a_bad_row_after_written_batches_rolls_the_whole_file_back() {
    // The import writes valid batches while it reads; a bad row near the end of a large file
    // must still leave the roster and the audit log exactly as they were.
    let app = spawn().await;
    let before = app.all_employees().await;
    let audit_before = app.audit_count().await;
    let mut csv = String::from(HEADER_JA);
    for i in 0..2500 {
        csv.push_str(&format!("4{i:05},大量 {i},タイリョウ,S0101,一般,2020-04-01,,,,,\n"));
    }
    csv.push_str("499999,最後 誤り,サイゴ アヤマリ,S0101,一般,2020-13-01,,,,,\n");
    let p = assert_problem(import(&app, "mode=upsert", "text/csv", csv.into()).await, 422, "import-rejected")
        .await;
    assert_eq!(p["rows"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p["rows"][0]["line"], 2502, "{p}");
    assert_eq!((&p["rows"][0]["column"], &p["rows"][0]["code"]), (&"採用日".into(), &"format".into()), "{p}");
    assert_eq!(app.all_employees().await, before, "a rejected import changed the roster");
    assert_eq!(app.audit_count().await, audit_before, "a rejected import wrote audit entries");
}

#[tokio::test]
async fn the_example_roster_in_the_repository_imports() {
    // examples/roster.csv is what the README points newcomers at; it must stay valid.
    let app = spawn().await;
    let body = std::fs::read(kenshu_tests::repo_root().join("examples/roster.csv")).unwrap();
    let res = import(&app, "mode=upsert&dry_run=true", "text/csv", body).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["created"], 3, "{report}");
    assert_eq!(report["dry_run"], true, "{report}");
}

#[tokio::test]
async fn an_import_never_overwrites_a_change_made_while_it_ran() {
    use kenshu_domain::roster_import::{Encoding, RosterReader};
    use kenshu_persistence::repo::employee::{execute, RosterPlanner};
    use kenshu_persistence::repo::{org, structure};
    use kenshu_persistence::{Actor, RepoError};
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

    let app = spawn().await;
    // SQLite serialises writers, so an edit cannot land between an import's read and its write.
    if app.db.backend() != DatabaseBackend::Postgres {
        return;
    }
    assert_eq!(import(&app, "mode=upsert", "text/csv", rows().into()).await.status(), 200);
    let before = app.employee("30002").await;

    // The import reads the roster (30002 at version 1) ...
    let conn = app.db.conn();
    let o = org::find_by_code(conn, "isehara").await.unwrap().unwrap();
    let actor = Actor { org_id: o.id, subject: "importer".into(), request_id: None };
    let ladder = org::ladder(conn, o.id).await.unwrap();
    let codes = structure::section_index(conn, o.id).await.unwrap().into_keys().collect();
    let txn = app.db.begin_write().await.unwrap();
    let mut planner = RosterPlanner::load(&txn, &actor).await.unwrap();

    // ... someone else changes 30002 and commits ...
    let bump =
        "UPDATE employee SET post = 'changed meanwhile', version = version + 1 WHERE employee_no = '30002'";
    conn.execute(Statement::from_string(DatabaseBackend::Postgres, bump)).await.unwrap();

    // ... and the import's update of 30002, planned against version 1, must not win.
    let csv = rows().replace("30002,新田 二郎", "30002,新田 次郎");
    let mut reader = RosterReader::open(csv.as_bytes(), Encoding::Auto, &ladder, &codes).unwrap();
    let mut batch = Vec::new();
    while let Some(row) = reader.next_row() {
        batch.push(row.unwrap());
    }
    let planned = planner.plan(&batch).unwrap();
    match execute(&txn, planned).await {
        Err(RepoError::Conflict(m)) => assert!(m.en.contains("changed while this import ran"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    txn.rollback().await.unwrap();
    let after = app.employee("30002").await;
    assert_eq!(after["post"], "changed meanwhile");
    assert_eq!(after["name"], before["name"]);
    assert_eq!(after["version"], 2);
}

/// The whole roster as the personnel system would export it, from what the service holds: `row`
/// gets each employee with their section code and answers the section code to write, or `None`
/// to leave them out.
pub(crate) async fn roster_csv(app: &TestApp, row: impl Fn(&Value, String) -> Option<String>) -> String {
    let all = app.all_employees().await;
    let mut csv = String::from("employee_no,name,kana,section_code,grade,hire_date,promotions,post,post_since,tags,employment_type,retirement_date,email\n");
    let sections: Value = app.get_json("/api/v1/sections?limit=200", &app.hr()).await;
    let code_of = |id: &Value| {
        sections["items"].as_array().unwrap().iter().find(|s| &s["id"] == id).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for e in all.iter().filter(|e| e["active"] == true) {
        let Some(code) = row(e, code_of(&e["section_id"])) else { continue };
        let promotions: Vec<String> = e["promotions"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(g, d)| format!("{g}={}", d.as_str().unwrap()))
            .collect();
        let tags: Vec<&str> = e["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            e["employee_no"].as_str().unwrap(),
            e["name"].as_str().unwrap(),
            e["kana"].as_str().unwrap(),
            code,
            e["grade"].as_str().unwrap(),
            e["hire_date"].as_str().unwrap(),
            promotions.join(";"),
            e["post"].as_str().unwrap_or(""),
            e["post_since"].as_str().unwrap_or(""),
            tags.join(";"),
            e["employment_type"].as_str().unwrap(),
            e["retirement_date"].as_str().unwrap_or(""),
            e["email"].as_str().unwrap_or(""),
        ));
    }
    csv
}

#[tokio::test]
async fn posts_and_tags_are_split_as_people_write_them_and_a_post_without_its_date_is_warned() {
    let app = spawn().await;
    let hr = app.hr();
    let csv = "職員番号,氏名,フリガナ,所属コード,職級,採用日,職,役職発令日,タグ\n\
        30001,新田 一郎,ニッタ イチロウ,S0101,課長,2000-04-01,課長職;所属長,R5.4.1,評価者・防災担当\n\
        30002,新田 二郎,ニッタ ジロウ,S0102,課長,2000-04-01,課長職,,特定個人情報取扱者　人権担当\n";
    let report: Value = import(&app, "mode=upsert", "text/csv", csv.into()).await.json().await.unwrap();
    assert_eq!(report["created"], 2, "{report}");
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{report}");
    assert_eq!((warnings[0]["line"].as_u64(), warnings[0]["column"].as_str()), (Some(3), Some("役職発令日")));
    let one = app.employee("30001").await;
    assert_eq!(one["post"], "課長職;所属長");
    let mut tags: Vec<&str> = one["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    tags.sort();
    assert_eq!(tags, vec!["評価者", "防災担当"]);
    assert_eq!(app.employee("30002").await["tags"].as_array().unwrap().len(), 2);
    // Both posts match rules: 所属長 and newly appointed 課長職.
    let plan = app.post_json("/api/v1/plans", &hr, &serde_json::json!({"fiscal_year": 2023})).await;
    assert!(matches!(plan.status().as_u16(), 201 | 409));
    let body = serde_json::json!({
        "fiscal_year": 2023, "category": "hierarchical", "number": 18, "title": "管理者 実務研修",
        "rules": [{"route": "designation", "conditions": [{"kind": "newly_appointed_to_post", "post": "課長職"}, {"kind": "post", "post": "所属長"}]}],
        "delivery": "classroom"
    });
    let res = app.post_json("/api/v1/courses", &hr, &body).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let eligible =
        app.get_json(&format!("/api/v1/courses/{id}/eligible?fiscal_year=2023&limit=1000"), &hr).await;
    let nos: Vec<&str> = eligible["rules"][0]["employees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["employee_no"].as_str().unwrap())
        .collect();
    assert!(nos.contains(&"30001") && !nos.contains(&"30002"), "{nos:?}");
}

#[tokio::test]
async fn a_roster_with_login_ids_sets_them_and_one_without_the_column_keeps_them() {
    let app = spawn().await;
    let csv = "職員番号,氏名,フリガナ,所属コード,職級,採用日,ログインID\n30001,新田 一郎,ニッタ イチロウ,S0101,主事,2020-04-01,nitta.ichiro\n";
    let report: Value = import(&app, "mode=upsert", "text/csv", csv.into()).await.json().await.unwrap();
    assert_eq!(report["created"], 1);
    assert_eq!(app.employee("30001").await["portal_login_id"], "nitta.ichiro");
    // The portal renamed the login: the roster carries the new one.
    let csv = csv.replace("nitta.ichiro", "Nitta.I");
    let report: Value = import(&app, "mode=upsert", "text/csv", csv.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["updated"], 1);
    assert_eq!(app.employee("30001").await["portal_login_id"], "Nitta.I");
    // A personnel export without the column leaves the login ids the portal's directory set.
    let csv = "職員番号,氏名,フリガナ,所属コード,職級,採用日\n30001,新田 一郎,ニッタ イチロウ,S0101,主事,2020-04-01\n";
    let report: Value = import(&app, "mode=upsert", "text/csv", csv.into()).await.json().await.unwrap();
    assert_eq!(report["unchanged"], 1, "{report}");
    assert_eq!(app.employee("30001").await["portal_login_id"], "Nitta.I");
}

/// The roster an import plans against is read a page at a time (1,000 staff per statement):
/// at exactly two full pages every employee must still be found, so a full re-import of all
/// but one leaves the rest unchanged and creates nobody twice.
#[tokio::test]
async fn a_roster_of_whole_pages_is_planned_against_every_employee() {
    let app = spawn().await;
    let demo = app.all_employees().await.len();
    let mut csv = String::from("employee_no,name,kana,section_code,grade,hire_date\n");
    for n in 0..(2000 - demo) {
        csv.push_str(&format!("{},頁 {n},ページ,S0101,一般,2020-04-01\n", 50_000 + n));
    }
    let report: Value = import(&app, "mode=upsert", "text/csv", csv.into()).await.json().await.unwrap();
    assert_eq!(report["created"].as_u64(), Some(2000 - demo as u64), "{report}");

    let csv = roster_csv(&app, |e, code| (e["employee_no"] != people::SAME_SECTION).then_some(code)).await;
    let res = import(&app, "mode=full", "text/csv", csv.into()).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(
        (report["created"].as_u64(), report["unchanged"].as_u64(), report["deactivated"].as_u64()),
        (Some(0), Some(1999), Some(1)),
        "{report}"
    );
}
