//! 研修計画: plans per fiscal year, publication, and a copy into the next year.

use super::*;
use crate::repo::Precondition;
use crate::WriteTxn;
use kenshu_domain::Words;

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
    conn: &WriteTxn,
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
    conn: &WriteTxn,
    actor: &Actor,
    fy: FiscalYear,
    expected_version: &Precondition,
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
    conn: &WriteTxn,
    actor: &Actor,
    fy: FiscalYear,
    expected_version: &Precondition,
) -> Result<training_plan::Model, RepoError> {
    let before = get_plan(conn, actor.org_id, fy).await?;
    crate::repo::check_version(before.version, expected_version)?;
    let drafts = course::Entity::find()
        .filter(course::Column::OrgId.eq(actor.org_id))
        .filter(course::Column::PlanId.eq(before.id))
        .filter(course::Column::Status.eq(CourseStatus::Draft.as_str()))
        .all(conn)
        .await?;
    for c in drafts {
        let after = course::Model { status: CourseStatus::Published.as_str().into(), ..c.clone() };
        save_audited(
            conn,
            actor,
            "course.publish",
            &c,
            &Precondition::version(c.version),
            after,
            NUMBER_TAKEN,
        )
        .await?;
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
    conn: &WriteTxn,
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
        return Err(RepoError::Conflict(Words::new(
            format!("the FY{} plan already has {existing} courses; copying would mix two plans", to.year()),
            format!(
                "{}年度の研修計画にはすでに{existing}件の研修があります。複写すると二つの計画が混ざります",
                to.year()
            ),
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
            // A joint course is offered anew each year: the copy is the organisation's own.
            share_id: None,
            host_org_id: None,
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
