//! Organisation structure: departments (部), sections (課・所属) and the grade ladder (職級).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::approval::TopApprover;
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::org::{parse_name, Code, Grade, GradeLadder};
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use kenshu_persistence::entities::{department, section};
use kenshu_persistence::repo::org;
use kenshu_persistence::repo::structure::{self as repo, UnitInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{created, encode_cursor, if_match, json_with_etag, page_request, Json};
use crate::problem::{ApiError, ApiResult, Language, Problem};
use crate::routes::shared::EmployeeRefDto;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct DepartmentDto {
    pub id: Uuid,
    /// Code used by the personnel system.
    pub code: String,
    pub name: String,
    /// 所属部長
    pub head_employee_id: Option<Uuid>,
    /// Acting head (代理) while the head is away.
    pub acting_head_employee_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&department::Model> for DepartmentDto {
    fn from(m: &department::Model) -> Self {
        Self {
            id: m.id,
            code: m.code.clone(),
            name: m.name.clone(),
            head_employee_id: m.head_employee_id,
            acting_head_employee_id: m.acting_head_employee_id,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SectionDto {
    pub id: Uuid,
    pub department_id: Uuid,
    pub code: String,
    pub name: String,
    /// 所属長
    pub head_employee_id: Option<Uuid>,
    pub acting_head_employee_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&section::Model> for SectionDto {
    fn from(m: &section::Model) -> Self {
        Self {
            id: m.id,
            department_id: m.department_id,
            code: m.code.clone(),
            name: m.name.clone(),
            head_employee_id: m.head_employee_id,
            acting_head_employee_id: m.acting_head_employee_id,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "D01", "name": "総務部", "head_employee_id": null}))]
pub struct DepartmentInput {
    pub code: String,
    pub name: String,
    pub head_employee_id: Option<Uuid>,
    pub acting_head_employee_id: Option<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "S0101", "name": "人事課", "department_id": "01939a4e-7c1a-7d2e-8f00-0000000000d1"}))]
pub struct SectionInput {
    pub department_id: Uuid,
    pub code: String,
    pub name: String,
    pub head_employee_id: Option<Uuid>,
    pub acting_head_employee_id: Option<Uuid>,
}

fn unit_input(code: &str, name: &str, head: Option<Uuid>, acting: Option<Uuid>) -> ApiResult<UnitInput> {
    let mut errors = Vec::new();
    let code = Code::parse(code).map_err(|e| errors.push(FieldError::format("code", e))).ok();
    let name = parse_name("name", name).map_err(|e| errors.push(e)).ok();
    match (code, name) {
        (Some(code), Some(name)) if errors.is_empty() => Ok(UnitInput {
            code: code.as_str().to_string(),
            name,
            head_employee_id: head,
            acting_head_employee_id: acting,
        }),
        _ => Err(ApiError::Validation(errors)),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitListQuery {
    /// Sections of this department only (ignored for departments).
    pub department_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentPage {
    pub items: Vec<DepartmentDto>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SectionPage {
    pub items: Vec<SectionDto>,
    pub next_cursor: Option<String>,
}

/// Departments, by code.
#[utoipa::path(get, path = "/api/v1/departments", tag = "organisation", params(UnitListQuery),
    responses((status = 200, body = DepartmentPage),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn list_departments(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<UnitListQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadOrgStructure)?;
    let page = page_request("departments", q.limit, q.cursor.as_deref())?;
    let result = repo::list_departments(state.db.conn(), auth.principal.org_id, &page).await?;
    Ok(HttpResponse::Ok().json(DepartmentPage {
        items: result.items.iter().map(DepartmentDto::from).collect(),
        next_cursor: encode_cursor("departments", result.next),
    }))
}

/// One department.
#[utoipa::path(get, path = "/api/v1/departments/{id}", tag = "organisation", params(("id" = Uuid, Path)),
    responses((status = 200, body = DepartmentDto, headers(("ETag" = String))),
        (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json")))]
pub async fn get_department(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadOrgStructure)?;
    let d = repo::get_department(state.db.conn(), auth.principal.org_id, *id).await?;
    Ok(json_with_etag(StatusCode::OK, d.version, &DepartmentDto::from(&d)))
}

/// Add a department (HR).
#[utoipa::path(post, path = "/api/v1/departments", tag = "organisation", request_body = DepartmentInput,
    responses((status = 201, body = DepartmentDto, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_department(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<DepartmentInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteOrgStructure)?;
    let b = body.into_inner();
    let input = unit_input(&b.code, &b.name, b.head_employee_id, b.acting_head_employee_id)?;
    let txn = state.db.begin_write().await?;
    let d = repo::create_department(&txn, &auth.actor(), input).await?;
    txn.commit().await?;
    Ok(created(d.version, &format!("/api/v1/departments/{}", d.id), &DepartmentDto::from(&d)))
}

/// Change a department (HR); requires `If-Match`.
#[utoipa::path(put, path = "/api/v1/departments/{id}", tag = "organisation", request_body = DepartmentInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = DepartmentDto, headers(("ETag" = String))),
        (status = 400, description = "Malformed If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_department(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<DepartmentInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteOrgStructure)?;
    repo::get_department(state.db.conn(), auth.principal.org_id, *id).await?;
    let version = if_match(&req)?;
    let b = body.into_inner();
    let input = unit_input(&b.code, &b.name, b.head_employee_id, b.acting_head_employee_id)?;
    let txn = state.db.begin_write().await?;
    let d = repo::update_department(&txn, &auth.actor(), *id, &version, input).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, d.version, &DepartmentDto::from(&d)))
}

/// Sections, by code.
#[utoipa::path(get, path = "/api/v1/sections", tag = "organisation", params(UnitListQuery),
    responses((status = 200, body = SectionPage),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn list_sections(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<UnitListQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadOrgStructure)?;
    let page = page_request("sections", q.limit, q.cursor.as_deref())?;
    let result = repo::list_sections(state.db.conn(), auth.principal.org_id, q.department_id, &page).await?;
    Ok(HttpResponse::Ok().json(SectionPage {
        items: result.items.iter().map(SectionDto::from).collect(),
        next_cursor: encode_cursor("sections", result.next),
    }))
}

/// One section.
#[utoipa::path(get, path = "/api/v1/sections/{id}", tag = "organisation", params(("id" = Uuid, Path)),
    responses((status = 200, body = SectionDto, headers(("ETag" = String))),
        (status = 404, description = "No such section", body = Problem, content_type = "application/problem+json")))]
pub async fn get_section(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadOrgStructure)?;
    let s = repo::get_section(state.db.conn(), auth.principal.org_id, *id).await?;
    Ok(json_with_etag(StatusCode::OK, s.version, &SectionDto::from(&s)))
}

/// Add a section (HR).
#[utoipa::path(post, path = "/api/v1/sections", tag = "organisation", request_body = SectionInput,
    responses((status = 201, body = SectionDto, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_section(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<SectionInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteOrgStructure)?;
    let b = body.into_inner();
    let input = unit_input(&b.code, &b.name, b.head_employee_id, b.acting_head_employee_id)?;
    let txn = state.db.begin_write().await?;
    let s = repo::create_section(&txn, &auth.actor(), b.department_id, input).await?;
    txn.commit().await?;
    Ok(created(s.version, &format!("/api/v1/sections/{}", s.id), &SectionDto::from(&s)))
}

/// Change a section (HR); requires `If-Match`.
#[utoipa::path(put, path = "/api/v1/sections/{id}", tag = "organisation", request_body = SectionInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = SectionDto, headers(("ETag" = String))),
        (status = 400, description = "Malformed If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_section(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<SectionInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteOrgStructure)?;
    repo::get_section(state.db.conn(), auth.principal.org_id, *id).await?;
    let version = if_match(&req)?;
    let b = body.into_inner();
    let input = unit_input(&b.code, &b.name, b.head_employee_id, b.acting_head_employee_id)?;
    let txn = state.db.begin_write().await?;
    let s = repo::update_section(&txn, &auth.actor(), *id, &version, b.department_id, input).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, s.version, &SectionDto::from(&s)))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GradeDto {
    /// 職級 name, e.g. 係長.
    pub name: String,
    /// Other names personnel systems use for it, e.g. 主事 and 技師 for 一般.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The grade ladder, lowest first.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grades": [
    {"name": "一般", "aliases": ["主事", "技師"]}, {"name": "主任"}, {"name": "主査"}, {"name": "係長"},
    {"name": "課長補佐"}, {"name": "課長"}, {"name": "部長"}]}))]
