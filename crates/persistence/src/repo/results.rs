//! 研修実績: the facts of every nomination of a fiscal year that the results count.

use std::collections::HashSet;

use kenshu_domain::audience::Route;
use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::catalogue::CourseStatus;
use kenshu_domain::results::{Alike, ReportStanding};
use kenshu_domain::selection::NominationState;
use sea_orm::sea_query::{Alias, Asterisk, Condition, Expr, JoinType, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryResult};
use uuid::Uuid;

use super::report;
use super::selection::CourseRef;
use super::tally::Kept;
use crate::entities::{course, employee, nomination, stored};

/// A course of the year as the results list it, in plan order.
#[derive(Debug, Clone)]
pub struct ResultCourse {
    pub course: CourseRef,
    pub status: CourseStatus,
}

/// Nominations alike in what the results count, on one course.
#[derive(Debug, Clone)]
pub struct OnCourse {
    pub course_id: Uuid,
    pub alike: Alike,
}

/// Nominations alike in what the results count, of trainees of one grade and section (as on
/// the roster today).
#[derive(Debug, Clone)]
pub struct OfStaff {
    pub grade: String,
    pub section_id: Uuid,
    pub alike: Alike,
}

/// A fiscal year's results as read: its courses (drafts only when they have nominations), and
/// its nominations grouped by course and by the trainees' grade and section.
#[derive(Debug, Clone, Default)]
pub struct YearFacts {
    pub courses: Vec<ResultCourse>,
    pub by_course: Vec<OnCourse>,
    pub by_staff: Vec<OfStaff>,
}

/// What every grouping groups by after its own key: the nominations' route, state, whether they
/// were present once and their report's standing ([`alike_columns`]).
const ALIKE_BY: usize = 4;

/// The year's results, read from the counts kept on each nomination ([`super::tally`]): two
/// grouped reads of the year's nominations, whose rows are a few per course, grade and section
/// however many staff the organisation has.
pub async fn facts(conn: &impl ConnectionTrait, org_id: Uuid, fy: FiscalYear) -> Result<YearFacts, DbErr> {
    let mut models = course::Entity::find()
        .filter(course::Column::OrgId.eq(org_id))
        .filter(course::Column::FiscalYear.eq(fy.year()))
        .all(conn)
        .await?;
    models.sort_by_key(|c| (c.category_rank, c.number));
    let due = report::due_days(conn, org_id, &report::requiring_report(models.iter().cloned())?).await?;
    let of_year = Query::select()
        .column(course::Column::Id)
        .from(course::Entity)
        .and_where(course::Column::OrgId.eq(org_id))
        .and_where(course::Column::FiscalYear.eq(fy.year()))
        .to_owned();
    let grouped = |key: &[SimpleExpr]| {
        let mut q = Query::select();
        q.exprs(key.iter().cloned())
            .exprs(alike_columns(!due.is_empty()))
            .from(nomination::Entity)
            .and_where(nomination::Column::OrgId.eq(org_id))
            .and_where(nomination::Column::CourseId.in_subquery(of_year.clone()))
            // By position: the report's standing compares with bound values, which PostgreSQL
            // would not take as the same expression written again.
            .add_group_by((1..=key.len() + ALIKE_BY).map(|i| Expr::cust(i.to_string())));
        if !due.is_empty() {
            // The due day of each course that requires a report, as a list of values joined in.
            let days = Query::select()
                .column(Asterisk)
                .from_values(due.iter().map(|(id, day)| (*id, *day)), Alias::new("d"))
                .to_owned();
            q.join_subquery(
                JoinType::LeftJoin,
                days,
                Alias::new("due"),
                Expr::col((Alias::new("due"), Alias::new("column1")))
                    .equals((nomination::Entity, nomination::Column::CourseId)),
            );
        }
        q
    };
    let backend = conn.get_database_backend();
    let mut by_course = Vec::new();
    let q = grouped(&[Expr::col((nomination::Entity, nomination::Column::CourseId)).into()]);
    for row in conn.query_all(backend.build(&q)).await? {
        by_course.push(OnCourse { course_id: row.try_get_by_index(0)?, alike: alike(&row, 1)? });
    }
    let mut q = grouped(&[
        Expr::col((employee::Entity, employee::Column::Grade)).into(),
        Expr::col((employee::Entity, employee::Column::SectionId)).into(),
    ]);
    q.inner_join(
        employee::Entity,
        Condition::all()
            .add(
                Expr::col((employee::Entity, employee::Column::OrgId))
                    .equals((nomination::Entity, nomination::Column::OrgId)),
            )
            .add(
                Expr::col((employee::Entity, employee::Column::Id))
                    .equals((nomination::Entity, nomination::Column::EmployeeId)),
            ),
    );
    let mut by_staff = Vec::new();
    for row in conn.query_all(backend.build(&q)).await? {
        by_staff.push(OfStaff {
            grade: row.try_get_by_index(0)?,
            section_id: row.try_get_by_index(1)?,
            alike: alike(&row, 2)?,
        });
    }
    let with_nominations: HashSet<Uuid> = by_course.iter().map(|g| g.course_id).collect();
    let mut courses = Vec::new();
    for c in models {
        let status = c.status()?;
        if status == CourseStatus::Draft && !with_nominations.contains(&c.id) {
            continue;
        }
        courses.push(ResultCourse {
            course: CourseRef {
                id: c.id,
                fiscal_year: c.fiscal_year,
                category: c.category,
                number: c.number,
                title: c.title,
            },
            status,
        });
    }
    Ok(YearFacts { courses, by_course, by_staff })
}

