//! 予定表の配信: calendar feeds, reached by a secret token (kept as its digest), and what each
//! shows: an employee's places (never pending or wait-listed ones; a cancelled place, a
//! cancelled course or a deleted session stays as cancelled so calendars remove it), a section's
//! staff's places for its head, or a course's sessions for the training office.

use crate::WriteTxn;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kenshu_domain::catalogue::CourseStatus;
use kenshu_domain::ics::{gather_note, place_uid, session_uid, Entry};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{audit, now, Actor, RepoError};
use crate::entities::{
    calendar_feed, course, course_session, employee, nomination, section, session_tombstone,
};

/// What a feed shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Me,
    Section,
    Course,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Me => "me",
            Self::Section => "section",
            Self::Course => "course",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Me, Self::Section, Self::Course].into_iter().find(|x| x.as_str() == s)
    }
}

/// A new feed for `subject_id`, reached by `token` (only its digest is kept).
pub async fn create(
    conn: &WriteTxn,
    actor: &Actor,
    scope: Scope,
    subject_id: Uuid,
    token: &str,
) -> Result<calendar_feed::Model, RepoError> {
    let feed = calendar_feed::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        scope: scope.as_str().into(),
        subject_id,
        created_by: actor.signature(),
        token_hash: kenshu_domain::ics::sha256_hex(token),
        created_at: now(),
        revoked_at: None,
        revoked_by: None,
    };
    calendar_feed::Entity::insert(sea_orm::IntoActiveModel::into_active_model(feed.clone()))
        .exec_without_returning(conn)
        .await?;
    let change =
        audit::Change::new("calendar_feed.create", "calendar_feed", Some(feed.id), None, Some(&feed));
    audit::record(conn, actor, change).await?;
    Ok(feed)
}

/// Feeds of the organisation, newest first: those `created_by` made, or all.
pub async fn list(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    created_by: Option<&str>,
) -> Result<Vec<calendar_feed::Model>, DbErr> {
    let mut q = calendar_feed::Entity::find().filter(calendar_feed::Column::OrgId.eq(org_id));
    if let Some(who) = created_by {
        q = q.filter(calendar_feed::Column::CreatedBy.eq(who));
    }
    q.order_by_desc(calendar_feed::Column::Id).all(conn).await
}

pub async fn get(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<calendar_feed::Model, RepoError> {
    calendar_feed::Entity::find_by_id(id)
        .filter(calendar_feed::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)
}

/// Revoke a feed; revoking again keeps the first time.
pub async fn revoke(conn: &WriteTxn, actor: &Actor, id: Uuid) -> Result<calendar_feed::Model, RepoError> {
    let before = get(conn, actor.org_id, id).await?;
    if before.revoked_at.is_some() {
        return Ok(before);
    }
    let after = calendar_feed::Model {
        revoked_at: Some(now()),
        revoked_by: Some(actor.signature()),
        ..before.clone()
    };
    calendar_feed::Entity::update_many()
        .col_expr(calendar_feed::Column::RevokedAt, Expr::value(after.revoked_at))
        .col_expr(calendar_feed::Column::RevokedBy, Expr::value(after.revoked_by.clone()))
        .filter(calendar_feed::Column::Id.eq(id))
        .exec(conn)
        .await?;
    let change =
        audit::Change::new("calendar_feed.revoke", "calendar_feed", Some(id), Some(&before), Some(&after));
    audit::record(conn, actor, change).await?;
    Ok(after)
}

/// The live feed a token opens, if any.
pub async fn by_token(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<calendar_feed::Model>, DbErr> {
    calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(kenshu_domain::ics::sha256_hex(token)))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .one(conn)
        .await
}

fn location(venue: &Option<String>, online: &Option<String>) -> Option<String> {
    venue.clone().or_else(|| online.clone())
}

/// A deleted session as a cancelled entry, one SEQUENCE above its last.
fn tombstone_entry(t: &session_tombstone::Model, uid: String, summary: String) -> Entry {
    Entry {
        uid,
        sequence: t.version.max(0) as u32 + 1,
        summary,
        starts_at: t.starts_at,
        ends_at: t.ends_at,
        location: location(&t.venue, &t.online_url),
        description: "この日程は中止になりました。".into(),
        cancelled: true,
        stamp: t.deleted_at,
    }
}

/// The entries for the places of `staff` (employee id → name shown after the course, if any).
async fn places(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    staff: &HashMap<Uuid, Option<String>>,
) -> Result<Vec<Entry>, RepoError> {
    let ids: Vec<Uuid> = staff.keys().copied().collect();
    let noms: Vec<nomination::Model> = super::in_chunks(&ids, |chunk| async move {
        nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(org_id))
            .filter(nomination::Column::EmployeeId.is_in(chunk.iter().copied()))
            .filter(nomination::Column::HeldPlace.eq(true))
            .all(conn)
            .await
    })
    .await?;
    let mut entries = Vec::new();
    let mut courses: HashMap<
        Uuid,
        (course::Model, Vec<course_session::Model>, Vec<session_tombstone::Model>),
    > = HashMap::new();
    for n in &noms {
        if !courses.contains_key(&n.course_id) {
            let Some(c) = course::Entity::find_by_id(n.course_id)
                .filter(course::Column::OrgId.eq(org_id))
                .one(conn)
                .await?
            else {
                continue;
            };
            let sessions = course_session::Entity::find()
                .filter(course_session::Column::OrgId.eq(org_id))
                .filter(course_session::Column::CourseId.eq(c.id))
                .all(conn)
                .await?;
            let gone = session_tombstone::Entity::find()
                .filter(session_tombstone::Column::OrgId.eq(org_id))
                .filter(session_tombstone::Column::CourseId.eq(c.id))
                .all(conn)
                .await?;
            courses.insert(c.id, (c, sessions, gone));
        }
        let (c, sessions, gone) = &courses[&n.course_id];
        let state = n.state()?;
        let place_gone = !state.holds_place() || c.status()? == CourseStatus::Cancelled;
        let summary = match staff.get(&n.employee_id).cloned().flatten() {
            Some(name) => format!("{}（{name}）", c.title),
            None => c.title.clone(),
        };
        let stamp: DateTime<Utc> = n.updated_at.max(c.updated_at);
        for s in sessions.iter().filter(|s| n.session_id.is_none_or(|p| p == s.id)) {
            entries.push(Entry {
                uid: place_uid(s.id, n.id),
                sequence: (s.version.max(0) as u32) + u32::from(place_gone),
                summary: summary.clone(),
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                location: location(&s.venue, &s.online_url),
                description: gather_note(s.starts_at),
                cancelled: place_gone,
                stamp: stamp.max(s.updated_at),
            });
        }
        for t in gone.iter().filter(|t| n.session_id.is_none_or(|p| p == t.id)) {
            entries.push(tombstone_entry(t, place_uid(t.id, n.id), summary.clone()));
        }
    }
    entries.sort_by(|a, b| (a.starts_at, &a.uid).cmp(&(b.starts_at, &b.uid)));
    Ok(entries)
}

