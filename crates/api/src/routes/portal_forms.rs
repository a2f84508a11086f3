//! ポータル様式: forms staff fill in desknet's NEO (AppSuite apps) feeding the workflows. The
//! training office sets up each form (its kind, its app, which part carries which value); the
//! app's webhook posts each added or updated record here; what cannot be applied is listed and
//! can be replayed once the mapping or the data is right.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::notice::NoticeItem;
use kenshu_domain::portal_form::{change_key, Change, EmployeeIs, FieldMap, FormKind, InboundState};
use kenshu_domain::Words;
use kenshu_persistence::entities::{portal_form, portal_inbound};
use kenshu_persistence::repo::portal::{self as repo, FormData, InboundFilter, Received, Stored};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{created, encode_cursor, if_match, json_with_etag, page_request, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// A portal form as the training office writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "absence_notice", "name": "研修講座欠席届", "app_id": "12",
    "fields": {"employee": "登録者", "course": "研修名", "session": "研修日", "kind": "区分", "reason": "理由", "arrives_at": "到着予定時刻", "leaves_at": "退出予定時刻"},
    "employee_is": "login_id"
}))]
pub struct FormInput {
    pub kind: FormKind,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The AppSuite app's id (アプリケーションID), as its webhooks send it.
    #[schema(min_length = 1, max_length = 100)]
    pub app_id: String,
    /// Which part (部品名) carries each value the kind needs: `employee` and `course` always;
    /// `session`, `kind` and `reason` for an absence notice (`arrives_at`, `leaves_at` for late
    /// arrivals and early leaves); `learned` and `application` for a report (`comments`,
    /// `submit`); optionally `fiscal_year`, and `session`/`reason` for an application.
    pub fields: BTreeMap<String, String>,
    /// What the employee part holds (default: the portal login id; map it to 登録者).
    #[serde(default)]
    pub employee_is: EmployeeIs,
    /// Switched off, its webhooks are refused (409) and nothing is stored.
    #[serde(default = "switched_on")]
    pub enabled: bool,
    /// On a change: issue a new access token (returned once); the old one stops working.
    #[serde(default)]
    pub rotate_token: bool,
}

fn switched_on() -> bool {
    true
}

/// A portal form. `access_token` is shown only when issued (set up, or rotated).
#[derive(Debug, Serialize, ToSchema)]
pub struct FormDto {
    pub id: Uuid,
    pub kind: FormKind,
    pub name: String,
    pub app_id: String,
    pub fields: BTreeMap<String, String>,
    pub employee_is: EmployeeIs,
    pub enabled: bool,
    /// Where the app's 自動処理 (Webhook) posts: this path on the service's address.
    pub webhook_path: String,
    /// The access token to enter in the app's webhook settings (アクセストークン): shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl FormDto {
    fn of(f: &portal_form::Model, access_token: Option<String>) -> ApiResult<Self> {
        Ok(Self {
            id: f.id,
            kind: f.kind()?,
            name: f.name.clone(),
            app_id: f.app_id.clone(),
            fields: repo::fields_of(f)?.to_raw(),
            employee_is: f.employee_is()?,
            enabled: f.enabled,
            webhook_path: format!("/api/v1/portal-forms/{}/webhook", f.id),
            access_token,
            version: f.version,
            created_at: f.created_at,
            updated_at: f.updated_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormList {
    pub items: Vec<FormDto>,
}

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A new access token: 244 random bits.
fn new_token() -> String {
    format!("kpf_{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

fn form_data(input: &FormInput, token_digest: Option<String>) -> ApiResult<FormData> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(kenshu_domain::FieldError::length("name", "must be 1 to 100 characters"));
    }
    let app_id = input.app_id.trim().to_string();
    if app_id.is_empty() || app_id.chars().count() > 100 {
        errors.push(kenshu_domain::FieldError::length("app_id", "must be 1 to 100 characters"));
    }
    let fields = match FieldMap::validate(input.kind, &input.fields) {
        Ok(f) => Some(f),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    match fields {
        Some(fields) if errors.is_empty() => Ok(FormData {
            kind: input.kind,
            name,
            app_id,
            fields,
            employee_is: input.employee_is,
            enabled: input.enabled,
            token_digest,
        }),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// The organisation's portal forms (HR).
#[utoipa::path(get, operation_id = "list_portal_forms", path = "/api/v1/portal-forms", tag = "portal",
    responses((status = 200, body = FormList)))]
pub async fn list_forms(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManagePortalForms)?;
    let rows = repo::forms(state.db.conn(), auth.principal.org_id).await?;
    let items = rows.iter().map(|f| FormDto::of(f, None)).collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(FormList { items }))
}

/// Set up a portal form (HR). The answer carries the webhook's path and its access token, once.
#[utoipa::path(post, operation_id = "create_portal_form", path = "/api/v1/portal-forms", tag = "portal",
    request_body = FormInput,
    responses((status = 201, body = FormDto),
        (status = 409, description = "A form of this name, or for this app, exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a mapping without a value the kind needs", body = Problem, content_type = "application/problem+json")))]
pub async fn create_form(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<FormInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManagePortalForms)?;
    let token = new_token();
    let data = form_data(&body, Some(digest(&token)))?;
    let txn = state.db.begin_write().await?;
    let f = repo::create_form(&txn, &auth.actor(), data).await?;
    txn.commit().await?;
    Ok(created(f.version, &format!("/api/v1/portal-forms/{}", f.id), &FormDto::of(&f, Some(token))?))
}

