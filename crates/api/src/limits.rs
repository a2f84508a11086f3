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

/// How heavy a request is, for the limits per caller: every request counts against the caller's
/// requests, a write also against their writes, and a bulk request (a whole roster, plan or year
/// in one go) against their bulk requests and their organisation's bulk requests in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    Read,
    Write,
    Bulk,
}

/// The bulk routes (method, route pattern): imports, whole-plan and whole-roster evaluation,
/// the directory sync, the year-wide reads and exports, and walking the audit chain.
pub const BULK_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/employees/import"),
    ("POST", "/api/v1/organisation/structure/import"),
    ("POST", "/api/v1/directory/sync"),
    ("POST", "/api/v1/plans/{fiscal_year}/import"),
    ("GET", "/api/v1/plans/{fiscal_year}/export"),
    ("POST", "/api/v1/plans/{fiscal_year}/designation"),
    ("POST", "/api/v1/courses/{id}/designation"),
    ("POST", "/api/v1/plans/{fiscal_year}/nominations/import"),
    ("POST", "/api/v1/courses/{id}/sessions/{session_id}/attendance/import"),
    ("GET", "/api/v1/plans/{fiscal_year}/results"),
    ("GET", "/api/v1/training-gaps"),
    ("POST", "/api/v1/subsidies/{fiscal_year}/correspondence/courses/import"),
    ("GET", "/api/v1/audit/verification"),
];

/// Whether a query string asks for a whole list as a file (`format=csv` or `format=xlsx`): such
/// a read is bulk whatever its route.
fn asks_for_file(query: &str) -> bool {
    query.split('&').any(|pair| matches!(pair, "format=csv" | "format=xlsx"))
}

impl RouteClass {
    /// The class of a request to the route `pattern` (as the router matched it) with `query`.
    pub fn of(method: &str, pattern: Option<&str>, query: &str) -> Self {
        let bulk = pattern.is_some_and(|p| {
            BULK_ROUTES.iter().any(|(m, r)| *r == p && (*m == method || (*m == "GET" && method == "HEAD")))
        }) || (matches!(method, "GET" | "HEAD") && asks_for_file(query));
        match (bulk, method) {
            (true, _) => RouteClass::Bulk,
            (false, "GET" | "HEAD" | "OPTIONS") => RouteClass::Read,
            (false, _) => RouteClass::Write,
        }
    }
}

/// A place among an organisation's bulk requests in flight, given back when dropped (with the
/// request's [`crate::auth::Auth`]).
pub struct BulkPermit {
    running: std::sync::Arc<Mutex<HashMap<String, usize>>>,
    org: String,
}

impl Drop for BulkPermit {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = running.get_mut(&self.org) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.org);
            }
        }
    }
}

pub struct Limits {
    callers: Option<DefaultKeyedRateLimiter<String>>,
    writes: Option<DefaultKeyedRateLimiter<String>>,
    bulk: Option<DefaultKeyedRateLimiter<String>>,
    /// Bulk requests in flight per organisation, and how many may be.
    bulk_running: std::sync::Arc<Mutex<HashMap<String, usize>>>,
    bulk_concurrency: usize,
    authentication: Failures<IpAddr>,
    check_in: Failures<(Uuid, Uuid)>,
}

/// The wait suggested when an organisation's bulk requests are all taken: imports and year-wide
/// reads take seconds.
const BULK_BUSY_RETRY_SECONDS: u64 = 5;

fn check(
    limiter: &Option<DefaultKeyedRateLimiter<String>>,
    key: &String,
    what: &'static str,
) -> Result<(), ApiError> {
    let Some(limiter) = limiter else { return Ok(()) };
    limiter.check_key(key).map_err(|not_until| ApiError::TooManyRequests {
        retry_after: seconds(not_until.wait_time_from(DefaultClock::default().now())),
        what,
    })
}

