//! 指名: designation runs (a course, a whole plan) and nominations loaded from a file.

use super::*;
use kenshu_domain::Words;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DesignationQuery {
    /// Report who would be designated without writing (the preview); false confirms.
    #[serde(default)]
    pub dry_run: bool,
    /// Names listed per course and list, 0–1000 (default 100); the counts are always complete.
    #[param(minimum = 0, maximum = 1000)]
    pub limit: Option<usize>,
}

/// What designation did for one course, or would do on a dry run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "course_id": "01939a4e-7c1a-7d2e-8f00-0000000000c1", "title": "採用後２次研修", "dry_run": true,
    "new_count": 19, "selected": 19, "waitlisted": 0, "already": 0,
    "new": [{"id": "01939a4e-7c1a-7d2e-8f00-000000000001", "employee_no": "10011", "name": "伊勢原 花子"}],
    "no_longer_matching_count": 0, "no_longer_matching": []
}))]
pub struct DesignationReport {
    pub course_id: Uuid,
    pub title: String,
    pub dry_run: bool,
    /// Matched and not yet nominated: designated now (or on confirmation).
    pub new_count: u64,
    /// Of the new, how many get a place and how many wait (beyond the course's headcount).
    pub selected: u64,
    pub waitlisted: u64,
    /// Matched and already nominated: left as they are, so reruns change nothing.
    pub already: u64,
    pub new: Vec<EmployeeRefDto>,
    /// Designated earlier but no longer matched (promoted, transferred, left): for HR to review;
    /// nothing is cancelled by itself.
    pub no_longer_matching_count: u64,
    pub no_longer_matching: Vec<EmployeeRefDto>,
}

fn report(course: &CourseRecord, o: &DesignationOutcome, dry_run: bool, limit: usize) -> DesignationReport {
    DesignationReport {
        course_id: o.course_id,
        title: course.model.title.clone(),
        dry_run,
        new_count: o.new.len() as u64,
        selected: o.selected,
        waitlisted: o.waitlisted,
        already: o.already,
        new: o.new.iter().take(limit).map(EmployeeRefDto::from).collect(),
        no_longer_matching_count: o.no_longer_matching.len() as u64,
        no_longer_matching: o.no_longer_matching.iter().take(limit).map(EmployeeRefDto::from).collect(),
    }
}

fn limit_of(q: &DesignationQuery) -> ApiResult<usize> {
    let limit = q.limit.unwrap_or(100);
    if limit > 1000 {
        return Err(ApiError::validation(FieldError::range("limit", "must be between 0 and 1000")));
    }
    Ok(limit)
}

async fn run(
    state: &AppState,
    auth: &Auth,
    fy: FiscalYear,
    courses: &[CourseRecord],
    dry_run: bool,
) -> ApiResult<Vec<DesignationOutcome>> {
    let ladder = org::ladder(state.db.conn(), auth.principal.org_id).await?;
    let txn = state.db.begin_write().await?;
    let outcomes = repo::designate(&txn, &auth.actor(), fy, courses, &ladder, dry_run).await?;
    if dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
        // Only the table that grew by the run's rows: its one audit record per course changes
        // no plan, and `ANALYZE audit_log` cost ~120 ms at 50,000 staff. A rerun that finds
        // nobody new changed nothing to re-plan.
        if outcomes.iter().any(|o| !o.new.is_empty()) {
            crate::routes::import::analyze_after_bulk(state, &["nomination"]).await;
        }
    }
    Ok(outcomes)
}