/// One portal form (HR).
#[utoipa::path(get, operation_id = "get_portal_form", path = "/api/v1/portal-forms/{id}", tag = "portal",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = FormDto),
        (status = 404, description = "No such form", body = Problem, content_type = "application/problem+json")))]
pub async fn get_form(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManagePortalForms)?;
    let f = repo::form(state.db.conn(), auth.principal.org_id, *id).await?;
    Ok(json_with_etag(StatusCode::OK, f.version, &FormDto::of(&f, None)?))
}

/// Change a portal form (HR, If-Match): its kind stays. `rotate_token` issues a new access token.
#[utoipa::path(put, operation_id = "update_portal_form", path = "/api/v1/portal-forms/{id}", tag = "portal",
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the form read")),
    request_body = FormInput,
    responses((status = 200, body = FormDto),
        (status = 404, description = "No such form", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A form of this name, or for this app, exists", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or another kind", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_form(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<FormInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManagePortalForms)?;
    let expected = if_match(&req)?;
    let token = body.rotate_token.then(new_token);
    let data = form_data(&body, token.as_deref().map(digest))?;
    let txn = state.db.begin_write().await?;
    let f = repo::update_form(&txn, &auth.actor(), *id, &expected, data).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, f.version, &FormDto::of(&f, token)?))
}

/// What an AppSuite app's webhook posts (Webhook仕様): the record added or updated, its app,
/// and the access token set in the app's 自動処理.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "app_id": "12", "data_id": "345", "type": "added", "app_name": "研修講座欠席届",
    "action_name": "Kenshu連携", "access_token": "kpf_…", "url": "https://neo.city.isehara.example/cgi-bin/dneo/zap.cgi?…",
    "data": {"登録者": {"value": [{"login_id": "yamaguchi", "name": "山口 花子"}]}, "研修名": {"value": "12"}, "研修日": {"value": "2023/07/12"}, "区分": {"value": "欠席"}, "理由": {"value": "災害対応のため"}}
}))]
pub struct WebhookBody {
    /// A string or a number.
    #[schema(value_type = String)]
    pub app_id: serde_json::Value,
    /// A string or a number.
    #[schema(value_type = String)]
    pub data_id: serde_json::Value,
    /// `added` or `updated`.
    #[serde(rename = "type")]
    pub change: String,
    /// The record's parts by name, each `{"value": …}`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[schema(write_only)]
    pub access_token: String,
    pub app_name: Option<String>,
    pub action_name: Option<String>,
    pub url: Option<String>,
    pub external_url: Option<String>,
}

