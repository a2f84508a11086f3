//! 自主研究グループ助成: a group of staff registers for a fiscal year, files its activity plan
//! (活動計画書) with a planned budget; HR grants at most ¥30,000 within the year's budget; at the
//! end of the year the group files its statement of accounts (決算書) and activity report
//! (活動報告書) and HR settles the grant against the spending.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::auth::{authorize, Action, Role};
use kenshu_domain::calendar::tokyo_date;
use kenshu_domain::spreadsheet::Table;
use kenshu_domain::subsidy::GroupState;
use kenshu_domain::FieldError;
use kenshu_persistence::entities::study_group;
use kenshu_persistence::repo::employee as employee_repo;
use kenshu_persistence::repo::employee::{employees_by_id, EmployeeRef, Placed};
use kenshu_persistence::repo::study_group::{self as repo, group_members, GroupMove, NewGroup};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{created, fiscal_year, if_match, json_with_etag, required_text, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::files::ListFile;
use crate::routes::shared::EmployeeRefDto;
use crate::state::AppState;

/// A study group and its grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudyGroupDto {
    pub id: Uuid,
    pub fiscal_year: i32,
    pub name: String,
    pub theme: String,
    pub representative: EmployeeRefDto,
    /// False once the representative has left (退職): nobody files for the group until the
    /// representative or HR hands it over (`PUT /study-groups/{id}/members`).
    pub representative_on_roster: bool,
    /// Every member, the representative included, by employee number.
    pub members: Vec<EmployeeRefDto>,
    /// The members who have left (退職), by employee number, the representative included: still
    /// listed until the representative or HR takes them off (`PUT /study-groups/{id}/members`).
    pub members_left: Vec<String>,
    pub state: GroupState,
    /// 活動計画書
    pub plan: Option<String>,
    pub planned_yen: Option<i64>,
    /// 交付決定額
    pub approved_yen: Option<i64>,
    /// 決算書: what the group spent.
    pub spent_yen: Option<i64>,
    /// 活動報告書
    pub report: Option<String>,
    /// 精算額: the grant against the spending, never more than approved.
    pub settled_yen: Option<i64>,
    /// Why it was rejected.
    pub comment: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub settled_by: Option<String>,
    pub settled_at: Option<DateTime<Utc>>,
    pub version: i32,
}

async fn view(state: &AppState, g: &study_group::Model) -> ApiResult<StudyGroupDto> {
    let staff = employees_by_id(state.db.conn(), g.org_id, &group_members(g)).await?;
    render(g, &staff)
}

/// A group as shown, with its members found in `staff` (read once for a whole list).
fn render(
    g: &study_group::Model,
    staff: &std::collections::HashMap<Uuid, Placed>,
) -> ApiResult<StudyGroupDto> {
    let mut members: Vec<EmployeeRef> =
        group_members(g).iter().filter_map(|id| staff.get(id)).map(|e| e.employee.clone()).collect();
    members.sort_by(|a, b| a.employee_no.cmp(&b.employee_no));
    members.dedup_by(|a, b| a.id == b.id);
    let rep = members.iter().find(|m| m.id == g.representative_id).cloned().ok_or(ApiError::NotFound)?;
    Ok(StudyGroupDto {
        id: g.id,
        fiscal_year: g.fiscal_year,
        name: g.name.clone(),
        theme: g.theme.clone(),
        representative: EmployeeRefDto::from(&rep),
        representative_on_roster: staff.get(&g.representative_id).is_some_and(|p| p.active),
        members_left: members
            .iter()
            .filter(|m| staff.get(&m.id).is_some_and(|p| !p.active))
            .map(|m| m.employee_no.clone())
            .collect(),
        members: members.iter().map(EmployeeRefDto::from).collect(),
        state: g.state()?,
        plan: g.plan.clone(),
        planned_yen: g.planned_yen,
        approved_yen: g.approved_yen,
        spent_yen: g.spent_yen,
        report: g.report.clone(),
        settled_yen: g.settled_yen,
        comment: g.comment.clone(),
        approved_by: g.approved_by.clone(),
        approved_at: g.approved_at,
        settled_by: g.settled_by.clone(),
        settled_at: g.settled_at,
        version: g.version,
    })
}

