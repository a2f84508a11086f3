//! The one way to write many rows at once (roster imports and their audit records).
//!
//! On PostgreSQL a batch travels as one array per column, expanded by `unnest`: a handful of
//! bound values per statement instead of one per cell. (A 1,000-row `VALUES` list binds ~17,000
//! parameters, and parsing and planning them dominated a 50,000-row import; JSON through
//! `json_populate_recordset` cost ~14 µs a row in PostgreSQL's JSON parser.) Columns go as
//! typed binary arrays (with a boolean array marking the NULLs where there are some), a column
//! NULL throughout not at all.
//! On SQLite, where statements are cheap and local, the same call is a multi-row `VALUES`
//! insert. Either way the caller sees one function and the same semantics.

use sea_orm::sea_query::{ArrayType, Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ColumnType, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, IdenStatic,
    IntoActiveModel, Iterable, ModelTrait, PrimaryKeyToColumn, QueryTrait, Statement, Value,
};

/// Rows per statement: on SQLite its limit is 32,766 bound values; on PostgreSQL the size bounds
/// one statement's arrays.
fn batch_rows(backend: DatabaseBackend) -> usize {
    match backend {
        DatabaseBackend::Postgres => 5000,
        _ => 1000,
    }
}

/// What a bulk write does with a row whose primary key already exists.
#[derive(Debug, Clone, Copy)]
pub enum OnKey<'a, C> {
    /// Nothing special: the insert fails with a unique violation.
    Fail,
    /// Update `columns`, but only where the stored `version` is one below the new row's. A row
    /// someone else changed since it was read is left alone, and [`execute`] reports it.
    UpdateIfVersion { columns: &'a [C], version: C },
}

/// One statement and the number of rows it must write.
#[derive(Debug)]
pub struct Step {
    statement: Statement,
    rows: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error(transparent)]
    Db(#[from] DbErr),
    /// A guarded update found a row at another version than the one it was planned against.
    #[error("rows changed while this write ran")]
    Changed,
}

/// Insert `models` (see [`OnKey`] for existing keys).
pub async fn write<E>(
    conn: &impl ConnectionTrait,
    models: &[E::Model],
    on_key: OnKey<'_, E::Column>,
) -> Result<(), DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    // Each statement is built just before it runs, so only one batch's values are held at a
    // time beside the models (a designation run writes 122,158 nominations at 50,000 staff).
    let backend = conn.get_database_backend();
    for chunk in models.chunks(batch_rows(backend)) {
        match execute(conn, statements::<E>(backend, chunk, on_key)?).await {
            Ok(()) => {}
            Err(BulkError::Db(e)) => return Err(e),
            Err(e @ BulkError::Changed) => return Err(DbErr::Custom(e.to_string())),
        }
    }
    Ok(())
}

/// The statements [`write`] runs, built without a connection so that the CPU work can happen
/// on another thread than the one waiting for the database.
pub fn statements<E>(
    backend: DatabaseBackend,
    models: &[E::Model],
    on_key: OnKey<'_, E::Column>,
) -> Result<Vec<Step>, DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let chunks = models.chunks(batch_rows(backend));
    match backend {
        DatabaseBackend::Postgres => chunks
            .map(|chunk| Ok(Step { statement: pg_statement::<E>(chunk, on_key)?, rows: chunk.len() as u64 }))
            .collect(),
        _ => Ok(chunks
            .map(|chunk| {
                let mut insert =
                    E::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model));
                if let OnKey::UpdateIfVersion { columns, version } = on_key {
                    let guard = Expr::col((E::default(), version))
                        .eq(Expr::cust(format!("excluded.\"{}\" - 1", version.as_str())));
                    let conflict = OnConflict::columns(conflict_key::<E>())
                        .update_columns(columns.to_vec())
                        .action_and_where(guard)
                        .to_owned();
                    insert = insert.on_conflict(conflict);
                }
                Step { statement: insert.build(backend), rows: chunk.len() as u64 }
            })
            .collect()),
    }
}

