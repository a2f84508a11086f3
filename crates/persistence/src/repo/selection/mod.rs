//! Nominations (選考): the state machine applied under the course's lock, places and the waiting
//! list; designation, history, notices and gaps live in their own files below.

use crate::repo::Precondition;
use crate::WriteTxn;
use kenshu_domain::Words;
use std::collections::{BTreeMap, HashMap};

use kenshu_domain::audience::Route;
use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::org::GradeLadder;
use kenshu_domain::selection::{designation_diff, places_left, Event, NominationState};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use super::audit::{self, Change};
use super::catalogue::CourseRecord;
use super::employee::{employees_by_id, roster_members, EmployeeRef, RosterMember};
use super::{
    find_in_org, for_each_in_pages, insert_audited, now, save_audited, save_audited_many, Actor, Page,
    PageRequest, RepoError,
};
use crate::bulk::{self, OnKey};
use crate::entities::{course, course_session, employee, nomination};

mod designation;
mod gaps;
mod history;
mod notify;

pub use designation::*;
pub use gaps::*;
pub use history::*;
pub use notify::*;

/// A new nomination row, stamped `at`.
fn new_nomination(
    actor: &Actor,
    course_id: Uuid,
    employee_id: Uuid,
    route: Route,
    state: NominationState,
    reason: Option<String>,
    at: chrono::DateTime<chrono::Utc>,
) -> nomination::Model {
    nomination::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        course_id,
        session_id: None,
        employee_id,
        route: route.as_str().into(),
        state: state.as_str().into(),
        reason,
        proposed_by: actor.signature(),
        decided_by: None,
        decided_at: None,
        placed_at: None,
        held_place: state.holds_place(),
        decision_reason: None,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

/// Counts of a course's nominations by state and by route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NominationCounts {
    pub by_state: BTreeMap<String, u64>,
    pub by_route: BTreeMap<String, u64>,
}

pub async fn counts(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<NominationCounts, DbErr> {
    let rows: Vec<(String, String, i64)> = nomination::Entity::find()
        .select_only()
        .column(nomination::Column::State)
        .column(nomination::Column::Route)
        .column_as(nomination::Column::Id.count(), "n")
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::CourseId.eq(course_id))
        .group_by(nomination::Column::State)
        .group_by(nomination::Column::Route)
        .into_tuple()
        .all(conn)
        .await?;
    let mut c = NominationCounts::default();
    for (state, route, n) in rows {
        *c.by_state.entry(state).or_default() += n as u64;
        *c.by_route.entry(route).or_default() += n as u64;
    }
    Ok(c)
}

/// A nomination with the employee it names.
#[derive(Debug, Clone)]
pub struct NominationRecord {
    pub model: nomination::Model,
    pub employee: EmployeeRef,
    pub section_id: Uuid,
}

#[derive(Debug, Clone, Default)]
pub struct NominationFilter {
    pub state: Option<NominationState>,
    pub route: Option<Route>,
}

/// A course's nominations, oldest first (the waiting list's order), keyset by id.
pub async fn list(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    filter: &NominationFilter,
    page: &PageRequest,
) -> Result<Page<NominationRecord>, RepoError> {
    let mut q = nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::CourseId.eq(course_id));
    if let Some(s) = filter.state {
        q = q.filter(nomination::Column::State.eq(s.as_str()));
    }
    if let Some(r) = filter.route {
        q = q.filter(nomination::Column::Route.eq(r.as_str()));
    }
    if let Some(after) = page.after.as_ref().and_then(|a| a.first()) {
        let after = Uuid::parse_str(after).map_err(|_| {
            RepoError::Invalid(vec![kenshu_domain::FieldError::format(
                "cursor",
                "is not a cursor of this list",
            )])
        })?;
        q = q.filter(nomination::Column::Id.gt(after));
    }
    let rows = q.order_by_asc(nomination::Column::Id).limit(page.limit + 1).all(conn).await?;
    let page = Page::from_rows(rows, page.limit, |n| vec![n.id.to_string()]);
    let ids: Vec<Uuid> = page.items.iter().map(|n| n.employee_id).collect();
    let people = employees_by_id(conn, org_id, &ids).await?;
    let items = page
        .items
        .into_iter()
        .filter_map(|n| {
            let e = people.get(&n.employee_id)?;
            Some(NominationRecord { employee: e.employee.clone(), section_id: e.section_id, model: n })
        })
        .collect();
    Ok(Page { items, next: page.next })
}

