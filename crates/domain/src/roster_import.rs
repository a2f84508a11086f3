//! Roster import (職員名簿の取込): CSV bytes in, typed rows or a list of row errors out.
//!
//! The file is read as a stream twice by the caller (validate, then write), never copied whole:
//! UTF-8 is parsed in place, Shift_JIS is decoded through a small buffer.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::parse_date;
use crate::employee::{EmployeeData, EmployeeFields, EmployeeNo};
use crate::org::{Code, GradeLadder};
use crate::text::normalize;
use crate::{FieldCode, FieldError, Words};

/// How the file is encoded; `Auto` takes a BOM or valid UTF-8 as UTF-8 and anything else as
/// Shift_JIS (CP932, what Excel saves as "CSV" on Japanese Windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    #[default]
    Auto,
    #[serde(alias = "utf8")]
    Utf8,
    #[serde(alias = "sjis", alias = "cp932", alias = "windows-31j")]
    ShiftJis,
}

impl Encoding {
    /// From a `charset` parameter of a Content-Type header.
    pub fn from_charset(charset: &str) -> Option<Self> {
        match charset.trim().trim_matches('"').to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Self::Utf8),
            "shift_jis" | "shift-jis" | "sjis" | "cp932" | "windows-31j" | "ms932" => Some(Self::ShiftJis),
            _ => None,
        }
    }
}

/// A problem with the file as a whole: nothing in it can be read row by row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    Encoding(Words),
    #[error("the file is empty")]
    Empty,
    #[error("{0}")]
    Header(Words),
}

impl FileError {
    /// What is wrong with the file, in both languages.
    pub fn words(&self) -> Words {
        match self {
            FileError::Encoding(w) | FileError::Header(w) => w.clone(),
            FileError::Empty => Words::fixed("the file is empty", "ファイルが空です"),
        }
    }
}

/// One bad value: the line of the file (the header is line 1), the column as the file names
/// it, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    /// What kind of mistake, as a field's is (stable: a client may show its own text by it).
    pub code: FieldCode,
    pub reason: String,
}

impl RowError {
    pub fn new(line: u64, column: impl Into<String>, code: FieldCode, reason: impl Into<String>) -> Self {
        RowError { line, column: column.into(), code, reason: reason.into() }
    }

    /// A field's error found on a row, in the file's column.
    pub fn of_field(line: u64, column: impl Into<String>, error: FieldError) -> Self {
        RowError { line, column: column.into(), code: error.code, reason: error.reason }
    }
}

/// A valid row of the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub line: u64,
    pub section_code: String,
    pub data: EmployeeData,
    /// The roster names them the head (所属長) of their section.
    pub heads_section: bool,
    /// The roster names them the head (部長) of their section's department.
    pub heads_department: bool,
}

