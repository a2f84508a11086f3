use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 自主研究グループ: a study group of one fiscal year and its grant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "study_group")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub fiscal_year: i32,
    pub name: String,
    pub theme: String,
    pub representative_id: Uuid,
    /// JSON array of member employee ids, the representative included.
    pub members: String,
    /// See `kenshu_domain::subsidy::GroupState`.
    pub state: String,
    pub plan: Option<String>,
    pub planned_yen: Option<i64>,
    pub approved_yen: Option<i64>,
    pub spent_yen: Option<i64>,
    pub report: Option<String>,
    pub settled_yen: Option<i64>,
    pub comment: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTimeUtc>,
    pub settled_by: Option<String>,
    pub settled_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
