use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 日程: one session of a course.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "course_session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub course_id: Uuid,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub venue: Option<String>,
    pub online_url: Option<String>,
    pub capacity: Option<i32>,
    /// JSON lecturer.
    pub lecturer: Option<String>,
    /// The staff lecturer (職員講師), for finding what a member of staff teaches.
    pub lecturer_employee_id: Option<Uuid>,
    pub notes: Option<String>,
    /// 合同研修: the host's session this one copies (in the host's organisation).
    pub host_session_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
