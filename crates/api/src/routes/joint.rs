//! 合同研修 (joint training): a host shares a course with other organisations, each with its own
//! places (`/courses/{id}/shares`); each participant's training office answers what it is offered
//! (`/joint-offers`) and, once it takes part, selects its own staff on a course of its own through
//! the usual routes. The host sees the combined roster with only what running the course needs.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use kenshu_domain::absence::SessionWindow;
use kenshu_domain::attendance::{excused, AttendanceEntry, AttendanceStatus};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::calendar::jst;
use kenshu_domain::catalogue::{Category, Delivery, NUMBER_MAX};
use kenshu_domain::joint::{Places, ShareState};
use kenshu_domain::selection::NominationState;
use kenshu_domain::FieldError;
use kenshu_persistence::entities::organisation;
use kenshu_persistence::repo::joint::{
    self as repo, JointEntry, JointSheetLine, OfferRecord, RosterEntry, ShareRecord,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{created, if_match, json_with_etag, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::attendance::{check_entry_count, entry_errors};
use crate::state::AppState;

/// An organisation as the other side of a share sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationRefDto {
    pub code: String,
    pub name: String,
}

impl From<&organisation::Model> for OrganisationRefDto {
    fn from(o: &organisation::Model) -> Self {
        Self { code: o.code.clone(), name: o.name.clone() }
    }
}

/// 合同研修の共有: a course shared by its host with one participating organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01939a4e-7c1a-7d2e-8f00-0000000000d1",
    "course_id": "01939a4e-7c1a-7d2e-8f00-0000000000c7",
    "host": {"code": "isehara", "name": "伊勢原市"},
    "participant": {"code": "atsugi", "name": "厚木市"},
    "places": 3,
    "state": "accepted",
    "selected": 2,
    "version": 2
}))]
pub struct ShareDto {
    pub id: Uuid,
    /// The host's course.
    pub course_id: Uuid,
    pub host: OrganisationRefDto,
    pub participant: OrganisationRefDto,
    /// The participant's places (its course's headcount once accepted).
    pub places: u32,
    pub state: ShareState,
    /// Trainees the participant has selected (places taken on its course).
    pub selected: u64,
    pub version: i32,
}

impl ShareDto {
    fn new(r: &ShareRecord) -> Self {
        Self {
            id: r.share.id,
            course_id: r.share.course_id,
            host: (&r.host).into(),
            participant: (&r.participant).into(),
            places: r.share.places as u32,
            state: r.state,
            selected: r.selected,
            version: r.share.version,
        }
    }
}

/// A course's shares.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareList {
    pub items: Vec<ShareDto>,
    /// Places held for other organisations by live shares (offered or accepted).
    pub shared_places: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organisation": "atsugi", "places": 3}))]
pub struct ShareInput {
    /// The participating organisation's code.
    #[schema(min_length = 1, max_length = 64)]
    pub organisation: String,
    #[schema(minimum = 1, maximum = 500)]
    pub places: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"places": 4}))]
pub struct PlacesInput {
    #[schema(minimum = 1, maximum = 500)]
    pub places: i64,
}

/// What the host does to a share.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HostShareEvent {
    /// Take the share back: an accepted participant's course is cancelled and its trainees told.
    Cancel,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "cancel"}))]
pub struct HostShareEventInput {
    pub event: HostShareEvent,
}

fn share_response(status: StatusCode, r: &ShareRecord) -> HttpResponse {
    json_with_etag(status, r.share.version, &ShareDto::new(r))
}

