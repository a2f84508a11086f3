//! 受講後アンケート: HR sets a course's questions; trainees who attended answer once each; HR and
//! auditors read the aggregate, which never names who answered.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::survey::{
    aggregate, validate_answers, validate_questions, Answer, Question, QuestionResult,
};
use kenshu_domain::Words;
use kenshu_persistence::repo::survey::SurveyHome;
use kenshu_persistence::repo::{catalogue, report, survey as repo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::{created, if_match, json_with_etag, Json};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// A course's survey.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyDto {
    pub course_id: Uuid,
    /// Numbered from 1 in this order; answers name them by number.
    pub questions: Vec<Question>,
    pub version: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"questions": [
    {"text": "研修の満足度", "kind": "rating", "required": true},
    {"text": "業務に役立ちますか", "kind": "choice", "options": ["役立つ", "どちらでもない", "役立たない"]},
    {"text": "ご意見・ご感想", "kind": "text"}
]}))]
pub struct SurveyInput {
    #[schema(min_items = 1, max_items = 30)]
    pub questions: Vec<Question>,
}

/// A course's survey questions (anyone who reads the catalogue). A participant's course of a joint
/// course (合同研修) shows the host's survey, which its attendees answer.
#[utoipa::path(get, operation_id = "get_survey", path = "/api/v1/courses/{id}/survey", tag = "reports",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SurveyDto, headers(("ETag" = String))),
        (status = 404, description = "No such course, or it has no survey", body = Problem, content_type = "application/problem+json")))]
pub async fn get_survey(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadCatalogue)?;
    let org_id = auth.principal.org_id;
    let course = catalogue::get_course(state.db.conn(), org_id, *id).await?;
    let home = SurveyHome::of(state.db.conn(), &course.model).await?;
    let (m, questions) =
        repo::get(state.db.conn(), home.org_id, home.course_id).await?.ok_or(ApiError::NotFound)?;
    Ok(json_with_etag(
        StatusCode::OK,
        m.version,
        &SurveyDto { course_id: *id, questions, version: m.version },
    ))
}

/// A participant's course of a joint share answers the host's survey; its questions are the
/// host's.
async fn own_survey(state: &AppState, org_id: Uuid, course_id: Uuid) -> ApiResult<()> {
    let course = catalogue::get_course(state.db.conn(), org_id, course_id).await?;
    if SurveyHome::of(state.db.conn(), &course.model).await?.is_elsewhere(&course.model) {
        return Err(ApiError::Conflict(Words::fixed(
            "the survey of a joint course is the host's; its attendees answer the host's questions",
            "合同研修のアンケートは主催団体が設定します。受講者は主催団体の設問に回答します",
        )));
    }
    Ok(())
}

