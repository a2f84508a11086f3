//! The catalogue as a file: keys for resolving 位置づけ, import and export.

use super::*;
use crate::repo::Precondition;
use crate::WriteTxn;

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
    conn: &WriteTxn,
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
            Some(text) => {
                Some(update_plan(conn, actor, fy, &Precondition::version(p.version), text).await?.id)
            }
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
                check_joint_edit(&current.model, &c.data, current.status())?;
                let after = course_model(&c.data, &current.model, within, current.status());
                if after == current.model {
                    stats.unchanged += 1;
                } else {
                    stats.updated += 1;
                    if !dry_run {
                        let version = Precondition::version(current.model.version);
                        save_audited(
                            conn,
                            actor,
                            "course.import",
                            &current.model,
                            &version,
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
