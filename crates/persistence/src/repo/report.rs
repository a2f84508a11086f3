//! 研修報告書: post-training reports, their moves, the 職場還元 record, and who owes one.

use crate::repo::Precondition;
use crate::WriteTxn;
use kenshu_domain::Words;
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use kenshu_domain::attendance::AttendanceStatus;
use kenshu_domain::calendar::tokyo_date;
use kenshu_domain::catalogue::ReportRule;
use kenshu_domain::report::{
    days_overdue, report_transition, ReportActor, ReportEvent, ReportState, ReportText,
};
use kenshu_domain::selection::NominationState;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::employee::{employees_by_id, EmployeeRef, Placed};
use super::selection::CourseRef;
use super::{
    find_in_org, for_each_in_pages, insert_audited, lock_at_version, now, save_audited, Actor, RepoError,
};
use crate::entities::{course, course_session, nomination, stored, training_report};

const TAKEN: &Words = &Words::fixed(
    "a report for this nomination is already on file; correct it instead",
    "この受講の研修報告書はすでにあります。それを修正してください",
);

/// The Japan date of a course's last session, if it has any.
pub async fn last_day(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Option<NaiveDate>, DbErr> {
    Ok(last_days(conn, org_id, &[course_id]).await?.remove(&course_id))
}

async fn last_days(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_ids: &[Uuid],
) -> Result<HashMap<Uuid, NaiveDate>, DbErr> {
    // The latest end per course, one row each: the Japan date of the latest end is the latest
    // Japan date. Reading the sessions whole was a third of the year's results' CPU at 300 staff
    // (a year's 2,000 sessions decoded for their end alone).
    let mut out: HashMap<Uuid, NaiveDate> = HashMap::new();
    for chunk in course_ids.chunks(super::IN_LIST) {
        let ends: Vec<(Uuid, DateTime<Utc>)> = course_session::Entity::find()
            .select_only()
            .column(course_session::Column::CourseId)
            .column_as(course_session::Column::EndsAt.max(), "last_end")
            .filter(course_session::Column::OrgId.eq(org_id))
            .filter(course_session::Column::CourseId.is_in(chunk.iter().copied()))
            .group_by(course_session::Column::CourseId)
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(ends.into_iter().map(|(course, end)| (course, tokyo_date(end))));
    }
    Ok(out)
}

/// Whether the trainee of `n` attended the course: completed, or present (late, left early) at
/// one session at least, as the nomination's kept count has it. Only they write a report.
pub async fn attended(conn: &impl ConnectionTrait, n: &nomination::Model) -> Result<bool, DbErr> {
    let sessions: Option<i32> = nomination::Entity::find()
        .select_only()
        .expr(Expr::col((nomination::Entity, super::tally::Kept::SessionsAttended)))
        .filter(nomination::Column::OrgId.eq(n.org_id))
        .filter(nomination::Column::Id.eq(n.id))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(kenshu_domain::results::attended(n.state()?, sessions.unwrap_or(0) > 0))
}

/// What the report lists need of a nomination (read narrow: a year's are many).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trainee {
    pub id: Uuid,
    pub course_id: Uuid,
    pub employee_id: Uuid,
    pub state: NominationState,
    /// Present (late, left early) at one session at least: the kept count ([`super::tally`]).
    pub present_once: bool,
}

/// A trainee as [`Trainee::narrow`] reads it: id, course, employee, state, sessions attended.
type TraineeRow = (Uuid, Uuid, Uuid, String, i32);

impl Trainee {
    /// Completed, or holding a place and present once: who owes a report and may answer the
    /// survey.
    pub fn attended(&self) -> bool {
        kenshu_domain::results::attended(self.state, self.present_once)
    }

    /// The nominations of one course, narrow, a page at a time in employee order (a course for
    /// every member of staff has 50,000).
    pub async fn of_course(
        conn: &impl ConnectionTrait,
        org_id: Uuid,
        course_id: Uuid,
    ) -> Result<Vec<Self>, DbErr> {
        Self::of_courses_where(conn, org_id, &[course_id], Condition::all()).await
    }

    /// The nominations of `courses` that `only` also holds for, narrow, a page at a time (in no
    /// order the callers keep: they sort the lines).
    async fn of_courses_where(
        conn: &impl ConnectionTrait,
        org_id: Uuid,
        courses: &[Uuid],
        only: Condition,
    ) -> Result<Vec<Self>, DbErr> {
        let of_courses = nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(org_id))
            .filter(nomination::Column::CourseId.is_in(courses.iter().copied()))
            .filter(only);
        let mut out = Vec::new();
        let mut each = |row| {
            out.push(Self::from_row(row)?);
            Ok(())
        };
        if let [_] = courses {
            // One course: by employee, along the index by course and employee.
            let key = nomination::Column::EmployeeId;
            for_each_in_pages(conn, of_courses, key, Self::narrow, |r| r.2, &mut each).await?;
        } else {
            // By id, which is unique across courses (an employee is not).
            let key = nomination::Column::Id;
            for_each_in_pages(conn, of_courses, key, Self::narrow, |r| r.0, &mut each).await?;
        }
        Ok(out)
    }

    /// The nominations `filter` selects, narrow.
    pub async fn find(conn: &impl ConnectionTrait, filter: Condition) -> Result<Vec<Self>, DbErr> {
        let rows = Self::narrow(nomination::Entity::find().filter(filter)).all(conn).await?;
        rows.into_iter().map(Self::from_row).collect()
    }

    /// The columns a trainee is read from.
    fn narrow(
        q: sea_orm::Select<nomination::Entity>,
    ) -> sea_orm::Selector<sea_orm::SelectGetableTuple<TraineeRow>> {
        q.select_only()
            .column(nomination::Column::Id)
            .column(nomination::Column::CourseId)
            .column(nomination::Column::EmployeeId)
            .column(nomination::Column::State)
            .expr(Expr::col((nomination::Entity, super::tally::Kept::SessionsAttended)))
            .into_tuple::<TraineeRow>()
    }

    fn from_row((id, course_id, employee_id, state, sessions): TraineeRow) -> Result<Self, DbErr> {
        let state = stored("nomination.state", &state, NominationState::parse)?;
        Ok(Trainee { id, course_id, employee_id, state, present_once: sessions > 0 })
    }
}

