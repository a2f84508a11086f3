//! Audience rules (対象・選考): who a course is for and by which route they are chosen, as data
//! that is evaluated against an employee and a fiscal year.
//!
//! A course holds several rules, each with its own route (情報セキュリティ研修: new hires by
//! designation, others by application). A rule matches when every one of its conditions holds.
//! Years count fiscal years: "hired 1 year ago" in FY2023 means hired in FY2022.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::FiscalYear;
use crate::employee::{parse_tag, EmploymentType};
use crate::org::GradeLadder;
use crate::text::normalize;
use crate::{FieldCode, FieldError};

/// 選考方法: how trainees reach a course.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// 指名制: HR designates everyone the rule matches.
    Designation,
    /// 推薦制: section heads recommend staff of their own section.
    Recommendation,
    /// 公募制: employees apply.
    Application,
}

impl Route {
    pub const ALL: [Route; 3] = [Route::Designation, Route::Recommendation, Route::Application];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Designation => "designation",
            Route::Recommendation => "recommendation",
            Route::Application => "application",
        }
    }

    pub fn japanese(self) -> &'static str {
        match self {
            Route::Designation => "指名制",
            Route::Recommendation => "推薦制",
            Route::Application => "公募制",
        }
    }

    /// The API code or the Japanese term (指名制, 指名, 推薦, 公募 …).
    pub fn parse(input: &str) -> Option<Route> {
        let s = normalize(input).to_lowercase();
        let s = s.trim_end_matches('制');
        match s {
            "designation" | "指名" => Some(Route::Designation),
            "recommendation" | "推薦" => Some(Route::Recommendation),
            "application" | "公募" => Some(Route::Application),
            _ => None,
        }
    }
}

/// One condition of a rule.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// 全職員
    AllStaff {},
    /// 新採用職員: hired in the fiscal year.
    NewHires {},
    /// 採用後N年を経過した者: hired N fiscal years before.
    YearsAfterHire { years: u8 },
    /// ○○級昇格者: promoted to the grade in the fiscal year.
    NewlyPromoted { grade: String },
    /// ○○級昇格後N年を経過した者: promoted to the grade N fiscal years before.
    YearsAfterPromotion { grade: String, years: u8 },
    /// ○○級: holds exactly this grade.
    Grade { grade: String },
    /// ○○級以上: holds this grade or a higher one.
    GradeAtLeast { grade: String },
    /// 課長職 …: holds the post.
    Post { post: String },
    /// 新任の課長職: holds the post and was appointed to it in the fiscal year.
    NewlyAppointedToPost { post: String },
    /// 所属長: heads a section.
    SectionHead {},
    /// 評価者, 特定個人情報取扱者, 防災担当 …
    Tag { tag: String },
    /// 再任用職員 …
    EmploymentType { employment_type: EmploymentType },
    /// 退職予定者: planned retirement in the fiscal year.
    RetiringThisYear {},
    /// 自主研究グループ員: members of a study group registered for the fiscal year.
    StudyGroupMembers {},
    /// People who are not on the roster (大学生 …): matches no employee.
    OutsidePeople { description: String },
}

/// What evaluating a rule needs to know about one employee.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub active: bool,
    pub grade: &'a str,
    pub post: Option<&'a str>,
    pub post_since: Option<NaiveDate>,
    pub hire_date: NaiveDate,
    pub promotions: &'a BTreeMap<String, NaiveDate>,
    pub employment_type: EmploymentType,
    pub retirement_date: Option<NaiveDate>,
    pub tags: &'a BTreeSet<String>,
    pub heads_a_section: bool,
    /// Fiscal years in which the employee belongs to a study group (自主研究グループ).
    pub study_group_years: &'a BTreeSet<i32>,
}

impl Candidate<'_> {
    /// Holds `post`, among the posts stored `;`-separated (課長職;所属長).
    pub fn holds_post(&self, post: &str) -> bool {
        self.post.is_some_and(|p| p.split(';').any(|held| held == post))
    }
}

