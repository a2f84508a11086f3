//! 就業体験学生受入れ (internship hosting): the year's programme, the students their universities
//! recommend, the sections that host them, and the removal of a student's personal data once it
//! is no longer needed.
//!
//! Students are outside people: the city keeps only what it needs to host them (name and
//! reading, university, faculty, year of study, a contact address) and erases that on request
//! after the programme, keeping the university, the host section and the dates for the record.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::FiscalYear;
use crate::employee::{parse_email, parse_kana};
use crate::text::{collapse_spaces, normalize};
use crate::FieldError;

/// At most this many students a year; the FY2023 plan hosts "a few".
pub const CAPACITY_MAX: i32 = 100;

/// 受入計画: when the programme runs and how many students the city takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgrammeTerms {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub capacity: i32,
}

impl ProgrammeTerms {
    /// The dates fall in the fiscal year, in order; the capacity is 1 to [`CAPACITY_MAX`].
    pub fn validate(self, fy: FiscalYear) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, day) in [("starts_on", self.starts_on), ("ends_on", self.ends_on)] {
            if !fy.contains(day) {
                errors.push(FieldError::range(
                    field,
                    format!("a day of fiscal year {} ({} to {})", fy.year(), fy.start(), fy.end()),
                ));
            }
        }
        if self.ends_on < self.starts_on {
            errors.push(FieldError::range("ends_on", "on or after starts_on"));
        }
        if !(1..=CAPACITY_MAX).contains(&self.capacity) {
            errors.push(FieldError::range("capacity", format!("1 to {CAPACITY_MAX} students")));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }

    /// The programme is over once its last day has passed (Japan date).
    pub fn ended(self, today: NaiveDate) -> bool {
        today > self.ends_on
    }
}

/// What is typed about a student, before checking.
#[derive(Debug, Clone, Default)]
pub struct StudentText {
    /// 氏名
    pub name: String,
    /// フリガナ
    pub name_kana: Option<String>,
    /// 大学名
    pub university: String,
    /// 学部・学科
    pub faculty: Option<String>,
    /// 学年
    pub year_of_study: Option<i32>,
    /// 連絡先メールアドレス
    pub email: Option<String>,
    /// 推薦日: when the university's recommendation arrived.
    pub recommended_on: NaiveDate,
    /// The days the student spends in the host section, if not the whole programme.
    pub hosted: Option<(NaiveDate, NaiveDate)>,
}

/// A student's checked details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentDetails {
    pub name: String,
    pub name_kana: Option<String>,
    pub university: String,
    pub faculty: Option<String>,
    pub year_of_study: Option<i32>,
    pub email: Option<String>,
    pub recommended_on: NaiveDate,
    pub hosted: Option<(NaiveDate, NaiveDate)>,
}

fn required(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let t = collapse_spaces(value);
    if t.is_empty() || t.chars().count() > max {
        errors.push(FieldError::length(field, format!("1 to {max} characters")));
    }
    t
}

fn optional(value: Option<&str>) -> Option<String> {
    value.map(collapse_spaces).filter(|v| !v.is_empty())
}

