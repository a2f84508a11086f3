pub mod audit;
pub mod catalogue;
pub mod catalogue_files;
pub mod employees;
pub mod health;
pub mod import;
pub mod me;
pub mod structure;
