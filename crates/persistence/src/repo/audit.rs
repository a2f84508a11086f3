//! The one audit path: every write records who, when, what, before and after, in the same
//! transaction as the change.

use kenshu_domain::audit_chain::{timestamp, Head, Record, Verifier};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;
use uuid::Uuid;

use super::{now, Actor, Page, PageRequest};
use crate::bulk::{self, OnKey};
use crate::entities::{audit_chain_head, audit_log};
use crate::WriteTxn;

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

/// The records for `changes`, all stamped with one time, not yet chained: a write transaction
/// keeps them and [`append`] numbers, hashes and writes them when it commits.
pub fn prepare(actor: &Actor, changes: Vec<Change>) -> Vec<audit_log::Model> {
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
        seq: None,
        hash: None,
    }
}

/// Record one change, in the transaction that makes it.
pub fn record(txn: &WriteTxn, actor: &Actor, change: Change) {
    record_many(txn, actor, vec![change]);
}

/// Record many changes, in the transaction that makes them.
pub fn record_many(txn: &WriteTxn, actor: &Actor, changes: Vec<Change>) {
    txn.audit(prepare(actor, changes));
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

// ---------------------------------------------------------------------------------------------
// The hash chain (監査ログの改ざん検知)

/// Records chained per statement: bounds the memory a large import's chaining holds.
const CHAIN_PAGE: u64 = 1000;

fn chain_record<'a>(m: &'a audit_log::Model, at: &'a str) -> Record<'a> {
    Record {
        org_id: m.org_id,
        id: m.id,
        at,
        actor: &m.actor,
        request_id: m.request_id.as_deref(),
        action: &m.action,
        entity_type: &m.entity_type,
        entity_id: m.entity_id,
        before: m.before.as_deref(),
        after: m.after.as_deref(),
    }
}

/// Append a committing transaction's records to their organisations' chains and write them:
/// each organisation's head is locked, the records are numbered and hashed in the order they
/// were made, inserted with their links in bulk, and the head moves on. The head is taken here,
/// at commit, after the transaction's other row locks, and heads in organisation order, so two
/// transactions never wait for each other's rows while one holds a head; and numbers follow
/// commit order.
pub(crate) async fn append(conn: &impl ConnectionTrait, records: Vec<audit_log::Model>) -> Result<(), DbErr> {
    if records.is_empty() {
        return Ok(());
    }
    let mut by_org: std::collections::BTreeMap<Uuid, Vec<audit_log::Model>> = Default::default();
    for r in records {
        by_org.entry(r.org_id).or_default().push(r);
    }
    for (org_id, mut records) in by_org {
        let mut head = lock_head(conn, org_id).await?;
        for m in &mut records {
            let at = timestamp(m.at);
            let (seq, hash) = head.append(&chain_record(m, &at));
            m.seq = Some(seq);
            m.hash = Some(hash);
        }
        bulk::write::<audit_log::Entity>(conn, &records, OnKey::Fail).await?;
        move_head(conn, org_id, &head).await?;
    }
    Ok(())
}

async fn move_head(conn: &impl ConnectionTrait, org_id: Uuid, head: &Head) -> Result<(), DbErr> {
    audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::Seq, Expr::value(head.seq))
        .col_expr(audit_chain_head::Column::Hash, Expr::value(head.hash.clone()))
        .filter(audit_chain_head::Column::OrgId.eq(org_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Chain records written unchained: those from before the log was chained (and, for a
/// while, records written outside a write transaction). Run once as the service starts, after
/// the migrations; organisation by organisation, reading and linking them page by page.
pub(crate) async fn chain_backlog(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    let mut orgs: Vec<Uuid> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::OrgId)
        .distinct()
        .filter(audit_log::Column::Seq.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    orgs.sort();
    for org_id in orgs {
        let mut head = lock_head(conn, org_id).await?;
        let start = head.seq;
        loop {
            let pending = audit_log::Entity::find()
                .filter(audit_log::Column::OrgId.eq(org_id))
                .filter(audit_log::Column::Seq.is_null())
                .order_by_asc(audit_log::Column::Id)
                .limit(CHAIN_PAGE)
                .all(conn)
                .await?;
            if pending.is_empty() {
                break;
            }
            let links: Vec<(Uuid, i64, String)> = pending
                .iter()
                .map(|m| {
                    let at = timestamp(m.at);
                    let (seq, hash) = head.append(&chain_record(m, &at));
                    (m.id, seq, hash)
                })
                .collect();
            conn.execute(link_statement(conn.get_database_backend(), org_id, links)).await?;
            if (pending.len() as u64) < CHAIN_PAGE {
                break;
            }
        }
        if head.seq != start {
            move_head(conn, org_id, &head).await?;
        }
    }
    Ok(())
}

/// Lock the organisation's chain head (creating it at the start) and read it, in one statement.
async fn lock_head(conn: &impl ConnectionTrait, org_id: Uuid) -> Result<Head, DbErr> {
    use audit_chain_head::Column as C;
    let start = Head::start();
    let stmt = Query::insert()
        .into_table(audit_chain_head::Entity)
        .columns([C::OrgId, C::Seq, C::Hash])
        .values_panic([org_id.into(), start.seq.into(), start.hash.into()])
        // An update that changes nothing, for the row lock it takes and the row it returns.
        .on_conflict(
            OnConflict::column(C::OrgId)
                .value(C::Seq, Expr::col((audit_chain_head::Entity, C::Seq)))
                .to_owned(),
        )
        .returning(Query::returning().columns([C::Seq, C::Hash]))
        .to_owned();
    let row = conn
        .query_one(conn.get_database_backend().build(&stmt))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit chain head".into()))?;
    Ok(Head { seq: row.try_get("", "seq")?, hash: row.try_get("", "hash")? })
}

/// One statement that gives each record its number and hash.
fn link_statement(backend: DatabaseBackend, org_id: Uuid, links: Vec<(Uuid, i64, String)>) -> Statement {
    let n = links.len();
    match backend {
        DatabaseBackend::Postgres => {
            let (mut ids, mut seqs, mut hashes) =
                (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
            for (id, seq, hash) in links {
                ids.push(id);
                seqs.push(seq);
                hashes.push(hash);
            }
            Statement::from_sql_and_values(
                backend,
                "UPDATE audit_log AS a SET seq = v.seq, hash = v.hash \
                 FROM unnest($1::uuid[], $2::int8[], $3::text[]) AS v(id, seq, hash) \
                 WHERE a.org_id = $4 AND a.id = v.id",
                [ids.into(), seqs.into(), hashes.into(), org_id.into()],
            )
        }
        _ => {
            let rows = vec!["(?, ?, ?)"; n].join(", ");
            let mut values: Vec<sea_orm::Value> = Vec::with_capacity(3 * n + 1);
            for (id, seq, hash) in links {
                values.extend([id.into(), seq.into(), hash.into()]);
            }
            values.push(org_id.into());
            Statement::from_sql_and_values(
                backend,
                format!(
                    "UPDATE audit_log SET seq = v.column2, hash = v.column3 FROM (VALUES {rows}) AS v \
                     WHERE audit_log.org_id = ? AND audit_log.id = v.column1"
                ),
                values,
            )
        }
    }
}

/// The first broken link of a chain.
#[derive(Debug, Clone, Serialize)]
pub struct BrokenLink {
    pub seq: i64,
    /// The record found where the chain breaks (none when the log ends before its head).
    pub id: Option<Uuid>,
    pub reason: String,
}

/// What [`verify`] found for one organisation.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Records whose links were checked and hold.
    pub verified: i64,
    /// The stored head: the number and hash of the last record. Keeping these elsewhere (a
    /// report, a signed mail) lets a later check show that not even the whole chain was rewritten.
    pub head_seq: i64,
    pub head_hash: String,
    /// Committed records not yet chained (written before the log was chained); the service
    /// chains them when it next starts.
    pub unchained: u64,
    pub broken: Option<BrokenLink>,
}

/// Walk the organisation's chain from its first record and report the first broken link.
/// Reads page by page, so memory does not grow with the log.
pub async fn verify(conn: &impl ConnectionTrait, org_id: Uuid) -> Result<Verification, DbErr> {
    let stored = audit_chain_head::Entity::find_by_id(org_id)
        .one(conn)
        .await?
        .map_or_else(Head::start, |h| Head { seq: h.seq, hash: h.hash });
    let unchained = audit_log::Entity::find()
        .filter(audit_log::Column::OrgId.eq(org_id))
        .filter(audit_log::Column::Seq.is_null())
        .count(conn)
        .await?;
    let mut verifier = Verifier::default();
    let mut last = 0i64;
    let broken = 'walk: loop {
        let page = audit_log::Entity::find()
            .filter(audit_log::Column::OrgId.eq(org_id))
            .filter(audit_log::Column::Seq.gt(last))
            .order_by_asc(audit_log::Column::Seq)
            .limit(CHAIN_PAGE)
            .all(conn)
            .await?;
        for m in &page {
            let seq = m.seq.unwrap_or_default();
            let at = timestamp(m.at);
            if let Err(b) = verifier.check(seq, m.hash.as_deref().unwrap_or_default(), &chain_record(m, &at))
            {
                break 'walk Some(BrokenLink { seq: b.seq(), id: Some(m.id), reason: b.describe() });
            }
            last = seq;
        }
        if (page.len() as u64) < CHAIN_PAGE {
            break verifier.finish(&stored).err().map(|b| BrokenLink {
                seq: b.seq(),
                id: None,
                reason: b.describe(),
            });
        }
    };
    Ok(Verification { verified: last, head_seq: stored.seq, head_hash: stored.hash, unchained, broken })
}
