//! The training catalogue (研修計画): a plan per fiscal year, its courses and their sessions.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::attendance::CompletionRule;
use crate::audience::{validate_rules, AudienceRule};
use crate::calendar::FiscalYear;
use crate::org::GradeLadder;
use crate::text::{collapse_spaces, normalize};
use crate::FieldError;

/// Declares a string-coded enum with its API codes, Japanese labels and a parser that accepts
/// either (NFKC, case-insensitive), so every catalogue vocabulary reads and prints one way.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal / $ja:literal $(| $alias:literal)*,)+ }) => {
        $(#[$meta])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            pub fn japanese(self) -> &'static str {
                match self { $($name::$variant => $ja,)+ }
            }

            /// The API code or the Japanese term.
            pub fn parse(input: &str) -> Option<Self> {
                let s = normalize(input).to_lowercase();
                match s.as_str() {
                    $($code | $ja $(| $alias)* => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Every accepted spelling, for error messages.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| format!("{} ({})", v.as_str(), v.japanese())).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

pub(crate) use vocabulary;

vocabulary! {
    /// 研修分類
    Category {
        /// 階層別研修
        Hierarchical = "hierarchical" / "階層別" | "階層別研修",
        /// 課題別・職能別研修
        Thematic = "thematic" / "課題別・職能別" | "課題別・職能別研修" | "課題別" | "職能別",
        /// 意識啓発特別研修
        Awareness = "awareness" / "意識啓発特別" | "意識啓発特別研修",
        /// 派遣研修
        Dispatch = "dispatch" / "派遣" | "派遣研修",
        /// 自己啓発
        SelfDevelopment = "self_development" / "自己啓発",
        /// その他 (就業体験学生受入れ …)
        Other = "other" / "その他",
    }
}

impl Category {
    /// The category's place in the plan (階層別 = 0 … その他 = 5).
    pub fn rank(self) -> i32 {
        Self::ALL.iter().position(|c| *c == self).map_or(0, |p| p as i32)
    }
}

vocabulary! {
    /// 公開状態 of a year's plan: staff see a published plan's published courses.
    PlanStatus {
        /// 下書き
        Draft = "draft" / "下書き",
        /// 公開
        Published = "published" / "公開",
    }
}

vocabulary! {
    /// 公開状態 of a course.
    CourseStatus {
        /// 下書き: only HR and auditors see it.
        Draft = "draft" / "下書き",
        /// 公開: in the catalogue staff see.
        Published = "published" / "公開",
        /// 中止: still listed, marked cancelled.
        Cancelled = "cancelled" / "中止",
    }
}

/// Whether staff (not HR or auditors, who see drafts) see a course: published or cancelled, in a
/// published plan.
pub fn visible_to_staff(status: CourseStatus, plan_published: bool) -> bool {
    status != CourseStatus::Draft && plan_published
}

/// Why a course is not open to being put forward for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotOpen {
    /// Not published (or its plan is not): it does not exist for staff (404).
    Hidden,
    /// Outside the application window, saying when it opens or closed (409).
    Window(crate::Words),
}

/// Whether staff may be put forward for a course by `route` on `today`: published in a published
/// plan, and for an application (公募) within its application window when it has one. Whether a
/// rule of that route matches the employee is the audience's question.
pub fn open_for(
    status: CourseStatus,
    plan_published: bool,
    route: crate::audience::Route,
    window: Option<ApplicationWindow>,
    today: NaiveDate,
) -> Result<(), NotOpen> {
    if status != CourseStatus::Published || !plan_published {
        return Err(NotOpen::Hidden);
    }
    if route == crate::audience::Route::Application {
        if let Some(refusal) = window.and_then(|w| w.refusal(today)) {
            return Err(NotOpen::Window(refusal));
        }
    }
    Ok(())
}

impl CourseStatus {
    /// A published course is cancelled, never taken back to draft: staff have seen it.
    pub fn can_become(self, to: CourseStatus) -> bool {
        use CourseStatus::*;
        self == to
            || matches!(
                (self, to),
                (Draft, Published | Cancelled) | (Published, Cancelled) | (Cancelled, Published)
            )
    }
}

vocabulary! {
    /// 実施方法
    Delivery {
        /// 集合研修
        Classroom = "classroom" / "集合" | "集合研修" | "講義",
        /// eラーニング
        ELearning = "e_learning" / "eラーニング" | "e-learning" | "elearning",
        /// 派遣: at an outside institution
        Dispatch = "dispatch" / "派遣" | "派遣研修",
    }
}

vocabulary! {
    /// 職員研修の3本柱
    Pillar {
        /// 職場研修
        Ojt = "ojt" / "職場研修",
        /// 職場外研修
        OffJt = "off_jt" / "職場外研修" | "off-jt",
        /// 自己啓発
        SelfDevelopment = "self_development" / "自己啓発",
    }
}

vocabulary! {
    /// 研修分類のねらい (4 aims)
    Aim {
        /// 能力アップ
        Ability = "ability" / "能力アップ" | "能力",
        /// 意識アップ
        Awareness = "awareness" / "意識アップ" | "意識",
        /// 行動力アップ
        Action = "action" / "行動力アップ" | "行動力",
        /// 意欲アップ
        Motivation = "motivation" / "意欲アップ" | "意欲",
    }
}

/// 実施時期: when a course runs, in the months of the fiscal year.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Timing {
    /// ４月
    Month { month: u32 },
    /// ６月～１１月, in fiscal-year order (９月～３月 runs September to March).
    Months { from: u32, to: u32 },
    /// 未定
    Undecided,
    /// 随時
    AsNeeded,
    /// 通年
    YearRound,
}

