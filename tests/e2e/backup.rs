//! Backups that restore: `backup` while the service writes, `restore` into a new database, and
//! the restored service answers every read as the original did; a student's erased personal
//! data is not in a backup taken after the erasure.

use kenshu_domain::auth::Role;
use kenshu_persistence::backup::{backup, restore, BackupError};
use kenshu_tests::{people, scratch_database, spawn, spawn_restored, TestApp};
use serde_json::{json, Value};

use crate::attendance::{event, ok};
use crate::internships::{add, erase, programme, student};

/// Every read without a path parameter in the API document, plus the year's own, as HR and as
/// an employee: status and body.
async fn answers(app: &TestApp) -> Vec<(String, u16, String)> {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(kenshu_tests::repo_root().join("openapi/openapi.json")).unwrap(),
    )
    .unwrap();
    let mut paths: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, ops)| ops.get("get").is_some() && !p.contains('{') && p.starts_with("/api/"))
        .map(|(p, _)| p.clone())
        .collect();
    let hr_id = app.employee(people::HR).await["id"].as_str().unwrap().to_string();
    paths.extend(
        [
            "/api/v1/plans/2023",
            "/api/v1/plans/2023/results",
            "/api/v1/internships/2023",
            "/api/v1/internships/2023/students",
            "/api/v1/employees?limit=200",
            "/api/v1/audit?limit=200",
        ]
        .map(String::from),
    );
    paths.push(format!("/api/v1/employees/{hr_id}"));
    let employee = app.token(people::EMPLOYEE, &[Role::Employee]);
    let mut out = Vec::new();
    for path in paths {
        for (who, token) in [("hr", app.hr()), ("employee", employee.clone())] {
            // One request id for both runs: problems name their occurrence with it.
            let res = app
                .request(reqwest::Method::GET, &path, Some(&token))
                .header("X-Request-Id", "compare")
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            out.push((format!("{who} {path}"), status, res.text().await.unwrap()));
        }
    }
    out
}

#[tokio::test]
async fn a_restored_backup_answers_every_read_as_before_and_keeps_erasures() {
    let app = spawn().await;
    let hr = app.hr();
    app.import_fy2023_plan().await;
    app.publish_plan(2023).await;
    let host = app.employee(people::EMPLOYEE).await["section_id"].clone();
    ok(app.post_json("/api/v1/internships/2023", &hr, &programme(2023, 2)).await, 201).await;
    let erased = add(&app, &student("相模 花子", "hanako@example.ac.jp", &host)).await;
    let kept = add(&app, &student("大山 次郎", "jiro@example.ac.jp", &host)).await;
    ok(event(&app, &hr, &erased, json!({"event": "accept"})).await, 200).await;
    ok(erase(&app, &erased, "2023-09-01").await, 200).await;
    assert_eq!(app.get_json(&kept, &hr).await["name"], "大山 次郎");

    // Online: writes go on while the copy is taken; the copy is one consistent moment (its audit
    // chain ends exactly at its head).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kenshu.backup");
    let writes = async {
        for i in 0..10 {
            app.edit_employee(people::SAME_SECTION, |e| {
                e["email"] = json!(format!("during-{i}@city.isehara.example.jp"))
            })
            .await;
        }
    };
    let (done, ()) = tokio::join!(backup(&app.database_url, &file), writes);
    done.unwrap();
    assert!(
        matches!(backup(&app.database_url, &file).await, Err(BackupError::Refused(_))),
        "an existing file is never overwritten"
    );

    // The original, settled after the writes, and the copy of an earlier moment differ only in
    // those writes; compare the copy with the original as it was when the copy is restored
    // again from a second backup taken now.
    let again = dir.path().join("kenshu-after.backup");
    backup(&app.database_url, &again).await.unwrap();
    let before = answers(&app).await;

    let scratch = scratch_database().await;
    let url = scratch.url.clone();
    restore(&again, &url).await.unwrap();
    assert!(
        matches!(restore(&again, &url).await, Err(BackupError::Refused(_))),
        "a restore never goes over data"
    );
    let restored = spawn_restored(scratch).await;
    let after = answers(&restored).await;
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a, "{} answers differently after the restore", b.0);
    }
    let auditor = restored.token("auditor", &[Role::Auditor]);
    let chain = restored.get_json("/api/v1/audit/verification", &auditor).await;
    assert_eq!(chain["status"], "intact", "{chain}");

    // The copy taken during the writes is consistent too.
    let mid = scratch_database().await;
    restore(&file, &mid.url).await.unwrap();
    let mid_app = spawn_restored(mid).await;
    let chain = mid_app.get_json("/api/v1/audit/verification", &auditor).await;
    assert_eq!((&chain["status"], &chain["unchained"]), (&json!("intact"), &json!(0)), "{chain}");

    // The erased student stays erased: not in the restored service, and (SQLite, where the
    // backup is the database file itself) not anywhere in the file, while a student whose data
    // is held is there.
    let student = restored.get_json(&erased, &hr).await;
    assert_eq!((&student["name"], &student["erased"]), (&Value::Null, &json!(true)));
    if app.database_url.starts_with("sqlite:") {
        let bytes = std::fs::read(&again).unwrap();
        let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert!(contains("大山 次郎") && contains("jiro@example.ac.jp"), "the check would see held data");
        assert!(
            !contains("相模 花子") && !contains("hanako@example.ac.jp"),
            "erased data left in the backup"
        );
    }
}
