//! The reminders and digests the service writes by itself, as `kenshu_domain::reminder` decides
//! when: sessions days away, reports due and overdue, and each decider's daily list of what
//! waits for them. Each is written once, under its key, whichever instance finds it first.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use kenshu_domain::approval::{Deciders, Step};
use kenshu_domain::calendar::{tokyo_date, FiscalYear};
use kenshu_domain::notice::{
    digest, drafts, About, CourseFacts, DigestRecipient, Event, ItemKind, NoticeDraft, NoticeItem,
    WaitingItem, WaitingList,
};
use kenshu_domain::reminder::{digest_due, digest_key, report_reminders, session_reminder, Reminder, Writer};
use kenshu_domain::selection::NominationState;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::notice::{course_facts, session_facts, trainees};
use super::report::{
    courses_owing, in_list_order, not_handed_in_of_course, with_reports_outstanding, ReportScope,
};
use super::{now, RepoError};
use crate::entities::{
    absence_notice, correspondence_course, course, course_session, job_lease, nomination, notice,
    organisation, portal_inbound, stored, subsidy_application, training_report,
};

/// Claim the scheduled job `name` for this run if it last ran at least `every` before `at`: of
/// several instances looking at once, one gets it.
pub async fn claim_job(
    conn: &impl ConnectionTrait,
    name: &str,
    at: DateTime<Utc>,
    every: Duration,
) -> Result<bool, DbErr> {
    let first = job_lease::Entity::insert(sea_orm::IntoActiveModel::into_active_model(job_lease::Model {
        name: name.into(),
        last_run_at: None,
    }))
    .on_conflict(OnConflict::column(job_lease::Column::Name).do_nothing().to_owned())
    .exec_without_returning(conn)
    .await;
    match first {
        Ok(_) | Err(DbErr::RecordNotInserted) => {}
        Err(e) => return Err(e),
    }
    let res = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::LastRunAt, Expr::value(at))
        .filter(job_lease::Column::Name.eq(name))
        .filter(
            sea_orm::Condition::any()
                .add(job_lease::Column::LastRunAt.is_null())
                .add(job_lease::Column::LastRunAt.lte(at - every)),
        )
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Make a job count as last run at `last_run_at` (earlier than its claim): it is due again once
/// its interval has passed since then. For a run that failed and should be tried sooner.
pub async fn due_again(
    conn: &impl ConnectionTrait,
    name: &str,
    last_run_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    job_lease::Entity::update_many()
        .col_expr(job_lease::Column::LastRunAt, Expr::value(last_run_at))
        .filter(job_lease::Column::Name.eq(name))
        .exec(conn)
        .await?;
    Ok(())
}

/// What one organisation's run wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReminderRun {
    pub sessions: u64,
    pub reports: u64,
    pub digests: u64,
}

/// Drafts gathered before they are written. A first look at 50,000 staff with a backlog of
/// overdue reports finds about 16,000; held all at once with their rows they took the service
/// over 200 MB.
const WRITE_EVERY: usize = 1_000;

/// Write the gathered drafts once there are [`WRITE_EVERY`] of them.
async fn write_gathered(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    keyed: &mut Vec<(String, NoticeDraft)>,
) -> Result<(), DbErr> {
    if keyed.len() >= WRITE_EVERY {
        write_once(conn, org_id, std::mem::take(keyed)).await?;
    }
    Ok(())
}

