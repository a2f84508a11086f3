//! Limits per caller (`governor`'s GCRA): requests per token subject, failed authentications per
//! source address, and wrong check-in codes per trainee and session. Each answers 429 with
//! `Retry-After`. Failures are counted as they happen, and once a key's are spent it is refused
//! before the next try is even checked (no signature verified, no code compared).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::config::LimitsConfig;
use crate::problem::ApiError;

/// Seconds to wait, at least one.
fn seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

fn keyed<K: Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

/// Failures per key: counted when they happen; once spent, the key is refused until a try
/// frees up.
struct Failures<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    refused_until: Mutex<HashMap<K, Instant>>,
    what: &'static str,
}

impl<K: Hash + Eq + Clone> Failures<K> {
    fn new(per_minute: u32, what: &'static str) -> Self {
        Self { limiter: keyed(per_minute), refused_until: Mutex::new(HashMap::new()), what }
    }

    fn allowed(&self, key: &K) -> Result<(), ApiError> {
        let mut refused = self.refused_until.lock().unwrap_or_else(|e| e.into_inner());
        match refused.get(key).copied() {
            Some(until) if until > Instant::now() => Err(ApiError::TooManyRequests {
                retry_after: seconds(until - Instant::now()),
                what: self.what,
            }),
            Some(_) => {
                refused.remove(key);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Count a failure; true when it spent the key's budget (it is refused from now on).
    fn failed(&self, key: &K) -> bool {
        let Some(limiter) = &self.limiter else { return false };
        match limiter.check_key(key) {
            Ok(()) => false,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                self.refused_until
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key.clone(), Instant::now() + wait);
                true
            }
        }
    }

    fn forget_idle(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
        }
        let now = Instant::now();
        self.refused_until.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, until| *until > now);
    }
}

pub struct Limits {
    callers: Option<DefaultKeyedRateLimiter<String>>,
    authentication: Failures<IpAddr>,
    check_in: Failures<(Uuid, Uuid)>,
}

impl Limits {
    pub fn new(cfg: &LimitsConfig) -> Self {
        Self {
            callers: keyed(cfg.requests_per_minute),
            authentication: Failures::new(
                cfg.auth_failures_per_minute,
                "failed authentications from this address",
            ),
            check_in: Failures::new(
                cfg.check_in_failures_per_minute,
                "wrong check-in codes for this session",
            ),
        }
    }

    /// One request of an authenticated caller (organisation and subject), before anything is
    /// read for it.
    pub fn caller(&self, org: &str, subject: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.callers else { return Ok(()) };
        limiter.check_key(&format!("{org}\u{1f}{subject}")).map_err(|not_until| ApiError::TooManyRequests {
            retry_after: seconds(not_until.wait_time_from(DefaultClock::default().now())),
            what: "requests for this caller",
        })
    }

    /// Before a token is checked: an address whose failed authentications are spent waits.
    pub fn authentication_allowed(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        ip.map_or(Ok(()), |ip| self.authentication.allowed(&ip))
    }

    pub fn authentication_failed(&self, ip: Option<IpAddr>) {
        if let Some(ip) = ip {
            if self.authentication.failed(&ip) {
                tracing::warn!("failed authentications from one address exceed the limit");
            }
        }
    }

    /// Before a check-in code is compared: a trainee whose wrong codes are spent waits.
    pub fn check_in_allowed(&self, employee: Uuid, session: Uuid) -> Result<(), ApiError> {
        self.check_in.allowed(&(employee, session))
    }

    pub fn wrong_check_in_code(&self, employee: Uuid, session: Uuid) {
        self.check_in.failed(&(employee, session));
    }

    /// Forget keys whose limits are full again, so memory stays flat (the scheduler's tick).
    pub fn forget_idle(&self) {
        if let Some(l) = &self.callers {
            l.retain_recent();
        }
        self.authentication.forget_idle();
        self.check_in.forget_idle();
    }
}