/// A month's place in the fiscal year: April = 0 … March = 11.
fn fiscal_index(month: u32) -> u32 {
    (month + 8) % 12
}

impl Timing {
    pub fn validate(self) -> Result<Self, String> {
        let ok = |m: u32| (1..=12).contains(&m);
        match self {
            Timing::Month { month } if !ok(month) => Err("month must be 1 to 12".into()),
            Timing::Months { from, to } if !ok(from) || !ok(to) => Err("months must be 1 to 12".into()),
            Timing::Months { from, to } if fiscal_index(from) >= fiscal_index(to) => {
                Err(format!("{from}月～{to}月 does not run forward within a fiscal year (April to March)"))
            }
            t => Ok(t),
        }
    }

    /// Does the course run in this month? 通年 runs in every month; 未定 and 随時 in none known.
    pub fn covers(self, month: u32) -> bool {
        match self {
            Timing::Month { month: m } => m == month,
            Timing::Months { from, to } => {
                (fiscal_index(from)..=fiscal_index(to)).contains(&fiscal_index(month))
            }
            Timing::YearRound => (1..=12).contains(&month),
            Timing::Undecided | Timing::AsNeeded => false,
        }
    }

    /// The months covered, for storing as a searchable list.
    pub fn months(self) -> Vec<u32> {
        (1..=12).filter(|m| self.covers(*m)).collect()
    }

    /// ４月, ６月～１１月, 未定, 随時, 通年 (ASCII digits).
    pub fn japanese(self) -> String {
        match self {
            Timing::Month { month } => format!("{month}月"),
            Timing::Months { from, to } => format!("{from}月～{to}月"),
            Timing::Undecided => "未定".into(),
            Timing::AsNeeded => "随時".into(),
            Timing::YearRound => "通年".into(),
        }
    }

    /// Reads what the plan writes: ４月, ６月～１１月, 6-11月, 未定, 随時, 通年, or the API codes.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = normalize(input).replace(' ', "");
        let t = match s.to_lowercase().as_str() {
            "未定" | "undecided" => Timing::Undecided,
            "随時" | "as_needed" => Timing::AsNeeded,
            "通年" | "year_round" => Timing::YearRound,
            _ => {
                let month = |p: &str| p.trim_end_matches('月').parse::<u32>().ok();
                let parts: Vec<&str> = s.split(['～', '~', '〜', '-', '－']).collect();
                match parts.as_slice() {
                    [one] => Timing::Month { month: month(one).ok_or_else(|| bad_timing(input))? },
                    [a, b] => Timing::Months {
                        from: month(a).ok_or_else(|| bad_timing(input))?,
                        to: month(b).ok_or_else(|| bad_timing(input))?,
                    },
                    _ => return Err(bad_timing(input)),
                }
            }
        };
        t.validate()
    }
}

fn bad_timing(input: &str) -> String {
    format!("'{}' is not a timing: write 4月, 6月～11月, 未定, 随時 or 通年", input.trim())
}

/// 研修報告書の提出期限: when the post-training report is due.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReportRule {
    /// No report (報告書の提出を必要としない).
    None,
    /// Due N days after the course's last day (通常は１週間以内: 7).
    DaysAfterEnd { days: u32 },
    /// Due N months after the last day (長期の派遣研修は１カ月以内: 1).
    MonthsAfterEnd { months: u32 },
}

impl Default for ReportRule {
    fn default() -> Self {
        ReportRule::DaysAfterEnd { days: 7 }
    }
}

