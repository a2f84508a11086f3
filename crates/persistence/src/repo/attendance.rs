//! 出欠: sign-in sheets per session, corrections, and completion of the course from attendance.

use crate::WriteTxn;
use kenshu_domain::Words;
use std::collections::HashMap;

use kenshu_domain::absence::NoticeState;
use kenshu_domain::attendance::{completion, counts_for, AttendanceEntry, AttendanceStatus, Completion};
use kenshu_domain::selection::NominationState;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::audit::{self, Change};
use super::catalogue::list_sessions;
use super::employee::{employees_by_id, EmployeeRef};
use super::selection::{lock_course, save_many};
use super::{now, Actor, RepoError};
use crate::bulk::{BulkError, OnKey};
use crate::entities::{absence_notice, attendance, course_session, employee, nomination};

/// Where a sheet's records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Sheet,
    Import,
    CheckIn,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Sheet => "sheet",
            Source::Import => "import",
            Source::CheckIn => "check_in",
        }
    }
}

/// A nomination is on a session when it holds a place on the course and names that session or
/// none (a trainee without a session attends them all).
pub(crate) fn on_session(n: &nomination::Model, session_id: Uuid) -> Result<bool, DbErr> {
    Ok(n.state()?.holds_place() && n.session_id.is_none_or(|s| s == session_id))
}

/// One line of a sign-in sheet: a trainee expected at the session or recorded at it.
#[derive(Debug, Clone)]
pub struct SheetLine {
    pub nomination: nomination::Model,
    pub employee: EmployeeRef,
    /// Holds a place on this session, and the session counts for them.
    pub expected: bool,
    pub record: Option<attendance::Model>,
    /// The trainee's live absence notice for the session, if any.
    pub notice: Option<absence_notice::Model>,
}

async fn course_nominations(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Vec<nomination::Model>, DbErr> {
    nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::CourseId.eq(course_id))
        .all(conn)
        .await
}

async fn session_records(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    session_id: Uuid,
) -> Result<HashMap<Uuid, attendance::Model>, DbErr> {
    Ok(attendance::Entity::find()
        .filter(attendance::Column::OrgId.eq(org_id))
        .filter(attendance::Column::SessionId.eq(session_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.nomination_id, a))
        .collect())
}

