//! Nominations: designation runs and the views HR reads.

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
use super::{find_in_org, insert_audited, now, save_audited, Actor, Page, PageRequest, RepoError};
use crate::bulk::{self, OnKey};
use crate::entities::{course, course_session, employee, nomination};

/// What a designation run did for one course, or would do on a dry run.
#[derive(Debug, Clone)]
pub struct DesignationOutcome {
    pub course_id: Uuid,
    /// Matched now, had no nomination: designated (selected, or waiting beyond the headcount).
    pub new: Vec<EmployeeRef>,
    pub selected: u64,
    pub waitlisted: u64,
    /// Matched and already nominated, by any route and in any state.
    pub already: u64,
    /// Designated earlier but no longer matched (promoted, transferred, left): for HR to review.
    pub no_longer_matching: Vec<EmployeeRef>,
}

fn member_ref(m: &RosterMember) -> EmployeeRef {
    EmployeeRef { id: m.id, employee_no: m.employee_no.clone(), name: m.name.clone() }
}

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
        decision_reason: None,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

/// Designate (指名) for each course: every active employee its designation rules match who has
/// no nomination yet. The roster is read once for all courses. New designations take the
/// course's free places in roster order; beyond the headcount they wait.
pub async fn designate(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    fy: FiscalYear,
    courses: &[CourseRecord],
    ladder: &GradeLadder,
    dry_run: bool,
) -> Result<Vec<DesignationOutcome>, RepoError> {
    let roster = roster_members(conn, actor.org_id, None).await?;
    let course_ids: Vec<Uuid> = courses.iter().map(|c| c.model.id).collect();
    let mut existing: HashMap<Uuid, Vec<nomination::Model>> = HashMap::new();
    // Chunks keep the IN list within every backend's parameter limit.
    for ids in course_ids.chunks(500) {
        let rows = nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(actor.org_id))
            .filter(nomination::Column::CourseId.is_in(ids.iter().copied()))
            .all(conn)
            .await?;
        for n in rows {
            existing.entry(n.course_id).or_default().push(n);
        }
    }
    let mut sessions: HashMap<Uuid, Vec<course_session::Model>> = HashMap::new();
    for ids in course_ids.chunks(500) {
        let rows = course_session::Entity::find()
            .filter(course_session::Column::OrgId.eq(actor.org_id))
            .filter(course_session::Column::CourseId.is_in(ids.iter().copied()))
            .order_by_asc(course_session::Column::StartsAt)
            .all(conn)
            .await?;
        for s in rows {
            sessions.entry(s.course_id).or_default().push(s);
        }
    }
    let by_id: HashMap<Uuid, &RosterMember> = roster.iter().map(|m| (m.id, m)).collect();
    let at = now();
    let mut outcomes = Vec::with_capacity(courses.len());
    let mut inserts = Vec::new();
    let mut gone_ids = Vec::new();
    for course in courses {
        let rules: Vec<_> = course.rules.iter().filter(|r| r.route == Route::Designation).collect();
        let matching: Vec<Uuid> = if rules.is_empty() {
            Vec::new()
        } else {
            roster
                .iter()
                .filter(|m| {
                    let c = m.candidate();
                    rules.iter().any(|r| r.matches(&c, fy, ladder))
                })
                .map(|m| m.id)
                .collect()
        };
        let current = existing.get(&course.model.id).map(Vec::as_slice).unwrap_or_default();
        let nominated: Vec<(Uuid, Route, bool)> = current
            .iter()
            .map(|n| Ok((n.employee_id, n.route()?, n.state()?.is_live())))
            .collect::<Result<_, DbErr>>()?;
        let diff = designation_diff(&matching, &nominated);
        let held = current
            .iter()
            .filter(|n| NominationState::parse(&n.state).is_some_and(NominationState::holds_place))
            .count() as u64;
        let free = places_left(course.model.headcount.map(|h| h as u32), held);
        let dates: Vec<(Uuid, Option<u64>)> = sessions
            .get(&course.model.id)
            .into_iter()
            .flatten()
            .map(|s| {
                let taken = current
                    .iter()
                    .filter(|n| n.session_id == Some(s.id))
                    .filter(|n| n.state().is_ok_and(NominationState::holds_place))
                    .count() as u64;
                (s.id, places_left(s.capacity.map(|c| c as u32), taken))
            })
            .collect();
        let placements = kenshu_domain::selection::place_designations(diff.new.len(), free, &dates);
        let mut outcome = DesignationOutcome {
            course_id: course.model.id,
            new: Vec::with_capacity(diff.new.len()),
            selected: 0,
            waitlisted: 0,
            already: diff.already.len() as u64,
            no_longer_matching: Vec::new(),
        };
        for (id, placement) in diff.new.iter().zip(placements) {
            let (state, session_id) = match placement {
                kenshu_domain::selection::Placement::Placed(session) => (NominationState::Selected, session),
                kenshu_domain::selection::Placement::Waiting => (NominationState::Waitlisted, None),
            };
            if state == NominationState::Selected {
                outcome.selected += 1;
            } else {
                outcome.waitlisted += 1;
            }
            if let Some(m) = by_id.get(id) {
                outcome.new.push(member_ref(m));
            }
            let by = Some(actor.signature());
            inserts.push(nomination::Model {
                decided_by: by,
                decided_at: Some(at),
                session_id,
                ..new_nomination(actor, course.model.id, *id, Route::Designation, state, None, at)
            });
        }
        for id in &diff.no_longer_matching {
            match by_id.get(id) {
                Some(m) => outcome.no_longer_matching.push(member_ref(m)),
                None => gone_ids.push((outcomes.len(), *id)),
            }
        }
        outcomes.push(outcome);
    }
    // Staff who left the roster are not in the active roster read above.
    if !gone_ids.is_empty() {
        let ids: Vec<Uuid> = gone_ids.iter().map(|(_, id)| *id).collect();
        let names: HashMap<Uuid, EmployeeRef> = employees_by_id(conn, actor.org_id, &ids)
            .await?
            .into_values()
            .map(|e| (e.id, EmployeeRef { id: e.id, employee_no: e.employee_no, name: e.name }))
            .collect();
        for (i, id) in gone_ids {
            if let Some(r) = names.get(&id) {
                outcomes[i].no_longer_matching.push(r.clone());
            }
        }
    }
    if !dry_run && !inserts.is_empty() {
        // One audit record per course and run, naming every nomination it made: a run writes
        // ~2.4 nominations per employee, and a record each doubled the rows written.
        let mut runs: Vec<DesignationRun> = Vec::new();
        for n in &inserts {
            // Inserts come course by course, so a new course starts a new run.
            if runs.last().is_none_or(|r| r.course_id != n.course_id) {
                runs.push(DesignationRun {
                    course_id: n.course_id,
                    fiscal_year: fy.year(),
                    nominations: Vec::new(),
                });
            }
            let run = runs.last_mut().expect("pushed above");
            run.nominations.push(DesignatedNomination {
                id: n.id,
                employee_id: n.employee_id,
                state: n.state.clone(),
            });
        }
        let changes = runs
            .iter()
            .map(|run| Change::new("nomination.designate", "course", Some(run.course_id), None, Some(run)))
            .collect();
        // In key order the unique (org, course, employee) index is filled left to right instead
        // of at random places; the ids keep the roster order the waiting list follows.
        inserts.sort_unstable_by_key(|n| (n.course_id, n.employee_id));
        bulk::write::<nomination::Entity>(conn, &inserts, OnKey::Fail).await.map_err(|e| {
            RepoError::from_write(e, "a nomination was added meanwhile; run the designation again")
        })?;
        audit::record_many(conn, actor, changes).await?;
    }
    Ok(outcomes)
}

