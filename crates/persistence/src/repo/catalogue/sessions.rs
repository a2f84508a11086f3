//! 日程: a course's sessions.

use super::*;
use crate::repo::Precondition;
use crate::WriteTxn;
use kenshu_domain::Words;

pub async fn list_sessions(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Vec<course_session::Model>, DbErr> {
    course_session::Entity::find()
        .filter(course_session::Column::OrgId.eq(org_id))
        .filter(course_session::Column::CourseId.eq(course_id))
        .order_by_asc(course_session::Column::StartsAt)
        .order_by_asc(course_session::Column::Id)
        .all(conn)
        .await
}

/// A session as lists about people name it: its course and when it starts.
#[derive(Debug, Clone)]
pub struct SessionLabel {
    pub course_title: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
}

/// The labels of these sessions, by id (two queries per 500 sessions; other organisations'
/// sessions are left out).
pub async fn session_labels(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    session_ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, SessionLabel>, DbErr> {
    let ids: Vec<Uuid> =
        session_ids.into_iter().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(crate::repo::IN_LIST) {
        let sessions = course_session::Entity::find()
            .filter(course_session::Column::OrgId.eq(org_id))
            .filter(course_session::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        let course_ids: HashSet<Uuid> = sessions.iter().map(|s| s.course_id).collect();
        let titles: HashMap<Uuid, String> = course::Entity::find()
            .filter(course::Column::OrgId.eq(org_id))
            .filter(course::Column::Id.is_in(course_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, c.title))
            .collect();
        for s in sessions {
            let course_title = titles.get(&s.course_id).cloned().unwrap_or_default();
            out.insert(s.id, SessionLabel { course_title, starts_at: s.starts_at });
        }
    }
    Ok(out)
}

pub async fn get_session(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    id: Uuid,
) -> Result<course_session::Model, RepoError> {
    let session: course_session::Model = find_in_org(conn, org_id, id).await?;
    if session.course_id != course_id {
        return Err(RepoError::NotFound);
    }
    Ok(session)
}

pub fn session_lecturer(m: &course_session::Model) -> Result<Option<Lecturer>, DbErr> {
    m.lecturer.as_deref().map(|l| parse("lecturer", l)).transpose()
}

/// A staff lecturer is an active employee of the organisation.
async fn check_lecturer(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    data: &SessionData,
) -> Result<(), RepoError> {
    if let Some(Lecturer::Staff { employee_id }) = &data.lecturer {
        let found = employee::Entity::find()
            .filter(employee::Column::OrgId.eq(org_id))
            .filter(employee::Column::Id.eq(*employee_id))
            .filter(employee::Column::Active.eq(true))
            .one(conn)
            .await?;
        if found.is_none() {
            return Err(RepoError::Invalid(vec![FieldError::not_found(
                "lecturer.employee_id",
                "is not an active employee of this organisation",
            )]));
        }
    }
    Ok(())
}

fn session_model(data: &SessionData, base: &course_session::Model) -> course_session::Model {
    course_session::Model {
        starts_at: data.starts_at,
        ends_at: data.ends_at,
        venue: data.venue.clone(),
        online_url: data.online_url.clone(),
        capacity: data.capacity.map(|c| c as i32),
        lecturer: data.lecturer.as_ref().map(json),
        lecturer_employee_id: match &data.lecturer {
            Some(Lecturer::Staff { employee_id }) => Some(*employee_id),
            _ => None,
        },
        notes: data.notes.clone(),
        ..base.clone()
    }
}

/// A participant's course of a joint share has the host's sessions, changed by the host only.
fn hosts_sessions(course: &CourseRecord) -> Result<(), RepoError> {
    match course.model.share_id {
        Some(_) => Err(RepoError::Conflict(kenshu_domain::joint::SESSIONS_ARE_THE_HOSTS)),
        None => Ok(()),
    }
}

pub async fn create_session(
    conn: &WriteTxn,
    actor: &Actor,
    course: &CourseRecord,
    data: &SessionData,
) -> Result<course_session::Model, RepoError> {
    hosts_sessions(course)?;
    check_lecturer(conn, actor.org_id, data).await?;
    let at = now();
    let base = course_session::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        course_id: course.model.id,
        starts_at: at,
        ends_at: at,
        venue: None,
        online_url: None,
        capacity: None,
        lecturer: None,
        lecturer_employee_id: None,
        notes: None,
        host_session_id: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let model = session_model(data, &base);
    insert_audited(
        conn,
        actor,
        "course_session.create",
        model,
        &Words::fixed("the session exists already", "この日程はすでにあります"),
    )
    .await
}

pub async fn update_session(
    conn: &WriteTxn,
    actor: &Actor,
    course: &CourseRecord,
    id: Uuid,
    expected_version: &Precondition,
    data: &SessionData,
) -> Result<course_session::Model, RepoError> {
    hosts_sessions(course)?;
    let before = get_session(conn, actor.org_id, course.model.id, id).await?;
    crate::repo::check_version(before.version, expected_version)?;
    check_lecturer(conn, actor.org_id, data).await?;
    let after = session_model(data, &before);
    save_audited(
        conn,
        actor,
        "course_session.update",
        &before,
        expected_version,
        after,
        &Words::fixed("the session was changed meanwhile", "その間に日程が変更されました"),
    )
    .await
}

pub async fn delete_session(
    conn: &WriteTxn,
    actor: &Actor,
    course: &CourseRecord,
    id: Uuid,
    expected_version: &Precondition,
) -> Result<(), RepoError> {
    hosts_sessions(course)?;
    let before = get_session(conn, actor.org_id, course.model.id, id).await?;
    remove_session(conn, actor, &before, expected_version).await
}

/// Remove `before` (of `actor`'s organisation), with the absence notices filed for it, unless it
/// was held or has trainees pinned to it, leaving a tombstone for calendars; the one removal, for
/// HR's own sessions and for the copies of a host's.
pub(crate) async fn remove_session(
    conn: &WriteTxn,
    actor: &Actor,
    before: &course_session::Model,
    expected_version: &Precondition,
) -> Result<(), RepoError> {
    let id = before.id;
    crate::repo::check_version(before.version, expected_version)?;
    // Read here, from the tables, so the catalogue depends on no workflow module.
    let attendance = crate::entities::attendance::Entity::find()
        .filter(crate::entities::attendance::Column::OrgId.eq(actor.org_id))
        .filter(crate::entities::attendance::Column::SessionId.eq(id))
        .count(conn)
        .await?
        > 0;
    let pinned = crate::entities::nomination::Entity::find()
        .filter(crate::entities::nomination::Column::OrgId.eq(actor.org_id))
        .filter(crate::entities::nomination::Column::SessionId.eq(id))
        .filter(
            crate::entities::nomination::Column::State.is_in(
                kenshu_domain::selection::NominationState::ALL
                    .into_iter()
                    .filter(|s| s.is_live())
                    .map(|s| s.as_str()),
            ),
        )
        .count(conn)
        .await?;
    kenshu_domain::cascade::session_removable(attendance, pinned).map_err(RepoError::Conflict)?;
    drop_notices(conn, actor, id).await?;
    let res = course_session::Entity::delete_many()
        .filter(course_session::Column::Id.eq(id))
        .filter(course_session::Column::Version.eq(before.version))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(RepoError::Stale { current: before.version + 1 });
    }
    // Calendars that showed it are told it is cancelled.
    crate::entities::session_tombstone::Entity::insert(sea_orm::IntoActiveModel::into_active_model(
        crate::entities::session_tombstone::Model {
            id: before.id,
            org_id: before.org_id,
            course_id: before.course_id,
            starts_at: before.starts_at,
            ends_at: before.ends_at,
            venue: before.venue.clone(),
            online_url: before.online_url.clone(),
            version: before.version,
            deleted_at: crate::repo::now(),
        },
    ))
    .exec_without_returning(conn)
    .await?;
    let change = Change::new("course_session.delete", "course", Some(before.course_id), Some(before), None);
    audit::record(conn, actor, change).await?;
    Ok(())
}

/// The absence notices filed for a session being removed go with it, whatever their state
/// (`session_removable`), each recorded in the audit log as it was.
async fn drop_notices(conn: &WriteTxn, actor: &Actor, session_id: Uuid) -> Result<(), RepoError> {
    use crate::entities::absence_notice;
    let notices = absence_notice::Entity::find()
        .filter(absence_notice::Column::OrgId.eq(actor.org_id))
        .filter(absence_notice::Column::SessionId.eq(session_id))
        .all(conn)
        .await?;
    if notices.is_empty() {
        return Ok(());
    }
    let changes = notices
        .iter()
        .map(|n| Change::new("absence_notice.delete", "absence_notice", Some(n.id), Some(n), None))
        .collect();
    absence_notice::Entity::delete_many()
        .filter(absence_notice::Column::OrgId.eq(actor.org_id))
        .filter(absence_notice::Column::SessionId.eq(session_id))
        .exec(conn)
        .await?;
    audit::record_many(conn, actor, changes).await?;
    Ok(())
}

/// Session data read back for domain checks (the course's last day, for report due dates).
pub fn session_data(m: &course_session::Model) -> Result<SessionData, DbErr> {
    Ok(SessionData {
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        venue: m.venue.clone(),
        online_url: m.online_url.clone(),
        capacity: m.capacity.map(|c| c as u32),
        lecturer: session_lecturer(m)?,
        notes: m.notes.clone(),
    })
}
