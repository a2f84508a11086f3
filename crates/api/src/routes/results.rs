//! 研修実績: a fiscal year's training results per course, category, grade and department, as
//! JSON, as CSV that Excel opens correctly in Japanese, or as XLSX.

use std::collections::BTreeMap;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::catalogue::{Category, CourseStatus};
use kenshu_domain::results::{tally_table, Tally};
use kenshu_domain::spreadsheet::{Cell, Table};
use kenshu_persistence::repo::{org, results as repo, structure};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::path_year;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::files::{download, EncodingParam, ExportFormat};
use crate::routes::shared::CourseRefDto;
use crate::state::AppState;

/// One course's results.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CourseResult {
    pub course: CourseRefDto,
    pub status: CourseStatus,
    #[serde(flatten)]
    pub tally: Tally,
    /// 修了率 in tenths of a percent (857 = 85.7 %); null when nobody was selected.
    pub completion_permille: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryResult {
    pub category: Category,
    /// 階層別, 課題別・職能別 …
    pub label: String,
    #[serde(flatten)]
    pub tally: Tally,
    pub completion_permille: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GradeResult {
    /// The trainee's grade (職級) on the roster today.
    pub grade: String,
    #[serde(flatten)]
    pub tally: Tally,
    pub completion_permille: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DepartmentResult {
    /// The trainee's department (部) on the roster today; null for staff whose section is gone.
    pub department_id: Option<Uuid>,
    pub department: String,
    #[serde(flatten)]
    pub tally: Tally,
    pub completion_permille: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TotalResult {
    #[serde(flatten)]
    pub tally: Tally,
    pub completion_permille: Option<u32>,
}

/// A fiscal year's results.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct YearResults {
    pub fiscal_year: i32,
    /// In plan order; drafts only when they have nominations.
    pub courses: Vec<CourseResult>,
    /// In the plan's category order.
    pub by_category: Vec<CategoryResult>,
    /// From the top of the grade ladder down; grades not on it last.
    pub by_grade: Vec<GradeResult>,
    /// By department name.
    pub by_department: Vec<DepartmentResult>,
    pub total: TotalResult,
}

/// Which table a CSV holds.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ResultsTable {
    #[default]
    Course,
    Category,
    Grade,
    Department,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// `json` (the default here), `csv` or `xlsx`.
    pub format: Option<ExportFormat>,
    /// A file only: one row per course (with a total), category, grade or department.
    #[serde(default)]
    pub by: ResultsTable,
    /// CSV only: `shift_jis` (CP932); otherwise UTF-8 with a BOM, which Excel needs.
    pub encoding: Option<EncodingParam>,
}

fn results_table(r: &YearResults, by: ResultsTable) -> Table {
    let total = || (vec![Cell::from("合計")], &r.total.tally);
    match by {
        ResultsTable::Course => {
            let mut rows: Vec<(Vec<Cell>, &Tally)> = r
                .courses
                .iter()
                .map(|c| {
                    let category = Category::parse(&c.course.category).map(|c| c.japanese());
                    (vec![category.into(), c.course.number.into(), (&c.course.title).into()], &c.tally)
                })
                .collect();
            rows.push((vec!["合計".into(), Cell::Empty, Cell::Empty], &r.total.tally));
            tally_table("研修実績（研修別）", &["区分", "No", "研修名"], rows)
        }
        ResultsTable::Category => {
            let mut rows: Vec<(Vec<Cell>, &Tally)> =
                r.by_category.iter().map(|c| (vec![(&c.label).into()], &c.tally)).collect();
            rows.push(total());
            tally_table("研修実績（区分別）", &["区分"], rows)
        }
        ResultsTable::Grade => {
            let mut rows: Vec<(Vec<Cell>, &Tally)> =
                r.by_grade.iter().map(|g| (vec![(&g.grade).into()], &g.tally)).collect();
            rows.push(total());
            tally_table("研修実績（職級別）", &["職級"], rows)
        }
        ResultsTable::Department => {
            let mut rows: Vec<(Vec<Cell>, &Tally)> =
                r.by_department.iter().map(|d| (vec![(&d.department).into()], &d.tally)).collect();
            rows.push(total());
            tally_table("研修実績（部別）", &["部"], rows)
        }
    }
}

/// A fiscal year's results (研修実績) per course, category and grade (HR, auditors): nominations
/// by route, places, attendance, completion and its rate, absences with and without a received
/// notice, and post-training reports on time, late and outstanding; by course, category, grade
/// and department. JSON, or one table (chosen with `by`) as CSV (`format=csv`) that Excel opens
/// correctly in Japanese or as XLSX (`format=xlsx`).
#[utoipa::path(get, operation_id = "year_results", path = "/api/v1/plans/{fiscal_year}/results", tag = "reports",
    params(("fiscal_year" = i32, Path), ResultsQuery),
    responses(
        (status = 200, description = "The results", content((YearResults = "application/json"), (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "The fiscal year is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Shift_JIS cannot hold some characters of the results", body = Problem, content_type = "application/problem+json")))]
pub async fn year_results(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
    q: web::Query<ResultsQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ReadResults)?;
    let fy = path_year(*year)?;
    let org_id = auth.principal.org_id;
    let render = async || {
        let results = year_results_read(&state, org_id, fy).await?;
        serde_json::to_string(&results).map_err(|e| ApiError::Internal(e.to_string()))
    };
    let rendered = repo::rendered(&state.db, org_id, fy, render).await?;
    let Some(file) = q.format.and_then(ExportFormat::file) else {
        return Ok(HttpResponse::Ok().content_type(ContentType::json()).body(rendered.json.clone()));
    };
    // The tables from the year as kept: about 30 KiB to parse, where reading it takes a few
    // hundred milliseconds at 50,000 staff.
    let results: YearResults =
        serde_json::from_str(&rendered.json).map_err(|e| ApiError::Internal(e.to_string()))?;
    let by = match q.by {
        ResultsTable::Course => "course",
        ResultsTable::Category => "category",
        ResultsTable::Grade => "grade",
        ResultsTable::Department => "department",
    };
    let name = format!("kenshu-results-{}-{by}", fy.year());
    download(&results_table(&results, q.by), file, q.encoding.unwrap_or_default(), &name)
}

