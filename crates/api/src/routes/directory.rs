//! POST /api/v1/directory/sync: the staff directory from the portal, now (dry run first).

use actix_web::{web, HttpResponse};
use kenshu_domain::auth::{authorize, Action};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Auth;
use crate::directory::{service_actor, sync, SyncReport};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::import::ImportMode;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// Read and report without writing.
    #[serde(default)]
    pub dry_run: bool,
    /// Required: `full` (staff the portal no longer lists are marked inactive) or `upsert`
    /// (only add and update those it lists).
    pub mode: ImportMode,
}

/// Sync the staff directory from the portal (HR, importer): read its organisation tree and
/// users whole (one request at a time, waiting while it answers 429), then load the departments
/// and sections and apply the staff through the roster import's path, transfers carried through
/// as for a roster file. A read that is not whole (an `ng` reply, a page that fails, fewer users
/// than the portal holds) changes nothing. Only for the organisation the portal is set up for.
#[utoipa::path(post, path = "/api/v1/directory/sync", tag = "employees", params(SyncQuery),
    responses((status = 200, body = SyncReport),
        (status = 404, description = "No portal directory is set up for this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A sync is running, or the roster changed while this one ran; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Portal records that do not read (import-rejected, each by position and key); nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The portal's directory could not be read whole (directory-unavailable); nothing was changed", body = Problem, content_type = "application/problem+json")))]
pub async fn sync_directory(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<SyncQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ImportRoster)?;
    let cfg = state.config.directory.as_ref().ok_or(ApiError::NotFound)?;
    if service_actor(&state, cfg).await?.org_id != auth.principal.org_id {
        return Err(ApiError::NotFound);
    }
    let report = sync(&state, &auth.actor(), query.mode, query.dry_run).await?;
    Ok(HttpResponse::Ok().json(report))
}
