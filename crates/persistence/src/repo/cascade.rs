//! What a change to the catalogue carries through, as `kenshu_domain::cascade` decides it, in the
//! transaction of the change: a cancelled course cancels its live nominations, more places move
//! the waiting list up, a moved or cancelled session is told to its trainees and their heads.

use crate::WriteTxn;
use kenshu_domain::cascade::{
    course_changed as decide_course, session_changed as decide_session, CourseState, SessionState,
};
use kenshu_domain::catalogue::CourseStatus;
use kenshu_domain::notice::Event as NoticeEvent;
use kenshu_domain::selection::{transition, Actor as NominationActor, Event, NominationState};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::selection::{lock_course, promote_waiting, save_decision, Decision};
use super::{notice, Actor, RepoError};
use crate::entities::{absence_notice, course, course_session, nomination, subsidy_application};

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
    let status = m.status()?;
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
    conn: &WriteTxn,
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
            told.push(save_decision(conn, actor, "cancel_with_course", n, next, decision).await?);
            report.cancelled.push(n.id);
        }
        let facts = notice::course_facts(conn, &locked).await?;
        report.notices +=
            notice::tell_places(conn, actor.org_id, &facts, &told, || NoticeEvent::CourseCancelled).await?;
    }
    if c.promote {
        report.promoted = promote_waiting(conn, actor, &locked).await?.into_iter().map(|n| n.id).collect();
    }
    Ok(report)
}

/// Those holding a place on `session` (pinned to it, or on the whole course).
pub(crate) async fn on_session(
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
    conn: &WriteTxn,
    actor: &Actor,
    before: &course_session::Model,
    after: Option<&course_session::Model>,
) -> Result<CascadeReport, RepoError> {
    let c = decide_session(&session_state(before), after.map(session_state).as_ref());
    let mut report = CascadeReport::default();
    if c.lapse_notices {
        let which = super::absence::Lapsing::On { session_id: before.id };
        super::absence::lapse(conn, actor, which, "研修日時の変更により取下げ").await?;
    }
    if c.tell.is_none() && !c.promote {
        return Ok(report);
    }
    let locked = lock_course(conn, actor.org_id, before.course_id).await?;
    if let Some(mut event) = c.tell {
        // The session as it was, named, so calendars can follow (or remove) it.
        if let NoticeEvent::SessionChanged { previous } | NoticeEvent::SessionCancelled { previous } =
            &mut event
        {
            previous.id = Some(before.id);
            previous.sequence = Some(before.version);
        }
        let trainees = on_session(conn, actor.org_id, before).await?;
        let facts = notice::course_facts(conn, &locked).await?;
        report.notices +=
            notice::tell_places(conn, actor.org_id, &facts, &trainees, || event.clone()).await?;
    }
    if c.promote {
        report.promoted = promote_waiting(conn, actor, &locked).await?.into_iter().map(|n| n.id).collect();
    }
    Ok(report)
}

/// What a roster import's moves carried through (人事異動・退職).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterCascade {
    /// Nominations of leavers cancelled: places on courses still to come went back.
    pub released: Vec<Uuid>,
    /// Nominations moved up from waiting lists into those places.
    pub promoted: Vec<Uuid>,
    /// Staff moved to another section.
    pub transferred: u64,
    /// Items of moved staff waiting for a confirmation (applications, absence notices, subsidy
    /// applications): their new head decides now, since who confirms comes from the roster.
    pub awaiting_new_head: u64,
    /// Sections and departments whose head or acting head left, and the organisation's named
    /// approver if they left: vacated ([`super::structure::vacate_leavers`]).
    pub heads_vacated: u64,
    /// Leavers' subsidy applications that were waiting for a decision, withdrawn
    /// ([`super::subsidy::lapse_for_leavers`]).
    pub subsidies_withdrawn: u64,
    /// Movers who still head or stand in for a unit they no longer sit in, for the office to
    /// check ([`super::structure::heads_elsewhere`]).
    pub heads_elsewhere: Vec<super::structure::HeadElsewhere>,
    /// Open study groups whose representative left, to be handed over
    /// ([`super::study_group::represented_by`]).
    pub groups_to_hand_over: u64,
}

