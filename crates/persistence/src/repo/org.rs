//! Organisations (tenants) and their grade ladders.

use crate::repo::Precondition;
use crate::WriteTxn;
use kenshu_domain::org::{Grade, GradeLadder};
use kenshu_domain::reminder::ReminderSettings;
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::audit::{self, Change};
use super::{now, Actor, RepoError};
use crate::entities::{employee, grade, organisation};

pub async fn find_by_code(
    conn: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<organisation::Model>, DbErr> {
    organisation::Entity::find().filter(organisation::Column::Code.eq(code)).one(conn).await
}

pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> Result<organisation::Model, RepoError> {
    organisation::Entity::find_by_id(id).one(conn).await?.ok_or(RepoError::NotFound)
}

pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<organisation::Model>, DbErr> {
    organisation::Entity::find().order_by_asc(organisation::Column::Code).all(conn).await
}

/// Create an organisation with the default grade ladder. Operators do this from the command line.
pub async fn create(
    conn: &WriteTxn,
    subject: &str,
    code: &str,
    name: &str,
) -> Result<organisation::Model, RepoError> {
    let model = organisation::Model {
        id: Uuid::now_v7(),
        code: code.to_string(),
        name: name.to_string(),
        top_approver_employee_id: None,
        promotion_cutoff_days: 2,
        reminder_session_days: 0,
        reminder_report_days: 0,
        reminder_overdue_every_days: 0,
        reminder_escalate_days: 0,
        reminder_send_hour: 0,
        language: None,
        version: 1,
        created_at: now(),
    };
    let model = with_reminders(model, &ReminderSettings::default());
    organisation::Entity::insert(organisation::ActiveModel {
        id: Set(model.id),
        code: Set(model.code.clone()),
        name: Set(model.name.clone()),
        top_approver_employee_id: Set(None),
        promotion_cutoff_days: Set(2),
        reminder_session_days: Set(model.reminder_session_days),
        reminder_report_days: Set(model.reminder_report_days),
        reminder_overdue_every_days: Set(model.reminder_overdue_every_days),
        reminder_escalate_days: Set(model.reminder_escalate_days),
        reminder_send_hour: Set(model.reminder_send_hour),
        language: Set(None),
        version: Set(1),
        created_at: Set(model.created_at),
    })
    .exec_without_returning(conn)
    .await
    .map_err(|e| {
        RepoError::from_write(
            e,
            &Words::fixed("an organisation with this code exists", "同じコードの団体がすでにあります"),
        )
    })?;
    let actor = Actor { org_id: model.id, subject: subject.to_string(), request_id: None };
    audit::record(
        conn,
        &actor,
        Change::new("organisation.create", "organisation", Some(model.id), None, Some(&model)),
    )
    .await?;
    insert_ladder(conn, model.id, &GradeLadder::default()).await?;
    Ok(model)
}

async fn insert_ladder(conn: &impl ConnectionTrait, org_id: Uuid, ladder: &GradeLadder) -> Result<(), DbErr> {
    let rows = ladder.grades().iter().enumerate().map(|(rank, g)| grade::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org_id),
        name: Set(g.name.clone()),
        rank: Set(rank as i32),
        aliases: Set(serde_json::to_string(&g.aliases).expect("strings serialise")),
    });
    grade::Entity::insert_many(rows).exec_without_returning(conn).await?;
    Ok(())
}

pub async fn ladder(conn: &impl ConnectionTrait, org_id: Uuid) -> Result<GradeLadder, DbErr> {
    let rows = grade::Entity::find()
        .filter(grade::Column::OrgId.eq(org_id))
        .order_by_asc(grade::Column::Rank)
        .all(conn)
        .await?;
    let grades = rows
        .into_iter()
        .map(|r| Grade { name: r.name, aliases: serde_json::from_str(&r.aliases).unwrap_or_default() })
        .collect();
    GradeLadder::new(grades).map_err(|_| DbErr::Custom("stored grade ladder is invalid".into()))
}

/// [`ladder`], kept in memory until the roster scope changes (migration 000037 puts `grade` in it).
pub async fn ladder_kept(db: &crate::Db, org_id: Uuid) -> Result<std::sync::Arc<GradeLadder>, DbErr> {
    db.kept().ladders.get_or_read_value(org_id, async |&org_id| ladder(db.conn(), org_id).await).await
}

/// Replace the ladder. Grades still held by an employee must stay; the organisation's version
/// guards against two people editing the ladder at once.
pub async fn replace_ladder(
    conn: &WriteTxn,
    actor: &Actor,
    expected_version: &Precondition,
    new: &GradeLadder,
) -> Result<(GradeLadder, i32), RepoError> {
    let org = get(conn, actor.org_id).await?;
    super::check_version(org.version, expected_version)?;
    let old = ladder(conn, actor.org_id).await?;
    let mut errors = Vec::new();
    for g in old.grades() {
        if new.rank(&g.name).is_none() {
            let held = employee::Entity::find()
                .filter(employee::Column::OrgId.eq(actor.org_id))
                .filter(employee::Column::Grade.eq(g.name.as_str()))
                .count(conn)
                .await?;
            if held > 0 {
                errors
                    .push(FieldError::conflict("grades", format!("{} is held by {held} employees", g.name)));
            }
        }
    }
    if !errors.is_empty() {
        return Err(RepoError::Invalid(errors));
    }
    grade::Entity::delete_many().filter(grade::Column::OrgId.eq(actor.org_id)).exec(conn).await?;
    insert_ladder(conn, actor.org_id, new).await?;
    organisation::Entity::update_many()
        .col_expr(organisation::Column::Version, Expr::value(org.version + 1))
        .filter(organisation::Column::Id.eq(actor.org_id))
        .exec(conn)
        .await?;
    audit::record(
        conn,
        actor,
        Change::new("grades.replace", "organisation", Some(actor.org_id), Some(&old), Some(new)),
    )
    .await?;
    Ok((new.clone(), org.version + 1))
}