/// A received change and what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundDto {
    pub id: Uuid,
    pub form_id: Uuid,
    pub data_id: String,
    pub change: Change,
    pub state: InboundState,
    /// Why it could not be applied.
    pub reason: Option<String>,
    /// The item it filed or corrected.
    pub item: Option<NoticeItem>,
    pub attempts: i32,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
    /// The webhook as received, less its access token (for the list and one change; not in the
    /// webhook's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
}

impl InboundDto {
    fn of(r: &portal_inbound::Model, with_payload: bool) -> ApiResult<Self> {
        Ok(Self {
            id: r.id,
            form_id: r.form_id,
            data_id: r.data_id.clone(),
            change: r.change()?,
            state: r.state()?,
            reason: r.reason.clone(),
            item: r.item()?.map(|(kind, id)| NoticeItem { kind, id }),
            attempts: r.attempts,
            received_at: r.received_at,
            processed_at: r.processed_at,
            payload: with_payload
                .then(|| serde_json::from_str(&r.payload))
                .transpose()
                .map_err(|e| ApiError::Internal(format!("stored portal payload: {e}")))?,
        })
    }
}

/// What the webhook's answer says.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// false when the same change had been received before: nothing was changed again.
    pub first_delivery: bool,
    pub change: InboundDto,
}

fn id_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty() && s.chars().count() <= 100)
}

/// Same length, same bytes, in time independent of where they differ.
fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The webhook of a form's AppSuite app (no bearer token: the body's `access_token` is the
/// form's). Every change is stored before it is applied, and applied once: the same change
/// delivered again answers 200 with `first_delivery: false` and changes nothing. An `added`
/// record is filed as the employee it names would file it through the API; an `updated` one
/// corrects what it filed while that is a draft or returned (and files it again), and is refused
/// once it has moved on. What cannot be applied answers 422 `portal-change-failed` with the
/// reason (the portal keeps it in its error log) and is kept for the training office to replay.
#[utoipa::path(post, operation_id = "portal_form_webhook", path = "/api/v1/portal-forms/{id}/webhook", tag = "portal",
    params(("id" = Uuid, Path)), request_body = WebhookBody, security(()),
    responses((status = 200, body = WebhookAnswer),
        (status = 401, description = "The access token is not this form's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such form", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The form is switched off", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a webhook of this form's app (`validation`; nothing stored), or stored and not applicable (`portal-change-failed`, with the reason)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Stored; applying it failed on our side and is retried", body = Problem, content_type = "application/problem+json")))]