impl RosterRow {
    /// What the row is silent about that a rule needs, said once per row without refusing it:
    /// a post without its appointment date (役職発令日) matches no "newly appointed" rule.
    pub fn warnings(&self) -> Vec<RowError> {
        let mut out = Vec::new();
        if self.data.post.is_some() && self.data.post_since.is_none() {
            out.push(RowError::new(
                self.line,
                "役職発令日",
                FieldCode::Required,
                format!(
                    "{} has no appointment date: rules for the newly appointed (新任の…) will not match them",
                    self.data.post.as_deref().unwrap_or_default().replace(';', "・")
                ),
            ));
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    EmployeeNo,
    Name,
    Kana,
    Email,
    PortalLoginId,
    SectionCode,
    Grade,
    Post,
    PostSince,
    HireDate,
    Promotions,
    EmploymentType,
    RetirementDate,
    Tags,
    HeadsSection,
    HeadsDepartment,
}

/// Accepted header names per column, compared after NFKC, lower-casing and dropping spaces,
/// `_` and `-`.
const HEADERS: &[(Column, &[&str])] = &[
    (Column::EmployeeNo, &["employeeno", "employeenumber", "職員番号", "職員no", "職員コード", "社員番号"]),
    (Column::Name, &["name", "氏名", "職員氏名", "漢字氏名", "名前"]),
    (
        Column::Kana,
        &["kana", "namekana", "カナ", "氏名カナ", "カナ氏名", "フリガナ", "ふりがな", "氏名(カナ)"],
    ),
    (Column::Email, &["email", "mail", "メール", "メールアドレス", "eメール"]),
    (
        Column::PortalLoginId,
        &["portal_login_id", "login_id", "ログインid", "ポータルログインid", "neoログインid"],
    ),
    (Column::SectionCode, &["sectioncode", "section", "所属コード", "所属", "課コード"]),
    (Column::Grade, &["grade", "職級", "級"]),
    (Column::Post, &["post", "職", "職名", "役職"]),
    (Column::PostSince, &["postsince", "役職発令日", "発令日", "職発令日"]),
    (Column::HireDate, &["hiredate", "hired", "採用日", "採用年月日"]),
    (Column::Promotions, &["promotions", "昇格日", "昇格"]),
    (Column::EmploymentType, &["employmenttype", "雇用形態", "任用形態", "任用区分"]),
    (Column::RetirementDate, &["retirementdate", "退職予定日", "退職予定"]),
    (Column::Tags, &["tags", "タグ", "属性", "担当"]),
    (Column::HeadsSection, &["headssection", "sectionhead", "所属長"]),
    (Column::HeadsDepartment, &["headsdepartment", "departmenthead", "部長"]),
];

const REQUIRED: [Column; 6] =
    [Column::EmployeeNo, Column::Name, Column::Kana, Column::SectionCode, Column::Grade, Column::HireDate];

pub(crate) fn header_key(h: &str) -> String {
    normalize(h).to_lowercase().chars().filter(|c| !matches!(c, ' ' | '_' | '-')).collect()
}

fn column_for(header: &str) -> Option<Column> {
    let key = header_key(header);
    HEADERS.iter().find(|(_, names)| names.iter().any(|n| header_key(n) == key)).map(|(c, _)| *c)
}

/// The English header name of each column, used in messages and in the documentation.
fn column_name(c: Column) -> &'static str {
    match c {
        Column::EmployeeNo => "employee_no",
        Column::Name => "name",
        Column::Kana => "kana",
        Column::Email => "email",
        Column::PortalLoginId => "portal_login_id",
        Column::SectionCode => "section_code",
        Column::Grade => "grade",
        Column::Post => "post",
        Column::PostSince => "post_since",
        Column::HireDate => "hire_date",
        Column::Promotions => "promotions",
        Column::EmploymentType => "employment_type",
        Column::RetirementDate => "retirement_date",
        Column::Tags => "tags",
        Column::HeadsSection => "heads_section",
        Column::HeadsDepartment => "heads_department",
    }
}

/// A yes/no cell as a roster marks a head: 〇, ○, 1, はい, yes, true (or the title itself); an
/// empty cell, ×, 0, いいえ, no or false is no.
fn parse_flag(value: &str) -> Result<bool, String> {
    match normalize(value).to_lowercase().as_str() {
        "" | "×" | "x" | "0" | "いいえ" | "no" | "false" | "-" => Ok(false),
        "〇" | "○" | "◯" | "1" | "はい" | "yes" | "true" | "所属長" | "部長" => Ok(true),
        other => Err(format!("'{other}' is not a yes (〇, 1) or no (empty, ×, 0)")),
    }
}

/// Reads a roster file row by row.
pub struct RosterReader<'a> {
    csv: csv::Reader<LineNormalizer<Box<dyn Read + 'a>>>,
    headers: Vec<String>,
    columns: Vec<Option<Column>>,
    ladder: &'a GradeLadder,
    sections: &'a HashSet<String>,
    seen: HashMap<EmployeeNo, u64>,
    record: csv::StringRecord,
}

