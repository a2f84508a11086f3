//! Rows an instance keeps in memory between requests, and when it may use them.
//!
//! Ten reads are kept: who a caller is ([`crate::repo::principal`]), an employee as HR reads it,
//! a course with its sessions, a course as lists render it, an organisation's course index
//! (what lists filter and order by), what `/me/courses` matches (an organisation's grade
//! ladder, a member of staff as audience rules see them, and a year's published courses), the
//! courses that require a report (the reports owed put them in order), and a year's results as
//! rendered. Each depends on one [`Scope`] of tables or more (the results on
//! both, and on the nominations, which no scope covers: see [`crate::repo::results::rendered`]),
//! and every committed change to a scope's tables drops every entry kept under it:
//! - a write transaction of this instance that records such a change drops the scope as it
//!   commits ([`crate::WriteTxn`]), before the change is answered;
//! - on PostgreSQL, a statement-level trigger on those tables (migrations 000032, 000033, 000037)
//!   notifies every instance at commit, and [`crate::change_watch`] drops the scope when the
//!   notification arrives. That covers other replicas, the `kenshu` commands that run as their own
//!   processes and an operator's hand edits;
//! - nothing is used while the watch is not listening (a notification missed while disconnected
//!   cannot leave an entry behind), nor when this instance's own heartbeat has not come back for
//!   [`LEASE`].
//!
//! - on SQLite, which has no notifications, triggers count each scope's changes (migration
//!   000035, 000037) and [`crate::change_watch`] reads the counts every
//!   [`crate::change_watch::POLL`] on a connection of its own, dropping a scope whose count
//!   moved; kept rows are used only within
//!   [`LEASE`] of the latest poll. Other processes writing the same file (`kenshu directory
//!   sync`, an operator's `sqlite3`) are heard of within a poll.
//!
//! A read records its scope's generation before it runs and keeps its result only if no drop
//! happened meanwhile: rows read before a change committed never outlive the change. Entries are
//! dropped wholesale, not by organisation or row: a change to a section can change who heads it,
//! a plan's publication changes every course's visibility, and drops are rare beside reads.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How long kept rows may be used after the latest moment this instance is known to have heard of
/// every change committed before it: listening began then, or a heartbeat it sent then came back
/// on the listening connection ([`crate::change_watch`] sends one a second), or on SQLite a poll
/// of the change counts began then. A connection that died without a word (a network that drops
/// packets, a server that hangs), or a poller that stopped, stops every kept read within this
/// time.
pub const LEASE: Duration = Duration::from_secs(3);

/// A set of tables kept reads depend on, dropped together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Organisation, employee, section, department, grade, study group: who a caller is, an
    /// employee's record, a member of staff as audience rules see them.
    Roster,
    /// Training plan, course, course session: a course as staff read it.
    Catalogue,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Roster, Scope::Catalogue];

    fn index(self) -> usize {
        self as usize
    }

    /// This scope as a set of one.
    fn alone(self) -> &'static [Scope] {
        match self {
            Scope::Roster => &[Scope::Roster],
            Scope::Catalogue => &[Scope::Catalogue],
        }
    }

    /// The scope an audited change (`audit_log.entity_type`) touches, if any kept read depends
    /// on it. Sessions, shares and surveys are audited as `course`; dropping the catalogue for a
    /// survey is harmless.
    pub fn of_audited(entity_type: &str) -> Option<Scope> {
        match entity_type {
            "organisation" | "employee" | "section" | "department" | "study_group" => Some(Scope::Roster),
            "course" | "plan" => Some(Scope::Catalogue),
            _ => None,
        }
    }

    /// The payload of the triggers' notifications for this scope (frozen in the migrations:
    /// 000032 notifies the roster's with an empty one).
    pub fn payload(self) -> &'static str {
        match self {
            Scope::Roster => "",
            Scope::Catalogue => "catalogue",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scope::Roster => "roster",
            Scope::Catalogue => "catalogue",
        }
    }
}

/// What a heartbeat's payload starts with.
const HEARTBEAT: &str = "alive ";

/// Whether kept rows may be used, and each scope's generation (how many times it was dropped).
#[derive(Debug)]
pub struct Watch {
    /// Names this instance's heartbeats.
    id: Uuid,
    epoch: Instant,
    /// 1 + the milliseconds since `epoch` up to which every change is known to have been heard
    /// of; 0 while not listening.
    heard: AtomicU64,
    generations: [AtomicU64; Scope::ALL.len()],
}