impl Condition {
    fn holds(&self, c: &Candidate<'_>, fy: FiscalYear, ladder: &GradeLadder) -> bool {
        let years_since = |date: NaiveDate, years: u8| fy.years_since(date) == i32::from(years);
        match self {
            Condition::AllStaff {} => true,
            Condition::NewHires {} => fy.contains(c.hire_date),
            Condition::YearsAfterHire { years } => years_since(c.hire_date, *years),
            Condition::NewlyPromoted { grade } => c.promotions.get(grade).is_some_and(|d| fy.contains(*d)),
            Condition::YearsAfterPromotion { grade, years } => {
                c.promotions.get(grade).is_some_and(|d| years_since(*d, *years))
            }
            Condition::Grade { grade } => c.grade == grade,
            Condition::GradeAtLeast { grade } => match (ladder.rank(c.grade), ladder.rank(grade)) {
                (Some(held), Some(min)) => held >= min,
                _ => false,
            },
            Condition::Post { post } => c.holds_post(post),
            Condition::NewlyAppointedToPost { post } => {
                c.holds_post(post) && c.post_since.is_some_and(|d| fy.contains(d))
            }
            Condition::SectionHead {} => c.heads_a_section,
            Condition::Tag { tag } => c.tags.contains(tag),
            Condition::EmploymentType { employment_type } => c.employment_type == *employment_type,
            Condition::RetiringThisYear {} => c.retirement_date.is_some_and(|d| fy.contains(d)),
            Condition::StudyGroupMembers {} => c.study_group_years.contains(&fy.year()),
            Condition::OutsidePeople { .. } => false,
        }
    }

    fn grade_mut(&mut self) -> Option<&mut String> {
        match self {
            Condition::NewlyPromoted { grade }
            | Condition::YearsAfterPromotion { grade, .. }
            | Condition::Grade { grade }
            | Condition::GradeAtLeast { grade } => Some(grade),
            _ => None,
        }
    }

    /// The Japanese wording HR uses for the condition.
    pub fn describe(&self) -> String {
        match self {
            Condition::AllStaff {} => "全職員".into(),
            Condition::NewHires {} => "新採用職員".into(),
            Condition::YearsAfterHire { years } => format!("採用後{years}年を経過した者"),
            Condition::NewlyPromoted { grade } => format!("{grade}級昇格者"),
            Condition::YearsAfterPromotion { grade, years } => {
                format!("{grade}級昇格後{years}年を経過した者")
            }
            Condition::Grade { grade } => format!("{grade}級"),
            Condition::GradeAtLeast { grade } => format!("{grade}級以上"),
            Condition::Post { post } => post.clone(),
            Condition::NewlyAppointedToPost { post } => format!("新任の{post}"),
            Condition::SectionHead {} => "所属長".into(),
            Condition::Tag { tag } => tag.clone(),
            Condition::EmploymentType { employment_type } => match employment_type {
                EmploymentType::Regular => "正規職員".into(),
                EmploymentType::Reemployed => "再任用職員".into(),
                EmploymentType::FixedTerm => "会計年度任用職員".into(),
            },
            Condition::RetiringThisYear {} => "退職予定者".into(),
            Condition::StudyGroupMembers {} => "自主研究グループ員".into(),
            Condition::OutsidePeople { description } => description.clone(),
        }
    }
}

/// One audience rule: a route and the conditions that must all hold.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceRule {
    pub route: Route,
    pub conditions: Vec<Condition>,
}

/// Longest a rule may be, and most rules a course may hold.
pub const MAX_CONDITIONS: usize = 8;
pub const MAX_RULES: usize = 12;
/// Years after hire or promotion a rule may name.
pub const MAX_YEARS: u8 = 45;

impl AudienceRule {
    /// Does the rule match this employee in this fiscal year? Inactive staff match nothing.
    pub fn matches(&self, c: &Candidate<'_>, fy: FiscalYear, ladder: &GradeLadder) -> bool {
        c.active && self.conditions.iter().all(|cond| cond.holds(c, fy, ladder))
    }

    /// 新採用職員・指名制
    pub fn describe(&self) -> String {
        let who: Vec<String> = self.conditions.iter().map(Condition::describe).collect();
        format!("{}・{}", who.join("かつ"), self.route.japanese())
    }

