use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One webhook received from a portal form, stored before it is applied, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "portal_inbound")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub form_id: Uuid,
    pub data_id: String,
    /// See `kenshu_domain::portal_form::Change`.
    pub change: String,
    pub change_key: String,
    /// The webhook as received, less its access token.
    pub payload: String,
    /// See `kenshu_domain::portal_form::InboundState`.
    pub state: String,
    pub reason: Option<String>,
    /// See `kenshu_domain::notice::ItemKind`.
    pub item_type: Option<String>,
    pub item_id: Option<Uuid>,
    pub attempts: i32,
    pub received_at: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
