//! 研修報告書: post-training reports, from the trainee through the head of their department
//! (所属部長の決裁) to the training office; the lists of who owes one and how late; and the
//! 職場還元 record of dispatch training.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use kenshu_domain::auth::{authorize, Action, EmployeePlacement};
use kenshu_domain::calendar::tokyo_date;
use kenshu_domain::catalogue::Category;
use kenshu_domain::report::{
    days_overdue, submitted_late, ReportActor, ReportEvent, ReportState, ReportText,
};
use kenshu_domain::spreadsheet::{Cell, Table};
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use kenshu_persistence::entities::training_report;
use kenshu_persistence::repo::employee::EmployeeRef;
use kenshu_persistence::repo::employee::Unit;
use kenshu_persistence::repo::report::{self as repo, OwedFilter, ReportLine, ReportScope};
use kenshu_persistence::repo::{catalogue, employee as employee_repo, selection, structure};
use kenshu_persistence::WriteTxn;
use kenshu_persistence::{Page, Precondition};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{created, encode_cursor, fiscal_year, if_match, json_with_etag, list_changed, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::files::{person_cells, ListFile, PERSON_HEADERS};
use crate::routes::shared::section_staff;
use crate::routes::shared::{CourseRefDto, EmployeeRefDto};
use crate::state::AppState;

/// 職場還元: when the trainee shared what they learned with their workplace.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharingDto {
    pub shared_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_by: String,
}

/// One post-training report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDto {
    pub id: Uuid,
    pub nomination_id: Uuid,
    pub course_id: Uuid,
    pub employee: EmployeeRefDto,
    pub section_id: Uuid,
    /// 研修で学んだこと
    pub learned: String,
    /// 職場でどう活かすか
    pub application: String,
    /// 感想・意見
    pub comments: Option<String>,
    pub state: ReportState,
    /// Why it was returned.
    pub return_comment: Option<String>,
    /// 提出期限 (Japan date): from the course's rule and its last session; null while the
    /// course has no sessions.
    pub due_on: Option<NaiveDate>,
    /// Days past the due date while the report is still with the trainee, as of today.
    pub days_overdue: Option<i64>,
    /// First submitted after the due date.
    pub submitted_late: bool,
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub workplace_sharing: Option<SharingDto>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn late(first_submitted_at: Option<DateTime<Utc>>, due_on: Option<NaiveDate>) -> bool {
    match (due_on, first_submitted_at) {
        (Some(due), Some(at)) => submitted_late(due, tokyo_date(at)),
        _ => false,
    }
}

fn today() -> NaiveDate {
    tokyo_date(Utc::now())
}