    /// Check a rule and bring it to its canonical form (grade names as the ladder spells them,
    /// tags and posts NFKC). `field` names the rule in errors (`rules[2]`). A rule that can
    /// never match anyone is refused: an unknown grade, contradicting conditions, a promotion
    /// to the lowest grade (held from hire, never reached by promotion).
    pub fn validate(mut self, field: &str, ladder: &GradeLadder) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |code: FieldCode, reason: String| {
            errors.push(FieldError::new(format!("{field}.conditions"), code, reason))
        };
        if self.conditions.is_empty() || self.conditions.len() > MAX_CONDITIONS {
            err(FieldCode::Length, format!("a rule holds 1 to {MAX_CONDITIONS} conditions"));
        }
        let lowest = ladder.grades().first().map(|g| g.name.clone());
        for cond in &mut self.conditions {
            if let Some(grade) = cond.grade_mut() {
                match ladder.resolve(grade) {
                    Some(canonical) => *grade = canonical.to_string(),
                    None => err(
                        FieldCode::UnknownValue,
                        format!(
                            "unknown grade '{}'; known: {}",
                            normalize(grade),
                            ladder.grades().iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                }
            }
            match cond {
                Condition::YearsAfterHire { years } | Condition::YearsAfterPromotion { years, .. }
                    if *years == 0 || *years > MAX_YEARS =>
                {
                    err(FieldCode::Range, format!("years must be 1 to {MAX_YEARS}"))
                }
                Condition::NewlyPromoted { grade } | Condition::YearsAfterPromotion { grade, .. }
                    if Some(&*grade) == lowest.as_ref() =>
                {
                    err(
                        FieldCode::Conflict,
                        format!("nobody is promoted to the lowest grade {grade}; it is held from hire"),
                    )
                }
                Condition::Post { post } | Condition::NewlyAppointedToPost { post } => {
                    *post = normalize(post);
                    if post.is_empty() || post.chars().count() > 40 {
                        err(FieldCode::Length, "a post must be 1 to 40 characters".into());
                    }
                }
                Condition::Tag { tag } => match parse_tag(tag) {
                    Ok(Some(t)) => *tag = t,
                    Ok(None) => err(FieldCode::Required, "a tag must not be empty".into()),
                    Err(e) => err(FieldCode::Format, e),
                },
                Condition::OutsidePeople { description } => {
                    *description = normalize(description);
                    if description.is_empty() || description.chars().count() > 100 {
                        err(
                            FieldCode::Length,
                            "the description of outside people must be 1 to 100 characters".into(),
                        );
                    }
                }
                _ => {}
            }
        }
        if errors.is_empty() {
            if let Some(reason) = never_matches(&self.conditions, ladder) {
                errors.push(FieldError::conflict(
                    format!("{field}.conditions"),
                    format!("the rule can never match anyone: {reason}"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// Why a set of (individually valid, canonical) conditions can never hold together.
fn never_matches(conditions: &[Condition], ladder: &GradeLadder) -> Option<String> {
    let mut seen = BTreeSet::new();
    for c in conditions {
        if !seen.insert(c.describe()) {
            return Some(format!("'{}' appears twice", c.describe()));
        }
    }
    let alone = |c: &Condition| matches!(c, Condition::AllStaff {} | Condition::OutsidePeople { .. });
    if conditions.len() > 1 {
        if let Some(c) = conditions.iter().find(|c| alone(c)) {
            return Some(format!("'{}' cannot be combined with other conditions", c.describe()));
        }
    }
    let rank = |g: &str| ladder.rank(g).unwrap_or(0);
    // The grade held now: exact, or the range [at least, top].
    let exact: Vec<&str> = conditions
        .iter()
        .filter_map(|c| match c {
            Condition::Grade { grade } => Some(grade.as_str()),
            _ => None,
        })
        .collect();
    if exact.len() > 1 {
        return Some(format!("nobody holds both grades {} and {}", exact[0], exact[1]));
    }
    let min_rank = conditions
        .iter()
        .filter_map(|c| match c {
            Condition::GradeAtLeast { grade } => Some(rank(grade)),
            _ => None,
        })
        .max();
    if let (Some(held), Some(min)) = (exact.first(), min_rank) {
        if rank(held) < min {
            return Some(format!("grade {held} is below the minimum grade the rule asks for"));
        }
    }
    // Promotions are never above the grade held now (the roster refuses them).
    for c in conditions {
        if let (
            Condition::NewlyPromoted { grade } | Condition::YearsAfterPromotion { grade, .. },
            Some(held),
        ) = (c, exact.first())
        {
            if rank(grade) > rank(held) {
                return Some(format!("someone promoted to {grade} does not hold the lower grade {held}"));
            }
        }
    }
    // One date per event: hire, each promotion, the post appointment.
    let mut hire = Vec::new();
    let mut promotion: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for c in conditions {
        match c {
            Condition::NewHires {} => hire.push(0),
            Condition::YearsAfterHire { years } => hire.push(i32::from(*years)),
            Condition::NewlyPromoted { grade } => promotion.entry(grade).or_default().push(0),
            Condition::YearsAfterPromotion { grade, years } => {
                promotion.entry(grade).or_default().push(i32::from(*years))
            }
            _ => {}
        }
    }
    if hire.len() > 1 {
        return Some("an employee has one hire date".into());
    }
    if promotion.values().any(|v| v.len() > 1) {
        return Some("an employee has one promotion date per grade".into());
    }
    // Nobody is promoted before being hired.
    if let Some(h) = hire.first() {
        if let Some((grade, years)) = promotion.iter().find(|(_, v)| v[0] > *h) {
            return Some(format!(
                "promotion to {grade} {} years ago is before the hire {h} years ago",
                years[0]
            ));
        }
    }
    let types: BTreeSet<_> = conditions
        .iter()
        .filter_map(|c| match c {
            Condition::EmploymentType { employment_type } => Some(*employment_type),
            _ => None,
        })
        .collect();
    if types.len() > 1 {
        return Some("an employee has one employment type".into());
    }
    // Posts are not exclusive: a 課長 may be 課長職 and 所属長 at once.
    None
}

/// Check every rule of a course: at most [`MAX_RULES`], each valid, none twice.
pub fn validate_rules(
    rules: Vec<AudienceRule>,
    ladder: &GradeLadder,
) -> Result<Vec<AudienceRule>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if rules.len() > MAX_RULES {
        errors.push(FieldError::length("rules", format!("a course holds at most {MAX_RULES} rules")));
    }
    let mut clean: Vec<AudienceRule> = Vec::with_capacity(rules.len());
    for (i, rule) in rules.into_iter().enumerate() {
        match rule.validate(&format!("rules[{i}]"), ladder) {
            Ok(r) => {
                if clean.iter().any(|c| c.route == r.route && c.conditions == r.conditions) {
                    errors.push(FieldError::duplicate(format!("rules[{i}]"), "the same rule appears twice"));
                }
                clean.push(r);
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(clean)
    } else {
        Err(errors)
    }
}

/// The routes of a course's rules, each once, in route order.
pub fn routes(rules: &[AudienceRule]) -> Vec<Route> {
    rules.iter().map(|r| r.route).collect::<BTreeSet<_>>().into_iter().collect()
}

/// The routes by which an employee may reach a course: those of the rules that match them.
pub fn matching_routes(
    rules: &[AudienceRule],
    c: &Candidate<'_>,
    fy: FiscalYear,
    ladder: &GradeLadder,
) -> Vec<Route> {
    rules
        .iter()
        .filter(|r| r.matches(c, fy, ladder))
        .map(|r| r.route)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The one-line form of rules used in CSV files:
/// `designation: years_after_promotion(主任, 3); application: all_staff`.
/// Rules are separated by `;` or line breaks, conditions by `&`, and the route may be written in
/// Japanese (指名制: new_hires).
pub fn format_rules(rules: &[AudienceRule]) -> String {
    rules
        .iter()
        .map(|r| {
            let conditions: Vec<String> = r.conditions.iter().map(format_condition).collect();
            format!("{}: {}", r.route.as_str(), conditions.join(" & "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn format_condition(c: &Condition) -> String {
    let call = |kind: &str, args: &[&str]| format!("{kind}({})", args.join(", "));
    match c {
        Condition::AllStaff {} => "all_staff".into(),
        Condition::NewHires {} => "new_hires".into(),
        Condition::YearsAfterHire { years } => call("years_after_hire", &[&years.to_string()]),
        Condition::NewlyPromoted { grade } => call("newly_promoted", &[grade.as_str()]),
        Condition::YearsAfterPromotion { grade, years } => {
            call("years_after_promotion", &[grade.as_str(), &years.to_string()])
        }
        Condition::Grade { grade } => call("grade", &[grade.as_str()]),
        Condition::GradeAtLeast { grade } => call("grade_at_least", &[grade.as_str()]),
        Condition::Post { post } => call("post", &[post.as_str()]),
        Condition::NewlyAppointedToPost { post } => call("newly_appointed_to_post", &[post.as_str()]),
        Condition::SectionHead {} => "section_head".into(),
        Condition::Tag { tag } => call("tag", &[tag.as_str()]),
        Condition::EmploymentType { employment_type } => call("employment_type", &[employment_type.as_str()]),
        Condition::RetiringThisYear {} => "retiring_this_year".into(),
        Condition::StudyGroupMembers {} => "study_group_members".into(),
        Condition::OutsidePeople { description } => call("outside_people", &[description.as_str()]),
    }
}

/// Read the one-line form written by [`format_rules`]; the rules still need [`validate_rules`].
pub fn parse_rules(text: &str) -> Result<Vec<AudienceRule>, String> {
    let mut rules = Vec::new();
    // Split before normalising, which would fold line breaks into spaces.
    let parts = text.split([';', '\n', '\r', '；']).map(crate::text::normalize).filter(|p| !p.is_empty());
    for part in parts {
        let part = part.as_str();
        let (route, conditions) = part.split_once(':').ok_or_else(|| {
            format!("'{part}': write a route, a colon and conditions, like 'designation: new_hires'")
        })?;
        let route = Route::parse(route).ok_or_else(|| {
            format!(
                "unknown route '{}'; use designation (指名), recommendation (推薦) or application (公募)",
                route.trim()
            )
        })?;
        let conditions =
            conditions.split('&').map(|c| parse_condition(c.trim())).collect::<Result<Vec<_>, _>>()?;
        rules.push(AudienceRule { route, conditions });
    }
    Ok(rules)
}

fn parse_condition(text: &str) -> Result<Condition, String> {
    let (kind, args) = match text.split_once('(') {
        Some((kind, rest)) => {
            let inner = rest.strip_suffix(')').ok_or_else(|| format!("'{text}': missing ')'"))?;
            (kind.trim(), inner.split(',').map(|a| a.trim().to_string()).collect::<Vec<_>>())
        }
        None => (text, Vec::new()),
    };
    let want = |n: usize| -> Result<(), String> {
        if args.len() == n && args.iter().all(|a| !a.is_empty()) {
            Ok(())
        } else {
            Err(format!("'{text}': {kind} takes {n} argument{}", if n == 1 { "" } else { "s" }))
        }
    };
    let years = |a: &str| {
        a.trim_end_matches('年')
            .parse::<u8>()
            .map_err(|_| format!("'{text}': '{a}' is not a number of years"))
    };
    let c = match kind {
        "all_staff" => want(0).map(|_| Condition::AllStaff {})?,
        "new_hires" => want(0).map(|_| Condition::NewHires {})?,
        "section_head" => want(0).map(|_| Condition::SectionHead {})?,
        "retiring_this_year" => want(0).map(|_| Condition::RetiringThisYear {})?,
        "study_group_members" => want(0).map(|_| Condition::StudyGroupMembers {})?,
        "years_after_hire" => {
            want(1)?;
            Condition::YearsAfterHire { years: years(&args[0])? }
        }
        "newly_promoted" => want(1).map(|_| Condition::NewlyPromoted { grade: args[0].clone() })?,
        "years_after_promotion" => {
            want(2)?;
            Condition::YearsAfterPromotion { grade: args[0].clone(), years: years(&args[1])? }
        }
        "grade" => want(1).map(|_| Condition::Grade { grade: args[0].clone() })?,
        "grade_at_least" => want(1).map(|_| Condition::GradeAtLeast { grade: args[0].clone() })?,
        "post" => want(1).map(|_| Condition::Post { post: args[0].clone() })?,
        "newly_appointed_to_post" => {
            want(1).map(|_| Condition::NewlyAppointedToPost { post: args[0].clone() })?
        }
        "tag" => want(1).map(|_| Condition::Tag { tag: args[0].clone() })?,
        "employment_type" => {
            want(1)?;
            let t = EmploymentType::parse(&args[0])
                .ok_or_else(|| format!("'{text}': unknown employment type '{}'", args[0]))?;
            Condition::EmploymentType { employment_type: t }
        }
        "outside_people" => want(1).map(|_| Condition::OutsidePeople { description: args[0].clone() })?,
        other => return Err(format!("unknown condition '{other}'")),
    };
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn fy() -> FiscalYear {
        FiscalYear::new(2023).unwrap()
    }

    struct Person {
        grade: &'static str,
        post: Option<&'static str>,
        post_since: Option<NaiveDate>,
        hire: NaiveDate,
        promotions: BTreeMap<String, NaiveDate>,
        employment_type: EmploymentType,
        retirement: Option<NaiveDate>,
        tags: BTreeSet<String>,
        head: bool,
        study_groups: BTreeSet<i32>,
        active: bool,
    }

    impl Person {
        fn new(grade: &'static str, hire: NaiveDate) -> Self {
            Self {
                grade,
                post: None,
                post_since: None,
                hire,
                promotions: BTreeMap::new(),
                employment_type: EmploymentType::Regular,
                retirement: None,
                tags: BTreeSet::new(),
                head: false,
                study_groups: BTreeSet::new(),
                active: true,
            }
        }

        fn promoted(mut self, grade: &str, on: NaiveDate) -> Self {
            self.promotions.insert(grade.into(), on);
            self
        }

        fn candidate(&self) -> Candidate<'_> {
            Candidate {
                active: self.active,
                grade: self.grade,
                post: self.post,
                post_since: self.post_since,
                hire_date: self.hire,
                promotions: &self.promotions,
                employment_type: self.employment_type,
                retirement_date: self.retirement,
                tags: &self.tags,
                heads_a_section: self.head,
                study_group_years: &self.study_groups,
            }
        }
    }

    fn rule(route: Route, conditions: Vec<Condition>) -> AudienceRule {
        AudienceRule { route, conditions }.validate("rules[0]", &GradeLadder::default()).expect("valid rule")
    }

    fn matches(r: &AudienceRule, p: &Person) -> bool {
        r.matches(&p.candidate(), fy(), &GradeLadder::default())
    }

    #[test]
    fn new_hires_are_those_hired_in_the_fiscal_year() {
        let r = rule(Route::Designation, vec![Condition::NewHires {}]);
        assert!(matches(&r, &Person::new("一般", d(2023, 4, 1))));
        assert!(matches(&r, &Person::new("一般", d(2024, 3, 31))));
        assert!(!matches(&r, &Person::new("一般", d(2023, 3, 31))));
        assert!(!matches(&r, &Person::new("一般", d(2024, 4, 1))));
    }

    #[test]
    fn years_after_hire_count_fiscal_years() {
        let r = rule(Route::Designation, vec![Condition::YearsAfterHire { years: 1 }]);
        // FY2022 runs 2022-04-01 … 2023-03-31.
        assert!(matches(&r, &Person::new("一般", d(2022, 4, 1))));
        assert!(matches(&r, &Person::new("一般", d(2023, 3, 31))));
        assert!(!matches(&r, &Person::new("一般", d(2022, 3, 31))));
        let r5 = rule(Route::Designation, vec![Condition::YearsAfterHire { years: 5 }]);
        assert!(matches(&r5, &Person::new("主任", d(2018, 10, 1))));
        assert!(!matches(&r5, &Person::new("主任", d(2019, 4, 1))));
    }

    #[test]
    fn promotions_this_year_and_years_after() {
        let newly = rule(Route::Designation, vec![Condition::NewlyPromoted { grade: "主任級".into() }]);
        let p = Person::new("主任", d(2015, 4, 1)).promoted("主任", d(2023, 4, 1));
        assert!(matches(&newly, &p));
        assert_eq!(newly.conditions[0], Condition::NewlyPromoted { grade: "主任".into() }, "canonical grade");
        let after3 =
            rule(Route::Designation, vec![Condition::YearsAfterPromotion { grade: "主任".into(), years: 3 }]);
        assert!(!matches(&after3, &p));
        let q = Person::new("主任", d(2012, 4, 1)).promoted("主任", d(2020, 4, 1));
        assert!(matches(&after3, &q));
        // Promoted further since: still "3 years after promotion to 主任".
        let r = Person::new("主査", d(2012, 4, 1))
            .promoted("主任", d(2020, 4, 1))
            .promoted("主査", d(2023, 4, 1));
        assert!(matches(&after3, &r));
        assert!(!matches(&after3, &Person::new("主任", d(2012, 4, 1))), "no promotion date recorded");
    }

    #[test]
    fn grades_exact_and_at_least() {
        let at_least = rule(Route::Application, vec![Condition::GradeAtLeast { grade: "課長".into() }]);
        assert!(matches(&at_least, &Person::new("課長", d(2000, 4, 1))));
        assert!(matches(&at_least, &Person::new("部長", d(2000, 4, 1))));
        assert!(!matches(&at_least, &Person::new("課長補佐", d(2000, 4, 1))));
        let exact = rule(Route::Recommendation, vec![Condition::Grade { grade: "係長".into() }]);
        assert!(matches(&exact, &Person::new("係長", d(2000, 4, 1))));
        assert!(!matches(&exact, &Person::new("課長", d(2000, 4, 1))));
    }

    #[test]
    fn posts_tags_types_retirement_heads_groups() {
        let mut p = Person::new("課長", d(1995, 4, 1));
        p.post = Some("課長職");
        p.post_since = Some(d(2023, 4, 1));
        p.tags.insert("評価者".into());
        p.head = true;
        assert!(matches(&rule(Route::Recommendation, vec![Condition::Post { post: "課長職".into() }]), &p));
        let newly = rule(Route::Designation, vec![Condition::NewlyAppointedToPost { post: "課長職".into() }]);
        assert!(matches(&newly, &p));
        p.post_since = Some(d(2021, 4, 1));
        assert!(!matches(&newly, &p));
        assert!(matches(&rule(Route::Designation, vec![Condition::Tag { tag: "評価者".into() }]), &p));
        assert!(matches(&rule(Route::Designation, vec![Condition::SectionHead {}]), &p));
        assert!(!matches(&rule(Route::Designation, vec![Condition::StudyGroupMembers {}]), &p));
        p.study_groups.insert(fy().year() - 1);
        assert!(
            !matches(&rule(Route::Designation, vec![Condition::StudyGroupMembers {}]), &p),
            "last year's group"
        );
        p.study_groups.insert(fy().year());
        assert!(matches(&rule(Route::Designation, vec![Condition::StudyGroupMembers {}]), &p));

        let re = rule(
            Route::Designation,
            vec![Condition::EmploymentType { employment_type: EmploymentType::Reemployed }],
        );
        assert!(!matches(&re, &p));
        p.employment_type = EmploymentType::Reemployed;
        assert!(matches(&re, &p));

        let retiring = rule(Route::Designation, vec![Condition::RetiringThisYear {}]);
        p.retirement = Some(d(2024, 3, 31));
        assert!(matches(&retiring, &p));
        p.retirement = Some(d(2025, 3, 31));
        assert!(!matches(&retiring, &p));
    }

    #[test]
    fn all_staff_outside_people_and_inactive() {
        let all = rule(Route::Application, vec![Condition::AllStaff {}]);
        let mut p = Person::new("一般", d(2010, 4, 1));
        assert!(matches(&all, &p));
        p.active = false;
        assert!(!matches(&all, &p), "inactive staff match nothing");
        let outside =
            rule(Route::Recommendation, vec![Condition::OutsidePeople { description: "大学生".into() }]);
        assert!(!matches(&outside, &Person::new("一般", d(2010, 4, 1))));
    }

    #[test]
    fn conditions_combine_with_and() {
        let r = rule(
            Route::Designation,
            vec![
                Condition::Post { post: "課長職".into() },
                Condition::NewlyPromoted { grade: "課長".into() },
            ],
        );
        let mut p = Person::new("課長", d(1995, 4, 1)).promoted("課長", d(2023, 4, 1));
        assert!(!matches(&r, &p), "promoted but no post");
        p.post = Some("課長職");
        assert!(matches(&r, &p));
    }

    #[test]
    fn matching_routes_union_the_rules_that_match() {
        let rules = vec![
            rule(Route::Designation, vec![Condition::NewHires {}]),
            rule(Route::Application, vec![Condition::AllStaff {}]),
            rule(Route::Designation, vec![Condition::Tag { tag: "特定個人情報取扱者".into() }]),
        ];
        let ladder = GradeLadder::default();
        let newbie = Person::new("一般", d(2023, 4, 1));
        let veteran = Person::new("係長", d(2000, 4, 1));
        assert_eq!(
            matching_routes(&rules, &newbie.candidate(), fy(), &ladder),
            vec![Route::Designation, Route::Application]
        );
        assert_eq!(matching_routes(&rules, &veteran.candidate(), fy(), &ladder), vec![Route::Application]);
        assert_eq!(routes(&rules), vec![Route::Designation, Route::Application]);
    }

    fn refused(conditions: Vec<Condition>) -> String {
        let errors = AudienceRule { route: Route::Designation, conditions }
            .validate("rules[0]", &GradeLadder::default())
            .unwrap_err();
        assert_eq!(errors[0].field, "rules[0].conditions");
        errors.iter().map(|e| e.reason.clone()).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn rules_that_cannot_match_are_refused() {
        assert!(refused(vec![Condition::YearsAfterPromotion { grade: "社長".into(), years: 5 }])
            .contains("unknown grade"));
        assert!(refused(vec![]).contains("1 to 8"));
        assert!(refused(vec![Condition::YearsAfterHire { years: 0 }]).contains("years"));
        assert!(refused(vec![Condition::YearsAfterHire { years: 46 }]).contains("years"));
        assert!(refused(vec![Condition::NewlyPromoted { grade: "主事".into() }]).contains("lowest grade"));
        assert!(refused(vec![
            Condition::Grade { grade: "主任".into() },
            Condition::Grade { grade: "係長".into() }
        ])
        .contains("both grades"));
        assert!(refused(vec![
            Condition::Grade { grade: "主任".into() },
            Condition::GradeAtLeast { grade: "課長".into() }
        ])
        .contains("below the minimum"));
        assert!(refused(vec![
            Condition::Grade { grade: "主任".into() },
            Condition::NewlyPromoted { grade: "係長".into() }
        ])
        .contains("promoted to 係長"));
        assert!(refused(vec![Condition::NewHires {}, Condition::YearsAfterHire { years: 3 }])
            .contains("one hire date"));
        assert!(refused(vec![
            Condition::NewlyPromoted { grade: "主任".into() },
            Condition::YearsAfterPromotion { grade: "主任".into(), years: 3 }
        ])
        .contains("one promotion date"));
        assert!(refused(vec![
            Condition::NewHires {},
            Condition::YearsAfterPromotion { grade: "主任".into(), years: 1 }
        ])
        .contains("before the hire"));
        assert!(refused(vec![
            Condition::EmploymentType { employment_type: EmploymentType::Regular },
            Condition::EmploymentType { employment_type: EmploymentType::Reemployed }
        ])
        .contains("one employment type"));
        let both = AudienceRule {
            route: Route::Designation,
            conditions: vec![
                Condition::Post { post: "課長職".into() },
                Condition::Post { post: "所属長".into() },
            ],
        };
        assert!(both.validate("rules[0]", &GradeLadder::default()).is_ok(), "one person holds both posts");
        assert!(refused(vec![Condition::AllStaff {}, Condition::NewHires {}]).contains("cannot be combined"));
        assert!(refused(vec![Condition::NewHires {}, Condition::NewHires {}]).contains("twice"));
        assert!(refused(vec![Condition::Tag { tag: "a\"b".into() }]).contains("quotes"));
        assert!(refused(vec![Condition::Tag { tag: " ".into() }]).contains("empty"));
    }

    #[test]
    fn a_course_may_not_hold_the_same_rule_twice() {
        let r = AudienceRule { route: Route::Designation, conditions: vec![Condition::NewHires {}] };
        let errors = validate_rules(vec![r.clone(), r.clone()], &GradeLadder::default()).unwrap_err();
        assert_eq!(errors[0].field, "rules[1]");
        let other = AudienceRule { route: Route::Application, ..r.clone() };
        assert!(validate_rules(vec![r, other], &GradeLadder::default()).is_ok());
    }

    #[test]
    fn the_one_line_form_round_trips() {
        let text = "指名制: new_hires; application: all_staff\ndesignation: years_after_promotion(主任級, 3年) & tag(評価者); recommendation: employment_type(再任用) & outside_people(大学生)";
        let rules = parse_rules(text).unwrap();
        assert_eq!(rules.len(), 4);
        assert_eq!(
            rules[0],
            AudienceRule { route: Route::Designation, conditions: vec![Condition::NewHires {}] }
        );
        assert_eq!(
            rules[2].conditions[0],
            Condition::YearsAfterPromotion { grade: "主任級".into(), years: 3 }
        );
        let rules = validate_rules(rules, &GradeLadder::default()).unwrap_err();
        assert!(rules[0].reason.contains("cannot be combined"), "outside people alone: {rules:?}");
        let ok = validate_rules(
            parse_rules(&text.replace(" & outside_people(大学生)", "")).unwrap(),
            &GradeLadder::default(),
        )
        .unwrap();
        assert_eq!(parse_rules(&format_rules(&ok)).unwrap(), ok);
        assert_eq!(format_rules(&ok[2..3]), "designation: years_after_promotion(主任, 3) & tag(評価者)");
        for bad in [
            "new_hires",
            "lottery: new_hires",
            "designation: promoted(主任)",
            "designation: years_after_hire",
            "designation: years_after_hire(x)",
            "designation: tag(a",
        ] {
            assert!(parse_rules(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_rules("  ").unwrap(), vec![]);
    }

    #[test]
    fn rules_read_and_describe_in_japanese() {
        let json = r#"{"route":"designation","conditions":[{"kind":"years_after_promotion","grade":"係長","years":1}]}"#;
        let r: AudienceRule = serde_json::from_str(json).unwrap();
        assert_eq!(r.describe(), "係長級昇格後1年を経過した者・指名制");
        assert!(serde_json::from_str::<AudienceRule>(
            r#"{"route":"designation","conditions":[{"kind":"new_hires","x":1}]}"#
        )
        .is_err());
        assert_eq!(Route::parse("公募制"), Some(Route::Application));
        assert_eq!(Route::parse("推薦"), Some(Route::Recommendation));
        assert_eq!(Route::parse("lottery"), None);
    }
}
