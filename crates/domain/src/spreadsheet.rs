//! Tables for Excel: the one way Kenshu writes an export (CSV here, XLSX from the same [`Table`]
//! in the API), with every cell that a spreadsheet would take for a formula neutralised (OWASP's
//! CSV-injection rule).
//!
//! A cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a
//! leading apostrophe, which Excel and LibreOffice show as text and never evaluate: a course
//! titled `=HYPERLINK("http://…")` stays a title. The catalogue's import, which reads its own
//! export back, takes the apostrophe off again ([`restore`]), so a round trip changes nothing.

use std::borrow::Cow;

use chrono::NaiveDate;

/// Whether a spreadsheet would read `cell` as a formula (or as the start of one).
fn formula_like(cell: &str) -> bool {
    matches!(cell.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

/// `cell` as it is safe to put in a spreadsheet.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell of one of Kenshu's own exports, read back: the apostrophe [`neutralise`] added is
/// taken off.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

/// One cell of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text, kept as text however it looks (an employee number `00123` keeps its zeros).
    Text(String),
    /// A whole number: a count or an amount in yen.
    Int(i64),
    /// A day: an Excel date in XLSX, `YYYY-MM-DD` in CSV.
    Date(NaiveDate),
    Empty,
}

impl Cell {
    /// The cell as CSV holds it, neutralised.
    pub fn csv_text(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(t) => neutralise(t),
            Cell::Int(n) => Cow::Owned(n.to_string()),
            Cell::Date(d) => Cow::Owned(d.format("%Y-%m-%d").to_string()),
            Cell::Empty => Cow::Borrowed(""),
        }
    }
}

impl From<String> for Cell {
    fn from(t: String) -> Self {
        Cell::Text(t)
    }
}

impl From<&String> for Cell {
    fn from(t: &String) -> Self {
        Cell::Text(t.clone())
    }
}

impl From<&str> for Cell {
    fn from(t: &str) -> Self {
        Cell::Text(t.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

impl From<i32> for Cell {
    fn from(n: i32) -> Self {
        Cell::Int(n.into())
    }
}

impl From<u32> for Cell {
    fn from(n: u32) -> Self {
        Cell::Int(n.into())
    }
}

impl From<u64> for Cell {
    fn from(n: u64) -> Self {
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Cell {
    /// 〇 or nothing, as paper lists mark a yes.
    fn from(b: bool) -> Self {
        if b {
            Cell::Text("〇".into())
        } else {
            Cell::Empty
        }
    }
}

impl From<NaiveDate> for Cell {
    fn from(d: NaiveDate) -> Self {
        Cell::Date(d)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// A list as a spreadsheet holds it: a sheet name, Japanese headers and rows of cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// 受講者名簿, 出席簿 …: the sheet's name and the file's Japanese name.
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(title: impl Into<String>, headers: &[&str]) -> Self {
        Table {
            title: title.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row; it must have one cell per header.
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.headers.len(), "a row of {}", self.title);
        self.rows.push(row);
    }

    /// The table as CSV for Excel: CRLF line ends, quoting where needed, every text cell and
    /// header neutralised (numbers and dates are Kenshu's own and written as they are).
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        w.write_record(self.headers.iter().map(|h| neutralise(h).into_owned())).expect("writing to memory");
        for row in &self.rows {
            w.write_record(row.iter().map(|c| c.csv_text().into_owned())).expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of strings is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_neutralised_and_others_kept() {
        for cell in ["=HYPERLINK(\"http://x\")", "+81", "-1+1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
            assert_eq!(restore(&neutralise(cell)), cell);
        }
        for cell in ["新規採用職員研修", "2023-04-01", "0", "", "a=b", "'quoted", "＝全角"] {
            assert_eq!(neutralise(cell), cell);
            assert_eq!(restore(cell), cell);
        }
    }

    #[test]
    fn a_table_is_crlf_quoted_and_neutralised() {
        let mut t = Table::new("t", &["名称", "人数"]);
        t.push(vec!["=1+1".into(), "3".into()]);
        t.push(vec!["a,b".into(), "".into()]);
        assert_eq!(t.to_csv(), "名称,人数\r\n'=1+1,3\r\n\"a,b\",\r\n");
    }

    fn distinct(terms: Vec<&'static str>) {
        let set: std::collections::BTreeSet<_> = terms.iter().collect();
        assert_eq!(set.len(), terms.len(), "{terms:?}");
        assert!(terms.iter().all(|t| !t.is_empty() && !t.is_ascii()), "{terms:?}");
    }

    #[test]
    fn every_state_has_its_own_japanese_term_for_lists() {
        distinct(crate::selection::NominationState::ALL.map(|s| s.japanese()).to_vec());
        distinct(crate::report::ReportState::ALL.map(|s| s.japanese()).to_vec());
        distinct(crate::subsidy::ApplicationState::ALL.map(|s| s.japanese()).to_vec());
        distinct(crate::subsidy::GroupState::ALL.map(|s| s.japanese()).to_vec());
        distinct(crate::absence::NoticeState::ALL.map(|s| s.japanese()).to_vec());
    }

    #[test]
    fn a_typed_table_writes_numbers_dates_and_text_as_csv() {
        let mut t = Table::new("名簿", &["職員番号", "氏名", "人数", "日付", "済"]);
        let day = NaiveDate::from_ymd_opt(2023, 4, 3).unwrap();
        t.push(vec!["00123".into(), "@evil".into(), 3i64.into(), day.into(), true.into()]);
        t.push(vec!["00124".into(), Cell::from(None::<String>), (-5i64).into(), Cell::Empty, false.into()]);
        assert_eq!(
            t.to_csv(),
            "職員番号,氏名,人数,日付,済\r\n00123,'@evil,3,2023-04-03,〇\r\n00124,,-5,,\r\n"
        );
    }
}
