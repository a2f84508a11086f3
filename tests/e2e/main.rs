//! End-to-end tests through HTTP against a real database (SQLite, or PostgreSQL with
//! TEST_DATABASE_URL). One binary, so it links once.

mod attendance;
mod audit_chain;
mod authorization;
mod backup;
mod cascades;
mod catalogue;
mod catalogue_files;
mod conventions;
mod delivery;
mod directory;
mod docs;
mod employees;
mod exports;
mod faults;
mod feeds;
mod fy2023;
mod import;
mod internships;
mod joint;
mod limits;
mod metrics;
mod notices;
mod portal_forms;
mod reminders;
mod reports;
mod routing;
mod schema;
mod selection;
mod sign_in;
mod statements;
mod structure;
mod subsidies;
mod tls;
mod tokens;
mod wire;
