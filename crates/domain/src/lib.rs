//! Kenshu's business rules as plain Rust: no IO, no async, no database or HTTP types.

pub mod absence;
pub mod approval;
pub mod attendance;
pub mod attendance_io;
pub mod audience;
pub mod audit_chain;
pub mod auth;
pub mod calendar;
pub mod cascade;
pub mod catalogue;
pub mod catalogue_io;
pub mod check_in;
pub mod delivery;
pub mod directory;
pub mod employee;
pub mod error;
pub mod ics;
pub mod internship;
pub mod joint;
pub mod notice;
pub mod org;
pub mod portal_form;
pub mod reminder;
pub mod report;
pub mod results;
pub mod roster_import;
pub mod selection;
pub mod selection_io;
pub mod spreadsheet;
pub mod structure_io;
pub mod subsidy;
pub mod subsidy_io;
pub mod survey;
pub mod text;

pub use error::{FieldCode, FieldError, Words};
