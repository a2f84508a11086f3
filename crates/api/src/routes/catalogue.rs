//! 研修計画・研修一覧: plans per fiscal year, their courses and sessions.
//!
//! Staff see published plans and their published (or cancelled) courses; HR and auditors also
//! see drafts. A draft is simply not found for staff, as another organisation's course is.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use kenshu_domain::attendance::CompletionRule;
use kenshu_domain::audience::{routes, AudienceRule, Route};
use kenshu_domain::auth::{authorize, Action, Principal};
use kenshu_domain::calendar::{jst, FiscalYear};
use kenshu_domain::catalogue::{
    Aim, ApplicationWindow, Category, CourseData, CourseFields, CourseStatus, Delivery, Lecturer, Pillar,
    PlanData, ReportRule, SessionData, SessionFields, Timing,
};
use kenshu_persistence::entities::{course_session, training_plan};
use kenshu_persistence::repo::audit::{self as audit_repo, AuditFilter};
use kenshu_persistence::repo::cascade;
use kenshu_persistence::repo::catalogue::{self as repo, CourseFilter, CourseRecord};
use kenshu_persistence::repo::employee::roster_members;
use kenshu_persistence::repo::org;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{
    created, encode_cursor, fiscal_year, fiscal_year_or_current, if_match, json_with_etag, page_request,
    path_year, Json,
};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::shared::{AuditEntryDto, AuditPage};
use crate::state::AppState;

fn sees_drafts(p: &Principal) -> bool {
    authorize(p, Action::ReadDraftCatalogue).is_ok()
}

// ---------------------------------------------------------------------------------------------
// Plans

/// 研修計画: one fiscal year's plan.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01939a4e-7c1a-7d2e-8f00-0000000000p1",
    "fiscal_year": 2023,
    "fiscal_year_label": "令和5年度",
    "title": "令和5年度 職員研修計画",
    "policy": "職員一人ひとりの能力・意欲の向上を図る。",
    "focus_areas": ["若手職員の育成", "職場研修の継続実施"],
    "status": "published",
    "published_at": "2023-03-20T00:00:00Z",
    "version": 2,
    "created_at": "2023-03-01T00:00:00Z",
    "updated_at": "2023-03-20T00:00:00Z"
}))]
pub struct PlanDto {
    pub id: Uuid,
    pub fiscal_year: i32,
    /// 令和5年度
    pub fiscal_year_label: String,
    pub title: String,
    /// 研修方針
    pub policy: Option<String>,
    /// 重点的な取組
    pub focus_areas: Vec<String>,
    /// draft or published
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PlanDto {
    fn from_model(m: &training_plan::Model) -> ApiResult<Self> {
        let fy = path_year(m.fiscal_year)?;
        Ok(Self {
            id: m.id,
            fiscal_year: m.fiscal_year,
            fiscal_year_label: fy.japanese_label(),
            title: m.title.clone(),
            policy: m.policy.clone(),
            focus_areas: repo::plan_focus_areas(m)?,
            status: m.status.clone(),
            published_at: m.published_at,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanList {
    /// Newest fiscal year first.
    pub items: Vec<PlanDto>,
}

/// A plan to create (with its fiscal year) or the new text of one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "fiscal_year": 2024,
    "policy": "若手職員の早期育成と管理監督職の役割強化",
    "focus_areas": ["若手職員の育成", "職場研修の継続実施"]
}))]
pub struct PlanInput {
    /// Only when creating; an update keeps the plan's year.
    #[schema(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
    /// Defaults to 「令和N年度 職員研修計画」.
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 20000)]
    pub policy: Option<String>,
    #[serde(default)]
    #[schema(max_items = 12)]
    pub focus_areas: Vec<String>,
}

impl PlanInput {
    fn data(self, fy: FiscalYear) -> ApiResult<PlanData> {
        PlanData::validate(self.title, self.policy, self.focus_areas, fy).map_err(ApiError::Validation)
    }
}

/// The plans of your organisation (staff: published ones).
#[utoipa::path(get, operation_id = "list_plans", path = "/api/v1/plans", tag = "catalogue",
    responses((status = 200, body = PlanList)))]
