//! A sign-in sheet as a file (出欠表の取込): CSV rows naming a trainee by employee number, how
//! they attended, and the clock times of a late arrival or early leave.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::attendance::AttendanceStatus;
use crate::calendar::jst;
use crate::employee::EmployeeNo;
use crate::roster_import::{
    decoded_source, header_key, header_of, next_record, Encoding, FileError, LineNormalizer, ReadRows,
    RowError,
};
use crate::text::normalize;
use crate::{FieldCode, Words};

/// One readable row of a sign-in sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    pub line: u64,
    pub employee_no: EmployeeNo,
    pub status: AttendanceStatus,
    pub arrived_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

pub type SheetRows = ReadRows<SheetRow>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    EmployeeNo,
    Status,
    ArrivedAt,
    LeftAt,
    Note,
}

/// Header names, as they are printed on the sheet or as the JSON fields are called.
const COLUMNS: &[(Column, &str, &[&str])] = &[
    (Column::EmployeeNo, "職員番号", &["職員番号", "employee_no", "職員no", "職員コード"]),
    (Column::Status, "出欠", &["出欠", "status", "出席", "出欠状況"]),
    (Column::ArrivedAt, "到着時刻", &["到着時刻", "arrived_at", "到着", "入室時刻", "遅刻時刻"]),
    (Column::LeftAt, "退出時刻", &["退出時刻", "left_at", "退出", "退室時刻", "早退時刻"]),
    (Column::Note, "備考", &["備考", "note", "メモ"]),
];

fn column_for(h: &str) -> Option<Column> {
    let key = header_key(h);
    COLUMNS.iter().find(|(_, _, names)| names.iter().any(|n| header_key(n) == key)).map(|(c, _, _)| *c)
}

/// The header a field of an entry is read from, for row errors (`arrived_at` → 到着時刻).
pub fn column_of_field(field: &str) -> &'static str {
    match field {
        "employee_no" => "職員番号",
        "status" => "出欠",
        "arrived_at" => "到着時刻",
        "left_at" => "退出時刻",
        "note" => "備考",
        _ => "",
    }
}

/// A time on the sheet: a clock time (9:40, ９時４０分, 09:40:00) on `day` in Japan, or a full
/// date and time (2023-07-12T09:40:00+09:00, 2023-07-12 09:40).
pub fn parse_time(input: &str, day: NaiveDate) -> Result<DateTime<Utc>, String> {
    let s = normalize(input);
    let clock = s.replace('時', ":").replace('分', "");
    let clock = clock.trim_end_matches(':');
    if let Some(t) = ["%H:%M", "%H:%M:%S"].iter().find_map(|f| NaiveTime::parse_from_str(clock, f).ok()) {
        return jst()
            .from_local_datetime(&day.and_time(t))
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| format!("'{}' is not a time", input.trim()));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&s, f) {
            if let Some(t) = jst().from_local_datetime(&t).single() {
                return Ok(t.with_timezone(&Utc));
            }
        }
    }
    Err(format!("'{}' is not a time: write 9:40 or 2023-07-12 09:40", input.trim()))
}

