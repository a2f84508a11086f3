//! 配信チャネル: the training office sets up where notices go besides the service (signed
//! webhooks, the desknet's NEO portal), reads each notice's deliveries and the failures, and
//! delivers again. Secrets are written, never read back.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::delivery::{check_url, ChannelKind, DeliveryState};
use kenshu_domain::notice::NoticeKind;
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use kenshu_persistence::entities::{delivery_attempt, notice_delivery, notification_channel};
use kenshu_persistence::repo::delivery::{self as repo, ChannelData, DeliveryLog, SecretChange};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Auth;
use crate::delivery::{MailSecurity, MailSettings, PortalSettings, WebhookSettings};
use crate::http::{created, encode_cursor, if_match, json_with_etag, page_request, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// What a channel is and how it is reached.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelSettings {
    /// Each notice POSTed as JSON, signed (`Kenshu-Signature`, HMAC-SHA256 over timestamp and
    /// body).
    Webhook(WebhookSettings),
    /// Each notice written into an AppSuite app of desknet's NEO (`insert_data`), for recipients
    /// with a portal login id on the roster.
    Portal(PortalSettings),
    /// Each notice mailed (SMTP with STARTTLS or TLS, and login) to the recipient's address on
    /// the roster; a trainee's place carries its sessions as an invitation (text/calendar).
    Mail(MailSettings),
}

impl ChannelSettings {
    fn kind(&self) -> ChannelKind {
        match self {
            Self::Webhook(_) => ChannelKind::Webhook,
            Self::Portal(_) => ChannelKind::Portal,
            Self::Mail(_) => ChannelKind::Mail,
        }
    }

    fn check(&self) -> ApiResult<()> {
        let url = match self {
            Self::Mail(m) => return check_mail(m),
            Self::Webhook(w) => &w.url,
            Self::Portal(p) => {
                if p.app.trim().is_empty() || p.app.chars().count() > 100 {
                    return Err(ApiError::validation(FieldError::length(
                        "settings.app",
                        "must be 1 to 100 characters: the app id or @identifier",
                    )));
                }
                if !p.url.split(['?', '#']).next().unwrap_or("").ends_with("/appsr.cgi") {
                    return Err(ApiError::validation(FieldError::format(
                        "settings.url",
                        "must be the AppSuite API, …/cgi-bin/dneo/appsr.cgi (the portal's dneo.cgi with appsr.cgi instead)",
                    )));
                }
                &p.url
            }
        };
        check_url(url).map_err(|e| ApiError::validation(FieldError::format("settings.url", e)))
    }
}

fn check_mail(m: &MailSettings) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut bad = |error: FieldError| errors.push(error);
    if m.host.trim().is_empty() || m.host.len() > 253 || m.host.contains(char::is_whitespace) {
        bad(FieldError::format("settings.host", "must be a host name or address"));
    }
    if m.port == 0 {
        bad(FieldError::range("settings.port", "must be between 1 and 65535"));
    }
    if m.security == MailSecurity::None && !kenshu_domain::delivery::is_loopback(&m.host) {
        bad(FieldError::conflict(
            "settings.security",
            "must be starttls or tls (none only for a relay on this machine)",
        ));
    }
    for (field, address) in [
        ("settings.from", Some(&m.from)),
        ("settings.reply_to", m.reply_to.as_ref()),
        ("settings.office_address", m.office_address.as_ref()),
    ] {
        if let Some(a) = address {
            if a.len() > 320 || a.parse::<lettre::message::Mailbox>().is_err() {
                bad(FieldError::format(
                    field,
                    "must be an address, optionally with a name: 研修担当 <kenshu@city.example.jp>",
                ));
            }
        }
    }
    if m.username.as_ref().is_some_and(|u| u.is_empty() || u.len() > 200) {
        bad(FieldError::length("settings.username", "must be 1 to 200 characters"));
    }
    if let Some(pem) = &m.ca_certificate {
        let valid = pem.len() <= 20_000
            && lettre::transport::smtp::client::Certificate::from_pem(pem.as_bytes()).is_ok();
        if !valid {
            bad(FieldError::format("settings.ca_certificate", "must be one PEM certificate"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A channel to set up, or the whole new state of one.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "庁内通知連携", "enabled": true, "kinds": [],
    "settings": {"kind": "webhook", "url": "https://hooks.city.isehara.example/kenshu"},
    "secret": "whsec_5f1e0c9a7b3d4e2f8a6b1c0d"
}))]
pub struct ChannelInput {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Switched off, it takes no new notices and sends none.
    #[serde(default = "switched_on")]
    pub enabled: bool,
    /// The notice kinds it takes; empty (the default): every kind. Notices waiting for a head's
    /// digest never go out alone.
    #[serde(default)]
    #[validate(length(max = 32))]
    #[schema(max_items = 32)]
    pub kinds: Vec<NoticeKind>,
    pub settings: ChannelSettings,
    /// The webhook's signing secret, the portal's access key or the SMTP password: required
    /// when setting up (for mail, when it logs in), optional afterwards (absent keeps it).
    /// Never returned.
    #[validate(length(min = 8, max = 500))]
    #[schema(min_length = 8, max_length = 500, write_only)]
    pub secret: Option<String>,
    /// A webhook's new secret: the one it replaces still signs for this many hours, so
    /// receivers can switch over (default 24; 0 ends it at once).
    #[validate(range(max = 168))]
    #[schema(maximum = 168)]
    pub rotation_hours: Option<u32>,
}

