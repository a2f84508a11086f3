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
use kenshu_domain::spreadsheet::{Cell, Table};
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use kenshu_persistence::entities::nomination;
use kenshu_persistence::repo::catalogue::{self, CourseRecord};
use kenshu_persistence::repo::employee::{self as employee_repo, roster_members, EmployeeRef};
use kenshu_persistence::repo::selection::{self as repo, CourseRef, DesignationOutcome, NominationFilter};
use kenshu_persistence::repo::RepoError;
use kenshu_persistence::repo::{org, structure};
use kenshu_persistence::WriteTxn;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{encode_cursor, fiscal_year_or_current, if_match, json_with_etag, path_year, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::files::{person_cells, ListFile, PERSON_HEADERS};
use crate::routes::shared::{named_employee, readable_section, CourseRefDto, EmployeeRefDto};
use crate::state::AppState;

mod bulk;
mod designation;
mod gaps;
mod history;

pub use bulk::*;
pub use designation::*;
pub use gaps::*;
pub use history::*;

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

/// 受講者名簿: a course's nominations, oldest first, as a table.
async fn trainee_table(state: &AppState, org_id: Uuid, rows: &[repo::NominationRecord]) -> ApiResult<Table> {
    let units = structure::unit_names(state.db.conn(), org_id, rows.iter().map(|r| r.section_id)).await?;
    let mut table = Table::new(
        "受講者名簿",
        &[&["No"][..], &PERSON_HEADERS, &["選考区分", "状態", "理由", "登録日", "決定日"]].concat(),
    );
    for (i, r) in rows.iter().enumerate() {
        let mut row = vec![Cell::from(i as u64 + 1)];
        row.extend(person_cells(&r.employee.employee_no, &r.employee.name, units.get(&r.section_id)));
        row.extend([
            r.model.route()?.japanese().into(),
            r.model.state()?.japanese().into(),
            r.model.reason.as_ref().into(),
            calendar::tokyo_date(r.model.created_at).into(),
            r.model.decided_at.map(calendar::tokyo_date).into(),
        ]);
        table.push(row);
    }
    Ok(table)
}

/// A course's nominations with counts per state and route (HR, auditors); with `format=csv` or
/// `xlsx`, the course's trainee list (受講者名簿) as a file, filtered the same way.
#[utoipa::path(get, operation_id = "list_nominations", path = "/api/v1/courses/{id}/nominations", tag = "selection",
    params(("id" = Uuid, Path), NominationsQuery, ListFile),
    responses((status = 200, content((NominationPage = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid cursor or limit; a list too long for one file; Shift_JIS cannot hold its text", body = Problem, content_type = "application/problem+json")))]
pub async fn list_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<NominationsQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadNominations)?;
    let org_id = auth.principal.org_id;
    let course = catalogue::get_course(state.db.conn(), org_id, *id).await?;
    let scope = "nominations";
    let page = file.page(scope, q.limit, q.cursor.as_deref())?;
    let filter = NominationFilter { state: q.state, route: q.route };
    let result = repo::list(state.db.conn(), org_id, *id, &filter, &page).await?;
    if file.file().is_some() {
        file.check_whole(&result)?;
        let c = &course.model;
        let name = format!("kenshu-{}-{}-{}-trainees", c.fiscal_year, c.category, c.number);
        return file.download(&trainee_table(&state, org_id, &result.items).await?, &name);
    }
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
    let nominee = auth.relation_to(state.db.conn(), n.employee_id).await?;
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
        (status = 422, description = "Rejecting or declining without a reason, or a reason over 1,000 characters", body = Problem, content_type = "application/problem+json"),
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
    let nominee = auth.relation_to(state.db.conn(), n.employee_id).await?;
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
    let outcome = repo::apply_event(&txn, &auth.actor(), *id, &version, &capacities, event, reason).await?;
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
    let (course, plan_published) = catalogue::get_course_and_plan(state.db.conn(), org_id, course_id).await?;
    let today = calendar::tokyo_date(Utc::now());
    kenshu_domain::catalogue::open_for(
        course.status(),
        plan_published,
        route,
        course.application_window(),
        today,
    )
    .map_err(|e| match e {
        kenshu_domain::catalogue::NotOpen::Hidden => ApiError::NotFound,
        kenshu_domain::catalogue::NotOpen::Window(why) => ApiError::Conflict(why),
    })?;
    let ladder = org::ladder(state.db.conn(), org_id).await?;
    let members = roster_members(state.db.conn(), org_id, Some(employee_id)).await?;
    let member = members.first().ok_or_else(|| {
        ApiError::validation(FieldError::not_found("employee_id", "is not an active employee"))
    })?;
    let fy = course.fiscal_year();
    if !course.rules.iter().any(|r| r.route == route) {
        // About the course, not about anything the client sent: name how it is filled.
        let mut routes: Vec<&str> = course.rules.iter().map(|r| r.route.japanese()).collect();
        routes.dedup();
        let filled =
            if routes.is_empty() { "no route (it has no rules)".to_string() } else { routes.join("・") };
        let filled_ja = if routes.is_empty() {
            "選考方法なし（対象ルールがありません）".to_string()
        } else {
            routes.join("・")
        };
        return Err(ApiError::Conflict(Words::new(
            format!("this course takes no {}: it is filled by {filled}", route.japanese()),
            format!("この研修は{}を受け付けません（選考方法: {filled_ja}）", route.japanese()),
        )));
    }
    let matches =
        course.rules.iter().any(|r| r.route == route && r.matches(&member.candidate(), fy, &ladder));
    match (matches, route) {
        (true, _) => Ok(course),
        // The applicant is the caller: nothing in the body is wrong.
        (false, Route::Application) => Err(ApiError::Conflict(Words::new(
            format!(
                "the course's {} rule does not match you (対象: {})",
                route.japanese(),
                course.model.audience.as_deref().unwrap_or("see the course's rules")
            ),
            format!(
                "この研修の{}の対象ではありません（対象: {}）",
                route.japanese(),
                course.model.audience.as_deref().unwrap_or("研修の対象ルールを参照")
            ),
        ))),
        (false, _) => Err(ApiError::validation(FieldError::conflict(
            "employee_id",
            format!("no {} rule of this course matches the employee", route.japanese()),
        ))),
    }
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
        return Err(ApiError::validation(FieldError::length("reason", "must be at most 1000 characters")));
    }
    let r = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    match &r {
        None if required => Err(ApiError::validation(FieldError::required("reason", "is required"))),
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
        repo::create(&txn, &auth.actor(), *id, employee_id, Route::Recommendation, body.session_id, reason)
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
        (status = 409, description = "Outside the application window (申込期間), already nominated for the course, the course takes no applications (the detail names how it is filled), or its application rule does not match you", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn apply(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<ApplicationInput>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.begin_write().await?;
    let n = apply_as(&state, &auth, &txn, *id, body.into_inner()).await?;
    txn.commit().await?;
    created_nomination(&state, auth.principal.org_id, &n).await
}

/// 公募への申込 by the caller, in `txn`: the course must be open to applications and its
/// application rule match them. The API and the portal's application form both apply this way.
pub(crate) async fn apply_as(
    state: &AppState,
    auth: &Auth,
    txn: &WriteTxn,
    course_id: Uuid,
    input: ApplicationInput,
) -> ApiResult<nomination::Model> {
    authorize(&auth.principal, Action::Apply)?;
    let org_id = auth.principal.org_id;
    let me = auth.principal.employee.as_ref().ok_or(ApiError::Forbidden)?.employee_id;
    let reason = reason_text(input.reason, false)?;
    open_for(state, org_id, course_id, me, Route::Application).await?;
    Ok(repo::create(txn, &auth.actor(), course_id, me, Route::Application, input.session_id, reason).await?)
}
