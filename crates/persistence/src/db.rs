//! Connecting, migrating, and transactions. PostgreSQL is the production backend; SQLite the
//! embedded default. SQLite has no row locks, so write transactions are serialised in-process
//! (one writer at a time, readers unaffected under WAL) instead of failing with SQLITE_BUSY.
//!
//! On PostgreSQL as many write transactions run at once as the pool has connections but one. A
//! write transaction holds its connection until it commits, and a handler may still read through
//! the pool while it holds one: with every connection held by a transaction waiting for a
//! second one, nothing moved until the pool's timeout, and 64 clients filing absence notices at
//! once got 503 for nearly every request (a pool of 10). With one connection always left to
//! reads, every transaction can finish.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kenshu_domain::audit_chain::{timestamp, Block};
use kenshu_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    DbErr, ExecResult, QueryResult, Statement, TransactionTrait,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::entities::audit_log;

/// The database: a pool plus the writers' permits (one on SQLite; on PostgreSQL one fewer than
/// the pool's connections).
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    writers: Arc<Semaphore>,
    /// Statements run through this pool, counted so tests and benchmarks can see what a request
    /// costs.
    statements: Arc<std::sync::atomic::AtomicU64>,
    /// What this instance keeps in memory between requests (see [`crate::kept`]).
    kept: Arc<crate::kept::KeptReads>,
    /// Where [`crate::change_watch`] listens (PostgreSQL only).
    url: Url,
}

/// The database's URL, which may hold a password: never printed.
#[derive(Clone)]
struct Url(Arc<str>);

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Url(…)")
    }
}

/// A write transaction; holds a writer's permit until it commits or drops. It is also a
/// connection (reads and writes run on the transaction), and it keeps the audit block of each
/// organisation it records changes for: records are hashed into their block as they are
/// written, and the blocks are sealed into their organisations' chains when it commits (see
/// [`crate::repo::audit`]). Only a write transaction can record a change, so no audited write
/// happens outside one.
pub struct WriteTxn {
    /// Open until it commits or rolls back; taken then (see `Drop`).
    txn: Option<DatabaseTransaction>,
    permit: Option<OwnedSemaphorePermit>,
    blocks: std::sync::Mutex<BTreeMap<Uuid, Block>>,
    watch: Arc<crate::kept::Watch>,
    /// The scopes of kept reads a change recorded here touches.
    changes: std::sync::Mutex<Vec<crate::kept::Scope>>,
}

impl WriteTxn {
    /// Give `records` their places in this transaction's blocks (one per organisation), in order.
    pub(crate) fn chain(&self, records: &mut [audit_log::Model]) {
        let mut changes = self.changes.lock().expect("changed scopes");
        for scope in records.iter().filter_map(|m| crate::kept::Scope::of_audited(&m.entity_type)) {
            if !changes.contains(&scope) {
                changes.push(scope);
            }
        }
        drop(changes);
        let mut blocks = self.blocks.lock().expect("audit blocks");
        for m in records {
            let block = blocks.entry(m.org_id).or_insert_with(|| Block::new(Uuid::now_v7()));
            let at = timestamp(m.at);
            let (pos, hash) = block.append(&crate::repo::audit::chain_record(m, &at));
            m.block_id = Some(block.id);
            m.pos = Some(i32::try_from(pos).expect("fewer than 2^31 records in one transaction"));
            m.hash = Some(hash);
        }
    }

    fn txn(&self) -> &DatabaseTransaction {
        self.txn.as_ref().expect("a write transaction is open until it commits or rolls back")
    }

    /// Seal this transaction's audit blocks into their organisations' chains, then commit.
    pub async fn commit(mut self) -> Result<(), DbErr> {
        let blocks = std::mem::take(&mut *self.blocks.lock().expect("audit blocks"));
        crate::repo::audit::seal(self.txn(), blocks).await?;
        let txn = self.txn.take().expect("a write transaction commits once");
        let committed = txn.commit().await;
        // Even if the answer to COMMIT was lost: the next request of this instance reads afresh
        // what the change may touch. Every change to the tables kept reads come from is audited;
        // one that were not would still reach this instance by the triggers' notification, a
        // moment later.
        for scope in self.changes.lock().expect("changed scopes").iter() {
            self.watch.drop_scope(*scope);
        }
        committed
    }

