//! 研修実績: the facts of every nomination of a fiscal year that the results count.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::TryStreamExt;
use kenshu_domain::absence::NoticeState;
use kenshu_domain::attendance::AttendanceStatus;
use kenshu_domain::audience::Route;
use kenshu_domain::calendar::{tokyo_date, FiscalYear};
use kenshu_domain::catalogue::CourseStatus;
use kenshu_domain::report::submitted_late;
use kenshu_domain::results::{ReportFact, TraineeFacts};
use kenshu_domain::selection::NominationState;
use sea_orm::sea_query::{Asterisk, Expr, JoinType, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QuerySelect, StreamTrait,
};
use uuid::Uuid;

use super::report;
use super::selection::CourseRef;
use crate::entities::{absence_notice, attendance, course, employee, nomination, stored};

/// A nomination of the year as the results read it: id, course, route, state, and its trainee's
/// grade and section.
type NominationRow = (Uuid, Uuid, Route, NominationState, Arc<str>, Uuid);

/// A connection the year's reads can stream from: a year at 50,000 staff is some 200,000
/// nominations and more attendance counts, folded row by row rather than held as rows first.
pub trait Streaming: ConnectionTrait + StreamTrait + Send + Sync {}
impl<C: ConnectionTrait + StreamTrait + Send + Sync> Streaming for C {}

/// The few grade names of an organisation, shared by the many nominations that carry them.
#[derive(Default)]
struct Grades(HashSet<Arc<str>>);

impl Grades {
    fn of(&mut self, grade: String) -> Arc<str> {
        if let Some(g) = self.0.get(grade.as_str()) {
            return g.clone();
        }
        let g: Arc<str> = grade.into();
        self.0.insert(g.clone());
        g
    }
}

fn nomination_row(
    (id, course_id, route, state): (Uuid, Uuid, String, String),
) -> Result<(Uuid, Uuid, Route, NominationState), DbErr> {
    let route = stored("nomination.route", &route, Route::parse)?;
    let state = stored("nomination.state", &state, NominationState::parse)?;
    Ok((id, course_id, route, state))
}

/// The nominations on `courses` (a subquery of course ids) with their trainees' grade and
/// section. PostgreSQL joins them (a hash join); SQLite joins row by row (0.76 s for 122,158
/// nominations over 50,000 staff), so there the trainees are a second statement, matched here
/// (0.11 s).
async fn with_trainees(
    conn: &impl Streaming,
    org_id: Uuid,
    courses: SelectStatement,
) -> Result<Vec<NominationRow>, DbErr> {
    let nominations = || {
        nomination::Entity::find()
            .select_only()
            .column(nomination::Column::Id)
            .column(nomination::Column::CourseId)
            .column(nomination::Column::Route)
            .column(nomination::Column::State)
            .filter(nomination::Column::OrgId.eq(org_id))
            .filter(nomination::Column::CourseId.in_subquery(courses.clone()))
    };
    let mut grades = Grades::default();
    let mut out = Vec::new();
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        let trainee = nomination::Entity::belongs_to(employee::Entity)
            .from((nomination::Column::OrgId, nomination::Column::EmployeeId))
            .to((employee::Column::OrgId, employee::Column::Id))
            .into();
        let mut rows = nominations()
            .expr_as(Expr::col((employee::Entity, employee::Column::Grade)), "grade")
            .expr_as(Expr::col((employee::Entity, employee::Column::SectionId)), "section_id")
            .join(JoinType::InnerJoin, trainee)
            .into_tuple::<(Uuid, Uuid, String, String, String, Uuid)>()
            .stream(conn)
            .await?;
        while let Some((id, course_id, route, state, grade, section_id)) = rows.try_next().await? {
            let (id, course_id, route, state) = nomination_row((id, course_id, route, state))?;
            out.push((id, course_id, route, state, grades.of(grade), section_id));
        }
        return Ok(out);
    }
    let nominated = Query::select()
        .column(nomination::Column::EmployeeId)
        .from(nomination::Entity)
        .and_where(nomination::Column::OrgId.eq(org_id))
        .and_where(nomination::Column::CourseId.in_subquery(courses.clone()))
        .to_owned();
    let mut trainees: HashMap<Uuid, (Arc<str>, Uuid)> = HashMap::new();
    let mut rows = employee::Entity::find()
        .select_only()
        .column(employee::Column::Id)
        .column(employee::Column::Grade)
        .column(employee::Column::SectionId)
        .filter(employee::Column::OrgId.eq(org_id))
        .filter(employee::Column::Id.in_subquery(nominated))
        .into_tuple::<(Uuid, String, Uuid)>()
        .stream(conn)
        .await?;
    while let Some((id, grade, section_id)) = rows.try_next().await? {
        trainees.insert(id, (grades.of(grade), section_id));
    }
    drop(rows);
    let mut rows = nominations()
        .column(nomination::Column::EmployeeId)
        .into_tuple::<(Uuid, Uuid, String, String, Uuid)>()
        .stream(conn)
        .await?;
    while let Some((id, course_id, route, state, employee_id)) = rows.try_next().await? {
        // Every nomination's trainee exists (a foreign key), as the join would require.
        if let Some((grade, section_id)) = trainees.get(&employee_id) {
            let (id, course_id, route, state) = nomination_row((id, course_id, route, state))?;
            out.push((id, course_id, route, state, grade.clone(), *section_id));
        }
    }
    Ok(out)
}

