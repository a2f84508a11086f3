//! Files in and out, the same way for every route: a CSV or other upload read within the limit,
//! its encoding from the Content-Type or a parameter, a file that cannot be read as a 422, and a
//! download (CSV as Excel opens Japanese text, or XLSX) of any [`Table`].

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Datelike;
use futures_util::StreamExt;
use kenshu_domain::roster_import::{Encoding, FileError};
use kenshu_domain::spreadsheet::{neutralise, Cell, Table};
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use kenshu_persistence::repo::structure::UnitNames;
use kenshu_persistence::{Page, PageRequest};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::http::page_request;
use crate::problem::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum EncodingParam {
    #[default]
    Auto,
    #[serde(alias = "utf8")]
    Utf8,
    #[serde(alias = "sjis", alias = "cp932")]
    ShiftJis,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// CSV with Japanese headers, for Excel.
    #[default]
    Csv,
    /// An Excel workbook with Japanese headers: numbers as numbers, dates as Excel dates.
    Xlsx,
    /// The JSON form (for a catalogue, the one its import reads).
    Json,
}

/// A file a list can be downloaded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    /// The file asked for; `None` for JSON.
    pub fn file(self) -> Option<FileFormat> {
        match self {
            ExportFormat::Csv => Some(FileFormat::Csv),
            ExportFormat::Xlsx => Some(FileFormat::Xlsx),
            ExportFormat::Json => None,
        }
    }
}

pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The most rows one exported file holds; a longer list is refused (422) until it is narrowed
/// with the list's own filters.
pub const EXPORT_MAX_ROWS: u64 = 100_000;

/// How a list is answered: a page of JSON, or the whole list (every page, the same filters) as a
/// file for Excel. Every list HR works with takes these two parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFile {
    /// `csv` or `xlsx`: the whole list (every page, with the filters applied) as a file with
    /// Japanese headers; `limit` and `cursor` are then ignored (but must be valid). `json` (the
    /// default): one page.
    pub format: Option<ExportFormat>,
    /// CSV only: `shift_jis` (CP932) for systems that expect it; otherwise UTF-8 with a BOM,
    /// which Excel needs to open Japanese text correctly.
    pub encoding: Option<EncodingParam>,
}

impl ListFile {
    /// The file asked for; `None` for a JSON page.
    pub fn file(&self) -> Option<FileFormat> {
        self.format.and_then(ExportFormat::file)
    }

    /// The rows to read: the client's page for JSON, everything (up to [`EXPORT_MAX_ROWS`]) for
    /// a file.
    pub fn page(&self, scope: &str, limit: Option<u64>, cursor: Option<&str>) -> ApiResult<PageRequest> {
        let asked = page_request(scope, limit, cursor)?;
        // A file ignores the page asked for, but not a malformed one: `limit=0` is a 422 either way.
        Ok(match self.file() {
            Some(_) => PageRequest { limit: EXPORT_MAX_ROWS, after: None },
            None => asked,
        })
    }

    /// Refuse a file of a list longer than [`EXPORT_MAX_ROWS`] rather than cut it short.
    pub fn check_whole<T>(&self, page: &Page<T>) -> ApiResult<()> {
        if self.file().is_some() && page.next.is_some() {
            return Err(ApiError::validation(FieldError::range(
                "format",
                format!("the list has more than {EXPORT_MAX_ROWS} rows; narrow it with its filters"),
            )));
        }
        Ok(())
    }

    /// The table as the file asked for (call only when [`ListFile::file`] is `Some`).
    pub fn download(&self, table: &Table, name: &str) -> ApiResult<HttpResponse> {
        download(table, self.file().unwrap_or(FileFormat::Csv), self.encoding.unwrap_or_default(), name)
    }
}

