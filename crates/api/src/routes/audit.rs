use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::FieldError;
use kenshu_persistence::repo::audit::{self, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
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
        return Err(ApiError::validation(FieldError::length("actor", "at most 100 characters")));
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from >= to {
            return Err(ApiError::validation(FieldError::range("to", "must be after from")));
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

/// The first broken link of the audit chain.
#[derive(Serialize, ToSchema)]
pub struct BrokenLinkDto {
    /// The sequence number at which the chain first fails.
    pub seq: i64,
    /// The record found there (none when the records end before the chain head).
    pub id: Option<Uuid>,
    pub reason: String,
}

/// The audit log's chain checked from its first record.
#[derive(Serialize, ToSchema)]
pub struct AuditVerification {
    /// `intact` or `broken`.
    pub status: String,
    /// Records whose links hold, from the first.
    pub verified: i64,
    /// The chain head: the last record's number and the last link. Keep them outside Kenshu (a
    /// report, a signed mail) to show later that not even the whole chain was rewritten.
    pub head_seq: i64,
    pub head_hash: String,
    /// Records older than the chain, waiting to be chained (the service chains them as it
    /// starts).
    pub unchained: u64,
    pub first_broken: Option<BrokenLinkDto>,
}

impl From<audit::Verification> for AuditVerification {
    fn from(v: audit::Verification) -> Self {
        Self {
            status: if v.broken.is_some() { "broken" } else { "intact" }.into(),
            verified: v.verified,
            head_seq: v.head_seq,
            head_hash: v.head_hash,
            unchained: v.unchained,
            first_broken: v.broken.map(|b| BrokenLinkDto { seq: b.seq, id: b.id, reason: b.reason }),
        }
    }
}

/// Check the organisation's audit chain (HR, auditors): every record's hash against its fields
/// and its predecessor, no number missing, and the records ending at the chain head. Reports the
/// first broken link; `kenshu audit verify` does the same from the command line.
#[utoipa::path(get, operation_id = "verify_audit", path = "/api/v1/audit/verification", tag = "audit",
    responses((status = 200, body = AuditVerification)))]
pub async fn verify(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadAudit)?;
    let result = audit::verify(state.db.conn(), auth.principal.org_id).await?;
    Ok(HttpResponse::Ok().json(AuditVerification::from(result)))
}