impl<'a> RosterReader<'a> {
    /// Check the encoding and the header. `sections` holds the organisation's section codes.
    pub fn open(
        bytes: &'a [u8],
        encoding: Encoding,
        ladder: &'a GradeLadder,
        sections: &'a HashSet<String>,
    ) -> Result<Self, FileError> {
        let source = LineNormalizer::new(decoded_source(bytes, encoding)?);
        let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(source);
        let raw_headers = header_of(&mut csv)?.clone();
        if raw_headers.iter().all(|h| h.trim().is_empty()) {
            return Err(FileError::Empty);
        }
        let headers: Vec<String> = raw_headers.iter().map(normalize).collect();
        let columns: Vec<Option<Column>> = headers.iter().map(|h| column_for(h)).collect();
        let mut problems = Vec::new();
        let missing: Vec<&str> =
            REQUIRED.iter().filter(|c| !columns.contains(&Some(**c))).map(|c| column_name(*c)).collect();
        if !missing.is_empty() {
            problems.push((
                format!("missing required columns: {}", missing.join(", ")),
                format!("必須の列がありません: {}", missing.join("、")),
            ));
        }
        let mut counted = HashSet::new();
        for (h, c) in headers.iter().zip(&columns) {
            if let Some(c) = c {
                if !counted.insert(*c) {
                    problems.push((
                        format!("column {} appears twice (as '{h}')", column_name(*c)),
                        format!("{} の列が二つあります（'{h}'）", column_name(*c)),
                    ));
                }
            }
        }
        if !problems.is_empty() {
            let (en, ja): (Vec<_>, Vec<_>) = problems.into_iter().unzip();
            return Err(FileError::Header(Words::new(en.join("; "), ja.join("。"))));
        }
        Ok(Self {
            csv,
            headers,
            columns,
            ladder,
            sections,
            seen: HashMap::new(),
            record: csv::StringRecord::new(),
        })
    }

    /// Whether the file has the login id column (ログインID): without it, login ids stay as they are.
    pub fn has_login_ids(&self) -> bool {
        self.columns.contains(&Some(Column::PortalLoginId))
    }

    /// Header names the reader does not know: ignored, and reported so a typo is noticed.
    pub fn ignored_columns(&self) -> Vec<String> {
        self.headers.iter().zip(&self.columns).filter(|(_, c)| c.is_none()).map(|(h, _)| h.clone()).collect()
    }

