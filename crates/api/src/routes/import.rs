//! POST /api/v1/employees/import: the roster from the personnel system's CSV.
//!
//! Pass 1 validates every row and reports all errors; only a clean file reaches pass 2, which
//! re-reads the same bytes and writes in batches inside one transaction (all-or-nothing).

use std::collections::HashSet;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::roster_import::{Encoding, FileError, RosterReader, RosterRow, RowError};
use kenshu_persistence::repo::audit::{self, Change};
use kenshu_persistence::repo::employee::{ImportStats, RosterWriter};
use kenshu_persistence::repo::{org, structure};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// Rows per batch handed from the parser to the writer.
const IMPORT_BATCH: usize = 1000;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// The file is the whole roster: employees missing from it are marked inactive.
    #[default]
    Full,
    /// Only add and update the employees in the file.
    Upsert,
}

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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Validate and report without writing.
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub mode: ImportMode,
    /// Overrides the `charset` of the Content-Type; `auto` takes a BOM or valid UTF-8 as UTF-8,
    /// anything else as Shift_JIS (CP932).
    pub encoding: Option<EncodingParam>,
}

/// What the import did, or would do on a dry run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "dry_run": false, "mode": "full", "rows": 300, "created": 12, "updated": 3,
    "unchanged": 285, "deactivated": 2, "ignored_columns": ["備考"]
}))]
pub struct ImportReport {
    pub dry_run: bool,
    pub mode: ImportMode,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deactivated: u64,
    /// Header names that are not roster columns and were ignored.
    pub ignored_columns: Vec<String>,
}

async fn read_body(mut payload: web::Payload, limit: usize) -> ApiResult<web::BytesMut> {
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

fn encoding_of(req: &HttpRequest, param: Option<EncodingParam>) -> ApiResult<Encoding> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut parts = content_type.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if !matches!(mime.as_str(), "text/csv" | "application/csv" | "application/octet-stream" | "text/plain") {
        return Err(ApiError::UnsupportedMediaType("send the roster as text/csv".into()));
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

fn file_error(e: FileError) -> ApiError {
    ApiError::ImportFile(e.to_string())
}

/// Import the roster (HR, importer). All-or-nothing: one bad row rejects the file and the
/// answer lists every bad row. Idempotent by employee number.
#[utoipa::path(post, path = "/api/v1/employees/import", tag = "employees", params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "CSV, UTF-8 (with or without BOM) or Shift_JIS. Header names in Japanese or English: 職員番号/employee_no, 氏名/name, フリガナ/kana, 所属コード/section_code, 職級/grade, 採用日/hire_date (required); メール/email, 職/post, 昇格日/promotions (主任=2019-04-01;係長=R5.4.1), 雇用形態/employment_type, 退職予定日/retirement_date, タグ/tags (separated by ;).",
        example = "職員番号,氏名,フリガナ,所属コード,職級,採用日,昇格日,タグ\n1001,伊勢原 太郎,イセハラ タロウ,S0101,主任,2019/4/1,主任=R5.4.1,防災担当\n"),
    responses((status = 200, body = ImportReport),
        (status = 413, description = "The file is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV, or an unknown charset", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file cannot be read (import-file) or has invalid rows (import-rejected, with every row error)", body = Problem, content_type = "application/problem+json")))]
pub async fn import_roster(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    authorize(&auth.principal, Action::ImportRoster)?;
    let encoding = encoding_of(&req, query.encoding)?;
    let body = read_body(payload, state.config.max_upload_bytes).await?.freeze();
    let org_id = auth.principal.org_id;
    let ladder = org::ladder(state.db.conn(), org_id).await?;
    let codes: HashSet<String> =
        structure::section_index(state.db.conn(), org_id).await?.into_keys().collect();

    // One pass: a blocking thread parses and validates every row while this task writes the
    // valid batches in one transaction. After the first bad row nothing more is sent, but every
    // row is still checked so the answer lists all errors; then the transaction is rolled back
    // (dropped), so a rejected file writes nothing. The bounded channel keeps only a few
    // batches of parsed rows in memory beside the body.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<RosterRow>>(8);
    let parser = web::block(move || -> Result<(Vec<String>, Vec<RowError>), FileError> {
        let mut reader = RosterReader::open(&body, encoding, &ladder, &codes)?;
        let mut errors = Vec::new();
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        let mut writer_gone = false;
        while let Some(row) = reader.next_row() {
            match row {
                Err(e) => errors.extend(e),
                Ok(row) if errors.is_empty() && !writer_gone => {
                    batch.push(row);
                    if batch.len() == IMPORT_BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH));
                        writer_gone = tx.blocking_send(full).is_err();
                    }
                }
                Ok(_) => {}
            }
        }
        if errors.is_empty() && !batch.is_empty() && !writer_gone {
            let _ = tx.blocking_send(batch);
        }
        Ok((reader.ignored_columns(), errors))
    });

    let actor = auth.actor();
    let txn = state.db.begin_write().await?;
    let mut writer = RosterWriter::start(&*txn, &actor).await?;
    let mut write_result = Ok(());
    while let Some(batch) = rx.recv().await {
        write_result = writer.write(&batch).await;
        if write_result.is_err() {
            break;
        }
    }
    drop(rx);
    let (ignored, errors) =
        parser.await.map_err(|e| ApiError::Internal(e.to_string()))?.map_err(file_error)?;
    write_result?;
    if !errors.is_empty() {
        txn.rollback().await?;
        return Err(ApiError::ImportRejected(errors));
    }
    let mode = query.mode;
    let stats: ImportStats = writer.finish(mode == ImportMode::Full).await?;
    let report = ImportReport {
        dry_run: query.dry_run,
        mode,
        rows: stats.rows,
        created: stats.created,
        updated: stats.updated,
        unchanged: stats.unchanged,
        deactivated: stats.deactivated,
        ignored_columns: ignored,
    };
    if query.dry_run {
        txn.rollback().await?;
    } else {
        audit::record(&*txn, &actor, Change::new("roster.import", "roster", None, None, Some(&stats)))
            .await?;
        txn.commit().await?;
    }
    Ok(HttpResponse::Ok().json(report))
}
