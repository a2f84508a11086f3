use sea_orm::entity::prelude::*;

/// One write transaction's audit records of one organisation, as one link of its chain: the
/// numbers they take (`first_seq`, `count`), the running hash of the last record, and the link
/// hash over the previous head and all of that (see `kenshu_domain::audit_chain`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_block")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub first_seq: i64,
    pub count: i32,
    pub last_hash: String,
    pub hash: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
