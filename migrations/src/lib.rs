//! Schema migrations. The same migrations run on PostgreSQL (production) and SQLite (embedded):
//! string enums with CHECK constraints instead of native enums, one change per ALTER, ids made by
//! the service (UUIDv7), and `org_id` on every table so the schema can be distributed by tenant.

pub use sea_orm_migration::prelude::*;

mod m20260101_000001_roster;
mod m20260101_000002_audit_log;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20260101_000001_roster::Migration), Box::new(m20260101_000002_audit_log::Migration)]
    }
}
