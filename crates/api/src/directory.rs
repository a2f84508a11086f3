//! The staff directory synced from the portal (desknet's NEO 共通API, `zrconst.cgi`): read the
//! organisation tree and the users whole, one request at a time, then apply them through the
//! structure and roster imports' own path in one transaction, or report what that would change.
//!
//! A read that is not whole changes nothing: an `ng` reply, a page that fails after its retries,
//! a reply that is not the portal's JSON, or fewer users than the portal says it holds.

use std::collections::HashSet;
use std::time::Duration;

use kenshu_domain::directory::{self, LeftAside, Record};
use kenshu_domain::structure_io::StructureCounts;
use kenshu_domain::Words;
use kenshu_persistence::repo::audit::{self, Change};
use kenshu_persistence::repo::{employee, org, reminder, structure, Actor};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::DirectoryConfig;
use crate::problem::{ApiError, ApiResult};
use crate::routes::import::{apply_rows, carry_through, ImportMode, RosterCounts};
use crate::state::AppState;

/// The longest `Retry-After` the sync honours; a longer one is taken as this.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// What was read from the portal: its groups and its users, and how the reading went.
#[derive(Debug, Default)]
pub struct Read {
    pub groups: Vec<Record>,
    pub users: Vec<Record>,
    pub requests: u32,
    /// Requests the portal refused as busy (429) and that were asked again after a wait.
    pub busy: u32,
}

/// Why a read is not whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Ng(#[from] directory::PortalNg),
    #[error("the portal stayed busy (429) for {0} attempts")]
    Busy(u32),
    #[error("the portal could not be reached: {0}")]
    Unreachable(String),
    #[error("the portal answered HTTP {0}")]
    Status(u16),
    #[error("{0}")]
    Partial(String),
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> Self {
        ApiError::DirectoryUnavailable(Words::new(
            format!("{e}; nothing was changed"),
            format!("ポータルの職員情報を読み取れませんでした（{e}）。何も変更していません"),
        ))
    }
}

/// One action, asked again after a wait while the portal is busy or unreachable.
async fn call(
    state: &AppState,
    cfg: &DirectoryConfig,
    read: &mut Read,
    form: &[(&str, String)],
) -> Result<Record, ReadError> {
    let mut last = ReadError::Busy(0);
    for attempt in 1..=cfg.attempts {
        if attempt > 1 {
            let wait = match &last {
                ReadError::Busy(_) => cfg.busy_wait,
                _ => cfg.busy_wait / 4,
            };
            tokio::time::sleep(wait).await;
        }
        read.requests += 1;
        let sent = state
            .http
            .post(&cfg.url)
            .header("X-Desknets-Auth", &cfg.access_key)
            .form(form)
            .timeout(Duration::from_secs(60))
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                last = ReadError::Unreachable(e.without_url().to_string());
                continue;
            }
        };
        let status = response.status().as_u16();
        if status == 429 {
            read.busy += 1;
            let told = response
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s).min(LONGEST_WAIT));
            if let Some(wait) = told.filter(|w| *w > cfg.busy_wait) {
                tokio::time::sleep(wait - cfg.busy_wait).await;
            }
            last = ReadError::Busy(attempt);
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(ReadError::Status(status));
        }
        // A body cut short (the connection dropped) fails here or reads as no JSON: either way
        // the read is not whole.
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ReadError::Partial(format!("a reply was cut short: {}", e.without_url())))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|_| ReadError::Partial("a reply is not complete JSON".into()))?;
        return Ok(directory::reply(&value)?.clone());
    }
    Err(last)
}