/// Share a course with another organisation, with its places (host's HR). The participant's
/// training office sees it under `/joint-offers` and answers it. A share that was declined,
/// withdrawn or taken back is offered again (same id, its version moves on). A course taken part
/// in from another organisation's share is not shared on.
#[utoipa::path(post, operation_id = "share_course", path = "/api/v1/courses/{id}/shares", tag = "joint",
    request_body = ShareInput, params(("id" = Uuid, Path)),
    responses((status = 201, body = ShareDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such course in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Shared with this organisation already (offered or accepted), a cancelled course, or a course taken part in from another's share", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such organisation, your own, or places out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn share_course(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<ShareInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageShares)?;
    let body = body.into_inner();
    let places = Places::parse(body.places).map_err(ApiError::validation)?;
    let txn = state.db.begin_write().await?;
    let r = repo::share_course(&txn, &auth.actor(), *id, &body.organisation, places).await?;
    txn.commit().await?;
    let location = format!("/api/v1/courses/{}/shares/{}", r.share.course_id, r.share.id);
    Ok(created(r.share.version, &location, &ShareDto::new(&r)))
}

/// A course's shares with their places and how many each participant has selected (HR,
/// auditors).
#[utoipa::path(get, operation_id = "list_course_shares", path = "/api/v1/courses/{id}/shares", tag = "joint",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ShareList),
        (status = 404, description = "No such course in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn list_shares(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadShares)?;
    let shares = repo::shares_of_course(state.db.conn(), auth.principal.org_id, *id).await?;
    let shared_places = shares.iter().filter(|s| s.state.is_live()).map(|s| s.share.places as u32).sum();
    let items = shares.iter().map(ShareDto::new).collect();
    Ok(HttpResponse::Ok().json(ShareList { items, shared_places }))
}

/// One share of a course (HR, auditors).
#[utoipa::path(get, operation_id = "get_course_share", path = "/api/v1/courses/{id}/shares/{share_id}", tag = "joint",
    params(("id" = Uuid, Path), ("share_id" = Uuid, Path)),
    responses((status = 200, body = ShareDto, headers(("ETag" = String))),
        (status = 404, description = "No such share of a course of yours", body = Problem, content_type = "application/problem+json")))]
pub async fn get_share(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadShares)?;
    let (course_id, share_id) = path.into_inner();
    let r = repo::share_of_course(state.db.conn(), auth.principal.org_id, course_id, share_id).await?;
    Ok(share_response(StatusCode::OK, &r))
}

