//! 通知: whom an event tells, and in what words. A workflow event returns these drafts with its
//! other consequences; persistence writes them in the same transaction as the change that caused
//! them, and delivering them (mail, portal) is another concern.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::jst;

/// What a notice is about.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// 研修通知: selected for a course, with where and when (notices written before kinds
    /// existed were all of this kind).
    #[default]
    TrainingNotice,
    /// 繰上げ: a place given from the waiting list.
    PlaceGiven,
    /// 研修中止: the course was cancelled; the nomination with it.
    CourseCancelled,
    /// 日程変更: the trainee's session moved (time or place).
    SessionChanged,
    /// 日程中止: one of the trainee's sessions was cancelled.
    SessionCancelled,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 5] = [
        Self::TrainingNotice,
        Self::PlaceGiven,
        Self::CourseCancelled,
        Self::SessionChanged,
        Self::SessionCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrainingNotice => "training_notice",
            Self::PlaceGiven => "place_given",
            Self::CourseCancelled => "course_cancelled",
            Self::SessionChanged => "session_changed",
            Self::SessionCancelled => "session_cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The subject's leading word, as a training office writes it.
    fn label(self) -> &'static str {
        match self {
            Self::TrainingNotice => "研修通知",
            Self::PlaceGiven => "受講決定（補欠繰上げ）",
            Self::CourseCancelled => "研修中止",
            Self::SessionChanged => "日程変更",
            Self::SessionCancelled => "日程中止",
        }
    }
}

/// Whom a notice is for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientRole {
    /// The trainee.
    Trainee,
    /// The trainee's head (所属長, or the department head over a section head).
    SectionHead,
}

impl RecipientRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trainee => "trainee",
            Self::SectionHead => "section_head",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Trainee, Self::SectionHead].into_iter().find(|r| r.as_str() == s)
    }
}

/// A session as a notice states it: Japan time, place.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSession {
    /// RFC 3339 in Japan time.
    pub starts_at: String,
    pub ends_at: String,
    pub venue: Option<String>,
    pub online_url: Option<String>,
}

impl NoticeSession {
    pub fn new(
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        venue: Option<String>,
        online_url: Option<String>,
    ) -> Self {
        Self {
            starts_at: starts_at.with_timezone(&jst()).to_rfc3339(),
            ends_at: ends_at.with_timezone(&jst()).to_rfc3339(),
            venue,
            online_url,
        }
    }
}

/// The course a notice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseFacts {
    pub id: Uuid,
    pub title: String,
    pub fiscal_year: i32,
    /// Its sessions, in order.
    pub sessions: Vec<NoticeSession>,
    /// What to prepare (the course's notes).
    pub notes: Option<String>,
}

/// A trainee and who is told with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub employee_id: Uuid,
    pub employee_no: String,
    pub name: String,
    /// Heads and acting heads of the trainee's section.
    pub section_heads: Vec<Uuid>,
    /// Heads and acting heads of the trainee's department.
    pub department_heads: Vec<Uuid>,
}

impl Addressee {
    /// Whose staff the trainee is: their section's heads, or for a section head (or a section
    /// without one) their department's, never the trainee themself.
    pub fn heads(&self) -> Vec<Uuid> {
        let others =
            |ids: &[Uuid]| ids.iter().copied().filter(|h| *h != self.employee_id).collect::<Vec<_>>();
        let section = others(&self.section_heads);
        if section.is_empty() {
            others(&self.department_heads)
        } else {
            section
        }
    }
}

/// What a notice says, by kind: a typed body, in Japanese.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeBody {
    #[serde(default)]
    pub kind: NoticeKind,
    pub course_id: Uuid,
    pub course_title: String,
    pub fiscal_year: i32,
    pub trainee_employee_no: String,
    pub trainee_name: String,
    /// The sessions the trainee is on, as they now are.
    pub sessions: Vec<NoticeSession>,
    /// What changed or what to do, in one sentence.
    #[serde(default)]
    pub message: String,
    /// A moved or cancelled session as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<NoticeSession>,
    /// 研修通知: where to be and when (gather 10 minutes before the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gather: Option<String>,
    /// 研修通知: what to prepare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepare: Option<String>,
    /// How to report an absence, late arrival or early leave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absence: Option<String>,
}

/// A notice to write: for one recipient, about one nomination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDraft {
    pub nomination_id: Uuid,
    pub course_id: Uuid,
    pub recipient: Uuid,
    pub role: RecipientRole,
    pub subject: String,
    pub body: NoticeBody,
}

const GATHER: &str = "研修会場には講義開始の10分前に集合してください。";
const ABSENCE: &str =
    "欠席・遅刻・早退をする場合は、事前に研修担当へ連絡し、所属長の確認を経た「研修講座欠席届」を提出してください。";

/// What happened to a trainee's place, for the words of its notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Selected, with the course's details (研修通知).
    Selected,
    /// Moved up from the waiting list.
    PlaceGiven,
    /// The course was cancelled.
    CourseCancelled,
    /// A session moved: how it was.
    SessionChanged { previous: NoticeSession },
    /// A session was cancelled: how it was.
    SessionCancelled { previous: NoticeSession },
}

