use sea_orm::entity::prelude::*;

/// One trainee's answers to a course's survey.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_response")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub course_id: Uuid,
    /// Only to refuse a second response; never shown with the answers.
    pub nomination_id: Uuid,
    /// The organisation of the nomination that answered: the course's own, or (合同研修) a
    /// participant's whose trainee answered the host's survey. Always written; nullable only
    /// because SQLite adds columns so.
    pub nomination_org_id: Option<Uuid>,
    /// JSON array of `kenshu_domain::survey::Answer`.
    pub answers: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
