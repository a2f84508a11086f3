//! 職員: the roster.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::employee::{EmployeeData, EmployeeFields, EmploymentType};
use kenshu_persistence::repo::employee::{self as repo, EmployeeFilter, EmployeeRecord, EmployeeSort};
use kenshu_persistence::repo::org;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Auth;
use crate::http::{created, encode_cursor, fiscal_year, if_match, json_with_etag, page_request, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::shared::HeadElsewhereDto;
use crate::state::AppState;

/// An employee as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01939a4e-7c1a-7d2e-8f00-000000000001",
    "employee_no": "1001",
    "name": "伊勢原 太郎",
    "kana": "イセハラ タロウ",
    "email": "taro.isehara@example.jp",
    "portal_login_id": "isehara.taro",
    "section_id": "01939a4e-7c1a-7d2e-8f00-0000000000a1",
    "department_id": "01939a4e-7c1a-7d2e-8f00-0000000000d1",
    "grade": "主任",
    "post": null,
    "post_since": null,
    "hire_date": "2019-04-01",
    "hired_fiscal_year": 2019,
    "promotions": {"主任": "2023-04-01"},
    "employment_type": "regular",
    "retirement_date": null,
    "tags": ["防災担当"],
    "active": true,
    "version": 1,
    "created_at": "2026-04-01T00:00:00Z",
    "updated_at": "2026-04-01T00:00:00Z"
}))]
pub struct EmployeeDto {
    pub id: Uuid,
    /// 職員番号
    pub employee_no: String,
    /// 氏名
    pub name: String,
    /// フリガナ (katakana)
    pub kana: String,
    pub email: Option<String>,
    /// desknet's NEO login id, where notices reach them in the portal.
    pub portal_login_id: Option<String>,
    pub section_id: Uuid,
    pub department_id: Uuid,
    /// 職級
    pub grade: String,
    /// 職 (e.g. 課長職, 部長職)
    pub post: Option<String>,
    /// 役職発令日: when the post was given.
    pub post_since: Option<NaiveDate>,
    /// 採用日
    pub hire_date: NaiveDate,
    /// The fiscal year (年度) of the hire date.
    pub hired_fiscal_year: i32,
    /// 昇格日 per grade.
    pub promotions: BTreeMap<String, NaiveDate>,
    pub employment_type: EmploymentTypeDto,
    /// 退職予定日
    pub retirement_date: Option<NaiveDate>,
    pub tags: Vec<String>,
    /// False once the employee has left the roster; never deleted.
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `PUT /employees/{id}`'s answer: the employee, and what the change leaves for the training
/// office, as a roster import's answer names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeUpdated {
    #[serde(flatten)]
    pub employee: EmployeeDto,
    /// Moved to another section, they still head or stand in for a section or department they
    /// no longer sit in: a concurrent post (兼務) or a head not replaced yet. Nothing is changed;
    /// the office names the new head (`PUT /sections/{id}`, `PUT /departments/{id}`) or leaves it
    /// as it is. Empty unless the section changed.
    pub heads_elsewhere: Vec<HeadElsewhereDto>,
    /// Marked as left, they represented study groups still under way: nobody else may file for
    /// them until the place is handed over (`PUT /study-groups/{id}/members`).
    pub groups_to_hand_over: u64,
}