fn switched_on() -> bool {
    true
}

/// A channel as the API shows it: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelDto {
    pub id: Uuid,
    pub name: String,
    pub enabled: bool,
    pub kinds: Vec<NoticeKind>,
    pub settings: ChannelSettings,
    pub secret_set: bool,
    /// While a webhook's secret is being rotated, the replaced one still signs until then.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ChannelDto {
    fn of(c: &notification_channel::Model) -> ApiResult<Self> {
        let kind = c.kind()?;
        let stored = |e: serde_json::Error| ApiError::Internal(format!("stored channel settings: {e}"));
        let settings = match kind {
            ChannelKind::Webhook => {
                ChannelSettings::Webhook(serde_json::from_str(&c.settings).map_err(stored)?)
            }
            ChannelKind::Portal => {
                ChannelSettings::Portal(serde_json::from_str(&c.settings).map_err(stored)?)
            }
            ChannelKind::Mail => ChannelSettings::Mail(serde_json::from_str(&c.settings).map_err(stored)?),
        };
        Ok(Self {
            id: c.id,
            name: c.name.clone(),
            enabled: c.enabled,
            kinds: repo::kinds_of(c)?,
            settings,
            secret_set: c.secret.is_some(),
            previous_secret_until: c.previous_secret_until,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    pub items: Vec<ChannelDto>,
}

/// The input as persistence takes it: settings checked, the secret sealed.
fn channel_data(
    state: &AppState,
    input: &ChannelInput,
    creating: bool,
    at: DateTime<Utc>,
) -> ApiResult<ChannelData> {
    input.validate()?;
    input.settings.check()?;
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::validation(FieldError::required("name", "must not be blank")));
    }
    let needs_secret = match &input.settings {
        ChannelSettings::Mail(m) => m.username.is_some(),
        ChannelSettings::Webhook(_) | ChannelSettings::Portal(_) => true,
    };
    let secret = match &input.secret {
        None if creating && needs_secret => {
            return Err(ApiError::validation(FieldError::required(
                "secret",
                "is required when setting up a channel (for mail, when it logs in)",
            )))
        }
        None => SecretChange::Keep,
        Some(plain) => {
            let key = state.config.secret_key.as_ref().ok_or_else(|| {
                ApiError::Conflict(Words::fixed(
                    "the service has no KENSHU_SECRET_KEY to seal channel secrets with",
                    "配信先の秘密情報を暗号化する KENSHU_SECRET_KEY が設定されていません",
                ))
            })?;
            let hours = match input.settings.kind() {
                ChannelKind::Webhook => input.rotation_hours.unwrap_or(24),
                ChannelKind::Portal | ChannelKind::Mail => 0,
            };
            SecretChange::Replace {
                sealed: crate::secrets::seal(key, plain),
                previous_until: (hours > 0 && !creating).then(|| at + Duration::hours(hours.into())),
            }
        }
    };
    let mut kinds = input.kinds.clone();
    kinds.sort_by_key(|k| k.as_str());
    kinds.dedup();
    Ok(ChannelData {
        kind: input.settings.kind(),
        name,
        enabled: input.enabled,
        kinds,
        settings: match &input.settings {
            ChannelSettings::Webhook(w) => serde_json::to_value(w),
            ChannelSettings::Portal(p) => serde_json::to_value(p),
            ChannelSettings::Mail(m) => serde_json::to_value(m),
        }
        .expect("settings serialise"),
        secret,
    })
}

/// The organisation's channels (HR).
#[utoipa::path(get, operation_id = "list_channels", path = "/api/v1/notification-channels", tag = "notices",
    responses((status = 200, body = ChannelList)))]
pub async fn list_channels(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageChannels)?;
    let rows = repo::channels(state.db.conn(), auth.principal.org_id).await?;
    Ok(HttpResponse::Ok()
        .json(ChannelList { items: rows.iter().map(ChannelDto::of).collect::<ApiResult<_>>()? }))
}

/// Set up a channel (HR): from now on each new notice of its kinds is delivered on it.
#[utoipa::path(post, operation_id = "create_channel", path = "/api/v1/notification-channels", tag = "notices",
    request_body = ChannelInput,
    responses((status = 201, body = ChannelDto),
        (status = 409, description = "A channel of this name exists, or no key to seal secrets with", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid settings", body = Problem, content_type = "application/problem+json")))]
pub async fn create_channel(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<ChannelInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageChannels)?;
    let data = channel_data(&state, &body, true, state.clock.now())?;
    let txn = state.db.begin_write().await?;
    let c = repo::create_channel(&txn, &auth.actor(), data).await?;
    txn.commit().await?;
    Ok(created(c.version, &format!("/api/v1/notification-channels/{}", c.id), &ChannelDto::of(&c)?))
}

/// One channel (HR).
#[utoipa::path(get, operation_id = "get_channel", path = "/api/v1/notification-channels/{id}", tag = "notices",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ChannelDto),
        (status = 404, description = "No such channel", body = Problem, content_type = "application/problem+json")))]