pub async fn get(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<nomination::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// Hold the course's places for the rest of the transaction, so two selections cannot both take
/// the last one. PostgreSQL locks the course row; SQLite has no row locks, and its writes are
/// already serialised by `Db::begin_write`'s immediate transaction.
pub(crate) async fn lock_course(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<course::Model, RepoError> {
    let mut q = course::Entity::find_by_id(course_id).filter(course::Column::OrgId.eq(org_id));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(conn).await?.ok_or(RepoError::NotFound)
}

/// Places held on the course, or on one of its sessions.
pub(crate) async fn held(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    session_id: Option<Uuid>,
) -> Result<u64, DbErr> {
    let mut q = nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::CourseId.eq(course_id))
        .filter(nomination::Column::State.is_in(
            NominationState::ALL.into_iter().filter(|s| s.holds_place()).map(NominationState::as_str),
        ));
    if let Some(s) = session_id {
        q = q.filter(nomination::Column::SessionId.eq(s));
    }
    q.count(conn).await
}

/// Is there a place for one more on the course (its headcount) and on the session (its
/// capacity)? `None` limits mean no limit.
async fn has_place(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course: &course::Model,
    session_id: Option<Uuid>,
) -> Result<Result<(), String>, RepoError> {
    let taken = held(conn, org_id, course.id, None).await?;
    if places_left(course.headcount.map(|h| h as u32), taken) == Some(0) {
        return Ok(Err(format!("the course's {} places are taken", course.headcount.unwrap_or(0))));
    }
    if let Some(sid) = session_id {
        let session = course_session::Entity::find_by_id(sid)
            .filter(course_session::Column::OrgId.eq(org_id))
            .one(conn)
            .await?
            .ok_or(RepoError::NotFound)?;
        let taken = held(conn, org_id, course.id, Some(sid)).await?;
        if places_left(session.capacity.map(|c| c as u32), taken) == Some(0) {
            return Ok(Err(format!("the session's {} places are taken", session.capacity.unwrap_or(0))));
        }
    }
    Ok(Ok(()))
}

/// The session, if it belongs to the course; otherwise a 422 on `session_id`.
async fn session_of_course(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    session_id: Uuid,
) -> Result<course_session::Model, RepoError> {
    course_session::Entity::find_by_id(session_id)
        .filter(course_session::Column::OrgId.eq(org_id))
        .filter(course_session::Column::CourseId.eq(course_id))
        .one(conn)
        .await?
        .ok_or_else(|| {
            RepoError::Invalid(vec![kenshu_domain::FieldError::not_found(
                "session_id",
                "is not a session of this course",
            )])
        })
}

/// A new nomination by recommendation or application (designations come from [`designate`]).
pub async fn create(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
    employee_id: Uuid,
    route: Route,
    session_id: Option<Uuid>,
    reason: Option<String>,
) -> Result<nomination::Model, RepoError> {
    if let Some(sid) = session_id {
        session_of_course(conn, actor.org_id, course_id, sid).await?;
    }
    let at = now();
    let model = nomination::Model {
        session_id,
        ..new_nomination(actor, course_id, employee_id, route, NominationState::initial(route), reason, at)
    };
    let action = match route {
        Route::Recommendation => "nomination.recommend",
        _ => "nomination.apply",
    };
    let n = insert_audited(conn, actor, action, model, ALREADY_NOMINATED).await?;
    let told = kenshu_domain::notice::on_new_nomination(state_of(&n)?);
    super::notice::tell_course_record(conn, actor.org_id, told, place_record(&n)).await?;
    Ok(n)
}

/// A nomination as a notice is about it.
pub(crate) fn place_record(n: &nomination::Model) -> super::notice::CourseRecord {
    super::notice::CourseRecord {
        kind: kenshu_domain::notice::ItemKind::Nomination,
        id: n.id,
        course_id: n.course_id,
        employee_id: n.employee_id,
        session_id: n.session_id,
        reason: n.decision_reason.clone(),
    }
}

/// The result of an event: the nomination, and the first waiting one that moved up into the
/// place a cancellation freed.
#[derive(Debug, Clone)]
pub struct EventOutcome {
    pub nomination: nomination::Model,
    pub promoted: Option<nomination::Model>,
}

const ALREADY_NOMINATED: &Words = &Words::fixed(
    "this employee is already nominated for the course",
    "この職員はすでにこの研修の受講候補です",
);

/// Who decided a place given automatically from the waiting list (補欠繰上げ): the rule, not the
/// person whose cancellation freed the place.
pub const WAITING_LIST: &str = "kenshu:waiting-list";

/// What a decision on a nomination records besides its state: who decided, and why when it is a
/// refusal.
#[derive(Debug, Clone, Default)]
pub(crate) struct Decision {
    /// `None`: the caller.
    pub by: Option<&'static str>,
    pub reason: Option<String>,
    /// Place it on this session (`Some(None)`: the whole course); `None` keeps it where it is.
    pub session: Option<Option<Uuid>>,
}

pub(crate) async fn save(
    conn: &WriteTxn,
    actor: &Actor,
    action: &str,
    before: &nomination::Model,
    state: NominationState,
) -> Result<nomination::Model, RepoError> {
    save_decision(conn, actor, action, before, state, Decision::default()).await
}

pub(crate) async fn save_decision(
    conn: &WriteTxn,
    actor: &Actor,
    action: &str,
    before: &nomination::Model,
    state: NominationState,
    decision: Decision,
) -> Result<nomination::Model, RepoError> {
    let saved = save_audited(
        conn,
        actor,
        format!("nomination.{action}"),
        before,
        &Precondition::version(before.version),
        decided(before, actor, state, decision, now()),
        ALREADY_NOMINATED,
    )
    .await?;
    // Its absence notices no longer wait for anyone.
    if kenshu_domain::absence::lapses_with(state) {
        let which = super::absence::Lapsing::Of { nomination_id: saved.id, keep: None };
        super::absence::lapse(conn, actor, which, "受講の取消しにより取下げ").await?;
    }
    Ok(saved)
}

/// The nomination as a decision leaves it (before its new version is stamped).
fn decided(
    before: &nomination::Model,
    actor: &Actor,
    state: NominationState,
    decision: Decision,
    at: chrono::DateTime<chrono::Utc>,
) -> nomination::Model {
    // A trainee moving up from the waiting list joins from now: earlier sessions do not count.
    let moved_up = before.state == NominationState::Waitlisted.as_str() && state == NominationState::Selected;
    nomination::Model {
        state: state.as_str().into(),
        decided_by: Some(decision.by.map_or_else(|| actor.signature(), str::to_string)),
        decided_at: Some(at),
        decision_reason: decision.reason.or_else(|| before.decision_reason.clone()),
        session_id: decision.session.unwrap_or(before.session_id),
        placed_at: if moved_up { Some(at) } else { before.placed_at },
        held_place: before.held_place || state.holds_place(),
        ..before.clone()
    }
}

/// [`save`] for many nominations read under the course's lock, moved by the caller with one
/// `action`: a batched write and one audit write.
pub(crate) async fn save_many(
    conn: &WriteTxn,
    actor: &Actor,
    action: &str,
    moves: Vec<(nomination::Model, NominationState)>,
) -> Result<Vec<nomination::Model>, RepoError> {
    let at = now();
    let rows = moves
        .into_iter()
        .map(|(before, state)| {
            let after = decided(&before, actor, state, Decision::default(), at);
            (before, after)
        })
        .collect();
    save_audited_many(
        conn,
        actor,
        &format!("nomination.{action}"),
        rows,
        &Words::fixed(
            "a nomination changed meanwhile; try again",
            "その間に受講候補が変更されました。もう一度お試しください",
        ),
    )
    .await
}

/// The state a nomination is in.
pub fn state_of(n: &nomination::Model) -> Result<NominationState, RepoError> {
    Ok(n.state()?)
}

/// Move the nomination `id` by `event` in the caller's capacities, decided by the domain on the
/// row read under the course's lock. A selection needs a free place; a refusal keeps its
/// `reason`; a cancellation that frees a place gives it to the first nomination waiting for the
/// same course (and session), recorded as decided by the waiting list.
pub async fn apply_event(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    actors: &[kenshu_domain::selection::Actor],
    event: Event,
    reason: Option<String>,
) -> Result<EventOutcome, RepoError> {
    let current = get(conn, actor.org_id, id).await?;
    let course = lock_course(conn, actor.org_id, current.course_id).await?;
    // Read again under the lock: the state may have moved since the caller checked it.
    let current = get(conn, actor.org_id, id).await?;
    crate::repo::check_version(current.version, expected_version)?;
    let state = state_of(&current)?;
    let next = kenshu_domain::selection::transition_as(state, event, actors)?;
    if next == NominationState::Selected {
        if let Err(why) = has_place(conn, actor.org_id, &course, current.session_id).await? {
            return Err(RepoError::Conflict(Words::new(
                format!("no place left: {why}; wait-list the nomination instead"),
                format!("空きがありません（{why}）。補欠にしてください"),
            )));
        }
    }
    let decision = Decision { by: None, reason, session: None };
    let nomination = save_decision(conn, actor, event.as_str(), &current, next, decision).await?;
    let by_trainee = actors.contains(&kenshu_domain::selection::Actor::Nominee);
    let told = kenshu_domain::notice::on_nomination(event, state, by_trainee);
    super::notice::tell_course_record(conn, actor.org_id, told, place_record(&nomination)).await?;
    let mut promoted = None;
    if event == Event::Cancel && state.holds_place() {
        promoted = promote_waiting(conn, actor, &course).await?.into_iter().next();
    }
    Ok(EventOutcome { nomination, promoted })
}

/// 補欠繰上げ: move the course's waiting list up, in order, into the places free now on the course
/// and its sessions, except where a session starts within the organisation's cut-off (HR selects
/// by hand then); each moved-up trainee and their heads are told. The caller holds the course's
/// lock. Returns those moved up.
pub(crate) async fn promote_waiting(
    conn: &WriteTxn,
    actor: &Actor,
    course: &course::Model,
) -> Result<Vec<nomination::Model>, RepoError> {
    use kenshu_domain::selection::{promotion_closed, promotions, FreePlaces, Waiting};
    let waiting = nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(actor.org_id))
        .filter(nomination::Column::CourseId.eq(course.id))
        .filter(nomination::Column::State.eq(NominationState::Waitlisted.as_str()))
        .order_by_asc(nomination::Column::Id)
        .all(conn)
        .await?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    let sessions = course_session::Entity::find()
        .filter(course_session::Column::OrgId.eq(actor.org_id))
        .filter(course_session::Column::CourseId.eq(course.id))
        .all(conn)
        .await?;
    let taken = held(conn, actor.org_id, course.id, None).await?;
    let mut free = FreePlaces {
        course: places_left(course.headcount.map(|h| h as u32), taken),
        sessions: Default::default(),
    };
    let mut sessions = sessions;
    sessions.sort_by_key(|s| s.starts_at);
    for s in &sessions {
        let taken = held(conn, actor.org_id, course.id, Some(s.id)).await?;
        free.sessions.push((s.id, places_left(s.capacity.map(|c| c as u32), taken)));
    }
    let cutoff = super::org::get(conn, actor.org_id).await?.promotion_cutoff_days.max(0) as u32;
    let at = now();
    // A trainee of the whole course joins from its next session on (earlier ones do not count
    // for them): that one's start is what the cut-off is measured against; none left is closed.
    let next_start = sessions.iter().map(|s| s.starts_at).filter(|t| *t > at).min();
    let last_start = sessions.iter().map(|s| s.starts_at).max();
    let start_of = |sid: Option<Uuid>| match sid {
        Some(id) => sessions.iter().find(|s| s.id == id).map(|s| s.starts_at),
        None => next_start.or(last_start),
    };
    let order: Vec<Waiting> =
        waiting.iter().map(|n| Waiting { id: n.id, session_id: n.session_id }).collect();
    let chosen = promotions(&order, free, |sid| promotion_closed(start_of(sid), at, cutoff));
    let mut moved = Vec::with_capacity(chosen.len());
    for (id, session) in chosen {
        let Some(n) = waiting.iter().find(|n| n.id == id) else { continue };
        let decision = Decision { by: Some(WAITING_LIST), reason: None, session: Some(session) };
        moved.push(save_decision(conn, actor, "promote", n, NominationState::Selected, decision).await?);
    }
    if !moved.is_empty() {
        let facts = super::notice::course_facts(conn, course).await?;
        super::notice::tell_places(conn, actor.org_id, &facts, &moved, || {
            kenshu_domain::notice::Event::PlaceGiven
        })
        .await?;
    }
    Ok(moved)
}

