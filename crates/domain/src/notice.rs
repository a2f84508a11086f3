//! 通知: whom an event tells, and in what words. A workflow event returns these drafts with its
//! other consequences; persistence writes them in the same transaction as the change that caused
//! them, and delivering them (mail, portal) is another concern.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::absence::NoticeEvent as AbsenceEvent;
use crate::approval::{Chain, Deciders, Step};
use crate::calendar::jst;
use crate::report::ReportEvent;
use crate::selection::{Event as NominationEvent, NominationState};
use crate::subsidy::ApplicationEvent;

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
    /// 補欠: on the waiting list; told again if a place comes free.
    Waitlisted,
    /// 選考結果: the training office did not select the trainee.
    NotSelected,
    /// 所属長不承認: the head did not confirm the application.
    NotConfirmed,
    /// 受講取消: one place cancelled by the training office, or withdrawn by the trainee.
    PlaceCancelled,
    /// 確認依頼: an application, absence notice or subsidy application waits for its confirmer.
    AwaitingConfirmation,
    /// 決裁依頼: a post-training report waits for its approver.
    AwaitingApproval,
    /// 差戻し: an absence notice, report or subsidy completion report is back for correction.
    Returned,
    /// 助成決定: a subsidy application approved, not approved, fixed or paid.
    SubsidyDecided,
    /// 自主研究グループ助成: a group's plan granted or not, or its grant settled.
    StudyGroupDecided,
    /// 研修のお知らせ: a session the trainee holds a place on is days away.
    SessionReminder,
    /// 報告書の提出期限: a report is due soon.
    ReportDue,
    /// 報告書の提出期限超過: a report is overdue (to the writer; to their head once long overdue).
    ReportOverdue,
    /// 承認待ち一覧: a head's (or the office's) daily list of what waits for them.
    Digest,
    /// 合同研修: to a training office, what the other organisation of a joint course did (an
    /// offer, an answer, other places, an offer taken back).
    JointCourse,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 19] = [
        Self::TrainingNotice,
        Self::PlaceGiven,
        Self::CourseCancelled,
        Self::SessionChanged,
        Self::SessionCancelled,
        Self::Waitlisted,
        Self::NotSelected,
        Self::NotConfirmed,
        Self::PlaceCancelled,
        Self::AwaitingConfirmation,
        Self::AwaitingApproval,
        Self::Returned,
        Self::SubsidyDecided,
        Self::StudyGroupDecided,
        Self::SessionReminder,
        Self::ReportDue,
        Self::ReportOverdue,
        Self::Digest,
        Self::JointCourse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrainingNotice => "training_notice",
            Self::PlaceGiven => "place_given",
            Self::CourseCancelled => "course_cancelled",
            Self::SessionChanged => "session_changed",
            Self::SessionCancelled => "session_cancelled",
            Self::Waitlisted => "waitlisted",
            Self::NotSelected => "not_selected",
            Self::NotConfirmed => "not_confirmed",
            Self::PlaceCancelled => "place_cancelled",
            Self::AwaitingConfirmation => "awaiting_confirmation",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Returned => "returned",
            Self::SubsidyDecided => "subsidy_decided",
            Self::StudyGroupDecided => "study_group_decided",
            Self::SessionReminder => "session_reminder",
            Self::ReportDue => "report_due",
            Self::ReportOverdue => "report_overdue",
            Self::Digest => "digest",
            Self::JointCourse => "joint_course",
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
            Self::Waitlisted => "補欠",
            Self::NotSelected => "選考結果",
            Self::NotConfirmed => "申込み不承認",
            Self::PlaceCancelled => "受講取消",
            Self::AwaitingConfirmation => "確認依頼",
            Self::AwaitingApproval => "決裁依頼",
            Self::Returned => "差戻し",
            Self::SubsidyDecided => "通信教育講座助成",
            Self::StudyGroupDecided => "自主研究グループ助成",
            Self::SessionReminder => "研修のお知らせ",
            Self::ReportDue => "報告書の提出期限",
            Self::ReportOverdue => "報告書の提出期限超過",
            Self::Digest => "承認待ち",
            Self::JointCourse => "合同研修",
        }
    }

    /// Waits for a head's daily digest instead of going out on its own.
    pub fn in_digest(self) -> bool {
        matches!(self, Self::AwaitingConfirmation | Self::AwaitingApproval)
    }
}

/// The kind of record a notice is about.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A place on a course: an application, recommendation or designation.
    Nomination,
    /// 研修講座欠席届
    AbsenceNotice,
    /// 研修報告書
    TrainingReport,
    /// 通信教育講座助成の申請
    SubsidyApplication,
    /// 自主研究グループ
    StudyGroup,
    /// A daily digest: a list of records, each named in the body.
    Digest,
    /// A change from a portal form that could not be applied (`/api/v1/portal-inbox/{id}`): the
    /// training office corrects and replays it.
    PortalChange,
    /// 合同研修: a share of a joint course (`/api/v1/joint-offers/{id}` for the participant,
    /// `/api/v1/courses/{course_id}/shares/{id}` for the host).
    CourseShare,
}

impl ItemKind {
    pub const ALL: [ItemKind; 8] = [
        Self::Nomination,
        Self::AbsenceNotice,
        Self::TrainingReport,
        Self::SubsidyApplication,
        Self::StudyGroup,
        Self::Digest,
        Self::PortalChange,
        Self::CourseShare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nomination => "nomination",
            Self::AbsenceNotice => "absence_notice",
            Self::TrainingReport => "training_report",
            Self::SubsidyApplication => "subsidy_application",
            Self::StudyGroup => "study_group",
            Self::Digest => "digest",
            Self::PortalChange => "portal_change",
            Self::CourseShare => "course_share",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The record a notice is about: the link a reader follows to act.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NoticeItem {
    #[serde(rename = "type")]
    pub kind: ItemKind,
    pub id: Uuid,
}

/// In what capacity a notice reaches its recipient.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientRole {
    /// The trainee (or applicant, or a study group's representative).
    Trainee,
    /// The trainee's head (所属長, or the department head over a section head), told.
    SectionHead,
    /// Whoever must decide the item (所属長の確認, 所属部長の決裁, or who stands in).
    Approver,
    /// 研修担当 as a whole: the item's decider is the training office; no one employee.
    TrainingOffice,
}

impl RecipientRole {
    pub const ALL: [RecipientRole; 4] =
        [Self::Trainee, Self::SectionHead, Self::Approver, Self::TrainingOffice];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trainee => "trainee",
            Self::SectionHead => "section_head",
            Self::Approver => "approver",
            Self::TrainingOffice => "training_office",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A session as a notice states it: Japan time, place.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSession {
    /// The session (for calendar entries that follow it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// Rises with every change of the session (its version): a calendar's SEQUENCE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i32>,
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
            id: None,
            sequence: None,
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

/// The record a notice is about, as its words state it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct About {
    pub item: NoticeItem,
    /// The course, a correspondence course's name, a study group's name.
    pub title: String,
    pub course: Option<CourseFacts>,
    /// The one session an absence notice is for.
    pub session: Option<NoticeSession>,
    /// A refusal's reason or a return's comment.
    pub reason: Option<String>,
    /// A subsidy or grant decided, in yen.
    pub amount_yen: Option<i64>,
}

impl About {
    /// A course place (nomination) of `course`: on its sessions, or on the one it is placed on.
    pub fn place(course: &CourseFacts, nomination_id: Uuid, session: Option<Uuid>) -> Self {
        let mut about = Self::course(ItemKind::Nomination, nomination_id, course);
        if let (Some(pinned), Some(c)) = (session, about.course.as_mut()) {
            c.sessions.retain(|s| s.id.is_none_or(|id| id == pinned));
        }
        about
    }

