use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A self-development subsidy programme of one fiscal year: its budget and application window.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "subsidy_programme")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub fiscal_year: i32,
    /// correspondence | study_group
    pub programme: String,
    pub budget_yen: i64,
    pub application_opens: Option<Date>,
    pub application_closes: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
