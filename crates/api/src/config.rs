//! Typed configuration from `KENSHU_*` environment variables, validated at start.

use std::net::SocketAddr;
use std::path::PathBuf;

use kenshu_domain::auth::Role;
use kenshu_persistence::{backend_of, DatabaseBackend, DEFAULT_SQLITE_URL};

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub max_connections: u32,
    /// How long a request waits for a database connection before it is answered 503.
    pub db_acquire_timeout: std::time::Duration,
    /// SQLite: how often the change counts are read (see `kenshu_persistence::change_watch`).
    pub sqlite_change_poll: std::time::Duration,
    pub jwt: JwtConfig,
    /// Largest accepted upload (imports), in bytes.
    pub max_upload_bytes: usize,
    /// Largest accepted JSON body, in bytes.
    pub max_json_bytes: usize,
    pub log_format: LogFormat,
    /// Origins allowed to call the API from a browser (SPA, portal), exact match.
    pub cors_origins: Vec<String>,
    /// Seals channel secrets (webhook signing secrets, portal access keys) at rest; without it
    /// no channel with a secret can be set up.
    pub secret_key: Option<SecretKey>,
    /// How often this instance delivers what is due, in seconds; 0: it does not (another does).
    pub delivery_interval_secs: u64,
    /// On SIGTERM, how long requests in flight may take to finish before the workers stop.
    pub shutdown_grace_secs: u64,
    pub limits: LimitsConfig,
    /// The staff directory read from the portal (desknet's NEO 共通API), if set up.
    pub directory: Option<DirectoryConfig>,
    /// The bearer token `GET /metrics` answers to; without it there are no metrics.
    pub metrics_token: Option<MetricsToken>,
    /// The language of problem titles when the client's Accept-Language names none Kenshu writes.
    pub default_language: crate::problem::Language,
}

/// Limits per caller, each per minute; 0 turns one off.
#[derive(Debug, Clone, Copy)]
pub struct LimitsConfig {
    /// Requests per token subject (an employee, a script's service account).
    pub requests_per_minute: u32,
    /// Of those, writes (any method but GET and HEAD) per token subject.
    pub writes_per_minute: u32,
    /// Of those, bulk requests ([`crate::limits::BULK_ROUTES`]) per token subject.
    pub bulk_per_minute: u32,
    /// Bulk requests in flight per organisation; `0`: unbounded.
    pub bulk_concurrency: usize,
    /// Failed authentications per source address.
    pub auth_failures_per_minute: u32,
    /// Wrong check-in codes per trainee and session.
    pub check_in_failures_per_minute: u32,
}

/// Where and how the staff directory is read: `KENSHU_DIRECTORY_*`.
#[derive(Clone)]
pub struct DirectoryConfig {
    /// The portal's `zrconst.cgi` URL.
    pub url: String,
    /// The access key (アクセスキー設定) sent in `X-Desknets-Auth`. Never printed.
    pub access_key: String,
    /// The organisation (code) whose staff the portal holds.
    pub organisation: String,
    pub fields: kenshu_domain::directory::DirectoryFields,
    /// The depth of departments in the portal's tree (1: its top-level groups).
    pub department_depth: usize,
    /// Users asked for per request (`limit`).
    pub page_size: u32,
    /// How long to wait after a 429 before asking again (the portal refuses for about ten
    /// seconds once more than ten requests wait), unless it says `Retry-After`.
    pub busy_wait: std::time::Duration,
    /// Requests tried per page before the read is given up (429s and connection failures).
    pub attempts: u32,
    /// How often the service syncs by itself, in seconds; 0: only when asked.
    pub every_secs: u64,
    /// Whether the scheduled sync marks those the directory leaves out inactive.
    pub full: bool,
}

impl std::fmt::Debug for DirectoryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryConfig")
            .field("url", &self.url)
            .field("organisation", &self.organisation)
            .field("every_secs", &self.every_secs)
            .finish_non_exhaustive()
    }
}

/// 32 bytes from `KENSHU_SECRET_KEY` (base64). Never printed.
#[derive(Clone)]
pub struct SecretKey(pub [u8; 32]);

