//! Departments, sections and the grade ladder.

use kenshu_tests::{assert_problem, people, spawn};
use serde_json::{json, Value};

#[tokio::test]
async fn departments_and_sections_with_heads_versions_and_conflicts() {
    let app = spawn().await;
    let hr = app.hr();
    let res =
        app.post_json("/api/v1/departments", &hr, &json!({"code": "ｄ１０", "name": "会計管理部"})).await;
    assert_eq!(res.status(), 201);
    let dept: Value = res.json().await.unwrap();
    assert_eq!(dept["code"], "d10");
    let dup = app.post_json("/api/v1/departments", &hr, &json!({"code": "d10", "name": "x"})).await;
    assert_problem(dup, 409, "conflict").await;
    let bad = app.post_json("/api/v1/departments", &hr, &json!({"code": "a b", "name": ""})).await;
    let p = assert_problem(bad, 422, "validation").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);

    let res = app
        .post_json(
            "/api/v1/sections",
            &hr,
            &json!({"code": "S1001", "name": "会計課", "department_id": dept["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let section: Value = res.json().await.unwrap();
    let orphan = app
        .post_json(
            "/api/v1/sections",
            &hr,
            &json!({"code": "S1002", "name": "x", "department_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_problem(orphan, 422, "validation").await;

    // A head must be an employee of this organisation.
    let head = app.employee(people::EMPLOYEE).await;
    let path = format!("/api/v1/sections/{}", section["id"].as_str().unwrap());
    let body = json!({"code": "S1001", "name": "会計課", "department_id": dept["id"], "head_employee_id": head["id"]});
    let res = app.put_json(&path, &hr, Some("\"1\""), &body).await;
    assert_eq!(res.status(), 200);
    let stale = app.put_json(&path, &hr, Some("\"1\""), &body).await;
    assert_problem(stale, 412, "precondition-failed").await;
    // Repeating the same change changes nothing: same version and ETag, nothing audited.
    let audited = app.audit_count().await;
    let again = app.put_json(&path, &hr, Some("\"2\""), &body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["etag"], "\"2\"");
    assert_eq!(again.json::<Value>().await.unwrap()["version"], 2);
    assert_eq!(app.audit_count().await, audited);
    let stranger = json!({"code": "S1001", "name": "会計課", "department_id": dept["id"], "head_employee_id": uuid::Uuid::now_v7()});
    assert_problem(app.put_json(&path, &hr, Some("\"2\""), &stranger).await, 422, "validation").await;

    // The new head now sees the section's staff (none) and their own record.
    let as_head = app.token(people::EMPLOYEE, &[kenshu_domain::auth::Role::SectionHead]);
    let me = app.get_json("/api/v1/me", &as_head).await;
    assert_eq!(me["headed_sections"], json!([section["id"]]));

    // Heading a second section, acting for a third and heading the department: every unit is
    // theirs, each once, whatever combination of roles names them.
    let mut more = Vec::new();
    for (code, acting) in [("S1003", false), ("S1004", true)] {
        let role = if acting { "acting_head_employee_id" } else { "head_employee_id" };
        let body = json!({"code": code, "name": code, "department_id": dept["id"], role: head["id"]});
        let res = app.post_json("/api/v1/sections", &hr, &body).await;
        assert_eq!(res.status(), 201);
        more.push(res.json::<Value>().await.unwrap()["id"].clone());
    }
    let dept_path = format!("/api/v1/departments/{}", dept["id"].as_str().unwrap());
    let body = json!({"code": "d10", "name": "会計管理部", "head_employee_id": head["id"]});
    assert_eq!(app.put_json(&dept_path, &hr, Some("\"1\""), &body).await.status(), 200);
    let mut expected = vec![section["id"].clone(), more[0].clone(), more[1].clone()];
    expected.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    let me = app.get_json("/api/v1/me", &as_head).await;
    assert_eq!(me["headed_sections"], json!(expected));
    assert_eq!(me["headed_departments"], json!([dept["id"]]));

    let sections =
        app.get_json(&format!("/api/v1/sections?department_id={}", dept["id"].as_str().unwrap()), &hr).await;
    assert_eq!(sections["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn grade_ladder_replacement_keeps_grades_in_use() {
    let app = spawn().await;
    let hr = app.hr();
    let res = app.get("/api/v1/grades", &hr).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let ladder: Value = res.json().await.unwrap();
    assert_eq!(ladder["grades"].as_array().unwrap().len(), 7);
    assert_eq!(ladder["grades"][0]["name"], "一般");

    // Dropping 部長, which nine people hold, is refused.
    let mut shorter = ladder.clone();
    shorter["grades"].as_array_mut().unwrap().pop();
    let p =
        assert_problem(app.put_json("/api/v1/grades", &hr, Some(&etag), &shorter).await, 422, "validation")
            .await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("部長"));
    let dup = json!({"grades": [{"name": "主任"}, {"name": "主任"}]});
    assert_problem(app.put_json("/api/v1/grades", &hr, Some(&etag), &dup).await, 422, "validation").await;

    let mut longer = ladder.clone();
    longer["grades"].as_array_mut().unwrap().push(json!({"name": "理事", "aliases": ["参与"]}));
    let res = app.put_json("/api/v1/grades", &hr, Some(&etag), &longer).await;
    assert_eq!(res.status(), 200);
    assert_problem(
        app.put_json("/api/v1/grades", &hr, Some(&etag), &longer).await,
        412,
        "precondition-failed",
    )
    .await;
    let after = app.get_json("/api/v1/grades", &hr).await;
    assert_eq!(after["grades"][7]["name"], "理事");
}

#[tokio::test]
async fn a_new_organisation_loads_its_structure_then_its_roster_then_its_heads() {
    use kenshu_domain::auth::Role;
    let app = spawn().await;
    let importer = kenshu_tests::token_for(kenshu_tests::OTHER_ORG, "personnel-system", &[Role::Importer]);
    let hr = kenshu_tests::token_for(kenshu_tests::OTHER_ORG, people::OTHER_ORG_EMPLOYEE, &[Role::HrAdmin]);
    let post = |path: &str, token: &str, body: String| {
        let app = &app;
        let (path, token) = (path.to_string(), token.to_string());
        async move { app.post_csv(&path, &token, "text/csv", body.into_bytes()).await }
    };
    let structure = "部コード,部名,所属コード,所属名\nB01,総務部,K0101,職員課\nB01,総務部,K0102,財政課\nB02,市民部,K0201,市民課\n";
    // Dry run: what would be created, nothing written.
    let res = post("/api/v1/organisation/structure/import?dry_run=true", &importer, structure.into()).await;
    let dry: Value = res.json().await.unwrap();
    assert_eq!(
        (dry["departments_created"].as_u64(), dry["sections_created"].as_u64()),
        (Some(2), Some(3)),
        "{dry}"
    );
    let sections = app.get_json("/api/v1/sections?limit=200", &hr).await;
    let before = sections["items"].as_array().unwrap().len();
    let res = post("/api/v1/organisation/structure/import", &importer, structure.into()).await;
    assert_eq!(res.status(), 200);
    let after = app.get_json("/api/v1/sections?limit=200", &hr).await;
    assert_eq!(after["items"].as_array().unwrap().len(), before + 3);
    // The same file again changes nothing.
    let again: Value = post("/api/v1/organisation/structure/import", &importer, structure.into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["departments_unchanged"].as_u64(), again["sections_unchanged"].as_u64()),
        (Some(2), Some(3))
    );
    // Now the roster has sections to go into.
    let roster = "職員番号,氏名,フリガナ,所属コード,職級,採用日\nB100,厚木 一郎,アツギ イチロウ,K0101,課長,2000-04-01\nB101,厚木 二郎,アツギ ジロウ,K0101,一般,2020-04-01\nB200,厚木 三郎,アツギ サブロウ,K0201,部長,1995-04-01\n";
    let res = post("/api/v1/employees/import?mode=upsert", &importer, roster.into()).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Heads by number; an unknown one rejects the file, naming line and column.
    let bad = "部コード,部名,所属コード,所属名,所属長,部長\nB01,総務部,K0101,職員課,B100,B999\nB01,総務部,K0102,財政課,,B999\n";
    let res = post("/api/v1/organisation/structure/import", &importer, bad.into()).await;
    let p = assert_problem(res, 422, "import-rejected").await;
    assert_eq!(
        (p["rows"][0]["line"].as_u64(), p["rows"][0]["column"].as_str()),
        (Some(2), Some("部長")),
        "{p}"
    );
    let heads = "部コード,部名,所属コード,所属名,所属長,部長\nB01,総務部,K0101,職員課,Ｂ１００,B200\nB02,市民部,K0201,市民課,,B200\n";
    let done: Value =
        post("/api/v1/organisation/structure/import", &importer, heads.into()).await.json().await.unwrap();
    assert_eq!(
        (done["departments_updated"].as_u64(), done["sections_updated"].as_u64()),
        (Some(2), Some(1)),
        "{done}"
    );
    // The head of 職員課 now confirms for its staff: the roster decides.
    let k0101 = app.get_json("/api/v1/sections?limit=200", &hr).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "K0101")
        .unwrap()
        .clone();
    let head = app
        .get_json(&format!("/api/v1/employees/{}", k0101["head_employee_id"].as_str().unwrap()), &hr)
        .await;
    assert_eq!(head["employee_no"], "B100");
    // A file without the head columns leaves the heads as they are.
    let names_only = "部コード,部名,所属コード,所属名\nB01,総務部,K0101,職員課（人事）\n";
    let renamed: Value = post("/api/v1/organisation/structure/import", &importer, names_only.into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["sections_updated"], 1, "{renamed}");
    let k0101 = app.get_json(&format!("/api/v1/sections/{}", k0101["id"].as_str().unwrap()), &hr).await;
    assert_eq!(
        (k0101["name"].as_str(), k0101["head_employee_id"].as_str()),
        (Some("職員課（人事）"), head["id"].as_str())
    );
    // Or the roster names a head directly: 所属長 and 部長 columns, 〇 for yes.
    let roster = "職員番号,氏名,フリガナ,所属コード,職級,採用日,所属長,部長\nB101,厚木 二郎,アツギ ジロウ,K0102,課長,2020-04-01,〇,\nB300,厚木 四郎,アツギ シロウ,K0201,課長,2001-04-01,1,\n";
    let res = post("/api/v1/employees/import?mode=upsert", &importer, roster.into()).await;
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["heads_named"], 2, "{report}");
    let by_code = |code: &'static str| {
        let app = &app;
        let hr = hr.clone();
        async move {
            app.get_json("/api/v1/sections?limit=200", &hr).await["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["code"] == code)
                .unwrap()
                .clone()
        }
    };
    let k0102 = by_code("K0102").await;
    let b101 = app.employee_in(kenshu_tests::OTHER_ORG, "B101").await;
    assert_eq!(k0102["head_employee_id"], b101["id"]);
    // Two heads for one section in one file are refused, naming the line.
    let twice = "職員番号,氏名,フリガナ,所属コード,職級,採用日,所属長\nB101,厚木 二郎,アツギ ジロウ,K0201,課長,2020-04-01,〇\nB300,厚木 四郎,アツギ シロウ,K0201,課長,2001-04-01,〇\n";
    let res = post("/api/v1/employees/import?mode=upsert", &importer, twice.into()).await;
    let p = assert_problem(res, 422, "import-rejected").await;
    assert_eq!(
        (p["rows"][0]["line"].as_u64(), p["rows"][0]["column"].as_str()),
        (Some(3), Some("所属長")),
        "{p}"
    );
    // Staff, not HR or the importer, cannot load it.
    let staff = kenshu_tests::token_for(kenshu_tests::OTHER_ORG, "B101", &[Role::Employee]);
    let res = post("/api/v1/organisation/structure/import", &staff, structure.into()).await;
    assert_problem(res, 403, "forbidden").await;
}
