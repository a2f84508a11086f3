//! Catalogue files over HTTP: CSV (UTF-8 or Shift_JIS) and JSON import with dry run and
//! all-or-nothing, idempotent re-import, and exports that import back unchanged.

use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const CSV: &str = "区分,No,研修名,目的,対象,対象ルール,実施時期,実施方法,研修機関,人数,報告書,ねらい,位置づけ\r\n\
階層別,1,新採用職員　採用時研修Ⅰ,社会人、公務員としての自覚を促す。,新採用職員,指名制: new_hires,４月,集合,,,,能力アップ,\r\n\
階層別,9,主任者研修Ⅱ,会議運営と司会進行の能力向上をめざす。,主任級昇格後３年を経過した者,\"designation: years_after_promotion(主任級, 3)\",８月,eラーニング,,,,,\r\n\
課題別・職能別,1,市民サービス向上研修Ⅰ,,新採用職員,指名: new_hires,４月,,,,,,階層別-1\r\n\
派遣,2,市町村職員中央研修所（市町村アカデミー）,,所属長推薦者,推薦: all_staff; 公募: all_staff,５月～２月,,市町村職員中央研修所,１１人,１か月,,\r\n";

async fn import(
    app: &TestApp,
    year: i32,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.request(Method::POST, &format!("/api/v1/plans/{year}/import?{query}"), Some(&app.hr()))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn csv() -> String {
    CSV.to_string()
}

#[tokio::test]
async fn csv_import_dry_run_then_for_real_then_again_unchanged() {
    let app = spawn().await;
    let before = app.audit_count().await;
    let dry = ok(import(&app, 2023, "dry_run=true", "text/csv", csv().into_bytes()).await).await;
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["plan_created"].as_bool(), dry["created"].as_u64()),
        (Some(true), Some(true), Some(4))
    );
    assert_eq!(app.audit_count().await, before, "a dry run writes nothing");
    assert_eq!(app.get("/api/v1/plans/2023", &app.hr()).await.status(), 404);

    let real = ok(import(&app, 2023, "", "text/csv", csv().into_bytes()).await).await;
    assert_eq!((real["created"].as_u64(), real["updated"].as_u64()), (Some(4), Some(0)));
    let again = ok(import(&app, 2023, "", "text/csv", csv().into_bytes()).await).await;
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(0), Some(4))
    );

    let courses = app.get_json("/api/v1/courses?fiscal_year=2023", &app.hr()).await;
    let items = courses["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|c| c["status"] == "draft"));
    let parent = items.iter().find(|c| c["number"] == 1 && c["category"] == "hierarchical").unwrap();
    let inner = items.iter().find(|c| c["category"] == "thematic").unwrap();
    assert_eq!(inner["within_course_id"], parent["id"]);
    let academy = items.iter().find(|c| c["category"] == "dispatch").unwrap();
    assert_eq!(academy["delivery"], "dispatch");
    assert_eq!(academy["headcount"], 11);
    assert_eq!(academy["report"], json!({"kind": "months_after_end", "months": 1}));
    assert_eq!(academy["timing_label"], "5月～2月");
    assert_eq!(academy["routes"], json!(["recommendation", "application"]));

    // An edited row updates only that course, and keeps its id.
    let edited = csv().replace("８月,eラーニング", "９月,eラーニング");
    let third = ok(import(&app, 2023, "", "text/csv", edited.into_bytes()).await).await;
    assert_eq!((third["updated"].as_u64(), third["unchanged"].as_u64()), (Some(1), Some(3)));
    // A file that leaves a course out reports it and leaves it alone.
    let fewer: String = csv().lines().take(4).map(|l| format!("{l}\n")).collect();
    let partial = ok(import(&app, 2023, "", "text/csv", fewer.into_bytes()).await).await;
    assert_eq!(partial["not_in_file"], json!(["派遣-2"]));
}

