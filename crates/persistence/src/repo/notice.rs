//! 通知: the notices an event writes, in the transaction of the event, for the trainee, their
//! heads, whoever must decide, or the training office; each recipient's own list, and the pull
//! outbox other integrations read and claim.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kenshu_domain::notice::{
    drafts, About, CourseFacts, Event, ItemKind, NoticeDraft, NoticeSession, Trainee,
};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::approval::chains;
use super::employee::{employees_by_id, Placed};
use super::{now, Page, PageRequest, RepoError};
use crate::bulk::{self, OnKey};
use crate::entities::{course, course_session, nomination, notice};

/// The course as notices state it: title, year, sessions in order, what to prepare.
pub async fn course_facts(conn: &impl ConnectionTrait, c: &course::Model) -> Result<CourseFacts, DbErr> {
    let sessions = course_session::Entity::find()
        .filter(course_session::Column::OrgId.eq(c.org_id))
        .filter(course_session::Column::CourseId.eq(c.id))
        .order_by_asc(course_session::Column::StartsAt)
        .all(conn)
        .await?;
    Ok(CourseFacts {
        id: c.id,
        title: c.title.clone(),
        fiscal_year: c.fiscal_year,
        sessions: sessions.iter().map(session_facts).collect(),
        notes: c.notes.clone(),
    })
}

/// A session as a notice states it.
pub fn session_facts(s: &course_session::Model) -> NoticeSession {
    NoticeSession {
        id: Some(s.id),
        sequence: Some(s.version),
        ..NoticeSession::new(s.starts_at, s.ends_at, s.venue.clone(), s.online_url.clone())
    }
}

/// The people `employee_ids` as notices name them, with the roster around each.
pub async fn trainees(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    employee_ids: &[Uuid],
) -> Result<HashMap<Uuid, Trainee>, RepoError> {
    Ok(chains(conn, org_id, employee_ids)
        .await?
        .into_iter()
        .map(|(id, (who, chain))| (id, Trainee { employee_no: who.employee_no, name: who.name, chain }))
        .collect())
}

/// Write the notices for `event` on each of the course places `places`.
pub async fn tell_places(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course: &CourseFacts,
    places: &[nomination::Model],
    event: impl Fn() -> Event,
) -> Result<u64, RepoError> {
    let ids: Vec<Uuid> = places.iter().map(|n| n.employee_id).collect();
    let people = trainees(conn, org_id, &ids).await?;
    let mut all = Vec::new();
    for n in places {
        if let Some(trainee) = people.get(&n.employee_id) {
            all.extend(drafts(event(), &About::place(course, n.id, n.session_id), trainee));
        }
    }
    Ok(write(conn, org_id, &all).await?)
}

/// Write the notices for `event` on one record of `employee_id`, if the event tells anyone.
pub async fn tell(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    event: Option<Event>,
    about: &About,
    employee_id: Uuid,
) -> Result<u64, RepoError> {
    let Some(event) = event else { return Ok(0) };
    let (who, chain) = super::approval::chain(conn, org_id, employee_id).await?;
    let trainee = Trainee { employee_no: who.employee_no, name: who.name, chain };
    Ok(write(conn, org_id, &drafts(event, about, &trainee)).await?)
}

/// A record of a course a notice can be about: a nomination, an absence notice, a report.
pub struct CourseRecord {
    pub kind: ItemKind,
    pub id: Uuid,
    pub course_id: Uuid,
    pub employee_id: Uuid,
    /// The one session it is for (an absence notice), or a place is on.
    pub session_id: Option<Uuid>,
    /// A refusal's reason or a return's comment.
    pub reason: Option<String>,
}

/// Write the notices for `event` on a course's record, if the event tells anyone; the course
/// and session are read only then.
pub async fn tell_course_record(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    event: Option<Event>,
    r: CourseRecord,
) -> Result<u64, RepoError> {
    if event.is_none() {
        return Ok(0);
    }
    let c: course::Model = super::find_in_org(conn, org_id, r.course_id).await?;
    let facts = course_facts(conn, &c).await?;
    let mut about = if r.kind == ItemKind::Nomination {
        // A place names the session it is on, or all of them.
        About::place(&facts, r.id, r.session_id)
    } else {
        About::course(r.kind, r.id, &facts)
    };
    about.reason = r.reason;
    if let (Some(sid), false) = (r.session_id, r.kind == ItemKind::Nomination) {
        let session: course_session::Model = super::find_in_org(conn, org_id, sid).await?;
        about.session = Some(session_facts(&session));
    }
    tell(conn, org_id, event, &about, r.employee_id).await
}

/// Write notices drafted by the domain, with a delivery on each channel that takes them.
pub async fn write(conn: &impl ConnectionTrait, org_id: Uuid, notices: &[NoticeDraft]) -> Result<u64, DbErr> {
    let at = now();
    let rows: Vec<notice::Model> = notices.iter().map(|d| row(org_id, d, None, at)).collect();
    bulk::write::<notice::Entity>(conn, &rows, OnKey::Fail).await?;
    super::delivery::fan_out(conn, org_id, &rows).await?;
    Ok(rows.len() as u64)
}