pub async fn list_plans(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadCatalogue)?;
    let plans =
        repo::list_plans(state.db.conn(), auth.principal.org_id, !sees_drafts(&auth.principal)).await?;
    let items = plans.iter().map(PlanDto::from_model).collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(PlanList { items }))
}

async fn visible_plan(state: &AppState, auth: &Auth, year: i32) -> ApiResult<training_plan::Model> {
    authorize(&auth.principal, Action::ReadCatalogue)?;
    let plan = repo::get_plan(state.db.conn(), auth.principal.org_id, path_year(year)?).await?;
    if plan.status()? != kenshu_domain::catalogue::PlanStatus::Published && !sees_drafts(&auth.principal) {
        return Err(ApiError::NotFound);
    }
    Ok(plan)
}

/// Read one fiscal year's plan.
#[utoipa::path(get, operation_id = "get_plan", path = "/api/v1/plans/{fiscal_year}", tag = "catalogue",
    params(("fiscal_year" = i32, Path, description = "年度: 2023 is April 2023 to March 2024")),
    responses((status = 200, body = PlanDto, headers(("ETag" = String))),
        (status = 404, description = "No plan for this year, or not yet published", body = Problem, content_type = "application/problem+json")))]
pub async fn get_plan(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    let plan = visible_plan(&state, &auth, *year).await?;
    Ok(json_with_etag(StatusCode::OK, plan.version, &PlanDto::from_model(&plan)?))
}

