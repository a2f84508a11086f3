//! Exports of every list HR works with (受講者名簿, 出席簿, 欠席届, 未提出一覧, 助成申請, 自主研究グループ,
//! 研修履歴, 未受講者, 研修実績), as CSV (UTF-8 with a BOM, or Shift_JIS; CRLF) and as XLSX, read back
//! the way Excel would: text stays text, numbers are numbers, days are Excel dates, and no cell
//! a spreadsheet would take for a formula comes out as one.

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use kenshu_domain::auth::Role;
use kenshu_tests::{assert_problem, people, spawn, TestApp};
use reqwest::Method;
use serde_json::json;

use crate::attendance::{ok, put_sheet, recommend, selected_trainee_on};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const EVIL_TITLE: &str = "=HYPERLINK(\"http://evil.example\",\"研修\")";

/// A CSV download: its media type, then its records (BOM taken off, or decoded from Shift_JIS).
async fn csv_rows(app: &TestApp, path: &str, token: &str) -> Vec<Vec<String>> {
    let res = app.get(path, token).await;
    assert_eq!(res.status(), 200, "{path}");
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"kenshu-"), "{disposition}");
    assert!(
        disposition.contains(".csv\"; filename*=UTF-8''%E"),
        "a Japanese name for browsers: {disposition}"
    );
    let bytes = res.bytes().await.unwrap();
    let text = if content_type == "text/csv; charset=shift_jis" {
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
        assert!(!bad);
        text.into_owned()
    } else {
        assert_eq!(content_type, "text/csv; charset=utf-8");
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM, which Excel needs");
        String::from_utf8(bytes[3..].to_vec()).unwrap()
    };
    assert!(text.ends_with("\r\n") && text.matches('\n').count() == text.matches("\r\n").count(), "CRLF");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// An XLSX download's one sheet, named `sheet`, as cells.
async fn xlsx_rows(app: &TestApp, path: &str, token: &str, sheet: &str) -> Vec<Vec<Data>> {
    let res = app.get(path, token).await;
    assert_eq!(res.status(), 200, "{path}");
    assert_eq!(res.headers()["content-type"], XLSX);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains(".xlsx\"; filename*=UTF-8''%E"), "{disposition}");
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec![sheet.to_string()]);
    let range = book.worksheet_range(sheet).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("text expected, found {other:?}"),
    }
}

/// An Excel date cell's day.
fn day(cell: &Data) -> NaiveDate {
    match cell {
        Data::DateTime(d) => {
            NaiveDate::from_ymd_opt(1899, 12, 30).unwrap() + chrono::Duration::days(d.as_f64() as i64)
        }
        other => panic!("a date expected, found {other:?}"),
    }
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {header:?}"))
}

