use sea_orm::entity::prelude::*;

/// Self check-in of one session: open while `closed_at` is null.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_check_in")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub session_id: Uuid,
    pub course_id: Uuid,
    /// Hex of the code secret: never logged, audited or returned.
    pub secret: String,
    pub opened_by: String,
    pub opened_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
