//! Forms staff fill in the portal (desknet's NEO AppSuite apps) that feed Kenshu's workflows:
//! which kinds there are, which of a form's parts (部品) carries which value (a mapping the
//! training office keeps as data), and reading one record of a webhook into typed values.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::absence::AbsenceKind;
use crate::calendar::parse_date;
use crate::text::normalize;
use crate::FieldError;

/// The workflow a portal form feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// 公募研修の申込
    CourseApplication,
    /// 研修講座欠席届
    AbsenceNotice,
    /// 研修報告書
    TrainingReport,
    /// 通信教育講座助成の申請
    SubsidyApplication,
}

impl FormKind {
    pub const ALL: [FormKind; 4] =
        [Self::CourseApplication, Self::AbsenceNotice, Self::TrainingReport, Self::SubsidyApplication];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CourseApplication => "course_application",
            Self::AbsenceNotice => "absence_notice",
            Self::TrainingReport => "training_report",
            Self::SubsidyApplication => "subsidy_application",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The values a form of this kind carries: (value, required).
    pub fn fields(self) -> &'static [(Field, bool)] {
        use Field::*;
        match self {
            Self::CourseApplication => {
                &[(Employee, true), (Course, true), (FiscalYear, false), (Session, false), (Reason, false)]
            }
            Self::AbsenceNotice => &[
                (Employee, true),
                (Course, true),
                (FiscalYear, false),
                (Session, true),
                (Kind, true),
                (Reason, true),
                (ArrivesAt, false),
                (LeavesAt, false),
            ],
            Self::TrainingReport => &[
                (Employee, true),
                (Course, true),
                (FiscalYear, false),
                (Learned, true),
                (Application, true),
                (Comments, false),
                (Submit, false),
            ],
            Self::SubsidyApplication => {
                &[(Employee, true), (Course, true), (FiscalYear, false), (Reason, false)]
            }
        }
    }
}

/// A value a form carries, named in a form's mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Who files it: their portal login id or employee number (see [`EmployeeIs`]). Map it to
    /// the record's 登録者 (creator), which the portal fills, not to a part staff type.
    Employee,
    /// The course: its number in the year's plan (`12`, `No.12`, `12 接遇研修`) or its title; for
    /// a subsidy, the correspondence course's title.
    Course,
    /// The fiscal year of the course (`2023`, `R5`, `令和5年度`); without it, the year of the day
    /// the form arrives (for a report, the year before too).
    FiscalYear,
    /// The session's day (`2023/07/12`, `2023-07-12`, `R5.7.12`).
    Session,
    /// 欠席 / 遅刻 / 早退 (or absence / late_arrival / early_leave).
    Kind,
    Reason,
    /// For a late arrival, the time expected (`10:30`) on the session's day.
    ArrivesAt,
    /// For an early leave, the time expected on the session's day.
    LeavesAt,
    /// 研修で学んだこと
    Learned,
    /// 職場でどう活かすか
    Application,
    /// 感想・意見
    Comments,
    /// Whether the report is filed (提出) or kept as a draft (下書き); filed when the form has no
    /// such part.
    Submit,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Employee => "employee",
            Self::Course => "course",
            Self::FiscalYear => "fiscal_year",
            Self::Session => "session",
            Self::Kind => "kind",
            Self::Reason => "reason",
            Self::ArrivesAt => "arrives_at",
            Self::LeavesAt => "leaves_at",
            Self::Learned => "learned",
            Self::Application => "application",
            Self::Comments => "comments",
            Self::Submit => "submit",
        }
    }
}

/// How the employee part names the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EmployeeIs {
    /// The portal login id (ログインID), compared without regard to case.
    #[default]
    LoginId,
    /// The employee number (職員番号).
    EmployeeNo,
}

impl EmployeeIs {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginId => "login_id",
            Self::EmployeeNo => "employee_no",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::LoginId, Self::EmployeeNo].into_iter().find(|k| k.as_str() == s)
    }
}

/// Which part (by its name in the app, 部品名) carries each value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMap(BTreeMap<Field, String>);