pub struct GradeLadderDto {
    pub grades: Vec<GradeDto>,
}

fn ladder_dto(l: &GradeLadder) -> GradeLadderDto {
    GradeLadderDto {
        grades: l
            .grades()
            .iter()
            .map(|g| GradeDto { name: g.name.clone(), aliases: g.aliases.clone() })
            .collect(),
    }
}

/// The organisation's grade ladder (職級), lowest first.
#[utoipa::path(get, path = "/api/v1/grades", tag = "organisation",
    responses((status = 200, body = GradeLadderDto, headers(("ETag" = String)))))]
pub async fn get_grades(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadOrgStructure)?;
    let conn = state.db.conn();
    let ladder = org::ladder(conn, auth.principal.org_id).await?;
    let version = org::get(conn, auth.principal.org_id).await?.version;
    Ok(json_with_etag(StatusCode::OK, version, &ladder_dto(&ladder)))
}

/// Replace the grade ladder (HR); grades held by employees must stay. Requires `If-Match`.
#[utoipa::path(put, path = "/api/v1/grades", tag = "organisation", request_body = GradeLadderDto,
    params(("If-Match" = String, Header, description = "ETag of the ladder read")),
    responses((status = 200, body = GradeLadderDto, headers(("ETag" = String))),
        (status = 400, description = "Malformed If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid ladder", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn put_grades(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: Json<GradeLadderDto>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteOrgStructure)?;
    let version = if_match(&req)?;
    let grades =
        body.into_inner().grades.into_iter().map(|g| Grade { name: g.name, aliases: g.aliases }).collect();
    let ladder = GradeLadder::new(grades).map_err(ApiError::Validation)?;
    let txn = state.db.begin_write().await?;
    let (ladder, version) = org::replace_ladder(&txn, &auth.actor(), &version, &ladder).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, version, &ladder_dto(&ladder)))
}

