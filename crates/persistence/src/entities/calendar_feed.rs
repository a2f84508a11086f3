use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A calendar feed: reached by a secret token, kept only as its digest.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "calendar_feed")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// me | section | course
    pub scope: String,
    /// The employee, section or course it shows.
    pub subject_id: Uuid,
    /// Who made it (their subject).
    pub created_by: String,
    #[serde(skip)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