impl FieldMap {
    /// Check a mapping as HR sends it (`{"employee": "登録者", "course": "研修名", …}`) against the
    /// kind: every required value mapped, nothing the kind does not carry.
    pub fn validate(kind: FormKind, raw: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut map = BTreeMap::new();
        for (name, part) in raw {
            let field = kind.fields().iter().map(|(f, _)| *f).find(|f| f.as_str() == name);
            let part = part.trim();
            match field {
                None => errors.push(FieldError::not_found(
                    format!("fields.{name}"),
                    format!("a {} form carries no such value", kind.as_str()),
                )),
                Some(_) if part.is_empty() || part.chars().count() > 100 => errors.push(FieldError::length(
                    format!("fields.{name}"),
                    "name the part in 1 to 100 characters",
                )),
                Some(f) => {
                    map.insert(f, part.to_string());
                }
            }
        }
        for (f, required) in kind.fields() {
            if *required && !map.contains_key(f) {
                errors.push(FieldError::required(
                    format!("fields.{}", f.as_str()),
                    "required for this kind of form",
                ));
            }
        }
        if errors.is_empty() {
            Ok(Self(map))
        } else {
            Err(errors)
        }
    }

    pub fn part(&self, f: Field) -> Option<&str> {
        self.0.get(&f).map(String::as_str)
    }

    pub fn to_raw(&self) -> BTreeMap<String, String> {
        self.0.iter().map(|(f, p)| (f.as_str().to_string(), p.clone())).collect()
    }
}

/// How a form names the course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CourseName {
    /// Its number in the year's plan (講座番号).
    Number(i32),
    /// Its title, NFKC-normalised.
    Title(String),
}

/// One record of a form, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRecord {
    pub employee: String,
    pub course: CourseName,
    pub fiscal_year: Option<i32>,
    pub session_day: Option<NaiveDate>,
    pub kind: Option<AbsenceKind>,
    pub reason: Option<String>,
    pub arrives_at: Option<NaiveTime>,
    pub leaves_at: Option<NaiveTime>,
    pub learned: String,
    pub application: String,
    pub comments: Option<String>,
    pub submit: bool,
}

/// The text of a part in an AppSuite record: the record's values are `{"value": …}` objects (a
/// plain value is taken too); a list (a user or list selection) gives its first entry, an entry
/// object its `value`, `login_id` or `name`.
pub fn part_text(data: &Value, part: &str) -> Option<String> {
    fn text(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Array(items) => items.first().and_then(text),
            Value::Object(o) => ["value", "login_id", "name"].iter().find_map(|k| o.get(*k)).and_then(text),
            Value::Null => None,
        }
    }
    data.get(part).and_then(text).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Read a record (`data` of the webhook) by the form's mapping. The error says, in words the
/// training office can act on, what is missing or cannot be read.
pub fn read(kind: FormKind, map: &FieldMap, data: &Value) -> Result<FormRecord, String> {
    if !data.is_object() {
        return Err("the record's data is not an object of parts".into());
    }
    let get = |f: Field| map.part(f).and_then(|p| part_text(data, p));
    let required = |f: Field| {
        get(f).ok_or_else(|| {
            format!("the part '{}' ({}) is missing or empty", map.part(f).unwrap_or(f.as_str()), f.as_str())
        })
    };
    let bad =
        |f: Field, what: &str| format!("the part '{}' is not {what}", map.part(f).unwrap_or(f.as_str()));
    let is_required = |f: Field| kind.fields().iter().any(|(g, r)| *g == f && *r);
    let text = |f: Field| -> Result<Option<String>, String> {
        match get(f) {
            Some(t) => Ok(Some(t)),
            None if is_required(f) => required(f).map(Some),
            None => Ok(None),
        }
    };
    let employee = required(Field::Employee)?;
    let course = course_name(&required(Field::Course)?);
    let fiscal_year = match get(Field::FiscalYear) {
        None => None,
        Some(t) => Some(fiscal_year(&t).ok_or_else(|| bad(Field::FiscalYear, "a fiscal year"))?),
    };
    let session_day = match text(Field::Session)? {
        None => None,
        Some(t) => Some(parse_date(&t).map_err(|_| bad(Field::Session, "a date"))?),
    };
    let kind_value = match text(Field::Kind)? {
        None => None,
        Some(t) => Some(absence_kind(&t).ok_or_else(|| bad(Field::Kind, "欠席, 遅刻 or 早退"))?),
    };
    let time = |f: Field| -> Result<Option<NaiveTime>, String> {
        match get(f) {
            None => Ok(None),
            Some(t) => time_of_day(&t).map(Some).ok_or_else(|| bad(f, "a time of day like 10:30")),
        }
    };
    let submit = match get(Field::Submit) {
        None => true,
        Some(t) => filed(&t).ok_or_else(|| bad(Field::Submit, "提出 or 下書き"))?,
    };
    Ok(FormRecord {
        employee,
        course,
        fiscal_year,
        session_day,
        kind: kind_value,
        reason: text(Field::Reason)?,
        arrives_at: time(Field::ArrivesAt)?,
        leaves_at: time(Field::LeavesAt)?,
        learned: text(Field::Learned)?.unwrap_or_default(),
        application: text(Field::Application)?.unwrap_or_default(),
        comments: text(Field::Comments)?,
        submit,
    })
}

