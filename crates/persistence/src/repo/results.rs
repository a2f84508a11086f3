//! 研修実績: a fiscal year's nominations counted by course and by grade and section, from the
//! counts each nomination keeps ([`super::tally`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;

use kenshu_domain::audience::Route;
use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::catalogue::CourseStatus;
use kenshu_domain::results::{Counts, Standings};
use kenshu_domain::selection::NominationState;
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, JoinType, PostgresQueryBuilder, Query, SimpleExpr,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryResult, QuerySelect,
};
use uuid::Uuid;

use super::audit::{self, ChainStamp};
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
/// today), counted. The same grade, section, route and state may come in more than one row, each
/// counting a share of the courses: add them up.
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

/// The year's results, read from the counts kept on each nomination ([`super::tally`]): the
/// year's nominations counted by course and by the trainees' grade and section (on PostgreSQL
/// both ways in each of [`PARTS`] statements run at once; on both backends from indexes that
/// carry what they read, migrations 000031 and 000039), in rows that are a few per course, grade
/// and section however many staff there are.
pub async fn facts(conn: &impl ConnectionTrait, org_id: Uuid, fy: FiscalYear) -> Result<YearFacts, DbErr> {
    // Narrow, as the report lists read courses, and the status: decoding the year's courses whole
    // (their rules, timing, aims) was a sixth of the request at 300 staff.
    let mut models: Vec<(report::ReportCourseRow, String)> = course::Entity::find()
        .select_only()
        .columns(report::REPORT_COURSE_COLUMNS)
        .column(course::Column::Status)
        .filter(course::Column::OrgId.eq(org_id))
        .filter(course::Column::FiscalYear.eq(fy.year()))
        .into_tuple::<(Uuid, i32, String, i32, i32, String, String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, year, category, rank, number, title, rule, status)| {
            ((id, year, category, rank, number, title, rule), status)
        })
        .collect();
    models.sort_by_key(|((_, _, _, rank, number, ..), _)| (*rank, *number));
    if models.is_empty() {
        return Ok(YearFacts::default());
    }
    let requiring = report::requiring_report(models.iter().map(|(row, _)| row.clone()))?;
    let due: HashMap<Uuid, Option<NaiveDate>> =
        report::due_days(conn, org_id, &requiring).await?.into_iter().collect();
    // The year's courses as a list of values the nominations are joined to, each with whether it
    // requires a report (1) and its due day. SQLite then walks the courses and looks each one's
    // nominations up by the key; joined the other way round it scanned the list once per
    // nomination (3 s at 50,000 staff).
    let year: Vec<(Uuid, i32, Option<NaiveDate>)> = models
        .iter()
        .map(|((id, ..), _)| (*id, i32::from(due.contains_key(id)), due.get(id).copied().flatten()))
        .collect();
    let course_key =
        || -> SimpleExpr { Expr::col((nomination::Entity, nomination::Column::CourseId)).into() };
    let staff_key = || -> [SimpleExpr; 2] {
        [
            Expr::col((employee::Entity, employee::Column::Grade)).into(),
            Expr::col((employee::Entity, employee::Column::SectionId)).into(),
        ]
    };
    let route_state = || -> [SimpleExpr; 2] {
        [
            Expr::col((nomination::Entity, nomination::Column::Route)).into(),
            Expr::col((nomination::Entity, nomination::Column::State)).into(),
        ]
    };
    // Every read's rows are `course, grade, section, route, state, counts…`, NULL where a row is
    // not of that grouping: a row without a course is one of a grade and section.
    // On SQLite the join order is fixed (CROSS JOIN): given the choice, with the indexes that
    // carry the counts (migration 000039) its planner walked all of the organisation's nominations
    // and looked each up in the list, 12–13 s at 50,000 staff instead of 0.3–0.6 s.
    let join = match conn.get_database_backend() {
        DbBackend::Sqlite => JoinType::CrossJoin,
        _ => JoinType::InnerJoin,
    };
    let counted = |year: &[(Uuid, i32, Option<NaiveDate>)],
                   course: SimpleExpr,
                   [grade, section]: [SimpleExpr; 2],
                   with_staff: bool| {
        let courses =
            Query::select().column(Asterisk).from_values(year.iter().copied(), Alias::new("v")).to_owned();
        let mut q = Query::select();
        q.exprs([course, grade, section])
            .exprs(route_state())
            .exprs(count_columns())
            .from_subquery(courses, Alias::new(COURSES))
            .join(
                join,
                nomination::Entity,
                Condition::all().add(nomination::Column::OrgId.eq(org_id)).add(
                    Expr::col((nomination::Entity, nomination::Column::CourseId))
                        .equals((Alias::new(COURSES), Alias::new("column1"))),
                ),
            );
        if with_staff {
            q.join(
                join,
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
        }
        q
    };
    let null = || -> SimpleExpr { Expr::cust("NULL") };
    let backend = conn.get_database_backend();
    let rows = if backend == DbBackend::Postgres {
        // One pass over the nominations counted both ways at once, each way in a hash table:
        // at 50,000 staff 0.30 s of the database's CPU, where the two reads below took 0.13 s
        // and 0.26 s. Grouped by plain columns, whose distinct values the planner knows (grouped
        // by expressions, it expected a group per row and sorted the year's nominations on
        // disk).
        let list = |exprs: Vec<SimpleExpr>| {
            let mut q = Query::select();
            q.exprs(exprs);
            let sql = q.to_string(PostgresQueryBuilder);
            sql.trim_start_matches("SELECT ").to_string()
        };
        let by_course = list([course_key()].into_iter().chain(route_state()).collect());
        let by_staff = list(staff_key().into_iter().chain(route_state()).collect());
        // The courses in [`PARTS`] statements at once, every other course in each, each on a
        // connection of its own where `conn` is the pool: PostgreSQL runs none of this in
        // parallel by itself (not with grouping sets; and the list of courses joined first
        // keeps it serial without them). A course's rows all come from one part; a grade and
        // section's come from each, and the caller adds them up.
        let parts = (0..PARTS.min(year.len())).map(|part| {
            let these: Vec<_> = year.iter().copied().skip(part).step_by(PARTS).collect();
            let mut q = counted(&these, course_key(), staff_key(), true);
            q.add_group_by([Expr::cust(format!("GROUPING SETS (({by_course}), ({by_staff}))"))]);
            conn.query_all(backend.build(&q))
        });
        futures_util::future::try_join_all(parts).await?.into_iter().flatten().collect()
    } else {
        // SQLite has no grouping sets: the two ways apart, at once, each on a connection of its
        // own where `conn` is the pool.
        let mut by_course = counted(&year, course_key(), [null(), null()], false);
        by_course.add_group_by([course_key()].into_iter().chain(route_state()));
        let mut by_staff = counted(&year, null(), staff_key(), true);
        by_staff.add_group_by(staff_key().into_iter().chain(route_state()));
        let (mut a, b) = futures_util::future::try_join(
            conn.query_all(backend.build(&by_course)),
            conn.query_all(backend.build(&by_staff)),
        )
        .await?;
        a.extend(b);
        a
    };
    let mut by_course = Vec::new();
    let mut by_staff = Vec::new();
    for row in &rows {
        match row.try_get_by_index::<Option<Uuid>>(0)? {
            Some(course_id) => by_course.push(OnCourse { course_id, counts: counts(row, 3)? }),
            None => by_staff.push(OfStaff {
                grade: row.try_get_by_index(1)?,
                section_id: row.try_get_by_index(2)?,
                counts: counts(row, 3)?,
            }),
        }
    }
    let with_nominations: HashSet<Uuid> = by_course.iter().map(|g| g.course_id).collect();
    let mut courses = Vec::new();
    for ((id, fiscal_year, category, _, number, title, _), status) in models {
        let status = stored("course.status", &status, CourseStatus::parse)?;
        if status == CourseStatus::Draft && !with_nominations.contains(&id) {
            continue;
        }
        courses.push(ResultCourse { course: CourseRef { id, fiscal_year, category, number, title }, status });
    }
    Ok(YearFacts { courses, by_course, by_staff })
}

