//! Every tenant table's primary key includes its organisation: `(org_id, id)` instead of `(id)`,
//! so the schema can be distributed by organisation (docs/joint-training.md). The foreign keys
//! that pointed at a bare `id` become composite `(org_id, x_id)` → `(org_id, id)` (a survey
//! response's nomination by the nomination's own organisation), so a row can never point into
//! another organisation.
//!
//! PostgreSQL changes the keys in place. SQLite cannot alter a primary key: every table is
//! rebuilt as its documents say (https://sqlite.org/lang_altertable.html, "other kinds of
//! table schema changes"), on one connection with foreign keys off, in one transaction: created
//! anew under a temporary name with the new key and references, its rows copied, the old table
//! dropped, the new one renamed, its indexes made again; then `PRAGMA foreign_key_check` must
//! find nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Parents before children, so a rebuilt child's composite references find their keys.
const TABLES: &[&str] = &[
    "department",
    "section",
    "grade",
    "employee",
    "training_plan",
    "course",
    "course_session",
    "nomination",
    "absence_notice",
    "attendance",
    "training_report",
    "session_check_in",
    "session_tombstone",
    "course_survey",
    "survey_response",
    "subsidy_programme",
    "correspondence_course",
    "subsidy_application",
    "subsidy_document",
    "study_group",
    "internship_programme",
    "internship_student",
    "notice",
    "notice_delivery",
    "delivery_attempt",
    "notification_channel",
    "calendar_feed",
    "portal_form",
    "portal_inbound",
];

/// The column that names a reference's organisation in `table` (its own, but for a survey
/// response's nomination).
fn org_column(table: &str, column: &str) -> &'static str {
    match (table, column) {
        ("survey_response", "nomination_id") => "nomination_org_id",
        _ => "org_id",
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DbBackend::Postgres => postgres(m.get_connection()).await,
            DbBackend::Sqlite => sqlite(m.get_connection()).await,
            other => Err(DbErr::Migration(format!("no primary-key migration for {other:?}"))),
        }
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // Going back would re-open references across organisations; restore a backup instead.
        Err(DbErr::Migration("the organisation primary keys are not taken back".into()))
    }
}

async fn rows(conn: &impl ConnectionTrait, backend: DbBackend, sql: &str) -> Result<Vec<Vec<String>>, DbErr> {
    let mut out = Vec::new();
    for r in conn.query_all(Statement::from_string(backend, sql)).await? {
        let mut row = Vec::new();
        let mut i = 0;
        while let Ok(v) = r.try_get_by_index::<Option<String>>(i) {
            row.push(v.unwrap_or_default());
            i += 1;
        }
        out.push(row);
    }
    Ok(out)
}

async fn postgres(conn: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let pg = DbBackend::Postgres;
    let list = TABLES.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    // Every single-column foreign key onto one of these tables' bare id.
    let fks = rows(
        conn,
        pg,
        &format!(
            "SELECT c.conrelid::regclass::text, c.conname, a.attname, c.confrelid::regclass::text, \
             CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT' \
             ELSE 'NO ACTION' END \
             FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1 AND c.confrelid::regclass::text IN ({list}) \
             ORDER BY 1, 2"
        ),
    )
    .await?;
    for fk in &fks {
        conn.execute_unprepared(&format!("ALTER TABLE \"{}\" DROP CONSTRAINT \"{}\"", fk[0], fk[1])).await?;
    }
    for t in TABLES {
        let pkey = rows(
            conn,
            pg,
            &format!(
                "SELECT conname FROM pg_constraint WHERE contype = 'p' AND conrelid = '\"{t}\"'::regclass"
            ),
        )
        .await?;
        for p in pkey {
            conn.execute_unprepared(&format!("ALTER TABLE \"{t}\" DROP CONSTRAINT \"{}\"", p[0])).await?;
        }
        conn.execute_unprepared(&format!("ALTER TABLE \"{t}\" ADD PRIMARY KEY (org_id, id)")).await?;
    }
    for fk in &fks {
        let (child, name, column, parent, on_delete) = (&fk[0], &fk[1], &fk[2], &fk[3], &fk[4]);
        let org = org_column(child, column);
        conn.execute_unprepared(&format!(
            "ALTER TABLE \"{child}\" ADD CONSTRAINT \"{name}\" FOREIGN KEY ({org}, \"{column}\") \
             REFERENCES \"{parent}\" (org_id, id) ON DELETE {on_delete}"
        ))
        .await?;
    }
    Ok(())
}

