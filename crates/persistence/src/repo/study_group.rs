//! 自主研究グループ助成: study groups, their plans and grants within the year's budget, and the
//! settlement on spending.

use crate::repo::Precondition;
use crate::repo::CHANGED_MEANWHILE;
use crate::WriteTxn;
use kenshu_domain::notice::{About, Event, GroupDecision, ItemKind};
use kenshu_domain::subsidy::{check_grant, settle_grant, told_of_handover, GroupState, Programme};
use kenshu_domain::Words;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::subsidy::{budget_use, lock_programme};
use super::{find_in_org, insert_audited, now, save_audited, Actor, RepoError};
use crate::entities::{employee, study_group};

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
    conn: &WriteTxn,
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
    insert_audited(
        conn,
        actor,
        "study_group.create",
        m,
        &Words::fixed(
            "a group of that name is registered this year",
            "同じ名前のグループが今年度すでに登録されています",
        ),
    )
    .await
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
    /// Members join or leave, or another takes over as representative (代表者の交代: the
    /// representative transferred or left), until the grant is settled or refused.
    Members {
        representative_id: Uuid,
        /// Every member, the representative included.
        members: Vec<Uuid>,
        /// Made by the representative themselves (else by HR): then the one replaced is not told.
        by_representative: bool,
    },
}

/// Apply a move the caller may make; states are checked here, as each move carries data.
pub async fn move_group(
    conn: &WriteTxn,
    actor: &Actor,
    before: &study_group::Model,
    expected_version: &Precondition,
    mv: GroupMove,
) -> Result<study_group::Model, RepoError> {
    // Decided on the row as it is now, read under the lock.
    let locked: study_group::Model =
        super::lock_at_version(conn, actor.org_id, before.id, expected_version).await?;
    let before = &locked;
    let state = before.state()?;
    let refuse = |what: &str| RepoError::Transition {
        state: state.as_str().into(),
        message: format!("a group that is {} cannot {what}", state.as_str()),
    };
    let at = now();
    let mut after = before.clone();
    // Who is told of the move, and what: decisions go to the representative.
    let told = match &mv {
        GroupMove::Approve { .. } => vec![(before.representative_id, GroupDecision::Granted)],
        GroupMove::Reject { .. } => vec![(before.representative_id, GroupDecision::NotGranted)],
        GroupMove::Settle => vec![(before.representative_id, GroupDecision::Settled)],
        GroupMove::Members { representative_id, by_representative, .. } => {
            let old = before.representative_id;
            // Read only for a hand-over the group's state allows (refused just below otherwise).
            let old_on_roster = *representative_id != old
                && state.open()
                && find_in_org::<employee::Model>(conn, before.org_id, old).await?.active;
            told_of_handover(old, *representative_id, *by_representative, old_on_roster)
        }
        GroupMove::Plan { .. } | GroupMove::Report { .. } => Vec::new(),
    };
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
                        RepoError::Conflict(Words::new(e, "予算の残額を超えます"))
                    } else {
                        RepoError::Invalid(vec![kenshu_domain::FieldError::range("grant_yen", e)])
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
        GroupMove::Members { representative_id, members, .. } => {
            if !state.open() {
                return Err(refuse("change its members"));
            }
            after.representative_id = representative_id;
            after.members = serde_json::to_string(&members).expect("ids serialise");
            "members"
        }
    };
    let g = save_audited(
        conn,
        actor,
        format!("study_group.{action}"),
        before,
        expected_version,
        after,
        CHANGED_MEANWHILE,
    )
    .await?;
    let mut about = About::record(ItemKind::StudyGroup, g.id, g.name.clone());
    about.reason = g.comment.clone();
    about.amount_yen = g.settled_yen.or(g.approved_yen);
    for (whom, d) in told {
        super::notice::tell(conn, actor.org_id, Some(Event::StudyGroupDecided(d)), &about, whom).await?;
    }
    Ok(g)
}

/// Of the open groups ([`GroupState::open`]), how many `leavers` represented: they wait for the
/// representative or HR to hand them over (`GroupMove::Members`), as nobody else may file.
pub(crate) async fn represented_by(conn: &WriteTxn, org_id: Uuid, leavers: &[Uuid]) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    let open = || GroupState::ALL.into_iter().filter(|s| s.open()).map(GroupState::as_str);
    let mut groups = 0;
    for chunk in leavers.chunks(super::IN_LIST) {
        groups += study_group::Entity::find()
            .filter(study_group::Column::OrgId.eq(org_id))
            .filter(study_group::Column::RepresentativeId.is_in(chunk.iter().copied()))
            .filter(study_group::Column::State.is_in(open()))
            .count(conn)
            .await?;
    }
    Ok(groups)
}
