//! ポータル様式: the organisation's portal forms (AppSuite apps feeding a workflow) and every
//! webhook they send, stored before it is applied (a repeated delivery finds the stored change by
//! its key and changes nothing), with what became of it, for the training office to list and
//! replay.

use crate::repo::Precondition;
use crate::WriteTxn;
use chrono::{DateTime, Utc};
use kenshu_domain::notice::ItemKind;
use kenshu_domain::portal_form::{Change, EmployeeIs, FieldMap, FormKind, InboundState};
use kenshu_domain::Words;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{
    audit, find_in_org, insert_audited, lock_at_version, now, save_audited, Actor, Page, PageRequest,
    RepoError,
};
use crate::entities::{portal_form, portal_inbound};

const TAKEN: &Words = &Words::fixed(
    "a portal form of this name, or for this app, exists",
    "同じ名前またはアプリのポータル様式がすでにあります",
);

/// A form as the training office writes it.
#[derive(Debug, Clone)]
pub struct FormData {
    pub kind: FormKind,
    pub name: String,
    pub app_id: String,
    pub fields: FieldMap,
    pub employee_is: EmployeeIs,
    pub enabled: bool,
    /// A new access token's SHA-256 (hex), or none to keep the current one.
    pub token_digest: Option<String>,
}

fn apply(mut m: portal_form::Model, d: FormData) -> portal_form::Model {
    m.kind = d.kind.as_str().into();
    m.name = d.name;
    m.app_id = d.app_id;
    m.fields = serde_json::to_string(&d.fields.to_raw()).expect("a map serialises");
    m.employee_is = d.employee_is.as_str().into();
    m.enabled = d.enabled;
    if let Some(digest) = d.token_digest {
        m.token_digest = digest;
    }
    m
}

pub async fn create_form(
    conn: &WriteTxn,
    actor: &Actor,
    data: FormData,
) -> Result<portal_form::Model, RepoError> {
    let at = now();
    let blank = portal_form::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        kind: String::new(),
        name: String::new(),
        app_id: String::new(),
        fields: "{}".into(),
        employee_is: String::new(),
        token_digest: String::new(),
        enabled: true,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(conn, actor, "portal_form.create", apply(blank, data), TAKEN).await
}

pub async fn update_form(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    data: FormData,
) -> Result<portal_form::Model, RepoError> {
    let before: portal_form::Model = lock_at_version(conn, actor.org_id, id, expected_version).await?;
    if before.kind()? != data.kind {
        return Err(RepoError::Invalid(vec![kenshu_domain::FieldError::conflict(
            "kind",
            "a form keeps its kind; set up a new form instead",
        )]));
    }
    let after = apply(before.clone(), data);
    save_audited(conn, actor, "portal_form.update", &before, expected_version, after, TAKEN).await
}