/// The table's `CREATE TABLE` with the organisation in its primary key and in its references to
/// the other tables of the list.
fn rebuilt_sql(table: &str, sql: &str) -> Result<String, DbErr> {
    let own = "\"id\" uuid_text NOT NULL PRIMARY KEY";
    if !sql.contains(own) {
        return Err(DbErr::Migration(format!("{table}: unexpected primary key in {sql}")));
    }
    let mut out = sql.replacen(own, "\"id\" uuid_text NOT NULL", 1);
    for parent in TABLES {
        let needle = format!(" REFERENCES \"{parent}\" (\"id\")");
        while let Some(at) = out.find(&needle) {
            // `FOREIGN KEY ("x")` just before the reference.
            let head = &out[..at];
            let open = head.rfind("FOREIGN KEY (\"").ok_or_else(|| {
                DbErr::Migration(format!("{table}: a reference to {parent} without its foreign key"))
            })?;
            let column = head[open + "FOREIGN KEY (\"".len()..].trim_end_matches("\")").to_string();
            let org = org_column(table, &column);
            let replaced =
                format!("FOREIGN KEY (\"{org}\", \"{column}\") REFERENCES \"{parent}\" (\"org_id\", \"id\")");
            out = format!("{}{}{}", &out[..open], replaced, &out[at + needle.len()..]);
        }
    }
    let close = out.rfind(')').ok_or_else(|| DbErr::Migration(format!("{table}: no closing parenthesis")))?;
    out.insert_str(close, ", PRIMARY KEY (\"org_id\", \"id\") ");
    Ok(out)
}

async fn sqlite(conn: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::sqlx::{self, Executor};
    let SchemaManagerConnection::Connection(db) = conn else {
        return Err(DbErr::Migration("SQLite migrations run outside a transaction".into()));
    };
    let err = |e: sqlx::Error| DbErr::Migration(format!("organisation primary keys: {e}"));
    // One connection: foreign keys can only be switched off outside a transaction, and only
    // for the connection that does the rebuild.
    let mut c = db.get_sqlite_connection_pool().acquire().await.map_err(err)?;
    c.execute("PRAGMA foreign_keys = OFF").await.map_err(err)?;
    c.execute("BEGIN IMMEDIATE").await.map_err(err)?;
    let rebuilt = async {
        for t in TABLES {
            let create: String =
                sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
                    .bind(*t)
                    .fetch_one(&mut *c)
                    .await
                    .map_err(err)?;
            let indexes: Vec<String> = sqlx::query_scalar(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            )
            .bind(*t)
            .fetch_all(&mut *c)
            .await
            .map_err(err)?;
            let sql = rebuilt_sql(t, &create)?.replacen(
                &format!("CREATE TABLE \"{t}\""),
                &format!("CREATE TABLE \"{t}__new\""),
                1,
            );
            c.execute(sql.as_str()).await.map_err(err)?;
            c.execute(format!("INSERT INTO \"{t}__new\" SELECT * FROM \"{t}\"").as_str())
                .await
                .map_err(err)?;
            c.execute(format!("DROP TABLE \"{t}\"").as_str()).await.map_err(err)?;
            c.execute(format!("ALTER TABLE \"{t}__new\" RENAME TO \"{t}\"").as_str()).await.map_err(err)?;
            for i in indexes {
                c.execute(i.as_str()).await.map_err(err)?;
            }
        }
        let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *c).await.map_err(err)?;
        if !broken.is_empty() {
            return Err(DbErr::Migration(format!("{} references broken by the rebuild", broken.len())));
        }
        Ok(())
    }
    .await;
    let end = if rebuilt.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = c.execute(end).await.map_err(err);
    c.execute("PRAGMA foreign_keys = ON").await.map_err(err)?;
    rebuilt?;
    ended.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_gets_the_organisation_in_its_key_and_its_references() {
        let sql = r#"CREATE TABLE "survey_response" ( "id" uuid_text NOT NULL PRIMARY KEY, "org_id" uuid_text NOT NULL, "nomination_id" uuid_text NOT NULL, FOREIGN KEY ("org_id") REFERENCES "organisation" ("id") ON DELETE RESTRICT, FOREIGN KEY ("nomination_id") REFERENCES "nomination" ("id") ON DELETE RESTRICT )"#;
        assert_eq!(
            rebuilt_sql("survey_response", sql).unwrap(),
            r#"CREATE TABLE "survey_response" ( "id" uuid_text NOT NULL, "org_id" uuid_text NOT NULL, "nomination_id" uuid_text NOT NULL, FOREIGN KEY ("org_id") REFERENCES "organisation" ("id") ON DELETE RESTRICT, FOREIGN KEY ("nomination_org_id", "nomination_id") REFERENCES "nomination" ("org_id", "id") ON DELETE RESTRICT , PRIMARY KEY ("org_id", "id") )"#
        );
        assert!(rebuilt_sql("x", r#"CREATE TABLE "x" ( "id" integer PRIMARY KEY )"#).is_err());
    }
}
