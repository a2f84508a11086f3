//! Repositories: functions over `&impl ConnectionTrait`, so they run inside a transaction.

pub mod absence;
pub mod attendance;
pub mod audit;
pub mod catalogue;
pub mod check_in;
pub mod employee;
pub mod org;
pub mod principal;
pub mod report;
pub mod results;
pub mod selection;
pub mod structure;
pub mod subsidy;
pub mod survey;

use kenshu_domain::FieldError;
use sea_orm::{DbErr, SqlErr};
use uuid::Uuid;

/// Who makes a change, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub org_id: Uuid,
    pub subject: String,
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("not found")]
    NotFound,
    /// The caller's `If-Match` version is not the current one.
    #[error("the record has changed (current version {current})")]
    Stale { current: i32 },
    /// A unique key is already taken.
    #[error("{0}")]
    Conflict(String),
    /// References that do not resolve within the organisation.
    #[error("invalid references")]
    Invalid(Vec<FieldError>),
    /// The record's state does not allow the change (409 naming the state).
    #[error("{message}")]
    Transition { state: String, message: String },
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl RepoError {
    /// Map a unique-key violation to `Conflict` with a message for people; anything else stays.
    pub fn from_write(err: DbErr, conflict: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => RepoError::Conflict(conflict.to_string()),
            _ => RepoError::Db(err),
        }
    }
}

/// Keyset pagination: `after` holds the sort key of the last item already seen.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The key to pass as `after` for the next page; `None` on the last page.
    pub next: Option<Vec<String>>,
}

impl<T> Page<T> {
    /// Build a page from up to `limit + 1` rows fetched in order.
    pub fn from_rows(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> Vec<String>) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(key) } else { None };
        Page { items: rows, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

/// The one optimistic write: update the row `id` with `model` only while its stored version is
/// still `version`; a row someone else changed meanwhile is `Stale`, a taken unique key
/// `Conflict(taken)`.
pub(crate) async fn update_versioned<E>(
    conn: &impl sea_orm::ConnectionTrait,
    model: E::ActiveModel,
    id: (E::Column, Uuid),
    version: (E::Column, i32),
    taken: &str,
) -> Result<(), RepoError>
where
    E: sea_orm::EntityTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    let res = E::update_many()
        .set(model)
        .filter(id.0.eq(id.1))
        .filter(version.0.eq(version.1))
        .exec(conn)
        .await
        .map_err(|e| RepoError::from_write(e, taken))?;
    if res.rows_affected == 0 {
        return Err(RepoError::Stale { current: version.1 + 1 });
    }
    Ok(())
}

/// Escape `%`, `_` and the escape character itself for a LIKE pattern using `!` as escape.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

/// The time now, to the microsecond: what PostgreSQL keeps, so a response written from memory
/// shows the same time a later read does.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
