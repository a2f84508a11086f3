//! The actix application: routes, limits, middleware. Used by `kenshu serve` and by the tests.

use kenshu_domain::Words;
use std::net::TcpListener;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpMessage, HttpResponse};
use tracing::Instrument;
use utoipa_swagger_ui::SwaggerUi;
use uuid::Uuid;

use crate::auth::RequestId;
use crate::http::resource;
use crate::openapi;
use crate::problem::{json_error, path_error, query_error, ApiError};
use crate::routes::{
    absence, attendance, audit, calendar, catalogue, catalogue_files, channels, check_in, employees, health,
    import, internships, joint, me, notices, portal_forms, report, results, selection, structure,
    study_groups, subsidy, survey,
};
use crate::state::AppState;

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz", "GET").route(web::get().to(health::healthz)))
        .service(resource("/readyz", "GET").route(web::get().to(health::readyz)))
        .service(resource("/metrics", "GET").route(web::get().to(crate::metrics::metrics)))
        .service(resource("/api/v1/me", "GET").route(web::get().to(me::me)))
        .service(resource("/api/v1/me/courses", "GET").route(web::get().to(catalogue::my_courses)))
        .service(resource("/api/v1/me/nominations", "GET").route(web::get().to(selection::my_nominations)))
        .service(resource("/api/v1/me/notices", "GET").route(web::get().to(notices::my_notices)))
        .service(
            resource("/api/v1/courses/{id}/notify", "POST").route(web::post().to(notices::notify_course)),
        )
        .service(resource("/api/v1/notices", "GET").route(web::get().to(notices::list_notices)))
        .service(resource("/api/v1/notices/claim", "POST").route(web::post().to(notices::claim_notices)))
        .service(
            resource("/api/v1/notices/{id}/deliveries", "GET")
                .route(web::get().to(channels::notice_deliveries)),
        )
        .service(
            resource("/api/v1/notification-channels", "GET, POST")
                .route(web::get().to(channels::list_channels))
                .route(web::post().to(channels::create_channel)),
        )
        .service(
            resource("/api/v1/notification-channels/{id}", "GET, PUT")
                .route(web::get().to(channels::get_channel))
                .route(web::put().to(channels::update_channel)),
        )
        .service(resource("/api/v1/deliveries", "GET").route(web::get().to(channels::list_deliveries)))
        .service(
            resource("/api/v1/portal-forms", "GET, POST")
                .route(web::get().to(portal_forms::list_forms))
                .route(web::post().to(portal_forms::create_form)),
        )
        .service(
            resource("/api/v1/portal-forms/{id}", "GET, PUT")
                .route(web::get().to(portal_forms::get_form))
                .route(web::put().to(portal_forms::update_form)),
        )
        .service(
            resource("/api/v1/portal-forms/{id}/webhook", "POST")
                .route(web::post().to(portal_forms::webhook)),
        )
        .service(resource("/api/v1/portal-inbox", "GET").route(web::get().to(portal_forms::list_inbox)))
        .service(resource("/api/v1/portal-inbox/{id}", "GET").route(web::get().to(portal_forms::get_change)))
        .service(
            resource("/api/v1/portal-inbox/{id}/replay", "POST").route(web::post().to(portal_forms::replay)),
        )
        .service(
            resource("/api/v1/calendar-feeds", "GET, POST")
                .route(web::get().to(calendar::list_feeds))
                .route(web::post().to(calendar::create_feed)),
        )
        .service(
            resource("/api/v1/calendar-feeds/{id}", "GET, DELETE")
                .route(web::get().to(calendar::get_feed))
                .route(web::delete().to(calendar::revoke_feed)),
        )
        .service(resource("/calendar/{file}", "GET").route(web::get().to(calendar::feed)))
        .service(
            resource("/api/v1/deliveries/{id}/redeliver", "POST").route(web::post().to(channels::redeliver)),
        )
        .service(resource("/api/v1/training-gaps", "GET").route(web::get().to(selection::training_gaps)))
        .service(
            resource("/api/v1/notices/{id}/delivered", "POST")
                .route(web::post().to(notices::notice_delivered)),
        )
        .service(resource("/api/v1/employees/import", "POST").route(web::post().to(import::import_roster)))
        .service(
            resource("/api/v1/directory/sync", "POST")
                .route(web::post().to(crate::routes::directory::sync_directory)),
        )
        .service(
            resource("/api/v1/employees", "GET, POST")
                .route(web::get().to(employees::list))
                .route(web::post().to(employees::create)),
        )
        .service(
            resource("/api/v1/employees/{id}", "GET, PUT")
                .route(web::get().to(employees::get))
                .route(web::put().to(employees::update)),
        )
        .service(
            resource("/api/v1/departments", "GET, POST")
                .route(web::get().to(structure::list_departments))
                .route(web::post().to(structure::create_department)),
        )
        .service(
            resource("/api/v1/departments/{id}", "GET, PUT")
                .route(web::get().to(structure::get_department))
                .route(web::put().to(structure::update_department)),
        )
        .service(
            resource("/api/v1/sections", "GET, POST")
                .route(web::get().to(structure::list_sections))
                .route(web::post().to(structure::create_section)),
        )
        .service(
            resource("/api/v1/sections/{id}", "GET, PUT")
                .route(web::get().to(structure::get_section))
                .route(web::put().to(structure::update_section)),
        )
        .service(
            resource("/api/v1/grades", "GET, PUT")
                .route(web::get().to(structure::get_grades))
                .route(web::put().to(structure::put_grades)),
        )
        .service(
            resource("/api/v1/organisation/structure/import", "POST")
                .route(web::post().to(structure::import_structure)),
        )
        .service(
            resource("/api/v1/organisation/workflow", "GET, PUT")
                .route(web::get().to(structure::get_workflow))
                .route(web::put().to(structure::put_workflow)),
        )
        .service(
            resource("/api/v1/organisation/reminders", "GET, PUT")
                .route(web::get().to(structure::get_reminders))
                .route(web::put().to(structure::put_reminders)),
        )
        .service(
            resource("/api/v1/plans", "GET, POST")
                .route(web::get().to(catalogue::list_plans))
                .route(web::post().to(catalogue::create_plan)),
        )
        .service(
            resource("/api/v1/plans/{fiscal_year}", "GET, PUT")
                .route(web::get().to(catalogue::get_plan))
                .route(web::put().to(catalogue::update_plan)),
        )
        .service(
            resource("/api/v1/plans/{fiscal_year}/publish", "POST")
                .route(web::post().to(catalogue::publish_plan)),
        )
        .service(
            resource("/api/v1/plans/{fiscal_year}/copy", "POST").route(web::post().to(catalogue::copy_plan)),
        )
        .service(
            resource("/api/v1/plans/{fiscal_year}/import", "POST")
                .route(web::post().to(catalogue_files::import_catalogue)),
        )
        .service(
            resource("/api/v1/plans/{fiscal_year}/export", "GET")
                .route(web::get().to(catalogue_files::export_catalogue)),
        )
        .service(
            resource("/api/v1/courses", "GET, POST")
                .route(web::get().to(catalogue::list_courses))
                .route(web::post().to(catalogue::create_course)),
        )
        .service(
            resource("/api/v1/courses/{id}", "GET, PUT")
                .route(web::get().to(catalogue::get_course))
                .route(web::put().to(catalogue::update_course)),
        )
        .service(
            resource("/api/v1/courses/{id}/history", "GET").route(web::get().to(catalogue::course_history)),
        )
        .service(
            resource("/api/v1/courses/{id}/eligible", "GET").route(web::get().to(catalogue::course_eligible)),
        )
        .service(
            resource("/api/v1/courses/{id}/designation", "POST")
                .route(web::post().to(selection::designate_course)),
        )
        .service(
            resource("/api/v1/courses/{id}/nominations", "GET")
                .route(web::get().to(selection::list_nominations)),
        )
        .service(
            resource("/api/v1/courses/{id}/nominations/bulk", "POST")
                .route(web::post().to(selection::bulk_nominations)),
        )
        .service(
            resource("/api/v1/courses/{id}/recommendations", "POST")
                .route(web::post().to(selection::recommend)),
        )
        .service(
            resource("/api/v1/courses/{id}/applications", "POST").route(web::post().to(selection::apply)),
        )
        .service(resource("/api/v1/nominations/{id}", "GET").route(web::get().to(selection::get_nomination)))
        .service(
            resource("/api/v1/employees/{id}/training-history", "GET")
                .route(web::get().to(selection::training_history)),
        )
        .service(
            resource("/api/v1/sections/{id}/nominations", "GET")
                .route(web::get().to(selection::section_nominations)),
        )
        .service(
            resource("/api/v1/nominations/{id}/events", "POST")
                .route(web::post().to(selection::nomination_event)),
        )
        .service(
            resource("/api/v1/plans/{fiscal_year}/designation", "POST")
                .route(web::post().to(selection::designate_plan)),
        )
        .service(
            resource("/api/v1/plans/{fiscal_year}/nominations/import", "POST")
                .route(web::post().to(selection::import_nominations)),
        )
        .service(
            resource("/api/v1/courses/{id}/sessions", "POST")
                .route(web::post().to(catalogue::create_session)),
        )
        .service(
            resource("/api/v1/courses/{id}/sessions/{session_id}", "PUT, DELETE")
                .route(web::put().to(catalogue::update_session))
                .route(web::delete().to(catalogue::delete_session)),
        )
        .service(
            resource("/api/v1/courses/{id}/sessions/{session_id}/absence-notices", "GET")
                .route(web::get().to(absence::session_notices)),
        )
        .service(
            resource("/api/v1/courses/{id}/sessions/{session_id}/attendance", "GET, PUT")
                .route(web::get().to(attendance::get_sheet))
                .route(web::put().to(attendance::record_sheet)),
        )
        .service(
            resource("/api/v1/courses/{id}/sessions/{session_id}/check-in", "GET, POST, DELETE")
                .route(web::get().to(check_in::get_check_in))
                .route(web::post().to(check_in::open_check_in))
                .route(web::delete().to(check_in::close_check_in)),
        )
        .service(
            resource("/api/v1/courses/{id}/sessions/{session_id}/check-in/qr.svg", "GET")
                .route(web::get().to(check_in::check_in_qr)),
        )
        .service(resource("/api/v1/me/check-ins", "POST").route(web::post().to(check_in::check_in)))
        .service(
            resource("/api/v1/courses/{id}/sessions/{session_id}/attendance/import", "POST")
                .route(web::post().to(attendance::import_sheet)),
        )
        .service(
            resource("/api/v1/nominations/{id}/absence-notices", "POST")
                .route(web::post().to(absence::create_notice)),
        )
        .service(
            resource("/api/v1/absence-notices/{id}", "GET, PUT")
                .route(web::get().to(absence::get_notice))
                .route(web::put().to(absence::update_notice)),
        )
        .service(
            resource("/api/v1/absence-notices/{id}/events", "POST")
                .route(web::post().to(absence::notice_event)),
        )
        .service(resource("/api/v1/me/absence-notices", "GET").route(web::get().to(absence::my_notices)))
        .service(
            resource("/api/v1/sections/{id}/absence-notices", "GET")
                .route(web::get().to(absence::section_notices)),
        )
        .service(
            resource("/api/v1/nominations/{id}/report", "POST").route(web::post().to(report::create_report)),
        )
        .service(resource("/api/v1/reports", "GET").route(web::get().to(report::list_reports)))
        .service(
            resource("/api/v1/reports/{id}", "GET, PUT")
                .route(web::get().to(report::get_report))
                .route(web::put().to(report::update_report)),
        )
        .service(resource("/api/v1/reports/{id}/events", "POST").route(web::post().to(report::report_event)))
        .service(
            resource("/api/v1/reports/{id}/workplace-sharing", "PUT")
                .route(web::put().to(report::record_sharing)),
        )
        .service(resource("/api/v1/me/reports", "GET").route(web::get().to(report::my_reports)))
        .service(
            resource("/api/v1/sections/{id}/reports", "GET").route(web::get().to(report::section_reports)),
        )
        .service(
            resource("/api/v1/departments/{id}/reports", "GET")
                .route(web::get().to(report::department_reports)),
        )
        .service(
            resource("/api/v1/plans/{fiscal_year}/results", "GET")
                .route(web::get().to(results::year_results)),
        )
        .service(
            resource("/api/v1/courses/{id}/survey", "GET, POST, PUT")
                .route(web::get().to(survey::get_survey))
                .route(web::post().to(survey::create_survey))
                .route(web::put().to(survey::update_survey)),
        )
        .service(
            resource("/api/v1/courses/{id}/survey/responses", "POST")
                .route(web::post().to(survey::answer_survey)),
        )
        .service(
            resource("/api/v1/courses/{id}/survey/results", "GET")
                .route(web::get().to(survey::survey_results)),
        )
        .service(
            resource("/api/v1/subsidies/{fiscal_year}/{programme}", "GET, POST, PUT")
                .route(web::get().to(subsidy::get_programme))
                .route(web::post().to(subsidy::create_programme))
                .route(web::put().to(subsidy::update_programme)),
        )
        .service(
            resource("/api/v1/subsidies/{fiscal_year}/correspondence/courses", "GET")
                .route(web::get().to(subsidy::list_courses)),
        )
        .service(
            resource("/api/v1/subsidies/{fiscal_year}/correspondence/courses/import", "POST")
                .route(web::post().to(subsidy::import_courses)),
        )
        .service(
            resource("/api/v1/subsidy-applications", "GET, POST")
                .route(web::get().to(subsidy::list_applications))
                .route(web::post().to(subsidy::apply)),
        )
        .service(
            resource("/api/v1/subsidy-applications/{id}", "GET")
                .route(web::get().to(subsidy::get_application)),
        )
        .service(
            resource("/api/v1/subsidy-applications/{id}/events", "POST")
                .route(web::post().to(subsidy::application_event)),
        )
        .service(
            resource("/api/v1/subsidy-applications/{id}/proof", "GET, PUT")
                .route(web::get().to(subsidy::get_proof))
                .route(web::put().to(subsidy::put_proof)),
        )
        .service(
            resource("/api/v1/me/subsidy-applications", "GET").route(web::get().to(subsidy::my_applications)),
        )
        .service(
            resource("/api/v1/sections/{id}/subsidy-applications", "GET")
                .route(web::get().to(subsidy::section_applications)),
        )
        .service(
            resource("/api/v1/study-groups", "GET, POST")
                .route(web::get().to(study_groups::list_groups))
                .route(web::post().to(study_groups::create_group)),
        )
        .service(resource("/api/v1/study-groups/{id}", "GET").route(web::get().to(study_groups::get_group)))
        .service(
            resource("/api/v1/study-groups/{id}/members", "PUT")
                .route(web::put().to(study_groups::set_members)),
        )
        .service(
            resource("/api/v1/study-groups/{id}/plan", "PUT").route(web::put().to(study_groups::file_plan)),
        )
        .service(
            resource("/api/v1/study-groups/{id}/settlement", "PUT")
                .route(web::put().to(study_groups::file_settlement)),
        )
        .service(
            resource("/api/v1/study-groups/{id}/events", "POST")
                .route(web::post().to(study_groups::group_event)),
        )
        .service(resource("/api/v1/me/study-groups", "GET").route(web::get().to(study_groups::my_groups)))
        .service(
            resource("/api/v1/internships/{fiscal_year}", "GET, POST, PUT")
                .route(web::get().to(internships::get_programme))
                .route(web::post().to(internships::create_programme))
                .route(web::put().to(internships::update_programme)),
        )
        .service(
            resource("/api/v1/internships/{fiscal_year}/students", "GET, POST")
                .route(web::get().to(internships::list_students))
                .route(web::post().to(internships::add_student)),
        )
        .service(
            resource("/api/v1/internship-students/{id}", "GET, PUT")
                .route(web::get().to(internships::get_student))
                .route(web::put().to(internships::update_student)),
        )
        .service(
            resource("/api/v1/internship-students/{id}/events", "POST")
                .route(web::post().to(internships::student_event)),
        )
        .service(
            resource("/api/v1/internship-students/{id}/erasure", "POST")
                .route(web::post().to(internships::erase_student)),
        )
        .service(
            resource("/api/v1/sections/{id}/internship-students", "GET")
                .route(web::get().to(internships::section_students)),
        )
        .service(
            resource("/api/v1/courses/{id}/shares", "GET, POST")
                .route(web::get().to(joint::list_shares))
                .route(web::post().to(joint::share_course)),
        )
        .service(
            resource("/api/v1/courses/{id}/shares/{share_id}", "GET, PUT")
                .route(web::get().to(joint::get_share))
                .route(web::put().to(joint::change_places)),
        )
        .service(
            resource("/api/v1/courses/{id}/shares/{share_id}/events", "POST")
                .route(web::post().to(joint::share_event)),
        )
        .service(
            resource("/api/v1/courses/{id}/joint-roster", "GET").route(web::get().to(joint::joint_roster)),
        )
        .service(
            resource("/api/v1/courses/{id}/sessions/{session_id}/joint-attendance", "GET, PUT")
                .route(web::get().to(joint::get_joint_attendance))
                .route(web::put().to(joint::record_joint_attendance)),
        )
        .service(
            resource("/api/v1/absence-notices/{id}/host-sharing", "PUT")
                .route(web::put().to(joint::share_absence_reason)),
        )
        .service(resource("/api/v1/joint-offers", "GET").route(web::get().to(joint::list_offers)))
        .service(resource("/api/v1/joint-offers/{id}", "GET").route(web::get().to(joint::get_offer)))
        .service(
            resource("/api/v1/joint-offers/{id}/events", "POST").route(web::post().to(joint::offer_event)),
        )
        .service(resource("/api/v1/audit", "GET").route(web::get().to(audit::list)))
        .service(resource("/api/v1/audit/verification", "GET").route(web::get().to(audit::verify)))
        .service(SwaggerUi::new("/docs/{_:.*}").external_url_unchecked("/openapi.json", openapi::document()));
}

