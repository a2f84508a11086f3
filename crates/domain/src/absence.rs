//! 研修講座欠席届: a trainee's notice of absence, late arrival or early leave for one session.
//!
//! The trainee (or their section head on their behalf) writes it; the trainee's own section head
//! confirms it (所属長の確認); the training office receives it. HR or the section head may return
//! it for correction with a comment. A notice filed after the session started is accepted but
//! flagged late. Only a received notice excuses an absence.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::approval::{Relation, Step};
use crate::FieldError;

/// What the notice is for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceKind {
    /// 欠席
    Absence,
    /// 遅刻: with the expected arrival time.
    LateArrival,
    /// 早退: with the expected leaving time.
    EarlyLeave,
}

impl AbsenceKind {
    pub const ALL: [AbsenceKind; 3] = [Self::Absence, Self::LateArrival, Self::EarlyLeave];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Absence => "absence",
            Self::LateArrival => "late_arrival",
            Self::EarlyLeave => "early_leave",
        }
    }

    pub fn japanese(self) -> &'static str {
        match self {
            Self::Absence => "欠席",
            Self::LateArrival => "遅刻",
            Self::EarlyLeave => "早退",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a notice stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// 作成中: being written; only its writer sees it move.
    Draft,
    /// 提出: waiting for the section head.
    Submitted,
    /// 所属長確認済: waiting for the training office.
    Confirmed,
    /// 受理: the training office has it; the absence is excused.
    Received,
    /// 差戻し: back with the writer for correction, with a comment.
    Returned,
    /// 取下げ: withdrawn by its writer; frees the session for a new notice.
    Withdrawn,
}

impl NoticeState {
    /// The term HR's lists use (exports, messages).
    pub fn japanese(self) -> &'static str {
        match self {
            Self::Draft => "作成中",
            Self::Submitted => "提出",
            Self::Confirmed => "所属長確認済",
            Self::Received => "受理",
            Self::Returned => "差戻し",
            Self::Withdrawn => "取下げ",
        }
    }

    pub const ALL: [NoticeState; 6] =
        [Self::Draft, Self::Submitted, Self::Confirmed, Self::Received, Self::Returned, Self::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Confirmed => "confirmed",
            Self::Received => "received",
            Self::Returned => "returned",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Its writer may still change the text.
    pub fn editable(self) -> bool {
        matches!(self, Self::Draft | Self::Returned)
    }
}

/// What happens to a notice.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeEvent {
    Submit,
    Confirm,
    Receive,
    /// 研修担当 receives a notice without the section head's confirmation, with a reason (e.g.
    /// the head is away and the session is today).
    ReceiveDirectly,
    /// Back to the writer, with a comment.
    Return,
    Withdraw,
}

impl NoticeEvent {
    /// As in "a received notice cannot be withdrawn".
    pub fn past(self) -> &'static str {
        match self {
            Self::Submit => "submitted",
            Self::Confirm => "confirmed",
            Self::Receive | Self::ReceiveDirectly => "received",
            Self::Return => "returned",
            Self::Withdraw => "withdrawn",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Confirm => "confirm",
            Self::Receive => "receive",
            Self::ReceiveDirectly => "receive_directly",
            Self::Return => "return",
            Self::Withdraw => "withdraw",
        }
    }
}

/// The capacities in which someone acts on a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeActor {
    /// The trainee the notice is for.
    Trainee,
    /// Whoever confirms for the trainee (所属長の確認): their section head or acting head, or
    /// for a section head their department's head (never the trainee themself).
    Confirmer,
    /// 研修担当 (never for its own notice).
    Hr,
}

impl NoticeActor {
    /// The capacities of a caller, from their relation to the trainee.
    pub fn of(r: &Relation) -> Vec<NoticeActor> {
        r.capacities(Step::Confirmation, Self::Trainee, Self::Confirmer, Self::Hr)
    }
}

