//! Joint training (合同研修): a host organisation shares one of its courses with participating
//! organisations, each with its own places. The share is a row of the host, the only row that
//! names two organisations; a participant that accepts gets a course of its own (linked back to
//! the share) whose sessions are copies of the host's (linked back to theirs), so everything else
//! (selection, notices, attendance, reports, results) stays inside one organisation.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CourseShare {
    Table,
    Id,
    OrgId,
    CourseId,
    ParticipantOrgId,
    Places,
    State,
    ParticipantCourseId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Course {
    Table,
    Id,
    OrgId,
    ShareId,
    HostOrgId,
}

#[derive(DeriveIden)]
enum CourseSession {
    Table,
    HostSessionId,
}

#[derive(DeriveIden)]
enum SurveyResponse {
    Table,
    OrgId,
    NominationOrgId,
}

#[derive(DeriveIden)]
enum AbsenceNotice {
    Table,
    ReasonSharedWithHost,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CourseShare::Table)
                .col(ColumnDef::new(CourseShare::Id).uuid().not_null())
                .col(ColumnDef::new(CourseShare::OrgId).uuid().not_null())
                .col(ColumnDef::new(CourseShare::CourseId).uuid().not_null())
                .col(ColumnDef::new(CourseShare::ParticipantOrgId).uuid().not_null())
                .col(ColumnDef::new(CourseShare::Places).integer().not_null())
                .col(ColumnDef::new(CourseShare::State).string_len(16).not_null())
                .col(ColumnDef::new(CourseShare::ParticipantCourseId).uuid().null())
                .col(ColumnDef::new(CourseShare::Version).integer().not_null())
                .col(ColumnDef::new(CourseShare::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(CourseShare::UpdatedAt).timestamp_with_time_zone().not_null())
                .primary_key(Index::create().col(CourseShare::OrgId).col(CourseShare::Id))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_course_share_course")
                        .from(CourseShare::Table, (CourseShare::OrgId, CourseShare::CourseId))
                        .to(Course::Table, (Course::OrgId, Course::Id)),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_course_share_participant")
                        .from(CourseShare::Table, CourseShare::ParticipantOrgId)
                        .to(Organisation::Table, Organisation::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_course_share_participant_course")
                        .from(
                            CourseShare::Table,
                            (CourseShare::ParticipantOrgId, CourseShare::ParticipantCourseId),
                        )
                        .to(Course::Table, (Course::OrgId, Course::Id)),
                )
                .to_owned(),
        )
        .await?;
        // One share per course and participant: offering again changes the places.
        m.create_index(
            Index::create()
                .name("ux_course_share_participant")
                .table(CourseShare::Table)
                .col(CourseShare::OrgId)
                .col(CourseShare::CourseId)
                .col(CourseShare::ParticipantOrgId)
                .unique()
                .to_owned(),
        )
        .await?;
        // What is offered to a participant (its training office's list).
        m.create_index(
            Index::create()
                .name("ix_course_share_offered_to")
                .table(CourseShare::Table)
                .col(CourseShare::ParticipantOrgId)
                .col(CourseShare::Id)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Course::Table)
                .add_column(ColumnDef::new(Course::ShareId).uuid().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Course::Table)
                .add_column(ColumnDef::new(Course::HostOrgId).uuid().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(CourseSession::Table)
                .add_column(ColumnDef::new(CourseSession::HostSessionId).uuid().null())
                .to_owned(),
        )
        .await?;
        // The host's survey is answered by every organisation's attendees: their responses are
        // rows of the host naming the organisation of the nomination that answered (the
        // respondent's own), so the response keeps a key to it within that organisation.
        m.alter_table(
            Table::alter()
                .table(SurveyResponse::Table)
                .add_column(ColumnDef::new(SurveyResponse::NominationOrgId).uuid().null())
                .to_owned(),
        )
        .await?;
        // A participant's training office may let the host see why a trainee is absent.
        m.alter_table(
            Table::alter()
                .table(AbsenceNotice::Table)
                .add_column(
                    ColumnDef::new(AbsenceNotice::ReasonSharedWithHost).boolean().not_null().default(false),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(SurveyResponse::Table)
                .value(SurveyResponse::NominationOrgId, Expr::col(SurveyResponse::OrgId))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(AbsenceNotice::Table)
                .drop_column(AbsenceNotice::ReasonSharedWithHost)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(SurveyResponse::Table)
                .drop_column(SurveyResponse::NominationOrgId)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(CourseSession::Table).drop_column(CourseSession::HostSessionId).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(Course::Table).drop_column(Course::HostOrgId).to_owned()).await?;
        m.alter_table(Table::alter().table(Course::Table).drop_column(Course::ShareId).to_owned()).await?;
        m.drop_table(Table::drop().table(CourseShare::Table).to_owned()).await
    }
}
