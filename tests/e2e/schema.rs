//! The schema stays ready to be distributed by organisation (e.g. Citus with `org_id` as the
//! distribution column): every table carries its organisation, and every primary key and unique
//! index includes it, so no uniqueness ever has to be checked across organisations. Checked on
//! the migrated database itself, on both backends.

use kenshu_tests::spawn;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

/// Tables that are not one organisation's: the organisations themselves and the migrator's
/// bookkeeping. `job_lease` holds the scheduler's claims on jobs that run for all organisations.
const GLOBAL: &[(&str, &str)] = &[
    ("organisation", "the tenants themselves (a reference table when distributed)"),
    ("seaql_migrations", "the migrator's bookkeeping"),
    ("job_lease", "the scheduler's claims on jobs that run across organisations"),
];

/// Like [`GLOBAL`], on SQLite only (PostgreSQL notifies instead).
const GLOBAL_ON_SQLITE: &[(&str, &str)] =
    &[("kenshu_change", "how often each scope of the reads instances keep has changed")];

/// The tables of [`GLOBAL`], and of [`GLOBAL_ON_SQLITE`] on SQLite.
fn global() -> impl Iterator<Item = &'static str> {
    let sqlite = if kenshu_tests::on_postgres() { &[][..] } else { GLOBAL_ON_SQLITE };
    GLOBAL.iter().chain(sqlite).map(|(table, _)| *table)
}

/// A table: its name, its columns, and its unique indexes (primary key included) with their columns.
type TableShape = (String, Vec<String>, Vec<(String, Vec<String>)>);

/// Each table of the migrated database, as [`TableShape`].
async fn catalogue(app: &kenshu_tests::TestApp) -> Vec<TableShape> {
    let conn = app.db.conn();
    let backend = conn.get_database_backend();
    let rows = |sql: String| async move {
        conn.query_all(Statement::from_string(backend, sql)).await.expect("the catalogue")
    };
    let mut out = Vec::new();
    let tables: Vec<String> =
        match backend {
            DatabaseBackend::Postgres => {
                rows(
                    "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
                        .into(),
                )
                .await
            }
            _ => rows(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
                    .into(),
            )
            .await,
        }
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    for table in tables {
        let (columns, indexes) = match backend {
            DatabaseBackend::Postgres => {
                let columns = rows(format!(
                    "SELECT column_name::text AS name FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = '{table}'"
                ))
                .await;
                let indexes = rows(format!(
                    "SELECT i.relname::text AS index_name, a.attname::text AS column_name \
                     FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace \
                     LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey) \
                     WHERE x.indisunique AND n.nspname = current_schema() AND t.relname = '{table}'"
                ))
                .await;
                let mut by_index: Vec<(String, Vec<String>)> = Vec::new();
                for r in &indexes {
                    let name: String = r.try_get("", "index_name").unwrap();
                    let column: Option<String> = r.try_get("", "column_name").unwrap();
                    match by_index.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, cols)) => cols.extend(column),
                        None => by_index.push((name, column.into_iter().collect())),
                    }
                }
                (columns.iter().map(|r| r.try_get::<String>("", "name").unwrap()).collect(), by_index)
            }
            _ => {
                let columns = rows(format!("SELECT name FROM pragma_table_info('{table}')")).await;
                let columns: Vec<String> =
                    columns.iter().map(|r| r.try_get::<String>("", "name").unwrap()).collect();
                let primary =
                    rows(format!("SELECT name FROM pragma_table_info('{table}') WHERE pk > 0")).await;
                let mut by_index = vec![(
                    format!("{table} primary key"),
                    primary.iter().map(|r| r.try_get::<String>("", "name").unwrap()).collect(),
                )];
                let unique = rows(format!(
                    "SELECT name FROM pragma_index_list('{table}') WHERE \"unique\" = 1 AND origin <> 'pk'"
                ))
                .await;
                for index in unique.iter().map(|r| r.try_get::<String>("", "name").unwrap()) {
                    let cols = rows(format!("SELECT name FROM pragma_index_info('{index}')")).await;
                    by_index.push((
                        index,
                        cols.iter().filter_map(|r| r.try_get::<String>("", "name").ok()).collect(),
                    ));
                }
                (columns, by_index)
            }
        };
        out.push((table, columns, indexes));
    }
    out
}

/// Unique keys that must hold across organisations: a calendar feed is fetched by its token
/// alone (a calendar client sends nothing else), so the token's hash is unique everywhere; when
/// distributed this becomes a lookup table from token hash to organisation.
const GLOBAL_KEYS: &[(&str, &str)] = &[("calendar_feed", "token_hash")];

fn is_primary(index: &str) -> bool {
    index.ends_with("_pkey") || index.ends_with(" primary key")
}

