//! Many nominations of a course at once (HR): one event, or a move to another session.

use super::*;
use kenshu_persistence::Precondition;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ids": ["01939a4e-7c1a-7d2e-8f00-000000000101", "01939a4e-7c1a-7d2e-8f00-000000000102"], "event": "select"}))]
pub struct BulkInput {
    /// Nominations of this course, 1–1000.
    #[schema(min_items = 1, max_items = 1000)]
    pub ids: Vec<Uuid>,
    /// The event for every nomination (select, waitlist, decline, notify, cancel, complete)…
    pub event: Option<Event>,
    /// …or move every nomination to this session of the course (`null` for none).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub move_to_session: Option<Option<Uuid>>,
    /// Required with `decline`: why, for every nomination declined.
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub applied: u64,
    /// Waiting nominations that moved up into places cancellations freed.
    pub promoted: Vec<Uuid>,
}

/// Act on many nominations of a course at once (HR): one event for all, or a move to another
/// session. All or nothing: one that cannot be moved leaves every one as it was, and the answer
/// names each that could not.
#[utoipa::path(post, operation_id = "bulk_nominations", path = "/api/v1/courses/{id}/nominations/bulk", tag = "selection",
    request_body = BulkInput, params(("id" = Uuid, Path)),
    responses((status = 200, body = BulkResult),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No place left for one of them; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not nominations of this course, or not possible in their state; each is listed", body = Problem, content_type = "application/problem+json")))]
pub async fn bulk_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<BulkInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::RunDesignation)?;
    let org_id = auth.principal.org_id;
    catalogue::get_course(state.db.conn(), org_id, *id).await?;
    let body = body.into_inner();
    if body.ids.is_empty() || body.ids.len() > 1000 {
        return Err(ApiError::validation(FieldError::length("ids", "give 1 to 1000 nominations")));
    }
    if body.event.is_some() == body.move_to_session.is_some() {
        return Err(ApiError::validation(FieldError::required(
            "event",
            "give either event or move_to_session",
        )));
    }
    let reason = reason_text(body.reason, body.event == Some(Event::Decline))?;
    let me = auth.principal.employee.map(|e| e.employee_id);
    let txn = state.db.begin_write().await?;
    // Every nomination is checked before anything is written, so the answer lists all faults.
    let mut errors = Vec::new();
    let mut plan = Vec::new();
    for (i, nid) in body.ids.iter().enumerate() {
        let field = format!("ids[{i}]");
        match repo::get(&txn, org_id, *nid).await {
            Ok(n) if n.course_id == *id => {
                if let Some(event) = body.event {
                    if me == Some(n.employee_id) {
                        errors.push(kenshu_domain::FieldError::conflict(field, "is your own nomination"));
                        continue;
                    }
                    let current = repo::state_of(&n)?;
                    match kenshu_domain::selection::transition(current, event, NominationActor::Hr) {
                        Ok(_) => plan.push((n, Some(event))),
                        Err(e) => errors.push(kenshu_domain::FieldError::conflict(field, e.to_string())),
                    }
                } else {
                    plan.push((n, None));
                }
            }
            Ok(_) | Err(RepoError::NotFound) => {
                errors.push(kenshu_domain::FieldError::not_found(field, "is not a nomination of this course"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let actor = auth.actor();
    let mut promoted = Vec::new();
    for (n, step) in &plan {
        match step {
            Some(event) => {
                let current = repo::get(&txn, org_id, n.id).await?;
                let outcome = repo::apply_event(
                    &txn,
                    &actor,
                    n.id,
                    &Precondition::version(current.version),
                    &[NominationActor::Hr],
                    *event,
                    reason.clone(),
                )
                .await?;
                promoted.extend(outcome.promoted.map(|p| p.id));
            }
            None => {
                repo::move_session(&txn, &actor, n.id, body.move_to_session.flatten()).await?;
            }
        }
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(BulkResult { applied: plan.len() as u64, promoted }))
}