impl Default for Watch {
    // `Instant` has no default, so this cannot be derived.
    fn default() -> Self {
        Self {
            id: Uuid::new_v4(),
            epoch: Instant::now(),
            heard: Default::default(),
            generations: Default::default(),
        }
    }
}

impl Watch {
    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// Whether kept rows may be used at `now`.
    pub fn usable(&self, now: Instant) -> bool {
        let heard = self.heard.load(SeqCst);
        heard != 0 && (self.millis(now) + 1).saturating_sub(heard) < LEASE.as_millis() as u64
    }

    /// Whether every change committed before `at` is known to have been heard of (and dropped
    /// what it touched).
    pub fn heard_since(&self, at: Instant) -> bool {
        // `heard` is 1 + a millisecond; one in the same millisecond as `at` may precede it.
        self.heard.load(SeqCst) > self.millis(at) + 1
    }

    /// Every change committed before `at` has been heard of (on SQLite: a poll of the change
    /// counts that began at `at` has been compared). Nothing while not listening.
    pub fn heard_until(&self, at: Instant) {
        if self.heard.load(SeqCst) != 0 {
            self.heard.fetch_max(self.millis(at) + 1, SeqCst);
        }
    }

    /// How many times `scope` was dropped since the instance started; kept entries carry the
    /// generation they were read in.
    fn generation(&self, scope: Scope) -> u64 {
        self.generations[scope.index()].load(SeqCst)
    }

    /// Drop every entry kept under `scope`: something it was read from may have changed.
    pub fn drop_scope(&self, scope: Scope) {
        // Entries carry the generation they were read in; a new one makes them all stale, and a
        // read that began before this keeps nothing, even if it finishes just after.
        self.generations[scope.index()].fetch_add(1, SeqCst);
    }

    pub(crate) fn drop_everything(&self) {
        Scope::ALL.into_iter().for_each(|s| self.drop_scope(s));
    }

    /// Listening began at `now` (every change committed from then on will be heard of), or
    /// stopped. Drops everything either way.
    pub fn set_listening(&self, listening: bool, now: Instant) {
        if listening {
            self.drop_everything();
            self.heard.store(self.millis(now) + 1, SeqCst);
        } else {
            self.heard.store(0, SeqCst);
            self.drop_everything();
        }
    }

    /// The payload of a heartbeat sent at `now`.
    pub fn heartbeat(&self, now: Instant) -> String {
        format!("{HEARTBEAT}{} {}", self.id.simple(), self.millis(now))
    }

    /// A notification arrived on the listening connection: this instance's heartbeat (every
    /// change committed before it was sent has been heard of: notifications arrive in commit
    /// order), another instance's (nothing changed), a scope's change, or anything else, which
    /// may be any change.
    pub fn notified(&self, payload: &str) {
        if let Some((id, sent)) = payload.strip_prefix(HEARTBEAT).and_then(|rest| rest.split_once(' ')) {
            if let Ok(sent) = sent.parse::<u64>() {
                if id == self.id.simple().to_string() && self.heard.load(SeqCst) != 0 {
                    self.heard.fetch_max(sent + 1, SeqCst);
                }
                return;
            }
        }
        match Scope::ALL.into_iter().find(|s| s.payload() == payload) {
            Some(scope) => self.drop_scope(scope),
            None => self.drop_everything(),
        }
    }

    /// Whether this instance listens but its heartbeats have stopped coming back for [`LEASE`]:
    /// the connection is presumed dead.
    pub fn silent(&self, now: Instant) -> bool {
        self.heard.load(SeqCst) != 0 && !self.usable(now)
    }
}

/// One kind of read kept in memory: at most `capacity` values by key, all read in one generation
/// of their scopes.
pub struct Kept<K, V> {
    watch: Arc<Watch>,
    /// What the values are read from: a drop of any of them drops every value.
    scopes: &'static [Scope],
    capacity: usize,
    /// The generation the entries were read in, and the entries.
    entries: RwLock<(u64, HashMap<K, Arc<V>>)>,
    hits: AtomicU64,
    misses: AtomicU64,
    /// The keys being read by a request that holds their turn ([`Kept::turn`]).
    turns: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

/// The turn to read one key's value ([`Kept::turn`]); the next waiting request's when dropped.
pub struct Turn<'a, K: Hash + Eq + Clone, V> {
    kept: &'a Kept<K, V>,
    key: K,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<K: Hash + Eq + Clone, V> Drop for Turn<'_, K, V> {
    fn drop(&mut self) {
        drop(self.held.take());
        let mut turns = self.kept.turns.lock().expect("kept turns");
        // Only the map's own reference left: nobody holds or waits for this key's turn.
        if turns.get(&self.key).is_some_and(|t| Arc::strong_count(t) == 1) {
            turns.remove(&self.key);
        }
    }
}