fn view(r: &training_report::Model, trainee: &Trainee, due_on: Option<NaiveDate>) -> ApiResult<ReportDto> {
    let state = repo::state_of(r)?;
    Ok(ReportDto {
        id: r.id,
        nomination_id: r.nomination_id,
        course_id: r.course_id,
        employee: EmployeeRefDto::from(&trainee.who),
        section_id: trainee.placement.section_id,
        learned: r.learned.clone(),
        application: r.application.clone(),
        comments: r.comments.clone(),
        state,
        return_comment: r.return_comment.clone(),
        due_on,
        days_overdue: due_on.and_then(|d| days_overdue(d, state, today())),
        submitted_late: late(r.first_submitted_at, due_on),
        first_submitted_at: r.first_submitted_at,
        submitted_at: r.submitted_at,
        approved_by: r.approved_by.clone(),
        approved_at: r.approved_at,
        received_by: r.received_by.clone(),
        received_at: r.received_at,
        workplace_sharing: r.shared_on.map(|shared_on| SharingDto {
            shared_on,
            note: r.shared_note.clone(),
            recorded_by: r.shared_by.clone().unwrap_or_default(),
        }),
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// The trainee of a report and what the caller is to them.
pub(crate) struct Trainee {
    placement: EmployeePlacement,
    who: EmployeeRef,
    actors: Vec<ReportActor>,
    /// Confirms for the trainee (their section head, or for a section head their department's
    /// head): records 職場還元.
    confirms: bool,
    /// May read the trainee's records.
    sees: bool,
}

async fn trainee(state: &AppState, auth: &Auth, employee_id: Uuid) -> ApiResult<Trainee> {
    let p = auth.relation_to(state.db.conn(), employee_id).await?;
    Ok(Trainee {
        actors: ReportActor::of(&p.relation),
        confirms: p.relation.confirms,
        sees: p.relation.sees,
        placement: p.placement,
        who: p.who,
    })
}

/// The due date of the report on `course_id`.
async fn due_on(state: &AppState, org_id: Uuid, course_id: Uuid) -> ApiResult<Option<NaiveDate>> {
    let course = catalogue::get_course(state.db.conn(), org_id, course_id).await?;
    let last = repo::last_day(state.db.conn(), org_id, course_id).await?;
    Ok(last.and_then(|d| course.report.due(d)))
}

/// What the trainee writes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"learned": "住民対応の基本と傾聴の技法", "application": "窓口での聞き取りに活かす", "comments": "演習が多く実践的だった"}))]
pub struct ReportInput {
    /// 研修で学んだこと: required to submit.
    #[schema(max_length = 4000)]
    pub learned: String,
    /// 職場でどう活かすか: required to submit.
    #[schema(max_length = 4000)]
    pub application: String,
    /// 感想・意見
    #[schema(max_length = 4000)]
    pub comments: Option<String>,
}

impl ReportInput {
    fn validate(self, for_submission: bool) -> ApiResult<ReportText> {
        ReportText { learned: self.learned, application: self.application, comments: self.comments }
            .validate(for_submission)
            .map_err(ApiError::Validation)
    }
}

/// A new report, kept as a draft or submitted at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"learned": "住民対応の基本と傾聴の技法", "application": "窓口での聞き取りに活かす", "submit": true}))]
pub struct NewReport {
    #[schema(max_length = 4000)]
    pub learned: String,
    #[schema(max_length = 4000)]
    pub application: String,
    #[schema(max_length = 4000)]
    pub comments: Option<String>,
    /// Submit to the department head now.
    #[serde(default)]
    pub submit: bool,
}

/// Write the report (研修報告書) of a course the trainee attended: the trainee only, once per
/// nomination, for a course that requires one.
#[utoipa::path(post, operation_id = "create_report", path = "/api/v1/nominations/{id}/report", tag = "reports",
    request_body = NewReport, params(("id" = Uuid, Path, description = "The trainee's nomination")),
    responses((status = 201, body = ReportDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such nomination in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The course needs no report, the trainee has not attended it, or a report is already on file", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (to submit, what was learned and how it will be used)", body = Problem, content_type = "application/problem+json")))]
pub async fn create_report(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<NewReport>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.begin_write().await?;
    let (report, trainee) = write_report(&state, &auth, &txn, *id, body.into_inner()).await?;
    txn.commit().await?;
    let due = due_on(&state, auth.principal.org_id, report.course_id).await?;
    Ok(created(report.version, &format!("/api/v1/reports/{}", report.id), &view(&report, &trainee, due)?))
}

/// Read one report: the trainee, their section and department heads, HR and auditors.
#[utoipa::path(get, operation_id = "get_report", path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ReportDto, headers(("ETag" = String))),
        (status = 404, description = "No such report in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn get_report(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let r = repo::get(state.db.conn(), org_id, *id).await?;
    let trainee = trainee(&state, &auth, r.employee_id).await?;
    if !trainee.sees {
        return Err(ApiError::Forbidden);
    }
    let due = due_on(&state, org_id, r.course_id).await?;
    Ok(json_with_etag(StatusCode::OK, r.version, &view(&r, &trainee, due)?))
}

/// Correct a draft or returned report (the trainee). Requires `If-Match`.
#[utoipa::path(put, operation_id = "update_report", path = "/api/v1/reports/{id}", tag = "reports",
    request_body = ReportInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = ReportDto, headers(("ETag" = String))),
        (status = 404, description = "No such report in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only a draft or returned report can be corrected (`invalid-transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_report(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReportInput>,
) -> ApiResult<HttpResponse> {
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let (after, trainee) = correct_report(&state, &auth, &txn, *id, &version, body.into_inner()).await?;
    txn.commit().await?;
    let due = due_on(&state, auth.principal.org_id, after.course_id).await?;
    Ok(json_with_etag(StatusCode::OK, after.version, &view(&after, &trainee, due)?))
}

