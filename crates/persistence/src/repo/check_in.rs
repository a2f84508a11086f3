//! Self check-in: opening and closing it per session, and a trainee's own check-in.

use crate::WriteTxn;
use kenshu_domain::attendance::AttendanceEntry;
use kenshu_domain::Words;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::attendance::{record, RecordOutcome, Recording, Source};
use super::audit::{self, Change};
use super::{now, Actor, RepoError};
use crate::entities::{attendance, course_session, nomination, session_check_in};

/// The check-in of a session, open or closed, if it was ever opened.
pub async fn get(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    session_id: Uuid,
) -> Result<Option<session_check_in::Model>, DbErr> {
    session_check_in::Entity::find()
        .filter(session_check_in::Column::OrgId.eq(org_id))
        .filter(session_check_in::Column::SessionId.eq(session_id))
        .one(conn)
        .await
}

/// 32 random bytes as hex, from the operating system's generator (through UUID v4).
fn new_secret() -> String {
    let bytes = [Uuid::new_v4().into_bytes(), Uuid::new_v4().into_bytes()].concat();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn audited(m: &session_check_in::Model) -> serde_json::Value {
    // The secret stays out of the audit log.
    json!({"session_id": m.session_id, "opened_by": m.opened_by, "opened_at": m.opened_at, "closed_at": m.closed_at})
}

/// Open check-in for a session. Opening an open one changes nothing; reopening a closed one
/// starts a new secret, so codes shown before do not work again.
pub async fn open(
    conn: &WriteTxn,
    actor: &Actor,
    session: &course_session::Model,
) -> Result<session_check_in::Model, RepoError> {
    let before = get(conn, actor.org_id, session.id).await?;
    if let Some(open) = before.as_ref().filter(|c| c.closed_at.is_none()) {
        return Ok(open.clone());
    }
    let after = session_check_in::Model {
        id: before.as_ref().map_or_else(Uuid::now_v7, |b| b.id),
        org_id: actor.org_id,
        session_id: session.id,
        course_id: session.course_id,
        secret: new_secret(),
        opened_by: actor.signature(),
        opened_at: now(),
        closed_at: None,
    };
    let active = session_check_in::ActiveModel::from(after.clone());
    match &before {
        Some(_) => active.reset_all().update(conn).await?,
        None => active.insert(conn).await.map_err(|e| {
            RepoError::from_write(
                e,
                &Words::fixed("check-in was opened meanwhile", "その間に出席登録が開始されました"),
            )
        })?,
    };
    let change = Change::new(
        "check_in.open",
        "course",
        Some(session.course_id),
        before.as_ref().map(audited).as_ref(),
        Some(&audited(&after)),
    );
    audit::record(conn, actor, change).await?;
    Ok(after)
}

/// Close check-in; closing a closed one changes nothing.
pub async fn close(
    conn: &WriteTxn,
    actor: &Actor,
    check_in: &session_check_in::Model,
) -> Result<session_check_in::Model, RepoError> {
    if check_in.closed_at.is_some() {
        return Ok(check_in.clone());
    }
    let after = session_check_in::Model { closed_at: Some(now()), ..check_in.clone() };
    session_check_in::ActiveModel::from(after.clone()).reset_all().update(conn).await?;
    let change = Change::new(
        "check_in.close",
        "course",
        Some(after.course_id),
        Some(&audited(check_in)),
        Some(&audited(&after)),
    );
    audit::record(conn, actor, change).await?;
    Ok(after)
}

/// What a trainee's check-in did.
#[derive(Debug, Clone)]
pub enum CheckedIn {
    /// Recorded now.
    Recorded { record: attendance::Model, outcome: RecordOutcome },
    /// The trainee had checked in already: the first check-in stands.
    Already(attendance::Model),
}

/// Record the trainee's own check-in, unless the session's attendance for them is on file: a
/// record from an earlier check-in stands (and is returned); one the training office made is not
/// overwritten (409).
pub async fn check_in(
    conn: &WriteTxn,
    actor: &Actor,
    session: &course_session::Model,
    nomination: &nomination::Model,
    entry: AttendanceEntry,
) -> Result<CheckedIn, RepoError> {
    let existing = |conn| async move {
        attendance::Entity::find()
            .filter(attendance::Column::OrgId.eq(actor.org_id))
            .filter(attendance::Column::SessionId.eq(session.id))
            .filter(attendance::Column::NominationId.eq(nomination.id))
            .one(conn)
            .await
    };
    if let Some(r) = existing(conn).await? {
        if r.source == Source::CheckIn.as_str() {
            return Ok(CheckedIn::Already(r));
        }
        return Err(RepoError::Conflict(Words::fixed(
            "the training office has recorded your attendance at this session already",
            "この日程の出欠は研修担当がすでに記録しています",
        )));
    }
    let recording = Recording { nomination: nomination.clone(), entry, note: None };
    let outcome = record(conn, actor, session, vec![recording], Source::CheckIn).await?;
    let record = existing(conn).await?.ok_or(RepoError::NotFound)?;
    Ok(CheckedIn::Recorded { record, outcome })
}

/// A session by its id alone (a QR code names only the session).
pub async fn session(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<course_session::Model, RepoError> {
    super::find_in_org(conn, org_id, id).await
}
