//! Prometheus metrics for operators: `GET /metrics`, answered only with the bearer token in
//! `KENSHU_METRICS_TOKEN` (it exists only when that is set). Requests by route pattern and
//! status with latency histograms, recorded by the request middleware; the database pool, the
//! statements run, the reads kept in memory and the notice outbox, read when scraped. Counts
//! only: no tenant, person or token appears in a label.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use kenshu_domain::Words;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Latency buckets in seconds: a single-row read is a few milliseconds, a year's import seconds.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// This instance's metrics. Each app state has its own recorder (not the process-wide one), so
/// several services in one process (the tests) keep apart.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder =
            PrometheusBuilder::new().set_buckets(BUCKETS).expect("fixed, non-empty buckets").build_recorder();
        let handle = recorder.handle();
        Self { recorder, handle }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// One answered request: its method, route pattern (`/api/v1/courses/{id}`, never the
    /// path itself) and status.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = [("method", method.to_string()), ("route", route.to_string())];
        metrics::with_local_recorder(&self.recorder, || {
            let mut counted = labels.to_vec();
            counted.push(("status", status.to_string()));
            metrics::counter!("kenshu_http_requests_total", &counted).increment(1);
            metrics::histogram!("kenshu_http_request_duration_seconds", &labels).record(seconds);
        });
    }

    fn gauge(&self, name: &'static str, labels: &[(&'static str, String)], value: f64) {
        metrics::with_local_recorder(&self.recorder, || metrics::gauge!(name, labels).set(value));
    }
}

/// Compare without stopping at the first difference, so the answer's timing says nothing of
/// how much of a guessed token was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    security(("metrics_token" = [])),
    description = "Prometheus metrics for operators, with the bearer token set in KENSHU_METRICS_TOKEN \
        (not a user's token). The route exists only when that is set.",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "Missing or wrong metrics token", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No metrics token is set", body = crate::problem::Problem, content_type = "application/problem+json")
    )
)]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let Some(expected) = state.config.metrics_token.as_ref().map(|t| t.0.as_str()) else {
        return Err(ApiError::NotFound);
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::Unauthorized(Words::fixed(
            "send the metrics token as a bearer token",
            "メトリクス用のトークンを Bearer トークンとして送ってください",
        )));
    }
    let m = &state.metrics;
    m.gauge("kenshu_db_statements_total", &[], state.db.statements() as f64);
    let kept = state.db.kept().stats();
    m.gauge("kenshu_kept_reads_listening", &[], f64::from(u8::from(kept.listening)));
    let reads = [
        ("callers", kept.callers),
        ("employees", kept.employees),
        ("courses", kept.courses),
        ("course_items", kept.course_items),
        ("course_index", kept.course_index),
        ("ladders", kept.ladders),
        ("members", kept.members),
        ("published", kept.published),
        ("report_courses", kept.report_courses),
        ("results", kept.results),
    ];
    for (read, stats) in reads {
        m.gauge("kenshu_kept_reads_entries", &[("read", read.into())], stats.entries as f64);
        let lookups = [("hit", stats.hits), ("miss", stats.misses)];
        for (result, n) in lookups {
            m.gauge(
                "kenshu_kept_reads_lookups_total",
                &[("read", read.into()), ("result", result.into())],
                n as f64,
            );
        }
    }
    m.gauge("kenshu_kept_reads_drops_total", &[("scope", "roster".into())], kept.roster_drops as f64);
    m.gauge("kenshu_kept_reads_drops_total", &[("scope", "catalogue".into())], kept.catalogue_drops as f64);
    let (size, idle) = state.db.pool_use();
    m.gauge("kenshu_db_pool_connections", &[("state", "idle".into())], idle as f64);
    m.gauge(
        "kenshu_db_pool_connections",
        &[("state", "in_use".into())],
        (size as usize).saturating_sub(idle) as f64,
    );
    m.gauge("kenshu_db_pool_max_connections", &[], state.config.max_connections as f64);
    if let Some((now, highest)) = state.db.sqlite_memory() {
        m.gauge("kenshu_sqlite_memory_bytes", &[("at", "now".into())], now as f64);
        m.gauge("kenshu_sqlite_memory_bytes", &[("at", "highest".into())], highest as f64);
    }
    m.gauge(
        "kenshu_http_requests_in_flight",
        &[],
        state.in_flight.load(std::sync::atomic::Ordering::Relaxed) as f64,
    );
    for state_name in ["pending", "delivered", "failed", "skipped"] {
        m.gauge("kenshu_notice_deliveries", &[("state", state_name.into())], 0.0);
    }
    for (delivery_state, n) in kenshu_persistence::repo::delivery::count_by_state(state.db.conn()).await? {
        m.gauge("kenshu_notice_deliveries", &[("state", delivery_state)], n as f64);
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(m.handle.render()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_render_as_counters_and_histograms_by_route() {
        let m = Metrics::default();
        m.request("GET", "/api/v1/courses/{id}", 200, 0.003);
        m.request("GET", "/api/v1/courses/{id}", 200, 0.2);
        m.request("GET", "/api/v1/courses/{id}", 404, 0.001);
        let text = m.handle.render();
        assert!(
            text.contains(
                r#"kenshu_http_requests_total{method="GET",route="/api/v1/courses/{id}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains(
            r#"kenshu_http_request_duration_seconds_bucket{method="GET",route="/api/v1/courses/{id}",le="0.005"} 2"#
        ));
        assert!(text.contains(
            r#"kenshu_http_request_duration_seconds_count{method="GET",route="/api/v1/courses/{id}"} 3"#
        ));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd") && !same(b"abc", b"ab") && !same(b"", b"a"));
    }
}