/// Start a fiscal year's plan, as a draft (HR).
#[utoipa::path(post, operation_id = "create_plan", path = "/api/v1/plans", tag = "catalogue", request_body = PlanInput,
    responses((status = 201, body = PlanDto, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The year has a plan", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_plan(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<PlanInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let body = body.into_inner();
    let year = body.fiscal_year.ok_or_else(|| ApiError::validation("fiscal_year", "is required"))?;
    let fy = fiscal_year("fiscal_year", year)?;
    let data = body.data(fy)?;
    let txn = state.db.begin_write().await?;
    let plan = repo::create_plan(&*txn, &auth.actor(), fy, &data).await?;
    txn.commit().await?;
    Ok(created(plan.version, &format!("/api/v1/plans/{}", plan.fiscal_year), &PlanDto::from_model(&plan)?))
}

/// Replace a plan's title, policy and focus areas (HR). Requires `If-Match`.
#[utoipa::path(put, operation_id = "update_plan", path = "/api/v1/plans/{fiscal_year}", tag = "catalogue", request_body = PlanInput,
    params(("fiscal_year" = i32, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = PlanDto, headers(("ETag" = String))),
        (status = 404, description = "No plan for this year", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_plan(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    year: web::Path<i32>,
    body: Json<PlanInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let fy = path_year(*year)?;
    repo::get_plan(state.db.conn(), auth.principal.org_id, fy).await?;
    let version = if_match(&req)?;
    let body = body.into_inner();
    if body.fiscal_year.is_some_and(|y| y != fy.year()) {
        return Err(ApiError::validation("fiscal_year", "a plan keeps its fiscal year"));
    }
    let data = body.data(fy)?;
    let txn = state.db.begin_write().await?;
    let plan = repo::update_plan(&*txn, &auth.actor(), fy, version, &data).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, plan.version, &PlanDto::from_model(&plan)?))
}

/// Publish a plan and its draft courses (HR): staff see the catalogue from now on.
/// Requires `If-Match` with the plan's ETag.
#[utoipa::path(post, operation_id = "publish_plan", path = "/api/v1/plans/{fiscal_year}/publish", tag = "catalogue",
    params(("fiscal_year" = i32, Path), ("If-Match" = String, Header, description = "ETag of the plan read")),
    responses((status = 200, body = PlanDto, headers(("ETag" = String))),
        (status = 404, description = "No plan for this year", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_plan(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    year: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let fy = path_year(*year)?;
    repo::get_plan(state.db.conn(), auth.principal.org_id, fy).await?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let plan = repo::publish_plan(&*txn, &auth.actor(), fy, version).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, plan.version, &PlanDto::from_model(&plan)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to_fiscal_year": 2024}))]
pub struct CopyPlanInput {
    /// Defaults to the next fiscal year.
    #[schema(minimum = 1989, maximum = 2200)]
    pub to_fiscal_year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CopiedPlan {
    /// The plan copied into, a draft.
    pub plan: PlanDto,
    pub courses_copied: usize,
}

/// Copy a plan's courses into another fiscal year as drafts (HR): rules, institutions and
/// positioning come along, sessions do not. The target plan is created if missing.
#[utoipa::path(post, operation_id = "copy_plan", path = "/api/v1/plans/{fiscal_year}/copy", tag = "catalogue",
    request_body = CopyPlanInput, params(("fiscal_year" = i32, Path, description = "The year copied from")),
    responses((status = 201, body = CopiedPlan, headers(("Location" = String))),
        (status = 404, description = "No plan for this year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The target year's plan already has courses", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid target year", body = Problem, content_type = "application/problem+json")))]
pub async fn copy_plan(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
    body: Json<CopyPlanInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let from = path_year(*year)?;
    repo::get_plan(state.db.conn(), auth.principal.org_id, from).await?;
    let to = fiscal_year("to_fiscal_year", body.to_fiscal_year.unwrap_or(from.year() + 1))?;
    if to == from {
        return Err(ApiError::validation("to_fiscal_year", "a plan is copied into another fiscal year"));
    }
    let txn = state.db.begin_write().await?;
    let (plan, courses_copied) = repo::copy_plan(&*txn, &auth.actor(), from, to).await?;
    txn.commit().await?;
    let mut res =
        HttpResponse::Created().json(CopiedPlan { plan: PlanDto::from_model(&plan)?, courses_copied });
    res.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&format!("/api/v1/plans/{}", plan.fiscal_year)).expect("ASCII"),
    );
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// Courses

/// 日程: one session, times in Japan time (+09:00).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    pub id: Uuid,
    pub course_id: Uuid,
    #[schema(value_type = String, format = DateTime, example = "2023-04-03T09:00:00+09:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2023-04-03T17:00:00+09:00")]
    pub ends_at: DateTime<FixedOffset>,
    pub venue: Option<String>,
    pub online_url: Option<String>,
    pub capacity: Option<u32>,
    pub lecturer: Option<Lecturer>,
    pub notes: Option<String>,
    pub version: i32,
}

impl SessionDto {
    fn from_model(m: &course_session::Model) -> ApiResult<Self> {
        Ok(Self {
            id: m.id,
            course_id: m.course_id,
            starts_at: m.starts_at.with_timezone(&jst()),
            ends_at: m.ends_at.with_timezone(&jst()),
            venue: m.venue.clone(),
            online_url: m.online_url.clone(),
            capacity: m.capacity.map(|c| c as u32),
            lecturer: repo::session_lecturer(m)?,
            notes: m.notes.clone(),
            version: m.version,
        })
    }
}

/// 研修: a course as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01939a4e-7c1a-7d2e-8f00-0000000000c1",
    "fiscal_year": 2023,
    "category": "hierarchical",
    "number": 6,
    "title": "採用後２次研修",
    "purpose": "政策提案や事業説明等において、自分の考えを効果的に伝える技術を習得する。",
    "content": "説明力の向上",
    "audience": "採用後３年を経過した者",
    "rules": [{"route": "designation", "conditions": [{"kind": "years_after_hire", "years": 3}]}],
    "routes": ["designation"],
    "timing": {"kind": "month", "month": 7},
    "timing_label": "7月",
    "delivery": "classroom",
    "institution": null,
    "headcount": null,
    "report": {"kind": "days_after_end", "days": 7},
    "notes": null,
    "pillar": "off_jt",
    "aims": ["ability"],
    "within_course_id": null,
    "status": "published",
    "sessions": [],
    "version": 1,
    "created_at": "2023-03-01T00:00:00Z",
    "updated_at": "2023-03-01T00:00:00Z"
}))]
pub struct CourseDto {
    pub id: Uuid,
    pub fiscal_year: i32,
    pub category: Category,
    /// No. within the category.
    pub number: u32,
    pub title: String,
    /// 目的
    pub purpose: Option<String>,
    /// 内容
    pub content: Option<String>,
    /// 対象 as the plan words it.
    pub audience: Option<String>,
    /// Audience rules: a rule matches when all its conditions hold; each has its route.
    pub rules: Vec<AudienceRule>,
    /// The routes of the rules (選考方法).
    pub routes: Vec<Route>,
    /// 実施時期
    pub timing: Timing,
    /// 実施時期 as the plan writes it (4月, 6月～11月, 未定 …).
    pub timing_label: String,
    pub delivery: Delivery,
    /// 研修機関, for dispatch training.
    pub institution: Option<String>,
    /// 人数; null when undecided.
    pub headcount: Option<u32>,
    /// When the post-training report (研修報告書) is due.
    pub report: ReportRule,
    /// 修了要件: what attendance completes the course.
    pub completion: CompletionRule,
    /// 申込期間; null when applications are taken while the course is published.
    pub application_window: Option<ApplicationWindow>,
    /// 備考
    pub notes: Option<String>,
    pub pillar: Pillar,
    pub aims: Vec<Aim>,
    /// 位置づけ: the course this one is part of.
    pub within_course_id: Option<Uuid>,
    pub status: CourseStatus,
    /// Present when reading one course; omitted in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<SessionDto>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CourseDto {
    fn new(r: &CourseRecord, sessions: Option<Vec<SessionDto>>) -> Self {
        let m = &r.model;
        Self {
            id: m.id,
            fiscal_year: m.fiscal_year,
            category: r.category,
            number: m.number as u32,
            title: m.title.clone(),
            purpose: m.purpose.clone(),
            content: m.content.clone(),
            audience: m.audience.clone(),
            rules: r.rules.clone(),
            routes: routes(&r.rules),
            timing: r.timing,
            timing_label: r.timing.japanese(),
            delivery: r.delivery,
            institution: m.institution.clone(),
            headcount: m.headcount.map(|h| h as u32),
            report: r.report,
            completion: r.completion,
            application_window: r.application_window(),
            notes: m.notes.clone(),
            pillar: r.pillar,
            aims: r.aims.clone(),
            within_course_id: m.within_course_id,
            status: r.status(),
            sessions,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A course to create, or the full new state of one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "fiscal_year": 2023,
    "category": "hierarchical",
    "number": 6,
    "title": "採用後２次研修",
    "purpose": "政策提案や事業説明等において、自分の考えを効果的に伝える技術を習得する。",
    "content": "説明力の向上",
    "audience": "採用後３年を経過した者",
    "rules": [{"route": "designation", "conditions": [{"kind": "years_after_hire", "years": 3}]}],
    "timing": {"kind": "month", "month": 7},
    "delivery": "classroom",
    "aims": ["ability"]
}))]
pub struct CourseInput {
    /// The plan's fiscal year; a course stays in its year.
    #[schema(minimum = 1989, maximum = 2200)]
    pub fiscal_year: i32,
    pub category: Category,
    #[schema(minimum = 1, maximum = 999)]
    pub number: u32,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 4000)]
    pub purpose: Option<String>,
    #[schema(max_length = 4000)]
    pub content: Option<String>,
    #[schema(max_length = 500)]
    pub audience: Option<String>,
    #[serde(default)]
    #[schema(max_items = 12)]
    pub rules: Vec<AudienceRule>,
    /// Defaults to 未定 (undecided).
    pub timing: Option<Timing>,
    pub delivery: Delivery,
    #[schema(max_length = 100)]
    pub institution: Option<String>,
    #[schema(maximum = 100000)]
    pub headcount: Option<u32>,
    /// Defaults to 7 days after the course's last day.
    pub report: Option<ReportRule>,
    /// Defaults to every session; `{"kind": "min_share", "percent": 80}` completes on 80 % of
    /// the sessions that count (rounded up).
    pub completion: Option<CompletionRule>,
    /// 申込期間 for application (公募制) rules; without one, applications are taken while the
    /// course is published. Closes by the end of the fiscal year; may open in the year before.
    pub application_window: Option<ApplicationWindow>,
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    /// Defaults to off_jt (self_development for 自己啓発 courses).
    pub pillar: Option<Pillar>,
    #[serde(default)]
    pub aims: Vec<Aim>,
    pub within_course_id: Option<Uuid>,
    /// Defaults to draft when creating and to the current status when updating.
    pub status: Option<CourseStatus>,
}

