//! Kenshu's HTTP API: actix-web handlers, auth, problem responses and OpenAPI.

mod allocator;
pub mod app;
pub mod auth;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod directory;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod portal_inbox;
pub mod problem;
pub mod routes;
pub mod scheduler;
pub mod secrets;
pub mod state;
pub mod wire;

use std::sync::Arc;

/// glibc's allocator spent a third of an import's CPU in malloc and free across the parser and
/// the workers (measured with perf); mimalloc's per-thread heaps do the same work in a fraction.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kenshu_persistence::Db;

/// Connect, migrate and assemble the shared state.
pub async fn build_state(config: config::Config) -> Result<state::AppState, Box<dyn std::error::Error>> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .connect_timeout(std::time::Duration::from_secs(5))
        // A receiver that redirects has moved: the training office fixes the channel.
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let verifier = auth::JwtVerifier::from_config(&config.jwt, http.clone())?;
    let db =
        Db::connect_with(&config.database_url, config.max_connections, config.db_acquire_timeout).await?;
    db.migrate().await?;
    db.watch_changes(config.sqlite_change_poll).await;
    let limits = Arc::new(limits::Limits::new(&config.limits));
    Ok(state::AppState {
        db,
        verifier: Arc::new(verifier),
        config: Arc::new(config),
        clock: state::Clock::default(),
        http,
        directory_sync: Arc::default(),
        in_flight: Arc::default(),
        limits,
        metrics: Arc::default(),
    })
}
