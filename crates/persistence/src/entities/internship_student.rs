use sea_orm::entity::prelude::*;

/// A university student recommended to the internship programme: an outside person, not an
/// employee. Not `Serialize` on purpose: the audit log records a redacted view
/// (`repo::internship::StudentRecord`), so an erasure leaves no copy of the personal data.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "internship_student")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub programme_id: Uuid,
    /// 氏名; `None` once erased.
    pub name: Option<String>,
    pub name_kana: Option<String>,
    /// 大学名 (kept after an erasure).
    pub university: String,
    pub faculty: Option<String>,
    pub year_of_study: Option<i32>,
    pub email: Option<String>,
    pub recommended_on: Date,
    pub host_section_id: Option<Uuid>,
    pub hosted_from: Option<Date>,
    pub hosted_to: Option<Date>,
    /// See `kenshu_domain::internship::StudentState`.
    pub state: String,
    pub erased_at: Option<DateTimeUtc>,
    pub erased_by: Option<String>,
    pub erasure_requested_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
