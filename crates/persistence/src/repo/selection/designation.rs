//! 指名: designation runs over the roster, and nominations loaded from a file.

use super::*;
use crate::WriteTxn;
use kenshu_domain::{FieldCode, Words};

/// What a designation run did for one course, or would do on a dry run.
#[derive(Debug, Clone)]
pub struct DesignationOutcome {
    pub course_id: Uuid,
    /// Matched now, had no nomination: designated (selected, or waiting beyond the headcount).
    pub new: Vec<EmployeeRef>,
    pub selected: u64,
    pub waitlisted: u64,
    /// Matched and already nominated, by any route and in any state.
    pub already: u64,
    /// Designated earlier but no longer matched (promoted, transferred, left): for HR to review.
    pub no_longer_matching: Vec<EmployeeRef>,
}

fn member_ref(m: &RosterMember) -> EmployeeRef {
    EmployeeRef { id: m.id, employee_no: m.employee_no.clone(), name: m.name.clone() }
}

/// Designate (指名) for each course: every active employee its designation rules match who has
/// no nomination yet. The roster is read once for all courses. New designations take the
/// course's free places in roster order; beyond the headcount they wait.
///
/// The matching and the building of each course's statements run on a blocking thread while
/// this task writes the courses already planned, so the CPU work overlaps the database's (a
/// confirm at 50,000 staff writes 122,158 nominations), and the runtime's worker is not held
/// by a preview's matching.
pub async fn designate(
    conn: &WriteTxn,
    actor: &Actor,
    fy: FiscalYear,
    courses: &[CourseRecord],
    ladder: &GradeLadder,
    dry_run: bool,
) -> Result<Vec<DesignationOutcome>, RepoError> {
    let roster = roster_members(conn, actor.org_id, None).await?;
    let course_ids: Vec<Uuid> = courses.iter().map(|c| c.model.id).collect();
    // A year's nominations (122,158 at 50,000 staff) are read course by course, a page at a
    // time, through the (organisation, course, employee) index.
    let mut existing: HashMap<Uuid, Vec<nomination::Model>> = HashMap::new();
    for &course_id in &course_ids {
        let of_course = nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(actor.org_id))
            .filter(nomination::Column::CourseId.eq(course_id));
        let found = existing.entry(course_id).or_default();
        let models = |q: sea_orm::Select<nomination::Entity>| q.into_model::<nomination::Model>();
        for_each_in_pages(
            conn,
            of_course,
            nomination::Column::EmployeeId,
            models,
            |n| n.employee_id,
            |n| {
                found.push(n);
                Ok(())
            },
        )
        .await?;
    }
    let mut sessions: HashMap<Uuid, Vec<course_session::Model>> = HashMap::new();
    for ids in course_ids.chunks(crate::repo::IN_LIST) {
        let rows = course_session::Entity::find()
            .filter(course_session::Column::OrgId.eq(actor.org_id))
            .filter(course_session::Column::CourseId.is_in(ids.iter().copied()))
            .order_by_asc(course_session::Column::StartsAt)
            .all(conn)
            .await?;
        for s in rows {
            sessions.entry(s.course_id).or_default().push(s);
        }
    }
    let planner = DesignationPlanner {
        backend: conn.get_database_backend(),
        actor: actor.clone(),
        fy,
        ladder: ladder.clone(),
        roster,
        existing,
        sessions,
        at: now(),
        dry_run,
    };
    let courses = courses.to_vec();
    // Two courses planned ahead at most: a course's statements hold its rows once more.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<PlannedRun>(2);
    let worker = tokio::task::spawn_blocking(move || planner.plan(&courses, &tx));
    let mut written = Ok(());
    while let Some(run) = rx.recv().await {
        written = write_run(conn, run).await;
        if written.is_err() {
            break;
        }
    }
    // Closing the channel stops a worker still planning after a failed write.
    drop(rx);
    let planned = worker.await.map_err(|e| RepoError::Db(DbErr::Custom(e.to_string())));
    written?;
    let (mut outcomes, gone_ids) = planned??;
    // Staff who left the roster are not in the active roster read above.
    if !gone_ids.is_empty() {
        let ids: Vec<Uuid> = gone_ids.iter().map(|(_, id)| *id).collect();
        let names: HashMap<Uuid, EmployeeRef> = employees_by_id(conn, actor.org_id, &ids)
            .await?
            .into_iter()
            .map(|(id, e)| (id, e.employee))
            .collect();
        for (i, id) in gone_ids {
            if let Some(r) = names.get(&id) {
                outcomes[i].no_longer_matching.push(r.clone());
            }
        }
    }
    Ok(outcomes)
}

