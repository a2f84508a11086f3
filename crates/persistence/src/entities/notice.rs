use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 通知: one notice to one recipient, about one record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "notice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// See `kenshu_domain::notice::NoticeKind`.
    pub kind: String,
    /// See `kenshu_domain::notice::ItemKind`.
    pub item_type: String,
    pub item_id: Uuid,
    /// None: the training office as a whole.
    pub recipient_employee_id: Option<Uuid>,
    /// See `kenshu_domain::notice::RecipientRole`.
    pub recipient_role: String,
    pub subject: String,
    /// JSON: `kenshu_domain::notice::NoticeBody`.
    pub body: String,
    /// Waits for the recipient's daily digest instead of going out on its own.
    pub digest: bool,
    pub delivered_at: Option<DateTimeUtc>,
    /// A pull-outbox reader holds it until then.
    pub claimed_until: Option<DateTimeUtc>,
    /// Names a reminder or digest once in its organisation (see `kenshu_domain::reminder`).
    pub dedupe_key: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
