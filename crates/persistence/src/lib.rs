//! Kenshu persistence: sea-orm entities and repositories. Knows domain types, never HTTP.

pub mod backup;
pub mod bulk;
pub mod change_watch;
pub mod db;
pub mod entities;
pub mod kept;
pub mod repo;

pub use db::{backend_of, unavailable, Db, WriteTxn, DEFAULT_SQLITE_URL};
pub use repo::{Actor, Page, PageRequest, Precondition, RepoError};
pub use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr};