/// Write, once each, the reminders and digests due at `at` in the organisation.
pub async fn run(
    conn: &impl ConnectionTrait,
    org: &organisation::Model,
    at: DateTime<Utc>,
) -> Result<ReminderRun, RepoError> {
    let settings = super::org::reminders(org);
    let mut keyed: Vec<(String, NoticeDraft)> = Vec::new();
    let mut run = ReminderRun::default();

    // Sessions starting within the reminder window that trainees hold places on.
    if settings.session_days_before > 0 {
        let horizon = at + Duration::days(i64::from(settings.session_days_before) + 1);
        let sessions = course_session::Entity::find()
            .filter(course_session::Column::OrgId.eq(org.id))
            .filter(course_session::Column::StartsAt.gt(at))
            .filter(course_session::Column::StartsAt.lte(horizon))
            .order_by_asc(course_session::Column::StartsAt)
            .all(conn)
            .await?;
        let mut facts = HashMap::new();
        for s in &sessions {
            let on = super::cascade::on_session(conn, org.id, s).await?;
            let due: Vec<(Reminder, &nomination::Model)> = on
                .iter()
                .filter_map(|n| session_reminder(&settings, n.id, s.id, s.starts_at, at).map(|r| (r, n)))
                .collect();
            if due.is_empty() {
                continue;
            }
            let Some(course) = facts_of(conn, org.id, s.course_id, &mut facts).await? else { continue };
            let people =
                trainees(conn, org.id, &due.iter().map(|(_, n)| n.employee_id).collect::<Vec<_>>()).await?;
            for (reminder, n) in due {
                if let Some(t) = people.get(&n.employee_id) {
                    let event = Event::SessionSoon { session: session_facts(s) };
                    for d in drafts(event, &About::place(course, n.id, n.session_id), t) {
                        keyed.push((reminder.key(), d));
                    }
                    run.sessions += 1;
                }
            }
            write_gathered(conn, org.id, &mut keyed).await?;
        }
    }

    // Reports not handed in, of this fiscal year and the last (a March course reports in April).
    // A course at a time: two years' lines at 50,000 staff are about 360,000.
    let year = FiscalYear::containing(tokyo_date(at)).year();
    let mut facts = HashMap::new();
    for fy in [year - 1, year] {
        let courses =
            courses_owing(conn, org.id, &ReportScope { fiscal_year: Some(fy), ..Default::default() }).await?;
        let ids: Vec<Uuid> = courses.keys().copied().collect();
        let outstanding = with_reports_outstanding(conn, org.id, &ids).await?;
        for (course_id, course) in in_list_order(&courses) {
            if !outstanding.contains(course_id) {
                continue;
            }
            let lines = not_handed_in_of_course(conn, org.id, *course_id, course).await?;
            let mut pending = Vec::new();
            for line in &lines {
                let handed_in = match &line.report {
                    Some(r) => !r.state.with_trainee(),
                    None => false,
                };
                let Some(due_on) = line.due_on.filter(|_| !handed_in) else { continue };
                let writer = if line.on_roster { Writer::OnRoster } else { Writer::Left };
                let due = report_reminders(&settings, line.nomination_id, due_on, writer, at);
                if !due.is_empty() {
                    pending.push((line, due_on, due));
                }
            }
            if pending.is_empty() {
                continue;
            }
            let people =
                trainees(conn, org.id, &pending.iter().map(|(l, _, _)| l.employee.id).collect::<Vec<_>>())
                    .await?;
            let Some(course) = facts_of(conn, org.id, *course_id, &mut facts).await? else { continue };
            for (line, due_on, due) in pending {
                let Some(t) = people.get(&line.employee.id) else { continue };
                let about = match &line.report {
                    Some(r) => About::course(ItemKind::TrainingReport, r.id, course),
                    None => About::course(ItemKind::Nomination, line.nomination_id, course),
                };
                for reminder in due {
                    let event = match reminder {
                        Reminder::ReportDue { .. } => Event::ReportDue { due_on },
                        Reminder::ReportOverdue { .. } => Event::ReportOverdue { due_on },
                        Reminder::ReportOverdueToHead { .. } => Event::ReportOverdueToHead { due_on },
                        Reminder::Session { .. } => continue,
                    };
                    for d in drafts(event, &about, t) {
                        keyed.push((reminder.key(), d));
                    }
                    run.reports += 1;
                }
            }
            write_gathered(conn, org.id, &mut keyed).await?;
        }
    }

    // Each decider's list of what waits for them, once a day from the sending hour.
    if digest_due(&settings, at) {
        let today = tokyo_date(at);
        let waiting = waiting(conn, org.id).await?;
        // The deciders, read at once.
        let ids: Vec<Uuid> = waiting.keys().flatten().copied().collect();
        let people = super::employee::employees_by_id(conn, org.id, &ids).await?;
        for (recipient, items) in waiting {
            let who = match recipient {
                Some(id) => {
                    let Some(p) = people.get(&id) else { continue };
                    DigestRecipient {
                        employee: Some((id, p.employee.employee_no.clone(), p.employee.name.clone())),
                    }
                }
                None => DigestRecipient { employee: None },
            };
            keyed.push((digest_key(recipient, today), digest(&who, today, Uuid::now_v7(), items)));
            run.digests += 1;
        }
    }
    write_once(conn, org.id, keyed).await?;
    Ok(run)
}

