//! 職員: the employee record and the rules every source of it (API, roster import) must meet.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::check_year;
use crate::error::{FieldCode, FieldError};
use crate::org::GradeLadder;
use crate::text::{collapse_spaces, normalize, to_katakana};

/// 職員番号: the natural key for imports. NFKC-normalised and upper-cased, 1–20 characters
/// of letters, digits and `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmployeeNo(String);

impl EmployeeNo {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = normalize(input).to_uppercase();
        if s.is_empty() || s.chars().count() > 20 {
            return Err("must be 1 to 20 characters".into());
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err("may contain only letters, digits and '-'".into());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmployeeNo {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmployeeNo> for String {
    fn from(value: EmployeeNo) -> Self {
        value.0
    }
}

/// 雇用形態.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentType {
    /// 正規
    Regular,
    /// 再任用: re-employed after retirement
    Reemployed,
    /// 会計年度任用: fixed-term
    FixedTerm,
}

impl EmploymentType {
    pub const ALL: [EmploymentType; 3] = [Self::Regular, Self::Reemployed, Self::FixedTerm];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regular => "regular",
            Self::Reemployed => "reemployed",
            Self::FixedTerm => "fixed_term",
        }
    }

    /// Accepts the API codes and the Japanese terms personnel systems export.
    pub fn parse(input: &str) -> Option<Self> {
        let s = normalize(input).to_lowercase();
        match s.trim_end_matches("職員") {
            "regular" | "正規" | "常勤" => Some(Self::Regular),
            "reemployed" | "再任用" => Some(Self::Reemployed),
            "fixed_term" | "会計年度任用" | "会計年度" => Some(Self::FixedTerm),
            _ => None,
        }
    }
}

/// An employee's data after validation. Dates and structure are typed; names are kept as the
/// person writes them (whitespace collapsed), readings in katakana.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmployeeData {
    pub employee_no: EmployeeNo,
    pub name: String,
    pub kana: String,
    pub email: Option<String>,
    /// The groupware portal's login id (desknet's NEO), where notices reach them.
    pub portal_login_id: Option<String>,
    pub grade: String,
    pub post: Option<String>,
    /// 役職発令日: when the post was given (新任の課長職 are those appointed this fiscal year).
    pub post_since: Option<NaiveDate>,
    pub hire_date: NaiveDate,
    /// 昇格日 per grade.
    pub promotions: BTreeMap<String, NaiveDate>,
    pub employment_type: EmploymentType,
    pub retirement_date: Option<NaiveDate>,
    pub tags: BTreeSet<String>,
}

/// The raw fields of an employee, from whichever source; dates already parsed.
#[derive(Debug, Clone, Default)]
pub struct EmployeeFields {
    pub employee_no: String,
    pub name: String,
    pub kana: String,
    pub email: Option<String>,
    pub portal_login_id: Option<String>,
    pub grade: String,
    pub post: Option<String>,
    pub post_since: Option<NaiveDate>,
    pub hire_date: Option<NaiveDate>,
    pub promotions: Vec<(String, NaiveDate)>,
    pub employment_type: Option<String>,
    pub retirement_date: Option<NaiveDate>,
    pub tags: Vec<String>,
}

impl EmployeeData {
    /// Validate every field and report all problems at once, named as the API names them.
    pub fn validate(f: EmployeeFields, ladder: &GradeLadder) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err =
            |field: &str, code: FieldCode, reason: String| errors.push(FieldError::new(field, code, reason));

