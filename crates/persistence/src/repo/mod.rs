//! Repositories: functions over `&impl ConnectionTrait`, so they run inside a transaction.

pub mod absence;
pub mod approval;
pub mod attendance;
pub mod audit;
pub mod calendar;
pub mod cascade;
pub mod catalogue;
pub mod check_in;
pub mod delivery;
pub mod employee;
pub mod internship;
pub mod joint;
pub mod notice;
pub mod org;
pub mod portal;
pub mod principal;
pub mod reminder;
pub mod report;
pub mod results;
pub mod selection;
pub mod structure;
pub mod study_group;
pub mod subsidy;
pub mod survey;
pub mod tally;

use crate::WriteTxn;
use kenshu_domain::{FieldError, Words};
use sea_orm::{DbErr, SqlErr};
use uuid::Uuid;

/// Who makes a change, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub org_id: Uuid,
    pub subject: String,
    pub request_id: Option<String>,
}

impl Actor {
    /// Who, as the at most 100 characters a `*_by` column holds.
    pub fn signature(&self) -> String {
        self.subject.chars().take(100).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("not found")]
    NotFound,
    /// The caller has no capacity for this change (decided on the row read under the lock).
    #[error("not allowed")]
    Forbidden,
    /// The caller's `If-Match` version is not the current one.
    #[error("the record has changed (current version {current})")]
    Stale { current: i32 },
    /// A unique key is already taken, or the change conflicts with the record as it stands; in
    /// both languages Kenshu writes.
    #[error("{0}")]
    Conflict(Words),
    /// References that do not resolve within the organisation.
    #[error("invalid references")]
    Invalid(Vec<FieldError>),
    /// The record's state does not allow the change (409 naming the state).
    #[error("{message}")]
    Transition { state: String, message: String },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A workflow's refusal, decided by the domain under the lock: not in any of the caller's
/// capacities is 403, not from the stored state a 409 naming it.
macro_rules! transition_error {
    ($error:ty) => {
        impl From<$error> for RepoError {
            fn from(e: $error) -> Self {
                type E = $error;
                match e {
                    E::NotYours { .. } => RepoError::Forbidden,
                    E::NotFromState { state, .. } => {
                        RepoError::Transition { state: state.as_str().into(), message: e.to_string() }
                    }
                }
            }
        }
    };
}

transition_error!(kenshu_domain::absence::NoticeTransitionError);
transition_error!(kenshu_domain::report::ReportTransitionError);
transition_error!(kenshu_domain::subsidy::SubsidyTransitionError);
transition_error!(kenshu_domain::selection::TransitionError);
transition_error!(kenshu_domain::joint::ShareTransitionError);

impl RepoError {
    /// Map a unique-key violation to `Conflict` with a message for people; anything else stays.
    pub fn from_write(err: DbErr, conflict: &Words) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => RepoError::Conflict(conflict.clone()),
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
    taken: &Words,
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

/// A row of one organisation written under optimistic versioning and recorded in the audit
/// log: what [`find_in_org`] and [`save_audited`] need to know of it.
pub(crate) trait Versioned: Clone + PartialEq + Send + Sync + 'static {
    type Entity: sea_orm::EntityTrait<Model = Self>;
    /// The `entity_type` its audit records are filed under.
    const AUDIT_TYPE: &'static str;
    fn id(&self) -> Uuid;
    fn version(&self) -> i32;
    /// The id its audit records are filed under (the row's own, unless it belongs to another).
    fn audit_id(&self) -> Uuid {
        self.id()
    }
    /// What the audit log keeps of the row.
    fn audit_json(&self) -> String;
    fn stamp(&mut self, version: i32, at: chrono::DateTime<chrono::Utc>);
    /// The id, version and organisation columns.
    fn key_columns() -> (ColumnOf<Self>, ColumnOf<Self>, ColumnOf<Self>);
}

type ColumnOf<M> = <<M as Versioned>::Entity as sea_orm::EntityTrait>::Column;

/// `Versioned` for an entity: its audit records are the whole row unless `record = f` names
/// the function that writes them, filed under the row's id unless `owner = column` names
/// another.
macro_rules! versioned {
    (@json $row:ident) => {
        serde_json::to_string($row).expect("records serialise")
    };
    (@json $row:ident, $record:path) => {
        $record($row)
    };
    ($entity:ident => $kind:literal $(, owner = $owner:ident)? $(, record = $record:path)?) => {
        impl Versioned for crate::entities::$entity::Model {
            type Entity = crate::entities::$entity::Entity;
            const AUDIT_TYPE: &'static str = $kind;
            fn id(&self) -> Uuid {
                self.id
            }
            fn version(&self) -> i32 {
                self.version
            }
            $(fn audit_id(&self) -> Uuid {
                self.$owner
            })?
            fn audit_json(&self) -> String {
                versioned!(@json self $(, $record)?)
            }
            fn stamp(&mut self, version: i32, at: chrono::DateTime<chrono::Utc>) {
                self.version = version;
                self.updated_at = at;
            }
            fn key_columns() -> (
                crate::entities::$entity::Column,
                crate::entities::$entity::Column,
                crate::entities::$entity::Column,
            ) {
                use crate::entities::$entity::Column;
                (Column::Id, Column::Version, Column::OrgId)
            }
        }
    };
}

versioned!(absence_notice => "absence_notice");
versioned!(training_report => "report");
versioned!(course_survey => "course", owner = course_id);
versioned!(subsidy_programme => "subsidy_programme");
versioned!(subsidy_application => "subsidy_application");
versioned!(study_group => "study_group");
versioned!(internship_programme => "internship_programme");
versioned!(internship_student => "internship_student", record = internship::student_record);
versioned!(training_plan => "plan");
versioned!(course => "course");
versioned!(course_session => "course", owner = course_id);
versioned!(course_share => "course", owner = course_id);
versioned!(department => "department");
versioned!(section => "section");
versioned!(employee => "employee");
versioned!(nomination => "nomination");
versioned!(notification_channel => "notification_channel");
versioned!(portal_form => "portal_form");

/// The row `id` of the organisation, or `NotFound` (also for another organisation's row).
pub(crate) async fn find_in_org<M: Versioned>(
    conn: &impl sea_orm::ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<M, RepoError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let (id_column, _, org_column) = M::key_columns();
    M::Entity::find()
        .filter(id_column.eq(id))
        .filter(org_column.eq(org_id))
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)
}

