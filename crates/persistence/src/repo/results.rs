//! 研修実績: the facts of every nomination of a fiscal year that the results count.

use std::collections::HashSet;

use kenshu_domain::audience::Route;
use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::catalogue::CourseStatus;
use kenshu_domain::results::{Counts, Standings};
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

/// Nominations of one route and state on one course, counted.
#[derive(Debug, Clone)]
pub struct OnCourse {
    pub course_id: Uuid,
    pub counts: Counts,
}

/// Nominations of one route and state, of trainees of one grade and section (as on the roster
/// today), counted.
#[derive(Debug, Clone)]
pub struct OfStaff {
    pub grade: String,
    pub section_id: Uuid,
    pub counts: Counts,
}

/// A fiscal year's results as read: its courses (drafts only when they have nominations), and
/// its nominations counted by course and by the trainees' grade and section.
#[derive(Debug, Clone, Default)]
pub struct YearFacts {
    pub courses: Vec<ResultCourse>,
    pub by_course: Vec<OnCourse>,
    pub by_staff: Vec<OfStaff>,
}

/// The year's results, read from the counts kept on each nomination ([`super::tally`]): two
/// grouped reads of the year's nominations (on PostgreSQL from an index that carries what they
/// read), whose rows are a few per course, grade and section however many staff there are.
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
    let route = || -> SimpleExpr { Expr::col((nomination::Entity, nomination::Column::Route)).into() };
    let state = || -> SimpleExpr { Expr::col((nomination::Entity, nomination::Column::State)).into() };
    let counted = |key: Vec<SimpleExpr>| {
        let mut q = Query::select();
        q.exprs(key.iter().cloned())
            .exprs([route(), state()])
            .exprs(count_columns(!due.is_empty()))
            .from(nomination::Entity)
            .and_where(nomination::Column::OrgId.eq(org_id))
            .and_where(nomination::Column::CourseId.in_subquery(of_year.clone()))
            // Plain columns, whose distinct values the planner knows: few groups, counted in a
            // hash table (grouped by its expressions, PostgreSQL expected a group per row and
            // sorted the year's nominations on disk).
            .add_group_by(key.into_iter().chain([route(), state()]));
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
    let q = counted(vec![Expr::col((nomination::Entity, nomination::Column::CourseId)).into()]);
    for row in conn.query_all(backend.build(&q)).await? {
        by_course.push(OnCourse { course_id: row.try_get_by_index(0)?, counts: counts(&row, 1)? });
    }
    let mut q = counted(vec![
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
            counts: counts(&row, 2)?,
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

/// How a nomination's report stands, in SQL: 0 where its course requires none, 1 not yet
/// submitted, 2 on time, 3 late. Only where some course requires one (the due days are then
/// joined in as `due`).
fn standing(reports: bool) -> SimpleExpr {
    if !reports {
        return Expr::cust("0");
    }
    let submitted = || Expr::col((nomination::Entity, Kept::ReportFirstSubmittedOn));
    let due = |c: &str| Expr::col((Alias::new("due"), Alias::new(c)));
    Expr::case(due("column1").is_null(), Expr::cust("0"))
        .case(submitted().is_null(), Expr::cust("1"))
        .case(submitted().gt(due("column2")), Expr::cust("3"))
        .finally(Expr::cust("2"))
        .into()
}

/// The counts after a group's key, route and state, as [`counts`] reads them: nominations,
/// present once, reports not submitted, on time and late (of all, then of those present once),
/// excused and unexcused absences.
fn count_columns(reports: bool) -> Vec<SimpleExpr> {
    let kept = |c| Expr::col((nomination::Entity, c));
    let present = || kept(Kept::SessionsAttended).gt(Expr::cust("0"));
    let stands = |k: &str| standing(reports).eq(Expr::cust(k));
    let how_many = |condition: SimpleExpr| -> SimpleExpr {
        Expr::expr(Expr::case(condition, Expr::cust("1")).finally(Expr::cust("0"))).sum()
    };
    let mut columns = vec![Expr::col(Asterisk).count(), how_many(present())];
    for of_present in [false, true] {
        for k in ["1", "2", "3"] {
            columns.push(how_many(if of_present { stands(k).and(present()) } else { stands(k) }));
        }
    }
    columns.push(kept(Kept::AbsencesExcused).sum());
    columns.push(kept(Kept::AbsencesUnexcused).sum());
    columns
}

/// The [`Counts`] in a grouped row: route and state at `at`, then [`count_columns`].
fn counts(row: &QueryResult, at: usize) -> Result<Counts, DbErr> {
    let route: String = row.try_get_by_index(at)?;
    let state: String = row.try_get_by_index(at + 1)?;
    let n = |i: usize| -> Result<u32, DbErr> {
        let n: Option<i64> = row.try_get_by_index(at + 2 + i)?;
        Ok(u32::try_from(n.unwrap_or(0)).unwrap_or(u32::MAX))
    };
    let standings = |from: usize| -> Result<Standings, DbErr> {
        Ok(Standings { not_submitted: n(from)?, on_time: n(from + 1)?, late: n(from + 2)? })
    };
    Ok(Counts {
        route: stored("nomination.route", &route, Route::parse)?,
        state: stored("nomination.state", &state, NominationState::parse)?,
        nominations: n(0)?,
        present_once: n(1)?,
        reports: standings(2)?,
        reports_present_once: standings(5)?,
        absences_excused: n(8)?,
        absences_unexcused: n(9)?,
    })
}
