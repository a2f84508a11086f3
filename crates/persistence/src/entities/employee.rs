use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 職員
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "employee")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub employee_no: String,
    pub name: String,
    pub kana: String,
    pub email: Option<String>,
    /// The login id of the groupware portal (desknet's NEO), where notices reach them.
    pub portal_login_id: Option<String>,
    pub section_id: Uuid,
    pub grade: String,
    pub post: Option<String>,
    /// 役職発令日: appointed to the post on.
    pub post_since: Option<Date>,
    pub hire_date: Date,
    /// JSON object grade → date (昇格日).
    pub promotions: String,
    pub employment_type: String,
    pub retirement_date: Option<Date>,
    /// JSON array of tags, sorted; filtered with LIKE '%"tag"%' on every backend.
    pub tags: String,
    #[serde(skip)]
    pub search_key: String,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::section::Entity",
        from = "Column::SectionId",
        to = "super::section::Column::Id"
    )]
    Section,
}

impl Related<super::section::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Section.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