impl<K, V> std::fmt::Debug for Kept<K, V> {
    // Never prints keys or values: they name people.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept").field("scopes", &self.scopes).finish_non_exhaustive()
    }
}

/// A key not found: what to keep the value read from the database under, and the generation the
/// read began in (none while kept rows are not used).
pub struct Miss<K> {
    key: K,
    generation: Option<u64>,
}

/// How one kind of kept read has done since the instance started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptStats {
    /// Entries of the current generation.
    pub entries: usize,
    /// Reads answered from memory.
    pub hits: u64,
    /// Reads that went to the database.
    pub misses: u64,
}

impl<K: Hash + Eq + Clone, V> Kept<K, V> {
    pub fn new(watch: Arc<Watch>, scope: Scope, capacity: usize) -> Self {
        Self::over(watch, scope.alone(), capacity)
    }

    /// A read made from the tables of several scopes.
    pub fn over(watch: Arc<Watch>, scopes: &'static [Scope], capacity: usize) -> Self {
        Self {
            watch,
            scopes,
            capacity,
            entries: RwLock::new((0, HashMap::new())),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            turns: Mutex::default(),
        }
    }

    /// Wait until no other request of this instance is reading `key`'s value, and hold the turn
    /// to read it: for a value that takes long to read (a year's results at 50,000 staff), so
    /// that requests arriving together after a change read it once, not once each. Whoever waited
    /// looks again ([`Kept::look_again`]) before reading. Other keys never wait.
    pub async fn turn(&self, key: &K) -> Turn<'_, K, V> {
        let turn = self.turns.lock().expect("kept turns").entry(key.clone()).or_default().clone();
        Turn { kept: self, key: key.clone(), held: Some(turn.lock_owned().await) }
    }

    /// How many requests wait for `key`'s turn while another holds it.
    #[cfg(test)]
    pub(crate) fn waiting_for(&self, key: &K) -> usize {
        let turns = self.turns.lock().expect("kept turns");
        // The map's reference and the holder's guard, then one per request waiting.
        turns.get(key).map_or(0, |t| Arc::strong_count(t).saturating_sub(2))
    }

    /// [`Kept::lookup_in_if`] again for a miss, after waiting for a [`Kept::turn`]: what another
    /// request read meanwhile, kept in the same generation and `current`, answers it (counted as
    /// a hit, no longer as a miss).
    pub fn look_again(&self, miss: Miss<K>, current: impl FnOnce(&V) -> bool) -> Result<Arc<V>, Miss<K>> {
        match miss.generation.and_then(|g| self.kept_in(&miss.key, g, current)) {
            Some(kept) => {
                self.misses.fetch_sub(1, SeqCst);
                self.hits.fetch_add(1, SeqCst);
                Ok(kept)
            }
            None => Err(miss),
        }
    }

    /// The generation a read starting at `now` belongs to; none while kept rows are not used.
    pub fn generation_at(&self, now: Instant) -> Option<u64> {
        self.watch.usable(now).then(|| self.generation())
    }

    /// The sum of the scopes' generations: each only grows, so the sum moves with any drop.
    fn generation(&self) -> u64 {
        self.scopes.iter().map(|s| self.watch.generation(*s)).sum()
    }

    /// The value kept under `key`, or what to keep the value read from the database under.
    pub fn lookup(&self, key: K, now: Instant) -> Result<Arc<V>, Miss<K>> {
        // Taken before the read: a drop during the read means the rows may predate a change.
        self.lookup_in(key, self.generation_at(now))
    }

    /// [`Kept::lookup`] for rows already read, in `generation` (taken before reading them): what
    /// is kept is used only if it was read in that generation too, and what is rendered from the
    /// rows is kept only if nothing was dropped since.
    pub fn lookup_in(&self, key: K, generation: Option<u64>) -> Result<Arc<V>, Miss<K>> {
        self.lookup_in_if(key, generation, |_| true)
    }

    /// [`Kept::lookup_in`], using what is kept only where `current` holds for it (it was read at
    /// the state the database is known to be in now); otherwise what is read anew replaces it.
    pub fn lookup_in_if(
        &self,
        key: K,
        generation: Option<u64>,
        current: impl FnOnce(&V) -> bool,
    ) -> Result<Arc<V>, Miss<K>> {
        if let Some(kept) = generation.and_then(|g| self.kept_in(&key, g, current)) {
            self.hits.fetch_add(1, SeqCst);
            return Ok(kept);
        }
        self.misses.fetch_add(1, SeqCst);
        Err(Miss { key, generation })
    }

    /// The value kept under `key` if it was read in `generation` and `current` holds for it.
    fn kept_in(&self, key: &K, generation: u64, current: impl FnOnce(&V) -> bool) -> Option<Arc<V>> {
        let entries = self.entries.read().expect("kept reads");
        let kept = entries.1.get(key).filter(|kept| entries.0 == generation && current(kept));
        kept.cloned()
    }

    /// Keep what was read after `miss`, unless its scope was dropped since (or kept rows are
    /// not in use).
    pub fn keep(&self, miss: Miss<K>, value: Arc<V>, now: Instant) {
        let Some(generation) = miss.generation else { return };
        let mut entries = self.entries.write().expect("kept reads");
        if !(self.watch.usable(now) && self.generation() == generation) {
            return;
        }
        if entries.0 != generation {
            // Everything held was read before a drop.
            *entries = (generation, HashMap::new());
        }
        let map = &mut entries.1;
        if map.len() >= self.capacity && !map.contains_key(&miss.key) {
            // Any one: the bound is there for memory, not for a hit rate.
            if let Some(victim) = map.keys().next().cloned() {
                map.remove(&victim);
            }
        }
        map.insert(miss.key, value);
    }

    /// The value under `key`: kept, or read with `read` (and kept if found).
    pub async fn get_or_read<E>(
        &self,
        key: K,
        read: impl AsyncFnOnce(&K) -> Result<Option<V>, E>,
    ) -> Result<Option<Arc<V>>, E> {
        match self.lookup(key, Instant::now()) {
            Ok(kept) => Ok(Some(kept)),
            Err(miss) => {
                let Some(value) = read(&miss.key).await? else { return Ok(None) };
                let value = Arc::new(value);
                self.keep(miss, value.clone(), Instant::now());
                Ok(Some(value))
            }
        }
    }

    /// [`Kept::get_or_read`] for a read that always finds a value.
    pub async fn get_or_read_value<E>(
        &self,
        key: K,
        read: impl AsyncFnOnce(&K) -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        let found = self.get_or_read(key, async |k| read(k).await.map(Some)).await?;
        Ok(found.expect("a read that always finds a value found one"))
    }

    pub fn stats(&self) -> KeptStats {
        let entries = self.entries.read().expect("kept reads");
        KeptStats {
            entries: if entries.0 == self.generation() { entries.1.len() } else { 0 },
            hits: self.hits.load(SeqCst),
            misses: self.misses.load(SeqCst),
        }
    }
}

