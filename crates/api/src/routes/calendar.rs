//! 予定表の配信: iCalendar feeds staff subscribe to from their calendar or the portal. Each is
//! reached by a secret token in its URL (calendar clients send no login): an employee makes and
//! revokes their own, a section head one of their section's staff, the training office one per
//! course, and HR can revoke any.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::ics::{calendar, sha256_hex, Method};
use kenshu_domain::FieldError;
use kenshu_persistence::entities::calendar_feed;
use kenshu_persistence::repo::calendar::{self as repo, Scope};
use kenshu_persistence::repo::{catalogue, structure};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::Json;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// What a feed shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedScope {
    /// The caller's own places.
    Me,
    /// The places of a section's staff (its head or acting head).
    Section,
    /// A course's sessions (研修担当).
    Course,
}

/// A feed to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scope": "me"}))]
pub struct NewFeed {
    pub scope: FeedScope,
    /// For `section`.
    pub section_id: Option<Uuid>,
    /// For `course`.
    pub course_id: Option<Uuid>,
}

/// A feed as its maker and HR see it: never its token, which only `url` at creation holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedDto {
    pub id: Uuid,
    pub scope: FeedScope,
    /// The employee, section or course it shows.
    pub subject_id: Uuid,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Only in the answer that made it: the address to subscribe to. Keep it secret; revoke the
    /// feed if it leaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl FeedDto {
    fn of(f: &calendar_feed::Model, url: Option<String>) -> ApiResult<Self> {
        let scope = match Scope::parse(&f.scope) {
            Some(Scope::Me) => FeedScope::Me,
            Some(Scope::Section) => FeedScope::Section,
            Some(Scope::Course) => FeedScope::Course,
            None => return Err(ApiError::Internal(format!("stored feed scope '{}' is not known", f.scope))),
        };
        Ok(Self {
            id: f.id,
            scope,
            subject_id: f.subject_id,
            created_by: f.created_by.clone(),
            created_at: f.created_at,
            revoked_at: f.revoked_at,
            url,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedList {
    pub items: Vec<FeedDto>,
}

/// Make a calendar feed: of the caller's own places (any employee), of a section's staff (its
/// head or acting head; also HR), or of a course's sessions (HR). The answer holds its URL, once.
#[utoipa::path(post, operation_id = "create_calendar_feed", path = "/api/v1/calendar-feeds", tag = "notices",
    request_body = NewFeed,
    responses((status = 201, body = FeedDto),
        (status = 404, description = "No such section or course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The section or course is missing", body = Problem, content_type = "application/problem+json")))]
pub async fn create_feed(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: Json<NewFeed>,
) -> ApiResult<HttpResponse> {
    let p = &auth.principal;
    let (scope, subject_id) = match body.scope {
        FeedScope::Me => {
            let me = p.employee.as_ref().ok_or(ApiError::Forbidden)?;
            (Scope::Me, me.employee_id)
        }
        FeedScope::Section => {
            let id = body.section_id.ok_or_else(|| {
                ApiError::validation(FieldError::required("section_id", "is required for a section's feed"))
            })?;
            let s = structure::get_section(state.db.conn(), p.org_id, id).await?;
            authorize(
                p,
                Action::ReadSectionNominations { section_id: s.id, department_id: s.department_id },
            )?;
            (Scope::Section, s.id)
        }
        FeedScope::Course => {
            authorize(p, Action::ManageChannels)?;
            let id = body.course_id.ok_or_else(|| {
                ApiError::validation(FieldError::required("course_id", "is required for a course's feed"))
            })?;
            let c = catalogue::get_course(state.db.conn(), p.org_id, id).await?;
            (Scope::Course, c.model.id)
        }
    };
    let token = format!("kf_{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let txn = state.db.begin_write().await?;
    let feed = repo::create(&txn, &auth.actor(), scope, subject_id, &token).await?;
    txn.commit().await?;
    let info = req.connection_info();
    let url = format!("{}://{}/calendar/{token}.ics", info.scheme(), info.host());
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/calendar-feeds/{}", feed.id)))
        .json(FeedDto::of(&feed, Some(url))?))
}

/// The caller's feeds, newest first (HR: every feed of the organisation).
#[utoipa::path(get, operation_id = "list_calendar_feeds", path = "/api/v1/calendar-feeds", tag = "notices",
    responses((status = 200, body = FeedList)))]
pub async fn list_feeds(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    let mine = authorize(&auth.principal, Action::ManageChannels).is_err();
    let who = auth.actor().signature();
    let rows = repo::list(state.db.conn(), auth.principal.org_id, mine.then_some(who.as_str())).await?;
    Ok(HttpResponse::Ok()
        .json(FeedList { items: rows.iter().map(|f| FeedDto::of(f, None)).collect::<ApiResult<_>>()? }))
}

/// The feed `id` if the caller made it or is HR; to anyone else it is not there.
async fn own_feed(state: &AppState, auth: &Auth, id: Uuid) -> ApiResult<calendar_feed::Model> {
    let feed = repo::get(state.db.conn(), auth.principal.org_id, id).await?;
    let hr = authorize(&auth.principal, Action::ManageChannels).is_ok();
    if !hr && feed.created_by != auth.actor().signature() {
        return Err(ApiError::NotFound);
    }
    Ok(feed)
}

/// One feed (its maker, or HR); never its token. A revoked feed is 404 here and listed as revoked.
#[utoipa::path(get, operation_id = "get_calendar_feed", path = "/api/v1/calendar-feeds/{id}", tag = "notices",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = FeedDto),
        (status = 404, description = "No such feed", body = Problem, content_type = "application/problem+json")))]
pub async fn get_feed(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let feed = own_feed(&state, &auth, *id).await?;
    // Revoked is deleted for the resource (its URL is gone); the list keeps it as a record.
    if feed.revoked_at.is_some() {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(FeedDto::of(&feed, None)?))
}

/// Revoke a feed (its maker, or HR): its URL stops working at once.
#[utoipa::path(delete, operation_id = "revoke_calendar_feed", path = "/api/v1/calendar-feeds/{id}", tag = "notices",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"),
        (status = 404, description = "No such feed", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_feed(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let feed = own_feed(&state, &auth, *id).await?;
    let txn = state.db.begin_write().await?;
    repo::revoke(&txn, &auth.actor(), feed.id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A calendar feed (iCalendar, RFC 5545), by the token in its URL; no login. Unknown, revoked
/// or no longer applicable (the employee left, the head moved): 404. With `If-None-Match` of
/// the ETag read: 304 while nothing changed.
#[utoipa::path(get, operation_id = "calendar_feed", path = "/calendar/{file}", tag = "notices",
    params(("file" = String, Path, description = "The token, then .ics")),
    responses((status = 200, description = "The feed", content_type = "text/calendar"),
        (status = 304, description = "Unchanged since the ETag given"),
        (status = 404, description = "No such feed", body = Problem, content_type = "application/problem+json")),
    security(()))]
pub async fn feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let Some(feed) = repo::by_token(state.db.conn(), token).await? else { return Err(ApiError::NotFound) };
    let Some((name, entries)) = repo::entries(state.db.conn(), &feed).await? else {
        return Err(ApiError::NotFound);
    };
    let body = calendar(&name, Method::Publish, &entries, None, None);
    let etag = format!("\"{}\"", &sha256_hex(&body)[..32]);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, "private, max-age=300"));
    if unchanged {
        return Ok(res.finish());
    }
    Ok(res.content_type("text/calendar; charset=utf-8").body(body))
}
