//! The one audit path: every write records who, when, what, before and after, in the same
//! transaction as the change.

use std::collections::{BTreeMap, HashMap};

use kenshu_domain::audit_chain::{timestamp, Block, Break, Head, Record, Verifier};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;
use uuid::Uuid;

use super::{now, Actor, Page, PageRequest};
use crate::bulk::{self, OnKey};
use crate::entities::{audit_block, audit_chain_head, audit_log};
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

/// The records for `changes`, all stamped with one time, not yet chained (see [`write`]).
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
        block_id: None,
        pos: None,
    }
}

/// Record one change, in the transaction that makes it.
pub async fn record(txn: &WriteTxn, actor: &Actor, change: Change) -> Result<(), DbErr> {
    record_many(txn, actor, vec![change]).await
}

/// Record many changes (multi-row inserts), in the transaction that makes them.
pub async fn record_many(txn: &WriteTxn, actor: &Actor, changes: Vec<Change>) -> Result<(), DbErr> {
    write(txn, prepare(actor, changes)).await
}

/// Write prepared records: each is hashed into the transaction's block of its organisation and
/// inserted complete; the block is sealed into the chain when the transaction commits.
pub async fn write(txn: &WriteTxn, mut records: Vec<audit_log::Model>) -> Result<(), DbErr> {
    txn.chain(&mut records);
    bulk::write::<audit_log::Entity>(txn, &records, OnKey::Fail).await
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
    let mut rows = q.order_by_desc(audit_log::Column::Id).limit(page.limit + 1).all(conn).await?;
    number(conn, org_id, &mut rows).await?;
    Ok(Page::from_rows(rows, page.limit, |r| vec![r.id.to_string()]))
}