/// Who the caller is to a group.
struct Standing {
    representative: bool,
    /// A member, HR or an auditor.
    sees: bool,
}

fn standing(auth: &Auth, g: &study_group::Model) -> Standing {
    let me = auth.principal.employee.as_ref().map(|e| e.employee_id);
    let member = me.is_some_and(|id| group_members(g).contains(&id));
    Standing {
        representative: me == Some(g.representative_id),
        sees: member || authorize(&auth.principal, Action::ReadResults).is_ok(),
    }
}

fn yen(field: &str, value: i64, errors: &mut Vec<FieldError>) -> i64 {
    if !(0..=10_000_000).contains(&value) {
        errors.push(FieldError::range(field, "whole yen from 0 to 10,000,000"));
    }
    value
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"fiscal_year": 2023, "name": "窓口サービス研究会", "theme": "窓口の待ち時間短縮", "member_nos": ["10010", "10011"]}))]
pub struct NewGroupInput {
    pub fiscal_year: i32,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 研究テーマ
    #[schema(min_length = 1, max_length = 1000)]
    pub theme: String,
    /// The other members' employee numbers (the caller is the representative): 1 to 29.
    #[schema(min_items = 1, max_items = 29)]
    pub member_nos: Vec<String>,
}

/// Register a study group for a fiscal year; the caller is its representative (代表者).
#[utoipa::path(post, operation_id = "create_study_group", path = "/api/v1/study-groups", tag = "subsidies",
    request_body = NewGroupInput,
    responses((status = 201, body = StudyGroupDto, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "A group of that name is registered this year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or members not on the roster", body = Problem, content_type = "application/problem+json")))]
pub async fn create_group(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<NewGroupInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::Apply)?;
    let me = auth.principal.employee.ok_or(ApiError::Forbidden)?;
    let org_id = auth.principal.org_id;
    let body = body.into_inner();
    let fy = fiscal_year("fiscal_year", body.fiscal_year)?;
    let mut errors = Vec::new();
    let name = required_text("name", &body.name, 100, &mut errors);
    let theme = required_text("theme", &body.theme, 1000, &mut errors);
    let members = members_of(&state, org_id, me.employee_id, &body.member_nos, &mut errors).await?;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let txn = state.db.begin_write().await?;
    let group = NewGroup { fiscal_year: fy.year(), name, theme, representative_id: me.employee_id, members };
    let g = repo::create_group(&txn, &auth.actor(), group).await?;
    txn.commit().await?;
    Ok(created(g.version, &format!("/api/v1/study-groups/{}", g.id), &view(&state, &g).await?))
}

/// A group's members, the representative first: `nos` are the others (`member_nos`), 1 to 29,
/// each on the roster (not left) and named once. Faults go to `errors`.
async fn members_of(
    state: &AppState,
    org_id: Uuid,
    representative: Uuid,
    nos: &[String],
    errors: &mut Vec<FieldError>,
) -> ApiResult<Vec<Uuid>> {
    if nos.is_empty() || nos.len() > 29 {
        errors.push(FieldError::length(
            "member_nos",
            "a group has 2 to 30 members: name 1 to 29 besides the representative",
        ));
    }
    let mut members = vec![representative];
    for (i, no) in nos.iter().enumerate() {
        let field = format!("member_nos[{i}]");
        match on_roster(state, org_id, &field, no, errors).await? {
            Some(id) if members.contains(&id) => {
                errors.push(FieldError::duplicate(field, format!("{} is named twice", no.trim())))
            }
            Some(id) => members.push(id),
            None => {}
        }
    }
    Ok(members)
}