pub async fn get_channel(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageChannels)?;
    let c = repo::channel(state.db.conn(), auth.principal.org_id, *id).await?;
    Ok(json_with_etag(StatusCode::OK, c.version, &ChannelDto::of(&c)?))
}

/// Change a channel (HR, If-Match): its kind stays. A new webhook secret starts a rotation: the
/// replaced secret signs too until `previous_secret_until`.
#[utoipa::path(put, operation_id = "update_channel", path = "/api/v1/notification-channels/{id}", tag = "notices",
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the channel read")),
    request_body = ChannelInput,
    responses((status = 200, body = ChannelDto),
        (status = 404, description = "No such channel", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A channel of this name exists, or no key to seal secrets with", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid settings, or another kind", body = Problem, content_type = "application/problem+json")))]
pub async fn update_channel(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ChannelInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageChannels)?;
    let expected = if_match(&req)?;
    let data = channel_data(&state, &body, false, state.clock.now())?;
    let txn = state.db.begin_write().await?;
    let c = repo::update_channel(&txn, &auth.actor(), *id, &expected, data).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, c.version, &ChannelDto::of(&c)?))
}

/// One try of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptDto {
    pub attempted_at: DateTime<Utc>,
    /// delivered, retry, failed or skipped.
    pub outcome: String,
    /// The receiver's answer in a line (`HTTP 503`, `ng errorno=-10: …`, `ok`).
    pub answer: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// A notice on one channel, with every try.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    pub id: Uuid,
    pub notice_id: Uuid,
    pub channel_id: Uuid,
    pub state: DeliveryState,
    pub attempts: i32,
    /// The next try; null while pending means due now, and once delivered, failed or skipped.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_answer: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub log: Vec<AttemptDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DeliveryDto {
    fn of((d, tries): &DeliveryLog) -> ApiResult<Self> {
        let attempt = |a: &delivery_attempt::Model| AttemptDto {
            attempted_at: a.attempted_at,
            outcome: a.outcome.clone(),
            answer: a.answer.clone(),
            next_attempt_at: a.next_attempt_at,
        };
        let d: &notice_delivery::Model = d;
        Ok(Self {
            id: d.id,
            notice_id: d.notice_id,
            channel_id: d.channel_id,
            state: d.state()?,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_answer: d.last_answer.clone(),
            delivered_at: d.delivered_at,
            log: tries.iter().map(attempt).collect(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryDto>,
}

/// A notice's deliveries, one per channel that took it, with every try (HR).
#[utoipa::path(get, operation_id = "notice_deliveries", path = "/api/v1/notices/{id}/deliveries", tag = "notices",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DeliveryList),
        (status = 404, description = "Not a notice id", body = Problem, content_type = "application/problem+json")))]
pub async fn notice_deliveries(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageChannels)?;
    let logs = repo::for_notice(state.db.conn(), auth.principal.org_id, *id).await?;
    Ok(HttpResponse::Ok()
        .json(DeliveryList { items: logs.iter().map(DeliveryDto::of).collect::<ApiResult<_>>()? }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Which deliveries (default: failed).
    pub state: Option<DeliveryState>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryDto>,
    pub next_cursor: Option<String>,
}

/// The organisation's deliveries in one state, oldest first: by default the failures, for the
/// training office to look into and deliver again (HR).
#[utoipa::path(get, operation_id = "list_deliveries", path = "/api/v1/deliveries", tag = "notices",
    params(DeliveryQuery),
    responses((status = 200, body = DeliveryPage),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<DeliveryQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageChannels)?;
    let wanted = q.state.unwrap_or(DeliveryState::Failed);
    let scope = format!("deliveries:{}", wanted.as_str());
    let page = page_request(&scope, q.limit, q.cursor.as_deref())?;
    let result = repo::in_state(state.db.conn(), auth.principal.org_id, wanted, &page).await?;
    Ok(HttpResponse::Ok().json(DeliveryPage {
        items: result.items.iter().map(DeliveryDto::of).collect::<ApiResult<_>>()?,
        next_cursor: encode_cursor(&scope, result.next),
    }))
}

/// Deliver again (HR): a failed or skipped delivery is due at once; its log stays. The receiver
/// gets the same notice id, so it is not a second message.
#[utoipa::path(post, operation_id = "redeliver", path = "/api/v1/deliveries/{id}/redeliver", tag = "notices",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DeliveryDto),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Pending or delivered", body = Problem, content_type = "application/problem+json")))]
pub async fn redeliver(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ManageChannels)?;
    let txn = state.db.begin_write().await?;
    let log = repo::redeliver(&txn, &auth.actor(), *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(DeliveryDto::of(&log)?))
}
