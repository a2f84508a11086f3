//! The course list reads a page in plan order (fiscal year, category rank, number). With only the
//! unique key on (organisation, year, category, number) PostgreSQL fetched every course of the
//! year (about 300) and sorted them for each page of 50; with this index it reads them in order
//! and stops when the page is full. The text search, across years, walks the same order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Course {
    Table,
    OrgId,
    FiscalYear,
    CategoryRank,
    Number,
}

const NAME: &str = "ix_course_org_plan_order";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(NAME)
                .table(Course::Table)
                .col(Course::OrgId)
                .col(Course::FiscalYear)
                .col(Course::CategoryRank)
                .col(Course::Number)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(NAME).table(Course::Table).to_owned()).await
    }
}