/// Write the report of nomination `id` as the caller, in `txn`: the API and the portal's
/// 研修報告書 form both write this way.
pub(crate) async fn write_report(
    state: &AppState,
    auth: &Auth,
    txn: &WriteTxn,
    id: Uuid,
    body: NewReport,
) -> ApiResult<(training_report::Model, Trainee)> {
    let org_id = auth.principal.org_id;
    let n = selection::get(state.db.conn(), org_id, id).await?;
    let trainee = trainee(state, auth, n.employee_id).await?;
    if !trainee.actors.contains(&ReportActor::Trainee) {
        return Err(ApiError::Forbidden);
    }
    let text = ReportInput { learned: body.learned, application: body.application, comments: body.comments }
        .validate(body.submit)?;
    let course = catalogue::get_course(state.db.conn(), org_id, n.course_id).await?;
    let attended = repo::attended(state.db.conn(), &n).await?;
    kenshu_domain::report::may_write(&course.model.title, course.report.required(), attended)
        .map_err(ApiError::Conflict)?;
    let report = repo::create(txn, &auth.actor(), &n, &text, body.submit).await?;
    Ok((report, trainee))
}

/// Correct a draft or returned report as its trainee, in `txn`; `version` as read, or none to
/// correct whatever is current (the portal's form is the trainee's latest word), and with
/// `submit` send it on (again) once corrected.
pub(crate) async fn correct_report(
    state: &AppState,
    auth: &Auth,
    txn: &WriteTxn,
    id: Uuid,
    version: &Precondition,
    input: ReportInput,
) -> ApiResult<(training_report::Model, Trainee)> {
    let r = repo::get(state.db.conn(), auth.principal.org_id, id).await?;
    let trainee = trainee(state, auth, r.employee_id).await?;
    if !trainee.actors.contains(&ReportActor::Trainee) {
        return Err(ApiError::Forbidden);
    }
    let text = input.validate(false)?;
    let after = repo::update_text(txn, &auth.actor(), r.id, version, &text).await?;
    Ok((after, trainee))
}

/// Submit report `r` as its trainee, in `txn`.
pub(crate) async fn submit_report(
    auth: &Auth,
    txn: &WriteTxn,
    r: &training_report::Model,
    trainee: &Trainee,
) -> ApiResult<training_report::Model> {
    let current = Precondition::version(r.version);
    Ok(repo::apply(txn, &auth.actor(), r.id, &current, &trainee.actors, ReportEvent::Submit, None).await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "return", "comment": "職場での活用方法を具体的に記入してください"}))]