/// The audit record of one course's designation run (指名).
#[derive(Debug, Serialize)]
struct DesignationRun {
    course_id: Uuid,
    fiscal_year: i32,
    /// Nominations made, in roster order, each with its state (selected or waitlisted).
    nominations: Vec<DesignatedNomination>,
}

#[derive(Debug, Serialize)]
struct DesignatedNomination {
    id: Uuid,
    employee_id: Uuid,
    state: String,
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
            RepoError::Invalid(vec![kenshu_domain::FieldError::new("cursor", "is not a cursor of this list")])
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
            Some(NominationRecord {
                employee: EmployeeRef { id: e.id, employee_no: e.employee_no.clone(), name: e.name.clone() },
                section_id: e.section_id,
                model: n,
            })
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
async fn held(
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
            RepoError::Invalid(vec![kenshu_domain::FieldError::new(
                "session_id",
                "is not a session of this course",
            )])
        })
}

/// A new nomination by recommendation or application (designations come from [`designate`]).
pub async fn create(
    conn: &impl ConnectionTrait,
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
    insert_audited(conn, actor, action, model, ALREADY_NOMINATED).await
}

/// The result of an event: the nomination, and the first waiting one that moved up into the
/// place a cancellation freed.
#[derive(Debug, Clone)]
pub struct EventOutcome {
    pub nomination: nomination::Model,
    pub promoted: Option<nomination::Model>,
}