/// Change a share's places (host's HR; `If-Match`). On an accepted share the participant's
/// course takes them as headcount at once: more places move its waiting list up; fewer than it
/// has selected are refused (it cancels nominations first). To give a place one organisation
/// does not use to another, lower the one and raise the other.
#[utoipa::path(put, operation_id = "change_share_places", path = "/api/v1/courses/{id}/shares/{share_id}", tag = "joint",
    request_body = PlacesInput,
    params(("id" = Uuid, Path), ("share_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the share read")),
    responses((status = 200, body = ShareDto, headers(("ETag" = String))),
        (status = 404, description = "No such share of a course of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The share is declined, withdrawn or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Places out of range or below what the participant has selected", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn change_places(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<PlacesInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageShares)?;
    let (course_id, share_id) = path.into_inner();
    let places = Places::parse(body.places).map_err(ApiError::validation)?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let r = repo::change_places(&txn, &auth.actor(), course_id, share_id, &version, places).await?;
    txn.commit().await?;
    Ok(share_response(StatusCode::OK, &r))
}

/// The host acts on a share (HR; `If-Match`): `cancel` takes it back. Cancelling the course
/// itself takes back every share.
#[utoipa::path(post, operation_id = "course_share_event", path = "/api/v1/courses/{id}/shares/{share_id}/events", tag = "joint",
    request_body = HostShareEventInput,
    params(("id" = Uuid, Path), ("share_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the share read")),
    responses((status = 200, body = ShareDto, headers(("ETag" = String))),
        (status = 404, description = "No such share of a course of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not from the share's state (`invalid-transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn share_event(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<HostShareEventInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageShares)?;
    let (course_id, share_id) = path.into_inner();
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let r = match body.event {
        HostShareEvent::Cancel => {
            repo::cancel_share(&txn, &auth.actor(), course_id, share_id, &version).await?
        }
    };
    txn.commit().await?;
    Ok(share_response(StatusCode::OK, &r))
}

/// One trainee on a joint course's combined roster: only what running the course needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JointTraineeDto {
    /// Names the trainee on the host's joint sign-in sheet (their nomination in their own
    /// organisation).
    pub trainee_id: Uuid,
    pub organisation: OrganisationRefDto,
    pub name: String,
    pub name_kana: String,
    /// 所属 (課名).
    pub section: String,
    /// 職級.
    pub grade: Option<String>,
    pub state: NominationState,
    /// The host's session the trainee is placed on, when placed on one.
    pub session_id: Option<Uuid>,
}

impl JointTraineeDto {
    fn new(e: RosterEntry) -> Self {
        Self {
            trainee_id: e.trainee_id,
            organisation: (&e.organisation).into(),
            name: e.trainee.name,
            name_kana: e.trainee.name_kana,
            section: e.trainee.section,
            grade: e.trainee.grade,
            state: e.nomination_state,
            session_id: e.session_id,
        }
    }
}

/// Totals of one organisation on a joint course.
#[derive(Debug, Serialize, ToSchema)]
pub struct JointTotalDto {
    pub organisation: OrganisationRefDto,
    /// Holding a place (selected, notified or completed).
    pub trainees: u64,
    /// 修了者
    pub completed: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JointRoster {
    /// The host's trainees first, then each participant's, each in kana order.
    pub items: Vec<JointTraineeDto>,
    pub by_organisation: Vec<JointTotalDto>,
}

/// The combined roster of a course the caller's organisation hosts (HR, auditors): its own
/// trainees and every participant's, with name, kana, organisation, section and grade only.
#[utoipa::path(get, operation_id = "joint_roster", path = "/api/v1/courses/{id}/joint-roster", tag = "joint",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = JointRoster),
        (status = 404, description = "No such course hosted by your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn joint_roster(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadShares)?;
    let roster = repo::combined_roster(state.db.conn(), auth.principal.org_id, *id).await?;
    let mut by_organisation: Vec<JointTotalDto> = Vec::new();
    for e in &roster {
        if by_organisation.last().is_none_or(|t| t.organisation.code != e.organisation.code) {
            by_organisation.push(JointTotalDto {
                organisation: (&e.organisation).into(),
                trainees: 0,
                completed: 0,
            });
        }
        let t = by_organisation.last_mut().expect("pushed above");
        t.trainees += 1;
        t.completed += u64::from(e.nomination_state == NominationState::Completed);
    }
    let items = roster.into_iter().map(JointTraineeDto::new).collect();
    Ok(HttpResponse::Ok().json(JointRoster { items, by_organisation }))
}

// ---------------------------------------------------------------------------------------------
// The host's sign-in sheet for other organisations' trainees

/// One trainee of another organisation on a session the caller's organisation hosts.
#[derive(Debug, Serialize, ToSchema)]
pub struct JointSheetLineDto {
    pub trainee_id: Uuid,
    pub organisation: OrganisationRefDto,
    pub name: String,
    pub name_kana: String,
    pub section: String,
    pub grade: Option<String>,
    /// Holds a place on this session.
    pub expected: bool,
    /// Null until recorded.
    pub status: Option<AttendanceStatus>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub arrived_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub left_at: Option<DateTime<FixedOffset>>,
    /// For an irregularity: whether the trainee's own organisation received an absence notice
    /// that covers it (the notice and its reason stay there).
    pub excused: Option<bool>,
    /// The trainee's organisation has received an absence notice for this session (欠席届受理);
    /// known before the day, without its reason.
    pub absence_notified: bool,
    /// The notice's reason, only when the trainee's organisation shares it with the host.
    pub absence_reason: Option<String>,
}

/// 出席簿 (合同研修): other organisations' trainees on a session of a course you host; your own
/// staff are on the session's own sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct JointSheet {
    pub session_id: Uuid,
    /// Each participant's trainees in kana order.
    pub lines: Vec<JointSheetLineDto>,
}

fn joint_sheet_dto(session_id: Uuid, lines: Vec<JointSheetLine>) -> ApiResult<JointSheet> {
    let lines = lines
        .into_iter()
        .map(|l| {
            let status = l.record.as_ref().map(|r| r.status()).transpose()?;
            Ok(JointSheetLineDto {
                trainee_id: l.trainee_id,
                organisation: (&l.organisation).into(),
                name: l.trainee.name,
                name_kana: l.trainee.name_kana,
                section: l.trainee.section,
                grade: l.trainee.grade,
                expected: l.expected,
                excused: status.and_then(|s| excused(s, l.notice_received)),
                absence_notified: l.notice_received,
                absence_reason: l.shared_reason,
                status,
                arrived_at: l.record.as_ref().and_then(|r| r.arrived_at).map(|t| t.with_timezone(&jst())),
                left_at: l.record.as_ref().and_then(|r| r.left_at).map(|t| t.with_timezone(&jst())),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(JointSheet { session_id, lines })
}

/// The joint sign-in sheet of a session of a course your organisation hosts (HR, auditors).
#[utoipa::path(get, operation_id = "get_joint_attendance", path = "/api/v1/courses/{id}/sessions/{session_id}/joint-attendance", tag = "joint",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 200, body = JointSheet),
        (status = 404, description = "No such session of a course your organisation hosts", body = Problem, content_type = "application/problem+json")))]
pub async fn get_joint_attendance(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadNominations)?;
    let (course_id, session_id) = path.into_inner();
    let lines = repo::joint_sheet(state.db.conn(), auth.principal.org_id, course_id, session_id).await?;
    Ok(HttpResponse::Ok().json(joint_sheet_dto(session_id, lines)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JointAttendanceInput {
    /// `trainee_id` from the joint sheet or the combined roster.
    pub trainee_id: Uuid,
    pub status: AttendanceStatus,
    /// Required when late: the arrival time, inside the session.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub arrived_at: Option<DateTime<FixedOffset>>,
    /// Required when leaving early: the leaving time, inside the session.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub left_at: Option<DateTime<FixedOffset>>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"entries": [{"trainee_id": "01939a4e-7c1a-7d2e-8f00-0000000000e1", "status": "present"}]}))]
pub struct JointSheetInput {
    #[schema(min_items = 1, max_items = 2000)]
    pub entries: Vec<JointAttendanceInput>,
}

/// What recording the joint sheet did, and the sheet after.
#[derive(Debug, Serialize, ToSchema)]
pub struct JointRecordReport {
    pub created: u64,
    /// Corrections, each in the trainee's organisation's audit log with before and after.
    pub corrected: u64,
    pub unchanged: u64,
    /// Trainees this sheet completed (修了) in their own organisations.
    pub completed: u64,
    pub sheet: JointSheet,
}

/// Record other organisations' trainees' attendance at a session you host (HR). All or nothing:
/// every bad entry is named (422) and nothing is written. Each record is written in the
/// trainee's own organisation, signed by your organisation, and reaches their training history
/// and their organisation's results; a trainee whose attendance completes the course moves to
/// completed there.
#[utoipa::path(put, operation_id = "record_joint_attendance", path = "/api/v1/courses/{id}/sessions/{session_id}/joint-attendance", tag = "joint",
    request_body = JointSheetInput, params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 200, body = JointRecordReport),
        (status = 404, description = "No such session of a course your organisation hosts", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Attendance was recorded, or a trainee's place changed, meanwhile; read the sheet again", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Entries naming no trainee of a participant on the session, repeated, or with times that do not fit", body = Problem, content_type = "application/problem+json")))]
pub async fn record_joint_attendance(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<JointSheetInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::RecordAttendance)?;
    let (course_id, session_id) = path.into_inner();
    let org_id = auth.principal.org_id;
    let session =
        kenshu_persistence::repo::catalogue::get_session(state.db.conn(), org_id, course_id, session_id)
            .await?;
    let entries = body.into_inner().entries;
    check_entry_count(entries.len())?;
    let window = SessionWindow { starts_at: session.starts_at, ends_at: session.ends_at };
    let mut errors = Vec::new();
    let mut valid = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        if e.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            errors.push((i, FieldError::length("note", "at most 500 characters")));
        }
        let entry = AttendanceEntry {
            status: e.status,
            arrived_at: e.arrived_at.map(|t| t.with_timezone(&Utc)),
            left_at: e.left_at.map(|t| t.with_timezone(&Utc)),
        };
        match entry.validate(window, "") {
            Ok(entry) => valid.push(JointEntry {
                trainee_id: e.trainee_id,
                entry,
                note: e.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
            }),
            Err(es) => errors.extend(es.into_iter().map(|e| (i, e))),
        }
    }
    if !errors.is_empty() {
        return Err(entry_errors(errors));
    }
    let txn = state.db.begin_write().await?;
    let outcome =
        repo::record_joint(&txn, &auth.actor(), course_id, session_id, valid).await?.map_err(entry_errors)?;
    txn.commit().await?;
    let lines = repo::joint_sheet(state.db.conn(), org_id, course_id, session_id).await?;
    Ok(HttpResponse::Ok().json(JointRecordReport {
        created: outcome.created,
        corrected: outcome.corrected,
        unchanged: outcome.unchanged,
        completed: outcome.completed.len() as u64,
        sheet: joint_sheet_dto(session_id, lines)?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"share_reason": true}))]
pub struct HostSharingInput {
    /// Let the host of the joint course see the notice's reason on its joint sign-in sheet.
    pub share_reason: bool,
}

/// What the host of a joint course sees of an absence notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct HostSharingDto {
    pub absence_notice_id: Uuid,
    pub share_reason: bool,
    pub version: i32,
}

/// The trainee's training office lets the host of a joint course see an absence notice's reason,
/// or stops it (HR of the trainee's organisation; `If-Match` with the notice's ETag). Without
/// it the host sees only that the absence is notified and whether it is excused.
#[utoipa::path(put, operation_id = "share_absence_reason", path = "/api/v1/absence-notices/{id}/host-sharing", tag = "joint",
    request_body = HostSharingInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the absence notice read")),
    responses((status = 200, body = HostSharingDto, headers(("ETag" = String))),
        (status = 404, description = "No such absence notice in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The notice is not for a joint course", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn share_absence_reason(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<HostSharingInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::AnswerShare)?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let n = repo::share_absence_reason(&txn, &auth.actor(), *id, &version, body.share_reason).await?;
    txn.commit().await?;
    let dto = HostSharingDto {
        absence_notice_id: n.id,
        share_reason: n.reason_shared_with_host,
        version: n.version,
    };
    Ok(json_with_etag(StatusCode::OK, n.version, &dto))
}

// ---------------------------------------------------------------------------------------------
// The participant's side

/// A session of the host's course, as offered.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferedSessionDto {
    #[schema(value_type = String, format = DateTime, example = "2023-10-12T09:00:00+09:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2023-10-12T17:00:00+09:00")]
    pub ends_at: DateTime<FixedOffset>,
    pub venue: Option<String>,
    pub online_url: Option<String>,
}

/// The host's course, as offered.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferedCourseDto {
    pub fiscal_year: i32,
    pub category: Category,
    pub number: u32,
    pub title: String,
    pub purpose: Option<String>,
    pub content: Option<String>,
    pub delivery: Delivery,
    pub institution: Option<String>,
    pub sessions: Vec<OfferedSessionDto>,
}