#[tokio::test]
async fn shift_jis_files_import_and_export() {
    let app = spawn().await;
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(CSV);
    assert!(!unmappable);
    let report = ok(import(&app, 2023, "", "text/csv", sjis.into_owned()).await).await;
    assert_eq!(report["created"], 4);
    let res = app.get("/api/v1/plans/2023/export?format=csv&encoding=shift_jis", &app.hr()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=shift_jis");
    let bytes = res.bytes().await.unwrap();
    let (text, _, malformed) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!malformed);
    assert!(text.starts_with("区分,No,研修名"), "{text}");
    assert!(text.contains("市民サービス向上研修Ⅰ"));
    // Exported Shift_JIS imports back unchanged.
    let back = ok(import(&app, 2023, "", "text/csv", bytes.to_vec()).await).await;
    assert_eq!(back["unchanged"], 4);
}

#[tokio::test]
async fn exports_are_excel_ready_and_import_back_unchanged() {
    let app = spawn().await;
    ok(import(&app, 2023, "", "text/csv", csv().into_bytes()).await).await;
    let res = app.get("/api/v1/plans/2023/export", &app.hr()).await;
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("kenshu-plan-2023.csv"));
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{FEFF}".as_bytes()), "a BOM, so Excel reads UTF-8");
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains("designation: years_after_promotion(主任, 3)"), "{text}");
    assert!(text.contains("課題別・職能別,1,市民サービス向上研修Ⅰ"));
    assert!(text.contains("階層別-1"));
    let back = ok(import(&app, 2023, "", "text/csv; charset=utf-8", bytes.to_vec()).await).await;
    assert_eq!((back["unchanged"].as_u64(), back["updated"].as_u64()), (Some(4), Some(0)));

    // JSON: the same, and into another year it builds that year's plan with positions resolved.
    let file = app.get_json("/api/v1/plans/2023/export?format=json", &app.hr()).await;
    assert_eq!(file["courses"].as_array().unwrap().len(), 4);
    assert_eq!(file["courses"][2]["within"], json!({"category": "hierarchical", "number": 1}));
    let body = serde_json::to_vec(&file).unwrap();
    let same = ok(import(&app, 2023, "", "application/json", body.clone()).await).await;
    assert_eq!(same["unchanged"], 4);
    let next = ok(import(&app, 2025, "", "application/json", body).await).await;
    assert_eq!((next["plan_created"].as_bool(), next["created"].as_u64()), (Some(true), Some(4)));
    let plan = app.get_json("/api/v1/plans/2025", &app.hr()).await;
    assert_eq!(plan["title"], "令和5年度 職員研修計画", "the file's plan title is kept as written");

    // Export is for HR, auditors and scripts; staff read the catalogue through the API.
    let staff = app.token(people::EMPLOYEE, &[Role::Employee]);
    assert_eq!(app.get("/api/v1/plans/2023/export", &staff).await.status(), 403);
    assert_eq!(app.get("/api/v1/plans/2024/export", &app.hr()).await.status(), 404);
}

