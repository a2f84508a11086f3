//! The courses with a report outstanding (a trainee attended and never submitted one), asked by
//! the overdue list a stretch of courses at a time and by the reminders. Without an index of
//! those nominations the question read each course's every trainee to find none: at 50,000
//! staff, where most reports were handed in long ago, it was most of an overdue page's database
//! time (30 ms a stretch of courses, four stretches a page). This index holds only the
//! outstanding nominations, so a course without any is one probe. Its condition
//! ([`crate::REPORT_OUTSTANDING`]) is the question's word for word
//! (`repo::report::with_reports_outstanding`): SQLite uses a
//! partial index only for a query whose WHERE has each of its terms, PostgreSQL only where its
//! planner can prove the condition, which a bound parameter in place of the literals defeats.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_nomination_report_outstanding";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {NAME} ON nomination (org_id, course_id) WHERE {}",
                crate::REPORT_OUTSTANDING
            ))
            .await
            .map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared(&format!("DROP INDEX {NAME}")).await.map(|_| ())
    }
}