/// Read the whole directory: the groups, then the users page by page. Every page must come back
/// `ok`; the users must be as many as the portal says (`total`), none twice.
pub async fn read(state: &AppState, cfg: &DirectoryConfig) -> Result<Read, ReadError> {
    let mut out = Read::default();
    let body = call(state, cfg, &mut out, &[("action", "list_groups".into())]).await?;
    out.groups = directory::records(&body, "groups").map_err(ReadError::Partial)?;
    let mut seen: HashSet<String> = HashSet::new();
    let mut said_total = None;
    loop {
        let offset = out.users.len();
        let form = [
            ("action", "list_users".to_string()),
            ("offset", offset.to_string()),
            ("limit", cfg.page_size.to_string()),
        ];
        let body = call(state, cfg, &mut out, &form).await?;
        let page = directory::records(&body, "users").map_err(ReadError::Partial)?;
        if let Some(t) = directory::total(&body) {
            if said_total.is_some_and(|s| s != t) {
                return Err(ReadError::Partial("the number of users changed while they were read".into()));
            }
            said_total = Some(t);
        }
        let full_page = page.len() >= cfg.page_size as usize;
        for user in page {
            let id = user.get("id").map(|v| v.to_string()).unwrap_or_default();
            if !id.is_empty() && !seen.insert(id) {
                return Err(ReadError::Partial(
                    "a user came back twice: the portal's pages moved while they were read".into(),
                ));
            }
            out.users.push(user);
        }
        // The last page is the short one (or the portal said how many there are).
        let done = !full_page || said_total.is_some_and(|t| out.users.len() as u64 >= t);
        if done {
            break;
        }
    }
    if let Some(t) = said_total {
        if out.users.len() as u64 != t {
            return Err(ReadError::Partial(format!(
                "the portal holds {t} users but {} were read",
                out.users.len()
            )));
        }
    }
    Ok(out)
}

/// What a sync did, or would do on a dry run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "dry_run": true, "mode": "upsert", "requests": 3, "busy": 1, "groups": 42, "users": 310,
    "structure": {"departments_created": 0, "departments_updated": 1, "departments_unchanged": 9,
        "sections_created": 0, "sections_updated": 0, "sections_unchanged": 30},
    "roster": {"rows": 300, "created": 0, "updated": 4, "unchanged": 296, "deactivated": 0,
        "transferred": 2, "released_places": 0, "promoted": 0, "awaiting_new_head": 1, "heads_named": 0, "heads_vacated": 0, "subsidies_withdrawn": 0, "heads_elsewhere": [], "groups_to_hand_over": 0},
    "left_aside": [{"position": 12, "employee_no": null, "reason": "no employee number: a shared or system account, not a member of staff"}]
}))]
pub struct SyncReport {
    pub dry_run: bool,
    pub mode: ImportMode,
    /// Requests sent to the portal, one at a time.
    pub requests: u32,
    /// Of those, the ones the portal refused as busy (429) and that were asked again.
    pub busy: u32,
    /// Groups and users read.
    pub groups: u64,
    pub users: u64,
    /// Departments and sections from the portal's tree.
    pub structure: StructureCounts,
    /// The staff, as the roster import counts them.
    pub roster: RosterCounts,
    /// Portal users that are not taken, and why.
    pub left_aside: Vec<LeftAside>,
}