/// The employee numbered `no`, if on the roster and not left; otherwise a fault on `field`.
async fn on_roster(
    state: &AppState,
    org_id: Uuid,
    field: &str,
    no: &str,
    errors: &mut Vec<FieldError>,
) -> ApiResult<Option<Uuid>> {
    match employee_repo::find_by_no(state.db.conn(), org_id, no.trim()).await? {
        Some(e) if e.model.active => Ok(Some(e.model.id)),
        Some(_) => {
            errors.push(FieldError::not_found(
                field,
                format!("{} is no longer on the roster (退職)", no.trim()),
            ));
            Ok(None)
        }
        None => {
            errors.push(FieldError::not_found(field, format!("no employee {} on the roster", no.trim())));
            Ok(None)
        }
    }
}

/// Read a group: its members, HR and auditors.
#[utoipa::path(get, operation_id = "get_study_group", path = "/api/v1/study-groups/{id}", tag = "subsidies",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = StudyGroupDto, headers(("ETag" = String))),
        (status = 404, description = "No such group in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn get_group(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let g = repo::get_group(state.db.conn(), auth.principal.org_id, *id).await?;
    if !standing(&auth, &g).sees {
        return Err(ApiError::Forbidden);
    }
    Ok(json_with_etag(StatusCode::OK, g.version, &view(&state, &g).await?))
}

/// 活動計画書 and its budget, as a group submits them (not the training plan's `PlanInput`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"plan": "月1回の勉強会と先進市視察", "planned_yen": 45000}))]
pub struct StudyGroupPlanInput {
    /// 活動計画書
    #[schema(min_length = 1, max_length = 4000)]
    pub plan: String,
    /// The planned budget (yen).
    #[schema(minimum = 0, maximum = 10000000)]
    pub planned_yen: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"spent_yen": 27480, "report": "視察報告を課内で共有した"}))]
pub struct SettlementInput {
    /// 決算書: what the group spent (yen).
    #[schema(minimum = 0, maximum = 10000000)]
    pub spent_yen: i64,
    /// 活動報告書
    #[schema(min_length = 1, max_length = 4000)]
    pub report: String,
}

async fn apply(
    state: &AppState,
    auth: &Auth,
    req: &HttpRequest,
    g: &study_group::Model,
    mv: GroupMove,
) -> ApiResult<HttpResponse> {
    let version = if_match(req)?;
    let txn = state.db.begin_write().await?;
    let after = repo::move_group(&txn, &auth.actor(), g, &version, mv).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, after.version, &view(state, &after).await?))
}