impl CourseInput {
    fn into_data(self, ladder: &kenshu_domain::org::GradeLadder) -> ApiResult<(CourseData, Option<Uuid>)> {
        let fy = fiscal_year("fiscal_year", self.fiscal_year)?;
        let within = self.within_course_id;
        let fields = CourseFields {
            category: self.category.as_str().into(),
            number: Some(self.number),
            title: self.title,
            purpose: self.purpose,
            content: self.content,
            audience: self.audience,
            rules: self.rules,
            timing: self.timing,
            delivery: self.delivery.as_str().into(),
            institution: self.institution,
            headcount: self.headcount,
            report: self.report,
            completion: self.completion,
            application_window: self.application_window,
            notes: self.notes,
            pillar: self.pillar.map(|p| p.as_str().into()),
            aims: self.aims.iter().map(|a| a.as_str().into()).collect(),
        };
        Ok((CourseData::validate(fields, fy, ladder).map_err(ApiError::Validation)?, within))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCoursesQuery {
    /// 年度
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
    pub category: Option<Category>,
    /// Courses with at least one rule of this route.
    pub route: Option<Route>,
    pub delivery: Option<Delivery>,
    /// Courses that run in this calendar month (1–12); 通年 courses run in every month.
    #[param(minimum = 1, maximum = 12)]
    pub month: Option<u32>,
    /// 研修機関, exactly.
    pub institution: Option<String>,
    /// Text search in title, purpose and content; full-width, half-width and hiragana match alike.
    pub q: Option<String>,
    /// HR and auditors: only courses in this status.
    pub status: Option<CourseStatus>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoursePage {
    pub items: Vec<CourseDto>,
    pub next_cursor: Option<String>,
}

/// The catalogue, in plan order (fiscal year, category, number).
#[utoipa::path(get, operation_id = "list_courses", path = "/api/v1/courses", tag = "catalogue", params(ListCoursesQuery),
    responses((status = 200, body = CoursePage),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json")))]
pub async fn list_courses(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<ListCoursesQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadCatalogue)?;
    let q = q.into_inner();
    let scope = "courses";
    let page = page_request(scope, q.limit, q.cursor.as_deref())?;
    let fiscal_year = q.fiscal_year.map(|y| fiscal_year("fiscal_year", y)).transpose()?;
    if q.month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(ApiError::validation("month", "must be 1 to 12"));
    }
    let drafts = sees_drafts(&auth.principal);
    let visible: Vec<CourseStatus> = if drafts {
        CourseStatus::ALL.to_vec()
    } else {
        vec![CourseStatus::Published, CourseStatus::Cancelled]
    };
    let statuses = match q.status {
        Some(s) => visible.into_iter().filter(|v| *v == s).collect(),
        None => visible,
    };
    let filter = CourseFilter {
        fiscal_year,
        category: q.category,
        route: q.route,
        delivery: q.delivery,
        month: q.month,
        institution: q.institution.map(|i| kenshu_domain::text::normalize(&i)),
        q: q.q,
        statuses,
        published_plans_only: !drafts,
    };
    let result = repo::list_courses(state.db.conn(), auth.principal.org_id, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(CoursePage {
        items: result.items.iter().map(|r| CourseDto::new(r, None)).collect(),
        next_cursor: encode_cursor(scope, result.next),
    }))
}

/// A course the caller may see: drafts and courses of unpublished plans only for HR and auditors.
async fn visible_course(state: &AppState, auth: &Auth, id: Uuid) -> ApiResult<CourseRecord> {
    authorize(&auth.principal, Action::ReadCatalogue)?;
    let course = repo::get_course(state.db.conn(), auth.principal.org_id, id).await?;
    if !sees_drafts(&auth.principal)
        && (course.status() == CourseStatus::Draft || !repo::plan_published(state.db.conn(), &course).await?)
    {
        return Err(ApiError::NotFound);
    }
    Ok(course)
}

async fn course_with_sessions(state: &AppState, course: &CourseRecord) -> ApiResult<CourseDto> {
    let sessions = repo::list_sessions(state.db.conn(), course.model.org_id, course.model.id).await?;
    let sessions = sessions.iter().map(SessionDto::from_model).collect::<ApiResult<Vec<_>>>()?;
    Ok(CourseDto::new(course, Some(sessions)))
}

/// Read one course with its sessions.
#[utoipa::path(get, operation_id = "get_course", path = "/api/v1/courses/{id}", tag = "catalogue", params(("id" = Uuid, Path)),
    responses((status = 200, body = CourseDto, headers(("ETag" = String))),
        (status = 404, description = "No such course visible to you", body = Problem, content_type = "application/problem+json")))]
