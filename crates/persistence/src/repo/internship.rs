//! 就業体験学生受入れ: the year's programme, its students, their host sections, and the erasure
//! of a student's personal data. The audit log never holds a student's personal data: it keeps
//! [`StudentRecord`], so an erasure leaves no copy behind.

use crate::repo::Precondition;
use crate::repo::CHANGED_MEANWHILE;
use crate::WriteTxn;
use chrono::NaiveDate;
use kenshu_domain::internship::{
    check_acceptance, check_erasure, student_transition, ProgrammeTerms, StudentDetails, StudentEvent,
    StudentState,
};
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use super::{find_in_org, insert_audited, now, save_audited, Actor, RepoError};
use crate::entities::{internship_programme, internship_student, section};

/// What the audit log keeps of a student: no name, reading, faculty, year of study or address.
#[derive(Serialize)]
struct StudentRecord<'a> {
    programme_id: Uuid,
    university: &'a str,
    recommended_on: NaiveDate,
    host_section_id: Option<Uuid>,
    hosted_from: Option<NaiveDate>,
    hosted_to: Option<NaiveDate>,
    state: &'a str,
    /// `held` or `erased`.
    personal_data: &'static str,
    erasure_requested_on: Option<NaiveDate>,
    version: i32,
}

/// The audit record of a student (see [`StudentRecord`]).
pub(crate) fn student_record(s: &internship_student::Model) -> String {
    let record = StudentRecord {
        programme_id: s.programme_id,
        university: &s.university,
        recommended_on: s.recommended_on,
        host_section_id: s.host_section_id,
        hosted_from: s.hosted_from,
        hosted_to: s.hosted_to,
        state: &s.state,
        personal_data: if s.erased_at.is_some() { "erased" } else { "held" },
        erasure_requested_on: s.erasure_requested_on,
        version: s.version,
    };
    serde_json::to_string(&record).expect("records serialise")
}

// ---------------------------------------------------------------------------------------------
// Programme

/// The programme's dates and capacity as the domain sees them.
pub fn terms(p: &internship_programme::Model) -> ProgrammeTerms {
    ProgrammeTerms { starts_on: p.starts_on, ends_on: p.ends_on, capacity: p.capacity }
}

/// Checked fields of a programme.
#[derive(Debug, Clone)]
pub struct ProgrammeData {
    pub title: String,
    pub terms: ProgrammeTerms,
    pub notes: Option<String>,
}

const PROGRAMME_TAKEN: &Words = &Words::fixed(
    "the internship programme for this fiscal year exists; change it instead",
    "この年度の就業体験受入れはすでにあります。それを変更してください",
);

pub async fn programme(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    fiscal_year: i32,
) -> Result<internship_programme::Model, RepoError> {
    internship_programme::Entity::find()
        .filter(internship_programme::Column::OrgId.eq(org_id))
        .filter(internship_programme::Column::FiscalYear.eq(fiscal_year))
        .one(conn)
        .await?
        .ok_or(RepoError::NotFound)
}

