use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub actor: String,
    pub request_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    /// JSON of the record before the change.
    pub before: Option<String>,
    /// JSON of the record after the change.
    pub after: Option<String>,
    /// Its number in the organisation's hash chain, for records chained one by one (before
    /// blocks); `None` for records in a block, whose number is their block's `first_seq` + `pos` − 1.
    pub seq: Option<i64>,
    /// Its hash (hex SHA-256, see `kenshu_domain::audit_chain`): its link in the chain for a
    /// record with `seq`, its block's running hash for a record in a block.
    pub hash: Option<String>,
    /// The write transaction's block it belongs to (`audit_block`).
    pub block_id: Option<Uuid>,
    /// Its place in the block, from 1.
    pub pos: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
