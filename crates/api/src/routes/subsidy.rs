//! 通信教育講座助成: the correspondence-course subsidy. HR sets the year's budget and application
//! window and loads the course catalogue; an employee applies, their section head confirms, HR
//! approves within the budget; on completion the employee sends the proof and the tuition paid,
//! HR verifies (the subsidy is fixed at half, rounded down) and marks it paid.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::auth::{authorize, Action, EmployeePlacement};
use kenshu_domain::calendar::tokyo_date;
use kenshu_domain::catalogue::ApplicationWindow;
use kenshu_domain::roster_import::RowError;
use kenshu_domain::spreadsheet::{Cell, Table};
use kenshu_domain::subsidy::{
    check_proof, ApplicationEvent, ApplicationState, BudgetUse, Programme, StudyField, SubsidyActor,
};
use kenshu_domain::subsidy_io::read_csv;
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use kenshu_persistence::entities::{correspondence_course, subsidy_application, subsidy_programme};
use kenshu_persistence::repo::employee::{employees_by_id, EmployeeRef};
use kenshu_persistence::repo::structure;
use kenshu_persistence::repo::subsidy::{self as repo, MoveData, ProgrammeData};
use kenshu_persistence::WriteTxn;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{created, encode_cursor, fiscal_year, if_match, json_with_etag, page_of, path_year, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::files::{
    encoding_of, file_error, person_cells, read_body, EncodingParam, ListFile, PERSON_HEADERS,
};
use crate::routes::shared::section_staff;
use crate::routes::shared::EmployeeRefDto;
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Programme

/// A self-development programme of the year: budget, window and what is drawn on the budget.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeDto {
    pub fiscal_year: i32,
    pub programme: Programme,
    /// 申込期間; null: applications are taken all year.
    pub application_window: Option<ApplicationWindow>,
    #[serde(flatten)]
    pub budget: BudgetUse,
    pub version: i32,
}

async fn programme_view(state: &AppState, p: &subsidy_programme::Model) -> ApiResult<ProgrammeDto> {
    let budget = repo::budget_use(state.db.conn(), p).await?;
    let application_window = match (p.application_opens, p.application_closes) {
        (Some(opens), Some(closes)) => Some(ApplicationWindow { opens, closes }),
        _ => None,
    };
    let programme = if p.programme == Programme::StudyGroup.as_str() {
        Programme::StudyGroup
    } else {
        Programme::Correspondence
    };
    Ok(ProgrammeDto { fiscal_year: p.fiscal_year, programme, application_window, budget, version: p.version })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"budget_yen": 600000, "application_window": {"opens": "2023-08-01", "closes": "2024-02-29"}}))]
pub struct ProgrammeInput {
    /// 予算額, whole yen.
    #[schema(minimum = 0, maximum = 1000000000)]
    pub budget_yen: i64,
    pub application_window: Option<ApplicationWindow>,
}

impl ProgrammeInput {
    fn validate(self, fy: kenshu_domain::calendar::FiscalYear) -> ApiResult<ProgrammeData> {
        let mut errors = Vec::new();
        if !(0..=1_000_000_000).contains(&self.budget_yen) {
            errors.push(kenshu_domain::FieldError::range("budget_yen", "whole yen from 0 to 1,000,000,000"));
        }
        let window = self
            .application_window
            .map(|w| w.validate(fy))
            .transpose()
            .map_err(|e| errors.push(kenshu_domain::FieldError::range("application_window", e)))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(ProgrammeData { budget_yen: self.budget_yen, window: window.map(|w| (w.opens, w.closes)) })
    }
}

/// A programme of the year (`correspondence` or `study_group`) with its budget use (HR, auditors): budget,
/// committed (approved, not yet verified), fixed (verified, unpaid), paid and remaining.
#[utoipa::path(get, operation_id = "get_programme", path = "/api/v1/subsidies/{fiscal_year}/{programme}", tag = "subsidies",
    params(("fiscal_year" = i32, Path), ("programme" = Programme, Path)),
    responses((status = 200, body = ProgrammeDto, headers(("ETag" = String))),
        (status = 404, description = "No programme for this year", body = Problem, content_type = "application/problem+json")))]
