//! 通信教育講座助成: the year's programme (budget, window), its course catalogue, applications
//! with their moves, and proofs of completion. Approvals lock the programme row so concurrent
//! approvals cannot overspend the budget.

use crate::repo::Precondition;
use crate::repo::CHANGED_MEANWHILE;
use crate::WriteTxn;
use kenshu_domain::Words;
use std::collections::HashMap;

use chrono::NaiveDate;
use kenshu_domain::notice::{on_subsidy_application, About, Event, ItemKind, Paper};
use kenshu_domain::subsidy::{
    approved_amount, digest, subsidy_for, subsidy_transition, ApplicationEvent, ApplicationState, BudgetUse,
    CorrespondenceCourse, GroupState, Programme, SubsidyActor,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{find_in_org, insert_audited, lock_at_version, now, save_audited, Actor, RepoError};
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
    conn: &WriteTxn,
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
        &Words::fixed(
            "the programme of this year exists; change it with PUT",
            "今年度の制度はすでにあります。PUT で変更してください",
        ),
    )
    .await
}

/// Change the budget or window. A budget below what is already drawn on it is refused.
pub async fn update_programme(
    conn: &WriteTxn,
    actor: &Actor,
    before: &subsidy_programme::Model,
    expected_version: &Precondition,
    data: ProgrammeData,
) -> Result<subsidy_programme::Model, RepoError> {
    super::check_version(before.version, expected_version)?;
    let locked = lock_programme(conn, before.org_id, before.fiscal_year, &before.programme).await?;
    let drawn = budget_use(conn, &locked).await?;
    let drawn_yen = drawn.committed_yen + drawn.fixed_yen + drawn.paid_yen;
    if data.budget_yen < drawn_yen {
        return Err(RepoError::Invalid(vec![kenshu_domain::FieldError::conflict(
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
    save_audited(conn, actor, "subsidy_programme.update", before, expected_version, after, CHANGED_MEANWHILE)
        .await
}

/// Read the programme row under a write lock (PostgreSQL; SQLite writers are serialised already),
/// so approvals of the same year queue behind each other.
pub(crate) async fn lock_programme(
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
        RepoError::Conflict(Words::new(
            format!("there is no budget for FY{fiscal_year}; HR sets the programme first"),
            format!("{fiscal_year}年度の予算がありません。先に研修担当が制度を設定してください"),
        ))
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
                .map(|g| {
                    Ok(match g.state()? {
                        GroupState::Approved | GroupState::Reported => {
                            Some((ApplicationState::Approved, g.approved_yen, None))
                        }
                        GroupState::Settled => Some((ApplicationState::Paid, g.approved_yen, g.settled_yen)),
                        _ => None,
                    })
                })
                .collect::<Result<Vec<_>, DbErr>>()?
                .into_iter()
                .flatten()
                .collect()
        } else {
            subsidy_application::Entity::find()
                .filter(subsidy_application::Column::OrgId.eq(p.org_id))
                .filter(subsidy_application::Column::FiscalYear.eq(p.fiscal_year))
                .all(conn)
                .await?
                .iter()
                // Money: a state the service does not know stops the sum rather than dropping out of it.
                .map(|a| Ok((a.state()?, a.approved_yen, a.subsidy_yen)))
                .collect::<Result<_, DbErr>>()?
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
    conn: &WriteTxn,
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
                correspondence_course::ActiveModel::from(m.clone()).insert(conn).await.map_err(|e| {
                    RepoError::from_write(
                        e,
                        &Words::fixed(
                            "the catalogue changed while the import ran",
                            "取込中に講座一覧が変更されました",
                        ),
                    )
                })?;
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

const LIVE_TAKEN: &Words =
    &Words::fixed("you have applied for this course already", "この講座にはすでに申請しています");

pub async fn apply(
    conn: &WriteTxn,
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
    let a = insert_audited(conn, actor, "subsidy_application.create", m, LIVE_TAKEN).await?;
    let told = Some(Event::Submitted(Paper::SubsidyApplication));
    super::notice::tell(conn, actor.org_id, told, &about(&a, course), employee_id).await?;
    Ok(a)
}

/// An application as a notice is about it: the course's name, the comment, the amount decided.
fn about(a: &subsidy_application::Model, course: &correspondence_course::Model) -> About {
    let mut about = About::record(ItemKind::SubsidyApplication, a.id, course.title.clone());
    about.reason = a.comment.clone();
    about.amount_yen = a.subsidy_yen.or(a.approved_yen);
    about
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
    let mut out: Vec<subsidy_application::Model> = match employees {
        None => base().all(conn).await?,
        Some(ids) => {
            super::in_chunks(ids, |chunk| async move {
                base()
                    .filter(subsidy_application::Column::EmployeeId.is_in(chunk.iter().copied()))
                    .all(conn)
                    .await
            })
            .await?
        }
    };
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
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    actors: &[SubsidyActor],
    event: ApplicationEvent,
    data: MoveData,
) -> Result<subsidy_application::Model, RepoError> {
    let before: subsidy_application::Model =
        lock_at_version(conn, actor.org_id, id, expected_version).await?;
    let before = &before;
    let next = subsidy_transition(state_of(before)?, event, actors)?;
    if event == ApplicationEvent::ReportCompletion && with_proof(conn, actor.org_id, &[id]).await?.is_empty()
    {
        return Err(RepoError::Conflict(Words::fixed(
            "attach the proof of completion first (PUT …/proof)",
            "先に修了証明書を添付してください（PUT …/proof）",
        )));
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
                return Err(RepoError::Conflict(Words::new(
                    format!(
                        "approving ¥{amount} would exceed the FY{} budget: ¥{} remains",
                        before.fiscal_year, drawn.remaining_yen
                    ),
                    format!(
                        "¥{amount} を承認すると{}年度の予算を超えます（残り ¥{}）",
                        before.fiscal_year, drawn.remaining_yen
                    ),
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
    let a = save_audited(conn, actor, action, before, expected_version, after, LIVE_TAKEN).await?;
    if let Some(told) = on_subsidy_application(event) {
        let course = get_course(conn, actor.org_id, a.course_id).await?;
        super::notice::tell(conn, actor.org_id, Some(told), &about(&a, &course), a.employee_id).await?;
    }
    Ok(a)
}

/// The applications of `leavers` still waiting for a decision, withdrawn as the service
/// ([`ApplicationState::lapsed_on_leaving`]) with the comment 退職により取下げ. How many.
pub(crate) async fn lapse_for_leavers(
    conn: &WriteTxn,
    actor: &Actor,
    leavers: &[Uuid],
) -> Result<u64, RepoError> {
    let waiting = || {
        ApplicationState::ALL
            .into_iter()
            .filter(|s| s.lapsed_on_leaving().is_some())
            .map(ApplicationState::as_str)
    };
    let found: Vec<subsidy_application::Model> = super::in_chunks(leavers, |chunk| async move {
        subsidy_application::Entity::find()
            .filter(subsidy_application::Column::OrgId.eq(actor.org_id))
            .filter(subsidy_application::Column::EmployeeId.is_in(chunk))
            .filter(subsidy_application::Column::State.is_in(waiting()))
            .all(conn)
            .await
    })
    .await?;
    let mut lapsed = 0;
    for before in &found {
        let Some(next) = state_of(before)?.lapsed_on_leaving() else { continue };
        let after = subsidy_application::Model {
            state: next.as_str().into(),
            comment: Some("退職により取下げ".into()),
            ..before.clone()
        };
        let version = Precondition::version(before.version);
        save_audited(conn, actor, "subsidy_application.lapse", before, &version, after, LIVE_TAKEN).await?;
        lapsed += 1;
    }
    Ok(lapsed)
}

// ---------------------------------------------------------------------------------------------
// Proof of completion

/// Store (or replace) the proof of an application. The audit log keeps its type, size and
/// digest, not its content.
pub async fn put_proof(
    conn: &WriteTxn,
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
    super::in_chunks(application_ids, |chunk| async move {
        subsidy_document::Entity::find()
            .select_only()
            .column(subsidy_document::Column::ApplicationId)
            .filter(subsidy_document::Column::OrgId.eq(org_id))
            .filter(subsidy_document::Column::ApplicationId.is_in(chunk.iter().copied()))
            .into_tuple::<Uuid>()
            .all(conn)
            .await
    })
    .await
}

/// The catalogue courses with these ids, by id.
pub async fn courses_by_id(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, correspondence_course::Model>, DbErr> {
    super::in_chunks(ids, |chunk| async move {
        let rows = correspondence_course::Entity::find()
            .filter(correspondence_course::Column::OrgId.eq(org_id))
            .filter(correspondence_course::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        Ok(rows.into_iter().map(|c| (c.id, c)))
    })
    .await
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
