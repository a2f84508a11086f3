//! 配信: an organisation's channels, one delivery per notice and channel written with the notice,
//! the dispatcher's claims (a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two service
//! instances never send the same delivery), each try's answer, and the training office's views
//! and redelivery.

use crate::repo::Precondition;
use crate::WriteTxn;
use kenshu_domain::Words;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kenshu_domain::delivery::{settle, wants, ChannelKind, DeliveryState, Outcome};
use kenshu_domain::notice::NoticeKind;
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{audit, find_in_org, insert_audited, now, save_audited, Actor, Page, PageRequest, RepoError};
use crate::bulk::{self, OnKey};
use crate::entities::{delivery_attempt, notice, notice_delivery, notification_channel};

const NAME_TAKEN: &Words = &Words::fixed("a channel of this name exists", "同じ名前の配信先がすでにあります");

/// A channel as the training office writes it.
#[derive(Debug, Clone)]
pub struct ChannelData {
    pub kind: ChannelKind,
    pub name: String,
    pub enabled: bool,
    pub kinds: Vec<NoticeKind>,
    /// The kind's settings, without its secret.
    pub settings: serde_json::Value,
    pub secret: SecretChange,
}

/// What becomes of a channel's secret on a write.
#[derive(Debug, Clone)]
pub enum SecretChange {
    Keep,
    /// A new secret, sealed; the one it replaces still signs until `previous_until`, if given.
    Replace {
        sealed: String,
        previous_until: Option<DateTime<Utc>>,
    },
}

fn apply(mut m: notification_channel::Model, d: ChannelData) -> notification_channel::Model {
    m.kind = d.kind.as_str().into();
    m.name = d.name;
    m.enabled = d.enabled;
    m.kinds = serde_json::to_string(&d.kinds).expect("kinds serialise");
    m.settings = d.settings.to_string();
    if let SecretChange::Replace { sealed, previous_until } = d.secret {
        m.previous_secret = previous_until.and(m.secret.take());
        m.previous_secret_until = previous_until.filter(|_| m.previous_secret.is_some());
        m.secret = Some(sealed);
    }
    m
}

pub async fn create_channel(
    conn: &WriteTxn,
    actor: &Actor,
    data: ChannelData,
) -> Result<notification_channel::Model, RepoError> {
    let at = now();
    let blank = notification_channel::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        kind: String::new(),
        name: String::new(),
        enabled: true,
        kinds: "[]".into(),
        settings: "{}".into(),
        secret: None,
        previous_secret: None,
        previous_secret_until: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(conn, actor, "notification_channel.create", apply(blank, data), NAME_TAKEN).await
}

pub async fn update_channel(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    data: ChannelData,
) -> Result<notification_channel::Model, RepoError> {
    let before: notification_channel::Model =
        super::lock_at_version(conn, actor.org_id, id, expected_version).await?;
    if before.kind()? != data.kind {
        return Err(RepoError::Invalid(vec![kenshu_domain::FieldError::conflict(
            "settings.kind",
            "a channel keeps its kind; set up a new channel instead",
        )]));
    }
    let after = apply(before.clone(), data);
    save_audited(conn, actor, "notification_channel.update", &before, expected_version, after, NAME_TAKEN)
        .await
}

pub async fn channel(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<notification_channel::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// The organisation's channels, oldest first.
pub async fn channels(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
) -> Result<Vec<notification_channel::Model>, DbErr> {
    notification_channel::Entity::find()
        .filter(notification_channel::Column::OrgId.eq(org_id))
        .order_by_asc(notification_channel::Column::Id)
        .all(conn)
        .await
}

/// The notice kinds a channel takes (empty: all).
pub fn kinds_of(c: &notification_channel::Model) -> Result<Vec<NoticeKind>, DbErr> {
    serde_json::from_str(&c.kinds).map_err(|e| DbErr::Custom(format!("stored channel kinds: {e}")))
}

/// One delivery per new notice and enabled channel that takes it, due at once (no next try
/// set).
pub async fn fan_out(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    notices: &[notice::Model],
) -> Result<(), DbErr> {
    if notices.is_empty() {
        return Ok(());
    }
    let enabled: Vec<(Uuid, Vec<NoticeKind>)> = channels(conn, org_id)
        .await?
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| Ok((c.id, kinds_of(&c)?)))
        .collect::<Result<_, DbErr>>()?;
    if enabled.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::new();
    for n in notices {
        let kind = n.kind()?;
        for (channel_id, kinds) in &enabled {
            if wants(kinds, kind, n.digest) {
                rows.push(notice_delivery::Model {
                    id: Uuid::now_v7(),
                    org_id,
                    notice_id: n.id,
                    channel_id: *channel_id,
                    state: DeliveryState::Pending.as_str().into(),
                    attempts: 0,
                    // Due at once, whatever the scheduler's clock says.
                    next_attempt_at: None,
                    lease_until: None,
                    last_answer: None,
                    delivered_at: None,
                    created_at: n.created_at,
                    updated_at: n.created_at,
                });
            }
        }
    }
    bulk::write::<notice_delivery::Entity>(conn, &rows, OnKey::Fail).await
}