/// A course of the year as the results list it, in plan order.
#[derive(Debug, Clone)]
pub struct ResultCourse {
    pub course: CourseRef,
    pub status: CourseStatus,
}

/// One nomination's facts, with the trainee's grade and section (as on the roster today).
#[derive(Debug, Clone)]
pub struct NominationFacts {
    pub course_id: Uuid,
    /// The trainee's grade on the roster today (shared: a year has a few dozen).
    pub grade: Arc<str>,
    /// The trainee's section on the roster today.
    pub section_id: Option<Uuid>,
    pub facts: TraineeFacts,
}

/// The year's courses (drafts only when they have nominations) and the facts of every
/// nomination on them. Year-wide, so each part is one narrow statement that the database
/// aggregates where it can (attendance is counted there); nothing is read per nomination.
pub async fn facts(
    conn: &impl Streaming,
    org_id: Uuid,
    fy: FiscalYear,
) -> Result<(Vec<ResultCourse>, Vec<NominationFacts>), DbErr> {
    let mut courses = course::Entity::find()
        .filter(course::Column::OrgId.eq(org_id))
        .filter(course::Column::FiscalYear.eq(fy.year()))
        .all(conn)
        .await?;
    courses.sort_by_key(|c| (c.category_rank, c.number));
    let of_year = || {
        Query::select()
            .column(course::Column::Id)
            .from(course::Entity)
            .and_where(course::Column::OrgId.eq(org_id))
            .and_where(course::Column::FiscalYear.eq(fy.year()))
            .to_owned()
    };
    let nominations = with_trainees(conn, org_id, of_year()).await?;
    // Sessions by status per nomination, counted by the database. Grouped in the order of the
    // tally index (course, nomination, status) and counting rows rather than ids, so the count
    // reads the index alone.
    let mut by_status = attendance::Entity::find()
        .select_only()
        .column(attendance::Column::NominationId)
        .column(attendance::Column::Status)
        .column_as(Expr::col(Asterisk).count(), "sessions")
        .filter(attendance::Column::OrgId.eq(org_id))
        .filter(attendance::Column::CourseId.in_subquery(of_year()))
        .group_by(attendance::Column::CourseId)
        .group_by(attendance::Column::NominationId)
        .group_by(attendance::Column::Status)
        .into_tuple::<(Uuid, String, i64)>()
        .stream(conn)
        .await?;
    // (attended, excused absences, unexcused absences) per nomination.
    let mut sessions: HashMap<Uuid, (u32, u32, u32)> = HashMap::new();
    let mut present = HashSet::new();
    while let Some((nomination_id, status, n)) = by_status.try_next().await? {
        let counts = sessions.entry(nomination_id).or_default();
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        match stored("attendance.status", &status, AttendanceStatus::parse)? {
            AttendanceStatus::Absent => counts.2 += n,
            _ => counts.0 += n,
        }
        if report::is_present(&status) {
            present.insert(nomination_id);
        }
    }
    drop(by_status);
    // Of those, the absences a received absence notice covers. A semi-join (EXISTS) keeps the
    // year's absences as the only outer rows, each looked up once by its session; as an inner
    // join, SQLite 3.46 at 50,000 staff with five years sometimes started from the organisation's
    // every notice instead and took a minute (0.2 s or less as planned here).
    let received = Query::select()
        .expr(Expr::val(1))
        .from(absence_notice::Entity)
        .and_where(
            Expr::col((absence_notice::Entity, absence_notice::Column::OrgId))
                .equals((attendance::Entity, attendance::Column::OrgId)),
        )
        .and_where(
            Expr::col((absence_notice::Entity, absence_notice::Column::SessionId))
                .equals((attendance::Entity, attendance::Column::SessionId)),
        )
        .and_where(
            Expr::col((absence_notice::Entity, absence_notice::Column::NominationId))
                .equals((attendance::Entity, attendance::Column::NominationId)),
        )
        .and_where(
            Expr::col((absence_notice::Entity, absence_notice::Column::State))
                .eq(NoticeState::Received.as_str()),
        )
        .to_owned();
    // An attendance record is one (session, nomination), so counting rows counts sessions.
    let mut excused = attendance::Entity::find()
        .select_only()
        .column(attendance::Column::NominationId)
        .column_as(Expr::col(Asterisk).count(), "excused")
        .filter(attendance::Column::OrgId.eq(org_id))
        .filter(attendance::Column::CourseId.in_subquery(of_year()))
        .filter(attendance::Column::Status.eq(AttendanceStatus::Absent.as_str()))
        .filter(Expr::exists(received))
        // A nomination is on one course, so this is grouping by nomination; in the tally index's
        // order it keeps SQLite on that index. Grouped by nomination alone, SQLite at 50,000 staff
        // with five years walked the organisation's every record by nomination instead (2.9 s
        // against 0.13 s in the sqlite3 shell).
        .group_by(attendance::Column::CourseId)
        .group_by(attendance::Column::NominationId)
        .into_tuple::<(Uuid, i64)>()
        .stream(conn)
        .await?;
    while let Some((nomination_id, n)) = excused.try_next().await? {
        let counts = sessions.entry(nomination_id).or_default();
        let n = u32::try_from(n).unwrap_or(u32::MAX).min(counts.2);
        counts.1 += n;
        counts.2 -= n;
    }
    drop(excused);
    // The report facts: the same due days and reports the owed-reports list shows.
    let attended = report::attended_given(nominations.iter().map(|n| (n.0, n.3)), &present);
    let requiring = report::requiring_report(courses.iter().cloned())?;
    let owing: Vec<(Uuid, Uuid)> = nominations
        .iter()
        .filter(|n| requiring.contains_key(&n.1) && attended.contains(&n.0))
        .map(|n| (n.0, n.1))
        .collect();
    let reports: HashMap<Uuid, ReportFact> = report::due_and_submitted(conn, org_id, &requiring, &owing)
        .await?
        .into_iter()
        .map(|(nomination_id, due_on, first)| {
            let fact = match (first, due_on) {
                (None, _) => ReportFact::Outstanding,
                (Some(at), Some(due)) if submitted_late(due, tokyo_date(at)) => ReportFact::Late,
                (Some(_), _) => ReportFact::OnTime,
            };
            (nomination_id, fact)
        })
        .collect();
    let with_nominations: HashSet<Uuid> = nominations.iter().map(|n| n.1).collect();
    let facts = nominations
        .into_iter()
        .map(|(id, course_id, route, state, grade, section_id)| {
            let (attended, excused, unexcused) = sessions.get(&id).copied().unwrap_or_default();
            NominationFacts {
                course_id,
                grade,
                section_id: Some(section_id),
                facts: TraineeFacts {
                    route,
                    state,
                    sessions_attended: attended,
                    absences_excused: excused,
                    absences_unexcused: unexcused,
                    report: reports.get(&id).copied().unwrap_or(ReportFact::NotOwed),
                },
            }
        })
        .collect();
    let courses = courses
        .into_iter()
        .filter_map(|c| {
            let status = match c.status() {
                Ok(s) => s,
                Err(e) => return Some(Err(e)),
            };
            (status != CourseStatus::Draft || with_nominations.contains(&c.id)).then_some(Ok(ResultCourse {
                course: CourseRef {
                    id: c.id,
                    fiscal_year: c.fiscal_year,
                    category: c.category,
                    number: c.number,
                    title: c.title,
                },
                status,
            }))
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok((courses, facts))
}
