//! 就業体験学生受入れ (internship hosting): HR records the year's programme, the students their
//! universities recommend and the sections that host them; a section head sees the students
//! their section hosts; after the programme a student's personal data is erased on request.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::calendar::{tokyo_date, FiscalYear};
use kenshu_domain::internship::{ProgrammeTerms, StudentEvent, StudentState, StudentText, ERASED_FIELDS};
use kenshu_domain::FieldError;
use kenshu_persistence::entities::{internship_programme, internship_student};
use kenshu_persistence::repo::internship::{self as repo, Places, ProgrammeData, StudentData};
use kenshu_persistence::repo::structure;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{created, fiscal_year, if_match, json_with_etag, path_year, required_text, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Programme

/// How many students stand where, and the places left.
#[derive(Debug, Serialize, ToSchema)]
pub struct InternshipPlacesDto {
    pub recommended: i32,
    /// 受入決定: these take the places.
    pub accepted: i32,
    pub declined: i32,
    pub withdrawn: i32,
    /// Students whose personal data is erased.
    pub erased: i32,
    /// Places left: capacity − accepted.
    pub free: i32,
}

/// The internship programme of a fiscal year.
#[derive(Debug, Serialize, ToSchema)]
pub struct InternshipProgrammeDto {
    pub fiscal_year: i32,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// How many students the city hosts.
    pub capacity: i32,
    pub notes: Option<String>,
    pub places: InternshipPlacesDto,
    pub version: i32,
}

async fn programme_view(
    state: &AppState,
    p: &internship_programme::Model,
) -> ApiResult<InternshipProgrammeDto> {
    let Places { recommended, accepted, declined, withdrawn, erased } =
        repo::places(state.db.conn(), p).await?;
    Ok(InternshipProgrammeDto {
        fiscal_year: p.fiscal_year,
        title: p.title.clone(),
        starts_on: p.starts_on,
        ends_on: p.ends_on,
        capacity: p.capacity,
        notes: p.notes.clone(),
        places: InternshipPlacesDto {
            recommended,
            accepted,
            declined,
            withdrawn,
            erased,
            free: (p.capacity - accepted).max(0),
        },
        version: p.version,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "就業体験学生（インターンシップ）受入れ", "starts_on": "2023-08-07", "ends_on": "2023-08-18", "capacity": 4}))]
