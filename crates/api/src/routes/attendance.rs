//! 出欠: a session's sign-in sheet, recorded by HR in one request; completion follows from it.

use std::collections::HashSet;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use kenshu_domain::absence::{NoticeState, SessionWindow};
use kenshu_domain::attendance::{excused, AttendanceEntry, AttendanceStatus};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::calendar::jst;
use kenshu_domain::FieldError;
use kenshu_persistence::entities::course_session;
use kenshu_persistence::repo::attendance::{self as repo, Recording, SheetLine, Source};
use kenshu_persistence::repo::catalogue;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::selection::EmployeeRefDto;
use crate::state::AppState;

/// One trainee on a sign-in sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetLineDto {
    pub nomination_id: Uuid,
    pub employee: EmployeeRefDto,
    /// Holds a place on this session and the session counts for them; false for someone recorded
    /// who no longer does (cancelled after the session, say).
    pub expected: bool,
    /// Null until recorded.
    pub status: Option<AttendanceStatus>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub arrived_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub left_at: Option<DateTime<FixedOffset>>,
    pub note: Option<String>,
    /// For an irregularity (absent, late, left early): whether a received absence notice covers
    /// it. Null when present or not recorded.
    pub excused: Option<bool>,
    /// The trainee's live absence notice for the session.
    pub absence_notice_id: Option<Uuid>,
    pub absence_notice_state: Option<NoticeState>,
    pub recorded_by: Option<String>,
    /// sheet, import or check_in.
    pub source: Option<String>,
}

/// Counts over the expected trainees.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SheetCounts {
    pub expected: u64,
    pub present: u64,
    pub late: u64,
    pub left_early: u64,
    pub absent: u64,
    pub unrecorded: u64,
    /// Irregularities covered by a received absence notice.
    pub excused: u64,
    pub unexcused: u64,
}

/// 出席簿: who is expected at a session and how each attended.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceSheet {
    pub course_id: Uuid,
    pub session_id: Uuid,
    /// In employee-number order.
    pub lines: Vec<SheetLineDto>,
    pub counts: SheetCounts,
}

fn sheet_dto(session: &course_session::Model, lines: &[SheetLine]) -> AttendanceSheet {
    let mut counts = SheetCounts::default();
    let lines = lines
        .iter()
        .map(|l| {
            let status = l.record.as_ref().and_then(|r| AttendanceStatus::parse(&r.status));
            let excused = status.and_then(|s| excused(s, repo::notice_received(l.notice.as_ref())));
            if l.expected {
                counts.expected += 1;
                match status {
                    None => counts.unrecorded += 1,
                    Some(AttendanceStatus::Present) => counts.present += 1,
                    Some(AttendanceStatus::Late) => counts.late += 1,
                    Some(AttendanceStatus::LeftEarly) => counts.left_early += 1,
                    Some(AttendanceStatus::Absent) => counts.absent += 1,
                }
                match excused {
                    Some(true) => counts.excused += 1,
                    Some(false) => counts.unexcused += 1,
                    None => {}
                }
            }
            SheetLineDto {
                nomination_id: l.nomination.id,
                employee: EmployeeRefDto::from(&l.employee),
                expected: l.expected,
                status,
                arrived_at: l.record.as_ref().and_then(|r| r.arrived_at).map(|t| t.with_timezone(&jst())),
                left_at: l.record.as_ref().and_then(|r| r.left_at).map(|t| t.with_timezone(&jst())),
                note: l.record.as_ref().and_then(|r| r.note.clone()),
                excused,
                absence_notice_id: l.notice.as_ref().map(|n| n.id),
                absence_notice_state: l.notice.as_ref().and_then(|n| NoticeState::parse(&n.state)),
                recorded_by: l.record.as_ref().map(|r| r.recorded_by.clone()),
                source: l.record.as_ref().map(|r| r.source.clone()),
            }
        })
        .collect();
    AttendanceSheet { course_id: session.course_id, session_id: session.id, lines, counts }
}

/// A session's sign-in sheet (HR, auditors): every trainee expected (holding a place on the
/// session, which counts for them), how each attended, and whether irregularities are excused.
#[utoipa::path(get, operation_id = "get_attendance", path = "/api/v1/courses/{id}/sessions/{session_id}/attendance", tag = "attendance",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 200, body = AttendanceSheet),
        (status = 404, description = "No such course or session in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn get_sheet(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadNominations)?;
    let (course_id, session_id) = path.into_inner();
    let org_id = auth.principal.org_id;
    let session = catalogue::get_session(state.db.conn(), org_id, course_id, session_id).await?;
    let lines = repo::sheet(state.db.conn(), org_id, &session).await?;
    Ok(HttpResponse::Ok().json(sheet_dto(&session, &lines)))
}

