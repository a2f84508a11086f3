//! 研修報告書: the post-training report. The trainee writes it; the head of their department
//! approves it (所属部長の決裁) or returns it with a comment; the training office receives it. It
//! is due a set time after the course's last day (see [`crate::catalogue::ReportRule`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::approval::{Relation, Step};
use crate::FieldError;

/// Where a report stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// 作成中
    Draft,
    /// 提出: waiting for the department head.
    Submitted,
    /// 決裁済: approved by the department head, waiting for the training office.
    Approved,
    /// 差戻し: back with the trainee, with a comment.
    Returned,
    /// 受理: the training office has it.
    Received,
}

impl ReportState {
    /// The term HR's lists use (exports, messages).
    pub fn japanese(self) -> &'static str {
        match self {
            Self::Draft => "作成中",
            Self::Submitted => "提出",
            Self::Approved => "決裁済",
            Self::Returned => "差戻し",
            Self::Received => "受理",
        }
    }

    pub const ALL: [ReportState; 5] =
        [Self::Draft, Self::Submitted, Self::Approved, Self::Returned, Self::Received];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Approved => "approved",
            Self::Returned => "returned",
            Self::Received => "received",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The trainee may still change the text.
    pub fn editable(self) -> bool {
        matches!(self, Self::Draft | Self::Returned)
    }

    /// Still with the trainee: counts as not handed in for the deadline.
    pub fn with_trainee(self) -> bool {
        self.editable()
    }
}

/// What happens to a report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportEvent {
    Submit,
    Approve,
    /// Back to the trainee, with a comment.
    Return,
    Receive,
}

impl ReportEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Return => "return",
            Self::Receive => "receive",
        }
    }

    /// As in "a received report cannot be returned".
    pub fn past(self) -> &'static str {
        match self {
            Self::Submit => "submitted",
            Self::Approve => "approved",
            Self::Return => "returned",
            Self::Receive => "received",
        }
    }
}

/// The capacities in which someone acts on a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportActor {
    /// The trainee who wrote it.
    Trainee,
    /// Whoever approves for the trainee (所属部長の決裁): the head or acting head of their
    /// department, or for a department head the organisation's approver (never the trainee).
    Approver,
    /// 研修担当 (never for its own report).
    Hr,
}

impl ReportActor {
    /// The capacities of a caller, from their relation to the trainee.
    pub fn of(r: &Relation) -> Vec<ReportActor> {
        r.capacities(Step::Approval, Self::Trainee, Self::Approver, Self::Hr)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportTransitionError {
    #[error("a {} report cannot be {}", .state.as_str(), .event.past())]
    NotFromState { state: ReportState, event: ReportEvent },
    #[error("not allowed to {} this report", .event.as_str())]
    NotYours { event: ReportEvent },
}

/// The state after `event`, trying each capacity the caller has: not allowed in any capacity is
/// `NotYours` (403); allowed but not from this state is `NotFromState` (409).
pub fn report_transition(
    state: ReportState,
    event: ReportEvent,
    actors: &[ReportActor],
) -> Result<ReportState, ReportTransitionError> {
    use ReportActor as A;
    use ReportState as S;
    let allowed = |a: &ReportActor| match event {
        ReportEvent::Submit => *a == A::Trainee,
        ReportEvent::Approve => *a == A::Approver,
        ReportEvent::Return => matches!(a, A::Approver | A::Hr),
        ReportEvent::Receive => *a == A::Hr,
    };
    if !actors.iter().any(allowed) {
        return Err(ReportTransitionError::NotYours { event });
    }
    let next = match (state, event) {
        (S::Draft | S::Returned, ReportEvent::Submit) => S::Submitted,
        (S::Submitted, ReportEvent::Approve) => S::Approved,
        (S::Submitted | S::Approved, ReportEvent::Return) => S::Returned,
        (S::Approved, ReportEvent::Receive) => S::Received,
        _ => return Err(ReportTransitionError::NotFromState { state, event }),
    };
    Ok(next)
}

/// Whether a trainee may write the report of a course: the course requires one (`title` names it
/// in the refusal) and they attended it.
pub fn may_write(title: &str, required: bool, attended: bool) -> Result<(), crate::Words> {
    if !required {
        return Err(crate::Words::new(
            format!("「{title}」 needs no post-training report"),
            format!("「{title}」は研修報告書の提出が不要です"),
        ));
    }
    if !attended {
        return Err(crate::Words::fixed(
            "a report is written after attending the course; no attendance is recorded for this nomination",
            "研修報告書は受講後に作成します。この受講には出席の記録がありません",
        ));
    }
    Ok(())
}

pub const TEXT_MAX: usize = 4000;

/// What the trainee writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportText {
    /// 研修で学んだこと
    pub learned: String,
    /// 職場でどう活かすか
    pub application: String,
    /// 感想・意見
    pub comments: Option<String>,
}

impl ReportText {
    /// A draft may be incomplete; a report submitted says what was learned and how it will be
    /// used at work. Nothing is longer than 4,000 characters.
    pub fn validate(self, for_submission: bool) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        // The limit holds for the text as sent, padding included, as the API schema says.
        for (field, value) in [
            ("learned", Some(&self.learned)),
            ("application", Some(&self.application)),
            ("comments", self.comments.as_ref()),
        ] {
            if value.is_some_and(|v| v.chars().count() > TEXT_MAX) {
                errors.push(FieldError::length(field, format!("at most {TEXT_MAX} characters")));
            }
        }
        let trim = |s: String| s.trim().to_string();
        let text = Self {
            learned: trim(self.learned),
            application: trim(self.application),
            comments: self.comments.map(trim).filter(|c| !c.is_empty()),
        };
        for (field, value) in [
            ("learned", Some(&text.learned)),
            ("application", Some(&text.application)),
            ("comments", text.comments.as_ref()),
        ] {
            let Some(v) = value else { continue };
            if for_submission && field != "comments" && v.is_empty() {
                errors.push(FieldError::required(field, "is required to submit the report"));
            }
        }
        if errors.is_empty() {
            Ok(text)
        } else {
            Err(errors)
        }
    }
}

