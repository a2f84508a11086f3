//! 通信教育講座助成: the year's programme (budget, window), its course catalogue, applications
//! with their moves, and proofs of completion. Approvals lock the programme row so concurrent
//! approvals cannot overspend the budget.

use std::collections::HashMap;

use chrono::NaiveDate;
use kenshu_domain::subsidy::{
    approved_amount, check_grant, digest, settle_grant, subsidy_for, subsidy_transition, ApplicationEvent,
    ApplicationState, BudgetUse, CorrespondenceCourse, GroupState, Programme, SubsidyActor,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{find_in_org, insert_audited, lock_in_org, now, save_audited, Actor, RepoError};
use crate::entities::{
    correspondence_course, study_group, subsidy_application, subsidy_document, subsidy_programme,
};

// ---------------------------------------------------------------------------------------------
// Programme: budget and application window

pub async fn programme(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fiscal_year: i32,
    programme: &str,
) -> Result<Option<subsidy_programme::Model>, DbErr> {
    subsidy_programme::Entity::find()
        .filter(subsidy_programme::Column::OrgId.eq(org_id))
        .filter(subsidy_programme::Column::FiscalYear.eq(fiscal_year))
        .filter(subsidy_programme::Column::Programme.eq(programme))
        .one(conn)
        .await
}

/// The budget and its window as HR sets them.
#[derive(Debug, Clone, Copy)]
pub struct ProgrammeData {
    pub budget_yen: i64,
    pub window: Option<(NaiveDate, NaiveDate)>,
}

pub async fn create_programme(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    fiscal_year: i32,
    name: &str,
    data: ProgrammeData,
) -> Result<subsidy_programme::Model, RepoError> {
    let at = now();
    let m = subsidy_programme::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        fiscal_year,
        programme: name.into(),
        budget_yen: data.budget_yen,
        application_opens: data.window.map(|w| w.0),
        application_closes: data.window.map(|w| w.1),
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(
        conn,
        actor,
        "subsidy_programme.create",
        m,
        "the programme of this year exists; change it with PUT",
    )
    .await
}

/// Change the budget or window. A budget below what is already drawn on it is refused.
pub async fn update_programme(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: &subsidy_programme::Model,
    expected_version: i32,
    data: ProgrammeData,
) -> Result<subsidy_programme::Model, RepoError> {
    if before.version != expected_version {
        return Err(RepoError::Stale { current: before.version });
    }
    let locked = lock_programme(conn, before.org_id, before.fiscal_year, &before.programme).await?;
    let drawn = budget_use(conn, &locked).await?;
    let drawn_yen = drawn.committed_yen + drawn.fixed_yen + drawn.paid_yen;
    if data.budget_yen < drawn_yen {
        return Err(RepoError::Invalid(vec![kenshu_domain::FieldError::new(
            "budget_yen",
            format!("¥{drawn_yen} is already approved or paid from this budget; it cannot be less"),
        )]));
    }
    let after = subsidy_programme::Model {
        budget_yen: data.budget_yen,
        application_opens: data.window.map(|w| w.0),
        application_closes: data.window.map(|w| w.1),
        ..before.clone()
    };
    save_audited(conn, actor, "subsidy_programme.update", before, expected_version, after, "").await
}

/// Read the programme row under a write lock (PostgreSQL; SQLite writers are serialised already),
/// so approvals of the same year queue behind each other.
async fn lock_programme(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fiscal_year: i32,
    name: &str,
) -> Result<subsidy_programme::Model, RepoError> {
    let mut q = subsidy_programme::Entity::find()
        .filter(subsidy_programme::Column::OrgId.eq(org_id))
        .filter(subsidy_programme::Column::FiscalYear.eq(fiscal_year))
        .filter(subsidy_programme::Column::Programme.eq(name));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(conn).await?.ok_or_else(|| {
        RepoError::Conflict(format!("there is no budget for FY{fiscal_year}; HR sets the programme first"))
    })
}

/// What the programme's budget carries now: correspondence-course applications, or study-group
/// grants (approved and reported count as committed, settled as paid).
pub async fn budget_use(
    conn: &impl ConnectionTrait,
    p: &subsidy_programme::Model,
) -> Result<BudgetUse, DbErr> {
    let states: Vec<(ApplicationState, Option<i64>, Option<i64>)> =
        if p.programme == Programme::StudyGroup.as_str() {
            study_group::Entity::find()
                .filter(study_group::Column::OrgId.eq(p.org_id))
                .filter(study_group::Column::FiscalYear.eq(p.fiscal_year))
                .all(conn)
                .await?
                .iter()
                .filter_map(|g| match GroupState::parse(&g.state)? {
                    GroupState::Approved | GroupState::Reported => {
                        Some((ApplicationState::Approved, g.approved_yen, None))
                    }
                    GroupState::Settled => Some((ApplicationState::Paid, g.approved_yen, g.settled_yen)),
                    _ => None,
                })
                .collect()
        } else {
            subsidy_application::Entity::find()
                .filter(subsidy_application::Column::OrgId.eq(p.org_id))
                .filter(subsidy_application::Column::FiscalYear.eq(p.fiscal_year))
                .all(conn)
                .await?
                .iter()
                .filter_map(|a| ApplicationState::parse(&a.state).map(|s| (s, a.approved_yen, a.subsidy_yen)))
                .collect()
        };
    Ok(BudgetUse::of(p.budget_yen, &states))
}

// ---------------------------------------------------------------------------------------------
// The catalogue of correspondence courses

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseImportStats {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Load a year's courses, matched by provider and title: new ones added, changed ones updated,
/// the same file again changes nothing. Courses the file does not name are kept (applications
/// may refer to them).
pub async fn import_courses(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    fiscal_year: i32,
    courses: &[CorrespondenceCourse],
) -> Result<CourseImportStats, RepoError> {
    let mut stored: HashMap<(String, String), correspondence_course::Model> =
        list_courses(conn, actor.org_id, fiscal_year)
            .await?
            .into_iter()
            .map(|c| ((c.provider.clone(), c.title.clone()), c))
            .collect();
    let mut stats = CourseImportStats::default();
    let at = now();
    for c in courses {
        let fields = |m: correspondence_course::Model| correspondence_course::Model {
            field: c.field.as_str().into(),
            tuition_yen: c.tuition,
            months: c.months as i32,
            ..m
        };
        match stored.remove(&(c.provider.clone(), c.title.clone())) {
            Some(before) => {
                let after = fields(before.clone());
                if after == before {
                    stats.unchanged += 1;
                    continue;
                }
                let after = correspondence_course::Model { updated_at: at, ..after };
                correspondence_course::ActiveModel::from(after.clone()).reset_all().update(conn).await?;
                let change = Change::new(
                    "correspondence_course.update",
                    "correspondence_course",
                    Some(before.id),
                    Some(&before),
                    Some(&after),
                );
                audit::record(conn, actor, change).await?;
                stats.updated += 1;
            }
            None => {
                let m = fields(correspondence_course::Model {
                    id: Uuid::now_v7(),
                    org_id: actor.org_id,
                    fiscal_year,
                    provider: c.provider.clone(),
                    title: c.title.clone(),
                    field: String::new(),
                    tuition_yen: 0,
                    months: 0,
                    created_at: at,
                    updated_at: at,
                });
                correspondence_course::ActiveModel::from(m.clone())
                    .insert(conn)
                    .await
                    .map_err(|e| RepoError::from_write(e, "the catalogue changed while the import ran"))?;
                stats.created += 1;
            }
        }
    }
    if stats.created > 0 {
        let change = Change::new_owned(
            "correspondence_course.import",
            "correspondence_course",
            None,
            None::<&serde_json::Value>,
            Some(&json!({"fiscal_year": fiscal_year, "created": stats.created})),
        );
        audit::record(conn, actor, change).await?;
    }
    Ok(stats)
}

/// A year's courses by provider and title.
pub async fn list_courses(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fiscal_year: i32,
) -> Result<Vec<correspondence_course::Model>, DbErr> {
    correspondence_course::Entity::find()
        .filter(correspondence_course::Column::OrgId.eq(org_id))
        .filter(correspondence_course::Column::FiscalYear.eq(fiscal_year))
        .order_by_asc(correspondence_course::Column::Provider)
        .order_by_asc(correspondence_course::Column::Title)
        .all(conn)
        .await
}

pub async fn get_course(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<correspondence_course::Model, RepoError> {
    correspondence_course::Entity::find_by_id(id)
        .filter(correspondence_course::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Applications

const LIVE_TAKEN: &str = "you have applied for this course already";

pub async fn apply(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    employee_id: Uuid,
    course: &correspondence_course::Model,
    reason: Option<String>,
) -> Result<subsidy_application::Model, RepoError> {
    let at = now();
    let m = subsidy_application::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        fiscal_year: course.fiscal_year,
        employee_id,
        course_id: course.id,
        tuition_yen: course.tuition_yen,
        state: ApplicationState::Applied.as_str().into(),
        reason,
        approved_yen: None,
        paid_tuition_yen: None,
        subsidy_yen: None,
        comment: None,
        confirmed_by: None,
        confirmed_at: None,
        approved_by: None,
        approved_at: None,
        reported_at: None,
        verified_by: None,
        verified_at: None,
        paid_at: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(conn, actor, "subsidy_application.create", m, LIVE_TAKEN).await
}

pub async fn get_application(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<subsidy_application::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// Applications of a year (or all years), of some employees (or all), in one state (or all),
/// oldest first.
pub async fn list_applications(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fiscal_year: Option<i32>,
    employees: Option<&[Uuid]>,
    state: Option<ApplicationState>,
) -> Result<Vec<subsidy_application::Model>, DbErr> {
    let base = || {
        let mut q = subsidy_application::Entity::find().filter(subsidy_application::Column::OrgId.eq(org_id));
        if let Some(fy) = fiscal_year {
            q = q.filter(subsidy_application::Column::FiscalYear.eq(fy));
        }
        if let Some(s) = state {
            q = q.filter(subsidy_application::Column::State.eq(s.as_str()));
        }
        q
    };
    let mut out = Vec::new();
    match employees {
        None => out = base().all(conn).await?,
        Some(ids) => {
            for chunk in ids.chunks(500) {
                out.extend(
                    base()
                        .filter(subsidy_application::Column::EmployeeId.is_in(chunk.iter().copied()))
                        .all(conn)
                        .await?,
                );
            }
        }
    }
    out.sort_by_key(|a| a.id);
    Ok(out)
}

/// What a move carries besides the event.
#[derive(Debug, Clone, Default)]
pub struct MoveData {
    /// 修了報告: the tuition actually paid.
    pub paid_tuition_yen: Option<i64>,
    pub comment: Option<String>,
}

/// The state an application is in.
pub fn state_of(a: &subsidy_application::Model) -> Result<ApplicationState, RepoError> {
    Ok(a.state()?)
}

/// Move the application `id` in the caller's capacities, decided by the domain on the row read
/// under the lock. Reporting completion needs the proof on file. Approving locks the year's
/// programme and refuses an approval the remaining budget cannot carry; verifying fixes the
/// subsidy at half the tuition paid, rounded down, never more than approved.
pub async fn move_application(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    actors: &[SubsidyActor],
    event: ApplicationEvent,
    data: MoveData,
) -> Result<subsidy_application::Model, RepoError> {
    let before: subsidy_application::Model = lock_in_org(conn, actor.org_id, id).await?;
    let before = &before;
    let next = subsidy_transition(state_of(before)?, event, actors)?;
    if before.version != expected_version {
        return Err(RepoError::Stale { current: before.version });
    }
    if event == ApplicationEvent::ReportCompletion && with_proof(conn, actor.org_id, &[id]).await?.is_empty()
    {
        return Err(RepoError::Conflict("attach the proof of completion first (PUT …/proof)".into()));
    }
    let at = now();
    let mut after = subsidy_application::Model { state: next.as_str().into(), ..before.clone() };
    match event {
        ApplicationEvent::Confirm => {
            after.confirmed_by = Some(actor.signature());
            after.confirmed_at = Some(at);
        }
        ApplicationEvent::Approve => {
            let p =
                lock_programme(conn, before.org_id, before.fiscal_year, Programme::Correspondence.as_str())
                    .await?;
            let amount = approved_amount(before.tuition_yen);
            let drawn = budget_use(conn, &p).await?;
            if !drawn.allows(amount) {
                return Err(RepoError::Conflict(format!(
                    "approving ¥{amount} would exceed the FY{} budget: ¥{} remains",
                    before.fiscal_year, drawn.remaining_yen
                )));
            }
            after.approved_yen = Some(amount);
            after.approved_by = Some(actor.signature());
            after.approved_at = Some(at);
        }
        ApplicationEvent::ReportCompletion => {
            after.paid_tuition_yen = data.paid_tuition_yen;
            after.reported_at = Some(at);
            after.comment = None;
        }
        ApplicationEvent::Verify => {
            let paid = before.paid_tuition_yen.unwrap_or(0);
            after.subsidy_yen = Some(subsidy_for(paid, before.approved_yen.unwrap_or(0)));
            after.verified_by = Some(actor.signature());
            after.verified_at = Some(at);
        }
        ApplicationEvent::MarkPaid => after.paid_at = Some(at),
        ApplicationEvent::Return | ApplicationEvent::Reject => after.comment = data.comment,
        ApplicationEvent::ReportNotCompleted => after.subsidy_yen = Some(0),
        ApplicationEvent::Withdraw => {}
    }
    let action = format!("subsidy_application.{}", event.as_str());
    save_audited(conn, actor, action, before, expected_version, after, LIVE_TAKEN).await
}

// ---------------------------------------------------------------------------------------------
// Proof of completion

/// Store (or replace) the proof of an application. The audit log keeps its type, size and
/// digest, not its content.
pub async fn put_proof(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    application: &subsidy_application::Model,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<subsidy_document::Model, RepoError> {
    let before = proof(conn, actor.org_id, application.id).await?;
    let m = subsidy_document::Model {
        id: before.as_ref().map_or_else(Uuid::now_v7, |b| b.id),
        org_id: actor.org_id,
        application_id: application.id,
        content_type: content_type.into(),
        size_bytes: bytes.len() as i64,
        sha256: digest(&bytes),
        content: bytes,
        uploaded_by: actor.signature(),
        uploaded_at: now(),
    };
    // Written without reading the row back: it holds up to 5 MiB.
    let active = subsidy_document::ActiveModel::from(m.clone()).reset_all();
    match &before {
        Some(b) => {
            subsidy_document::Entity::update_many()
                .set(active)
                .filter(subsidy_document::Column::Id.eq(b.id))
                .exec(conn)
                .await?;
        }
        None => {
            subsidy_document::Entity::insert(active).exec_without_returning(conn).await?;
        }
    }
    let summary = |d: &subsidy_document::Model| json!({"content_type": d.content_type, "size_bytes": d.size_bytes, "sha256": d.sha256});
    let change = Change::new_owned(
        "subsidy_application.proof",
        "subsidy_application",
        Some(application.id),
        before.as_ref().map(summary).as_ref(),
        Some(&summary(&m)),
    );
    audit::record(conn, actor, change).await?;
    Ok(m)
}

/// Which of these applications carry a proof (without reading the documents).
pub async fn with_proof(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    application_ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, DbErr> {
    let mut out = std::collections::HashSet::new();
    for chunk in application_ids.chunks(500) {
        let ids: Vec<Uuid> = subsidy_document::Entity::find()
            .select_only()
            .column(subsidy_document::Column::ApplicationId)
            .filter(subsidy_document::Column::OrgId.eq(org_id))
            .filter(subsidy_document::Column::ApplicationId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(ids);
    }
    Ok(out)
}

/// The catalogue courses with these ids, by id.
pub async fn courses_by_id(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, correspondence_course::Model>, DbErr> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = correspondence_course::Entity::find()
            .filter(correspondence_course::Column::OrgId.eq(org_id))
            .filter(correspondence_course::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        out.extend(rows.into_iter().map(|c| (c.id, c)));
    }
    Ok(out)
}

pub async fn proof(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    application_id: Uuid,
) -> Result<Option<subsidy_document::Model>, DbErr> {
    subsidy_document::Entity::find()
        .filter(subsidy_document::Column::OrgId.eq(org_id))
        .filter(subsidy_document::Column::ApplicationId.eq(application_id))
        .one(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// 自主研究グループ

/// What a new group says.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub fiscal_year: i32,
    pub name: String,
    pub theme: String,
    pub representative_id: Uuid,
    /// Every member, the representative included.
    pub members: Vec<Uuid>,
}

pub fn group_members(g: &study_group::Model) -> Vec<Uuid> {
    serde_json::from_str(&g.members).unwrap_or_default()
}

pub async fn create_group(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    group: NewGroup,
) -> Result<study_group::Model, RepoError> {
    let at = now();
    let m = study_group::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        fiscal_year: group.fiscal_year,
        name: group.name,
        theme: group.theme,
        representative_id: group.representative_id,
        members: serde_json::to_string(&group.members).expect("ids serialise"),
        state: GroupState::Registered.as_str().into(),
        plan: None,
        planned_yen: None,
        approved_yen: None,
        spent_yen: None,
        report: None,
        settled_yen: None,
        comment: None,
        approved_by: None,
        approved_at: None,
        settled_by: None,
        settled_at: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(conn, actor, "study_group.create", m, "a group of that name is registered this year").await
}

pub async fn get_group(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<study_group::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// A year's groups (or all), by name.
pub async fn list_groups(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fiscal_year: Option<i32>,
) -> Result<Vec<study_group::Model>, DbErr> {
    let mut q = study_group::Entity::find().filter(study_group::Column::OrgId.eq(org_id));
    if let Some(fy) = fiscal_year {
        q = q.filter(study_group::Column::FiscalYear.eq(fy));
    }
    q.order_by_asc(study_group::Column::FiscalYear).order_by_asc(study_group::Column::Name).all(conn).await
}

/// What moves a group: the plan, the grant, the statement and report, the settlement.
#[derive(Debug, Clone)]
pub enum GroupMove {
    /// 活動計画書 with its budget (again after a return: the state stays planned).
    Plan {
        plan: String,
        planned_yen: i64,
    },
    /// 交付決定, within ¥30,000, the plan and the remaining budget.
    Approve {
        grant_yen: i64,
    },
    Reject {
        comment: String,
    },
    /// 決算書 and 活動報告書.
    Report {
        spent_yen: i64,
        report: String,
    },
    /// 精算: the grant against the spending.
    Settle,
}

/// Apply a move the caller may make; states are checked here, as each move carries data.
pub async fn move_group(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: &study_group::Model,
    expected_version: i32,
    mv: GroupMove,
) -> Result<study_group::Model, RepoError> {
    if before.version != expected_version {
        return Err(RepoError::Stale { current: before.version });
    }
    let state = before.state()?;
    let refuse = |what: &str| RepoError::Transition {
        state: state.as_str().into(),
        message: format!("a group that is {} cannot {what}", state.as_str()),
    };
    let at = now();
    let mut after = before.clone();
    let action = match mv {
        GroupMove::Plan { plan, planned_yen } => {
            if !matches!(state, GroupState::Registered | GroupState::Planned) {
                return Err(refuse("file a plan"));
            }
            after.plan = Some(plan);
            after.planned_yen = Some(planned_yen);
            after.state = GroupState::Planned.as_str().into();
            "plan"
        }
        GroupMove::Approve { grant_yen } => {
            if state != GroupState::Planned {
                return Err(refuse("be granted"));
            }
            let p = lock_programme(conn, before.org_id, before.fiscal_year, Programme::StudyGroup.as_str())
                .await?;
            let drawn = budget_use(conn, &p).await?;
            let grant = check_grant(grant_yen, before.planned_yen.unwrap_or(0), drawn.remaining_yen)
                .map_err(|e| {
                    if e.contains("budget") {
                        RepoError::Conflict(e)
                    } else {
                        RepoError::Invalid(vec![kenshu_domain::FieldError::new("grant_yen", e)])
                    }
                })?;
            after.approved_yen = Some(grant);
            after.approved_by = Some(actor.signature());
            after.approved_at = Some(at);
            after.state = GroupState::Approved.as_str().into();
            "approve"
        }
        GroupMove::Reject { comment } => {
            if state != GroupState::Planned {
                return Err(refuse("be rejected"));
            }
            after.comment = Some(comment);
            after.state = GroupState::Rejected.as_str().into();
            "reject"
        }
        GroupMove::Report { spent_yen, report } => {
            if !matches!(state, GroupState::Approved | GroupState::Reported) {
                return Err(refuse("file its statement and report"));
            }
            after.spent_yen = Some(spent_yen);
            after.report = Some(report);
            after.state = GroupState::Reported.as_str().into();
            "report"
        }
        GroupMove::Settle => {
            if state != GroupState::Reported {
                return Err(refuse("be settled"));
            }
            after.settled_yen =
                Some(settle_grant(before.approved_yen.unwrap_or(0), before.spent_yen.unwrap_or(0)));
            after.settled_by = Some(actor.signature());
            after.settled_at = Some(at);
            after.state = GroupState::Settled.as_str().into();
            "settle"
        }
    };
    save_audited(conn, actor, format!("study_group.{action}"), before, expected_version, after, "").await
}
