//! 選考: designation from the audience rules, and the nominations HR reads.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::audience::Route;
use kenshu_domain::auth::{authorize, Action, Role};
use kenshu_domain::calendar::{self, FiscalYear};
use kenshu_domain::catalogue::CourseStatus;
use kenshu_domain::selection::{Actor as NominationActor, Event, NominationState};
use kenshu_domain::FieldError;
use kenshu_persistence::entities::nomination;
use kenshu_persistence::repo::catalogue::{self, CourseRecord};
use kenshu_persistence::repo::employee::{self as employee_repo, roster_members, EmployeeRef};
use kenshu_persistence::repo::org;
use kenshu_persistence::repo::selection::{self as repo, CourseRef, DesignationOutcome, NominationFilter};
use kenshu_persistence::repo::RepoError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{
    encode_cursor, fiscal_year_or_current, if_match, json_with_etag, page_request, path_year, Json,
};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::shared::{named_employee, readable_section, CourseRefDto, EmployeeRefDto};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DesignationQuery {
    /// Report who would be designated without writing (the preview); false confirms.
    #[serde(default)]
    pub dry_run: bool,
    /// Names listed per course and list, 0–1000 (default 100); the counts are always complete.
    #[param(minimum = 0, maximum = 1000)]
    pub limit: Option<usize>,
}

/// What designation did for one course, or would do on a dry run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "course_id": "01939a4e-7c1a-7d2e-8f00-0000000000c1", "title": "採用後２次研修", "dry_run": true,
    "new_count": 19, "selected": 19, "waitlisted": 0, "already": 0,
    "new": [{"id": "01939a4e-7c1a-7d2e-8f00-000000000001", "employee_no": "10011", "name": "伊勢原 花子"}],
    "no_longer_matching_count": 0, "no_longer_matching": []
}))]
pub struct DesignationReport {
    pub course_id: Uuid,
    pub title: String,
    pub dry_run: bool,
    /// Matched and not yet nominated: designated now (or on confirmation).
    pub new_count: u64,
    /// Of the new, how many get a place and how many wait (beyond the course's headcount).
    pub selected: u64,
    pub waitlisted: u64,
    /// Matched and already nominated: left as they are, so reruns change nothing.
    pub already: u64,
    pub new: Vec<EmployeeRefDto>,
    /// Designated earlier but no longer matched (promoted, transferred, left): for HR to review;
    /// nothing is cancelled by itself.
    pub no_longer_matching_count: u64,
    pub no_longer_matching: Vec<EmployeeRefDto>,
}

fn report(course: &CourseRecord, o: &DesignationOutcome, dry_run: bool, limit: usize) -> DesignationReport {
    DesignationReport {
        course_id: o.course_id,
        title: course.model.title.clone(),
        dry_run,
        new_count: o.new.len() as u64,
        selected: o.selected,
        waitlisted: o.waitlisted,
        already: o.already,
        new: o.new.iter().take(limit).map(EmployeeRefDto::from).collect(),
        no_longer_matching_count: o.no_longer_matching.len() as u64,
        no_longer_matching: o.no_longer_matching.iter().take(limit).map(EmployeeRefDto::from).collect(),
    }
}

fn limit_of(q: &DesignationQuery) -> ApiResult<usize> {
    let limit = q.limit.unwrap_or(100);
    if limit > 1000 {
        return Err(ApiError::validation("limit", "must be between 0 and 1000"));
    }
    Ok(limit)
}

async fn run(
    state: &AppState,
    auth: &Auth,
    fy: FiscalYear,
    courses: &[CourseRecord],
    dry_run: bool,
) -> ApiResult<Vec<DesignationOutcome>> {
    let ladder = org::ladder(state.db.conn(), auth.principal.org_id).await?;
    let txn = state.db.begin_write().await?;
    let outcomes = repo::designate(&*txn, &auth.actor(), fy, courses, &ladder, dry_run).await?;
    if dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(outcomes)
}

