//! 未受講者: who has not yet taken the courses HR names.

use super::*;
use kenshu_persistence::entities::employee;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapQuery {
    /// These courses (comma-separated ids), and the same courses by title in other years.
    pub course_ids: Option<String>,
    /// With `course_number`: that course of `fiscal_year` (and by title in other years); alone,
    /// every course of the category; with `course_q`, limits the text search.
    pub course_category: Option<kenshu_domain::catalogue::Category>,
    /// The course's number within `course_category` in `fiscal_year`.
    #[param(minimum = 1, maximum = 999)]
    pub course_number: Option<i32>,
    /// A course title exactly (メンタルヘルスセミナーⅠ names Ⅰ only, in every year), or else text
    /// in courses' title, purpose or content, in any fiscal year (人権 …).
    #[param(max_length = 200)]
    pub course_q: Option<String>,
    /// Only staff hired at least this many fiscal years before `fiscal_year`.
    #[param(minimum = 0, maximum = 60)]
    pub min_years_since_hire: Option<u32>,
    /// Defaults to the current fiscal year (Japan time).
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
    pub section_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// An employee who has not yet taken the courses asked about.
#[derive(Debug, Serialize, ToSchema)]
pub struct GapEmployee {
    pub id: Uuid,
    pub employee_no: String,
    pub name: String,
    pub section_id: Uuid,
    pub grade: String,
    pub hire_date: chrono::NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GapPage {
    /// How many courses (over all fiscal years) the course filter matched.
    pub courses_considered: u64,
    /// Those courses, newest fiscal year first, in plan order.
    pub courses: Vec<CourseRefDto>,
    /// Active staff who completed none of them, in employee-number order.
    pub items: Vec<GapEmployee>,
    pub next_cursor: Option<String>,
}

/// 未受講者: the staff in a gap list as a table.
async fn gap_table(state: &AppState, org_id: Uuid, staff: &[employee::Model]) -> ApiResult<Table> {
    let units = structure::unit_names(state.db.conn(), org_id, staff.iter().map(|e| e.section_id)).await?;
    let mut table = Table::new("未受講者", &[&PERSON_HEADERS[..], &["職級", "採用日"]].concat());
    for e in staff {
        let mut row = person_cells(&e.employee_no, &e.name, units.get(&e.section_id));
        row.extend([(&e.grade).into(), e.hire_date.into()]);
        table.push(row);
    }
    Ok(table)
}

/// Who has not yet taken X (HR, auditors): for example staff hired 5 or more years ago who never
/// completed a human-rights course (`course_q=人権&min_years_since_hire=5`); `format=csv` or
/// `xlsx` for the whole list as a file.
#[utoipa::path(get, operation_id = "training_gaps", path = "/api/v1/training-gaps", tag = "selection", params(GapQuery, ListFile),
    responses((status = 200, content((GapPage = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, description = "No course named, or the courses named match none; invalid year, cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn training_gaps(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<GapQuery>,
    file: web::Query<ListFile>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadNominations)?;
    let q = q.into_inner();
    let mut errors = Vec::new();
    let ids: Vec<Uuid> = match q.course_ids.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .filter_map(|s| {
                Uuid::parse_str(s.trim())
                    .map_err(|_| {
                        errors.push(FieldError::format(
                            "course_ids",
                            format!("'{}' is not a course id", s.trim()),
                        ))
                    })
                    .ok()
            })
            .collect(),
    };
    if q.course_q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        errors.push(FieldError::length("course_q", "at most 200 characters"));
    }
    if q.min_years_since_hire.is_some_and(|y| y > 60) {
        errors.push(FieldError::range("min_years_since_hire", "at most 60"));
    }
    if q.course_number.is_some_and(|n| !(1..=999).contains(&n)) {
        errors.push(FieldError::range("course_number", "1 to 999"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let scope = "training-gaps";
    let page = file.page(scope, q.limit, q.cursor.as_deref())?;
    let filter = repo::GapFilter {
        courses: kenshu_domain::selection::GapCourses {
            ids,
            category: q.course_category,
            number: q.course_number,
            text: q.course_q,
        },
        min_years_since_hire: q.min_years_since_hire,
        fiscal_year: fiscal_year_or_current(q.fiscal_year)?,
        section_id: q.section_id,
    };
    let (courses, result) =
        repo::training_gaps(state.db.conn(), auth.principal.org_id, &filter, &page).await?;
    if file.file().is_some() {
        file.check_whole(&result)?;
        let table = gap_table(&state, auth.principal.org_id, &result.items).await?;
        return file.download(&table, &format!("kenshu-{}-training-gaps", filter.fiscal_year.year()));
    }
    Ok(HttpResponse::Ok().json(GapPage {
        courses_considered: courses.len() as u64,
        courses: courses
            .iter()
            .map(|c| CourseRefDto {
                id: c.id,
                fiscal_year: c.fiscal_year,
                category: c.category.clone(),
                number: c.number,
                title: c.title.clone(),
            })
            .collect(),
        items: result
            .items
            .iter()
            .map(|e| GapEmployee {
                id: e.id,
                employee_no: e.employee_no.clone(),
                name: e.name.clone(),
                section_id: e.section_id,
                grade: e.grade.clone(),
                hire_date: e.hire_date,
            })
            .collect(),
        next_cursor: encode_cursor(scope, result.next),
    }))
}
