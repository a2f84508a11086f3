//! 研修講座欠席届: absence, late-arrival and early-leave notices for a session, from the trainee
//! (or their section head on their behalf) through the section head to the training office.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use kenshu_domain::absence::{
    may_write, AbsenceKind, NoticeActor, NoticeEvent, NoticeFields, NoticeState, SessionWindow,
};
use kenshu_domain::auth::{authorize, Action, EmployeePlacement};
use kenshu_domain::calendar::{jst, tokyo_date};
use kenshu_domain::selection::NominationState;
use kenshu_domain::spreadsheet::Table;
use kenshu_domain::FieldError;
use kenshu_persistence::entities::{absence_notice, course_session, nomination};
use kenshu_persistence::repo::absence as repo;
use kenshu_persistence::repo::employee::EmployeeRef;
use kenshu_persistence::repo::{catalogue, selection, structure, RepoError};
use kenshu_persistence::ConnectionTrait;
use kenshu_persistence::Precondition;
use kenshu_persistence::WriteTxn;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{created, encode_cursor, if_match, json_with_etag, page_of, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::files::{person_cells, ListFile, PERSON_HEADERS};
use crate::routes::shared::section_staff;
use crate::routes::shared::EmployeeRefDto;
use crate::state::AppState;

/// One absence notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct AbsenceNoticeDto {
    pub id: Uuid,
    pub nomination_id: Uuid,
    pub course_id: Uuid,
    pub session_id: Uuid,
    pub employee: EmployeeRefDto,
    pub section_id: Uuid,
    pub kind: AbsenceKind,
    pub reason: String,
    /// 遅刻: expected arrival, Japan time.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub arrives_at: Option<DateTime<FixedOffset>>,
    /// 早退: expected leaving time, Japan time.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub leaves_at: Option<DateTime<FixedOffset>>,
    pub state: NoticeState,
    /// First submitted once the session had started (事後提出).
    pub late: bool,
    /// Why it was returned for correction.
    pub comment: Option<String>,
    pub written_by: String,
    /// Filed by someone other than the trainee on their behalf: the section head, or the
    /// training office after the trainee phoned (事前に研修担当へ連絡).
    pub on_behalf: bool,
    pub submitted_at: Option<DateTime<Utc>>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    /// Why the training office received it without the section head's confirmation
    /// (`receive_directly`).
    pub receipt_note: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(n: &absence_notice::Model, employee: &EmployeeRef, section_id: Uuid) -> ApiResult<AbsenceNoticeDto> {
    let kind = repo::kind_of(n)?;
    let state = repo::state_of(n)?;
    Ok(AbsenceNoticeDto {
        id: n.id,
        nomination_id: n.nomination_id,
        course_id: n.course_id,
        session_id: n.session_id,
        employee: EmployeeRefDto::from(employee),
        section_id,
        kind,
        reason: n.reason.clone(),
        arrives_at: n.arrives_at.map(|t| t.with_timezone(&jst())),
        leaves_at: n.leaves_at.map(|t| t.with_timezone(&jst())),
        state,
        late: n.late,
        comment: n.comment.clone(),
        written_by: n.written_by.clone(),
        on_behalf: n.on_behalf,
        submitted_at: n.submitted_at,
        confirmed_by: n.confirmed_by.clone(),
        confirmed_at: n.confirmed_at,
        received_by: n.received_by.clone(),
        received_at: n.received_at,
        receipt_note: n.receipt_note.clone(),
        version: n.version,
        created_at: n.created_at,
        updated_at: n.updated_at,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AbsenceNoticeList {
    /// Oldest first.
    pub items: Vec<AbsenceNoticeDto>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// 欠席届一覧: notices as a table, with their courses and session days.
async fn notice_table(
    state: &AppState,
    org_id: Uuid,
    rows: &[(absence_notice::Model, EmployeeRef, Uuid)],
) -> ApiResult<Table> {
    let conn = state.db.conn();
    let units = structure::unit_names(conn, org_id, rows.iter().map(|(_, _, s)| *s)).await?;
    let sessions = catalogue::session_labels(conn, org_id, rows.iter().map(|(n, _, _)| n.session_id)).await?;
    let columns = [
        &PERSON_HEADERS[..],
        &["研修名", "研修日", "種別", "理由", "状態", "事後提出", "代理提出", "提出日", "受理日"],
    ];
    let mut table = Table::new("欠席届", &columns.concat());
    for (n, who, section_id) in rows {
        let session = sessions.get(&n.session_id);
        let mut row = person_cells(&who.employee_no, &who.name, units.get(section_id));
        row.extend([
            session.map(|s| &s.course_title).into(),
            session.map(|s| tokyo_date(s.starts_at)).into(),
            repo::kind_of(n)?.japanese().into(),
            (&n.reason).into(),
            repo::state_of(n)?.japanese().into(),
            n.late.into(),
            n.on_behalf.into(),
            n.submitted_at.map(tokyo_date).into(),
            n.received_at.map(tokyo_date).into(),
        ]);
        table.push(row);
    }
    Ok(table)
}

/// One page of notices, oldest first, paged like every list; or all of them as a file.
async fn list(
    state: &AppState,
    org_id: Uuid,
    rows: Vec<absence_notice::Model>,
    q: &NoticeStateQuery,
    file: &ListFile,
) -> ApiResult<HttpResponse> {
    let scope = "absence-notices";
    let page = page_of(rows, &file.page(scope, q.limit, q.cursor.as_deref())?, |n| n.id.to_string())?;
    file.check_whole(&page)?;
    let rows = repo::with_trainees(state.db.conn(), org_id, page.items).await?;
    if file.file().is_some() {
        return file.download(&notice_table(state, org_id, &rows).await?, "kenshu-absence-notices");
    }
    let items = rows.iter().map(|(n, e, s)| view(n, e, *s)).collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(AbsenceNoticeList { items, next_cursor: encode_cursor(scope, page.next) }))
}

/// The trainee of a notice or nomination, and what the caller is to them.
pub(crate) struct Parties {
    trainee: EmployeePlacement,
    who: EmployeeRef,
    actors: Vec<NoticeActor>,
    /// May read the trainee's records (themself, the heads over them, whoever confirms for
    /// them, HR, auditors).
    sees: bool,
    /// The caller is the trainee.
    is_trainee: bool,
}

/// The caller's relation to the trainee, read on `conn` (inside a write, its transaction).
async fn parties(conn: &impl ConnectionTrait, auth: &Auth, employee_id: Uuid) -> ApiResult<Parties> {
    let p = auth.relation_to(conn, employee_id).await?;
    Ok(Parties {
        trainee: p.placement,
        who: p.who,
        actors: NoticeActor::of(&p.relation),
        sees: p.relation.sees,
        is_trainee: p.relation.is_self,
    })
}

fn window(s: &course_session::Model) -> SessionWindow {
    SessionWindow { starts_at: s.starts_at, ends_at: s.ends_at }
}

/// What a notice says, as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "late_arrival", "reason": "午前中に窓口当番があるため", "arrives_at": "2023-07-12T10:30:00+09:00"}))]
pub struct NoticeText {
    pub kind: AbsenceKind,
    /// 理由
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    /// Required for a late arrival: when the trainee expects to arrive, inside the session.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub arrives_at: Option<DateTime<FixedOffset>>,
    /// Required for an early leave: when the trainee expects to leave, inside the session.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub leaves_at: Option<DateTime<FixedOffset>>,
}

impl NoticeText {
    fn validate(self, session: &course_session::Model) -> ApiResult<NoticeFields> {
        NoticeFields {
            kind: self.kind,
            reason: self.reason,
            arrives_at: self.arrives_at.map(|t| t.with_timezone(&Utc)),
            leaves_at: self.leaves_at.map(|t| t.with_timezone(&Utc)),
        }
        .validate(window(session))
        .map_err(ApiError::Validation)
    }
}

/// A new notice: which session, what it says, and whether to submit it at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"session_id": "01939a4e-7c1a-7d2e-8f00-000000000001", "kind": "absence", "reason": "災害対応のため", "submit": true}))]
pub struct NewNotice {
    pub session_id: Uuid,
    pub kind: AbsenceKind,
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub arrives_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub leaves_at: Option<DateTime<FixedOffset>>,
    /// Submit to the section head now; otherwise it is kept as a draft.
    #[serde(default)]
    pub submit: bool,
}

/// The session a nomination's trainee is on: one of its course's sessions, the nomination's own
/// when it names one, while the nomination holds a place.
async fn session_of(
    txn: &WriteTxn,
    n: &nomination::Model,
    session_id: Uuid,
) -> ApiResult<course_session::Model> {
    let not_on = |why: &str| ApiError::validation(FieldError::conflict("session_id", why));
    let holds = matches!(n.state()?, NominationState::Selected | NominationState::Notified);
    if !holds {
        return Err(not_on(&format!(
            "the trainee holds no place on the course (the nomination is {})",
            n.state
        )));
    }
    if n.session_id.is_some_and(|own| own != session_id) {
        return Err(not_on("the trainee is on another session of the course"));
    }
    match catalogue::get_session(txn, n.org_id, n.course_id, session_id).await {
        Ok(s) => Ok(s),
        Err(RepoError::NotFound) => Err(ApiError::validation(FieldError::not_found(
            "session_id",
            "no such session of the trainee's course",
        ))),
        Err(e) => Err(e.into()),
    }
}

/// File an absence notice (研修講座欠席届) for a session the trainee is selected for: the trainee,
/// or their section head on their behalf. One live notice per trainee and session; a notice
/// submitted once the session has started is accepted and flagged `late`.
#[utoipa::path(post, operation_id = "create_absence_notice", path = "/api/v1/nominations/{id}/absence-notices", tag = "attendance",
    request_body = NewNotice, params(("id" = Uuid, Path, description = "The trainee's nomination")),
    responses((status = 201, body = AbsenceNoticeDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such nomination in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A live notice for this session is already on file", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a session the trainee is on, or invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_notice(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<NewNotice>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.begin_write().await?;
    let (notice, parties) = file_notice(&auth, &txn, *id, body.into_inner()).await?;
    txn.commit().await?;
    let location = format!("/api/v1/absence-notices/{}", notice.id);
    Ok(created(notice.version, &location, &view(&notice, &parties.who, parties.trainee.section_id)?))
}

/// File an absence notice on nomination `id` as the caller, in `txn`: the API and the portal's
/// 欠席届 form both file this way.
pub(crate) async fn file_notice(
    auth: &Auth,
    txn: &WriteTxn,
    id: Uuid,
    body: NewNotice,
) -> ApiResult<(absence_notice::Model, Parties)> {
    let org_id = auth.principal.org_id;
    let n = selection::get(txn, org_id, id).await?;
    let parties = parties(txn, auth, n.employee_id).await?;
    if !may_write(&parties.actors) {
        return Err(ApiError::Forbidden);
    }
    let session = session_of(txn, &n, body.session_id).await?;
    let text = NoticeText {
        kind: body.kind,
        reason: body.reason,
        arrives_at: body.arrives_at,
        leaves_at: body.leaves_at,
    };
    let fields = text.validate(&session)?;
    let on_behalf = !parties.is_trainee;
    let notice =
        repo::create(txn, &auth.actor(), &n, session.id, window(&session), &fields, body.submit, on_behalf)
            .await?;
    Ok((notice, parties))
}

/// Read one notice: the trainee, their heads, HR and auditors.
#[utoipa::path(get, operation_id = "get_absence_notice", path = "/api/v1/absence-notices/{id}", tag = "attendance",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AbsenceNoticeDto, headers(("ETag" = String))),
        (status = 404, description = "No such notice in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn get_notice(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let n = repo::get(state.db.conn(), auth.principal.org_id, *id).await?;
    let parties = parties(state.db.conn(), &auth, n.employee_id).await?;
    if !parties.sees {
        return Err(ApiError::Forbidden);
    }
    Ok(json_with_etag(StatusCode::OK, n.version, &view(&n, &parties.who, parties.trainee.section_id)?))
}

/// Correct a draft or returned notice (its writer: the trainee or their section head). Requires
/// `If-Match`.
#[utoipa::path(put, operation_id = "update_absence_notice", path = "/api/v1/absence-notices/{id}", tag = "attendance",
    request_body = NoticeText,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = AbsenceNoticeDto, headers(("ETag" = String))),
        (status = 404, description = "No such notice in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only a draft or returned notice can be corrected (`invalid-transition`, with `current_state`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_notice(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<NoticeText>,
) -> ApiResult<HttpResponse> {
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let (after, parties) = correct_notice(&auth, &txn, *id, &version, body.into_inner()).await?;
    txn.commit().await?;
    Ok(json_with_etag(
        StatusCode::OK,
        after.version,
        &view(&after, &parties.who, parties.trainee.section_id)?,
    ))
}

/// Move notice `n` as the caller (`parties`: their relation to its trainee), in `txn`.
pub(crate) async fn move_notice(
    auth: &Auth,
    txn: &WriteTxn,
    n: &absence_notice::Model,
    parties: &Parties,
    version: &Precondition,
    event: NoticeEvent,
    comment: Option<String>,
) -> ApiResult<absence_notice::Model> {
    let session = catalogue::get_session(txn, n.org_id, n.course_id, n.session_id).await?;
    Ok(repo::apply(
        txn,
        &auth.actor(),
        n.id,
        version,
        &parties.actors,
        repo::NoticeMove { event, comment },
        window(&session),
    )
    .await?)
}

/// Correct a draft or returned notice as the caller, in `txn`; `version` as read, or `Any` to
/// correct whatever is current (the portal, whose form is the trainee's latest word).
pub(crate) async fn correct_notice(
    auth: &Auth,
    txn: &WriteTxn,
    id: Uuid,
    version: &Precondition,
    text: NoticeText,
) -> ApiResult<(absence_notice::Model, Parties)> {
    let org_id = auth.principal.org_id;
    let n = repo::get(txn, org_id, id).await?;
    let parties = parties(txn, auth, n.employee_id).await?;
    if !may_write(&parties.actors) {
        return Err(ApiError::Forbidden);
    }
    let session = catalogue::get_session(txn, org_id, n.course_id, n.session_id).await?;
    let fields = text.validate(&session)?;
    let after = repo::update_text(txn, &auth.actor(), n.id, version, &fields).await?;
    Ok((after, parties))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "return", "comment": "理由を具体的に記入してください"}))]
pub struct NoticeEventInput {
    pub event: NoticeEvent,
    /// Required when returning (what to correct) and when receiving directly (why the section
    /// head's confirmation is skipped).
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// Move a notice (If-Match): `submit` and `withdraw` (the trainee, or on their behalf whoever
/// confirms for them or HR), `confirm` (whoever confirms for the trainee: their section head or
/// acting head; for a section head, their department's head; for a department head, the
/// organisation's approver; never the trainee), `receive` (HR, once confirmed),
/// `receive_directly` with a reason in `comment` (HR, without the confirmation), `return` with a
/// comment (HR or the confirmer). A move the state does not allow is a 409
/// `invalid-transition` naming `current_state`.
#[utoipa::path(post, operation_id = "absence_notice_event", path = "/api/v1/absence-notices/{id}/events", tag = "attendance",
    request_body = NoticeEventInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = AbsenceNoticeDto, headers(("ETag" = String))),
        (status = 404, description = "No such notice in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state (`invalid-transition`), or a live notice for the session exists (resubmitting)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Returning or receiving directly without a comment", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn notice_event(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<NoticeEventInput>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let n = repo::get(state.db.conn(), org_id, *id).await?;
    let parties = parties(state.db.conn(), &auth, n.employee_id).await?;
    if !parties.sees && parties.actors.is_empty() {
        return Err(ApiError::Forbidden);
    }
    let body = body.into_inner();
    if body.comment.as_ref().is_some_and(|c| c.chars().count() > 1000) {
        return Err(ApiError::validation(FieldError::length("comment", "at most 1000 characters")));
    }
    let comment = body.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    match (&comment, body.event) {
        (None, NoticeEvent::Return) => {
            return Err(ApiError::validation(FieldError::required("comment", "say what to correct")))
        }
        (None, NoticeEvent::ReceiveDirectly) => {
            return Err(ApiError::validation(FieldError::required(
                "comment",
                "say why the section head's confirmation is skipped",
            )))
        }
        _ => {}
    }
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let after = move_notice(&auth, &txn, &n, &parties, &version, body.event, comment).await?;
    txn.commit().await?;
    Ok(json_with_etag(
        StatusCode::OK,
        after.version,
        &view(&after, &parties.who, parties.trainee.section_id)?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeStateQuery {
    /// Only this state: `submitted` lists what waits for the section head, `confirmed` what waits
    /// for HR.
    pub state: Option<NoticeState>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A session's absence notices (HR, auditors); `format=csv` or `xlsx` for all of them as a file.
#[utoipa::path(get, operation_id = "session_absence_notices", path = "/api/v1/courses/{id}/sessions/{session_id}/absence-notices", tag = "attendance",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path), NoticeStateQuery, ListFile),
    responses((status = 200, content((AbsenceNoticeList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such course or session in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn session_notices(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    q: web::Query<NoticeStateQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadNominations)?;
    let org_id = auth.principal.org_id;
    let (course_id, session_id) = path.into_inner();
    catalogue::get_session(state.db.conn(), org_id, course_id, session_id).await?;
    let rows = repo::for_session(state.db.conn(), org_id, session_id, q.state).await?;
    list(&state, org_id, rows, &q, &file).await
}

/// My absence notices, oldest first.
#[utoipa::path(get, operation_id = "my_absence_notices", path = "/api/v1/me/absence-notices", tag = "me",
    params(NoticeStateQuery), responses((status = 200, body = AbsenceNoticeList),
        (status = 422, description = "A limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn my_notices(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<NoticeStateQuery>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let rows = match auth.principal.employee.as_ref() {
        Some(me) => repo::for_employees(state.db.conn(), org_id, &[me.employee_id], q.state).await?,
        None => Vec::new(),
    };
    list(&state, org_id, rows, &q, &ListFile::default()).await
}

/// A section's absence notices: its head (those waiting for them with `state=submitted`), the
/// head of its department, HR and auditors.
#[utoipa::path(get, operation_id = "section_absence_notices", path = "/api/v1/sections/{id}/absence-notices", tag = "attendance",
    params(("id" = Uuid, Path), NoticeStateQuery, ListFile),
    responses((status = 200, content((AbsenceNoticeList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such section in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn section_notices(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<NoticeStateQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let staff = section_staff(&state, &auth, *id).await?;
    let rows = repo::for_employees(state.db.conn(), org_id, &staff, q.state).await?;
    list(&state, org_id, rows, &q, &file).await
}