/// The row `id` of the organisation read for a change: under a write lock on PostgreSQL
/// (SQLite serialises writers already), so a state change is decided on what is stored now.
pub(crate) async fn lock_in_org<M: Versioned>(
    conn: &impl sea_orm::ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<M, RepoError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let (id_column, _, org_column) = M::key_columns();
    let mut q = M::Entity::find().filter(id_column.eq(id)).filter(org_column.eq(org_id));
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(conn).await?.ok_or(RepoError::NotFound)
}

/// [`lock_in_org`], then the client's `If-Match` checked on the locked row before anything
/// else is decided on it ([`check_version`]).
pub(crate) async fn lock_at_version<M: Versioned>(
    conn: &impl sea_orm::ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
    expected_version: &Precondition,
) -> Result<M, RepoError> {
    let row: M = lock_in_org(conn, org_id, id).await?;
    check_version(row.version(), expected_version)?;
    Ok(row)
}

/// The one audited create: insert `model` (a unique key taken is a conflict saying `taken`) and
/// record `action` with what it is, in the same transaction.
pub(crate) async fn insert_audited<M>(
    conn: &WriteTxn,
    actor: &Actor,
    action: impl Into<std::borrow::Cow<'static, str>>,
    model: M,
    taken: &Words,
) -> Result<M, RepoError>
where
    M: Versioned + sea_orm::IntoActiveModel<<M::Entity as sea_orm::EntityTrait>::ActiveModel>,
{
    use sea_orm::EntityTrait;
    M::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(|e| RepoError::from_write(e, taken))?;
    let change = audit::Change {
        action: action.into(),
        entity_type: M::AUDIT_TYPE,
        entity_id: Some(model.audit_id()),
        before: None,
        after: Some(model.audit_json()),
    };
    audit::record(conn, actor, change).await?;
    Ok(model)
}