/// The statuses that count as having attended a session.
pub(crate) const PRESENT: [AttendanceStatus; 3] =
    [AttendanceStatus::Present, AttendanceStatus::Late, AttendanceStatus::LeftEarly];

/// Start the report of `nomination`, as a draft or submitted at once.
pub async fn create(
    conn: &WriteTxn,
    actor: &Actor,
    nomination: &nomination::Model,
    text: &ReportText,
    submit: bool,
) -> Result<training_report::Model, RepoError> {
    let at = now();
    let model = training_report::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        nomination_id: nomination.id,
        course_id: nomination.course_id,
        employee_id: nomination.employee_id,
        learned: text.learned.clone(),
        application: text.application.clone(),
        comments: text.comments.clone(),
        state: if submit { ReportState::Submitted } else { ReportState::Draft }.as_str().into(),
        return_comment: None,
        first_submitted_at: submit.then_some(at),
        submitted_at: submit.then_some(at),
        approved_by: None,
        approved_at: None,
        received_by: None,
        received_at: None,
        shared_on: None,
        shared_note: None,
        shared_by: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let r = insert_audited(conn, actor, "report.create", model, TAKEN).await?;
    super::tally::recount(conn, actor.org_id, &[r.nomination_id]).await?;
    let told = submit.then_some(kenshu_domain::notice::on_report(ReportEvent::Submit)).flatten();
    super::notice::tell_course_record(conn, actor.org_id, told, record(&r)).await?;
    Ok(r)
}

/// A report as a notice is about it.
fn record(r: &training_report::Model) -> super::notice::CourseRecord {
    super::notice::CourseRecord {
        kind: kenshu_domain::notice::ItemKind::TrainingReport,
        id: r.id,
        course_id: r.course_id,
        employee_id: r.employee_id,
        session_id: None,
        reason: r.return_comment.clone(),
    }
}

pub async fn get(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<training_report::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// The state a report is in.
pub fn state_of(r: &training_report::Model) -> Result<ReportState, RepoError> {
    Ok(r.state()?)
}

/// Correct the text of a draft or returned report, decided on the row read under the lock.
pub async fn update_text(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    text: &ReportText,
) -> Result<training_report::Model, RepoError> {
    let before: training_report::Model = lock_at_version(conn, actor.org_id, id, expected_version).await?;
    let current = state_of(&before)?;
    if !current.editable() {
        return Err(RepoError::Transition {
            state: current.as_str().into(),
            message: format!(
                "a {} report cannot be corrected; only a draft or returned one",
                current.as_str()
            ),
        });
    }
    let before = &before;
    let after = training_report::Model {
        learned: text.learned.clone(),
        application: text.application.clone(),
        comments: text.comments.clone(),
        ..before.clone()
    };
    save_audited(conn, actor, "report.update", before, expected_version, after, TAKEN).await
}

/// Move the report `id` in the caller's capacities, decided by the domain on the row read under
/// the lock: submitting needs what was learned and how it will be used, and stamps the time (the
/// first time too, for lateness); approving and receiving stamp who and when; returning keeps
/// the comment.
pub async fn apply(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    actors: &[ReportActor],
    event: ReportEvent,
    comment: Option<String>,
) -> Result<training_report::Model, RepoError> {
    let before: training_report::Model = lock_at_version(conn, actor.org_id, id, expected_version).await?;
    let before = &before;
    let next = report_transition(state_of(before)?, event, actors)?;
    if event == ReportEvent::Submit {
        ReportText {
            learned: before.learned.clone(),
            application: before.application.clone(),
            comments: before.comments.clone(),
        }
        .validate(true)
        .map_err(RepoError::Invalid)?;
    }
    let at = now();
    let mut after = training_report::Model { state: next.as_str().into(), ..before.clone() };
    match event {
        ReportEvent::Submit => {
            after.first_submitted_at = before.first_submitted_at.or(Some(at));
            after.submitted_at = Some(at);
        }
        ReportEvent::Approve => {
            after.approved_by = Some(actor.signature());
            after.approved_at = Some(at);
        }
        ReportEvent::Receive => {
            after.received_by = Some(actor.signature());
            after.received_at = Some(at);
        }
        ReportEvent::Return => {
            after.return_comment = comment;
            after.approved_by = None;
            after.approved_at = None;
        }
    }
    let action = format!("report.{}", event.as_str());
    let r = save_audited(conn, actor, action, before, expected_version, after, TAKEN).await?;
    if before.first_submitted_at.is_none() {
        super::tally::recount(conn, actor.org_id, &[r.nomination_id]).await?;
    }
    let told = kenshu_domain::notice::on_report(event);
    super::notice::tell_course_record(conn, actor.org_id, told, record(&r)).await?;
    Ok(r)
}

/// 職場還元: the section head records when the trainee shared what they learned.
pub async fn record_sharing(
    conn: &WriteTxn,
    actor: &Actor,
    before: &training_report::Model,
    expected_version: &Precondition,
    shared_on: NaiveDate,
    note: Option<String>,
) -> Result<training_report::Model, RepoError> {
    let after = training_report::Model {
        shared_on: Some(shared_on),
        shared_note: note,
        shared_by: Some(actor.signature()),
        ..before.clone()
    };
    save_audited(conn, actor, "report.share", before, expected_version, after, TAKEN).await
}

/// Which reports to list.
#[derive(Debug, Clone, Default)]
pub struct ReportScope {
    pub fiscal_year: Option<i32>,
    pub course_id: Option<Uuid>,
    /// Only these trainees (one, a section's or a department's staff).
    pub employees: Option<Vec<Uuid>>,
}

/// A report a trainee owes: for a nomination that attended a course requiring one, with the
/// report as far as it has been written.
#[derive(Debug, Clone)]
pub struct ReportLine {
    pub nomination_id: Uuid,
    pub course: CourseRef,
    pub employee: EmployeeRef,
    pub section_id: Uuid,
    /// The trainee is still on the roster (false once they left).
    pub on_roster: bool,
    /// None while the course has no sessions.
    pub due_on: Option<NaiveDate>,
    pub report: Option<ReportStanding>,
}

/// What the lists of reports owed show of a line's report, and what the reminders decide on: not
/// its text, which is most of a report's row (the overdue list as a file read every report's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportStanding {
    pub id: Uuid,
    pub state: ReportState,
    pub first_submitted_at: Option<DateTime<Utc>>,
}