pub struct InternshipProgrammeInput {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// The first day (the opening ceremony).
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    #[schema(minimum = 1, maximum = 100)]
    pub capacity: i32,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

impl InternshipProgrammeInput {
    fn validate(self, fy: FiscalYear) -> ApiResult<ProgrammeData> {
        let mut errors = Vec::new();
        let title = required_text("title", &self.title, 200, &mut errors);
        let notes = self.notes.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            errors.push(FieldError::length("notes", "at most 2000 characters"));
        }
        let terms =
            ProgrammeTerms { starts_on: self.starts_on, ends_on: self.ends_on, capacity: self.capacity };
        let terms = terms.validate(fy).map_err(|e| errors.extend(e)).ok();
        match terms {
            Some(terms) if errors.is_empty() => Ok(ProgrammeData { title, terms, notes }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// The year's internship programme with its places (HR, auditors).
#[utoipa::path(get, operation_id = "get_internship_programme", path = "/api/v1/internships/{fiscal_year}", tag = "internships",
    params(("fiscal_year" = i32, Path)),
    responses((status = 200, body = InternshipProgrammeDto, headers(("ETag" = String))),
        (status = 404, description = "No programme for this year", body = Problem, content_type = "application/problem+json")))]
pub async fn get_programme(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadInternship)?;
    let fy = path_year(*year)?;
    let p = repo::programme(state.db.conn(), auth.principal.org_id, fy.year()).await?;
    Ok(json_with_etag(StatusCode::OK, p.version, &programme_view(&state, &p).await?))
}

/// Record the year's programme (HR): title, dates within the fiscal year, capacity.
#[utoipa::path(post, operation_id = "create_internship_programme", path = "/api/v1/internships/{fiscal_year}", tag = "internships",
    request_body = InternshipProgrammeInput, params(("fiscal_year" = i32, Path)),
    responses((status = 201, body = InternshipProgrammeDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "The fiscal year is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The year's programme exists; change it with PUT", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_programme(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
    body: Json<InternshipProgrammeInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageInternship)?;
    let fy = path_year(*year)?;
    let data = body.into_inner().validate(fy)?;
    let txn = state.db.begin_write().await?;
    let p = repo::create_programme(&txn, &auth.actor(), fy.year(), data).await?;
    txn.commit().await?;
    let location = format!("/api/v1/internships/{}", p.fiscal_year);
    Ok(created(p.version, &location, &programme_view(&state, &p).await?))
}

/// Change the programme (HR; `If-Match`). The capacity cannot fall below the students accepted,
/// nor the dates leave out a student's host days (422).
#[utoipa::path(put, operation_id = "update_internship_programme", path = "/api/v1/internships/{fiscal_year}", tag = "internships",
    request_body = InternshipProgrammeInput,
    params(("fiscal_year" = i32, Path), ("If-Match" = String, Header, description = "ETag of the programme read")),
    responses((status = 200, body = InternshipProgrammeDto, headers(("ETag" = String))),
        (status = 404, description = "No programme for this year", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_programme(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    year: web::Path<i32>,
    body: Json<InternshipProgrammeInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageInternship)?;
    let fy = path_year(*year)?;
    let before = repo::programme(state.db.conn(), auth.principal.org_id, fy.year()).await?;
    let data = body.into_inner().validate(fy)?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let p = repo::update_programme(&txn, &auth.actor(), &before, &version, data).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, p.version, &programme_view(&state, &p).await?))
}

// ---------------------------------------------------------------------------------------------
// Students

/// A host section (受入れ所属).
#[derive(Debug, Serialize, ToSchema)]
pub struct HostSectionDto {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

/// A student recommended by their university (実習生). The personal fields are null once erased.
#[derive(Debug, Serialize, ToSchema)]
pub struct InternshipStudentDto {
    pub id: Uuid,
    pub fiscal_year: i32,
    pub state: StudentState,
    /// 氏名
    pub name: Option<String>,
    /// フリガナ (katakana)
    pub name_kana: Option<String>,
    /// 大学名: kept after an erasure.
    pub university: String,
    /// 学部・学科
    pub faculty: Option<String>,
    /// 学年
    pub year_of_study: Option<i32>,
    pub email: Option<String>,
    /// 推薦日
    pub recommended_on: NaiveDate,
    pub host_section: Option<HostSectionDto>,
    /// The days in the host section; null: the whole programme.
    pub hosted_from: Option<NaiveDate>,
    pub hosted_to: Option<NaiveDate>,
    /// The personal data is erased (and when, on a request received when).
    pub erased: bool,
    pub erased_at: Option<DateTime<Utc>>,
    pub erasure_requested_on: Option<NaiveDate>,
    pub version: i32,
}

/// The views of `students`, reading their host sections once.
async fn student_views(
    state: &AppState,
    org_id: Uuid,
    students: &[(i32, internship_student::Model)],
) -> ApiResult<Vec<InternshipStudentDto>> {
    let sections = structure::sections_by_id(
        state.db.conn(),
        org_id,
        students.iter().filter_map(|(_, s)| s.host_section_id),
    )
    .await?;
    students
        .iter()
        .map(|(fiscal_year, s)| {
            Ok(InternshipStudentDto {
                id: s.id,
                fiscal_year: *fiscal_year,
                state: s.state()?,
                name: s.name.clone(),
                name_kana: s.name_kana.clone(),
                university: s.university.clone(),
                faculty: s.faculty.clone(),
                year_of_study: s.year_of_study,
                email: s.email.clone(),
                recommended_on: s.recommended_on,
                host_section: s.host_section_id.and_then(|id| sections.get(&id)).map(|h| HostSectionDto {
                    id: h.id,
                    code: h.code.clone(),
                    name: h.name.clone(),
                }),
                hosted_from: s.hosted_from,
                hosted_to: s.hosted_to,
                erased: s.erased_at.is_some(),
                erased_at: s.erased_at,
                erasure_requested_on: s.erasure_requested_on,
                version: s.version,
            })
        })
        .collect()
}

async fn student_response(
    state: &AppState,
    status: StatusCode,
    p: &internship_programme::Model,
    s: internship_student::Model,
) -> ApiResult<HttpResponse> {
    let version = s.version;
    let location = format!("/api/v1/internship-students/{}", s.id);
    let view = student_views(state, p.org_id, &[(p.fiscal_year, s)]).await?.remove(0);
    Ok(if status == StatusCode::CREATED {
        created(version, &location, &view)
    } else {
        json_with_etag(status, version, &view)
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "相模 花子", "name_kana": "サガミ ハナコ", "university": "東海大学", "faculty": "政治経済学部", "year_of_study": 3, "email": "hanako@example.ac.jp", "recommended_on": "2023-06-30", "host_section_id": null}))]
pub struct InternshipStudentInput {
    /// 氏名
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// フリガナ: katakana or hiragana.
    #[schema(max_length = 60)]
    pub name_kana: Option<String>,
    /// 大学名
    #[schema(min_length = 1, max_length = 100)]
    pub university: String,
    /// 学部・学科
    #[schema(max_length = 100)]
    pub faculty: Option<String>,
    /// 学年
    #[schema(minimum = 1, maximum = 6)]
    pub year_of_study: Option<i32>,
    /// A contact address for the programme's instructions.
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// 推薦日: when the university's recommendation arrived.
    pub recommended_on: NaiveDate,
    /// 受入れ所属: needed before the student is accepted.
    pub host_section_id: Option<Uuid>,
    /// The days in the host section, both or neither, within the programme.
    pub hosted_from: Option<NaiveDate>,
    pub hosted_to: Option<NaiveDate>,
}

impl InternshipStudentInput {
    fn validate(self, p: &internship_programme::Model) -> ApiResult<StudentData> {
        let hosted = match (self.hosted_from, self.hosted_to) {
            (Some(from), Some(to)) => Some((from, to)),
            (None, None) => None,
            _ => {
                return Err(ApiError::validation(FieldError::required(
                    "hosted_to",
                    "give both hosted_from and hosted_to, or neither",
                )))
            }
        };
        let typed = StudentText {
            name: self.name,
            name_kana: self.name_kana,
            university: self.university,
            faculty: self.faculty,
            year_of_study: self.year_of_study,
            email: self.email,
            recommended_on: self.recommended_on,
            hosted,
        };
        let details = typed.validate(repo::terms(p)).map_err(ApiError::Validation)?;
        Ok(StudentData { details, host_section_id: self.host_section_id })
    }
}

/// Record a student recommended by their university (HR).
#[utoipa::path(post, operation_id = "add_internship_student", path = "/api/v1/internships/{fiscal_year}/students", tag = "internships",
    request_body = InternshipStudentInput, params(("fiscal_year" = i32, Path)),
    responses((status = 201, body = InternshipStudentDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No programme for this year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or no such host section", body = Problem, content_type = "application/problem+json")))]
pub async fn add_student(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
    body: Json<InternshipStudentInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageInternship)?;
    let fy = path_year(*year)?;
    let p = repo::programme(state.db.conn(), auth.principal.org_id, fy.year()).await?;
    let data = body.into_inner().validate(&p)?;
    let txn = state.db.begin_write().await?;
    let s = repo::add_student(&txn, &auth.actor(), &p, data).await?;
    txn.commit().await?;
    student_response(&state, StatusCode::CREATED, &p, s).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InternshipStudentList {
    pub items: Vec<InternshipStudentDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StudentListQuery {
    pub state: Option<StudentState>,
}

/// The programme's students in the order they were recorded (HR, auditors).
#[utoipa::path(get, operation_id = "list_internship_students", path = "/api/v1/internships/{fiscal_year}/students", tag = "internships",
    params(("fiscal_year" = i32, Path), StudentListQuery),
    responses((status = 200, body = InternshipStudentList),
        (status = 404, description = "No programme for this year", body = Problem, content_type = "application/problem+json")))]
pub async fn list_students(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
    q: web::Query<StudentListQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadInternship)?;
    let fy = path_year(*year)?;
    let p = repo::programme(state.db.conn(), auth.principal.org_id, fy.year()).await?;
    let students: Vec<_> = repo::list_students(state.db.conn(), &p, q.state)
        .await?
        .into_iter()
        .map(|s| (p.fiscal_year, s))
        .collect();
    let items = student_views(&state, p.org_id, &students).await?;
    Ok(HttpResponse::Ok().json(InternshipStudentList { items }))
}

/// The student and their programme, for a caller who may read it: HR and auditors, or the head
/// of the section hosting the (accepted) student.
async fn readable(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<(internship_programme::Model, internship_student::Model)> {
    let org_id = auth.principal.org_id;
    let s = repo::get_student(state.db.conn(), org_id, id).await?;
    let hosted = s.state == StudentState::Accepted.as_str()
        && s.host_section_id.is_some_and(|section_id| {
            authorize(&auth.principal, Action::ReadHostedStudents { section_id }).is_ok()
        });
    if !hosted {
        authorize(&auth.principal, Action::ReadInternship)?;
    }
    let p = repo::programme_by_id(state.db.conn(), org_id, s.programme_id).await?;
    Ok((p, s))
}

/// Read a student: HR, auditors, and the head of the section hosting them once accepted.
#[utoipa::path(get, operation_id = "get_internship_student", path = "/api/v1/internship-students/{id}", tag = "internships",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = InternshipStudentDto, headers(("ETag" = String))),
        (status = 404, description = "No such student in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn get_student(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let (p, s) = readable(&state, &auth, *id).await?;
    student_response(&state, StatusCode::OK, &p, s).await
}

/// The student and programme for HR's writes.
async fn managed(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<(internship_programme::Model, internship_student::Model)> {
    authorize(&auth.principal, Action::ManageInternship)?;
    let org_id = auth.principal.org_id;
    let s = repo::get_student(state.db.conn(), org_id, id).await?;
    let p = repo::programme_by_id(state.db.conn(), org_id, s.programme_id).await?;
    Ok((p, s))
}

/// Correct a student's details, host section or host days (HR; `If-Match`). Not once the
/// personal data is erased (409); an accepted student keeps a host section (422).
#[utoipa::path(put, operation_id = "update_internship_student", path = "/api/v1/internship-students/{id}", tag = "internships",
    request_body = InternshipStudentInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the student read")),
    responses((status = 200, body = InternshipStudentDto, headers(("ETag" = String))),
        (status = 404, description = "No such student in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The personal data is erased (`invalid-transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or no such host section", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_student(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<InternshipStudentInput>,
) -> ApiResult<HttpResponse> {
    let (p, before) = managed(&state, &auth, *id).await?;
    let data = body.into_inner().validate(&p)?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let s = repo::update_student(&txn, &auth.actor(), &before, &version, data).await?;
    txn.commit().await?;
    student_response(&state, StatusCode::OK, &p, s).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "accept"}))]
pub struct InternshipEventInput {
    pub event: StudentEvent,
}

/// HR decides (`If-Match`): `accept` (needs a host section, 409 without one, and a free place,
/// 409 when the programme is full), `decline`, `withdraw` (the student's own withdrawal).
#[utoipa::path(post, operation_id = "internship_student_event", path = "/api/v1/internship-students/{id}/events", tag = "internships",
    request_body = InternshipEventInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the student read")),
    responses((status = 200, body = InternshipStudentDto, headers(("ETag" = String))),
        (status = 404, description = "No such student in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not from the current state, no host section (`invalid-transition`), or the programme is full", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn student_event(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<InternshipEventInput>,
) -> ApiResult<HttpResponse> {
    let (p, before) = managed(&state, &auth, *id).await?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let s = repo::move_student(&txn, &auth.actor(), &before, &version, body.event).await?;
    txn.commit().await?;
    student_response(&state, StatusCode::OK, &p, s).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"requested_on": "2023-09-01"}))]
pub struct ErasureInput {
    /// The day the student's (or university's) request was received.
    pub requested_on: NaiveDate,
}

/// Erase a student's personal data on request (HR; `If-Match`): name, reading, faculty, year
/// of study and address are emptied for good; the university, host section, days and state stay
/// as the record. A hosted student's data is erased once the programme has ended (409 before);
/// a declined or withdrawn student's at any time. The audit log records who erased which
/// student when, never the data.
#[utoipa::path(post, operation_id = "erase_internship_student", path = "/api/v1/internship-students/{id}/erasure", tag = "internships",
    request_body = ErasureInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the student read")),
    responses((status = 200, body = InternshipStudentDto, headers(("ETag" = String))),
        (status = 404, description = "No such student in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The programme has not ended, or the data is erased already (`invalid-transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A request day in the future", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn erase_student(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ErasureInput>,
) -> ApiResult<HttpResponse> {
    let (p, before) = managed(&state, &auth, *id).await?;
    let version = if_match(&req)?;
    let today = tokyo_date(Utc::now());
    let txn = state.db.begin_write().await?;
    let s = repo::erase(&txn, &auth.actor(), &before, &version, &p, body.requested_on, today).await?;
    txn.commit().await?;
    tracing::info!(student = %s.id, fields = ?ERASED_FIELDS, "internship student's personal data erased");
    student_response(&state, StatusCode::OK, &p, s).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HostedQuery {
    /// Only this fiscal year's programme.
    pub fiscal_year: Option<i32>,
}

/// The students a section hosts (accepted), newest programme first, then as recorded: the section's head or
/// acting head, HR and auditors.
#[utoipa::path(get, operation_id = "section_internship_students", path = "/api/v1/sections/{id}/internship-students", tag = "internships",
    params(("id" = Uuid, Path), HostedQuery),
    responses((status = 200, body = InternshipStudentList),
        (status = 404, description = "No such section in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fiscal year out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn section_students(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<HostedQuery>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let section = structure::get_section(state.db.conn(), org_id, *id).await?;
    authorize(&auth.principal, Action::ReadHostedStudents { section_id: section.id })?;
    let fy = q.fiscal_year.map(|y| fiscal_year("fiscal_year", y)).transpose()?.map(|f| f.year());
    let hosted = repo::hosted_by(state.db.conn(), org_id, section.id, fy).await?;
    let students: Vec<_> = hosted.into_iter().map(|(p, s)| (p.fiscal_year, s)).collect();
    let items = student_views(&state, org_id, &students).await?;
    Ok(HttpResponse::Ok().json(InternshipStudentList { items }))
}