    /// The next non-blank row, valid or with every problem it has.
    pub fn next_row(&mut self) -> Option<Result<RosterRow, Vec<RowError>>> {
        loop {
            match self.csv.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    let reason = match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => "is not valid text in the file's encoding".to_string(),
                        _ => format!("cannot be read as CSV: {e}"),
                    };
                    // A broken record may leave the reader unusable: report and stop.
                    let err = RowError::new(line, "", FieldCode::Format, reason);
                    self.record.clear();
                    return Some(Err(vec![err]));
                }
            }
            if self.record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            return Some(self.parse_current());
        }
    }

    fn header_of(&self, c: Column) -> String {
        self.columns
            .iter()
            .position(|x| *x == Some(c))
            .map(|i| self.headers[i].clone())
            .unwrap_or_else(|| column_name(c).to_string())
    }

    fn parse_current(&mut self) -> Result<RosterRow, Vec<RowError>> {
        let line = self.record.position().map(|p| p.line()).unwrap_or(0);
        let mut errors = Vec::new();
        if self.record.len() != self.headers.len() {
            errors.push(RowError::new(
                line,
                "",
                FieldCode::Format,
                format!("has {} fields but the header has {}", self.record.len(), self.headers.len()),
            ));
            return Err(errors);
        }
        let mut fields = EmployeeFields::default();
        let mut section_code = String::new();
        let (mut heads_section, mut heads_department) = (false, false);
        for (i, value) in self.record.iter().enumerate() {
            let Some(column) = self.columns[i] else { continue };
            let header = &self.headers[i];
            let value = value.trim();
            let mut bad = |code: FieldCode, reason: String| {
                errors.push(RowError::new(line, header.clone(), code, reason))
            };
            let optional_date = |v: &str| -> Result<Option<NaiveDate>, String> {
                if v.is_empty() {
                    Ok(None)
                } else {
                    parse_date(v).map(Some).map_err(|e| format!("'{v}': {e}"))
                }
            };
            match column {
                Column::EmployeeNo => fields.employee_no = value.to_string(),
                Column::Name => fields.name = value.to_string(),
                Column::Kana => fields.kana = value.to_string(),
                Column::Email => fields.email = Some(value.to_string()),
                Column::PortalLoginId => fields.portal_login_id = Some(value.to_string()),
                Column::Grade => fields.grade = value.to_string(),
                Column::Post => fields.post = Some(value.to_string()),
                Column::EmploymentType => fields.employment_type = Some(value.to_string()),
                Column::SectionCode => match Code::parse(value) {
                    Ok(code) if self.sections.contains(code.as_str()) => {
                        section_code = code.as_str().to_string()
                    }
                    Ok(code) => bad(FieldCode::NotFound, format!("unknown section '{}'", code.as_str())),
                    Err(e) => bad(FieldCode::Format, format!("section code {e}")),
                },
                Column::HireDate => match optional_date(value) {
                    Ok(d) => fields.hire_date = d,
                    Err(e) => bad(FieldCode::Format, e),
                },
                Column::PostSince => match optional_date(value) {
                    Ok(d) => fields.post_since = d,
                    Err(e) => bad(FieldCode::Format, e),
                },
                Column::RetirementDate => match optional_date(value) {
                    Ok(d) => fields.retirement_date = d,
                    Err(e) => bad(FieldCode::Format, e),
                },
                Column::Promotions => match parse_promotions(value) {
                    Ok(p) => fields.promotions = p,
                    Err(e) => bad(FieldCode::Format, e),
                },
                Column::Tags => fields.tags = split_tags(value),
                Column::HeadsSection => match parse_flag(value) {
                    Ok(f) => heads_section = f,
                    Err(e) => bad(FieldCode::Format, e),
                },
                Column::HeadsDepartment => match parse_flag(value) {
                    Ok(f) => heads_department = f,
                    Err(e) => bad(FieldCode::Format, e),
                },
            }
        }
        let hire_date_reported = errors.iter().any(|e| e.column == self.header_of(Column::HireDate));
        let data = match EmployeeData::validate(fields, self.ladder) {
            Ok(d) => Some(d),
            Err(field_errors) => {
                for fe in field_errors {
                    if fe.field == "hire_date" && hire_date_reported {
                        continue;
                    }
                    let column = self.column_for_field(&fe.field);
                    errors.push(RowError::of_field(line, column, fe));
                }
                None
            }
        };
        if let Some(d) = &data {
            if let Some(first) = self.seen.get(&d.employee_no) {
                errors.push(RowError::new(
                    line,
                    self.header_of(Column::EmployeeNo),
                    FieldCode::Duplicate,
                    format!("employee number {} already appears on line {first}", d.employee_no.as_str()),
                ));
            } else {
                self.seen.insert(d.employee_no.clone(), line);
            }
        }
        match data {
            Some(data) if errors.is_empty() => {
                Ok(RosterRow { line, section_code, data, heads_section, heads_department })
            }
            _ => Err(errors),
        }
    }

    fn column_for_field(&self, field: &str) -> String {
        HEADERS
            .iter()
            .map(|(c, _)| *c)
            .find(|c| column_name(*c) == field)
            .map(|c| self.header_of(c))
            .unwrap_or_else(|| field.to_string())
    }
}

/// `主任=2019-04-01;係長=R5.4.1` (also `:` and `、` as separators).
fn parse_promotions(value: &str) -> Result<Vec<(String, NaiveDate)>, String> {
    let mut out = Vec::new();
    for item in split_list(value) {
        let Some((grade, date)) = item.split_once(['=', ':']) else {
            return Err(format!("'{item}' is not grade=date (e.g. 主任=2019-04-01)"));
        };
        let date = parse_date(date).map_err(|e| format!("'{item}': {e}"))?;
        out.push((grade.trim().to_string(), date));
    }
    Ok(out)
}

/// What a reader of row files read: the rows that read, and every fault of those that did not.
#[derive(Debug, Clone)]
pub struct ReadRows<T> {
    pub rows: Vec<T>,
    pub errors: Vec<RowError>,
}

impl<T> Default for ReadRows<T> {
    fn default() -> Self {
        Self { rows: Vec::new(), errors: Vec::new() }
    }
}

