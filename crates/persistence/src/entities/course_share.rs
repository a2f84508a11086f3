use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 合同研修の共有: a course of the host (`org_id`) shared with a participating organisation,
/// with its places. The only row that names two organisations.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "course_share")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The host.
    pub org_id: Uuid,
    /// The host's course.
    pub course_id: Uuid,
    pub participant_org_id: Uuid,
    pub places: i32,
    /// See `kenshu_domain::joint::ShareState`.
    pub state: String,
    /// The participant's own course, once it accepted.
    pub participant_course_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
