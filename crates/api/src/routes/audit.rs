use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::auth::{authorize, Action};
use kenshu_persistence::repo::audit::{self, AuditFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{encode_cursor, page_request};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::shared::{AuditEntryDto, AuditPage};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// employee, department, section, organisation, roster, plan, course, nomination,
    /// absence_notice, attendance, report, subsidy_programme, subsidy_application,
    /// study_group, internship_programme, internship_student
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    /// Changes made by this token subject (an employee number or a service account).
    #[param(max_length = 100)]
    pub actor: Option<String>,
    /// Changes from this instant on (inclusive), e.g. `2023-04-01T00:00:00+09:00`.
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<chrono::FixedOffset>>,
    /// Changes before this instant (exclusive).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<chrono::FixedOffset>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// The audit log, newest first (HR, auditors): by entity, by who made the change, and in a time
/// range.
#[utoipa::path(get, operation_id = "list_audit", path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage),
        (status = 422, description = "Invalid cursor, limit or time range", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadAudit)?;
    let page = page_request("audit", q.limit, q.cursor.as_deref())?;
    if q.actor.as_ref().is_some_and(|a| a.chars().count() > 100) {
        return Err(ApiError::validation("actor", "at most 100 characters"));
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from >= to {
            return Err(ApiError::validation("to", "must be after from"));
        }
    }
    let filter = AuditFilter {
        entity_type: q.entity_type.clone(),
        entity_id: q.entity_id,
        actor: q.actor.clone(),
        from: q.from.map(|t| t.with_timezone(&Utc)),
        to: q.to.map(|t| t.with_timezone(&Utc)),
    };
    let result = audit::list(state.db.conn(), auth.principal.org_id, &filter, &page).await?;
    let items = result.items.iter().map(AuditEntryDto::from).collect();
    Ok(HttpResponse::Ok().json(AuditPage { items, next_cursor: encode_cursor("audit", result.next) }))
}
