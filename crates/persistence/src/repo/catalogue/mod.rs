//! The training catalogue: plans per fiscal year, their courses and sessions. Session changes
//! are audited under their course, so a course's history shows them.

use crate::repo::Precondition;
use crate::WriteTxn;
use kenshu_domain::attendance::CompletionRule;
use kenshu_domain::audience::{routes, AudienceRule};
use kenshu_domain::calendar::FiscalYear;
use kenshu_domain::catalogue::{
    check_within, Aim, ApplicationWindow, Category, CourseData, CourseStatus, Delivery, Lecturer, PlanData,
    PlanStatus, ReportRule, SessionData, Timing,
};
use kenshu_domain::catalogue_io::{CourseEntry, CourseKey, ValidCourse};
use kenshu_domain::text::search_key;
use kenshu_domain::FieldError;
use kenshu_domain::Words;
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

mod files;
mod listing;
mod plans;
mod sessions;

pub use files::*;
pub use listing::*;
pub use plans::*;
pub use sessions::*;

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
        share_id: None,
        host_org_id: None,
        search_key: String::new(),
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

const PLAN_TAKEN: &Words =
    &Words::fixed("a plan for this fiscal year exists", "この年度の研修計画はすでにあります");
const NUMBER_TAKEN: &Words = &Words::fixed(
    "a course with this category and number exists in this fiscal year",
    "この年度に同じ区分・番号の研修がすでにあります",
);

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
            return Err(RepoError::Invalid(vec![FieldError::not_found(
                "within_course_id",
                "no such course in this organisation",
            )]))
        }
        Err(e) => return Err(e),
    };
    check_within(fy, parent.fiscal_year(), own_id == Some(parent_id))
        .map_err(|e| RepoError::Invalid(vec![e.at("within_course_id")]))?;
    if parent.model.within_course_id.is_some_and(|p| Some(p) == own_id) {
        return Err(RepoError::Invalid(vec![FieldError::conflict(
            "within_course_id",
            "the course it would be positioned within is itself positioned within this course",
        )]));
    }
    Ok(())
}

