//! 研修通知: notifying selected trainees, and the outbox the portal reads.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::notice::{NoticeBody, NoticeKind, RecipientRole};
use kenshu_persistence::entities::notice;
use kenshu_persistence::repo::catalogue;
use kenshu_persistence::repo::notice as repo;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{encode_cursor, page_request};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// One notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeDto {
    pub id: Uuid,
    pub nomination_id: Uuid,
    pub course_id: Uuid,
    pub recipient_employee_id: Uuid,
    pub kind: NoticeKind,
    pub recipient_role: RecipientRole,
    pub subject: String,
    /// The course, the trainee's sessions in Japan time, what happened, and for a 研修通知 when
    /// to gather, what to prepare and how to report an absence.
    pub body: NoticeBody,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl NoticeDto {
    fn of(n: &notice::Model) -> ApiResult<Self> {
        let stored = |what: &str, value: &str| {
            ApiError::Internal(format!("stored notice {what} '{value}' is not known"))
        };
        Ok(Self {
            id: n.id,
            nomination_id: n.nomination_id,
            course_id: n.course_id,
            recipient_employee_id: n.recipient_employee_id,
            kind: NoticeKind::parse(&n.kind).ok_or_else(|| stored("kind", &n.kind))?,
            recipient_role: RecipientRole::parse(&n.recipient_role)
                .ok_or_else(|| stored("role", &n.recipient_role))?,
            subject: n.subject.clone(),
            body: serde_json::from_str(&n.body)
                .map_err(|e| ApiError::Internal(format!("stored notice body: {e}")))?,
            delivered_at: n.delivered_at,
            created_at: n.created_at,
        })
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
        kenshu_persistence::repo::selection::notify_course(&*txn, &auth.actor(), &course).await?;
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

/// My notices, newest first: those addressed to me as trainee or as section head.
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
        items: result.items.iter().map(NoticeDto::of).collect::<ApiResult<_>>()?,
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

/// The outbox, oldest first (HR, and the portal's service account with the importer role).
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
        items: result.items.iter().map(NoticeDto::of).collect::<ApiResult<_>>()?,
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
    let n = repo::mark_delivered(&*txn, auth.principal.org_id, *id).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(NoticeDto::of(&n)?))
}
