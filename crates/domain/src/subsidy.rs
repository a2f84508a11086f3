//! 自己啓発の助成: the correspondence-course subsidy (通信教育講座助成). Money is whole yen in
//! `i64` everywhere; the subsidy is half the tuition actually paid, rounded down, never more
//! than was approved, and every approval stays within the year's budget.

use serde::{Deserialize, Serialize};

use crate::catalogue::vocabulary;
use crate::text::normalize;
use crate::{FieldError, Words};

vocabulary! {
    /// 分野 of a correspondence course.
    StudyField {
        /// 語学
        Language = "language" / "語学",
        /// ＯＡ (office IT)
        OfficeIt = "office_it" / "ＯＡ" | "oa" | "パソコン",
        /// 資格
        Qualification = "qualification" / "資格",
        /// 実務
        Practical = "practical" / "実務",
        /// 教養
        General = "general" / "教養",
    }
}

/// The most a correspondence course may cost, as a guard against typing errors.
pub const TUITION_MAX: i64 = 10_000_000;

/// The subsidy for `paid` yen of tuition: half, rounded down to whole yen, and never more than
/// `approved` (half the catalogue tuition, fixed at approval).
pub fn subsidy_for(paid: i64, approved: i64) -> i64 {
    (paid.max(0) / 2).min(approved)
}

/// What approval commits: half the catalogue tuition, rounded down.
pub fn approved_amount(tuition: i64) -> i64 {
    tuition.max(0) / 2
}

/// A correspondence course as the catalogue file or API gives it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseText {
    /// 実施団体
    pub provider: String,
    /// 講座名
    pub title: String,
    pub field: String,
    /// 受講料 (yen)
    pub tuition: i64,
    /// 受講期間 (months)
    pub months: u32,
}

/// 通信教育講座: one course of the year's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorrespondenceCourse {
    pub provider: String,
    pub title: String,
    pub field: StudyField,
    pub tuition: i64,
    pub months: u32,
}

impl CourseText {
    /// Errors name the fields under `prefix`.
    pub fn validate(self, prefix: &str) -> Result<CorrespondenceCourse, Vec<FieldError>> {
        let mut errors = Vec::new();
        let field_name = |f: &str| format!("{prefix}{f}");
        let text = |name: &str, v: &str, max: usize, errors: &mut Vec<FieldError>| {
            let t = crate::text::collapse_spaces(v);
            if t.is_empty() || v.chars().count() > max {
                errors.push(FieldError::length(field_name(name), format!("1 to {max} characters")));
            }
            t
        };
        let provider = text("provider", &self.provider, 100, &mut errors);
        let title = text("title", &self.title, 200, &mut errors);
        let field = StudyField::parse(&self.field);
        if field.is_none() {
            errors.push(FieldError::unknown_value(
                field_name("field"),
                format!("unknown field '{}'; known: {}", self.field.trim(), StudyField::expected()),
            ));
        }
        if !(1..=TUITION_MAX).contains(&self.tuition) {
            errors
                .push(FieldError::range(field_name("tuition"), format!("whole yen from 1 to {TUITION_MAX}")));
        }
        if !(1..=36).contains(&self.months) {
            errors.push(FieldError::range(field_name("months"), "1 to 36 months"));
        }
        match field {
            Some(field) if errors.is_empty() => Ok(CorrespondenceCourse {
                provider,
                title,
                field,
                tuition: self.tuition,
                months: self.months,
            }),
            _ => Err(errors),
        }
    }
}

/// Where a subsidy application stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationState {
    /// 申請: waiting for the section head.
    Applied,
    /// 所属長確認: waiting for HR.
    Confirmed,
    /// 承認: half the tuition is committed against the budget.
    Approved,
    /// 修了報告: the employee sent proof of completion and the tuition paid.
    Reported,
    /// 確認済: HR checked the proof; the subsidy is fixed.
    Verified,
    /// 支払済
    Paid,
    /// 不承認 (section head or HR).
    Rejected,
    /// 取下げ (the employee, before approval).
    Withdrawn,
    /// 未修了: no subsidy; the commitment is released.
    NotCompleted,
}