/// Days a report is overdue on `today`: only while it is still with the trainee (not submitted,
/// or returned) and the due date has passed. `None` when it is not overdue.
pub fn days_overdue(due: NaiveDate, state: ReportState, today: NaiveDate) -> Option<i64> {
    let days = (today - due).num_days();
    (state.with_trainee() && days > 0).then_some(days)
}

/// Whether a report first submitted on `submitted_on` (Japan date) was late: after its due day.
pub fn submitted_late(due: NaiveDate, submitted_on: NaiveDate) -> bool {
    submitted_on > due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::ReportRule;
    use ReportActor as A;
    use ReportEvent as E;
    use ReportState as S;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn due_dates_cross_month_ends_fiscal_year_ends_and_leap_days() {
        let week = ReportRule::DaysAfterEnd { days: 7 };
        let month = ReportRule::MonthsAfterEnd { months: 1 };
        // Across a month end and a calendar year end.
        assert_eq!(week.due(d(2023, 8, 28)), Some(d(2023, 9, 4)));
        assert_eq!(week.due(d(2023, 12, 28)), Some(d(2024, 1, 4)));
        // Across the fiscal year's end: a course ending in late March is due in April.
        assert_eq!(week.due(d(2024, 3, 27)), Some(d(2024, 4, 3)));
        assert_eq!(month.due(d(2024, 3, 31)), Some(d(2024, 4, 30)), "April has 30 days");
        // Leap days: into February 29, from it, and the same in a common year.
        assert_eq!(week.due(d(2024, 2, 22)), Some(d(2024, 2, 29)));
        assert_eq!(week.due(d(2024, 2, 29)), Some(d(2024, 3, 7)));
        assert_eq!(week.due(d(2023, 2, 22)), Some(d(2023, 3, 1)));
        assert_eq!(month.due(d(2024, 1, 31)), Some(d(2024, 2, 29)), "clamped to the leap day");
        assert_eq!(month.due(d(2023, 1, 31)), Some(d(2023, 2, 28)), "clamped to the month's end");
        assert_eq!(month.due(d(2024, 2, 29)), Some(d(2024, 3, 31)), "民法143条: the day before 1 April");
        assert_eq!(month.due(d(2023, 8, 31)), Some(d(2023, 9, 30)));
        // The Civil Code's reckoning (民法第140条・第143条): from the day after the end to the day
        // before the corresponding day of the next month, or that month's last day.
        assert_eq!(month.due(d(2023, 4, 30)), Some(d(2023, 5, 31)));
        assert_eq!(month.due(d(2023, 8, 15)), Some(d(2023, 9, 15)));
        assert_eq!(month.due(d(2023, 1, 30)), Some(d(2023, 2, 28)), "no 31 February: its last day");
        assert_eq!(month.due(d(2024, 1, 30)), Some(d(2024, 2, 29)));
        assert_eq!(month.due(d(2023, 12, 31)), Some(d(2024, 1, 31)), "across the calendar year");
        let three = ReportRule::MonthsAfterEnd { months: 3 };
        assert_eq!(three.due(d(2023, 11, 30)), Some(d(2024, 2, 29)), "1 Dec + 3 months - 1 day");
        assert_eq!(three.due(d(2023, 11, 29)), Some(d(2024, 2, 29)));
        // No report, no due date.
        assert_eq!(ReportRule::None.due(d(2023, 8, 31)), None);
    }

    #[test]
    fn overdue_counts_days_while_the_report_is_with_the_trainee() {
        let due = d(2024, 2, 29);
        assert_eq!(days_overdue(due, S::Draft, d(2024, 2, 29)), None, "due today is not overdue");
        assert_eq!(days_overdue(due, S::Draft, d(2024, 3, 1)), Some(1));
        assert_eq!(days_overdue(due, S::Returned, d(2024, 4, 1)), Some(32), "across the fiscal year's end");
        assert_eq!(days_overdue(due, S::Submitted, d(2024, 4, 1)), None);
        assert!(submitted_late(due, d(2024, 3, 1)) && !submitted_late(due, due));
    }

    #[test]
    fn the_department_head_approves_and_hr_receives() {
        let s = report_transition(S::Draft, E::Submit, &[A::Trainee]).unwrap();
        let s = report_transition(s, E::Approve, &[A::Approver]).unwrap();
        assert_eq!(report_transition(s, E::Receive, &[A::Hr]), Ok(S::Received));
        // Returned by the head or HR, corrected and submitted again.
        assert_eq!(report_transition(S::Submitted, E::Return, &[A::Approver]), Ok(S::Returned));
        assert_eq!(report_transition(S::Approved, E::Return, &[A::Hr]), Ok(S::Returned));
        assert_eq!(report_transition(S::Returned, E::Submit, &[A::Trainee]), Ok(S::Submitted));
    }

    #[test]
    fn nobody_approves_their_own_report_or_another_departments() {
        let me_as_head = ReportActor::of(&crate::approval::relation_for_tests(true, false, false));
        assert_eq!(me_as_head, vec![A::Trainee]);
        assert!(matches!(
            report_transition(S::Submitted, E::Approve, &me_as_head),
            Err(ReportTransitionError::NotYours { .. })
        ));
        // A department head of another department has no capacity at all.
        assert!(ReportActor::of(&crate::approval::relation_for_tests(false, false, false)).is_empty());
        assert!(matches!(
            report_transition(S::Submitted, E::Approve, &[A::Hr]),
            Err(ReportTransitionError::NotYours { .. })
        ));
        assert_eq!(
            report_transition(S::Submitted, E::Receive, &[A::Hr]),
            Err(ReportTransitionError::NotFromState { state: S::Submitted, event: E::Receive })
        );
        let e = report_transition(S::Received, E::Return, &[A::Hr]).unwrap_err();
        assert_eq!(e.to_string(), "a received report cannot be returned");
    }

    #[test]
    fn a_submitted_report_says_what_was_learned_and_how_it_is_used() {
        let draft = ReportText { learned: " ".into(), application: "".into(), comments: Some("  ".into()) };
        let ok = draft.clone().validate(false).unwrap();
        assert_eq!(ok.comments, None);
        let fields: Vec<String> = draft.validate(true).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["learned", "application"]);
        let long =
            ReportText {
                learned: "あ".repeat(TEXT_MAX + 1), application: "業務改善".into(), comments: None
            };
        assert_eq!(long.validate(false).unwrap_err()[0].field, "learned");
        let padded = ReportText {
            learned: format!("学び{}", " ".repeat(TEXT_MAX)),
            application: "業務改善".into(),
            comments: None,
        };
        assert_eq!(padded.validate(false).unwrap_err()[0].field, "learned", "the limit counts padding");
    }

    #[test]
    fn a_report_is_written_for_a_course_that_needs_one_once_attended() {
        assert!(may_write("接遇研修", true, true).is_ok());
        let no_report = may_write("接遇研修", false, true).unwrap_err();
        assert_eq!(no_report.en, "「接遇研修」 needs no post-training report");
        assert_eq!(no_report.ja, "「接遇研修」は研修報告書の提出が不要です");
        assert!(may_write("接遇研修", true, false).unwrap_err().en.contains("after attending"));
    }
}
