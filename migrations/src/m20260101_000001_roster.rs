use sea_orm_migration::prelude::*;

use crate::bytewise;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    Code,
    Name,
    Version,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Grade {
    Table,
    Id,
    OrgId,
    Name,
    Rank,
    Aliases,
}

#[derive(DeriveIden)]
enum Department {
    Table,
    Id,
    OrgId,
    Code,
    Name,
    HeadEmployeeId,
    ActingHeadEmployeeId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Section {
    Table,
    Id,
    OrgId,
    DepartmentId,
    Code,
    Name,
    HeadEmployeeId,
    ActingHeadEmployeeId,
    Version,
    CreatedAt,
    UpdatedAt,
}

/// Variant names are column names (`employee_no`), so they may repeat the table's.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Employee {
    Table,
    Id,
    OrgId,
    EmployeeNo,
    Name,
    Kana,
    Email,
    SectionId,
    Grade,
    Post,
    PostSince,
    HireDate,
    Promotions,
    EmploymentType,
    RetirementDate,
    Tags,
    SearchKey,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

fn org_fk<T: IntoIden + 'static>(table: T, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, Alias::new("org_id"))
        .to(Organisation::Table, Organisation::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organisation::Table)
                .col(ColumnDef::new(Organisation::Id).uuid().not_null().primary_key())
                .col(bytewise(m, ColumnDef::new(Organisation::Code).string_len(32).not_null().unique_key()))
                .col(ColumnDef::new(Organisation::Name).string_len(100).not_null())
                .col(ColumnDef::new(Organisation::Version).integer().not_null().default(1))
                .col(ColumnDef::new(Organisation::CreatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Grade::Table)
                .col(ColumnDef::new(Grade::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Grade::OrgId).uuid().not_null())
                .col(ColumnDef::new(Grade::Name).string_len(30).not_null())
                .col(ColumnDef::new(Grade::Rank).integer().not_null().check(Expr::col(Grade::Rank).gte(0)))
                .col(ColumnDef::new(Grade::Aliases).text().not_null())
                .foreign_key(&mut org_fk(Grade::Table, "fk_grade_org"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_grade_org_name")
                .table(Grade::Table)
                .col(Grade::OrgId)
                .col(Grade::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Department::Table)
                .col(ColumnDef::new(Department::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Department::OrgId).uuid().not_null())
                .col(bytewise(m, ColumnDef::new(Department::Code).string_len(32).not_null()))
                .col(ColumnDef::new(Department::Name).string_len(100).not_null())
                // Heads point at employees; enforced by the service because the employee table
                // refers back to sections (SQLite cannot add the constraint afterwards).
                .col(ColumnDef::new(Department::HeadEmployeeId).uuid().null())
                .col(ColumnDef::new(Department::ActingHeadEmployeeId).uuid().null())
                .col(ColumnDef::new(Department::Version).integer().not_null().default(1))
                .col(ColumnDef::new(Department::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Department::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut org_fk(Department::Table, "fk_department_org"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_department_org_code")
                .table(Department::Table)
                .col(Department::OrgId)
                .col(Department::Code)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Section::Table)
                .col(ColumnDef::new(Section::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Section::OrgId).uuid().not_null())
                .col(ColumnDef::new(Section::DepartmentId).uuid().not_null())
                .col(bytewise(m, ColumnDef::new(Section::Code).string_len(32).not_null()))
                .col(ColumnDef::new(Section::Name).string_len(100).not_null())
                .col(ColumnDef::new(Section::HeadEmployeeId).uuid().null())
                .col(ColumnDef::new(Section::ActingHeadEmployeeId).uuid().null())
                .col(ColumnDef::new(Section::Version).integer().not_null().default(1))
                .col(ColumnDef::new(Section::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Section::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(&mut org_fk(Section::Table, "fk_section_org"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_section_department")
                        .from(Section::Table, Section::DepartmentId)
                        .to(Department::Table, Department::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_section_org_code")
                .table(Section::Table)
                .col(Section::OrgId)
                .col(Section::Code)
                .unique()
                .to_owned(),
        )
        .await?;
        // The target of the employees' (org_id, section_id) foreign key.
        m.create_index(
            Index::create()
                .name("ux_section_org_id")
                .table(Section::Table)
                .col(Section::OrgId)
                .col(Section::Id)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Employee::Table)
                .col(ColumnDef::new(Employee::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Employee::OrgId).uuid().not_null())
                .col(bytewise(m, ColumnDef::new(Employee::EmployeeNo).string_len(20).not_null()))
                .col(bytewise(m, ColumnDef::new(Employee::Name).string_len(60).not_null()))
                .col(bytewise(m, ColumnDef::new(Employee::Kana).string_len(60).not_null()))
                .col(ColumnDef::new(Employee::Email).string_len(254).null())
                .col(ColumnDef::new(Employee::SectionId).uuid().not_null())
                .col(ColumnDef::new(Employee::Grade).string_len(30).not_null())
                .col(ColumnDef::new(Employee::Post).string_len(40).null())
                .col(ColumnDef::new(Employee::PostSince).date().null())
                .col(ColumnDef::new(Employee::HireDate).date().not_null())
                .col(ColumnDef::new(Employee::Promotions).text().not_null())
                .col(ColumnDef::new(Employee::EmploymentType).string_len(16).not_null().check(
                    Expr::col(Employee::EmploymentType).is_in(["regular", "reemployed", "fixed_term"]),
                ))
                .col(ColumnDef::new(Employee::RetirementDate).date().null())
                .col(ColumnDef::new(Employee::Tags).text().not_null())
                .col(ColumnDef::new(Employee::SearchKey).text().not_null())
                .col(ColumnDef::new(Employee::Active).boolean().not_null().default(true))
                .col(ColumnDef::new(Employee::Version).integer().not_null().default(1))
                .col(ColumnDef::new(Employee::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Employee::UpdatedAt).timestamp_with_time_zone().not_null())
                // One composite key does two jobs: the section exists and belongs to the same
                // organisation (so the organisation exists too). It is also the form a sharded
                // PostgreSQL (Citus, distributed by org_id) accepts. Each foreign key costs a
                // lookup per inserted row, which a 50,000-row import feels.
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_employee_section")
                        .from(Employee::Table, (Employee::OrgId, Employee::SectionId))
                        .to(Section::Table, (Section::OrgId, Section::Id))
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_employee_org_no")
                .table(Employee::Table)
                .col(Employee::OrgId)
                .col(Employee::EmployeeNo)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_employee_org_section")
                .table(Employee::Table)
                .col(Employee::OrgId)
                .col(Employee::SectionId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_employee_org_kana")
                .table(Employee::Table)
                .col(Employee::OrgId)
                .col(Employee::Kana)
                .col(Employee::EmployeeNo)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Employee::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Section::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Department::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Grade::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Organisation::Table).to_owned()).await
    }
}