impl ApplicationState {
    /// The term HR's lists use (exports, messages).
    pub fn japanese(self) -> &'static str {
        match self {
            Self::Applied => "申請",
            Self::Confirmed => "所属長確認",
            Self::Approved => "承認",
            Self::Reported => "修了報告",
            Self::Verified => "確認済",
            Self::Paid => "支払済",
            Self::Rejected => "不承認",
            Self::Withdrawn => "取下げ",
            Self::NotCompleted => "未修了",
        }
    }

    pub const ALL: [ApplicationState; 9] = [
        Self::Applied,
        Self::Confirmed,
        Self::Approved,
        Self::Reported,
        Self::Verified,
        Self::Paid,
        Self::Rejected,
        Self::Withdrawn,
        Self::NotCompleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Confirmed => "confirmed",
            Self::Approved => "approved",
            Self::Reported => "reported",
            Self::Verified => "verified",
            Self::Paid => "paid",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
            Self::NotCompleted => "not_completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Counts against the budget: approved and not yet settled, or settled.
    pub fn draws_on_budget(self) -> bool {
        matches!(self, Self::Approved | Self::Reported | Self::Verified | Self::Paid)
    }

    /// What becomes of the application of someone who left (退職): one still waiting for a
    /// decision is withdrawn, since nobody can act on it for them and it would wait in their
    /// head's and HR's lists for good. One approved or later stays: its commitment is settled by
    /// HR (未修了 releases it; a completion already reported is verified and paid as usual).
    pub fn lapsed_on_leaving(self) -> Option<Self> {
        match self {
            Self::Applied | Self::Confirmed => Some(Self::Withdrawn),
            Self::Approved
            | Self::Reported
            | Self::Verified
            | Self::Paid
            | Self::Rejected
            | Self::Withdrawn
            | Self::NotCompleted => None,
        }
    }
}

/// What happens to an application.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationEvent {
    Confirm,
    Approve,
    Reject,
    Withdraw,
    /// 修了報告: with the tuition paid and the proof on file.
    ReportCompletion,
    /// 未修了
    ReportNotCompleted,
    /// HR sends a completion report back (a wrong proof), with a comment.
    Return,
    Verify,
    MarkPaid,
}

impl ApplicationEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Withdraw => "withdraw",
            Self::ReportCompletion => "report_completion",
            Self::ReportNotCompleted => "report_not_completed",
            Self::Return => "return",
            Self::Verify => "verify",
            Self::MarkPaid => "mark_paid",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Self::Confirm => "confirmed",
            Self::Approve => "approved",
            Self::Reject => "rejected",
            Self::Withdraw => "withdrawn",
            Self::ReportCompletion => "reported as completed",
            Self::ReportNotCompleted => "reported as not completed",
            Self::Return => "returned",
            Self::Verify => "verified",
            Self::MarkPaid => "marked paid",
        }
    }
}

/// The capacities in which someone acts on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubsidyActor {
    /// The employee who applied.
    Applicant,
    /// Whoever confirms for the applicant: their section head or acting head, or for a section
    /// head their department's head (never the applicant).
    Confirmer,
    /// 研修担当 (never for its own application).
    Hr,
}

