//! 合同研修 (joint training), as `kenshu_domain::joint` decides it. A share is a row of the host;
//! a participant that accepts gets a course of its own, in its own plan, with the share's places
//! as headcount and copies of the host's sessions. Whatever one organisation does in another's
//! records (the host changing a participant's places or cancelling its course, a participant
//! answering the host's share) is written as that organisation's rows and filed in that
//! organisation's audit log, signed `<own organisation code>:<subject>`.

use crate::WriteTxn;
use kenshu_domain::catalogue::{CourseStatus, Lecturer};
use kenshu_domain::joint::{
    check_places, copied_lecturer, share_transition, Party, Places, ShareEvent, ShareState, SharedTrainee,
};
use kenshu_domain::notice::{joint_notice, JointFacts, JointNews};
use kenshu_domain::selection::NominationState;
use kenshu_domain::{FieldError, Words};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::catalogue::{get_course, get_plan, list_sessions, session_lecturer, CourseRecord};
use super::selection::{held, lock_course};
use super::{
    cascade, check_version, insert_audited, lock_at_version, now, org, save_audited, structure, Actor,
    Precondition, RepoError, CHANGED_MEANWHILE,
};
use crate::entities::{course, course_session, course_share, employee, nomination, organisation};

const SHARED_ALREADY: &Words = &Words::fixed(
    "the course is shared with this organisation already; change the share's places instead",
    "この団体にはすでに共有しています。枠数を変更してください",
);
const NUMBER_TAKEN: &Words = &Words::fixed(
    "a course with this category and number exists in your plan for the year; give another number",
    "この年度の研修計画に同じ区分・番号の研修があります。別の番号を指定してください",
);

/// A share as either side reads it: the share, the other organisation, and how many trainees
/// the participant has selected (places held on its course).
#[derive(Debug, Clone)]
pub struct ShareRecord {
    pub share: course_share::Model,
    pub state: ShareState,
    pub host: organisation::Model,
    pub participant: organisation::Model,
    pub selected: u64,
}

/// What the participant's training office sees of an offer: the share and the host's course.
#[derive(Debug, Clone)]
pub struct OfferRecord {
    pub share: ShareRecord,
    pub course: CourseRecord,
    pub sessions: Vec<course_session::Model>,
}

/// The caller acting in another organisation's records: the rows written are that
/// organisation's, filed in its audit log, and signed with the caller's organisation.
fn acting_in(actor: &Actor, own: &organisation::Model, org_id: Uuid) -> Actor {
    Actor { org_id, subject: format!("{}:{}", own.code, actor.subject), request_id: actor.request_id.clone() }
}

/// Tell the training office of `to` what the other organisation did with `share`.
async fn tell_office(
    conn: &impl ConnectionTrait,
    to: Uuid,
    other: &organisation::Model,
    share: &course_share::Model,
    news: JointNews,
) -> Result<(), RepoError> {
    let course = get_course(conn, share.org_id, share.course_id).await?;
    let facts = JointFacts {
        share_id: share.id,
        title: course.model.title,
        fiscal_year: course.model.fiscal_year,
        other: other.name.clone(),
    };
    super::notice::write(conn, to, &[joint_notice(news, &facts)]).await?;
    Ok(())
}

async fn record(conn: &impl ConnectionTrait, share: course_share::Model) -> Result<ShareRecord, RepoError> {
    let state = share.state()?;
    let host = org::get(conn, share.org_id).await?;
    let participant = org::get(conn, share.participant_org_id).await?;
    let selected = match share.participant_course_id {
        Some(pc) if state == ShareState::Accepted => held(conn, share.participant_org_id, pc, None).await?,
        _ => 0,
    };
    Ok(ShareRecord { share, state, host, participant, selected })
}

