pub mod audit;
pub mod catalogue;
pub mod employees;
pub mod health;
pub mod import;
pub mod me;
pub mod structure;