/// Designate (指名) for one course (HR): every active employee its designation rules match who
/// has no nomination for it yet. Preview with `dry_run=true` (drafts too), then confirm once the
/// course and its plan are published; a rerun adds only the newly matching and reports who no
/// longer matches.
#[utoipa::path(post, operation_id = "designate_course", path = "/api/v1/courses/{id}/designation", tag = "selection",
    params(("id" = Uuid, Path), DesignationQuery),
    responses((status = 200, body = DesignationReport),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The course is cancelled, or not yet published (confirm only), or a nomination was added meanwhile; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit", body = Problem, content_type = "application/problem+json")))]
pub async fn designate_course(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<DesignationQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::RunDesignation)?;
    let limit = limit_of(&q)?;
    let course = catalogue::get_course(state.db.conn(), auth.principal.org_id, *id).await?;
    if course.status() == CourseStatus::Cancelled {
        return Err(ApiError::Conflict("the course is cancelled".into()));
    }
    if !q.dry_run
        && (course.status() != CourseStatus::Published
            || !catalogue::plan_published(state.db.conn(), &course).await?)
    {
        // Staff see their own nominations, so confirming on a draft would show them the draft.
        return Err(ApiError::Conflict(
            "publish the course and its plan before confirming designations; a preview (dry_run=true) works on drafts"
                .into(),
        ));
    }
    let fy = course.fiscal_year();
    let courses = [course];
    let outcomes = run(&state, &auth, fy, &courses, q.dry_run).await?;
    Ok(HttpResponse::Ok().json(report(&courses[0], &outcomes[0], q.dry_run, limit)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDesignationReport {
    pub fiscal_year: i32,
    pub dry_run: bool,
    /// New designations over all courses.
    pub new_count: u64,
    /// Courses with designation rules, in plan order.
    pub courses: Vec<DesignationReport>,
}

/// Designate for every course of a year's plan that has designation rules (HR), reading the
/// roster once. A preview covers draft and published courses; confirming needs a published plan
/// and covers its published courses. Cancelled courses are skipped.
#[utoipa::path(post, operation_id = "designate_plan", path = "/api/v1/plans/{fiscal_year}/designation", tag = "selection",
    params(("fiscal_year" = i32, Path), DesignationQuery),
    responses((status = 200, body = PlanDesignationReport),
        (status = 404, description = "No plan for this year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is not published (confirm only), or a nomination was added meanwhile; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit", body = Problem, content_type = "application/problem+json")))]
pub async fn designate_plan(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
    q: web::Query<DesignationQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::RunDesignation)?;
    let limit = limit_of(&q)?;
    let fy = path_year(*year)?;
    let org_id = auth.principal.org_id;
    let plan = catalogue::get_plan(state.db.conn(), org_id, fy).await?;
    if !q.dry_run && plan.status()? != kenshu_domain::catalogue::PlanStatus::Published {
        return Err(ApiError::Conflict(
            "publish the plan before confirming designations; a preview (dry_run=true) works on drafts"
                .into(),
        ));
    }
    let mut courses = catalogue::running_courses(state.db.conn(), org_id, fy).await?;
    courses.retain(|c| {
        c.rules.iter().any(|r| r.route == Route::Designation)
            && (q.dry_run || c.status() == CourseStatus::Published)
    });
    let outcomes = run(&state, &auth, fy, &courses, q.dry_run).await?;
    let reports: Vec<DesignationReport> =
        courses.iter().zip(&outcomes).map(|(c, o)| report(c, o, q.dry_run, limit)).collect();
    Ok(HttpResponse::Ok().json(PlanDesignationReport {
        fiscal_year: fy.year(),
        dry_run: q.dry_run,
        new_count: reports.iter().map(|r| r.new_count).sum(),
        courses: reports,
    }))
}

/// A nomination as HR sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NominationDto {
    pub id: Uuid,
    pub course_id: Uuid,
    pub session_id: Option<Uuid>,
    pub employee: EmployeeRefDto,
    pub section_id: Uuid,
    pub route: Route,
    pub state: NominationState,
    pub reason: Option<String>,
    pub proposed_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was rejected (by whoever confirms for the nominee) or declined (by HR).
    pub decision_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The one way a stored nomination becomes its API form.