/// Run statements in order; any that writes fewer rows than planned stops with
/// [`BulkError::Changed`] (the caller rolls back).
pub async fn execute(conn: &impl ConnectionTrait, steps: Vec<Step>) -> Result<(), BulkError> {
    for step in steps {
        if conn.execute(step.statement).await?.rows_affected() != step.rows {
            return Err(BulkError::Changed);
        }
    }
    Ok(())
}

fn pg_statement<E: EntityTrait>(
    models: &[E::Model],
    on_key: OnKey<'_, E::Column>,
) -> Result<Statement, DbErr> {
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let mut select = Vec::with_capacity(columns.len());
    let mut values = Vec::with_capacity(columns.len());
    // `unnest($n::type[]) AS cK`, one per array, in a subquery's select list: PostgreSQL steps
    // them in lockstep without first storing the batch (`FROM unnest(…)` with many arrays
    // stores every row before the insert reads one; it cost 2–3× as much, ~3 µs a row).
    let mut arrays: Vec<String> = Vec::with_capacity(columns.len());
    let mut array = |values: &mut Vec<Value>, value: Value, pg: &str| {
        values.push(value);
        arrays.push(format!("unnest(${}::{pg}[]) AS c{}", values.len(), arrays.len()));
        format!("r.c{}", arrays.len() - 1)
    };
    for c in &columns {
        let column: Vec<Value> = models.iter().map(|m| m.get(*c)).collect();
        let pg = pg_type(c.def().get_column_type())?;
        let nulls: Vec<bool> = column.iter().map(is_null).collect();
        // A column NULL in every row of the batch (a designation's reason, say) travels not at
        // all: no array to send and expand.
        if nulls.iter().all(|&n| n) {
            select.push(format!("NULL::{pg}"));
            continue;
        }
        // A column of one type the driver binds in binary travels as a typed array, which
        // PostgreSQL reads without parsing text. The driver binds arrays without NULL
        // elements, so where some are NULL a stand-in of the type takes their place and a
        // boolean array marks them.
        let typed = column
            .iter()
            .find_map(array_type)
            .filter(|ty| column.iter().zip(&nulls).all(|(v, &n)| n || array_type(v).as_ref() == Some(ty)));
        if let Some(ty) = typed {
            let present: Vec<Value> =
                column.into_iter().zip(&nulls).map(|(v, &n)| if n { stand_in(&ty) } else { v }).collect();
            let cell = array(&mut values, Value::Array(ty, Some(Box::new(present))), pg);
            if nulls.contains(&true) {
                let marks = nulls.into_iter().map(Value::from).collect();
                let null =
                    array(&mut values, Value::Array(ArrayType::Bool, Some(Box::new(marks))), "boolean");
                select.push(format!("CASE WHEN {null} THEN NULL ELSE {cell} END"));
            } else {
                select.push(cell);
            }
            continue;
        }
        // Otherwise as text, cast by the column type's input function; every present value
        // gets a one-character prefix and NULL travels as the empty string.
        let texts = column
            .into_iter()
            .map(|v| Ok(Value::from(to_text(v)?.map(|t| format!("v{t}")).unwrap_or_default())))
            .collect::<Result<Vec<_>, DbErr>>()?;
        let cell = array(&mut values, Value::Array(ArrayType::String, Some(Box::new(texts))), "text");
        select.push(format!("CASE WHEN {cell} = '' THEN NULL ELSE substr({cell}, 2) END::{pg}"));
    }
    let quoted = |c: &E::Column| format!("\"{}\"", c.as_str());
    let names: Vec<String> = columns.iter().map(quoted).collect();
    let mut sql = format!(
        "INSERT INTO \"{}\" ({}) SELECT {} FROM (SELECT {}) AS r",
        E::default().table_name(),
        names.join(", "),
        select.join(", "),
        arrays.join(", "),
    );
    if let OnKey::UpdateIfVersion { columns, version } = on_key {
        let keys: Vec<String> = conflict_key::<E>().iter().map(quoted).collect();
        let sets: Vec<String> = columns.iter().map(|c| format!("{0} = excluded.{0}", quoted(c))).collect();
        sql.push_str(&format!(
            " ON CONFLICT ({}) DO UPDATE SET {} WHERE \"{}\".{v} = excluded.{v} - 1",
            keys.join(", "),
            sets.join(", "),
            E::default().table_name(),
            v = quoted(&version),
        ));
    }
    Ok(Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values))
}

