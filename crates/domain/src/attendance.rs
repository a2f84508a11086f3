//! 出欠: attendance per session and trainee, whether an irregularity is excused, and whether a
//! trainee completed the course from their attendance.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::absence::SessionWindow;
use crate::FieldError;

/// How a trainee attended one session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    /// 出席
    Present,
    /// 遅刻: with the arrival time.
    Late,
    /// 早退: with the leaving time.
    LeftEarly,
    /// 欠席
    Absent,
}

impl AttendanceStatus {
    pub const ALL: [AttendanceStatus; 4] = [Self::Present, Self::Late, Self::LeftEarly, Self::Absent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Present => "present",
            Self::Late => "late",
            Self::LeftEarly => "left_early",
            Self::Absent => "absent",
        }
    }

    pub fn japanese(self) -> &'static str {
        match self {
            Self::Present => "出席",
            Self::Late => "遅刻",
            Self::LeftEarly => "早退",
            Self::Absent => "欠席",
        }
    }

    /// The API code or the Japanese term (出席, 遅刻, 早退, 欠席; 〇 and × as sign-in sheets mark
    /// present and absent).
    pub fn parse(s: &str) -> Option<Self> {
        let s = crate::text::normalize(s).trim().to_lowercase();
        match s.as_str() {
            "〇" | "○" | "◯" => return Some(Self::Present),
            "×" | "x" => return Some(Self::Absent),
            _ => {}
        }
        Self::ALL.into_iter().find(|v| v.as_str() == s || v.japanese() == s)
    }

    /// The trainee was there for at least part of the session.
    pub fn attended(self) -> bool {
        self != Self::Absent
    }
}

/// One trainee's attendance at a session, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttendanceEntry {
    pub status: AttendanceStatus,
    /// When the trainee arrived: required when late; may be given when present (a check-in).
    pub arrived_at: Option<DateTime<Utc>>,
    /// When the trainee left: required when they left early.
    pub left_at: Option<DateTime<Utc>>,
}

impl AttendanceEntry {
    /// Times where they belong: a late arrival and an early leave name a time strictly inside the
    /// session; a present trainee may name an arrival no later than the end; an absent one none.
    /// Errors name `field` under `prefix` (`entries[3].arrived_at`).
    pub fn validate(self, session: SessionWindow, prefix: &str) -> Result<Self, Vec<FieldError>> {
        use AttendanceStatus as S;
        let mut errors = Vec::new();
        let field = |name: &str| format!("{prefix}{name}");
        let inside = |t: DateTime<Utc>| session.starts_at < t && t < session.ends_at;
        match (self.status, self.arrived_at) {
            (S::Late, None) => {
                errors.push(FieldError::required(field("arrived_at"), "is required when late (遅刻)"))
            }
            (S::Late, Some(t)) if !inside(t) => errors.push(FieldError::range(
                field("arrived_at"),
                "a late arrival falls after the session's start and before its end",
            )),
            (S::Present, Some(t)) if t > session.ends_at => {
                errors.push(FieldError::range(field("arrived_at"), "is after the session ended"))
            }
            (S::LeftEarly | S::Absent, Some(_)) => errors.push(FieldError::conflict(
                field("arrived_at"),
                format!("does not apply to {}", self.status.japanese()),
            )),
            _ => {}
        }
        match (self.status, self.left_at) {
            (S::LeftEarly, None) => {
                errors.push(FieldError::required(field("left_at"), "is required when leaving early (早退)"))
            }
            (S::LeftEarly, Some(t)) if !inside(t) => errors.push(FieldError::range(
                field("left_at"),
                "an early leave falls after the session's start and before its end",
            )),
            (S::Present | S::Late | S::Absent, Some(_)) => errors.push(FieldError::conflict(
                field("left_at"),
                format!("does not apply to {}", self.status.japanese()),
            )),
            _ => {}
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// Whether an irregularity (absent, late, left early) is excused: it is when the training office
/// received an absence notice for the session. `None` for a trainee who was present.
pub fn excused(status: AttendanceStatus, notice_received: bool) -> Option<bool> {
    (status != AttendanceStatus::Present).then_some(notice_received)
}

/// Whether a session counts for a trainee: sessions that started before the trainee got their
/// place (moved up from the waiting list mid-course) do not.
pub fn counts_for(session_starts_at: DateTime<Utc>, placed_at: Option<DateTime<Utc>>) -> bool {
    placed_at.is_none_or(|p| session_starts_at >= p)
}

/// What a trainee's attendance says about the course.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    /// Some session that counts has no record yet.
    Pending,
    /// 修了: attended every session that counts; `fully` when present at all of them.
    Completed { fully: bool },
    /// 未修了: absent from a session that counts.
    NotCompleted,
}

/// 修了要件: what attendance completes a course.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CompletionRule {
    /// 全回出席: every session that counts attended (the default).
    #[default]
    AllSessions,
    /// At least `percent` of the sessions that count attended (８割以上出席: 80), rounded up.
    MinShare { percent: u8 },
}

impl CompletionRule {
    pub fn validate(self) -> Result<Self, String> {
        match self {
            CompletionRule::MinShare { percent } if percent == 0 || percent > 100 => {
                Err("percent must be 1 to 100".into())
            }
            r => Ok(r),
        }
    }