fn nomination_view(
    n: &nomination::Model,
    employee: &EmployeeRef,
    section_id: Uuid,
) -> ApiResult<NominationDto> {
    Ok(NominationDto {
        id: n.id,
        course_id: n.course_id,
        session_id: n.session_id,
        employee: EmployeeRefDto::from(employee),
        section_id,
        route: n.route()?,
        state: n.state()?,
        reason: n.reason.clone(),
        proposed_by: n.proposed_by.clone(),
        decided_by: n.decided_by.clone(),
        decided_at: n.decided_at,
        decision_reason: n.decision_reason.clone(),
        version: n.version,
        created_at: n.created_at,
        updated_at: n.updated_at,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NominationCountsDto {
    /// Nominations per state, over the whole course (not only this page).
    pub by_state: BTreeMap<String, u64>,
    pub by_route: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NominationPage {
    pub counts: NominationCountsDto,
    /// Oldest first: the waiting list's order.
    pub items: Vec<NominationDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NominationsQuery {
    pub state: Option<NominationState>,
    pub route: Option<Route>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A course's nominations with counts per state and route (HR, auditors).
#[utoipa::path(get, operation_id = "list_nominations", path = "/api/v1/courses/{id}/nominations", tag = "selection",
    params(("id" = Uuid, Path), NominationsQuery),
    responses((status = 200, body = NominationPage),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn list_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<NominationsQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadNominations)?;
    let org_id = auth.principal.org_id;
    catalogue::get_course(state.db.conn(), org_id, *id).await?;
    let scope = "nominations";
    let page = page_request(scope, q.limit, q.cursor.as_deref())?;
    let filter = NominationFilter { state: q.state, route: q.route };
    let result = repo::list(state.db.conn(), org_id, *id, &filter, &page).await?;
    let counts = repo::counts(state.db.conn(), org_id, *id).await?;
    let items = result
        .items
        .iter()
        .map(|r| nomination_view(&r.model, &r.employee, r.section_id))
        .collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(NominationPage {
        counts: NominationCountsDto { by_state: counts.by_state, by_route: counts.by_route },
        items,
        next_cursor: encode_cursor(scope, result.next),
    }))
}

// ---------------------------------------------------------------------------------------------
// One nomination: read, recommend, apply, and move through the states

async fn nomination_dto(state: &AppState, org_id: Uuid, n: &nomination::Model) -> ApiResult<NominationDto> {
    let e = employee_repo::get(state.db.conn(), org_id, n.employee_id).await?;
    let who =
        EmployeeRef { id: e.model.id, employee_no: e.model.employee_no.clone(), name: e.model.name.clone() };
    nomination_view(n, &who, e.model.section_id)
}

/// Read one nomination: HR and auditors, the nominee, those who may see the nominee (the heads
/// over them on the roster) and whoever confirms for them.
#[utoipa::path(get, operation_id = "get_nomination", path = "/api/v1/nominations/{id}", tag = "selection",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NominationDto, headers(("ETag" = String))),
        (status = 404, description = "No such nomination in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn get_nomination(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let n = repo::get(state.db.conn(), org_id, *id).await?;
    let nominee = auth.relation_to(&state, n.employee_id).await?;
    if !nominee.relation.sees {
        return Err(ApiError::Forbidden);
    }
    Ok(json_with_etag(
        StatusCode::OK,
        n.version,
        &nomination_view(&n, &nominee.who, nominee.placement.section_id)?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "select"}))]
pub struct NominationEventInput {
    /// confirm / reject (whoever confirms for the nominee: their section head; for a section
    /// head their department's head; for a department head the organisation's approver);
    /// select, waitlist, decline, notify, complete (HR); cancel (HR, or the nominee for their
    /// own).
    pub event: Event,
    /// Required to reject or decline: why. The nominee and HR see it.
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NominationEventResult {
    pub nomination: NominationDto,
    /// The first waiting nomination that moved up into the place a cancellation freed.
    pub promoted: Option<NominationDto>,
}

/// Move a nomination through its states. Requires `If-Match` with its ETag. Selecting needs a
/// free place on the course and its session; cancelling a place gives it to the first waiting.
#[utoipa::path(post, operation_id = "nomination_event", path = "/api/v1/nominations/{id}/events", tag = "selection",
    request_body = NominationEventInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the nomination read")),
    responses((status = 200, body = NominationEventResult, headers(("ETag" = String))),
        (status = 404, description = "No such nomination", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the current state (invalid-transition, with current_state), or no place left (conflict)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn nomination_event(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<NominationEventInput>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let n = repo::get(state.db.conn(), org_id, *id).await?;
    let nominee = auth.relation_to(&state, n.employee_id).await?;
    if !nominee.relation.concerned() {
        return Err(ApiError::Forbidden);
    }
    let capacities = NominationActor::of(&nominee.relation);
    let body = body.into_inner();
    let event = body.event;
    let required = matches!(event, Event::Reject | Event::Decline);
    let reason = reason_text(body.reason, required)?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let outcome = repo::apply_event(&*txn, &auth.actor(), *id, version, &capacities, event, reason).await?;
    txn.commit().await?;
    let result = NominationEventResult {
        nomination: nomination_dto(&state, org_id, &outcome.nomination).await?,
        promoted: match &outcome.promoted {
            Some(m) => Some(nomination_dto(&state, org_id, m).await?),
            None => None,
        },
    };
    Ok(json_with_etag(StatusCode::OK, outcome.nomination.version, &result))
}

/// A course staff may be put forward for: published, in a published plan, with a rule of `route`
/// that matches the employee, and for applications within the application window (Japan time).
async fn open_for(
    state: &AppState,
    org_id: Uuid,
    course_id: Uuid,
    employee_id: Uuid,
    route: Route,
) -> ApiResult<CourseRecord> {
    let course = catalogue::get_course(state.db.conn(), org_id, course_id).await?;
    if course.status() != CourseStatus::Published
        || !catalogue::plan_published(state.db.conn(), &course).await?
    {
        return Err(ApiError::NotFound);
    }
    if route == Route::Application {
        let today = calendar::tokyo_date(Utc::now());
        if let Some(refusal) = course.application_window().and_then(|w| w.refusal(today)) {
            return Err(ApiError::Conflict(refusal));
        }
    }
    let ladder = org::ladder(state.db.conn(), org_id).await?;
    let members = roster_members(state.db.conn(), org_id, Some(employee_id)).await?;
    let member =
        members.first().ok_or_else(|| ApiError::validation("employee_id", "is not an active employee"))?;
    let fy = course.fiscal_year();
    let matches =
        course.rules.iter().any(|r| r.route == route && r.matches(&member.candidate(), fy, &ladder));
    if !matches {
        return Err(ApiError::validation(
            "employee_id",
            format!("no {} rule of this course matches the employee", route.japanese()),
        ));
    }
    Ok(course)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"employee_id": "01939a4e-7c1a-7d2e-8f00-000000000001", "reason": "窓口業務の改善を担当するため"}))]
pub struct RecommendationInput {
    /// Who is recommended, by id…
    pub employee_id: Option<Uuid>,
    /// …or by 職員番号 as typed (全角 digits too): give one of the two.
    #[schema(max_length = 20)]
    pub employee_no: Option<String>,
    /// A session of the course, when the course has several.
    pub session_id: Option<Uuid>,
    /// 推薦理由
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

fn reason_text(reason: Option<String>, required: bool) -> ApiResult<Option<String>> {
    // The limit holds for the text as sent, as the API document counts it.
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(ApiError::validation("reason", "must be at most 1000 characters"));
    }
    let r = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    match &r {
        None if required => Err(ApiError::validation("reason", "is required")),
        _ => Ok(r),
    }
}

/// 推薦: a section head recommends a member of their own section for a course with a
/// recommendation rule that matches them; HR then selects.
#[utoipa::path(post, operation_id = "recommend", path = "/api/v1/courses/{id}/recommendations", tag = "selection",
    request_body = RecommendationInput, params(("id" = Uuid, Path)),
    responses((status = 201, body = NominationDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such published course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already nominated for the course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No recommendation rule matches the employee, or invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn recommend(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<RecommendationInput>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let body = body.into_inner();
    if !auth.principal.has(Role::SectionHead) {
        return Err(ApiError::Forbidden);
    }
    let nominee = named_employee(&state, org_id, body.employee_id, body.employee_no.as_deref()).await?;
    let employee_id = nominee.model.id;
    authorize(&auth.principal, Action::Recommend(&nominee.placement()))?;
    let reason = reason_text(Some(body.reason), true)?;
    open_for(&state, org_id, *id, employee_id, Route::Recommendation).await?;
    let txn = state.db.begin_write().await?;
    let n =
        repo::create(&*txn, &auth.actor(), *id, employee_id, Route::Recommendation, body.session_id, reason)
            .await?;
    txn.commit().await?;
    created_nomination(&state, org_id, &n).await
}

async fn created_nomination(
    state: &AppState,
    org_id: Uuid,
    n: &nomination::Model,
) -> ApiResult<HttpResponse> {
    let mut res = json_with_etag(StatusCode::CREATED, n.version, &nomination_dto(state, org_id, n).await?);
    res.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&format!("/api/v1/nominations/{}", n.id)).expect("ASCII"),
    );
    Ok(res)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "業務で必要なため"}))]
