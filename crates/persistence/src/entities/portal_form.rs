use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A desknet's NEO AppSuite app whose records feed a workflow (ポータル様式).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "portal_form")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// See `kenshu_domain::portal_form::FormKind`.
    pub kind: String,
    pub name: String,
    /// The AppSuite app's id, as its webhooks send it.
    pub app_id: String,
    /// JSON object: value → part name.
    pub fields: String,
    /// See `kenshu_domain::portal_form::EmployeeIs`.
    pub employee_is: String,
    /// Hex SHA-256 of the webhook's access token; never returned, never audited.
    #[serde(skip)]
    pub token_digest: String,
    pub enabled: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