/// The [`ALIKE_BY`] columns grouped by, then how many nominations each group has and their
/// absences. The report's standing is worked out only where some course requires a report (the
/// due days are then joined in as `due`).
fn alike_columns(reports: bool) -> Vec<SimpleExpr> {
    let col = |c| Expr::col((nomination::Entity, c));
    let kept = |c| Expr::col((nomination::Entity, c));
    let standing: SimpleExpr = if reports {
        let submitted = || kept(Kept::ReportFirstSubmittedOn);
        Expr::case(
            Expr::col((Alias::new("due"), Alias::new("column1"))).is_null(),
            Standing::NotRequired as i32,
        )
        .case(submitted().is_null(), Standing::NotSubmitted as i32)
        .case(submitted().gt(Expr::col((Alias::new("due"), Alias::new("column2")))), Standing::Late as i32)
        .finally(Standing::OnTime as i32)
        .into()
    } else {
        Expr::cust((Standing::NotRequired as i32).to_string())
    };
    vec![
        col(nomination::Column::Route).into(),
        col(nomination::Column::State).into(),
        Expr::case(kept(Kept::SessionsAttended).gt(0), 1).finally(0).into(),
        standing,
        Expr::col(Asterisk).count(),
        kept(Kept::AbsencesExcused).sum(),
        kept(Kept::AbsencesUnexcused).sum(),
    ]
}

/// How the report's standing is written in a grouped row.
#[derive(Clone, Copy)]
enum Standing {
    NotRequired = 0,
    NotSubmitted = 1,
    OnTime = 2,
    Late = 3,
}

/// The [`Alike`] in a grouped row's columns from `at` on.
fn alike(row: &QueryResult, at: usize) -> Result<Alike, DbErr> {
    let route: String = row.try_get_by_index(at)?;
    let state: String = row.try_get_by_index(at + 1)?;
    let present: i32 = row.try_get_by_index(at + 2)?;
    let standing: i32 = row.try_get_by_index(at + 3)?;
    let count = |i: usize| -> Result<u32, DbErr> {
        let n: Option<i64> = row.try_get_by_index(at + i)?;
        Ok(u32::try_from(n.unwrap_or(0)).unwrap_or(u32::MAX))
    };
    let report = match standing {
        s if s == Standing::NotSubmitted as i32 => ReportStanding::NotSubmitted,
        s if s == Standing::OnTime as i32 => ReportStanding::OnTime,
        s if s == Standing::Late as i32 => ReportStanding::Late,
        _ => ReportStanding::NotRequired,
    };
    Ok(Alike {
        route: stored("nomination.route", &route, Route::parse)?,
        state: stored("nomination.state", &state, NominationState::parse)?,
        present_once: present != 0,
        report,
        nominations: count(4)?,
        absences_excused: count(5)?,
        absences_unexcused: count(6)?,
    })
}