/// A year's results as rendered (JSON), with where the organisation's audit chain stood before
/// they were read.
#[derive(Debug)]
pub struct RenderedYear {
    stamp: ChainStamp,
    pub json: String,
}

/// A year's results rendered by `render` (which reads them), kept in memory until something they
/// are read from changes: warm, one statement.
///
/// The roster and the catalogue drop what is kept through their scopes ([`crate::kept`]), so
/// changes made outside the service count too. The nominations, which carry the counts, have no
/// scope: a trigger on them would make every attendance sheet, absence notice and report notify
/// every instance as it commits, and PostgreSQL queues notifying commits one at a time. Instead
/// a kept rendering is used only while the organisation's audit chain stands where it stood
/// before the rendering's reads began (one read by key): every change the service makes is
/// recorded in the chain of the organisation whose rows it changes, so a change committed by
/// any instance shows on the next request to every instance. A nomination edited by hand
/// (recorded nowhere) shows after the organisation's next recorded change.
pub async fn rendered<E: From<DbErr>>(
    db: &crate::Db,
    org_id: Uuid,
    fy: FiscalYear,
    render: impl AsyncFnOnce() -> Result<String, E>,
) -> Result<Arc<RenderedYear>, E> {
    let kept = &db.kept().results;
    // Both before anything is read: what is then read is at least as new as they say.
    let Some(generation) = kept.generation_at(Instant::now()) else {
        return Ok(Arc::new(RenderedYear { stamp: None, json: render().await? }));
    };
    let stamp = audit::stamp(db.conn(), org_id).await?;
    let key = (org_id, fy.year());
    let miss = match kept.lookup_in_if(key, Some(generation), |k| k.stamp == stamp) {
        Ok(kept) => return Ok(kept),
        Err(miss) => miss,
    };
    // Requests that miss together (every HR screen after a change) read the year once.
    let _turn = kept.turn(&key).await;
    let miss = match kept.look_again(miss, |k| k.stamp == stamp) {
        Ok(read_meanwhile) => return Ok(read_meanwhile),
        Err(miss) => miss,
    };
    let rendered = Arc::new(RenderedYear { stamp, json: render().await? });
    kept.keep(miss, rendered.clone(), Instant::now());
    Ok(rendered)
}

