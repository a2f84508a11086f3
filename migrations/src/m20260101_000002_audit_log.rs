use sea_orm_migration::prelude::*;

use crate::bytewise;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    OrgId,
    At,
    Actor,
    RequestId,
    Action,
    EntityType,
    EntityId,
    Before,
    After,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(ColumnDef::new(AuditLog::Id).uuid().not_null())
                .col(ColumnDef::new(AuditLog::OrgId).uuid().not_null())
                .col(ColumnDef::new(AuditLog::At).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(AuditLog::Actor).string_len(100).not_null())
                .col(ColumnDef::new(AuditLog::RequestId).string_len(64).null())
                .col(ColumnDef::new(AuditLog::Action).string_len(60).not_null())
                .col(bytewise(m, ColumnDef::new(AuditLog::EntityType).string_len(40).not_null()))
                .col(ColumnDef::new(AuditLog::EntityId).uuid().null())
                .col(ColumnDef::new(AuditLog::Before).text().null())
                .col(ColumnDef::new(AuditLog::After).text().null())
                // Keyed by organisation first: the key is also the index the newest-first list of
                // one organisation reads, so no second index has to be kept up on every write.
                .primary_key(Index::create().col(AuditLog::OrgId).col(AuditLog::Id))
                // No foreign key to the organisation: the log is append-only and organisations are
                // never deleted, and a key would cost a lookup per record on bulk imports.
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_log_org_entity")
                .table(AuditLog::Table)
                .col(AuditLog::OrgId)
                .col(AuditLog::EntityType)
                .col(AuditLog::EntityId)
                .col(AuditLog::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await
    }
}