pub struct ReportEventInput {
    pub event: ReportEvent,
    /// Required when returning: what to correct.
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// Move a report (If-Match): `submit` (the trainee; what was learned and how it will be used
/// must be written), `approve` (whoever approves for the trainee: the head or acting head of
/// their department; for a department head, the organisation's approver, by default HR; never
/// the trainee), `return` with a comment (that approver, or HR), `receive` (HR, once approved).
#[utoipa::path(post, operation_id = "report_event", path = "/api/v1/reports/{id}/events", tag = "reports",
    request_body = ReportEventInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = ReportDto, headers(("ETag" = String))),
        (status = 404, description = "No such report in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state (`invalid-transition`, with `current_state`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Returning without a comment, or submitting an incomplete report", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn report_event(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReportEventInput>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let r = repo::get(state.db.conn(), org_id, *id).await?;
    let trainee = trainee(&state, &auth, r.employee_id).await?;
    if !trainee.sees && trainee.actors.is_empty() {
        return Err(ApiError::Forbidden);
    }
    let body = body.into_inner();
    if body.comment.as_ref().is_some_and(|c| c.chars().count() > 1000) {
        return Err(ApiError::validation(FieldError::length("comment", "at most 1000 characters")));
    }
    let comment = body.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if comment.is_none() && body.event == ReportEvent::Return {
        return Err(ApiError::validation(FieldError::required("comment", "say what to correct")));
    }
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let after =
        repo::apply(&txn, &auth.actor(), r.id, &version, &trainee.actors, body.event, comment).await?;
    txn.commit().await?;
    let due = due_on(&state, org_id, r.course_id).await?;
    Ok(json_with_etag(StatusCode::OK, after.version, &view(&after, &trainee, due)?))
}

/// 職場還元: when and how the trainee shared what they learned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"shared_on": "2023-12-20", "note": "課内会議で研修内容を報告"}))]
pub struct SharingInput {
    /// The day it took place: not before the course began, not in the future.
    pub shared_on: NaiveDate,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// Record that the trainee shared what they learned with the workplace (職場還元): dispatch
/// training only, by the trainee's own section head or acting head. Requires `If-Match`;
/// recording again corrects it.
#[utoipa::path(put, operation_id = "record_workplace_sharing", path = "/api/v1/reports/{id}/workplace-sharing", tag = "reports",
    request_body = SharingInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = ReportDto, headers(("ETag" = String))),
        (status = 404, description = "No such report in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The course is not dispatch training", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A date before the course or in the future", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn record_sharing(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<SharingInput>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let r = repo::get(state.db.conn(), org_id, *id).await?;
    let trainee = trainee(&state, &auth, r.employee_id).await?;
    if !trainee.confirms {
        return Err(ApiError::Forbidden);
    }
    let course = catalogue::get_course(state.db.conn(), org_id, r.course_id).await?;
    if !course.is_dispatch() {
        return Err(ApiError::Conflict(Words::new(
            format!(
                "「{}」 is not dispatch training; 職場還元 is recorded for dispatch training only",
                course.model.title
            ),
            format!("「{}」は派遣研修ではありません。職場還元は派遣研修のみ記録します", course.model.title),
        )));
    }
    let body = body.into_inner();
    let first_day = catalogue::list_sessions(state.db.conn(), org_id, r.course_id)
        .await?
        .first()
        .map(|s| tokyo_date(s.starts_at));
    let mut errors = Vec::new();
    if body.shared_on > today() {
        errors.push(kenshu_domain::FieldError::range("shared_on", "is in the future"));
    }
    if let Some(first) = first_day.filter(|d| body.shared_on < *d) {
        errors.push(kenshu_domain::FieldError::range(
            "shared_on",
            format!("is before the course began ({first})"),
        ));
    }
    if body.note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        errors.push(kenshu_domain::FieldError::length("note", "at most 1000 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let note = body.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let after = repo::record_sharing(&txn, &auth.actor(), &r, &version, body.shared_on, note).await?;
    txn.commit().await?;
    let due = due_on(&state, org_id, r.course_id).await?;
    Ok(json_with_etag(StatusCode::OK, after.version, &view(&after, &trainee, due)?))
}

// ---------------------------------------------------------------------------------------------
// Lists: who owes a report, where each stands, how late

/// One report owed: a trainee who attended a course that requires one, and how far the report
/// has come.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportLineDto {
    pub nomination_id: Uuid,
    pub course: CourseRefDto,
    pub employee: EmployeeRefDto,
    pub section_id: Uuid,
    pub due_on: Option<NaiveDate>,
    /// Null until the trainee starts writing.
    pub report_id: Option<Uuid>,
    /// Null: not started.
    pub state: Option<ReportState>,
    /// Days past the due date as of `as_of`, while the report is with the trainee (not started,
    /// draft or returned).
    pub days_overdue: Option<i64>,
    pub submitted_late: bool,
    /// False once the trainee left the organisation (退職): still owed, for the office to settle,
    /// but nobody is reminded of it any more.
    pub on_roster: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportLineList {
    /// The day `days_overdue` is counted to (Japan date).
    pub as_of: NaiveDate,
    /// By fiscal year (newest first), plan order, then employee number.
    pub items: Vec<ReportLineDto>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportListQuery {
    /// Courses of this fiscal year only.
    pub fiscal_year: Option<i32>,
    /// Only reports in this state (`submitted`: waiting for the department head; `approved`:
    /// waiting for HR).
    pub state: Option<ReportState>,
    /// Only overdue reports (未提出), with days overdue.
    #[serde(default)]
    pub overdue: bool,
    /// Count days overdue to this day instead of today (Japan date).
    pub as_of: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// 未提出一覧 and the other lists of reports owed, as a table.
async fn owed_table(state: &AppState, org_id: Uuid, lines: &[ReportLineDto]) -> ApiResult<Table> {
    let units = structure::unit_names(state.db.conn(), org_id, lines.iter().map(|l| l.section_id)).await?;
    let columns = [
        &["年度", "区分", "No", "研修名"][..],
        &PERSON_HEADERS,
        &["提出期限", "状態", "超過日数", "期限後提出", "退職"],
    ];
    let mut table = Table::new("研修報告書", &columns.concat());
    for l in lines {
        let category = Category::parse(&l.course.category).map(|c| c.japanese());
        let mut row: Vec<Cell> = vec![
            l.course.fiscal_year.into(),
            category.into(),
            l.course.number.into(),
            (&l.course.title).into(),
        ];
        row.extend(person_cells(&l.employee.employee_no, &l.employee.name, units.get(&l.section_id)));
        row.extend([
            l.due_on.into(),
            l.state.map_or("未着手", ReportState::japanese).into(),
            l.days_overdue.into(),
            l.submitted_late.into(),
            (!l.on_roster).into(),
        ]);
        table.push(row);
    }
    Ok(table)
}

async fn report_list(
    state: &AppState,
    org_id: Uuid,
    mut scope: ReportScope,
    q: &ReportListQuery,
    file: &ListFile,
) -> ApiResult<HttpResponse> {
    if let Some(y) = q.fiscal_year {
        scope.fiscal_year = Some(fiscal_year("fiscal_year", y)?.year());
    }
    let as_of = q.as_of.unwrap_or_else(today);
    let page = file.page("reports", q.limit, q.cursor.as_deref())?;
    let after = match page.after.as_ref().and_then(|a| a.first()) {
        Some(key) => Some(Uuid::parse_str(key).map_err(|_| list_changed())?),
        None => None,
    };
    let filter = OwedFilter { state: q.state, overdue_on: q.overdue.then_some(as_of) };
    let lines = repo::owed_page(&state.db, org_id, &scope, filter, after, page.limit)
        .await?
        .ok_or_else(list_changed)?;
    let items: Vec<ReportLineDto> = lines.iter().map(|l| line_view(l, as_of)).collect();
    let page = Page::from_rows(items, page.limit, |l| vec![l.nomination_id.to_string()]);
    if file.file().is_some() {
        file.check_whole(&page)?;
        let table = owed_table(state, org_id, &page.items).await?;
        return file.download(&table, &format!("kenshu-reports-{as_of}"));
    }
    Ok(HttpResponse::Ok().json(ReportLineList {
        as_of,
        items: page.items,
        next_cursor: encode_cursor("reports", page.next),
    }))
}

fn line_view(l: &ReportLine, as_of: NaiveDate) -> ReportLineDto {
    let state = l.state();
    ReportLineDto {
        nomination_id: l.nomination_id,
        course: CourseRefDto {
            id: l.course.id,
            fiscal_year: l.course.fiscal_year,
            category: l.course.category.clone(),
            number: l.course.number,
            title: l.course.title.clone(),
        },
        employee: EmployeeRefDto::from(&l.employee),
        section_id: l.section_id,
        due_on: l.due_on,
        report_id: l.report.as_ref().map(|r| r.id),
        state,
        days_overdue: l.days_overdue(state, as_of),
        submitted_late: l.report.as_ref().is_some_and(|r| late(r.first_submitted_at, l.due_on)),
        on_roster: l.on_roster,
    }
}

/// Every report owed in the organisation (HR, auditors): filter by fiscal year, course, state,
/// or `overdue=true` for the 未提出 list with days overdue; `format=csv` or `xlsx` for the whole
/// list as a file.
#[utoipa::path(get, operation_id = "list_reports", path = "/api/v1/reports", tag = "reports",
    params(ReportListQuery, ("course_id" = Option<Uuid>, Query, description = "One course only"), ListFile),
    responses((status = 200, content((ReportLineList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, description = "Fiscal year or limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn list_reports(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<ReportListQuery>,
    course: web::Query<CourseFilter>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadNominations)?;
    let scope = ReportScope { course_id: course.course_id, ..ReportScope::default() };
    report_list(&state, auth.principal.org_id, scope, &q, &file).await
}

#[derive(Debug, Deserialize)]
pub struct CourseFilter {
    pub course_id: Option<Uuid>,
}

/// The reports a section's staff owe (its head, the head of its department, HR, auditors).
#[utoipa::path(get, operation_id = "section_reports", path = "/api/v1/sections/{id}/reports", tag = "reports",
    params(("id" = Uuid, Path), ReportListQuery, ListFile),
    responses((status = 200, content((ReportLineList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such section in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fiscal year or limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn section_reports(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<ReportListQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let staff = section_staff(&state, &auth, *id).await?;
    report_list(&state, org_id, ReportScope { employees: Some(staff), ..ReportScope::default() }, &q, &file)
        .await
}

/// The reports a department's staff owe: its head sees what waits for approval with
/// `state=submitted` (also HR and auditors).
#[utoipa::path(get, operation_id = "department_reports", path = "/api/v1/departments/{id}/reports", tag = "reports",
    params(("id" = Uuid, Path), ReportListQuery, ListFile),
    responses((status = 200, content((ReportLineList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such department in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fiscal year or limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn department_reports(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<ReportListQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let department = structure::get_department(state.db.conn(), org_id, *id).await?;
    authorize(&auth.principal, Action::ReadDepartmentRecords { department_id: department.id })?;
    let staff = employee_repo::staff_ids(state.db.conn(), org_id, Unit::Department(department.id)).await?;
    report_list(&state, org_id, ReportScope { employees: Some(staff), ..ReportScope::default() }, &q, &file)
        .await
}

/// The reports I owe or have written, with due dates.
#[utoipa::path(get, operation_id = "my_reports", path = "/api/v1/me/reports", tag = "me",
    params(ReportListQuery),
    responses((status = 200, body = ReportLineList),
        (status = 422, description = "Fiscal year or limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn my_reports(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<ReportListQuery>,
) -> ApiResult<HttpResponse> {
    let me: Vec<Uuid> = auth.principal.employee.iter().map(|e| e.employee_id).collect();
    report_list(
        &state,
        auth.principal.org_id,
        ReportScope { employees: Some(me), ..ReportScope::default() },
        &q,
        &ListFile::default(),
    )
    .await
}
