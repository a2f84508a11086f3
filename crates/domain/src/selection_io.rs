//! Nomination files (受講者の一括登録): CSV rows naming a course by category and number, an
//! employee by number, and the route.

use crate::audience::Route;
use crate::catalogue_io::CourseKey;
use crate::employee::EmployeeNo;
use crate::roster_import::{
    decoded_source, header_of, next_record, Encoding, FileError, LineNormalizer, ReadRows, RowError,
};
use crate::text::normalize;
use crate::{FieldCode, Words};

/// One readable row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NominationRow {
    pub line: u64,
    pub course: CourseKey,
    pub employee_no: EmployeeNo,
    pub route: Route,
    pub reason: Option<String>,
}

pub type NominationRows = ReadRows<NominationRow>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Category,
    Number,
    EmployeeNo,
    Route,
    Reason,
}

const COLUMNS: &[(Column, &[&str])] = &[
    (Column::Category, &["区分", "category"]),
    (Column::Number, &["no", "number", "番号"]),
    (Column::EmployeeNo, &["職員番号", "employeeno"]),
    (Column::Route, &["選考方法", "route", "選考"]),
    (Column::Reason, &["理由", "reason", "推薦理由"]),
];

fn column_for(h: &str) -> Option<Column> {
    let key: String =
        normalize(h).to_lowercase().chars().filter(|c| !matches!(c, ' ' | '_' | '-' | '.')).collect();
    COLUMNS.iter().find(|(_, names)| names.contains(&key.as_str())).map(|(c, _)| *c)
}

/// Read a nomination CSV (UTF-8 or Shift_JIS, Japanese or English headers): 区分, No, 職員番号,
/// 選考方法 (指名/推薦/公募), 理由.
pub fn read_csv(bytes: &[u8], encoding: Encoding) -> Result<NominationRows, FileError> {
    let source = LineNormalizer::new(decoded_source(bytes, encoding)?);
    let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(source);
    let columns: Vec<Option<Column>> = header_of(&mut csv)?.iter().map(column_for).collect();
    let required = [Column::Category, Column::Number, Column::EmployeeNo, Column::Route];
    if required.iter().any(|c| !columns.contains(&Some(*c))) {
        return Err(FileError::Header(Words::fixed(
            "the columns 区分, No, 職員番号 and 選考方法 are required",
            "区分・No・職員番号・選考方法の列が必要です",
        )));
    }
    let mut out = NominationRows::default();
    let mut record = csv::StringRecord::new();
    while let Some(line) = next_record(&mut csv, &mut record, &mut out.errors) {
        let cell =
            |c: Column| columns.iter().position(|k| *k == Some(c)).and_then(|i| record.get(i)).unwrap_or("");
        let before = out.errors.len();
        let mut bad = |column: &str, code: FieldCode, reason: String| {
            out.errors.push(RowError::new(line, column, code, reason))
        };
        let key = CourseKey::parse(&format!(
            "{}-{}",
            cell(Column::Category).trim(),
            normalize(cell(Column::Number))
        ));
        let key = key.map_err(|e| bad("No", FieldCode::Format, e)).ok();
        let employee_no = EmployeeNo::parse(cell(Column::EmployeeNo))
            .map_err(|e| bad("職員番号", FieldCode::Format, e))
            .ok();
        let route = Route::parse(cell(Column::Route));
        if route.is_none() {
            bad(
                "選考方法",
                FieldCode::UnknownValue,
                format!("'{}' is not 指名, 推薦 or 公募", cell(Column::Route).trim()),
            );
        }
        let reason = Some(cell(Column::Reason).trim().to_string()).filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
            bad("理由", FieldCode::Length, "must be at most 1000 characters".into());
        }
        if out.errors.len() == before {
            if let (Some(course), Some(employee_no), Some(route)) = (key, employee_no, route) {
                out.rows.push(NominationRow { line, course, employee_no, route, reason });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Category;

    #[test]
    fn rows_read_and_faults_are_named() {
        let text = "区分,No,職員番号,選考方法,理由\n階層別,12,１０００４,推薦,マネジメント強化\n課題別・職能別,4,10001,公募,\n研究,1,x y,抽選,\n";
        let read = read_csv(text.as_bytes(), Encoding::Auto).unwrap();
        assert_eq!(read.rows.len(), 2);
        assert_eq!(read.rows[0].course, CourseKey { category: Category::Hierarchical, number: 12 });
        assert_eq!(read.rows[0].employee_no.as_str(), "10004");
        assert_eq!(read.rows[1].route, Route::Application);
        let columns: Vec<&str> = read.errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(columns, vec!["No", "職員番号", "選考方法"]);
        assert!(read.errors.iter().all(|e| e.line == 4));
        assert!(read_csv("職員番号\n1\n".as_bytes(), Encoding::Auto).is_err());
    }
}
