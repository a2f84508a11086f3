//! 研修報告書: post-training reports, their moves, the 職場還元 record, and who owes one.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use kenshu_domain::attendance::AttendanceStatus;
use kenshu_domain::calendar::tokyo_date;
use kenshu_domain::catalogue::ReportRule;
use kenshu_domain::report::{ReportEvent, ReportState, ReportText};
use kenshu_domain::selection::NominationState;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::audit::{self, Change};
use super::catalogue::CourseRecord;
use super::selection::{employees_by_id, CourseRef, EmployeeRef};
use super::{find_in_org, now, save_audited, Actor, RepoError};
use crate::entities::{attendance, course, course_session, nomination, training_report};

const TAKEN: &str = "a report for this nomination is already on file; correct it instead";

/// The Japan date of a course's last session, if it has any.
pub async fn last_day(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Option<NaiveDate>, DbErr> {
    Ok(last_days(conn, org_id, &[course_id]).await?.remove(&course_id))
}

async fn last_days(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_ids: &[Uuid],
) -> Result<HashMap<Uuid, NaiveDate>, DbErr> {
    let mut out: HashMap<Uuid, NaiveDate> = HashMap::new();
    for chunk in course_ids.chunks(500) {
        for s in course_session::Entity::find()
            .filter(course_session::Column::OrgId.eq(org_id))
            .filter(course_session::Column::CourseId.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            let day = tokyo_date(s.ends_at);
            let last = out.entry(s.course_id).or_insert(day);
            *last = (*last).max(day);
        }
    }
    Ok(out)
}

/// Whether the trainee of `n` attended the course: completed, or present (late, left early) at
/// one session at least. Only they write a report.
pub async fn attended(conn: &impl ConnectionTrait, n: &nomination::Model) -> Result<bool, DbErr> {
    Ok(attended_of(conn, n.org_id, std::slice::from_ref(n)).await?.contains(&n.id))
}

pub(crate) async fn attended_of(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    nominations: &[nomination::Model],
) -> Result<HashSet<Uuid>, DbErr> {
    let mut out: HashSet<Uuid> = HashSet::new();
    let mut open = Vec::new();
    for n in nominations {
        match NominationState::parse(&n.state) {
            Some(NominationState::Completed) => {
                out.insert(n.id);
            }
            Some(s) if s.holds_place() => open.push(n.id),
            _ => {}
        }
    }
    let present: Vec<&str> = [AttendanceStatus::Present, AttendanceStatus::Late, AttendanceStatus::LeftEarly]
        .iter()
        .map(|s| s.as_str())
        .collect();
    for chunk in open.chunks(500) {
        for a in attendance::Entity::find()
            .filter(attendance::Column::OrgId.eq(org_id))
            .filter(attendance::Column::NominationId.is_in(chunk.iter().copied()))
            .filter(attendance::Column::Status.is_in(present.clone()))
            .all(conn)
            .await?
        {
            out.insert(a.nomination_id);
        }
    }
    Ok(out)
}

/// Start the report of `nomination`, as a draft or submitted at once.
pub async fn create(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    nomination: &nomination::Model,
    text: &ReportText,
    submit: bool,
) -> Result<training_report::Model, RepoError> {
    let at = now();
    let model = training_report::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        nomination_id: nomination.id,
        course_id: nomination.course_id,
        employee_id: nomination.employee_id,
        learned: text.learned.clone(),
        application: text.application.clone(),
        comments: text.comments.clone(),
        state: if submit { ReportState::Submitted } else { ReportState::Draft }.as_str().into(),
        return_comment: None,
        first_submitted_at: submit.then_some(at),
        submitted_at: submit.then_some(at),
        approved_by: None,
        approved_at: None,
        received_by: None,
        received_at: None,
        shared_on: None,
        shared_note: None,
        shared_by: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    training_report::ActiveModel::from(model.clone())
        .insert(conn)
        .await
        .map_err(|e| RepoError::from_write(e, TAKEN))?;
    audit::record(conn, actor, Change::new("report.create", "report", Some(model.id), None, Some(&model)))
        .await?;
    Ok(model)
}

pub async fn get(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<training_report::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// Correct the text of a draft or returned report.
pub async fn update_text(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: &training_report::Model,
    expected_version: i32,
    text: &ReportText,
) -> Result<training_report::Model, RepoError> {
    let after = training_report::Model {
        learned: text.learned.clone(),
        application: text.application.clone(),
        comments: text.comments.clone(),
        ..before.clone()
    };
    save_audited(conn, actor, "report.update", before, expected_version, after, TAKEN).await
}

/// Move a report the domain has allowed to move: submitting stamps the time (the first time
/// too, for lateness), approving and receiving stamp who and when, returning keeps the comment.
pub async fn apply(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: &training_report::Model,
    expected_version: i32,
    (event, next): (ReportEvent, ReportState),
    comment: Option<String>,
) -> Result<training_report::Model, RepoError> {
    let at = now();
    let mut after = training_report::Model { state: next.as_str().into(), ..before.clone() };
    match event {
        ReportEvent::Submit => {
            after.first_submitted_at = before.first_submitted_at.or(Some(at));
            after.submitted_at = Some(at);
        }
        ReportEvent::Approve => {
            after.approved_by = Some(actor.signature());
            after.approved_at = Some(at);
        }
        ReportEvent::Receive => {
            after.received_by = Some(actor.signature());
            after.received_at = Some(at);
        }
        ReportEvent::Return => {
            after.return_comment = comment;
            after.approved_by = None;
            after.approved_at = None;
        }
    }
    let action = format!("report.{}", event.as_str());
    save_audited(conn, actor, action, before, expected_version, after, TAKEN).await
}

/// 職場還元: the section head records when the trainee shared what they learned.
pub async fn record_sharing(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: &training_report::Model,
    expected_version: i32,
    shared_on: NaiveDate,
    note: Option<String>,
) -> Result<training_report::Model, RepoError> {
    let after = training_report::Model {
        shared_on: Some(shared_on),
        shared_note: note,
        shared_by: Some(actor.signature()),
        ..before.clone()
    };
    save_audited(conn, actor, "report.share", before, expected_version, after, TAKEN).await
}

/// Which reports to list.
#[derive(Debug, Clone, Default)]
pub struct ReportScope {
    pub fiscal_year: Option<i32>,
    pub course_id: Option<Uuid>,
    /// Only these trainees (one, a section's or a department's staff).
    pub employees: Option<Vec<Uuid>>,
}

/// A report a trainee owes: for a nomination that attended a course requiring one, with the
/// report as far as it has been written.
#[derive(Debug, Clone)]
pub struct ReportLine {
    pub nomination_id: Uuid,
    pub course: CourseRef,
    pub employee: EmployeeRef,
    pub section_id: Uuid,
    /// None while the course has no sessions.
    pub due_on: Option<NaiveDate>,
    pub report: Option<training_report::Model>,
}

/// Every report owed in `scope`, in course then employee-number order.
pub async fn owed(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    scope: &ReportScope,
) -> Result<Vec<ReportLine>, DbErr> {
    // A few trainees (one, a section, a department): their nominations first, then the courses.
    // The whole organisation: the courses that require a report first.
    let mut nominations = Vec::new();
    let course_ids: Vec<Uuid> = match &scope.employees {
        Some(staff) => {
            for chunk in staff.chunks(500) {
                nominations.extend(
                    nomination::Entity::find()
                        .filter(nomination::Column::OrgId.eq(org_id))
                        .filter(nomination::Column::EmployeeId.is_in(chunk.iter().copied()))
                        .all(conn)
                        .await?,
                );
            }
            nominations.iter().map(|n| n.course_id).collect::<BTreeSet<_>>().into_iter().collect()
        }
        None => {
            let mut q = course::Entity::find().filter(course::Column::OrgId.eq(org_id));
            if let Some(fy) = scope.fiscal_year {
                q = q.filter(course::Column::FiscalYear.eq(fy));
            }
            if let Some(id) = scope.course_id {
                q = q.filter(course::Column::Id.eq(id));
            }
            q.all(conn).await?.into_iter().map(|c| c.id).collect()
        }
    };
    let mut courses: HashMap<Uuid, (i32, CourseRef, ReportRule)> = HashMap::new();
    for chunk in course_ids.chunks(500) {
        let mut q = course::Entity::find()
            .filter(course::Column::OrgId.eq(org_id))
            .filter(course::Column::Id.is_in(chunk.iter().copied()));
        if let Some(fy) = scope.fiscal_year {
            q = q.filter(course::Column::FiscalYear.eq(fy));
        }
        if let Some(id) = scope.course_id {
            q = q.filter(course::Column::Id.eq(id));
        }
        for c in q.all(conn).await? {
            let rank = c.category_rank;
            let record = CourseRecord::from_model(c)?;
            if !record.report.required() {
                continue;
            }
            let c = record.model;
            let r = CourseRef {
                id: c.id,
                fiscal_year: c.fiscal_year,
                category: c.category,
                number: c.number,
                title: c.title,
            };
            courses.insert(c.id, (rank, r, record.report));
        }
    }
    if scope.employees.is_none() {
        let ids: Vec<Uuid> = courses.keys().copied().collect();
        for chunk in ids.chunks(500) {
            nominations.extend(
                nomination::Entity::find()
                    .filter(nomination::Column::OrgId.eq(org_id))
                    .filter(nomination::Column::CourseId.is_in(chunk.iter().copied()))
                    .all(conn)
                    .await?,
            );
        }
    }
    nominations.retain(|n| courses.contains_key(&n.course_id));
    let attended = attended_of(conn, org_id, &nominations).await?;
    nominations.retain(|n| attended.contains(&n.id));
    let ids: Vec<Uuid> = nominations.iter().map(|n| n.id).collect();
    let mut reports: HashMap<Uuid, training_report::Model> = HashMap::new();
    for chunk in ids.chunks(500) {
        for r in training_report::Entity::find()
            .filter(training_report::Column::OrgId.eq(org_id))
            .filter(training_report::Column::NominationId.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            reports.insert(r.nomination_id, r);
        }
    }
    let with_nominations: Vec<Uuid> =
        nominations.iter().map(|n| n.course_id).collect::<BTreeSet<_>>().into_iter().collect();
    let last = last_days(conn, org_id, &with_nominations).await?;
    let staff_ids: Vec<Uuid> = nominations.iter().map(|n| n.employee_id).collect();
    let staff = employees_by_id(conn, org_id, &staff_ids).await?;
    let mut out: Vec<(i32, ReportLine)> = nominations
        .into_iter()
        .filter_map(|n| {
            let (rank, course, rule) = courses.get(&n.course_id)?;
            let e = staff.get(&n.employee_id)?;
            let line = ReportLine {
                nomination_id: n.id,
                course: course.clone(),
                employee: EmployeeRef { id: e.id, employee_no: e.employee_no.clone(), name: e.name.clone() },
                section_id: e.section_id,
                due_on: last.get(&n.course_id).and_then(|d| rule.due(*d)),
                report: reports.remove(&n.id),
            };
            Some((*rank, line))
        })
        .collect();
    out.sort_by(|(ra, a), (rb, b)| {
        b.course
            .fiscal_year
            .cmp(&a.course.fiscal_year)
            .then(ra.cmp(rb))
            .then(a.course.number.cmp(&b.course.number))
            .then(a.employee.employee_no.cmp(&b.employee.employee_no))
    });
    Ok(out.into_iter().map(|(_, l)| l).collect())
}

/// The report of one nomination, if written.
pub async fn for_nomination(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    nomination_id: Uuid,
) -> Result<Option<training_report::Model>, DbErr> {
    training_report::Entity::find()
        .filter(training_report::Column::OrgId.eq(org_id))
        .filter(training_report::Column::NominationId.eq(nomination_id))
        .one(conn)
        .await
}
