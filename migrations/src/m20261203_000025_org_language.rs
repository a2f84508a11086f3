//! Each organisation's default language for what the service writes to clients (problems'
//! titles and details): `ja`, `en`, or NULL for the service's own default (`KENSHU_LANGUAGE`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Language,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Organisation::Table)
                .add_column(ColumnDef::new(Organisation::Language).string_len(8).null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Organisation::Table).drop_column(Organisation::Language).to_owned(),
        )
        .await
    }
}