    /// A record of `course` (a nomination, an absence notice, a report).
    pub fn course(kind: ItemKind, id: Uuid, course: &CourseFacts) -> Self {
        Self {
            item: NoticeItem { kind, id },
            title: course.title.clone(),
            course: Some(course.clone()),
            session: None,
            reason: None,
            amount_yen: None,
        }
    }

    /// A record that is not about a course: a subsidy application, a study group.
    pub fn record(kind: ItemKind, id: Uuid, title: impl Into<String>) -> Self {
        Self {
            item: NoticeItem { kind, id },
            title: title.into(),
            course: None,
            session: None,
            reason: None,
            amount_yen: None,
        }
    }
}

/// The person whose record it is, and the roster around them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trainee {
    pub employee_no: String,
    pub name: String,
    pub chain: Chain,
}

impl Trainee {
    pub fn employee_id(&self) -> Uuid {
        self.chain.trainee.employee_id
    }

    /// Whose staff the trainee is, told of what happens to them: the people who confirm for
    /// them (their section's heads, or for a section head or a section without one their
    /// department's, or the organisation's named approver), never the trainee, never the
    /// training office as a whole (it caused or sees it).
    pub fn heads(&self) -> Vec<Uuid> {
        match self.chain.deciders(Step::Confirmation) {
            Deciders::Employees(ids) => ids,
            Deciders::TrainingOffice => Vec::new(),
        }
    }
}

/// What a notice says, by kind: a typed body, in Japanese.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeBody {
    #[serde(default)]
    pub kind: NoticeKind,
    /// What happened or what to do, in one sentence.
    #[serde(default)]
    pub message: String,
    /// The course, correspondence course or study group it is about.
    #[serde(alias = "course_title")]
    pub title: String,
    /// Whose record it is.
    pub trainee_employee_no: String,
    pub trainee_name: String,
    /// The course, for a notice about a course place, absence notice or report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_year: Option<i32>,
    /// The course's sessions as they now are.
    #[serde(default)]
    pub sessions: Vec<NoticeSession>,
    /// The one session an absence notice is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<NoticeSession>,
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
    /// A refusal's reason or a return's comment, in the decider's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The subsidy or grant decided, in yen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_yen: Option<i64>,
    /// A report's due day (reminders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    /// A digest: what waits for the recipient, oldest first: the oldest 100 at most, the rest
    /// counted in `waiting_total`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<WaitingItem>,
    /// A digest: how many items wait in all, listed or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_total: Option<u32>,
}

/// A digest lists at most this many of what waits, the oldest; the rest are counted. A list of
/// tens of thousands (a training office after a busy season at prefectural scale) made a notice
/// of 18 MB every day, no use in a mail or the portal; the decider's own lists have them all.
pub const DIGEST_LISTS_AT_MOST: usize = 100;

/// What waits for one decider, as a digest lists it: the oldest [`DIGEST_LISTS_AT_MOST`] items,
/// and how many in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitingList {
    items: Vec<WaitingItem>,
    total: u32,
}

impl WaitingList {
    /// Count one more waiting item, given oldest first; `item` is made only if it is listed.
    pub fn add(&mut self, item: impl FnOnce() -> WaitingItem) {
        self.total += 1;
        if self.items.len() < DIGEST_LISTS_AT_MOST {
            self.items.push(item());
        }
    }

    pub fn items(&self) -> &[WaitingItem] {
        &self.items
    }

    pub fn total(&self) -> u32 {
        self.total
    }
}

/// One record waiting for a decider, as a digest lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingItem {
    pub item: NoticeItem,
    /// The course or correspondence course.
    pub title: String,
    pub trainee_employee_no: String,
    pub trainee_name: String,
    /// 確認 (confirmation) or 決裁 (approval).
    pub step: String,
    /// Handed in at.
    pub since: DateTime<Utc>,
}

/// A notice to write: for one recipient (`None`: the training office), about one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDraft {
    pub item: NoticeItem,
    pub recipient: Option<Uuid>,
    pub role: RecipientRole,
    pub subject: String,
    pub body: NoticeBody,
}

const GATHER: &str = "研修会場には講義開始の10分前に集合してください。";
const ABSENCE: &str =
    "欠席・遅刻・早退をする場合は、事前に研修担当へ連絡し、所属長の確認を経た「研修講座欠席届」を提出してください。";

/// Paperwork that waits for a decider or comes back to its writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// 受講申込み
    Application,
    /// 研修講座欠席届
    AbsenceNotice,
    /// 研修報告書
    Report,
    /// 通信教育講座助成の申請 (its completion report, when returned)
    SubsidyApplication,
}

impl Paper {
    fn name(self) -> &'static str {
        match self {
            Self::Application => "研修の受講申込み",
            Self::AbsenceNotice => "研修講座欠席届",
            Self::Report => "研修報告書",
            Self::SubsidyApplication => "通信教育講座助成の申請",
        }
    }

    /// The step it waits for.
    fn step(self) -> Step {
        match self {
            Self::Report => Step::Approval,
            Self::Application | Self::AbsenceNotice | Self::SubsidyApplication => Step::Confirmation,
        }
    }
}

/// A subsidy decision told to the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubsidyDecision {
    Approved,
    NotApproved,
    /// 助成額確定: the proof checked, the amount fixed.
    Fixed,
    Paid,
}

/// A study-group decision told to its representative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupDecision {
    Granted,
    NotGranted,
    Settled,
    /// 代表者の交代: told to the new representative, who files from now on.
    HandedOver,
    /// 代表者の交代: told to the representative replaced by someone else (HR, after a transfer).
    Replaced,
}