        let employee_no =
            EmployeeNo::parse(&f.employee_no).map_err(|e| err("employee_no", FieldCode::Format, e)).ok();
        let name = collapse_spaces(&f.name);
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            err("name", FieldCode::Length, "must be 1 to 60 characters".into());
        }
        let kana = parse_kana(&f.kana).map_err(|e| err("kana", FieldCode::Format, e)).ok();
        let email = match f.email.as_deref().map(normalize).filter(|e| !e.is_empty()) {
            Some(e) => parse_email(&e).map_err(|r| err("email", FieldCode::Format, r)).ok(),
            None => None,
        };
        let portal_login_id = match f.portal_login_id.as_deref().map(normalize).filter(|e| !e.is_empty()) {
            Some(l) => parse_login_id(&l).map_err(|r| err("portal_login_id", FieldCode::Format, r)).ok(),
            None => None,
        };
        let grade = match ladder.resolve(&f.grade) {
            Some(g) => Some(g.to_string()),
            None => {
                err(
                    "grade",
                    FieldCode::UnknownValue,
                    format!("unknown grade '{}'; known: {}", normalize(&f.grade), grade_names(ladder)),
                );
                None
            }
        };
        let post = f.post.as_deref().map(parse_posts).filter(|p| !p.is_empty());
        if post.as_ref().is_some_and(|p| p.chars().count() > 40) {
            err("post", FieldCode::Length, "must be at most 40 characters, all posts together".into());
        }
        match f.hire_date {
            None => err("hire_date", FieldCode::Required, "is required".into()),
            Some(d) => {
                let _ = check_year(d).map_err(|e| err("hire_date", FieldCode::Range, e));
            }
        }
        for (field, date) in [("post_since", f.post_since), ("retirement_date", f.retirement_date)] {
            if let Some(d) = date {
                let _ = check_year(d).map_err(|e| err(field, FieldCode::Range, e));
            }
        }
        for (_, date) in &f.promotions {
            let _ = check_year(*date).map_err(|e| err("promotions", FieldCode::Range, e));
        }
        if f.post_since.is_some() && post.is_none() {
            err("post_since", FieldCode::Required, "is the date of a post; give the post too".into());
        }
        if let (Some(since), Some(hire)) = (f.post_since, f.hire_date) {
            if since < hire {
                err("post_since", FieldCode::Range, "must not be before the hire date".into());
            }
        }
        let employment_type = match f.employment_type.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(EmploymentType::Regular),
            Some(s) => EmploymentType::parse(s).or_else(|| {
                err(
                    "employment_type",
                    FieldCode::UnknownValue,
                    "must be regular (正規), reemployed (再任用) or fixed_term (会計年度任用)".into(),
                );
                None
            }),
        };
        let mut promotions = BTreeMap::new();
        for (g, date) in f.promotions {
            match ladder.resolve(&g) {
                Some(canonical) => {
                    if promotions.insert(canonical.to_string(), date).is_some() {
                        err("promotions", FieldCode::Duplicate, format!("grade '{canonical}' appears twice"));
                    }
                }
                None => {
                    err("promotions", FieldCode::UnknownValue, format!("unknown grade '{}'", normalize(&g)))
                }
            }
        }
        if let (Some(grade), Some(hire)) = (&grade, f.hire_date) {
            let rank = ladder.rank(grade);
            for (g, date) in &promotions {
                if ladder.rank(g) > rank {
                    err(
                        "promotions",
                        FieldCode::Conflict,
                        format!("promotion to {g} is above the current grade {grade}"),
                    );
                }
                if *date < hire {
                    err("promotions", FieldCode::Range, format!("promotion to {g} is before the hire date"));
                }
            }
        }
        if let (Some(ret), Some(hire)) = (f.retirement_date, f.hire_date) {
            if ret < hire {
                err("retirement_date", FieldCode::Range, "must not be before the hire date".into());
            }
        }
        let mut tags = BTreeSet::new();
        for t in f.tags {
            match parse_tag(&t) {
                Ok(Some(t)) => {
                    tags.insert(t);
                }
                Ok(None) => {}
                Err(e) => err("tags", FieldCode::Format, e),
            }
        }
        if tags.len() > 30 {
            err("tags", FieldCode::Length, "at most 30 tags".into());
        }

        match (employee_no, kana, grade, f.hire_date, employment_type) {
            (Some(employee_no), Some(kana), Some(grade), Some(hire_date), Some(employment_type))
                if errors.is_empty() =>
            {
                Ok(Self {
                    employee_no,
                    name,
                    kana,
                    email,
                    portal_login_id,
                    grade,
                    post,
                    post_since: f.post_since,
                    hire_date,
                    promotions,
                    employment_type,
                    retirement_date: f.retirement_date,
                    tags,
                })
            }
            _ => Err(errors),
        }
    }

    /// The grade held at a date is the current one; promotion dates answer "since when".
    pub fn promoted_on(&self, grade: &str) -> Option<NaiveDate> {
        self.promotions.get(grade).copied()
    }
}

