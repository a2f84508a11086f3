//! The one way to write many rows at once (roster imports and their audit records).
//!
//! On PostgreSQL a batch travels as a single JSON parameter and is expanded by
//! `json_populate_recordset` with the table's own row type: one bound value per statement
//! instead of one per cell, which is what makes a 50,000-row import fit its time budget (a
//! 1,000-row `VALUES` list binds ~17,000 parameters, and parsing and planning them dominated).
//! On SQLite, where statements are cheap and local, the same call is a multi-row `VALUES`
//! insert. Either way the caller sees one function and the same semantics.

use sea_orm::sea_query::{Alias, OnConflict, Query};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, IdenStatic, IntoActiveModel, Iterable, ModelTrait,
    PrimaryKeyToColumn, Statement, Value,
};
use serde_json::{Map, Value as Json};

/// Rows per statement on SQLite (its limit is 32,766 bound values).
const SQLITE_BATCH: usize = 1000;
/// Rows per statement on PostgreSQL; bounds the size of one JSON parameter.
const PG_BATCH: usize = 5000;

/// Insert `models`; when `update_on_conflict` is not empty, a row whose primary key exists
/// has those columns updated instead (an upsert on the key).
pub async fn write<E, C>(conn: &C, models: &[E::Model], update_on_conflict: &[E::Column]) -> Result<(), DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    C: ConnectionTrait,
{
    if models.is_empty() {
        return Ok(());
    }
    match conn.get_database_backend() {
        DatabaseBackend::Postgres => {
            for chunk in models.chunks(PG_BATCH) {
                conn.execute(pg_statement::<E>(chunk, update_on_conflict)?).await?;
            }
        }
        _ => {
            for chunk in models.chunks(SQLITE_BATCH) {
                let rows = chunk.iter().cloned().map(IntoActiveModel::into_active_model);
                let mut insert = E::insert_many(rows);
                if !update_on_conflict.is_empty() {
                    insert = insert.on_conflict(on_conflict::<E>(update_on_conflict));
                }
                insert.exec_without_returning(conn).await?;
            }
        }
    }
    Ok(())
}

fn on_conflict<E: EntityTrait>(update: &[E::Column]) -> OnConflict {
    OnConflict::columns(E::PrimaryKey::iter().map(|k| k.into_column()))
        .update_columns(update.to_vec())
        .to_owned()
}

fn pg_statement<E: EntityTrait>(models: &[E::Model], update: &[E::Column]) -> Result<Statement, DbErr> {
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let rows = models
        .iter()
        .map(|m| {
            let mut row = Map::with_capacity(columns.len());
            for c in &columns {
                row.insert(c.as_str().to_string(), to_json(m.get(*c))?);
            }
            Ok(Json::Object(row))
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    let payload = serde_json::to_string(&rows).map_err(|e| DbErr::Custom(format!("bulk payload: {e}")))?;

    // The statement text is built by sea-query for quoting; only the FROM clause is PostgreSQL's own.
    let table = E::default().table_name().to_string();
    let mut select = Query::select();
    for c in &columns {
        select.column(*c);
    }
    select.from_function(
        sea_orm::sea_query::Func::cust(Alias::new("json_populate_recordset"))
            .arg(sea_orm::sea_query::Expr::cust(format!("NULL::\"{table}\"")))
            .arg(sea_orm::sea_query::Expr::cust("$1::json")),
        Alias::new("r"),
    );
    let mut insert = Query::insert();
    insert
        .into_table(E::default().table_ref())
        .columns(columns.iter().copied())
        .select_from(select)
        .map_err(|e| DbErr::Custom(format!("bulk statement: {e}")))?;
    if !update.is_empty() {
        insert.on_conflict(on_conflict::<E>(update));
    }
    let sql = insert.to_string(sea_orm::sea_query::PostgresQueryBuilder);
    Ok(Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, [Value::from(payload)]))
}

/// A cell as `json_populate_recordset` reads it: text forms PostgreSQL parses for the column type.
fn to_json(v: Value) -> Result<Json, DbErr> {
    Ok(match v {
        Value::Bool(b) => b.map(Json::Bool).unwrap_or(Json::Null),
        Value::SmallInt(n) => n.map(Json::from).unwrap_or(Json::Null),
        Value::Int(n) => n.map(Json::from).unwrap_or(Json::Null),
        Value::BigInt(n) => n.map(Json::from).unwrap_or(Json::Null),
        Value::String(s) => s.map(|s| Json::String(*s)).unwrap_or(Json::Null),
        Value::Uuid(u) => u.map(|u| Json::String(u.to_string())).unwrap_or(Json::Null),
        Value::ChronoDate(d) => {
            d.map(|d| Json::String(d.format("%Y-%m-%d").to_string())).unwrap_or(Json::Null)
        }
        Value::ChronoDateTimeUtc(t) => t
            .map(|t| Json::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)))
            .unwrap_or(Json::Null),
        Value::Json(j) => j.map(|j| *j).unwrap_or(Json::Null),
        other => return Err(DbErr::Custom(format!("bulk write cannot carry {other:?}"))),
    })
}