/// The organisation's workflow settings.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"top_approver": {"kind": "training_office"}, "top_approver_employee": null, "promotion_cutoff_days": 2, "language": "ja"}))]
pub struct WorkflowSettingsDto {
    /// Who decides on department heads' own items (their applications, absence notices, subsidy
    /// applications and reports), and on those of a department without a head.
    pub top_approver: TopApprover,
    /// The named employee, when `top_approver.kind` is `employee`.
    pub top_approver_employee: Option<EmployeeRefDto>,
    /// 補欠繰上げ stops this many days before a session starts; later, HR selects by hand.
    pub promotion_cutoff_days: i32,
    /// The language problems are written in for the organisation's clients that ask for none
    /// Kenshu writes (no `Accept-Language`, or `*`); null: the service's default.
    pub language: Option<Language>,
}

/// The organisation's workflow settings, whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"top_approver_employee_no": "10034", "promotion_cutoff_days": 2, "language": "ja"}))]
pub struct WorkflowSettingsInput {
    /// 職員番号 of the approver of department heads' own items (full-width digits are accepted);
    /// `null` or absent: 研修担当.
    #[schema(max_length = 20)]
    pub top_approver_employee_no: Option<String>,
    /// 0 to 30 days.
    #[schema(minimum = 0, maximum = 30)]
    pub promotion_cutoff_days: i32,
    /// `ja` or `en`: the language of problems for the organisation's clients that ask for none
    /// Kenshu writes; `null` or absent: the service's default (`KENSHU_LANGUAGE`).
    #[serde(default)]
    pub language: Option<Language>,
}