/// What a designation run reads before it matches: pure CPU from here on (see [`designate`]).
struct DesignationPlanner {
    backend: DbBackend,
    actor: Actor,
    fy: FiscalYear,
    ladder: GradeLadder,
    roster: Vec<RosterMember>,
    existing: HashMap<Uuid, Vec<nomination::Model>>,
    sessions: HashMap<Uuid, Vec<course_session::Model>>,
    at: chrono::DateTime<chrono::Utc>,
    dry_run: bool,
}

/// One course's new designations as statements, with the run's audit record.
struct PlannedRun {
    steps: Vec<bulk::Step>,
    audit: Vec<crate::entities::audit_log::Model>,
}

/// The outcomes in course order, and the no-longer-matching who are off the active roster (by
/// the index of their course's outcome), to be named from the whole roster.
type Planned = (Vec<DesignationOutcome>, Vec<(usize, Uuid)>);

impl DesignationPlanner {
    /// Match every course and send each course's writes (none on a dry run) to `out`. Stops
    /// early when `out` is closed: the writer failed, and its error is the answer.
    fn plan(
        self,
        courses: &[CourseRecord],
        out: &tokio::sync::mpsc::Sender<PlannedRun>,
    ) -> Result<Planned, RepoError> {
        let by_id: HashMap<Uuid, &RosterMember> = self.roster.iter().map(|m| (m.id, m)).collect();
        let mut outcomes = Vec::with_capacity(courses.len());
        let mut gone_ids = Vec::new();
        for course in courses {
            let (outcome, inserts, gone) = self.course(course, &by_id)?;
            if !inserts.is_empty() && out.blocking_send(self.run(course.model.id, inserts)?).is_err() {
                break;
            }
            gone_ids.extend(gone.into_iter().map(|id| (outcomes.len(), id)));
            outcomes.push(outcome);
        }
        Ok((outcomes, gone_ids))
    }

    /// One course: who is designated now (and the rows to write, unless a dry run) and who no
    /// longer matches; of those, the ones off the active roster are returned apart.
    fn course(
        &self,
        course: &CourseRecord,
        by_id: &HashMap<Uuid, &RosterMember>,
    ) -> Result<(DesignationOutcome, Vec<nomination::Model>, Vec<Uuid>), RepoError> {
        let rules: Vec<_> = course.rules.iter().filter(|r| r.route == Route::Designation).collect();
        let matching: Vec<Uuid> = if rules.is_empty() {
            Vec::new()
        } else {
            self.roster
                .iter()
                .filter(|m| {
                    let c = m.candidate();
                    rules.iter().any(|r| r.matches(&c, self.fy, &self.ladder))
                })
                .map(|m| m.id)
                .collect()
        };
        let current = self.existing.get(&course.model.id).map(Vec::as_slice).unwrap_or_default();
        let nominated: Vec<(Uuid, Route, bool)> = current
            .iter()
            .map(|n| Ok((n.employee_id, n.route()?, n.state()?.is_live())))
            .collect::<Result<_, DbErr>>()?;
        let diff = designation_diff(&matching, &nominated);
        let held =
            current.iter().filter(|n| n.state().is_ok_and(NominationState::holds_place)).count() as u64;
        let free = places_left(course.model.headcount.map(|h| h as u32), held);
        let dates: Vec<(Uuid, Option<u64>)> = self
            .sessions
            .get(&course.model.id)
            .into_iter()
            .flatten()
            .map(|s| {
                let taken = current
                    .iter()
                    .filter(|n| n.session_id == Some(s.id))
                    .filter(|n| n.state().is_ok_and(NominationState::holds_place))
                    .count() as u64;
                (s.id, places_left(s.capacity.map(|c| c as u32), taken))
            })
            .collect();
        let placements = kenshu_domain::selection::place_designations(diff.new.len(), free, &dates);
        let mut inserts = Vec::with_capacity(if self.dry_run { 0 } else { diff.new.len() });
        let mut outcome = DesignationOutcome {
            course_id: course.model.id,
            new: Vec::with_capacity(diff.new.len()),
            selected: 0,
            waitlisted: 0,
            already: diff.already.len() as u64,
            no_longer_matching: Vec::new(),
        };
        for (id, placement) in diff.new.iter().zip(placements) {
            let (state, session_id) = match placement {
                kenshu_domain::selection::Placement::Placed(session) => (NominationState::Selected, session),
                kenshu_domain::selection::Placement::Waiting => (NominationState::Waitlisted, None),
            };
            if state == NominationState::Selected {
                outcome.selected += 1;
            } else {
                outcome.waitlisted += 1;
            }
            if let Some(m) = by_id.get(id) {
                outcome.new.push(member_ref(m));
            }
            // A preview reports who would be designated; it has no rows to build.
            if !self.dry_run {
                let actor = &self.actor;
                inserts.push(nomination::Model {
                    decided_by: Some(actor.signature()),
                    decided_at: Some(self.at),
                    session_id,
                    ..new_nomination(actor, course.model.id, *id, Route::Designation, state, None, self.at)
                });
            }
        }
        let mut gone = Vec::new();
        for id in &diff.no_longer_matching {
            match by_id.get(id) {
                Some(m) => outcome.no_longer_matching.push(member_ref(m)),
                None => gone.push(*id),
            }
        }
        Ok((outcome, inserts, gone))
    }