pub async fn get_course(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let course = visible_course(&state, &auth, *id).await?;
    Ok(json_with_etag(StatusCode::OK, course.model.version, &course_with_sessions(&state, &course).await?))
}

/// Add a course to a fiscal year's plan (HR).
#[utoipa::path(post, operation_id = "create_course", path = "/api/v1/courses", tag = "catalogue", request_body = CourseInput,
    responses((status = 201, body = CourseDto, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The category and number are taken in this year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, an unknown grade in a rule, a rule that can never match, no plan for the year", body = Problem, content_type = "application/problem+json")))]
pub async fn create_course(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<CourseInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let body = body.into_inner();
    let fy = fiscal_year("fiscal_year", body.fiscal_year)?;
    let status = body.status.unwrap_or(CourseStatus::Draft);
    let ladder = org::ladder(state.db.conn(), auth.principal.org_id).await?;
    let (data, within) = body.into_data(&ladder)?;
    let txn = state.db.begin_write().await?;
    let course = repo::create_course(&*txn, &auth.actor(), fy, &data, within, status).await?;
    txn.commit().await?;
    let dto = CourseDto::new(&course, Some(Vec::new()));
    Ok(created(course.model.version, &format!("/api/v1/courses/{}", course.model.id), &dto))
}

/// Replace a course (HR). Requires `If-Match`. A published course is cancelled, not taken back
/// to draft.
#[utoipa::path(put, operation_id = "update_course", path = "/api/v1/courses/{id}", tag = "catalogue", request_body = CourseInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = CourseDto, headers(("ETag" = String))),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The category and number are taken in this year", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or status change", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_course(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<CourseInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let current = repo::get_course(state.db.conn(), auth.principal.org_id, *id).await?;
    let version = if_match(&req)?;
    let body = body.into_inner();
    if body.fiscal_year != current.model.fiscal_year {
        return Err(ApiError::validation(
            "fiscal_year",
            "a course stays in its fiscal year; copy the plan to carry it into another",
        ));
    }
    let status = body.status.unwrap_or(current.status());
    let ladder = org::ladder(state.db.conn(), auth.principal.org_id).await?;
    let (data, within) = body.into_data(&ladder)?;
    let txn = state.db.begin_write().await?;
    let before = repo::get_course(&*txn, auth.principal.org_id, *id).await?;
    let course = repo::update_course(&*txn, &auth.actor(), *id, version, &data, within, status).await?;
    cascade::course_changed(&*txn, &auth.actor(), &before.model, &course.model).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, course.model.version, &course_with_sessions(&state, &course).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Every change to a course and its sessions, newest first (HR, auditors).
#[utoipa::path(get, operation_id = "course_history", path = "/api/v1/courses/{id}/history", tag = "catalogue",
    params(("id" = Uuid, Path), HistoryQuery),
    responses((status = 200, body = AuditPage),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn course_history(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadDraftCatalogue)?;
    repo::get_course(state.db.conn(), auth.principal.org_id, *id).await?;
    let scope = "course-history";
    let page = page_request(scope, q.limit, q.cursor.as_deref())?;
    let filter =
        AuditFilter { entity_type: Some("course".into()), entity_id: Some(*id), ..Default::default() };
    let result = audit_repo::list(state.db.conn(), auth.principal.org_id, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        items: result.items.iter().map(AuditEntryDto::from).collect(),
        next_cursor: encode_cursor(scope, result.next),
    }))
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// A session to add, or the full new state of one. Times carry their offset; Japan time is
/// +09:00.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "starts_at": "2023-07-12T09:00:00+09:00",
    "ends_at": "2023-07-12T17:00:00+09:00",
    "venue": "市役所 4階 大会議室",
    "capacity": 40,
    "lecturer": {"kind": "outside", "name": "山田 花子", "affiliation": "(株)研修サービス"}
}))]
pub struct SessionInput {
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<FixedOffset>,
    #[schema(max_length = 500)]
    pub venue: Option<String>,
    /// An http(s) URL for online sessions.
    #[schema(max_length = 2000)]
    pub online_url: Option<String>,
    #[schema(minimum = 0, maximum = 100000)]
    pub capacity: Option<i64>,
    pub lecturer: Option<Lecturer>,
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

impl SessionInput {
    fn into_data(self, fy: FiscalYear) -> ApiResult<SessionData> {
        let fields = SessionFields {
            starts_at: self.starts_at.with_timezone(&Utc),
            ends_at: self.ends_at.with_timezone(&Utc),
            venue: self.venue,
            online_url: self.online_url,
            capacity: self.capacity,
            lecturer: self.lecturer,
            notes: self.notes,
        };
        SessionData::validate(fields, fy).map_err(ApiError::Validation)
    }
}

/// Add a session to a course (HR).
#[utoipa::path(post, operation_id = "create_session", path = "/api/v1/courses/{id}/sessions", tag = "catalogue",
    request_body = SessionInput, params(("id" = Uuid, Path)),
    responses((status = 201, body = SessionDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: ends before it starts, outside the fiscal year, negative capacity", body = Problem, content_type = "application/problem+json")))]
pub async fn create_session(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<SessionInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let course = repo::get_course(state.db.conn(), auth.principal.org_id, *id).await?;
    let data = body.into_inner().into_data(course.fiscal_year())?;
    let txn = state.db.begin_write().await?;
    let session = repo::create_session(&*txn, &auth.actor(), &course, &data).await?;
    txn.commit().await?;
    let location = format!("/api/v1/courses/{}/sessions/{}", course.model.id, session.id);
    Ok(created(session.version, &location, &SessionDto::from_model(&session)?))
}

/// Replace a session (HR). Requires `If-Match` with the session's version.
#[utoipa::path(put, operation_id = "update_session", path = "/api/v1/courses/{id}/sessions/{session_id}", tag = "catalogue",
    request_body = SessionInput,
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the session read")),
    responses((status = 200, body = SessionDto, headers(("ETag" = String))),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_session(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<SessionInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let (course_id, session_id) = path.into_inner();
    let course = repo::get_course(state.db.conn(), auth.principal.org_id, course_id).await?;
    repo::get_session(state.db.conn(), auth.principal.org_id, course_id, session_id).await?;
    let version = if_match(&req)?;
    let data = body.into_inner().into_data(course.fiscal_year())?;
    let txn = state.db.begin_write().await?;
    let before = repo::get_session(&*txn, auth.principal.org_id, course_id, session_id).await?;
    let session = repo::update_session(&*txn, &auth.actor(), &course, session_id, version, &data).await?;
    cascade::session_changed(&*txn, &auth.actor(), &before, Some(&session)).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, session.version, &SessionDto::from_model(&session)?))
}

/// Remove a session (HR). Requires `If-Match` with the session's version.
#[utoipa::path(delete, operation_id = "delete_session", path = "/api/v1/courses/{id}/sessions/{session_id}", tag = "catalogue",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the session read")),
    responses((status = 204, description = "Removed"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The session has attendance or absence notices on file, or trainees placed on it", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_session(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let (course_id, session_id) = path.into_inner();
    let course = repo::get_course(state.db.conn(), auth.principal.org_id, course_id).await?;
    repo::get_session(state.db.conn(), auth.principal.org_id, course_id, session_id).await?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let before = repo::get_session(&*txn, auth.principal.org_id, course_id, session_id).await?;
    repo::delete_session(&*txn, &auth.actor(), &course, session_id, version).await?;
    cascade::session_changed(&*txn, &auth.actor(), &before, None).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------------
// Who a course is for

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EligibleQuery {
    /// The fiscal year to evaluate in; defaults to the course's own.
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
    /// Employees listed per rule, 1–1000 (default 100); `count` is always the full number.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// An employee a rule matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct EligibleEmployee {
    pub id: Uuid,
    pub employee_no: String,
    pub name: String,
    pub section_id: Uuid,
    pub grade: String,
}

/// The employees one rule matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleMatches {
    /// Position of the rule in the course's `rules`.
    pub index: usize,
    pub route: Route,
    /// The rule in the plan's words: 採用後3年を経過した者・指名制.
    pub description: String,
    /// How many active employees match.
    pub count: usize,
    /// The first `limit` of them, in employee-number order.
    pub employees: Vec<EligibleEmployee>,
    pub truncated: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "course_id": "01939a4e-7c1a-7d2e-8f00-0000000000c1",
    "fiscal_year": 2023,
    "rules": [{"index": 0, "route": "designation", "description": "採用後3年を経過した者・指名制", "count": 1,
        "employees": [{"id": "01939a4e-7c1a-7d2e-8f00-000000000001", "employee_no": "10120", "name": "伊勢原 花子",
            "section_id": "01939a4e-7c1a-7d2e-8f00-0000000000a1", "grade": "一般"}], "truncated": false}],
    "distinct_count": 1
}))]
pub struct EligiblePreview {
    pub course_id: Uuid,
    pub fiscal_year: i32,
    pub rules: Vec<RuleMatches>,
    /// Employees matched by at least one rule.
    pub distinct_count: usize,
}

