//! 対象者: who on the roster a course's audience rules match.

use super::*;
use kenshu_domain::FieldError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EligibleQuery {
    /// The fiscal year to evaluate in; defaults to the course's own.
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
    /// Employees listed per rule, 1–1000 (default 100); `count` is always the full number.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// An employee a rule matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct EligibleEmployee {
    pub id: Uuid,
    pub employee_no: String,
    pub name: String,
    pub section_id: Uuid,
    pub grade: String,
}

/// The employees one rule matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleMatches {
    /// Position of the rule in the course's `rules`.
    pub index: usize,
    pub route: Route,
    /// The rule in the plan's words: 採用後3年を経過した者・指名制.
    pub description: String,
    /// How many active employees match.
    pub count: usize,
    /// The first `limit` of them, in employee-number order.
    pub employees: Vec<EligibleEmployee>,
    pub truncated: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "course_id": "01939a4e-7c1a-7d2e-8f00-0000000000c1",
    "fiscal_year": 2023,
    "rules": [{"index": 0, "route": "designation", "description": "採用後3年を経過した者・指名制", "count": 1,
        "employees": [{"id": "01939a4e-7c1a-7d2e-8f00-000000000001", "employee_no": "10120", "name": "伊勢原 花子",
            "section_id": "01939a4e-7c1a-7d2e-8f00-0000000000a1", "grade": "一般"}], "truncated": false}],
    "distinct_count": 1
}))]
pub struct EligiblePreview {
    pub course_id: Uuid,
    pub fiscal_year: i32,
    pub rules: Vec<RuleMatches>,
    /// Employees matched by at least one rule.
    pub distinct_count: usize,
}

/// Preview who on the roster each audience rule of a course matches (HR, auditors).
#[utoipa::path(get, operation_id = "course_eligible", path = "/api/v1/courses/{id}/eligible", tag = "catalogue",
    params(("id" = Uuid, Path), EligibleQuery),
    responses((status = 200, body = EligiblePreview),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fiscal year or limit", body = Problem, content_type = "application/problem+json")))]
pub async fn course_eligible(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<EligibleQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::PreviewAudience)?;
    let org_id = auth.principal.org_id;
    let course = repo::get_course(state.db.conn(), org_id, *id).await?;
    let fy = match q.fiscal_year {
        Some(y) => fiscal_year("fiscal_year", y)?,
        None => course.fiscal_year(),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::validation(FieldError::range("limit", "must be between 1 and 1000")));
    }
    let ladder = org::ladder(state.db.conn(), org_id).await?;
    let roster = roster_members(state.db.conn(), org_id, None).await?;
    let mut matched_any = vec![false; roster.len()];
    let rules = course
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let mut count = 0;
            let mut employees = Vec::new();
            for (i, member) in roster.iter().enumerate() {
                if rule.matches(&member.candidate(), fy, &ladder) {
                    count += 1;
                    matched_any[i] = true;
                    if employees.len() < limit {
                        employees.push(EligibleEmployee {
                            id: member.id,
                            employee_no: member.employee_no.clone(),
                            name: member.name.clone(),
                            section_id: member.section_id,
                            grade: member.grade.clone(),
                        });
                    }
                }
            }
            RuleMatches {
                index,
                route: rule.route,
                description: rule.describe(),
                count,
                truncated: count > employees.len(),
                employees,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(EligiblePreview {
        course_id: course.model.id,
        fiscal_year: fy.year(),
        rules,
        distinct_count: matched_any.iter().filter(|m| **m).count(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyCoursesQuery {
    /// Defaults to the current fiscal year (Japan time).
    #[param(minimum = 1989, maximum = 2200)]
    pub fiscal_year: Option<i32>,
}

/// A course the caller can take, and by which routes.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyCourse {
    pub course: CourseDto,
    /// The routes of the rules that match the caller: designation means HR will designate them.
    pub routes: Vec<Route>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyCourses {
    pub fiscal_year: i32,
    pub items: Vec<MyCourse>,
}

/// Courses I can take: the published courses whose audience rules match the caller's own
/// employee record, with the route of each. Empty for callers not on the roster.
#[utoipa::path(get, operation_id = "my_courses", path = "/api/v1/me/courses", tag = "me", params(MyCoursesQuery),
    responses((status = 200, body = MyCourses),
        (status = 422, description = "Invalid fiscal year", body = Problem, content_type = "application/problem+json")))]
pub async fn my_courses(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<MyCoursesQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadCatalogue)?;
    let org_id = auth.principal.org_id;
    let fy = fiscal_year_or_current(q.fiscal_year)?;
    let mut items = Vec::new();
    // All three kept in memory: warm, the answer costs no statement.
    if let Some(me) = auth.principal.employee.as_ref() {
        if let Some(member) = roster_member_kept(&state.db, org_id, me.employee_id).await? {
            let ladder = org::ladder_kept(&state.db, org_id).await?;
            let candidate = member.candidate();
            for course in repo::published_courses_kept(&state.db, org_id, fy).await?.iter() {
                let routes = kenshu_domain::audience::matching_routes(&course.rules, &candidate, fy, &ladder);
                if !routes.is_empty() {
                    items.push(MyCourse { course: CourseDto::new(course, None), routes });
                }
            }
        }
    }
    Ok(HttpResponse::Ok().json(MyCourses { fiscal_year: fy.year(), items }))
}
