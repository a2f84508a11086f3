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
    pub clock: Clock,
    /// For deliveries to webhooks and the portal.
    pub http: reqwest::Client,
    /// Held while this instance syncs the portal's directory (one sync at a time).
    pub directory_sync: Arc<tokio::sync::Mutex<()>>,
    /// Requests being handled now: a shutdown waits for them.
    pub in_flight: Arc<std::sync::atomic::AtomicUsize>,
    pub limits: Arc<crate::limits::Limits>,
    /// Requests counted for `GET /metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Counts a request as in flight until it is dropped (answered, failed or cancelled).
pub struct InFlight(Arc<std::sync::atomic::AtomicUsize>);

impl InFlight {
    pub fn enter(state: &AppState) -> Self {
        state.in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self(state.in_flight.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The time the service acts at for scheduled and leased work (outbox claims, reminders): the
/// system's, unless the tests hold it at a time they choose.
#[derive(Clone, Default)]
pub struct Clock(Arc<std::sync::RwLock<Option<chrono::DateTime<chrono::Utc>>>>);

impl Clock {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        use chrono::SubsecRound;
        let held = *self.0.read().unwrap_or_else(|e| e.into_inner());
        held.unwrap_or_else(chrono::Utc::now).trunc_subsecs(6)
    }

    /// Hold the clock at `at` (tests).
    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(at);
    }
}