    /// One course's new designations as statements, with one audit record for the course and
    /// run naming every nomination it made: a run writes ~2.4 nominations per employee, and a
    /// record each doubled the rows written.
    fn run(&self, course_id: Uuid, mut inserts: Vec<nomination::Model>) -> Result<PlannedRun, DbErr> {
        let run = DesignationRun {
            course_id,
            fiscal_year: self.fy.year(),
            nominations: inserts
                .iter()
                .map(|n| DesignatedNomination {
                    id: n.id,
                    employee_id: n.employee_id,
                    state: n.state.clone(),
                })
                .collect(),
        };
        let change = Change::new("nomination.designate", "course", Some(course_id), None, Some(&run));
        drop(run);
        // In key order the unique (org, course, employee) index is filled left to right instead
        // of at random places; the ids keep the roster order the waiting list follows.
        inserts.sort_unstable_by_key(|n| n.employee_id);
        Ok(PlannedRun {
            steps: bulk::statements::<nomination::Entity>(self.backend, &inserts, OnKey::Fail)?,
            audit: audit::prepare(&self.actor, vec![change]),
        })
    }
}

/// Write one course's planned designations and their audit record.
async fn write_run(conn: &WriteTxn, run: PlannedRun) -> Result<(), RepoError> {
    bulk::execute(conn, run.steps).await.map_err(|e| match e {
        bulk::BulkError::Db(e) => RepoError::from_write(e, MEANWHILE),
        bulk::BulkError::Changed => RepoError::Conflict(MEANWHILE.clone()),
    })?;
    audit::write(conn, run.audit).await?;
    Ok(())
}

const MEANWHILE: &Words = &Words::fixed(
    "a nomination was added meanwhile; run the designation again",
    "その間に受講候補が追加されました。指名をもう一度実行してください",
);

/// The audit record of one course's designation run (指名).
#[derive(Debug, Serialize)]
struct DesignationRun {
    course_id: Uuid,
    fiscal_year: i32,
    /// Nominations made, in roster order, each with its state (selected or waitlisted).
    nominations: Vec<DesignatedNomination>,
}

#[derive(Debug, Serialize)]
struct DesignatedNomination {
    id: Uuid,
    employee_id: Uuid,
    state: String,
}

/// What a nomination import did, or would do on a dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NominationImportStats {
    pub created: u64,
    /// Rows whose employee is already nominated for the course: left as they are.
    pub unchanged: u64,
    /// Of the created designations, those beyond the course's headcount that wait.
    pub waitlisted: u64,
}

