//! 研修計画: a fiscal year's plans, their publication and their copy into the next year.

use super::*;
use kenshu_domain::FieldError;

/// 研修計画: one fiscal year's plan.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01939a4e-7c1a-7d2e-8f00-0000000000a1",
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
    let year = body
        .fiscal_year
        .ok_or_else(|| ApiError::validation(FieldError::required("fiscal_year", "is required")))?;
    let fy = fiscal_year("fiscal_year", year)?;
    let data = body.data(fy)?;
    let txn = state.db.begin_write().await?;
    let plan = repo::create_plan(&txn, &auth.actor(), fy, &data).await?;
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
        return Err(ApiError::validation(FieldError::conflict(
            "fiscal_year",
            "a plan keeps its fiscal year",
        )));
    }
    let data = body.data(fy)?;
    let txn = state.db.begin_write().await?;
    let plan = repo::update_plan(&txn, &auth.actor(), fy, &version, &data).await?;
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
    let plan = repo::publish_plan(&txn, &auth.actor(), fy, &version).await?;
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
        return Err(ApiError::validation(FieldError::conflict(
            "to_fiscal_year",
            "a plan is copied into another fiscal year",
        )));
    }
    let txn = state.db.begin_write().await?;
    let (plan, courses_copied) = repo::copy_plan(&txn, &auth.actor(), from, to).await?;
    txn.commit().await?;
    let mut res =
        HttpResponse::Created().json(CopiedPlan { plan: PlanDto::from_model(&plan)?, courses_copied });
    res.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&format!("/api/v1/plans/{}", plan.fiscal_year)).expect("ASCII"),
    );
    Ok(res)
}
