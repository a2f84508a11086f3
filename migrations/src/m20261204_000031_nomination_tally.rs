//! Counts kept on each nomination for the year's results: the sessions attended, the absences
//! with and without a received notice, and the Japan date the report was first submitted. The
//! service keeps them on every write that changes them (`repo::tally`); this fills them in from
//! the records already on file.

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
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
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
