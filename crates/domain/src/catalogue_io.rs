//! Catalogue files (研修一覧の取込・出力): one plan's courses as CSV (for Excel) or JSON, in a
//! form that imports back unchanged. Courses are keyed by category and number within the year,
//! so importing the same file twice changes nothing.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::attendance::CompletionRule;
use crate::audience::{format_rules, parse_rules, AudienceRule};
use crate::calendar::{parse_date, FiscalYear};
use crate::catalogue::{
    Aim, ApplicationWindow, Category, CourseData, CourseFields, Delivery, Pillar, ReportRule, Timing,
};
use crate::roster_import::{
    decoded_source, header_of, next_record, split_list, Encoding, FileError, LineNormalizer, RowError,
};
use crate::spreadsheet::{Cell, Table};
use crate::text::normalize;
use crate::{FieldCode, Words};

/// A course's key within its fiscal year: 階層別 No.1.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseKey {
    pub category: Category,
    pub number: u32,
}

impl CourseKey {
    /// `階層別-1` (or `hierarchical-1`), as the CSV's 位置づけ column writes it.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = normalize(input);
        let bad = || format!("'{s}' is not a course key; write the category and number, like 階層別-1");
        let (category, number) = s.rsplit_once(['-', '－', ' ']).ok_or_else(bad)?;
        let category = Category::parse(category).ok_or_else(bad)?;
        let number = number.trim_start_matches(['N', 'n', 'o', 'O', '.']).parse().map_err(|_| bad())?;
        Ok(Self { category, number })
    }

    pub fn label(self) -> String {
        format!("{}-{}", self.category.japanese(), self.number)
    }
}

/// The plan's own text in a file.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanText {
    pub title: Option<String>,
    pub policy: Option<String>,
    #[serde(default)]
    pub focus_areas: Vec<String>,
}

/// One course in a file. Sessions are not part of the catalogue file.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseEntry {
    pub category: Category,
    pub number: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(default)]
    pub rules: Vec<AudienceRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headcount: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportRule>,
    /// 修了要件: absent means every session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<CompletionRule>,
    /// 申込期間, for courses open for application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_window: Option<ApplicationWindow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pillar: Option<Pillar>,
    #[serde(default)]
    pub aims: Vec<Aim>,
    /// 位置づけ: the course of the same year this one is part of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<CourseKey>,
}

/// A whole catalogue file: the plan's text (optional) and its courses.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanText>,
    pub courses: Vec<CourseEntry>,
}

impl PlanText {
    pub fn validate(self, fy: FiscalYear) -> Result<crate::catalogue::PlanData, Vec<crate::FieldError>> {
        crate::catalogue::PlanData::validate(self.title, self.policy, self.focus_areas, fy)
    }
}

impl CatalogueFile {
    /// The plan's text and the courses as rows, numbered by their position from 1.
    pub fn into_rows(self) -> (Option<PlanText>, Vec<ImportRow>) {
        let rows = self.courses.into_iter().enumerate().map(|(i, c)| c.into_row(i as u64 + 1)).collect();
        (self.plan, rows)
    }
}

/// A course read from a file, not yet validated: its line (CSV; the header is line 1) or
/// position (JSON, from 1), its fields and the key of the course it is positioned within.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub fields: CourseFields,
    pub within: Option<CourseKey>,
}

/// A validated course of a file.
#[derive(Debug, Clone)]
pub struct ValidCourse {
    pub line: u64,
    pub data: CourseData,
    pub within: Option<CourseKey>,
}

/// Dispatch courses default to dispatch delivery; everything else to the classroom.
fn default_delivery(category: Category) -> Delivery {
    if category == Category::Dispatch {
        Delivery::Dispatch
    } else {
        Delivery::Classroom
    }
}

impl CourseEntry {
    pub fn into_row(self, line: u64) -> ImportRow {
        let delivery = self.delivery.unwrap_or(default_delivery(self.category));
        ImportRow {
            line,
            within: self.within,
            fields: CourseFields {
                category: self.category.as_str().into(),
                number: Some(self.number),
                title: self.title,
                purpose: self.purpose,
                content: self.content,
                audience: self.audience,
                rules: self.rules,
                timing: self.timing,
                delivery: delivery.as_str().into(),
                institution: self.institution,
                headcount: self.headcount,
                report: self.report,
                completion: self.completion,
                application_window: self.application_window,
                notes: self.notes,
                pillar: self.pillar.map(|p| p.as_str().into()),
                aims: self.aims.iter().map(|a| a.as_str().into()).collect(),
            },
        }
    }

