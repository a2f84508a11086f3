//! Every request identifies its caller, including the sections and departments they head or act
//! for. Without these indexes that part of the statement read every section and department of the
//! organisation on every request; with them each is one index lookup, whatever the size of the
//! organisation.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Section {
    Table,
    OrgId,
    HeadEmployeeId,
    ActingHeadEmployeeId,
}

#[derive(DeriveIden)]
enum Department {
    Table,
    OrgId,
    HeadEmployeeId,
    ActingHeadEmployeeId,
}

/// An index on (organisation, head column) of a unit table.
struct HeadIndex {
    name: &'static str,
    table: DynIden,
    org: DynIden,
    head: DynIden,
}

fn indexes() -> [HeadIndex; 4] {
    let section = |name, head: Section| HeadIndex {
        name,
        table: Section::Table.into_iden(),
        org: Section::OrgId.into_iden(),
        head: head.into_iden(),
    };
    let department = |name, head: Department| HeadIndex {
        name,
        table: Department::Table.into_iden(),
        org: Department::OrgId.into_iden(),
        head: head.into_iden(),
    };
    [
        section("ix_section_org_head", Section::HeadEmployeeId),
        section("ix_section_org_acting_head", Section::ActingHeadEmployeeId),
        department("ix_department_org_head", Department::HeadEmployeeId),
        department("ix_department_org_acting_head", Department::ActingHeadEmployeeId),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for i in indexes() {
            m.create_index(Index::create().name(i.name).table(i.table).col(i.org).col(i.head).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for i in indexes() {
            m.drop_index(Index::drop().name(i.name).table(i.table).to_owned()).await?;
        }
        Ok(())
    }
}
