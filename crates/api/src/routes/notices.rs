//! 研修通知: notifying selected trainees, and the outbox the portal reads.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::auth::{authorize, Action};
use std::collections::HashMap;

use kenshu_domain::notice::{NoticeBody, NoticeItem, NoticeKind, RecipientRole};
use kenshu_persistence::entities::notice;
use kenshu_persistence::repo::catalogue;
use kenshu_persistence::repo::employee::Placed;
use kenshu_persistence::repo::notice as repo;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Auth;
use crate::http::{encode_cursor, page_request, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// Whom a notice is for, as the roster has them now (a delivery uses the current address).
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeRecipient {
    pub employee_id: Uuid,
    pub employee_no: String,
    pub name: String,
    pub email: Option<String>,
    /// desknet's NEO login id, where the roster has one.
    pub portal_login_id: Option<String>,
}

/// One notice to one recipient.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeDto {
    /// Stable: receivers deduplicate by it.
    pub id: Uuid,
    pub kind: NoticeKind,
    /// The record it is about.
    pub item: NoticeItem,
    pub recipient_role: RecipientRole,
    /// Null when it is for the training office as a whole (`recipient_role: training_office`).
    pub recipient: Option<NoticeRecipient>,
    pub subject: String,
    /// What happened and what to do, in Japanese: the record's title, whose it is, for a course
    /// its sessions in Japan time (for a 研修通知 when to gather, what to prepare and how to
    /// report an absence), a reason or comment, an amount.
    pub body: NoticeBody,
    /// Waits for the recipient's daily digest (what waits for a head) instead of going out alone.
    pub digest: bool,
    pub delivered_at: Option<DateTime<Utc>>,
    /// A pull-outbox reader holds it until then.
    pub claimed_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl NoticeDto {
    pub fn of(n: &notice::Model, people: &HashMap<Uuid, Placed>) -> ApiResult<Self> {
        let body = serde_json::from_str(&n.body)
            .map_err(|e| ApiError::Internal(format!("stored notice body: {e}")))?;
        Ok(Self {
            id: n.id,
            kind: n.kind()?,
            item: NoticeItem { kind: n.item_type()?, id: n.item_id },
            recipient_role: n.recipient_role()?,
            recipient: n.recipient_employee_id.and_then(|id| people.get(&id)).map(|e| NoticeRecipient {
                employee_id: e.employee.id,
                employee_no: e.employee.employee_no.clone(),
                name: e.employee.name.clone(),
                email: e.email.clone(),
                portal_login_id: e.portal_login_id.clone(),
            }),
            subject: n.subject.clone(),
            body,
            digest: n.digest,
            delivered_at: n.delivered_at,
            claimed_until: n.claimed_until,
            created_at: n.created_at,
        })
    }

    /// The notices with their recipients, read in one go.
    async fn all(state: &AppState, org_id: Uuid, rows: &[notice::Model]) -> ApiResult<Vec<Self>> {
        let people = repo::recipients(state.db.conn(), org_id, rows).await?;
        rows.iter().map(|n| Self::of(n, &people)).collect()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticePage {
    pub items: Vec<NoticeDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"notified": 19, "notices": 38}))]
pub struct NotifyReport {
    /// Nominations moved from selected to notified.
    pub notified: u64,
    /// Notices put in the outbox: one per trainee, one per section head (and acting head).
    pub notices: u64,
}