/// File (or refile, until HR decides) the activity plan with its budget: the representative.
#[utoipa::path(put, operation_id = "file_study_group_plan", path = "/api/v1/study-groups/{id}/plan", tag = "subsidies",
    request_body = StudyGroupPlanInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the group read")),
    responses((status = 200, body = StudyGroupDto, headers(("ETag" = String))),
        (status = 404, description = "No such group in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The grant is decided (`invalid-transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn file_plan(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<StudyGroupPlanInput>,
) -> ApiResult<HttpResponse> {
    let g = repo::get_group(state.db.conn(), auth.principal.org_id, *id).await?;
    if !standing(&auth, &g).representative {
        return Err(ApiError::Forbidden);
    }
    let mut errors = Vec::new();
    let plan = required_text("plan", &body.plan, 4000, &mut errors);
    let planned_yen = yen("planned_yen", body.planned_yen, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    apply(&state, &auth, &req, &g, GroupMove::Plan { plan, planned_yen }).await
}

/// File the statement of accounts and the activity report: the representative, once granted.
#[utoipa::path(put, operation_id = "file_study_group_settlement", path = "/api/v1/study-groups/{id}/settlement", tag = "subsidies",
    request_body = SettlementInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the group read")),
    responses((status = 200, body = StudyGroupDto, headers(("ETag" = String))),
        (status = 404, description = "No such group in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not granted, or already settled (`invalid-transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn file_settlement(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<SettlementInput>,
) -> ApiResult<HttpResponse> {
    let g = repo::get_group(state.db.conn(), auth.principal.org_id, *id).await?;
    if !standing(&auth, &g).representative {
        return Err(ApiError::Forbidden);
    }
    let mut errors = Vec::new();
    let report = required_text("report", &body.report, 4000, &mut errors);
    let spent_yen = yen("spent_yen", body.spent_yen, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    apply(&state, &auth, &req, &g, GroupMove::Report { spent_yen, report }).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"representative_no": "10010", "member_nos": ["10011", "10012"]}))]
pub struct StudyGroupMembersInput {
    /// 代表者: a member named here or before, or someone new.
    pub representative_no: String,
    /// The other members' employee numbers: 1 to 29.
    #[schema(min_items = 1, max_items = 29)]
    pub member_nos: Vec<String>,
}

/// Change a group's members and representative (`If-Match`), until its grant is settled or
/// refused: the representative, or HR when the representative has left or moved on (代表者の
/// 交代). Everyone named must be on the roster. The new representative files from then on and
/// is told (`study_group_decided`); so is the one replaced, when HR made the change and they are
/// still on the roster.
#[utoipa::path(put, operation_id = "set_study_group_members", path = "/api/v1/study-groups/{id}/members", tag = "subsidies",
    request_body = StudyGroupMembersInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the group read")),
    responses((status = 200, body = StudyGroupDto, headers(("ETag" = String))),
        (status = 403, description = "Neither the group's representative nor HR", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The grant is settled or was refused (`invalid-transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not 1 to 29 other members, someone named twice, or not on the roster", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn set_members(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<StudyGroupMembersInput>,
) -> ApiResult<HttpResponse> {
    let g = repo::get_group(state.db.conn(), auth.principal.org_id, *id).await?;
    let by_representative = standing(&auth, &g).representative;
    if !by_representative && !auth.principal.has(Role::HrAdmin) {
        return Err(ApiError::Forbidden);
    }
    let org_id = auth.principal.org_id;
    let mut errors = Vec::new();
    let representative =
        on_roster(&state, org_id, "representative_no", &body.representative_no, &mut errors).await?;
    // Checked against the representative named (or a placeholder when they were not found, so
    // the other members' faults are still listed).
    let members =
        members_of(&state, org_id, representative.unwrap_or_default(), &body.member_nos, &mut errors).await?;
    let Some(representative_id) = representative.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    apply(&state, &auth, &req, &g, GroupMove::Members { representative_id, members, by_representative }).await
}

/// HR's decisions on a group.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GroupDecision {
    Approve,
    Reject,
    Settle,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "approve", "grant_yen": 30000}))]
pub struct GroupEventInput {
    pub event: GroupDecision,
    /// To approve: the grant, at most ¥30,000 and at most the planned budget.
    #[schema(minimum = 1, maximum = 30000)]
    pub grant_yen: Option<i64>,
    /// To reject: why.
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// HR decides (`If-Match`): `approve` with `grant_yen` (at most ¥30,000, at most the plan, within
/// the remaining study-group budget: otherwise 422, or 409 for the budget), `reject` with a
/// comment, `settle` once the statement is filed (the grant becomes the spending, never more).
#[utoipa::path(post, operation_id = "study_group_event", path = "/api/v1/study-groups/{id}/events", tag = "subsidies",
    request_body = GroupEventInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the group read")),
    responses((status = 200, body = StudyGroupDto, headers(("ETag" = String))),
        (status = 404, description = "No such group in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not from the current state (`invalid-transition`), or the budget would be exceeded", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A grant over ¥30,000 or the plan, or a missing comment", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn group_event(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<GroupEventInput>,
) -> ApiResult<HttpResponse> {
    let g = repo::get_group(state.db.conn(), auth.principal.org_id, *id).await?;
    // HR decides; nobody decides on their own group.
    let mine = auth.principal.employee.as_ref().is_some_and(|e| group_members(&g).contains(&e.employee_id));
    if !auth.principal.has(Role::HrAdmin) || mine {
        return Err(ApiError::Forbidden);
    }
    let body = body.into_inner();
    let mv = match body.event {
        GroupDecision::Approve => {
            let grant_yen = body
                .grant_yen
                .ok_or_else(|| ApiError::validation(FieldError::required("grant_yen", "the grant in yen")))?;
            GroupMove::Approve { grant_yen }
        }
        GroupDecision::Reject => {
            let comment = body.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
            match comment {
                Some(c) if c.chars().count() <= 1000 => GroupMove::Reject { comment: c },
                _ => {
                    return Err(ApiError::validation(FieldError::length(
                        "comment",
                        "say why, in at most 1000 characters",
                    )))
                }
            }
        }
        GroupDecision::Settle => GroupMove::Settle,
    };
    apply(&state, &auth, &req, &g, mv).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StudyGroupList {
    /// By fiscal year and name.
    pub items: Vec<StudyGroupDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupListQuery {
    pub fiscal_year: Option<i32>,
}

/// 自主研究グループ as a table: one row per group, its members by number and name.
fn group_table(items: &[StudyGroupDto]) -> Table {
    let mut table = Table::new(
        "自主研究グループ",
        &[
            "年度",
            "グループ名",
            "研究テーマ",
            "代表者職員番号",
            "代表者",
            "人数",
            "構成員",
            "状態",
            "計画額",
            "交付決定額",
            "決算額",
            "精算額",
            "交付決定日",
            "精算日",
        ],
    );
    for g in items {
        let members: Vec<String> =
            g.members.iter().map(|m| format!("{} {}", m.employee_no, m.name)).collect();
        table.push(vec![
            g.fiscal_year.into(),
            (&g.name).into(),
            (&g.theme).into(),
            (&g.representative.employee_no).into(),
            (&g.representative.name).into(),
            (g.members.len() as u64).into(),
            members.join("、").into(),
            g.state.japanese().into(),
            g.planned_yen.into(),
            g.approved_yen.into(),
            g.spent_yen.into(),
            g.settled_yen.into(),
            g.approved_at.map(tokyo_date).into(),
            g.settled_at.map(tokyo_date).into(),
        ]);
    }
    table
}

async fn group_list(
    state: &AppState,
    auth: &Auth,
    q: &GroupListQuery,
    only_mine: bool,
    file: &ListFile,
) -> ApiResult<HttpResponse> {
    let fy = q.fiscal_year.map(|y| fiscal_year("fiscal_year", y)).transpose()?.map(|f| f.year());
    let me = auth.principal.employee.as_ref().map(|e| e.employee_id);
    let groups: Vec<study_group::Model> = repo::list_groups(state.db.conn(), auth.principal.org_id, fy)
        .await?
        .into_iter()
        .filter(|g| !only_mine || me.is_some_and(|id| group_members(g).contains(&id)))
        .collect();
    // Every group's members in one read, not one per group.
    let ids: Vec<Uuid> = groups.iter().flat_map(group_members).collect();
    let staff = employees_by_id(state.db.conn(), auth.principal.org_id, &ids).await?;
    let items = groups.iter().map(|g| render(g, &staff)).collect::<ApiResult<Vec<_>>>()?;
    if file.file().is_some() {
        return file.download(&group_table(&items), "kenshu-study-groups");
    }
    Ok(HttpResponse::Ok().json(StudyGroupList { items }))
}

/// Every study group (HR, auditors); `format=csv` or `xlsx` for all of them as a file.
#[utoipa::path(get, operation_id = "list_study_groups", path = "/api/v1/study-groups", tag = "subsidies",
    params(GroupListQuery, ListFile),
    responses((status = 200, content((StudyGroupList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, description = "Fiscal year out of range; Shift_JIS cannot hold the list's text", body = Problem, content_type = "application/problem+json")))]
pub async fn list_groups(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<GroupListQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadResults)?;
    group_list(&state, &auth, &q, false, &file).await
}

/// The study groups I am a member of.
#[utoipa::path(get, operation_id = "my_study_groups", path = "/api/v1/me/study-groups", tag = "me",
    params(GroupListQuery),
    responses((status = 200, body = StudyGroupList),
        (status = 422, description = "Fiscal year out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn my_groups(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<GroupListQuery>,
) -> ApiResult<HttpResponse> {
    group_list(&state, &auth, &q, true, &ListFile::default()).await
}
