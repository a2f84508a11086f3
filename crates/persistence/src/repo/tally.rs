//! Counts kept on each nomination for the year's results (研修実績): the sessions attended, the
//! absences with and without a received notice, and the day its report was first submitted.
//! A year at 50,000 staff is some 200,000 nominations and half a million attendance records;
//! kept here, the results are a few grouped reads of the nominations alone.
//!
//! The columns are not part of the nomination entity on purpose: every save of a nomination
//! writes the whole model, and one read before a count changed would write the old count back.
//! Only this module writes them, and it recounts from the records rather than adding to what is
//! there, so a count is always what the records say once the write that changed them commits.

use kenshu_domain::absence::NoticeState;
use kenshu_domain::attendance::AttendanceStatus;
use sea_orm::sea_query::{Asterisk, Expr, IntoIden, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, DeriveIden, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::report::PRESENT;
use crate::entities::{absence_notice, attendance, nomination, training_report};

/// The kept columns of `nomination` (migration 000031).
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Kept {
    /// Sessions attended: present, late or left early.
    SessionsAttended,
    /// Absences (欠席) covered by a received absence notice.
    AbsencesExcused,
    /// Absences without one.
    AbsencesUnexcused,
    /// The Japan date the report was first submitted; lateness is judged against it.
    ReportFirstSubmittedOn,
}

/// Which of a nomination's attendance records a kept count counts.
#[derive(Clone, Copy)]
enum Sessions {
    Attended,
    Excused,
    Unexcused,
}

/// `(SELECT COUNT(*) FROM attendance WHERE …)` of the nomination being updated.
fn counted(which: Sessions) -> SimpleExpr {
    let mut q: SelectStatement =
        Query::select().expr(Expr::col(Asterisk).count()).from(attendance::Entity).to_owned();
    // The course as well, so the count reads the tally index (course, nomination, status).
    of_the_nomination(
        &mut q,
        attendance::Entity,
        [attendance::Column::OrgId, attendance::Column::CourseId, attendance::Column::NominationId],
    );
    let absent = attendance::Column::Status.eq(AttendanceStatus::Absent.as_str());
    match which {
        Sessions::Attended => {
            q.and_where(attendance::Column::Status.is_in(PRESENT.iter().map(|s| s.as_str())));
        }
        Sessions::Excused => {
            q.and_where(absent).and_where(Expr::exists(received()));
        }
        Sessions::Unexcused => {
            q.and_where(absent).and_where(Expr::exists(received()).not());
        }
    }
    SimpleExpr::SubQuery(None, Box::new(q.into_sub_query_statement()))
}

/// Only the rows of `table` whose `[organisation, course, nomination]` columns are those of the
/// nomination being updated.
fn of_the_nomination<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    q: &mut SelectStatement,
    table: T,
    [org, course, id]: [C; 3],
) {
    let nomination = [nomination::Column::OrgId, nomination::Column::CourseId, nomination::Column::Id];
    for (mine, its) in [org, course, id].into_iter().zip(nomination) {
        q.and_where(Expr::col((table, mine)).equals((nomination::Entity, its)));
    }
}

/// A received notice for the attendance record's session and trainee: the only thing that
/// excuses an absence.
fn received() -> SelectStatement {
    Query::select()
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
        .and_where(absence_notice::Column::State.eq(NoticeState::Received.as_str()))
        .to_owned()
}

/// Count again, from their records, the sessions, absences and report of `nominations` (of
/// `org_id`). Called on the transaction that wrote the records, notices or report, after
/// writing them.
///
/// On PostgreSQL the nominations are locked first, in id order, and counted in the next
/// statement. A statement counts what had committed when it began: two transactions that each
/// changed a record of the same trainee (a sheet, a notice received meanwhile) would otherwise
/// each count without the other's record, and the later write would keep a stale count. The
/// second to take the lock waits for the first to commit, and its count then sees both.
/// SQLite has one writer at a time.
pub(crate) async fn recount(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    nominations: &[Uuid],
) -> Result<(), DbErr> {
    let mut ids = nominations.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(super::IN_LIST) {
        let these = || nomination::Column::Id.is_in(chunk.iter().copied());
        if conn.get_database_backend() == DatabaseBackend::Postgres {
            nomination::Entity::find()
                .select_only()
                .column(nomination::Column::Id)
                .filter(nomination::Column::OrgId.eq(org_id))
                .filter(these())
                .order_by_asc(nomination::Column::Id)
                .lock_exclusive()
                .into_tuple::<Uuid>()
                .all(conn)
                .await?;
        }
        recount_where(conn, org_id, these()).await?;
    }
    Ok(())
}

/// [`recount`] for every nomination on `courses`: for rows written other than through the
/// service (a benchmark's generated year).
pub async fn recount_courses(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    courses: &[Uuid],
) -> Result<(), DbErr> {
    for chunk in courses.chunks(super::IN_LIST) {
        recount_where(conn, org_id, nomination::Column::CourseId.is_in(chunk.iter().copied())).await?;
    }
    Ok(())
}

async fn recount_where(conn: &impl ConnectionTrait, org_id: Uuid, which: SimpleExpr) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let update = Query::update()
        .table(nomination::Entity)
        .value(Kept::SessionsAttended, counted(Sessions::Attended))
        .value(Kept::AbsencesExcused, counted(Sessions::Excused))
        .value(Kept::AbsencesUnexcused, counted(Sessions::Unexcused))
        .value(Kept::ReportFirstSubmittedOn, first_submitted_on(backend))
        .and_where(nomination::Column::OrgId.eq(org_id))
        .and_where(which)
        .to_owned();
    conn.execute(backend.build(&update)).await?;
    Ok(())
}

/// `(SELECT …)` the Japan date the nomination's report was first submitted, if it has been.
/// Japan keeps no summer time, so on SQLite it is nine hours on from the stored UTC time.
fn first_submitted_on(backend: DatabaseBackend) -> SimpleExpr {
    let day = match backend {
        DatabaseBackend::Postgres => {
            r#"MIN(("training_report"."first_submitted_at" AT TIME ZONE 'Asia/Tokyo')::date)"#
        }
        _ => r#"MIN(date("training_report"."first_submitted_at", '+9 hours'))"#,
    };
    let mut q = Query::select().expr(Expr::cust(day)).from(training_report::Entity).to_owned();
    of_the_nomination(
        &mut q,
        training_report::Entity,
        [
            training_report::Column::OrgId,
            training_report::Column::CourseId,
            training_report::Column::NominationId,
        ],
    );
    SimpleExpr::SubQuery(None, Box::new(q.into_sub_query_statement()))
}