/// Read the directory and apply it to the organisation the portal holds, as `actor`; a dry run
/// rolls back. Only one sync runs at a time in an instance (the portal works one request at a
/// time); a second is refused.
pub async fn sync(state: &AppState, actor: &Actor, mode: ImportMode, dry_run: bool) -> ApiResult<SyncReport> {
    let cfg = state.config.directory.as_ref().ok_or(ApiError::NotFound)?;
    let _running = state.directory_sync.try_lock().map_err(|_| {
        ApiError::Conflict(Words::fixed(
            "a directory sync is running; try again when it has finished",
            "職員名簿の同期を実行中です。終わってからもう一度お試しください",
        ))
    })?;
    let read = read(state, cfg).await?;
    let full = mode == ImportMode::Full;
    if full && read.users.is_empty() {
        return Err(ApiError::DirectoryUnavailable(
            Words::fixed("the portal listed no users; with mode=full that would mark every employee inactive, so nothing was changed", "ポータルの利用者一覧が空でした。mode=full では全職員が在職でなくなるため、何も変更していません"),
        ));
    }
    let tree = directory::tree(&read.groups, cfg.department_depth).map_err(ApiError::ImportRejected)?;
    let txn = state.db.begin_write().await?;
    let structure_counts = match structure::import(&txn, actor, &tree.file).await? {
        Ok(counts) => counts,
        Err(rows) => {
            txn.rollback().await?;
            return Err(ApiError::ImportRejected(rows));
        }
    };
    let current = employee::roster_fields(&txn, actor.org_id).await?;
    let ladder = org::ladder(&txn, actor.org_id).await?;
    let rows = directory::roster_rows(&read.users, &cfg.fields, &tree, &current, &ladder);
    if !rows.errors.is_empty() {
        txn.rollback().await?;
        return Err(ApiError::ImportRejected(rows.errors));
    }
    let (stats, moves) = apply_rows(&txn, actor, &rows.rows, full).await?;
    let roster = match carry_through(&txn, actor, &stats, &moves, &[]).await? {
        Ok(counts) => counts,
        Err(errors) => {
            txn.rollback().await?;
            return Err(ApiError::ImportRejected(errors));
        }
    };
    let report = SyncReport {
        dry_run,
        mode,
        requests: read.requests,
        busy: read.busy,
        groups: read.groups.len() as u64,
        users: read.users.len() as u64,
        structure: structure_counts,
        roster,
        left_aside: rows.left_aside,
    };
    if dry_run {
        txn.rollback().await?;
    } else {
        audit::record(&txn, actor, Change::new("directory.sync", "roster", None, None, Some(&stats))).await?;
        txn.commit().await?;
        crate::routes::import::analyze_roster(state, &stats).await;
    }
    Ok(report)
}

/// The service's own sync, as the portal's directory (`directory-sync`), for the organisation the
/// portal holds.
pub async fn service_actor(state: &AppState, cfg: &DirectoryConfig) -> ApiResult<Actor> {
    let o = org::find_by_code(state.db.conn(), &cfg.organisation).await?.ok_or_else(|| {
        ApiError::Internal(format!(
            "KENSHU_DIRECTORY_ORGANISATION '{}' is not an organisation",
            cfg.organisation
        ))
    })?;
    Ok(Actor { org_id: o.id, subject: "directory-sync".into(), request_id: None })
}

/// The scheduled sync: when `KENSHU_DIRECTORY_SYNC_EVERY_SECONDS` have passed since any instance
/// last began one (on the service's clock), sync in the configured mode; a failed one is tried
/// again after 15 minutes. `None`: not due, not set
/// up, or another sync is running here.
pub async fn sync_if_due(state: &AppState) -> ApiResult<Option<SyncReport>> {
    let Some(cfg) = state.config.directory.as_ref().filter(|c| c.every_secs > 0) else {
        return Ok(None);
    };
    if state.directory_sync.try_lock().is_err() {
        return Ok(None);
    }
    let at = state.clock.now();
    let every = chrono::Duration::seconds(cfg.every_secs as i64);
    let txn = state.db.begin_write().await?;
    let due = reminder::claim_job(&txn, "directory_sync", at, every).await?;
    txn.commit().await?;
    if !due {
        return Ok(None);
    }
    let actor = service_actor(state, cfg).await?;
    let mode = if cfg.full { ImportMode::Full } else { ImportMode::Upsert };
    let done = sync(state, &actor, mode, false).await;
    if done.is_err() {
        // A portal that was down or busy is tried again soon, not only after the next interval.
        let retry = chrono::Duration::seconds(RETRY_FAILED_SYNC_SECONDS.min(cfg.every_secs as i64));
        let txn = state.db.begin_write().await?;
        reminder::due_again(&txn, "directory_sync", at + retry - every).await?;
        txn.commit().await?;
    }
    done.map(Some)
}

/// After a scheduled sync fails, the next try is this much later (or at the interval, if shorter).
const RETRY_FAILED_SYNC_SECONDS: i64 = 15 * 60;
