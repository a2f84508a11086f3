//! Files in and out, the same way for every route: a CSV or other upload read within the limit,
//! its encoding from the Content-Type or a parameter, a file that cannot be read as a 422, and a
//! CSV download as Excel opens Japanese text.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use kenshu_domain::roster_import::{Encoding, FileError};
use serde::Deserialize;
use utoipa::ToSchema;

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
    /// The JSON form the import reads.
    Json,
}

pub async fn read_body(mut payload: web::Payload, limit: usize) -> ApiResult<web::BytesMut> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the upload was interrupted: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(format!("the file exceeds {limit} bytes")));
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
        return Err(ApiError::UnsupportedMediaType("send the file as text/csv".into()));
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
                    ApiError::UnsupportedMediaType(format!("charset {} is not supported", v.trim()))
                });
            }
        }
    }
    Ok(Encoding::Auto)
}

pub fn file_error(e: FileError) -> ApiError {
    ApiError::ImportFile(e.to_string())
}

/// A CSV file to download, as Excel opens Japanese text correctly: UTF-8 with a byte-order mark,
/// or Shift_JIS (CP932) for systems that expect it, refused (422) when the text holds characters
/// Shift_JIS cannot encode rather than written with substitutes.
pub fn csv_download(text: &str, encoding: EncodingParam, name: &str) -> ApiResult<HttpResponse> {
    let (bytes, charset) = match encoding {
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
                return Err(ApiError::validation(
                    "encoding",
                    format!("Shift_JIS cannot hold some characters of this file ({sample}); export as UTF-8"),
                ));
            }
            (encoded.into_owned(), "shift_jis")
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(format!("text/csv; charset={charset}"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")))
        .body(bytes))
}