/// What happened, for whom a notice is and in what words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Selected, with the course's details (研修通知).
    Selected,
    /// Moved up from the waiting list.
    PlaceGiven,
    /// Put on the waiting list.
    Waitlisted,
    /// Not selected by the training office.
    NotSelected,
    /// The application was not confirmed by the head.
    NotConfirmed,
    /// One place cancelled: by the trainee themself (their heads are told) or by the office.
    PlaceCancelled {
        by_trainee: bool,
    },
    /// The course was cancelled.
    CourseCancelled,
    /// A session moved: how it was.
    SessionChanged {
        previous: NoticeSession,
    },
    /// A session was cancelled: how it was.
    SessionCancelled {
        previous: NoticeSession,
    },
    /// The training office moved the trainee to another session (or to the whole course): the
    /// session it was on, if any.
    PlaceMoved {
        previous: Option<NoticeSession>,
    },
    /// Paperwork handed in: its decider is asked.
    Submitted(Paper),
    /// Paperwork back with its writer for correction.
    Returned(Paper),
    SubsidyDecided(SubsidyDecision),
    StudyGroupDecided(GroupDecision),
    /// A session the trainee holds a place on is days away.
    SessionSoon {
        session: NoticeSession,
    },
    /// The report is due on that day.
    ReportDue {
        due_on: NaiveDate,
    },
    /// The report is overdue.
    ReportOverdue {
        due_on: NaiveDate,
    },
    /// The report is long overdue: the writer's head is told (the training office, when nobody
    /// heads the writer: a department head's own report, a unit without heads).
    ReportOverdueToHead {
        due_on: NaiveDate,
    },
}

/// A day as a notice writes it: 2023年7月19日.
fn japanese_date(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// What a nomination's move tells, if anything: `from` the state it left, `by_trainee` when the
/// trainee moved it themself. A selection waits for the 研修通知 (`Notify`); a confirmation goes
/// on to the office, which sees its own list.
pub fn on_nomination(event: NominationEvent, from: NominationState, by_trainee: bool) -> Option<Event> {
    match event {
        NominationEvent::Reject => Some(Event::NotConfirmed),
        NominationEvent::Waitlist => Some(Event::Waitlisted),
        NominationEvent::Decline => Some(Event::NotSelected),
        NominationEvent::Notify => Some(Event::Selected),
        // An application withdrawn before anyone decided on it concerns nobody else.
        NominationEvent::Cancel if by_trainee && from == NominationState::Proposed => None,
        NominationEvent::Cancel => Some(Event::PlaceCancelled { by_trainee }),
        NominationEvent::Confirm
        | NominationEvent::Select
        | NominationEvent::Complete
        | NominationEvent::Reopen => None,
    }
}

/// What a new nomination tells: an application waits for its confirmer; a recommendation or a
/// designation is told with the 研修通知.
pub fn on_new_nomination(state: NominationState) -> Option<Event> {
    (state == NominationState::Proposed).then_some(Event::Submitted(Paper::Application))
}

/// What an absence notice's move tells.
pub fn on_absence_notice(event: AbsenceEvent) -> Option<Event> {
    match event {
        AbsenceEvent::Submit => Some(Event::Submitted(Paper::AbsenceNotice)),
        AbsenceEvent::Return => Some(Event::Returned(Paper::AbsenceNotice)),
        AbsenceEvent::Confirm
        | AbsenceEvent::Receive
        | AbsenceEvent::ReceiveDirectly
        | AbsenceEvent::Withdraw => None,
    }
}

/// What a report's move tells.
pub fn on_report(event: ReportEvent) -> Option<Event> {
    match event {
        ReportEvent::Submit => Some(Event::Submitted(Paper::Report)),
        ReportEvent::Return => Some(Event::Returned(Paper::Report)),
        ReportEvent::Approve | ReportEvent::Receive => None,
    }
}

/// What a subsidy application's move tells (a new one waits for its confirmer).
pub fn on_subsidy_application(event: ApplicationEvent) -> Option<Event> {
    match event {
        ApplicationEvent::Approve => Some(Event::SubsidyDecided(SubsidyDecision::Approved)),
        ApplicationEvent::Reject => Some(Event::SubsidyDecided(SubsidyDecision::NotApproved)),
        ApplicationEvent::Verify => Some(Event::SubsidyDecided(SubsidyDecision::Fixed)),
        ApplicationEvent::MarkPaid => Some(Event::SubsidyDecided(SubsidyDecision::Paid)),
        ApplicationEvent::Return => Some(Event::Returned(Paper::SubsidyApplication)),
        ApplicationEvent::Confirm
        | ApplicationEvent::Withdraw
        | ApplicationEvent::ReportCompletion
        | ApplicationEvent::ReportNotCompleted => None,
    }
}

/// Who hears of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// The trainee and their heads.
    TraineeAndHeads,
    /// Only the trainee's heads (the trainee did it).
    Heads,
    /// The trainee's heads; with none (a department head's own report, a section and department
    /// without heads), the training office, so that someone is told.
    HeadsElseOffice,
    /// Only the trainee.
    Trainee,
    /// Whoever decides `step` for the trainee.
    Deciders(Step),
}

