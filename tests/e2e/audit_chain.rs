//! The tamper-evident audit log: each organisation's records hashed as they are written into
//! their transaction's block, blocks chained at commit with concurrent writers serialised on
//! the chain head, and the first broken link reported after a record is changed, removed or the
//! log is cut short.

use kenshu_domain::auth::Role;
use kenshu_persistence::entities::{audit_block, audit_log};
use kenshu_tests::{people, spawn, token_for, TestApp, OTHER_ORG};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

async fn verification(app: &TestApp, token: &str) -> Value {
    app.get_json("/api/v1/audit/verification", token).await
}

/// Someone with database access changes who made the record `id`.
async fn forge_actor(app: &TestApp, id: Uuid) {
    let set =
        audit_log::Entity::update_many().col_expr(audit_log::Column::Actor, Expr::value("someone-else"));
    set.filter(audit_log::Column::Id.eq(id)).exec(app.db.conn()).await.unwrap();
}

/// Someone with database access removes the record `id`, and with `whole_transaction` its
/// transaction's link too.
async fn remove(app: &TestApp, id: Uuid, whole_transaction: bool) {
    let record = audit_log::Entity::find().filter(audit_log::Column::Id.eq(id)).one(app.db.conn()).await;
    let record = record.unwrap().expect("the record");
    if whole_transaction {
        let block = audit_block::Entity::delete_many().filter(audit_block::Column::Id.eq(record.block_id));
        assert_eq!(block.exec(app.db.conn()).await.unwrap().rows_affected, 1);
    }
    audit_log::Entity::delete_many().filter(audit_log::Column::Id.eq(id)).exec(app.db.conn()).await.unwrap();
}

/// The id of the record numbered `seq`, from the log as HR reads it.
async fn record_id(app: &TestApp, hr: &str, seq: i64) -> Uuid {
    let recent = app.get_json("/api/v1/audit?limit=100", hr).await["items"].clone();
    let found = recent.as_array().unwrap().iter().find(|r| r["seq"] == seq);
    found.unwrap_or_else(|| panic!("record {seq} in {recent}"))["id"].as_str().unwrap().parse().unwrap()
}

/// A change HR makes to an employee (one audit record).
async fn touch(app: &TestApp, no: &str, mailbox: &str) {
    app.edit_employee(no, |e| e["email"] = json!(format!("{mailbox}@city.isehara.example.jp"))).await;
}

#[tokio::test]
async fn concurrent_writes_chain_without_gaps_and_a_changed_record_is_found() {
    let app = spawn().await;
    let hr = app.hr();
    let auditor = app.token("auditor", &[Role::Auditor]);
    let start = verification(&app, &auditor).await;
    assert_eq!(
        (&start["status"], &start["unchained"], &start["first_broken"]),
        (&json!("intact"), &json!(0), &Value::Null)
    );
    assert!(start["head_seq"].as_i64().unwrap() > 0, "the seed's own writes are chained: {start}");
    assert_eq!(start["verified"], start["head_seq"]);

    // Writers in parallel, each its own transaction: every record gets one number, none twice.
    let staff = ["10009", "10010", "10011", "10012", "10013", "10014", "10015", "10016"];
    let writes = staff.iter().enumerate().map(|(i, no)| {
        let app = &app;
        async move { touch(app, no, &format!("chain-{i}")).await }
    });
    futures_util::future::join_all(writes).await;
    let after = verification(&app, &auditor).await;
    assert_eq!(after["status"], "intact", "{after}");
    let head = after["head_seq"].as_i64().unwrap();
    assert!(head >= start["head_seq"].as_i64().unwrap() + staff.len() as i64, "{after}");
    // The log shows each record's place and link; the last chained is the head. (Numbers follow
    // commits, ids the moment a record was made: concurrent writers may interleave the two.)
    let recent = app.get_json("/api/v1/audit?limit=50", &hr).await["items"].clone();
    let numbered: Vec<i64> = recent.as_array().unwrap().iter().filter_map(|r| r["seq"].as_i64()).collect();
    assert!(numbered.contains(&head), "the head's record is listed with its number: {numbered:?}");
    assert!(recent.as_array().unwrap().iter().all(|r| r["hash"].as_str().is_some_and(|h| h.len() == 64)));

    // Another organisation's chain is its own.
    let other = token_for(OTHER_ORG, "A-HR", &[Role::Auditor]);
    let theirs = verification(&app, &other).await;
    assert_eq!(theirs["status"], "intact");
    assert_ne!(theirs["head_hash"], after["head_hash"]);

    // Someone with database access rewrites who made a change: that record's link breaks.
    let victim = head - 3;
    forge_actor(&app, record_id(&app, &hr, victim).await).await;
    let broken = verification(&app, &auditor).await;
    assert_eq!(broken["status"], "broken");
    assert_eq!(broken["first_broken"]["seq"], victim, "{broken}");
    assert_eq!(broken["verified"], victim - 1);
    assert!(broken["first_broken"]["reason"].as_str().unwrap().contains("does not match its hash"));
    // The other organisation is untouched by it.
    assert_eq!(verification(&app, &other).await["status"], "intact");
}