pub async fn read_body(mut payload: web::Payload, limit: usize) -> ApiResult<web::BytesMut> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::BadRequest(Words::new(
                format!("the upload was interrupted: {e}"),
                format!("アップロードが途中で切れました（{e}）"),
            ))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(Words::new(
                format!("the file exceeds {limit} bytes"),
                format!("ファイルが {limit} バイトを超えています"),
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub fn encoding_of(req: &HttpRequest, param: Option<EncodingParam>) -> ApiResult<Encoding> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut parts = content_type.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if !matches!(mime.as_str(), "text/csv" | "application/csv" | "application/octet-stream" | "text/plain") {
        return Err(ApiError::UnsupportedMediaType(Words::fixed(
            "send the file as text/csv",
            "ファイルは text/csv で送ってください",
        )));
    }
    if let Some(p) = param {
        return Ok(match p {
            EncodingParam::Auto => Encoding::Auto,
            EncodingParam::Utf8 => Encoding::Utf8,
            EncodingParam::ShiftJis => Encoding::ShiftJis,
        });
    }
    for part in parts {
        if let Some((k, v)) = part.split_once('=') {
            if k.trim().eq_ignore_ascii_case("charset") {
                return Encoding::from_charset(v).ok_or_else(|| {
                    ApiError::UnsupportedMediaType(Words::new(
                        format!("charset {} is not supported", v.trim()),
                        format!("文字コード {} には対応していません", v.trim()),
                    ))
                });
            }
        }
    }
    Ok(Encoding::Auto)
}

pub fn file_error(e: FileError) -> ApiError {
    ApiError::ImportFile(e.words())
}

/// The columns that name a person in every list of people: 職員番号, 氏名, 部, 所属.
pub const PERSON_HEADERS: [&str; 4] = ["職員番号", "氏名", "部", "所属"];

/// A person's cells under [`PERSON_HEADERS`]: the employee number stays text (leading zeros
/// kept); the department and section as the roster has them today.
pub fn person_cells(employee_no: &str, name: &str, unit: Option<&UnitNames>) -> Vec<Cell> {
    vec![employee_no.into(), name.into(), unit.map(|u| &u.department).into(), unit.map(|u| &u.section).into()]
}

/// A table to download: CSV as Excel opens Japanese text correctly (UTF-8 with a byte-order
/// mark, or Shift_JIS (CP932) for systems that expect it, refused (422) when the text holds
/// characters Shift_JIS cannot encode rather than written with substitutes), or an XLSX workbook.
/// The file is named `{title}_{name}` (RFC 6266 `filename*`), with `name` alone as the ASCII
/// fallback.
pub fn download(
    table: &Table,
    format: FileFormat,
    encoding: EncodingParam,
    name: &str,
) -> ApiResult<HttpResponse> {
    let (bytes, content_type, extension) = match format {
        FileFormat::Csv => {
            let (bytes, charset) = csv_bytes(&table.to_csv(), encoding)?;
            (bytes, format!("text/csv; charset={charset}"), "csv")
        }
        FileFormat::Xlsx => (
            xlsx_bytes(table).map_err(|e| ApiError::Internal(format!("XLSX: {e}")))?,
            XLSX_MEDIA_TYPE.into(),
            "xlsx",
        ),
    };
    let disposition = format!(
        "attachment; filename=\"{name}.{extension}\"; filename*=UTF-8''{}_{name}.{extension}",
        percent_encode(&table.title)
    );
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .body(bytes))
}

fn csv_bytes(text: &str, encoding: EncodingParam) -> ApiResult<(Vec<u8>, &'static str)> {
    Ok(match encoding {
        EncodingParam::Auto | EncodingParam::Utf8 => {
            let mut bytes = "\u{FEFF}".as_bytes().to_vec();
            bytes.extend_from_slice(text.as_bytes());
            (bytes, "utf-8")
        }
        EncodingParam::ShiftJis => {
            let (encoded, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
            if unmappable {
                let sample: String = text
                    .chars()
                    .filter(|c| {
                        let mut buf = [0u8; 4];
                        encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf)).2
                    })
                    .take(5)
                    .collect();
                return Err(ApiError::validation(FieldError::conflict(
                    "encoding",
                    format!("Shift_JIS cannot hold some characters of this file ({sample}); export as UTF-8"),
                )));
            }
            (encoded.into_owned(), "shift_jis")
        }
    })
}

/// The table as one worksheet: a bold, frozen header row, text as text (neutralised as in CSV,
/// so that a cell copied out never becomes a formula), numbers as numbers, days as Excel dates.
fn xlsx_bytes(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(&table.title))?;
    let bold = Format::new().set_bold();
    let day = Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, neutralise(h), &bold)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => {
                    sheet.write_string(r, c, neutralise(t))?;
                }
                Cell::Int(n) => {
                    sheet.write_number(r, c, *n as f64)?;
                }
                Cell::Date(d) => {
                    let date = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    sheet.write_date_with_format(r, c, &date, &day)?;
                }
                Cell::Empty => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofit();
    workbook.save_to_buffer()
}

/// A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    let name: String =
        title.chars().filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\')).take(31).collect();
    if name.is_empty() {
        "Sheet1".into()
    } else {
        name
    }
}

/// RFC 8187 value characters: everything but unreserved ASCII is percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_and_file_names_are_what_excel_and_browsers_take() {
        assert_eq!(sheet_name("受講者名簿"), "受講者名簿");
        assert_eq!(sheet_name("a/b:c"), "abc");
        assert_eq!(sheet_name(&"長".repeat(40)).chars().count(), 31);
        assert_eq!(sheet_name("[]"), "Sheet1");
        assert_eq!(percent_encode("出席簿 a~"), "%E5%87%BA%E5%B8%AD%E7%B0%BF%20a~");
    }
}