/// Import nominations for a year's courses: every row is checked (course of the plan, active
/// employee, not twice in the file) before anything is written; then the new ones are added in
/// their route's first state, designations beyond the headcount waiting.
pub async fn import_nominations(
    conn: &WriteTxn,
    actor: &Actor,
    fy: FiscalYear,
    rows: &[kenshu_domain::selection_io::NominationRow],
    dry_run: bool,
) -> Result<Result<NominationImportStats, Vec<kenshu_domain::roster_import::RowError>>, RepoError> {
    use kenshu_domain::roster_import::RowError;
    let courses: HashMap<kenshu_domain::catalogue_io::CourseKey, CourseRecord> =
        crate::repo::catalogue::running_courses(conn, actor.org_id, fy)
            .await?
            .into_iter()
            .filter_map(|c| {
                let category = kenshu_domain::catalogue::Category::parse(&c.model.category)?;
                Some((kenshu_domain::catalogue_io::CourseKey { category, number: c.model.number as u32 }, c))
            })
            .collect();
    let numbers: Vec<String> = rows.iter().map(|r| r.employee_no.as_str().to_string()).collect();
    let staff: HashMap<String, employee::Model> = crate::repo::in_chunks(&numbers, |chunk| async move {
        employee::Entity::find()
            .filter(employee::Column::OrgId.eq(actor.org_id))
            .filter(employee::Column::Active.eq(true))
            .filter(employee::Column::EmployeeNo.is_in(chunk.iter().cloned()))
            .all(conn)
            .await
            .map(|rows| rows.into_iter().map(|e| (e.employee_no.clone(), e)))
    })
    .await?;
    let course_ids: Vec<Uuid> = courses.values().map(|c| c.model.id).collect();
    let mut existing: std::collections::HashSet<(Uuid, Uuid)> = std::collections::HashSet::new();
    let mut held_by_course: HashMap<Uuid, u64> = HashMap::new();
    for chunk in course_ids.chunks(crate::repo::IN_LIST) {
        for n in nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(actor.org_id))
            .filter(nomination::Column::CourseId.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            if n.state()?.holds_place() {
                *held_by_course.entry(n.course_id).or_default() += 1;
            }
            existing.insert((n.course_id, n.employee_id));
        }
    }
    let mut errors = Vec::new();
    let mut seen: HashMap<(Uuid, Uuid), u64> = HashMap::new();
    let mut stats = NominationImportStats::default();
    let mut inserts = Vec::new();
    let at = now();
    for row in rows {
        let course = courses.get(&row.course);
        let person = staff.get(row.employee_no.as_str());
        if course.is_none() {
            errors.push(RowError::new(
                row.line,
                "No",
                FieldCode::NotFound,
                format!("no course {} in the FY{} plan", row.course.label(), fy.year()),
            ));
        }
        if person.is_none() {
            errors.push(RowError::new(
                row.line,
                "職員番号",
                FieldCode::NotFound,
                format!("no active employee {}", row.employee_no.as_str()),
            ));
        }
        let (Some(course), Some(person)) = (course, person) else { continue };
        let key = (course.model.id, person.id);
        if let Some(first) = seen.insert(key, row.line) {
            errors.push(RowError::new(
                row.line,
                "職員番号",
                FieldCode::Duplicate,
                format!("this employee and course appear twice (first at line {first})"),
            ));
            continue;
        }
        if existing.contains(&key) {
            stats.unchanged += 1;
            continue;
        }
        let mut state = NominationState::initial(row.route);
        if state.holds_place() {
            let held = held_by_course.entry(course.model.id).or_default();
            if places_left(course.model.headcount.map(|h| h as u32), *held) == Some(0) {
                state = NominationState::Waitlisted;
                stats.waitlisted += 1;
            } else {
                *held += 1;
            }
        }
        stats.created += 1;
        inserts.push(new_nomination(
            actor,
            course.model.id,
            person.id,
            row.route,
            state,
            row.reason.clone(),
            at,
        ));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Ok(Err(errors));
    }
    if !dry_run && !inserts.is_empty() {
        bulk::write::<nomination::Entity>(conn, &inserts, OnKey::Fail).await.map_err(|e| {
            RepoError::from_write(
                e,
                &Words::fixed(
                    "a nomination was added meanwhile; send the file again",
                    "その間に受講候補が追加されました。ファイルをもう一度送ってください",
                ),
            )
        })?;
        let changes = inserts
            .iter()
            .map(|n| Change::new("nomination.import", "nomination", Some(n.id), None, Some(n)))
            .collect();
        audit::record_many(conn, actor, changes).await?;
    }
    Ok(Ok(stats))
}