/// Tags as people write them: separated by `;` `,` `、` `|`, `・` or spaces (a tag has none).
fn split_tags(value: &str) -> Vec<String> {
    normalize(value)
        .split([';', ',', '、', '|', '・', ' '])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

pub(crate) fn split_list(value: &str) -> Vec<String> {
    normalize(value)
        .split([';', ',', '、', '|'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The next record that is not blank, with its line; unreadable rows are reported in `errors`
/// and skipped. `None` at the end of the file.
pub(crate) fn next_record<R: Read>(
    csv: &mut csv::Reader<R>,
    record: &mut csv::StringRecord,
    errors: &mut Vec<RowError>,
) -> Option<u64> {
    loop {
        match csv.read_record(record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError::new(line, "", FieldCode::Format, format!("unreadable row: {e}")));
                continue;
            }
        }
        if record.iter().any(|v| !v.trim().is_empty()) {
            return Some(record.position().map_or(0, |p| p.line()));
        }
    }
}

/// The most columns a file's header may have: every file Kenshu reads has under thirty, and a
/// header of hundreds of thousands would keep a CPU busy for seconds before any row is read.
pub const MAX_COLUMNS: usize = 200;

/// The most bytes a line may have: a roster row is a few hundred, a course with its description a
/// few thousand.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The header row, refused when it has more than [`MAX_COLUMNS`] columns.
pub(crate) fn header_of<R: Read>(csv: &mut csv::Reader<R>) -> Result<&csv::StringRecord, FileError> {
    let header = csv.headers().map_err(|e| csv_file_error(&e))?;
    if header.len() > MAX_COLUMNS {
        return Err(FileError::Header(Words::new(
            format!("the header has {} columns; a file may have at most {MAX_COLUMNS}", header.len()),
            format!("見出し行に {} 列あります。列は {MAX_COLUMNS} までです", header.len()),
        )));
    }
    Ok(header)
}

pub(crate) fn csv_file_error(e: &csv::Error) -> FileError {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => FileError::Encoding(Words::fixed(
            "the header is not valid text in the file's encoding",
            "見出し行がファイルの文字コードで読み取れません",
        )),
        _ => FileError::Header(Words::new(
            format!("the header cannot be read as CSV: {e}"),
            format!("見出し行を CSV として読み取れません（{e}）"),
        )),
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) fn decoded_source<'a>(
    bytes: &'a [u8],
    encoding: Encoding,
) -> Result<Box<dyn Read + 'a>, FileError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(FileError::Encoding(Words::fixed(
            "UTF-16 files are not supported; save the file as CSV (UTF-8) or CSV (Shift_JIS)",
            "UTF-16 のファイルには対応していません。CSV（UTF-8）か CSV（Shift_JIS）で保存してください",
        )));
    }
    let has_bom = bytes.starts_with(UTF8_BOM);
    let body = if has_bom { &bytes[UTF8_BOM.len()..] } else { bytes };
    let utf8_error = std::str::from_utf8(body).err();
    let use_utf8 = match encoding {
        Encoding::Utf8 => {
            if let Some(e) = utf8_error {
                let at = e.valid_up_to();
                return Err(FileError::Encoding(Words::new(
                    format!("the file is not valid UTF-8 (byte {at}); if it was saved by Excel as plain CSV, send encoding=shift_jis"),
                    format!("ファイルが UTF-8 として正しくありません（{at} バイト目）。Excel で CSV として保存した場合は encoding=shift_jis を付けて送ってください"),
                )));
            }
            true
        }
        Encoding::ShiftJis => false,
        Encoding::Auto => has_bom || utf8_error.is_none(),
    };
    check_controls(body)?;
    if use_utf8 {
        return Ok(Box::new(body));
    }
    check_shift_jis(bytes, encoding)?;
    Ok(Box::new(ShiftJisReader::new(bytes)))
}