/// Give records in a block their number in the chain (their block's first number + place − 1).
async fn number(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    rows: &mut [audit_log::Model],
) -> Result<(), DbErr> {
    let ids: std::collections::BTreeSet<Uuid> = rows.iter().filter_map(|r| r.block_id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let firsts: std::collections::HashMap<Uuid, i64> = audit_block::Entity::find()
        .select_only()
        .columns([audit_block::Column::Id, audit_block::Column::FirstSeq])
        .filter(audit_block::Column::OrgId.eq(org_id))
        .filter(audit_block::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    for r in rows {
        if let (Some(block), Some(pos)) = (r.block_id, r.pos) {
            r.seq = firsts.get(&block).map(|first| first + i64::from(pos) - 1);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The hash chain (監査ログの改ざん検知)

/// Records read per statement when chaining old records or verifying: bounds the memory.
const CHAIN_PAGE: u64 = 1000;
/// Blocks read per statement when verifying.
const BLOCK_PAGE: u64 = 500;

pub(crate) fn chain_record<'a>(m: &'a audit_log::Model, at: &'a str) -> Record<'a> {
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

/// Seal a committing transaction's blocks into their organisations' chains: for each (in
/// organisation order) lock the head, store the block with the numbers it takes and its link,
/// and move the head. The head is taken here, at commit, after the transaction's other row
/// locks, so two transactions never wait for each other's rows while one holds a head; numbers
/// follow the order of commits. Three statements per organisation, whatever the block's size.
pub(crate) async fn seal(conn: &impl ConnectionTrait, blocks: BTreeMap<Uuid, Block>) -> Result<(), DbErr> {
    for (org_id, block) in blocks {
        if block.count == 0 {
            continue;
        }
        let head = lock_head(conn, org_id).await?;
        let (first_seq, next) = block.seal(&head);
        audit_block::Entity::insert(audit_block::ActiveModel::from(audit_block::Model {
            org_id,
            id: block.id,
            first_seq,
            count: i32::try_from(block.count).expect("fewer than 2^31 records in one transaction"),
            last_hash: block.hash.clone(),
            hash: next.hash.clone(),
            at: now(),
        }))
        .exec_without_returning(conn)
        .await?;
        move_head(conn, org_id, &next).await?;
    }
    Ok(())
}

/// Where an organisation's audit chain stands: its last record's place and hash, none before its
/// first record. Every committed change recorded for the organisation moves it.
pub type ChainStamp = Option<(i64, String)>;

/// The organisation's [`ChainStamp`] now: one read by primary key, no lock.
pub async fn stamp(conn: &impl ConnectionTrait, org_id: Uuid) -> Result<ChainStamp, DbErr> {
    Ok(audit_chain_head::Entity::find_by_id(org_id).one(conn).await?.map(|h| (h.seq, h.hash)))
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

fn unchained() -> sea_orm::Condition {
    sea_orm::Condition::all().add(audit_log::Column::Seq.is_null()).add(audit_log::Column::BlockId.is_null())
}

/// Chain records written before the log was chained: each organisation's into one block of
/// `txn`, page by page in the order they were made, sealed when `txn` commits. Run as the
/// service starts, after the migrations.
pub(crate) async fn chain_backlog(txn: &WriteTxn) -> Result<(), DbErr> {
    let orgs: Vec<Uuid> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::OrgId)
        .distinct()
        .filter(unchained())
        .into_tuple()
        .all(txn)
        .await?;
    for org_id in orgs {
        // The head first: two instances starting together would otherwise both place the same
        // records, the later one moving them out of the block the earlier one sealed. Behind
        // the lock the later one finds them placed.
        lock_head(txn, org_id).await?;
        loop {
            let mut pending = audit_log::Entity::find()
                .filter(audit_log::Column::OrgId.eq(org_id))
                .filter(unchained())
                .order_by_asc(audit_log::Column::Id)
                .limit(CHAIN_PAGE)
                .all(txn)
                .await?;
            if pending.is_empty() {
                break;
            }
            txn.chain(&mut pending);
            txn.execute(place_statement(txn.get_database_backend(), org_id, &pending)).await?;
            if (pending.len() as u64) < CHAIN_PAGE {
                break;
            }
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

/// One statement that gives old records their block, place and hash.
fn place_statement(backend: DatabaseBackend, org_id: Uuid, records: &[audit_log::Model]) -> Statement {
    let n = records.len();
    match backend {
        DatabaseBackend::Postgres => {
            let (mut ids, mut blocks, mut places, mut hashes) =
                (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
            for m in records {
                ids.push(m.id);
                blocks.push(m.block_id.expect("placed"));
                places.push(m.pos.expect("placed"));
                hashes.push(m.hash.clone().expect("placed"));
            }
            Statement::from_sql_and_values(
                backend,
                "UPDATE audit_log AS a SET block_id = v.block_id, pos = v.pos, hash = v.hash \
                 FROM unnest($1::uuid[], $2::uuid[], $3::int4[], $4::text[]) AS v(id, block_id, pos, hash) \
                 WHERE a.org_id = $5 AND a.id = v.id",
                [ids.into(), blocks.into(), places.into(), hashes.into(), org_id.into()],
            )
        }
        _ => {
            let rows = vec!["(?, ?, ?, ?)"; n].join(", ");
            let mut values: Vec<sea_orm::Value> = Vec::with_capacity(4 * n + 1);
            for m in records {
                values.extend([m.id.into(), m.block_id.into(), m.pos.into(), m.hash.clone().into()]);
            }
            values.push(org_id.into());
            Statement::from_sql_and_values(
                backend,
                format!(
                    "UPDATE audit_log SET block_id = v.column2, pos = v.column3, hash = v.column4 \
                     FROM (VALUES {rows}) AS v WHERE audit_log.org_id = ? AND audit_log.id = v.column1"
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
    /// The record found where the chain breaks (none when a record or the end of the log is
    /// missing, or a transaction's own link was changed).
    pub id: Option<Uuid>,
    pub reason: String,
}

impl BrokenLink {
    fn at(id: Option<Uuid>) -> impl FnOnce(Break) -> Self {
        move |b| BrokenLink { seq: b.seq(), id, reason: b.describe() }
    }
}

/// What [`verify`] found for one organisation.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Records whose links were checked and hold.
    pub verified: i64,
    /// The stored head: the number and hash of the last link. Keeping these elsewhere (a
    /// report, a signed mail) lets a later check show that not even the whole chain was rewritten.
    pub head_seq: i64,
    pub head_hash: String,
    /// Committed records not yet chained (written before the log was chained); the service
    /// chains them when it next starts.
    pub unchained: u64,
    pub broken: Option<BrokenLink>,
}

/// Walk the organisation's chain from its first record and report the first broken link:
/// the records linked one by one first, then block by block. Reads page by page, so memory
/// does not grow with the log.
pub async fn verify(conn: &impl ConnectionTrait, org_id: Uuid) -> Result<Verification, DbErr> {
    let stored = audit_chain_head::Entity::find_by_id(org_id)
        .one(conn)
        .await?
        .map_or_else(Head::start, |h| Head { seq: h.seq, hash: h.hash });
    let unchained = audit_log::Entity::find()
        .filter(audit_log::Column::OrgId.eq(org_id))
        .filter(unchained())
        .count(conn)
        .await?;
    let mut verifier = Verifier::default();
    let mut last = 0i64;
    let broken = match walk(conn, org_id, &mut verifier, &mut last).await? {
        Some(broken) => Some(broken),
        None => verifier.finish(&stored).err().map(BrokenLink::at(None)),
    };
    Ok(Verification { verified: last, head_seq: stored.seq, head_hash: stored.hash, unchained, broken })
}

async fn walk(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    v: &mut Verifier,
    last: &mut i64,
) -> Result<Option<BrokenLink>, DbErr> {
    // The records linked one by one.
    loop {
        let page = audit_log::Entity::find()
            .filter(audit_log::Column::OrgId.eq(org_id))
            .filter(audit_log::Column::Seq.gt(*last))
            .order_by_asc(audit_log::Column::Seq)
            .limit(CHAIN_PAGE)
            .all(conn)
            .await?;
        for m in &page {
            let seq = m.seq.unwrap_or_default();
            let at = timestamp(m.at);
            if let Err(b) = v.check(seq, m.hash.as_deref().unwrap_or_default(), &chain_record(m, &at)) {
                return Ok(Some(BrokenLink::at(Some(m.id))(b)));
            }
            *last = seq;
        }
        if (page.len() as u64) < CHAIN_PAGE {
            break;
        }
    }
    // Then the blocks, in the order they were sealed; small blocks' records read together.
    let mut after = 0i64;
    loop {
        let blocks = audit_block::Entity::find()
            .filter(audit_block::Column::OrgId.eq(org_id))
            .filter(audit_block::Column::FirstSeq.gt(after))
            .order_by_asc(audit_block::Column::FirstSeq)
            .limit(BLOCK_PAGE)
            .all(conn)
            .await?;
        let mut group: Vec<&audit_block::Model> = Vec::new();
        let mut size = 0u64;
        for (i, block) in blocks.iter().enumerate() {
            group.push(block);
            size += block.count.max(0) as u64;
            let next = blocks.get(i + 1).map_or(0, |b| b.count.max(0) as u64);
            if i + 1 == blocks.len() || size + next > CHAIN_PAGE {
                if let Some(broken) = check_blocks(conn, org_id, &group, v, last).await? {
                    return Ok(Some(broken));
                }
                group.clear();
                size = 0;
            }
        }
        match blocks.last() {
            Some(b) if blocks.len() as u64 == BLOCK_PAGE => after = b.first_seq,
            _ => return Ok(None),
        }
    }
}

/// Check consecutive blocks: together (one read) when they are small, a large one page by page.
async fn check_blocks(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    blocks: &[&audit_block::Model],
    v: &mut Verifier,
    last: &mut i64,
) -> Result<Option<BrokenLink>, DbErr> {
    let records = |ids: Vec<Uuid>, from: i32| {
        audit_log::Entity::find()
            .filter(audit_log::Column::OrgId.eq(org_id))
            .filter(audit_log::Column::BlockId.is_in(ids))
            .filter(audit_log::Column::Pos.gt(from))
            .order_by_asc(audit_log::Column::BlockId)
            .order_by_asc(audit_log::Column::Pos)
    };
    let check = |v: &mut Verifier, last: &mut i64, m: &audit_log::Model| -> Result<(), BrokenLink> {
        let at = timestamp(m.at);
        let pos = i64::from(m.pos.unwrap_or_default());
        *last = v
            .check_in_block(pos, m.hash.as_deref().unwrap_or_default(), &chain_record(m, &at))
            .map_err(BrokenLink::at(Some(m.id)))?;
        Ok(())
    };
    let open = |v: &mut Verifier, block: &audit_block::Model| {
        v.open_block(block.id, block.first_seq).map_err(BrokenLink::at(None))
    };
    let close = |v: &mut Verifier, block: &audit_block::Model| {
        v.close_block(i64::from(block.count), &block.hash).map_err(BrokenLink::at(None))
    };
    if let [block] = blocks {
        if block.count as u64 > CHAIN_PAGE {
            if let Err(broken) = open(v, block) {
                return Ok(Some(broken));
            }
            let mut from = 0;
            loop {
                let page = records(vec![block.id], from).limit(CHAIN_PAGE).all(conn).await?;
                for m in &page {
                    if let Err(broken) = check(v, last, m) {
                        return Ok(Some(broken));
                    }
                    from = m.pos.unwrap_or_default();
                }
                if (page.len() as u64) < CHAIN_PAGE {
                    break;
                }
            }
            return Ok(close(v, block).err());
        }
    }
    let total: u64 = blocks.iter().map(|b| b.count.max(0) as u64).sum();
    let rows = records(blocks.iter().map(|b| b.id).collect(), 0).limit(total + 1).all(conn).await?;
    let mut by_block: HashMap<Uuid, Vec<&audit_log::Model>> = HashMap::new();
    for m in &rows {
        by_block.entry(m.block_id.unwrap_or_default()).or_default().push(m);
    }
    let result = blocks.iter().try_for_each(|block| {
        open(v, block)?;
        for m in by_block.remove(&block.id).unwrap_or_default() {
            check(v, last, m)?;
        }
        close(v, block)
    });
    Ok(result.err())
}
