use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One notice on one channel.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "notice_delivery")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub notice_id: Uuid,
    pub channel_id: Uuid,
    /// See `kenshu_domain::delivery::DeliveryState`.
    pub state: String,
    pub attempts: i32,
    /// None: due at once (new, or given back to deliver again).
    pub next_attempt_at: Option<DateTimeUtc>,
    /// A dispatcher holds it until then.
    pub lease_until: Option<DateTimeUtc>,
    pub last_answer: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