impl SubsidyActor {
    /// The capacities of a caller, from their relation to the applicant.
    pub fn of(r: &crate::approval::Relation) -> Vec<SubsidyActor> {
        r.capacities(crate::approval::Step::Confirmation, Self::Applicant, Self::Confirmer, Self::Hr)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubsidyTransitionError {
    #[error("an application that is {} cannot be {}", .state.as_str(), .event.past())]
    NotFromState { state: ApplicationState, event: ApplicationEvent },
    #[error("not allowed to {} this application", .event.as_str())]
    NotYours { event: ApplicationEvent },
}

/// The state after `event`: not allowed in any capacity is `NotYours` (403), allowed but not
/// from this state `NotFromState` (409). HR approving its own application is allowed only as HR
/// for another's: the caller passes no `Hr` capacity for their own application.
pub fn subsidy_transition(
    state: ApplicationState,
    event: ApplicationEvent,
    actors: &[SubsidyActor],
) -> Result<ApplicationState, SubsidyTransitionError> {
    use ApplicationEvent as E;
    use ApplicationState as S;
    use SubsidyActor as A;
    let allowed = |a: &SubsidyActor| match event {
        E::Confirm => *a == A::Confirmer,
        E::Reject => matches!(a, A::Confirmer | A::Hr),
        E::Approve | E::Return | E::Verify | E::MarkPaid => *a == A::Hr,
        E::Withdraw | E::ReportCompletion => *a == A::Applicant,
        E::ReportNotCompleted => matches!(a, A::Applicant | A::Hr),
    };
    if !actors.iter().any(allowed) {
        return Err(SubsidyTransitionError::NotYours { event });
    }
    // A section head rejects at their step only; HR at its own.
    let rejecting_as = |a: SubsidyActor| actors.contains(&a);
    let next = match (state, event) {
        (S::Applied, E::Confirm) => S::Confirmed,
        (S::Applied, E::Reject) if rejecting_as(A::Confirmer) => S::Rejected,
        (S::Confirmed, E::Reject) if rejecting_as(A::Hr) => S::Rejected,
        (S::Confirmed, E::Approve) => S::Approved,
        (S::Applied | S::Confirmed, E::Withdraw) => S::Withdrawn,
        (S::Approved, E::ReportCompletion) => S::Reported,
        (S::Approved | S::Reported, E::ReportNotCompleted) => S::NotCompleted,
        (S::Reported, E::Return) => S::Approved,
        (S::Reported, E::Verify) => S::Verified,
        (S::Verified, E::MarkPaid) => S::Paid,
        _ => return Err(SubsidyTransitionError::NotFromState { state, event }),
    };
    Ok(next)
}

/// A proof of completion as uploaded: its declared type and its bytes.
pub const PROOF_MAX_BYTES: usize = 5 * 1024 * 1024;

/// Check a proof of completion: a PDF, JPEG or PNG of at most 5 MiB whose content is what its
/// type says (the first bytes are checked, not only the header). Returns the type to store.
pub fn check_proof(content_type: &str, bytes: &[u8]) -> Result<&'static str, Words> {
    let declared = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (kind, magic): (&'static str, &[u8]) = match declared.as_str() {
        "application/pdf" => ("application/pdf", b"%PDF-"),
        "image/jpeg" | "image/jpg" => ("image/jpeg", b"\xFF\xD8\xFF"),
        "image/png" => ("image/png", b"\x89PNG\r\n\x1a\n"),
        other => {
            return Err(Words::new(
                format!("'{other}' is not accepted: send a PDF, JPEG or PNG"),
                format!("'{other}' は受け付けていません。PDF・JPEG・PNG のいずれかを送ってください"),
            ))
        }
    };
    if bytes.is_empty() {
        return Err(Words::fixed("the file is empty", "ファイルが空です"));
    }
    if bytes.len() > PROOF_MAX_BYTES {
        let mib = PROOF_MAX_BYTES / 1024 / 1024;
        return Err(Words::new(
            format!("the file is larger than {mib} MiB"),
            format!("ファイルが {mib} MiB を超えています"),
        ));
    }
    if !bytes.starts_with(magic) {
        return Err(Words::new(
            format!("the file is not a {kind} (its content does not match the type)"),
            format!("ファイルの中身が {kind} ではありません（種類と内容が一致しません）"),
        ));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationEvent as E;
    use ApplicationState as S;
    use SubsidyActor as A;

    #[test]
    fn a_leavers_application_waiting_for_a_decision_is_withdrawn_and_a_commitment_stays() {
        let lapsing: Vec<S> = S::ALL.into_iter().filter(|s| s.lapsed_on_leaving().is_some()).collect();
        assert_eq!(lapsing, vec![S::Applied, S::Confirmed]);
        assert_eq!(S::Confirmed.lapsed_on_leaving(), Some(S::Withdrawn));
        // Whatever draws on the budget stays for HR to settle.
        assert!(S::ALL.into_iter().filter(|s| s.draws_on_budget()).all(|s| s.lapsed_on_leaving().is_none()));
    }

    #[test]
    fn the_subsidy_is_half_the_tuition_paid_rounded_down_and_capped_at_approval() {
        assert_eq!(approved_amount(45_001), 22_500);
        assert_eq!(subsidy_for(45_001, 22_500), 22_500);
        assert_eq!(subsidy_for(39_999, 22_500), 19_999, "rounded down to whole yen");
        assert_eq!(subsidy_for(1, 22_500), 0);
        assert_eq!(subsidy_for(60_000, 22_500), 22_500, "never more than approved");
        assert_eq!(subsidy_for(-5, 100), 0);
    }

    #[test]
    fn a_course_is_checked_field_by_field() {
        let ok = CourseText {
            provider: "日本通信教育協会".into(),
            title: " 実用英語　入門 ".into(),
            field: "語学".into(),
            tuition: 38_500,
            months: 6,
        }
        .validate("")
        .unwrap();
        assert_eq!((ok.title.as_str(), ok.field), ("実用英語 入門", StudyField::Language));
        assert_eq!(StudyField::parse("ＯＡ"), Some(StudyField::OfficeIt));
        let bad = CourseText {
            provider: "".into(),
            title: "x".into(),
            field: "料理".into(),
            tuition: 0,
            months: 40,
        }
        .validate("courses[2].")
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["courses[2].provider", "courses[2].field", "courses[2].tuition", "courses[2].months"]
        );
    }

    #[test]
    fn an_application_goes_from_the_section_head_through_hr_to_payment() {
        let s = subsidy_transition(S::Applied, E::Confirm, &[A::Confirmer]).unwrap();
        let s = subsidy_transition(s, E::Approve, &[A::Hr]).unwrap();
        let s = subsidy_transition(s, E::ReportCompletion, &[A::Applicant]).unwrap();
        assert_eq!(subsidy_transition(s, E::Return, &[A::Hr]), Ok(S::Approved));
        let s = subsidy_transition(s, E::Verify, &[A::Hr]).unwrap();
        assert_eq!(subsidy_transition(s, E::MarkPaid, &[A::Hr]), Ok(S::Paid));
        assert!(S::Approved.draws_on_budget() && !S::NotCompleted.draws_on_budget());
    }

    #[test]
    fn nobody_confirms_or_approves_their_own_and_steps_are_not_skipped() {
        let me_as_head = SubsidyActor::of(&crate::approval::relation_for_tests(true, false, false));
        assert_eq!(me_as_head, vec![A::Applicant]);
        assert!(matches!(
            subsidy_transition(S::Applied, E::Confirm, &me_as_head),
            Err(SubsidyTransitionError::NotYours { .. })
        ));
        assert!(matches!(
            subsidy_transition(S::Confirmed, E::Approve, &[A::Confirmer]),
            Err(SubsidyTransitionError::NotYours { .. })
        ));
        let e = subsidy_transition(S::Applied, E::Approve, &[A::Hr]).unwrap_err();
        assert_eq!(e.to_string(), "an application that is applied cannot be approved");
        assert!(
            subsidy_transition(S::Confirmed, E::Reject, &[A::Confirmer]).is_err(),
            "past the head's step"
        );
        assert_eq!(subsidy_transition(S::Confirmed, E::Reject, &[A::Hr]), Ok(S::Rejected));
        assert!(subsidy_transition(S::Approved, E::Withdraw, &[A::Applicant]).is_err());
        assert_eq!(
            subsidy_transition(S::Approved, E::ReportNotCompleted, &[A::Applicant]),
            Ok(S::NotCompleted)
        );
    }

    #[test]
    fn a_proof_is_a_pdf_jpeg_or_png_of_at_most_five_mebibytes_and_is_what_it_says() {
        assert_eq!(check_proof("application/pdf", b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert_eq!(check_proof("image/png", b"\x89PNG\r\n\x1a\n...."), Ok("image/png"));
        assert_eq!(check_proof("image/jpeg; charset=binary", b"\xFF\xD8\xFF\xE0"), Ok("image/jpeg"));
        assert!(check_proof("application/zip", b"PK\x03\x04").unwrap_err().en.contains("not accepted"));
        assert!(check_proof("application/pdf", b"MZ\x90\x00").unwrap_err().en.contains("does not match"));
        assert!(check_proof("application/pdf", b"").unwrap_err().en.contains("empty"));
        let big = [b"%PDF-".as_slice(), &vec![0u8; PROOF_MAX_BYTES]].concat();
        assert!(check_proof("application/pdf", &big).unwrap_err().en.contains("larger"));
    }
}

/// Hex SHA-256 of a document, recorded in the audit log instead of its content.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The budget of a programme and what is drawn on it, in yen.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BudgetUse {
    pub budget_yen: i64,
    /// Approved, not yet verified: half the catalogue tuition each.
    pub committed_yen: i64,
    /// Verified and fixed, not yet paid.
    pub fixed_yen: i64,
    pub paid_yen: i64,
    /// What further approvals may still draw.
    pub remaining_yen: i64,
}

impl BudgetUse {
    /// From the budget and each application's state with its approved and fixed amounts.
    pub fn of(budget_yen: i64, applications: &[(ApplicationState, Option<i64>, Option<i64>)]) -> Self {
        let mut u = BudgetUse { budget_yen, ..Self::default() };
        for (state, approved, fixed) in applications {
            match state {
                ApplicationState::Approved | ApplicationState::Reported => {
                    u.committed_yen += approved.unwrap_or(0)
                }
                ApplicationState::Verified => u.fixed_yen += fixed.unwrap_or(0),
                ApplicationState::Paid => u.paid_yen += fixed.unwrap_or(0),
                _ => {}
            }
        }
        u.remaining_yen = budget_yen - u.committed_yen - u.fixed_yen - u.paid_yen;
        u
    }

    /// Whether approving `amount` more stays within the budget.
    pub fn allows(&self, amount: i64) -> bool {
        amount <= self.remaining_yen
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;
    use ApplicationState as S;

    #[test]
    fn the_budget_counts_commitments_fixed_and_paid_amounts() {
        let u = BudgetUse::of(
            100_000,
            &[
                (S::Approved, Some(20_000), None),
                (S::Reported, Some(15_000), None),
                (S::Verified, Some(20_000), Some(12_345)),
                (S::Paid, Some(10_000), Some(9_999)),
                (S::NotCompleted, Some(30_000), None),
                (S::Applied, None, None),
            ],
        );
        assert_eq!((u.committed_yen, u.fixed_yen, u.paid_yen), (35_000, 12_345, 9_999));
        assert_eq!(u.remaining_yen, 42_656);
        assert!(u.allows(42_656) && !u.allows(42_657));
        assert_eq!(digest(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

/// The self-development programmes that draw on a yearly budget.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Programme {
    /// 通信教育講座助成
    Correspondence,
    /// 自主研究グループ助成
    StudyGroup,
}

impl Programme {
    /// The term HR's lists use (exports, messages).
    pub fn japanese(self) -> &'static str {
        match self {
            Self::Correspondence => "通信教育講座助成",
            Self::StudyGroup => "自主研究グループ助成",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Correspondence => "correspondence",
            Self::StudyGroup => "study_group",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 自主研究グループ助成

/// The most one group is granted in a fiscal year.
pub const GROUP_GRANT_MAX: i64 = 30_000;

/// Where a study group's grant stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupState {
    /// 登録: the group exists; no plan yet.
    Registered,
    /// 活動計画書提出: waiting for HR.
    Planned,
    /// 交付決定: the grant is committed against the budget.
    Approved,
    /// 決算書・活動報告書提出: waiting for HR to settle.
    Reported,
    /// 精算済: the grant is settled against the spending.
    Settled,
    /// 不承認
    Rejected,
}

impl GroupState {
    /// The term HR's lists use (exports, messages).
    pub fn japanese(self) -> &'static str {
        match self {
            Self::Registered => "登録",
            Self::Planned => "活動計画書提出",
            Self::Approved => "交付決定",
            Self::Reported => "決算書・活動報告書提出",
            Self::Settled => "精算済",
            Self::Rejected => "不承認",
        }
    }

    pub const ALL: [GroupState; 6] =
        [Self::Registered, Self::Planned, Self::Approved, Self::Reported, Self::Settled, Self::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Planned => "planned",
            Self::Approved => "approved",
            Self::Reported => "reported",
            Self::Settled => "settled",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Still under way: paperwork to file and members who may change. A settled or refused
    /// group is a closed record.
    pub fn open(self) -> bool {
        match self {
            Self::Registered | Self::Planned | Self::Approved | Self::Reported => true,
            Self::Settled | Self::Rejected => false,
        }
    }
}

/// The grant HR may approve for a plan: at most ¥30,000, at most what the plan asks, and
/// within what the budget still holds. Errors say which limit is broken.
pub fn check_grant(grant: i64, planned: i64, remaining: i64) -> Result<i64, String> {
    if grant <= 0 {
        return Err("a grant is at least ¥1".into());
    }
    if grant > GROUP_GRANT_MAX {
        return Err(format!("a group is granted at most ¥{GROUP_GRANT_MAX} a year"));
    }
    if grant > planned {
        return Err(format!("the plan asks for ¥{planned}; the grant cannot be more"));
    }
    if grant > remaining {
        return Err(format!("the budget has ¥{remaining} left"));
    }
    Ok(grant)
}

/// 精算: the grant as settled against the actual spending, never more than approved.
pub fn settle_grant(approved: i64, spent: i64) -> i64 {
    spent.clamp(0, approved)
}

/// Who is told that a study group's representative changed (代表者の交代), and what: the new
/// representative, who files from now on; and the one replaced, unless they handed it over
/// themselves or have left (a leaver is told nothing more). Nobody when the representative stays
/// (only the other members changed).
pub fn told_of_handover(
    old: uuid::Uuid,
    new: uuid::Uuid,
    by_old: bool,
    old_on_roster: bool,
) -> Vec<(uuid::Uuid, crate::notice::GroupDecision)> {
    use crate::notice::GroupDecision::{HandedOver, Replaced};
    if old == new {
        return Vec::new();
    }
    let mut told = vec![(new, HandedOver)];
    if !by_old && old_on_roster {
        told.push((old, Replaced));
    }
    told
}

#[cfg(test)]
mod group_tests {
    use super::*;

    #[test]
    fn a_settled_or_refused_group_is_closed() {
        let open: Vec<GroupState> = GroupState::ALL.into_iter().filter(|s| s.open()).collect();
        assert_eq!(
            open,
            vec![GroupState::Registered, GroupState::Planned, GroupState::Approved, GroupState::Reported]
        );
    }

    #[test]
    fn a_grant_is_capped_at_thirty_thousand_the_plan_and_the_budget() {
        assert_eq!(check_grant(30_000, 45_000, 100_000), Ok(30_000));
        assert!(check_grant(30_001, 45_000, 100_000).unwrap_err().contains("30000"));
        assert!(check_grant(20_000, 15_000, 100_000).unwrap_err().contains("plan"));
        assert!(check_grant(20_000, 25_000, 19_999).unwrap_err().contains("19999"));
        assert!(check_grant(0, 25_000, 100_000).is_err());
    }

    #[test]
    fn a_handover_tells_the_new_representative_and_the_one_replaced_who_did_not_make_it() {
        use crate::notice::GroupDecision::{HandedOver, Replaced};
        let (old, new) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        assert_eq!(told_of_handover(old, new, false, true), vec![(new, HandedOver), (old, Replaced)]);
        assert_eq!(told_of_handover(old, new, true, true), vec![(new, HandedOver)], "they handed it over");
        assert_eq!(told_of_handover(old, new, false, false), vec![(new, HandedOver)], "they have left");
        assert!(told_of_handover(old, old, false, true).is_empty(), "members alone changed");
    }

    #[test]
    fn the_grant_is_settled_against_spending_never_more_than_approved() {
        assert_eq!(settle_grant(30_000, 27_480), 27_480);
        assert_eq!(settle_grant(30_000, 41_000), 30_000);
        assert_eq!(settle_grant(30_000, -1), 0);
    }
}