/// One trainee's attendance.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    /// 職員番号 of a trainee on the session.
    #[schema(min_length = 1, max_length = 20)]
    pub employee_no: String,
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

/// A sign-in sheet: any number of trainees of the session, each once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"entries": [
    {"employee_no": "10009", "status": "present"},
    {"employee_no": "10010", "status": "late", "arrived_at": "2023-07-12T09:40:00+09:00", "note": "電車遅延"}
]}))]
pub struct SheetInput {
    #[schema(min_items = 1, max_items = 2000)]
    pub entries: Vec<AttendanceInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordResult {
    pub created: u64,
    /// Records that differed: each correction is in the audit log with before and after.
    pub corrected: u64,
    pub unchanged: u64,
    /// Nominations this sheet completed (修了).
    pub completed: Vec<Uuid>,
    /// Completions a correction undid.
    pub reopened: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordReport {
    pub result: RecordResult,
    pub sheet: AttendanceSheet,
}

/// Resolve and check every entry; every fault is named before anything is written.
async fn recordings(
    state: &AppState,
    org_id: Uuid,
    session: &course_session::Model,
    entries: Vec<AttendanceInput>,
) -> ApiResult<Vec<Recording>> {
    if entries.is_empty() || entries.len() > 2000 {
        return Err(ApiError::validation("entries", "give 1 to 2000 entries"));
    }
    let numbers: Vec<String> = entries.iter().map(|e| e.employee_no.trim().to_string()).collect();
    let trainees = repo::trainees_by_number(state.db.conn(), org_id, session, &numbers).await?;
    let window = SessionWindow { starts_at: session.starts_at, ends_at: session.ends_at };
    let mut errors: Vec<FieldError> = Vec::new();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (i, (e, no)) in entries.into_iter().zip(numbers).enumerate() {
        let prefix = format!("entries[{i}].");
        if !seen.insert(no.clone()) {
            errors.push(FieldError::new(format!("{prefix}employee_no"), format!("{no} appears twice")));
            continue;
        }
        let note = e.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            errors.push(FieldError::new(format!("{prefix}note"), "at most 500 characters"));
        }
        let entry = AttendanceEntry {
            status: e.status,
            arrived_at: e.arrived_at.map(|t| t.with_timezone(&Utc)),
            left_at: e.left_at.map(|t| t.with_timezone(&Utc)),
        };
        let entry = entry.validate(window, &prefix).map_err(|e| errors.extend(e)).ok();
        match (trainees.get(&no), entry) {
            (Some(n), Some(entry)) => out.push(Recording { nomination: n.clone(), entry, note }),
            (None, _) => errors.push(FieldError::new(
                format!("{prefix}employee_no"),
                format!("{no} holds no place on this session"),
            )),
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Record a session's attendance (HR): the whole sign-in sheet or part of it, in one request.
/// All or nothing: every bad entry is named (422) and nothing is written. Recording the same
/// sheet twice changes nothing; a different entry is a correction, audited. A trainee whose
/// every session that counts is attended moves to completed (修了); a correction that undoes that
/// moves them back to notified.
#[utoipa::path(put, operation_id = "record_attendance", path = "/api/v1/courses/{id}/sessions/{session_id}/attendance", tag = "attendance",
    request_body = SheetInput, params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 200, body = RecordReport),
        (status = 404, description = "No such course or session in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Attendance was recorded meanwhile; read the sheet again", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every entry that is not a trainee of the session, repeats one, or has times that do not fit", body = Problem, content_type = "application/problem+json")))]
pub async fn record_sheet(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<SheetInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::RecordAttendance)?;
    let (course_id, session_id) = path.into_inner();
    let org_id = auth.principal.org_id;
    let session = catalogue::get_session(state.db.conn(), org_id, course_id, session_id).await?;
    let recordings = recordings(&state, org_id, &session, body.into_inner().entries).await?;
    let txn = state.db.begin_write().await?;
    let outcome = repo::record(&*txn, &auth.actor(), &session, recordings, Source::Sheet).await?;
    txn.commit().await?;
    let lines = repo::sheet(state.db.conn(), org_id, &session).await?;
    Ok(HttpResponse::Ok().json(RecordReport {
        result: RecordResult {
            created: outcome.created,
            corrected: outcome.corrected,
            unchanged: outcome.unchanged,
            completed: outcome.completed,
            reopened: outcome.reopened,
        },
        sheet: sheet_dto(&session, &lines),
    }))
}
