//! Listening, on PostgreSQL, for committed changes to what an instance keeps in memory
//! ([`crate::kept`]), so that its kept reads are dropped when another instance, or another
//! process, changes the roster, the structure or the catalogue.
//!
//! Migrations 000032 (organisation, employee, section, department) and 000033 (training plan,
//! course, course session) put triggers on those tables that notify [`CHANNEL`] when a statement
//! commits, with the scope's payload ([`crate::kept::Scope::payload`]). One connection per
//! instance, outside the pool, listens. While it is not listening (before it first connects,
//! after it loses the connection until it has listened again) nothing kept is used, so a change
//! made meanwhile is never missed. A change made by another instance reaches this one as fast as
//! PostgreSQL delivers a notification (it does so at commit); the instance that made it drops
//! its entries before it answers.
//!
//! A connection can also die without a word (packets dropped, the server hung): every second a
//! second connection sends a heartbeat on the channel, and kept reads are used only while this
//! instance's own heartbeats come back (see [`crate::kept::LEASE`]). When they stop, the
//! listening connection is given up and a new one made.
//!
//! SQLite has no notifications. There, triggers count each scope's committed changes in table
//! `kenshu_change` (migration 000035), and [`start_sqlite`] reads the counts every [`POLL`] on a
//! connection of its own, dropping each scope whose count moved. Kept reads are used only within
//! [`crate::kept::LEASE`] of the latest poll's start, so a poller that stopped stops them too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::Notify;

use crate::kept::{Scope, Watch};

/// The channel the triggers notify; named when it carried only the roster's changes, and kept
/// so that an instance of an earlier version hears every change during a rolling upgrade (it
/// drops everything on a payload it does not know).
pub const CHANNEL: &str = "kenshu_roster";

/// What the listening connection calls itself (`pg_stat_activity.application_name`).
pub const APPLICATION_NAME: &str = "kenshu change watch";

/// What the heartbeats' connection calls itself.
pub const HEARTBEAT_APPLICATION_NAME: &str = "kenshu change heartbeat";

/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(1);

/// How often a heartbeat is sent.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// Listen on [`CHANNEL`] and keep `watch` in step; returns after the first attempt to listen
/// (succeeded or not), leaving tasks that go on listening and sending heartbeats for as long as
/// the runtime runs.
pub async fn start(url: Arc<str>, watch: Arc<Watch>) {
    let first = listen(&url, &watch).await;
    if let Err(e) = &first {
        tracing::warn!(error = %e, "not listening for changes yet: everything is read from the database");
    }
    let restart = Arc::new(Notify::new());
    tokio::spawn(heartbeats(url.clone(), watch.clone(), restart.clone()));
    tokio::spawn(keep_listening(url, watch, first.ok(), restart));
}

fn options(url: &str, name: &str) -> Result<PgConnectOptions, sea_orm::sqlx::Error> {
    Ok(url.parse::<PgConnectOptions>()?.application_name(name))
}

/// A connection listening on [`CHANNEL`]; kept reads are used from the moment it listens.
async fn listen(url: &str, watch: &Watch) -> Result<PgListener, sea_orm::sqlx::Error> {
    // A pool of one that never recycles its connection: a lost connection ends this listener
    // (see `keep_listening`) rather than being replaced behind the watch's back.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options(url, APPLICATION_NAME)?)
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    // Whatever commits from here on is heard of.
    watch.set_listening(true, Instant::now());
    Ok(listener)
}

async fn keep_listening(
    url: Arc<str>,
    watch: Arc<Watch>,
    mut listener: Option<PgListener>,
    restart: Arc<Notify>,
) {
    loop {
        let Some(mut listening) = listener.take() else {
            tokio::time::sleep(RETRY).await;
            match listen(&url, &watch).await {
                Ok(l) => listener = Some(l),
                Err(e) => tracing::warn!(error = %e, "listening for changes failed; trying again"),
            }
            continue;
        };
        tracing::info!("listening for changes: reads are kept in memory");
        loop {
            tokio::select! {
                received = listening.try_recv() => match received {
                    Ok(Some(notification)) => watch.notified(notification.payload()),
                    // The connection is gone (closed, or an error such as the server shutting
                    // down): notifications may be lost from now until listening again.
                    Ok(None) | Err(_) => break,
                },
                // Heartbeats stopped coming back; what was half read is thrown away with the
                // connection.
                () = restart.notified() => break,
            }
        }
        watch.set_listening(false, Instant::now());
        tracing::warn!("lost the connection listening for changes: everything is read from the database");
    }
}

