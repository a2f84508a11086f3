//! Schema migrations. The same migrations run on PostgreSQL (production) and SQLite (embedded):
//! string enums with CHECK constraints instead of native enums, one change per ALTER, ids made by
//! the service (UUIDv7), and `org_id` on every table so the schema can be distributed by tenant.

pub use sea_orm_migration::prelude::*;

/// A nomination whose trainee attended (completed, or present at a session at least: the kept
/// count) and never submitted a report (the kept day of first submission is empty): the
/// condition of the partial index `ix_nomination_report_outstanding`, which a query uses only
/// when its WHERE repeats it as written here.
pub const REPORT_OUTSTANDING: &str =
    "report_first_submitted_on IS NULL AND (state = 'completed' OR sessions_attended > 0)";

mod m20260101_000001_roster;
mod m20260101_000002_audit_log;
mod m20260201_000003_catalogue;
mod m20260301_000004_nomination;
mod m20260301_000005_notice;
mod m20261130_000006_application_window;
mod m20261130_000007_absence_notice;
mod m20261130_000008_attendance;
mod m20261201_000009_training_report;
mod m20261201_000010_session_check_in;
mod m20261201_000011_survey;
mod m20261201_000012_completion_rule;
mod m20261201_000013_subsidy;
mod m20261201_000014_study_group;
mod m20261201_000015_internship;
mod m20261201_000016_course_read_indexes;
mod m20261203_000017_approval_routing;
mod m20261203_000018_notices_for_everyone;
mod m20261203_000019_delivery;
mod m20261203_000020_reminders;
mod m20261203_000021_calendar_feeds;
mod m20261203_000022_portal_forms;
mod m20261203_000023_audit_chain;
mod m20261203_000024_audit_blocks;
mod m20261203_000025_org_language;
mod m20261203_000026_joint_training;
mod m20261203_000027_org_primary_keys;
mod m20261203_000028_tombstone_lengths;
mod m20261204_000029_year_tally_indexes;
mod m20261204_000030_head_indexes;
mod m20261204_000031_nomination_tally;
mod m20261205_000032_roster_notify;
mod m20261206_000033_catalogue_notify;
mod m20261206_000034_course_order_index;
mod m20261207_000035_sqlite_change_counts;
mod m20261208_000036_nomination_vacuum;
mod m20261209_000037_ladder_and_groups_in_roster;
mod m20261210_000038_report_state_index;
mod m20261211_000039_sqlite_results_indexes;
mod m20261212_000040_nomination_report_outstanding_index;

/// A text column compared byte by byte (code point order). Codes, employee numbers and kana
/// readings sort and page the same on SQLite (BINARY is its default) and on PostgreSQL, whatever
/// locale the database was created with; PostgreSQL's "C" collation also compares them with
/// memcmp instead of strcoll, which index inserts of a 50,000-row import feel.
pub(crate) fn bytewise(m: &SchemaManager, column: &mut ColumnDef) -> ColumnDef {
    if m.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
        column.extra("COLLATE \"C\"");
    }
    column.to_owned()
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_roster::Migration),
            Box::new(m20260101_000002_audit_log::Migration),
            Box::new(m20260201_000003_catalogue::Migration),
            Box::new(m20260301_000004_nomination::Migration),
            Box::new(m20260301_000005_notice::Migration),
            Box::new(m20261130_000006_application_window::Migration),
            Box::new(m20261130_000007_absence_notice::Migration),
            Box::new(m20261130_000008_attendance::Migration),
            Box::new(m20261201_000009_training_report::Migration),
            Box::new(m20261201_000010_session_check_in::Migration),
            Box::new(m20261201_000011_survey::Migration),
            Box::new(m20261201_000012_completion_rule::Migration),
            Box::new(m20261201_000013_subsidy::Migration),
            Box::new(m20261201_000014_study_group::Migration),
            Box::new(m20261201_000015_internship::Migration),
            Box::new(m20261201_000016_course_read_indexes::Migration),
            Box::new(m20261203_000017_approval_routing::Migration),
            Box::new(m20261203_000018_notices_for_everyone::Migration),
            Box::new(m20261203_000019_delivery::Migration),
            Box::new(m20261203_000020_reminders::Migration),
            Box::new(m20261203_000021_calendar_feeds::Migration),
            Box::new(m20261203_000022_portal_forms::Migration),
            Box::new(m20261203_000023_audit_chain::Migration),
            Box::new(m20261203_000024_audit_blocks::Migration),
            Box::new(m20261203_000025_org_language::Migration),
            Box::new(m20261203_000026_joint_training::Migration),
            Box::new(m20261203_000027_org_primary_keys::Migration),
            Box::new(m20261203_000028_tombstone_lengths::Migration),
            Box::new(m20261204_000029_year_tally_indexes::Migration),
            Box::new(m20261204_000030_head_indexes::Migration),
            Box::new(m20261204_000031_nomination_tally::Migration),
            Box::new(m20261205_000032_roster_notify::Migration),
            Box::new(m20261206_000033_catalogue_notify::Migration),
            Box::new(m20261206_000034_course_order_index::Migration),
            Box::new(m20261207_000035_sqlite_change_counts::Migration),
            Box::new(m20261208_000036_nomination_vacuum::Migration),
            Box::new(m20261209_000037_ladder_and_groups_in_roster::Migration),
            Box::new(m20261210_000038_report_state_index::Migration),
            Box::new(m20261211_000039_sqlite_results_indexes::Migration),
            Box::new(m20261212_000040_nomination_report_outstanding_index::Migration),
        ]
    }
}
