//! POST /api/v1/employees/import: the roster from the personnel system's CSV.
//!
//! One pass: a parsing thread validates every row while the request task writes the batches of
//! a clean file inside one transaction, so a file with any bad row writes nothing.

use kenshu_domain::Words;
use std::collections::HashSet;

use actix_web::{web, HttpRequest, HttpResponse};
use kenshu_domain::auth::{authorize, Action};
use kenshu_domain::roster_import::{RosterReader, RosterRow, RowError};
use kenshu_persistence::repo::audit::{self, Change};
use kenshu_persistence::repo::employee::{execute, ImportStats, Planned, RosterMove, RosterPlanner};
use kenshu_persistence::repo::org;
use kenshu_persistence::repo::structure::{self, RosterHead};
use kenshu_persistence::repo::Actor;
use kenshu_persistence::WriteTxn;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::problem::{ApiError, ApiResult, Problem, RowErrorDto};
use crate::routes::files::{encoding_of, file_error, read_body, EncodingParam};
use crate::routes::shared::HeadElsewhereDto;
use crate::state::AppState;

/// What the parsing thread reports: ignored columns, every bad row, and the totals when the
/// file was good.
/// What the parser hands back: the ignored columns, the bad rows, and for a good file its totals,
/// the moves it makes, its warnings and the heads it names.
type ParseOutcome =
    (Vec<String>, Vec<RowError>, Option<(ImportStats, Vec<RosterMove>, Vec<RowError>, Vec<RosterHead>)>);

/// Parsed batches the parsing thread holds while the current roster is still loading.
const MAX_WAITING: usize = 8;

/// The parsing thread's hand-off: it plans batches once the current roster has arrived,
/// holding at most [`MAX_WAITING`] parsed batches until then, and sends the planned statements
/// to the request task.
struct Feeder {
    planner: Option<RosterPlanner>,
    roster: std::sync::mpsc::Receiver<RosterPlanner>,
    waiting: Vec<Vec<RosterRow>>,
    out: tokio::sync::mpsc::Sender<Planned>,
    /// The request task stopped listening (its load or a write failed); stop planning.
    gone: bool,
    /// The file has no login id column.
    keep_login_ids: bool,
}

impl Feeder {
    /// Queue a parsed batch and plan what can be planned; with `last`, wait for the roster.
    fn push(&mut self, batch: Vec<RosterRow>, last: bool) -> Result<(), ApiError> {
        if !batch.is_empty() {
            self.waiting.push(batch);
        }
        if self.planner.is_none() && !self.gone {
            let wait = last || self.waiting.len() >= MAX_WAITING;
            match if wait { self.roster.recv().ok() } else { self.roster.try_recv().ok() } {
                Some(mut planner) => {
                    if self.keep_login_ids {
                        planner.keep_login_ids();
                    }
                    self.planner = Some(planner)
                }
                None if wait => self.gone = true,
                None => return Ok(()),
            }
        }
        let Some(planner) = self.planner.as_mut() else { return Ok(()) };
        for batch in self.waiting.drain(..) {
            if self.gone || self.out.blocking_send(planner.plan(&batch)?).is_err() {
                self.gone = true;
            }
        }
        Ok(())
    }
}

/// Rows per batch handed from the parser to the writer.
const IMPORT_BATCH: usize = 1000;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// The file is the whole roster: employees missing from it are marked inactive.
    Full,
    /// Only add and update the employees in the file.
    Upsert,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Validate and report without writing.
    #[serde(default)]
    pub dry_run: bool,
    /// Required: `full` (the file is the whole roster; those it leaves out are marked inactive)
    /// or `upsert` (only add and update those in the file). No default: a partial file taken
    /// as whole would retire everyone it leaves out.
    pub mode: ImportMode,
    /// Overrides the `charset` of the Content-Type; `auto` takes a BOM or valid UTF-8 as UTF-8,
    /// anything else as Shift_JIS (CP932).
    pub encoding: Option<EncodingParam>,
}

/// What the import did, or would do on a dry run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "dry_run": false, "mode": "full", "rows": 300, "created": 12, "updated": 3,
    "unchanged": 285, "deactivated": 2, "transferred": 40, "released_places": 3, "promoted": 2,
    "awaiting_new_head": 5, "heads_named": 1, "heads_vacated": 1, "subsidies_withdrawn": 0,
    "heads_elsewhere": [{"employee_no": "10017", "section_code": "S0201", "unit": "section", "unit_code": "S0102", "acting": false}],
    "groups_to_hand_over": 0, "ignored_columns": ["備考"],
    "warnings": [{"line": 14, "column": "役職発令日", "code": "required", "reason": "係長 has no appointment date: rules for the newly appointed (新任の…) will not match them"}]
}))]
pub struct ImportReport {
    pub dry_run: bool,
    pub mode: ImportMode,
    #[serde(flatten)]
    pub counts: RosterCounts,
    /// Header names that are not roster columns and were ignored.
    pub ignored_columns: Vec<String>,
    /// Rows taken as they are that a rule will not read as meant (a post without its
    /// appointment date), by line and column.
    pub warnings: Vec<RowErrorDto>,
}