/// `12`, `No.12`, `第12回`, `12 接遇研修`, `12：接遇研修` name course 12; anything else is a title.
fn course_name(input: &str) -> CourseName {
    let s = normalize(input);
    let s = s.trim();
    let rest =
        s.strip_prefix("No.").or_else(|| s.strip_prefix("No")).or_else(|| s.strip_prefix('第')).unwrap_or(s);
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let after = &rest[digits.len()..];
    let ends = after.is_empty() || after.starts_with([' ', ':', '.', '-', '回', '　', ')']);
    match digits.parse::<i32>() {
        Ok(n) if !digits.is_empty() && ends => CourseName::Number(n),
        _ => CourseName::Title(s.to_string()),
    }
}

/// `2023`, `2023年度`, `R5`, `令和5年度`.
fn fiscal_year(input: &str) -> Option<i32> {
    let s = normalize(input);
    let s = s.trim().trim_end_matches("年度").trim_end_matches('年');
    if let Ok(y) = s.parse::<i32>() {
        return (2000..=2100).contains(&y).then_some(y);
    }
    let n = s.strip_prefix("令和").or_else(|| s.strip_prefix('R')).or_else(|| s.strip_prefix('r'))?;
    let n = if n == "元" { 1 } else { n.parse::<i32>().ok()? };
    (1..=80).contains(&n).then_some(2018 + n)
}

fn absence_kind(input: &str) -> Option<AbsenceKind> {
    let s = normalize(input);
    match s.trim() {
        "欠席" | "absence" => Some(AbsenceKind::Absence),
        "遅刻" | "遅参" | "late_arrival" => Some(AbsenceKind::LateArrival),
        "早退" | "early_leave" => Some(AbsenceKind::EarlyLeave),
        _ => None,
    }
}

fn time_of_day(input: &str) -> Option<NaiveTime> {
    let s = normalize(input);
    let s = s.trim().replace('時', ":").replace('分', "");
    let s = s.trim_end_matches(':');
    NaiveTime::parse_from_str(s, "%H:%M").or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S")).ok().or_else(
        || {
            // `10` alone: on the hour.
            s.parse::<u32>().ok().and_then(|h| NaiveTime::from_hms_opt(h, 0, 0))
        },
    )
}

fn filed(input: &str) -> Option<bool> {
    let s = normalize(input);
    match s.trim() {
        "提出" | "提出する" | "申請" | "true" | "1" | "はい" | "yes" => Some(true),
        "下書き" | "一時保存" | "false" | "0" | "いいえ" | "no" => Some(false),
        _ => None,
    }
}

/// The key under which a change is applied once: a record's addition once whatever it held, an
/// update once per content (a repeated delivery of the same update changes nothing).
pub fn change_key(data_id: &str, change: Change, content_digest: &str) -> String {
    match change {
        Change::Added => format!("{data_id}:added"),
        Change::Updated => format!("{data_id}:updated:{content_digest}"),
    }
}

/// What the portal did to the record (the webhook's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Updated,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Updated => "updated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "added" => Some(Self::Added),
            "updated" => Some(Self::Updated),
            _ => None,
        }
    }
}

/// Where a received change stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InboundState {
    /// Stored, not applied yet (processing is under way, or failed on our side and is retried).
    Pending,
    /// Applied: the item it made or corrected is named.
    Applied,
    /// Read and found to change nothing (an update that says what the item already says).
    Unchanged,
    /// Could not be applied; the reason says why. Replayable once the mapping or data is right.
    Failed,
}