impl<V> Kept<(Uuid, Uuid), V> {
    /// The row `id` of organisation `org_id`: kept, or read with `read` and kept. A row not
    /// found is not kept (any id could be asked for) and is [`crate::RepoError::NotFound`].
    pub(crate) async fn row(
        &self,
        org_id: Uuid,
        id: Uuid,
        read: impl AsyncFnOnce(Uuid, Uuid) -> Result<V, crate::RepoError>,
    ) -> Result<Arc<V>, crate::RepoError> {
        use crate::RepoError::NotFound;
        let read = async |&(org_id, id): &(Uuid, Uuid)| match read(org_id, id).await {
            Ok(row) => Ok(Some(row)),
            Err(NotFound) => Ok(None),
            Err(e) => Err(e),
        };
        self.get_or_read((org_id, id), read).await?.ok_or(NotFound)
    }
}

/// The most employees kept for HR's reads; about 1 KiB each.
const KEPT_EMPLOYEES: usize = 20_000;

/// The most courses kept; a course with a dozen sessions is a few KiB, and a year's plan about
/// 300 courses.
const KEPT_COURSES: usize = 5_000;

/// The most organisations whose grade ladder is kept; a dozen names each.
const KEPT_LADDERS: usize = 1_000;

/// The most members of staff kept for `/me/courses`; a few hundred bytes each.
const KEPT_MEMBERS: usize = 20_000;

/// The most years of published courses kept (an organisation and a fiscal year each); a year's
/// 300 courses are up to a megabyte, and staff ask for the current year.
const KEPT_PUBLISHED_YEARS: usize = 16;