pub async fn form(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<portal_form::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// The form a webhook is addressed to, whichever organisation it belongs to (its id is in the
/// URL; its access token proves the sender).
pub async fn form_for_webhook(
    conn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<portal_form::Model>, DbErr> {
    portal_form::Entity::find_by_id(id).one(conn).await
}

/// The organisation's forms, oldest first.
pub async fn forms(conn: &impl ConnectionTrait, org_id: Uuid) -> Result<Vec<portal_form::Model>, DbErr> {
    portal_form::Entity::find()
        .filter(portal_form::Column::OrgId.eq(org_id))
        .order_by_asc(portal_form::Column::Id)
        .all(conn)
        .await
}

/// A form's mapping as stored.
pub fn fields_of(f: &portal_form::Model) -> Result<FieldMap, DbErr> {
    let raw: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&f.fields).map_err(|e| DbErr::Custom(format!("stored form fields: {e}")))?;
    FieldMap::validate(f.kind()?, &raw)
        .map_err(|_| DbErr::Custom(format!("stored form {} fields are not valid", f.id)))
}

/// A webhook as it arrived.
pub struct Received {
    pub data_id: String,
    pub change: Change,
    pub change_key: String,
    /// The body less its access token.
    pub payload: String,
    pub at: DateTime<Utc>,
}

/// What storing a webhook found.
pub enum Stored {
    /// A change not seen before, stored pending.
    New(portal_inbound::Model),
    /// The same change delivered again: the one stored first.
    Repeated(portal_inbound::Model),
}

/// Store a webhook before anything is applied. A change already stored (same form and change
/// key) is not stored twice, whoever delivered it at the same moment.
pub async fn receive(
    conn: &impl ConnectionTrait,
    form: &portal_form::Model,
    r: Received,
) -> Result<Stored, DbErr> {
    let row = portal_inbound::Model {
        id: Uuid::now_v7(),
        org_id: form.org_id,
        form_id: form.id,
        data_id: r.data_id,
        change: r.change.as_str().into(),
        change_key: r.change_key,
        payload: r.payload,
        state: InboundState::Pending.as_str().into(),
        reason: None,
        item_type: None,
        item_id: None,
        attempts: 0,
        received_at: r.at,
        processed_at: None,
    };
    let inserted = portal_inbound::Entity::insert(row.clone().into_active_model())
        .on_conflict(
            OnConflict::columns([
                portal_inbound::Column::OrgId,
                portal_inbound::Column::FormId,
                portal_inbound::Column::ChangeKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    if inserted == 1 {
        return Ok(Stored::New(row));
    }
    let first = portal_inbound::Entity::find()
        .filter(portal_inbound::Column::OrgId.eq(form.org_id))
        .filter(portal_inbound::Column::FormId.eq(form.id))
        .filter(portal_inbound::Column::ChangeKey.eq(&row.change_key))
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::Custom("a conflicting portal change vanished".into()))?;
    Ok(Stored::Repeated(first))
}

pub async fn inbound(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<portal_inbound::Model, RepoError> {
    portal_inbound::Entity::find_by_id(id)
        .filter(portal_inbound::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)
}

/// A stored change read to apply it: under a write lock on PostgreSQL, so two instances (the
/// request and a retry, or a replay) never apply it both.
pub async fn lock_inbound(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<portal_inbound::Model, RepoError> {
    let mut q = portal_inbound::Entity::find_by_id(id).filter(portal_inbound::Column::OrgId.eq(org_id));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(conn).await?.ok_or(RepoError::NotFound)
}

/// The item an earlier change of the same record made (what an update corrects).
pub async fn item_of_record(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    form_id: Uuid,
    data_id: &str,
) -> Result<Option<(ItemKind, Uuid)>, DbErr> {
    let made = portal_inbound::Entity::find()
        .filter(portal_inbound::Column::OrgId.eq(org_id))
        .filter(portal_inbound::Column::FormId.eq(form_id))
        .filter(portal_inbound::Column::DataId.eq(data_id))
        .filter(portal_inbound::Column::ItemId.is_not_null())
        .order_by_asc(portal_inbound::Column::Id)
        .one(conn)
        .await?;
    match made {
        None => Ok(None),
        Some(m) => Ok(m.item()?),
    }
}

/// What became of a stored change, in the transaction that applied it (or found it could not).
pub async fn settle(
    conn: &impl ConnectionTrait,
    before: &portal_inbound::Model,
    state: InboundState,
    reason: Option<String>,
    item: Option<(ItemKind, Uuid)>,
) -> Result<portal_inbound::Model, DbErr> {
    let mut after = before.clone();
    after.state = state.as_str().into();
    after.reason = reason.map(|r| r.chars().take(1000).collect());
    if let Some((kind, id)) = item {
        after.item_type = Some(kind.as_str().into());
        after.item_id = Some(id);
    }
    after.attempts += 1;
    after.processed_at = Some(now());
    after.clone().into_active_model().reset_all().update(conn).await?;
    Ok(after)
}

/// The training office replays a stored change: recorded in the audit log, then applied again.
pub async fn record_replay(conn: &WriteTxn, actor: &Actor, row: &portal_inbound::Model) -> Result<(), DbErr> {
    let change = audit::Change {
        action: "portal_inbound.replay".into(),
        entity_type: "portal_inbound",
        entity_id: Some(row.id),
        before: Some(serde_json::json!({"state": row.state, "reason": row.reason}).to_string()),
        after: None,
    };
    audit::record(conn, actor, change).await
}

/// Filter for the list of received changes.
#[derive(Debug, Default, Clone)]
pub struct InboundFilter {
    pub state: Option<InboundState>,
    pub form_id: Option<Uuid>,
}

/// Received changes, oldest first, a page at a time.
pub async fn list(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &InboundFilter,
    page: &PageRequest,
) -> Result<Page<portal_inbound::Model>, RepoError> {
    let mut q = portal_inbound::Entity::find().filter(portal_inbound::Column::OrgId.eq(org_id));
    if let Some(state) = filter.state {
        q = q.filter(portal_inbound::Column::State.eq(state.as_str()));
    }
    if let Some(form_id) = filter.form_id {
        q = q.filter(portal_inbound::Column::FormId.eq(form_id));
    }
    if let Some(after) = super::notice::after_id(page)? {
        q = q.filter(portal_inbound::Column::Id.gt(after));
    }
    let rows = q.order_by_asc(portal_inbound::Column::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |r| vec![r.id.to_string()]))
}

/// Changes left pending since before `before` (the instance applying them stopped, or the
/// database failed): the scheduler applies them again.
pub async fn stuck(
    conn: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    portal_inbound::Entity::find()
        .select_only()
        .column(portal_inbound::Column::OrgId)
        .column(portal_inbound::Column::Id)
        .filter(portal_inbound::Column::State.eq(InboundState::Pending.as_str()))
        .filter(portal_inbound::Column::ReceivedAt.lt(before))
        .order_by_asc(portal_inbound::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await
}

impl portal_inbound::Model {
    /// The item the change made or corrected.
    pub fn item(&self) -> Result<Option<(ItemKind, Uuid)>, DbErr> {
        match (&self.item_type, self.item_id) {
            (Some(t), Some(id)) => ItemKind::parse(t)
                .map(|k| Some((k, id)))
                .ok_or_else(|| DbErr::Custom(format!("stored portal_inbound.item_type '{t}' is not known"))),
            _ => Ok(None),
        }
    }
}

/// The courses of the years named `name` (by number in the plan, or by title), not cancelled,
/// the latest year first.
pub async fn courses_named(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fiscal_years: &[i32],
    name: &kenshu_domain::portal_form::CourseName,
) -> Result<Vec<crate::entities::course::Model>, DbErr> {
    use crate::entities::course;
    use kenshu_domain::portal_form::CourseName;
    let mut q = course::Entity::find()
        .filter(course::Column::OrgId.eq(org_id))
        .filter(course::Column::FiscalYear.is_in(fiscal_years.iter().copied()))
        .filter(course::Column::Status.ne(kenshu_domain::catalogue::CourseStatus::Cancelled.as_str()));
    q = match name {
        CourseName::Number(n) => q.filter(course::Column::Number.eq(*n)),
        CourseName::Title(t) => q.filter(course::Column::Title.eq(t.as_str())),
    };
    q.order_by_desc(course::Column::FiscalYear).order_by_asc(course::Column::Id).all(conn).await
}

/// The employee's nomination on the course, if any.
pub async fn nomination_on(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    employee_id: Uuid,
) -> Result<Option<crate::entities::nomination::Model>, DbErr> {
    use crate::entities::nomination;
    nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::CourseId.eq(course_id))
        .filter(nomination::Column::EmployeeId.eq(employee_id))
        .one(conn)
        .await
}

/// The year's correspondence courses (通信教育講座) titled `title`.
pub async fn correspondence_named(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fiscal_year: i32,
    title: &str,
) -> Result<Vec<crate::entities::correspondence_course::Model>, DbErr> {
    use crate::entities::correspondence_course as cc;
    cc::Entity::find()
        .filter(cc::Column::OrgId.eq(org_id))
        .filter(cc::Column::FiscalYear.eq(fiscal_year))
        .filter(cc::Column::Title.eq(title))
        .order_by_asc(cc::Column::Id)
        .all(conn)
        .await
}