impl StudentText {
    /// Checks the fields; the host days must fall within the programme.
    pub fn validate(self, terms: ProgrammeTerms) -> Result<StudentDetails, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = required("name", &self.name, 100, &mut errors);
        let university = required("university", &normalize(&self.university), 100, &mut errors);
        let faculty = optional(self.faculty.as_deref());
        if faculty.as_ref().is_some_and(|f| f.chars().count() > 100) {
            errors.push(FieldError::length("faculty", "at most 100 characters"));
        }
        let name_kana = match optional(self.name_kana.as_deref()) {
            Some(k) => parse_kana(&k).map_err(|r| errors.push(FieldError::format("name_kana", r))).ok(),
            None => None,
        };
        let email = match optional(self.email.as_deref()) {
            Some(e) => parse_email(&e).map_err(|r| errors.push(FieldError::format("email", r))).ok(),
            None => None,
        };
        if self.year_of_study.is_some_and(|y| !(1..=6).contains(&y)) {
            errors.push(FieldError::range("year_of_study", "1 to 6"));
        }
        if self.recommended_on > terms.ends_on {
            errors.push(FieldError::range("recommended_on", "on or before the programme's last day"));
        }
        if let Some((from, to)) = self.hosted {
            if from < terms.starts_on || to > terms.ends_on {
                errors.push(FieldError::range(
                    "hosted_from",
                    format!(
                        "the host days fall within the programme ({} to {})",
                        terms.starts_on, terms.ends_on
                    ),
                ));
            }
            if to < from {
                errors.push(FieldError::range("hosted_to", "on or after hosted_from"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(StudentDetails {
            name,
            name_kana,
            university,
            faculty,
            year_of_study: self.year_of_study,
            email,
            recommended_on: self.recommended_on,
            hosted: self.hosted,
        })
    }
}

/// Where a student stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudentState {
    /// 推薦受付: the university's recommendation is on file.
    Recommended,
    /// 受入決定: the city hosts the student (counts against the capacity).
    Accepted,
    /// 見送り: the city does not host the student.
    Declined,
    /// 辞退: the student withdrew.
    Withdrawn,
}

impl StudentState {
    pub const ALL: [StudentState; 4] = [Self::Recommended, Self::Accepted, Self::Declined, Self::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recommended => "recommended",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// HR's decisions on a student.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudentEvent {
    /// 受入決定: needs a host section and a free place.
    Accept,
    /// 見送り
    Decline,
    /// 辞退: before or after acceptance.
    Withdraw,
}

impl StudentEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Withdraw => "withdraw",
        }
    }
}

/// The state `event` leads to, or why it cannot happen. Capacity and the host section are
/// checked by [`check_acceptance`].
pub fn student_transition(state: StudentState, event: StudentEvent) -> Result<StudentState, String> {
    use StudentEvent as E;
    use StudentState as S;
    match (state, event) {
        (S::Recommended, E::Accept) => Ok(S::Accepted),
        (S::Recommended, E::Decline) => Ok(S::Declined),
        (S::Recommended | S::Accepted, E::Withdraw) => Ok(S::Withdrawn),
        (s, e) => Err(format!("a student who is {} cannot be moved by {}", s.as_str(), e.as_str())),
    }
}

/// A student is accepted into a host section while places remain.
pub fn check_acceptance(has_host_section: bool, accepted: i32, capacity: i32) -> Result<(), String> {
    if !has_host_section {
        return Err("assign a host section before accepting the student".into());
    }
    if accepted >= capacity {
        return Err(format!("the programme is full: {accepted} of {capacity} places are taken"));
    }
    Ok(())
}

/// Whether a student's personal data may be erased today. Once the programme has ended, on
/// request; a student the city does not host (declined or withdrawn) at any time, since
/// nothing needs the data any more. Never twice.
pub fn check_erasure(
    state: StudentState,
    already_erased: bool,
    terms: ProgrammeTerms,
    today: NaiveDate,
) -> Result<(), String> {
    if already_erased {
        return Err("the student's personal data is already erased".into());
    }
    let hosted = matches!(state, StudentState::Recommended | StudentState::Accepted);
    if hosted && !terms.ended(today) {
        return Err(format!(
            "the programme runs until {}; a hosted student's data is erased after it ends",
            terms.ends_on
        ));
    }
    Ok(())
}