/// The most years of results kept (an organisation and a fiscal year each); a year's results
/// are about 30 KiB of JSON at 300 courses however many staff there are.
const KEPT_RESULT_YEARS: usize = 64;

/// What a year's results are read from besides the nominations: the roster (grades, sections,
/// departments, the ladder) and the catalogue (courses, and sessions for the report due days).
const RESULTS_SCOPES: &[Scope] = &[Scope::Roster, Scope::Catalogue];

/// Everything this instance keeps, shared by the clones of its [`crate::Db`].
#[derive(Debug)]
pub struct KeptReads {
    pub watch: Arc<Watch>,
    pub(crate) callers: Kept<crate::repo::principal::Key, crate::repo::principal::Fetched>,
    pub(crate) employees: Kept<(Uuid, Uuid), crate::repo::employee::EmployeeRecord>,
    pub(crate) courses: Kept<(Uuid, Uuid), crate::repo::catalogue::CourseRead>,
    /// Courses as lists show them, rendered.
    pub(crate) course_items: Kept<(Uuid, Uuid), crate::repo::catalogue::RenderedCourse>,
    /// Each organisation's courses as lists filter and order them.
    pub(crate) course_index: Kept<Uuid, crate::repo::catalogue::CourseIndex>,
    /// Each organisation's grade ladder.
    pub(crate) ladders: Kept<Uuid, kenshu_domain::org::GradeLadder>,
    /// An active member of staff as audience rules see them.
    pub(crate) members: Kept<(Uuid, Uuid), crate::repo::employee::RosterMember>,
    /// An organisation's published courses of a fiscal year of a published plan.
    pub(crate) published: Kept<(Uuid, i32), Vec<crate::repo::catalogue::CourseRecord>>,
    /// Each organisation's courses that require a report (every year), each with its last
    /// session's day, for the reports owed.
    pub(crate) report_courses: Kept<Uuid, crate::repo::report::OwedCourses>,
    /// An organisation's results of a fiscal year, rendered, with where its audit chain stood.
    pub(crate) results: Kept<(Uuid, i32), crate::repo::results::RenderedYear>,
}

impl Default for KeptReads {
    fn default() -> Self {
        let watch = Arc::new(Watch::default());
        Self {
            callers: Kept::new(watch.clone(), Scope::Roster, crate::repo::principal::KEPT_CALLERS),
            employees: Kept::new(watch.clone(), Scope::Roster, KEPT_EMPLOYEES),
            courses: Kept::new(watch.clone(), Scope::Catalogue, KEPT_COURSES),
            course_items: Kept::new(watch.clone(), Scope::Catalogue, KEPT_COURSES),
            course_index: Kept::new(
                watch.clone(),
                Scope::Catalogue,
                crate::repo::catalogue::KEPT_COURSE_INDEXES,
            ),
            ladders: Kept::new(watch.clone(), Scope::Roster, KEPT_LADDERS),
            members: Kept::new(watch.clone(), Scope::Roster, KEPT_MEMBERS),
            published: Kept::new(watch.clone(), Scope::Catalogue, KEPT_PUBLISHED_YEARS),
            report_courses: Kept::new(
                watch.clone(),
                Scope::Catalogue,
                crate::repo::catalogue::KEPT_COURSE_INDEXES,
            ),
            results: Kept::over(watch.clone(), RESULTS_SCOPES, KEPT_RESULT_YEARS),
            watch,
        }
    }
}

/// How the kept reads have done since the instance started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptReadsStats {
    /// Whether kept rows are used now (PostgreSQL, listening for changes).
    pub listening: bool,
    pub callers: KeptStats,
    pub employees: KeptStats,
    pub courses: KeptStats,
    pub course_items: KeptStats,
    pub course_index: KeptStats,
    pub ladders: KeptStats,
    pub members: KeptStats,
    pub published: KeptStats,
    pub report_courses: KeptStats,
    pub results: KeptStats,
    /// How many times each scope was dropped.
    pub roster_drops: u64,
    pub catalogue_drops: u64,
}