pub struct ApplicationInput {
    pub session_id: Option<Uuid>,
    /// 志望理由
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// 公募への申込: the caller applies for a published course with an application rule that matches
/// them. Their section head confirms it; HR then selects.
#[utoipa::path(post, operation_id = "apply", path = "/api/v1/courses/{id}/applications", tag = "selection",
    request_body = ApplicationInput, params(("id" = Uuid, Path)),
    responses((status = 201, body = NominationDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such published course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Outside the application window (申込期間), or already nominated for the course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No application rule matches you, or invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn apply(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<ApplicationInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::Apply)?;
    let org_id = auth.principal.org_id;
    let me = auth.principal.employee.as_ref().ok_or(ApiError::Forbidden)?.employee_id;
    let body = body.into_inner();
    let reason = reason_text(body.reason, false)?;
    open_for(&state, org_id, *id, me, Route::Application).await?;
    let txn = state.db.begin_write().await?;
    let n = repo::create(&*txn, &auth.actor(), *id, me, Route::Application, body.session_id, reason).await?;
    txn.commit().await?;
    created_nomination(&state, org_id, &n).await
}

// ---------------------------------------------------------------------------------------------
// Views: my courses, a section's nominations, an employee's training history

/// A nomination with its course.
#[derive(Debug, Serialize, ToSchema)]
pub struct NominationWithCourse {
    pub course: CourseRefDto,
    pub nomination: NominationDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NominationList {
    /// Newest fiscal year first, then in plan order.
    pub items: Vec<NominationWithCourse>,
}

fn with_course(
    n: &nomination::Model,
    c: &CourseRef,
    e: &EmployeeRef,
    section_id: Uuid,
) -> ApiResult<NominationWithCourse> {
    Ok(NominationWithCourse {
        course: CourseRefDto {
            id: c.id,
            fiscal_year: c.fiscal_year,
            category: c.category.clone(),
            number: c.number,
            title: c.title.clone(),
        },
        nomination: nomination_view(n, e, section_id)?,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Defaults to the current fiscal year (Japan time).
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
}

async fn history_of(
    state: &AppState,
    org_id: Uuid,
    employee_id: Uuid,
    fy: Option<FiscalYear>,
) -> ApiResult<NominationList> {
    let e = employee_repo::get(state.db.conn(), org_id, employee_id).await?;
    let who =
        EmployeeRef { id: e.model.id, employee_no: e.model.employee_no.clone(), name: e.model.name.clone() };
    let rows = repo::for_employee(state.db.conn(), org_id, employee_id, fy).await?;
    Ok(NominationList {
        items: rows
            .iter()
            .map(|(n, c)| with_course(n, c, &who, e.model.section_id))
            .collect::<ApiResult<_>>()?,
    })
}

/// My courses this year: every nomination of the caller, whatever its route and state.
#[utoipa::path(get, operation_id = "my_nominations", path = "/api/v1/me/nominations", tag = "me", params(YearQuery),
    responses((status = 200, body = NominationList),
        (status = 422, description = "Invalid fiscal year", body = Problem, content_type = "application/problem+json")))]
pub async fn my_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    let fy = fiscal_year_or_current(q.fiscal_year)?;
    let list = match auth.principal.employee.as_ref() {
        Some(me) => history_of(&state, auth.principal.org_id, me.employee_id, Some(fy)).await?,
        None => NominationList { items: Vec::new() },
    };
    Ok(HttpResponse::Ok().json(list))
}

/// 研修履歴: an employee's nominations across fiscal years, completed and otherwise; for the
/// employee, their heads, HR and auditors.
#[utoipa::path(get, operation_id = "training_history", path = "/api/v1/employees/{id}/training-history", tag = "selection",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NominationList),
        (status = 404, description = "No such employee in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn training_history(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let e = employee_repo::get(state.db.conn(), org_id, *id).await?;
    authorize(&auth.principal, Action::ReadEmployee(&e.placement()))?;
    Ok(HttpResponse::Ok().json(history_of(&state, org_id, *id, None).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SectionNominationsQuery {
    /// Defaults to the current fiscal year (Japan time).
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
    /// Only this state: `proposed` lists the applications waiting for the section head.
    pub state: Option<NominationState>,
}

/// A section's nominations in a fiscal year: its head (pending confirmations with
/// `state=proposed`), the head of its department, HR and auditors.
#[utoipa::path(get, operation_id = "section_nominations", path = "/api/v1/sections/{id}/nominations", tag = "selection",
    params(("id" = Uuid, Path), SectionNominationsQuery),
    responses((status = 200, body = NominationList),
        (status = 404, description = "No such section in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fiscal year", body = Problem, content_type = "application/problem+json")))]
pub async fn section_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<SectionNominationsQuery>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let section = readable_section(&state, &auth, *id).await?;
    let fy = fiscal_year_or_current(q.fiscal_year)?;
    let rows = repo::for_section(state.db.conn(), org_id, section.id, Some(fy), q.state).await?;
    Ok(HttpResponse::Ok().json(NominationList {
        items: rows.iter().map(|(n, c, e)| with_course(n, c, e, section.id)).collect::<ApiResult<_>>()?,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapQuery {
    /// These courses (comma-separated ids), and the same courses by title in other years.
    pub course_ids: Option<String>,
    /// With `course_number`: that course of `fiscal_year` (and by title in other years); alone,
    /// every course of the category; with `course_q`, limits the text search.
    pub course_category: Option<kenshu_domain::catalogue::Category>,
    /// The course's number within `course_category` in `fiscal_year`.
    #[param(minimum = 1, maximum = 999)]
    pub course_number: Option<i32>,
    /// A course title exactly (メンタルヘルスセミナーⅠ names Ⅰ only, in every year), or else text
    /// in courses' title, purpose or content, in any fiscal year (人権 …).
    #[param(max_length = 200)]
    pub course_q: Option<String>,
    /// Only staff hired at least this many fiscal years before `fiscal_year`.
    #[param(minimum = 0, maximum = 60)]
    pub min_years_since_hire: Option<u32>,
    /// Defaults to the current fiscal year (Japan time).
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
    pub section_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// An employee who has not yet taken the courses asked about.
#[derive(Debug, Serialize, ToSchema)]
pub struct GapEmployee {
    pub id: Uuid,
    pub employee_no: String,
    pub name: String,
    pub section_id: Uuid,
    pub grade: String,
    pub hire_date: chrono::NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GapPage {
    /// How many courses (over all fiscal years) the course filter matched.
    pub courses_considered: u64,
    /// Those courses, newest fiscal year first, in plan order.
    pub courses: Vec<CourseRefDto>,
    /// Active staff who completed none of them, in employee-number order.
    pub items: Vec<GapEmployee>,
    pub next_cursor: Option<String>,
}

/// Who has not yet taken X (HR, auditors): for example staff hired 5 or more years ago who never
/// completed a human-rights course (`course_q=人権&min_years_since_hire=5`).
#[utoipa::path(get, operation_id = "training_gaps", path = "/api/v1/training-gaps", tag = "selection", params(GapQuery),
    responses((status = 200, body = GapPage),
        (status = 422, description = "No course named, or the courses named match none; invalid year, cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn training_gaps(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<GapQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadNominations)?;
    let q = q.into_inner();
    let mut errors = Vec::new();
    let ids: Vec<Uuid> = match q.course_ids.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .filter_map(|s| {
                Uuid::parse_str(s.trim())
                    .map_err(|_| {
                        errors
                            .push(FieldError::new("course_ids", format!("'{}' is not a course id", s.trim())))
                    })
                    .ok()
            })
            .collect(),
    };
    if q.course_q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        errors.push(FieldError::new("course_q", "at most 200 characters"));
    }
    if q.min_years_since_hire.is_some_and(|y| y > 60) {
        errors.push(FieldError::new("min_years_since_hire", "at most 60"));
    }
    if q.course_number.is_some_and(|n| !(1..=999).contains(&n)) {
        errors.push(FieldError::new("course_number", "1 to 999"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let scope = "training-gaps";
    let page = page_request(scope, q.limit, q.cursor.as_deref())?;
    let filter = repo::GapFilter {
        courses: kenshu_domain::selection::GapCourses {
            ids,
            category: q.course_category,
            number: q.course_number,
            text: q.course_q,
        },
        min_years_since_hire: q.min_years_since_hire,
        fiscal_year: fiscal_year_or_current(q.fiscal_year)?,
        section_id: q.section_id,
    };
    let (courses, result) =
        repo::training_gaps(state.db.conn(), auth.principal.org_id, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(GapPage {
        courses_considered: courses.len() as u64,
        courses: courses
            .iter()
            .map(|c| CourseRefDto {
                id: c.id,
                fiscal_year: c.fiscal_year,
                category: c.category.clone(),
                number: c.number,
                title: c.title.clone(),
            })
            .collect(),
        items: result
            .items
            .iter()
            .map(|e| GapEmployee {
                id: e.id,
                employee_no: e.employee_no.clone(),
                name: e.name.clone(),
                section_id: e.section_id,
                grade: e.grade.clone(),
                hire_date: e.hire_date,
            })
            .collect(),
        next_cursor: encode_cursor(scope, result.next),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ids": ["01939a4e-7c1a-7d2e-8f00-000000000101", "01939a4e-7c1a-7d2e-8f00-000000000102"], "event": "select"}))]
pub struct BulkInput {
    /// Nominations of this course, 1–1000.
    #[schema(min_items = 1, max_items = 1000)]
    pub ids: Vec<Uuid>,
    /// The event for every nomination (select, waitlist, decline, notify, cancel, complete)…
    pub event: Option<Event>,
    /// …or move every nomination to this session of the course (`null` for none).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub move_to_session: Option<Option<Uuid>>,
    /// Required with `decline`: why, for every nomination declined.
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub applied: u64,
    /// Waiting nominations that moved up into places cancellations freed.
    pub promoted: Vec<Uuid>,
}

/// Act on many nominations of a course at once (HR): one event for all, or a move to another
/// session. All or nothing: one that cannot be moved leaves every one as it was, and the answer
/// names each that could not.
#[utoipa::path(post, operation_id = "bulk_nominations", path = "/api/v1/courses/{id}/nominations/bulk", tag = "selection",
    request_body = BulkInput, params(("id" = Uuid, Path)),
    responses((status = 200, body = BulkResult),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No place left for one of them; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not nominations of this course, or not possible in their state; each is listed", body = Problem, content_type = "application/problem+json")))]
pub async fn bulk_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<BulkInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::RunDesignation)?;
    let org_id = auth.principal.org_id;
    catalogue::get_course(state.db.conn(), org_id, *id).await?;
    let body = body.into_inner();
    if body.ids.is_empty() || body.ids.len() > 1000 {
        return Err(ApiError::validation("ids", "give 1 to 1000 nominations"));
    }
    if body.event.is_some() == body.move_to_session.is_some() {
        return Err(ApiError::validation("event", "give either event or move_to_session"));
    }
    let reason = reason_text(body.reason, body.event == Some(Event::Decline))?;
    let me = auth.principal.employee.map(|e| e.employee_id);
    let txn = state.db.begin_write().await?;
    // Every nomination is checked before anything is written, so the answer lists all faults.
    let mut errors = Vec::new();
    let mut plan = Vec::new();
    for (i, nid) in body.ids.iter().enumerate() {
        let field = format!("ids[{i}]");
        match repo::get(&*txn, org_id, *nid).await {
            Ok(n) if n.course_id == *id => {
                if let Some(event) = body.event {
                    if me == Some(n.employee_id) {
                        errors.push(kenshu_domain::FieldError::new(field, "is your own nomination"));
                        continue;
                    }
                    let current = repo::state_of(&n)?;
                    match kenshu_domain::selection::transition(current, event, NominationActor::Hr) {
                        Ok(_) => plan.push((n, Some(event))),
                        Err(e) => errors.push(kenshu_domain::FieldError::new(field, e.to_string())),
                    }
                } else {
                    plan.push((n, None));
                }
            }
            Ok(_) | Err(RepoError::NotFound) => {
                errors.push(kenshu_domain::FieldError::new(field, "is not a nomination of this course"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let actor = auth.actor();
    let mut promoted = Vec::new();
    for (n, step) in &plan {
        match step {
            Some(event) => {
                let current = repo::get(&*txn, org_id, n.id).await?;
                let outcome = repo::apply_event(
                    &*txn,
                    &actor,
                    n.id,
                    current.version,
                    &[NominationActor::Hr],
                    *event,
                    reason.clone(),
                )
                .await?;
                promoted.extend(outcome.promoted.map(|p| p.id));
            }
            None => {
                repo::move_session(&*txn, &actor, n.id, body.move_to_session.flatten()).await?;
            }
        }
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(BulkResult { applied: plan.len() as u64, promoted }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NominationImportQuery {
    /// Validate and report without writing.
    #[serde(default)]
    pub dry_run: bool,
    /// Overrides the `charset` of the Content-Type.
    pub encoding: Option<crate::routes::files::EncodingParam>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"dry_run": false, "rows": 3, "created": 2, "unchanged": 1, "waitlisted": 0}))]
pub struct NominationImportReport {
    pub dry_run: bool,
    pub rows: u64,
    pub created: u64,
    /// Already nominated for the course: left as they are, so the same file twice changes nothing.
    pub unchanged: u64,
    /// Created designations beyond the course's headcount, waiting in file order.
    pub waitlisted: u64,
}

/// Import nominations for a year's courses from CSV (HR, importer): 区分, No, 職員番号, 選考方法
/// (指名/推薦/公募), 理由. New nominations start in their route's first state; one bad row rejects
/// the file and every bad row is listed.
#[utoipa::path(post, operation_id = "import_nominations", path = "/api/v1/plans/{fiscal_year}/nominations/import", tag = "selection",
    params(("fiscal_year" = i32, Path), NominationImportQuery),
    request_body(content = String, content_type = "text/csv",
        example = "区分,No,職員番号,選考方法,理由\n階層別,12,10004,推薦,マネジメント力の強化\n"),
    responses((status = 200, body = NominationImportReport),
        (status = 404, description = "No plan for this year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A nomination was added while the import ran; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV, or an unknown charset", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file cannot be read (import-file) or has invalid rows (import-rejected)", body = Problem, content_type = "application/problem+json")))]
pub async fn import_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    year: web::Path<i32>,
    q: web::Query<NominationImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ImportCatalogue)?;
    let fy = path_year(*year)?;
    let encoding = crate::routes::files::encoding_of(&req, q.encoding)?;
    let body = crate::routes::files::read_body(payload, state.config.max_upload_bytes).await?;
    catalogue::get_plan(state.db.conn(), auth.principal.org_id, fy).await?;
    let read =
        kenshu_domain::selection_io::read_csv(&body, encoding).map_err(crate::routes::files::file_error)?;
    if read.rows.is_empty() && read.errors.is_empty() {
        return Err(ApiError::ImportFile("the file holds no nominations".into()));
    }
    let txn = state.db.begin_write().await?;
    let outcome = repo::import_nominations(&*txn, &auth.actor(), fy, &read.rows, q.dry_run).await?;
    let stats = match outcome {
        Ok(stats) if read.errors.is_empty() => stats,
        Ok(_) => return Err(ApiError::ImportRejected(read.errors)),
        Err(mut rows) => {
            rows.extend(read.errors);
            rows.sort_by_key(|e| e.line);
            return Err(ApiError::ImportRejected(rows));
        }
    };
    if q.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(HttpResponse::Ok().json(NominationImportReport {
        dry_run: q.dry_run,
        rows: (read.rows.len()) as u64,
        created: stats.created,
        unchanged: stats.unchanged,
        waitlisted: stats.waitlisted,
    }))
}