/// Whatever keeps the schema from being distributed by organisation.
fn not_ready(tables: &[TableShape]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (table, columns, indexes) in tables {
        if global().any(|t| t == table) {
            continue;
        }
        if !columns.iter().any(|c| c == "org_id") {
            wrong.push(format!("{table} has no org_id"));
            continue;
        }
        for (index, cols) in indexes {
            // Every primary key includes the organisation; only the listed global keys do not.
            let known =
                !is_primary(index) && GLOBAL_KEYS.iter().any(|(t, c)| t == table && cols == &[c.to_string()]);
            let has_org = cols.iter().any(|c| c == "org_id");
            if has_org == known {
                let what =
                    if has_org { "includes org_id now: take it off the list" } else { "leaves out org_id" };
                wrong.push(format!("{table}: unique key {index} ({}) {what}", cols.join(", ")));
            }
        }
    }
    wrong
}

#[tokio::test]
async fn every_table_carries_its_organisation_and_every_unique_key_includes_it() {
    let app = spawn().await;
    let tables = catalogue(&app).await;
    assert!(tables.len() > 30, "the migrated schema: {:?}", tables.iter().map(|t| &t.0).collect::<Vec<_>>());
    let wrong = not_ready(&tables);
    assert!(wrong.is_empty(), "not ready to distribute by organisation:\n{}", wrong.join("\n"));
    // The exceptions are still there to be exceptions (a renamed table would leave one stale).
    for global in global() {
        assert!(
            tables.iter().any(|(t, _, _)| t == global),
            "{global} is listed as global but does not exist"
        );
    }
}

async fn count(db: &kenshu_persistence::Db, table: &str) -> i64 {
    let row = db
        .conn()
        .query_one(Statement::from_string(db.backend(), format!("SELECT COUNT(*) AS n FROM {table}")))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Migration 000027 re-keys tables that hold a year's rows (the previous release's database):
/// every row stays, every reference holds, and the service reads them as before.
#[tokio::test]
async fn the_organisation_primary_keys_move_over_existing_rows() {
    use kenshu_migrations::{Migrator, MigratorTrait};
    use kenshu_persistence::repo::{catalogue as catalogue_repo, org, selection};
    let scratch = kenshu_tests::scratch_database().await;
    let db = kenshu_persistence::Db::connect(&scratch.url, 2).await.unwrap();
    // The schema as the previous release left it: every migration but the re-keying.
    let before_rekey = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261203_000027_org_primary_keys")
        .expect("the re-keying migration") as u32;
    Migrator::up(db.conn(), Some(before_rekey)).await.unwrap();
    kenshu_api::demo::seed(&db).await.unwrap();
    kenshu_api::demo::seed_catalogue(&db).await.unwrap();
    kenshu_api::demo::seed_joint(&db).await.unwrap();
    // The year's designations: nominations that reference courses and employees by id.
    let isehara = org::find_by_code(db.conn(), kenshu_tests::ORG).await.unwrap().unwrap();
    let fy = kenshu_domain::calendar::FiscalYear::new(2023).unwrap();
    let courses = catalogue_repo::published_courses(db.conn(), isehara.id, fy).await.unwrap();
    let ladder = org::ladder(db.conn(), isehara.id).await.unwrap();
    let actor = kenshu_persistence::Actor { org_id: isehara.id, subject: "test".into(), request_id: None };
    let txn = db.begin_write().await.unwrap();
    selection::designate(&txn, &actor, fy, &courses, &ladder, false).await.unwrap();
    txn.commit().await.unwrap();
    let tables =
        ["department", "section", "employee", "course", "course_session", "nomination", "course_share"];
    let mut before = Vec::new();
    for t in tables {
        before.push(count(&db, t).await);
    }
    assert!(before[5] > 100, "designated: {before:?}");

    db.migrate().await.unwrap();
    let mut after = Vec::new();
    for t in tables {
        after.push(count(&db, t).await);
    }
    assert_eq!(before, after, "{tables:?}");
    // A nomination of 厚木市 naming an employee of 伊勢原市 is refused by the composite key.
    let atsugi = org::find_by_code(db.conn(), kenshu_tests::OTHER_ORG).await.unwrap().unwrap();
    {
        use kenshu_persistence::entities::{course, employee, nomination};
        use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
        let their_course = course::Entity::find()
            .filter(course::Column::OrgId.eq(atsugi.id))
            .one(db.conn())
            .await
            .unwrap()
            .unwrap();
        let ours = nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(isehara.id))
            .one(db.conn())
            .await
            .unwrap()
            .unwrap();
        let stray = nomination::Model {
            id: uuid::Uuid::now_v7(),
            org_id: atsugi.id,
            course_id: their_course.id,
            ..ours
        };
        let res = nomination::Entity::insert(stray.clone().into_active_model())
            .exec_without_returning(db.conn())
            .await;
        assert!(res.is_err(), "a nomination of 厚木市 naming an employee of 伊勢原市");
        // The same row naming one of 厚木市's own staff is taken: the key refused the other.
        let theirs = employee::Entity::find()
            .filter(employee::Column::OrgId.eq(atsugi.id))
            .one(db.conn())
            .await
            .unwrap()
            .unwrap();
        let fine = nomination::Model { employee_id: theirs.id, ..stray };
        nomination::Entity::insert(fine.into_active_model()).exec_without_returning(db.conn()).await.unwrap();
    }
    db.close().await.unwrap();

    let app = kenshu_tests::spawn_restored(scratch).await;
    let wrong = not_ready(&catalogue(&app).await);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let list = app.get_json("/api/v1/courses?fiscal_year=2023&limit=1", &app.hr()).await;
    let id = list["items"][0]["id"].as_str().unwrap();
    let noms = app.get_json(&format!("/api/v1/courses/{id}/nominations"), &app.hr()).await;
    assert!(!noms["items"].as_array().unwrap().is_empty(), "{noms}");
    let offers = app.get_json("/api/v1/joint-offers", &kenshu_tests::other_hr()).await;
    assert_eq!(offers["items"][0]["state"], "accepted");
}