const ALREADY_NOMINATED: &str = "this employee is already nominated for the course";

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
    conn: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    before: &nomination::Model,
    state: NominationState,
) -> Result<nomination::Model, RepoError> {
    save_decision(conn, actor, action, before, state, Decision::default()).await
}

pub(crate) async fn save_decision(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    before: &nomination::Model,
    state: NominationState,
    decision: Decision,
) -> Result<nomination::Model, RepoError> {
    let at = now();
    // A trainee moving up from the waiting list joins from now: earlier sessions do not count.
    let moved_up = before.state == NominationState::Waitlisted.as_str() && state == NominationState::Selected;
    let after = nomination::Model {
        state: state.as_str().into(),
        decided_by: Some(decision.by.map_or_else(|| actor.signature(), str::to_string)),
        decided_at: Some(at),
        decision_reason: decision.reason.or_else(|| before.decision_reason.clone()),
        session_id: decision.session.unwrap_or(before.session_id),
        placed_at: if moved_up { Some(at) } else { before.placed_at },
        ..before.clone()
    };
    save_audited(
        conn,
        actor,
        format!("nomination.{action}"),
        before,
        before.version,
        after,
        ALREADY_NOMINATED,
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
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    actors: &[kenshu_domain::selection::Actor],
    event: Event,
    reason: Option<String>,
) -> Result<EventOutcome, RepoError> {
    let current = get(conn, actor.org_id, id).await?;
    let course = lock_course(conn, actor.org_id, current.course_id).await?;
    // Read again under the lock: the state may have moved since the caller checked it.
    let current = get(conn, actor.org_id, id).await?;
    if current.version != expected_version {
        return Err(RepoError::Stale { current: current.version });
    }
    let state = state_of(&current)?;
    let next = kenshu_domain::selection::transition_as(state, event, actors)?;
    if next == NominationState::Selected {
        if let Err(why) = has_place(conn, actor.org_id, &course, current.session_id).await? {
            return Err(RepoError::Conflict(format!(
                "no place left: {why}; wait-list the nomination instead"
            )));
        }
    }
    let decision = Decision { by: None, reason, session: None };
    let nomination = save_decision(conn, actor, event.as_str(), &current, next, decision).await?;
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
    conn: &impl ConnectionTrait,
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
        let pairs: Vec<(Uuid, Uuid)> = moved.iter().map(|n| (n.id, n.employee_id)).collect();
        super::notice::tell(conn, actor.org_id, &facts, &pairs, || kenshu_domain::notice::Event::PlaceGiven)
            .await?;
    }
    Ok(moved)
}

/// The course a nomination is for, as lists of nominations show it.
#[derive(Debug, Clone)]
pub struct CourseRef {
    pub id: Uuid,
    pub fiscal_year: i32,
    pub category: String,
    pub number: i32,
    pub title: String,
}

/// Nominations with their courses, newest fiscal year first, then plan order.
async fn with_courses(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    rows: Vec<nomination::Model>,
) -> Result<Vec<(nomination::Model, CourseRef)>, DbErr> {
    let ids: Vec<Uuid> =
        rows.iter().map(|n| n.course_id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut courses = HashMap::new();
    for chunk in ids.chunks(500) {
        for c in course::Entity::find()
            .filter(course::Column::OrgId.eq(org_id))
            .filter(course::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            let r = CourseRef {
                id: c.id,
                fiscal_year: c.fiscal_year,
                category: c.category,
                number: c.number,
                title: c.title,
            };
            courses.insert(c.id, (c.category_rank, r));
        }
    }
    let mut out: Vec<(i32, (nomination::Model, CourseRef))> = rows
        .into_iter()
        .filter_map(|n| courses.get(&n.course_id).map(|(rank, c)| (*rank, (n, c.clone()))))
        .collect();
    out.sort_by(|(ra, (na, a)), (rb, (nb, b))| {
        b.fiscal_year
            .cmp(&a.fiscal_year)
            .then(ra.cmp(rb))
            .then(a.number.cmp(&b.number))
            .then(na.id.cmp(&nb.id))
    });
    Ok(out.into_iter().map(|(_, x)| x).collect())
}

/// 研修履歴: every nomination of an employee, across fiscal years (or one year), with its course.
pub async fn for_employee(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    employee_id: Uuid,
    fy: Option<FiscalYear>,
) -> Result<Vec<(nomination::Model, CourseRef)>, DbErr> {
    let rows = nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::EmployeeId.eq(employee_id))
        .all(conn)
        .await?;
    let mut out = with_courses(conn, org_id, rows).await?;
    if let Some(fy) = fy {
        out.retain(|(_, c)| c.fiscal_year == fy.year());
    }
    Ok(out)
}