/// The kind, words and audience of `event`.
fn told(event: &Event) -> (NoticeKind, String, Option<NoticeSession>, Audience) {
    use Audience::*;
    let say = |kind, text: &str, to| (kind, text.to_string(), None, to);
    match event {
        Event::Selected => say(
            NoticeKind::TrainingNotice,
            "研修の受講者に決定しました。日程と会場を確認してください。",
            TraineeAndHeads,
        ),
        Event::PlaceGiven => say(
            NoticeKind::PlaceGiven,
            "補欠から繰り上がり、研修の受講者に決定しました。日程と会場を確認してください。",
            TraineeAndHeads,
        ),
        Event::Waitlisted => say(
            NoticeKind::Waitlisted,
            "定員のため補欠となりました。欠員が出た場合は順に繰り上げ、改めてお知らせします。",
            TraineeAndHeads,
        ),
        Event::NotSelected => {
            say(NoticeKind::NotSelected, "選考の結果、今回は受講者に選ばれませんでした。", TraineeAndHeads)
        }
        Event::NotConfirmed => say(
            NoticeKind::NotConfirmed,
            "所属長の確認が得られず、受講申込みは受け付けられませんでした。",
            Trainee,
        ),
        Event::PlaceCancelled { by_trainee: true } => {
            say(NoticeKind::PlaceCancelled, "受講者が受講を取り下げました。", Heads)
        }
        Event::PlaceCancelled { by_trainee: false } => {
            say(NoticeKind::PlaceCancelled, "研修担当により受講が取り消されました。", TraineeAndHeads)
        }
        Event::CourseCancelled => say(
            NoticeKind::CourseCancelled,
            "この研修は中止になりました。受講の予定（申込・推薦・指名）は取り消されました。",
            TraineeAndHeads,
        ),
        Event::SessionChanged { previous } => (
            NoticeKind::SessionChanged,
            "研修の日程または会場が変更されました。新しい日程を確認してください。".into(),
            Some(previous.clone()),
            TraineeAndHeads,
        ),
        Event::PlaceMoved { previous } => (
            NoticeKind::SessionChanged,
            "受講する日程が変更されました。新しい日程を確認してください。".into(),
            previous.clone(),
            TraineeAndHeads,
        ),
        Event::SessionCancelled { previous } => (
            NoticeKind::SessionCancelled,
            "研修の日程の一部が中止になりました。".into(),
            Some(previous.clone()),
            TraineeAndHeads,
        ),
        Event::Submitted(paper) => {
            let (kind, waits) = match paper.step() {
                Step::Confirmation => (NoticeKind::AwaitingConfirmation, "確認"),
                Step::Approval => (NoticeKind::AwaitingApproval, "決裁"),
            };
            (kind, format!("{}が{}を待っています。", paper.name(), waits), None, Deciders(paper.step()))
        }
        Event::Returned(paper) => {
            let what = match paper {
                Paper::SubsidyApplication => "通信教育講座助成の修了報告",
                other => other.name(),
            };
            (
                NoticeKind::Returned,
                format!("{what}が差し戻されました。コメントを確認し、修正して再提出してください。"),
                None,
                Trainee,
            )
        }
        Event::SubsidyDecided(d) => {
            let text = match d {
                SubsidyDecision::Approved => "通信教育講座助成の申請が承認されました。修了後、修了証と受講料の領収書を添えて修了報告をしてください。",
                SubsidyDecision::NotApproved => "通信教育講座助成の申請は承認されませんでした。",
                SubsidyDecision::Fixed => "修了報告を確認し、助成額が確定しました。",
                SubsidyDecision::Paid => "助成金を支払いました。",
            };
            say(NoticeKind::SubsidyDecided, text, Trainee)
        }
        Event::StudyGroupDecided(d) => {
            let text = match d {
                GroupDecision::Granted => "活動計画が承認され、助成金の交付が決定しました。",
                GroupDecision::NotGranted => "活動計画は承認されませんでした。",
                GroupDecision::Settled => "決算書・活動報告書を確認し、助成金を精算しました。",
                GroupDecision::HandedOver => "自主研究グループの代表者になりました。以後の活動計画書・決算書・活動報告書は代表者として提出してください。",
                GroupDecision::Replaced => "自主研究グループの代表者が交代しました。以後の活動計画書・決算書・活動報告書は新しい代表者が提出します。",
            };
            say(NoticeKind::StudyGroupDecided, text, Trainee)
        }
        Event::SessionSoon { .. } => say(
            NoticeKind::SessionReminder,
            "研修の日が近づきました。日程と会場を確認してください。欠席・遅刻・早退の場合は事前に欠席届を提出してください。",
            Trainee,
        ),
        Event::ReportDue { due_on } => (
            NoticeKind::ReportDue,
            format!("研修報告書の提出期限は{}です。期限までに提出してください。", japanese_date(*due_on)),
            None,
            Trainee,
        ),
        Event::ReportOverdue { due_on } => (
            NoticeKind::ReportOverdue,
            format!("研修報告書の提出期限（{}）を過ぎています。速やかに提出してください。", japanese_date(*due_on)),
            None,
            Trainee,
        ),
        Event::ReportOverdueToHead { due_on } => (
            NoticeKind::ReportOverdue,
            format!("研修報告書が提出期限（{}）を過ぎたまま提出されていません。提出を促してください。", japanese_date(*due_on)),
            None,
            HeadsElseOffice,
        ),
    }
}

/// The notices `event` on `about` writes for `trainee` and whoever else hears of it.
pub fn drafts(event: Event, about: &About, trainee: &Trainee) -> Vec<NoticeDraft> {
    let (kind, message, previous, audience) = told(&event);
    let (soon, due_on) = match &event {
        Event::SessionSoon { session } => (Some(session.clone()), None),
        Event::ReportDue { due_on }
        | Event::ReportOverdue { due_on }
        | Event::ReportOverdueToHead { due_on } => (None, Some(*due_on)),
        _ => (None, None),
    };
    let told_place = matches!(kind, NoticeKind::TrainingNotice | NoticeKind::PlaceGiven);
    let gather = told_place || kind == NoticeKind::SessionReminder;
    let course = about.course.as_ref();
    let body = NoticeBody {
        kind,
        message,
        title: about.title.clone(),
        trainee_employee_no: trainee.employee_no.clone(),
        trainee_name: trainee.name.clone(),
        course_id: course.map(|c| c.id),
        fiscal_year: course.map(|c| c.fiscal_year),
        sessions: course.map(|c| c.sessions.clone()).unwrap_or_default(),
        session: about.session.clone().or(soon),
        previous,
        gather: gather.then(|| GATHER.to_string()),
        prepare: if told_place { course.and_then(|c| c.notes.clone()) } else { None },
        absence: matches!(
            kind,
            NoticeKind::TrainingNotice
                | NoticeKind::PlaceGiven
                | NoticeKind::SessionChanged
                | NoticeKind::SessionCancelled
                | NoticeKind::SessionReminder
        )
        .then(|| ABSENCE.to_string()),
        reason: about.reason.clone(),
        amount_yen: about.amount_yen,
        due_on,
        waiting: Vec::new(),
        waiting_total: None,
    };
    let subject = |role: RecipientRole| {
        let s = match role {
            RecipientRole::Trainee => format!("【{}】{}", kind.label(), about.title),
            _ => format!("【{}】{}（{}）", kind.label(), about.title, trainee.name),
        };
        s.chars().take(300).collect::<String>()
    };
    let draft = |recipient: Option<Uuid>, role: RecipientRole| NoticeDraft {
        item: about.item,
        recipient,
        role,
        subject: subject(role),
        body: body.clone(),
    };
    let mut out = Vec::new();
    if matches!(audience, Audience::Trainee | Audience::TraineeAndHeads) {
        out.push(draft(Some(trainee.employee_id()), RecipientRole::Trainee));
    }
    if matches!(audience, Audience::Heads | Audience::TraineeAndHeads | Audience::HeadsElseOffice) {
        out.extend(trainee.heads().into_iter().map(|h| draft(Some(h), RecipientRole::SectionHead)));
    }
    if audience == Audience::HeadsElseOffice && out.is_empty() {
        out.push(draft(None, RecipientRole::TrainingOffice));
    }
    if let Audience::Deciders(step) = audience {
        match trainee.chain.deciders(step) {
            Deciders::Employees(ids) => {
                out.extend(ids.into_iter().map(|h| draft(Some(h), RecipientRole::Approver)))
            }
            Deciders::TrainingOffice => out.push(draft(None, RecipientRole::TrainingOffice)),
        }
    }
    out
}