/// Preview who on the roster each audience rule of a course matches (HR, auditors).
#[utoipa::path(get, operation_id = "course_eligible", path = "/api/v1/courses/{id}/eligible", tag = "catalogue",
    params(("id" = Uuid, Path), EligibleQuery),
    responses((status = 200, body = EligiblePreview),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fiscal year or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn course_eligible(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<EligibleQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::PreviewAudience)?;
    let org_id = auth.principal.org_id;
    let course = repo::get_course(state.db.conn(), org_id, *id).await?;
    let fy = match q.fiscal_year {
        Some(y) => fiscal_year("fiscal_year", y)?,
        None => course.fiscal_year(),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::validation("limit", "must be between 1 and 1000"));
    }
    let ladder = org::ladder(state.db.conn(), org_id).await?;
    let roster = roster_members(state.db.conn(), org_id, None).await?;
    let mut matched_any = vec![false; roster.len()];
    let rules = course
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let mut count = 0;
            let mut employees = Vec::new();
            for (i, member) in roster.iter().enumerate() {
                if rule.matches(&member.candidate(), fy, &ladder) {
                    count += 1;
                    matched_any[i] = true;
                    if employees.len() < limit {
                        employees.push(EligibleEmployee {
                            id: member.id,
                            employee_no: member.employee_no.clone(),
                            name: member.name.clone(),
                            section_id: member.section_id,
                            grade: member.grade.clone(),
                        });
                    }
                }
            }
            RuleMatches {
                index,
                route: rule.route,
                description: rule.describe(),
                count,
                truncated: count > employees.len(),
                employees,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(EligiblePreview {
        course_id: course.model.id,
        fiscal_year: fy.year(),
        rules,
        distinct_count: matched_any.iter().filter(|m| **m).count(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyCoursesQuery {
    /// Defaults to the current fiscal year (Japan time).
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
}

/// A course the caller can take, and by which routes.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyCourse {
    pub course: CourseDto,
    /// The routes of the rules that match the caller: designation means HR will designate them.
    pub routes: Vec<Route>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyCourses {
    pub fiscal_year: i32,
    pub items: Vec<MyCourse>,
}

/// Courses I can take: the published courses whose audience rules match the caller's own
/// employee record, with the route of each. Empty for callers not on the roster.
#[utoipa::path(get, operation_id = "my_courses", path = "/api/v1/me/courses", tag = "me", params(MyCoursesQuery),
    responses((status = 200, body = MyCourses),
        (status = 422, description = "Invalid fiscal year", body = Problem, content_type = "application/problem+json")))]
pub async fn my_courses(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<MyCoursesQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadCatalogue)?;
    let org_id = auth.principal.org_id;
    let fy = fiscal_year_or_current(q.fiscal_year)?;
    let mut items = Vec::new();
    if let Some(me) = auth.principal.employee.as_ref() {
        let ladder = org::ladder(state.db.conn(), org_id).await?;
        let member = roster_members(state.db.conn(), org_id, Some(me.employee_id)).await?;
        if let Some(member) = member.first() {
            for course in repo::published_courses(state.db.conn(), org_id, fy).await? {
                let routes =
                    kenshu_domain::audience::matching_routes(&course.rules, &member.candidate(), fy, &ladder);
                if !routes.is_empty() {
                    items.push(MyCourse { course: CourseDto::new(&course, None), routes });
                }
            }
        }
    }
    Ok(HttpResponse::Ok().json(MyCourses { fiscal_year: fy.year(), items }))
}