/// The host shares `course_id` with the organisation `participant_code`; a share that was
/// declined, withdrawn or taken back is offered again (the participant's earlier course stays
/// cancelled, and accepting again makes a new one).
pub async fn share_course(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
    participant_code: &str,
    places: Places,
) -> Result<ShareRecord, RepoError> {
    let course = lock_course(conn, actor.org_id, course_id).await?;
    if course.status()? == CourseStatus::Cancelled {
        return Err(RepoError::Conflict(Words::fixed(
            "a cancelled course cannot be shared",
            "中止した研修は共有できません",
        )));
    }
    if course.share_id.is_some() {
        return Err(RepoError::Conflict(Words::fixed(
            "this course takes part in another organisation's joint course; only its host shares it",
            "この研修は他団体の合同研修への参加です。共有できるのは主催団体だけです",
        )));
    }
    let Some(participant) = org::find_by_code(conn, participant_code.trim()).await? else {
        return Err(RepoError::Invalid(vec![FieldError::not_found(
            "organisation",
            "no organisation has this code",
        )]));
    };
    if participant.id == actor.org_id {
        return Err(RepoError::Invalid(vec![FieldError::conflict(
            "organisation",
            "a course is shared with other organisations; your own staff take part through the course itself",
        )]));
    }
    let places = places.get();
    // Offered before and since declined, withdrawn or taken back: offered again, as it stands.
    let earlier = course_share::Entity::find()
        .filter(course_share::Column::OrgId.eq(actor.org_id))
        .filter(course_share::Column::CourseId.eq(course_id))
        .filter(course_share::Column::ParticipantOrgId.eq(participant.id))
        .one(conn)
        .await?;
    if let Some(earlier) = earlier {
        if earlier.state()?.is_live() {
            return Err(RepoError::Conflict(SHARED_ALREADY.clone()));
        }
        let again = course_share::Model {
            places: places as i32,
            state: ShareState::Offered.as_str().into(),
            participant_course_id: None,
            ..earlier.clone()
        };
        let saved = save_audited(
            conn,
            actor,
            "course_share.offer_again",
            &earlier,
            &Precondition::Any,
            again,
            SHARED_ALREADY,
        )
        .await?;
        let own = org::get(conn, actor.org_id).await?;
        tell_office(conn, participant.id, &own, &saved, JointNews::Offered { places }).await?;
        return record(conn, saved).await;
    }
    let at = now();
    let share = course_share::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        course_id,
        participant_org_id: participant.id,
        places: places as i32,
        state: ShareState::Offered.as_str().into(),
        participant_course_id: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let share = insert_audited(conn, actor, "course_share.offer", share, SHARED_ALREADY).await?;
    let own = org::get(conn, actor.org_id).await?;
    tell_office(conn, participant.id, &own, &share, JointNews::Offered { places }).await?;
    record(conn, share).await
}

