use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 研修計画: one organisation's plan for one fiscal year.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "training_plan")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub fiscal_year: i32,
    pub title: String,
    /// 研修方針
    pub policy: Option<String>,
    /// JSON array of 重点的な取組.
    pub focus_areas: String,
    /// draft | published
    pub status: String,
    pub published_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