/// What a client's `If-Match` admits (RFC 9110 §13.1.1): whatever version the row has now
/// (`*`), or one of the versions it names (`"3"`, or a list `"3", "4"`). Weak tags and tags that
/// are no version (`"0"`) name none, since If-Match compares strongly: such a write is refused as
/// stale (412) with the current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    Any,
    OneOf(Vec<i32>),
}

impl Precondition {
    /// The one version a client read.
    pub fn version(v: i32) -> Self {
        Precondition::OneOf(vec![v])
    }

    pub fn admits(&self, current: i32) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::OneOf(versions) => versions.contains(&current),
        }
    }
}

/// What a write says when a row it has no unique key for was taken or changed meanwhile.
pub(crate) const CHANGED_MEANWHILE: &Words = &Words::fixed(
    "the record was changed meanwhile; read it again",
    "その間に変更されました。読み込み直してください",
);

/// The one check of a client's `If-Match` against the row as read (under the lock, where the
/// decision depends on it): a stale version is refused before anything else is decided, so a
/// stale client hears 412 rather than a state-machine 409 about a state it has not seen.
pub(crate) fn check_version(current: i32, expected: &Precondition) -> Result<(), RepoError> {
    if expected.admits(current) {
        Ok(())
    } else {
        Err(RepoError::Stale { current })
    }
}

/// The one versioned write: refuse a stale `expected_version`, stamp the next version, write it
/// (a unique key taken is a conflict saying `taken`), and record `action` with what the row was
/// and is, in the same transaction. A row that would not change is neither written nor recorded:
/// repeating a PUT keeps its version (and ETag) and adds nothing to the history.
pub(crate) async fn save_audited<M>(
    conn: &WriteTxn,
    actor: &Actor,
    action: impl Into<std::borrow::Cow<'static, str>>,
    before: &M,
    expected_version: &Precondition,
    mut after: M,
    taken: &Words,
) -> Result<M, RepoError>
where
    M: Versioned + sea_orm::IntoActiveModel<<M::Entity as sea_orm::EntityTrait>::ActiveModel>,
{
    use sea_orm::ActiveModelTrait;
    check_version(before.version(), expected_version)?;
    if after == *before {
        return Ok(after);
    }
    after.stamp(before.version() + 1, now());
    let (id, version, _) = M::key_columns();
    update_versioned::<M::Entity>(
        conn,
        after.clone().into_active_model().reset_all(),
        (id, before.id()),
        (version, before.version()),
        taken,
    )
    .await?;
    let change = audit::Change {
        action: action.into(),
        entity_type: M::AUDIT_TYPE,
        entity_id: Some(before.audit_id()),
        before: Some(before.audit_json()),
        after: Some(after.audit_json()),
    };
    audit::record(conn, actor, change).await?;
    Ok(after)
}

/// [`save_audited`] for many rows at once, each `(before, after)` read under the caller's lock:
/// one statement per batch (guarded by each row's version) and one audit write, instead of two
/// statements a row. Rows that do not change are left out. A row someone changed meanwhile
/// fails the whole write with `changed`.
pub(crate) async fn save_audited_many<M>(
    conn: &WriteTxn,
    actor: &Actor,
    action: &str,
    rows: Vec<(M, M)>,
    changed: &Words,
) -> Result<Vec<M>, RepoError>
where
    M: Versioned + sea_orm::IntoActiveModel<<M::Entity as sea_orm::EntityTrait>::ActiveModel>,
{
    use sea_orm::{ConnectionTrait, Iterable};
    let at = now();
    let mut afters = Vec::with_capacity(rows.len());
    let mut changes = Vec::with_capacity(rows.len());
    for (before, mut after) in rows {
        if after == before {
            continue;
        }
        after.stamp(before.version() + 1, at);
        changes.push(audit::Change {
            action: action.to_string().into(),
            entity_type: M::AUDIT_TYPE,
            entity_id: Some(before.audit_id()),
            before: Some(before.audit_json()),
            after: Some(after.audit_json()),
        });
        afters.push(after);
    }
    if afters.is_empty() {
        return Ok(afters);
    }
    let (id, version, org) = M::key_columns();
    let key = |c: &ColumnOf<M>| {
        [id, org].iter().any(|k| sea_orm::IdenStatic::as_str(k) == sea_orm::IdenStatic::as_str(c))
    };
    let columns: Vec<ColumnOf<M>> = ColumnOf::<M>::iter().filter(|c| !key(c)).collect();
    let steps = crate::bulk::statements::<M::Entity>(
        conn.get_database_backend(),
        &afters,
        crate::bulk::OnKey::UpdateIfVersion { columns: &columns, version },
    )?;
    crate::bulk::execute(conn, steps).await.map_err(|e| match e {
        crate::bulk::BulkError::Changed => RepoError::Conflict(changed.clone()),
        crate::bulk::BulkError::Db(e) => RepoError::Db(e),
    })?;
    audit::record_many(conn, actor, changes).await?;
    Ok(afters)
}