/// Which of the owed lines a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct OwedFilter {
    /// Only reports in this state (a report not yet started is in none).
    pub state: Option<ReportState>,
    /// Only those overdue on this day (未提出).
    pub overdue_on: Option<NaiveDate>,
}

impl OwedFilter {
    /// Whether the filter keeps fewer lines than the list holds (a state, or overdue).
    fn narrows(&self) -> bool {
        self.state.is_some() || self.overdue_on.is_some()
    }

    /// The nominations whose lines this filter may keep, so that a course's trainees are read only
    /// where a line may be kept (a page of the overdue list read every trainee of each course it
    /// passed, and the list as a file every trainee of the organisation). The nomination of the
    /// line a page follows is read in any case: it may have left the filter while still owed,
    /// and the page goes on after it.
    ///
    /// `within`: the nominations are read from a few courses (of this organisation), which lets
    /// the reports be asked once for them ([`ReportsIn`]).
    fn may_keep(&self, after: Option<Uuid>, within: ReportsIn) -> Condition {
        let may = if let Some(state) = self.state {
            Condition::any().add(report_in(vec![state.as_str()], within))
        } else if self.overdue_on.is_some() {
            not_handed_in(within)
        } else {
            return Condition::all();
        };
        match after {
            Some(id) => may.add(nomination::Column::Id.eq(id)),
            None => may,
        }
    }

    fn keeps(&self, line: &ReportLine) -> bool {
        let state = line.state();
        self.state.is_none_or(|s| state == Some(s))
            && self.overdue_on.is_none_or(|as_of| line.days_overdue(state, as_of).is_some())
    }
}

/// Where the nominations a report condition tests come from.
#[derive(Debug, Clone)]
enum ReportsIn {
    /// Any courses (a few trainees' nominations): each nomination's report is looked up.
    AnyCourse,
    /// A few courses of the organisation: their reports in the states are read once, from the
    /// index by state and course. Looked up per nomination, each report was fetched from the
    /// table for its state (the unique index by nomination was the planner's choice, index or
    /// not): at 50,000 staff, a course at a time, 18 s of the overdue export on SQLite against
    /// 0.5 s.
    Courses { org_id: Uuid, course_ids: Vec<Uuid> },
}

/// Nominations with a report in one of `states`.
fn report_in(states: Vec<&'static str>, within: ReportsIn) -> SimpleExpr {
    let report = |c: training_report::Column| Expr::col((training_report::Entity, c));
    let mut q = sea_orm::sea_query::Query::select();
    q.from(training_report::Entity).and_where(report(training_report::Column::State).is_in(states));
    match within {
        ReportsIn::AnyCourse => Expr::exists(
            q.expr(Expr::val(1))
                .and_where(
                    report(training_report::Column::OrgId)
                        .equals((nomination::Entity, nomination::Column::OrgId)),
                )
                .and_where(
                    report(training_report::Column::NominationId)
                        .equals((nomination::Entity, nomination::Column::Id)),
                )
                .to_owned(),
        ),
        ReportsIn::Courses { org_id, course_ids } => Expr::col((nomination::Entity, nomination::Column::Id))
            .in_subquery(
                q.column((training_report::Entity, training_report::Column::NominationId))
                    .and_where(report(training_report::Column::OrgId).eq(org_id))
                    .and_where(report(training_report::Column::CourseId).is_in(course_ids))
                    .to_owned(),
            ),
    }
}

/// Nominations whose report is not handed in: never submitted, or back with the trainee after a
/// submission. Its two parts are also asked apart, over many courses, by
/// [`with_reports_outstanding`].
fn not_handed_in(within: ReportsIn) -> Condition {
    Condition::any().add(never_submitted()).add(report_in(states_with_trainee(), within))
}

/// Nominations whose report was never submitted: the kept day of first submission is empty (no
/// report, or a draft).
fn never_submitted() -> SimpleExpr {
    Expr::col((nomination::Entity, super::tally::Kept::ReportFirstSubmittedOn)).is_null()
}

/// The states in which a submitted report is back with the trainee.
fn states_with_trainee() -> Vec<&'static str> {
    ReportState::ALL.into_iter().filter(|s| s.with_trainee()).map(ReportState::as_str).collect()
}

