//! The one audit path: every write records who, when, what, before and after, in the same
//! transaction as the change.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use super::{now, Actor, Page, PageRequest};
use crate::bulk::{self, OnKey, Step};
use crate::entities::audit_log;

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: std::borrow::Cow<'static, str>,
    pub entity_type: &'static str,
    pub entity_id: Option<Uuid>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Change {
    pub fn new<T: Serialize>(
        action: &'static str,
        entity_type: &'static str,
        entity_id: Option<Uuid>,
        before: Option<&T>,
        after: Option<&T>,
    ) -> Self {
        Self::new_owned(action, entity_type, entity_id, before, after)
    }

    /// The same, with an action name made at run time (`nomination.select`).
    pub fn new_owned<T: Serialize>(
        action: impl Into<std::borrow::Cow<'static, str>>,
        entity_type: &'static str,
        entity_id: Option<Uuid>,
        before: Option<&T>,
        after: Option<&T>,
    ) -> Self {
        let json = |v: Option<&T>| v.map(|v| serde_json::to_string(v).expect("records serialise"));
        Self { action: action.into(), entity_type, entity_id, before: json(before), after: json(after) }
    }
}

/// The records for `changes`, all stamped with one time.
fn models(actor: &Actor, changes: Vec<Change>) -> Vec<audit_log::Model> {
    let at = now();
    changes.into_iter().map(|c| model(actor, c, at)).collect()
}

fn model(actor: &Actor, change: Change, at: chrono::DateTime<chrono::Utc>) -> audit_log::Model {
    audit_log::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        at,
        actor: actor.signature(),
        request_id: actor.request_id.clone(),
        action: change.action.to_string(),
        entity_type: change.entity_type.to_string(),
        entity_id: change.entity_id,
        before: change.before,
        after: change.after,
    }
}

pub async fn record(conn: &impl ConnectionTrait, actor: &Actor, change: Change) -> Result<(), DbErr> {
    record_many(conn, actor, vec![change]).await
}

/// Many changes in multi-row inserts (bulk imports).
pub async fn record_many(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    changes: Vec<Change>,
) -> Result<(), DbErr> {
    bulk::write::<audit_log::Entity>(conn, &models(actor, changes), OnKey::Fail).await
}

/// The statements that record `changes`, to run later in the same transaction as the change.
pub fn statements(backend: DatabaseBackend, actor: &Actor, changes: Vec<Change>) -> Result<Vec<Step>, DbErr> {
    bulk::statements::<audit_log::Entity>(backend, &models(actor, changes), OnKey::Fail)
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    /// The token subject who made the change.
    pub actor: Option<String>,
    /// From this instant (inclusive).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this instant (exclusive).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// Newest first; the key is the (time-ordered) UUIDv7 id.
pub async fn list(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<audit_log::Model>, DbErr> {
    let mut q = audit_log::Entity::find().filter(audit_log::Column::OrgId.eq(org_id));
    if let Some(t) = &filter.entity_type {
        q = q.filter(audit_log::Column::EntityType.eq(t.as_str()));
    }
    if let Some(id) = filter.entity_id {
        q = q.filter(audit_log::Column::EntityId.eq(id));
    }
    if let Some(actor) = &filter.actor {
        q = q.filter(audit_log::Column::Actor.eq(actor.as_str()));
    }
    if let Some(from) = filter.from {
        q = q.filter(audit_log::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(audit_log::Column::At.lt(to));
    }
    if let Some(after) = page.after.as_ref().and_then(|a| a.first()).and_then(|s| Uuid::parse_str(s).ok()) {
        q = q.filter(audit_log::Column::Id.lt(after));
    }
    let rows = q.order_by_desc(audit_log::Column::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |r| vec![r.id.to_string()]))
}