pub async fn get_programme(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(i32, Programme)>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadResults)?;
    let (year, programme) = path.into_inner();
    let fy = path_year(year)?;
    let p = repo::programme(state.db.conn(), auth.principal.org_id, fy.year(), programme.as_str())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(json_with_etag(StatusCode::OK, p.version, &programme_view(&state, &p).await?))
}

/// Set up a programme of the year (HR): its budget and application window.
#[utoipa::path(post, operation_id = "create_programme", path = "/api/v1/subsidies/{fiscal_year}/{programme}", tag = "subsidies",
    request_body = ProgrammeInput, params(("fiscal_year" = i32, Path), ("programme" = Programme, Path)),
    responses((status = 201, body = ProgrammeDto, headers(("ETag" = String))),
        (status = 404, description = "The fiscal year is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The year's programme exists; change it with PUT", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid budget or window", body = Problem, content_type = "application/problem+json")))]
pub async fn create_programme(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(i32, Programme)>,
    body: Json<ProgrammeInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let (year, programme) = path.into_inner();
    let fy = path_year(year)?;
    let data = body.into_inner().validate(fy)?;
    let txn = state.db.begin_write().await?;
    let p = repo::create_programme(&txn, &auth.actor(), fy.year(), programme.as_str(), data).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::CREATED, p.version, &programme_view(&state, &p).await?))
}

/// Change the budget or window (HR; `If-Match`). A budget below what is already approved or
/// paid is refused (422).
#[utoipa::path(put, operation_id = "update_programme", path = "/api/v1/subsidies/{fiscal_year}/{programme}", tag = "subsidies",
    request_body = ProgrammeInput,
    params(("fiscal_year" = i32, Path), ("programme" = Programme, Path), ("If-Match" = String, Header, description = "ETag of the programme read")),
    responses((status = 200, body = ProgrammeDto, headers(("ETag" = String))),
        (status = 404, description = "No programme for this year", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid budget or window", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_programme(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(i32, Programme)>,
    body: Json<ProgrammeInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let (year, programme) = path.into_inner();
    let fy = path_year(year)?;
    let before = repo::programme(state.db.conn(), auth.principal.org_id, fy.year(), programme.as_str())
        .await?
        .ok_or(ApiError::NotFound)?;
    let data = body.into_inner().validate(fy)?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let p = repo::update_programme(&txn, &auth.actor(), &before, &version, data).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, p.version, &programme_view(&state, &p).await?))
}

// ---------------------------------------------------------------------------------------------
// Course catalogue

/// 通信教育講座
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrespondenceCourseDto {
    pub id: Uuid,
    pub fiscal_year: i32,
    /// 実施団体
    pub provider: String,
    /// 講座名
    pub title: String,
    pub field: StudyField,
    /// 受講料 (yen)
    pub tuition_yen: i64,
    /// 受講期間 (months)
    pub months: i32,
}

