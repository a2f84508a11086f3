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

/// 研修履歴 and a section's nominations as a table: one row per nomination with its course.
async fn history_table(state: &AppState, org_id: Uuid, list: &NominationList) -> ApiResult<Table> {
    let units =
        structure::unit_names(state.db.conn(), org_id, list.items.iter().map(|i| i.nomination.section_id))
            .await?;
    let columns = [&["年度", "区分", "No", "研修名"][..], &PERSON_HEADERS, &["選考区分", "状態", "決定日"]];
    let mut table = Table::new("研修履歴", &columns.concat());
    for NominationWithCourse { course, nomination: n } in &list.items {
        let category = kenshu_domain::catalogue::Category::parse(&course.category).map(|c| c.japanese());
        let mut row: Vec<Cell> =
            vec![course.fiscal_year.into(), category.into(), course.number.into(), (&course.title).into()];
        row.extend(person_cells(&n.employee.employee_no, &n.employee.name, units.get(&n.section_id)));
        row.extend([
            n.route.japanese().into(),
            n.state.japanese().into(),
            n.decided_at.map(calendar::tokyo_date).into(),
        ]);
        table.push(row);
    }
    Ok(table)
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
    e: &employee_repo::EmployeeRecord,
    fy: Option<FiscalYear>,
) -> ApiResult<NominationList> {
    let who =
        EmployeeRef { id: e.model.id, employee_no: e.model.employee_no.clone(), name: e.model.name.clone() };
    let rows = repo::for_employee(state.db.conn(), e.model.org_id, e.model.id, fy).await?;
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
        Some(me) => {
            // The employee as kept in memory: no statement while the roster has not changed.
            let e = employee_repo::get_kept(&state.db, auth.principal.org_id, me.employee_id).await?;
            history_of(&state, &e, Some(fy)).await?
        }
        None => NominationList { items: Vec::new() },
    };
    Ok(HttpResponse::Ok().json(list))
}

/// 研修履歴: an employee's nominations across fiscal years, completed and otherwise; for the
/// employee, their heads, HR and auditors. `format=csv` or `xlsx` for it as a file.
#[utoipa::path(get, operation_id = "training_history", path = "/api/v1/employees/{id}/training-history", tag = "selection",
    params(("id" = Uuid, Path), ListFile),
    responses((status = 200, content((NominationList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such employee in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Shift_JIS cannot hold the list's text", body = Problem, content_type = "application/problem+json")))]
pub async fn training_history(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let e = employee_repo::get_kept(&state.db, org_id, *id).await?;
    authorize(&auth.principal, Action::ReadEmployee(&e.placement()))?;
    let list = history_of(&state, &e, None).await?;
    if file.file().is_some() {
        let name = format!("kenshu-training-history-{}", e.model.employee_no);
        return file.download(&history_table(&state, org_id, &list).await?, &name);
    }
    Ok(HttpResponse::Ok().json(list))
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
/// `state=proposed`), the head of its department, HR and auditors; `format=csv` or `xlsx` for
/// them as a file.
#[utoipa::path(get, operation_id = "section_nominations", path = "/api/v1/sections/{id}/nominations", tag = "selection",
    params(("id" = Uuid, Path), SectionNominationsQuery, ListFile),
    responses((status = 200, content((NominationList = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No such section in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fiscal year", body = Problem, content_type = "application/problem+json")))]
pub async fn section_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<SectionNominationsQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    let org_id = auth.principal.org_id;
    let section = readable_section(&state, &auth, *id).await?;
    let fy = fiscal_year_or_current(q.fiscal_year)?;
    let rows = repo::for_section(state.db.conn(), org_id, section.id, Some(fy), q.state).await?;
    let list = NominationList {
        items: rows.iter().map(|(n, c, e)| with_course(n, c, e, section.id)).collect::<ApiResult<_>>()?,
    };
    if file.file().is_some() {
        let name = format!("kenshu-{}-section-{}-nominations", fy.year(), section.code);
        return file.download(&history_table(&state, org_id, &list).await?, &name);
    }
    Ok(HttpResponse::Ok().json(list))
}