/// A share offered to the caller's organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferDto {
    #[serde(flatten)]
    pub share: ShareDto,
    pub course: OfferedCourseDto,
    /// The caller's own course for it, once accepted.
    pub your_course_id: Option<Uuid>,
}

impl OfferDto {
    fn new(o: &OfferRecord) -> Self {
        let m = &o.course.model;
        Self {
            share: ShareDto::new(&o.share),
            course: OfferedCourseDto {
                fiscal_year: m.fiscal_year,
                category: o.course.category,
                number: m.number as u32,
                title: m.title.clone(),
                purpose: m.purpose.clone(),
                content: m.content.clone(),
                delivery: o.course.delivery,
                institution: m.institution.clone(),
                sessions: o
                    .sessions
                    .iter()
                    .map(|s| OfferedSessionDto {
                        starts_at: s.starts_at.with_timezone(&jst()),
                        ends_at: s.ends_at.with_timezone(&jst()),
                        venue: s.venue.clone(),
                        online_url: s.online_url.clone(),
                    })
                    .collect(),
            },
            your_course_id: o.share.share.participant_course_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    /// Newest first.
    pub items: Vec<OfferDto>,
}

/// Every joint course offered to the caller's organisation, answered or not (HR, auditors).
#[utoipa::path(get, operation_id = "list_joint_offers", path = "/api/v1/joint-offers", tag = "joint",
    responses((status = 200, body = OfferList)))]
