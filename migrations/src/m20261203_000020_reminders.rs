//! Reminders the service sends by itself: a notice may carry the key that names it once (this
//! trainee's reminder of this session, this round of an overdue report, this head's digest of
//! the day), unique per organisation, so however many instances look for it, it is written
//! once; each organisation's reminder settings; and the lease that lets one instance at a time
//! look for what is due.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notice {
    Table,
    OrgId,
    DedupeKey,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    ReminderSessionDays,
    ReminderReportDays,
    ReminderOverdueEveryDays,
    ReminderEscalateDays,
    ReminderSendHour,
}

#[derive(DeriveIden)]
enum JobLease {
    Table,
    Name,
    LastRunAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Notice::Table)
                .add_column(ColumnDef::new(Notice::DedupeKey).string_len(200).null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_notice_org_dedupe_key")
                .table(Notice::Table)
                .col(Notice::OrgId)
                .col(Notice::DedupeKey)
                .unique()
                .to_owned(),
        )
        .await?;
        for (column, default) in [
            (Organisation::ReminderSessionDays, 3),
            (Organisation::ReminderReportDays, 2),
            (Organisation::ReminderOverdueEveryDays, 7),
            (Organisation::ReminderEscalateDays, 7),
            (Organisation::ReminderSendHour, 8),
        ] {
            // One change per ALTER: SQLite adds one column at a time.
            m.alter_table(
                Table::alter()
                    .table(Organisation::Table)
                    .add_column(ColumnDef::new(column).integer().not_null().default(default))
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(JobLease::Table)
                .col(ColumnDef::new(JobLease::Name).string_len(64).not_null().primary_key())
                .col(ColumnDef::new(JobLease::LastRunAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(JobLease::Table).to_owned()).await?;
        for column in [
            Organisation::ReminderSendHour,
            Organisation::ReminderEscalateDays,
            Organisation::ReminderOverdueEveryDays,
            Organisation::ReminderReportDays,
            Organisation::ReminderSessionDays,
        ] {
            m.alter_table(Table::alter().table(Organisation::Table).drop_column(column).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("ux_notice_org_dedupe_key").table(Notice::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Notice::Table).drop_column(Notice::DedupeKey).to_owned()).await
    }
}