impl ReportRule {
    pub fn validate(self) -> Result<Self, String> {
        match self {
            ReportRule::DaysAfterEnd { days } if days == 0 || days > 180 => {
                Err("days must be 1 to 180".into())
            }
            ReportRule::MonthsAfterEnd { months } if months == 0 || months > 12 => {
                Err("months must be 1 to 12".into())
            }
            r => Ok(r),
        }
    }

    pub fn required(self) -> bool {
        self != ReportRule::None
    }

    /// The due date for a course that ended on `last_day`. Days count from the last day (end +
    /// 7). Months are reckoned as the Civil Code does (民法第140条・第143条): the period starts the
    /// day after the course ends and ends the day before the corresponding day N months later,
    /// or on that month's last day when it has no corresponding day (ends 30 April: due 31 May;
    /// ends 29 February: due 31 March; ends 31 January: due the end of February).
    pub fn due(self, last_day: NaiveDate) -> Option<NaiveDate> {
        match self {
            ReportRule::None => None,
            ReportRule::DaysAfterEnd { days } => {
                last_day.checked_add_days(chrono::Days::new(u64::from(days)))
            }
            ReportRule::MonthsAfterEnd { months } => {
                let start = last_day.succ_opt()?;
                let later = start.checked_add_months(Months::new(months))?;
                if later.day() == start.day() {
                    later.pred_opt()
                } else {
                    // No corresponding day: chrono clamped to the month's last day, which is it.
                    Some(later)
                }
            }
        }
    }
}

/// 申込期間: the dates (Japan time, both inclusive) in which staff may apply to a course open
/// for application (公募制). A course without one takes applications while it is published.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationWindow {
    /// 申込開始
    pub opens: NaiveDate,
    /// 申込締切: the last day applications are taken.
    pub closes: NaiveDate,
}

impl ApplicationWindow {
    /// The window of a course of `fy`: it opens no later than it closes, closes by the end of
    /// the fiscal year, and may open in the previous year (a call in March for an April course).
    pub fn validate(self, fy: FiscalYear) -> Result<Self, String> {
        if self.opens > self.closes {
            return Err(format!("opens ({}) after it closes ({})", self.opens, self.closes));
        }
        if self.closes > fy.end() {
            return Err(format!("closes after the end of FY{} ({})", fy.year(), fy.end()));
        }
        if self.opens < fy.previous().start() {
            return Err(format!(
                "opens before FY{} started ({}); a window may open in the year before the course's",
                fy.previous().year(),
                fy.previous().start()
            ));
        }
        Ok(self)
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        (self.opens..=self.closes).contains(&date)
    }

    /// Why an application made on `today` (Japan time) is refused, if it is.
    pub fn refusal(self, today: NaiveDate) -> Option<crate::Words> {
        let (opens, closes) = (self.opens, self.closes);
        if today < opens {
            Some(crate::Words::new(
                format!("applications open on {opens} (申込期間 {opens} – {closes})"),
                format!("申込は{opens}からです（申込期間 {opens}～{closes}）"),
            ))
        } else if today > closes {
            Some(crate::Words::new(
                format!("applications closed on {closes} (申込期間 {opens} – {closes})"),
                format!("申込は{closes}で締め切りました（申込期間 {opens}～{closes}）"),
            ))
        } else {
            None
        }
    }
}

/// Limits on course text, shared by the API schema and the validator.
pub const TITLE_MAX: usize = 200;
pub const LONG_TEXT_MAX: usize = 4000;
pub const SHORT_TEXT_MAX: usize = 500;
pub const INSTITUTION_MAX: usize = 100;
pub const NUMBER_MAX: u32 = 999;
pub const HEADCOUNT_MAX: u32 = 100_000;

/// A course as HR writes it, before validation.
#[derive(Debug, Clone, Default)]
pub struct CourseFields {
    pub category: String,
    pub number: Option<u32>,
    pub title: String,
    pub purpose: Option<String>,
    pub content: Option<String>,
    pub audience: Option<String>,
    pub rules: Vec<AudienceRule>,
    pub timing: Option<Timing>,
    pub delivery: String,
    pub institution: Option<String>,
    pub headcount: Option<u32>,
    pub report: Option<ReportRule>,
    pub completion: Option<CompletionRule>,
    pub application_window: Option<ApplicationWindow>,
    pub notes: Option<String>,
    pub pillar: Option<String>,
    pub aims: Vec<String>,
}