/// A course's shares, oldest first (the host's HR and auditors).
pub async fn shares_of_course(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Vec<ShareRecord>, RepoError> {
    get_course(conn, org_id, course_id).await?;
    let shares = course_share::Entity::find()
        .filter(course_share::Column::OrgId.eq(org_id))
        .filter(course_share::Column::CourseId.eq(course_id))
        .order_by_asc(course_share::Column::Id)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(shares.len());
    for s in shares {
        out.push(record(conn, s).await?);
    }
    Ok(out)
}

pub async fn share_of_course(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    share_id: Uuid,
) -> Result<ShareRecord, RepoError> {
    let share: course_share::Model = super::find_in_org(conn, org_id, share_id).await?;
    if share.course_id != course_id {
        return Err(RepoError::NotFound);
    }
    record(conn, share).await
}

/// The accepted shares of the host's `course_id`, oldest first: its participants.
pub(crate) async fn accepted_shares(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Vec<course_share::Model>, DbErr> {
    course_share::Entity::find()
        .filter(course_share::Column::OrgId.eq(org_id))
        .filter(course_share::Column::CourseId.eq(course_id))
        .filter(course_share::Column::State.eq(ShareState::Accepted.as_str()))
        .order_by_asc(course_share::Column::Id)
        .all(conn)
        .await
}

/// The host's share `share_id` of `course_id`, locked, at the client's version.
async fn lock_hosted(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
    share_id: Uuid,
    expected: &Precondition,
) -> Result<course_share::Model, RepoError> {
    let share: course_share::Model = lock_at_version(conn, actor.org_id, share_id, expected).await?;
    if share.course_id != course_id {
        return Err(RepoError::NotFound);
    }
    Ok(share)
}

/// The share `share_id` offered to the caller's organisation, locked, at the client's version.
async fn lock_offered(
    conn: &WriteTxn,
    participant_org_id: Uuid,
    share_id: Uuid,
    expected: &Precondition,
) -> Result<course_share::Model, RepoError> {
    let mut q = course_share::Entity::find()
        .filter(course_share::Column::Id.eq(share_id))
        .filter(course_share::Column::ParticipantOrgId.eq(participant_org_id));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    let share = q.one(conn).await?.ok_or(RepoError::NotFound)?;
    check_version(share.version, expected)?;
    Ok(share)
}

fn decide(share: &course_share::Model, event: ShareEvent, party: Party) -> Result<ShareState, RepoError> {
    Ok(share_transition(share.state()?, event, party)?)
}

/// The host changes a share's places. On an accepted share the participant's course takes them
/// as its headcount (never below the trainees it has selected), and more places move its
/// waiting list up.
pub async fn change_places(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
    share_id: Uuid,
    expected: &Precondition,
    places: Places,
) -> Result<ShareRecord, RepoError> {
    let share = lock_hosted(conn, actor, course_id, share_id, expected).await?;
    decide(&share, ShareEvent::ChangePlaces, Party::Host)?;
    let places = match share.participant_course_id {
        Some(pc) => {
            let before = lock_course(conn, share.participant_org_id, pc).await?;
            let places = check_places(places, held(conn, share.participant_org_id, pc, None).await?)
                .map_err(|e| RepoError::Invalid(vec![e]))?;
            let own = org::get(conn, actor.org_id).await?;
            let there = acting_in(actor, &own, share.participant_org_id);
            let after = course::Model { headcount: Some(places as i32), ..before.clone() };
            let saved = save_audited(
                conn,
                &there,
                "course.joint_places",
                &before,
                &Precondition::Any,
                after,
                CHANGED_MEANWHILE,
            )
            .await?;
            cascade::course_changed(conn, &there, &before, &saved).await?;
            places
        }
        None => places.get(),
    };
    let after = course_share::Model { places: places as i32, ..share.clone() };
    let saved =
        save_audited(conn, actor, "course_share.places", &share, expected, after, CHANGED_MEANWHILE).await?;
    if saved.places != share.places {
        let own = org::get(conn, actor.org_id).await?;
        tell_office(conn, share.participant_org_id, &own, &saved, JointNews::PlacesChanged { places })
            .await?;
    }
    record(conn, saved).await
}

/// A participant's course ends with its share: cancelled, with the usual cascade (its live
/// nominations cancelled, the trainees and their heads told).
async fn cancel_participant_course(
    conn: &WriteTxn,
    there: &Actor,
    course_id: Uuid,
    action: &'static str,
) -> Result<(), RepoError> {
    let before = lock_course(conn, there.org_id, course_id).await?;
    if before.status()? == CourseStatus::Cancelled {
        return Ok(());
    }
    let after = course::Model { status: CourseStatus::Cancelled.as_str().into(), ..before.clone() };
    let saved =
        save_audited(conn, there, action, &before, &Precondition::Any, after, CHANGED_MEANWHILE).await?;
    cascade::course_changed(conn, there, &before, &saved).await?;
    Ok(())
}

/// The host takes a share back: an accepted participant's course is cancelled.
async fn cancel_locked(
    conn: &WriteTxn,
    actor: &Actor,
    own: &organisation::Model,
    share: course_share::Model,
    expected: &Precondition,
) -> Result<course_share::Model, RepoError> {
    let next = decide(&share, ShareEvent::Cancel, Party::Host)?;
    if let Some(pc) = share.participant_course_id {
        let there = acting_in(actor, own, share.participant_org_id);
        cancel_participant_course(conn, &there, pc, "course.cancel_with_share").await?;
    }
    let after = course_share::Model { state: next.as_str().into(), ..share.clone() };
    let saved =
        save_audited(conn, actor, "course_share.cancel", &share, expected, after, CHANGED_MEANWHILE).await?;
    tell_office(conn, share.participant_org_id, own, &saved, JointNews::TakenBack).await?;
    Ok(saved)
}

pub async fn cancel_share(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
    share_id: Uuid,
    expected: &Precondition,
) -> Result<ShareRecord, RepoError> {
    let share = lock_hosted(conn, actor, course_id, share_id, expected).await?;
    let own = org::get(conn, actor.org_id).await?;
    let saved = cancel_locked(conn, actor, &own, share, expected).await?;
    record(conn, saved).await
}

/// After the host cancelled its course (in the same transaction): every live share is taken
/// back, and every participant's course is cancelled with its trainees told. Returns how many.
pub async fn host_course_cancelled(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
) -> Result<u64, RepoError> {
    let mut q = course_share::Entity::find()
        .filter(course_share::Column::OrgId.eq(actor.org_id))
        .filter(course_share::Column::CourseId.eq(course_id))
        .filter(
            course_share::Column::State
                .is_in(ShareState::ALL.iter().filter(|s| s.is_live()).map(|s| s.as_str())),
        )
        .order_by_asc(course_share::Column::Id);
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    let live = q.all(conn).await?;
    if live.is_empty() {
        return Ok(0);
    }
    let own = org::get(conn, actor.org_id).await?;
    let n = live.len() as u64;
    for share in live {
        cancel_locked(conn, actor, &own, share, &Precondition::Any).await?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// The participant's side

async fn offer(conn: &impl ConnectionTrait, share: course_share::Model) -> Result<OfferRecord, RepoError> {
    let course = get_course(conn, share.org_id, share.course_id).await?;
    let sessions = list_sessions(conn, share.org_id, share.course_id).await?;
    Ok(OfferRecord { share: record(conn, share).await?, course, sessions })
}

/// Every share offered to the organisation, newest first.
pub async fn offers(
    conn: &impl ConnectionTrait,
    participant_org_id: Uuid,
) -> Result<Vec<OfferRecord>, RepoError> {
    let shares = course_share::Entity::find()
        .filter(course_share::Column::ParticipantOrgId.eq(participant_org_id))
        .order_by_desc(course_share::Column::Id)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(shares.len());
    for s in shares {
        out.push(offer(conn, s).await?);
    }
    Ok(out)
}

pub async fn get_offer(
    conn: &impl ConnectionTrait,
    participant_org_id: Uuid,
    share_id: Uuid,
) -> Result<OfferRecord, RepoError> {
    let share = course_share::Entity::find()
        .filter(course_share::Column::Id.eq(share_id))
        .filter(course_share::Column::ParticipantOrgId.eq(participant_org_id))
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)?;
    offer(conn, share).await
}

/// Save the host's share as the participant answered it: a row of the host, filed in its log.
async fn answer(
    conn: &WriteTxn,
    actor: &Actor,
    own: &organisation::Model,
    share: &course_share::Model,
    expected: &Precondition,
    action: &'static str,
    after: course_share::Model,
) -> Result<course_share::Model, RepoError> {
    let there = acting_in(actor, own, share.org_id);
    let saved = save_audited(conn, &there, action, share, expected, after, CHANGED_MEANWHILE).await?;
    let news = match saved.state()? {
        ShareState::Accepted => JointNews::Accepted,
        ShareState::Declined => JointNews::Declined,
        _ => JointNews::Withdrawn,
    };
    tell_office(conn, share.org_id, own, &saved, news).await?;
    Ok(saved)
}

/// The participant takes part: a course of its own in its plan for the year (the host's title,
/// purpose, content and rules for reports and completion; no audience rules, which name its own
/// grades and routes and are its to set; the places as headcount; a draft until it publishes
/// it), with copies of the host's sessions. `number` is its number in the participant's plan
/// (the host's by default).
pub async fn accept(
    conn: &WriteTxn,
    actor: &Actor,
    share_id: Uuid,
    expected: &Precondition,
    number: Option<u32>,
) -> Result<(ShareRecord, CourseRecord), RepoError> {
    let share = lock_offered(conn, actor.org_id, share_id, expected).await?;
    let next = decide(&share, ShareEvent::Accept, Party::Participant)?;
    let host_course = get_course(conn, share.org_id, share.course_id).await?;
    let fy = host_course.fiscal_year();
    let plan = match get_plan(conn, actor.org_id, fy).await {
        Ok(p) => p,
        Err(RepoError::NotFound) => {
            return Err(RepoError::Conflict(Words::new(
                format!("your organisation has no plan for FY{}; create it first", fy.year()),
                format!("{}年度の研修計画がありません。先に作成してください", fy.year()),
            )))
        }
        Err(e) => return Err(e),
    };
    let at = now();
    let course_id = Uuid::now_v7();
    let no_rules: Vec<kenshu_domain::audience::AudienceRule> = Vec::new();
    let mine = course::Model {
        id: course_id,
        org_id: actor.org_id,
        plan_id: plan.id,
        number: number.map_or(host_course.model.number, |n| n as i32),
        rules: serde_json::to_string(&no_rules).expect("rules serialise"),
        routes: serde_json::to_string(&kenshu_domain::audience::routes(&no_rules)).expect("routes serialise"),
        headcount: Some(share.places),
        within_course_id: None,
        status: CourseStatus::Draft.as_str().into(),
        share_id: Some(share.id),
        host_org_id: Some(share.org_id),
        version: 1,
        created_at: at,
        updated_at: at,
        ..host_course.model.clone()
    };
    let mine = insert_audited(conn, actor, "course.join", mine, NUMBER_TAKEN).await?;
    for s in list_sessions(conn, share.org_id, share.course_id).await? {
        copy_session(conn, actor, share.org_id, &s, course_id).await?;
    }
    let own = org::get(conn, actor.org_id).await?;
    let after = course_share::Model {
        state: next.as_str().into(),
        participant_course_id: Some(course_id),
        ..share.clone()
    };
    let saved = answer(conn, actor, &own, &share, expected, "course_share.accept", after).await?;
    Ok((record(conn, saved).await?, CourseRecord::from_model(mine)?))
}

/// What a participant's copy of a host's session holds: its time, place and notes; a lecturer
/// from the host's staff by name; no capacity (the share's places bound the participant, the
/// host's capacities the room).
async fn copied(
    conn: &impl ConnectionTrait,
    host_org_id: Uuid,
    host: &course_session::Model,
) -> Result<course_session::Model, RepoError> {
    let lecturer = session_lecturer(host)?;
    let staff_name = match &lecturer {
        Some(Lecturer::Staff { employee_id }) => employee::Entity::find_by_id(*employee_id)
            .filter(employee::Column::OrgId.eq(host_org_id))
            .one(conn)
            .await?
            .map(|e| e.name),
        _ => None,
    };
    let lecturer = copied_lecturer(lecturer.as_ref(), staff_name.as_deref());
    Ok(course_session::Model {
        capacity: None,
        lecturer: lecturer.as_ref().map(|l| serde_json::to_string(l).expect("lecturers serialise")),
        lecturer_employee_id: None,
        host_session_id: Some(host.id),
        ..host.clone()
    })
}

/// A copy of the host's session on the participant's course.
async fn copy_session(
    conn: &WriteTxn,
    actor: &Actor,
    host_org_id: Uuid,
    host: &course_session::Model,
    course_id: Uuid,
) -> Result<course_session::Model, RepoError> {
    let at = now();
    let copy = course_session::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        course_id,
        version: 1,
        created_at: at,
        updated_at: at,
        ..copied(conn, host_org_id, host).await?
    };
    insert_audited(
        conn,
        actor,
        "course_session.copy",
        copy,
        &Words::fixed("the session exists already", "この日程はすでにあります"),
    )
    .await
}

pub async fn decline(
    conn: &WriteTxn,
    actor: &Actor,
    share_id: Uuid,
    expected: &Precondition,
) -> Result<ShareRecord, RepoError> {
    let share = lock_offered(conn, actor.org_id, share_id, expected).await?;
    let next = decide(&share, ShareEvent::Decline, Party::Participant)?;
    let own = org::get(conn, actor.org_id).await?;
    let after = course_share::Model { state: next.as_str().into(), ..share.clone() };
    let saved = answer(conn, actor, &own, &share, expected, "course_share.decline", after).await?;
    record(conn, saved).await
}

/// The participant leaves: its course is cancelled (its trainees told), the places go back to
/// the host.
pub async fn withdraw(
    conn: &WriteTxn,
    actor: &Actor,
    share_id: Uuid,
    expected: &Precondition,
) -> Result<ShareRecord, RepoError> {
    let share = lock_offered(conn, actor.org_id, share_id, expected).await?;
    let next = decide(&share, ShareEvent::Withdraw, Party::Participant)?;
    if let Some(pc) = share.participant_course_id {
        cancel_participant_course(conn, actor, pc, "course.withdraw_from_share").await?;
    }
    let own = org::get(conn, actor.org_id).await?;
    let after = course_share::Model { state: next.as_str().into(), ..share.clone() };
    let saved = answer(conn, actor, &own, &share, expected, "course_share.withdraw", after).await?;
    record(conn, saved).await
}

// ---------------------------------------------------------------------------------------------
// The host's sessions, followed by the participants' copies

/// The participants' courses of the host's `course_id` (accepted shares), and how the host signs
/// in each.
async fn participants(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
) -> Result<Vec<(Actor, Uuid)>, RepoError> {
    let accepted = accepted_shares(conn, actor.org_id, course_id).await?;
    if accepted.is_empty() {
        return Ok(Vec::new());
    }
    let own = org::get(conn, actor.org_id).await?;
    Ok(accepted
        .into_iter()
        .filter_map(|s| Some((acting_in(actor, &own, s.participant_org_id), s.participant_course_id?)))
        .collect())
}

/// A participant's copy of the host's session `host_session_id`.
async fn copy_of(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    host_session_id: Uuid,
) -> Result<Option<course_session::Model>, RepoError> {
    Ok(course_session::Entity::find()
        .filter(course_session::Column::OrgId.eq(org_id))
        .filter(course_session::Column::CourseId.eq(course_id))
        .filter(course_session::Column::HostSessionId.eq(host_session_id))
        .one(conn)
        .await?)
}

/// After the host added a session to a course it shares: every participant's course gets a copy.
pub async fn host_session_added(
    conn: &WriteTxn,
    actor: &Actor,
    session: &course_session::Model,
) -> Result<(), RepoError> {
    for (there, course_id) in participants(conn, actor, session.course_id).await? {
        copy_session(conn, &there, actor.org_id, session, course_id).await?;
    }
    Ok(())
}

/// After the host changed a session: every copy follows, and a move is told to the
/// participant's trainees and their heads, as for any session of their own organisation.
pub async fn host_session_changed(
    conn: &WriteTxn,
    actor: &Actor,
    after: &course_session::Model,
) -> Result<(), RepoError> {
    for (there, course_id) in participants(conn, actor, after.course_id).await? {
        let Some(copy) = copy_of(conn, there.org_id, course_id, after.id).await? else {
            copy_session(conn, &there, actor.org_id, after, course_id).await?;
            continue;
        };
        let followed = course_session::Model {
            id: copy.id,
            org_id: copy.org_id,
            course_id: copy.course_id,
            version: copy.version,
            created_at: copy.created_at,
            updated_at: copy.updated_at,
            ..copied(conn, actor.org_id, after).await?
        };
        let saved = save_audited(
            conn,
            &there,
            "course_session.follow_host",
            &copy,
            &Precondition::Any,
            followed,
            CHANGED_MEANWHILE,
        )
        .await?;
        cascade::session_changed(conn, &there, &copy, Some(&saved)).await?;
    }
    Ok(())
}

/// After the host removed a session: every copy goes too, with its absence notices, and its
/// trainees are told. A copy with attendance on file, or trainees placed on it, refuses the
/// removal as the host's own session would.
pub async fn host_session_removed(
    conn: &WriteTxn,
    actor: &Actor,
    before: &course_session::Model,
) -> Result<(), RepoError> {
    for (there, course_id) in participants(conn, actor, before.course_id).await? {
        let Some(copy) = copy_of(conn, there.org_id, course_id, before.id).await? else { continue };
        super::catalogue::remove_session(conn, &there, &copy, &Precondition::Any).await.map_err(
            |e| match e {
                RepoError::Conflict(w) => RepoError::Conflict(Words::new(
                    format!("a participating organisation's copy: {}", w.en),
                    format!("参加団体の日程: {}", w.ja),
                )),
                e => e,
            },
        )?;
        cascade::session_changed(conn, &there, &copy, None).await?;
    }
    Ok(())
}

/// The organisation's copy of the host's session `host_session_id`, with the host: how a
/// participant's trainee checks in with the code the host shows in the room.
pub async fn copy_of_host_session(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    host_session_id: Uuid,
) -> Result<(course_session::Model, Uuid), RepoError> {
    let copy = course_session::Entity::find()
        .filter(course_session::Column::OrgId.eq(org_id))
        .filter(course_session::Column::HostSessionId.eq(host_session_id))
        .order_by_desc(course_session::Column::Id)
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)?;
    let course = get_course(conn, org_id, copy.course_id).await?;
    let host = course.model.host_org_id.ok_or(RepoError::NotFound)?;
    Ok((copy, host))
}

// ---------------------------------------------------------------------------------------------
// The host's combined roster

/// One trainee on a joint course's combined roster, with only what running the course needs.
#[derive(Debug, Clone)]
pub struct RosterEntry {
    pub organisation: organisation::Model,
    /// The trainee's nomination in their own organisation: how the host names them when it
    /// records their attendance.
    pub trainee_id: Uuid,
    pub nomination_state: NominationState,
    pub session_id: Option<Uuid>,
    pub trainee: SharedTrainee,
}

/// What the host may see of these staff of `organisation`: name, kana, organisation, section
/// and grade.
async fn as_shared(
    conn: &impl ConnectionTrait,
    organisation: &organisation::Model,
    employee_ids: impl IntoIterator<Item = Uuid>,
) -> Result<std::collections::HashMap<Uuid, SharedTrainee>, RepoError> {
    let ids: Vec<Uuid> = employee_ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let people = employee::Entity::find()
        .filter(employee::Column::OrgId.eq(organisation.id))
        .filter(employee::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    let units = structure::unit_names(conn, organisation.id, people.iter().map(|e| e.section_id)).await?;
    Ok(people
        .into_iter()
        .map(|e| {
            let trainee = SharedTrainee {
                organisation: organisation.name.clone(),
                section: units.get(&e.section_id).map(|u| u.section.clone()).unwrap_or_default(),
                grade: Some(e.grade).filter(|g| !g.is_empty()),
                name: e.name,
                name_kana: e.kana,
            };
            (e.id, trainee)
        })
        .collect())
}

/// Those holding a place on `course_id` of `organisation`.
async fn holders(
    conn: &impl ConnectionTrait,
    organisation: &organisation::Model,
    course_id: Uuid,
) -> Result<Vec<RosterEntry>, RepoError> {
    let noms =
        nomination::Entity::find()
            .filter(nomination::Column::OrgId.eq(organisation.id))
            .filter(nomination::Column::CourseId.eq(course_id))
            .filter(nomination::Column::State.is_in(
                NominationState::ALL.into_iter().filter(|s| s.holds_place()).map(NominationState::as_str),
            ))
            .all(conn)
            .await?;
    let mut people = as_shared(conn, organisation, noms.iter().map(|n| n.employee_id)).await?;
    let mut out = Vec::with_capacity(noms.len());
    for n in noms {
        let Some(trainee) = people.remove(&n.employee_id) else { continue };
        out.push(RosterEntry {
            organisation: organisation.clone(),
            trainee_id: n.id,
            nomination_state: n.state()?,
            session_id: n.session_id,
            trainee,
        });
    }
    Ok(out)
}

/// The combined roster of a course the organisation hosts: its own trainees and every accepted
/// participant's, each organisation's in kana order, the host's first. A session id names the
/// host's session a trainee is pinned to.
pub async fn combined_roster(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Vec<RosterEntry>, RepoError> {
    let course = get_course(conn, org_id, course_id).await?;
    if course.model.share_id.is_some() {
        return Err(RepoError::NotFound);
    }
    let host = org::get(conn, org_id).await?;
    let mut roster = holders(conn, &host, course_id).await?;
    roster.sort_by(|a, b| a.trainee.name_kana.cmp(&b.trainee.name_kana));
    let shares = accepted_shares(conn, org_id, course_id).await?;
    for share in shares {
        let Some(pc) = share.participant_course_id else { continue };
        let participant = org::get(conn, share.participant_org_id).await?;
        let mut theirs = holders(conn, &participant, pc).await?;
        // Their sessions are copies: the host knows its own.
        let copies: std::collections::HashMap<Uuid, Uuid> = list_sessions(conn, participant.id, pc)
            .await?
            .into_iter()
            .filter_map(|s| Some((s.id, s.host_session_id?)))
            .collect();
        for t in &mut theirs {
            t.session_id = t.session_id.and_then(|s| copies.get(&s).copied());
        }
        theirs.sort_by(|a, b| a.trainee.name_kana.cmp(&b.trainee.name_kana));
        roster.extend(theirs);
    }
    Ok(roster)
}

// ---------------------------------------------------------------------------------------------
// Attendance the host records for other organisations' trainees

/// One participant's trainee on a session of a course the organisation hosts, as the host sees
/// them: the attendance recorded (in the trainee's own organisation) and whether an absence is
/// excused by a notice their organisation received, never the notice itself.
#[derive(Debug, Clone)]
pub struct JointSheetLine {
    pub organisation: organisation::Model,
    /// The absence notice's reason, when the trainee's organisation shares it with the host.
    pub shared_reason: Option<String>,
    pub trainee_id: Uuid,
    pub trainee: SharedTrainee,
    pub expected: bool,
    pub record: Option<crate::entities::attendance::Model>,
    pub notice_received: bool,
}

/// Each accepted participant of the host's course, with its copy of `session_id`.
async fn session_copies(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    session_id: Uuid,
) -> Result<Vec<(course_share::Model, organisation::Model, course_session::Model)>, RepoError> {
    let course = get_course(conn, org_id, course_id).await?;
    if course.model.share_id.is_some() {
        return Err(RepoError::NotFound);
    }
    super::catalogue::get_session(conn, org_id, course_id, session_id).await?;
    let shares = accepted_shares(conn, org_id, course_id).await?;
    let mut out = Vec::with_capacity(shares.len());
    for share in shares {
        let Some(pc) = share.participant_course_id else { continue };
        let participant = org::get(conn, share.participant_org_id).await?;
        if let Some(copy) = copy_of(conn, participant.id, pc, session_id).await? {
            out.push((share, participant, copy));
        }
    }
    Ok(out)
}

/// The other organisations' trainees on a session of a course the organisation hosts, each
/// organisation's in kana order.
pub async fn joint_sheet(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    session_id: Uuid,
) -> Result<Vec<JointSheetLine>, RepoError> {
    let mut out = Vec::new();
    for (_, participant, copy) in session_copies(conn, org_id, course_id, session_id).await? {
        let lines = super::attendance::sheet(conn, participant.id, &copy).await?;
        let mut people = as_shared(conn, &participant, lines.iter().map(|l| l.employee.id)).await?;
        let mut theirs: Vec<JointSheetLine> = lines
            .into_iter()
            .filter_map(|l| {
                Some(JointSheetLine {
                    organisation: participant.clone(),
                    trainee_id: l.nomination.id,
                    trainee: people.remove(&l.employee.id)?,
                    expected: l.expected,
                    notice_received: super::attendance::notice_received(l.notice.as_ref()),
                    shared_reason: l
                        .notice
                        .as_ref()
                        .filter(|n| n.reason_shared_with_host)
                        .map(|n| n.reason.clone()),
                    record: l.record,
                })
            })
            .collect();
        theirs.sort_by(|a, b| a.trainee.name_kana.cmp(&b.trainee.name_kana));
        out.extend(theirs);
    }
    Ok(out)
}

/// One entry the host records: a participant's trainee (by `trainee_id`) and what they did.
#[derive(Debug, Clone)]
pub struct JointEntry {
    pub trainee_id: Uuid,
    pub entry: kenshu_domain::attendance::AttendanceEntry,
    pub note: Option<String>,
}

/// Record the host's sheet for other organisations' trainees, all or nothing: each entry is
/// written to the trainee's own organisation (its copy of the session), signed by the host, and
/// completes their course there as any attendance does. An entry naming no trainee of a
/// participant on this session is refused with its index.
pub async fn record_joint(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
    session_id: Uuid,
    entries: Vec<JointEntry>,
) -> Result<Result<super::attendance::RecordOutcome, Vec<(usize, FieldError)>>, RepoError> {
    use super::attendance::{on_session, record, Recording, Source};
    let copies = session_copies(conn, actor.org_id, course_id, session_id).await?;
    let own = org::get(conn, actor.org_id).await?;
    let wanted: Vec<Uuid> = entries.iter().map(|e| e.trainee_id).collect();
    let mut found: std::collections::HashMap<Uuid, (usize, nomination::Model)> = Default::default();
    for (i, (_, _, copy)) in copies.iter().enumerate() {
        for chunk in wanted.chunks(super::IN_LIST) {
            for n in nomination::Entity::find()
                .filter(nomination::Column::OrgId.eq(copy.org_id))
                .filter(nomination::Column::CourseId.eq(copy.course_id))
                .filter(nomination::Column::Id.is_in(chunk.iter().copied()))
                .all(conn)
                .await?
            {
                if on_session(&n, copy.id)? {
                    found.insert(n.id, (i, n));
                }
            }
        }
    }
    let mut errors = Vec::new();
    let mut per_copy: Vec<Vec<Recording>> = vec![Vec::new(); copies.len()];
    let mut seen = std::collections::HashSet::new();
    for (i, e) in entries.into_iter().enumerate() {
        if !seen.insert(e.trainee_id) {
            errors.push((i, FieldError::duplicate("trainee_id", "appears twice")));
            continue;
        }
        match found.get(&e.trainee_id) {
            Some((c, n)) => {
                per_copy[*c].push(Recording { nomination: n.clone(), entry: e.entry, note: e.note })
            }
            None => errors.push((
                i,
                FieldError::not_found(
                    "trainee_id",
                    "no trainee of a participating organisation holds a place on this session",
                ),
            )),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut total = super::attendance::RecordOutcome::default();
    for ((_, participant, copy), recordings) in copies.iter().zip(per_copy) {
        if recordings.is_empty() {
            continue;
        }
        let there = acting_in(actor, &own, participant.id);
        let o = record(conn, &there, copy, recordings, Source::Sheet).await?;
        total.created += o.created;
        total.corrected += o.corrected;
        total.unchanged += o.unchanged;
        total.completed.extend(o.completed);
        total.reopened.extend(o.reopened);
    }
    Ok(Ok(total))
}

/// The trainee's training office lets the host of a joint course see (or no longer see) the
/// reason of an absence notice; the host otherwise sees only that the absence is notified.
pub async fn share_absence_reason(
    conn: &WriteTxn,
    actor: &Actor,
    notice_id: Uuid,
    expected: &Precondition,
    share: bool,
) -> Result<crate::entities::absence_notice::Model, RepoError> {
    use crate::entities::absence_notice;
    let before: absence_notice::Model = lock_at_version(conn, actor.org_id, notice_id, expected).await?;
    let course = get_course(conn, actor.org_id, before.course_id).await?;
    if course.model.share_id.is_none() {
        return Err(RepoError::Conflict(Words::fixed(
            "the notice is not for a joint course: no other organisation hosts it",
            "合同研修の欠席届ではありません。主催する他団体はありません",
        )));
    }
    let after = absence_notice::Model { reason_shared_with_host: share, ..before.clone() };
    save_audited(conn, actor, "absence_notice.share_with_host", &before, expected, after, CHANGED_MEANWHILE)
        .await
}