/// How many statements count a year's nominations on PostgreSQL, each a share of the courses, at
/// once. At 50,000 staff on the 2-core development machine the one statement took 250–370 ms
/// and each of two halves 160–215 ms (the employees' hash table is built by each), 200–265 ms
/// run together (session 34).
const PARTS: usize = 2;

/// The alias of the year's courses in the grouped reads: `column1` the course, `column2` 1 where
/// it requires a report, `column3` its due day.
const COURSES: &str = "courses";

fn of_course(column: &str) -> SimpleExpr {
    Expr::col((Alias::new(COURSES), Alias::new(column))).into()
}

/// The counts after a group's key, route and state, as [`counts`] reads them: nominations,
/// present once, on courses that require a report (then of them not submitted and late), the
/// same three of those present once, excused and unexcused absences. Each a count of the rows
/// a plain condition holds for: cheaper than summing a `CASE` of the report's standing per row
/// (at 50,000 staff on PostgreSQL the year's two reads took 0.44 s of the database's CPU that
/// way, 0.37 s this way).
fn count_columns() -> Vec<SimpleExpr> {
    let kept = |c| Expr::col((nomination::Entity, c));
    let present = || kept(Kept::SessionsAttended).gt(Expr::cust("0"));
    let requiring = || of_course("column2").eq(Expr::cust("1"));
    let not_submitted = || requiring().and(kept(Kept::ReportFirstSubmittedOn).is_null());
    // The due day is NULL where the course requires no report (and where it has no day to be
    // due by, when a report counts as on time): then the comparison holds for none.
    let late = || kept(Kept::ReportFirstSubmittedOn).gt(of_course("column3"));
    // COUNT of a CASE without ELSE: NULL, not counted, where the condition does not hold.
    let how_many =
        |condition: SimpleExpr| -> SimpleExpr { Expr::expr(Expr::case(condition, Expr::cust("1"))).count() };
    let mut columns = vec![Expr::col(Asterisk).count(), how_many(present())];
    for of_present in [false, true] {
        for condition in [requiring(), not_submitted(), late()] {
            columns.push(how_many(if of_present { condition.and(present()) } else { condition }));
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
        Ok(Standings::of_requiring(n(from)?, n(from + 1)?, n(from + 2)?))
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;

    use super::*;

    /// Requests that find a year's results missing together (HR screens after a change) read
    /// them once: the later waits for the earlier's read and answers with it.
    #[tokio::test]
    async fn requests_missing_a_year_together_read_it_once() {
        let db = crate::db::migrated_in_memory().await;
        db.kept().watch.set_listening(true, Instant::now());
        let (org_id, fy) = (Uuid::now_v7(), FiscalYear::new(2023).unwrap());
        let reads = AtomicUsize::new(0);
        let read = async || -> Result<String, DbErr> {
            let n = reads.fetch_add(1, SeqCst);
            if n == 0 {
                // The first read lasts until the other request waits for its turn (without
                // turns it never does: two seconds, and it reads the year too).
                let waited = async {
                    while db.kept().results.waiting_for(&(org_id, fy.year())) == 0 {
                        tokio::task::yield_now().await;
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(2), waited).await;
            }
            Ok(format!("read {n}"))
        };
        let (a, b) = tokio::join!(rendered(&db, org_id, fy, &read), rendered(&db, org_id, fy, &read));
        assert_eq!((a.unwrap().json.as_str(), b.unwrap().json.as_str()), ("read 0", "read 0"));
        assert_eq!(reads.load(SeqCst), 1);
        let stats = db.kept().results.stats();
        assert_eq!((stats.hits, stats.misses), (1, 1));
    }
}