/// The notices for a trainee and their heads about `event` on `course`.
pub fn drafts(
    event: Event,
    course: &CourseFacts,
    trainee: &Addressee,
    nomination_id: Uuid,
) -> Vec<NoticeDraft> {
    let (kind, message, previous) = match event {
        Event::Selected => (
            NoticeKind::TrainingNotice,
            "研修の受講者に決定しました。日程と会場を確認してください。".to_string(),
            None,
        ),
        Event::PlaceGiven => (
            NoticeKind::PlaceGiven,
            "補欠から繰り上がり、研修の受講者に決定しました。日程と会場を確認してください。".to_string(),
            None,
        ),
        Event::CourseCancelled => (
            NoticeKind::CourseCancelled,
            "この研修は中止になりました。受講の予定（申込・推薦・指名）は取り消されました。".to_string(),
            None,
        ),
        Event::SessionChanged { previous } => (
            NoticeKind::SessionChanged,
            "研修の日程または会場が変更されました。新しい日程を確認してください。".to_string(),
            Some(previous),
        ),
        Event::SessionCancelled { previous } => {
            (NoticeKind::SessionCancelled, "研修の日程の一部が中止になりました。".to_string(), Some(previous))
        }
    };
    let selected = kind == NoticeKind::TrainingNotice;
    let body = NoticeBody {
        kind,
        course_id: course.id,
        course_title: course.title.clone(),
        fiscal_year: course.fiscal_year,
        trainee_employee_no: trainee.employee_no.clone(),
        trainee_name: trainee.name.clone(),
        sessions: course.sessions.clone(),
        message,
        previous,
        gather: (selected || kind == NoticeKind::PlaceGiven).then(|| GATHER.to_string()),
        prepare: if selected || kind == NoticeKind::PlaceGiven { course.notes.clone() } else { None },
        absence: (kind != NoticeKind::CourseCancelled).then(|| ABSENCE.to_string()),
    };
    let subject = |role: RecipientRole| {
        let s = match role {
            RecipientRole::Trainee => format!("【{}】{}", kind.label(), course.title),
            RecipientRole::SectionHead => format!("【{}】{}（{}）", kind.label(), course.title, trainee.name),
        };
        s.chars().take(300).collect::<String>()
    };
    let mut out = vec![NoticeDraft {
        nomination_id,
        course_id: course.id,
        recipient: trainee.employee_id,
        role: RecipientRole::Trainee,
        subject: subject(RecipientRole::Trainee),
        body: body.clone(),
    }];
    for head in trainee.heads() {
        out.push(NoticeDraft {
            nomination_id,
            course_id: course.id,
            recipient: head,
            role: RecipientRole::SectionHead,
            subject: subject(RecipientRole::SectionHead),
            body: body.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn course() -> CourseFacts {
        let t = |h| chrono::TimeZone::with_ymd_and_hms(&Utc, 2023, 7, 12, h, 0, 0).unwrap();
        CourseFacts {
            id: id(1),
            title: "接遇研修".into(),
            fiscal_year: 2023,
            sessions: vec![NoticeSession::new(t(0), t(8), Some("本庁舎3階".into()), None)],
            notes: Some("筆記用具".into()),
        }
    }

    fn trainee(emp: u128, section_heads: &[u128], department_heads: &[u128]) -> Addressee {
        Addressee {
            employee_id: id(emp),
            employee_no: "10009".into(),
            name: "山口 裕子".into(),
            section_heads: section_heads.iter().map(|n| id(*n)).collect(),
            department_heads: department_heads.iter().map(|n| id(*n)).collect(),
        }
    }

    #[test]
    fn the_trainee_and_their_heads_are_told_in_japanese() {
        let d = drafts(Event::Selected, &course(), &trainee(100, &[101, 102], &[103]), id(9));
        let who: Vec<(Uuid, RecipientRole)> = d.iter().map(|n| (n.recipient, n.role)).collect();
        assert_eq!(
            who,
            vec![
                (id(100), RecipientRole::Trainee),
                (id(101), RecipientRole::SectionHead),
                (id(102), RecipientRole::SectionHead)
            ]
        );
        assert_eq!(d[0].subject, "【研修通知】接遇研修");
        assert_eq!(d[1].subject, "【研修通知】接遇研修（山口 裕子）");
        assert_eq!(d[0].body.sessions[0].starts_at, "2023-07-12T09:00:00+09:00");
        assert!(d[0].body.gather.as_deref().unwrap().contains("10分前"));
        assert_eq!(d[0].body.prepare.as_deref(), Some("筆記用具"));
    }

    #[test]
    fn a_section_heads_notices_go_to_their_department_head() {
        let d = drafts(Event::CourseCancelled, &course(), &trainee(101, &[101], &[103]), id(9));
        assert_eq!(d.iter().map(|n| n.recipient).collect::<Vec<_>>(), vec![id(101), id(103)]);
        assert_eq!(d[0].subject, "【研修中止】接遇研修");
        assert!(d[0].body.absence.is_none() && d[0].body.gather.is_none());
        // A section without a head: the department head is told.
        let d = drafts(Event::PlaceGiven, &course(), &trainee(100, &[], &[103]), id(9));
        assert_eq!(d.iter().map(|n| n.recipient).collect::<Vec<_>>(), vec![id(100), id(103)]);
        // A department head with nobody above: only themself.
        let d = drafts(Event::PlaceGiven, &course(), &trainee(103, &[], &[103]), id(9));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn a_moved_session_says_how_it_was() {
        let previous = course().sessions[0].clone();
        let d = drafts(
            Event::SessionChanged { previous: previous.clone() },
            &course(),
            &trainee(100, &[101], &[]),
            id(9),
        );
        assert_eq!(d[0].body.kind, NoticeKind::SessionChanged);
        assert_eq!(d[0].body.previous, Some(previous));
        assert_eq!(d[0].subject, "【日程変更】接遇研修");
        let json = serde_json::to_value(&d[0].body).unwrap();
        assert_eq!(json["kind"], "session_changed");
        assert!(json.get("gather").is_none());
    }
}