/// A request id (the caller's `X-Request-Id` when it is sane, else a new one) on every log line
/// of the request, and one line per request with the route pattern, never the raw path or query
/// (they can hold names and numbers).
async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_string)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let _in_flight = req.app_data::<web::Data<AppState>>().map(|s| crate::state::InFlight::enter(s));
    let method = req.method().to_string();
    // HEAD is GET without the body (RFC 9110): every GET route answers it. The connection
    // remembers the request was HEAD and sends no body.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let span = tracing::info_span!("request", request_id = %id);
    // Before routing, naming the route walks every route's pattern: only when it is logged.
    if tracing::enabled!(tracing::Level::DEBUG) {
        span.in_scope(|| {
            let route = req.match_pattern().unwrap_or_else(|| "(unmatched)".into());
            tracing::debug!(method = %method, route = %route, "request started");
        });
    }
    let started = Instant::now();
    let default_language =
        req.app_data::<web::Data<AppState>>().map(|s| s.config.default_language).unwrap_or_default();
    let asked = crate::problem::Language::asked(
        req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    let context = crate::problem::ProblemContext {
        instance: format!("{}#{id}", req.path()),
        asked,
        service_default: default_language,
        organisation: Default::default(),
    };
    let answered =
        crate::problem::PROBLEM_CONTEXT.scope(context.clone(), next.call(req).instrument(span.clone())).await;
    let res = match answered {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            // An error no inner layer turned into an answer: its answer is made here, where the
            // problem still knows its request, and passed on as made.
            let response = crate::problem::PROBLEM_CONTEXT.sync_scope(context, || e.error_response());
            return Err(actix_web::error::InternalError::from_response(e.to_string(), response).into());
        }
    };
    let mut res = not_modified(res);
    let route = res.request().match_pattern().unwrap_or_else(|| "(unmatched)".into());
    if let Some(state) = res.request().app_data::<web::Data<AppState>>() {
        state.metrics.request(&method, &route, res.status().as_u16(), started.elapsed().as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request"
        )
    });
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(header::HeaderName::from_static("x-request-id"), v);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if route.starts_with("/api/") {
        // Personal data must not linger in shared caches.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// `If-None-Match` on a read (RFC 9110 §13.1.2): when a tag the client holds matches the
/// answer's `ETag` by the weak comparison (or it sent `*`), the answer is `304 Not Modified`
/// with the tag and no body.
fn not_modified(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    if res.status() != StatusCode::OK || res.request().method() != Method::GET {
        return res;
    }
    let (Some(tag), Some(held)) =
        (res.headers().get(header::ETAG).cloned(), res.request().headers().get(header::IF_NONE_MATCH))
    else {
        return res;
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = opaque(tag.to_str().unwrap_or_default());
    let hit =
        held.to_str().is_ok_and(|list| list.trim() == "*" || list.split(',').any(|t| opaque(t) == ours));
    if !hit {
        return res;
    }
    let mut unchanged = HttpResponse::NotModified();
    unchanged.insert_header((header::ETAG, tag));
    res.into_response(unchanged.finish())
}

/// Refuse a query parameter the operation does not document (400): a misspelt or unsupported
/// filter would otherwise be ignored and answer as if it were not there (`?limit=5` returning
/// everything, `?actor=` returning everyone's). A value breaking the one text rule (a NUL) is a
/// 400 naming the parameter. Routes outside the API document pass.
async fn known_query(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let query = req.query_string();
    if !query.is_empty() {
        if let Some(pattern) = req.match_pattern() {
            let key = (req.method().as_str().to_string(), pattern);
            if let Some(allowed) = openapi::query_parameters().get(&key) {
                let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
                    .map_err(crate::problem::query_error)?;
                if let Some((name, _)) = pairs.iter().find(|(name, _)| !allowed.contains(name)) {
                    let mut known: Vec<&str> = allowed.iter().map(String::as_str).collect();
                    known.sort_unstable();
                    let message = if known.is_empty() {
                        Words::new(
                            format!("unknown query parameter '{name}': this operation takes none"),
                            format!("クエリパラメーター '{name}' はありません。この操作はクエリパラメーターを取りません"),
                        )
                    } else {
                        Words::new(
                            format!(
                                "unknown query parameter '{name}': this operation takes {}",
                                known.join(", ")
                            ),
                            format!(
                                "クエリパラメーター '{name}' はありません。使えるのは {} です",
                                known.join(", ")
                            ),
                        )
                    };
                    return Err(ApiError::BadRequest(message).into());
                }
                for (name, value) in pairs.iter() {
                    if let Err(why) = kenshu_domain::text::check_plain(value) {
                        return Err(ApiError::BadRequest(Words::new(
                            format!("query parameter '{name}' {why}"),
                            format!("クエリパラメーター '{name}' に制御文字 NUL（U+0000）があります"),
                        ))
                        .into());
                    }
                }
            }
        }
    }
    next.call(req).await
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// Start the HTTP server on a bound listener.
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let grace = state.config.shutdown_grace_secs;
    let data = web::Data::new(state);
    let local = listener.local_addr()?;
    let builder = actix_server::Server::build();
    let shutting_down = builder.graceful_shutdown_signal();
    // actix-web's HttpServer, spelled out, with `wire::Intake` between the socket and the
    // HTTP/1.1 parser; the settings are HttpServer's defaults.
    let app = move || {
        let cfg = &data.config;
        let request_id = header::HeaderName::from_static("x-request-id");
        // Every method the API has, the headers its clients send, and the ones a browser script
        // must be able to read (a version, a new resource, a file name, when to come back).
        let mut cors = actix_cors::Cors::default()
            .allowed_methods(["GET", "HEAD", "POST", "PUT", "DELETE"])
            .allowed_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                header::ACCEPT,
                header::ACCEPT_LANGUAGE,
                request_id.clone(),
            ])
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                header::CONTENT_DISPOSITION,
                header::RETRY_AFTER,
                request_id,
            ])
            .max_age(3600);
        for origin in &cfg.cors_origins {
            cors = cors.allowed_origin(origin);
        }
        App::new()
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(cfg.max_json_bytes)
                    .error_handler(|e, _| json_error(e).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| query_error(e).into()))
            .app_data(web::PathConfig::default().error_handler(|e, _| path_error(e).into()))
            .wrap(from_fn(known_query))
            // gzip or brotli, as the client accepts: JSON lists and CSV files shrink several-fold.
            .wrap(actix_web::middleware::Compress::default())
            .wrap(cors)
            .wrap(from_fn(request_context))
            .configure(routes)
            .service(web::resource(crate::wire::REFUSED_PATH).to(crate::wire::refused))
            .default_service(web::to(not_found))
    };
    let server = builder
        .listen("kenshu", listener, move || {
            let signal = shutting_down.clone();
            let http = actix_http::HttpService::build()
                .graceful_shutdown_signal(move || {
                    let signal = signal.clone();
                    async move { signal.notified().await }
                })
                .client_request_timeout(std::time::Duration::from_secs(5))
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                .h1_allow_half_closed(true)
                .local_addr(local)
                .h1(actix_service::map_config(app(), |_| actix_web::dev::AppConfig::default()));
            use actix_service::ServiceFactoryExt as _;
            actix_service::fn_service(|io: actix_web::rt::net::TcpStream| {
                let peer = io.peer_addr().ok();
                std::future::ready(Ok((crate::wire::Intake::new(io), peer)))
            })
            .and_then(http)
        })?
        .shutdown_timeout(grace)
        // The binary handles SIGTERM itself (`shutdown`): it stops accepting, lets what is in
        // flight finish, then stops the workers.
        .disable_signals()
        .run();
    Ok(server)
}

/// Stop gracefully: accept nothing new, wait (up to the grace period) until no request is in
/// flight, then stop the workers and close the pool. Stopping the workers while one still ran a
/// request could break it: a worker's connections die with it.
pub async fn shutdown(server: actix_web::dev::ServerHandle, state: &AppState) {
    let grace = std::time::Duration::from_secs(state.config.shutdown_grace_secs);
    let started = Instant::now();
    server.pause().await;
    while state.in_flight.load(std::sync::atomic::Ordering::SeqCst) > 0 && started.elapsed() < grace {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let left = state.in_flight.load(std::sync::atomic::Ordering::SeqCst);
    tracing::info!(left_in_flight = left, waited_ms = started.elapsed().as_millis() as u64, "stopping");
    server.stop(true).await;
    if let Err(e) = state.db.clone().close().await {
        tracing::warn!(error = %e, "closing the database pool");
    }
}

/// Structured logs on stdout: JSON lines by default, with the request id of the request span.
pub fn init_logging(format: crate::config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KENSHU_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        crate::config::LogFormat::Json => {
            builder.json().with_current_span(true).with_span_list(false).try_init()
        }
        crate::config::LogFormat::Pretty => builder.try_init(),
    };
}