pub async fn list_offers(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadShares)?;
    let offers = repo::offers(state.db.conn(), auth.principal.org_id).await?;
    Ok(HttpResponse::Ok().json(OfferList { items: offers.iter().map(OfferDto::new).collect() }))
}

fn offer_response(status: StatusCode, o: &OfferRecord) -> HttpResponse {
    json_with_etag(status, o.share.share.version, &OfferDto::new(o))
}

/// One joint course offered to the caller's organisation (HR, auditors).
#[utoipa::path(get, operation_id = "get_joint_offer", path = "/api/v1/joint-offers/{id}", tag = "joint",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = OfferDto, headers(("ETag" = String))),
        (status = 404, description = "Nothing offered to your organisation under this id", body = Problem, content_type = "application/problem+json")))]
pub async fn get_offer(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadShares)?;
    let o = repo::get_offer(state.db.conn(), auth.principal.org_id, *id).await?;
    Ok(offer_response(StatusCode::OK, &o))
}

/// What a participant does with an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferEvent {
    /// Take part: a course of your own in your plan for the year (a draft, with the host's
    /// title, content, report and completion rules and sessions, the places as headcount, and
    /// no audience rules: set your own, then publish it).
    Accept,
    /// Not take part.
    Decline,
    /// Leave after accepting: your course is cancelled (trainees told), the places go back.
    Withdraw,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "accept", "number": 7}))]