/// 研修: a validated course of one plan. `within` (位置づけ) is checked by the caller, who knows
/// the plan's other courses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CourseData {
    pub category: Category,
    pub number: u32,
    pub title: String,
    pub purpose: Option<String>,
    pub content: Option<String>,
    pub audience: Option<String>,
    pub rules: Vec<AudienceRule>,
    pub timing: Timing,
    pub delivery: Delivery,
    pub institution: Option<String>,
    pub headcount: Option<u32>,
    pub report: ReportRule,
    /// 修了要件
    pub completion: CompletionRule,
    pub application_window: Option<ApplicationWindow>,
    pub notes: Option<String>,
    pub pillar: Pillar,
    pub aims: Vec<Aim>,
}

/// Trimmed multi-line text (NFKC keeps full-width Japanese punctuation readable and makes
/// half-width katakana full-width); `None` when empty.
fn text(field: &str, value: Option<String>, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    // The limit holds for the text as sent too, as the API schema states it.
    let too_long = value.as_ref().is_some_and(|v| v.chars().count() > max);
    let v = value.map(|v| normalize(&v).trim().to_string()).filter(|v| !v.is_empty())?;
    if too_long || v.chars().count() > max || v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        errors.push(FieldError::length(field, format!("must be at most {max} characters of text")));
    }
    Some(v)
}

impl CourseData {
    pub fn validate(f: CourseFields, fy: FiscalYear, ladder: &GradeLadder) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let category = Category::parse(&f.category);
        if category.is_none() {
            errors.push(FieldError::unknown_value(
                "category",
                format!("unknown category '{}'; known: {}", f.category.trim(), Category::expected()),
            ));
        }
        let number = f.number.filter(|n| (1..=NUMBER_MAX).contains(n));
        if number.is_none() {
            errors.push(FieldError::range("number", format!("must be 1 to {NUMBER_MAX}")));
        }
        let title = collapse_spaces(&f.title);
        if title.is_empty()
            || title.chars().count() > TITLE_MAX
            || f.title.chars().count() > TITLE_MAX
            || title.chars().any(char::is_control)
        {
            errors.push(FieldError::length("title", format!("must be 1 to {TITLE_MAX} characters")));
        }
        let purpose = text("purpose", f.purpose, LONG_TEXT_MAX, &mut errors);
        let content = text("content", f.content, LONG_TEXT_MAX, &mut errors);
        let audience = text("audience", f.audience, SHORT_TEXT_MAX, &mut errors);
        let notes = text("notes", f.notes, LONG_TEXT_MAX, &mut errors);
        let institution = text("institution", f.institution, INSTITUTION_MAX, &mut errors);
        let rules = validate_rules(f.rules, ladder).map_err(|e| errors.extend(e)).unwrap_or_default();
        let timing = match f.timing.unwrap_or(Timing::Undecided).validate() {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(FieldError::format("timing", e));
                None
            }
        };
        let delivery = Delivery::parse(&f.delivery);
        if delivery.is_none() {
            errors.push(FieldError::unknown_value(
                "delivery",
                format!("unknown delivery '{}'; known: {}", f.delivery.trim(), Delivery::expected()),
            ));
        }
        if delivery == Some(Delivery::Dispatch) && institution.is_none() {
            errors.push(FieldError::required(
                "institution",
                "dispatch training names the institution (研修機関)",
            ));
        }
        if f.headcount.is_some_and(|h| h > HEADCOUNT_MAX) {
            errors.push(FieldError::range("headcount", format!("must be 0 to {HEADCOUNT_MAX}")));
        }
        let report = match f.report.unwrap_or_default().validate() {
            Ok(r) => Some(r),
            Err(e) => {
                errors.push(FieldError::range("report", e));
                None
            }
        };
        let completion = f
            .completion
            .unwrap_or_default()
            .validate()
            .map_err(|e| errors.push(FieldError::range("completion", e)))
            .unwrap_or_default();
        let application_window = f.application_window.and_then(|w| {
            w.validate(fy).map_err(|e| errors.push(FieldError::range("application_window", e))).ok()
        });
        let pillar = match f.pillar.as_deref() {
            None | Some("") => Some(if category == Some(Category::SelfDevelopment) {
                Pillar::SelfDevelopment
            } else {
                Pillar::OffJt
            }),
            Some(p) => Pillar::parse(p).or_else(|| {
                errors.push(FieldError::unknown_value(
                    "pillar",
                    format!("unknown pillar '{p}'; known: {}", Pillar::expected()),
                ));
                None
            }),
        };
        let mut aims = Vec::new();
        for a in &f.aims {
            match Aim::parse(a) {
                Some(aim) if !aims.contains(&aim) => aims.push(aim),
                Some(_) => {}
                None => errors.push(FieldError::unknown_value(
                    "aims",
                    format!("unknown aim '{a}'; known: {}", Aim::expected()),
                )),
            }
        }
        aims.sort();
        match (category, number, timing, delivery, report, pillar) {
            (Some(category), Some(number), Some(timing), Some(delivery), Some(report), Some(pillar))
                if errors.is_empty() =>
            {
                Ok(Self {
                    category,
                    number,
                    title,
                    purpose,
                    content,
                    audience,
                    rules,
                    timing,
                    delivery,
                    institution,
                    headcount: f.headcount,
                    report,
                    completion,
                    application_window,
                    notes,
                    pillar,
                    aims,
                })
            }
            _ => Err(errors),
        }
    }
}