/// What a change to the roster did (or would do on a dry run), from a file or the portal's
/// directory.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RosterCounts {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Marked inactive (left): with `mode=full`, everyone the file leaves out.
    pub deactivated: u64,
    /// Moved to another section (人事異動).
    pub transferred: u64,
    /// Places of leavers on courses still to come, given back.
    pub released_places: u64,
    /// Waiting trainees moved up into those places (and told).
    pub promoted: u64,
    /// Applications, absence notices and subsidy applications of moved staff that now wait for
    /// their new head's confirmation.
    pub awaiting_new_head: u64,
    /// Sections and departments whose head the roster's 所属長 or 部長 column changed.
    pub heads_named: u64,
    /// Sections and departments whose head or acting head left (and the organisation's named
    /// approver, if they left): now without them, so what they decided goes one step up until
    /// someone is named.
    pub heads_vacated: u64,
    /// Subsidy applications (通信教育講座助成) of leavers that were waiting for a decision:
    /// withdrawn (退職により取下げ). Approved ones stay for HR to settle.
    pub subsidies_withdrawn: u64,
    /// Staff this change moved who still head or stand in for a section or department they no
    /// longer sit in: a concurrent post (兼務) or a head not replaced yet. Nothing is changed; the
    /// office names the new head (`PUT /sections/{id}`, `PUT /departments/{id}` or the roster's
    /// 所属長・部長 columns) or leaves it as it is.
    pub heads_elsewhere: Vec<HeadElsewhereDto>,
    /// Study groups still under way whose representative (代表者) left: nobody else may file for
    /// them until the representative's place is handed over (`PUT /study-groups/{id}/members`);
    /// the group shows `representative_on_roster: false`.
    pub groups_to_hand_over: u64,
}

/// Import the roster (HR, importer). All-or-nothing: one bad row rejects the file and the
/// answer lists every bad row. Idempotent by employee number.
#[utoipa::path(post, path = "/api/v1/employees/import", tag = "employees", params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "CSV, UTF-8 (with or without BOM) or Shift_JIS. Header names in Japanese or English: 職員番号/employee_no, 氏名/name, フリガナ/kana, 所属コード/section_code, 職級/grade, 採用日/hire_date (required); メール/email, ログインID/portal_login_id (desknet's NEO), 職/post, 昇格日/promotions (主任=2019-04-01;係長=R5.4.1), 雇用形態/employment_type, 退職予定日/retirement_date, タグ/tags (separated by ;).",
        example = "職員番号,氏名,フリガナ,所属コード,職級,採用日,昇格日,タグ\n1001,伊勢原 太郎,イセハラ タロウ,S0101,主任,2019/4/1,主任=R5.4.1,防災担当\n"),
    responses((status = 200, body = ImportReport),
        (status = 413, description = "The file is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV, or an unknown charset", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The roster changed while the import ran (another import or an edit); nothing was written", body = Problem, content_type = "application/problem+json"),
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

    // One pass. A blocking thread parses and validates every row and plans each valid batch
    // (models, audit records, statements) while this task loads the current roster and then
    // executes the statements of earlier batches, so the CPU work overlaps the database's. After
    // the first bad row nothing more is planned, but every row is still checked so the answer
    // lists all errors; the transaction is then rolled back, so a rejected file writes nothing.
    // The bounded channels keep only a few batches in memory beside the body.
    let deactivate_missing = query.mode == ImportMode::Full;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Planned>(4);
    let (planner_tx, planner_rx) = std::sync::mpsc::sync_channel::<RosterPlanner>(1);
    let worker = web::block(move || -> Result<ParseOutcome, ApiError> {
        let mut reader = RosterReader::open(&body, encoding, &ladder, &codes).map_err(file_error)?;
        let mut feeder = Feeder {
            planner: None,
            roster: planner_rx,
            waiting: Vec::new(),
            out: tx,
            gone: false,
            keep_login_ids: !reader.has_login_ids(),
        };
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut heads = Vec::new();
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        while let Some(row) = reader.next_row() {
            if let Ok(row) = &row {
                warnings.extend(row.warnings());
                if row.heads_section || row.heads_department {
                    heads.push(RosterHead {
                        line: row.line,
                        employee_no: row.data.employee_no.as_str().to_string(),
                        section_code: row.section_code.clone(),
                        section: row.heads_section,
                        department: row.heads_department,
                    });
                }
            }
            match row {
                Err(e) => errors.extend(e),
                Ok(row) if errors.is_empty() && !feeder.gone => {
                    batch.push(row);
                    if batch.len() == IMPORT_BATCH {
                        feeder
                            .push(std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH)), false)?;
                    }
                }
                Ok(_) => {}
            }
        }
        if !errors.is_empty() {
            return Ok((reader.ignored_columns(), errors, None));
        }
        feeder.push(batch, true)?;
        let Some(planner) = feeder.planner.take().filter(|_| !feeder.gone) else {
            return Ok((reader.ignored_columns(), errors, None));
        };
        if deactivate_missing && planner.rows() == 0 {
            // Most likely a truncated export; taken at its word it would retire the whole roster.
            return Err(ApiError::ImportFile(Words::fixed(
                "the file has a header but no rows; with mode=full that would mark every employee inactive",
                "ファイルに見出し行しかありません。mode=full では全職員が在職でなくなるため、受け付けません",
            )));
        }
        let (planned, stats, moves) = planner.finish(deactivate_missing)?;
        let _ = feeder.out.blocking_send(planned);
        Ok((reader.ignored_columns(), errors, Some((stats, moves, warnings, heads))))
    });

    // The roster as it is now, read inside the import's transaction, while the file is parsed.
    let actor = auth.actor();
    let txn = state.db.begin_write().await?;
    let planner = RosterPlanner::load(&txn, &actor).await?;
    // The worker has gone only if the file was bad; its answer says so below.
    let _ = planner_tx.send(planner);
    drop(planner_tx);

    let mut write_result = Ok(());
    while let Some(planned) = rx.recv().await {
        write_result = execute(&txn, planned).await;
        if write_result.is_err() {
            break;
        }
    }
    drop(rx);
    let (ignored, errors, stats) = worker.await.map_err(|e| ApiError::Internal(e.to_string()))??;
    write_result?;
    let Some((stats, moves, warnings, heads)) = stats.filter(|_| errors.is_empty()) else {
        txn.rollback().await?;
        return Err(ApiError::ImportRejected(errors));
    };
    let counts = match carry_through(&txn, &actor, &stats, &moves, &heads).await? {
        Ok(counts) => counts,
        Err(rows) => {
            txn.rollback().await?;
            return Err(ApiError::ImportRejected(rows));
        }
    };
    let report = ImportReport {
        dry_run: query.dry_run,
        mode: query.mode,
        counts,
        ignored_columns: ignored,
        warnings: warnings.iter().map(RowErrorDto::of).collect(),
    };
    if query.dry_run {
        txn.rollback().await?;
    } else {
        audit::record(&txn, &actor, Change::new("roster.import", "roster", None, None, Some(&stats))).await?;
        txn.commit().await?;
        analyze_roster(&state, &stats).await;
    }
    Ok(HttpResponse::Ok().json(report))
}