/// Who may write (create, edit, submit, withdraw) a notice: the trainee, whoever confirms for
/// them on their behalf, or the training office on their behalf when the trainee phoned in
/// (事前に研修担当へ連絡).
pub fn may_write(actors: &[NoticeActor]) -> bool {
    !actors.is_empty()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoticeTransitionError {
    #[error("a {} notice cannot be {}", .state.as_str(), .event.past())]
    NotFromState { state: NoticeState, event: NoticeEvent },
    #[error("not allowed to {} this notice", .event.as_str())]
    NotYours { event: NoticeEvent },
}

/// The state after `event`, trying each capacity the caller has. Not allowed in any capacity is
/// `NotYours` (403); allowed but not from this state is `NotFromState` (409).
pub fn notice_transition(
    state: NoticeState,
    event: NoticeEvent,
    actors: &[NoticeActor],
) -> Result<NoticeState, NoticeTransitionError> {
    use NoticeActor as A;
    use NoticeState as S;
    let allowed = |a: &NoticeActor| match event {
        NoticeEvent::Submit | NoticeEvent::Withdraw => true,
        NoticeEvent::Confirm => *a == A::Confirmer,
        NoticeEvent::Receive | NoticeEvent::ReceiveDirectly => *a == A::Hr,
        NoticeEvent::Return => matches!(a, A::Hr | A::Confirmer),
    };
    if !actors.iter().any(allowed) {
        return Err(NoticeTransitionError::NotYours { event });
    }
    let next = match (state, event) {
        (S::Draft | S::Returned, NoticeEvent::Submit) => S::Submitted,
        (S::Submitted, NoticeEvent::Confirm) => S::Confirmed,
        (S::Confirmed, NoticeEvent::Receive) => S::Received,
        (S::Submitted, NoticeEvent::ReceiveDirectly) => S::Received,
        (S::Submitted | S::Confirmed, NoticeEvent::Return) => S::Returned,
        (S::Draft | S::Submitted | S::Returned, NoticeEvent::Withdraw) => S::Withdrawn,
        _ => return Err(NoticeTransitionError::NotFromState { state, event }),
    };
    Ok(next)
}

pub const REASON_MAX: usize = 1000;

/// The text of a notice as written, before validation.
#[derive(Debug, Clone)]
pub struct NoticeFields {
    pub kind: AbsenceKind,
    pub reason: String,
    /// 遅刻: when the trainee expects to arrive.
    pub arrives_at: Option<DateTime<Utc>>,
    /// 早退: when the trainee expects to leave.
    pub leaves_at: Option<DateTime<Utc>>,
}

/// A session's times, as far as a notice cares.
#[derive(Debug, Clone, Copy)]
pub struct SessionWindow {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl NoticeFields {
    /// A reason is required; a late arrival names its arrival time and an early leave its leaving
    /// time, strictly inside the session; an absence names neither.
    pub fn validate(mut self, session: SessionWindow) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        self.reason = self.reason.trim().to_string();
        if self.reason.is_empty() || self.reason.chars().count() > REASON_MAX {
            errors
                .push(FieldError::length("reason", format!("is required, at most {REASON_MAX} characters")));
        }
        let inside = |t: DateTime<Utc>| session.starts_at < t && t < session.ends_at;
        let mut time = |field: &str, value: Option<DateTime<Utc>>, needed: bool| match (value, needed) {
            (None, true) => {
                errors.push(FieldError::required(field, format!("is required for {}", self.kind.japanese())))
            }
            (Some(_), false) => errors
                .push(FieldError::conflict(field, format!("does not apply to {}", self.kind.japanese()))),
            (Some(t), true) if !inside(t) => {
                errors.push(FieldError::range(field, "must fall between the session's start and end"))
            }
            _ => {}
        };
        time("arrives_at", self.arrives_at, self.kind == AbsenceKind::LateArrival);
        time("leaves_at", self.leaves_at, self.kind == AbsenceKind::EarlyLeave);
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// What a notice's place or session becoming moot does to it: the nomination ended without the
/// course (its place cancelled, with the course or when the trainee left; refused), or the
/// trainee was moved to another session. One not yet received is withdrawn by the service
/// (取下げ), so that it waits for no decider; one received stays, as the record of what was
/// excused; one withdrawn stays as it is.
pub fn lapsed(state: NoticeState) -> Option<NoticeState> {
    match state {
        NoticeState::Draft | NoticeState::Submitted | NoticeState::Confirmed | NoticeState::Returned => {
            Some(NoticeState::Withdrawn)
        }
        NoticeState::Received | NoticeState::Withdrawn => None,
    }
}

/// Whether a nomination moving to `state` ends its trainee's part in the course short of it, so
/// that its absence notices lapse ([`lapsed`]).
pub fn lapses_with(state: crate::selection::NominationState) -> bool {
    use crate::selection::NominationState as N;
    matches!(state, N::Cancelled | N::Declined | N::Rejected)
}

/// A notice first submitted after its session started is accepted but flagged late (事後提出).
pub fn filed_late(submitted_at: DateTime<Utc>, session: SessionWindow) -> bool {
    submitted_at >= session.starts_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use NoticeActor as A;
    use NoticeEvent as E;
    use NoticeState as S;

    fn session() -> SessionWindow {
        SessionWindow {
            starts_at: Utc.with_ymd_and_hms(2023, 7, 12, 0, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2023, 7, 12, 8, 0, 0).unwrap(),
        }
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 7, 12, h, 0, 0).unwrap()
    }

    #[test]
    fn the_flow_runs_trainee_then_head_then_hr() {
        let s = notice_transition(S::Draft, E::Submit, &[A::Trainee]).unwrap();
        let s = notice_transition(s, E::Confirm, &[A::Confirmer]).unwrap();
        let s = notice_transition(s, E::Receive, &[A::Hr]).unwrap();
        assert_eq!(s, S::Received);
    }

    #[test]
    fn returned_notices_are_corrected_and_resubmitted() {
        for (state, by) in [(S::Submitted, A::Confirmer), (S::Confirmed, A::Hr)] {
            assert_eq!(notice_transition(state, E::Return, &[by]), Ok(S::Returned));
        }
        assert!(S::Returned.editable() && S::Draft.editable() && !S::Submitted.editable());
        assert_eq!(notice_transition(S::Returned, E::Submit, &[A::Trainee]), Ok(S::Submitted));
    }

    #[test]
    fn each_capacity_does_only_its_own_part() {
        // The trainee cannot confirm or receive; a head who is the trainee is only the trainee.
        let me_as_head = NoticeActor::of(&crate::approval::relation_for_tests(true, false, false));
        assert_eq!(me_as_head, vec![A::Trainee]);
        assert_eq!(
            notice_transition(S::Submitted, E::Confirm, &me_as_head),
            Err(NoticeTransitionError::NotYours { event: E::Confirm })
        );
        assert_eq!(
            notice_transition(S::Confirmed, E::Receive, &[A::Confirmer]),
            Err(NoticeTransitionError::NotYours { event: E::Receive })
        );
        // HR cannot confirm for the section head.
        assert!(matches!(
            notice_transition(S::Submitted, E::Confirm, &[A::Hr]),
            Err(NoticeTransitionError::NotYours { .. })
        ));
        // HR cannot receive what the head has not confirmed: the state is named.
        assert_eq!(
            notice_transition(S::Submitted, E::Receive, &[A::Hr]),
            Err(NoticeTransitionError::NotFromState { state: S::Submitted, event: E::Receive })
        );
        // A received notice is final.
        for e in [E::Submit, E::Return, E::Withdraw] {
            assert!(notice_transition(S::Received, e, &[A::Trainee, A::Hr]).is_err());
        }
        assert!(may_write(&[A::Confirmer]) && may_write(&[A::Hr]) && !may_write(&[]));
    }

    #[test]
    fn hr_files_on_behalf_and_may_receive_directly() {
        // The trainee phoned the office: HR files and submits for them.
        assert_eq!(notice_transition(S::Draft, E::Submit, &[A::Hr]), Ok(S::Submitted));
        // It still waits for the confirmation, unless HR receives it directly.
        assert_eq!(notice_transition(S::Submitted, E::ReceiveDirectly, &[A::Hr]), Ok(S::Received));
        assert_eq!(
            notice_transition(S::Submitted, E::ReceiveDirectly, &[A::Confirmer]),
            Err(NoticeTransitionError::NotYours { event: E::ReceiveDirectly })
        );
        assert!(notice_transition(S::Confirmed, E::ReceiveDirectly, &[A::Hr]).is_err());
        assert!(notice_transition(S::Draft, E::ReceiveDirectly, &[A::Hr]).is_err());
    }

    #[test]
    fn fields_match_the_kind() {
        let ok = NoticeFields {
            kind: AbsenceKind::LateArrival,
            reason: " 通院のため ".into(),
            arrives_at: Some(at(2)),
            leaves_at: None,
        };
        assert_eq!(ok.validate(session()).unwrap().reason, "通院のため");
        let bad = NoticeFields {
            kind: AbsenceKind::Absence,
            reason: "  ".into(),
            arrives_at: Some(at(2)),
            leaves_at: None,
        };
        let fields: Vec<String> = bad.validate(session()).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["reason", "arrives_at"]);
        let outside = NoticeFields {
            kind: AbsenceKind::EarlyLeave,
            reason: "私用".into(),
            arrives_at: None,
            leaves_at: Some(at(9)),
        };
        assert_eq!(outside.validate(session()).unwrap_err()[0].field, "leaves_at");
        let missing = NoticeFields {
            kind: AbsenceKind::EarlyLeave,
            reason: "私用".into(),
            arrives_at: None,
            leaves_at: None,
        };
        assert!(missing.validate(session()).unwrap_err()[0].reason.contains("早退"));
    }

    #[test]
    fn a_notice_lapses_with_its_place_unless_received() {
        use crate::selection::NominationState as N;
        for open in [S::Draft, S::Submitted, S::Confirmed, S::Returned] {
            assert_eq!(lapsed(open), Some(S::Withdrawn), "{open:?}");
        }
        assert_eq!(lapsed(S::Received), None, "a received notice is the record of what was excused");
        assert_eq!(lapsed(S::Withdrawn), None);
        let ending: Vec<N> = N::ALL.into_iter().filter(|s| lapses_with(*s)).collect();
        assert_eq!(ending, vec![N::Rejected, N::Declined, N::Cancelled]);
    }

    #[test]
    fn a_notice_submitted_once_the_session_started_is_late() {
        assert!(!filed_late(at(0) - chrono::Duration::seconds(1), session()));
        assert!(filed_late(at(0), session()));
        assert!(filed_late(at(10), session()));
    }
}
