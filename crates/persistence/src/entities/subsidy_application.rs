use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 通信教育講座助成の申請: an employee's application for the subsidy of one course.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "subsidy_application")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub fiscal_year: i32,
    pub employee_id: Uuid,
    pub course_id: Uuid,
    /// The catalogue tuition when applied.
    pub tuition_yen: i64,
    /// See `kenshu_domain::subsidy::ApplicationState`.
    pub state: String,
    pub reason: Option<String>,
    /// Committed at approval: half the tuition, rounded down.
    pub approved_yen: Option<i64>,
    /// Reported with the proof of completion.
    pub paid_tuition_yen: Option<i64>,
    /// Fixed when HR verifies the proof.
    pub subsidy_yen: Option<i64>,
    pub comment: Option<String>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTimeUtc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTimeUtc>,
    pub reported_at: Option<DateTimeUtc>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