/// The sign-in sheet of a session, in employee-number order.
pub async fn sheet(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    session: &course_session::Model,
) -> Result<Vec<SheetLine>, DbErr> {
    let nominations = course_nominations(conn, org_id, session.course_id).await?;
    let mut records = session_records(conn, org_id, session.id).await?;
    let mut notices: HashMap<Uuid, absence_notice::Model> = absence_notice::Entity::find()
        .filter(absence_notice::Column::OrgId.eq(org_id))
        .filter(absence_notice::Column::SessionId.eq(session.id))
        .filter(absence_notice::Column::State.ne(NoticeState::Withdrawn.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(|n| (n.nomination_id, n))
        .collect();
    let mut lines: Vec<(nomination::Model, bool)> = Vec::new();
    for n in nominations {
        let expected = on_session(&n, session.id)? && counts_for(session.starts_at, n.placed_at);
        if expected || records.contains_key(&n.id) {
            lines.push((n, expected));
        }
    }
    let ids: Vec<Uuid> = lines.iter().map(|(n, _)| n.employee_id).collect();
    let staff = employees_by_id(conn, org_id, &ids).await?;
    let mut out: Vec<SheetLine> = lines
        .into_iter()
        .filter_map(|(n, expected)| {
            let e = staff.get(&n.employee_id)?;
            Some(SheetLine {
                employee: e.employee.clone(),
                expected,
                record: records.remove(&n.id),
                notice: notices.remove(&n.id),
                nomination: n,
            })
        })
        .collect();
    out.sort_by(|a, b| a.employee.employee_no.cmp(&b.employee.employee_no));
    Ok(out)
}

/// The course's nominations on a session, by the trainees' employee numbers. Reads only the
/// numbers asked for and those trainees' nominations: a sheet of a large course, 64 at once,
/// must not each hold every nomination of the course.
pub async fn trainees_by_number(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    session: &course_session::Model,
    numbers: &[String],
) -> Result<HashMap<String, nomination::Model>, DbErr> {
    let mut out = HashMap::new();
    for chunk in numbers.chunks(super::IN_LIST) {
        let staff: HashMap<Uuid, String> = employee::Entity::find()
            .select_only()
            .columns([employee::Column::Id, employee::Column::EmployeeNo])
            .filter(employee::Column::OrgId.eq(org_id))
            .filter(employee::Column::EmployeeNo.is_in(chunk.iter().cloned()))
            .into_tuple::<(Uuid, String)>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        if staff.is_empty() {
            continue;
        }
        for n in nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(org_id))
            .filter(nomination::Column::CourseId.eq(session.course_id))
            .filter(nomination::Column::EmployeeId.is_in(staff.keys().copied()))
            .all(conn)
            .await?
        {
            if on_session(&n, session.id)? {
                if let Some(no) = staff.get(&n.employee_id) {
                    out.insert(no.clone(), n);
                }
            }
        }
    }
    Ok(out)
}

/// What a correction of a record changes.
const CORRECTED: [attendance::Column; 8] = [
    attendance::Column::Status,
    attendance::Column::ArrivedAt,
    attendance::Column::LeftAt,
    attendance::Column::Note,
    attendance::Column::Source,
    attendance::Column::RecordedBy,
    attendance::Column::Version,
    attendance::Column::UpdatedAt,
];

/// One entry to record.
#[derive(Debug, Clone)]
pub struct Recording {
    pub nomination: nomination::Model,
    pub entry: AttendanceEntry,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordOutcome {
    pub created: u64,
    pub corrected: u64,
    pub unchanged: u64,
    /// Nominations this recording completed (修了).
    pub completed: Vec<Uuid>,
    /// Completed nominations a correction reopened.
    pub reopened: Vec<Uuid>,
}

/// Record a session's attendance (validated entries, each trainee on the session). The same
/// entry twice changes nothing; a different one is a correction, audited with before and after.
/// Then each trainee's completion is worked out again from every session that counts for them.
pub async fn record(
    conn: &WriteTxn,
    actor: &Actor,
    session: &course_session::Model,
    entries: Vec<Recording>,
    source: Source,
) -> Result<RecordOutcome, RepoError> {
    // The course lock orders this against selections and cancellations of the same course.
    lock_course(conn, actor.org_id, session.course_id).await?;
    let entries = still_on_session(conn, actor.org_id, session, entries).await?;
    let existing = session_records(conn, actor.org_id, session.id).await?;
    let at = now();
    let mut outcome = RecordOutcome::default();
    let mut inserts = Vec::new();
    let mut corrections = Vec::new();
    let mut changes = Vec::new();
    // The trainees whose records this writes: their kept counts are recounted after.
    let mut touched = Vec::new();
    let by: String = actor.signature();
    for r in &entries {
        let fields = |m: attendance::Model| attendance::Model {
            status: r.entry.status.as_str().into(),
            arrived_at: r.entry.arrived_at,
            left_at: r.entry.left_at,
            note: r.note.clone(),
            ..m
        };
        match existing.get(&r.nomination.id) {
            Some(before) => {
                let after = fields(before.clone());
                if after == *before {
                    outcome.unchanged += 1;
                    continue;
                }
                let after = attendance::Model {
                    source: source.as_str().into(),
                    recorded_by: by.clone(),
                    version: before.version + 1,
                    updated_at: at,
                    ..after
                };
                changes.push(Change::new(
                    "attendance.correct",
                    "attendance",
                    Some(before.id),
                    Some(before),
                    Some(&after),
                ));
                corrections.push(after);
                touched.push(r.nomination.id);
                outcome.corrected += 1;
            }
            None => {
                let model = fields(attendance::Model {
                    id: Uuid::now_v7(),
                    org_id: actor.org_id,
                    session_id: session.id,
                    course_id: session.course_id,
                    nomination_id: r.nomination.id,
                    employee_id: r.nomination.employee_id,
                    status: String::new(),
                    arrived_at: None,
                    left_at: None,
                    note: None,
                    source: source.as_str().into(),
                    recorded_by: by.clone(),
                    version: 1,
                    created_at: at,
                    updated_at: at,
                });
                changes.push(Change::new(
                    "attendance.record",
                    "attendance",
                    Some(model.id),
                    None,
                    Some(&model),
                ));
                inserts.push(model);
                touched.push(r.nomination.id);
                outcome.created += 1;
            }
        }
    }
    let meanwhile = Words::fixed(
        "attendance was recorded meanwhile; read the sheet again",
        "その間に出欠が記録されました。出席簿を読み込み直してください",
    );
    if !inserts.is_empty() {
        crate::bulk::write::<attendance::Entity>(conn, &inserts, OnKey::Fail)
            .await
            .map_err(|e| RepoError::from_write(e, &meanwhile))?;
    }
    if !corrections.is_empty() {
        // Each correction only where the record is still at the version read above.
        let steps = crate::bulk::statements::<attendance::Entity>(
            conn.get_database_backend(),
            &corrections,
            OnKey::UpdateIfVersion { columns: &CORRECTED, version: attendance::Column::Version },
        )?;
        crate::bulk::execute(conn, steps).await.map_err(|e| match e {
            BulkError::Changed => RepoError::Conflict(meanwhile.clone()),
            BulkError::Db(e) => RepoError::Db(e),
        })?;
    }
    audit::record_many(conn, actor, changes).await?;
    if outcome.created + outcome.corrected > 0 {
        let trainees: Vec<nomination::Model> = entries.into_iter().map(|r| r.nomination).collect();
        settle_completion(conn, actor, session.course_id, trainees, &mut outcome).await?;
        super::tally::recount(conn, actor.org_id, &touched).await?;
    }
    Ok(outcome)
}

/// The entries with their trainees' nominations as they are now, read under the course lock the
/// write holds: the caller resolved them before (outside the lock for a check-in, on another
/// organisation's copy for a joint sheet), and a place cancelled or moved to another session
/// since must not get a record (409).
async fn still_on_session(
    conn: &WriteTxn,
    org_id: Uuid,
    session: &course_session::Model,
    entries: Vec<Recording>,
) -> Result<Vec<Recording>, RepoError> {
    let ids: Vec<Uuid> = entries.iter().map(|r| r.nomination.id).collect();
    let current: HashMap<Uuid, nomination::Model> = super::in_chunks(&ids, |chunk| async move {
        nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(org_id))
            .filter(nomination::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await
            .map(|rows| rows.into_iter().map(|n| (n.id, n)))
    })
    .await?;
    let mut out = Vec::with_capacity(entries.len());
    for r in entries {
        match current.get(&r.nomination.id) {
            Some(n) if on_session(n, session.id)? => out.push(Recording { nomination: n.clone(), ..r }),
            _ => {
                return Err(RepoError::Conflict(Words::fixed(
                    "a trainee's place on this session changed meanwhile; look at the session again",
                    "その間にこの日程の受講者の受講枠が変わりました。日程を確認し直してください",
                )))
            }
        }
    }
    Ok(out)
}

/// Move each trainee to completed when their attendance completes the course, and back when a
/// correction undoes it. `current` are the trainees' nominations as read under the course lock.
async fn settle_completion(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
    mut current: Vec<nomination::Model>,
    outcome: &mut RecordOutcome,
) -> Result<(), RepoError> {
    let sessions = list_sessions(conn, actor.org_id, course_id).await?;
    let rule = super::catalogue::get_course(conn, actor.org_id, course_id).await?.completion;
    let mut records: HashMap<(Uuid, Uuid), AttendanceStatus> = HashMap::new();
    let ids: Vec<Uuid> = current.iter().map(|n| n.id).collect();
    for chunk in ids.chunks(super::IN_LIST) {
        for a in attendance::Entity::find()
            .filter(attendance::Column::OrgId.eq(actor.org_id))
            .filter(attendance::Column::NominationId.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            records.insert((a.nomination_id, a.session_id), a.status()?);
        }
    }
    current.sort_by_key(|n| n.id);
    let mut completing = Vec::new();
    let mut reopening = Vec::new();
    for current in current {
        let counted: Vec<Option<AttendanceStatus>> = sessions
            .iter()
            .filter(|s| {
                current.session_id.is_none_or(|own| own == s.id) && counts_for(s.starts_at, current.placed_at)
            })
            .map(|s| records.get(&(current.id, s.id)).copied())
            .collect();
        let state = current.state()?;
        match (completion(&counted, rule), state) {
            (Completion::Completed { .. }, NominationState::Selected | NominationState::Notified) => {
                outcome.completed.push(current.id);
                completing.push((current, NominationState::Completed));
            }
            (Completion::Pending | Completion::NotCompleted, NominationState::Completed) => {
                outcome.reopened.push(current.id);
                reopening.push((current, NominationState::Notified));
            }
            _ => {}
        }
    }
    save_many(conn, actor, "complete", completing).await?;
    save_many(conn, actor, "reopen", reopening).await?;
    Ok(())
}

/// Whether the trainee's notice for a session was received: the only thing that excuses.
pub fn notice_received(notice: Option<&absence_notice::Model>) -> bool {
    notice.is_some_and(|n| n.state == NoticeState::Received.as_str())
}