fn grade_names(ladder: &GradeLadder) -> String {
    ladder.grades().iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// フリガナ: NFKC (half-width to full-width), hiragana to katakana; only katakana, ー, ・ and spaces.
pub fn parse_kana(input: &str) -> Result<String, String> {
    let s = to_katakana(&normalize(input));
    if s.is_empty() || s.chars().count() > 60 {
        return Err("must be 1 to 60 characters".into());
    }
    let ok = s.chars().all(|c| matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー' | '・' | ' ' | 'ヽ' | 'ヾ'));
    if ok {
        Ok(s)
    } else {
        Err("must be written in katakana or hiragana".into())
    }
}

/// An email address, lower-cased and checked for its shape only.
pub fn parse_email(s: &str) -> Result<String, String> {
    let s = s.to_lowercase();
    let valid = s.len() <= 254
        && !s.contains(char::is_whitespace)
        && matches!(s.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@'));
    if valid {
        Ok(s)
    } else {
        Err("is not an email address".into())
    }
}

/// A portal login id as the portal keeps it: 1 to 100 characters, no spaces or controls.
pub fn parse_login_id(s: &str) -> Result<String, String> {
    if s.chars().count() <= 100 && !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(s.to_string())
    } else {
        Err("must be 1 to 100 characters without spaces".into())
    }
}

/// Posts as people write them, several in one cell (`課長職;所属長`, `課長職・所属長`, `課長職 所属長`):
/// NFKC, each once, stored `;`-separated in the order given.
pub fn parse_posts(input: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for p in
        normalize(input).split([';', ',', '、', '・', '/', '|', ' ']).map(str::trim).filter(|p| !p.is_empty())
    {
        if !out.iter().any(|q| q == p) {
            out.push(p.to_string());
        }
    }
    out.join(";")
}

/// Tags (評価者, 防災担当 …): NFKC, 1–40 characters, none of `"` `\` or control characters.
pub fn parse_tag(input: &str) -> Result<Option<String>, String> {
    let s = normalize(input);
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > 40 || s.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
        return Err(format!("tag '{s}' must be at most 40 characters without quotes or backslashes"));
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> EmployeeFields {
        EmployeeFields {
            employee_no: "Ａ０１２３".into(),
            name: "伊勢原　太郎".into(),
            kana: "ｲｾﾊﾗ ﾀﾛｳ".into(),
            email: Some("Taro@City.Isehara.lg.jp".into()),
            portal_login_id: Some("ｉｓｅｈａｒａ.taro".into()),
            grade: "係長".into(),
            hire_date: NaiveDate::from_ymd_opt(2010, 4, 1),
            promotions: vec![("主任".into(), NaiveDate::from_ymd_opt(2015, 4, 1).unwrap())],
            tags: vec!["評価者".into(), " ".into(), "評価者".into()],
            ..Default::default()
        }
    }

    #[test]
    fn valid_employee_is_normalised() {
        let e = EmployeeData::validate(fields(), &GradeLadder::default()).unwrap();
        assert_eq!(e.employee_no.as_str(), "A0123");
        assert_eq!(e.name, "伊勢原 太郎");
        assert_eq!(e.kana, "イセハラ タロウ");
        assert_eq!(e.email.as_deref(), Some("taro@city.isehara.lg.jp"));
        assert_eq!(e.portal_login_id.as_deref(), Some("isehara.taro"));
        assert_eq!(e.employment_type, EmploymentType::Regular);
        assert_eq!(e.tags.len(), 1);
        assert_eq!(e.promoted_on("主任"), NaiveDate::from_ymd_opt(2015, 4, 1));
    }

    #[test]
    fn every_problem_is_reported() {
        let f = EmployeeFields {
            employee_no: "12 34".into(),
            name: "".into(),
            kana: "Taro".into(),
            email: Some("not-an-email".into()),
            portal_login_id: Some("taro isehara".into()),
            grade: "社長".into(),
            hire_date: None,
            employment_type: Some("アルバイト".into()),
            ..Default::default()
        };
        let errors = EmployeeData::validate(f, &GradeLadder::default()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "employee_no",
            "name",
            "kana",
            "email",
            "portal_login_id",
            "grade",
            "hire_date",
            "employment_type",
        ] {
            assert!(fields.contains(&expected), "{expected} missing from {fields:?}");
        }
    }

    #[test]
    fn dates_fall_in_the_one_range_that_files_accept() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        for (hire, ok) in
            [(d(1, 1, 1), false), (d(9999, 12, 31), false), (d(1899, 12, 31), false), (d(1900, 1, 1), true)]
        {
            let f = EmployeeFields { hire_date: hire, promotions: vec![], ..fields() };
            assert_eq!(EmployeeData::validate(f, &GradeLadder::default()).is_ok(), ok, "{hire:?}");
        }
        let f = EmployeeFields { retirement_date: d(9999, 3, 31), ..fields() };
        let errors = EmployeeData::validate(f, &GradeLadder::default()).unwrap_err();
        assert_eq!(errors[0].field, "retirement_date");
        assert!(crate::calendar::parse_date("9999-12-31").is_err(), "the files' rule is the same");
    }

    #[test]
    fn promotion_above_grade_or_before_hire_is_refused() {
        let mut f = fields();
        f.promotions = vec![("課長".into(), NaiveDate::from_ymd_opt(2020, 4, 1).unwrap())];
        assert!(EmployeeData::validate(f, &GradeLadder::default()).is_err());
        let mut f = fields();
        f.promotions = vec![("主任".into(), NaiveDate::from_ymd_opt(2000, 4, 1).unwrap())];
        assert!(EmployeeData::validate(f, &GradeLadder::default()).is_err());
    }

    #[test]
    fn retirement_before_hire_is_refused() {
        let mut f = fields();
        f.retirement_date = NaiveDate::from_ymd_opt(2000, 3, 31);
        let errors = EmployeeData::validate(f, &GradeLadder::default()).unwrap_err();
        assert_eq!(errors[0].field, "retirement_date");
    }

    #[test]
    fn post_since_needs_a_post_and_follows_the_hire() {
        let mut f = fields();
        f.post_since = NaiveDate::from_ymd_opt(2023, 4, 1);
        assert_eq!(
            EmployeeData::validate(f.clone(), &GradeLadder::default()).unwrap_err()[0].field,
            "post_since"
        );
        f.post = Some("課長職".into());
        assert_eq!(
            EmployeeData::validate(f.clone(), &GradeLadder::default()).unwrap().post_since,
            f.post_since
        );
        f.post_since = NaiveDate::from_ymd_opt(2000, 4, 1);
        assert!(EmployeeData::validate(f, &GradeLadder::default()).is_err());
    }

    #[test]
    fn employment_types_parse_in_japanese() {
        assert_eq!(EmploymentType::parse("再任用職員"), Some(EmploymentType::Reemployed));
        assert_eq!(EmploymentType::parse("会計年度任用職員"), Some(EmploymentType::FixedTerm));
        assert_eq!(EmploymentType::parse("正規"), Some(EmploymentType::Regular));
        assert_eq!(EmploymentType::parse("fixed_term"), Some(EmploymentType::FixedTerm));
    }

    #[test]
    fn kana_accepts_hiragana() {
        assert_eq!(parse_kana("やまだ はなこ").unwrap(), "ヤマダ ハナコ");
        assert!(parse_kana("山田").is_err());
    }

    #[test]
    fn several_posts_in_one_cell_are_each_held() {
        assert_eq!(parse_posts("課長職;所属長"), "課長職;所属長");
        assert_eq!(parse_posts("課長職・所属長"), "課長職;所属長");
        assert_eq!(parse_posts(" 課長職　所属長 課長職 "), "課長職;所属長", "全角 space, repeated");
        let f = EmployeeFields {
            post: Some("課長職、所属長".into()),
            post_since: NaiveDate::from_ymd_opt(2023, 4, 1),
            ..fields()
        };
        let e = EmployeeData::validate(f, &GradeLadder::default()).unwrap();
        assert_eq!(e.post.as_deref(), Some("課長職;所属長"));
    }
}