/// The fields an erasure removes (for the record of what was done).
pub const ERASED_FIELDS: [&str; 5] = ["name", "name_kana", "faculty", "year_of_study", "email"];

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn fy() -> FiscalYear {
        FiscalYear::new(2023).unwrap()
    }

    fn terms() -> ProgrammeTerms {
        ProgrammeTerms { starts_on: d(2023, 8, 7), ends_on: d(2023, 8, 18), capacity: 3 }
    }

    fn student() -> StudentText {
        StudentText {
            name: "  相模　花子 ".into(),
            name_kana: Some("さがみ はなこ".into()),
            university: "東海大学".into(),
            faculty: Some("政治経済学部".into()),
            year_of_study: Some(3),
            email: Some("Hanako@Example.AC.JP".into()),
            recommended_on: d(2023, 6, 30),
            hosted: Some((d(2023, 8, 14), d(2023, 8, 18))),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn terms_fall_in_the_fiscal_year_in_order() {
        assert!(terms().validate(fy()).is_ok());
        // 31 March 2024 is the last day of FY2023; 1 April 2024 is not in it.
        let late = ProgrammeTerms { ends_on: d(2024, 4, 1), ..terms() };
        assert_eq!(fields(&late.validate(fy()).unwrap_err()), ["ends_on"]);
        let edge = ProgrammeTerms { starts_on: d(2023, 4, 1), ends_on: d(2024, 3, 31), capacity: 1 };
        assert!(edge.validate(fy()).is_ok());
        let reversed = ProgrammeTerms { starts_on: d(2023, 8, 18), ends_on: d(2023, 8, 7), ..terms() };
        assert_eq!(fields(&reversed.validate(fy()).unwrap_err()), ["ends_on"]);
        for capacity in [0, CAPACITY_MAX + 1] {
            let t = ProgrammeTerms { capacity, ..terms() };
            assert_eq!(fields(&t.validate(fy()).unwrap_err()), ["capacity"]);
        }
    }

    #[test]
    fn ended_means_after_the_last_day() {
        assert!(!terms().ended(d(2023, 8, 18)));
        assert!(terms().ended(d(2023, 8, 19)));
    }

    #[test]
    fn a_student_is_normalised() {
        let s = student().validate(terms()).unwrap();
        assert_eq!(s.name, "相模 花子");
        assert_eq!(s.name_kana.as_deref(), Some("サガミ ハナコ"));
        assert_eq!(s.email.as_deref(), Some("hanako@example.ac.jp"));
        let bare = StudentText {
            name_kana: Some(" ".into()),
            faculty: None,
            year_of_study: None,
            email: Some("".into()),
            hosted: None,
            ..student()
        };
        let s = bare.validate(terms()).unwrap();
        assert_eq!((s.name_kana, s.email, s.hosted), (None, None, None));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = StudentText {
            name: " ".into(),
            name_kana: Some("Hanako".into()),
            university: "".into(),
            faculty: Some("学".repeat(101)),
            year_of_study: Some(7),
            email: Some("hanako".into()),
            recommended_on: d(2023, 8, 19),
            hosted: Some((d(2023, 8, 6), d(2023, 8, 5))),
        };
        assert_eq!(
            fields(&bad.validate(terms()).unwrap_err()),
            [
                "name",
                "university",
                "faculty",
                "name_kana",
                "email",
                "year_of_study",
                "recommended_on",
                "hosted_from",
                "hosted_to"
            ]
        );
    }

    #[test]
    fn transitions() {
        use StudentEvent as E;
        use StudentState as S;
        assert_eq!(student_transition(S::Recommended, E::Accept), Ok(S::Accepted));
        assert_eq!(student_transition(S::Recommended, E::Decline), Ok(S::Declined));
        assert_eq!(student_transition(S::Accepted, E::Withdraw), Ok(S::Withdrawn));
        assert!(student_transition(S::Accepted, E::Accept).is_err());
        assert!(student_transition(S::Accepted, E::Decline).is_err());
        assert!(student_transition(S::Declined, E::Withdraw).is_err());
        assert!(student_transition(S::Withdrawn, E::Accept).is_err());
        for s in StudentState::ALL {
            assert_eq!(StudentState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn acceptance_needs_a_host_and_a_place() {
        assert!(check_acceptance(true, 2, 3).is_ok());
        assert!(check_acceptance(true, 3, 3).unwrap_err().contains("3 of 3"));
        assert!(check_acceptance(false, 0, 3).unwrap_err().contains("host section"));
    }

    #[test]
    fn erasure_after_the_programme_or_for_those_not_hosted() {
        let during = d(2023, 8, 18);
        let after = d(2023, 8, 19);
        assert!(check_erasure(StudentState::Accepted, false, terms(), during).is_err());
        assert!(check_erasure(StudentState::Recommended, false, terms(), during).is_err());
        assert!(check_erasure(StudentState::Accepted, false, terms(), after).is_ok());
        assert!(check_erasure(StudentState::Declined, false, terms(), during).is_ok());
        assert!(check_erasure(StudentState::Withdrawn, false, terms(), d(2023, 7, 1)).is_ok());
        assert!(check_erasure(StudentState::Accepted, true, terms(), after).unwrap_err().contains("already"));
    }
}
