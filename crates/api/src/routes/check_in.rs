//! Self check-in (出席登録) from a phone: HR opens it for a running session and shows a code that
//! changes every minute, as text and as a QR image; a trainee on the session enters or scans the
//! current code during the session window and is recorded present, or late after the start.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use kenshu_domain::absence::SessionWindow;
use kenshu_domain::attendance::AttendanceStatus;
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::calendar::jst;
use kenshu_domain::check_in::{
    code_at, entry_at, qr_svg, qr_text, shown_until, verify, within_window, CheckInError, OPENS_BEFORE_START,
};
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use kenshu_persistence::entities::{course_session, session_check_in};
use kenshu_persistence::repo::attendance::trainees_by_number;
use kenshu_persistence::repo::catalogue;
use kenshu_persistence::repo::check_in::{self as repo, CheckedIn};
use kenshu_persistence::repo::joint;
use kenshu_persistence::RepoError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::Json;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// Check-in of one session, as the training office's screen shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInStatus {
    pub session_id: Uuid,
    pub open: bool,
    pub opened_by: Option<String>,
    pub opened_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The code to show now (while open and within the session window): six digits.
    pub code: Option<String>,
    /// When the code changes.
    pub code_valid_until: Option<DateTime<Utc>>,
    /// The QR image of the code (SVG), while a code is shown.
    pub qr_url: Option<String>,
    /// Trainees may check in from 30 minutes before the start.
    pub opens_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

fn window(s: &course_session::Model) -> SessionWindow {
    SessionWindow { starts_at: s.starts_at, ends_at: s.ends_at }
}

fn secret(c: &session_check_in::Model) -> Vec<u8> {
    c.secret.as_bytes().to_vec()
}

fn status(course_id: Uuid, s: &course_session::Model, c: Option<&session_check_in::Model>) -> CheckInStatus {
    let now = Utc::now();
    let open = c.filter(|c| c.closed_at.is_none());
    let showing = open.filter(|_| within_window(window(s), now).is_ok());
    CheckInStatus {
        session_id: s.id,
        open: open.is_some(),
        opened_by: c.map(|c| c.opened_by.clone()),
        opened_at: c.map(|c| c.opened_at),
        closed_at: c.and_then(|c| c.closed_at),
        code: showing.map(|c| code_at(&secret(c), s.id, now)),
        code_valid_until: showing.map(|_| shown_until(now)),
        qr_url: showing.map(|_| format!("/api/v1/courses/{course_id}/sessions/{}/check-in/qr.svg", s.id)),
        opens_at: s.starts_at - OPENS_BEFORE_START,
        ends_at: s.ends_at,
    }
}

/// The session of a course whose check-in HR manages.
async fn hr_session(
    state: &AppState,
    auth: &Auth,
    (course_id, session_id): (Uuid, Uuid),
) -> ApiResult<(Uuid, course_session::Model)> {
    authorize(&auth.principal, Action::RecordAttendance)?;
    let session =
        catalogue::get_session(state.db.conn(), auth.principal.org_id, course_id, session_id).await?;
    Ok((course_id, session))
}

const NOT_OPEN: Words =
    Words::fixed("check-in is not open for this session", "この日程の出席登録は開始されていません");

fn window_error(e: CheckInError) -> ApiError {
    ApiError::Conflict(e.words())
}

/// Open self check-in for a session (HR): from 30 minutes before its start until its end.
/// Opening an open one changes nothing; reopening a closed one makes a new series of codes.
#[utoipa::path(post, operation_id = "open_check_in", path = "/api/v1/courses/{id}/sessions/{session_id}/check-in", tag = "attendance",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 200, body = CheckInStatus),
        (status = 404, description = "No such course or session in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too early (more than 30 minutes before the start) or the session has ended", body = Problem, content_type = "application/problem+json")))]
pub async fn open_check_in(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (course_id, session) = hr_session(&state, &auth, path.into_inner()).await?;
    within_window(window(&session), Utc::now()).map_err(window_error)?;
    let txn = state.db.begin_write().await?;
    let opened = repo::open(&txn, &auth.actor(), &session).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(status(course_id, &session, Some(&opened))))
}

/// The check-in of a session and the code to show now (HR).
#[utoipa::path(get, operation_id = "get_check_in", path = "/api/v1/courses/{id}/sessions/{session_id}/check-in", tag = "attendance",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 200, body = CheckInStatus),
        (status = 404, description = "No such course or session in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn get_check_in(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (course_id, session) = hr_session(&state, &auth, path.into_inner()).await?;
    let org_id = auth.principal.org_id;
    let c = repo::get(state.db.conn(), org_id, session.id).await?;
    let mut res = HttpResponse::Ok();
    // A code is good for a minute: no cache may keep it.
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    Ok(res.json(status(course_id, &session, c.as_ref())))
}

/// Close self check-in (HR); closing a closed one changes nothing.
#[utoipa::path(delete, operation_id = "close_check_in", path = "/api/v1/courses/{id}/sessions/{session_id}/check-in", tag = "attendance",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 200, body = CheckInStatus),
        (status = 404, description = "No such course or session, or check-in was never opened", body = Problem, content_type = "application/problem+json")))]
pub async fn close_check_in(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (course_id, session) = hr_session(&state, &auth, path.into_inner()).await?;
    let org_id = auth.principal.org_id;
    let c = repo::get(state.db.conn(), org_id, session.id).await?.ok_or(ApiError::NotFound)?;
    let txn = state.db.begin_write().await?;
    let closed = repo::close(&txn, &auth.actor(), &c).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(status(course_id, &session, Some(&closed))))
}