    pub async fn rollback(mut self) -> Result<(), DbErr> {
        self.txn.take().expect("a write transaction rolls back once").rollback().await
    }
}

impl Drop for WriteTxn {
    /// Left unfinished (an error returned early, a request given up): roll back, and only then
    /// let the next writer begin. The driver's own rollback on drop is only queued to the
    /// connection and runs later; on SQLite a writer that began meanwhile and had read found the
    /// database still locked and failed at once (SQLITE_BUSY, no wait), a 500.
    fn drop(&mut self) {
        let Some(txn) = self.txn.take() else { return };
        let permit = self.permit.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = txn.rollback().await {
                        tracing::warn!(error = %e, "rolling back an unfinished write");
                    }
                    drop(permit);
                });
            }
            // No runtime left to run it on (shutting down): the driver's queued rollback.
            Err(_) => drop(txn),
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.txn().get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn().execute(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn().execute_unprepared(sql).await
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn().query_one(stmt).await
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn().query_all(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn().support_returning()
    }
}

/// The database a URL names, by its scheme (`sqlite:`, `postgres://` or `postgresql://`).
pub fn backend_of(url: &str) -> Option<DatabaseBackend> {
    if url.starts_with("sqlite:") {
        Some(DatabaseBackend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(DatabaseBackend::Postgres)
    } else {
        None
    }
}

/// The URL used when none is configured: a file beside the working directory.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://kenshu.db?mode=rwc";

/// How long a statement waits for a pooled connection (or for a new one while the database is
/// away) before the request is answered 503.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long an SQLite statement waits for another connection's write to finish.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The first statement of every write transaction on SQLite: it changes nothing but takes the
/// database's write lock, waiting up to [`SQLITE_BUSY_TIMEOUT`] for another process's writer (a
/// `kenshu directory sync` or `kenshu org create` beside the service). The in-process permit
/// serialises only this process's writers; without this, a transaction that had read before its
/// first write met another process's lock (or a commit since its read) and failed at once with
/// SQLITE_BUSY: SQLite does not wait to turn a reader into a writer. sea-orm 1.1 always begins
/// with a plain (deferred) `BEGIN`, so `BEGIN IMMEDIATE` is not available. The table is the
/// migrator's own, there in every migrated database from the first migration on.
pub const SQLITE_TAKE_WRITE_LOCK: &str = "UPDATE seaql_migrations SET version = version WHERE 0";

/// Prepared statements each SQLite connection keeps (sqlx's default is 100). A bulk statement is
/// as large as its rows (a 200-entry sign-in sheet's inserts and lookups are hundreds of KiB
/// prepared), and each sheet size is a statement of its own, so 100 per connection held 40–80 MiB
/// after a few hundred sheets. Preparing again costs SQLite little: at 50,000 staff neither reads,
/// sheets nor imports were measurably slower with no cache at all (bench/results.md, session 28).
pub const SQLITE_STATEMENT_CACHE: usize = 16;

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::connect_with(url, max_connections, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// [`Db::connect`] with the time a statement may wait for a connection: while the database
    /// is away that is how long a request takes to be told so.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, DbErr> {
        let mut opts = ConnectOptions::new(url.to_string());
        opts.max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(acquire_timeout)
            // No ping on every checkout: on loopback it cost a round trip per statement. A
            // connection the server closed fails its next statement and is dropped from the pool;
            // idle ones are recycled before a firewall or the server times them out.
            .test_before_acquire(false)
            .idle_timeout(Duration::from_secs(300))
            .max_lifetime(Duration::from_secs(1800))
            .sqlx_logging(false)
            // Pragmas are per connection, so they go into the options every pooled connection
            // opens with, not into one statement on whichever connection answers first.
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .statement_cache_capacity(SQLITE_STATEMENT_CACHE)
            });
        let mut conn = Database::connect(opts).await?;
        let statements = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = statements.clone();
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let writers = match conn.get_database_backend() {
            DatabaseBackend::Sqlite => 1,
            _ => max_connections.saturating_sub(1).max(1),
        };
        Ok(Self {
            conn,
            writers: Arc::new(Semaphore::new(writers as usize)),
            statements,
            kept: Arc::default(),
            url: Url(url.into()),
        })
    }

    /// Refresh the planner's statistics of `tables` after a bulk write (a roster import): without
    /// them a fresh table's lookups by number scan instead of using their index. Best effort: a
    /// failure is the caller's to log, the write itself stands.
    pub async fn analyze(&self, tables: &[&str]) -> Result<(), DbErr> {
        // A write on SQLite (sqlite_stat1): beside another writer it would lock it out.
        let _permit = self.writer().await;
        for table in tables {
            // Names are the code's own constants, never input.
            self.conn.execute_unprepared(&format!("ANALYZE {table}")).await?;
        }
        Ok(())
    }

    /// The pool's connections now: (open, idle).
    pub fn pool_use(&self) -> (u32, usize) {
        match self.backend() {
            DatabaseBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.conn.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        }
    }

    /// What SQLite has allocated in this process (every connection's page cache, schema and
    /// prepared statements): (bytes now, the most since start). None on PostgreSQL.
    pub fn sqlite_memory(&self) -> Option<(i64, i64)> {
        (self.backend() == DatabaseBackend::Sqlite).then(|| {
            // SAFETY: both read SQLite's global memory counters and take no pointers.
            unsafe { (libsqlite3_sys::sqlite3_memory_used(), libsqlite3_sys::sqlite3_memory_highwater(0)) }
        })
    }

    /// How many statements have run through this pool since it opened.
    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Bring the schema up to date, then chain any audit records left unchained (written
    /// before the log was chained).
    pub async fn migrate(&self) -> Result<(), DbErr> {
        {
            let _permit = self.writer().await;
            Migrator::up(&self.conn, None).await?;
        }
        let txn = self.begin_write().await?;
        crate::repo::audit::chain_backlog(&txn).await?;
        txn.commit().await
    }

    /// What this instance keeps in memory between requests.
    pub fn kept(&self) -> &crate::kept::KeptReads {
        &self.kept
    }

    /// Watch for changes to the roster, the structure and the catalogue so that reads of them can
    /// be kept in memory (see [`crate::change_watch`]): on PostgreSQL by listening, on SQLite by
    /// polling the change counts every `sqlite_poll`. Returns once watching, or once the first
    /// attempt failed (it keeps trying, and everything is read from the database meanwhile).
    pub async fn watch_changes(&self, sqlite_poll: std::time::Duration) {
        match self.backend() {
            DatabaseBackend::Postgres => {
                crate::change_watch::start(self.url.0.clone(), self.kept.watch.clone()).await;
            }
            // An in-memory database is one per connection: another could not see its counts.
            DatabaseBackend::Sqlite
                if !self.url.0.contains(":memory:") && !self.url.0.contains("mode=memory") =>
            {
                crate::change_watch::start_sqlite(&self.url.0, self.kept.watch.clone(), sqlite_poll).await;
            }
            _ => {}
        }
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// A writer's permit, waiting (without a connection) for one while all are taken.
    async fn writer(&self) -> OwnedSemaphorePermit {
        self.writers.clone().acquire_owned().await.expect("the writers' semaphore is never closed")
    }

    /// Begin a transaction that will write. On SQLite it takes the database's write lock at once
    /// (see [`SQLITE_TAKE_WRITE_LOCK`]).
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        let permit = self.writer().await;
        let txn = self.conn.begin().await?;
        let write = WriteTxn {
            txn: Some(txn),
            permit: Some(permit),
            blocks: Default::default(),
            watch: self.kept.watch.clone(),
            changes: Default::default(),
        };
        if self.backend() == DatabaseBackend::Sqlite {
            // On failure (still locked after the busy timeout) `write` drops and rolls back.
            write.execute_unprepared(SQLITE_TAKE_WRITE_LOCK).await?;
        }
        Ok(write)
    }

    /// Readiness: the database answers a trivial query.
    /// Whether the database answers within `within` (readiness).
    pub async fn ready(&self, within: Duration) -> bool {
        matches!(tokio::time::timeout(within, self.ping()).await, Ok(Ok(())))
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.execute(Statement::from_string(self.backend(), "SELECT 1")).await.map(|_| ())
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.conn.close().await
    }
}

