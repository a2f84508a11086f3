//! 申込期間: the dates a course open for application (公募制) takes applications. Both null
//! means applications are taken while the course is published; the domain keeps them paired.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Course {
    Table,
    ApplicationOpens,
    ApplicationCloses,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite adds one at a time.
        for column in [Course::ApplicationOpens, Course::ApplicationCloses] {
            m.alter_table(
                Table::alter()
                    .table(Course::Table)
                    .add_column(ColumnDef::new(column).date().null())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Course::ApplicationCloses, Course::ApplicationOpens] {
            m.alter_table(Table::alter().table(Course::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
