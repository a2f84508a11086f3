//! Resolving a verified token into a `Principal`.

use std::collections::BTreeSet;

use kenshu_domain::auth::{Principal, Role};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::employee;
use crate::Db;

/// Who a verified token names.
pub enum Subject<'a> {
    /// Kenshu's own token: `sub` is an employee number or a service account's name, and the
    /// roles are those the token carries (a head's role still counts only for what the roster
    /// has them head).
    Token { sub: &'a str, roles: BTreeSet<Role> },
    /// Signed in through the municipality's identity provider: an employee on the roster, by
    /// number or portal login id, with the roles the roster implies and the office roles the
    /// provider claims (`kenshu_domain::auth::sign_in_roles`).
    SignIn { user: SignInUser<'a>, claimed: BTreeSet<Role> },
}

/// How the identity provider names the person.
#[derive(Debug, Clone, Copy)]
pub enum SignInUser<'a> {
    EmployeeNo(&'a str),
    /// Compared without regard to case.
    LoginId(&'a str),
}

enum Granted {
    AsCarried(BTreeSet<Role>),
    SignIn(BTreeSet<Role>),
}

/// What a token resolves to.
pub enum Loaded {
    /// The principal, their employee record, and their organisation's default language.
    Found(Box<(Principal, Option<employee::EmployeeRecord>, Option<String>)>),
    /// The token's organisation does not exist.
    UnknownOrganisation,
    /// A signed-in person the roster does not hold as an active employee; why, in words.
    NotOnRoster(kenshu_domain::Words),
}

pub async fn load(db: &Db, org_code: &str, subject: Subject<'_>) -> Result<Loaded, DbErr> {
    resolve(db, OrgKey::Code(org_code), subject).await
}

/// [`load`] in an organisation known by id (a portal form's).
pub async fn load_in(db: &Db, org_id: Uuid, subject: Subject<'_>) -> Result<Loaded, DbErr> {
    resolve(db, OrgKey::Id(org_id), subject).await
}

#[derive(Clone, Copy)]
enum OrgKey<'a> {
    Code(&'a str),
    Id(Uuid),
}

/// Which active employee a subject names.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Who {
    No(String),
    /// Lower-cased.
    Login(String),
    /// A subject that cannot be an employee number (a service account).
    Nobody,
}

/// The organisation, the active employees the subject names (one, unless a login id is shared)
/// with their departments, and the units they head or act for.
#[derive(Clone)]
struct Fetched {
    org_id: Uuid,
    language: Option<String>,
    employees: Vec<employee::EmployeeRecord>,
    sections: Vec<Uuid>,
    departments: Vec<Uuid>,
}

/// Every request identifies its caller, so this is one statement, on one connection: the
/// organisation, left-joined to the employee, their section (for the department) and the units
/// they head or act for.
async fn fetch(conn: &impl ConnectionTrait, org: OrgKey<'_>, who: &Who) -> Result<Option<Fetched>, DbErr> {
    use sea_orm::{FromQueryResult, Iterable, Statement, Value};
    let backend = conn.get_database_backend();
    let columns: Vec<String> = crate::entities::employee::Column::iter()
        .map(|c| format!("e.{0} AS e_{0}", sea_orm::IdenStatic::as_str(&c)))
        .collect();
    let (org_condition, org_value): (&str, Value) = match org {
        OrgKey::Code(code) => ("o.code = $1", code.into()),
        OrgKey::Id(id) => ("o.id = $1", id.into()),
    };
    let (employee_condition, employee_value): (&str, Option<Value>) = match who {
        Who::No(no) => ("e.employee_no = $2", Some(no.as_str().into())),
        Who::Login(login) => ("LOWER(e.portal_login_id) = $2", Some(login.as_str().into())),
        Who::Nobody => ("1 = 0", None),
    };
    // The units they head or act for: one left join per role and table, each an index lookup
    // on (organisation, head column). One row, unless they head several units of a kind (then
    // a row per combination, all read below).
    let sql = format!(
        "SELECT o.id AS org_id, o.language AS org_language, {columns}, s.department_id AS e_department_id, \
         hs.id AS headed_section, ahs.id AS acting_section, hd.id AS headed_department, ahd.id AS acting_department \
         FROM organisation o \
         LEFT JOIN employee e ON e.org_id = o.id AND e.active AND {employee_condition} \
         LEFT JOIN section s ON s.org_id = e.org_id AND s.id = e.section_id \
         LEFT JOIN section hs ON hs.org_id = e.org_id AND hs.head_employee_id = e.id \
         LEFT JOIN section ahs ON ahs.org_id = e.org_id AND ahs.acting_head_employee_id = e.id \
         LEFT JOIN department hd ON hd.org_id = e.org_id AND hd.head_employee_id = e.id \
         LEFT JOIN department ahd ON ahd.org_id = e.org_id AND ahd.acting_head_employee_id = e.id \
         WHERE {org_condition}",
        columns = columns.join(", "),
    );
    // SQLite numbers its parameters ?1, ?2.
    let sql = match backend {
        sea_orm::DatabaseBackend::Sqlite => sql.replace("$1", "?1").replace("$2", "?2"),
        _ => sql,
    };
    let mut values = vec![org_value];
    values.extend(employee_value);
    let rows = conn.query_all(Statement::from_sql_and_values(backend, sql, values)).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut out = Fetched {
        org_id: first.try_get("", "org_id")?,
        language: first.try_get("", "org_language")?,
        employees: Vec::new(),
        sections: Vec::new(),
        departments: Vec::new(),
    };
    for row in &rows {
        let Some(id) = row.try_get::<Option<Uuid>>("", "e_id")? else { continue };
        if !out.employees.iter().any(|e| e.model.id == id) {
            out.employees.push(employee::EmployeeRecord {
                model: crate::entities::employee::Model::from_query_result(row, "e_")?,
                department_id: row.try_get::<Option<Uuid>>("", "e_department_id")?.unwrap_or_default(),
            });
        }
        for column in ["headed_section", "acting_section"] {
            out.sections.extend(row.try_get::<Option<Uuid>>("", column)?);
        }
        for column in ["headed_department", "acting_department"] {
            out.departments.extend(row.try_get::<Option<Uuid>>("", column)?);
        }
    }
    out.sections.sort();
    out.sections.dedup();
    out.departments.sort();
    out.departments.dedup();
    Ok(Some(out))
}

async fn resolve(db: &Db, org: OrgKey<'_>, subject: Subject<'_>) -> Result<Loaded, DbErr> {
    let number = |n: &str| match kenshu_domain::employee::EmployeeNo::parse(n) {
        Ok(no) => Who::No(no.as_str().to_string()),
        Err(_) => Who::Nobody,
    };
    let who = match &subject {
        Subject::Token { sub, .. } => number(sub),
        Subject::SignIn { user: SignInUser::EmployeeNo(no), .. } => number(no),
        Subject::SignIn { user: SignInUser::LoginId(login), .. } => Who::Login(login.to_lowercase()),
    };
    let Some(mut fetched) = db.principals().fetch(db.conn(), org, who).await? else {
        return Ok(Loaded::UnknownOrganisation);
    };
    if fetched.employees.len() > 1 {
        return Ok(Loaded::NotOnRoster(
            kenshu_domain::Words::fixed("more than one employee on the roster has this login id; the training office must correct the roster", "このログインIDの職員が名簿に複数います。研修担当が名簿を修正する必要があります"),
        ));
    }
    let record = fetched.employees.pop();
    let (subject, granted) = match subject {
        // A subject that is not an active employee (a service account, a retired employee)
        // gets a principal without an employee record.
        Subject::Token { sub, roles } => (sub.to_string(), Granted::AsCarried(roles)),
        Subject::SignIn { claimed, .. } => match &record {
            Some(r) => (r.model.employee_no.clone(), Granted::SignIn(claimed)),
            None => return Ok(Loaded::NotOnRoster(kenshu_domain::Words::fixed(
                "you are not on this organisation's roster as an active employee; ask the training office",
                "この団体の在職職員として名簿に登録されていません。研修担当にお問い合わせください",
            ))),
        },
    };
    let roles = match granted {
        Granted::AsCarried(roles) => roles,
        Granted::SignIn(claimed) => kenshu_domain::auth::sign_in_roles(
            &claimed,
            !fetched.sections.is_empty(),
            !fetched.departments.is_empty(),
        ),
    };
    let principal = Principal {
        org_id: fetched.org_id,
        subject,
        roles,
        employee: record.as_ref().map(|r| r.placement()),
        headed_sections: fetched.sections,
        headed_departments: fetched.departments,
    };
    Ok(Loaded::Found(Box::new((principal, record, fetched.language))))
}

/// What identifies a caller, as the cache keys it.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    org: OrgName,
    who: Who,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum OrgName {
    Code(String),
    Id(Uuid),
}

/// Whether an audited change to an entity of this type (`audit_log.entity_type`) may change
/// how a caller is identified: the tables [`fetch`] reads.
pub(crate) fn changes_callers(entity_type: &str) -> bool {
    matches!(entity_type, "organisation" | "employee" | "section" | "department")
}

/// The most callers held; past it one is dropped for each added. About 1 KiB each.
const CACHE_CAPACITY: usize = 20_000;

/// How long the cache may be used after the latest moment it is known to have heard of every
/// change committed before it: listening began then, or a heartbeat this instance sent then came
/// back on the listening connection ([`crate::roster_watch`] sends one a second). A connection
/// that died without a word (a network that drops packets, a server that hangs) stops the cache
/// within this time.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(3);

/// The callers this instance has identified, so that a request reads nothing to know who sent
/// it. Used only while every committed change to the organisation, employee, section and
/// department tables reaches it:
/// - a write transaction of this instance that records a change to one of those tables drops
///   every entry as it commits ([`crate::WriteTxn`]), before the change is answered;
/// - on PostgreSQL, a trigger on those tables notifies every instance at commit, and
///   [`crate::roster_watch`] drops every entry when the notice arrives;
/// - the cache is not used while that connection is not listening (so a notice missed while
///   disconnected cannot leave an entry behind), nor when its own heartbeat has not come back
///   for [`LEASE`].
///
/// Entries are dropped wholesale, not by organisation or person: a change to a section can
/// change who heads it, every transfer changes a department, and drops are rare beside reads.
/// On SQLite nothing listens (other processes, `kenshu directory sync` among them, write the
/// same file unseen), so every request reads its caller.
///
/// A load records the generation it started in and keeps its result only if no drop happened
/// meanwhile: a load that read the rows before a change committed never outlives the change.
#[derive(Debug)]
pub struct Cache {
    /// Names this instance's heartbeats.
    id: Uuid,
    epoch: std::time::Instant,
    /// 1 + the milliseconds since `epoch` up to which every change is known to have been heard
    /// of; 0 while not listening.
    heard: std::sync::atomic::AtomicU64,
    generation: std::sync::atomic::AtomicU64,
    entries: std::sync::RwLock<std::collections::HashMap<Key, (u64, Fetched)>>,
    hits: std::sync::atomic::AtomicU64,
    misses: std::sync::atomic::AtomicU64,
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            id: Uuid::new_v4(),
            epoch: std::time::Instant::now(),
            heard: Default::default(),
            generation: Default::default(),
            entries: Default::default(),
            hits: Default::default(),
            misses: Default::default(),
        }
    }
}

