//! Portal forms in: the desknet's NEO AppSuite apps whose records feed the workflows (per
//! organisation: the kind, the app, which part carries which value, the webhook's access token
//! as a SHA-256 digest), and every webhook received, stored before it is applied, with what
//! became of it. Also an index for finding staff by portal login id without regard to case (the
//! identity provider's sign-in and the forms both do).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PortalForm {
    Table,
    Id,
    OrgId,
    Kind,
    Name,
    AppId,
    Fields,
    EmployeeIs,
    TokenDigest,
    Enabled,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PortalInbound {
    Table,
    Id,
    OrgId,
    FormId,
    DataId,
    Change,
    ChangeKey,
    Payload,
    State,
    Reason,
    ItemType,
    ItemId,
    Attempts,
    ReceivedAt,
    ProcessedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PortalForm::Table)
                .col(ColumnDef::new(PortalForm::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(PortalForm::OrgId).uuid().not_null())
                .col(ColumnDef::new(PortalForm::Kind).string_len(32).not_null())
                .col(ColumnDef::new(PortalForm::Name).string_len(100).not_null())
                .col(ColumnDef::new(PortalForm::AppId).string_len(100).not_null())
                // JSON object: value → the app's part (部品名) carrying it.
                .col(ColumnDef::new(PortalForm::Fields).text().not_null())
                .col(ColumnDef::new(PortalForm::EmployeeIs).string_len(16).not_null())
                // Hex SHA-256 of the access token; the token itself is shown once.
                .col(ColumnDef::new(PortalForm::TokenDigest).string_len(64).not_null())
                .col(ColumnDef::new(PortalForm::Enabled).boolean().not_null())
                .col(ColumnDef::new(PortalForm::Version).integer().not_null())
                .col(ColumnDef::new(PortalForm::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(PortalForm::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        for (name, col) in
            [("ux_portal_form_org_name", PortalForm::Name), ("ux_portal_form_org_app", PortalForm::AppId)]
        {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(PortalForm::Table)
                    .col(PortalForm::OrgId)
                    .col(col)
                    .unique()
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(PortalInbound::Table)
                .col(ColumnDef::new(PortalInbound::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(PortalInbound::OrgId).uuid().not_null())
                .col(ColumnDef::new(PortalInbound::FormId).uuid().not_null())
                .col(ColumnDef::new(PortalInbound::DataId).string_len(100).not_null())
                .col(ColumnDef::new(PortalInbound::Change).string_len(16).not_null())
                // `{data_id}:added`, or `{data_id}:updated:{digest of the data}`.
                .col(ColumnDef::new(PortalInbound::ChangeKey).string_len(200).not_null())
                // The webhook as received, less its access token.
                .col(ColumnDef::new(PortalInbound::Payload).text().not_null())
                .col(ColumnDef::new(PortalInbound::State).string_len(16).not_null())
                .col(ColumnDef::new(PortalInbound::Reason).string_len(1000).null())
                .col(ColumnDef::new(PortalInbound::ItemType).string_len(32).null())
                .col(ColumnDef::new(PortalInbound::ItemId).uuid().null())
                .col(ColumnDef::new(PortalInbound::Attempts).integer().not_null())
                .col(ColumnDef::new(PortalInbound::ReceivedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(PortalInbound::ProcessedAt).timestamp_with_time_zone().null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_portal_inbound_form")
                        .from(PortalInbound::Table, PortalInbound::FormId)
                        .to(PortalForm::Table, PortalForm::Id),
                )
                .to_owned(),
        )
        .await?;
        // A change is applied once: a repeated delivery conflicts here and changes nothing.
        m.create_index(
            Index::create()
                .name("ux_portal_inbound_change")
                .table(PortalInbound::Table)
                .col(PortalInbound::OrgId)
                .col(PortalInbound::FormId)
                .col(PortalInbound::ChangeKey)
                .unique()
                .to_owned(),
        )
        .await?;
        // A record's earlier changes (what an update corrects), and HR's list by state.
        m.create_index(
            Index::create()
                .name("ix_portal_inbound_record")
                .table(PortalInbound::Table)
                .col(PortalInbound::OrgId)
                .col(PortalInbound::FormId)
                .col(PortalInbound::DataId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_portal_inbound_state")
                .table(PortalInbound::Table)
                .col(PortalInbound::OrgId)
                .col(PortalInbound::State)
                .col(PortalInbound::Id)
                .to_owned(),
        )
        .await?;
        // Both backends take an expression index.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_employee_org_login_lower ON employee (org_id, LOWER(portal_login_id))",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX ix_employee_org_login_lower").await?;
        m.drop_table(Table::drop().table(PortalInbound::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PortalForm::Table).to_owned()).await?;
        Ok(())
    }
}