/// Read a sign-in sheet CSV (UTF-8 or Shift_JIS): 職員番号 and 出欠 (出席, 遅刻, 早退, 欠席, 〇,
/// ×) are required; 到着時刻 and 退出時刻 are clock times on `day` (the session's day in Japan)
/// or full dates and times; 備考 is free text. Other columns (氏名, 所属) are ignored.
pub fn read_csv(bytes: &[u8], encoding: Encoding, day: NaiveDate) -> Result<SheetRows, FileError> {
    let source = LineNormalizer::new(decoded_source(bytes, encoding)?);
    let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(source);
    let columns: Vec<Option<Column>> = header_of(&mut csv)?.iter().map(column_for).collect();
    if [Column::EmployeeNo, Column::Status].iter().any(|c| !columns.contains(&Some(*c))) {
        return Err(FileError::Header(Words::fixed(
            "the columns 職員番号 and 出欠 are required",
            "職員番号・出欠の列が必要です",
        )));
    }
    let mut out = SheetRows::default();
    let mut record = csv::StringRecord::new();
    while let Some(line) = next_record(&mut csv, &mut record, &mut out.errors) {
        // A sheet Kenshu exported comes back with its neutralised cells restored.
        let cell = |c: Column| {
            columns
                .iter()
                .position(|k| *k == Some(c))
                .and_then(|i| record.get(i))
                .map_or("", crate::spreadsheet::restore)
        };
        let before = out.errors.len();
        let mut bad = |column: &str, code: FieldCode, reason: String| {
            out.errors.push(RowError::new(line, column, code, reason))
        };
        let employee_no = EmployeeNo::parse(cell(Column::EmployeeNo))
            .map_err(|e| bad("職員番号", FieldCode::Format, e))
            .ok();
        let status = AttendanceStatus::parse(cell(Column::Status));
        if status.is_none() {
            bad(
                "出欠",
                FieldCode::UnknownValue,
                format!("'{}' is not 出席, 遅刻, 早退, 欠席, 〇 or ×", cell(Column::Status).trim()),
            );
        }
        let mut time = |c: Column, name: &str| {
            let v = cell(c).trim();
            if v.is_empty() {
                return None;
            }
            parse_time(v, day).map_err(|e| bad(name, FieldCode::Format, e)).ok()
        };
        let arrived_at = time(Column::ArrivedAt, "到着時刻");
        let left_at = time(Column::LeftAt, "退出時刻");
        let note = Some(normalize(cell(Column::Note))).filter(|n| !n.is_empty());
        if out.errors.len() == before {
            if let (Some(employee_no), Some(status)) = (employee_no, status) {
                out.rows.push(SheetRow { line, employee_no, status, arrived_at, left_at, note });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 7, 12).unwrap()
    }

    #[test]
    fn a_sheet_reads_with_marks_clock_times_and_ignored_columns() {
        let text = "職員番号,氏名,出欠,到着時刻,退出時刻,備考\n\
                    １０００９,伊勢原 太郎,〇,,,\n\
                    10010,伊勢原 花子,遅刻,９時４０分,,電車遅延\n\
                    10011,大山 一郎,早退,,2023-07-12 15:30,\n\
                    10012,丹沢 次郎,×,,,\n";
        let read = read_csv(text.as_bytes(), Encoding::Auto, day()).unwrap();
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let statuses: Vec<AttendanceStatus> = read.rows.iter().map(|r| r.status).collect();
        use AttendanceStatus as S;
        assert_eq!(statuses, vec![S::Present, S::Late, S::LeftEarly, S::Absent]);
        assert_eq!(read.rows[0].employee_no.as_str(), "10009");
        assert_eq!(read.rows[1].arrived_at.unwrap().to_rfc3339(), "2023-07-12T00:40:00+00:00");
        assert_eq!(read.rows[1].note.as_deref(), Some("電車遅延"));
        assert_eq!(read.rows[2].left_at.unwrap().to_rfc3339(), "2023-07-12T06:30:00+00:00");
        assert_eq!(read.rows[3].line, 5);
    }

    #[test]
    fn a_sheet_kenshu_exported_reads_back_with_its_notes_as_written() {
        let text = "No,職員番号,出欠,備考
1,10009,出席,'-途中離席
2,10010,欠席,'quoted
";
        let read = read_csv(text.as_bytes(), Encoding::Auto, day()).unwrap();
        assert_eq!(read.rows[0].note.as_deref(), Some("-途中離席"));
        assert_eq!(
            read.rows[1].note.as_deref(),
            Some("'quoted"),
            "only what neutralising added is taken off"
        );
    }

    #[test]
    fn bad_cells_are_named_by_line_and_column() {
        let text = "employee_no,status,arrived_at\n10009,休み,\nx y,present,25:00\n";
        let read = read_csv(text.as_bytes(), Encoding::Auto, day()).unwrap();
        assert!(read.rows.is_empty());
        let got: Vec<(u64, &str)> = read.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(got, vec![(2, "出欠"), (3, "職員番号"), (3, "到着時刻")]);
        assert!(read_csv("氏名,出欠\n太郎,〇\n".as_bytes(), Encoding::Auto, day()).is_err());
    }

    #[test]
    fn times_are_clock_times_on_the_sessions_day_in_japan_or_full_dates() {
        assert_eq!(parse_time("9:05", day()).unwrap().to_rfc3339(), "2023-07-12T00:05:00+00:00");
        assert_eq!(parse_time("09:05:30", day()).unwrap().to_rfc3339(), "2023-07-12T00:05:30+00:00");
        assert_eq!(
            parse_time("2023-07-13T10:00:00+09:00", day()).unwrap().to_rfc3339(),
            "2023-07-13T01:00:00+00:00"
        );
        assert_eq!(parse_time("2023/07/12 17:45", day()).unwrap().to_rfc3339(), "2023-07-12T08:45:00+00:00");
        assert!(parse_time("午前", day()).is_err());
        assert_eq!(column_of_field("left_at"), "退出時刻");
    }
}
