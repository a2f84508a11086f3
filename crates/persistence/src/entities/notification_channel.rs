use sea_orm::entity::prelude::*;
use serde::Serialize;

/// 配信チャネル: where an organisation's notices go besides the service itself.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "notification_channel")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// See `kenshu_domain::delivery::ChannelKind`.
    pub kind: String,
    pub name: String,
    pub enabled: bool,
    /// JSON array of notice kinds; empty: every kind.
    pub kinds: String,
    /// JSON: the kind's settings without its secret.
    pub settings: String,
    /// Sealed with the service's key; never returned, never audited.
    #[serde(skip)]
    pub secret: Option<String>,
    #[serde(skip)]
    pub previous_secret: Option<String>,
    /// The previous secret still signs until then (a rotation).
    pub previous_secret_until: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
