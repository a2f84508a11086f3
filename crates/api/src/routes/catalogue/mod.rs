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
use kenshu_domain::FieldError;
use kenshu_persistence::entities::{course_session, training_plan};
use kenshu_persistence::repo::audit::{self as audit_repo, AuditFilter};
use kenshu_persistence::repo::cascade;
use kenshu_persistence::repo::catalogue::{self as repo, CourseFilter, CourseRecord};
use kenshu_persistence::repo::employee::{roster_member_kept, roster_members};
use kenshu_persistence::repo::joint;
use kenshu_persistence::repo::org;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{
    created, encode_cursor, fiscal_year, fiscal_year_or_current, if_match, json_with_etag, page_request,
    path_year, rendered_with_etag, Json,
};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::shared::{AuditEntryDto, AuditPage};
use crate::state::AppState;

fn sees_drafts(p: &Principal) -> bool {
    authorize(p, Action::ReadDraftCatalogue).is_ok()
}

mod audience;
mod plans;
mod sessions;

pub use audience::*;
pub use plans::*;
pub use sessions::*;

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
    "completion": {"kind": "all_sessions"},
    "application_window": null,
    "notes": null,
    "pillar": "off_jt",
    "aims": ["ability"],
    "within_course_id": null,
    "status": "published",
    "joint_share_id": null,
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
    /// 合同研修: the share (under `/joint-offers`) this course takes part in; its places and
    /// sessions are then set by the host.
    pub joint_share_id: Option<Uuid>,
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
            joint_share_id: m.share_id,
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
        return Err(ApiError::validation(FieldError::range("month", "must be 1 to 12")));
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
    let render = |r: &CourseRecord| {
        serde_json::to_string(&CourseDto::new(r, None)).map_err(|e| ApiError::Internal(e.to_string()))
    };
    let result =
        repo::list_courses_rendered(&state.db, auth.principal.org_id, &filter, &page, render).await?;
    // A `CoursePage`, its items as rendered (and kept) course by course.
    let next_cursor = serde_json::to_string(&encode_cursor(scope, result.next))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut body = String::with_capacity(result.items.iter().map(|i| i.1.len() + 1).sum::<usize>() + 64);
    body.push_str("{\"items\":[");
    for (n, item) in result.items.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&item.1);
    }
    body.push_str("],\"next_cursor\":");
    body.push_str(&next_cursor);
    body.push('}');
    Ok(HttpResponse::Ok().content_type(header::ContentType::json()).body(body))
}

/// The course, if the caller may see it: drafts and the courses of unpublished plans are for HR
/// and auditors only.
fn visible_to(auth: &Auth, course: &CourseRecord, published: bool) -> ApiResult<()> {
    if !sees_drafts(&auth.principal)
        && !kenshu_domain::catalogue::visible_to_staff(course.status(), published)
    {
        return Err(ApiError::NotFound);
    }
    Ok(())
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
    authorize(&auth.principal, Action::ReadCatalogue)?;
    let read = repo::get_course_kept(&state.db, auth.principal.org_id, *id).await?;
    visible_to(&auth, &read.course, read.published)?;
    let body = match read.rendered.get() {
        Some(body) => body.clone(),
        None => {
            let sessions = read.sessions.iter().map(SessionDto::from_model).collect::<ApiResult<Vec<_>>>()?;
            let body = serde_json::to_string(&CourseDto::new(&read.course, Some(sessions)))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            // Another request may have rendered it meanwhile: the same text either way.
            let _ = read.rendered.set(body.clone());
            body
        }
    };
    Ok(rendered_with_etag(StatusCode::OK, read.course.model.version, body))
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
    let course = repo::create_course(&txn, &auth.actor(), fy, &data, within, status).await?;
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
        return Err(ApiError::validation(FieldError::conflict(
            "fiscal_year",
            "a course stays in its fiscal year; copy the plan to carry it into another",
        )));
    }
    let status = body.status.unwrap_or(current.status());
    let ladder = org::ladder(state.db.conn(), auth.principal.org_id).await?;
    let (data, within) = body.into_data(&ladder)?;
    let txn = state.db.begin_write().await?;
    let before = repo::get_course(&txn, auth.principal.org_id, *id).await?;
    let course = repo::update_course(&txn, &auth.actor(), *id, &version, &data, within, status).await?;
    cascade::course_changed(&txn, &auth.actor(), &before.model, &course.model).await?;
    if course.status() == CourseStatus::Cancelled && before.status() != CourseStatus::Cancelled {
        joint::host_course_cancelled(&txn, &auth.actor(), course.model.id).await?;
    }
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