#[tokio::test]
async fn a_removed_record_and_a_cut_tail_are_reported() {
    let app = spawn().await;
    let auditor = app.token("auditor", &[Role::Auditor]);
    for (i, no) in ["10009", "10010", "10011"].iter().enumerate() {
        touch(&app, no, &format!("cut-{i}")).await;
    }
    let head = verification(&app, &auditor).await["head_seq"].as_i64().unwrap();
    let hr = app.hr();
    let (last, middle) = (record_id(&app, &hr, head).await, record_id(&app, &hr, head - 2).await);

    // The last transaction removed, its record and its link: the records end before the head.
    remove(&app, last, true).await;
    let cut = verification(&app, &auditor).await;
    assert_eq!(
        (&cut["status"], &cut["first_broken"]["seq"], &cut["first_broken"]["id"]),
        (&json!("broken"), &json!(head), &Value::Null)
    );
    assert!(cut["first_broken"]["reason"].as_str().unwrap().contains("chain head"), "{cut}");

    // A record in the middle removed: the number is missing.
    remove(&app, middle, false).await;
    let gap = verification(&app, &auditor).await;
    assert_eq!(gap["first_broken"]["seq"], head - 2, "{gap}");
    assert!(gap["first_broken"]["reason"].as_str().unwrap().contains("missing"), "{gap}");
    assert_eq!(gap["verified"], head - 3);

    // Only HR and auditors may check it.
    let employee = app.token(people::EMPLOYEE, &[Role::Employee]);
    assert_eq!(app.get("/api/v1/audit/verification", &employee).await.status(), 403);
}

/// A write transaction that rolls back leaves nothing in the chain; records from before the log
/// was chained (none are written unchained any more) are chained when the service next starts.
#[tokio::test]
async fn a_rolled_back_write_leaves_no_record_and_old_records_are_chained_at_start() {
    use sea_orm::IntoActiveModel;

    let app = spawn().await;
    let auditor = app.token("auditor", &[Role::Auditor]);
    let before = verification(&app, &auditor).await;

    // A refused write (a stale version) records nothing and moves no head.
    let hr = app.hr();
    let mut one = app.employee("10009").await;
    let id = one["id"].as_str().unwrap().to_string();
    for k in ["id", "department_id", "hired_fiscal_year", "version", "created_at", "updated_at", "active"] {
        one.as_object_mut().unwrap().remove(k);
    }
    one["email"] = json!("stale@city.isehara.example.jp");
    let stale = app.put_json(&format!("/api/v1/employees/{id}"), &hr, Some("\"999\""), &one).await;
    assert_eq!(stale.status(), 412);
    assert_eq!(verification(&app, &auditor).await["head_seq"], before["head_seq"]);

    // A record as an older version of Kenshu wrote it: no number, no hash.
    let newest = record_id(&app, &hr, before["head_seq"].as_i64().unwrap()).await;
    let newest = audit_log::Entity::find().filter(audit_log::Column::Id.eq(newest)).one(app.db.conn()).await;
    let newest = newest.unwrap().expect("the head's record");
    let old = audit_log::Model {
        id: uuid::Uuid::now_v7(),
        action: "legacy.write".into(),
        seq: None,
        hash: None,
        block_id: None,
        pos: None,
        ..newest.clone()
    };
    audit_log::Entity::insert(old.into_active_model()).exec_without_returning(app.db.conn()).await.unwrap();
    let waiting = verification(&app, &auditor).await;
    assert_eq!((&waiting["status"], &waiting["unchained"]), (&json!("intact"), &json!(1)), "{waiting}");

    // Starting the service (which migrates) chains it after the head, once, even when two
    // instances start together.
    let other = app.second_instance().await;
    let (a, b) = tokio::join!(app.db.migrate(), other.db.migrate());
    a.unwrap();
    b.unwrap();
    let chained = verification(&app, &auditor).await;
    assert_eq!((&chained["status"], &chained["unchained"]), (&json!("intact"), &json!(0)), "{chained}");
    assert_eq!(chained["head_seq"].as_i64(), before["head_seq"].as_i64().map(|s| s + 1));
}

/// One transaction of more records than are read per page (a roster import of 1,500 staff)
/// is one block: verified page by page, and a record changed deep inside it is found.
#[tokio::test]
async fn a_large_transaction_is_one_block_checked_page_by_page() {
    let app = spawn().await;
    let (hr, auditor) = (app.hr(), app.token("auditor", &[Role::Auditor]));
    let before = verification(&app, &auditor).await["head_seq"].as_i64().unwrap();
    let staff = kenshu_tests::bench::demo_like_roster(1_500).into_bytes();
    let res = app.post_csv("/api/v1/employees/import?mode=upsert", &hr, "text/csv", staff).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let after = verification(&app, &auditor).await;
    assert_eq!(after["status"], "intact", "{after}");
    // 1,500 employees and the import's own record, all numbered by one link.
    assert_eq!(after["head_seq"].as_i64(), Some(before + 1_501), "{after}");
    assert_eq!(after["verified"], after["head_seq"]);

    let deep = before + 1_234;
    let block = audit_log::Entity::find()
        .filter(audit_log::Column::Pos.eq(1_234))
        .filter(audit_log::Column::Action.eq("employee.import"))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("the import's 1,234th record");
    forge_actor(&app, block.id).await;
    let broken = verification(&app, &auditor).await;
    assert_eq!(
        (&broken["first_broken"]["seq"], &broken["verified"]),
        (&json!(deep), &json!(deep - 1)),
        "{broken}"
    );
}