/// Move a nomination to another session of its course (or to none). A nomination holding a place
/// needs a free place in the target session.
pub async fn move_session(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    session_id: Option<Uuid>,
) -> Result<nomination::Model, RepoError> {
    let current = get(conn, actor.org_id, id).await?;
    let course = lock_course(conn, actor.org_id, current.course_id).await?;
    let current = get(conn, actor.org_id, id).await?;
    if current.session_id == session_id {
        return Ok(current);
    }
    if let Some(sid) = session_id {
        let found = session_of_course(conn, actor.org_id, course.id, sid).await?;
        if current.state()?.holds_place() {
            let taken = held(conn, actor.org_id, course.id, Some(sid)).await?;
            let capacity = found.capacity.map(|c| c as u32);
            if places_left(capacity, taken) == Some(0) {
                return Err(RepoError::Conflict(Words::new(
                    format!("no place left in the target session for nomination {id}"),
                    format!("移動先の日程に空きがありません（受講候補 {id}）"),
                )));
            }
        }
    }
    let after = nomination::Model { session_id, ..current.clone() };
    let moved = save_audited(
        conn,
        actor,
        "nomination.move",
        &current,
        &Precondition::version(current.version),
        after,
        ALREADY_NOMINATED,
    )
    .await?;
    // Notices of the sessions they are no longer on no longer wait for anyone.
    if let Some(to) = session_id {
        let which = super::absence::Lapsing::Of { nomination_id: id, keep: Some(to) };
        super::absence::lapse(conn, actor, which, "日程の変更により取下げ").await?;
    }
    // A trainee already told where to be is told again.
    if moved.state()? == NominationState::Notified {
        let previous = match current.session_id {
            Some(sid) => {
                let s: course_session::Model = super::find_in_org(conn, actor.org_id, sid).await?;
                Some(super::notice::session_facts(&s))
            }
            None => None,
        };
        let told = Some(kenshu_domain::notice::Event::PlaceMoved { previous });
        super::notice::tell_course_record(conn, actor.org_id, told, place_record(&moved)).await?;
    }
    Ok(moved)
}