async fn workflow_dto(
    state: &AppState,
    o: &kenshu_persistence::entities::organisation::Model,
) -> ApiResult<WorkflowSettingsDto> {
    let (top_approver, top_approver_employee) = match o.top_approver_employee_id {
        None => (TopApprover::TrainingOffice, None),
        Some(employee_id) => {
            let e = kenshu_persistence::repo::employee::get(state.db.conn(), o.id, employee_id).await?;
            let who = EmployeeRefDto { id: e.model.id, employee_no: e.model.employee_no, name: e.model.name };
            (TopApprover::Employee { employee_id }, Some(who))
        }
    };
    Ok(WorkflowSettingsDto {
        top_approver,
        top_approver_employee,
        promotion_cutoff_days: o.promotion_cutoff_days,
        language: o.language.as_deref().and_then(Language::parse),
    })
}

/// The organisation's workflow settings (any member). The ETag is the organisation's version, as
/// for the grade ladder.
#[utoipa::path(get, operation_id = "get_workflow_settings", path = "/api/v1/organisation/workflow", tag = "organisation",
    responses((status = 200, body = WorkflowSettingsDto, headers(("ETag" = String)))))]
pub async fn get_workflow(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadOrgStructure)?;
    let o = org::get(state.db.conn(), auth.principal.org_id).await?;
    Ok(json_with_etag(StatusCode::OK, o.version, &workflow_dto(&state, &o).await?))
}

/// Set the organisation's workflow settings (HR): who decides on department heads' own items (an
/// active employee by number, or `null` for the training office; nobody decides on their own
/// items: the named approver's own go to the training office), the days before a session
/// when the waiting list stops moving up by itself, and the language of problems for clients
/// that ask for none. Requires `If-Match`.
#[utoipa::path(put, operation_id = "put_workflow_settings", path = "/api/v1/organisation/workflow", tag = "organisation",
    request_body = WorkflowSettingsInput,
    params(("If-Match" = String, Header, description = "ETag of the organisation read")),
    responses((status = 200, body = WorkflowSettingsDto, headers(("ETag" = String))),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an active employee of the organisation; days out of range", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn put_workflow(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: Json<WorkflowSettingsInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteOrgStructure)?;
    let org_id = auth.principal.org_id;
    let body = body.into_inner();
    if !(0..=30).contains(&body.promotion_cutoff_days) {
        return Err(ApiError::validation(FieldError::range("promotion_cutoff_days", "0 to 30 days")));
    }
    let field = "top_approver_employee_no";
    let employee_id = match body.top_approver_employee_no {
        None => None,
        Some(no) => {
            let found = crate::routes::shared::named_employee(&state, org_id, None, Some(&no))
                .await
                .map_err(|e| match e {
                    ApiError::Validation(errors) => {
                        ApiError::Validation(errors.into_iter().map(|e| e.at(field)).collect())
                    }
                    e => e,
                })?;
            if !found.model.active {
                return Err(ApiError::validation(FieldError::not_found(
                    field,
                    "is not an active employee of the organisation",
                )));
            }
            Some(found.model.id)
        }
    };
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let settings = org::WorkflowSettings {
        top_approver: employee_id,
        promotion_cutoff_days: body.promotion_cutoff_days,
        language: body.language.map(|l| l.code().to_string()),
    };
    let o = org::set_workflow(&txn, &auth.actor(), &version, settings).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, o.version, &workflow_dto(&state, &o).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StructureImportQuery {
    /// Validate and report without writing.
    #[serde(default)]
    pub dry_run: bool,
    /// Overrides the `charset` of the Content-Type.
    pub encoding: Option<crate::routes::files::EncodingParam>,
}

/// What a structure import did, or would do on a dry run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"dry_run": false, "departments_created": 9, "departments_updated": 0, "departments_unchanged": 0, "sections_created": 20, "sections_updated": 0, "sections_unchanged": 0}))]
pub struct StructureImportReport {
    pub dry_run: bool,
    #[serde(flatten)]
    pub counts: kenshu_domain::structure_io::StructureCounts,
}

/// Load the organisation structure (組織表) from CSV (HR, importer): one row per section with its
/// department, `部コード,部名,所属コード,所属名` required, `所属長,所属長代理,部長,部長代理` optional
/// (employee numbers of active staff; an empty cell is nobody). UTF-8 or Shift_JIS. All or
/// nothing: every bad row is named by line and column. Units are matched by code; those the file
/// does not name are kept. Load it before a new organisation's first roster, and again with
/// heads once the staff exist.
#[utoipa::path(post, operation_id = "import_structure", path = "/api/v1/organisation/structure/import", tag = "organisation",
    params(StructureImportQuery),
    request_body(content = String, content_type = "text/csv",
        example = "部コード,部名,所属コード,所属名,所属長,部長\nD01,企画部,S0101,企画政策課,10002,10001\n"),
    responses((status = 200, body = StructureImportReport),
        (status = 413, description = "Larger than the upload limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file cannot be read (`import-file`) or has bad rows (`import-rejected`)", body = Problem, content_type = "application/problem+json")))]