impl Limits {
    pub fn new(cfg: &LimitsConfig) -> Self {
        Self {
            callers: keyed(cfg.requests_per_minute),
            writes: keyed(cfg.writes_per_minute),
            bulk: keyed(cfg.bulk_per_minute),
            bulk_running: std::sync::Arc::default(),
            bulk_concurrency: cfg.bulk_concurrency,
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

    /// One request of an authenticated caller (organisation and subject) of class `class`,
    /// before anything is read for it. A bulk request holds a place among its organisation's
    /// bulk requests in flight until the permit is dropped.
    pub fn caller(
        &self,
        org: &str,
        subject: &str,
        class: RouteClass,
    ) -> Result<Option<BulkPermit>, ApiError> {
        let key = format!("{org}\u{1f}{subject}");
        check(&self.callers, &key, "requests for this caller")?;
        match class {
            RouteClass::Read => Ok(None),
            RouteClass::Write => check(&self.writes, &key, "writes for this caller").map(|()| None),
            RouteClass::Bulk => {
                check(&self.bulk, &key, "imports and year-wide reads for this caller")?;
                self.bulk_permit(org).map(Some)
            }
        }
    }

    fn bulk_permit(&self, org: &str) -> Result<BulkPermit, ApiError> {
        let mut running = self.bulk_running.lock().unwrap_or_else(|e| e.into_inner());
        let n = running.entry(org.to_string()).or_default();
        if self.bulk_concurrency > 0 && *n >= self.bulk_concurrency {
            return Err(ApiError::TooManyRequests {
                retry_after: BULK_BUSY_RETRY_SECONDS,
                what: "imports and year-wide reads running for this organisation",
            });
        }
        *n += 1;
        Ok(BulkPermit { running: self.bulk_running.clone(), org: org.to_string() })
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
        for l in [&self.callers, &self.writes, &self.bulk].into_iter().flatten() {
            l.retain_recent();
        }
        self.authentication.forget_idle();
        self.check_in.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(bulk_concurrency: usize) -> Limits {
        Limits::new(&LimitsConfig {
            requests_per_minute: 0,
            writes_per_minute: 2,
            bulk_per_minute: 0,
            bulk_concurrency,
            auth_failures_per_minute: 0,
            check_in_failures_per_minute: 0,
        })
    }

    #[test]
    fn routes_fall_into_classes() {
        assert_eq!(RouteClass::of("GET", Some("/api/v1/me"), ""), RouteClass::Read);
        assert_eq!(RouteClass::of("PUT", Some("/api/v1/employees/{id}"), ""), RouteClass::Write);
        assert_eq!(RouteClass::of("POST", Some("/api/v1/employees/import"), ""), RouteClass::Bulk);
        assert_eq!(RouteClass::of("HEAD", Some("/api/v1/plans/{fiscal_year}/results"), ""), RouteClass::Bulk);
        assert_eq!(RouteClass::of("GET", Some("/api/v1/plans/{fiscal_year}"), ""), RouteClass::Read);
        assert_eq!(RouteClass::of("POST", None, ""), RouteClass::Write);
        let list = Some("/api/v1/reports");
        assert_eq!(RouteClass::of("GET", list, "overdue=true&format=xlsx"), RouteClass::Bulk);
        assert_eq!(RouteClass::of("GET", list, "format=csv"), RouteClass::Bulk);
        assert_eq!(RouteClass::of("GET", list, "format=json&limit=5"), RouteClass::Read);
        assert_eq!(RouteClass::of("GET", list, "informat=csv"), RouteClass::Read);
    }

    #[test]
    fn every_bulk_route_is_one_the_api_has() {
        let doc = crate::openapi::document();
        for (method, pattern) in BULK_ROUTES {
            let op = &doc["paths"][*pattern][method.to_lowercase()];
            assert!(op.is_object(), "{method} {pattern} is not a route");
        }
    }

    #[test]
    fn writes_have_their_own_limit_and_reads_go_on() {
        let l = limits(0);
        assert!(l.caller("isehara", "10035", RouteClass::Write).is_ok());
        assert!(l.caller("isehara", "10035", RouteClass::Write).is_ok());
        assert!(matches!(
            l.caller("isehara", "10035", RouteClass::Write),
            Err(ApiError::TooManyRequests { .. })
        ));
        assert!(l.caller("isehara", "10035", RouteClass::Read).is_ok());
        assert!(l.caller("isehara", "10009", RouteClass::Write).is_ok());
    }

    #[test]
    fn bulk_requests_in_flight_are_bounded_per_organisation() {
        let l = limits(2);
        let a = l.caller("isehara", "10035", RouteClass::Bulk).unwrap();
        let _b = l.caller("isehara", "importer", RouteClass::Bulk).unwrap();
        let refused = l.caller("isehara", "10036", RouteClass::Bulk).err().unwrap();
        assert!(matches!(refused, ApiError::TooManyRequests { retry_after: 5, .. }));
        // Another organisation has its own places; a finished request frees one.
        assert!(l.caller("atsugi", "A001", RouteClass::Bulk).is_ok());
        drop(a);
        assert!(l.caller("isehara", "10036", RouteClass::Bulk).is_ok());
        assert!(
            l.bulk_running.lock().unwrap().get("atsugi").is_none(),
            "a finished organisation is forgotten"
        );
    }
}