/// The table's primary key as the database has it: the organisation with the entity's id on a
/// tenant table (the entities name only the id, which is how rows are found).
fn conflict_key<E: EntityTrait>() -> Vec<E::Column> {
    let org = E::Column::iter().find(|c| c.as_str() == "org_id");
    org.into_iter().chain(E::PrimaryKey::iter().map(|k| k.into_column())).collect()
}

/// A present value of an array type, standing in for a NULL the driver cannot bind in an array.
fn stand_in(ty: &ArrayType) -> Value {
    match ty {
        ArrayType::Uuid => Value::from(uuid::Uuid::nil()),
        ArrayType::ChronoDate => Value::from(chrono::NaiveDate::default()),
        ArrayType::ChronoDateTimeUtc => Value::from(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH),
        ArrayType::Bool => Value::from(false),
        ArrayType::Int => Value::from(0i32),
        ArrayType::BigInt => Value::from(0i64),
        _ => Value::from(String::new()),
    }
}

/// A NULL of a type the bulk write carries.
fn is_null(v: &Value) -> bool {
    matches!(
        v,
        Value::Bool(None)
            | Value::SmallInt(None)
            | Value::Int(None)
            | Value::BigInt(None)
            | Value::String(None)
            | Value::Uuid(None)
            | Value::ChronoDate(None)
            | Value::ChronoDateTimeUtc(None)
    )
}

/// The array type of a present (non-NULL) value the driver can bind in binary form.
fn array_type(v: &Value) -> Option<ArrayType> {
    Some(match v {
        Value::Uuid(Some(_)) => ArrayType::Uuid,
        Value::String(Some(_)) => ArrayType::String,
        Value::ChronoDate(Some(_)) => ArrayType::ChronoDate,
        Value::ChronoDateTimeUtc(Some(_)) => ArrayType::ChronoDateTimeUtc,
        Value::Bool(Some(_)) => ArrayType::Bool,
        Value::Int(Some(_)) => ArrayType::Int,
        Value::BigInt(Some(_)) => ArrayType::BigInt,
        _ => return None,
    })
}

/// The PostgreSQL type of a column, for the array parameter and the cast of its text.
fn pg_type(t: &ColumnType) -> Result<&'static str, DbErr> {
    Ok(match t {
        ColumnType::Uuid => "uuid",
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => "text",
        ColumnType::Date => "date",
        ColumnType::TimestampWithTimeZone => "timestamptz",
        ColumnType::Boolean => "boolean",
        ColumnType::SmallInteger => "smallint",
        ColumnType::Integer => "integer",
        ColumnType::BigInteger => "bigint",
        other => return Err(DbErr::Custom(format!("bulk write cannot carry a {other:?} column"))),
    })
}

/// A cell in the text form its PostgreSQL type's input function reads.
fn to_text(v: Value) -> Result<Option<String>, DbErr> {
    Ok(match v {
        Value::Bool(b) => b.map(|b| b.to_string()),
        Value::SmallInt(n) => n.map(|n| n.to_string()),
        Value::Int(n) => n.map(|n| n.to_string()),
        Value::BigInt(n) => n.map(|n| n.to_string()),
        Value::String(s) => s.map(|s| *s),
        Value::Uuid(u) => u.map(|u| u.to_string()),
        Value::ChronoDate(d) => d.map(|d| d.format("%Y-%m-%d").to_string()),
        Value::ChronoDateTimeUtc(t) => t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        other => return Err(DbErr::Custom(format!("bulk write cannot carry {other:?}"))),
    })
}
