use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 研修報告書: a trainee's post-training report, one per nomination.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "training_report")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub nomination_id: Uuid,
    pub course_id: Uuid,
    pub employee_id: Uuid,
    /// 研修で学んだこと
    pub learned: String,
    /// 職場でどう活かすか
    pub application: String,
    pub comments: Option<String>,
    /// See `kenshu_domain::report::ReportState`.
    pub state: String,
    /// Why it was returned.
    pub return_comment: Option<String>,
    pub first_submitted_at: Option<DateTimeUtc>,
    pub submitted_at: Option<DateTimeUtc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTimeUtc>,
    pub received_by: Option<String>,
    pub received_at: Option<DateTimeUtc>,
    /// 職場還元の実施日
    pub shared_on: Option<Date>,
    pub shared_note: Option<String>,
    pub shared_by: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