/// The organisation's workflow settings, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowSettings {
    /// Who decides on department heads' own items: `None` for the training office, an active
    /// member of the organisation otherwise.
    pub top_approver: Option<Uuid>,
    /// How many days before a session the waiting list stops moving up by itself.
    pub promotion_cutoff_days: i32,
    /// The default language of what the service writes to the organisation's clients (`ja`,
    /// `en`); `None`: the service's.
    pub language: Option<String>,
}

/// Replace the workflow settings, guarded by the organisation's version.
pub async fn set_workflow(
    conn: &WriteTxn,
    actor: &Actor,
    expected_version: &Precondition,
    settings: WorkflowSettings,
) -> Result<organisation::Model, RepoError> {
    let WorkflowSettings { top_approver: employee_id, promotion_cutoff_days, language } = settings;
    let org = get(conn, actor.org_id).await?;
    super::check_version(org.version, expected_version)?;
    if org.top_approver_employee_id == employee_id
        && org.promotion_cutoff_days == promotion_cutoff_days
        && org.language == language
    {
        return Ok(org);
    }
    if let Some(id) = employee_id {
        let active = employee::Entity::find()
            .filter(employee::Column::OrgId.eq(actor.org_id))
            .filter(employee::Column::Id.eq(id))
            .filter(employee::Column::Active.eq(true))
            .count(conn)
            .await?;
        if active == 0 {
            return Err(RepoError::Invalid(vec![FieldError::not_found(
                "employee_no",
                "is not an active employee of the organisation",
            )]));
        }
    }
    let after = organisation::Model {
        top_approver_employee_id: employee_id,
        promotion_cutoff_days,
        language: language.clone(),
        version: org.version + 1,
        ..org.clone()
    };
    let res = organisation::Entity::update_many()
        .col_expr(organisation::Column::TopApproverEmployeeId, Expr::value(employee_id))
        .col_expr(organisation::Column::PromotionCutoffDays, Expr::value(promotion_cutoff_days))
        .col_expr(organisation::Column::Language, Expr::value(language))
        .col_expr(organisation::Column::Version, Expr::value(after.version))
        .filter(organisation::Column::Id.eq(actor.org_id))
        .filter(organisation::Column::Version.eq(org.version))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(RepoError::Stale { current: org.version + 1 });
    }
    let change =
        Change::new("organisation.workflow", "organisation", Some(actor.org_id), Some(&org), Some(&after));
    audit::record(conn, actor, change).await?;
    Ok(after)
}

fn with_reminders(org: organisation::Model, r: &ReminderSettings) -> organisation::Model {
    organisation::Model {
        reminder_session_days: r.session_days_before as i32,
        reminder_report_days: r.report_days_before as i32,
        reminder_overdue_every_days: r.overdue_every_days as i32,
        reminder_escalate_days: r.escalate_after_days as i32,
        reminder_send_hour: r.send_hour as i32,
        ..org
    }
}

/// The organisation's reminder settings.
pub fn reminders(org: &organisation::Model) -> ReminderSettings {
    let n = |v: i32| v.max(0) as u32;
    ReminderSettings {
        session_days_before: n(org.reminder_session_days),
        report_days_before: n(org.reminder_report_days),
        overdue_every_days: n(org.reminder_overdue_every_days),
        escalate_after_days: n(org.reminder_escalate_days),
        send_hour: n(org.reminder_send_hour),
    }
}

/// Replace the reminder settings, guarded by the organisation's version.
pub async fn set_reminders(
    conn: &WriteTxn,
    actor: &Actor,
    expected_version: &Precondition,
    settings: &ReminderSettings,
) -> Result<organisation::Model, RepoError> {
    let org = get(conn, actor.org_id).await?;
    super::check_version(org.version, expected_version)?;
    if reminders(&org) == *settings {
        return Ok(org);
    }
    let after = organisation::Model { version: org.version + 1, ..with_reminders(org.clone(), settings) };
    let res = organisation::Entity::update_many()
        .col_expr(organisation::Column::ReminderSessionDays, Expr::value(after.reminder_session_days))
        .col_expr(organisation::Column::ReminderReportDays, Expr::value(after.reminder_report_days))
        .col_expr(
            organisation::Column::ReminderOverdueEveryDays,
            Expr::value(after.reminder_overdue_every_days),
        )
        .col_expr(organisation::Column::ReminderEscalateDays, Expr::value(after.reminder_escalate_days))
        .col_expr(organisation::Column::ReminderSendHour, Expr::value(after.reminder_send_hour))
        .col_expr(organisation::Column::Version, Expr::value(after.version))
        .filter(organisation::Column::Id.eq(actor.org_id))
        .filter(organisation::Column::Version.eq(org.version))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(RepoError::Stale { current: org.version + 1 });
    }
    let change =
        Change::new("organisation.reminders", "organisation", Some(actor.org_id), Some(&org), Some(&after));
    audit::record(conn, actor, change).await?;
    Ok(after)
}