pub struct OfferEventInput {
    pub event: OfferEvent,
    /// For `accept`: the course's number in your plan (the host's when absent).
    #[schema(minimum = 1, maximum = 999)]
    pub number: Option<u32>,
}

/// Answer an offer (participant's HR; `If-Match`): `accept`, `decline`, or `withdraw` after
/// accepting. Accepting needs your organisation's plan for the course's fiscal year.
#[utoipa::path(post, operation_id = "joint_offer_event", path = "/api/v1/joint-offers/{id}/events", tag = "joint",
    request_body = OfferEventInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the offer read")),
    responses((status = 200, body = OfferDto, headers(("ETag" = String))),
        (status = 404, description = "Nothing offered to your organisation under this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not from the share's state (`invalid-transition`), no plan for the year, or the number is taken in your plan", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A number out of range, or with another event than accept", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn offer_event(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<OfferEventInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::AnswerShare)?;
    let body = body.into_inner();
    match body.number {
        Some(_) if body.event != OfferEvent::Accept => {
            return Err(ApiError::validation(FieldError::conflict("number", "is given only to accept")))
        }
        Some(n) if !(1..=NUMBER_MAX).contains(&n) => {
            return Err(ApiError::validation(FieldError::range(
                "number",
                format!("must be 1 to {NUMBER_MAX}"),
            )))
        }
        _ => {}
    }
    let version = if_match(&req)?;
    let actor = auth.actor();
    let txn = state.db.begin_write().await?;
    let id = *id;
    match body.event {
        OfferEvent::Accept => {
            repo::accept(&txn, &actor, id, &version, body.number).await?;
        }
        OfferEvent::Decline => {
            repo::decline(&txn, &actor, id, &version).await?;
        }
        OfferEvent::Withdraw => {
            repo::withdraw(&txn, &actor, id, &version).await?;
        }
    }
    txn.commit().await?;
    let o = repo::get_offer(state.db.conn(), auth.principal.org_id, id).await?;
    Ok(offer_response(StatusCode::OK, &o))
}
