//! 通知: notices an event writes for a trainee and their heads, in the transaction of the event;
//! the outbox a delivery job reads, and each recipient's own list.

use std::collections::HashMap;

use kenshu_domain::notice::{drafts, Addressee, CourseFacts, Event, NoticeDraft, NoticeSession};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::employee::employees_by_id;
use super::{now, Page, PageRequest, RepoError};
use crate::bulk::{self, OnKey};
use crate::entities::{course, course_session, department, notice, section};

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
    NoticeSession::new(s.starts_at, s.ends_at, s.venue.clone(), s.online_url.clone())
}

/// The trainees `employee_ids` with the heads of their sections and departments on the roster.
pub async fn addressees(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    employee_ids: &[Uuid],
) -> Result<HashMap<Uuid, Addressee>, DbErr> {
    let people = employees_by_id(conn, org_id, employee_ids).await?;
    let heads = |h: Option<Uuid>, a: Option<Uuid>| [h, a].into_iter().flatten().collect::<Vec<Uuid>>();
    let sections: HashMap<Uuid, (Uuid, Vec<Uuid>)> = section::Entity::find()
        .filter(section::Column::OrgId.eq(org_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, (s.department_id, heads(s.head_employee_id, s.acting_head_employee_id))))
        .collect();
    let departments: HashMap<Uuid, Vec<Uuid>> = department::Entity::find()
        .filter(department::Column::OrgId.eq(org_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|d| (d.id, heads(d.head_employee_id, d.acting_head_employee_id)))
        .collect();
    Ok(people
        .into_values()
        .map(|e| {
            let (department_id, section_heads) = sections.get(&e.section_id).cloned().unwrap_or_default();
            let department_heads = departments.get(&department_id).cloned().unwrap_or_default();
            let a = Addressee {
                employee_id: e.id,
                employee_no: e.employee_no,
                name: e.name,
                section_heads,
                department_heads,
            };
            (a.employee_id, a)
        })
        .collect())
}

/// Write the notices for `event` on each of `nominations` of `course` (their trainees and heads).
pub async fn tell(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course: &CourseFacts,
    nominations: &[(Uuid, Uuid)],
    event: impl Fn() -> Event,
) -> Result<u64, DbErr> {
    let ids: Vec<Uuid> = nominations.iter().map(|(_, e)| *e).collect();
    let people = addressees(conn, org_id, &ids).await?;
    let mut all = Vec::new();
    for (nomination_id, employee_id) in nominations {
        if let Some(trainee) = people.get(employee_id) {
            all.extend(drafts(event(), course, trainee, *nomination_id));
        }
    }
    write(conn, org_id, &all).await
}

/// Write notices drafted by the domain.
pub async fn write(conn: &impl ConnectionTrait, org_id: Uuid, notices: &[NoticeDraft]) -> Result<u64, DbErr> {
    let at = now();
    let rows: Vec<notice::Model> = notices
        .iter()
        .map(|d| notice::Model {
            id: Uuid::now_v7(),
            org_id,
            nomination_id: d.nomination_id,
            course_id: d.course_id,
            recipient_employee_id: d.recipient,
            kind: d.body.kind.as_str().into(),
            recipient_role: d.role.as_str().into(),
            subject: d.subject.clone(),
            body: serde_json::to_string(&d.body).expect("notices serialise"),
            delivered_at: None,
            created_at: at,
        })
        .collect();
    bulk::write::<notice::Entity>(conn, &rows, OnKey::Fail).await?;
    Ok(rows.len() as u64)
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

/// The outbox, oldest first: what a delivery job reads.
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

fn after_id(page: &PageRequest) -> Result<Option<Uuid>, RepoError> {
    page.after
        .as_ref()
        .and_then(|a| a.first())
        .map(|s| {
            Uuid::parse_str(s).map_err(|_| {
                RepoError::Invalid(vec![kenshu_domain::FieldError::new(
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
    let n = notice::Entity::find_by_id(id)
        .filter(notice::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)?;
    if n.delivered_at.is_some() {
        return Ok(n);
    }
    let after = notice::Model { delivered_at: Some(now()), ..n };
    notice::Entity::update(notice::ActiveModel::from(after.clone()).reset_all()).exec(conn).await?;
    Ok(after)
}