/// After a roster import or an edit moved staff to other sections or marked them inactive, in its
/// transaction: a leaver's places on courses still to come are released (the waiting lists move
/// up), the units they headed are left without them, and their subsidy applications still
/// waiting for a decision are withdrawn; a mover keeps their places, and what waits for a
/// confirmation now waits for their new head.
pub async fn roster_moved(
    conn: &WriteTxn,
    actor: &Actor,
    moves: &[super::employee::RosterMove],
) -> Result<RosterCascade, RepoError> {
    use sea_orm::PaginatorTrait;
    let mut report = RosterCascade::default();
    let leavers: Vec<Uuid> = moves.iter().filter(|m| m.left).map(|m| m.employee_id).collect();
    let movers: Vec<Uuid> =
        moves.iter().filter(|m| !m.left && m.from_section != m.to_section).map(|m| m.employee_id).collect();
    report.transferred = movers.len() as u64;
    report.heads_vacated = super::structure::vacate_leavers(conn, actor, &leavers).await?;
    report.subsidies_withdrawn = super::subsidy::lapse_for_leavers(conn, actor, &leavers).await?;
    report.heads_elsewhere = super::structure::heads_elsewhere(conn, actor.org_id, moves).await?;
    report.groups_to_hand_over = super::study_group::represented_by(conn, actor.org_id, &leavers).await?;
    for chunk in movers.chunks(super::IN_LIST) {
        let ids = || chunk.iter().copied();
        report.awaiting_new_head += nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(actor.org_id))
            .filter(nomination::Column::EmployeeId.is_in(ids()))
            .filter(nomination::Column::State.eq(NominationState::Proposed.as_str()))
            .count(conn)
            .await?;
        report.awaiting_new_head += absence_notice::Entity::find()
            .filter(absence_notice::Column::OrgId.eq(actor.org_id))
            .filter(absence_notice::Column::EmployeeId.is_in(ids()))
            .filter(absence_notice::Column::State.eq(kenshu_domain::absence::NoticeState::Submitted.as_str()))
            .count(conn)
            .await?;
        report.awaiting_new_head += subsidy_application::Entity::find()
            .filter(subsidy_application::Column::OrgId.eq(actor.org_id))
            .filter(subsidy_application::Column::EmployeeId.is_in(ids()))
            .filter(
                subsidy_application::Column::State
                    .eq(kenshu_domain::subsidy::ApplicationState::Applied.as_str()),
            )
            .count(conn)
            .await?;
    }
    let live: Vec<nomination::Model> =
        super::in_chunks(&leavers, |chunk| async move {
            nomination::Entity::find()
                .filter(nomination::Column::OrgId.eq(actor.org_id))
                .filter(nomination::Column::EmployeeId.is_in(chunk.iter().copied()))
                .filter(nomination::Column::State.is_in(
                    NominationState::ALL.into_iter().filter(|s| s.is_live()).map(NominationState::as_str),
                ))
                .all(conn)
                .await
        })
        .await?;
    let mut courses: Vec<Uuid> = live.iter().map(|n| n.course_id).collect();
    courses.sort_unstable();
    courses.dedup();
    let at = super::now();
    for course_id in courses {
        let locked = lock_course(conn, actor.org_id, course_id).await?;
        let starts: Vec<_> = course_session::Entity::find()
            .filter(course_session::Column::OrgId.eq(actor.org_id))
            .filter(course_session::Column::CourseId.eq(course_id))
            .all(conn)
            .await?
            .iter()
            .map(|s| s.starts_at)
            .collect();
        if !kenshu_domain::cascade::released_on_leaving(&starts, at) {
            continue;
        }
        let mut freed = false;
        for n in live.iter().filter(|n| n.course_id == course_id) {
            let state = super::selection::state_of(n)?;
            let next = transition(state, Event::Cancel, NominationActor::Hr)?;
            let decision = Decision { by: None, reason: Some("退職".into()), session: None };
            save_decision(conn, actor, "cancel_on_leaving", n, next, decision).await?;
            freed |= state.holds_place();
            report.released.push(n.id);
        }
        if freed {
            report.promoted.extend(promote_waiting(conn, actor, &locked).await?.into_iter().map(|n| n.id));
        }
    }
    Ok(report)
}