/// The year's results, read and counted up by course, category, grade and department.
async fn year_results_read(state: &AppState, org_id: Uuid, fy: FiscalYear) -> ApiResult<YearResults> {
    let facts = repo::facts(state.db.conn(), org_id, fy).await?;
    let ladder = org::ladder_kept(&state.db, org_id).await?;
    let units =
        structure::unit_names(state.db.conn(), org_id, facts.by_staff.iter().map(|g| g.section_id)).await?;

    let mut per_course: BTreeMap<Uuid, Tally> = BTreeMap::new();
    for g in &facts.by_course {
        per_course.entry(g.course_id).or_default().add(&g.counts);
    }
    let mut per_grade: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut per_department: BTreeMap<(&str, Option<Uuid>), Tally> = BTreeMap::new();
    for g in &facts.by_staff {
        per_grade.entry(&g.grade).or_default().add(&g.counts);
        let unit = units.get(&g.section_id);
        let department = unit.map(|u| (u.department.as_str(), Some(u.department_id))).unwrap_or_default();
        per_department.entry(department).or_default().add(&g.counts);
    }
    let mut per_category: BTreeMap<Category, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let courses: Vec<CourseResult> = facts
        .courses
        .into_iter()
        .map(|c| {
            let tally = per_course.remove(&c.course.id).unwrap_or_default();
            if let Some(cat) = Category::parse(&c.course.category) {
                per_category.entry(cat).or_default().merge(&tally);
            }
            total.merge(&tally);
            CourseResult {
                course: CourseRefDto {
                    id: c.course.id,
                    fiscal_year: c.course.fiscal_year,
                    category: c.course.category,
                    number: c.course.number,
                    title: c.course.title,
                },
                status: c.status,
                completion_permille: tally.completion_permille(),
                tally,
            }
        })
        .collect();
    let mut by_category: Vec<CategoryResult> = per_category
        .into_iter()
        .map(|(category, tally)| CategoryResult {
            category,
            label: category.japanese().to_string(),
            completion_permille: tally.completion_permille(),
            tally,
        })
        .collect();
    by_category.sort_by_key(|c| c.category.rank());
    let mut by_grade: Vec<GradeResult> = per_grade
        .into_iter()
        .map(|(grade, tally)| GradeResult {
            grade: grade.to_string(),
            completion_permille: tally.completion_permille(),
            tally,
        })
        .collect();
    by_grade.sort_by_key(|g| (ladder.rank(&g.grade).unwrap_or(usize::MAX), g.grade.clone()));
    let by_department = per_department
        .into_iter()
        .map(|((department, department_id), tally)| DepartmentResult {
            department_id,
            department: department.to_string(),
            completion_permille: tally.completion_permille(),
            tally,
        })
        .collect();
    Ok(YearResults {
        fiscal_year: fy.year(),
        courses,
        by_category,
        by_grade,
        by_department,
        total: TotalResult { completion_permille: total.completion_permille(), tally: total },
    })
}