pub async fn programme_by_id(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<internship_programme::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// The programme row under a write lock (PostgreSQL; SQLite writers are serialised already), so
/// acceptances and capacity changes of one year queue behind each other.
async fn lock_programme(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<internship_programme::Model, RepoError> {
    let mut q =
        internship_programme::Entity::find_by_id(id).filter(internship_programme::Column::OrgId.eq(org_id));
    if conn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(conn).await?.ok_or(RepoError::NotFound)
}

pub async fn create_programme(
    conn: &WriteTxn,
    actor: &Actor,
    fiscal_year: i32,
    data: ProgrammeData,
) -> Result<internship_programme::Model, RepoError> {
    let at = now();
    let m = internship_programme::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        fiscal_year,
        title: data.title,
        starts_on: data.terms.starts_on,
        ends_on: data.terms.ends_on,
        capacity: data.terms.capacity,
        notes: data.notes,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(conn, actor, "internship_programme.create", m, PROGRAMME_TAKEN).await
}

/// Change the programme. The capacity cannot fall below the students accepted, and the dates
/// must still hold every student's host days.
pub async fn update_programme(
    conn: &WriteTxn,
    actor: &Actor,
    before: &internship_programme::Model,
    expected_version: &Precondition,
    data: ProgrammeData,
) -> Result<internship_programme::Model, RepoError> {
    let locked = lock_programme(conn, before.org_id, before.id).await?;
    let counts = places(conn, &locked).await?;
    let mut errors = Vec::new();
    if data.terms.capacity < counts.accepted {
        errors.push(FieldError::conflict(
            "capacity",
            format!("{} students are accepted; the capacity cannot be less", counts.accepted),
        ));
    }
    let outside = internship_student::Entity::find()
        .filter(internship_student::Column::ProgrammeId.eq(before.id))
        .filter(
            internship_student::Column::HostedFrom
                .lt(data.terms.starts_on)
                .or(internship_student::Column::HostedTo.gt(data.terms.ends_on)),
        )
        .count(conn)
        .await?;
    if outside > 0 {
        errors.push(FieldError::conflict(
            "starts_on",
            format!("{outside} students have host days outside these dates; change theirs first"),
        ));
    }
    if !errors.is_empty() {
        return Err(RepoError::Invalid(errors));
    }
    let after = internship_programme::Model {
        title: data.title,
        starts_on: data.terms.starts_on,
        ends_on: data.terms.ends_on,
        capacity: data.terms.capacity,
        notes: data.notes,
        ..before.clone()
    };
    save_audited(
        conn,
        actor,
        "internship_programme.update",
        before,
        expected_version,
        after,
        CHANGED_MEANWHILE,
    )
    .await
}

/// How many students stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Places {
    pub recommended: i32,
    pub accepted: i32,
    pub declined: i32,
    pub withdrawn: i32,
    /// Students whose personal data is erased (in any state).
    pub erased: i32,
}

pub async fn places(
    conn: &impl ConnectionTrait,
    p: &internship_programme::Model,
) -> Result<Places, RepoError> {
    let rows: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = internship_student::Entity::find()
        .select_only()
        .column(internship_student::Column::State)
        .column(internship_student::Column::ErasedAt)
        .filter(internship_student::Column::ProgrammeId.eq(p.id))
        .into_tuple()
        .all(conn)
        .await?;
    let mut out = Places::default();
    for (state, erased) in rows {
        let known = StudentState::parse(&state).ok_or_else(|| {
            sea_orm::DbErr::Custom(format!("stored internship_student.state '{state}' is not known"))
        })?;
        match known {
            StudentState::Recommended => out.recommended += 1,
            StudentState::Accepted => out.accepted += 1,
            StudentState::Declined => out.declined += 1,
            StudentState::Withdrawn => out.withdrawn += 1,
        }
        out.erased += i32::from(erased.is_some());
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Students

/// A student's checked details and host section.
#[derive(Debug, Clone)]
pub struct StudentData {
    pub details: StudentDetails,
    pub host_section_id: Option<Uuid>,
}

async fn check_host(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    section_id: Option<Uuid>,
) -> Result<(), RepoError> {
    let Some(id) = section_id else { return Ok(()) };
    let found = section::Entity::find_by_id(id).filter(section::Column::OrgId.eq(org_id)).count(conn).await?;
    if found == 0 {
        return Err(RepoError::Invalid(vec![FieldError::not_found("host_section_id", "no such section")]));
    }
    Ok(())
}

fn with_data(m: internship_student::Model, data: StudentData) -> internship_student::Model {
    let d = data.details;
    internship_student::Model {
        name: Some(d.name),
        name_kana: d.name_kana,
        university: d.university,
        faculty: d.faculty,
        year_of_study: d.year_of_study,
        email: d.email,
        recommended_on: d.recommended_on,
        host_section_id: data.host_section_id,
        hosted_from: d.hosted.map(|h| h.0),
        hosted_to: d.hosted.map(|h| h.1),
        ..m
    }
}

/// Record a student recommended by their university.
pub async fn add_student(
    conn: &WriteTxn,
    actor: &Actor,
    programme: &internship_programme::Model,
    data: StudentData,
) -> Result<internship_student::Model, RepoError> {
    check_host(conn, actor.org_id, data.host_section_id).await?;
    let at = now();
    let blank = internship_student::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        programme_id: programme.id,
        name: None,
        name_kana: None,
        university: String::new(),
        faculty: None,
        year_of_study: None,
        email: None,
        recommended_on: data.details.recommended_on,
        host_section_id: None,
        hosted_from: None,
        hosted_to: None,
        state: StudentState::Recommended.as_str().into(),
        erased_at: None,
        erased_by: None,
        erasure_requested_on: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let m = with_data(blank, data);
    insert_audited(
        conn,
        actor,
        "internship_student.create",
        m,
        &Words::fixed("the student is on file already", "この学生はすでに登録されています"),
    )
    .await
}

pub async fn get_student(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    id: Uuid,
) -> Result<internship_student::Model, RepoError> {
    find_in_org(conn, org_id, id).await
}

/// A programme's students in the order they were recorded, optionally in one state.
pub async fn list_students(
    conn: &impl ConnectionTrait,
    programme: &internship_programme::Model,
    state: Option<StudentState>,
) -> Result<Vec<internship_student::Model>, RepoError> {
    let mut q = internship_student::Entity::find()
        .filter(internship_student::Column::OrgId.eq(programme.org_id))
        .filter(internship_student::Column::ProgrammeId.eq(programme.id));
    if let Some(s) = state {
        q = q.filter(internship_student::Column::State.eq(s.as_str()));
    }
    Ok(q.order_by_asc(internship_student::Column::Id).all(conn).await?)
}

/// The students a section hosts (accepted), with their programme: newest programme first, then
/// in the order they were recorded.
pub async fn hosted_by(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    section_id: Uuid,
    fiscal_year: Option<i32>,
) -> Result<Vec<(internship_programme::Model, internship_student::Model)>, RepoError> {
    let mut q = internship_programme::Entity::find().filter(internship_programme::Column::OrgId.eq(org_id));
    if let Some(fy) = fiscal_year {
        q = q.filter(internship_programme::Column::FiscalYear.eq(fy));
    }
    let programmes = q.order_by_desc(internship_programme::Column::FiscalYear).all(conn).await?;
    let students = internship_student::Entity::find()
        .filter(internship_student::Column::OrgId.eq(org_id))
        .filter(internship_student::Column::HostSectionId.eq(section_id))
        .filter(internship_student::Column::State.eq(StudentState::Accepted.as_str()))
        .filter(internship_student::Column::ProgrammeId.is_in(programmes.iter().map(|p| p.id)))
        .order_by_asc(internship_student::Column::Id)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(students.len());
    for p in &programmes {
        out.extend(students.iter().filter(|s| s.programme_id == p.id).map(|s| (p.clone(), s.clone())));
    }
    Ok(out)
}

fn refuse(state: &str, message: impl Into<String>) -> RepoError {
    RepoError::Transition { state: state.into(), message: message.into() }
}

/// Correct a student's details or host section; not once their data is erased, and an
/// accepted student keeps a host section.
pub async fn update_student(
    conn: &WriteTxn,
    actor: &Actor,
    before: &internship_student::Model,
    expected_version: &Precondition,
    data: StudentData,
) -> Result<internship_student::Model, RepoError> {
    // Decided on the row as it is now, read under the lock.
    let locked: internship_student::Model =
        super::lock_at_version(conn, actor.org_id, before.id, expected_version).await?;
    let before = &locked;
    if before.erased_at.is_some() {
        return Err(refuse(
            &before.state,
            "the student's personal data is erased; the record no longer changes",
        ));
    }
    if before.state == StudentState::Accepted.as_str() && data.host_section_id.is_none() {
        return Err(RepoError::Invalid(vec![FieldError::conflict(
            "host_section_id",
            "an accepted student keeps a host section",
        )]));
    }
    check_host(conn, actor.org_id, data.host_section_id).await?;
    let after = with_data(before.clone(), data);
    save_audited(conn, actor, "internship_student.update", before, expected_version, after, CHANGED_MEANWHILE)
        .await
}

/// Accept, decline or withdraw a student. Accepting locks the programme and refuses a student
/// without a host section or beyond the capacity.
pub async fn move_student(
    conn: &WriteTxn,
    actor: &Actor,
    before: &internship_student::Model,
    expected_version: &Precondition,
    event: StudentEvent,
) -> Result<internship_student::Model, RepoError> {
    // Decided on the row as it is now, read under the lock.
    let locked: internship_student::Model =
        super::lock_at_version(conn, actor.org_id, before.id, expected_version).await?;
    let before = &locked;
    let state = before.state()?;
    if before.erased_at.is_some() {
        return Err(refuse(
            state.as_str(),
            "the student's personal data is erased; the record no longer changes",
        ));
    }
    let next = student_transition(state, event).map_err(|m| refuse(state.as_str(), m))?;
    if event == StudentEvent::Accept {
        let p = lock_programme(conn, before.org_id, before.programme_id).await?;
        let counts = places(conn, &p).await?;
        check_acceptance(before.host_section_id.is_some(), counts.accepted, p.capacity).map_err(|m| {
            if before.host_section_id.is_none() {
                refuse(state.as_str(), m)
            } else {
                RepoError::Conflict(Words::new(m, "定員に達しています"))
            }
        })?;
    }
    let after = internship_student::Model { state: next.as_str().into(), ..before.clone() };
    let action = format!("internship_student.{}", event.as_str());
    save_audited(conn, actor, action, before, expected_version, after, CHANGED_MEANWHILE).await
}

/// Erase a student's personal data on their request (received on `requested_on`): name,
/// reading, faculty, year of study and address are emptied; the university, host section,
/// dates and state stay as the record. Audited like every write, without the data itself.
pub async fn erase(
    conn: &WriteTxn,
    actor: &Actor,
    before: &internship_student::Model,
    expected_version: &Precondition,
    programme: &internship_programme::Model,
    requested_on: NaiveDate,
    today: NaiveDate,
) -> Result<internship_student::Model, RepoError> {
    // Decided on the row as it is now, read under the lock.
    let locked: internship_student::Model =
        super::lock_at_version(conn, actor.org_id, before.id, expected_version).await?;
    let before = &locked;
    let state = before.state()?;
    check_erasure(state, before.erased_at.is_some(), terms(programme), today)
        .map_err(|m| refuse(state.as_str(), m))?;
    if requested_on > today {
        return Err(RepoError::Invalid(vec![FieldError::range("requested_on", "today or earlier")]));
    }
    let after = internship_student::Model {
        name: None,
        name_kana: None,
        faculty: None,
        year_of_study: None,
        email: None,
        erased_at: Some(now()),
        erased_by: Some(actor.signature()),
        erasure_requested_on: Some(requested_on),
        ..before.clone()
    };
    save_audited(conn, actor, "internship_student.erase", before, expected_version, after, CHANGED_MEANWHILE)
        .await
}