/// Who a digest is for: an employee (number, name), or the training office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRecipient {
    pub employee: Option<(Uuid, String, String)>,
}

/// 承認待ち一覧: one notice listing everything waiting for a decider on `date`, instead of a
/// message per item.
pub fn digest(to: &DigestRecipient, date: NaiveDate, digest_id: Uuid, waiting: WaitingList) -> NoticeDraft {
    let (recipient, role, no, name) = match &to.employee {
        Some((id, no, name)) => (Some(*id), RecipientRole::Approver, no.clone(), name.clone()),
        None => (None, RecipientRole::TrainingOffice, String::new(), "研修担当".to_string()),
    };
    let title = format!("承認待ちの一覧（{}）", japanese_date(date));
    let total = waiting.total;
    let mut message = format!("確認・決裁を待っている案件が{total}件あります。");
    if waiting.items.len() < total as usize {
        message.push_str(&format!(
            "古い順に{}件を載せています。残りは各一覧で確認してください。",
            waiting.items.len()
        ));
    }
    let body = NoticeBody {
        waiting: waiting.items,
        waiting_total: Some(total),
        ..NoticeBody::bare(NoticeKind::Digest, message, title.clone(), no, name)
    };
    NoticeDraft {
        item: NoticeItem { kind: ItemKind::Digest, id: digest_id },
        recipient,
        role,
        subject: format!("【{}】{}件（{}）", NoticeKind::Digest.label(), total, japanese_date(date)),
        body,
    }
}

/// What one organisation of a joint course (合同研修) did that the other's training office is
/// told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JointNews {
    /// The host offers places (to the participant).
    Offered {
        places: u32,
    },
    /// The participant's answers (to the host).
    Accepted,
    Declined,
    Withdrawn,
    /// The host changed the participant's places.
    PlacesChanged {
        places: u32,
    },
    /// The host took the share back, or cancelled the course (to the participant).
    TakenBack,
}

/// The joint course a training office is told about: the share, the course's title and year,
/// and the other organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JointFacts {
    pub share_id: Uuid,
    pub title: String,
    pub fiscal_year: i32,
    pub other: String,
}

/// The notice to a training office of what the other organisation of a joint course did.
pub fn joint_notice(news: JointNews, facts: &JointFacts) -> NoticeDraft {
    let other = &facts.other;
    let message = match news {
        JointNews::Offered { places } => format!(
            "{other}から合同研修の参加依頼（{places}人）がありました。参加・不参加を回答してください。"
        ),
        JointNews::Accepted => format!("{other}が合同研修に参加します。"),
        JointNews::Declined => format!("{other}は合同研修に参加しません。"),
        JointNews::Withdrawn => {
            format!("{other}が合同研修への参加を取りやめました。枠は主催団体に戻りました。")
        }
        JointNews::PlacesChanged { places } => {
            format!("{other}が合同研修の枠数を{places}人に変更しました。")
        }
        JointNews::TakenBack => format!(
            "{other}が合同研修の参加依頼を取り消しました。参加していた研修は中止され、受講者に通知されました。"
        ),
    };
    let body = NoticeBody {
        fiscal_year: Some(facts.fiscal_year),
        ..NoticeBody::bare(
            NoticeKind::JointCourse,
            message,
            facts.title.clone(),
            String::new(),
            "研修担当".into(),
        )
    };
    let subject = format!("【{}】{}（{other}）", NoticeKind::JointCourse.label(), facts.title);
    NoticeDraft {
        item: NoticeItem { kind: ItemKind::CourseShare, id: facts.share_id },
        recipient: None,
        role: RecipientRole::TrainingOffice,
        subject: subject.chars().take(300).collect(),
        body,
    }
}

impl NoticeBody {
    /// A body about no course or session: what happened, the title, and whose it is.
    fn bare(kind: NoticeKind, message: String, title: String, employee_no: String, name: String) -> Self {
        NoticeBody {
            kind,
            message,
            title,
            trainee_employee_no: employee_no,
            trainee_name: name,
            course_id: None,
            fiscal_year: None,
            sessions: Vec::new(),
            session: None,
            previous: None,
            gather: None,
            prepare: None,
            absence: None,
            reason: None,
            amount_yen: None,
            due_on: None,
            waiting: Vec::new(),
            waiting_total: None,
        }
    }

