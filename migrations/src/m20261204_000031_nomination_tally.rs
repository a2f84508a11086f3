//! Counts kept on each nomination for the year's results: the sessions attended, the absences
//! with and without a received notice, and the Japan date the report was first submitted. The
//! service keeps them on every write that changes them (`repo::tally`); this fills them in from
//! the records already on file. On PostgreSQL the one-per-employee-and-course key carries them
//! as well, so the results read a year's nominations from that index alone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Nomination {
    Table,
    SessionsAttended,
    AbsencesExcused,
    AbsencesUnexcused,
    ReportFirstSubmittedOn,
}

/// The counts from the records, in SQL both backends read alike but for the Japan date of a
/// timestamp: Japan keeps no summer time, so on SQLite it is nine hours on.
fn backfill(backend: DbBackend) -> String {
    let tokyo_date = match backend {
        DbBackend::Postgres => "(r.first_submitted_at AT TIME ZONE 'Asia/Tokyo')::date",
        _ => "date(r.first_submitted_at, '+9 hours')",
    };
    let sessions = |which: &str| {
        format!(
            "(SELECT COUNT(*) FROM attendance a WHERE a.org_id = nomination.org_id \
             AND a.course_id = nomination.course_id AND a.nomination_id = nomination.id AND {which})"
        )
    };
    let received = "EXISTS (SELECT 1 FROM absence_notice x WHERE x.org_id = a.org_id \
                    AND x.session_id = a.session_id AND x.nomination_id = a.nomination_id \
                    AND x.state = 'received')";
    format!(
        "UPDATE nomination SET sessions_attended = {}, absences_excused = {}, absences_unexcused = {}, \
         report_first_submitted_on = (SELECT MIN({tokyo_date}) FROM training_report r \
         WHERE r.org_id = nomination.org_id AND r.course_id = nomination.course_id \
         AND r.nomination_id = nomination.id)",
        sessions("a.status IN ('present', 'late', 'left_early')"),
        sessions(&format!("a.status = 'absent' AND {received}")),
        sessions(&format!("a.status = 'absent' AND NOT {received}")),
    )
}

/// What the key carries with these counts (`id, route, state` before them, migration 000029).
const COUNTED: &str =
    "id, route, state, sessions_attended, absences_excused, absences_unexcused, report_first_submitted_on";

/// The one-per-employee-and-course key, on PostgreSQL carrying `include` (SQLite has no
/// `INCLUDE`; there the results read the rows by rowid).
async fn nomination_key(m: &SchemaManager<'_>, include: &str) -> Result<(), DbErr> {
    if m.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = m.get_connection();
    db.execute_unprepared("DROP INDEX ux_nomination_org_course_employee").await?;
    db.execute_unprepared(&format!(
        "CREATE UNIQUE INDEX ux_nomination_org_course_employee ON nomination (org_id, course_id, employee_id) \
         INCLUDE ({include})"
    ))
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for count in
            [Nomination::SessionsAttended, Nomination::AbsencesExcused, Nomination::AbsencesUnexcused]
        {
            m.alter_table(
                Table::alter()
                    .table(Nomination::Table)
                    .add_column(ColumnDef::new(count).integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Nomination::Table)
                .add_column(ColumnDef::new(Nomination::ReportFirstSubmittedOn).date().null())
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(&backfill(m.get_database_backend())).await?;
        nomination_key(m, COUNTED).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        nomination_key(m, "id, route, state").await?;
        for column in [
            Nomination::ReportFirstSubmittedOn,
            Nomination::AbsencesUnexcused,
            Nomination::AbsencesExcused,
            Nomination::SessionsAttended,
        ] {
            m.alter_table(Table::alter().table(Nomination::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