impl KeptReads {
    pub fn stats(&self) -> KeptReadsStats {
        KeptReadsStats {
            listening: self.watch.usable(Instant::now()),
            callers: self.callers.stats(),
            employees: self.employees.stats(),
            courses: self.courses.stats(),
            course_items: self.course_items.stats(),
            course_index: self.course_index.stats(),
            ladders: self.ladders.stats(),
            members: self.members.stats(),
            published: self.published.stats(),
            report_courses: self.report_courses.stats(),
            results: self.results.stats(),
            roster_drops: self.watch.generation(Scope::Roster),
            catalogue_drops: self.watch.generation(Scope::Catalogue),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A roster-scoped and a catalogue-scoped read on one watch.
    struct Two {
        watch: Arc<Watch>,
        roster: Kept<String, String>,
        catalogue: Kept<String, String>,
    }

    fn two() -> Two {
        let watch = Arc::new(Watch::default());
        Two {
            roster: Kept::new(watch.clone(), Scope::Roster, 100),
            catalogue: Kept::new(watch.clone(), Scope::Catalogue, 100),
            watch,
        }
    }

    /// `ms` milliseconds after the watch was made.
    fn at(watch: &Watch, ms: u64) -> Instant {
        watch.epoch + Duration::from_millis(ms)
    }

    fn kept_at(kept: &Kept<String, String>, key: &str, ms: u64) -> Option<String> {
        kept.lookup(key.to_string(), at(&kept.watch, ms)).ok().map(|v| v.to_string())
    }

    /// Read `key` at `ms` and keep `value` as what was read.
    fn read(kept: &Kept<String, String>, key: &str, ms: u64, value: &str) {
        if let Err(miss) = kept.lookup(key.to_string(), at(&kept.watch, ms)) {
            kept.keep(miss, Arc::new(value.to_string()), at(&kept.watch, ms));
        }
    }

    #[test]
    fn nothing_is_kept_until_the_watch_listens() {
        let t = two();
        read(&t.roster, "10009", 0, "ja");
        assert_eq!(kept_at(&t.roster, "10009", 0), None);
        t.watch.set_listening(true, at(&t.watch, 10));
        read(&t.roster, "10009", 10, "ja");
        assert_eq!(kept_at(&t.roster, "10009", 11).as_deref(), Some("ja"));
        assert_eq!(kept_at(&t.roster, "10010", 11), None, "another key");
        assert_eq!(kept_at(&t.catalogue, "10009", 11), None, "another read");
        let stats = t.roster.stats();
        assert_eq!((stats.hits, stats.entries), (1, 1));
    }

    #[test]
    fn a_read_that_began_before_its_scope_was_dropped_is_not_kept() {
        let t = two();
        t.watch.set_listening(true, at(&t.watch, 0));
        // The read began, a change committed and dropped the scope, then the read finished with
        // what it saw before the change.
        let miss = t.roster.lookup("10009".into(), at(&t.watch, 1)).unwrap_err();
        t.watch.notified("");
        t.roster.keep(miss, Arc::new("before the change".into()), at(&t.watch, 2));
        assert_eq!(kept_at(&t.roster, "10009", 3), None);
        // Kept entries go with a drop too.
        read(&t.roster, "10009", 4, "ja");
        assert_eq!(kept_at(&t.roster, "10009", 5).as_deref(), Some("ja"));
        t.watch.drop_scope(Scope::Roster);
        assert_eq!(kept_at(&t.roster, "10009", 6), None);
        assert_eq!(t.roster.stats().entries, 0, "stale entries are not counted");
    }

    #[test]
    fn a_change_drops_its_own_scope_only_and_an_unknown_payload_drops_every_scope() {
        let t = two();
        t.watch.set_listening(true, at(&t.watch, 0));
        read(&t.roster, "k", 1, "roster");
        read(&t.catalogue, "k", 1, "catalogue");
        t.watch.notified(Scope::Catalogue.payload());
        assert_eq!(kept_at(&t.roster, "k", 2).as_deref(), Some("roster"));
        assert_eq!(kept_at(&t.catalogue, "k", 2), None);
        // A read of the catalogue that began before the roster's drop is still good.
        let miss = t.catalogue.lookup("k".into(), at(&t.watch, 3)).unwrap_err();
        t.watch.notified(Scope::Roster.payload());
        t.catalogue.keep(miss, Arc::new("catalogue".into()), at(&t.watch, 4));
        assert_eq!(kept_at(&t.catalogue, "k", 5).as_deref(), Some("catalogue"));
        assert_eq!(kept_at(&t.roster, "k", 5), None);
        read(&t.roster, "k", 6, "roster");
        // A payload of a later version (or a typo in a hand-made NOTIFY) may be any change.
        t.watch.notified("something new");
        assert_eq!((kept_at(&t.roster, "k", 7), kept_at(&t.catalogue, "k", 7)), (None, None));
        assert_eq!((t.watch.generation(Scope::Roster), t.watch.generation(Scope::Catalogue)), (3, 3));
    }

    #[test]
    fn rows_read_before_a_drop_are_not_kept_even_when_looked_up_after_it() {
        let t = two();
        t.watch.set_listening(true, at(&t.watch, 0));
        read(&t.catalogue, "listed", 1, "before");
        // A list's statement runs in this generation, a change commits and drops the scope,
        // then the list looks its rows up.
        let generation = t.catalogue.generation_at(at(&t.watch, 2));
        t.watch.notified(Scope::Catalogue.payload());
        let miss = t.catalogue.lookup_in("other".into(), generation).unwrap_err();
        t.catalogue.keep(miss, Arc::new("read before the change".into()), at(&t.watch, 3));
        assert_eq!(kept_at(&t.catalogue, "other", 4), None);
        // Nothing of the old generation is used for rows read in the new one.
        let now = t.catalogue.generation_at(at(&t.watch, 5));
        assert!(t.catalogue.lookup_in("listed".into(), now).is_err());
    }

    #[test]
    fn audited_changes_name_the_scope_they_drop() {
        for (entity_type, scope) in [
            ("organisation", Some(Scope::Roster)),
            ("employee", Some(Scope::Roster)),
            ("section", Some(Scope::Roster)),
            ("department", Some(Scope::Roster)),
            ("study_group", Some(Scope::Roster)),
            ("course", Some(Scope::Catalogue)),
            ("plan", Some(Scope::Catalogue)),
            ("nomination", None),
            ("report", None),
        ] {
            assert_eq!(Scope::of_audited(entity_type), scope, "{entity_type}");
        }
    }

    #[test]
    fn losing_the_connection_stops_every_read_and_listening_again_starts_them_empty() {
        let t = two();
        t.watch.set_listening(true, at(&t.watch, 0));
        read(&t.roster, "10009", 1, "ja");
        read(&t.catalogue, "c", 1, "course");
        let during = t.roster.lookup("10010".into(), at(&t.watch, 2)).unwrap_err();
        t.watch.set_listening(false, at(&t.watch, 3));
        assert_eq!((kept_at(&t.roster, "10009", 4), kept_at(&t.catalogue, "c", 4)), (None, None));
        t.roster.keep(during, Arc::new("read while the connection was lost".into()), at(&t.watch, 5));
        read(&t.roster, "10010", 6, "not listening");
        t.watch.set_listening(true, at(&t.watch, 7));
        assert_eq!((kept_at(&t.roster, "10009", 8), kept_at(&t.roster, "10010", 8)), (None, None));
        assert_eq!(kept_at(&t.catalogue, "c", 8), None);
        assert_eq!(t.roster.stats().entries, 0);
    }

    #[test]
    fn entries_are_used_only_while_the_instances_own_heartbeats_come_back() {
        let t = two();
        let (watch, kept) = (&t.watch, &t.roster);
        let lease = LEASE.as_millis() as u64;
        watch.set_listening(true, at(watch, 0));
        read(kept, "10009", 0, "ja");
        assert_eq!(kept_at(kept, "10009", lease - 1).as_deref(), Some("ja"));
        // Nothing came back since listening began: presumed dead, not used.
        assert_eq!(kept_at(kept, "10009", lease), None);
        assert!(watch.silent(at(watch, lease)));
        // A heartbeat sent at 1000 ms comes back: every change committed before it was heard
        // of, so the entries are good until 1000 ms + the lease, whenever it arrived.
        watch.notified(&watch.heartbeat(at(watch, 1000)));
        assert!(!watch.silent(at(watch, lease)));
        assert_eq!(
            kept_at(kept, "10009", 1000 + lease - 1).as_deref(),
            Some("ja"),
            "a heartbeat drops nothing"
        );
        assert_eq!(kept_at(kept, "10009", 1000 + lease), None);
        // Another instance's heartbeat says nothing of this one's connection, and changes nothing.
        let other = Watch::default();
        watch.notified(&other.heartbeat(at(&other, 5000)));
        assert_eq!(kept_at(kept, "10009", 1000 + lease), None);
        watch.notified(&watch.heartbeat(at(watch, 5000)));
        assert_eq!(kept_at(kept, "10009", 5001).as_deref(), Some("ja"));
        // An older heartbeat arriving late does not move the lease back.
        watch.notified(&watch.heartbeat(at(watch, 4000)));
        assert_eq!(kept_at(kept, "10009", 4000 + lease).as_deref(), Some("ja"));
        // Anything else on the channel may be a change.
        watch.notified("alive but not a heartbeat");
        assert_eq!(kept_at(kept, "10009", 5002), None);
        // Not listening, a heartbeat does not start the reads.
        watch.set_listening(false, at(watch, 6000));
        watch.notified(&watch.heartbeat(at(watch, 6000)));
        read(kept, "10009", 6001, "ja");
        assert_eq!(kept_at(kept, "10009", 6002), None);
        assert!(!watch.silent(at(watch, 6002)), "not listening is not silent");
    }

    #[test]
    fn a_read_of_two_scopes_goes_with_a_drop_of_either_and_a_value_no_longer_current_is_replaced() {
        let watch = Arc::new(Watch::default());
        let both: Kept<String, String> = Kept::over(watch.clone(), &[Scope::Roster, Scope::Catalogue], 10);
        watch.set_listening(true, at(&watch, 0));
        for (n, scope) in Scope::ALL.into_iter().enumerate() {
            let ms = 10 * n as u64;
            read(&both, "2023", ms + 1, "results");
            assert_eq!(kept_at(&both, "2023", ms + 2).as_deref(), Some("results"));
            // A read that began before the drop keeps nothing.
            let miss = both.lookup("2024".into(), at(&watch, ms + 3)).unwrap_err();
            watch.drop_scope(scope);
            assert_eq!(kept_at(&both, "2023", ms + 4), None, "{scope:?}");
            both.keep(miss, Arc::new("read before".into()), at(&watch, ms + 5));
            assert_eq!(kept_at(&both, "2024", ms + 6), None, "{scope:?}");
        }
        read(&both, "2023", 30, "at 7");
        let generation = both.generation_at(at(&watch, 31));
        assert!(both.lookup_in_if("2023".into(), generation, |v| v == "at 7").is_ok());
        let miss = both.lookup_in_if("2023".into(), generation, |v| v == "at 8").unwrap_err();
        both.keep(miss, Arc::new("at 8".into()), at(&watch, 32));
        assert_eq!(kept_at(&both, "2023", 33).as_deref(), Some("at 8"));
        let stats = both.stats();
        assert_eq!((stats.entries, stats.hits), (1, 4));
    }

    #[test]
    fn a_read_holds_at_most_its_capacity() {
        let watch = Arc::new(Watch::default());
        let kept: Kept<String, String> = Kept::new(watch.clone(), Scope::Roster, 50);
        watch.set_listening(true, at(&watch, 0));
        for n in 0..60 {
            read(&kept, &n.to_string(), 1, "ja");
        }
        assert_eq!(kept.stats().entries, 50);
        assert_eq!(kept_at(&kept, "59", 2).as_deref(), Some("ja"), "the newest is kept");
    }

    /// Requests missing one key read it one after another, and the later finds the earlier's
    /// read (a hit); another key never waits; nothing of a turn is left once all are done.
    #[tokio::test]
    async fn a_key_is_read_by_one_request_at_a_time_and_the_next_finds_its_value() {
        use futures_util::FutureExt;
        let watch = Arc::new(Watch::default());
        let kept: Kept<String, String> = Kept::new(watch.clone(), Scope::Roster, 10);
        watch.set_listening(true, at(&watch, 0));
        let key = || "2023".to_string();
        let (year, other) = (key(), "2024".to_string());
        let first = kept.lookup(key(), at(&watch, 1)).unwrap_err();
        let second = kept.lookup(key(), at(&watch, 1)).unwrap_err();
        let reading = kept.turn(&year).await;
        let mut waiting = Box::pin(kept.turn(&year));
        assert!(waiting.as_mut().now_or_never().is_none(), "the same key waits");
        assert!(kept.turn(&other).now_or_never().is_some(), "another key does not");
        kept.keep(first, Arc::new("read once".into()), at(&watch, 2));
        drop(reading);
        let turn = waiting.await;
        let found = kept.look_again(second, |_| true).ok().map(|v| v.to_string());
        assert_eq!(found.as_deref(), Some("read once"));
        drop(turn);
        assert!(kept.turns.lock().unwrap().is_empty());
        let stats = kept.stats();
        assert_eq!((stats.hits, stats.misses), (1, 1), "the request that waited counts as a hit");

        // Read in a generation since dropped: nothing to find, the request reads it itself.
        watch.drop_scope(Scope::Roster);
        let miss = kept.lookup(key(), at(&watch, 3)).expect_err("dropped");
        assert!(kept.look_again(miss, |_| true).is_err());
    }
}
