//! 日程: a course's sessions; what a change to one carries through.

use super::*;

/// A session to add, or the full new state of one. Times carry their offset; Japan time is
/// +09:00.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "starts_at": "2023-07-12T09:00:00+09:00",
    "ends_at": "2023-07-12T17:00:00+09:00",
    "venue": "市役所 4階 大会議室",
    "capacity": 40,
    "lecturer": {"kind": "outside", "name": "山田 花子", "affiliation": "(株)研修サービス"}
}))]
pub struct SessionInput {
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<FixedOffset>,
    #[schema(max_length = 500)]
    pub venue: Option<String>,
    /// An http(s) URL for online sessions.
    #[schema(max_length = 2000)]
    pub online_url: Option<String>,
    #[schema(minimum = 0, maximum = 100000)]
    pub capacity: Option<i64>,
    pub lecturer: Option<Lecturer>,
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

impl SessionInput {
    fn into_data(self, fy: FiscalYear) -> ApiResult<SessionData> {
        let fields = SessionFields {
            starts_at: self.starts_at.with_timezone(&Utc),
            ends_at: self.ends_at.with_timezone(&Utc),
            venue: self.venue,
            online_url: self.online_url,
            capacity: self.capacity,
            lecturer: self.lecturer,
            notes: self.notes,
        };
        SessionData::validate(fields, fy).map_err(ApiError::Validation)
    }
}

/// Add a session to a course (HR). On a course shared with other organisations (合同研修), each
/// participant's course gets a copy.
#[utoipa::path(post, operation_id = "create_session", path = "/api/v1/courses/{id}/sessions", tag = "catalogue",
    request_body = SessionInput, params(("id" = Uuid, Path)),
    responses((status = 201, body = SessionDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: ends before it starts, outside the fiscal year, negative capacity", body = Problem, content_type = "application/problem+json")))]
pub async fn create_session(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<SessionInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let course = repo::get_course(state.db.conn(), auth.principal.org_id, *id).await?;
    let data = body.into_inner().into_data(course.fiscal_year())?;
    let txn = state.db.begin_write().await?;
    let session = repo::create_session(&txn, &auth.actor(), &course, &data).await?;
    joint::host_session_added(&txn, &auth.actor(), &session).await?;
    txn.commit().await?;
    let location = format!("/api/v1/courses/{}/sessions/{}", course.model.id, session.id);
    Ok(created(session.version, &location, &SessionDto::from_model(&session)?))
}

/// Replace a session (HR). Requires `If-Match` with the session's version. A moved session is told
/// to its trainees and their heads, and on a shared course to every participant's trainees too.
#[utoipa::path(put, operation_id = "update_session", path = "/api/v1/courses/{id}/sessions/{session_id}", tag = "catalogue",
    request_body = SessionInput,
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the session read")),
    responses((status = 200, body = SessionDto, headers(("ETag" = String))),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_session(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<SessionInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let (course_id, session_id) = path.into_inner();
    let course = repo::get_course(state.db.conn(), auth.principal.org_id, course_id).await?;
    repo::get_session(state.db.conn(), auth.principal.org_id, course_id, session_id).await?;
    let version = if_match(&req)?;
    let data = body.into_inner().into_data(course.fiscal_year())?;
    let txn = state.db.begin_write().await?;
    let before = repo::get_session(&txn, auth.principal.org_id, course_id, session_id).await?;
    let session = repo::update_session(&txn, &auth.actor(), &course, session_id, &version, &data).await?;
    cascade::session_changed(&txn, &auth.actor(), &before, Some(&session)).await?;
    joint::host_session_changed(&txn, &auth.actor(), &session).await?;
    txn.commit().await?;
    Ok(json_with_etag(StatusCode::OK, session.version, &SessionDto::from_model(&session)?))
}

/// Remove a session (HR): cancelled (中止). Requires `If-Match` with the session's version. Its
/// trainees and their heads are told; the absence notices filed for it go with it (kept in the
/// audit log). Refused once it was held (attendance on file) or while trainees are placed on it.
/// On a shared course the participants' copies go too, on the same terms.
#[utoipa::path(delete, operation_id = "delete_session", path = "/api/v1/courses/{id}/sessions/{session_id}", tag = "catalogue",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the session read")),
    responses((status = 204, description = "Removed"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The session has attendance on file (it was held), or trainees placed on it", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_session(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let (course_id, session_id) = path.into_inner();
    let course = repo::get_course(state.db.conn(), auth.principal.org_id, course_id).await?;
    repo::get_session(state.db.conn(), auth.principal.org_id, course_id, session_id).await?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let before = repo::get_session(&txn, auth.principal.org_id, course_id, session_id).await?;
    repo::delete_session(&txn, &auth.actor(), &course, session_id, &version).await?;
    cascade::session_changed(&txn, &auth.actor(), &before, None).await?;
    joint::host_session_removed(&txn, &auth.actor(), &before).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
