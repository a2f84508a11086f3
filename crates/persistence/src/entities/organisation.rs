use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "organisation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// Who decides on department heads' own items; none: the training office (研修担当).
    pub top_approver_employee_id: Option<Uuid>,
    /// 補欠繰上げ stops this many days before a session starts; later, HR selects by hand.
    pub promotion_cutoff_days: i32,
    /// See `kenshu_domain::reminder::ReminderSettings`.
    pub reminder_session_days: i32,
    pub reminder_report_days: i32,
    pub reminder_overdue_every_days: i32,
    pub reminder_escalate_days: i32,
    pub reminder_send_hour: i32,
    /// What the service writes to this organisation's clients in when they name no language:
    /// `ja`, `en`, or none for the service's default.
    pub language: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