pub async fn import_structure(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    query: web::Query<StructureImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    use crate::routes::files::{encoding_of, file_error, read_body};
    authorize(&auth.principal, Action::ImportStructure)?;
    let encoding = encoding_of(&req, query.encoding)?;
    let body = read_body(payload, state.config.max_upload_bytes).await?;
    let file = kenshu_domain::structure_io::read_csv(&body, encoding).map_err(file_error)?;
    if !file.errors.is_empty() {
        return Err(ApiError::ImportRejected(file.errors));
    }
    if file.sections.is_empty() {
        return Err(ApiError::ImportFile(Words::fixed(
            "the file has a header but no rows",
            "ファイルに見出し行しかありません",
        )));
    }
    let txn = state.db.begin_write().await?;
    let stats = match repo::import(&txn, &auth.actor(), &file).await? {
        Ok(stats) => stats,
        Err(rows) => {
            txn.rollback().await?;
            return Err(ApiError::ImportRejected(rows));
        }
    };
    if query.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(HttpResponse::Ok().json(StructureImportReport { dry_run: query.dry_run, counts: stats }))
}

/// The organisation's reminder settings (any member). The ETag is the organisation's version.
#[utoipa::path(get, operation_id = "get_reminder_settings", path = "/api/v1/organisation/reminders", tag = "organisation",
    responses((status = 200, body = kenshu_domain::reminder::ReminderSettings, headers(("ETag" = String)))))]
pub async fn get_reminders(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadOrgStructure)?;
    let o = org::get(state.db.conn(), auth.principal.org_id).await?;
    Ok(json_with_etag(StatusCode::OK, o.version, &org::reminders(&o)))
}

/// Set the reminder settings (HR, If-Match): days before a session, days before a report's due
/// day, how often an overdue report is reminded of, when its writer's head is told, and the
/// hour (Japan time) reminders and heads' daily digests go out.
#[utoipa::path(put, operation_id = "put_reminder_settings", path = "/api/v1/organisation/reminders", tag = "organisation",
    request_body = kenshu_domain::reminder::ReminderSettings,
    params(("If-Match" = String, Header, description = "ETag of the organisation read")),
    responses((status = 200, body = kenshu_domain::reminder::ReminderSettings, headers(("ETag" = String))),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value out of range", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn put_reminders(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: Json<kenshu_domain::reminder::ReminderSettings>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteOrgStructure)?;
    let errors = body.check();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let o = org::set_reminders(&txn, &auth.actor(), &version, &body).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, o.version, &org::reminders(&o)))
}