pub async fn webhook(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: Json<WebhookBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let form = repo::form_for_webhook(state.db.conn(), *id).await?.ok_or(ApiError::NotFound)?;
    if !same_digest(&digest(&body.access_token), &form.token_digest) {
        return Err(ApiError::Unauthorized(Words::fixed(
            "the access token is not this form's",
            "このフォームのアクセストークンではありません",
        )));
    }
    if !form.enabled {
        return Err(ApiError::Conflict(Words::fixed(
            "the form is switched off in Kenshu",
            "この様式は Kenshu で無効になっています",
        )));
    }
    let mut errors = Vec::new();
    let mut bad = |error: kenshu_domain::FieldError| errors.push(error);
    let app_id = id_text(&body.app_id);
    if app_id.as_deref() != Some(form.app_id.as_str()) {
        bad(kenshu_domain::FieldError::conflict(
            "app_id",
            format!("this form takes the webhooks of app {}", form.app_id),
        ));
    }
    let data_id = id_text(&body.data_id);
    if data_id.is_none() {
        bad(kenshu_domain::FieldError::required("data_id", "must be the record's id"));
    }
    let change = Change::parse(&body.change);
    if change.is_none() {
        bad(kenshu_domain::FieldError::unknown_value("type", "must be added or updated"));
    }
    if !body.data.is_object() {
        bad(kenshu_domain::FieldError::format("data", "must be the record's parts"));
    }
    let (Some(data_id), Some(change), true) = (data_id, change, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let content = digest(&body.data.to_string());
    let payload = serde_json::json!({
        "app_id": body.app_id, "data_id": body.data_id, "type": body.change, "data": body.data,
        "app_name": body.app_name, "action_name": body.action_name, "url": body.url,
        "external_url": body.external_url,
    });
    let received = Received {
        change_key: change_key(&data_id, change, &content),
        data_id,
        change,
        payload: payload.to_string(),
        at: state.clock.now(),
    };
    let (first_delivery, row) = match repo::receive(state.db.conn(), &form, received).await? {
        Stored::New(row) => (true, crate::portal_inbox::apply(&state, form.org_id, row.id).await?),
        Stored::Repeated(row) => (false, row),
    };
    if row.state()? == InboundState::Failed {
        return Err(ApiError::PortalChangeFailed {
            id: row.id,
            reason: row.reason.clone().unwrap_or_default(),
        });
    }
    Ok(HttpResponse::Ok().json(WebhookAnswer { first_delivery, change: InboundDto::of(&row, false)? }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Which changes (default: failed).
    pub state: Option<InboundState>,
    /// One form's only.
    pub form_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboundDto>,
    pub next_cursor: Option<String>,
}

/// Changes received from the portal's forms, oldest first: by default those that could not be
/// applied, with the reason (HR).
#[utoipa::path(get, operation_id = "list_portal_inbox", path = "/api/v1/portal-inbox", tag = "portal",
    params(InboxQuery),
    responses((status = 200, body = InboxPage),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn list_inbox(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<InboxQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManagePortalForms)?;
    let filter = InboundFilter { state: Some(q.state.unwrap_or(InboundState::Failed)), form_id: q.form_id };
    let scope = format!(
        "portal-inbox:{}:{}",
        filter.state.map(InboundState::as_str).unwrap_or_default(),
        filter.form_id.map(|f| f.to_string()).unwrap_or_default()
    );
    let page = page_request(&scope, q.limit, q.cursor.as_deref())?;
    let result = repo::list(state.db.conn(), auth.principal.org_id, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(InboxPage {
        items: result.items.iter().map(|r| InboundDto::of(r, true)).collect::<ApiResult<_>>()?,
        next_cursor: encode_cursor(&scope, result.next),
    }))
}

/// One received change, with the webhook as received (HR).
#[utoipa::path(get, operation_id = "get_portal_change", path = "/api/v1/portal-inbox/{id}", tag = "portal",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = InboundDto),
        (status = 404, description = "No such change", body = Problem, content_type = "application/problem+json")))]
pub async fn get_change(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManagePortalForms)?;
    let row = repo::inbound(state.db.conn(), auth.principal.org_id, *id).await?;
    Ok(HttpResponse::Ok().json(InboundDto::of(&row, true)?))
}

/// Apply a change again (HR), once the form's mapping, the roster or the catalogue is put right:
/// by the form's mapping as it is now. A change applied already is a 409.
#[utoipa::path(post, operation_id = "replay_portal_change", path = "/api/v1/portal-inbox/{id}/replay", tag = "portal",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Applied, or failed again with the reason", body = InboundDto),
        (status = 404, description = "No such change", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Applied already (`invalid-transition`)", body = Problem, content_type = "application/problem+json")))]
pub async fn replay(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManagePortalForms)?;
    let org_id = auth.principal.org_id;
    let row = repo::inbound(state.db.conn(), org_id, *id).await?;
    let current = row.state()?;
    if !current.may_replay() {
        return Err(ApiError::InvalidTransition {
            state: current.as_str().into(),
            message: format!("a change that is {} is not applied again", current.as_str()),
        });
    }
    let txn = state.db.begin_write().await?;
    repo::record_replay(&txn, &auth.actor(), &row).await?;
    txn.commit().await?;
    let after = crate::portal_inbox::apply(&state, org_id, row.id).await?;
    Ok(HttpResponse::Ok().json(InboundDto::of(&after, true)?))
}
