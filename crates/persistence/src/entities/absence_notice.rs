use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 研修講座欠席届: a trainee's notice of absence, late arrival or early leave for one session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "absence_notice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub nomination_id: Uuid,
    pub session_id: Uuid,
    pub course_id: Uuid,
    pub employee_id: Uuid,
    /// absence | late_arrival | early_leave
    pub kind: String,
    pub reason: String,
    pub arrives_at: Option<DateTimeUtc>,
    pub leaves_at: Option<DateTimeUtc>,
    /// See `kenshu_domain::absence::NoticeState`.
    pub state: String,
    /// First submitted once the session had started.
    pub late: bool,
    /// Why it was returned.
    pub comment: Option<String>,
    pub written_by: String,
    pub submitted_at: Option<DateTimeUtc>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTimeUtc>,
    pub received_by: Option<String>,
    pub received_at: Option<DateTimeUtc>,
    /// Filed by someone other than the trainee on their behalf (the section head, the training
    /// office after a phone call).
    pub on_behalf: bool,
    /// Why the training office received it without the section head's confirmation.
    pub receipt_note: Option<String>,
    /// 合同研修: the trainee's training office lets the host see the reason.
    pub reason_shared_with_host: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
