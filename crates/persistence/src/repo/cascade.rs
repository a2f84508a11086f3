//! What a change to the catalogue carries through, as `kenshu_domain::cascade` decides it, in the
//! transaction of the change: a cancelled course cancels its live nominations, more places move
//! the waiting list up, a moved or cancelled session is told to its trainees and their heads.

use kenshu_domain::cascade::{
    course_changed as decide_course, session_changed as decide_session, CourseState, SessionState,
};
use kenshu_domain::catalogue::CourseStatus;
use kenshu_domain::notice::Event as NoticeEvent;
use kenshu_domain::selection::{transition, Actor as NominationActor, Event, NominationState};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::selection::{lock_course, promote_waiting, save_decision, Decision};
use super::{notice, stored, Actor, RepoError};
use crate::entities::{course, course_session, nomination};

/// What a change carried through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CascadeReport {
    /// Nominations cancelled with their course.
    pub cancelled: Vec<Uuid>,
    /// Nominations moved up from the waiting list.
    pub promoted: Vec<Uuid>,
    /// Notices written.
    pub notices: u64,
}

fn course_state(m: &course::Model) -> Result<CourseState, RepoError> {
    let status = stored(CourseStatus::parse(&m.status), "course status", &m.status)?;
    Ok(CourseState { cancelled: status == CourseStatus::Cancelled, headcount: m.headcount.map(|h| h as u32) })
}

fn session_state(s: &course_session::Model) -> SessionState {
    SessionState {
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        venue: s.venue.clone(),
        online_url: s.online_url.clone(),
        capacity: s.capacity.map(|c| c as u32),
    }
}

/// After a course changed from `before` to `after`.
pub async fn course_changed(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: &course::Model,
    after: &course::Model,
) -> Result<CascadeReport, RepoError> {
    let c = decide_course(course_state(before)?, course_state(after)?);
    let mut report = CascadeReport::default();
    if !c.cancel_live && !c.promote {
        return Ok(report);
    }
    let locked = lock_course(conn, actor.org_id, after.id).await?;
    if c.cancel_live {
        let live =
            nomination::Entity::find()
                .filter(nomination::Column::OrgId.eq(actor.org_id))
                .filter(nomination::Column::CourseId.eq(after.id))
                .filter(nomination::Column::State.is_in(
                    NominationState::ALL.into_iter().filter(|s| s.is_live()).map(NominationState::as_str),
                ))
                .order_by_asc(nomination::Column::Id)
                .all(conn)
                .await?;
        let mut told = Vec::with_capacity(live.len());
        for n in &live {
            let next = transition(super::selection::state_of(n)?, Event::Cancel, NominationActor::Hr)?;
            let decision = Decision { by: None, reason: Some("研修中止".into()), session: None };
            save_decision(conn, actor, "cancel_with_course", n, next, decision).await?;
            told.push((n.id, n.employee_id));
            report.cancelled.push(n.id);
        }
        let facts = notice::course_facts(conn, &locked).await?;
        report.notices +=
            notice::tell(conn, actor.org_id, &facts, &told, || NoticeEvent::CourseCancelled).await?;
    }
    if c.promote {
        report.promoted = promote_waiting(conn, actor, &locked).await?.into_iter().map(|n| n.id).collect();
    }
    Ok(report)
}

/// Those holding a place on `session` (pinned to it, or on the whole course).
async fn on_session(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    session: &course_session::Model,
) -> Result<Vec<nomination::Model>, RepoError> {
    Ok(nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::CourseId.eq(session.course_id))
        .filter(
            nomination::Column::State.is_in(
                NominationState::ALL
                    .into_iter()
                    .filter(|s| s.holds_place() && s.is_live())
                    .map(NominationState::as_str),
            ),
        )
        .filter(
            Condition::any()
                .add(nomination::Column::SessionId.eq(session.id))
                .add(nomination::Column::SessionId.is_null()),
        )
        .order_by_asc(nomination::Column::Id)
        .all(conn)
        .await?)
}

/// After a session changed from `before` to `after`, or was cancelled (`None`; the caller
/// refuses that while trainees are pinned to it).
pub async fn session_changed(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: &course_session::Model,
    after: Option<&course_session::Model>,
) -> Result<CascadeReport, RepoError> {
    let c = decide_session(&session_state(before), after.map(session_state).as_ref());
    let mut report = CascadeReport::default();
    if c.tell.is_none() && !c.promote {
        return Ok(report);
    }
    let locked = lock_course(conn, actor.org_id, before.course_id).await?;
    if let Some(event) = c.tell {
        let trainees: Vec<(Uuid, Uuid)> =
            on_session(conn, actor.org_id, before).await?.iter().map(|n| (n.id, n.employee_id)).collect();
        let facts = notice::course_facts(conn, &locked).await?;
        report.notices += notice::tell(conn, actor.org_id, &facts, &trainees, || event.clone()).await?;
    }
    if c.promote {
        report.promoted = promote_waiting(conn, actor, &locked).await?.into_iter().map(|n| n.id).collect();
    }
    Ok(report)
}
