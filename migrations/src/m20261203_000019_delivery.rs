//! Delivery channels (per organisation: outbound webhooks, the desknet's NEO portal, mail), one
//! delivery of a notice per channel with its state, tries and lease, and the log of each attempt
//! with the receiver's answer.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotificationChannel {
    Table,
    Id,
    OrgId,
    Kind,
    Name,
    Enabled,
    Kinds,
    Settings,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NoticeDelivery {
    Table,
    Id,
    OrgId,
    NoticeId,
    ChannelId,
    State,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastAnswer,
    DeliveredAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DeliveryAttempt {
    Table,
    Id,
    OrgId,
    DeliveryId,
    AttemptedAt,
    Outcome,
    Answer,
    NextAttemptAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(NotificationChannel::Table)
                .col(ColumnDef::new(NotificationChannel::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(NotificationChannel::OrgId).uuid().not_null())
                .col(ColumnDef::new(NotificationChannel::Kind).string_len(16).not_null())
                .col(ColumnDef::new(NotificationChannel::Name).string_len(100).not_null())
                .col(ColumnDef::new(NotificationChannel::Enabled).boolean().not_null())
                // JSON array of notice kinds; empty: every kind.
                .col(ColumnDef::new(NotificationChannel::Kinds).text().not_null())
                // JSON: what the kind needs besides its secret.
                .col(ColumnDef::new(NotificationChannel::Settings).text().not_null())
                // Sealed with the service's secret key; never returned.
                .col(ColumnDef::new(NotificationChannel::Secret).text().null())
                .col(ColumnDef::new(NotificationChannel::PreviousSecret).text().null())
                .col(
                    ColumnDef::new(NotificationChannel::PreviousSecretUntil)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(NotificationChannel::Version).integer().not_null())
                .col(ColumnDef::new(NotificationChannel::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(NotificationChannel::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_notification_channel_org_name")
                .table(NotificationChannel::Table)
                .col(NotificationChannel::OrgId)
                .col(NotificationChannel::Name)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(NoticeDelivery::Table)
                .col(ColumnDef::new(NoticeDelivery::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(NoticeDelivery::OrgId).uuid().not_null())
                .col(ColumnDef::new(NoticeDelivery::NoticeId).uuid().not_null())
                .col(ColumnDef::new(NoticeDelivery::ChannelId).uuid().not_null())
                .col(ColumnDef::new(NoticeDelivery::State).string_len(16).not_null())
                .col(ColumnDef::new(NoticeDelivery::Attempts).integer().not_null())
                .col(ColumnDef::new(NoticeDelivery::NextAttemptAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(NoticeDelivery::LeaseUntil).timestamp_with_time_zone().null())
                .col(ColumnDef::new(NoticeDelivery::LastAnswer).string_len(1000).null())
                .col(ColumnDef::new(NoticeDelivery::DeliveredAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(NoticeDelivery::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(NoticeDelivery::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        // One delivery of a notice per channel.
        m.create_index(
            Index::create()
                .name("ux_notice_delivery_org_channel_notice")
                .table(NoticeDelivery::Table)
                .col(NoticeDelivery::OrgId)
                .col(NoticeDelivery::ChannelId)
                .col(NoticeDelivery::NoticeId)
                .unique()
                .to_owned(),
        )
        .await?;
        // What is due, across organisations (the dispatcher), and an organisation's failures.
        m.create_index(
            Index::create()
                .name("ix_notice_delivery_due")
                .table(NoticeDelivery::Table)
                .col(NoticeDelivery::State)
                .col(NoticeDelivery::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notice_delivery_org_notice")
                .table(NoticeDelivery::Table)
                .col(NoticeDelivery::OrgId)
                .col(NoticeDelivery::NoticeId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DeliveryAttempt::Table)
                .col(ColumnDef::new(DeliveryAttempt::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(DeliveryAttempt::OrgId).uuid().not_null())
                .col(ColumnDef::new(DeliveryAttempt::DeliveryId).uuid().not_null())
                .col(ColumnDef::new(DeliveryAttempt::AttemptedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(DeliveryAttempt::Outcome).string_len(16).not_null())
                .col(ColumnDef::new(DeliveryAttempt::Answer).string_len(1000).not_null())
                .col(ColumnDef::new(DeliveryAttempt::NextAttemptAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_delivery_attempt_org_delivery")
                .table(DeliveryAttempt::Table)
                .col(DeliveryAttempt::OrgId)
                .col(DeliveryAttempt::DeliveryId)
                .col(DeliveryAttempt::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            DeliveryAttempt::Table.into_iden(),
            NoticeDelivery::Table.into_iden(),
            NotificationChannel::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