/// Claim up to `limit` deliveries due at `at`, of every organisation, oldest first, that no
/// dispatcher holds: each is held until `until`. On PostgreSQL rows another transaction is
/// claiming are skipped; SQLite runs one writer at a time.
pub async fn claim_due(
    conn: &impl ConnectionTrait,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<notice_delivery::Model>, DbErr> {
    let mut q = notice_delivery::Entity::find()
        .filter(notice_delivery::Column::State.eq(DeliveryState::Pending.as_str()))
        .filter(
            Condition::any()
                .add(notice_delivery::Column::NextAttemptAt.is_null())
                .add(notice_delivery::Column::NextAttemptAt.lte(at)),
        )
        .filter(
            Condition::any()
                .add(notice_delivery::Column::LeaseUntil.is_null())
                .add(notice_delivery::Column::LeaseUntil.lte(at)),
        )
        // Oldest notice first: ids are time-ordered.
        .order_by_asc(notice_delivery::Column::Id)
        .limit(limit);
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = q.all(conn).await?;
    if !rows.is_empty() {
        notice_delivery::Entity::update_many()
            .col_expr(notice_delivery::Column::LeaseUntil, Expr::value(until))
            .filter(notice_delivery::Column::Id.is_in(rows.iter().map(|d| d.id)))
            .exec(conn)
            .await?;
    }
    Ok(rows.into_iter().map(|d| notice_delivery::Model { lease_until: Some(until), ..d }).collect())
}

/// The notices and channels claimed deliveries are of.
pub async fn context(
    conn: &impl ConnectionTrait,
    claimed: &[notice_delivery::Model],
) -> Result<(HashMap<Uuid, notice::Model>, HashMap<Uuid, notification_channel::Model>), DbErr> {
    let mut notices = HashMap::new();
    let mut channels = HashMap::new();
    for chunk in claimed.chunks(super::IN_LIST) {
        for n in notice::Entity::find()
            .filter(notice::Column::Id.is_in(chunk.iter().map(|d| d.notice_id)))
            .all(conn)
            .await?
        {
            notices.insert(n.id, n);
        }
        for c in notification_channel::Entity::find()
            .filter(notification_channel::Column::Id.is_in(chunk.iter().map(|d| d.channel_id)))
            .all(conn)
            .await?
        {
            channels.insert(c.id, c);
        }
    }
    Ok((notices, channels))
}

/// Record a try of a claimed delivery and what it came to, if the claim still holds (a
/// dispatcher whose lease ran out leaves the row to whoever took it since). Returns the row as
/// it now is.
pub async fn record(
    conn: &impl ConnectionTrait,
    claimed: &notice_delivery::Model,
    outcome: &Outcome,
    at: DateTime<Utc>,
) -> Result<Option<notice_delivery::Model>, DbErr> {
    let attempts = claimed.attempts + 1;
    let (state, next) = settle(outcome, attempts, at);
    let answer: String = outcome.answer().chars().take(1000).collect();
    let after = notice_delivery::Model {
        state: state.as_str().into(),
        attempts,
        next_attempt_at: next,
        lease_until: None,
        last_answer: Some(answer.clone()),
        delivered_at: (state == DeliveryState::Delivered).then_some(at).or(claimed.delivered_at),
        updated_at: at,
        ..claimed.clone()
    };
    let held = notice_delivery::Entity::update_many()
        .col_expr(notice_delivery::Column::State, Expr::value(after.state.clone()))
        .col_expr(notice_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(notice_delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(notice_delivery::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(notice_delivery::Column::LastAnswer, Expr::value(Some(answer.clone())))
        .col_expr(notice_delivery::Column::DeliveredAt, Expr::value(after.delivered_at))
        .col_expr(notice_delivery::Column::UpdatedAt, Expr::value(at))
        .filter(notice_delivery::Column::Id.eq(claimed.id))
        .filter(notice_delivery::Column::LeaseUntil.eq(claimed.lease_until))
        .exec(conn)
        .await?;
    if held.rows_affected == 0 {
        return Ok(None);
    }
    delivery_attempt::Entity::insert(sea_orm::IntoActiveModel::into_active_model(delivery_attempt::Model {
        id: Uuid::now_v7(),
        org_id: claimed.org_id,
        delivery_id: claimed.id,
        attempted_at: at,
        outcome: outcome.name().into(),
        answer,
        next_attempt_at: next,
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(Some(after))
}

/// Give a claimed delivery back untried, due at `next` (the receiver is busy).
pub async fn release(
    conn: &impl ConnectionTrait,
    claimed: &notice_delivery::Model,
    next: DateTime<Utc>,
) -> Result<(), DbErr> {
    notice_delivery::Entity::update_many()
        .col_expr(notice_delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(notice_delivery::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(notice_delivery::Column::Id.eq(claimed.id))
        .filter(notice_delivery::Column::LeaseUntil.eq(claimed.lease_until))
        .exec(conn)
        .await?;
    Ok(())
}

/// A delivery with its tries, oldest first.
pub type DeliveryLog = (notice_delivery::Model, Vec<delivery_attempt::Model>);

/// Every delivery of a notice with its tries.
pub async fn for_notice(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    notice_id: Uuid,
) -> Result<Vec<DeliveryLog>, DbErr> {
    let deliveries = notice_delivery::Entity::find()
        .filter(notice_delivery::Column::OrgId.eq(org_id))
        .filter(notice_delivery::Column::NoticeId.eq(notice_id))
        .order_by_asc(notice_delivery::Column::Id)
        .all(conn)
        .await?;
    with_attempts(conn, org_id, deliveries).await
}

async fn with_attempts(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    deliveries: Vec<notice_delivery::Model>,
) -> Result<Vec<DeliveryLog>, DbErr> {
    let mut attempts: HashMap<Uuid, Vec<delivery_attempt::Model>> = HashMap::new();
    for chunk in deliveries.chunks(super::IN_LIST) {
        for a in delivery_attempt::Entity::find()
            .filter(delivery_attempt::Column::OrgId.eq(org_id))
            .filter(delivery_attempt::Column::DeliveryId.is_in(chunk.iter().map(|d| d.id)))
            .order_by_asc(delivery_attempt::Column::Id)
            .all(conn)
            .await?
        {
            attempts.entry(a.delivery_id).or_default().push(a);
        }
    }
    Ok(deliveries
        .into_iter()
        .map(|d| {
            let tries = attempts.remove(&d.id).unwrap_or_default();
            (d, tries)
        })
        .collect())
}

/// The organisation's deliveries in `state`, oldest first, with their tries.
pub async fn in_state(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    state: DeliveryState,
    page: &PageRequest,
) -> Result<Page<DeliveryLog>, RepoError> {
    let mut q = notice_delivery::Entity::find()
        .filter(notice_delivery::Column::OrgId.eq(org_id))
        .filter(notice_delivery::Column::State.eq(state.as_str()));
    if let Some(after) = super::notice::after_id(page)? {
        q = q.filter(notice_delivery::Column::Id.gt(after));
    }
    let rows = q.order_by_asc(notice_delivery::Column::Id).limit(page.limit + 1).all(conn).await?;
    let page = Page::from_rows(rows, page.limit, |d| vec![d.id.to_string()]);
    let next = page.next;
    Ok(Page { items: with_attempts(conn, org_id, page.items).await?, next })
}

/// Deliver again by hand (HR): a failed or skipped delivery is due at once, with its log kept.
pub async fn redeliver(conn: &WriteTxn, actor: &Actor, id: Uuid) -> Result<DeliveryLog, RepoError> {
    let mut q =
        notice_delivery::Entity::find_by_id(id).filter(notice_delivery::Column::OrgId.eq(actor.org_id));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    let before = q.one(conn).await?.ok_or(RepoError::NotFound)?;
    let state = before.state()?;
    if !matches!(state, DeliveryState::Failed | DeliveryState::Skipped) {
        return Err(RepoError::Transition {
            state: state.as_str().into(),
            message: format!(
                "a {} delivery is not delivered again by hand; only a failed or skipped one",
                state.as_str()
            ),
        });
    }
    let at = now();
    let after = notice_delivery::Model {
        state: DeliveryState::Pending.as_str().into(),
        next_attempt_at: None,
        lease_until: None,
        updated_at: at,
        ..before.clone()
    };
    notice_delivery::Entity::update(sea_orm::ActiveModelTrait::reset_all(
        sea_orm::IntoActiveModel::into_active_model(after.clone()),
    ))
    .exec(conn)
    .await?;
    let change = audit::Change::new(
        "notice_delivery.redeliver",
        "notice_delivery",
        Some(id),
        Some(&before),
        Some(&after),
    );
    audit::record(conn, actor, change).await?;
    let mut log = with_attempts(conn, actor.org_id, vec![after]).await?;
    Ok(log.remove(0))
}

/// Deliveries of every organisation by state (pending is the outbox's backlog, failed the ones
/// given up on): for the operators' metrics, counts only.
pub async fn count_by_state(conn: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    notice_delivery::Entity::find()
        .select_only()
        .column(notice_delivery::Column::State)
        .column_as(notice_delivery::Column::Id.count(), "n")
        .group_by(notice_delivery::Column::State)
        .into_tuple()
        .all(conn)
        .await
}