/// Apply validated rows held in memory (the portal's directory) the way the import applies a
/// file's: planned against the roster as it is in `txn`, with `full` marking those left out
/// inactive.
pub(crate) async fn apply_rows(
    txn: &WriteTxn,
    actor: &Actor,
    rows: &[RosterRow],
    full: bool,
) -> ApiResult<(ImportStats, Vec<RosterMove>)> {
    let mut planner = RosterPlanner::load(txn, actor).await?;
    for batch in rows.chunks(IMPORT_BATCH) {
        execute(txn, planner.plan(batch)?).await?;
    }
    let (planned, stats, moves) = planner.finish(full)?;
    execute(txn, planned).await?;
    Ok((stats, moves))
}

/// After the rows are written: the heads the rows name, then April's moves carried through
/// (places released, waiting trainees promoted, paperwork sent to the new head), in the same
/// transaction. Two rows naming a head for one unit are row errors (the caller rolls back).
pub(crate) async fn carry_through(
    txn: &WriteTxn,
    actor: &Actor,
    stats: &ImportStats,
    moves: &[RosterMove],
    heads: &[RosterHead],
) -> ApiResult<Result<RosterCounts, Vec<RowError>>> {
    let heads_named = match structure::heads_from_roster(txn, actor, heads).await? {
        Ok(n) => n,
        Err(rows) => return Ok(Err(rows)),
    };
    let carried = kenshu_persistence::repo::cascade::roster_moved(txn, actor, moves).await?;
    Ok(Ok(RosterCounts {
        rows: stats.rows,
        created: stats.created,
        updated: stats.updated,
        unchanged: stats.unchanged,
        deactivated: stats.deactivated,
        transferred: carried.transferred,
        released_places: carried.released.len() as u64,
        promoted: carried.promoted.len() as u64,
        awaiting_new_head: carried.awaiting_new_head,
        heads_named,
        heads_vacated: carried.heads_vacated,
        subsidies_withdrawn: carried.subsidies_withdrawn,
        heads_elsewhere: carried.heads_elsewhere.iter().map(HeadElsewhereDto::of).collect(),
        groups_to_hand_over: carried.groups_to_hand_over,
    }))
}

/// After a roster changed in bulk, the planner's statistics, so the next lookups by employee
/// number use their index from the first request. Not after a run that changed no employee: an
/// unchanged re-import of 50,000 staff spent ~140 ms of its ~600 ms on `ANALYZE employee`.
pub(crate) async fn analyze_roster(state: &AppState, stats: &ImportStats) {
    if stats.created + stats.updated + stats.deactivated > 0 {
        analyze_after_bulk(state, &["employee", "section", "department"]).await;
    }
}

/// Refresh the planner's statistics of tables a bulk write filled (a first import can grow a
/// table a hundredfold); the write stands whatever happens here.
pub(crate) async fn analyze_after_bulk(state: &AppState, tables: &[&str]) {
    if let Err(e) = state.db.analyze(tables).await {
        tracing::warn!(error = %e, "ANALYZE after a bulk write failed");
    }
}