impl ReportLine {
    /// The report's state; `None` while not started.
    pub fn state(&self) -> Option<ReportState> {
        self.report.as_ref().map(|r| r.state)
    }

    /// Days overdue on `as_of`, given the line's [`ReportLine::state`]. Not started counts as still
    /// with the trainee.
    pub fn days_overdue(&self, state: Option<ReportState>, as_of: NaiveDate) -> Option<i64> {
        self.due_on.and_then(|d| days_overdue(d, state.unwrap_or(ReportState::Draft), as_of))
    }
}

/// One page of the reports owed in `scope` that `filter` keeps, in course then employee-number
/// order: the lines after the line of nomination `after`, up to `limit + 1` of them (the one more
/// tells that another page follows). `None` when `after` is not in the list (it changed).
///
/// The list is read a course at a time (a few trainees': a batch of courses), and only as far as
/// the page needs: at 50,000 staff the organisation's five years hold about 900,000 lines, each
/// with its report's text (30 s and 2 GB read whole, session 28).
pub async fn owed_page(
    db: &crate::Db,
    org_id: Uuid,
    scope: &ReportScope,
    filter: OwedFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Option<Vec<ReportLine>>, RepoError> {
    let conn = db.conn();
    let mut page = PageOfLines { filter, limit: limit as usize, lines: Vec::new() };
    // The nomination whose line the page follows, until it is passed.
    let mut seeking = after;
    let every = report_courses_kept(db, org_id).await?;
    let in_scope = |id: &Uuid, (_, course, _): &(i32, CourseRef, ReportRule)| {
        scope.fiscal_year.is_none_or(|fy| course.fiscal_year == fy)
            && scope.course_id.is_none_or(|c| c == *id)
    };
    // A few trainees: their nominations first (narrow), then their courses. The whole
    // organisation: its courses, then each one's nominations as the walk reaches it.
    let (order, mut of_staff) = match &scope.employees {
        Some(staff) => {
            let mut by_course: HashMap<Uuid, Vec<Trainee>> = HashMap::new();
            for chunk in staff.chunks(super::IN_LIST) {
                let of_staff = Condition::all()
                    .add(nomination::Column::OrgId.eq(org_id))
                    .add(nomination::Column::EmployeeId.is_in(chunk.iter().copied()))
                    .add(filter.may_keep(after, ReportsIn::AnyCourse));
                for n in Trainee::find(conn, of_staff).await? {
                    by_course.entry(n.course_id).or_default().push(n);
                }
            }
            let order = every.in_order(|id, course| by_course.contains_key(id) && in_scope(id, course));
            (order, Some(by_course))
        }
        None => (every.in_order(in_scope), None),
    };
    // Start at the course of the line the page follows.
    let start = match after {
        None => 0,
        Some(id) => {
            let of: Option<Uuid> = nomination::Entity::find()
                .select_only()
                .column(nomination::Column::CourseId)
                .filter(nomination::Column::OrgId.eq(org_id))
                .filter(nomination::Column::Id.eq(id))
                .into_tuple()
                .one(conn)
                .await?;
            match of.and_then(|course_id| order.iter().position(|(c, _)| **c == course_id)) {
                Some(i) => i,
                None => return Ok(None),
            }
        }
    };
    // Of the courses ahead, those that may hold a line a filtered list keeps: asked a stretch of
    // courses at a time as the walk reaches them, the stretch twice as long each time. Asked of
    // every course ahead at once, a page of the overdue list read all of the organisation's
    // nominations (five years' 1,000,000 at 50,000 staff: 0.6 s a page on PostgreSQL).
    let mut may_hold =
        MayHold { filter, checked: start, stretch: MAY_HOLD_STRETCH, holding: HashSet::new(), back: None };
    // The walk, in batches of courses whose trainees are read together: a few trainees' courses
    // up to OWED_BATCH nominations (one's own reports are one batch), or courses of the whole
    // organisation, one at first and then as many as the lines still wanted need at the rate
    // the courses so far gave them ([`next_span`]; at 300 staff a course holds a few lines, and
    // a page read a course at a time cost 62 statements). Then their lines, a page's worth at a
    // time: each line reads its report.
    let mut next = start;
    let mut span = 1;
    let most = if filter.narrows() { OWED_SPAN_FILTERED } else { OWED_SPAN };
    let mut walked = 0;
    loop {
        let mut batch = ReportCourses::new();
        let mut nominations = Vec::new();
        while let Some(&(&course_id, course)) = order.get(next) {
            let may = may_hold.may(conn, org_id, &every, &order, next).await?;
            next += 1;
            if seeking.is_none() && !may {
                continue;
            }
            batch.insert(course_id, course.clone());
            match of_staff.as_mut() {
                Some(by_course) => {
                    nominations.extend(by_course.remove(&course_id).unwrap_or_default());
                    if nominations.len() >= OWED_BATCH {
                        break;
                    }
                }
                None if batch.len() >= span => break,
                None => {}
            }
        }
        if batch.is_empty() {
            break;
        }
        if of_staff.is_none() {
            let course_ids: Vec<Uuid> = batch.keys().copied().collect();
            let within = ReportsIn::Courses { org_id, course_ids: course_ids.clone() };
            nominations =
                Trainee::of_courses_where(conn, org_id, &course_ids, filter.may_keep(seeking, within))
                    .await?;
            walked += batch.len();
        }
        let (owing, staff) = owing(conn, org_id, &batch, nominations).await?;
        let mut rest = &owing[..];
        if let Some(after) = seeking.take() {
            // The line the page follows is in the first batch (its course's), or the list changed.
            match rest.iter().position(|n| n.id == after) {
                Some(p) => rest = &rest[p + 1..],
                None => return Ok(None),
            }
        }
        for chunk in rest.chunks((page.limit + 1).max(100)) {
            page.take(lines(conn, org_id, &batch, chunk, &staff, &every.last_day).await?);
            if page.full() {
                break;
            }
        }
        if page.full() {
            break;
        }
        span = next_span(span, walked, page.lines.len(), page.limit + 1 - page.lines.len(), most);
    }
    Ok(if seeking.is_none() { Some(page.lines) } else { None })
}

/// How many courses the next batch of a walk over the whole organisation reads: enough for the
/// `need` lines still wanted at the rate the `walked` courses so far gave `got`, or twice the
/// last `span` while they gave none; at most `most` ([`OWED_SPAN`], or [`OWED_SPAN_FILTERED`]
/// for a filtered list). Doubling alone took five batches (three statements each) where an
/// overdue page's lines lay a few to a course.
fn next_span(span: usize, walked: usize, got: usize, need: usize, most: usize) -> usize {
    let wanted = if got == 0 { span * 2 } else { (need * walked).div_ceil(got) };
    wanted.clamp(1, most)
}

/// Nominations of a few trainees' courses read into lines at once (their reports, employees and
/// attendance in one statement each).
const OWED_BATCH: usize = 500;

/// The most courses of the whole organisation whose trainees are read together for a page: a
/// batch can read more than the page needs (sixteen courses of 650 trainees for the last few
/// lines), so the span stays short.
const OWED_SPAN: usize = 16;

/// The most courses read together by a filtered walk: it visits only the courses that hold a
/// line it keeps ([`MayHold`]) and reads only the trainees it may keep, so a batch is bounded by
/// the lines it finds; a small organisation's overdue lines lie one or two to a course, and at
/// most sixteen courses a batch an overdue page at 300 staff took four batches (three statements
/// each).
const OWED_SPAN_FILTERED: usize = 64;

/// The courses of a list's walk that may hold a line its filter keeps, asked a stretch at a time.
struct MayHold {
    filter: OwedFilter,
    /// The walk's courses before this place have been asked of.
    checked: usize,
    /// How many courses the next question covers.
    stretch: usize,
    holding: HashSet<Uuid>,
    /// The organisation's courses with a report back with its trainee, once asked.
    back: Option<HashSet<Uuid>>,
}

/// The first stretch of courses a filtered list asks of; each next one is [`MAY_HOLD_GROWTH`]
/// times as long, up to [`super::IN_LIST`].
const MAY_HOLD_STRETCH: usize = 4;

/// How much longer each next stretch is. Each course asked of is one probe of an index (the
/// partial index of outstanding reports, or reports by state and course), so a long stretch
/// costs little; doubling took eight statements a page where a small organisation's overdue
/// lines lay one in twenty courses over five years (300 staff).
const MAY_HOLD_GROWTH: usize = 8;

impl MayHold {
    /// Whether the course at `place` in the walk `order` may hold a line the filter keeps (any
    /// may, unfiltered).
    async fn may(
        &mut self,
        conn: &impl ConnectionTrait,
        org_id: Uuid,
        owed: &OwedCourses,
        order: &[ReportCourse<'_>],
        place: usize,
    ) -> Result<bool, DbErr> {
        if !self.filter.narrows() {
            return Ok(true);
        }
        if place >= self.checked {
            let end = (place + self.stretch).min(order.len());
            let these: Vec<Uuid> = order[place..end].iter().map(|(c, _)| **c).collect();
            match self.that_may_hold(conn, org_id, owed, these.clone()).await? {
                Some(holding) => self.holding.extend(holding),
                None => self.holding.extend(these),
            }
            self.checked = end;
            self.stretch = (self.stretch * MAY_HOLD_GROWTH).min(super::IN_LIST);
        }
        Ok(self.holding.contains(order[place].0))
    }

    /// Of `ahead` (courses of `owed`), those that may hold a line the filter keeps, so that
    /// a filtered list visits only them; `None`: any may. A few grouped reads instead of a
    /// course's lines each: an overdue list that read every course's lines took 10 s at 50,000
    /// staff.
    async fn that_may_hold(
        &mut self,
        conn: &impl ConnectionTrait,
        org_id: Uuid,
        owed: &OwedCourses,
        mut ahead: Vec<Uuid>,
    ) -> Result<Option<HashSet<Uuid>>, DbErr> {
        if let Some(state) = self.filter.state {
            // A line in a state has a report in it.
            let holding = super::in_chunks(&ahead, |chunk| async move {
                training_report::Entity::find()
                    .select_only()
                    .column(training_report::Column::CourseId)
                    .distinct()
                    .filter(training_report::Column::OrgId.eq(org_id))
                    .filter(training_report::Column::State.eq(state.as_str()))
                    .filter(training_report::Column::CourseId.is_in(chunk.iter().copied()))
                    .into_tuple::<Uuid>()
                    .all(conn)
                    .await
            })
            .await?;
            return Ok(Some(holding));
        }
        let Some(as_of) = self.filter.overdue_on else { return Ok(None) };
        // An overdue line's report was due before the day, and is outstanding.
        ahead.retain(|c| {
            owed.courses
                .get(c)
                .is_some_and(|(_, _, rule)| due_on(rule, owed.last_day.get(c)).is_some_and(|d| d < as_of))
        });
        if ahead.is_empty() {
            return Ok(Some(HashSet::new()));
        }
        // Asked once a page: the reports back with their trainees are the organisation's few.
        if self.back.is_none() {
            self.back = Some(with_reports_back(conn, org_id).await?);
        }
        let back = self.back.as_ref().expect("the reports back, asked just now");
        Ok(Some(outstanding_of(conn, org_id, &ahead, back).await?))
    }
}

/// Of `course_ids`, those with a report outstanding: a trainee attended (completed, or present
/// once: the kept count) and has not handed a report in. Courses without are skipped by the
/// overdue list and the reminders: at 50,000 staff most reports are received long ago.
///
/// Never submitted is read from the day of first submission each nomination keeps (empty with no
/// report, or a draft); back with the trainee after a submission (returned) from the reports in
/// those states, found by their index. Testing each attended nomination for a handed-in report
/// instead took 2.2 s at 50,000 staff on SQLite, this 0.4 s.
pub async fn with_reports_outstanding(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_ids: &[Uuid],
) -> Result<HashSet<Uuid>, DbErr> {
    let back = with_reports_back(conn, org_id).await?;
    outstanding_of(conn, org_id, course_ids, &back).await
}

/// Of `course_ids`, those with a report outstanding, given the organisation's courses with a
/// report back with its trainee ([`with_reports_back`]).
async fn outstanding_of(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_ids: &[Uuid],
    back: &HashSet<Uuid>,
) -> Result<HashSet<Uuid>, DbErr> {
    let mut out: HashSet<Uuid> = super::in_chunks(course_ids, |chunk| async move {
        attended_never_submitted(org_id, chunk).into_tuple::<Uuid>().all(conn).await
    })
    .await?;
    out.extend(course_ids.iter().filter(|c| back.contains(c)));
    Ok(out)
}

/// The organisation's courses with a submitted report back with its trainee (returned): few.
async fn with_reports_back(conn: &impl ConnectionTrait, org_id: Uuid) -> Result<HashSet<Uuid>, DbErr> {
    // Not DISTINCT: for it SQLite walked the reports in course order and read every one (1.7 s
    // at 50,000 staff); reports with the trainee are few.
    let back: Vec<Uuid> = training_report::Entity::find()
        .select_only()
        .column(training_report::Column::CourseId)
        .filter(training_report::Column::OrgId.eq(org_id))
        .filter(training_report::Column::State.is_in(states_with_trainee()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(back.into_iter().collect())
}

/// Of `course_ids`, the courses (their ids) one of whose trainees attended and never submitted a
/// report. Whether a course has one such trainee: the database stops at the first, where the
/// course's distinct ids of all of them read every one (at 50,000 staff a page of the overdue
/// list spent most of its time there).
fn attended_never_submitted(org_id: Uuid, course_ids: Vec<Uuid>) -> sea_orm::Select<course::Entity> {
    let nominated = |c: nomination::Column| Expr::col((nomination::Entity, c));
    let outstanding = sea_orm::sea_query::Query::select()
        .expr(Expr::val(1))
        .from(nomination::Entity)
        .and_where(nominated(nomination::Column::OrgId).equals((course::Entity, course::Column::OrgId)))
        .and_where(nominated(nomination::Column::CourseId).equals((course::Entity, course::Column::Id)))
        // As the partial index of such nominations has it, literals and all: then a course
        // without any is one probe of that index, not a read of its every trainee.
        .and_where(Expr::cust(kenshu_migrations::REPORT_OUTSTANDING))
        .to_owned();
    course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .filter(course::Column::OrgId.eq(org_id))
        .filter(course::Column::Id.is_in(course_ids))
        .filter(Expr::exists(outstanding))
}

/// A page being filled from the list's lines in order.
struct PageOfLines {
    filter: OwedFilter,
    limit: usize,
    lines: Vec<ReportLine>,
}

impl PageOfLines {
    fn take(&mut self, lines: Vec<ReportLine>) {
        for line in lines {
            if self.full() {
                break;
            }
            if self.filter.keeps(&line) {
                self.lines.push(line);
            }
        }
    }

    fn full(&self) -> bool {
        self.lines.len() > self.limit
    }
}

/// Every course of the organisation that requires a report (every year), kept in memory until
/// the catalogue changes: a page of the reports owed puts them in the list's order, and reading
/// and decoding the 1,525 courses of five years was most of a page's time at 300 staff.
async fn report_courses_kept(db: &crate::Db, org_id: Uuid) -> Result<std::sync::Arc<OwedCourses>, DbErr> {
    let read = async |&org_id: &Uuid| {
        let courses = courses_owing(db.conn(), org_id, &ReportScope::default()).await?;
        let ids: Vec<Uuid> = courses.keys().copied().collect();
        let last_day = last_days(db.conn(), org_id, &ids).await?;
        let order = in_list_order(&courses).into_iter().map(|(id, _)| *id).collect();
        Ok(OwedCourses { courses, order, last_day })
    };
    db.kept().report_courses.get_or_read_value(org_id, read).await
}

/// The organisation's courses that require a report, with the Japan date of each one's last
/// session (sessions are catalogue changes too): a page's walk decides which courses are overdue
/// and when each line was due without asking the sessions again (a page of the overdue list
/// asked them once per stretch and once per batch of courses, 4–9 ms each at 50,000 staff).
#[derive(Debug, Clone)]
pub struct OwedCourses {
    courses: ReportCourses,
    /// The courses' ids in the list's order, sorted once rather than a page at a time.
    order: Vec<Uuid>,
    last_day: HashMap<Uuid, NaiveDate>,
}

impl OwedCourses {
    /// The courses `keep` keeps, in the list's order.
    fn in_order(&self, keep: impl Fn(&Uuid, &(i32, CourseRef, ReportRule)) -> bool) -> Vec<ReportCourse<'_>> {
        let courses = self.order.iter().filter_map(|id| self.courses.get_key_value(id));
        courses.filter(|(id, course)| keep(id, course)).collect()
    }
}

/// The courses of `scope` that require a report, whose lines are then read a course at a time
/// (a year's lines at 50,000 staff are about 180,000).
pub async fn courses_owing(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    scope: &ReportScope,
) -> Result<ReportCourses, DbErr> {
    courses_in_scope(conn, org_id, scope, course::Entity::find()).await
}

/// `courses` in the order of the lists of reports: the latest year first, then the plan's order.
pub fn in_list_order(courses: &ReportCourses) -> Vec<(&Uuid, &(i32, CourseRef, ReportRule))> {
    let mut order: Vec<_> = courses.iter().collect();
    order.sort_by(|a, b| in_list_order_cmp(*a, *b));
    order
}

type ReportCourse<'a> = (&'a Uuid, &'a (i32, CourseRef, ReportRule));

fn in_list_order_cmp((ia, (ra, a, _)): ReportCourse, (ib, (rb, b, _)): ReportCourse) -> std::cmp::Ordering {
    b.fiscal_year.cmp(&a.fiscal_year).then(ra.cmp(rb)).then(a.number.cmp(&b.number)).then(ia.cmp(ib))
}

/// The report lines of one course of [`courses_owing`] whose reports are not handed in (not
/// started, a draft, or returned), in employee-number order: what the reminders remind of. Of a
/// course of 650 trainees, usually a few.
pub async fn not_handed_in_of_course(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    course: &(i32, CourseRef, ReportRule),
) -> Result<Vec<ReportLine>, DbErr> {
    let one: ReportCourses = HashMap::from([(course_id, course.clone())]);
    let within = ReportsIn::Courses { org_id, course_ids: vec![course_id] };
    let nominations = Trainee::of_courses_where(conn, org_id, &[course_id], not_handed_in(within)).await?;
    owed_lines(conn, org_id, &one, nominations).await
}

/// The courses of `scope` (of those `q` selects) that require a report.
async fn courses_in_scope(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    scope: &ReportScope,
    q: sea_orm::Select<course::Entity>,
) -> Result<ReportCourses, DbErr> {
    let mut q = q.filter(course::Column::OrgId.eq(org_id));
    if let Some(fy) = scope.fiscal_year {
        q = q.filter(course::Column::FiscalYear.eq(fy));
    }
    if let Some(id) = scope.course_id {
        q = q.filter(course::Column::Id.eq(id));
    }
    // Narrow: a list reads every year's courses on each page (1,525 at five years), and decoding
    // whole courses (their rules, timing, aims) was most of a page's time.
    let rows: Vec<ReportCourseRow> =
        q.select_only().columns(REPORT_COURSE_COLUMNS).into_tuple().all(conn).await?;
    requiring_report(rows)
}

/// What the report lists read of a course: id, year, category, plan rank, number, title, and its
/// report rule (JSON).
pub(crate) type ReportCourseRow = (Uuid, i32, String, i32, i32, String, String);

/// The columns of a [`ReportCourseRow`], in its order.
pub(crate) const REPORT_COURSE_COLUMNS: [course::Column; 7] = [
    course::Column::Id,
    course::Column::FiscalYear,
    course::Column::Category,
    course::Column::CategoryRank,
    course::Column::Number,
    course::Column::Title,
    course::Column::Report,
];

/// The report lines of those of `nominations` that attended a course of `courses`.
async fn owed_lines(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    courses: &ReportCourses,
    nominations: Vec<Trainee>,
) -> Result<Vec<ReportLine>, DbErr> {
    let (owing, staff) = owing(conn, org_id, courses, nominations).await?;
    let with_nominations: Vec<Uuid> =
        owing.iter().map(|n| n.course_id).collect::<BTreeSet<_>>().into_iter().collect();
    let last_day = last_days(conn, org_id, &with_nominations).await?;
    lines(conn, org_id, courses, &owing, &staff, &last_day).await
}

/// Of `nominations`, those that attended a course of `courses` and so owe a report, in the list's
/// order, with their staff.
async fn owing(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    courses: &ReportCourses,
    mut nominations: Vec<Trainee>,
) -> Result<(Vec<Trainee>, HashMap<Uuid, Placed>), DbErr> {
    nominations.retain(|n| courses.contains_key(&n.course_id) && n.attended());
    let staff_ids: Vec<Uuid> = nominations.iter().map(|n| n.employee_id).collect();
    let staff = employees_by_id(conn, org_id, &staff_ids).await?;
    nominations.retain(|n| staff.contains_key(&n.employee_id));
    let no = |n: &Trainee| &staff[&n.employee_id].employee.employee_no;
    nominations.sort_by(|a, b| {
        in_list_order_cmp((&a.course_id, &courses[&a.course_id]), (&b.course_id, &courses[&b.course_id]))
            .then_with(|| no(a).cmp(no(b)))
    });
    Ok((nominations, staff))
}

/// The courses that require a report, with what `lines` needs of each: plan rank, reference, rule.
pub type ReportCourses = HashMap<Uuid, (i32, CourseRef, ReportRule)>;

/// Of `courses`, those that require a report.
pub(crate) fn requiring_report(
    courses: impl IntoIterator<Item = ReportCourseRow>,
) -> Result<ReportCourses, DbErr> {
    let mut out = HashMap::new();
    for (id, fiscal_year, category, rank, number, title, report) in courses {
        let rule: ReportRule = serde_json::from_str(&report)
            .map_err(|e| DbErr::Custom(format!("course.report holds invalid JSON: {e}")))?;
        if rule.required() {
            out.insert(id, (rank, CourseRef { id, fiscal_year, category, number, title }, rule));
        }
    }
    Ok(out)
}

/// The report lines of `owing` (nominations that attended a course of `courses`), with the
/// reports written so far and their due dates, in course then employee-number order.
pub(crate) async fn lines(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    courses: &ReportCourses,
    owing: &[Trainee],
    staff: &HashMap<Uuid, Placed>,
    last_day: &HashMap<Uuid, NaiveDate>,
) -> Result<Vec<ReportLine>, DbErr> {
    let ids: Vec<Uuid> = owing.iter().map(|n| n.id).collect();
    type StandingRow = (Uuid, Uuid, String, Option<DateTime<Utc>>);
    let rows: Vec<StandingRow> = super::in_chunks(&ids, |chunk| async move {
        training_report::Entity::find()
            .select_only()
            .columns([
                training_report::Column::NominationId,
                training_report::Column::Id,
                training_report::Column::State,
                training_report::Column::FirstSubmittedAt,
            ])
            .filter(training_report::Column::OrgId.eq(org_id))
            .filter(training_report::Column::NominationId.is_in(chunk))
            .into_tuple::<StandingRow>()
            .all(conn)
            .await
    })
    .await?;
    let mut reports = HashMap::with_capacity(rows.len());
    for (nomination_id, id, state, first_submitted_at) in rows {
        let state = stored("training_report.state", &state, ReportState::parse)?;
        reports.insert(nomination_id, ReportStanding { id, state, first_submitted_at });
    }
    let mut out: Vec<(i32, ReportLine)> = owing
        .iter()
        .filter_map(|n| {
            let (rank, course, rule) = courses.get(&n.course_id)?;
            let placed = staff.get(&n.employee_id)?;
            let line = ReportLine {
                nomination_id: n.id,
                course: course.clone(),
                employee: placed.employee.clone(),
                section_id: placed.section_id,
                on_roster: placed.active,
                due_on: due_on(rule, last_day.get(&n.course_id)),
                report: reports.remove(&n.id),
            };
            Some((*rank, line))
        })
        .collect();
    out.sort_by(|(ra, a), (rb, b)| {
        b.course
            .fiscal_year
            .cmp(&a.course.fiscal_year)
            .then(ra.cmp(rb))
            .then(a.course.number.cmp(&b.course.number))
            .then(a.employee.employee_no.cmp(&b.employee.employee_no))
    });
    Ok(out.into_iter().map(|(_, l)| l).collect())
}

/// The due day of each of `courses`, as the owed-reports list computes it: `None` for a course
/// with no session yet.
pub(crate) async fn due_days(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    courses: &ReportCourses,
) -> Result<HashMap<Uuid, Option<NaiveDate>>, DbErr> {
    let ids: Vec<Uuid> = courses.keys().copied().collect();
    let last = last_days(conn, org_id, &ids).await?;
    Ok(courses.iter().map(|(id, (_, _, rule))| (*id, due_on(rule, last.get(id)))).collect())
}

/// The day a course's reports are due by `rule`, given its last session's day (none without a
/// session).
fn due_on(rule: &ReportRule, last_day: Option<&NaiveDate>) -> Option<NaiveDate> {
    last_day.and_then(|d| rule.due(*d))
}

/// The report of one nomination, if written.
pub async fn for_nomination(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    nomination_id: Uuid,
) -> Result<Option<training_report::Model>, DbErr> {
    training_report::Entity::find()
        .filter(training_report::Column::OrgId.eq(org_id))
        .filter(training_report::Column::NominationId.eq(nomination_id))
        .one(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, QueryTrait, Statement};

    /// The question of courses with a report outstanding repeats the condition of the partial
    /// index of such nominations as the index has it: SQLite refuses a query `INDEXED BY` an index
    /// it cannot use, so this fails once the two part (a term worded otherwise or left out) and
    /// the question would read every trainee again.
    #[tokio::test]
    async fn the_question_of_reports_outstanding_can_use_their_partial_index() {
        let db = crate::db::migrated_in_memory().await;
        let asked = attended_never_submitted(Uuid::nil(), vec![Uuid::nil()]).build(DbBackend::Sqlite);
        let forced = asked.sql.replace(
            r#"FROM "nomination""#,
            r#"FROM "nomination" INDEXED BY "ix_nomination_report_outstanding""#,
        );
        assert_ne!(forced, asked.sql);
        let explain = Statement { sql: format!("EXPLAIN QUERY PLAN {forced}"), ..asked };
        let plan = db.conn().query_all(explain).await.expect("the partial index answers the question");
        let detail: Vec<String> = plan.iter().map(|r| r.try_get::<String>("", "detail").unwrap()).collect();
        assert!(detail.iter().any(|d| d.contains("ix_nomination_report_outstanding")), "{detail:?}");
    }

    #[test]
    fn a_walk_reads_as_many_courses_as_the_lines_still_wanted_need() {
        assert_eq!(next_span(1, 1, 0, 51, OWED_SPAN), 2, "nothing yet: twice as many");
        assert_eq!(next_span(8, 15, 0, 51, OWED_SPAN), OWED_SPAN, "at most the span's bound");
        assert_eq!(next_span(1, 1, 3, 48, OWED_SPAN), OWED_SPAN, "three a course: sixteen for 48");
        assert_eq!(next_span(1, 1, 1, 50, OWED_SPAN_FILTERED), 50, "filtered: one a course, fifty");
        assert_eq!(next_span(1, 1, 1, 90, OWED_SPAN_FILTERED), OWED_SPAN_FILTERED, "filtered: bounded");
        assert_eq!(next_span(2, 3, 30, 21, OWED_SPAN), 3, "ten a course: three for 21 (rounded up)");
        assert_eq!(next_span(1, 1, 650, 1, OWED_SPAN), 1, "a large course: one");
    }
}
