//! 受講後アンケート: a course's questions, the trainees' responses (once each), and the answers
//! for the aggregate.

use crate::repo::Precondition;
use crate::repo::CHANGED_MEANWHILE;
use crate::WriteTxn;
use kenshu_domain::survey::{Answer, Question};
use kenshu_domain::Words;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{insert_audited, now, save_audited, Actor, RepoError};
use crate::entities::{course_survey, nomination, survey_response};

const ANSWERED: &Words =
    &Words::fixed("you have answered this survey already", "このアンケートには回答済みです");

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, DbErr> {
    serde_json::from_str(text).map_err(|e| DbErr::Custom(format!("stored {what} do not read: {e}")))
}

/// Where a course's survey lives: its own, or for a participant's course of a joint share
/// (合同研修) the host's course, whose survey every organisation's attendees answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurveyHome {
    pub org_id: Uuid,
    pub course_id: Uuid,
}

impl SurveyHome {
    pub async fn of(
        conn: &impl ConnectionTrait,
        course: &crate::entities::course::Model,
    ) -> Result<Self, RepoError> {
        match (course.host_org_id, course.share_id) {
            (Some(host), Some(share_id)) => {
                let share: crate::entities::course_share::Model =
                    super::find_in_org(conn, host, share_id).await?;
                Ok(SurveyHome { org_id: host, course_id: share.course_id })
            }
            _ => Ok(SurveyHome { org_id: course.org_id, course_id: course.id }),
        }
    }

    /// The survey is another organisation's: its questions are the host's to set.
    pub fn is_elsewhere(&self, course: &crate::entities::course::Model) -> bool {
        self.org_id != course.org_id
    }
}

/// How many trainees of the participants of the host's `course_id` attended (and so may answer
/// its survey).
pub async fn participant_attendees(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<u32, DbErr> {
    let shares = super::joint::accepted_shares(conn, org_id, course_id).await?;
    let mut n = 0;
    for s in shares {
        if let Some(pc) = s.participant_course_id {
            n += attendees(conn, s.participant_org_id, pc).await?;
        }
    }
    Ok(n)
}

/// A course's survey with its questions.
pub async fn get(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Option<(course_survey::Model, Vec<Question>)>, DbErr> {
    let Some(m) = course_survey::Entity::find()
        .filter(course_survey::Column::OrgId.eq(org_id))
        .filter(course_survey::Column::CourseId.eq(course_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let questions = parse("questions", &m.questions)?;
    Ok(Some((m, questions)))
}

async fn has_responses(conn: &impl ConnectionTrait, org_id: Uuid, course_id: Uuid) -> Result<bool, DbErr> {
    Ok(survey_response::Entity::find()
        .filter(survey_response::Column::OrgId.eq(org_id))
        .filter(survey_response::Column::CourseId.eq(course_id))
        .one(conn)
        .await?
        .is_some())
}

/// Give a course its survey; a course has one at most.
pub async fn create(
    conn: &WriteTxn,
    actor: &Actor,
    course_id: Uuid,
    questions: &[Question],
) -> Result<course_survey::Model, RepoError> {
    let at = now();
    let m = course_survey::Model {
        id: Uuid::now_v7(),
        org_id: actor.org_id,
        course_id,
        questions: serde_json::to_string(questions).expect("questions serialise"),
        version: 1,
        created_at: at,
        updated_at: at,
    };
    insert_audited(
        conn,
        actor,
        "survey.create",
        m,
        &Words::fixed(
            "the course has a survey already; change it with PUT",
            "この研修にはすでにアンケートがあります。PUT で変更してください",
        ),
    )
    .await
}

/// Change a course's questions, from the version the caller read. Once anyone has answered, the
/// questions stay as they are (answers refer to them by number).
pub async fn update(
    conn: &WriteTxn,
    actor: &Actor,
    before: &course_survey::Model,
    expected_version: &Precondition,
    questions: &[Question],
) -> Result<course_survey::Model, RepoError> {
    super::check_version(before.version, expected_version)?;
    let text = serde_json::to_string(questions).expect("questions serialise");
    if before.questions == text {
        return Ok(before.clone());
    }
    if has_responses(conn, actor.org_id, before.course_id).await? {
        return Err(RepoError::Conflict(Words::fixed(
            "trainees have answered this survey; its questions can no longer change",
            "回答があるため、アンケートの設問は変更できません",
        )));
    }
    let after = course_survey::Model { questions: text, ..before.clone() };
    save_audited(conn, actor, "survey.update", before, expected_version, after, CHANGED_MEANWHILE).await
}

/// Store a trainee's answers to the survey of `home` (the survey's organisation and course: the
/// trainee's own, or the host's of a joint course); a second response is a conflict.
pub async fn respond(
    conn: &impl ConnectionTrait,
    home: SurveyHome,
    nomination: &nomination::Model,
    answers: &[Answer],
) -> Result<(), RepoError> {
    let m = survey_response::Model {
        id: Uuid::now_v7(),
        org_id: home.org_id,
        course_id: home.course_id,
        nomination_id: nomination.id,
        nomination_org_id: Some(nomination.org_id),
        answers: serde_json::to_string(answers).expect("answers serialise"),
        created_at: now(),
    };
    survey_response::ActiveModel::from(m)
        .insert(conn)
        .await
        .map_err(|e| RepoError::from_write(e, ANSWERED))?;
    Ok(())
}

/// Whether this nomination has answered.
pub async fn answered(conn: &impl ConnectionTrait, org_id: Uuid, nomination_id: Uuid) -> Result<bool, DbErr> {
    Ok(survey_response::Entity::find()
        .filter(survey_response::Column::OrgId.eq(org_id))
        .filter(survey_response::Column::NominationId.eq(nomination_id))
        .one(conn)
        .await?
        .is_some())
}

/// Every response's answers, oldest first, without who gave them.
pub async fn answers(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
) -> Result<Vec<Vec<Answer>>, DbErr> {
    let mut rows = survey_response::Entity::find()
        .filter(survey_response::Column::OrgId.eq(org_id))
        .filter(survey_response::Column::CourseId.eq(course_id))
        .all(conn)
        .await?;
    rows.sort_by_key(|r| r.id);
    rows.iter().map(|r| parse("answers", &r.answers)).collect()
}

/// The caller's nomination on a course, if they hold (or held, having completed) a place.
pub async fn trainee_nomination(
    conn: &impl ConnectionTrait,
    org_id: Uuid,
    course_id: Uuid,
    employee_id: Uuid,
) -> Result<Option<nomination::Model>, DbErr> {
    for n in nomination::Entity::find()
        .filter(nomination::Column::OrgId.eq(org_id))
        .filter(nomination::Column::CourseId.eq(course_id))
        .filter(nomination::Column::EmployeeId.eq(employee_id))
        .all(conn)
        .await?
    {
        if n.state()?.holds_place() {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

/// How many trainees attended the course (and so may answer).
pub async fn attendees(conn: &impl ConnectionTrait, org_id: Uuid, course_id: Uuid) -> Result<u32, DbErr> {
    use super::report::Trainee;
    let rows = Trainee::of_course(conn, org_id, course_id).await?;
    Ok(rows.iter().filter(|t| t.attended()).count() as u32)
}
