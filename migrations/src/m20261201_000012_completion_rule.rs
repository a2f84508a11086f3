//! 修了要件: what attendance completes a course, as JSON. Existing courses keep the rule they had:
//! every session.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Course {
    Table,
    Completion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Course::Table)
                .add_column(
                    ColumnDef::new(Course::Completion)
                        .text()
                        .not_null()
                        .default(r#"{"kind":"all_sessions"}"#),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Course::Table).drop_column(Course::Completion).to_owned()).await
    }
}