/// The course a course is positioned within (位置づけ) must be another course of the same plan.
pub fn check_within(
    course_fy: FiscalYear,
    parent_fy: FiscalYear,
    same_course: bool,
) -> Result<(), FieldError> {
    if same_course {
        return Err(FieldError::conflict("within", "a course cannot be positioned within itself"));
    }
    if course_fy != parent_fy {
        return Err(FieldError::conflict(
            "within",
            format!(
                "the course is in FY{}, the course it is positioned within in FY{}",
                course_fy.year(),
                parent_fy.year()
            ),
        ));
    }
    Ok(())
}

/// 講師: who teaches a session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Lecturer {
    /// An outside lecturer: name and affiliation as printed on the notice.
    Outside { name: String, affiliation: Option<String> },
    /// 職員講師: a staff member acting as lecturer.
    Staff { employee_id: uuid::Uuid },
}

/// 日程: one session of a course, as HR writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFields {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: Option<String>,
    pub online_url: Option<String>,
    pub capacity: Option<i64>,
    pub lecturer: Option<Lecturer>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionData {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: Option<String>,
    pub online_url: Option<String>,
    pub capacity: Option<u32>,
    pub lecturer: Option<Lecturer>,
    pub notes: Option<String>,
}

/// Longest a single session may run: dispatch training can take weeks, but not a year.
pub const SESSION_MAX_DAYS: i64 = 366;

impl SessionData {
    /// A session starts before it ends, within the course's fiscal year (in Japan time), has a
    /// capacity of zero or more, and an online URL that is http(s).
    pub fn validate(f: SessionFields, fy: FiscalYear) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if f.ends_at <= f.starts_at {
            errors.push(FieldError::range("ends_at", "must be after starts_at"));
        } else if (f.ends_at - f.starts_at).num_days() > SESSION_MAX_DAYS {
            errors.push(FieldError::range(
                "ends_at",
                format!("a session lasts at most {SESSION_MAX_DAYS} days"),
            ));
        }
        let start_day = crate::calendar::tokyo_date(f.starts_at);
        if !fy.contains(start_day) {
            errors.push(FieldError::range(
                "starts_at",
                format!("{start_day} is outside FY{} ({} to {})", fy.year(), fy.start(), fy.end()),
            ));
        }
        let venue = text("venue", f.venue, SHORT_TEXT_MAX, &mut errors);
        let notes = text("notes", f.notes, LONG_TEXT_MAX, &mut errors);
        let online_url = f.online_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        if let Some(u) = &online_url {
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() <= 2000
                && !u.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                errors.push(FieldError::format("online_url", "must be an http or https URL"));
            }
        }
        let capacity = match f.capacity {
            None => None,
            Some(c) if (0..=i64::from(HEADCOUNT_MAX)).contains(&c) => Some(c as u32),
            Some(_) => {
                errors.push(FieldError::range("capacity", format!("must be 0 to {HEADCOUNT_MAX}")));
                None
            }
        };
        let lecturer = match f.lecturer {
            Some(Lecturer::Outside { name, affiliation }) => {
                let name = collapse_spaces(&name);
                if name.is_empty() || name.chars().count() > 100 {
                    errors.push(FieldError::length("lecturer.name", "must be 1 to 100 characters"));
                }
                let affiliation = text("lecturer.affiliation", affiliation, 200, &mut errors);
                Some(Lecturer::Outside { name, affiliation })
            }
            other => other,
        };
        if errors.is_empty() {
            Ok(Self {
                starts_at: f.starts_at,
                ends_at: f.ends_at,
                venue,
                online_url,
                capacity,
                lecturer,
                notes,
            })
        } else {
            Err(errors)
        }
    }
}