    /// How many of `sessions` must be attended.
    pub fn required(self, sessions: usize) -> usize {
        match self {
            CompletionRule::AllSessions => sessions,
            CompletionRule::MinShare { percent } => (sessions * usize::from(percent)).div_ceil(100),
        }
    }
}

/// Completion from the records of the sessions that count for a trainee, in any order (`None`:
/// not recorded yet), under the course's rule. It is decided once every one is recorded: a
/// course completes when enough were attended (present, late or left early; by default all of
/// them). Absences count against it whether excused or not.
pub fn completion(records: &[Option<AttendanceStatus>], rule: CompletionRule) -> Completion {
    if records.is_empty() || records.iter().any(Option::is_none) {
        return Completion::Pending;
    }
    let statuses: Vec<AttendanceStatus> = records.iter().flatten().copied().collect();
    let attended = statuses.iter().filter(|s| s.attended()).count();
    if attended >= rule.required(statuses.len()).max(1) {
        Completion::Completed { fully: statuses.iter().all(|s| *s == AttendanceStatus::Present) }
    } else {
        Completion::NotCompleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use AttendanceStatus as S;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 7, 12, h, m, 0).unwrap()
    }

    fn session() -> SessionWindow {
        SessionWindow { starts_at: at(0, 0), ends_at: at(8, 0) }
    }

    fn entry(
        status: S,
        arrived_at: Option<DateTime<Utc>>,
        left_at: Option<DateTime<Utc>>,
    ) -> AttendanceEntry {
        AttendanceEntry { status, arrived_at, left_at }
    }

    #[test]
    fn statuses_read_as_sheets_write_them() {
        assert_eq!(S::parse("遅刻"), Some(S::Late));
        assert_eq!(S::parse(" left_early "), Some(S::LeftEarly));
        assert_eq!(S::parse("〇"), Some(S::Present));
        assert_eq!(S::parse("×"), Some(S::Absent));
        assert_eq!(S::parse("休み"), None);
    }

    #[test]
    fn times_belong_to_their_status() {
        assert!(entry(S::Present, None, None).validate(session(), "").is_ok());
        assert!(entry(S::Present, Some(at(0, 5)), None).validate(session(), "").is_ok());
        assert!(entry(S::Late, Some(at(1, 30)), None).validate(session(), "").is_ok());
        assert!(entry(S::LeftEarly, None, Some(at(6, 0))).validate(session(), "").is_ok());
        let fields = |e: AttendanceEntry| -> Vec<String> {
            e.validate(session(), "entries[0].").unwrap_err().into_iter().map(|f| f.field).collect()
        };
        assert_eq!(fields(entry(S::Late, None, None)), vec!["entries[0].arrived_at"]);
        assert_eq!(fields(entry(S::Late, Some(at(0, 0)), None)), vec!["entries[0].arrived_at"]);
        assert_eq!(fields(entry(S::LeftEarly, None, Some(at(8, 0)))), vec!["entries[0].left_at"]);
        assert_eq!(
            fields(entry(S::Absent, Some(at(1, 0)), Some(at(2, 0)))),
            vec!["entries[0].arrived_at", "entries[0].left_at"]
        );
        assert_eq!(fields(entry(S::Present, Some(at(9, 0)), None)), vec!["entries[0].arrived_at"]);
    }

    #[test]
    fn only_a_received_notice_excuses() {
        assert_eq!(excused(S::Absent, true), Some(true));
        assert_eq!(excused(S::Late, false), Some(false));
        assert_eq!(excused(S::Present, true), None);
    }

    #[test]
    fn sessions_before_the_trainee_moved_up_do_not_count() {
        assert!(counts_for(at(0, 0), None));
        assert!(!counts_for(at(0, 0), Some(at(3, 0))));
        assert!(counts_for(at(3, 0), Some(at(3, 0))));
    }

    #[test]
    fn completion_follows_from_every_session_that_counts() {
        let all = CompletionRule::AllSessions;
        assert_eq!(completion(&[], all), Completion::Pending);
        assert_eq!(completion(&[Some(S::Present), None], all), Completion::Pending);
        assert_eq!(
            completion(&[Some(S::Present), Some(S::Present)], all),
            Completion::Completed { fully: true }
        );
        assert_eq!(
            completion(&[Some(S::Late), Some(S::LeftEarly)], all),
            Completion::Completed { fully: false }
        );
        assert_eq!(completion(&[Some(S::Present), Some(S::Absent)], all), Completion::NotCompleted);
    }

    #[test]
    fn a_course_may_complete_on_a_share_of_its_sessions_rounded_up() {
        let eighty = CompletionRule::MinShare { percent: 80 };
        assert_eq!(eighty.required(10), 8);
        assert_eq!(eighty.required(4), 4, "3.2 rounds up");
        assert_eq!(eighty.required(5), 4);
        assert_eq!(CompletionRule::MinShare { percent: 50 }.required(1), 1);
        let mut five = vec![Some(S::Present); 5];
        five[2] = Some(S::Absent);
        assert_eq!(completion(&five, eighty), Completion::Completed { fully: false });
        five[3] = Some(S::Absent);
        assert_eq!(completion(&five, eighty), Completion::NotCompleted);
        five[4] = None;
        assert_eq!(completion(&five, eighty), Completion::Pending, "decided once every session is recorded");
        assert_eq!(
            completion(&[Some(S::Absent)], CompletionRule::MinShare { percent: 1 }),
            Completion::NotCompleted,
            "at least one session attended"
        );
        assert!(CompletionRule::MinShare { percent: 0 }.validate().is_err());
        assert!(CompletionRule::MinShare { percent: 101 }.validate().is_err());
        assert_eq!(CompletionRule::default(), CompletionRule::AllSessions);
    }
}