/// A caller not found in the cache: its key, and the generation the read began in (none while
/// the cache is not in use).
struct Miss {
    key: Key,
    generation: Option<u64>,
}

/// How the cache has done since the instance started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Whether entries are used now (PostgreSQL, listening for changes).
    pub listening: bool,
    pub entries: usize,
    /// Requests whose caller came from memory.
    pub hits: u64,
    /// Requests whose caller was read from the database.
    pub misses: u64,
    /// How many times every entry was dropped.
    pub drops: u64,
}

impl std::fmt::Debug for Key {
    // Never prints who: an employee number or login id is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key")
    }
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fetched")
    }
}

/// What a heartbeat's payload starts with; the trigger's notifications are empty.
const HEARTBEAT: &str = "alive ";

impl Cache {
    /// Read the caller through the cache.
    async fn fetch(
        &self,
        conn: &impl ConnectionTrait,
        org: OrgKey<'_>,
        who: Who,
    ) -> Result<Option<Fetched>, DbErr> {
        let key = Key {
            org: match org {
                OrgKey::Code(code) => OrgName::Code(code.to_string()),
                OrgKey::Id(id) => OrgName::Id(id),
            },
            who,
        };
        match self.lookup(key, std::time::Instant::now()) {
            Ok(kept) => Ok(Some(kept)),
            Err(miss) => {
                let fetched = fetch(conn, org, &miss.key.who).await?;
                // An organisation that is not there is not kept: any code could be asked for.
                if let Some(found) = &fetched {
                    self.keep(miss, found, std::time::Instant::now());
                }
                Ok(fetched)
            }
        }
    }