/// Designate (指名) for one course (HR): every active employee its designation rules match who
/// has no nomination for it yet. Preview with `dry_run=true` (drafts too), then confirm once the
/// course and its plan are published; a rerun adds only the newly matching and reports who no
/// longer matches.
#[utoipa::path(post, operation_id = "designate_course", path = "/api/v1/courses/{id}/designation", tag = "selection",
    params(("id" = Uuid, Path), DesignationQuery),
    responses((status = 200, body = DesignationReport),
        (status = 404, description = "No such course", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The course is cancelled, or not yet published (confirm only), or a nomination was added meanwhile; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit", body = Problem, content_type = "application/problem+json")))]
pub async fn designate_course(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    q: web::Query<DesignationQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::RunDesignation)?;
    let limit = limit_of(&q)?;
    let course = catalogue::get_course(state.db.conn(), auth.principal.org_id, *id).await?;
    if course.status() == CourseStatus::Cancelled {
        return Err(ApiError::Conflict(Words::fixed(
            "the course is cancelled",
            "この研修は中止されています",
        )));
    }
    if !q.dry_run
        && (course.status() != CourseStatus::Published
            || !catalogue::plan_published(state.db.conn(), &course).await?)
    {
        // Staff see their own nominations, so confirming on a draft would show them the draft.
        return Err(ApiError::Conflict(Words::fixed(
            "publish the course and its plan before confirming designations; a preview (dry_run=true) works on drafts",
            "指名を確定する前に研修と研修計画を公開してください。下書きでも試算（dry_run=true）はできます",
        )));
    }
    let fy = course.fiscal_year();
    let courses = [course];
    let outcomes = run(&state, &auth, fy, &courses, q.dry_run).await?;
    Ok(HttpResponse::Ok().json(report(&courses[0], &outcomes[0], q.dry_run, limit)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDesignationReport {
    pub fiscal_year: i32,
    pub dry_run: bool,
    /// New designations over all courses.
    pub new_count: u64,
    /// Courses with designation rules, in plan order.
    pub courses: Vec<DesignationReport>,
}

/// Designate for every course of a year's plan that has designation rules (HR), reading the
/// roster once. A preview covers draft and published courses; confirming needs a published plan
/// and covers its published courses. Cancelled courses are skipped.
#[utoipa::path(post, operation_id = "designate_plan", path = "/api/v1/plans/{fiscal_year}/designation", tag = "selection",
    params(("fiscal_year" = i32, Path), DesignationQuery),
    responses((status = 200, body = PlanDesignationReport),
        (status = 404, description = "No plan for this year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is not published (confirm only), or a nomination was added meanwhile; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit", body = Problem, content_type = "application/problem+json")))]
pub async fn designate_plan(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<i32>,
    q: web::Query<DesignationQuery>,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::RunDesignation)?;
    let limit = limit_of(&q)?;
    let fy = path_year(*year)?;
    let org_id = auth.principal.org_id;
    let plan = catalogue::get_plan(state.db.conn(), org_id, fy).await?;
    if !q.dry_run && plan.status()? != kenshu_domain::catalogue::PlanStatus::Published {
        return Err(ApiError::Conflict(Words::fixed(
            "publish the plan before confirming designations; a preview (dry_run=true) works on drafts",
            "指名を確定する前に研修計画を公開してください。下書きでも試算（dry_run=true）はできます",
        )));
    }
    let mut courses = catalogue::running_courses(state.db.conn(), org_id, fy).await?;
    courses.retain(|c| {
        c.rules.iter().any(|r| r.route == Route::Designation)
            && (q.dry_run || c.status() == CourseStatus::Published)
    });
    let outcomes = run(&state, &auth, fy, &courses, q.dry_run).await?;
    let reports: Vec<DesignationReport> =
        courses.iter().zip(&outcomes).map(|(c, o)| report(c, o, q.dry_run, limit)).collect();
    Ok(HttpResponse::Ok().json(PlanDesignationReport {
        fiscal_year: fy.year(),
        dry_run: q.dry_run,
        new_count: reports.iter().map(|r| r.new_count).sum(),
        courses: reports,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NominationImportQuery {
    /// Validate and report without writing.
    #[serde(default)]
    pub dry_run: bool,
    /// Overrides the `charset` of the Content-Type.
    pub encoding: Option<crate::routes::files::EncodingParam>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"dry_run": false, "rows": 3, "created": 2, "unchanged": 1, "waitlisted": 0}))]
pub struct NominationImportReport {
    pub dry_run: bool,
    pub rows: u64,
    pub created: u64,
    /// Already nominated for the course: left as they are, so the same file twice changes nothing.
    pub unchanged: u64,
    /// Created designations beyond the course's headcount, waiting in file order.
    pub waitlisted: u64,
}

/// Import nominations for a year's courses from CSV (HR, importer): 区分, No, 職員番号, 選考方法
/// (指名/推薦/公募), 理由. New nominations start in their route's first state; one bad row rejects
/// the file and every bad row is listed.
#[utoipa::path(post, operation_id = "import_nominations", path = "/api/v1/plans/{fiscal_year}/nominations/import", tag = "selection",
    params(("fiscal_year" = i32, Path), NominationImportQuery),
    request_body(content = String, content_type = "text/csv",
        example = "区分,No,職員番号,選考方法,理由\n階層別,12,10004,推薦,マネジメント力の強化\n"),
    responses((status = 200, body = NominationImportReport),
        (status = 404, description = "No plan for this year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A nomination was added while the import ran; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV, or an unknown charset", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file cannot be read (import-file) or has invalid rows (import-rejected)", body = Problem, content_type = "application/problem+json")))]
pub async fn import_nominations(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    year: web::Path<i32>,
    q: web::Query<NominationImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ImportCatalogue)?;
    let fy = path_year(*year)?;
    let encoding = crate::routes::files::encoding_of(&req, q.encoding)?;
    let body = crate::routes::files::read_body(payload, state.config.max_upload_bytes).await?;
    catalogue::get_plan(state.db.conn(), auth.principal.org_id, fy).await?;
    let read =
        kenshu_domain::selection_io::read_csv(&body, encoding).map_err(crate::routes::files::file_error)?;
    if read.rows.is_empty() && read.errors.is_empty() {
        return Err(ApiError::ImportFile(Words::fixed(
            "the file holds no nominations",
            "ファイルに受講者の指定がありません",
        )));
    }
    let txn = state.db.begin_write().await?;
    let outcome = repo::import_nominations(&txn, &auth.actor(), fy, &read.rows, q.dry_run).await?;
    let stats = match outcome {
        Ok(stats) if read.errors.is_empty() => stats,
        Ok(_) => return Err(ApiError::ImportRejected(read.errors)),
        Err(mut rows) => {
            rows.extend(read.errors);
            rows.sort_by_key(|e| e.line);
            return Err(ApiError::ImportRejected(rows));
        }
    };
    if q.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(HttpResponse::Ok().json(NominationImportReport {
        dry_run: q.dry_run,
        rows: (read.rows.len()) as u64,
        created: stats.created,
        unchanged: stats.unchanged,
        waitlisted: stats.waitlisted,
    }))
}
