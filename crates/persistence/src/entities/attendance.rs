use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 出欠: how one trainee attended one session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "attendance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub session_id: Uuid,
    pub course_id: Uuid,
    pub nomination_id: Uuid,
    pub employee_id: Uuid,
    /// present | late | left_early | absent
    pub status: String,
    pub arrived_at: Option<DateTimeUtc>,
    pub left_at: Option<DateTimeUtc>,
    pub note: Option<String>,
    /// sheet | import | check_in
    pub source: String,
    pub recorded_by: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
