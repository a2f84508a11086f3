use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 研修通知: one notice in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "notice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub nomination_id: Uuid,
    pub course_id: Uuid,
    pub recipient_employee_id: Uuid,
    /// See `kenshu_domain::notice::NoticeKind`.
    pub kind: String,
    /// trainee | section_head
    pub recipient_role: String,
    pub subject: String,
    /// JSON: course, sessions, what to prepare.
    pub body: String,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