/// The row of a drafted notice; `dedupe_key` names a reminder or digest once.
pub(crate) fn row(
    org_id: Uuid,
    d: &NoticeDraft,
    dedupe_key: Option<String>,
    at: chrono::DateTime<chrono::Utc>,
) -> notice::Model {
    notice::Model {
        id: Uuid::now_v7(),
        org_id,
        kind: d.body.kind.as_str().into(),
        item_type: d.item.kind.as_str().into(),
        item_id: d.item.id,
        recipient_employee_id: d.recipient,
        recipient_role: d.role.as_str().into(),
        subject: d.subject.clone(),
        body: serde_json::to_string(&d.body).expect("notices serialise"),
        digest: d.body.kind.in_digest(),
        delivered_at: None,
        claimed_until: None,
        dedupe_key,
        created_at: at,
    }
}

/// A recipient's notices, newest first.
pub async fn notices_for(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    employee_id: Uuid,
    page: &PageRequest,
) -> Result<Page<notice::Model>, RepoError> {
    let mut q = notice::Entity::find()
        .filter(notice::Column::OrgId.eq(org_id))
        .filter(notice::Column::RecipientEmployeeId.eq(employee_id));
    if let Some(after) = after_id(page)? {
        q = q.filter(notice::Column::Id.lt(after));
    }
    let rows = q.order_by_desc(notice::Column::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |n| vec![n.id.to_string()]))
}

/// The outbox, oldest first.
pub async fn outbox(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    undelivered_only: bool,
    page: &PageRequest,
) -> Result<Page<notice::Model>, RepoError> {
    let mut q = notice::Entity::find().filter(notice::Column::OrgId.eq(org_id));
    if undelivered_only {
        q = q.filter(notice::Column::DeliveredAt.is_null());
    }
    if let Some(after) = after_id(page)? {
        q = q.filter(notice::Column::Id.gt(after));
    }
    let rows = q.order_by_asc(notice::Column::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |n| vec![n.id.to_string()]))
}

/// Claim up to `limit` undelivered notices, oldest first, that nobody holds at `at`: each is
/// held until `until`, then offered again unless marked delivered. Two readers never hold the
/// same notice: on PostgreSQL rows another transaction is claiming are skipped (`FOR UPDATE
/// SKIP LOCKED`); SQLite runs one writer at a time.
pub async fn claim(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    limit: u64,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<notice::Model>, DbErr> {
    let mut q = notice::Entity::find()
        .filter(notice::Column::OrgId.eq(org_id))
        .filter(notice::Column::DeliveredAt.is_null())
        .filter(
            Condition::any()
                .add(notice::Column::ClaimedUntil.is_null())
                .add(notice::Column::ClaimedUntil.lte(at)),
        )
        .order_by_asc(notice::Column::Id)
        .limit(limit);
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = q.all(conn).await?;
    if rows.is_empty() {
        return Ok(rows);
    }
    notice::Entity::update_many()
        .col_expr(notice::Column::ClaimedUntil, Expr::value(until))
        .filter(notice::Column::OrgId.eq(org_id))
        .filter(notice::Column::Id.is_in(rows.iter().map(|n| n.id)))
        .exec(conn)
        .await?;
    Ok(rows.into_iter().map(|n| notice::Model { claimed_until: Some(until), ..n }).collect())
}

/// The employees notices name as recipients, by id.
pub async fn recipients(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    notices: &[notice::Model],
) -> Result<HashMap<Uuid, Placed>, DbErr> {
    let ids: Vec<Uuid> = notices.iter().filter_map(|n| n.recipient_employee_id).collect();
    employees_by_id(conn, org_id, &ids).await
}

/// The id a keyset cursor of an id-ordered list names.
pub(crate) fn after_id(page: &PageRequest) -> Result<Option<Uuid>, RepoError> {
    page.after
        .as_ref()
        .and_then(|a| a.first())
        .map(|s| {
            Uuid::parse_str(s).map_err(|_| {
                RepoError::Invalid(vec![kenshu_domain::FieldError::format(
                    "cursor",
                    "is not a cursor of this list",
                )])
            })
        })
        .transpose()
}

/// Mark a notice delivered; marking it again keeps the first time.
pub async fn mark_delivered(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<notice::Model, RepoError> {
    // One statement: of two readers marking at once, the first time stays.
    notice::Entity::update_many()
        .col_expr(notice::Column::DeliveredAt, Expr::value(now()))
        .filter(notice::Column::OrgId.eq(org_id))
        .filter(notice::Column::Id.eq(id))
        .filter(notice::Column::DeliveredAt.is_null())
        .exec(conn)
        .await?;
    notice::Entity::find_by_id(id)
        .filter(notice::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)
}