/// 研修通知 (HR): every selected trainee of the course is notified, and a notice for them and one
/// for their section head go into the outbox, in the same transaction. Running it again
/// notifies only those selected since.
#[utoipa::path(post, operation_id = "notify_course", path = "/api/v1/courses/{id}/notify", tag = "selection",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NotifyReport),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json")))]
pub async fn notify_course(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::SendNotices)?;
    let course = catalogue::get_course(state.db.conn(), auth.principal.org_id, *id).await?;
    let txn = state.db.begin_write().await?;
    let (notified, notices) =
        kenshu_persistence::repo::selection::notify_course(&txn, &auth.actor(), &course).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(NotifyReport { notified, notices }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// My notices, newest first: those addressed to me as trainee, head or decider.
#[utoipa::path(get, operation_id = "my_notices", path = "/api/v1/me/notices", tag = "me", params(NoticeQuery),
    responses((status = 200, body = NoticePage),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn my_notices(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<NoticeQuery>,
) -> ApiResult<HttpResponse> {
    let scope = "my-notices";
    let page = page_request(scope, q.limit, q.cursor.as_deref())?;
    let Some(me) = auth.principal.employee.as_ref() else {
        return Ok(HttpResponse::Ok().json(NoticePage { items: Vec::new(), next_cursor: None }));
    };
    let result = repo::notices_for(state.db.conn(), auth.principal.org_id, me.employee_id, &page).await?;
    Ok(HttpResponse::Ok().json(NoticePage {
        items: NoticeDto::all(&state, auth.principal.org_id, &result.items).await?,
        next_cursor: encode_cursor(scope, result.next),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only notices not yet marked delivered.
    #[serde(default)]
    pub undelivered: bool,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// The pull outbox, oldest first (HR, and an integration's service account with the importer
/// role). A reader that delivers should claim (`POST /api/v1/notices/claim`) rather than list.
#[utoipa::path(get, operation_id = "list_notices", path = "/api/v1/notices", tag = "selection", params(OutboxQuery),
    responses((status = 200, body = NoticePage),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn list_notices(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<OutboxQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::DeliverNotices)?;
    let scope = if q.undelivered { "notices:undelivered" } else { "notices" };
    let page = page_request(scope, q.limit, q.cursor.as_deref())?;
    let result = repo::outbox(state.db.conn(), auth.principal.org_id, q.undelivered, &page).await?;
    Ok(HttpResponse::Ok().json(NoticePage {
        items: NoticeDto::all(&state, auth.principal.org_id, &result.items).await?,
        next_cursor: encode_cursor(scope, result.next),
    }))
}

/// Mark a notice delivered (HR, importer). Idempotent: the first delivery time stays.
#[utoipa::path(post, operation_id = "notice_delivered", path = "/api/v1/notices/{id}/delivered", tag = "selection",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NoticeDto),
        (status = 404, description = "No such notice", body = Problem, content_type = "application/problem+json")))]
pub async fn notice_delivered(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::DeliverNotices)?;
    let txn = state.db.begin_write().await?;
    let n = repo::mark_delivered(&txn, auth.principal.org_id, *id).await?;
    txn.commit().await?;
    let mut one = NoticeDto::all(&state, auth.principal.org_id, std::slice::from_ref(&n)).await?;
    Ok(HttpResponse::Ok().json(one.remove(0)))
}

/// What to claim.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"limit": 50, "lease_seconds": 300}))]
pub struct ClaimRequest {
    /// At most this many (default 50).
    #[validate(range(min = 1, max = 200))]
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// Held for this long (default 300 s): mark each delivered before then, or it is offered
    /// again.
    #[validate(range(min = 10, max = 3600))]
    #[schema(minimum = 10, maximum = 3600)]
    pub lease_seconds: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimedNotices {
    /// Undelivered notices nobody else holds, oldest first; empty when none.
    pub items: Vec<NoticeDto>,
    pub claimed_until: DateTime<Utc>,
}

/// Claim undelivered notices to deliver (HR, importer): each is held for the lease, during which
/// no other reader gets it; mark each delivered (`POST /api/v1/notices/{id}/delivered`), or it
/// is offered again once the lease ends. Readers running side by side never get the same notice.
#[utoipa::path(post, operation_id = "claim_notices", path = "/api/v1/notices/claim", tag = "selection",
    request_body = ClaimRequest,
    responses((status = 200, body = ClaimedNotices),
        (status = 422, description = "Limit or lease out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn claim_notices(
    state: web::Data<AppState>,
    auth: Auth,
    body: Json<ClaimRequest>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::DeliverNotices)?;
    body.validate()?;
    let at = state.clock.now();
    let until = at + chrono::Duration::seconds(body.lease_seconds.unwrap_or(300));
    let txn = state.db.begin_write().await?;
    let rows = repo::claim(&txn, auth.principal.org_id, body.limit.unwrap_or(50), at, until).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(ClaimedNotices {
        items: NoticeDto::all(&state, auth.principal.org_id, &rows).await?,
        claimed_until: until,
    }))
}