impl InboundState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Unchanged => "unchanged",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Applied, Self::Unchanged, Self::Failed].into_iter().find(|k| k.as_str() == s)
    }

    /// Replaying is for what could not be applied (or is stuck pending).
    pub fn may_replay(self) -> bool {
        matches!(self, Self::Failed | Self::Pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn absence_map() -> FieldMap {
        FieldMap::validate(
            FormKind::AbsenceNotice,
            &raw(&[
                ("employee", "登録者"),
                ("course", "研修名"),
                ("session", "研修日"),
                ("kind", "区分"),
                ("reason", "理由"),
                ("arrives_at", "到着予定"),
            ]),
        )
        .unwrap()
    }

    #[test]
    fn a_mapping_names_every_required_value_and_nothing_else() {
        let errors =
            FieldMap::validate(FormKind::TrainingReport, &raw(&[("employee", "登録者"), ("session", "日")]))
                .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["fields.session", "fields.course", "fields.learned", "fields.application"]);
        assert!(FieldMap::validate(
            FormKind::SubsidyApplication,
            &raw(&[("employee", " "), ("course", "x")])
        )
        .is_err());
        let ok = FieldMap::validate(
            FormKind::SubsidyApplication,
            &raw(&[("employee", "登録者"), ("course", "講座")]),
        )
        .unwrap();
        assert_eq!(ok.part(Field::Course), Some("講座"));
        assert_eq!(ok.to_raw(), raw(&[("course", "講座"), ("employee", "登録者")]));
    }

    #[test]
    fn an_appsuite_record_is_read_by_the_mapping() {
        let data = json!({
            "登録者": {"value": [{"login_id": "Yamaguchi", "name": "山口 花子"}]},
            "研修名": {"value": "No.１２ 接遇研修"},
            "研修日": {"value": "R5.7.12"},
            "区分": {"value": "遅刻"},
            "理由": {"value": " 窓口当番のため "},
            "到着予定": {"value": "１０時３０分"},
        });
        let r = read(FormKind::AbsenceNotice, &absence_map(), &data).unwrap();
        assert_eq!(r.employee, "Yamaguchi");
        assert_eq!(r.course, CourseName::Number(12));
        assert_eq!(r.session_day, NaiveDate::from_ymd_opt(2023, 7, 12));
        assert_eq!(r.kind, Some(AbsenceKind::LateArrival));
        assert_eq!(r.reason.as_deref(), Some("窓口当番のため"));
        assert_eq!(r.arrives_at, NaiveTime::from_hms_opt(10, 30, 0));
        assert!(r.submit);
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        let map = absence_map();
        let base =
            json!({"登録者": "a", "研修名": "接遇研修", "研修日": "2023-07-12", "区分": "欠席", "理由": "x"});
        assert!(read(FormKind::AbsenceNotice, &map, &base).is_ok());
        let with = |k: &str, v: Value| {
            let mut d = base.clone();
            d[k] = v;
            read(FormKind::AbsenceNotice, &map, &d).unwrap_err()
        };
        assert!(with("理由", json!({"value": ""})).contains("'理由'"));
        assert!(with("研修日", json!("来週")).contains("'研修日' is not a date"));
        assert!(with("区分", json!("休み")).contains("欠席, 遅刻 or 早退"));
        assert!(with("到着予定", json!("昼ごろ")).contains("time of day"));
        assert!(read(FormKind::AbsenceNotice, &map, &json!([1])).is_err());
    }

    #[test]
    fn course_names_and_years_read_as_people_write_them() {
        assert_eq!(course_name("12"), CourseName::Number(12));
        assert_eq!(course_name("第3回"), CourseName::Number(3));
        assert_eq!(course_name("７：新採用職員研修"), CourseName::Number(7));
        assert_eq!(course_name("2030年の自治体"), CourseName::Title("2030年の自治体".into()));
        assert_eq!(course_name("接遇研修"), CourseName::Title("接遇研修".into()));
        assert_eq!(fiscal_year("2023年度"), Some(2023));
        assert_eq!(fiscal_year("令和5年度"), Some(2023));
        assert_eq!(fiscal_year("R元"), Some(2019));
        assert_eq!(fiscal_year("平成30"), None);
        assert_eq!(filed("下書き"), Some(false));
        assert_eq!(filed("提出"), Some(true));
    }

    #[test]
    fn a_change_is_keyed_once_per_addition_and_once_per_content_of_an_update() {
        assert_eq!(change_key("42", Change::Added, "abc"), "42:added");
        assert_eq!(change_key("42", Change::Added, "def"), "42:added");
        assert_ne!(change_key("42", Change::Updated, "abc"), change_key("42", Change::Updated, "def"));
        assert!(InboundState::Failed.may_replay());
        assert!(!InboundState::Applied.may_replay());
    }
}
