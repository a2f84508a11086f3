//! Scheduled work the service runs by itself: every organisation's reminders and digests (one
//! instance at a time looks for them, and each is written once under its key), then the
//! portal form changes left pending, then the deliveries that are due. The service runs it every `KENSHU_DELIVERY_INTERVAL_SECONDS`; tests
//! run it on a clock they hold.

use chrono::Duration;
use kenshu_persistence::repo::{org, reminder};

use crate::delivery::{run_due, RunReport};
use crate::problem::ApiResult;
use crate::state::AppState;

/// How often reminders are looked for: each is due from an hour of the day, so a few minutes
/// late is on time.
const REMINDERS_EVERY_MINUTES: i64 = 5;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScheduledRun {
    /// Whether this instance looked for reminders (another may have, moments ago).
    pub looked_for_reminders: bool,
    pub reminders: reminder::ReminderRun,
    pub deliveries: RunReport,
    /// Portal form changes left pending (their instance stopped, or the database failed) and
    /// applied now.
    pub portal_changes: usize,
}

/// A portal form's change is applied as it arrives; one still pending after this long was left
/// by an instance that stopped or a database that failed.
const PORTAL_PENDING_AFTER_SECONDS: i64 = 60;

/// Look for reminders if no instance did in the last few minutes, then deliver what is due.
pub async fn run_scheduled(state: &AppState) -> ApiResult<ScheduledRun> {
    let at = state.clock.now();
    let txn = state.db.begin_write().await?;
    let mine = reminder::claim_job(&txn, "reminders", at, Duration::minutes(REMINDERS_EVERY_MINUTES)).await?;
    txn.commit().await?;
    let mut run = ScheduledRun { looked_for_reminders: mine, ..Default::default() };
    if mine {
        run.reminders = remind(state).await?;
    }
    run.portal_changes = crate::portal_inbox::apply_stuck(state, PORTAL_PENDING_AFTER_SECONDS).await?;
    run.deliveries = run_due(state).await?;
    Ok(run)
}

/// Write every organisation's due reminders and digests, each once.
pub async fn remind(state: &AppState) -> ApiResult<reminder::ReminderRun> {
    let at = state.clock.now();
    let mut total = reminder::ReminderRun::default();
    for o in org::list(state.db.conn()).await? {
        let txn = state.db.begin_write().await?;
        let r = reminder::run(&txn, &o, at).await?;
        txn.commit().await?;
        total.sessions += r.sessions;
        total.reports += r.reports;
        total.digests += r.digests;
    }
    Ok(total)
}

/// Run scheduled work every `interval` until the process ends; a failed run is logged and the
/// next one tries again.
pub async fn run_forever(state: AppState, interval: std::time::Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        state.limits.forget_idle();
        // The directory sync waits on the portal (up to minutes while it is busy), so it runs
        // beside the rest; it is skipped while one is still running.
        if state.config.directory.is_some() {
            let state = state.clone();
            tokio::spawn(async move {
                match crate::directory::sync_if_due(&state).await {
                    Ok(Some(r)) => tracing::info!(
                        users = r.users,
                        created = r.roster.created,
                        updated = r.roster.updated,
                        deactivated = r.roster.deactivated,
                        transferred = r.roster.transferred,
                        left_aside = r.left_aside.len(),
                        "directory synced"
                    ),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "directory sync failed; the next is due after the interval")
                    }
                }
            });
        }
        match run_scheduled(&state).await {
            Ok(r) => {
                let d = &r.deliveries;
                if d.claimed > 0 || r.reminders != reminder::ReminderRun::default() {
                    tracing::info!(
                        session_reminders = r.reminders.sessions,
                        report_reminders = r.reminders.reports,
                        digests = r.reminders.digests,
                        claimed = d.claimed,
                        delivered = d.delivered,
                        retried = d.retried,
                        failed = d.failed,
                        skipped = d.skipped,
                        released = d.released,
                        "scheduled work"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "scheduled work failed"),
        }
    }
}
