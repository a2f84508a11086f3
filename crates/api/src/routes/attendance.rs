//! 出欠: a session's sign-in sheet, recorded by HR in one request; completion follows from it.

use kenshu_domain::Words;
use std::collections::HashSet;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use kenshu_domain::absence::{NoticeState, SessionWindow};
use kenshu_domain::attendance::{excused, AttendanceEntry, AttendanceStatus};
use kenshu_domain::attendance_io::{column_of_field, read_csv};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::calendar::{jst, tokyo_date};
use kenshu_domain::roster_import::RowError;
use kenshu_domain::spreadsheet::{Cell, Table};
use kenshu_domain::FieldError;
use kenshu_persistence::entities::course_session;
use kenshu_persistence::repo::attendance::{self as repo, Recording, SheetLine, Source};
use kenshu_persistence::repo::{catalogue, employee as employee_repo, structure};
use kenshu_persistence::WriteTxn;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::Json;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::files::{
    encoding_of, file_error, person_cells, read_body, EncodingParam, ListFile, PERSON_HEADERS,
};
use crate::routes::shared::EmployeeRefDto;
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

fn sheet_dto(session: &course_session::Model, lines: &[SheetLine]) -> ApiResult<AttendanceSheet> {
    let mut counts = SheetCounts::default();
    let lines = lines
        .iter()
        .map(|l| {
            let status = l.record.as_ref().map(|r| r.status()).transpose()?;
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
            Ok(SheetLineDto {
                nomination_id: l.nomination.id,
                employee: EmployeeRefDto::from(&l.employee),
                expected: l.expected,
                status,
                arrived_at: l.record.as_ref().and_then(|r| r.arrived_at).map(|t| t.with_timezone(&jst())),
                left_at: l.record.as_ref().and_then(|r| r.left_at).map(|t| t.with_timezone(&jst())),
                note: l.record.as_ref().and_then(|r| r.note.clone()),
                excused,
                absence_notice_id: l.notice.as_ref().map(|n| n.id),
                absence_notice_state: l.notice.as_ref().map(|n| n.state()).transpose()?,
                recorded_by: l.record.as_ref().map(|r| r.recorded_by.clone()),
                source: l.record.as_ref().map(|r| r.source.clone()),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(AttendanceSheet { course_id: session.course_id, session_id: session.id, lines, counts })
}

/// 出席簿 as a file: one row per trainee under the columns the sheet's import reads (職員番号,
/// 出欠, 到着時刻, 退出時刻, 備考), so a printed or filled-in sheet loads back as it is.
async fn sheet_table(state: &AppState, org_id: Uuid, sheet: &AttendanceSheet) -> ApiResult<Table> {
    let conn = state.db.conn();
    let ids: Vec<Uuid> = sheet.lines.iter().map(|l| l.employee.id).collect();
    let staff = employee_repo::employees_by_id(conn, org_id, &ids).await?;
    let units = structure::unit_names(conn, org_id, staff.values().map(|e| e.section_id)).await?;
    let columns =
        [&["No"][..], &PERSON_HEADERS, &["出欠", "到着時刻", "退出時刻", "欠席届", "備考", "対象外"]];
    let mut table = Table::new("出席簿", &columns.concat());
    let clock = |t: Option<DateTime<FixedOffset>>| t.map(|t| t.format("%H:%M").to_string());
    for (i, l) in sheet.lines.iter().enumerate() {
        let unit = staff.get(&l.employee.id).and_then(|e| units.get(&e.section_id));
        let mut row = vec![Cell::from(i as u64 + 1)];
        row.extend(person_cells(&l.employee.employee_no, &l.employee.name, unit));
        row.extend([
            l.status.map(AttendanceStatus::japanese).into(),
            clock(l.arrived_at).into(),
            clock(l.left_at).into(),
            l.absence_notice_state.map(NoticeState::japanese).into(),
            l.note.as_ref().into(),
            // Recorded, but no longer holding a place that counts.
            (!l.expected).into(),
        ]);
        table.push(row);
    }
    Ok(table)
}

/// A session's sign-in sheet (HR, auditors): every trainee expected (holding a place on the
/// session, which counts for them), how each attended, and whether irregularities are excused;
/// `format=csv` or `xlsx` for the 出席簿 as a file that the sheet's import reads back.
#[utoipa::path(get, operation_id = "get_attendance", path = "/api/v1/courses/{id}/sessions/{session_id}/attendance", tag = "attendance",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path), ListFile),
    responses((status = 200, content((AttendanceSheet = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such course or session in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Shift_JIS cannot hold the sheet's text", body = Problem, content_type = "application/problem+json")))]
pub async fn get_sheet(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadNominations)?;
    let (course_id, session_id) = path.into_inner();
    let org_id = auth.principal.org_id;
    let session = catalogue::get_session(state.db.conn(), org_id, course_id, session_id).await?;
    let lines = repo::sheet(state.db.conn(), org_id, &session).await?;
    let sheet = sheet_dto(&session, &lines)?;
    if file.file().is_some() {
        let name = format!("kenshu-attendance-{}", tokyo_date(session.starts_at));
        return file.download(&sheet_table(&state, org_id, &sheet).await?, &name);
    }
    Ok(HttpResponse::Ok().json(sheet))
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

/// The most trainees one sheet records.
const MAX_ENTRIES: usize = 2000;

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordReport {
    /// Nothing was written: the result and sheet say what recording would do.
    pub dry_run: bool,
    pub result: RecordResult,
    pub sheet: AttendanceSheet,
}

/// A sheet records 1 to `MAX_ENTRIES` trainees.
pub(crate) fn check_entry_count(n: usize) -> ApiResult<()> {
    if n == 0 || n > MAX_ENTRIES {
        return Err(ApiError::validation(FieldError::length(
            "entries",
            format!("give 1 to {MAX_ENTRIES} entries"),
        )));
    }
    Ok(())
}

/// Every fault of a sheet's entries, each named by its entry's index.
pub(crate) fn entry_errors(errors: Vec<(usize, FieldError)>) -> ApiError {
    ApiError::Validation(
        errors
            .into_iter()
            .map(|(i, e)| {
                let field = format!("entries[{i}].{}", e.field);
                e.at(field)
            })
            .collect(),
    )
}

/// One entry of a sheet as sent, before it is checked.
struct Entry {
    employee_no: String,
    entry: AttendanceEntry,
    note: Option<String>,
}

impl From<AttendanceInput> for Entry {
    fn from(e: AttendanceInput) -> Self {
        Entry {
            employee_no: e.employee_no,
            entry: AttendanceEntry {
                status: e.status,
                arrived_at: e.arrived_at.map(|t| t.with_timezone(&Utc)),
                left_at: e.left_at.map(|t| t.with_timezone(&Utc)),
            },
            note: e.note,
        }
    }
}

/// Resolve and check every entry; every fault is named, with the entry's index and the bare
/// field, before anything is written. Runs in the writer's turn the recording will use, so that
/// sheets waiting for it hold only their bodies, not their trainees.
async fn recordings(
    txn: &WriteTxn,
    org_id: Uuid,
    session: &course_session::Model,
    entries: Vec<Entry>,
) -> ApiResult<Result<Vec<Recording>, Vec<(usize, FieldError)>>> {
    let mut errors: Vec<(usize, FieldError)> = Vec::new();
    // Numbers as people type them (全角 digits too), the same way the CSV sheet reads them.
    let numbers: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| match kenshu_domain::employee::EmployeeNo::parse(&e.employee_no) {
            Ok(no) => no.as_str().to_string(),
            Err(why) => {
                errors.push((i, FieldError::format("employee_no", why)));
                e.employee_no.trim().to_string()
            }
        })
        .collect();
    let trainees = repo::trainees_by_number(txn, org_id, session, &numbers).await?;
    let window = SessionWindow { starts_at: session.starts_at, ends_at: session.ends_at };
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (i, (e, no)) in entries.into_iter().zip(numbers).enumerate() {
        if !seen.insert(no.clone()) {
            errors.push((i, FieldError::duplicate("employee_no", format!("{no} appears twice"))));
            continue;
        }
        if e.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            errors.push((i, FieldError::length("note", "at most 500 characters")));
        }
        let note = e.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        let entry =
            e.entry.validate(window, "").map_err(|e| errors.extend(e.into_iter().map(|e| (i, e)))).ok();
        match (trainees.get(&no), entry) {
            (Some(n), Some(entry)) => out.push(Recording { nomination: n.clone(), entry, note }),
            (None, _) => errors.push((
                i,
                FieldError::not_found("employee_no", format!("{no} holds no place on this session")),
            )),
            _ => {}
        }
    }
    Ok(if errors.is_empty() { Ok(out) } else { Err(errors) })
}

/// Write the recordings (or, on a dry run, write and roll back) and read the sheet as it is, or
/// would be, after.
async fn record(
    txn: WriteTxn,
    auth: &Auth,
    session: &course_session::Model,
    recordings: Vec<Recording>,
    source: Source,
    dry_run: bool,
) -> ApiResult<RecordReport> {
    let outcome = repo::record(&txn, &auth.actor(), session, recordings, source).await?;
    let lines = repo::sheet(&txn, auth.principal.org_id, session).await?;
    if dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(RecordReport {
        dry_run,
        result: RecordResult {
            created: outcome.created,
            corrected: outcome.corrected,
            unchanged: outcome.unchanged,
            completed: outcome.completed,
            reopened: outcome.reopened,
        },
        sheet: sheet_dto(session, &lines)?,
    })
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
        (status = 409, description = "Attendance was recorded, or a trainee's place changed, meanwhile; read the sheet again", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every entry that is not a trainee of the session, repeats one, or has times that do not fit", body = Problem, content_type = "application/problem+json")))]
pub async fn record_sheet(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<SheetInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::RecordAttendance)?;
    let (course_id, session_id) = path.into_inner();
    let org_id = auth.principal.org_id;
    let session = catalogue::get_session(state.db.conn(), org_id, course_id, session_id).await?;
    let entries = body.into_inner().entries;
    check_entry_count(entries.len())?;
    let entries = entries.into_iter().map(Entry::from).collect();
    let txn = state.db.begin_write().await?;
    let recordings = recordings(&txn, org_id, &session, entries).await?.map_err(entry_errors)?;
    Ok(HttpResponse::Ok().json(record(txn, &auth, &session, recordings, Source::Sheet, false).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetImportQuery {
    /// Check and report what would be recorded without writing.
    #[serde(default)]
    pub dry_run: bool,
    /// Overrides the `charset` of the Content-Type.
    pub encoding: Option<EncodingParam>,
}

/// Import a session's sign-in sheet as CSV (HR, importer): UTF-8 or Shift_JIS, headers 職員番号
/// and 出欠 (出席, 遅刻, 早退, 欠席, 〇, ×) required, 到着時刻 and 退出時刻 (9:40 on the session's
/// day, or a full date and time) and 備考 optional; other columns such as 氏名 are ignored. The
/// same rules as recording the sheet as JSON: all or nothing (every bad row named, by line and
/// column), idempotent, corrections audited, completion follows.
#[utoipa::path(post, operation_id = "import_attendance", path = "/api/v1/courses/{id}/sessions/{session_id}/attendance/import", tag = "attendance",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path), SheetImportQuery),
    request_body(content = String, content_type = "text/csv",
        example = "職員番号,氏名,出欠,到着時刻,退出時刻,備考\n10009,伊勢原 太郎,〇,,,\n10010,伊勢原 花子,遅刻,9:40,,電車遅延\n"),
    responses((status = 200, body = RecordReport),
        (status = 404, description = "No such course or session in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Attendance was recorded, or a trainee's place changed, meanwhile; send the file again", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV, or an unknown charset", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file cannot be read (import-file) or has invalid rows (import-rejected, every row error)", body = Problem, content_type = "application/problem+json")))]
pub async fn import_sheet(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    q: web::Query<SheetImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ImportAttendance)?;
    let (course_id, session_id) = path.into_inner();
    let org_id = auth.principal.org_id;
    let session = catalogue::get_session(state.db.conn(), org_id, course_id, session_id).await?;
    let encoding = encoding_of(&req, q.encoding)?;
    let body = read_body(payload, state.config.max_upload_bytes).await?;
    let read = read_csv(&body, encoding, tokyo_date(session.starts_at)).map_err(file_error)?;
    if read.rows.is_empty() && read.errors.is_empty() {
        return Err(ApiError::ImportFile(Words::fixed(
            "the file holds no trainees",
            "ファイルに受講者がいません",
        )));
    }
    if read.rows.len() > MAX_ENTRIES {
        return Err(ApiError::ImportFile(Words::new(
            format!("a sheet holds at most {MAX_ENTRIES} trainees"),
            format!("出席簿に載せられる受講者は {MAX_ENTRIES} 人までです"),
        )));
    }
    let lines: Vec<u64> = read.rows.iter().map(|r| r.line).collect();
    let entries = read
        .rows
        .into_iter()
        .map(|r| Entry {
            employee_no: r.employee_no.as_str().to_string(),
            entry: AttendanceEntry { status: r.status, arrived_at: r.arrived_at, left_at: r.left_at },
            note: r.note,
        })
        .collect();
    let mut errors = read.errors;
    let txn = state.db.begin_write().await?;
    let checked = recordings(&txn, org_id, &session, entries).await?;
    let recordings = match checked {
        Ok(recordings) if errors.is_empty() => recordings,
        Ok(_) => return Err(ApiError::ImportRejected(errors)),
        Err(invalid) => {
            errors.extend(
                invalid.into_iter().map(|(i, e)| RowError::of_field(lines[i], column_of_field(&e.field), e)),
            );
            errors.sort_by_key(|e| e.line);
            return Err(ApiError::ImportRejected(errors));
        }
    };
    Ok(HttpResponse::Ok().json(record(txn, &auth, &session, recordings, Source::Import, q.dry_run).await?))
}
