//! 研修講座欠席届: absence notices, their moves and the lists HR and section heads read.

use crate::repo::Precondition;
use crate::WriteTxn;
use kenshu_domain::absence::{
    filed_late, lapsed, notice_transition, NoticeActor, NoticeEvent, NoticeFields, NoticeState, SessionWindow,
};
use kenshu_domain::Words;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::employee::{employees_by_id, EmployeeRef};
use super::{find_in_org, in_chunks, insert_audited, lock_at_version, now, save_audited, Actor, RepoError};
use crate::entities::{absence_notice, nomination};

const LIVE_TAKEN: &Words = &Words::fixed(
    "a notice for this session is already on file; correct or withdraw it instead",
    "この日程の欠席届はすでに提出されています。修正するか取り下げてください",
);

/// Which notices lapse.
pub(crate) enum Lapsing {
    /// A nomination's: all of them, or with `keep` those of every session but that one.
    Of { nomination_id: Uuid, keep: Option<Uuid> },
    /// Every trainee's on one session.
    On { session_id: Uuid },
}

/// Withdraw, as the service, the notices that [`lapsed`] ends, giving `why` as the comment: the
/// place or session they are about is gone or moved. How many.
pub(crate) async fn lapse(
    conn: &WriteTxn,
    actor: &Actor,
    which: Lapsing,
    why: &str,
) -> Result<u64, RepoError> {
    let mut q = absence_notice::Entity::find().filter(absence_notice::Column::OrgId.eq(actor.org_id));
    q = match which {
        Lapsing::Of { nomination_id, keep } => {
            let q = q.filter(absence_notice::Column::NominationId.eq(nomination_id));
            match keep {
                Some(session) => q.filter(absence_notice::Column::SessionId.ne(session)),
                None => q,
            }
        }
        Lapsing::On { session_id } => q.filter(absence_notice::Column::SessionId.eq(session_id)),
    };
    let mut lapsed_now = 0;
    for before in q.all(conn).await? {
        let Some(next) = lapsed(state_of(&before)?) else { continue };
        let after = absence_notice::Model {
            state: next.as_str().into(),
            comment: Some(why.into()),
            ..before.clone()
        };
        let version = Precondition::version(before.version);
        save_audited(conn, actor, "absence_notice.lapse", &before, &version, after, LIVE_TAKEN).await?;
        lapsed_now += 1;
    }
    Ok(lapsed_now)
}

/// File a notice for `nomination` at a session, as a draft or submitted at once; `on_behalf`
/// when the writer is not the trainee.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    conn: &WriteTxn,
    actor: &Actor,
    nomination: &nomination::Model,
    session_id: Uuid,
    session: SessionWindow,
    fields: &NoticeFields,
    submit: bool,
    on_behalf: bool,
) -> Result<absence_notice::Model, RepoError> {
    let at = now();
    let model = absence_notice::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        nomination_id: nomination.id,
        session_id,
        course_id: nomination.course_id,
        employee_id: nomination.employee_id,
        kind: fields.kind.as_str().into(),
        reason: fields.reason.clone(),
        arrives_at: fields.arrives_at,
        leaves_at: fields.leaves_at,
        state: if submit { NoticeState::Submitted } else { NoticeState::Draft }.as_str().into(),
        late: submit && filed_late(at, session),
        comment: None,
        written_by: actor.signature(),
        submitted_at: submit.then_some(at),
        confirmed_by: None,
        confirmed_at: None,
        received_by: None,
        received_at: None,
        on_behalf,
        receipt_note: None,
        reason_shared_with_host: false,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let n = insert_audited(conn, actor, "absence_notice.create", model, LIVE_TAKEN).await?;
    let told = submit.then_some(kenshu_domain::notice::on_absence_notice(NoticeEvent::Submit)).flatten();
    super::notice::tell_course_record(conn, actor.org_id, told, record(&n)).await?;
    Ok(n)
}

/// An absence notice as a notice is about it.
fn record(n: &absence_notice::Model) -> super::notice::CourseRecord {
    super::notice::CourseRecord {
        kind: kenshu_domain::notice::ItemKind::AbsenceNotice,
        id: n.id,
        course_id: n.course_id,
        employee_id: n.employee_id,
        session_id: Some(n.session_id),
        reason: n.comment.clone(),
    }
}

