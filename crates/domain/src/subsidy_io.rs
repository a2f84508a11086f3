//! The correspondence-course catalogue as a file (通信教育講座一覧): CSV rows of provider, title,
//! field, tuition and length, checked by `subsidy::CourseText::validate`.

use crate::roster_import::{
    decoded_source, header_key, header_of, next_record, Encoding, FileError, LineNormalizer, ReadRows,
    RowError,
};
use crate::subsidy::CourseText;
use crate::text::normalize;
use crate::{FieldCode, Words};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Provider,
    Title,
    Field,
    Tuition,
    Months,
}

const COLUMNS: &[(Column, &str, &[&str])] = &[
    (Column::Provider, "実施団体", &["実施団体", "provider", "実施機関", "団体名"]),
    (Column::Title, "講座名", &["講座名", "title", "コース名"]),
    (Column::Field, "分野", &["分野", "field", "区分"]),
    (Column::Tuition, "受講料", &["受講料", "tuition", "tuition_yen", "受講料(円)"]),
    (Column::Months, "期間", &["期間", "months", "受講期間", "標準期間"]),
];

fn column_for(h: &str) -> Option<Column> {
    let key = header_key(h);
    COLUMNS.iter().find(|(_, _, names)| names.iter().any(|n| header_key(n) == key)).map(|(c, _, _)| *c)
}

/// The header a field is read from, for row errors (`tuition` → 受講料).
pub fn column_of_field(field: &str) -> &'static str {
    match field {
        "provider" => "実施団体",
        "title" => "講座名",
        "field" => "分野",
        "tuition" => "受講料",
        "months" => "期間",
        _ => "",
    }
}

/// Whole yen as people write it: 38500, 38,500, ￥38,500, 38,500円.
pub fn parse_yen(value: &str) -> Result<i64, String> {
    let s: String =
        normalize(value).chars().filter(|c| !matches!(c, ',' | '¥' | '\\' | '円' | ' ')).collect();
    s.parse::<i64>().map_err(|_| format!("'{}' is not an amount in whole yen", value.trim()))
}

/// Months: 6, 6か月, 6ヶ月, 6カ月.
fn parse_months(value: &str) -> Result<u32, String> {
    let s = normalize(value);
    let s = ["か月", "ヶ月", "カ月", "ケ月", "箇月", "月"]
        .iter()
        .fold(s.as_str(), |s, suffix| s.trim_end_matches(suffix));
    s.trim().parse::<u32>().map_err(|_| format!("'{}' is not a number of months", value.trim()))
}

/// Read the catalogue CSV (UTF-8 or Shift_JIS): every column required. Rows are returned with
/// their line, not yet validated; cells that do not read are row errors.
pub fn read_csv(bytes: &[u8], encoding: Encoding) -> Result<ReadRows<(u64, CourseText)>, FileError> {
    let source = LineNormalizer::new(decoded_source(bytes, encoding)?);
    let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(source);
    let columns: Vec<Option<Column>> = header_of(&mut csv)?.iter().map(column_for).collect();
    if COLUMNS.iter().any(|(c, _, _)| !columns.contains(&Some(*c))) {
        return Err(FileError::Header(Words::fixed(
            "the columns 実施団体, 講座名, 分野, 受講料 and 期間 are required",
            "実施団体・講座名・分野・受講料・期間の列が必要です",
        )));
    }
    let mut out = ReadRows::default();
    let mut record = csv::StringRecord::new();
    while let Some(line) = next_record(&mut csv, &mut record, &mut out.errors) {
        let cell =
            |c: Column| columns.iter().position(|k| *k == Some(c)).and_then(|i| record.get(i)).unwrap_or("");
        let tuition = parse_yen(cell(Column::Tuition));
        let months = parse_months(cell(Column::Months));
        match (tuition, months) {
            (Ok(tuition), Ok(months)) => out.rows.push((
                line,
                CourseText {
                    provider: cell(Column::Provider).to_string(),
                    title: cell(Column::Title).to_string(),
                    field: cell(Column::Field).to_string(),
                    tuition,
                    months,
                },
            )),
            (t, m) => {
                for (column, e) in [("受講料", t.err()), ("期間", m.err())] {
                    if let Some(reason) = e {
                        out.errors.push(RowError::new(line, column, FieldCode::Format, reason));
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalogue_reads_amounts_and_months_as_people_write_them() {
        let text = "実施団体,講座名,分野,受講料,期間\n日本通信教育協会,実用英語入門,語学,\"38,500\",6か月\nＸ協会,簿記3級,資格,￥22000,４\n協会,y,教養,無料,3\n";
        let read = read_csv(text.as_bytes(), Encoding::Auto).unwrap();
        assert_eq!(read.rows.len(), 2);
        assert_eq!((read.rows[0].1.tuition, read.rows[0].1.months), (38_500, 6));
        assert_eq!((read.rows[1].0, read.rows[1].1.tuition, read.rows[1].1.months), (3, 22_000, 4));
        assert_eq!((read.errors[0].line, read.errors[0].column.as_str()), (4, "受講料"));
        assert!(read_csv("講座名\nx\n".as_bytes(), Encoding::Auto).is_err());
        assert_eq!(parse_yen("38,500円"), Ok(38_500));
        assert_eq!(column_of_field("tuition"), "受講料");
    }
}