pub async fn create_course(
    conn: &WriteTxn,
    actor: &Actor,
    fy: FiscalYear,
    data: &CourseData,
    within: Option<Uuid>,
    status: CourseStatus,
) -> Result<CourseRecord, RepoError> {
    let plan = match get_plan(conn, actor.org_id, fy).await {
        Ok(p) => p,
        Err(RepoError::NotFound) => {
            return Err(RepoError::Invalid(vec![FieldError::not_found(
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
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    data: &CourseData,
    within: Option<Uuid>,
    status: CourseStatus,
) -> Result<CourseRecord, RepoError> {
    let before = get_course(conn, actor.org_id, id).await?;
    super::check_version(before.model.version, expected_version)?;
    if !before.status().can_become(status) {
        return Err(RepoError::Invalid(vec![FieldError::conflict(
            "status",
            format!("a {} course cannot become {}", before.status().as_str(), status.as_str()),
        )]));
    }
    check_within_course(conn, actor.org_id, before.fiscal_year(), Some(id), within).await?;
    check_joint_edit(&before.model, data, status)?;
    let after = course_model(data, &before.model, within, status);
    let saved =
        save_audited(conn, actor, "course.update", &before.model, expected_version, after, NUMBER_TAKEN)
            .await?;
    Ok(CourseRecord::from_model(saved)?)
}

/// A participant's course of a joint share keeps the host's places and is left through the share.
pub(crate) fn check_joint_edit(
    before: &course::Model,
    data: &CourseData,
    status: CourseStatus,
) -> Result<(), RepoError> {
    if before.share_id.is_none() {
        return Ok(());
    }
    let cancelling = status == CourseStatus::Cancelled && before.status()? != CourseStatus::Cancelled;
    kenshu_domain::joint::check_participant_edit(
        before.headcount.map(|h| h as u32),
        data.headcount,
        cancelling,
    )
    .map_err(|e| RepoError::Invalid(vec![e]))
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

/// [`published_courses`], kept in memory until the catalogue scope changes.
pub async fn published_courses_kept(
    db: &crate::Db,
    org_id: Uuid,
    fy: FiscalYear,
) -> Result<std::sync::Arc<Vec<CourseRecord>>, RepoError> {
    let read = async |&(org_id, _): &(Uuid, i32)| published_courses(db.conn(), org_id, fy).await;
    db.kept().published.get_or_read_value((org_id, fy.year()), read).await
}

/// A course, whether its plan is published, and its sessions in start order: one statement
/// (a row per session, the course's columns repeated), the whole of a course's read. The course
/// is decoded from the first row only and the plan is read for its status alone: decoding both
/// again on every session's row cost a fifth of the read's rate at twelve sessions.
pub async fn get_course_with_sessions(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<CourseRead, RepoError> {
    use sea_orm::{FromQueryResult, JoinType};
    let sessions = course::Entity::belongs_to(course_session::Entity)
        .from((course::Column::OrgId, course::Column::Id))
        .to((course_session::Column::OrgId, course_session::Column::CourseId))
        .into();
    let statement = course_and_plan_status(org_id, id)
        .join(JoinType::LeftJoin, sessions)
        .select_also(course_session::Entity)
        .order_by_asc(course_session::Column::StartsAt)
        .order_by_asc(course_session::Column::Id)
        .build(conn.get_database_backend());
    let rows = conn.query_all(statement).await?;
    let first = rows.first().ok_or(RepoError::NotFound)?;
    let (course, published) = decode_course_and_plan_status(first, COURSE_PREFIX)?;
    let sessions = rows
        .iter()
        .map(|row| course_session::Model::from_query_result_optional(row, SESSION_PREFIX))
        .filter_map(Result::transpose)
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(CourseRead { course, published, sessions, rendered: Default::default() })
}

/// A course, whether its plan is published, and its sessions: what [`get_course_with_sessions`]
/// reads, as [`crate::kept`] keeps it.
pub struct CourseRead {
    pub course: CourseRecord,
    pub published: bool,
    pub sessions: Vec<course_session::Model>,
    /// The course as its reader renders it, made once for as long as the read is kept (it goes
    /// with it when the catalogue changes): rendering (dates, escaped text) was a fifth of the
    /// work of `GET /courses/{id}`.
    pub rendered: std::sync::OnceLock<String>,
}

/// [`get_course_with_sessions`] through what this instance keeps in memory ([`crate::kept`]):
/// reading a course costs no statement while the catalogue has not changed.
pub async fn get_course_kept(
    db: &crate::Db,
    org_id: Uuid,
    id: Uuid,
) -> Result<std::sync::Arc<CourseRead>, RepoError> {
    let read = async |org_id, id| get_course_with_sessions(db.conn(), org_id, id).await;
    db.kept().courses.row(org_id, id, read).await
}

/// A course and whether its plan is published, in one statement: what every read of a course by
/// staff needs (a draft plan's courses are not theirs to see).
pub async fn get_course_and_plan(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<(CourseRecord, bool), RepoError> {
    let statement = course_and_plan_status(org_id, id).build(conn.get_database_backend());
    let row = conn.query_one(statement).await?.ok_or(RepoError::NotFound)?;
    Ok(decode_course_and_plan_status(&row, "")?)
}

/// How `select_also` renames the columns selected before it (the course's and the plan status)
/// and those of the entity it adds: sea-orm's `SelectA` and `SelectB`.
const COURSE_PREFIX: &str = "A_";
const SESSION_PREFIX: &str = "B_";
const PLAN_STATUS: &str = "plan_status";

/// The course `id` of `org_id` with its plan's status (NULL without a plan).
fn course_and_plan_status(org_id: Uuid, id: Uuid) -> sea_orm::Select<course::Entity> {
    use sea_orm::JoinType;
    course::Entity::find()
        .filter(course::Column::OrgId.eq(org_id))
        .filter(course::Column::Id.eq(id))
        .join(JoinType::LeftJoin, course_plan())
        .expr_as(Expr::col((training_plan::Entity, training_plan::Column::Status)), PLAN_STATUS)
}

/// The course and whether its plan is published, from a row of [`course_and_plan_status`] whose
/// columns carry `prefix`.
fn decode_course_and_plan_status(
    row: &sea_orm::QueryResult,
    prefix: &str,
) -> Result<(CourseRecord, bool), DbErr> {
    use sea_orm::FromQueryResult;
    let model = course::Model::from_query_result(row, prefix)?;
    let status: Option<String> = row.try_get(prefix, PLAN_STATUS)?;
    let published = match status {
        Some(s) => {
            crate::entities::stored("training_plan.status", &s, PlanStatus::parse)? == PlanStatus::Published
        }
        None => false,
    };
    Ok((CourseRecord::from_model(model)?, published))
}

/// A course's plan, joined on the organisation and the plan's id.
fn course_plan() -> sea_orm::RelationDef {
    course::Entity::belongs_to(training_plan::Entity)
        .from((course::Column::OrgId, course::Column::PlanId))
        .to((training_plan::Column::OrgId, training_plan::Column::Id))
        .into()
}

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