/// A section's nominations in a fiscal year (or all), with course and employee.
pub async fn for_section(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    section_id: Uuid,
    fy: Option<FiscalYear>,
    state: Option<NominationState>,
) -> Result<Vec<(nomination::Model, CourseRef, EmployeeRef)>, DbErr> {
    let staff: HashMap<Uuid, EmployeeRef> = employee::Entity::find()
        .filter(employee::Column::OrgId.eq(org_id))
        .filter(employee::Column::SectionId.eq(section_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|e| (e.id, EmployeeRef { id: e.id, employee_no: e.employee_no, name: e.name }))
        .collect();
    let ids: Vec<Uuid> = staff.keys().copied().collect();
    let mut rows = Vec::new();
    for chunk in ids.chunks(500) {
        let mut q = nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(org_id))
            .filter(nomination::Column::EmployeeId.is_in(chunk.iter().copied()));
        if let Some(s) = state {
            q = q.filter(nomination::Column::State.eq(s.as_str()));
        }
        rows.extend(q.all(conn).await?);
    }
    let mut out = with_courses(conn, org_id, rows).await?;
    if let Some(fy) = fy {
        out.retain(|(_, c)| c.fiscal_year == fy.year());
    }
    Ok(out.into_iter().filter_map(|(n, c)| staff.get(&n.employee_id).cloned().map(|e| (n, c, e))).collect())
}

/// 研修通知: move every selected nomination of the course to notified and write a notice for the
/// trainee and one for each of their heads, in one transaction.
pub async fn notify_course(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    course: &CourseRecord,
) -> Result<(u64, u64), RepoError> {
    lock_course(conn, actor.org_id, course.model.id).await?;
    let selected = nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(actor.org_id))
        .filter(nomination::Column::CourseId.eq(course.model.id))
        .filter(nomination::Column::State.eq(NominationState::Selected.as_str()))
        .order_by_asc(nomination::Column::Id)
        .all(conn)
        .await?;
    if selected.is_empty() {
        return Ok((0, 0));
    }
    let next = kenshu_domain::selection::transition(
        NominationState::Selected,
        Event::Notify,
        kenshu_domain::selection::Actor::Hr,
    )?;
    for n in &selected {
        save(conn, actor, Event::Notify.as_str(), n, next).await?;
    }
    let facts = super::notice::course_facts(conn, &course.model).await?;
    let pairs: Vec<(Uuid, Uuid)> = selected.iter().map(|n| (n.id, n.employee_id)).collect();
    let written =
        super::notice::tell(conn, actor.org_id, &facts, &pairs, || kenshu_domain::notice::Event::Selected)
            .await?;
    Ok((selected.len() as u64, written))
}

/// Who has not yet taken a kind of course: the filter.
#[derive(Debug, Clone)]
pub struct GapFilter {
    /// The courses, as HR names them (see `kenshu_domain::selection::gap_courses`).
    pub courses: kenshu_domain::selection::GapCourses,
    /// Only staff hired at least this many fiscal years before `fiscal_year`.
    pub min_years_since_hire: Option<u32>,
    pub fiscal_year: FiscalYear,
    pub section_id: Option<Uuid>,
}