/// Give a course its survey (HR): ratings (1–5), choices and free text, each optionally
/// required. A course has one survey; change it with `PUT`.
#[utoipa::path(post, operation_id = "create_survey", path = "/api/v1/courses/{id}/survey", tag = "reports",
    request_body = SurveyInput, params(("id" = Uuid, Path)),
    responses((status = 201, body = SurveyDto, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such course in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The course has a survey already, or it takes part in a joint course (合同研修), whose survey is the host's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid questions", body = Problem, content_type = "application/problem+json")))]
pub async fn create_survey(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<SurveyInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let org_id = auth.principal.org_id;
    own_survey(&state, org_id, *id).await?;
    let questions = validate_questions(body.into_inner().questions).map_err(ApiError::Validation)?;
    let txn = state.db.begin_write().await?;
    let m = repo::create(&txn, &auth.actor(), *id, &questions).await?;
    txn.commit().await?;
    let location = format!("/api/v1/courses/{}/survey", m.course_id);
    Ok(created(m.version, &location, &SurveyDto { course_id: m.course_id, questions, version: m.version }))
}

/// Change a course's survey questions (HR; `If-Match`). Once anyone has answered, the questions
/// cannot change (409).
#[utoipa::path(put, operation_id = "update_survey", path = "/api/v1/courses/{id}/survey", tag = "reports",
    request_body = SurveyInput,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the survey read")),
    responses((status = 200, body = SurveyDto, headers(("ETag" = String))),
        (status = 404, description = "No such course, or it has no survey", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Trainees have answered, so the questions stay; or a joint course's survey is the host's", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid questions", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")))]
pub async fn update_survey(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<SurveyInput>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::WriteCatalogue)?;
    let org_id = auth.principal.org_id;
    own_survey(&state, org_id, *id).await?;
    let (before, _) = repo::get(state.db.conn(), org_id, *id).await?.ok_or(ApiError::NotFound)?;
    let questions = validate_questions(body.into_inner().questions).map_err(ApiError::Validation)?;
    let version = if_match(&req)?;
    let txn = state.db.begin_write().await?;
    let m = repo::update(&txn, &auth.actor(), &before, &version, &questions).await?;
    txn.commit().await?;
    Ok(json_with_etag(
        StatusCode::OK,
        m.version,
        &SurveyDto { course_id: m.course_id, questions, version: m.version },
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"answers": [
    {"question": 1, "rating": 5}, {"question": 2, "choice": "役立つ"}, {"question": 3, "text": "演習が実践的だった"}
]}))]
pub struct ResponseInput {
    #[schema(max_items = 30)]
    pub answers: Vec<Answer>,
}

/// Answer a course's survey (a trainee who attended it, once). On a participant's course of a
/// joint course the answers go to the host's survey, without the trainee's name.
#[utoipa::path(post, operation_id = "answer_survey", path = "/api/v1/courses/{id}/survey/responses", tag = "reports",
    request_body = ResponseInput, params(("id" = Uuid, Path)),
    responses((status = 201, description = "Answered"),
        (status = 403, description = "You did not attend this course", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course, or it has no survey", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You have answered already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Answers that do not fit the questions, or a required one left out", body = Problem, content_type = "application/problem+json")))]
pub async fn answer_survey(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<ResponseInput>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let me = auth.principal.employee.ok_or(ApiError::Forbidden)?;
    let course = catalogue::get_course(state.db.conn(), org_id, *id).await?;
    let home = SurveyHome::of(state.db.conn(), &course.model).await?;
    let (_, questions) =
        repo::get(state.db.conn(), home.org_id, home.course_id).await?.ok_or(ApiError::NotFound)?;
    let nomination = repo::trainee_nomination(state.db.conn(), org_id, *id, me.employee_id).await?;
    let Some(nomination) = nomination else { return Err(ApiError::Forbidden) };
    if !report::attended(state.db.conn(), &nomination).await? {
        return Err(ApiError::Forbidden);
    }
    if repo::answered(state.db.conn(), home.org_id, nomination.id).await? {
        return Err(ApiError::Conflict(Words::fixed(
            "you have answered this survey already",
            "このアンケートには回答済みです",
        )));
    }
    let answers = validate_answers(&questions, body.into_inner().answers).map_err(ApiError::Validation)?;
    let txn = state.db.begin_write().await?;
    repo::respond(&txn, home, &nomination, &answers).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().finish())
}

/// The aggregate of a course's survey.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyResults {
    pub course_id: Uuid,
    /// Trainees who attended and so may answer.
    pub attendees: u32,
    pub responses: u32,
    pub questions: Vec<QuestionResult>,
}

/// The aggregated answers of a course's survey (HR, auditors): counts per rating and option,
/// the mean rating, and the free-text answers without names.
#[utoipa::path(get, operation_id = "survey_results", path = "/api/v1/courses/{id}/survey/results", tag = "reports",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SurveyResults),
        (status = 404, description = "No such course, or it has no survey", body = Problem, content_type = "application/problem+json")))]
pub async fn survey_results(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadResults)?;
    let org_id = auth.principal.org_id;
    let course = catalogue::get_course(state.db.conn(), org_id, *id).await?;
    // A joint course's survey is the host's: one aggregate over every organisation's attendees.
    let home = SurveyHome::of(state.db.conn(), &course.model).await?;
    let conn = state.db.conn();
    let (_, questions) = repo::get(conn, home.org_id, home.course_id).await?.ok_or(ApiError::NotFound)?;
    let answers = repo::answers(conn, home.org_id, home.course_id).await?;
    let attendees = repo::attendees(conn, home.org_id, home.course_id).await?
        + repo::participant_attendees(conn, home.org_id, home.course_id).await?;
    Ok(HttpResponse::Ok().json(SurveyResults {
        course_id: *id,
        attendees,
        responses: answers.len() as u32,
        questions: aggregate(&questions, &answers),
    }))
}
