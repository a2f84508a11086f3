//! A year's catalogue as a file: import (CSV or JSON; dry run; all-or-nothing; idempotent by
//! category and number) and export (CSV for Excel in UTF-8 with BOM or Shift_JIS, or JSON).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::catalogue_io::{
    read_csv, table, validate_rows, CatalogueFile, CourseKey, ImportRow, PlanText,
};
use kenshu_domain::roster_import::RowError;
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use kenshu_persistence::repo::catalogue as repo;
use kenshu_persistence::repo::{org, RepoError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::http::path_year;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::routes::files::{
    download, encoding_of, file_error, read_body, EncodingParam, ExportFormat, FileFormat,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueImportQuery {
    /// Validate and report without writing.
    #[serde(default)]
    pub dry_run: bool,
    /// CSV only: overrides the `charset` of the Content-Type.
    pub encoding: Option<EncodingParam>,
}

/// What a catalogue import did, or would do on a dry run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "dry_run": false, "plan_created": true, "courses": 61, "created": 61, "updated": 0, "unchanged": 0,
    "not_in_file": []
}))]
pub struct CatalogueImportReport {
    pub dry_run: bool,
    pub plan_created: bool,
    /// Courses in the file.
    pub courses: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Keys (階層別-1) of the plan's courses the file does not mention; they are left as they are.
    pub not_in_file: Vec<String>,
}

/// Import a year's catalogue (HR, importer). The body is CSV (`text/csv`, UTF-8 or Shift_JIS;
/// headers 区分, No, 研修名, 目的, 内容, 対象, 対象ルール, 実施時期, 実施方法, 研修機関, 人数, 報告書,
/// 備考, 柱, ねらい, 位置づけ) or JSON (`application/json`, the form the JSON export writes).
/// Courses are matched by category and number: new ones are added as drafts, stored ones
/// updated; importing the same file again changes nothing. One bad row rejects the file.
#[utoipa::path(post, operation_id = "import_catalogue", path = "/api/v1/plans/{fiscal_year}/import", tag = "catalogue",
    params(("fiscal_year" = i32, Path), CatalogueImportQuery),
    request_body(content(
        (CatalogueFile = "application/json"),
        (String = "text/csv", example = "区分,No,研修名,対象ルール,実施時期\n階層別,6,採用後２次研修,designation: years_after_hire(3),7月\n"))),
    responses((status = 200, body = CatalogueImportReport),
        (status = 404, description = "The fiscal year is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The catalogue changed while the import ran; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither CSV nor JSON, or an unknown charset", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file cannot be read (import-file) or has invalid rows (import-rejected, every row error; for JSON the line is the course's position from 1)", body = Problem, content_type = "application/problem+json")))]
pub async fn import_catalogue(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    year: web::Path<i32>,
    query: web::Query<CatalogueImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ImportCatalogue)?;
    let fy = path_year(*year)?;
    let json =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
            ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json")
        });
    let encoding = if json { None } else { Some(encoding_of(&req, query.encoding)?) };
    let body = read_body(payload, state.config.max_upload_bytes).await?;
    // Cells that do not read (CSV) are reported together with rows that do not validate.
    let (plan_text, rows, mut errors, unreadable): (
        Option<PlanText>,
        Vec<ImportRow>,
        Vec<RowError>,
        Vec<CourseKey>,
    ) = match encoding {
        None => {
            let file: CatalogueFile = serde_json::from_slice(&body).map_err(|e| {
                if e.is_data() {
                    ApiError::validation(FieldError::format("body", e.to_string()))
                } else {
                    crate::problem::not_json(&e)
                }
            })?;
            let (plan, rows) = file.into_rows();
            (plan, rows, Vec::new(), Vec::new())
        }
        Some(encoding) => {
            let read = read_csv(&body, encoding).map_err(file_error)?;
            (None, read.rows, read.errors, read.keys_of_bad_rows)
        }
    };
    if rows.is_empty() && errors.is_empty() {
        return Err(ApiError::ImportFile(Words::fixed(
            "the file holds no courses",
            "ファイルに研修がありません",
        )));
    }
    let plan_text = plan_text.map(|t| t.validate(fy)).transpose().map_err(ApiError::Validation)?;
    let org_id = auth.principal.org_id;
    let ladder = org::ladder(state.db.conn(), org_id).await?;
    let txn = state.db.begin_write().await?;
    let mut known = repo::plan_course_keys(&txn, org_id, fy).await?;
    known.extend(unreadable);
    let courses = match validate_rows(rows, fy, &known, &ladder) {
        Ok(courses) if errors.is_empty() => courses,
        Ok(_) => return Err(ApiError::ImportRejected(errors)),
        Err(invalid) => {
            errors.extend(invalid);
            errors.sort_by_key(|e| e.line);
            return Err(ApiError::ImportRejected(errors));
        }
    };
    let stats = repo::import_catalogue(&txn, &auth.actor(), fy, plan_text.as_ref(), &courses, query.dry_run)
        .await
        .map_err(|e| match e {
            // Another writer changed a course between reading and writing it.
            RepoError::Stale { .. } => ApiError::Conflict(Words::fixed(
                "the catalogue changed while the import ran; nothing was written, send the file again",
                "取込中に研修計画が変更されました。何も書き込んでいません。ファイルをもう一度送ってください",
            )),
            other => other.into(),
        })?;
    if query.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
        crate::routes::import::analyze_after_bulk(&state, &["course", "course_session"]).await;
    }
    Ok(HttpResponse::Ok().json(CatalogueImportReport {
        dry_run: query.dry_run,
        plan_created: stats.plan_created,
        courses: courses.len() as u64,
        created: stats.created,
        updated: stats.updated,
        unchanged: stats.unchanged,
        not_in_file: stats.not_in_file,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueExportQuery {
    #[serde(default)]
    pub format: ExportFormat,
    /// CSV only: `shift_jis` (CP932) for systems that expect it; otherwise UTF-8 with a BOM,
    /// which Excel needs to open Japanese text correctly.
    pub encoding: Option<EncodingParam>,
}

/// Download a year's catalogue, drafts included (HR, auditors, importer), as CSV that Excel
/// opens correctly in Japanese, or as JSON (both import back unchanged), or as an XLSX workbook.
#[utoipa::path(get, operation_id = "export_catalogue", path = "/api/v1/plans/{fiscal_year}/export", tag = "catalogue",
    params(("fiscal_year" = i32, Path), CatalogueExportQuery),
    responses(
        (status = 200, description = "The catalogue file", content(
            (CatalogueFile = "application/json"),
            (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "No plan for this year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The catalogue holds characters Shift_JIS cannot encode", body = Problem, content_type = "application/problem+json")))]
pub async fn export_catalogue(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
    query: web::Query<CatalogueExportQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ExportCatalogue)?;
    let fy = path_year(*year)?;
    let (plan, courses) = repo::export_catalogue(state.db.conn(), auth.principal.org_id, fy).await?;
    let name = format!("kenshu-plan-{}", fy.year());
    if query.format == ExportFormat::Json {
        let file = CatalogueFile {
            plan: Some(PlanText {
                title: Some(plan.title.clone()),
                policy: plan.policy.clone(),
                focus_areas: repo::plan_focus_areas(&plan)?,
            }),
            courses,
        };
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.json\"")))
            .json(file));
    }
    let file = query.format.file().unwrap_or(FileFormat::Csv);
    download(&table(&courses), file, query.encoding.unwrap_or_default(), &name)
}