/// Every index and trigger of the migrated database, one per line, comparable across runs: on
/// SQLite as `sqlite_master` holds them, on PostgreSQL as `pg_indexes` and `pg_get_triggerdef`
/// write them (the schema's name taken out), whitespace collapsed.
async fn indexes_and_triggers(app: &kenshu_tests::TestApp) -> String {
    let conn = app.db.conn();
    let backend = conn.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT 'index' AS kind, tablename::text AS tbl, indexname::text AS name, indexdef AS def \
             FROM pg_indexes WHERE schemaname = current_schema() \
             UNION ALL SELECT 'trigger', c.relname::text, t.tgname::text, pg_get_triggerdef(t.oid) \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND n.nspname = current_schema() \
             ORDER BY 1, 2, 3"
        }
        // Indexes a UNIQUE constraint makes have no SQL of their own: the tables' keys are
        // checked above.
        _ => {
            "SELECT type AS kind, tbl_name AS tbl, name, sql AS def FROM sqlite_master \
             WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY 1, 2, 3"
        }
    };
    let schema = match backend {
        DatabaseBackend::Postgres => {
            let row = conn
                .query_one(Statement::from_string(backend, "SELECT current_schema()::text AS s"))
                .await
                .unwrap()
                .unwrap();
            Some(format!("{}.", row.try_get::<String>("", "s").unwrap()))
        }
        _ => None,
    };
    let rows = conn.query_all(Statement::from_string(backend, sql)).await.expect("the catalogue");
    let mut out = String::new();
    for r in rows {
        let field = |c: &str| r.try_get::<String>("", c).unwrap();
        let mut def = field("def").split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(schema) = &schema {
            def = def.replace(schema.as_str(), "");
        }
        out.push_str(&format!("{} {} {}: {def}\n", field("kind"), field("tbl"), field("name")));
    }
    out
}

/// The indexes and triggers the migrations leave, as committed in `migrations/schema/`: a
/// migration that rebuilds a table on SQLite (the only way to change most of a table there) drops
/// its indexes and triggers unless it makes them again, and nothing else would notice a lost
/// index until the year's results or an export slowed down, or a lost trigger until kept counts
/// drifted. A deliberate change is committed with `UPDATE_SCHEMA=1`.
#[tokio::test]
async fn the_migrations_leave_every_index_and_trigger_as_committed() {
    let app = spawn().await;
    let current = indexes_and_triggers(&app).await;
    let backend = if kenshu_tests::on_postgres() { "postgres" } else { "sqlite" };
    let path = kenshu_tests::repo_root().join(format!("migrations/schema/{backend}.txt"));
    if std::env::var("UPDATE_SCHEMA").is_ok() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let lines = |s: &str| s.lines().map(str::to_string).collect::<std::collections::BTreeSet<_>>();
    let (now, then) = (lines(&current), lines(&committed));
    let lost: Vec<&String> = then.difference(&now).collect();
    let new: Vec<&String> = now.difference(&then).collect();
    assert!(
        lost.is_empty() && new.is_empty(),
        "migrations/schema/{backend}.txt differs from the migrated database.\nlost:\n{}\nnew:\n{}\n\
         if meant, run `UPDATE_SCHEMA=1 scripts/test -p kenshu-tests --test e2e the_migrations_leave` \
         (with TEST_DATABASE_URL for PostgreSQL) and commit it",
        lost.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n"),
        new.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n"),
    );
}
