//! Tables for Excel: the one way Kenshu writes a CSV export, with every cell that a spreadsheet
//! would take for a formula neutralised (OWASP's CSV-injection rule).
//!
//! A cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a
//! leading apostrophe, which Excel and LibreOffice show as text and never evaluate: a course
//! titled `=HYPERLINK("http://…")` stays a title. The catalogue's import, which reads its own
//! export back, takes the apostrophe off again ([`restore`]), so a round trip changes nothing.

use std::borrow::Cow;

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

/// A table as CSV for Excel: CRLF line ends, quoting where needed, every cell neutralised.
pub fn csv_table<R, C>(header: &[&str], rows: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(header.iter().map(|h| neutralise(h).into_owned())).expect("writing to memory");
    for row in rows {
        w.write_record(row.into_iter().map(|c| neutralise(c.as_ref()).into_owned()))
            .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of strings is UTF-8")
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
        let csv = csv_table(
            &["名称", "人数"],
            [vec!["=1+1".to_string(), "3".into()], vec!["a,b".into(), "".into()]],
        );
        assert_eq!(csv, "名称,人数\r\n'=1+1,3\r\n\"a,b\",\r\n");
    }
}