#[tokio::test]
async fn bad_files_are_refused_whole_and_write_nothing() {
    let app = spawn().await;
    let before = app.audit_count().await;
    // Every bad row is listed: unknown category, unknown grade in a rule, a rule that can never
    // match, bad timing, a position naming a course that does not exist, a number twice.
    let bad = "区分,No,研修名,対象ルール,実施時期,位置づけ\n\
研究,1,A,,,\n\
階層別,2,B,\"designation: years_after_promotion(部長級, 5) & grade(主任)\",,\n\
階層別,3,C,\"designation: years_after_promotion(社長, 5)\",,\n\
階層別,4,D,,3月～9月,\n\
階層別,5,E,,,階層別-99\n\
階層別,5,F,,,\n\
階層別,6,G,designation: new_hires,4月,\n";
    let res = import(&app, 2023, "", "text/csv", bad.as_bytes().to_vec()).await;
    let problem = assert_problem(res, 422, "import-rejected").await;
    let lines: Vec<(u64, String)> = problem["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["column"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (2, "category".into()),
            (3, "rules[0].conditions".into()),
            (4, "rules[0].conditions".into()),
            (5, "実施時期".into()),
            (6, "within".into()),
            (7, "number".into()),
        ],
        "{problem}"
    );
    // JSON rows are numbered by position.
    let json = json!({"courses": [
        {"category": "hierarchical", "number": 1, "title": "A"},
        {"category": "hierarchical", "number": 2, "title": "B", "delivery": "dispatch"}
    ]});
    let res = import(&app, 2023, "", "application/json", serde_json::to_vec(&json).unwrap()).await;
    let problem = assert_problem(res, 422, "import-rejected").await;
    assert_eq!(problem["rows"][0]["line"], 2);
    assert_eq!(problem["rows"][0]["column"], "institution");
    let unknown =
        json!({"courses": [{"category": "hierarchical", "number": 1, "title": "A", "colour": "red"}]});
    let res = import(&app, 2023, "", "application/json", serde_json::to_vec(&unknown).unwrap()).await;
    assert_problem(res, 422, "validation").await;
    // Files that cannot be read at all.
    assert_problem(import(&app, 2023, "", "text/csv", b"title\nA\n".to_vec()).await, 422, "import-file")
        .await;
    assert_problem(import(&app, 2023, "", "text/csv", "区分,No,研修名\n".into()).await, 422, "import-file")
        .await;
    assert_eq!(import(&app, 2023, "", "application/xml", b"<x/>".to_vec()).await.status(), 415);
    assert_eq!(import(&app, 1800, "", "text/csv", csv().into_bytes()).await.status(), 404);
    assert_eq!(app.audit_count().await, before, "a refused file wrote nothing");
    assert_eq!(app.get("/api/v1/plans/2023", &app.hr()).await.status(), 404);
}

/// OWASP's CSV-injection rule: a cell a spreadsheet would take for a formula is written with a
/// leading apostrophe in every CSV export, and the catalogue's own export still reads back
/// unchanged.
#[tokio::test]
async fn formula_like_cells_are_neutralised_in_exports_and_read_back_unchanged() {
    let app = spawn().await;
    let title = "=HYPERLINK(\"\"http://evil.example/\"\",\"\"開く\"\")";
    let file = csv().replace("新採用職員　採用時研修Ⅰ,社会人", &format!("\"{title}\",-社会人"));
    ok(import(&app, 2023, "", "text/csv", file.into_bytes()).await).await;
    let course = app.get_json("/api/v1/courses?fiscal_year=2023&category=hierarchical", &app.hr()).await
        ["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == 1)
        .cloned()
        .unwrap();
    assert_eq!(course["title"], "=HYPERLINK(\"http://evil.example/\",\"開く\")", "stored as given");
    assert_eq!(course["purpose"], "-社会人、公務員としての自覚を促す。");

    let export = app.get("/api/v1/plans/2023/export", &app.hr()).await.text().await.unwrap();
    assert!(export.contains("\"'=HYPERLINK(\"\"http://evil.example/\"\""), "{export}");
    assert!(export.contains(",'-社会人"), "{export}");
    assert!(!export.contains(",=HYPERLINK") && !export.contains(",\"=HYPERLINK"), "{export}");
    let back = ok(import(&app, 2023, "", "text/csv", export.into_bytes()).await).await;
    assert_eq!((back["unchanged"].as_u64(), back["updated"].as_u64()), (Some(4), Some(0)));

    // The year's results count published courses.
    app.publish_plan(2023).await;
    let results =
        app.get("/api/v1/plans/2023/results?format=csv&by=course", &app.hr()).await.text().await.unwrap();
    assert!(results.contains("'=HYPERLINK"), "{results}");
    assert!(!results.contains(",=HYPERLINK") && !results.contains(",\"=HYPERLINK"), "{results}");
}