/// The one text rule (`text::check_plain`) for every file: no NUL, and no line longer than
/// [`MAX_LINE_BYTES`]. NUL is a single zero byte and the line feed a single 0x0A in both UTF-8
/// and Shift_JIS (whose trail bytes start at 0x40), so one pass over the bytes finds either, with
/// its line, before any parsing.
fn check_controls(body: &[u8]) -> Result<(), FileError> {
    let mut line = 1;
    let mut line_start = 0;
    for (at, b) in body.iter().enumerate() {
        match *b {
            0 => {
                return Err(FileError::Encoding(Words::new(
                    format!("line {line} contains the control character U+0000 (NUL); the file is damaged or not text"),
                    format!("{line} 行目に制御文字 NUL（U+0000）があります。ファイルが壊れているか、テキストではありません"),
                )))
            }
            b'\n' => {
                line += 1;
                line_start = at + 1;
            }
            _ if at - line_start >= MAX_LINE_BYTES => {
                return Err(FileError::Header(Words::new(
                    format!("line {line} is longer than {MAX_LINE_BYTES} bytes; this is not a file Kenshu reads"),
                    format!("{line} 行目が {MAX_LINE_BYTES} バイトを超えています。Kenshu が読むファイルではありません"),
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// A full pass through a fixed buffer: reports malformed input before any row is read.
fn check_shift_jis(bytes: &[u8], declared: Encoding) -> Result<(), FileError> {
    let mut decoder = encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling();
    let mut buf = [0u8; 8192];
    let mut pos = 0;
    loop {
        let (result, read, _) = decoder.decode_to_utf8_without_replacement(&bytes[pos..], &mut buf, true);
        pos += read;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return Ok(()),
            encoding_rs::DecoderResult::OutputFull => continue,
            encoding_rs::DecoderResult::Malformed(..) => {
                let msg = if declared == Encoding::Auto {
                    Words::new(
                        format!("the file is neither UTF-8 nor Shift_JIS (unreadable bytes near byte {pos})"),
                        format!("ファイルが UTF-8 でも Shift_JIS でもありません（{pos} バイト目付近）"),
                    )
                } else {
                    Words::new(
                        format!("the file is not valid Shift_JIS (byte {pos})"),
                        format!("ファイルが Shift_JIS として正しくありません（{pos} バイト目）"),
                    )
                };
                return Err(FileError::Encoding(msg));
            }
        }
    }
}

/// Turns CRLF and lone CR into LF and gives empty lines a single space. The csv crate's line
/// numbers drift on CRLF and on the blank lines it skips; users need exact line numbers in error
/// reports, and roster values have their whitespace collapsed anyway.
pub(crate) struct LineNormalizer<R> {
    inner: R,
    input: Box<[u8; 8192]>,
    output: Vec<u8>,
    start: usize,
    prev: u8,
    pending_cr: bool,
    eof: bool,
}

impl<R: Read> LineNormalizer<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            input: Box::new([0; 8192]),
            output: Vec::with_capacity(16384),
            start: 0,
            prev: b'\n',
            pending_cr: false,
            eof: false,
        }
    }

    fn newline(&mut self) {
        if self.prev == b'\n' {
            self.output.push(b' ');
        }
        self.output.push(b'\n');
        self.prev = b'\n';
    }

    fn fill(&mut self) -> io::Result<()> {
        self.output.clear();
        self.start = 0;
        while self.output.is_empty() && !self.eof {
            let n = self.inner.read(&mut self.input[..])?;
            if n == 0 {
                self.eof = true;
                if self.pending_cr {
                    self.pending_cr = false;
                    self.newline();
                }
                break;
            }
            for i in 0..n {
                let b = self.input[i];
                if self.pending_cr {
                    self.pending_cr = false;
                    self.newline();
                    if b == b'\n' {
                        continue;
                    }
                }
                match b {
                    b'\r' => self.pending_cr = true,
                    b'\n' => self.newline(),
                    _ => {
                        self.output.push(b);
                        self.prev = b;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for LineNormalizer<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.start == self.output.len() {
            self.fill()?;
        }
        let n = out.len().min(self.output.len() - self.start);
        out[..n].copy_from_slice(&self.output[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

/// Decodes Shift_JIS to UTF-8 through an 8 KiB buffer.
struct ShiftJisReader<'a> {
    input: &'a [u8],
    pos: usize,
    decoder: encoding_rs::Decoder,
    buf: Box<[u8; 8192]>,
    start: usize,
    end: usize,
}

impl<'a> ShiftJisReader<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            decoder: encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling(),
            buf: Box::new([0; 8192]),
            start: 0,
            end: 0,
        }
    }
}

impl Read for ShiftJisReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.start == self.end {
            if self.pos >= self.input.len() {
                return Ok(0);
            }
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.pos..],
                &mut self.buf[..],
                true,
            );
            self.pos += read;
            if let encoding_rs::DecoderResult::Malformed(..) = result {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "malformed Shift_JIS"));
            }
            self.start = 0;
            self.end = written;
            if written == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wide_headers_and_long_lines_are_refused_before_parsing() {
        let ladder = GradeLadder::default();
        let sections = HashSet::new();
        let wide = format!("職員番号,氏名,フリガナ,所属コード,職級,採用日,{}\n", vec!["x"; 300].join(","));
        let err = RosterReader::open(wide.as_bytes(), Encoding::Auto, &ladder, &sections).err().unwrap();
        assert!(err.to_string().contains("306 columns"), "{err}");
        let long = format!("職員番号,氏名\n1,{}\n", "あ".repeat(MAX_LINE_BYTES));
        let err = RosterReader::open(long.as_bytes(), Encoding::Auto, &ladder, &sections).err().unwrap();
        assert!(err.to_string().contains("line 2 is longer"), "{err}");
        let nul = "職員番号\n1\n\0\n";
        let err = RosterReader::open(nul.as_bytes(), Encoding::Auto, &ladder, &sections).err().unwrap();
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    use super::*;

    fn sections() -> HashSet<String> {
        ["S01", "S02"].into_iter().map(String::from).collect()
    }

    fn read_all(bytes: &[u8], enc: Encoding) -> Result<Vec<Result<RosterRow, Vec<RowError>>>, FileError> {
        let ladder = GradeLadder::default();
        let secs = sections();
        let mut r = RosterReader::open(bytes, enc, &ladder, &secs)?;
        let mut out = Vec::new();
        while let Some(row) = r.next_row() {
            out.push(row);
        }
        Ok(out)
    }

    const JP: &str = "職員番号,氏名,フリガナ,所属コード,職級,採用日,昇格日,雇用形態,タグ\n\
        １００１,伊勢原　太郎,ｲｾﾊﾗ ﾀﾛｳ,S01,主任,令和2年4月1日,主任=R5.4.1,正規,評価者;防災担当\n\
        \n\
        1002,大山 花子,おおやま はなこ,S02,一般,2023/4/1,,,\n";

    #[test]
    fn reads_japanese_headers_and_normalises() {
        let rows = read_all(JP.as_bytes(), Encoding::Auto).unwrap();
        assert_eq!(rows.len(), 2);
        let r = rows[0].as_ref().unwrap();
        assert_eq!(r.line, 2);
        assert_eq!(r.data.employee_no.as_str(), "1001");
        assert_eq!(r.data.kana, "イセハラ タロウ");
        assert_eq!(r.data.tags.len(), 2);
        assert_eq!(rows[1].as_ref().unwrap().line, 4);
    }

    #[test]
    fn reads_bom_and_shift_jis() {
        let mut bom = UTF8_BOM.to_vec();
        bom.extend_from_slice(JP.as_bytes());
        assert_eq!(read_all(&bom, Encoding::Auto).unwrap().len(), 2);
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(JP);
        let rows = read_all(&sjis, Encoding::Auto).unwrap();
        assert_eq!(rows[0].as_ref().unwrap().data.name, "伊勢原 太郎");
        assert!(read_all(&sjis, Encoding::ShiftJis).is_ok());
    }

    #[test]
    fn wrong_declared_encoding_is_a_file_error() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(JP);
        assert!(matches!(read_all(&sjis, Encoding::Utf8), Err(FileError::Encoding(_))));
        assert!(matches!(read_all(&[0x82, 0xFF, 0xFF, 0x00], Encoding::Auto), Err(FileError::Encoding(_))));
        assert!(matches!(read_all(b"\xFF\xFEa\x00", Encoding::Auto), Err(FileError::Encoding(_))));
    }

    #[test]
    fn nul_refuses_the_file_naming_the_line() {
        let with_nul = JP.replace("大山 花子", "大山\u{0}花子");
        let err = read_all(with_nul.as_bytes(), Encoding::Auto).unwrap_err();
        assert!(matches!(&err, FileError::Encoding(m) if m.en.starts_with("line 4 ")), "{err:?}");
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&with_nul);
        assert!(
            matches!(read_all(&sjis, Encoding::Auto), Err(FileError::Encoding(m)) if m.en.starts_with("line 4 "))
        );
        // Tabs and CRLF line ends are text.
        let tabs = JP.replace("大山 花子", "大山\t花子").replace('\n', "\r\n");
        assert_eq!(read_all(tabs.as_bytes(), Encoding::Auto).unwrap().len(), 2);
    }

    #[test]
    fn missing_and_duplicate_columns_are_reported() {
        let err = read_all("employee_no,name\n1,a\n".as_bytes(), Encoding::Auto).unwrap_err();
        assert!(matches!(&err, FileError::Header(m) if m.en.contains("kana") && m.en.contains("hire_date")));
        let err = read_all(
            "employee_no,職員番号,name,kana,section_code,grade,hire_date\n".as_bytes(),
            Encoding::Auto,
        )
        .unwrap_err();
        assert!(matches!(&err, FileError::Header(m) if m.en.contains("twice")));
        assert_eq!(read_all(b"", Encoding::Auto).unwrap_err(), FileError::Empty);
    }

    #[test]
    fn row_errors_name_line_and_column() {
        let csv = "employee_no,name,kana,section_code,grade,hire_date\n\
            1,山田,ヤマダ,S99,主任,2023-02-30\n\
            2,田中,タナカ,S01,主任,2020-04-01\n\
            2,田中,タナカ,S01,主任,2020-04-01\n\
            3,佐藤,サトウ,S01\n";
        let rows = read_all(csv.as_bytes(), Encoding::Auto).unwrap();
        let errs = rows[0].as_ref().unwrap_err();
        assert!(errs.iter().any(|e| e.line == 2 && e.column == "section_code" && e.reason.contains("S99")));
        assert!(errs.iter().any(|e| e.line == 2 && e.column == "hire_date"));
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(rows[1].is_ok());
        let dup = rows[2].as_ref().unwrap_err();
        assert!(dup[0].reason.contains("line 3"));
        assert!(rows[3].as_ref().unwrap_err()[0].reason.contains("fields"));
    }

    #[test]
    fn unknown_headers_are_reported_as_ignored() {
        let ladder = GradeLadder::default();
        let secs = sections();
        let csv = "employee_no,name,kana,section_code,grade,hire_date,備考\n";
        let r = RosterReader::open(csv.as_bytes(), Encoding::Auto, &ladder, &secs).unwrap();
        assert_eq!(r.ignored_columns(), vec!["備考".to_string()]);
    }

    #[test]
    fn shift_jis_reader_streams_large_input() {
        let mut text = String::from("employee_no,name,kana,section_code,grade,hire_date\n");
        for i in 0..2000 {
            text.push_str(&format!("{i},伊勢原 太郎,イセハラ タロウ,S01,一般,R5.4.1\n"));
        }
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
        let rows = read_all(&sjis, Encoding::ShiftJis).unwrap();
        assert_eq!(rows.len(), 2000);
        assert!(rows.iter().all(Result::is_ok));
    }

    #[test]
    fn line_numbers_survive_crlf_blank_lines_and_quoted_newlines() {
        let csv = "employee_no,name,kana,section_code,grade,hire_date\r\n\
            1,A,ア,S01,一般,2020-04-01\r\n\r\n\
            2,\"B\r\nB\",ア,S01,一般,2020-04-01\r\n\n\n\
            3,C,ア,S99,一般,2020-04-01\r\
            4,D,ア,S99,一般,2020-04-01";
        let rows = read_all(csv.as_bytes(), Encoding::Auto).unwrap();
        let lines: Vec<u64> = rows
            .iter()
            .map(|r| match r {
                Ok(r) => r.line,
                Err(e) => e[0].line,
            })
            .collect();
        assert_eq!(lines, vec![2, 4, 8, 9]);
    }

    #[test]
    fn charset_names() {
        assert_eq!(Encoding::from_charset("Shift_JIS"), Some(Encoding::ShiftJis));
        assert_eq!(Encoding::from_charset("\"utf-8\""), Some(Encoding::Utf8));
        assert_eq!(Encoding::from_charset("latin1"), None);
    }
}