/// Active staff who have completed none of the courses the filter names, in employee-number
/// order, with the courses that counted. Naming no course is `Invalid`, never "everyone".
pub async fn training_gaps(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &GapFilter,
    page: &PageRequest,
) -> Result<(Vec<CourseRef>, Page<employee::Model>), RepoError> {
    type Row = (Uuid, i32, String, i32, String, String, i32);
    let rows: Vec<Row> = course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .column(course::Column::FiscalYear)
        .column(course::Column::Category)
        .column(course::Column::Number)
        .column(course::Column::Title)
        .column(course::Column::SearchKey)
        .column(course::Column::CategoryRank)
        .filter(course::Column::OrgId.eq(org_id))
        .into_tuple()
        .all(conn)
        .await?;
    let mut all = Vec::with_capacity(rows.len());
    for (id, fiscal_year, category, number, title, search_key, _) in &rows {
        let category = kenshu_domain::catalogue::Category::parse(category)
            .ok_or_else(|| DbErr::Custom(format!("stored course.category '{category}' is not known")))?;
        all.push(kenshu_domain::selection::GapCourse {
            id: *id,
            fiscal_year: *fiscal_year,
            category,
            number: *number,
            title: title.clone(),
            search_key: search_key.clone(),
        });
    }
    let named = &filter.courses;
    let course_ids =
        kenshu_domain::selection::gap_courses(&all, named, filter.fiscal_year.year()).map_err(|why| {
            let field = if !named.ids.is_empty() {
                "course_ids"
            } else if named.number.is_some() {
                "course_number"
            } else if named.text.is_some() {
                "course_q"
            } else {
                "course_category"
            };
            RepoError::Invalid(vec![kenshu_domain::FieldError::new(field, why)])
        })?;
    let mut counted: Vec<(i32, CourseRef)> = rows
        .iter()
        .filter(|r| course_ids.contains(&r.0))
        .map(|(id, fiscal_year, category, number, title, _, rank)| {
            (
                *rank,
                CourseRef {
                    id: *id,
                    fiscal_year: *fiscal_year,
                    category: category.clone(),
                    number: *number,
                    title: title.clone(),
                },
            )
        })
        .collect();
    counted.sort_by(|(ra, a), (rb, b)| {
        b.fiscal_year.cmp(&a.fiscal_year).then(ra.cmp(rb)).then(a.number.cmp(&b.number))
    });
    let mut done = std::collections::HashSet::new();
    for chunk in course_ids.chunks(500) {
        let ids: Vec<Uuid> = nomination::Entity::find()
            .select_only()
            .column(nomination::Column::EmployeeId)
            .filter(nomination::Column::OrgId.eq(org_id))
            .filter(nomination::Column::CourseId.is_in(chunk.iter().copied()))
            .filter(nomination::Column::State.eq(NominationState::Completed.as_str()))
            .into_tuple()
            .all(conn)
            .await?;
        done.extend(ids);
    }
    let mut q = employee::Entity::find()
        .filter(employee::Column::OrgId.eq(org_id))
        .filter(employee::Column::Active.eq(true));
    if let Some(years) = filter.min_years_since_hire {
        // Hired in fiscal year (fy - years) or before: before 1 April of that year + 1.
        let last_fy = filter.fiscal_year.year() - years as i32;
        let before = chrono::NaiveDate::from_ymd_opt(last_fy + 1, 4, 1).unwrap_or(chrono::NaiveDate::MIN);
        q = q.filter(employee::Column::HireDate.lt(before));
    }
    if let Some(s) = filter.section_id {
        q = q.filter(employee::Column::SectionId.eq(s));
    }
    if let Some(after) = page.after.as_ref().and_then(|a| a.first()) {
        q = q.filter(employee::Column::EmployeeNo.gt(after.as_str()));
    }
    // Skip completed staff page by page; the roster is read in pages, never whole.
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut batch = q.clone();
        if let Some(c) = &cursor {
            batch = batch.filter(employee::Column::EmployeeNo.gt(c.as_str()));
        }
        let rows = batch.order_by_asc(employee::Column::EmployeeNo).limit(1000).all(conn).await?;
        let fetched = rows.len();
        cursor = rows.last().map(|e| e.employee_no.clone());
        items.extend(rows.into_iter().filter(|e| !done.contains(&e.id)));
        if items.len() as u64 > page.limit || fetched < 1000 {
            break;
        }
    }
    let counted = counted.into_iter().map(|(_, c)| c).collect();
    Ok((counted, Page::from_rows(items, page.limit, |e| vec![e.employee_no.clone()])))
}

/// Move a nomination to another session of its course (or to none). A nomination holding a place
/// needs a free place in the target session.
pub async fn move_session(
    conn: &impl ConnectionTrait,
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
                return Err(RepoError::Conflict(format!(
                    "no place left in the target session for nomination {id}"
                )));
            }
        }
    }
    let after = nomination::Model { session_id, ..current.clone() };
    save_audited(conn, actor, "nomination.move", &current, current.version, after, ALREADY_NOMINATED).await
}

/// What a nomination import did, or would do on a dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NominationImportStats {
    pub created: u64,
    /// Rows whose employee is already nominated for the course: left as they are.
    pub unchanged: u64,
    /// Of the created designations, those beyond the course's headcount that wait.
    pub waitlisted: u64,
}

