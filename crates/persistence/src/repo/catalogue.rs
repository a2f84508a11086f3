//! The training catalogue: plans per fiscal year, their courses and sessions. Session changes
//! are audited under their course, so a course's history shows them.

use kenshu_domain::attendance::CompletionRule;
use kenshu_domain::audience::{routes, AudienceRule};
use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::catalogue::{
    check_within, Aim, ApplicationWindow, Category, CourseData, CourseStatus, Delivery, Lecturer, PlanData,
    ReportRule, SessionData, Timing,
};
use kenshu_domain::catalogue_io::{CourseEntry, CourseKey, ValidCourse};
use kenshu_domain::text::search_key;
use kenshu_domain::FieldError;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use super::audit::{self, Change};
use super::{
    find_in_org, insert_audited, like_escape, now, save_audited, Actor, Page, PageRequest, RepoError,
};
use crate::entities::{course, course_session, employee, training_plan};

fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("catalogue values serialise")
}

/// Stored JSON is written only by this module from domain types; reading it back cannot fail
/// unless the database was edited by hand, which is reported rather than guessed around.
fn parse<T: serde::de::DeserializeOwned>(column: &str, s: &str) -> Result<T, DbErr> {
    serde_json::from_str(s).map_err(|e| DbErr::Custom(format!("course.{column} holds invalid JSON: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Plans

pub async fn list_plans(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    published_only: bool,
) -> Result<Vec<training_plan::Model>, DbErr> {
    let mut q = training_plan::Entity::find().filter(training_plan::Column::OrgId.eq(org_id));
    if published_only {
        q = q.filter(training_plan::Column::Status.eq("published"));
    }
    q.order_by_desc(training_plan::Column::FiscalYear).all(conn).await
}

pub async fn get_plan(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fy: FiscalYear,
) -> Result<training_plan::Model, RepoError> {
    training_plan::Entity::find()
        .filter(training_plan::Column::OrgId.eq(org_id))
        .filter(training_plan::Column::FiscalYear.eq(fy.year()))
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)
}

pub fn plan_focus_areas(m: &training_plan::Model) -> Result<Vec<String>, DbErr> {
    serde_json::from_str(&m.focus_areas)
        .map_err(|e| DbErr::Custom(format!("training_plan.focus_areas holds invalid JSON: {e}")))
}

pub async fn create_plan(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    fy: FiscalYear,
    data: &PlanData,
) -> Result<training_plan::Model, RepoError> {
    let at = now();
    let model = training_plan::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        fiscal_year: fy.year(),
        title: data.title.clone(),
        policy: data.policy.clone(),
        focus_areas: json(&data.focus_areas),
        status: "draft".into(),
        published_at: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(conn, actor, "plan.create", model, PLAN_TAKEN).await
}

pub async fn update_plan(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    fy: FiscalYear,
    expected_version: i32,
    data: &PlanData,
) -> Result<training_plan::Model, RepoError> {
    let before = get_plan(conn, actor.org_id, fy).await?;
    let after = training_plan::Model {
        title: data.title.clone(),
        policy: data.policy.clone(),
        focus_areas: json(&data.focus_areas),
        ..before.clone()
    };
    save_audited(conn, actor, "plan.update", &before, expected_version, after, PLAN_TAKEN).await
}

/// Publish the plan and every draft course in it; staff see the catalogue from now on.
pub async fn publish_plan(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    fy: FiscalYear,
    expected_version: i32,
) -> Result<training_plan::Model, RepoError> {
    let before = get_plan(conn, actor.org_id, fy).await?;
    if before.version != expected_version {
        return Err(RepoError::Stale { current: before.version });
    }
    let drafts = course::Entity::find()
        .filter(course::Column::OrgId.eq(actor.org_id))
        .filter(course::Column::PlanId.eq(before.id))
        .filter(course::Column::Status.eq(CourseStatus::Draft.as_str()))
        .all(conn)
        .await?;
    for c in drafts {
        let after = course::Model { status: CourseStatus::Published.as_str().into(), ..c.clone() };
        save_audited(conn, actor, "course.publish", &c, c.version, after, NUMBER_TAKEN).await?;
    }
    if before.status()? == kenshu_domain::catalogue::PlanStatus::Published {
        return Ok(before);
    }
    let after =
        training_plan::Model { status: "published".into(), published_at: Some(now()), ..before.clone() };
    save_audited(conn, actor, "plan.publish", &before, expected_version, after, PLAN_TAKEN).await
}

/// Copy a plan's courses (with their rules, institutions and positioning, not their sessions)
/// into another fiscal year as drafts: each year's plan starts from last year's. The target plan
/// is created when missing; one that already has courses is refused.
pub async fn copy_plan(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    from: FiscalYear,
    to: FiscalYear,
) -> Result<(training_plan::Model, usize), RepoError> {
    let source = get_plan(conn, actor.org_id, from).await?;
    let target = match get_plan(conn, actor.org_id, to).await {
        Ok(t) => t,
        Err(RepoError::NotFound) => {
            let data = PlanData {
                title: source.title.replace(&from.japanese_label(), &to.japanese_label()),
                policy: source.policy.clone(),
                focus_areas: plan_focus_areas(&source)?,
            };
            create_plan(conn, actor, to, &data).await?
        }
        Err(e) => return Err(e),
    };
    let existing = course::Entity::find()
        .filter(course::Column::OrgId.eq(actor.org_id))
        .filter(course::Column::PlanId.eq(target.id))
        .count(conn)
        .await?;
    if existing > 0 {
        return Err(RepoError::Conflict(format!(
            "the FY{} plan already has {existing} courses; copying would mix two plans",
            to.year()
        )));
    }
    let courses = course::Entity::find()
        .filter(course::Column::OrgId.eq(actor.org_id))
        .filter(course::Column::PlanId.eq(source.id))
        .order_by_asc(course::Column::CategoryRank)
        .order_by_asc(course::Column::Number)
        .all(conn)
        .await?;
    let at = now();
    let new_ids: std::collections::HashMap<Uuid, Uuid> =
        courses.iter().map(|c| (c.id, Uuid::now_v7())).collect();
    for c in &courses {
        let copy = course::Model {
            id: new_ids[&c.id],
            plan_id: target.id,
            fiscal_year: to.year(),
            within_course_id: c.within_course_id.and_then(|w| new_ids.get(&w).copied()),
            status: CourseStatus::Draft.as_str().into(),
            version: 1,
            created_at: at,
            updated_at: at,
            ..c.clone()
        };
        course::Entity::insert(course::ActiveModel::from(copy.clone())).exec_without_returning(conn).await?;
        audit::record(conn, actor, Change::new("course.copy", "course", Some(copy.id), Some(c), Some(&copy)))
            .await?;
    }
    Ok((target, courses.len()))
}

// ---------------------------------------------------------------------------------------------
// Courses

/// A stored course with its JSON columns read back into domain types.
#[derive(Debug, Clone)]
pub struct CourseRecord {
    pub model: course::Model,
    pub rules: Vec<AudienceRule>,
    pub timing: Timing,
    pub report: ReportRule,
    pub completion: CompletionRule,
    pub aims: Vec<Aim>,
    status: CourseStatus,
    pub category: Category,
    pub delivery: Delivery,
    pub pillar: kenshu_domain::catalogue::Pillar,
}

impl CourseRecord {
    pub fn from_model(model: course::Model) -> Result<Self, DbErr> {
        Ok(Self {
            status: model.status()?,
            category: model.category()?,
            delivery: model.delivery()?,
            pillar: model.pillar()?,
            rules: parse("rules", &model.rules)?,
            timing: parse("timing", &model.timing)?,
            report: parse("report", &model.report)?,
            completion: parse("completion", &model.completion)?,
            aims: parse("aims", &model.aims)?,
            model,
        })
    }

    pub fn fiscal_year(&self) -> FiscalYear {
        FiscalYear::new(self.model.fiscal_year).expect("stored fiscal years are in range")
    }

    pub fn application_window(&self) -> Option<ApplicationWindow> {
        match (self.model.application_opens, self.model.application_closes) {
            (Some(opens), Some(closes)) => Some(ApplicationWindow { opens, closes }),
            _ => None,
        }
    }

    pub fn status(&self) -> CourseStatus {
        self.status
    }

    /// 派遣研修: in the dispatch category or held at an outside institution.
    pub fn is_dispatch(&self) -> bool {
        self.category == Category::Dispatch || self.delivery == Delivery::Dispatch
    }
}

fn months_mask(t: Timing) -> i32 {
    t.months().iter().fold(0, |mask, m| mask | (1 << m))
}

fn course_model(
    data: &CourseData,
    base: &course::Model,
    within: Option<Uuid>,
    status: CourseStatus,
) -> course::Model {
    let text = [Some(data.title.as_str()), data.purpose.as_deref(), data.content.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    course::Model {
        category: data.category.as_str().into(),
        category_rank: data.category.rank(),
        number: data.number as i32,
        title: data.title.clone(),
        purpose: data.purpose.clone(),
        content: data.content.clone(),
        audience: data.audience.clone(),
        rules: json(&data.rules),
        routes: json(&routes(&data.rules)),
        timing: json(&data.timing),
        months_mask: months_mask(data.timing),
        delivery: data.delivery.as_str().into(),
        institution: data.institution.clone(),
        headcount: data.headcount.map(|h| h as i32),
        report: json(&data.report),
        completion: json(&data.completion),
        application_opens: data.application_window.map(|w| w.opens),
        application_closes: data.application_window.map(|w| w.closes),
        notes: data.notes.clone(),
        pillar: data.pillar.as_str().into(),
        aims: json(&data.aims),
        within_course_id: within,
        status: status.as_str().into(),
        search_key: search_key(&text),
        ..base.clone()
    }
}

/// A course row with every field empty, to be filled by `course_model`.
fn blank_course() -> course::Model {
    let at = now();
    course::Model {
        id: Uuid::nil(),
        org_id: Uuid::nil(),
        plan_id: Uuid::nil(),
        fiscal_year: 0,
        category: String::new(),
        category_rank: 0,
        number: 0,
        title: String::new(),
        purpose: None,
        content: None,
        audience: None,
        rules: String::new(),
        routes: String::new(),
        timing: String::new(),
        months_mask: 0,
        delivery: String::new(),
        institution: None,
        headcount: None,
        report: String::new(),
        completion: String::new(),
        application_opens: None,
        application_closes: None,
        notes: None,
        pillar: String::new(),
        aims: String::new(),
        within_course_id: None,
        status: String::new(),
        search_key: String::new(),
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

const PLAN_TAKEN: &str = "a plan for this fiscal year exists";
const NUMBER_TAKEN: &str = "a course with this category and number exists in this fiscal year";

pub async fn get_course(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<CourseRecord, RepoError> {
    let model = find_in_org(conn, org_id, id).await?;
    Ok(CourseRecord::from_model(model)?)
}

/// 位置づけ: the parent is another course of the same organisation and fiscal year.
async fn check_within_course(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fy: FiscalYear,
    own_id: Option<Uuid>,
    within: Option<Uuid>,
) -> Result<(), RepoError> {
    let Some(parent_id) = within else { return Ok(()) };
    let parent = match get_course(conn, org_id, parent_id).await {
        Ok(p) => p,
        Err(RepoError::NotFound) => {
            return Err(RepoError::Invalid(vec![FieldError::new(
                "within_course_id",
                "no such course in this organisation",
            )]))
        }
        Err(e) => return Err(e),
    };
    check_within(fy, parent.fiscal_year(), own_id == Some(parent_id))
        .map_err(|e| RepoError::Invalid(vec![FieldError::new("within_course_id", e.reason)]))?;
    if parent.model.within_course_id.is_some_and(|p| Some(p) == own_id) {
        return Err(RepoError::Invalid(vec![FieldError::new(
            "within_course_id",
            "the course it would be positioned within is itself positioned within this course",
        )]));
    }
    Ok(())
}

pub async fn create_course(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    fy: FiscalYear,
    data: &CourseData,
    within: Option<Uuid>,
    status: CourseStatus,
) -> Result<CourseRecord, RepoError> {
    let plan = match get_plan(conn, actor.org_id, fy).await {
        Ok(p) => p,
        Err(RepoError::NotFound) => {
            return Err(RepoError::Invalid(vec![FieldError::new(
                "fiscal_year",
                format!("there is no plan for FY{}; create it first", fy.year()),
            )]))
        }
        Err(e) => return Err(e),
    };
    check_within_course(conn, actor.org_id, fy, None, within).await?;
    let at = now();
    let base = course::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        plan_id: plan.id,
        fiscal_year: fy.year(),
        version: 1,
        created_at: at,
        updated_at: at,
        ..blank_course()
    };
    let model = course_model(data, &base, within, status);
    let model = insert_audited(conn, actor, "course.create", model, NUMBER_TAKEN).await?;
    Ok(CourseRecord::from_model(model)?)
}

pub async fn update_course(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    data: &CourseData,
    within: Option<Uuid>,
    status: CourseStatus,
) -> Result<CourseRecord, RepoError> {
    let before = get_course(conn, actor.org_id, id).await?;
    if before.model.version != expected_version {
        return Err(RepoError::Stale { current: before.model.version });
    }
    if !before.status().can_become(status) {
        return Err(RepoError::Invalid(vec![FieldError::new(
            "status",
            format!("a {} course cannot become {}", before.status().as_str(), status.as_str()),
        )]));
    }
    check_within_course(conn, actor.org_id, before.fiscal_year(), Some(id), within).await?;
    let after = course_model(data, &before.model, within, status);
    let saved =
        save_audited(conn, actor, "course.update", &before.model, expected_version, after, NUMBER_TAKEN)
            .await?;
    Ok(CourseRecord::from_model(saved)?)
}

/// Catalogue filters; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct CourseFilter {
    pub fiscal_year: Option<FiscalYear>,
    pub category: Option<Category>,
    pub route: Option<kenshu_domain::audience::Route>,
    pub delivery: Option<Delivery>,
    /// Calendar month 1–12 the course runs in.
    pub month: Option<u32>,
    pub institution: Option<String>,
    pub q: Option<String>,
    /// Which statuses the caller may see; staff see published and cancelled courses only.
    pub statuses: Vec<CourseStatus>,
    /// Only courses of published plans (staff).
    pub published_plans_only: bool,
}

/// Courses in plan order: fiscal year, category (階層別 first), number.
pub async fn list_courses(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    filter: &CourseFilter,
    page: &PageRequest,
) -> Result<Page<CourseRecord>, RepoError> {
    let mut q = course::Entity::find().filter(course::Column::OrgId.eq(org_id));
    if let Some(fy) = filter.fiscal_year {
        q = q.filter(course::Column::FiscalYear.eq(fy.year()));
    }
    if let Some(c) = filter.category {
        q = q.filter(course::Column::Category.eq(c.as_str()));
    }
    if let Some(r) = filter.route {
        q = q.filter(course::Column::Routes.like(format!("%\"{}\"%", r.as_str())));
    }
    if let Some(d) = filter.delivery {
        q = q.filter(course::Column::Delivery.eq(d.as_str()));
    }
    if let Some(m) = filter.month {
        q = q.filter(Expr::col(course::Column::MonthsMask).bit_and(1i32 << m).ne(0));
    }
    if let Some(i) = &filter.institution {
        q = q.filter(course::Column::Institution.eq(i.as_str()));
    }
    if let Some(text) = filter.q.as_deref().map(search_key).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", like_escape(&text));
        q = q.filter(Expr::col(course::Column::SearchKey).like(LikeExpr::new(pattern).escape('!')));
    }
    q = q.filter(course::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    if filter.published_plans_only {
        let published = training_plan::Entity::find()
            .select_only()
            .column(training_plan::Column::Id)
            .filter(training_plan::Column::OrgId.eq(org_id))
            .filter(training_plan::Column::Status.eq("published"))
            .as_query()
            .to_owned();
        q = q.filter(course::Column::PlanId.in_subquery(published));
    }
    if let Some([fy, rank, number]) = page.after.as_deref() {
        let (Ok(fy), Ok(rank), Ok(number)) = (fy.parse::<i32>(), rank.parse::<i32>(), number.parse::<i32>())
        else {
            return Err(RepoError::Invalid(vec![FieldError::new("cursor", "is not a cursor of this list")]));
        };
        q = q.filter(
            Condition::any()
                .add(course::Column::FiscalYear.gt(fy))
                .add(
                    Condition::all()
                        .add(course::Column::FiscalYear.eq(fy))
                        .add(course::Column::CategoryRank.gt(rank)),
                )
                .add(
                    Condition::all()
                        .add(course::Column::FiscalYear.eq(fy))
                        .add(course::Column::CategoryRank.eq(rank))
                        .add(course::Column::Number.gt(number)),
                ),
        );
    }
    let rows = q
        .order_by_asc(course::Column::FiscalYear)
        .order_by_asc(course::Column::CategoryRank)
        .order_by_asc(course::Column::Number)
        .limit(page.limit + 1)
        .all(conn)
        .await?;
    let page = Page::from_rows(rows, page.limit, |m| {
        vec![m.fiscal_year.to_string(), m.category_rank.to_string(), m.number.to_string()]
    });
    let items = page.items.into_iter().map(CourseRecord::from_model).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next: page.next })
}

/// Every published course of a published plan for the year, in plan order: what staff can take.
pub async fn published_courses(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fy: FiscalYear,
) -> Result<Vec<CourseRecord>, RepoError> {
    let plan = match get_plan(conn, org_id, fy).await {
        Ok(p) if p.status()? == kenshu_domain::catalogue::PlanStatus::Published => p,
        Ok(_) | Err(RepoError::NotFound) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let rows = course::Entity::find()
        .filter(course::Column::OrgId.eq(org_id))
        .filter(course::Column::PlanId.eq(plan.id))
        .filter(course::Column::Status.eq(CourseStatus::Published.as_str()))
        .order_by_asc(course::Column::CategoryRank)
        .order_by_asc(course::Column::Number)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(CourseRecord::from_model).collect::<Result<Vec<_>, _>>()?)
}

/// Is the plan of this course published (staff may see it)?
pub async fn plan_published(conn: &impl ConnectionTrait, c: &CourseRecord) -> Result<bool, DbErr> {
    match training_plan::Entity::find_by_id(c.model.plan_id)
        .filter(training_plan::Column::OrgId.eq(c.model.org_id))
        .one(conn)
        .await?
    {
        Some(p) => Ok(p.status()? == kenshu_domain::catalogue::PlanStatus::Published),
        None => Ok(false),
    }
}

// ---------------------------------------------------------------------------------------------
// Catalogue files

/// The keys (category, number) of a year's stored courses, for resolving 位置づけ in a file.
pub async fn plan_course_keys(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fy: FiscalYear,
) -> Result<Vec<CourseKey>, RepoError> {
    Ok(year_courses(conn, org_id, fy).await?.iter().map(course_key).collect())
}

fn course_key(c: &CourseRecord) -> CourseKey {
    CourseKey { category: c.category, number: c.model.number as u32 }
}

/// Every course of a year that is not cancelled, in plan order: what a plan-wide designation runs
/// over.
pub async fn running_courses(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fy: FiscalYear,
) -> Result<Vec<CourseRecord>, RepoError> {
    let mut courses = year_courses(conn, org_id, fy).await?;
    courses.retain(|c| c.status() != CourseStatus::Cancelled);
    Ok(courses)
}

/// Every course of a year, drafts included, in plan order.
async fn year_courses(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fy: FiscalYear,
) -> Result<Vec<CourseRecord>, RepoError> {
    let rows = course::Entity::find()
        .filter(course::Column::OrgId.eq(org_id))
        .filter(course::Column::FiscalYear.eq(fy.year()))
        .order_by_asc(course::Column::CategoryRank)
        .order_by_asc(course::Column::Number)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(CourseRecord::from_model).collect::<Result<Vec<_>, _>>()?)
}

/// What a catalogue import did, or would do on a dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CatalogueImportStats {
    pub plan_created: bool,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Courses of the plan that the file does not mention; left as they are.
    pub not_in_file: Vec<String>,
}

/// Upsert a year's courses by category and number. New courses are drafts; stored ones keep
/// their id, status and sessions. The plan is created when missing, and its text replaced when
/// the file carries one. `courses` are validated, with 位置づけ resolvable in the file or plan.
pub async fn import_catalogue(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    fy: FiscalYear,
    plan_text: Option<&PlanData>,
    courses: &[ValidCourse],
    dry_run: bool,
) -> Result<CatalogueImportStats, RepoError> {
    let mut stats = CatalogueImportStats::default();
    let plan = match get_plan(conn, actor.org_id, fy).await {
        Ok(p) => Some(p),
        Err(RepoError::NotFound) => None,
        Err(e) => return Err(e),
    };
    let existing: HashMap<CourseKey, CourseRecord> =
        year_courses(conn, actor.org_id, fy).await?.into_iter().map(|c| (course_key(&c), c)).collect();
    let in_file: HashSet<CourseKey> =
        courses.iter().map(|c| CourseKey { category: c.data.category, number: c.data.number }).collect();
    let mut missing: Vec<&CourseRecord> =
        existing.iter().filter(|(k, _)| !in_file.contains(k)).map(|(_, c)| c).collect();
    missing.sort_by_key(|c| (c.model.category_rank, c.model.number));
    stats.not_in_file = missing.iter().map(|c| course_key(c).label()).collect();
    // Ids for every key, so a course may be positioned within one created by the same file.
    let ids: HashMap<CourseKey, Uuid> = in_file
        .iter()
        .map(|k| (*k, existing.get(k).map_or_else(Uuid::now_v7, |c| c.model.id)))
        .chain(existing.iter().map(|(k, c)| (*k, c.model.id)))
        .collect();
    // The plan the courses go into; none on a dry run for a year without one.
    let plan_id = match (plan, dry_run) {
        (Some(p), true) => Some(p.id),
        (Some(p), false) => match plan_text {
            Some(text) => Some(update_plan(conn, actor, fy, p.version, text).await?.id),
            None => Some(p.id),
        },
        (None, dry_run) => {
            stats.plan_created = true;
            if dry_run {
                None
            } else {
                let text = match plan_text {
                    Some(t) => t.clone(),
                    None => PlanData::validate(None, None, Vec::new(), fy).map_err(RepoError::Invalid)?,
                };
                Some(create_plan(conn, actor, fy, &text).await?.id)
            }
        }
    };
    let at = now();
    for c in courses {
        let key = CourseKey { category: c.data.category, number: c.data.number };
        let within = c.within.and_then(|w| ids.get(&w).copied());
        match existing.get(&key) {
            Some(current) => {
                let after = course_model(&c.data, &current.model, within, current.status());
                if after == current.model {
                    stats.unchanged += 1;
                } else {
                    stats.updated += 1;
                    if !dry_run {
                        let version = current.model.version;
                        save_audited(
                            conn,
                            actor,
                            "course.import",
                            &current.model,
                            version,
                            after,
                            NUMBER_TAKEN,
                        )
                        .await?;
                    }
                }
            }
            None => {
                stats.created += 1;
                if let (false, Some(plan_id)) = (dry_run, plan_id) {
                    let base = course::Model {
                        id: ids[&key],
                        org_id: actor.org_id,
                        plan_id,
                        fiscal_year: fy.year(),
                        version: 1,
                        created_at: at,
                        updated_at: at,
                        ..blank_course()
                    };
                    let model = course_model(&c.data, &base, within, CourseStatus::Draft);
                    insert_audited(conn, actor, "course.import", model, NUMBER_TAKEN).await?;
                }
            }
        }
    }
    Ok(stats)
}

/// Every course of a year in file form, in plan order.
pub async fn export_catalogue(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fy: FiscalYear,
) -> Result<(training_plan::Model, Vec<CourseEntry>), RepoError> {
    let plan = get_plan(conn, org_id, fy).await?;
    let courses = year_courses(conn, org_id, fy).await?;
    let keys: HashMap<Uuid, CourseKey> = courses.iter().map(|c| (c.model.id, course_key(c))).collect();
    let entries = courses
        .iter()
        .map(|c| {
            let m = &c.model;
            CourseEntry {
                category: course_key(c).category,
                number: m.number as u32,
                title: m.title.clone(),
                purpose: m.purpose.clone(),
                content: m.content.clone(),
                audience: m.audience.clone(),
                rules: c.rules.clone(),
                timing: Some(c.timing),
                delivery: Delivery::parse(&m.delivery),
                institution: m.institution.clone(),
                headcount: m.headcount.map(|h| h as u32),
                report: Some(c.report),
                completion: (c.completion != CompletionRule::AllSessions).then_some(c.completion),
                application_window: c.application_window(),
                notes: m.notes.clone(),
                pillar: kenshu_domain::catalogue::Pillar::parse(&m.pillar),
                aims: c.aims.clone(),
                within: m.within_course_id.and_then(|w| keys.get(&w).copied()),
            }
        })
        .collect();
    Ok((plan, entries))
}

// ---------------------------------------------------------------------------------------------
// Sessions

pub async fn list_sessions(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Vec<course_session::Model>, DbErr> {
    course_session::Entity::find()
        .filter(course_session::Column::OrgId.eq(org_id))
        .filter(course_session::Column::CourseId.eq(course_id))
        .order_by_asc(course_session::Column::StartsAt)
        .order_by_asc(course_session::Column::Id)
        .all(conn)
        .await
}

pub async fn get_session(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    id: Uuid,
) -> Result<course_session::Model, RepoError> {
    let session: course_session::Model = find_in_org(conn, org_id, id).await?;
    if session.course_id != course_id {
        return Err(RepoError::NotFound);
    }
    Ok(session)
}

pub fn session_lecturer(m: &course_session::Model) -> Result<Option<Lecturer>, DbErr> {
    m.lecturer.as_deref().map(|l| parse("lecturer", l)).transpose()
}

/// A staff lecturer is an active employee of the organisation.
async fn check_lecturer(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    data: &SessionData,
) -> Result<(), RepoError> {
    if let Some(Lecturer::Staff { employee_id }) = &data.lecturer {
        let found = employee::Entity::find()
            .filter(employee::Column::OrgId.eq(org_id))
            .filter(employee::Column::Id.eq(*employee_id))
            .filter(employee::Column::Active.eq(true))
            .one(conn)
            .await?;
        if found.is_none() {
            return Err(RepoError::Invalid(vec![FieldError::new(
                "lecturer.employee_id",
                "is not an active employee of this organisation",
            )]));
        }
    }
    Ok(())
}

fn session_model(data: &SessionData, base: &course_session::Model) -> course_session::Model {
    course_session::Model {
        starts_at: data.starts_at,
        ends_at: data.ends_at,
        venue: data.venue.clone(),
        online_url: data.online_url.clone(),
        capacity: data.capacity.map(|c| c as i32),
        lecturer: data.lecturer.as_ref().map(json),
        lecturer_employee_id: match &data.lecturer {
            Some(Lecturer::Staff { employee_id }) => Some(*employee_id),
            _ => None,
        },
        notes: data.notes.clone(),
        ..base.clone()
    }
}

pub async fn create_session(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    course: &CourseRecord,
    data: &SessionData,
) -> Result<course_session::Model, RepoError> {
    check_lecturer(conn, actor.org_id, data).await?;
    let at = now();
    let base = course_session::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        course_id: course.model.id,
        starts_at: at,
        ends_at: at,
        venue: None,
        online_url: None,
        capacity: None,
        lecturer: None,
        lecturer_employee_id: None,
        notes: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let model = session_model(data, &base);
    insert_audited(conn, actor, "course_session.create", model, "the session exists already").await
}

pub async fn update_session(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    course: &CourseRecord,
    id: Uuid,
    expected_version: i32,
    data: &SessionData,
) -> Result<course_session::Model, RepoError> {
    let before = get_session(conn, actor.org_id, course.model.id, id).await?;
    if before.version != expected_version {
        return Err(RepoError::Stale { current: before.version });
    }
    check_lecturer(conn, actor.org_id, data).await?;
    let after = session_model(data, &before);
    save_audited(
        conn,
        actor,
        "course_session.update",
        &before,
        expected_version,
        after,
        "the session was changed meanwhile",
    )
    .await
}

pub async fn delete_session(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    course: &CourseRecord,
    id: Uuid,
    expected_version: i32,
) -> Result<(), RepoError> {
    let before = get_session(conn, actor.org_id, course.model.id, id).await?;
    if before.version != expected_version {
        return Err(RepoError::Stale { current: before.version });
    }
    // Read here, from the tables, so the catalogue depends on no workflow module.
    let records = crate::entities::absence_notice::Entity::find()
        .filter(crate::entities::absence_notice::Column::OrgId.eq(actor.org_id))
        .filter(crate::entities::absence_notice::Column::SessionId.eq(id))
        .count(conn)
        .await?
        > 0
        || crate::entities::attendance::Entity::find()
            .filter(crate::entities::attendance::Column::OrgId.eq(actor.org_id))
            .filter(crate::entities::attendance::Column::SessionId.eq(id))
            .count(conn)
            .await?
            > 0;
    let pinned = crate::entities::nomination::Entity::find()
        .filter(crate::entities::nomination::Column::OrgId.eq(actor.org_id))
        .filter(crate::entities::nomination::Column::SessionId.eq(id))
        .filter(
            crate::entities::nomination::Column::State.is_in(
                kenshu_domain::selection::NominationState::ALL
                    .into_iter()
                    .filter(|s| s.is_live())
                    .map(|s| s.as_str()),
            ),
        )
        .count(conn)
        .await?;
    kenshu_domain::cascade::session_removable(records, pinned).map_err(RepoError::Conflict)?;
    let res = course_session::Entity::delete_many()
        .filter(course_session::Column::Id.eq(id))
        .filter(course_session::Column::Version.eq(expected_version))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(RepoError::Stale { current: expected_version + 1 });
    }
    let change = Change::new("course_session.delete", "course", Some(course.model.id), Some(&before), None);
    audit::record(conn, actor, change).await?;
    Ok(())
}

/// Session data read back for domain checks (the course's last day, for report due dates).
pub fn session_data(m: &course_session::Model) -> Result<SessionData, DbErr> {
    Ok(SessionData {
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        venue: m.venue.clone(),
        online_url: m.online_url.clone(),
        capacity: m.capacity.map(|c| c as u32),
        lecturer: session_lecturer(m)?,
        notes: m.notes.clone(),
    })
}