    /// The notice as plain text, for a portal record or a mail: what happened, then the facts.
    pub fn plain_text(&self) -> String {
        let mut out = vec![self.message.clone(), String::new()];
        out.push(format!("件名: {}", self.title));
        out.push(format!("対象者: {}（職員番号 {}）", self.trainee_name, self.trainee_employee_no));
        let when = |s: &NoticeSession| {
            let place = [s.venue.as_deref(), s.online_url.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            format!("{} 〜 {} {}", s.starts_at, s.ends_at, place).trim_end().to_string()
        };
        if let Some(s) = &self.session {
            out.push(format!("日程: {}", when(s)));
        }
        if let Some(p) = &self.previous {
            out.push(format!("変更前: {}", when(p)));
        }
        if !self.sessions.is_empty() {
            out.push("日程:".into());
            out.extend(self.sessions.iter().map(|s| format!("  {}", when(s))));
        }
        for (label, text) in [
            ("集合", &self.gather),
            ("持ち物・事前準備", &self.prepare),
            ("欠席・遅刻・早退", &self.absence),
            ("理由・コメント", &self.reason),
        ] {
            if let Some(t) = text {
                out.push(format!("{label}: {t}"));
            }
        }
        if let Some(yen) = self.amount_yen {
            out.push(format!("金額: {yen}円"));
        }
        if let Some(d) = self.due_on {
            out.push(format!("提出期限: {}", japanese_date(d)));
        }
        for w in &self.waiting {
            out.push(format!(
                "・{}待ち: {}（{} {}）",
                w.step, w.title, w.trainee_employee_no, w.trainee_name
            ));
        }
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::{TopApprover, Unit};
    use crate::auth::EmployeePlacement;

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

    /// A trainee `emp` in section 10 (heads given) of department 20 (heads given).
    fn trainee(emp: u128, section_heads: &[u128], department_heads: &[u128]) -> Trainee {
        let unit = |n: u128, heads: &[u128]| Unit {
            id: id(n),
            head: heads.first().map(|h| id(*h)),
            acting_head: heads.get(1).map(|h| id(*h)),
        };
        Trainee {
            employee_no: "10009".into(),
            name: "山口 裕子".into(),
            chain: Chain {
                trainee: EmployeePlacement {
                    org_id: id(0),
                    employee_id: id(emp),
                    section_id: id(10),
                    department_id: id(20),
                },
                section: unit(10, section_heads),
                department: unit(20, department_heads),
                top: TopApprover::TrainingOffice,
            },
        }
    }

    fn place() -> About {
        About::place(&course(), id(9), None)
    }

    fn recipients(d: &[NoticeDraft]) -> Vec<(Option<Uuid>, RecipientRole)> {
        d.iter().map(|n| (n.recipient, n.role)).collect()
    }

    #[test]
    fn a_training_office_is_told_what_the_other_organisation_did() {
        let facts = JointFacts {
            share_id: Uuid::nil(),
            title: "地域別研修".into(),
            fiscal_year: 2023,
            other: "伊勢原市".into(),
        };
        let n = joint_notice(JointNews::Offered { places: 3 }, &facts);
        assert_eq!((n.role, n.recipient), (RecipientRole::TrainingOffice, None));
        assert_eq!(n.item, NoticeItem { kind: ItemKind::CourseShare, id: Uuid::nil() });
        assert_eq!(n.subject, "【合同研修】地域別研修（伊勢原市）");
        assert!(n.body.message.contains("3人") && n.body.message.contains("回答"), "{}", n.body.message);
        assert_eq!(n.body.kind, NoticeKind::JointCourse);
        let said: std::collections::HashSet<String> = [
            JointNews::Offered { places: 1 },
            JointNews::Accepted,
            JointNews::Declined,
            JointNews::Withdrawn,
            JointNews::PlacesChanged { places: 2 },
            JointNews::TakenBack,
        ]
        .into_iter()
        .map(|news| joint_notice(news, &facts).body.message)
        .collect();
        assert_eq!(said.len(), 6, "each says something of its own");
    }

    #[test]
    fn the_trainee_and_their_heads_are_told_in_japanese() {
        let d = drafts(Event::Selected, &place(), &trainee(100, &[101, 102], &[103]));
        assert_eq!(
            recipients(&d),
            vec![
                (Some(id(100)), RecipientRole::Trainee),
                (Some(id(101)), RecipientRole::SectionHead),
                (Some(id(102)), RecipientRole::SectionHead)
            ]
        );
        assert_eq!(d[0].subject, "【研修通知】接遇研修");
        assert_eq!(d[1].subject, "【研修通知】接遇研修（山口 裕子）");
        assert_eq!(d[0].item, NoticeItem { kind: ItemKind::Nomination, id: id(9) });
        assert_eq!(d[0].body.sessions[0].starts_at, "2023-07-12T09:00:00+09:00");
        assert!(d[0].body.gather.as_deref().unwrap().contains("10分前"));
        assert_eq!(d[0].body.prepare.as_deref(), Some("筆記用具"));
        assert!(d[0].body.absence.is_some());
    }

    #[test]
    fn a_section_heads_notices_go_to_their_department_head() {
        let d = drafts(Event::CourseCancelled, &place(), &trainee(101, &[101], &[103]));
        assert_eq!(d.iter().map(|n| n.recipient).collect::<Vec<_>>(), vec![Some(id(101)), Some(id(103))]);
        assert_eq!(d[0].subject, "【研修中止】接遇研修");
        assert!(d[0].body.absence.is_none() && d[0].body.gather.is_none());
        // A section without a head: the department head is told.
        let d = drafts(Event::PlaceGiven, &place(), &trainee(100, &[], &[103]));
        assert_eq!(d.iter().map(|n| n.recipient).collect::<Vec<_>>(), vec![Some(id(100)), Some(id(103))]);
        // A department head with nobody above: only themself (the office acted).
        let d = drafts(Event::PlaceGiven, &place(), &trainee(103, &[], &[103]));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn a_moved_session_says_how_it_was() {
        let previous = course().sessions[0].clone();
        let d = drafts(
            Event::SessionChanged { previous: previous.clone() },
            &place(),
            &trainee(100, &[101], &[]),
        );
        assert_eq!(d[0].body.kind, NoticeKind::SessionChanged);
        assert_eq!(d[0].body.previous, Some(previous));
        assert_eq!(d[0].subject, "【日程変更】接遇研修");
        let json = serde_json::to_value(&d[0].body).unwrap();
        assert_eq!(json["kind"], "session_changed");
        assert_eq!(json["title"], "接遇研修");
        assert!(json.get("gather").is_none());
    }

    #[test]
    fn a_withdrawal_is_told_to_the_heads_and_a_refusal_to_the_trainee_only() {
        let t = trainee(100, &[101], &[103]);
        let d = drafts(Event::PlaceCancelled { by_trainee: true }, &place(), &t);
        assert_eq!(recipients(&d), vec![(Some(id(101)), RecipientRole::SectionHead)]);
        let d = drafts(Event::PlaceCancelled { by_trainee: false }, &place(), &t);
        assert_eq!(d.len(), 2);
        let mut about = place();
        about.reason = Some("業務繁忙のため".into());
        let d = drafts(Event::NotConfirmed, &about, &t);
        assert_eq!(recipients(&d), vec![(Some(id(100)), RecipientRole::Trainee)]);
        assert_eq!(d[0].body.reason.as_deref(), Some("業務繁忙のため"));
        assert!(d[0].body.absence.is_none());
        let d = drafts(Event::Waitlisted, &place(), &t);
        assert_eq!((d[0].body.kind, d.len()), (NoticeKind::Waitlisted, 2));
    }

    #[test]
    fn paperwork_waits_for_whoever_decides_its_step() {
        let t = trainee(100, &[101, 102], &[103]);
        let absence = About::course(ItemKind::AbsenceNotice, id(7), &course());
        let d = drafts(Event::Submitted(Paper::AbsenceNotice), &absence, &t);
        assert_eq!(
            recipients(&d),
            vec![(Some(id(101)), RecipientRole::Approver), (Some(id(102)), RecipientRole::Approver)]
        );
        assert_eq!(d[0].body.kind, NoticeKind::AwaitingConfirmation);
        assert!(d[0].body.kind.in_digest());
        assert_eq!(d[0].subject, "【確認依頼】接遇研修（山口 裕子）");
        assert!(d[0].body.message.contains("研修講座欠席届"));
        // A report goes to the department head.
        let report = About::course(ItemKind::TrainingReport, id(8), &course());
        let d = drafts(Event::Submitted(Paper::Report), &report, &t);
        assert_eq!(recipients(&d), vec![(Some(id(103)), RecipientRole::Approver)]);
        assert_eq!(d[0].body.kind, NoticeKind::AwaitingApproval);
        // A department head's own report: the training office, named by no one employee.
        let d = drafts(Event::Submitted(Paper::Report), &report, &trainee(103, &[101], &[103]));
        assert_eq!(recipients(&d), vec![(None, RecipientRole::TrainingOffice)]);
        // Returned: back to the writer only, with the comment.
        let mut returned = report.clone();
        returned.reason = Some("具体例を追記してください".into());
        let d = drafts(Event::Returned(Paper::Report), &returned, &t);
        assert_eq!(recipients(&d), vec![(Some(id(100)), RecipientRole::Trainee)]);
        assert_eq!(d[0].body.reason.as_deref(), Some("具体例を追記してください"));
        assert!(!d[0].body.kind.in_digest());
    }

    #[test]
    fn decisions_on_money_reach_the_applicant_with_the_amount() {
        let t = trainee(100, &[101], &[103]);
        let mut about = About::record(ItemKind::SubsidyApplication, id(5), "ビジネス文書講座");
        about.amount_yen = Some(22_500);
        let d = drafts(Event::SubsidyDecided(SubsidyDecision::Fixed), &about, &t);
        assert_eq!(recipients(&d), vec![(Some(id(100)), RecipientRole::Trainee)]);
        assert_eq!(d[0].subject, "【通信教育講座助成】ビジネス文書講座");
        assert_eq!((d[0].body.amount_yen, d[0].body.course_id), (Some(22_500), None));
        assert!(d[0].body.sessions.is_empty());
        let group = About::record(ItemKind::StudyGroup, id(6), "窓口改善研究会");
        let d = drafts(Event::StudyGroupDecided(GroupDecision::NotGranted), &group, &t);
        assert_eq!(d[0].body.kind, NoticeKind::StudyGroupDecided);
        let d = drafts(Event::StudyGroupDecided(GroupDecision::HandedOver), &group, &t);
        assert_eq!(recipients(&d), vec![(Some(id(100)), RecipientRole::Trainee)]);
        assert!(d[0].body.message.contains("代表者になりました"), "{:?}", d[0].body);
        let d = drafts(Event::StudyGroupDecided(GroupDecision::Replaced), &group, &t);
        assert_eq!(recipients(&d), vec![(Some(id(100)), RecipientRole::Trainee)]);
        assert!(d[0].body.message.contains("新しい代表者が提出します"), "{:?}", d[0].body);
    }

    #[test]
    fn bodies_written_before_kinds_and_titles_still_read() {
        let old = r#"{"course_id":"00000000-0000-0000-0000-000000000001","course_title":"接遇研修",
            "fiscal_year":2023,"trainee_employee_no":"10009","trainee_name":"山口 裕子","sessions":[]}"#;
        let b: NoticeBody = serde_json::from_str(old).unwrap();
        assert_eq!(
            (b.kind, b.title.as_str(), b.fiscal_year),
            (NoticeKind::TrainingNotice, "接遇研修", Some(2023))
        );
    }

    #[test]
    fn each_workflow_move_tells_what_it_should() {
        use NominationState as S;
        assert_eq!(on_new_nomination(S::Proposed), Some(Event::Submitted(Paper::Application)));
        assert_eq!(on_new_nomination(S::Selected), None);
        assert_eq!(on_nomination(NominationEvent::Notify, S::Selected, false), Some(Event::Selected));
        assert_eq!(on_nomination(NominationEvent::Decline, S::Confirmed, false), Some(Event::NotSelected));
        assert_eq!(on_nomination(NominationEvent::Select, S::Confirmed, false), None);
        assert_eq!(on_nomination(NominationEvent::Cancel, S::Proposed, true), None);
        assert_eq!(
            on_nomination(NominationEvent::Cancel, S::Notified, true),
            Some(Event::PlaceCancelled { by_trainee: true })
        );
        assert_eq!(
            on_nomination(NominationEvent::Cancel, S::Proposed, false),
            Some(Event::PlaceCancelled { by_trainee: false })
        );
        assert_eq!(on_absence_notice(AbsenceEvent::Submit), Some(Event::Submitted(Paper::AbsenceNotice)));
        assert_eq!(on_absence_notice(AbsenceEvent::Confirm), None);
        assert_eq!(on_report(ReportEvent::Return), Some(Event::Returned(Paper::Report)));
        assert_eq!(
            on_subsidy_application(ApplicationEvent::Verify),
            Some(Event::SubsidyDecided(SubsidyDecision::Fixed))
        );
        assert_eq!(on_subsidy_application(ApplicationEvent::ReportCompletion), None);
    }

    #[test]
    fn a_notice_reads_as_plain_text_with_its_facts() {
        let d = drafts(Event::Selected, &place(), &trainee(100, &[101], &[]));
        let text = d[0].body.plain_text();
        assert!(text.starts_with("研修の受講者に決定しました。"), "{text}");
        assert!(
            text.contains("  2023-07-12T09:00:00+09:00 〜 2023-07-12T17:00:00+09:00 本庁舎3階"),
            "{text}"
        );
        assert!(text.contains("持ち物・事前準備: 筆記用具"), "{text}");
        assert!(!text.contains("金額"));
    }

    #[test]
    fn reminders_reach_the_trainee_and_a_long_overdue_report_their_head() {
        let t = trainee(100, &[101], &[103]);
        let session = course().sessions[0].clone();
        let d = drafts(Event::SessionSoon { session: session.clone() }, &place(), &t);
        assert_eq!(recipients(&d), vec![(Some(id(100)), RecipientRole::Trainee)]);
        assert_eq!(
            (d[0].body.kind, d[0].body.session.as_ref()),
            (NoticeKind::SessionReminder, Some(&session))
        );
        assert!(d[0].body.gather.is_some() && d[0].body.absence.is_some());
        let report = About::course(ItemKind::TrainingReport, id(8), &course());
        let due = NaiveDate::from_ymd_opt(2023, 7, 19).unwrap();
        let d = drafts(Event::ReportDue { due_on: due }, &report, &t);
        assert!(d[0].body.message.contains("2023年7月19日"), "{}", d[0].body.message);
        assert_eq!(d[0].body.due_on, Some(due));
        let d = drafts(Event::ReportOverdueToHead { due_on: due }, &report, &t);
        assert_eq!(recipients(&d), vec![(Some(id(101)), RecipientRole::SectionHead)]);
        assert_eq!(d[0].body.kind, NoticeKind::ReportOverdue);
    }

    #[test]
    fn a_long_overdue_report_with_nobody_heading_its_writer_reaches_the_training_office() {
        let report = About::course(ItemKind::TrainingReport, id(8), &course());
        let overdue = Event::ReportOverdueToHead { due_on: NaiveDate::from_ymd_opt(2023, 7, 19).unwrap() };
        // A department head's own report, and a trainee whose section and department have no heads.
        for t in [trainee(103, &[101], &[103]), trainee(100, &[], &[])] {
            let d = drafts(overdue.clone(), &report, &t);
            assert_eq!(recipients(&d), vec![(None, RecipientRole::TrainingOffice)]);
            assert!(d[0].subject.contains("山口 裕子"), "{}", d[0].subject);
        }
        // The organisation's named approver stands above a department head: told, not the office.
        let mut own = trainee(103, &[101], &[103]);
        own.chain.top = TopApprover::Employee { employee_id: id(300) };
        assert_eq!(
            recipients(&drafts(overdue, &report, &own)),
            vec![(Some(id(300)), RecipientRole::SectionHead)]
        );
        // Other news the heads hear of is not the office's: a place the trainee cancelled.
        let d = drafts(Event::PlaceCancelled { by_trainee: true }, &place(), &trainee(100, &[], &[]));
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn a_digest_lists_what_waits_in_one_notice() {
        let item = |n| WaitingItem {
            item: NoticeItem { kind: ItemKind::AbsenceNotice, id: id(n) },
            title: "接遇研修".into(),
            trainee_employee_no: "10009".into(),
            trainee_name: "山口 裕子".into(),
            step: "確認".into(),
            since: chrono::TimeZone::with_ymd_and_hms(&Utc, 2023, 7, 10, 0, 0, 0).unwrap(),
        };
        let head = DigestRecipient { employee: Some((id(101), "10002".into(), "課長".into())) };
        let date = NaiveDate::from_ymd_opt(2023, 7, 12).unwrap();
        let list = |ns: std::ops::RangeInclusive<u128>| {
            let mut list = WaitingList::default();
            for n in ns {
                list.add(|| item(n));
            }
            list
        };
        let d = digest(&head, date, id(50), list(1..=2));
        assert_eq!(
            (d.recipient, d.role, d.item.kind),
            (Some(id(101)), RecipientRole::Approver, ItemKind::Digest)
        );
        assert_eq!(d.subject, "【承認待ち】2件（2023年7月12日）");
        assert_eq!((d.body.waiting.len(), d.body.waiting_total), (2, Some(2)));
        assert_eq!(d.body.message, "確認・決裁を待っている案件が2件あります。");
        assert!(d.body.plain_text().contains("・確認待ち: 接遇研修（10009 山口 裕子）"));
        let office = digest(&DigestRecipient { employee: None }, date, id(51), list(3..=3));
        assert_eq!((office.recipient, office.role), (None, RecipientRole::TrainingOffice));
    }

    #[test]
    fn a_digest_lists_the_oldest_hundred_and_counts_the_rest() {
        let mut made = 0;
        let mut list = WaitingList::default();
        for n in 0..250u128 {
            list.add(|| {
                made += 1;
                WaitingItem {
                    item: NoticeItem { kind: ItemKind::TrainingReport, id: id(n) },
                    title: "接遇研修".into(),
                    trainee_employee_no: format!("{n}"),
                    trainee_name: "職員".into(),
                    step: "受理".into(),
                    since: Utc::now(),
                }
            });
        }
        assert_eq!((made, list.total()), (DIGEST_LISTS_AT_MOST, 250), "the rest are counted, not made");
        let date = NaiveDate::from_ymd_opt(2023, 7, 12).unwrap();
        let d = digest(&DigestRecipient { employee: None }, date, id(52), list);
        assert_eq!(d.subject, "【承認待ち】250件（2023年7月12日）");
        assert_eq!((d.body.waiting.len(), d.body.waiting_total), (100, Some(250)));
        assert_eq!(d.body.waiting[0].item.id, id(0), "the oldest first");
        assert_eq!(d.body.waiting[99].item.id, id(99));
        assert!(
            d.body.message.contains("250件") && d.body.message.contains("古い順に100件"),
            "{}",
            d.body.message
        );
    }

    #[test]
    fn a_place_on_one_session_names_that_session_only() {
        let mut c = course();
        let t = |d| chrono::TimeZone::with_ymd_and_hms(&Utc, 2023, 7, d, 0, 0, 0).unwrap();
        c.sessions = vec![
            NoticeSession { id: Some(id(21)), ..NoticeSession::new(t(12), t(12), None, None) },
            NoticeSession { id: Some(id(22)), ..NoticeSession::new(t(19), t(19), None, None) },
        ];
        let d = drafts(Event::Selected, &About::place(&c, id(9), Some(id(22))), &trainee(100, &[101], &[]));
        assert_eq!(d[0].body.sessions.iter().map(|s| s.id).collect::<Vec<_>>(), vec![Some(id(22))]);
        let d = drafts(Event::Selected, &About::place(&c, id(9), None), &trainee(100, &[101], &[]));
        assert_eq!(d[0].body.sessions.len(), 2);
        let d = drafts(
            Event::PlaceMoved { previous: Some(c.sessions[0].clone()) },
            &About::place(&c, id(9), Some(id(22))),
            &trainee(100, &[101], &[]),
        );
        assert_eq!((d[0].body.kind, d.len()), (NoticeKind::SessionChanged, 2));
        assert_eq!(d[0].body.previous.as_ref().and_then(|p| p.id), Some(id(21)));
    }

    #[test]
    fn every_kind_and_role_reads_back_from_its_name() {
        for k in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
        }
        for r in RecipientRole::ALL {
            assert_eq!(RecipientRole::parse(r.as_str()), Some(r));
        }
        for i in ItemKind::ALL {
            assert_eq!(ItemKind::parse(i.as_str()), Some(i));
        }
        // Every variant is in ALL: a new one added to the enum alone fails here.
        let listed = |k: ItemKind| match k {
            ItemKind::Nomination
            | ItemKind::AbsenceNotice
            | ItemKind::TrainingReport
            | ItemKind::SubsidyApplication
            | ItemKind::StudyGroup
            | ItemKind::Digest
            | ItemKind::PortalChange
            | ItemKind::CourseShare => ItemKind::ALL.contains(&k),
        };
        assert!(listed(ItemKind::Digest) && listed(ItemKind::StudyGroup) && listed(ItemKind::PortalChange));
    }
}
