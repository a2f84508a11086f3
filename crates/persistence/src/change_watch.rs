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

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::Notify;

use crate::kept::Watch;

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