fn course_view(c: &correspondence_course::Model) -> ApiResult<CorrespondenceCourseDto> {
    Ok(CorrespondenceCourseDto {
        id: c.id,
        fiscal_year: c.fiscal_year,
        provider: c.provider.clone(),
        title: c.title.clone(),
        field: c.field()?,
        tuition_yen: c.tuition_yen,
        months: c.months,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CorrespondenceCourseList {
    /// By provider and title.
    pub items: Vec<CorrespondenceCourseDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CourseListQuery {
    /// One field only.
    pub field: Option<StudyField>,
}

/// The year's correspondence courses (anyone who reads the catalogue).
#[utoipa::path(get, operation_id = "list_correspondence_courses", path = "/api/v1/subsidies/{fiscal_year}/correspondence/courses", tag = "subsidies",
    params(("fiscal_year" = i32, Path), CourseListQuery),
    responses((status = 200, body = CorrespondenceCourseList),
        (status = 404, description = "The fiscal year is out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn list_courses(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
    q: web::Query<CourseListQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadCatalogue)?;
    let fy = path_year(*year)?;
    let rows = repo::list_courses(state.db.conn(), auth.principal.org_id, fy.year()).await?;
    let mut items = rows.iter().map(course_view).collect::<ApiResult<Vec<_>>>()?;
    items.retain(|c| q.field.is_none_or(|f| f == c.field));
    Ok(HttpResponse::Ok().json(CorrespondenceCourseList { items }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CourseImportQuery {
    #[serde(default)]
    pub dry_run: bool,
    pub encoding: Option<EncodingParam>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourseImportReport {
    pub dry_run: bool,
    pub courses: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Load the year's correspondence courses from CSV (HR, importer): 実施団体, 講座名, 分野 (語学,
/// ＯＡ, 資格, 実務, 教養), 受講料 (yen; 38,500 or ￥38,500), 期間 (months; 6 or 6か月). Matched by
/// provider and title; the same file again changes nothing. One bad row rejects the file.
#[utoipa::path(post, operation_id = "import_correspondence_courses", path = "/api/v1/subsidies/{fiscal_year}/correspondence/courses/import", tag = "subsidies",
    params(("fiscal_year" = i32, Path), CourseImportQuery),
    request_body(content = String, content_type = "text/csv",
        example = "実施団体,講座名,分野,受講料,期間\n日本通信教育協会,実用英語入門,語学,38500,6\n"),
    responses((status = 200, body = CourseImportReport),
        (status = 404, description = "The fiscal year is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The catalogue changed while the import ran", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV, or an unknown charset", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file cannot be read (import-file) or has invalid rows (import-rejected)", body = Problem, content_type = "application/problem+json")))]
pub async fn import_courses(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    year: web::Path<i32>,
    q: web::Query<CourseImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ImportCatalogue)?;
    let fy = path_year(*year)?;
    let encoding = encoding_of(&req, q.encoding)?;
    let body = read_body(payload, state.config.max_upload_bytes).await?;
    let read = read_csv(&body, encoding).map_err(file_error)?;
    if read.rows.is_empty() && read.errors.is_empty() {
        return Err(ApiError::ImportFile(Words::fixed(
            "the file holds no courses",
            "ファイルに研修がありません",
        )));
    }
    let mut errors: Vec<RowError> = read.errors;
    let mut courses = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (line, text) in read.rows {
        let key = (text.provider.trim().to_string(), text.title.trim().to_string());
        match text.validate("") {
            Ok(c) => {
                if let Some(first) = seen.insert((c.provider.clone(), c.title.clone()), line) {
                    errors.push(RowError::new(
                        line,
                        "講座名",
                        kenshu_domain::FieldCode::Duplicate,
                        format!("{} / {} is on line {first} too", key.0, key.1),
                    ));
                }
                courses.push(c);
            }
            Err(e) => {
                errors.extend(e.into_iter().map(|e| {
                    RowError::of_field(line, kenshu_domain::subsidy_io::column_of_field(&e.field), e)
                }))
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ApiError::ImportRejected(errors));
    }
    let txn = state.db.begin_write().await?;
    let stats = repo::import_courses(&txn, &auth.actor(), fy.year(), &courses).await?;
    if q.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(HttpResponse::Ok().json(CourseImportReport {
        dry_run: q.dry_run,
        courses: courses.len() as u64,
        created: stats.created,
        updated: stats.updated,
        unchanged: stats.unchanged,
    }))
}

// ---------------------------------------------------------------------------------------------
// Applications

/// A subsidy application.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubsidyApplicationDto {
    pub id: Uuid,
    pub fiscal_year: i32,
    pub employee: EmployeeRefDto,
    pub section_id: Uuid,
    pub course: CorrespondenceCourseDto,
    /// The catalogue tuition when applied.
    pub tuition_yen: i64,
    pub state: ApplicationState,
    pub reason: Option<String>,
    /// Committed at approval: half the tuition, rounded down.
    pub approved_yen: Option<i64>,
    /// The tuition paid, as reported with the proof.
    pub paid_tuition_yen: Option<i64>,
    /// The subsidy, fixed when HR verifies: half the tuition paid, rounded down, at most the
    /// approved amount; 0 when not completed.
    pub subsidy_yen: Option<i64>,
    /// Why it was returned or rejected.
    pub comment: Option<String>,
    /// A proof of completion is on file.
    pub has_proof: bool,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub reported_at: Option<DateTime<Utc>>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The applicant of an application and what the caller is to them.
struct Applicant {
    placement: EmployeePlacement,
    who: EmployeeRef,
    actors: Vec<SubsidyActor>,
    sees: bool,
}

async fn applicant(state: &AppState, auth: &Auth, employee_id: Uuid) -> ApiResult<Applicant> {
    let p = auth.relation_to(state.db.conn(), employee_id).await?;
    // Nobody decides on their own subsidy, not even as HR: the relation grants them no capacity.
    let actors = SubsidyActor::of(&p.relation);
    Ok(Applicant { placement: p.placement, who: p.who, actors, sees: p.relation.sees })
}

/// An application as shown, from what was read for it (one at a time or a list at once).
fn render(
    a: &subsidy_application::Model,
    who: &EmployeeRef,
    section_id: Uuid,
    course: &correspondence_course::Model,
    has_proof: bool,
) -> ApiResult<SubsidyApplicationDto> {
    Ok(SubsidyApplicationDto {
        id: a.id,
        fiscal_year: a.fiscal_year,
        employee: EmployeeRefDto::from(who),
        section_id,
        course: course_view(course)?,
        tuition_yen: a.tuition_yen,
        state: a.state()?,
        reason: a.reason.clone(),
        approved_yen: a.approved_yen,
        paid_tuition_yen: a.paid_tuition_yen,
        subsidy_yen: a.subsidy_yen,
        comment: a.comment.clone(),
        has_proof,
        confirmed_by: a.confirmed_by.clone(),
        confirmed_at: a.confirmed_at,
        approved_by: a.approved_by.clone(),
        approved_at: a.approved_at,
        reported_at: a.reported_at,
        verified_by: a.verified_by.clone(),
        verified_at: a.verified_at,
        paid_at: a.paid_at,
        version: a.version,
        created_at: a.created_at,
        updated_at: a.updated_at,
    })
}

async fn view(
    state: &AppState,
    a: &subsidy_application::Model,
    who: &Applicant,
) -> ApiResult<SubsidyApplicationDto> {
    let course = repo::get_course(state.db.conn(), a.org_id, a.course_id).await?;
    let has_proof = !repo::with_proof(state.db.conn(), a.org_id, &[a.id]).await?.is_empty();
    render(a, &who.who, who.placement.section_id, &course, has_proof)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"course_id": "01939a4e-7c1a-7d2e-8f00-000000000001", "reason": "窓口での英語対応のため"}))]
pub struct NewApplication {
    pub course_id: Uuid,
    /// 受講の動機
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// Apply for the subsidy of a correspondence course (any employee, for themself), within the
/// year's application window.
#[utoipa::path(post, operation_id = "apply_for_subsidy", path = "/api/v1/subsidy-applications", tag = "subsidies",
    request_body = NewApplication,
    responses((status = 201, body = SubsidyApplicationDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such course in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Outside the application window, no programme this year, or you applied for this course already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn apply(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<NewApplication>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.begin_write().await?;
    let a = apply_as(&state, &auth, &txn, body.into_inner()).await?;
    txn.commit().await?;
    let who = applicant(&state, &auth, a.employee_id).await?;
    let location = format!("/api/v1/subsidy-applications/{}", a.id);
    Ok(created(a.version, &location, &view(&state, &a, &who).await?))
}

/// Apply for a correspondence course's subsidy as the caller, in `txn`: the API and the
/// portal's 通信教育講座助成 form both apply this way.
pub(crate) async fn apply_as(
    state: &AppState,
    auth: &Auth,
    txn: &WriteTxn,
    body: NewApplication,
) -> ApiResult<subsidy_application::Model> {
    authorize(&auth.principal, Action::Apply)?;
    let me = auth.principal.employee.ok_or(ApiError::Forbidden)?;
    let org_id = auth.principal.org_id;
    if body.reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(ApiError::validation(FieldError::length("reason", "at most 1000 characters")));
    }
    let course = repo::get_course(state.db.conn(), org_id, body.course_id).await?;
    let p = repo::programme(state.db.conn(), org_id, course.fiscal_year, Programme::Correspondence.as_str())
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(Words::new(
                format!("the FY{} subsidy is not open", course.fiscal_year),
                format!("{}年度の助成は受付していません", course.fiscal_year),
            ))
        })?;
    if let (Some(opens), Some(closes)) = (p.application_opens, p.application_closes) {
        if let Some(why) = (ApplicationWindow { opens, closes }).refusal(tokyo_date(Utc::now())) {
            return Err(ApiError::Conflict(why));
        }
    }
    let reason = body.reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    Ok(repo::apply(txn, &auth.actor(), me.employee_id, &course, reason).await?)
}

/// Read an application: the applicant, their heads, HR and auditors.
#[utoipa::path(get, operation_id = "get_subsidy_application", path = "/api/v1/subsidy-applications/{id}", tag = "subsidies",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SubsidyApplicationDto, headers(("ETag" = String))),
        (status = 404, description = "No such application in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn get_application(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let a = repo::get_application(state.db.conn(), auth.principal.org_id, *id).await?;
    let who = applicant(&state, &auth, a.employee_id).await?;
    if !who.sees {
        return Err(ApiError::Forbidden);
    }
    Ok(json_with_etag(StatusCode::OK, a.version, &view(&state, &a, &who).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "report_completion", "paid_tuition_yen": 38500}))]
pub struct ApplicationEventInput {
    pub event: ApplicationEvent,
    /// Required to report completion: the tuition actually paid, whole yen.
    #[schema(minimum = 1, maximum = 10000000)]
    pub paid_tuition_yen: Option<i64>,
    /// Required to return or reject: why.
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// Move an application (`If-Match`): `confirm` or `reject` (the applicant's own section head,
/// never the applicant), `approve` (HR, within the remaining budget; otherwise 409), `reject`
/// (HR), `withdraw` (the applicant, before approval), `report_completion` with
/// `paid_tuition_yen` (the applicant, with a proof on file), `report_not_completed` (the
/// applicant or HR: no subsidy), `return` with a comment, `verify` (fixes the subsidy) and
/// `mark_paid` (HR). Nobody moves their own application as HR.
#[utoipa::path(post, operation_id = "subsidy_application_event", path = "/api/v1/subsidy-applications/{id}/events", tag = "subsidies",
    request_body = ApplicationEventInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = SubsidyApplicationDto, headers(("ETag" = String))),
        (status = 404, description = "No such application in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not from the current state (`invalid-transition`), the budget would be exceeded, or no proof on file", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing amount or comment", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn application_event(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ApplicationEventInput>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let a = repo::get_application(state.db.conn(), org_id, *id).await?;
    let who = applicant(&state, &auth, a.employee_id).await?;
    if !who.sees && who.actors.is_empty() {
        return Err(ApiError::Forbidden);
    }
    let body = body.into_inner();
    if body.comment.as_ref().is_some_and(|c| c.chars().count() > 1000) {
        return Err(ApiError::validation(FieldError::length("comment", "at most 1000 characters")));
    }
    let comment = body.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if comment.is_none() && matches!(body.event, ApplicationEvent::Return | ApplicationEvent::Reject) {
        return Err(ApiError::validation(FieldError::required("comment", "say why")));
    }
    if body.event == ApplicationEvent::ReportCompletion {
        match body.paid_tuition_yen {
            Some(y) if (1..=kenshu_domain::subsidy::TUITION_MAX).contains(&y) => {}
            _ => {
                return Err(ApiError::validation(FieldError::range(
                    "paid_tuition_yen",
                    "the tuition paid, whole yen from 1",
                )))
            }
        }
    }
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let data = MoveData { paid_tuition_yen: body.paid_tuition_yen, comment };
    let after =
        repo::move_application(&txn, &auth.actor(), a.id, &version, &who.actors, body.event, data).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, after.version, &view(&state, &after, &who).await?))
}

/// Attach (or replace) the proof of completion (修了証の写し): the applicant, once approved and
/// until verified. The body is the file itself: `application/pdf`, `image/jpeg` or `image/png`,
/// at most 5 MiB, and its content must match its type.
#[utoipa::path(put, operation_id = "put_subsidy_proof", path = "/api/v1/subsidy-applications/{id}/proof", tag = "subsidies",
    params(("id" = Uuid, Path)),
    request_body(content(("application/pdf"), ("image/jpeg"), ("image/png"))),
    responses((status = 204, description = "Stored"),
        (status = 404, description = "No such application in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved, or already verified", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a PDF, JPEG or PNG, or the content is not what the type says", body = Problem, content_type = "application/problem+json")))]
pub async fn put_proof(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let a = repo::get_application(state.db.conn(), org_id, *id).await?;
    let who = applicant(&state, &auth, a.employee_id).await?;
    if !who.actors.contains(&SubsidyActor::Applicant) {
        return Err(ApiError::Forbidden);
    }
    let current = repo::state_of(&a)?;
    if !matches!(current, ApplicationState::Approved | ApplicationState::Reported) {
        return Err(ApiError::InvalidTransition {
            state: current.as_str().into(),
            message: format!(
                "a proof is attached to an approved application; this one is {}",
                current.as_str()
            ),
        });
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let bytes = read_body(payload, kenshu_domain::subsidy::PROOF_MAX_BYTES).await.map_err(|e| match e {
        ApiError::PayloadTooLarge(_) => ApiError::PayloadTooLarge(Words::fixed(
            "the proof is larger than 5 MiB",
            "証明書類が 5 MiB を超えています",
        )),
        e => e,
    })?;
    let kind = check_proof(content_type, &bytes).map_err(ApiError::UnsupportedMediaType)?;
    let txn = state.db.begin_write().await?;
    repo::put_proof(&txn, &auth.actor(), &a, kind, bytes.to_vec()).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The proof of completion as uploaded (the applicant, their heads, HR and auditors).
#[utoipa::path(get, operation_id = "get_subsidy_proof", path = "/api/v1/subsidy-applications/{id}/proof", tag = "subsidies",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The file", content(("application/pdf"), ("image/jpeg"), ("image/png"))),
        (status = 404, description = "No such application, or no proof on file", body = Problem, content_type = "application/problem+json")))]
pub async fn get_proof(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let a = repo::get_application(state.db.conn(), org_id, *id).await?;
    let who = applicant(&state, &auth, a.employee_id).await?;
    if !who.sees {
        return Err(ApiError::Forbidden);
    }
    let d = repo::proof(state.db.conn(), org_id, a.id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(d.content_type)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(d.content))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubsidyApplicationList {
    /// Oldest first.
    pub items: Vec<SubsidyApplicationDto>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationListQuery {
    pub fiscal_year: Option<i32>,
    /// `applied`: waiting for the section head; `confirmed`: for HR; `reported`: proofs to check.
    pub state: Option<ApplicationState>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// 通信教育講座助成 applications as a table.
async fn application_table(
    state: &AppState,
    org_id: Uuid,
    items: &[SubsidyApplicationDto],
) -> ApiResult<Table> {
    let units = structure::unit_names(state.db.conn(), org_id, items.iter().map(|a| a.section_id)).await?;
    let columns = [
        &["年度"][..],
        &PERSON_HEADERS,
        &[
            "講座名",
            "実施団体",
            "受講料",
            "状態",
            "承認額",
            "支払受講料",
            "助成額",
            "申請日",
            "承認日",
            "支払日",
        ],
    ];
    let mut table = Table::new("通信教育講座助成", &columns.concat());
    for a in items {
        let mut row = vec![Cell::from(a.fiscal_year)];
        row.extend(person_cells(&a.employee.employee_no, &a.employee.name, units.get(&a.section_id)));
        row.extend([
            (&a.course.title).into(),
            (&a.course.provider).into(),
            a.tuition_yen.into(),
            a.state.japanese().into(),
            a.approved_yen.into(),
            a.paid_tuition_yen.into(),
            a.subsidy_yen.into(),
            tokyo_date(a.created_at).into(),
            a.approved_at.map(tokyo_date).into(),
            a.paid_at.map(tokyo_date).into(),
        ]);
        table.push(row);
    }
    Ok(table)
}

async fn application_list(
    state: &AppState,
    auth: &Auth,
    employees: Option<&[Uuid]>,
    q: &ApplicationListQuery,
    file: &ListFile,
) -> ApiResult<HttpResponse> {
    let fy = q.fiscal_year.map(|y| fiscal_year("fiscal_year", y)).transpose()?.map(|f| f.year());
    let scope = "subsidy-applications";
    let page = file.page(scope, q.limit, q.cursor.as_deref())?;
    let all = repo::list_applications(state.db.conn(), auth.principal.org_id, fy, employees, q.state).await?;
    let page = page_of(all, &page, |a| a.id.to_string())?;
    file.check_whole(&page)?;
    let rows = page.items;
    // Applicants, courses and proofs are read once for the whole list.
    let conn = state.db.conn();
    let org_id = auth.principal.org_id;
    let employee_ids: Vec<Uuid> = rows.iter().map(|a| a.employee_id).collect();
    let course_ids: Vec<Uuid> = rows.iter().map(|a| a.course_id).collect();
    let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
    let staff = employees_by_id(conn, org_id, &employee_ids).await?;
    let courses = repo::courses_by_id(conn, org_id, &course_ids).await?;
    let proofs = repo::with_proof(conn, org_id, &ids).await?;
    let mut items = Vec::with_capacity(rows.len());
    for a in &rows {
        let (Some(e), Some(course)) = (staff.get(&a.employee_id), courses.get(&a.course_id)) else {
            return Err(ApiError::NotFound);
        };
        items.push(render(a, &e.employee, e.section_id, course, proofs.contains(&a.id))?);
    }
    if file.file().is_some() {
        let table = application_table(state, org_id, &items).await?;
        return file.download(&table, "kenshu-subsidy-applications");
    }
    Ok(HttpResponse::Ok()
        .json(SubsidyApplicationList { items, next_cursor: encode_cursor(scope, page.next) }))
}

/// Every application (HR, auditors); `format=csv` or `xlsx` for all of them as a file.
#[utoipa::path(get, operation_id = "list_subsidy_applications", path = "/api/v1/subsidy-applications", tag = "subsidies",
    params(ApplicationListQuery, ListFile),
    responses((status = 200, content((SubsidyApplicationList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, description = "Fiscal year or limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn list_applications(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<ApplicationListQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadResults)?;
    application_list(&state, &auth, None, &q, &file).await
}

/// My applications.
#[utoipa::path(get, operation_id = "my_subsidy_applications", path = "/api/v1/me/subsidy-applications", tag = "me",
    params(ApplicationListQuery),
    responses((status = 200, body = SubsidyApplicationList),
        (status = 422, description = "Fiscal year or limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn my_applications(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<ApplicationListQuery>,
) -> ApiResult<HttpResponse> {
    let me: Vec<Uuid> = auth.principal.employee.iter().map(|e| e.employee_id).collect();
    application_list(&state, &auth, Some(&me), &q, &ListFile::default()).await
}

/// A section's applications: its head (`state=applied` is what waits for them), its
/// department's head, HR and auditors.
#[utoipa::path(get, operation_id = "section_subsidy_applications", path = "/api/v1/sections/{id}/subsidy-applications", tag = "subsidies",
    params(("id" = Uuid, Path), ApplicationListQuery, ListFile),
    responses((status = 200, content((SubsidyApplicationList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such section in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fiscal year or limit out of range, or a cursor this list did not give", body = Problem, content_type = "application/problem+json")))]
pub async fn section_applications(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<ApplicationListQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    let staff = section_staff(&state, &auth, *id).await?;
    application_list(&state, &auth, Some(&staff), &q, &file).await
}
