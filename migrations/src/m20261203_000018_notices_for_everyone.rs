//! Notices for every event someone must know about or act on, not only course places: a notice
//! names the record it is about (type and id) instead of a nomination, may be addressed to the
//! training office as a whole (no recipient employee), says whether it waits for a head's daily
//! digest, and carries the lease of the pull-outbox reader that claimed it. The roster keeps each
//! employee's portal login id (desknet's NEO) beside their e-mail.
//!
//! The table is rebuilt (SQLite cannot drop a NOT NULL, a CHECK or a foreign key in place); the
//! notices written so far were all about nominations and move over as such.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, TransactionTrait};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Employee {
    Table,
    PortalLoginId,
}

#[derive(DeriveIden)]
enum Notice {
    Table,
    Id,
    OrgId,
    Kind,
    ItemType,
    ItemId,
    RecipientEmployeeId,
    RecipientRole,
    Subject,
    Body,
    Digest,
    DeliveredAt,
    ClaimedUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NoticeNext {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Employee::Table)
                .add_column(ColumnDef::new(Employee::PortalLoginId).string_len(100).null())
                .to_owned(),
        )
        .await?;
        // One connection, one transaction: on SQLite the migrator runs each statement on any
        // pooled connection, and one still reading the old schema refuses the rename.
        let db = m.get_connection();
        let backend = db.get_database_backend();
        let txn = db.begin().await?;
        txn.execute(
            backend.build(
                Table::create()
                    .table(NoticeNext::Table)
                    .col(ColumnDef::new(Notice::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Notice::OrgId).uuid().not_null())
                    .col(ColumnDef::new(Notice::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Notice::ItemType).string_len(32).not_null())
                    .col(ColumnDef::new(Notice::ItemId).uuid().not_null())
                    // Null: the training office as a whole.
                    .col(ColumnDef::new(Notice::RecipientEmployeeId).uuid().null())
                    .col(ColumnDef::new(Notice::RecipientRole).string_len(32).not_null())
                    .col(ColumnDef::new(Notice::Subject).string_len(300).not_null())
                    .col(ColumnDef::new(Notice::Body).text().not_null())
                    .col(ColumnDef::new(Notice::Digest).boolean().not_null().default(false))
                    .col(ColumnDef::new(Notice::DeliveredAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Notice::ClaimedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Notice::CreatedAt).timestamp_with_time_zone().not_null()),
            ),
        )
        .await?;
        txn.execute_unprepared(
            "INSERT INTO notice_next (id, org_id, kind, item_type, item_id, recipient_employee_id, \
             recipient_role, subject, body, digest, delivered_at, claimed_until, created_at) \
             SELECT id, org_id, kind, 'nomination', nomination_id, recipient_employee_id, \
             recipient_role, subject, body, FALSE, delivered_at, NULL, created_at FROM notice",
        )
        .await?;
        txn.execute(backend.build(Table::drop().table(Notice::Table))).await?;
        txn.execute(backend.build(Table::rename().table(NoticeNext::Table, Notice::Table))).await?;
        let indexes = [
            // A recipient's notices, newest first.
            Index::create()
                .name("ix_notice_org_recipient")
                .table(Notice::Table)
                .col(Notice::OrgId)
                .col(Notice::RecipientEmployeeId)
                .col(Notice::Id)
                .to_owned(),
            // The outbox, oldest first.
            Index::create()
                .name("ix_notice_org_delivered")
                .table(Notice::Table)
                .col(Notice::OrgId)
                .col(Notice::DeliveredAt)
                .col(Notice::Id)
                .to_owned(),
            // What is said about one record.
            Index::create()
                .name("ix_notice_org_item")
                .table(Notice::Table)
                .col(Notice::OrgId)
                .col(Notice::ItemId)
                .to_owned(),
        ];
        for index in &indexes {
            txn.execute(backend.build(index)).await?;
        }
        txn.commit().await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // Notices about anything but nominations have nowhere to go in the older table.
        Err(DbErr::Migration("notices for every record cannot be narrowed back to nominations".into()))
    }
}
