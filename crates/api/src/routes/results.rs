//! 研修実績: a fiscal year's training results per course, category and grade, as JSON or as CSV
//! that Excel opens correctly in Japanese.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::catalogue::{Category, CourseStatus};
use kenshu_domain::results::{write_table, Tally};
use kenshu_persistence::repo::{org, results as repo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Auth;
use crate::http::path_year;
use crate::problem::{ApiResult, Problem};
use crate::routes::files::ExportFormat;
use crate::routes::files::{csv_download, EncodingParam};
use crate::routes::shared::CourseRefDto;
use crate::state::AppState;

/// One course's results.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseResult {
    pub course: CourseRefDto,
    pub status: CourseStatus,
    #[serde(flatten)]
    pub tally: Tally,
    /// 修了率 in tenths of a percent (857 = 85.7 %); null when nobody was selected.
    pub completion_permille: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryResult {
    pub category: Category,
    /// 階層別, 課題別・職能別 …
    pub label: String,
    #[serde(flatten)]
    pub tally: Tally,
    pub completion_permille: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GradeResult {
    /// The trainee's grade (職級) on the roster today.
    pub grade: String,
    #[serde(flatten)]
    pub tally: Tally,
    pub completion_permille: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotalResult {
    #[serde(flatten)]
    pub tally: Tally,
    pub completion_permille: Option<u32>,
}

/// A fiscal year's results.
#[derive(Debug, Serialize, ToSchema)]
pub struct YearResults {
    pub fiscal_year: i32,
    /// In plan order; drafts only when they have nominations.
    pub courses: Vec<CourseResult>,
    /// In the plan's category order.
    pub by_category: Vec<CategoryResult>,
    /// From the top of the grade ladder down; grades not on it last.
    pub by_grade: Vec<GradeResult>,
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
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// `json` (the default here) or `csv`.
    pub format: Option<ExportFormat>,
    /// CSV only: one row per course (with a total), category or grade.
    #[serde(default)]
    pub by: ResultsTable,
    /// CSV only: `shift_jis` (CP932); otherwise UTF-8 with a BOM, which Excel needs.
    pub encoding: Option<EncodingParam>,
}

fn csv_text(r: &YearResults, by: ResultsTable) -> String {
    match by {
        ResultsTable::Course => {
            let mut rows: Vec<(Vec<String>, &Tally)> = r
                .courses
                .iter()
                .map(|c| {
                    let category =
                        Category::parse(&c.course.category).map(|c| c.japanese()).unwrap_or_default();
                    (
                        vec![category.to_string(), c.course.number.to_string(), c.course.title.clone()],
                        &c.tally,
                    )
                })
                .collect();
            rows.push((vec!["合計".into(), String::new(), String::new()], &r.total.tally));
            write_table(&["区分", "No", "研修名"], rows)
        }
        ResultsTable::Category => {
            let mut rows: Vec<(Vec<String>, &Tally)> =
                r.by_category.iter().map(|c| (vec![c.label.clone()], &c.tally)).collect();
            rows.push((vec!["合計".into()], &r.total.tally));
            write_table(&["区分"], rows)
        }
        ResultsTable::Grade => {
            let mut rows: Vec<(Vec<String>, &Tally)> =
                r.by_grade.iter().map(|g| (vec![g.grade.clone()], &g.tally)).collect();
            rows.push((vec!["合計".into()], &r.total.tally));
            write_table(&["職級"], rows)
        }
    }
}

/// A fiscal year's results (研修実績) per course, category and grade (HR, auditors): nominations
/// by route, places, attendance, completion and its rate, absences with and without a received
/// notice, and post-training reports on time, late and outstanding. JSON, or CSV (`format=csv`,
/// one table chosen with `by`) that Excel opens correctly in Japanese.
#[utoipa::path(get, operation_id = "year_results", path = "/api/v1/plans/{fiscal_year}/results", tag = "reports",
    params(("fiscal_year" = i32, Path), ResultsQuery),
    responses(
        (status = 200, description = "The results", content((YearResults = "application/json"), (String = "text/csv"))),
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
    let (courses, facts) = repo::facts(state.db.conn(), org_id, fy).await?;
    let ladder = org::ladder(state.db.conn(), org_id).await?;

    let mut per_course: BTreeMap<Uuid, Tally> = BTreeMap::new();
    let mut per_grade: BTreeMap<String, Tally> = BTreeMap::new();
    for f in &facts {
        per_course.entry(f.course_id).or_default().add(&f.facts);
        per_grade.entry(f.grade.clone()).or_default().add(&f.facts);
    }
    let mut per_category: BTreeMap<Category, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let courses: Vec<CourseResult> = courses
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
        .map(|(grade, tally)| GradeResult { grade, completion_permille: tally.completion_permille(), tally })
        .collect();
    by_grade.sort_by_key(|g| (ladder.rank(&g.grade).unwrap_or(usize::MAX), g.grade.clone()));
    let results = YearResults {
        fiscal_year: fy.year(),
        courses,
        by_category,
        by_grade,
        total: TotalResult { completion_permille: total.completion_permille(), tally: total },
    };
    if q.format == Some(ExportFormat::Csv) {
        let by = match q.by {
            ResultsTable::Course => "course",
            ResultsTable::Category => "category",
            ResultsTable::Grade => "grade",
        };
        let name = format!("kenshu-results-{}-{by}", fy.year());
        return csv_download(&csv_text(&results, q.by), q.encoding.unwrap_or_default(), &name);
    }
    Ok(HttpResponse::Ok().json(results))
}
