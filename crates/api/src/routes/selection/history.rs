//! 研修履歴: my courses, a section's nominations, an employee's training history.

use super::*;

/// A nomination with its course.
#[derive(Debug, Serialize, ToSchema)]
pub struct NominationWithCourse {
    pub course: CourseRefDto,
    pub nomination: NominationDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NominationList {
    /// Newest fiscal year first, then in plan order.
    pub items: Vec<NominationWithCourse>,
}

fn with_course(
    n: &nomination::Model,
    c: &CourseRef,
    e: &EmployeeRef,
    section_id: Uuid,
) -> ApiResult<NominationWithCourse> {
    Ok(NominationWithCourse {
        course: CourseRefDto {
            id: c.id,
            fiscal_year: c.fiscal_year,
            category: c.category.clone(),
            number: c.number,
            title: c.title.clone(),
        },
        nomination: nomination_view(n, e, section_id)?,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Defaults to the current fiscal year (Japan time).
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
}

async fn history_of(
    state: &AppState,
    org_id: Uuid,
    employee_id: Uuid,
    fy: Option<FiscalYear>,
) -> ApiResult<NominationList> {
    let e = employee_repo::get(state.db.conn(), org_id, employee_id).await?;
    let who =
        EmployeeRef { id: e.model.id, employee_no: e.model.employee_no.clone(), name: e.model.name.clone() };
    let rows = repo::for_employee(state.db.conn(), org_id, employee_id, fy).await?;
    Ok(NominationList {
        items: rows
            .iter()
            .map(|(n, c)| with_course(n, c, &who, e.model.section_id))
            .collect::<ApiResult<_>>()?,
    })
}

/// My courses this year: every nomination of the caller, whatever its route and state.
#[utoipa::path(get, operation_id = "my_nominations", path = "/api/v1/me/nominations", tag = "me", params(YearQuery),
    responses((status = 200, body = NominationList),
        (status = 422, description = "Invalid fiscal year", body = Problem, content_type = "application/problem+json")))]
pub async fn my_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    let fy = fiscal_year_or_current(q.fiscal_year)?;
    let list = match auth.principal.employee.as_ref() {
        Some(me) => history_of(&state, auth.principal.org_id, me.employee_id, Some(fy)).await?,
        None => NominationList { items: Vec::new() },
    };
    Ok(HttpResponse::Ok().json(list))
}

/// 研修履歴: an employee's nominations across fiscal years, completed and otherwise; for the
/// employee, their heads, HR and auditors.
#[utoipa::path(get, operation_id = "training_history", path = "/api/v1/employees/{id}/training-history", tag = "selection",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NominationList),
        (status = 404, description = "No such employee in your organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn training_history(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let e = employee_repo::get(state.db.conn(), org_id, *id).await?;
    authorize(&auth.principal, Action::ReadEmployee(&e.placement()))?;
    Ok(HttpResponse::Ok().json(history_of(&state, org_id, *id, None).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SectionNominationsQuery {
    /// Defaults to the current fiscal year (Japan time).
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
    /// Only this state: `proposed` lists the applications waiting for the section head.
    pub state: Option<NominationState>,
}

/// A section's nominations in a fiscal year: its head (pending confirmations with
/// `state=proposed`), the head of its department, HR and auditors.
#[utoipa::path(get, operation_id = "section_nominations", path = "/api/v1/sections/{id}/nominations", tag = "selection",
    params(("id" = Uuid, Path), SectionNominationsQuery),
    responses((status = 200, body = NominationList),
        (status = 404, description = "No such section in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fiscal year", body = Problem, content_type = "application/problem+json")))]
pub async fn section_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<SectionNominationsQuery>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let section = readable_section(&state, &auth, *id).await?;
    let fy = fiscal_year_or_current(q.fiscal_year)?;
    let rows = repo::for_section(state.db.conn(), org_id, section.id, Some(fy), q.state).await?;
    Ok(HttpResponse::Ok().json(NominationList {
        items: rows.iter().map(|(n, c, e)| with_course(n, c, e, section.id)).collect::<ApiResult<_>>()?,
    }))
}
