use std::sync::Arc;

use kenshu_persistence::Db;

use crate::auth::JwtVerifier;
use crate::config::Config;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub verifier: Arc<JwtVerifier>,
    pub config: Arc<Config>,
}