impl EmployeeDto {
    pub fn of(r: &EmployeeRecord) -> ApiResult<Self> {
        let m = &r.model;
        Ok(Self {
            id: m.id,
            employee_no: m.employee_no.clone(),
            name: m.name.clone(),
            kana: m.kana.clone(),
            email: m.email.clone(),
            portal_login_id: m.portal_login_id.clone(),
            section_id: m.section_id,
            department_id: r.department_id,
            grade: m.grade.clone(),
            post: m.post.clone(),
            post_since: m.post_since,
            hire_date: m.hire_date,
            hired_fiscal_year: FiscalYear::containing(m.hire_date).year(),
            promotions: r.promotions(),
            employment_type: m.employment_type()?.into(),
            retirement_date: m.retirement_date,
            tags: r.tags(),
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// An employee to create, or the full new state of one to update.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "employee_no": "1001",
    "name": "伊勢原 太郎",
    "kana": "イセハラ タロウ",
    "email": "taro.isehara@example.jp",
    "portal_login_id": "isehara.taro",
    "section_id": "01939a4e-7c1a-7d2e-8f00-0000000000a1",
    "grade": "主任",
    "hire_date": "2019-04-01",
    "promotions": {"主任": "2023-04-01"},
    "employment_type": "regular",
    "tags": ["防災担当"]
}))]
pub struct EmployeeInput {
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub employee_no: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub kana: String,
    #[validate(length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// desknet's NEO login id.
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub portal_login_id: Option<String>,
    pub section_id: Uuid,
    #[validate(length(min = 1, max = 60))]
    #[schema(min_length = 1, max_length = 60)]
    pub grade: String,
    #[validate(length(max = 80))]
    #[schema(max_length = 80)]
    pub post: Option<String>,
    /// 役職発令日; needs `post`.
    pub post_since: Option<NaiveDate>,
    pub hire_date: NaiveDate,
    #[serde(default)]
    pub promotions: BTreeMap<String, NaiveDate>,
    #[serde(default)]
    pub employment_type: Option<EmploymentTypeDto>,
    pub retirement_date: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 30))]
    #[schema(max_items = 30)]
    pub tags: Vec<String>,
    /// Only on update: false marks the employee inactive (left the roster).
    #[serde(default)]
    pub active: Option<bool>,
}

impl EmployeeInput {
    fn into_data(
        self,
        state_ladder: &kenshu_domain::org::GradeLadder,
    ) -> ApiResult<(EmployeeData, Uuid, bool)> {
        self.validate()?;
        let fields = EmployeeFields {
            employee_no: self.employee_no,
            name: self.name,
            kana: self.kana,
            email: self.email,
            portal_login_id: self.portal_login_id,
            grade: self.grade,
            post: self.post,
            post_since: self.post_since,
            hire_date: Some(self.hire_date),
            promotions: self.promotions.into_iter().collect(),
            employment_type: self.employment_type.map(|t| EmploymentType::from(t).as_str().to_string()),
            retirement_date: self.retirement_date,
            tags: self.tags,
        };
        let data = EmployeeData::validate(fields, state_ladder).map_err(ApiError::Validation)?;
        Ok((data, self.section_id, self.active.unwrap_or(true)))
    }
}

/// 雇用形態: regular (正規), reemployed (再任用), fixed_term (会計年度任用).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentTypeDto {
    Regular,
    Reemployed,
    FixedTerm,
}

impl From<EmploymentType> for EmploymentTypeDto {
    fn from(t: EmploymentType) -> Self {
        match t {
            EmploymentType::Regular => Self::Regular,
            EmploymentType::Reemployed => Self::Reemployed,
            EmploymentType::FixedTerm => Self::FixedTerm,
        }
    }
}