#[tokio::test]
async fn every_list_hr_works_with_downloads_as_csv_and_xlsx() {
    let app = spawn().await;
    let hr = app.hr();
    let july12 = NaiveDate::from_ymd_opt(2023, 7, 12).unwrap();
    let (course, sessions, _) =
        selected_trainee_on(&app, 2023, 1, &[july12], json!({"title": EVIL_TITLE})).await;
    let colleague = recommend(&app, &course, people::SAME_SECTION, "select").await;
    let colleague_id = app.get_json(&colleague, &hr).await["id"].as_str().unwrap().to_string();
    let me2 = app.token(people::SAME_SECTION, &[Role::Employee]);
    let body =
        json!({"session_id": sessions[0], "kind": "absence", "reason": "@SUM(A1) 体調不良", "submit": true});
    ok(app.post_json(&format!("/api/v1/nominations/{colleague_id}/absence-notices"), &me2, &body).await, 201)
        .await;
    let sheet = json!([
        {"employee_no": people::EMPLOYEE, "status": "present", "note": "-窓口対応のため途中離席"},
        {"employee_no": people::SAME_SECTION, "status": "absent"}
    ]);
    ok(put_sheet(&app, &course, &sessions[0], sheet).await, 200).await;

    // 受講者名簿: every nomination (limit and cursor do not cut a file), numbered, names as text.
    let path = format!("/api/v1/courses/{course}/nominations?format=csv&limit=1");
    let rows = csv_rows(&app, &path, &hr).await;
    assert_eq!(
        rows[0],
        ["No", "職員番号", "氏名", "部", "所属", "選考区分", "状態", "理由", "登録日", "決定日"]
    );
    assert_eq!(rows.len(), 3, "both trainees: {rows:?}");
    // Ignored, but not when it is not a page size at all.
    let bad = app.get(&format!("/api/v1/courses/{course}/nominations?format=csv&limit=0"), &hr).await;
    assert_eq!(kenshu_tests::assert_problem(bad, 422, "validation").await["errors"][0]["field"], "limit");
    let me = rows.iter().find(|r| r[1] == people::EMPLOYEE).unwrap();
    assert_eq!((&me[5][..], &me[6][..], &me[7][..]), ("推薦制", "修了", "窓口改善の担当"));
    assert!(!me[3].is_empty() && !me[4].is_empty(), "department and section by name: {me:?}");
    let res = app.get(&format!("/api/v1/courses/{course}/nominations?format=csv"), &hr).await;
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.ends_with("filename*=UTF-8''%E5%8F%97%E8%AC%9B%E8%80%85%E5%90%8D%E7%B0%BF_kenshu-2023-thematic-1-trainees.csv"),
        "{disposition}"
    );
    let cells =
        xlsx_rows(&app, &format!("/api/v1/courses/{course}/nominations?format=xlsx"), &hr, "受講者名簿")
            .await;
    assert_eq!(cells.len(), 3);
    assert_eq!(cells[1][0], Data::Float(1.0), "numbers are numbers");
    assert!(matches!(&cells[1][1], Data::String(no) if no.len() == 5), "employee numbers stay text");
    assert!(day(&cells[1][8]) >= NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), "registered today, as a date");
    let selected_only = format!("/api/v1/courses/{course}/nominations?format=csv&state=waitlisted");
    assert_eq!(csv_rows(&app, &selected_only, &hr).await.len(), 1, "the list's filters hold: header only");

    // 出席簿 in Shift_JIS, and it loads back through the sheet's own import unchanged.
    let sheet_path = format!("/api/v1/courses/{course}/sessions/{}/attendance", sessions[0]);
    let rows = csv_rows(&app, &format!("{sheet_path}?format=csv&encoding=shift_jis"), &hr).await;
    assert_eq!(
        rows[0],
        ["No", "職員番号", "氏名", "部", "所属", "出欠", "到着時刻", "退出時刻", "欠席届", "備考", "対象外"]
    );
    let mine = rows.iter().find(|r| r[1] == people::EMPLOYEE).unwrap();
    assert_eq!((&mine[5][..], &mine[9][..]), ("出席", "'-窓口対応のため途中離席"), "a note is neutralised");
    let theirs = rows.iter().find(|r| r[1] == people::SAME_SECTION).unwrap();
    assert_eq!((&theirs[5][..], &theirs[8][..]), ("欠席", "提出"));
    let before = app.get_json(&sheet_path, &hr).await;
    let file =
        app.get(&format!("{sheet_path}?format=csv&encoding=shift_jis"), &hr).await.bytes().await.unwrap();
    let res = app
        .post_csv(&format!("{sheet_path}/import"), &hr, "text/csv; charset=shift_jis", file.to_vec())
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let after = app.get_json(&sheet_path, &hr).await;
    assert_eq!(before["counts"], after["counts"]);
    for (b, a) in before["lines"].as_array().unwrap().iter().zip(after["lines"].as_array().unwrap()) {
        assert_eq!((&b["status"], &b["note"]), (&a["status"], &a["note"]), "{a}");
    }

    // 欠席届: the reason and the course title neutralised, the session's day as a date.
    let path = format!("/api/v1/courses/{course}/sessions/{}/absence-notices?format=xlsx", sessions[0]);
    let cells = xlsx_rows(&app, &path, &hr, "欠席届").await;
    let header: Vec<String> = cells[0].iter().map(text).collect();
    assert_eq!(cells.len(), 2);
    assert_eq!(text(&cells[1][column(&header, "研修名")]), format!("'{EVIL_TITLE}"));
    assert_eq!(text(&cells[1][column(&header, "理由")]), "'@SUM(A1) 体調不良");
    assert_eq!(day(&cells[1][column(&header, "研修日")]), july12);
    assert_eq!(text(&cells[1][column(&header, "状態")]), "提出");

    // 未提出一覧: the course title is never a formula, in CSV or XLSX.
    let rows = csv_rows(&app, "/api/v1/reports?fiscal_year=2023&format=csv", &hr).await;
    let title = column(&rows[0], "研修名");
    assert_eq!(rows.len(), 2, "the trainee who attended owes a report: {rows:?}");
    assert_eq!(rows[1][title], format!("'{EVIL_TITLE}"));
    assert_eq!(rows[1][column(&rows[0], "状態")], "未着手");
    let cells = xlsx_rows(&app, "/api/v1/reports?fiscal_year=2023&format=xlsx", &hr, "研修報告書").await;
    assert_eq!(text(&cells[1][title]), format!("'{EVIL_TITLE}"));
    assert_eq!(cells[1][0], Data::Float(2023.0));

    // 研修履歴 and a section's nominations.
    let employee = app.employee(people::EMPLOYEE).await;
    let path = format!("/api/v1/employees/{}/training-history?format=csv", employee["id"].as_str().unwrap());
    let rows = csv_rows(&app, &path, &hr).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][..4], ["2023", "課題別・職能別", "1", &format!("'{EVIL_TITLE}")]);
    let section = employee["section_id"].as_str().unwrap();
    let head = app.token(people::SECTION_HEAD, &[Role::SectionHead]);
    let path = format!("/api/v1/sections/{section}/nominations?fiscal_year=2023&format=csv");
    assert_eq!(csv_rows(&app, &path, &head).await.len(), 3, "the section head's own list as a file");

    // 未受講者: every page of the list in one file.
    let path = format!("/api/v1/training-gaps?course_ids={course}&fiscal_year=2023");
    let mut staff = 0;
    let mut cursor = String::new();
    loop {
        let page = app.get_json(&format!("{path}&limit=200{cursor}"), &hr).await;
        staff += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert!(staff > 200, "more than one page: {staff}");
    let rows = csv_rows(&app, &format!("{path}&format=csv"), &hr).await;
    assert_eq!(rows[0], ["職員番号", "氏名", "部", "所属", "職級", "採用日"]);
    assert_eq!(rows.len(), staff + 1);

    // 研修実績 by department, as JSON and as a workbook with a total row.
    let r = app.get_json("/api/v1/plans/2023/results", &hr).await;
    let by_department = r["by_department"].as_array().unwrap();
    let selected: u64 = by_department.iter().map(|d| d["selected"].as_u64().unwrap()).sum();
    assert_eq!(selected, 2, "{by_department:?}");
    assert!(by_department.iter().all(|d| !d["department"].as_str().unwrap().is_empty()));
    let path = "/api/v1/plans/2023/results?format=xlsx&by=department";
    let cells = xlsx_rows(&app, path, &hr, "研修実績（部別）").await;
    assert_eq!(text(&cells[0][0]), "部");
    assert_eq!(text(&cells.last().unwrap()[0]), "合計");
    assert_eq!(cells.len(), by_department.len() + 2);

    // 通信教育講座助成 and 自主研究グループ.
    let courses = crate::subsidies::programme(&app, 100_000).await;
    crate::subsidies::confirmed(&app, people::EMPLOYEE, &courses["簿記3級"]).await;
    let rows = csv_rows(&app, "/api/v1/subsidy-applications?format=csv", &hr).await;
    assert_eq!(rows.len(), 2);
    let h = &rows[0];
    assert_eq!(rows[1][column(h, "職員番号")], people::EMPLOYEE);
    assert_eq!((&rows[1][column(h, "講座名")][..], &rows[1][column(h, "受講料")][..]), ("簿記3級", "40000"));
    assert_eq!(rows[1][column(h, "状態")], "所属長確認");
    let me = app.token(people::EMPLOYEE, &[Role::Employee]);
    let fy = crate::subsidies::this_year();
    let body = json!({"fiscal_year": fy, "name": "+窓口研究会", "theme": "待ち時間", "member_nos": [people::SAME_SECTION]});
    ok(app.post_json("/api/v1/study-groups", &me, &body).await, 201).await;
    let cells = xlsx_rows(&app, "/api/v1/study-groups?format=xlsx", &hr, "自主研究グループ").await;
    assert_eq!(text(&cells[1][1]), "'+窓口研究会");
    assert_eq!(cells[1][5], Data::Float(2.0), "members counted");

    // The catalogue as a workbook too.
    let cells = xlsx_rows(&app, "/api/v1/plans/2023/export?format=xlsx", &hr, "研修計画").await;
    assert_eq!(text(&cells[1][2]), format!("'{EVIL_TITLE}"));

    // Text Shift_JIS cannot hold is refused, not replaced; an unknown format is a 400.
    let body = json!({"fiscal_year": fy, "name": "𠮷野研究会", "theme": "地域", "member_nos": [people::SAME_SECTION]});
    ok(app.post_json("/api/v1/study-groups", &me, &body).await, 201).await;
    let p = assert_problem(
        app.get("/api/v1/study-groups?format=csv&encoding=shift_jis", &hr).await,
        422,
        "validation",
    )
    .await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("𠮷"), "{p}");
    let res = app.request(Method::GET, "/api/v1/reports?format=pdf", Some(&hr)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // Who may not read a list may not download it either.
    let res = app.get("/api/v1/reports?format=csv", &me).await;
    assert_problem(res, 403, "forbidden").await;
}