/// The current code as a QR image (SVG) for the screen in the room (HR). The image holds
/// `kenshu:check-in?session_id=…&code=…`.
#[utoipa::path(get, operation_id = "check_in_qr", path = "/api/v1/courses/{id}/sessions/{session_id}/check-in/qr.svg", tag = "attendance",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 200, description = "The QR image", content_type = "image/svg+xml", body = String),
        (status = 404, description = "No such course or session in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Check-in is not open, or outside the session window", body = Problem, content_type = "application/problem+json")))]
pub async fn check_in_qr(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (_, session) = hr_session(&state, &auth, path.into_inner()).await?;
    let org_id = auth.principal.org_id;
    let c = repo::get(state.db.conn(), org_id, session.id).await?.filter(|c| c.closed_at.is_none());
    let c = c.ok_or(ApiError::Conflict(NOT_OPEN))?;
    let now = Utc::now();
    within_window(window(&session), now).map_err(window_error)?;
    let svg = qr_svg(&qr_text(session.id, &code_at(&secret(&c), session.id, now)));
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(svg))
}

/// A check-in from the trainee's phone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"session_id": "01939a4e-7c1a-7d2e-8f00-000000000001", "code": "493027"}))]
pub struct CheckInInput {
    pub session_id: Uuid,
    /// The code shown in the room now.
    #[schema(max_length = 20)]
    pub code: String,
}

/// What the check-in recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInResult {
    pub session_id: Uuid,
    pub course_id: Uuid,
    /// `present`, or `late` after the start.
    pub status: AttendanceStatus,
    #[schema(value_type = String, format = DateTime)]
    pub arrived_at: Option<DateTime<FixedOffset>>,
    /// This check-in completed the course (修了).
    pub completed: bool,
}

/// Check myself in to a session I hold a place on, with the code shown now, from 30 minutes
/// before the start until the end; after the start it is recorded as late. Only for oneself:
/// the trainee is the caller. Checking in again returns the first check-in (200). At a joint
/// course's session (合同研修) the host's code and session id check a participant's trainee in
/// on their own organisation's copy of the session.
#[utoipa::path(post, operation_id = "check_in", path = "/api/v1/me/check-ins", tag = "me",
    request_body = CheckInInput,
    responses((status = 201, body = CheckInResult), (status = 200, description = "Checked in already", body = CheckInResult),
        (status = 404, description = "No such session in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Check-in is not open, outside the session window, the training office recorded your attendance already, or your place changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A wrong or expired code, or not your session", body = Problem, content_type = "application/problem+json")))]
pub async fn check_in(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<CheckInInput>,
) -> ApiResult<HttpResponse> {
    let p = &auth.principal;
    let Some(me) = p.employee else { return Err(ApiError::Forbidden) };
    let body = body.into_inner();
    // A six-digit code can be guessed by trying: a few wrong ones, then a wait.
    state.limits.check_in_allowed(me.employee_id, body.session_id)?;
    // 合同研修: the host's code names the host's session; a participant's trainee holds a place on
    // their own organisation's copy of it and checks in there with the host's code.
    let conn = state.db.conn();
    let (session, check, coded) = match repo::session(conn, p.org_id, body.session_id).await {
        Ok(session) => {
            let check = repo::get(conn, p.org_id, session.id).await?;
            let coded = session.id;
            (session, check, coded)
        }
        Err(RepoError::NotFound) => {
            let (copy, host_org) = joint::copy_of_host_session(conn, p.org_id, body.session_id).await?;
            (copy, repo::get(conn, host_org, body.session_id).await?, body.session_id)
        }
        Err(e) => return Err(e.into()),
    };
    let c = check.filter(|c| c.closed_at.is_none()).ok_or(ApiError::Conflict(NOT_OPEN))?;
    let now = Utc::now();
    within_window(window(&session), now).map_err(window_error)?;
    if body.code.chars().count() > 20 {
        return Err(ApiError::validation(FieldError::format("code", "the code is six digits")));
    }
    if let Err(e) = verify(&secret(&c), coded, &body.code, now) {
        // Logged without the code or the person.
        tracing::warn!(session_id = %session.id, "a wrong check-in code");
        state.limits.wrong_check_in_code(me.employee_id, session.id);
        return Err(ApiError::validation(FieldError::conflict("code", e.to_string())));
    }
    let mut mine =
        trainees_by_number(state.db.conn(), p.org_id, &session, std::slice::from_ref(&p.subject)).await?;
    let nomination = mine.remove(&p.subject).ok_or_else(|| {
        ApiError::validation(FieldError::not_found("session_id", "you hold no place on this session"))
    })?;
    let txn = state.db.begin_write().await?;
    let done =
        repo::check_in(&txn, &auth.actor(), &session, &nomination, entry_at(window(&session), now)).await?;
    txn.commit().await?;
    let (record, completed, code) = match done {
        CheckedIn::Recorded { record, outcome } => {
            (record, !outcome.completed.is_empty(), StatusCode::CREATED)
        }
        CheckedIn::Already(record) => (record, false, StatusCode::OK),
    };
    Ok(HttpResponse::build(code).json(CheckInResult {
        session_id: session.id,
        course_id: session.course_id,
        status: record.status()?,
        arrived_at: record.arrived_at.map(|t| t.with_timezone(&jst())),
        completed,
    }))
}
