use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 通信教育講座: one course of a year's correspondence-course catalogue.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "correspondence_course")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub fiscal_year: i32,
    pub provider: String,
    pub title: String,
    /// See `kenshu_domain::subsidy::StudyField`.
    pub field: String,
    pub tuition_yen: i64,
    pub months: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