pub async fn get(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<absence_notice::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// Correct the text of a draft or returned notice, decided on the row read under the lock.
pub async fn update_text(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    fields: &NoticeFields,
) -> Result<absence_notice::Model, RepoError> {
    let before: absence_notice::Model = lock_at_version(conn, actor.org_id, id, expected_version).await?;
    let current = state_of(&before)?;
    if !current.editable() {
        return Err(RepoError::Transition {
            state: current.as_str().into(),
            message: format!(
                "a {} notice cannot be corrected; only a draft or returned one",
                current.as_str()
            ),
        });
    }
    let before = &before;
    let after = absence_notice::Model {
        kind: fields.kind.as_str().into(),
        reason: fields.reason.clone(),
        arrives_at: fields.arrives_at,
        leaves_at: fields.leaves_at,
        ..before.clone()
    };
    save_audited(conn, actor, "absence_notice.update", before, expected_version, after, LIVE_TAKEN).await
}

/// What a notice is for.
pub fn kind_of(n: &absence_notice::Model) -> Result<kenshu_domain::absence::AbsenceKind, RepoError> {
    Ok(n.kind()?)
}

/// The state a notice is in.
pub fn state_of(n: &absence_notice::Model) -> Result<NoticeState, RepoError> {
    Ok(n.state()?)
}

/// A move asked for: the event, and the comment of a return or the reason of a direct receipt.
#[derive(Debug, Clone)]
pub struct NoticeMove {
    pub event: NoticeEvent,
    pub comment: Option<String>,
}

/// Move the notice `id`, decided by the domain on the row read under the lock, in the caller's
/// capacities. Submitting stamps the time and, the first time, whether the session had started;
/// confirming and receiving stamp who and when; returning keeps the comment for the writer, a
/// direct receipt its reason.
pub async fn apply(
    conn: &WriteTxn,
    actor: &Actor,
    id: Uuid,
    expected_version: &Precondition,
    actors: &[NoticeActor],
    NoticeMove { event, comment }: NoticeMove,
    session: SessionWindow,
) -> Result<absence_notice::Model, RepoError> {
    let before: absence_notice::Model = lock_at_version(conn, actor.org_id, id, expected_version).await?;
    let next = notice_transition(state_of(&before)?, event, actors)?;
    let at = now();
    let mut after = absence_notice::Model { state: next.as_str().into(), ..before.clone() };
    match event {
        NoticeEvent::Submit => {
            if before.submitted_at.is_none() {
                after.late = filed_late(at, session);
            }
            after.submitted_at = Some(at);
        }
        NoticeEvent::Confirm => {
            after.confirmed_by = Some(actor.signature());
            after.confirmed_at = Some(at);
        }
        NoticeEvent::Receive => {
            after.received_by = Some(actor.signature());
            after.received_at = Some(at);
        }
        NoticeEvent::ReceiveDirectly => {
            after.received_by = Some(actor.signature());
            after.received_at = Some(at);
            after.receipt_note = comment;
        }
        NoticeEvent::Return => after.comment = comment,
        NoticeEvent::Withdraw => {}
    }
    let action = format!("absence_notice.{}", event.as_str());
    let n = save_audited(conn, actor, action, &before, expected_version, after, LIVE_TAKEN).await?;
    // Receiving a notice excuses the absence it covers; withdrawing it no longer does.
    super::tally::recount(conn, actor.org_id, &[n.nomination_id]).await?;
    let told = kenshu_domain::notice::on_absence_notice(event);
    super::notice::tell_course_record(conn, actor.org_id, told, record(&n)).await?;
    Ok(n)
}

/// A session's notices, oldest first.
pub async fn for_session(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    session_id: Uuid,
    state: Option<NoticeState>,
) -> Result<Vec<absence_notice::Model>, DbErr> {
    let mut q = absence_notice::Entity::find()
        .filter(absence_notice::Column::OrgId.eq(org_id))
        .filter(absence_notice::Column::SessionId.eq(session_id));
    if let Some(s) = state {
        q = q.filter(absence_notice::Column::State.eq(s.as_str()));
    }
    q.order_by_asc(absence_notice::Column::Id).all(conn).await
}

/// The notices of some employees (one trainee, or a section's staff), oldest first.
pub async fn for_employees(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    employee_ids: &[Uuid],
    state: Option<NoticeState>,
) -> Result<Vec<absence_notice::Model>, DbErr> {
    let mut out: Vec<absence_notice::Model> = in_chunks(employee_ids, |chunk| async move {
        let mut q = absence_notice::Entity::find()
            .filter(absence_notice::Column::OrgId.eq(org_id))
            .filter(absence_notice::Column::EmployeeId.is_in(chunk.iter().copied()));
        if let Some(s) = state {
            q = q.filter(absence_notice::Column::State.eq(s.as_str()));
        }
        q.all(conn).await
    })
    .await?;
    out.sort_by_key(|n| n.id);
    Ok(out)
}

/// Notices with the trainee each is for and the trainee's section.
pub async fn with_trainees(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    rows: Vec<absence_notice::Model>,
) -> Result<Vec<(absence_notice::Model, EmployeeRef, Uuid)>, DbErr> {
    let mut ids: Vec<Uuid> = rows.iter().map(|n| n.employee_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let staff = employees_by_id(conn, org_id, &ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|n| {
            let e = staff.get(&n.employee_id)?;
            Some((n, e.employee.clone(), e.section_id))
        })
        .collect())
}