/// Import nominations for a year's courses: every row is checked (course of the plan, active
/// employee, not twice in the file) before anything is written; then the new ones are added in
/// their route's first state, designations beyond the headcount waiting.
pub async fn import_nominations(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    fy: FiscalYear,
    rows: &[kenshu_domain::selection_io::NominationRow],
    dry_run: bool,
) -> Result<Result<NominationImportStats, Vec<kenshu_domain::roster_import::RowError>>, RepoError> {
    use kenshu_domain::roster_import::RowError;
    let courses: HashMap<kenshu_domain::catalogue_io::CourseKey, CourseRecord> =
        super::catalogue::running_courses(conn, actor.org_id, fy)
            .await?
            .into_iter()
            .filter_map(|c| {
                let category = kenshu_domain::catalogue::Category::parse(&c.model.category)?;
                Some((kenshu_domain::catalogue_io::CourseKey { category, number: c.model.number as u32 }, c))
            })
            .collect();
    let numbers: Vec<String> = rows.iter().map(|r| r.employee_no.as_str().to_string()).collect();
    let mut staff: HashMap<String, employee::Model> = HashMap::new();
    for chunk in numbers.chunks(500) {
        for e in employee::Entity::find()
            .filter(employee::Column::OrgId.eq(actor.org_id))
            .filter(employee::Column::Active.eq(true))
            .filter(employee::Column::EmployeeNo.is_in(chunk.iter().cloned()))
            .all(conn)
            .await?
        {
            staff.insert(e.employee_no.clone(), e);
        }
    }
    let course_ids: Vec<Uuid> = courses.values().map(|c| c.model.id).collect();
    let mut existing: std::collections::HashSet<(Uuid, Uuid)> = std::collections::HashSet::new();
    let mut held_by_course: HashMap<Uuid, u64> = HashMap::new();
    for chunk in course_ids.chunks(500) {
        for n in nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(actor.org_id))
            .filter(nomination::Column::CourseId.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            if NominationState::parse(&n.state).is_some_and(NominationState::holds_place) {
                *held_by_course.entry(n.course_id).or_default() += 1;
            }
            existing.insert((n.course_id, n.employee_id));
        }
    }
    let mut errors = Vec::new();
    let mut seen: HashMap<(Uuid, Uuid), u64> = HashMap::new();
    let mut stats = NominationImportStats::default();
    let mut inserts = Vec::new();
    let at = now();
    for row in rows {
        let course = courses.get(&row.course);
        let person = staff.get(row.employee_no.as_str());
        if course.is_none() {
            errors.push(RowError {
                line: row.line,
                column: "No".into(),
                reason: format!("no course {} in the FY{} plan", row.course.label(), fy.year()),
            });
        }
        if person.is_none() {
            errors.push(RowError {
                line: row.line,
                column: "職員番号".into(),
                reason: format!("no active employee {}", row.employee_no.as_str()),
            });
        }
        let (Some(course), Some(person)) = (course, person) else { continue };
        let key = (course.model.id, person.id);
        if let Some(first) = seen.insert(key, row.line) {
            errors.push(RowError {
                line: row.line,
                column: "職員番号".into(),
                reason: format!("this employee and course appear twice (first at line {first})"),
            });
            continue;
        }
        if existing.contains(&key) {
            stats.unchanged += 1;
            continue;
        }
        let mut state = NominationState::initial(row.route);
        if state.holds_place() {
            let held = held_by_course.entry(course.model.id).or_default();
            if places_left(course.model.headcount.map(|h| h as u32), *held) == Some(0) {
                state = NominationState::Waitlisted;
                stats.waitlisted += 1;
            } else {
                *held += 1;
            }
        }
        stats.created += 1;
        inserts.push(new_nomination(
            actor,
            course.model.id,
            person.id,
            row.route,
            state,
            row.reason.clone(),
            at,
        ));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Ok(Err(errors));
    }
    if !dry_run && !inserts.is_empty() {
        bulk::write::<nomination::Entity>(conn, &inserts, OnKey::Fail)
            .await
            .map_err(|e| RepoError::from_write(e, "a nomination was added meanwhile; send the file again"))?;
        let changes = inserts
            .iter()
            .map(|n| Change::new("nomination.import", "nomination", Some(n.id), None, Some(n)))
            .collect();
        audit::record_many(conn, actor, changes).await?;
    }
    Ok(Ok(stats))
}
