//! Every trainee's paperwork has an approver, every change is carried through: the organisation
//! may name who decides on department heads' own items (null: the training office) and how many
//! days before a session the waiting list stops moving up by itself; absence notices record that
//! someone filed them on the trainee's behalf and why the office received one without the head's
//! confirmation; a nomination keeps the reason it was rejected or declined; notices have a kind.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    TopApproverEmployeeId,
    PromotionCutoffDays,
}

#[derive(DeriveIden)]
enum Notice {
    Table,
    Kind,
}

#[derive(DeriveIden)]
enum AbsenceNotice {
    Table,
    OnBehalf,
    ReceiptNote,
}

#[derive(DeriveIden)]
enum Nomination {
    Table,
    DecisionReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One change per ALTER: SQLite adds one column at a time.
        m.alter_table(
            Table::alter()
                .table(Organisation::Table)
                .add_column(ColumnDef::new(Organisation::TopApproverEmployeeId).uuid().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Organisation::Table)
                .add_column(ColumnDef::new(Organisation::PromotionCutoffDays).integer().not_null().default(2))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Notice::Table)
                .add_column(ColumnDef::new(Notice::Kind).string_len(32).not_null().default("training_notice"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AbsenceNotice::Table)
                .add_column(ColumnDef::new(AbsenceNotice::OnBehalf).boolean().not_null().default(false))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AbsenceNotice::Table)
                .add_column(ColumnDef::new(AbsenceNotice::ReceiptNote).string_len(1000).null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Nomination::Table)
                .add_column(ColumnDef::new(Nomination::DecisionReason).string_len(1000).null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Notice::Table).drop_column(Notice::Kind).to_owned()).await?;
        m.alter_table(
            Table::alter()
                .table(Organisation::Table)
                .drop_column(Organisation::PromotionCutoffDays)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Nomination::Table).drop_column(Nomination::DecisionReason).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(AbsenceNotice::Table).drop_column(AbsenceNotice::ReceiptNote).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(AbsenceNotice::Table).drop_column(AbsenceNotice::OnBehalf).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Organisation::Table)
                .drop_column(Organisation::TopApproverEmployeeId)
                .to_owned(),
        )
        .await
    }
}