impl From<EmploymentTypeDto> for EmploymentType {
    fn from(t: EmploymentTypeDto) -> Self {
        match t {
            EmploymentTypeDto::Regular => Self::Regular,
            EmploymentTypeDto::Reemployed => Self::Reemployed,
            EmploymentTypeDto::FixedTerm => Self::FixedTerm,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmployeeSortParam {
    #[default]
    EmployeeNo,
    Kana,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListEmployeesQuery {
    pub section_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    /// 職級, exactly.
    pub grade: Option<String>,
    /// Employees holding this tag.
    pub tag: Option<String>,
    /// Hired in this fiscal year (April–March).
    #[param(minimum = 1989, maximum = 2200)]
    pub hired_fiscal_year: Option<i32>,
    /// Text search in number, name and kana; full-width, half-width and hiragana match alike.
    pub q: Option<String>,
    /// Include employees who have left the roster.
    #[serde(default)]
    pub include_inactive: bool,
    #[serde(default)]
    pub sort: EmployeeSortParam,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeePage {
    pub items: Vec<EmployeeDto>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// List employees the caller may see.
#[utoipa::path(get, operation_id = "list_employees", path = "/api/v1/employees", tag = "employees", params(ListEmployeesQuery),
    responses((status = 200, body = EmployeePage),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<ListEmployeesQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ListEmployees)?;
    let q = q.into_inner();
    let (sort, scope) = match q.sort {
        EmployeeSortParam::EmployeeNo => (EmployeeSort::EmployeeNo, "employees:no"),
        EmployeeSortParam::Kana => (EmployeeSort::Kana, "employees:kana"),
    };
    let page = page_request(scope, q.limit, q.cursor.as_deref())?;
    let hired_in = match q.hired_fiscal_year {
        Some(y) => Some(fiscal_year("hired_fiscal_year", y)?),
        None => None,
    };
    let filter = EmployeeFilter {
        section_id: q.section_id,
        department_id: q.department_id,
        grade: q.grade,
        tag: q.tag.map(|t| kenshu_domain::text::normalize(&t)),
        hired_in,
        q: q.q,
        include_inactive: q.include_inactive,
        sort,
    };
    let visibility = auth.principal.employee_visibility();
    let result = repo::list(state.db.conn(), auth.principal.org_id, &visibility, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(EmployeePage {
        items: result.items.iter().map(EmployeeDto::of).collect::<ApiResult<_>>()?,
        next_cursor: encode_cursor(scope, result.next),
    }))
}

/// Read one employee.
#[utoipa::path(get, operation_id = "get_employee", path = "/api/v1/employees/{id}", tag = "employees", params(("id" = Uuid, Path)),
    responses((status = 200, body = EmployeeDto, headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 404, description = "No such employee in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let record = repo::get_kept(&state.db, auth.principal.org_id, *id).await?;
    authorize(&auth.principal, Action::ReadEmployee(&record.placement()))?;
    Ok(json_with_etag(StatusCode::OK, record.model.version, &EmployeeDto::of(&record)?))
}

/// Add an employee (HR).
#[utoipa::path(post, operation_id = "create_employee", path = "/api/v1/employees", tag = "employees", request_body = EmployeeInput,
    responses((status = 201, body = EmployeeDto, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The employee number is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<EmployeeInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteEmployee)?;
    let ladder = org::ladder(state.db.conn(), auth.principal.org_id).await?;
    let (data, section_id, _) = body.into_inner().into_data(&ladder)?;
    let txn = state.db.begin_write().await?;
    let record = repo::create(&txn, &auth.actor(), &data, section_id).await?;
    txn.commit().await?;
    let location = format!("/api/v1/employees/{}", record.model.id);
    Ok(created(record.model.version, &location, &EmployeeDto::of(&record)?))
}

/// Replace an employee's data (HR). Requires `If-Match` with the ETag read. A transfer or a
/// leaving (`active: false`) carries through as in a roster import: a leaver's places on courses
/// still to come are released (the waiting lists move up, and those told), and a leaver is no
/// longer reminded of reports owed. The answer is the employee, with what the change leaves for
/// the office: units a moved head still leads (`heads_elsewhere`) and study groups a leaver
/// represented (`groups_to_hand_over`).
#[utoipa::path(put, operation_id = "update_employee", path = "/api/v1/employees/{id}", tag = "employees", request_body = EmployeeInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version read")),
    responses((status = 200, body = EmployeeUpdated, headers(("ETag" = String))),
        (status = 400, description = "Malformed If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such employee", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The employee number is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<EmployeeInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteEmployee)?;
    // Existence before preconditions: another organisation's id is simply not found.
    repo::get(state.db.conn(), auth.principal.org_id, *id).await?;
    let version = if_match(&req)?;
    let ladder = org::ladder(state.db.conn(), auth.principal.org_id).await?;
    let (data, section_id, active) = body.into_inner().into_data(&ladder)?;
    let txn = state.db.begin_write().await?;
    let actor = auth.actor();
    let (record, moved) = repo::update(&txn, &actor, *id, &version, &data, section_id, active).await?;
    // One employee's transfer or leaving carries through as a roster import's would.
    let carried = match moved {
        Some(moved) => kenshu_persistence::repo::cascade::roster_moved(&txn, &actor, &[moved]).await?,
        None => Default::default(),
    };
    txn.commit().await?;
    let answer = EmployeeUpdated {
        employee: EmployeeDto::of(&record)?,
        heads_elsewhere: carried.heads_elsewhere.iter().map(HeadElsewhereDto::of).collect(),
        groups_to_hand_over: carried.groups_to_hand_over,
    };
    Ok(json_with_etag(StatusCode::OK, record.model.version, &answer))
}