/// The last day of a course in Japan time: the day its last session ends.
pub fn last_day(sessions: &[SessionData]) -> Option<NaiveDate> {
    sessions.iter().map(|s| crate::calendar::tokyo_date(s.ends_at)).max()
}

/// 研修計画: the plan's own text (方針, 重点的な取組).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanData {
    pub title: String,
    pub policy: Option<String>,
    pub focus_areas: Vec<String>,
}

pub const FOCUS_AREAS_MAX: usize = 12;

impl PlanData {
    pub fn validate(
        title: Option<String>,
        policy: Option<String>,
        focus_areas: Vec<String>,
        fy: FiscalYear,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let sent_too_long = title.as_ref().is_some_and(|t| t.chars().count() > TITLE_MAX);
        let title =
            collapse_spaces(&title.unwrap_or_else(|| format!("{} 職員研修計画", fy.japanese_label())));
        if title.is_empty() || sent_too_long || title.chars().count() > TITLE_MAX {
            errors.push(FieldError::length("title", format!("must be 1 to {TITLE_MAX} characters")));
        }
        let policy = text("policy", policy, 20_000, &mut errors);
        if focus_areas.len() > FOCUS_AREAS_MAX {
            errors.push(FieldError::length("focus_areas", format!("at most {FOCUS_AREAS_MAX}")));
        }
        let mut areas = Vec::new();
        for (i, a) in focus_areas.into_iter().enumerate() {
            if let Some(a) = text(&format!("focus_areas[{i}]"), Some(a), SHORT_TEXT_MAX, &mut errors) {
                areas.push(a);
            }
        }
        if errors.is_empty() {
            Ok(Self { title, policy, focus_areas: areas })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience::{Condition, Route};

    fn fy2023() -> FiscalYear {
        FiscalYear::new(2023).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn fields() -> CourseFields {
        CourseFields {
            category: "階層別".into(),
            number: Some(1),
            title: "新採用職員　採用時研修Ⅰ".into(),
            purpose: Some("社会人、公務員としての自覚を促す。".into()),
            rules: vec![AudienceRule { route: Route::Designation, conditions: vec![Condition::NewHires {}] }],
            timing: Some(Timing::Month { month: 4 }),
            delivery: "集合".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_course_validates_and_defaults() {
        let c = CourseData::validate(fields(), fy2023(), &GradeLadder::default()).unwrap();
        assert_eq!(c.category, Category::Hierarchical);
        assert_eq!(c.title, "新採用職員 採用時研修Ⅰ");
        assert_eq!(c.report, ReportRule::DaysAfterEnd { days: 7 });
        assert_eq!(c.pillar, Pillar::OffJt);
        assert_eq!(c.delivery, Delivery::Classroom);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let f = CourseFields {
            category: "研究".into(),
            number: Some(0),
            title: "".into(),
            rules: vec![AudienceRule {
                route: Route::Designation,
                conditions: vec![Condition::YearsAfterPromotion { grade: "社長".into(), years: 5 }],
            }],
            timing: Some(Timing::Months { from: 3, to: 9 }),
            delivery: "派遣".into(),
            headcount: Some(HEADCOUNT_MAX + 1),
            report: Some(ReportRule::DaysAfterEnd { days: 0 }),
            pillar: Some("x".into()),
            aims: vec!["やる気".into()],
            ..Default::default()
        };
        let errors = CourseData::validate(f, fy2023(), &GradeLadder::default()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "category",
            "number",
            "title",
            "rules[0].conditions",
            "timing",
            "institution",
            "headcount",
            "report",
            "pillar",
            "aims",
        ] {
            assert!(fields.contains(&expected), "{expected} missing from {fields:?}");
        }
    }

    #[test]
    fn an_application_window_ends_in_the_course_year_and_may_open_in_the_year_before() {
        // 通信教育講座助成 FY2023: August to February.
        let window = ApplicationWindow { opens: date(2023, 8, 1), closes: date(2024, 2, 29) };
        let f = CourseFields { application_window: Some(window), ..fields() };
        let c = CourseData::validate(f, fy2023(), &GradeLadder::default()).unwrap();
        assert_eq!(c.application_window, Some(window));
        assert!(window.contains(date(2023, 8, 1)) && window.contains(date(2024, 2, 29)));
        assert!(!window.contains(date(2023, 7, 31)) && !window.contains(date(2024, 3, 1)));
        assert_eq!(window.refusal(date(2023, 8, 1)), None);
        assert!(window.refusal(date(2023, 7, 31)).unwrap().en.starts_with("applications open on 2023-08-01"));
        let closed = window.refusal(date(2024, 3, 1)).unwrap();
        assert!(closed.en.starts_with("applications closed on 2024-02-29"));
        assert!(closed.ja.starts_with("申込は2024-02-29で締め切りました"), "{}", closed.ja);
        // A call in March for an April course.
        let march = ApplicationWindow { opens: date(2022, 4, 1), closes: date(2023, 3, 20) };
        assert_eq!(march.validate(fy2023()), Ok(march));
        let one_day = ApplicationWindow { opens: date(2024, 3, 31), closes: date(2024, 3, 31) };
        assert_eq!(one_day.validate(fy2023()), Ok(one_day));

        for (opens, closes, expected) in [
            (date(2023, 9, 1), date(2023, 8, 31), "after it closes"),
            (date(2024, 3, 1), date(2024, 4, 1), "after the end of FY2023"),
            (date(2022, 3, 31), date(2023, 4, 30), "before FY2022 started"),
        ] {
            let f =
                CourseFields { application_window: Some(ApplicationWindow { opens, closes }), ..fields() };
            let errors = CourseData::validate(f, fy2023(), &GradeLadder::default()).unwrap_err();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field, "application_window");
            assert!(errors[0].reason.contains(expected), "{}", errors[0].reason);
        }
    }

    #[test]
    fn limits_hold_for_text_as_sent_not_only_once_trimmed() {
        // The API schema counts what was sent; a title padded past the limit is refused even
        // though it would fit once trimmed (schemathesis found the difference).
        let padded = format!("\n{}", "*".repeat(TITLE_MAX));
        let f = CourseFields {
            title: padded.clone(),
            purpose: Some(format!(" {}", "あ".repeat(LONG_TEXT_MAX))),
            ..fields()
        };
        let fields: Vec<String> = CourseData::validate(f, fy2023(), &GradeLadder::default())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["title", "purpose"]);
        let plan = PlanData::validate(Some(padded), None, Vec::new(), fy2023()).unwrap_err();
        assert_eq!(plan[0].field, "title");
    }

    #[test]
    fn unknown_delivery_is_refused() {
        let f = CourseFields { delivery: "通信".into(), ..fields() };
        let errors = CourseData::validate(f, fy2023(), &GradeLadder::default()).unwrap_err();
        assert_eq!(errors[0].field, "delivery");
        assert!(errors[0].reason.contains("e_learning (eラーニング)"), "{}", errors[0].reason);
    }

    #[test]
    fn timings_parse_as_the_plan_writes_them() {
        assert_eq!(Timing::parse("４月").unwrap(), Timing::Month { month: 4 });
        assert_eq!(Timing::parse("６月～１１月").unwrap(), Timing::Months { from: 6, to: 11 });
        assert_eq!(Timing::parse("9月～3月").unwrap(), Timing::Months { from: 9, to: 3 });
        assert_eq!(Timing::parse("未定").unwrap(), Timing::Undecided);
        assert_eq!(Timing::parse("随時").unwrap(), Timing::AsNeeded);
        assert_eq!(Timing::parse("通年").unwrap(), Timing::YearRound);
        assert!(Timing::parse("3月～9月").is_err(), "March to September crosses the fiscal year's end");
        assert!(Timing::parse("13月").is_err());
        assert!(Timing::parse("春").is_err());
        assert_eq!(Timing::Months { from: 9, to: 3 }.japanese(), "9月～3月");
    }

    #[test]
    fn timing_covers_months_in_fiscal_order() {
        let t = Timing::Months { from: 9, to: 3 };
        assert!(t.covers(9) && t.covers(12) && t.covers(1) && t.covers(3));
        assert!(!t.covers(4) && !t.covers(8));
        assert_eq!(Timing::Months { from: 6, to: 11 }.months(), vec![6, 7, 8, 9, 10, 11]);
        assert_eq!(Timing::YearRound.months().len(), 12);
        assert!(Timing::Undecided.months().is_empty());
    }

    #[test]
    fn report_due_dates() {
        let end = NaiveDate::from_ymd_opt(2023, 4, 28).unwrap();
        assert_eq!(ReportRule::default().due(end), NaiveDate::from_ymd_opt(2023, 5, 5));
        let jan31 = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        assert_eq!(ReportRule::MonthsAfterEnd { months: 1 }.due(jan31), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(ReportRule::None.due(end), None);
        assert!(!ReportRule::None.required());
        assert!(ReportRule::MonthsAfterEnd { months: 13 }.validate().is_err());
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn session(start: &str, end: &str) -> SessionFields {
        SessionFields {
            starts_at: at(start),
            ends_at: at(end),
            venue: Some("市役所 4階 大会議室".into()),
            online_url: None,
            capacity: Some(40),
            lecturer: None,
            notes: None,
        }
    }

    #[test]
    fn sessions_validate() {
        let fy = FiscalYear::new(2023).unwrap();
        assert!(SessionData::validate(session("2023-04-03T09:00:00+09:00", "2023-04-03T17:00:00+09:00"), fy)
            .is_ok());
        let e = SessionData::validate(session("2023-04-03T17:00:00+09:00", "2023-04-03T09:00:00+09:00"), fy)
            .unwrap_err();
        assert_eq!(e[0].field, "ends_at");
        // 2023-04-01 00:30 in Tokyo is still 31 March in UTC: the Japanese date decides.
        assert!(SessionData::validate(session("2023-04-01T00:30:00+09:00", "2023-04-01T01:00:00+09:00"), fy)
            .is_ok());
        let e = SessionData::validate(session("2024-04-01T09:00:00+09:00", "2024-04-01T10:00:00+09:00"), fy)
            .unwrap_err();
        assert_eq!(e[0].field, "starts_at");
        let mut s = session("2023-05-01T09:00:00+09:00", "2023-05-01T10:00:00+09:00");
        s.capacity = Some(-1);
        s.online_url = Some("javascript:alert(1)".into());
        let e = SessionData::validate(s, fy).unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["online_url", "capacity"]);
    }

    #[test]
    fn within_must_be_the_same_plan() {
        let fy23 = FiscalYear::new(2023).unwrap();
        assert!(check_within(fy23, fy23, false).is_ok());
        assert!(check_within(fy23, fy23.previous(), false).is_err());
        assert!(check_within(fy23, fy23, true).is_err());
    }

    #[test]
    fn vocabularies_read_japanese() {
        assert_eq!(Category::parse("課題別・職能別研修"), Some(Category::Thematic));
        assert_eq!(Category::parse("ｿﾉ他"), None);
        assert_eq!(Category::parse("その他"), Some(Category::Other));
        assert_eq!(Delivery::parse("ｅラーニング"), Some(Delivery::ELearning));
        assert_eq!(Aim::parse("意欲アップ"), Some(Aim::Motivation));
        assert_eq!(Pillar::parse("Off_JT"), Some(Pillar::OffJt));
    }

    #[test]
    fn course_status_transitions() {
        use CourseStatus::*;
        assert!(Draft.can_become(Published));
        assert!(Published.can_become(Cancelled));
        assert!(Cancelled.can_become(Published));
        assert!(!Published.can_become(Draft));
        assert!(!Cancelled.can_become(Draft));
        assert_eq!(Category::Hierarchical.rank(), 0);
        assert_eq!(Category::Other.rank(), 5);
    }

    #[test]
    fn plans_default_their_title() {
        let p = PlanData::validate(None, None, vec!["若手職員の育成".into()], FiscalYear::new(2023).unwrap())
            .unwrap();
        assert_eq!(p.title, "令和5年度 職員研修計画");
    }

    #[test]
    fn staff_see_and_join_only_published_courses_of_published_plans() {
        use crate::audience::Route;
        let d = |m, day| NaiveDate::from_ymd_opt(2023, m, day).unwrap();
        assert!(visible_to_staff(CourseStatus::Published, true));
        assert!(visible_to_staff(CourseStatus::Cancelled, true), "listed, marked cancelled");
        assert!(
            !visible_to_staff(CourseStatus::Draft, true) && !visible_to_staff(CourseStatus::Published, false)
        );
        let window = Some(ApplicationWindow { opens: d(5, 1), closes: d(5, 31) });
        let open = |status, plan, route, today| open_for(status, plan, route, window, today);
        assert_eq!(open(CourseStatus::Published, true, Route::Application, d(5, 10)), Ok(()));
        assert!(matches!(
            open(CourseStatus::Published, true, Route::Application, d(6, 1)),
            Err(NotOpen::Window(_))
        ));
        assert_eq!(
            open(CourseStatus::Published, true, Route::Recommendation, d(6, 1)),
            Ok(()),
            "no window for 推薦"
        );
        assert_eq!(
            open(CourseStatus::Cancelled, true, Route::Recommendation, d(5, 10)),
            Err(NotOpen::Hidden)
        );
        assert_eq!(open(CourseStatus::Published, false, Route::Application, d(5, 10)), Err(NotOpen::Hidden));
    }
}