/// A course's facts, read once per run; `None` for a cancelled course (nothing to remind of).
async fn facts_of<'a>(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    cache: &'a mut HashMap<Uuid, Option<CourseFacts>>,
) -> Result<Option<&'a CourseFacts>, RepoError> {
    if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(course_id) {
        let c: course::Model = super::find_in_org(conn, org_id, course_id).await?;
        let live = c.status()? != kenshu_domain::catalogue::CourseStatus::Cancelled;
        slot.insert(if live { Some(course_facts(conn, &c).await?) } else { None });
    }
    Ok(cache[&course_id].as_ref())
}

/// A waiting nomination as read: id, course, employee, state, created, decided.
type Waiting = (Uuid, Uuid, Uuid, String, DateTime<Utc>, Option<DateTime<Utc>>);

/// Another waiting record as read: id, course, employee, state, created, then the two moments
/// its waits may start from.
type WaitingSince = (Uuid, Uuid, Uuid, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The organisation's records of `E` in `states`, read narrow: `columns` are id, course,
/// employee, state, created, and the two moments its waits may start from.
async fn waiting_in<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    org: E::Column,
    org_id: Uuid,
    columns: [E::Column; 7],
    states: &[&'static str],
) -> Result<Vec<WaitingSince>, DbErr> {
    let state = columns[3];
    E::find()
        .select_only()
        .columns(columns)
        .filter(org.eq(org_id))
        .filter(state.is_in(states.to_vec()))
        .into_tuple::<WaitingSince>()
        .all(conn)
        .await
}

/// Who a waiting record waits for.
#[derive(Debug, Clone, Copy)]
enum Waits {
    /// Whoever decides this step for the trainee (a head, or the office standing in).
    Decider(Step),
    /// The training office's own next step, named.
    Office(&'static str),
}

/// What waits for each decider (None: the training office), oldest first, as their digest
/// lists it (the oldest items, and how many in all): applications,
/// absence notices and subsidy applications for their confirmer, reports for their approver,
/// and what comes to the office next (selecting a confirmed application, receiving a confirmed
/// absence notice or an approved report, approving a confirmed subsidy application, checking a
/// completion report).
pub async fn waiting(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
) -> Result<BTreeMap<Option<Uuid>, WaitingList>, RepoError> {
    use kenshu_domain::absence::NoticeState as A;
    use kenshu_domain::report::ReportState as R;
    use kenshu_domain::subsidy::ApplicationState as S;
    // (item, course or subsidy course, employee, who, since)
    let mut found: Vec<(NoticeItem, Uuid, Uuid, Waits, DateTime<Utc>)> = Vec::new();
    // Each kind's waiting records read narrow (a report's text is not needed here): at 50,000
    // staff tens of thousands may wait, and the run repeats every few minutes.
    let states = |list: &[&'static str]| list.to_vec();
    let n_states = states(&[NominationState::Proposed.as_str(), NominationState::Confirmed.as_str()]);
    for (id, course_id, employee_id, state, created_at, decided_at) in nomination::Entity::find()
        .select_only()
        .columns([
            nomination::Column::Id,
            nomination::Column::CourseId,
            nomination::Column::EmployeeId,
            nomination::Column::State,
            nomination::Column::CreatedAt,
            nomination::Column::DecidedAt,
        ])
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::State.is_in(n_states))
        .into_tuple::<Waiting>()
        .all(conn)
        .await?
    {
        let (waits, since) = match stored("nomination.state", &state, NominationState::parse)? {
            NominationState::Proposed => (Waits::Decider(Step::Confirmation), created_at),
            _ => (Waits::Office("選考"), decided_at.unwrap_or(created_at)),
        };
        found.push((NoticeItem { kind: ItemKind::Nomination, id }, course_id, employee_id, waits, since));
    }
    use absence_notice::Column as AC;
    let columns =
        [AC::Id, AC::CourseId, AC::EmployeeId, AC::State, AC::CreatedAt, AC::SubmittedAt, AC::ConfirmedAt];
    for (id, course_id, employee_id, state, created_at, submitted_at, confirmed_at) in
        waiting_in::<absence_notice::Entity>(
            conn,
            AC::OrgId,
            org_id,
            columns,
            &[A::Submitted, A::Confirmed].map(|s| s.as_str()),
        )
        .await?
    {
        let (waits, since) = match stored("absence_notice.state", &state, A::parse)? {
            A::Submitted => (Waits::Decider(Step::Confirmation), submitted_at),
            _ => (Waits::Office("受理"), confirmed_at),
        };
        let item = NoticeItem { kind: ItemKind::AbsenceNotice, id };
        found.push((item, course_id, employee_id, waits, since.unwrap_or(created_at)));
    }
    use training_report::Column as RC;
    let columns =
        [RC::Id, RC::CourseId, RC::EmployeeId, RC::State, RC::CreatedAt, RC::SubmittedAt, RC::ApprovedAt];
    for (id, course_id, employee_id, state, created_at, submitted_at, approved_at) in
        waiting_in::<training_report::Entity>(
            conn,
            RC::OrgId,
            org_id,
            columns,
            &[R::Submitted, R::Approved].map(|s| s.as_str()),
        )
        .await?
    {
        let (waits, since) = match stored("training_report.state", &state, R::parse)? {
            R::Submitted => (Waits::Decider(Step::Approval), submitted_at),
            _ => (Waits::Office("受理"), approved_at),
        };
        let item = NoticeItem { kind: ItemKind::TrainingReport, id };
        found.push((item, course_id, employee_id, waits, since.unwrap_or(created_at)));
    }
    use subsidy_application::Column as SC;
    let columns =
        [SC::Id, SC::CourseId, SC::EmployeeId, SC::State, SC::CreatedAt, SC::ConfirmedAt, SC::ReportedAt];
    let subsidy_states = [S::Applied, S::Confirmed, S::Reported].map(|s| s.as_str());
    for (id, course_id, employee_id, state, created_at, confirmed_at, reported_at) in
        waiting_in::<subsidy_application::Entity>(conn, SC::OrgId, org_id, columns, &subsidy_states).await?
    {
        let (waits, since) = match stored("subsidy_application.state", &state, S::parse)? {
            S::Applied => (Waits::Decider(Step::Confirmation), Some(created_at)),
            S::Confirmed => (Waits::Office("承認"), confirmed_at),
            _ => (Waits::Office("修了確認"), reported_at),
        };
        let item = NoticeItem { kind: ItemKind::SubsidyApplication, id };
        found.push((item, course_id, employee_id, waits, since.unwrap_or(created_at)));
    }
    let mut out: BTreeMap<Option<Uuid>, WaitingList> = BTreeMap::new();
    // Portal form changes that could not be applied wait for the office to correct and replay.
    for f in portal_inbound::Entity::find()
        .filter(portal_inbound::Column::OrgId.eq(org_id))
        .filter(portal_inbound::Column::State.eq(kenshu_domain::portal_form::InboundState::Failed.as_str()))
        .order_by_asc(portal_inbound::Column::ReceivedAt)
        .all(conn)
        .await?
    {
        out.entry(None).or_default().add(|| WaitingItem {
            item: NoticeItem { kind: ItemKind::PortalChange, id: f.id },
            title: format!("ポータル様式の取込エラー: {}", f.reason.unwrap_or_default()),
            trainee_employee_no: String::new(),
            trainee_name: String::new(),
            step: "修正・再取込".into(),
            since: f.received_at,
        });
    }
    if found.is_empty() {
        return Ok(out);
    }
    // Each course once (many records wait on one course), its title only.
    let ids: Vec<Uuid> = found.iter().map(|f| f.1).collect::<BTreeSet<_>>().into_iter().collect();
    let titles: HashMap<Uuid, String> = super::in_chunks(&ids, |chunk| async move {
        let mut titles: Vec<(Uuid, String)> = course::Entity::find()
            .select_only()
            .columns([course::Column::Id, course::Column::Title])
            .filter(course::Column::OrgId.eq(org_id))
            .filter(course::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        titles.extend(
            correspondence_course::Entity::find()
                .select_only()
                .columns([correspondence_course::Column::Id, correspondence_course::Column::Title])
                .filter(correspondence_course::Column::OrgId.eq(org_id))
                .filter(correspondence_course::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple::<(Uuid, String)>()
                .all(conn)
                .await?,
        );
        Ok::<_, DbErr>(titles)
    })
    .await?;
    let people = trainees(conn, org_id, &found.iter().map(|f| f.2).collect::<Vec<_>>()).await?;
    found.sort_by_key(|f| f.4);
    for (item, title_of, employee, waits, since) in found {
        let Some(t) = people.get(&employee) else { continue };
        let entry = |step: &str| WaitingItem {
            item,
            title: titles.get(&title_of).cloned().unwrap_or_default(),
            trainee_employee_no: t.employee_no.clone(),
            trainee_name: t.name.clone(),
            step: step.to_string(),
            since,
        };
        match waits {
            Waits::Office(step) => out.entry(None).or_default().add(|| entry(step)),
            Waits::Decider(step) => {
                let name = match step {
                    Step::Confirmation => "確認",
                    Step::Approval => "決裁",
                };
                match t.chain.deciders(step) {
                    Deciders::Employees(ids) => {
                        for id in ids {
                            out.entry(Some(id)).or_default().add(|| entry(name));
                        }
                    }
                    Deciders::TrainingOffice => out.entry(None).or_default().add(|| entry(name)),
                }
            }
        }
    }
    Ok(out)
}

/// Write notices under their keys: a key already written (by an earlier run, or by another
/// instance a moment ago) is left as it is. Those written get their deliveries.
pub async fn write_once(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    keyed: Vec<(String, NoticeDraft)>,
) -> Result<u64, DbErr> {
    let at = now();
    // A notice to the trainee and one to their head share a reminder: each its own key.
    let keyed: Vec<(String, NoticeDraft)> = keyed
        .into_iter()
        .map(|(key, d)| {
            let recipient = d.recipient.map_or("office".to_string(), |r| r.to_string());
            (format!("{key}:{recipient}"), d)
        })
        .collect();
    // Most of a run's reminders were written by an earlier run (the day's digests, a weekly
    // round of overdue reports): those are known by their keys before their bodies are rendered.
    let keys: Vec<String> = keyed.iter().map(|(key, _)| key.clone()).collect();
    let written_before: HashSet<String> = super::in_chunks(&keys, |chunk| async move {
        notice::Entity::find()
            .select_only()
            .column(notice::Column::DedupeKey)
            .filter(notice::Column::OrgId.eq(org_id))
            .filter(notice::Column::DedupeKey.is_in(chunk))
            .into_tuple::<String>()
            .all(conn)
            .await
    })
    .await?;
    let rows: Vec<notice::Model> = keyed
        .into_iter()
        .filter(|(key, _)| !written_before.contains(key))
        .map(|(key, d)| super::notice::row(org_id, &d, Some(key), at))
        .collect();
    let mut written = Vec::new();
    for row in rows {
        let res = notice::Entity::insert(sea_orm::IntoActiveModel::into_active_model(row.clone()))
            .on_conflict(
                OnConflict::columns([notice::Column::OrgId, notice::Column::DedupeKey])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await;
        match res {
            Ok(1) => written.push(row),
            Ok(_) | Err(DbErr::RecordNotInserted) => {}
            Err(e) => return Err(e),
        }
    }
    super::delivery::fan_out(conn, org_id, &written).await?;
    Ok(written.len() as u64)
}