    /// The file form of a stored course.
    pub fn from_data(c: &CourseData, within: Option<CourseKey>) -> Self {
        Self {
            category: c.category,
            number: c.number,
            title: c.title.clone(),
            purpose: c.purpose.clone(),
            content: c.content.clone(),
            audience: c.audience.clone(),
            rules: c.rules.clone(),
            timing: Some(c.timing),
            delivery: Some(c.delivery),
            institution: c.institution.clone(),
            headcount: c.headcount,
            report: Some(c.report),
            completion: (c.completion != CompletionRule::AllSessions).then_some(c.completion),
            application_window: c.application_window,
            notes: c.notes.clone(),
            pillar: Some(c.pillar),
            aims: c.aims.clone(),
            within,
        }
    }
}

/// Validate every row and check keys: no key twice in the file, and every 位置づけ names a course
/// of the file or of `existing` (the plan's stored keys). All errors of all rows are returned.
pub fn validate_rows(
    rows: Vec<ImportRow>,
    fy: FiscalYear,
    existing: &[CourseKey],
    ladder: &crate::org::GradeLadder,
) -> Result<Vec<ValidCourse>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut seen: HashMap<CourseKey, u64> = HashMap::new();
    for row in rows {
        match CourseData::validate(row.fields, fy, ladder) {
            Ok(data) => {
                let key = CourseKey { category: data.category, number: data.number };
                if let Some(first) = seen.insert(key, row.line) {
                    errors.push(RowError::new(
                        row.line,
                        "number",
                        FieldCode::Duplicate,
                        format!("{} appears twice (first at {first})", key.label()),
                    ));
                }
                out.push(ValidCourse { line: row.line, data, within: row.within });
            }
            Err(e) => errors.extend(e.into_iter().map(|f| RowError::of_field(row.line, f.field.clone(), f))),
        }
    }
    for ValidCourse { line, data, within } in &out {
        if let Some(w) = within {
            let own = CourseKey { category: data.category, number: data.number };
            if *w == own {
                errors.push(RowError::new(
                    *line,
                    "within",
                    FieldCode::Conflict,
                    "a course cannot be positioned within itself",
                ));
            } else if !seen.contains_key(w) && !existing.contains(w) {
                errors.push(RowError::new(
                    *line,
                    "within",
                    FieldCode::NotFound,
                    format!("no course {} in this fiscal year's plan or file", w.label()),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Category,
    Number,
    Title,
    Purpose,
    Content,
    Audience,
    Rules,
    Timing,
    Delivery,
    Institution,
    Headcount,
    Report,
    Completion,
    ApplicationOpens,
    ApplicationCloses,
    Notes,
    Pillar,
    Aims,
    Within,
}

/// Columns in export order: the Japanese header first, then the other accepted names.
const COLUMNS: &[(Column, &[&str])] = &[
    (Column::Category, &["区分", "category", "研修区分", "分類"]),
    (Column::Number, &["No", "number", "no.", "番号"]),
    (Column::Title, &["研修名", "title"]),
    (Column::Purpose, &["目的", "purpose"]),
    (Column::Content, &["内容", "content"]),
    (Column::Audience, &["対象", "audience", "対象・選考"]),
    (Column::Rules, &["対象ルール", "rules"]),
    (Column::Timing, &["実施時期", "timing"]),
    (Column::Delivery, &["実施方法", "delivery"]),
    (Column::Institution, &["研修機関", "institution"]),
    (Column::Headcount, &["人数", "headcount"]),
    (Column::Report, &["報告書", "report"]),
    (Column::Completion, &["修了要件", "completion"]),
    (Column::ApplicationOpens, &["申込開始", "application_opens", "申込開始日"]),
    (Column::ApplicationCloses, &["申込締切", "application_closes", "申込締切日", "申込期限"]),
    (Column::Notes, &["備考", "notes"]),
    (Column::Pillar, &["柱", "pillar"]),
    (Column::Aims, &["ねらい", "aims"]),
    (Column::Within, &["位置づけ", "within"]),
];

fn header_key(h: &str) -> String {
    normalize(h).to_lowercase().chars().filter(|c| !matches!(c, ' ' | '_' | '-')).collect()
}

fn column_for(h: &str) -> Option<Column> {
    let key = header_key(h);
    COLUMNS.iter().find(|(_, names)| names.iter().any(|n| header_key(n) == key)).map(|(c, _)| *c)
}

/// 人数: a number of people (11, 11人, 11名); empty or 未定 when undecided.
fn parse_headcount(value: &str) -> Result<Option<u32>, String> {
    let s = normalize(value);
    if s.is_empty() || s == "未定" {
        return Ok(None);
    }
    s.trim_end_matches(['人', '名'])
        .parse()
        .map(Some)
        .map_err(|_| format!("'{s}' is not a number of people (write 11, 11人 or 未定)"))
}

/// 報告書: 7日 / days:7, 1か月 / months:1, なし / none; empty means the default (7 days).
fn parse_report(value: &str) -> Result<Option<ReportRule>, String> {
    let s = normalize(value).to_lowercase();
    let s = s.trim_end_matches("以内");
    if s.is_empty() {
        return Ok(None);
    }
    if matches!(s, "なし" | "不要" | "none" | "無") {
        return Ok(Some(ReportRule::None));
    }
    let bad = || format!("'{s}' is not a report deadline (write 7日, 1か月 or なし)");
    let number = |t: &str| t.trim().parse::<u32>().map_err(|_| bad());
    if let Some(d) = s.strip_prefix("days:").or_else(|| s.strip_suffix('日')) {
        return Ok(Some(ReportRule::DaysAfterEnd { days: number(d)? }));
    }
    if let Some(w) = s.strip_suffix("週間") {
        return Ok(Some(ReportRule::DaysAfterEnd { days: number(w)? * 7 }));
    }
    for suffix in ["か月", "ヶ月", "カ月", "ケ月", "箇月", "月"] {
        if let Some(m) = s.strip_suffix(suffix) {
            return Ok(Some(ReportRule::MonthsAfterEnd { months: number(m)? }));
        }
    }
    if let Some(m) = s.strip_prefix("months:") {
        return Ok(Some(ReportRule::MonthsAfterEnd { months: number(m)? }));
    }
    Err(bad())
}

/// 修了要件: 全回 (every session) or a share (80%, ８割, 80%以上出席); empty means every session.
fn parse_completion(value: &str) -> Result<Option<CompletionRule>, String> {
    let s = normalize(value).to_lowercase();
    let s = s.trim_end_matches("出席").trim_end_matches("以上").trim();
    if s.is_empty() {
        return Ok(None);
    }
    if matches!(s, "全回" | "全て" | "すべて" | "all" | "all_sessions") {
        return Ok(Some(CompletionRule::AllSessions));
    }
    let bad = || format!("'{s}' is not a completion rule (write 全回出席, 80% or 8割)");
    let number = |t: &str| t.trim().parse::<u8>().map_err(|_| bad());
    let percent = if let Some(p) = s.strip_suffix('%') {
        number(p)?
    } else if let Some(w) = s.strip_suffix('割') {
        number(w)?.checked_mul(10).ok_or_else(bad)?
    } else {
        return Err(bad());
    };
    Ok(Some(CompletionRule::MinShare { percent }))
}

fn format_completion(r: CompletionRule) -> String {
    match r {
        CompletionRule::AllSessions => String::new(),
        CompletionRule::MinShare { percent } => format!("{percent}%以上出席"),
    }
}

fn format_report(r: ReportRule) -> String {
    match r {
        ReportRule::None => "なし".into(),
        ReportRule::DaysAfterEnd { days } => format!("{days}日"),
        ReportRule::MonthsAfterEnd { months } => format!("{months}か月"),
    }
}

fn optional(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// The rows of a catalogue CSV: those whose cells all read, and every cell that did not. Keys of
/// rows with bad cells are kept, so a course positioned within one of them is not also reported.
#[derive(Debug, Clone, Default)]
pub struct CsvRows {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
    pub keys_of_bad_rows: Vec<CourseKey>,
}

/// Read a catalogue CSV (UTF-8 with or without BOM, or Shift_JIS; headers in Japanese or
/// English). Only a file that cannot be read as a whole is an error here.
pub fn read_csv(bytes: &[u8], encoding: Encoding) -> Result<CsvRows, FileError> {
    let source = LineNormalizer::new(decoded_source(bytes, encoding)?);
    let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(source);
    let headers: Vec<String> = header_of(&mut csv)?.iter().map(normalize).collect();
    if headers.iter().all(String::is_empty) {
        return Err(FileError::Empty);
    }
    let columns: Vec<Option<Column>> = headers.iter().map(|h| column_for(h)).collect();
    let missing: Vec<&str> = [Column::Category, Column::Number, Column::Title]
        .iter()
        .filter(|c| !columns.contains(&Some(**c)))
        .map(|c| COLUMNS.iter().find(|(k, _)| k == c).map_or("", |(_, n)| n[1]))
        .collect();
    if !missing.is_empty() {
        return Err(FileError::Header(Words::new(
            format!("missing required columns: {}", missing.join(", ")),
            format!("必須の列がありません: {}", missing.join("、")),
        )));
    }
    let mut out = CsvRows::default();
    let errors = &mut out.errors;
    let mut record = csv::StringRecord::new();
    while let Some(line) = next_record(&mut csv, &mut record, errors) {
        let errors_before = errors.len();
        let mut fields = CourseFields::default();
        let mut within = None;
        let mut category = None;
        let mut delivery_given = false;
        let (mut opens, mut closes, mut unreadable_date) = (None, None, false);
        let mut bad = |column: &str, code: FieldCode, reason: String| {
            errors.push(RowError::new(line, column, code, reason))
        };
        for (i, value) in record.iter().enumerate() {
            let (Some(Some(column)), Some(header)) = (columns.get(i), headers.get(i)) else { continue };
            // The export's neutralised cells read back as they were.
            let value = crate::spreadsheet::restore(value);
            match column {
                Column::Category => {
                    fields.category = value.to_string();
                    category = Category::parse(value);
                }
                Column::Number => {
                    match normalize(value).trim_start_matches(['N', 'n', 'o', 'O', '.']).parse() {
                        Ok(n) => fields.number = Some(n),
                        Err(_) => {
                            bad(header, FieldCode::Format, format!("'{}' is not a number", value.trim()))
                        }
                    }
                }
                Column::Title => fields.title = value.to_string(),
                Column::Purpose => fields.purpose = optional(value),
                Column::Content => fields.content = optional(value),
                Column::Audience => fields.audience = optional(value),
                Column::Rules => match parse_rules(value) {
                    Ok(r) => fields.rules = r,
                    Err(e) => bad(header, FieldCode::Format, e),
                },
                Column::Timing => {
                    if !value.trim().is_empty() {
                        match Timing::parse(value) {
                            Ok(t) => fields.timing = Some(t),
                            Err(e) => bad(header, FieldCode::Format, e),
                        }
                    }
                }
                Column::Delivery => {
                    delivery_given = !value.trim().is_empty();
                    fields.delivery = value.to_string();
                }
                Column::Institution => fields.institution = optional(value),
                Column::Headcount => match parse_headcount(value) {
                    Ok(h) => fields.headcount = h,
                    Err(e) => bad(header, FieldCode::Format, e),
                },
                Column::Report => match parse_report(value) {
                    Ok(r) => fields.report = r,
                    Err(e) => bad(header, FieldCode::Format, e),
                },
                Column::Completion => match parse_completion(value) {
                    Ok(r) => fields.completion = r,
                    Err(e) => bad(header, FieldCode::Format, e),
                },
                Column::ApplicationOpens | Column::ApplicationCloses if !value.trim().is_empty() => {
                    match parse_date(value) {
                        Ok(d) if *column == Column::ApplicationOpens => opens = Some((d, header)),
                        Ok(d) => closes = Some((d, header)),
                        Err(e) => {
                            unreadable_date = true;
                            bad(header, FieldCode::Format, format!("'{}': {e}", value.trim()));
                        }
                    }
                }
                Column::ApplicationOpens | Column::ApplicationCloses => {}
                Column::Notes => fields.notes = optional(value),
                Column::Pillar => fields.pillar = optional(value),
                Column::Aims => fields.aims = split_list(value),
                Column::Within => {
                    if !value.trim().is_empty() {
                        match CourseKey::parse(value) {
                            Ok(k) => within = Some(k),
                            Err(e) => bad(header, FieldCode::Format, e),
                        }
                    }
                }
            }
        }
        match (opens, closes) {
            (Some((opens, _)), Some((closes, _))) => {
                fields.application_window = Some(ApplicationWindow { opens, closes });
            }
            (Some((_, header)), None) | (None, Some((_, header))) if !unreadable_date => {
                bad(header, FieldCode::Required, "give both 申込開始 and 申込締切, or neither".into());
            }
            _ => {}
        }
        if !delivery_given {
            fields.delivery = default_delivery(category.unwrap_or(Category::Other)).as_str().into();
        }
        if errors.len() == errors_before {
            out.rows.push(ImportRow { line, fields, within });
        } else if let (Some(category), Some(number)) = (category, fields.number) {
            out.keys_of_bad_rows.push(CourseKey { category, number });
        }
    }
    Ok(out)
}

/// The courses as a table with the Japanese headers: as CSV, the form [`read_csv`] reads back.
pub fn table(courses: &[CourseEntry]) -> Table {
    let header: Vec<&str> = COLUMNS.iter().map(|(_, names)| names[0]).collect();
    let mut table = Table::new("研修計画", &header);
    for c in courses {
        let text = |v: &Option<String>| Cell::from(v.as_ref());
        table.push(vec![
            c.category.japanese().into(),
            c.number.into(),
            (&c.title).into(),
            text(&c.purpose),
            text(&c.content),
            text(&c.audience),
            format_rules(&c.rules).into(),
            c.timing.map(Timing::japanese).into(),
            c.delivery.map(|d| d.japanese()).into(),
            text(&c.institution),
            c.headcount.into(),
            c.report.map(format_report).into(),
            c.completion.map(format_completion).into(),
            c.application_window.map(|w| w.opens).into(),
            c.application_window.map(|w| w.closes).into(),
            text(&c.notes),
            c.pillar.map(|p| p.japanese()).into(),
            c.aims.iter().map(|a| a.japanese()).collect::<Vec<_>>().join(";").into(),
            c.within.map(CourseKey::label).into(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience::{Condition, Route};
    use crate::org::GradeLadder;

    fn fy2023() -> FiscalYear {
        FiscalYear::new(2023).unwrap()
    }

    fn entry() -> CourseEntry {
        CourseEntry {
            category: Category::Hierarchical,
            number: 9,
            title: "主任者研修Ⅱ".into(),
            purpose: Some("市民参加型行政運営に向けて必要な会議運営及び司会進行の能力向上をめざす。".into()),
            content: Some("会議運営と司会進行技術".into()),
            audience: Some("主任級昇格者3年を経過した者".into()),
            rules: vec![AudienceRule {
                route: Route::Designation,
                conditions: vec![Condition::YearsAfterPromotion { grade: "主任".into(), years: 3 }],
            }],
            timing: Some(Timing::Month { month: 8 }),
            delivery: Some(Delivery::ELearning),
            institution: None,
            headcount: None,
            report: Some(ReportRule::default()),
            completion: Some(CompletionRule::MinShare { percent: 80 }),
            application_window: Some(ApplicationWindow {
                opens: chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap(),
                closes: chrono::NaiveDate::from_ymd_opt(2023, 5, 31).unwrap(),
            }),
            notes: Some("eラーニング等".into()),
            pillar: Some(Pillar::OffJt),
            aims: vec![Aim::Ability],
            within: Some(CourseKey { category: Category::Hierarchical, number: 8 }),
        }
    }

    #[test]
    fn csv_round_trips() {
        let parent = CourseEntry { number: 8, within: None, ..entry() };
        let text = table(&[parent.clone(), entry()]).to_csv();
        assert!(text.starts_with("区分,No,研修名,目的"));
        let rows = read_csv(text.as_bytes(), Encoding::Auto).unwrap().rows;
        assert_eq!(rows[1].line, 3);
        let valid = validate_rows(rows, fy2023(), &[], &GradeLadder::default()).unwrap();
        let back: Vec<CourseEntry> =
            valid.iter().map(|v| CourseEntry::from_data(&v.data, v.within)).collect();
        assert_eq!(back, vec![parent, entry()]);
    }

    #[test]
    fn csv_reads_excel_shift_jis_and_japanese_cells() {
        let text = "区分,No,研修名,対象ルール,実施時期,人数,報告書,位置づけ\r\n派遣,２,市町村職員中央研修所（市町村アカデミー）,推薦: all_staff; 公募: all_staff,５月～２月,１１人,１か月,\r\n課題別・職能別,1,市民サービス向上研修Ⅰ,指名制: new_hires,４月,,なし,階層別-1\r\n";
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(!unmappable);
        let rows = read_csv(&sjis, Encoding::Auto).unwrap().rows;
        let dispatch = CourseData::validate(rows[0].fields.clone(), fy2023(), &GradeLadder::default());
        let e = dispatch.unwrap_err();
        assert_eq!(e[0].field, "institution", "dispatch delivery by default needs the institution");
        assert_eq!(rows[0].fields.headcount, Some(11));
        assert_eq!(rows[0].fields.report, Some(ReportRule::MonthsAfterEnd { months: 1 }));
        assert_eq!(rows[0].fields.timing, Some(Timing::Months { from: 5, to: 2 }));
        assert_eq!(rows[1].within, Some(CourseKey { category: Category::Hierarchical, number: 1 }));
        assert_eq!(rows[1].fields.report, Some(ReportRule::None));
    }

    #[test]
    fn every_bad_cell_and_row_is_reported() {
        let text = "区分,No,研修名,対象ルール,実施時期,人数,報告書,位置づけ\n階層別,x,A,lottery: all_staff,春,many,someday,?\n研究,2,B,,,,,\n階層別,3,C,,,,,\n階層別,3,D,,,,,階層別-99\n";
        let read = read_csv(text.as_bytes(), Encoding::Auto).unwrap();
        assert_eq!(read.rows.len(), 3, "rows with bad cells are left out");
        let columns: Vec<&str> = read.errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(columns, vec!["No", "対象ルール", "実施時期", "人数", "報告書", "位置づけ"]);
        assert!(read.errors.iter().all(|e| e.line == 2));
        let errors =
            validate_rows(read.rows, fy2023(), &read.keys_of_bad_rows, &GradeLadder::default()).unwrap_err();
        let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(got, vec![(3, "category"), (5, "number"), (5, "within")]);
    }

    #[test]
    fn application_windows_read_in_japanese_dates_and_need_both_ends() {
        let text = "区分,No,研修名,申込開始,申込締切\n\
                    自己啓発,1,通信教育講座助成,令和5年8月1日,2024/2/29\n\
                    自己啓発,2,A,2023-08-01,\n\
                    自己啓発,3,B,8月1日,2023-09-01\n\
                    自己啓発,4,C,,\n";
        let read = read_csv(text.as_bytes(), Encoding::Auto).unwrap();
        let window = read.rows[0].fields.application_window.unwrap();
        assert_eq!(window.opens.to_string(), "2023-08-01");
        assert_eq!(window.closes.to_string(), "2024-02-29");
        assert_eq!(read.rows[1].fields.application_window, None);
        let got: Vec<(u64, &str)> = read.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(got, vec![(3, "申込開始"), (4, "申込開始")]);
        assert!(read.errors[0].reason.contains("申込締切"), "{}", read.errors[0].reason);
    }

    #[test]
    fn missing_columns_are_named() {
        match read_csv("区分,研修名\n階層別,A\n".as_bytes(), Encoding::Auto) {
            Err(FileError::Header(m)) => assert!(m.en.contains("number"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_and_cells_parse() {
        assert_eq!(
            CourseKey::parse("課題別・職能別-12").unwrap(),
            CourseKey { category: Category::Thematic, number: 12 }
        );
        assert_eq!(CourseKey::parse("hierarchical-1").unwrap().label(), "階層別-1");
        assert!(CourseKey::parse("階層別").is_err());
        assert_eq!(parse_completion("８割以上出席").unwrap(), Some(CompletionRule::MinShare { percent: 80 }));
        assert_eq!(parse_completion("75%").unwrap(), Some(CompletionRule::MinShare { percent: 75 }));
        assert_eq!(parse_completion("全回出席").unwrap(), Some(CompletionRule::AllSessions));
        assert_eq!(parse_completion(" ").unwrap(), None);
        assert!(parse_completion("ほぼ").is_err() && parse_completion("30割").is_err());
        assert_eq!(
            parse_completion(&format_completion(CompletionRule::MinShare { percent: 80 })).unwrap(),
            Some(CompletionRule::MinShare { percent: 80 })
        );
        assert_eq!(parse_report("１週間以内").unwrap(), Some(ReportRule::DaysAfterEnd { days: 7 }));
        assert!(parse_report("いつか").is_err());
        assert_eq!(parse_report("7日以内").unwrap(), Some(ReportRule::DaysAfterEnd { days: 7 }));
        assert_eq!(parse_headcount("未定").unwrap(), None);
    }
}