/// What a feed shows now, with its name; `None` when the feed no longer applies (its employee
/// left, its section head no longer heads the section, its course is gone).
pub async fn entries(
    conn: &impl ConnectionTrait,
    feed: &calendar_feed::Model,
) -> Result<Option<(String, Vec<Entry>)>, RepoError> {
    let org_id = feed.org_id;
    let scope = Scope::parse(&feed.scope)
        .ok_or_else(|| DbErr::Custom(format!("stored feed scope '{}' is not known", feed.scope)))?;
    match scope {
        Scope::Me => {
            let Some(e) = employee::Entity::find_by_id(feed.subject_id)
                .filter(employee::Column::OrgId.eq(org_id))
                .one(conn)
                .await?
            else {
                return Ok(None);
            };
            if !e.active {
                return Ok(None);
            }
            let staff = HashMap::from([(e.id, None)]);
            Ok(Some((format!("研修予定（{}）", e.name), places(conn, org_id, &staff).await?)))
        }
        Scope::Section => {
            let Some(s) = section::Entity::find_by_id(feed.subject_id)
                .filter(section::Column::OrgId.eq(org_id))
                .one(conn)
                .await?
            else {
                return Ok(None);
            };
            // Only while its maker heads (or acts for) the section.
            let head = employee::Entity::find()
                .filter(employee::Column::OrgId.eq(org_id))
                .filter(employee::Column::EmployeeNo.eq(feed.created_by.as_str()))
                .filter(employee::Column::Active.eq(true))
                .one(conn)
                .await?;
            let heads = head
                .is_some_and(|h| s.head_employee_id == Some(h.id) || s.acting_head_employee_id == Some(h.id));
            if !heads {
                return Ok(None);
            }
            let staff: HashMap<Uuid, Option<String>> = employee::Entity::find()
                .filter(employee::Column::OrgId.eq(org_id))
                .filter(employee::Column::SectionId.eq(s.id))
                .filter(employee::Column::Active.eq(true))
                .all(conn)
                .await?
                .into_iter()
                .map(|e| (e.id, Some(e.name)))
                .collect();
            Ok(Some((format!("研修予定（{}）", s.name), places(conn, org_id, &staff).await?)))
        }
        Scope::Course => {
            let Some(c) = course::Entity::find_by_id(feed.subject_id)
                .filter(course::Column::OrgId.eq(org_id))
                .one(conn)
                .await?
            else {
                return Ok(None);
            };
            let cancelled = c.status()? == CourseStatus::Cancelled;
            let mut out: Vec<Entry> = course_session::Entity::find()
                .filter(course_session::Column::OrgId.eq(org_id))
                .filter(course_session::Column::CourseId.eq(c.id))
                .all(conn)
                .await?
                .into_iter()
                .map(|s| Entry {
                    uid: session_uid(s.id),
                    sequence: s.version.max(0) as u32 + u32::from(cancelled),
                    summary: c.title.clone(),
                    starts_at: s.starts_at,
                    ends_at: s.ends_at,
                    location: location(&s.venue, &s.online_url),
                    description: gather_note(s.starts_at),
                    cancelled,
                    stamp: s.updated_at.max(c.updated_at),
                })
                .collect();
            for t in session_tombstone::Entity::find()
                .filter(session_tombstone::Column::OrgId.eq(org_id))
                .filter(session_tombstone::Column::CourseId.eq(c.id))
                .all(conn)
                .await?
            {
                out.push(tombstone_entry(&t, session_uid(t.id), c.title.clone()));
            }
            out.sort_by(|a, b| (a.starts_at, &a.uid).cmp(&(b.starts_at, &b.uid)));
            Ok(Some((c.title.clone(), out)))
        }
    }
}