/// The operators' token for `GET /metrics` (never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(pub String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

#[derive(Clone)]
pub struct JwtConfig {
    /// Shared secret for HS256.
    pub secret: Option<String>,
    /// PEM public keys for RS256/ES256, by key id.
    pub public_keys: Vec<(String, PathBuf)>,
    /// A JWKS file with RS256/ES256 keys.
    pub jwks_file: Option<PathBuf>,
    pub issuer: String,
    pub audience: String,
    pub leeway_seconds: u64,
    /// The municipality's identity provider (SSO), when staff sign in through it.
    pub oidc: Option<OidcConfig>,
}

/// Tokens of the municipality's identity provider (OpenID Connect): its keys from a JWKS URL,
/// and which claims name the organisation, the person and their office roles.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `iss` of its tokens; a token with this issuer is verified as the provider's.
    pub issuer: String,
    pub jwks_url: String,
    /// Kenshu's client id at the provider: `aud` must be it or contain it.
    pub audience: String,
    pub organisation: OidcOrganisation,
    /// The claim naming the person (a dotted path into nested claims is allowed).
    pub user_claim: String,
    pub user_is: OidcUser,
    /// The claim holding groups or roles (a string or an array of strings; dotted path allowed).
    pub roles_claim: String,
    /// Provider group or role → Kenshu role; only `hr_admin` and `auditor` may be granted.
    pub role_map: Vec<(String, Role)>,
    /// The least time between two reads of the JWKS, however many unknown key ids arrive.
    pub jwks_refresh_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcOrganisation {
    /// Every token of the provider is for this organisation (code).
    Fixed(String),
    /// The token names the organisation code in this claim.
    Claim(String),
}