/// Send a heartbeat every second on a connection of its own (not the service's pool, whose
/// statements are counted per request), and give up the listening connection when the
/// heartbeats stop coming back.
async fn heartbeats(url: Arc<str>, watch: Arc<Watch>, restart: Arc<Notify>) {
    let mut pool: Option<PgPool> = None;
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if watch.silent(Instant::now()) {
            watch.set_listening(false, Instant::now());
            restart.notify_one();
        }
        if pool.is_none() {
            pool = options(&url, HEARTBEAT_APPLICATION_NAME).ok().map(|o| {
                PgPoolOptions::new().max_connections(1).acquire_timeout(HEARTBEAT).connect_lazy_with(o)
            });
        }
        let Some(pool) = &pool else { continue };
        let payload = watch.heartbeat(Instant::now());
        let sent = sea_orm::sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(pool);
        // One that does not get through in time is simply not heard: the lease runs out.
        let _ = tokio::time::timeout(HEARTBEAT, sent).await;
    }
}

/// How often an instance on SQLite reads the change counts by default
/// (`KENSHU_SQLITE_CHANGE_POLL_MS`): the longest another process's change (a directory sync, a
/// hand edit) can go unseen by this instance's kept reads. A read of one two-row table costs
/// microseconds.
pub const POLL: Duration = Duration::from_millis(20);

/// On SQLite: read the change counts now and every `every` ([`POLL`] by default), on a
/// connection of its own (not the service's pool, whose statements are counted per request), and
/// keep `watch` in step; returns after the first poll, leaving a task that goes on polling for as
/// long as the runtime runs.
pub async fn start_sqlite(url: &str, watch: Arc<Watch>, every: Duration) {
    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;
    let options = match SqliteConnectOptions::from_str(url) {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "cannot poll for changes: everything is read from the database");
            return;
        }
    };
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options);
    let mut counts = None;
    if let Err(e) = poll(&pool, &watch, &mut counts).await {
        tracing::warn!(error = %e, "not polling for changes yet: everything is read from the database");
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            match poll(&pool, &watch, &mut counts).await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("polling for changes again: reads are kept in memory");
                }
                Ok(()) => {}
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "polling for changes failed: everything is read from the database");
                }
                Err(_) => {}
            }
        }
    });
}

/// Each scope's count of committed changes, as the poll last read them.
type Counts = std::collections::HashMap<String, i64>;

/// One poll: compare the counts with `last`, drop what moved, and record that every change
/// committed before the poll began has been heard of. The first (or the first after a failure)
/// starts listening afresh, which drops everything.
async fn poll(
    pool: &sea_orm::sqlx::SqlitePool,
    watch: &Watch,
    last: &mut Option<Counts>,
) -> Result<(), sea_orm::sqlx::Error> {
    let started = Instant::now();
    let read = sea_orm::sqlx::query_as::<_, (String, i64)>("SELECT scope, changes FROM kenshu_change")
        .fetch_all(pool)
        .await;
    let counts: Counts = match read {
        Ok(rows) => rows.into_iter().collect(),
        Err(e) => {
            if last.take().is_some() {
                watch.set_listening(false, Instant::now());
            }
            return Err(e);
        }
    };
    match last {
        None => watch.set_listening(true, started),
        Some(before) => {
            for (scope, count) in &counts {
                if before.get(scope) != Some(count) {
                    match Scope::ALL.into_iter().find(|s| s.name() == scope) {
                        Some(s) => watch.drop_scope(s),
                        None => watch.drop_everything(),
                    }
                }
            }
            watch.heard_until(started);
        }
    }
    *last = Some(counts);
    Ok(())
}