    fn millis(&self, at: std::time::Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// Whether entries may be used at `now`.
    fn usable(&self, now: std::time::Instant) -> bool {
        let heard = self.heard.load(std::sync::atomic::Ordering::SeqCst);
        heard != 0 && (self.millis(now) + 1).saturating_sub(heard) < LEASE.as_millis() as u64
    }

    /// The kept caller, or what to keep the caller read from the database under.
    fn lookup(&self, key: Key, now: std::time::Instant) -> Result<Fetched, Miss> {
        use std::sync::atomic::Ordering::SeqCst;
        // Taken before the read: a drop during the read means the rows may predate a change.
        let generation = self.usable(now).then(|| self.generation.load(SeqCst));
        if let Some(generation) = generation {
            let entries = self.entries.read().expect("principal cache");
            if let Some((at, kept)) = entries.get(&key) {
                if *at == generation {
                    self.hits.fetch_add(1, SeqCst);
                    return Ok(kept.clone());
                }
            }
        }
        self.misses.fetch_add(1, SeqCst);
        Err(Miss { key, generation })
    }

    /// Keep what was read after `miss`, unless every entry was dropped since (or the cache is
    /// not in use).
    fn keep(&self, miss: Miss, fetched: &Fetched, now: std::time::Instant) {
        use std::sync::atomic::Ordering::SeqCst;
        let Some(generation) = miss.generation else { return };
        let mut entries = self.entries.write().expect("principal cache");
        if !(self.usable(now) && self.generation.load(SeqCst) == generation) {
            return;
        }
        if entries.len() >= CACHE_CAPACITY && !entries.contains_key(&miss.key) {
            let some = entries.keys().next().cloned();
            some.map(|k| entries.remove(&k));
        }
        entries.insert(miss.key, (generation, fetched.clone()));
    }

    /// Drop every entry: something a caller is identified from may have changed.
    pub fn drop_all(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        // The generation first: a load that began before this keeps nothing, even if it
        // finishes between the two steps.
        self.generation.fetch_add(1, SeqCst);
        self.entries.write().expect("principal cache").clear();
    }

    /// Listening began at `now` (every change committed from then on will be heard of), or
    /// stopped. Drops every entry either way.
    pub fn set_listening(&self, listening: bool, now: std::time::Instant) {
        use std::sync::atomic::Ordering::SeqCst;
        if listening {
            self.drop_all();
            self.heard.store(self.millis(now) + 1, SeqCst);
        } else {
            self.heard.store(0, SeqCst);
            self.drop_all();
        }
    }

    /// The payload of a heartbeat sent at `now`.
    pub fn heartbeat(&self, now: std::time::Instant) -> String {
        format!("{HEARTBEAT}{} {}", self.id.simple(), self.millis(now))
    }

    /// A notification arrived on the listening connection: this instance's heartbeat (every
    /// change committed before it was sent has been heard of: notifications arrive in commit
    /// order), another instance's (nothing changed), or anything else, which may be a change.
    pub fn notified(&self, payload: &str) {
        if let Some((id, sent)) = payload.strip_prefix(HEARTBEAT).and_then(|rest| rest.split_once(' ')) {
            if let Ok(sent) = sent.parse::<u64>() {
                if id == self.id.simple().to_string() {
                    let heard = &self.heard;
                    if heard.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                        heard.fetch_max(sent + 1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                return;
            }
        }
        self.drop_all();
    }

    /// Whether this instance listens but its heartbeats have stopped coming back for
    /// [`LEASE`]: the connection is presumed dead.
    pub fn silent(&self, now: std::time::Instant) -> bool {
        self.heard.load(std::sync::atomic::Ordering::SeqCst) != 0 && !self.usable(now)
    }

    pub fn stats(&self) -> CacheStats {
        use std::sync::atomic::Ordering::SeqCst;
        CacheStats {
            listening: self.usable(std::time::Instant::now()),
            entries: self.entries.read().expect("principal cache").len(),
            hits: self.hits.load(SeqCst),
            misses: self.misses.load(SeqCst),
            drops: self.generation.load(SeqCst),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn key(no: &str) -> Key {
        Key { org: OrgName::Code("isehara".into()), who: Who::No(no.into()) }
    }

    fn fetched(language: &str) -> Fetched {
        Fetched {
            org_id: Uuid::nil(),
            language: Some(language.into()),
            employees: Vec::new(),
            sections: Vec::new(),
            departments: Vec::new(),
        }
    }

    /// `ms` milliseconds after the cache was made.
    fn at(cache: &Cache, ms: u64) -> Instant {
        cache.epoch + Duration::from_millis(ms)
    }

    fn kept_at(cache: &Cache, no: &str, ms: u64) -> Option<String> {
        cache.lookup(key(no), at(cache, ms)).ok().and_then(|f| f.language)
    }

    /// Read `no` at `ms` and keep what was read.
    fn read(cache: &Cache, no: &str, ms: u64, language: &str) {
        if let Err(miss) = cache.lookup(key(no), at(cache, ms)) {
            cache.keep(miss, &fetched(language), at(cache, ms));
        }
    }

    #[test]
    fn nothing_is_kept_until_the_cache_listens() {
        let cache = Cache::default();
        read(&cache, "10009", 0, "ja");
        assert_eq!(kept_at(&cache, "10009", 0), None);
        cache.set_listening(true, at(&cache, 10));
        read(&cache, "10009", 10, "ja");
        assert_eq!(kept_at(&cache, "10009", 11).as_deref(), Some("ja"));
        assert_eq!(kept_at(&cache, "10010", 11), None, "another caller");
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.entries), (1, 1));
    }

    #[test]
    fn a_read_that_began_before_a_drop_is_not_kept() {
        let cache = Cache::default();
        cache.set_listening(true, at(&cache, 0));
        // The read began, a change committed and dropped every entry, then the read finished
        // with what it saw before the change.
        let miss = cache.lookup(key("10009"), at(&cache, 1)).unwrap_err();
        cache.notified("");
        cache.keep(miss, &fetched("before the change"), at(&cache, 2));
        assert_eq!(kept_at(&cache, "10009", 3), None);
        // Kept entries go with a drop too.
        read(&cache, "10009", 4, "ja");
        assert_eq!(kept_at(&cache, "10009", 5).as_deref(), Some("ja"));
        cache.drop_all();
        assert_eq!(kept_at(&cache, "10009", 6), None);
    }

    #[test]
    fn losing_the_connection_stops_the_cache_and_listening_again_starts_it_empty() {
        let cache = Cache::default();
        cache.set_listening(true, at(&cache, 0));
        read(&cache, "10009", 1, "ja");
        let during = cache.lookup(key("10010"), at(&cache, 2)).unwrap_err();
        cache.set_listening(false, at(&cache, 3));
        assert_eq!(kept_at(&cache, "10009", 4), None);
        cache.keep(during, &fetched("read while the connection was lost"), at(&cache, 5));
        read(&cache, "10010", 6, "not listening");
        cache.set_listening(true, at(&cache, 7));
        assert_eq!((kept_at(&cache, "10009", 8), kept_at(&cache, "10010", 8)), (None, None));
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn entries_are_used_only_while_the_instances_own_heartbeats_come_back() {
        let cache = Cache::default();
        let lease = LEASE.as_millis() as u64;
        cache.set_listening(true, at(&cache, 0));
        read(&cache, "10009", 0, "ja");
        assert_eq!(kept_at(&cache, "10009", lease - 1).as_deref(), Some("ja"));
        // Nothing came back since listening began: presumed dead, not used.
        assert_eq!(kept_at(&cache, "10009", lease), None);
        assert!(cache.silent(at(&cache, lease)));
        // A heartbeat sent at 1000 ms comes back: every change committed before it was heard
        // of, so the cache is good until 1000 ms + the lease, whenever it arrived.
        cache.notified(&cache.heartbeat(at(&cache, 1000)));
        assert!(!cache.silent(at(&cache, lease)));
        assert_eq!(
            kept_at(&cache, "10009", 1000 + lease - 1).as_deref(),
            Some("ja"),
            "a heartbeat drops nothing"
        );
        assert_eq!(kept_at(&cache, "10009", 1000 + lease), None);
        // Another instance's heartbeat says nothing of this one's connection, and changes nothing.
        let other = Cache::default();
        cache.notified(&other.heartbeat(at(&other, 5000)));
        assert_eq!(kept_at(&cache, "10009", 1000 + lease), None);
        cache.notified(&cache.heartbeat(at(&cache, 5000)));
        assert_eq!(kept_at(&cache, "10009", 5001).as_deref(), Some("ja"));
        // An older heartbeat arriving late does not move the lease back.
        cache.notified(&cache.heartbeat(at(&cache, 4000)));
        assert_eq!(kept_at(&cache, "10009", 4000 + lease).as_deref(), Some("ja"));
        // Anything else on the channel may be a change.
        cache.notified("alive but not a heartbeat");
        assert_eq!(kept_at(&cache, "10009", 5002), None);
        // Not listening, a heartbeat does not start the cache.
        cache.set_listening(false, at(&cache, 6000));
        cache.notified(&cache.heartbeat(at(&cache, 6000)));
        read(&cache, "10009", 6001, "ja");
        assert_eq!(kept_at(&cache, "10009", 6002), None);
        assert!(!cache.silent(at(&cache, 6002)), "not listening is not silent");
    }

    #[test]
    fn the_cache_holds_at_most_its_capacity() {
        let cache = Cache::default();
        cache.set_listening(true, at(&cache, 0));
        for n in 0..CACHE_CAPACITY + 10 {
            read(&cache, &n.to_string(), 1, "ja");
        }
        assert_eq!(cache.entries.read().unwrap().len(), CACHE_CAPACITY);
        let last = (CACHE_CAPACITY + 9).to_string();
        assert_eq!(kept_at(&cache, &last, 2).as_deref(), Some("ja"), "the newest is kept");
    }
}