/// What the user claim holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcUser {
    /// The portal login id (ログインID), compared without regard to case.
    LoginId,
    /// The employee number (職員番号).
    EmployeeNo,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        f.debug_struct("JwtConfig")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("public_keys", &self.public_keys)
            .field("jwks_file", &self.jwks_file)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("oidc", &self.oidc)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let parse_num = |k: &str, default: u64| -> Result<u64, ConfigError> {
            match get(k) {
                None => Ok(default),
                Some(v) => {
                    v.trim().parse().map_err(|_| ConfigError(format!("{k} must be a number, got '{v}'")))
                }
            }
        };
        let bind = get("KENSHU_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind =
            bind.parse().map_err(|_| ConfigError(format!("KENSHU_BIND must be host:port, got '{bind}'")))?;
        let database_url = get("KENSHU_DATABASE_URL").unwrap_or_else(|| DEFAULT_SQLITE_URL.into());
        let backend = backend_of(&database_url).ok_or_else(|| {
            ConfigError("KENSHU_DATABASE_URL must start with postgres:// or sqlite:".into())
        })?;
        let public_keys = match get("KENSHU_JWT_PUBLIC_KEYS") {
            None => vec![],
            Some(list) => list
                .split(',')
                .map(|item| {
                    item.split_once('=')
                        .map(|(kid, path)| (kid.trim().to_string(), PathBuf::from(path.trim())))
                        .ok_or_else(|| {
                            ConfigError(format!(
                                "KENSHU_JWT_PUBLIC_KEYS entries are kid=path.pem, got '{item}'"
                            ))
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let secret = get("KENSHU_JWT_SECRET");
        if secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(ConfigError("KENSHU_JWT_SECRET must be at least 32 characters".into()));
        }
        let log_format = match get("KENSHU_LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError(format!("KENSHU_LOG_FORMAT must be json or pretty, got '{other}'")))
            }
        };
        let secret_key = match get("KENSHU_SECRET_KEY") {
            None => None,
            Some(v) => {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD.decode(v.trim()).ok();
                let key: [u8; 32] = bytes.and_then(|b| b.try_into().ok()).ok_or_else(|| {
                    ConfigError(
                        "KENSHU_SECRET_KEY must be 32 bytes in base64 (openssl rand -base64 32)".into(),
                    )
                })?;
                Some(SecretKey(key))
            }
        };
        Ok(Self {
            bind,
            max_connections: parse_num("KENSHU_DB_MAX_CONNECTIONS", default_max_connections(backend).into())?
                as u32,
            db_acquire_timeout: std::time::Duration::from_millis(
                parse_num("KENSHU_DB_ACQUIRE_TIMEOUT_MS", default_acquire_timeout_ms(backend))?.max(1),
            ),
            database_url,
            sqlite_change_poll: std::time::Duration::from_millis(
                parse_num("KENSHU_SQLITE_CHANGE_POLL_MS", 20)?.max(1),
            ),
            jwt: JwtConfig {
                secret,
                public_keys,
                jwks_file: get("KENSHU_JWT_JWKS_FILE").map(PathBuf::from),
                issuer: get("KENSHU_JWT_ISSUER").unwrap_or_else(|| "kenshu".into()),
                audience: get("KENSHU_JWT_AUDIENCE").unwrap_or_else(|| "kenshu".into()),
                leeway_seconds: parse_num("KENSHU_JWT_LEEWAY_SECONDS", 30)?,
                oidc: oidc_from(&get, parse_num("KENSHU_OIDC_JWKS_REFRESH_SECONDS", 60)?)?,
            },
            max_upload_bytes: parse_num("KENSHU_MAX_UPLOAD_BYTES", 32 * 1024 * 1024)? as usize,
            max_json_bytes: parse_num("KENSHU_MAX_JSON_BYTES", 256 * 1024)? as usize,
            log_format,
            cors_origins: get("KENSHU_CORS_ORIGINS")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            secret_key,
            delivery_interval_secs: parse_num("KENSHU_DELIVERY_INTERVAL_SECONDS", 10)?,
            shutdown_grace_secs: parse_num("KENSHU_SHUTDOWN_GRACE_SECONDS", 30)?,
            limits: LimitsConfig {
                requests_per_minute: parse_num("KENSHU_RATE_LIMIT_PER_MINUTE", 1200)?.min(u32::MAX as u64)
                    as u32,
                writes_per_minute: parse_num("KENSHU_WRITE_RATE_LIMIT_PER_MINUTE", 300)?.min(u32::MAX as u64)
                    as u32,
                bulk_per_minute: parse_num("KENSHU_BULK_RATE_LIMIT_PER_MINUTE", 30)?.min(u32::MAX as u64)
                    as u32,
                bulk_concurrency: parse_num("KENSHU_BULK_CONCURRENCY", 2)?.min(1024) as usize,
                auth_failures_per_minute: parse_num("KENSHU_AUTH_FAILURES_PER_MINUTE", 60)?
                    .min(u32::MAX as u64) as u32,
                check_in_failures_per_minute: parse_num("KENSHU_CHECK_IN_FAILURES_PER_MINUTE", 5)?
                    .min(u32::MAX as u64) as u32,
            },
            directory: directory_from(&get, &parse_num)?,
            default_language: match get("KENSHU_LANGUAGE") {
                None => crate::problem::Language::English,
                Some(v) => crate::problem::Language::parse(&v)
                    .ok_or_else(|| ConfigError(format!("KENSHU_LANGUAGE must be en or ja, got '{v}'")))?,
            },
            metrics_token: match get("KENSHU_METRICS_TOKEN") {
                Some(t) if t.trim().len() < 32 => {
                    return Err(ConfigError("KENSHU_METRICS_TOKEN must be at least 32 characters".into()))
                }
                t => t.map(|t| MetricsToken(t.trim().to_string())),
            },
        })
    }
}

/// The pool's size unless `KENSHU_DB_MAX_CONNECTIONS` says otherwise. SQLite runs each
/// connection on a thread of its own with its own page cache and prepared statements, and writes
/// one at a time: at 50,000 staff 4 connections held the service's memory to 126–156 MiB where 10
/// reached 213–244 (bench/results.md, session 26). PostgreSQL's connections cost the service
/// little: 10, measured against 2, 4 and 20.
pub fn default_max_connections(backend: DatabaseBackend) -> u16 {
    match backend {
        DatabaseBackend::Sqlite => 4,
        _ => 10,
    }
}

/// How long a statement waits for a connection unless `KENSHU_DB_ACQUIRE_TIMEOUT_MS` says
/// otherwise. A PostgreSQL server can be away, and a second tells the caller so (503). An SQLite
/// file cannot: a statement that finds every connection busy (two year's results hold two each
/// for seconds at 50,000 staff) waits its turn as long as a write waits for the file's lock.
fn default_acquire_timeout_ms(backend: DatabaseBackend) -> u64 {
    match backend {
        DatabaseBackend::Sqlite => kenshu_persistence::db::SQLITE_BUSY_TIMEOUT,
        _ => kenshu_persistence::db::DEFAULT_ACQUIRE_TIMEOUT,
    }
    .as_millis() as u64
}

fn directory_from(
    get: &impl Fn(&str) -> Option<String>,
    parse_num: &impl Fn(&str, u64) -> Result<u64, ConfigError>,
) -> Result<Option<DirectoryConfig>, ConfigError> {
    let Some(url) = get("KENSHU_DIRECTORY_URL") else {
        return Ok(None);
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ConfigError("KENSHU_DIRECTORY_URL must be the portal's zrconst.cgi http(s) URL".into()));
    }
    let need = |k: &str, what: &str| {
        get(k)
            .map(|v| v.trim().to_string())
            .ok_or_else(|| ConfigError(format!("KENSHU_DIRECTORY_URL needs {k} ({what})")))
    };
    let fields =
        kenshu_domain::directory::DirectoryFields::parse(&get("KENSHU_DIRECTORY_FIELDS").unwrap_or_default())
            .map_err(|e| ConfigError(format!("KENSHU_DIRECTORY_FIELDS: {e}")))?;
    let full = match get("KENSHU_DIRECTORY_MODE").as_deref().map(str::trim) {
        None | Some("upsert") => false,
        Some("full") => true,
        Some(other) => {
            return Err(ConfigError(format!("KENSHU_DIRECTORY_MODE must be upsert or full, got '{other}'")))
        }
    };
    let department_depth = parse_num("KENSHU_DIRECTORY_DEPARTMENT_DEPTH", 1)?;
    let page_size = parse_num("KENSHU_DIRECTORY_PAGE_SIZE", 500)?;
    let attempts = parse_num("KENSHU_DIRECTORY_ATTEMPTS", 6)?;
    if department_depth == 0 || page_size == 0 || attempts == 0 {
        return Err(ConfigError(
            "KENSHU_DIRECTORY_DEPARTMENT_DEPTH, _PAGE_SIZE and _ATTEMPTS must be at least 1".into(),
        ));
    }
    Ok(Some(DirectoryConfig {
        url,
        access_key: need("KENSHU_DIRECTORY_ACCESS_KEY", "the portal's access key")?,
        organisation: need("KENSHU_DIRECTORY_ORGANISATION", "the code of the organisation it holds")?,
        fields,
        department_depth: department_depth as usize,
        page_size: page_size.min(10_000) as u32,
        busy_wait: std::time::Duration::from_millis(parse_num("KENSHU_DIRECTORY_BUSY_WAIT_MS", 10_000)?),
        attempts: attempts as u32,
        every_secs: parse_num("KENSHU_DIRECTORY_SYNC_EVERY_SECONDS", 86_400)?,
        full,
    }))
}

fn oidc_from(get: &impl Fn(&str) -> Option<String>, refresh: u64) -> Result<Option<OidcConfig>, ConfigError> {
    let Some(issuer) = get("KENSHU_OIDC_ISSUER") else {
        return Ok(None);
    };
    let jwks_url = get("KENSHU_OIDC_JWKS_URL")
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .ok_or_else(|| {
            ConfigError("KENSHU_OIDC_ISSUER needs KENSHU_OIDC_JWKS_URL (an http(s) URL)".into())
        })?;
    let audience = get("KENSHU_OIDC_AUDIENCE").ok_or_else(|| {
        ConfigError("KENSHU_OIDC_ISSUER needs KENSHU_OIDC_AUDIENCE (Kenshu's client id)".into())
    })?;
    if get("KENSHU_JWT_ISSUER").as_deref().unwrap_or("kenshu") == issuer {
        return Err(ConfigError("KENSHU_OIDC_ISSUER must differ from KENSHU_JWT_ISSUER".into()));
    }
    let organisation = match (get("KENSHU_OIDC_ORGANISATION"), get("KENSHU_OIDC_ORGANISATION_CLAIM")) {
        (Some(code), None) => OidcOrganisation::Fixed(code.trim().to_string()),
        (None, Some(claim)) => OidcOrganisation::Claim(claim.trim().to_string()),
        _ => return Err(ConfigError(
            "set one of KENSHU_OIDC_ORGANISATION (an organisation code) or KENSHU_OIDC_ORGANISATION_CLAIM"
                .into(),
        )),
    };
    let user_is = match get("KENSHU_OIDC_USER_IS").as_deref().map(str::trim) {
        None | Some("login_id") => OidcUser::LoginId,
        Some("employee_no") => OidcUser::EmployeeNo,
        Some(other) => {
            return Err(ConfigError(format!(
                "KENSHU_OIDC_USER_IS must be login_id or employee_no, got '{other}'"
            )))
        }
    };
    let mut role_map = Vec::new();
    for item in
        get("KENSHU_OIDC_ROLE_MAP").unwrap_or_default().split(',').map(str::trim).filter(|i| !i.is_empty())
    {
        let (group, role) = item.rsplit_once('=').ok_or_else(|| {
            ConfigError(format!("KENSHU_OIDC_ROLE_MAP entries are group=role, got '{item}'"))
        })?;
        let role = match Role::parse(role.trim()) {
            Some(r @ (Role::HrAdmin | Role::Auditor)) => r,
            _ => {
                return Err(ConfigError(format!(
                    "KENSHU_OIDC_ROLE_MAP may grant hr_admin or auditor only (heads come from the roster), got '{role}'"
                )))
            }
        };
        role_map.push((group.trim().to_string(), role));
    }
    Ok(Some(OidcConfig {
        issuer,
        jwks_url,
        audience,
        organisation,
        user_claim: get("KENSHU_OIDC_USER_CLAIM").unwrap_or_else(|| "preferred_username".into()),
        user_is,
        roles_claim: get("KENSHU_OIDC_ROLES_CLAIM").unwrap_or_else(|| "groups".into()),
        role_map,
        jwks_refresh_seconds: refresh,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))
    }

    /// `base` with `k` set to `v` (an empty `v`: left out).
    fn cfg_with(base: &[(&str, &str)], k: &str, v: &str) -> Result<Config, ConfigError> {
        let mut pairs: Vec<(&str, &str)> = base.iter().copied().filter(|(key, _)| *key != k).collect();
        if !v.is_empty() {
            pairs.push((k, v));
        }
        cfg(&pairs)
    }

    #[test]
    fn defaults_to_embedded_sqlite() {
        let c = cfg(&[]).unwrap();
        assert!(c.database_url.starts_with("sqlite:"));
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.jwt.audience, "kenshu");
    }

    #[test]
    fn the_pool_and_its_wait_default_by_backend_and_yield_to_the_operator() {
        let c = cfg(&[]).unwrap();
        assert_eq!((c.max_connections, c.db_acquire_timeout.as_millis()), (4, 10_000));
        let pg = cfg(&[("KENSHU_DATABASE_URL", "postgres://db/kenshu")]).unwrap();
        assert_eq!((pg.max_connections, pg.db_acquire_timeout.as_millis()), (10, 1000));
        let chosen =
            cfg(&[("KENSHU_DB_MAX_CONNECTIONS", "7"), ("KENSHU_DB_ACQUIRE_TIMEOUT_MS", "250")]).unwrap();
        assert_eq!((chosen.max_connections, chosen.db_acquire_timeout.as_millis()), (7, 250));
    }

    #[test]
    fn rejects_bad_values() {
        assert!(cfg(&[("KENSHU_BIND", "nowhere")]).is_err());
        assert!(cfg(&[("KENSHU_DATABASE_URL", "mysql://x")]).is_err());
        assert!(cfg(&[("KENSHU_JWT_SECRET", "short")]).is_err());
        assert!(cfg(&[("KENSHU_JWT_PUBLIC_KEYS", "nokid.pem")]).is_err());
        assert!(cfg(&[("KENSHU_MAX_UPLOAD_BYTES", "lots")]).is_err());
        assert!(cfg(&[("KENSHU_METRICS_TOKEN", "guessable")]).is_err());
        let long = "m".repeat(32);
        let c = cfg(&[("KENSHU_METRICS_TOKEN", &long)]).unwrap();
        assert_eq!(c.metrics_token, Some(MetricsToken(long.clone())));
        assert!(!format!("{c:?}").contains(&long), "the token is never printed");
    }

    #[test]
    fn oidc_settings_are_checked() {
        let base = [
            ("KENSHU_OIDC_ISSUER", "https://idp.example.jp/realms/staff"),
            ("KENSHU_OIDC_JWKS_URL", "https://idp.example.jp/realms/staff/certs"),
            ("KENSHU_OIDC_AUDIENCE", "kenshu"),
            ("KENSHU_OIDC_ORGANISATION", "isehara"),
            ("KENSHU_OIDC_ROLE_MAP", "kenshu-hr=hr_admin, kenshu-audit=auditor"),
        ];
        let ok = cfg(&base).unwrap().jwt.oidc.unwrap();
        assert_eq!(ok.user_is, OidcUser::LoginId);
        assert_eq!(
            ok.role_map,
            vec![("kenshu-hr".into(), Role::HrAdmin), ("kenshu-audit".into(), Role::Auditor)]
        );
        let with = |k: &str, v: &str| cfg_with(&base, k, v);
        assert!(with("KENSHU_OIDC_ROLE_MAP", "heads=section_head").is_err());
        assert!(with("KENSHU_OIDC_ROLE_MAP", "nope").is_err());
        assert!(with("KENSHU_OIDC_JWKS_URL", "").is_err());
        assert!(with("KENSHU_OIDC_AUDIENCE", "").is_err());
        assert!(with("KENSHU_OIDC_ORGANISATION", "").is_err());
        assert!(with("KENSHU_OIDC_ORGANISATION_CLAIM", "org").is_err());
        assert!(with("KENSHU_OIDC_USER_IS", "email").is_err());
        assert!(with("KENSHU_JWT_ISSUER", "https://idp.example.jp/realms/staff").is_err());
    }

    #[test]
    fn directory_settings_are_checked() {
        let base = [
            ("KENSHU_DIRECTORY_URL", "https://neo.example.jp/cgi-bin/dneo/zrconst.cgi"),
            ("KENSHU_DIRECTORY_ACCESS_KEY", "k3y-that-is-secret"),
            ("KENSHU_DIRECTORY_ORGANISATION", "isehara"),
        ];
        let d = cfg(&base).unwrap().directory.unwrap();
        assert_eq!((d.department_depth, d.page_size, d.every_secs, d.full), (1, 500, 86_400, false));
        assert!(!format!("{d:?}").contains("k3y"), "the access key is not printed");
        let with = |k: &str, v: &str| cfg_with(&base, k, v);
        assert!(with("KENSHU_DIRECTORY_MODE", "full").unwrap().directory.unwrap().full);
        assert!(with("KENSHU_DIRECTORY_MODE", "all").is_err());
        assert!(with("KENSHU_DIRECTORY_ACCESS_KEY", "").is_err());
        assert!(with("KENSHU_DIRECTORY_ORGANISATION", "").is_err());
        assert!(with("KENSHU_DIRECTORY_URL", "neo.example.jp").is_err());
        assert!(with("KENSHU_DIRECTORY_FIELDS", "employee_no=").is_err());
        assert!(with("KENSHU_DIRECTORY_PAGE_SIZE", "0").is_err());
        assert!(cfg(&[]).unwrap().directory.is_none());
    }

    #[test]
    fn secret_is_not_printed() {
        let c = cfg(&[("KENSHU_JWT_SECRET", "0123456789abcdef0123456789abcdef")]).unwrap();
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
    }
}