/// Whether an error says the database is out of reach for now (restarting, shut down, the
/// network, no connection free in time) rather than that the statement is wrong: such a request
/// is worth retrying and is answered 503.
pub fn unavailable(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::RuntimeErr;
    let inner = match e {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::Conn(_) => return true,
        _ => return false,
    };
    match inner {
        Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        // PostgreSQL: connection exceptions (08…), shutting down or starting (57P01–57P03), too
        // many connections (53300). SQLite: still locked by another process's writer after the
        // busy timeout (SQLITE_BUSY, 5, and its extended codes: the low byte is the primary).
        Sqlx::Database(d) => d.code().is_some_and(|c| {
            c.starts_with("08")
                || c.starts_with("57P")
                || c == "53300"
                || (d.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some()
                    && c.parse::<i32>().is_ok_and(|n| n & 0xff == 5))
        }),
        _ => false,
    }
}

/// A migrated database in memory, for the persistence crate's own tests (one connection: each
/// in-memory connection is a database of its own).
#[cfg(test)]
pub(crate) async fn migrated_in_memory() -> Db {
    let db = Db::connect("sqlite::memory:", 1).await.unwrap();
    db.migrate().await.unwrap();
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write left unfinished keeps the writer's permit until its rollback has run: a writer
    /// that began sooner could find SQLite still locked by it.
    #[tokio::test]
    async fn an_unfinished_write_is_rolled_back_before_the_next_writer_begins() {
        let db = migrated_in_memory().await;
        db.conn().execute_unprepared("CREATE TABLE t (x INTEGER)").await.unwrap();
        let txn = db.begin_write().await.unwrap();
        txn.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        drop(txn);
        assert_eq!(db.writers.available_permits(), 0, "the writer's permit is held until rolled back");
        let next = db.begin_write().await.unwrap();
        next.execute_unprepared("INSERT INTO t VALUES (2)").await.unwrap();
        next.commit().await.unwrap();
        assert_eq!(count(&db).await, 1, "the first write was rolled back");
        assert_eq!(db.writers.available_permits(), 1);
    }

    async fn count(db: &Db) -> i64 {
        let count = Statement::from_string(db.backend(), "SELECT count(*) AS n FROM t");
        db.conn().query_one(count).await.unwrap().unwrap().try_get("", "n").unwrap()
    }

    /// Two processes writing one SQLite file (the service and `kenshu directory sync`), here two
    /// pools whose permits know nothing of each other: a write transaction that reads before it
    /// writes waits for the other's lock instead of failing, and one still locked out after the
    /// busy timeout is "unavailable" (503, worth retrying), not a 500.
    #[tokio::test]
    async fn a_writer_waits_for_another_process_writing_the_same_sqlite_file() {
        let path = std::env::temp_dir().join(format!("kenshu-two-writers-{}.db", Uuid::now_v7()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let service = Db::connect(&url, 2).await.unwrap();
        service.migrate().await.unwrap();
        service.conn().execute_unprepared("CREATE TABLE t (x INTEGER)").await.unwrap();
        let sync = Db::connect(&url, 1).await.unwrap();

        // Without the lock taken at begin, the same interleaving fails at once.
        let holding = sync.begin_write().await.unwrap();
        holding.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        let plain = service.conn().begin().await.unwrap();
        plain.execute_unprepared("SELECT count(*) FROM t").await.unwrap();
        let busy = plain.execute_unprepared("INSERT INTO t VALUES (2)").await.unwrap_err();
        assert!(unavailable(&busy), "{busy}");
        plain.rollback().await.unwrap();

        let writer = {
            let service = service.clone();
            tokio::spawn(async move {
                let txn = service.begin_write().await?;
                let seen =
                    txn.query_one(Statement::from_string(service.backend(), "SELECT count(*) AS n FROM t"));
                let seen: i64 = seen.await?.expect("a count").try_get("", "n")?;
                txn.execute_unprepared(&format!("INSERT INTO t VALUES ({})", seen + 10)).await?;
                txn.commit().await
            })
        };
        // Not a clock: only time for the writer to reach the lock the other process holds (it
        // waits there; without the lock taken at begin it would already have failed).
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!writer.is_finished(), "the writer waits for the other process's write");
        holding.commit().await.unwrap();
        writer.await.unwrap().unwrap();
        assert_eq!(count(&service).await, 2);
        let last = Statement::from_string(service.backend(), "SELECT max(x) AS x FROM t");
        let last: i64 = service.conn().query_one(last).await.unwrap().unwrap().try_get("", "x").unwrap();
        assert_eq!(last, 11, "the writer read after the other process's commit");

        service.close().await.unwrap();
        sync.close().await.unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
