use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 就業体験学生受入れ: the internship programme of one fiscal year.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "internship_programme")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub fiscal_year: i32,
    pub title: String,
    pub starts_on: Date,
    pub ends_on: Date,
    /// How many students the city hosts.
    pub capacity: i32,
    pub notes: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