/// Most keys in one statement's `IN (…)` list: far within both backends' limits on a
/// statement's parameters (SQLite 32,766, PostgreSQL 65,535), with room for the statement's own.
pub(crate) const IN_LIST: usize = 500;

/// What `read` finds for every key of `keys`, given [`IN_LIST`] keys at a time (for its
/// statements' `IN` lists), gathered chunk by chunk into a collection of the caller's choosing
/// (a `Vec` in the chunks' order, a map, a set).
///
/// Each chunk is handed over owned: a future borrowing it would be generic over the borrow's
/// lifetime, and rustc cannot then prove it `Send` inside a spawned task.
pub(crate) async fn in_chunks<K, T, I, C, E, F>(keys: &[K], mut read: impl FnMut(Vec<K>) -> F) -> Result<C, E>
where
    K: Clone,
    F: std::future::Future<Output = Result<I, E>>,
    I: IntoIterator<Item = T>,
    C: Default + Extend<T>,
{
    let mut out = C::default();
    for chunk in keys.chunks(IN_LIST) {
        out.extend(read(chunk.to_vec()).await?);
    }
    Ok(out)
}

/// Rows per statement when a large set is read in pages (see [`for_each_in_pages`]).
pub(crate) const READ_PAGE: u64 = 1000;

/// Every row `query` finds (as `rows_of` shapes it: models or narrow tuples), in the order of
/// `key`, read [`READ_PAGE`] rows per statement:
/// `key` must be unique among the rows `query` can find and lead an index that `query`'s
/// filters use (the organisation's employee numbers; a course's trainees).
///
/// Why pages: read at once, 50,000 rows on SQLite were allocated by the pooled connection's
/// worker thread and stayed with that thread's allocator after they were freed, some 110 MiB
/// more resident for each connection that ever served such a read (425 MiB after four roster
/// imports with five connections). A page at a time keeps one page's worth, and was no slower.
/// As with any read of several statements outside a lock, rows changing meanwhile may be seen
/// partly before and partly after the change; every row still appears once.
pub(crate) async fn for_each_in_pages<E, S, K>(
    conn: &impl sea_orm::ConnectionTrait,
    query: sea_orm::Select<E>,
    key: E::Column,
    rows_of: impl Fn(sea_orm::Select<E>) -> sea_orm::Selector<S>,
    key_of: impl Fn(&S::Item) -> K,
    mut each: impl FnMut(S::Item) -> Result<(), DbErr>,
) -> Result<(), DbErr>
where
    E: sea_orm::EntityTrait,
    S: sea_orm::SelectorTrait,
    K: Into<sea_orm::Value>,
{
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut after: Option<K> = None;
    loop {
        let mut page = query.clone();
        if let Some(k) = after.take() {
            page = page.filter(key.gt(k));
        }
        let rows = rows_of(page.order_by_asc(key).limit(READ_PAGE)).all(conn).await?;
        let last_page = (rows.len() as u64) < READ_PAGE;
        after = rows.last().map(&key_of);
        for row in rows {
            each(row)?;
        }
        if last_page {
            return Ok(());
        }
    }
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
