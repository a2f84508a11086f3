//! JWT verification and the one auth extractor. Algorithms are an allow-list: HS256 with the
//! shared secret, RS256/ES256 with public keys chosen by `kid`, and RS256/ES256 tokens of the
//! municipality's identity provider with keys from its JWKS URL. Nothing else is accepted.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kenshu_domain::auth::{Principal, Role};
use kenshu_domain::Words;
use kenshu_persistence::repo::employee::EmployeeRecord;
use kenshu_persistence::repo::employee::EmployeeRef;
use kenshu_persistence::repo::principal::{self, Loaded, SignInUser, Subject};
use kenshu_persistence::Actor;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, JwtConfig, OidcConfig, OidcOrganisation, OidcUser};
use crate::limits::{BulkPermit, RouteClass};
use crate::problem::ApiError;
use crate::state::AppState;

/// Why a token is refused (401) where more than one check says the same.
const MALFORMED: Words = Words::fixed("the token is malformed", "トークンの形式が正しくありません");
const UNKNOWN_KEY: Words =
    Words::fixed("the token's key is not known", "トークンの署名鍵が登録されていません");
const ALGORITHM_REFUSED: Words =
    Words::fixed("the token's algorithm is not accepted", "トークンの署名方式は受け付けていません");
const SEND_BEARER: Words =
    Words::fixed("send Authorization: Bearer <token>", "Authorization: Bearer <トークン> を送ってください");

/// The claims Kenshu reads. `aud`, `iss`, `exp` and `nbf` are checked by the verifier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The employee number (職員番号) or a service account name.
    pub sub: String,
    /// The organisation code.
    pub org: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    pub iss: String,
    pub aud: String,
}

/// The largest bearer token accepted. An identity provider's token with a few groups is 1–2 KB;
/// anything near the header limit is refused before it is parsed.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

pub struct JwtVerifier {
    secret: Option<DecodingKey>,
    keys: HashMap<String, (Algorithm, DecodingKey)>,
    issuer: String,
    audience: String,
    leeway: u64,
    oidc: Option<Oidc>,
}

/// What a verified token says.
pub enum Verified {
    /// Kenshu's own token (`kenshu token`, a script's service account).
    Own(Claims),
    /// The identity provider signed this person in.
    SignIn {
        org: String,
        user: String,
        user_is: OidcUser,
        /// Office roles the provider's groups map to (at most `hr_admin` and `auditor`).
        claimed: BTreeSet<Role>,
    },
}

impl JwtVerifier {
    pub fn from_config(cfg: &JwtConfig, http: reqwest::Client) -> Result<Self, ConfigError> {
        let mut keys = HashMap::new();
        for (kid, path) in &cfg.public_keys {
            let pem = std::fs::read(path)
                .map_err(|e| ConfigError(format!("cannot read key {}: {e}", path.display())))?;
            let key = DecodingKey::from_rsa_pem(&pem)
                .map(|k| (Algorithm::RS256, k))
                .or_else(|_| DecodingKey::from_ec_pem(&pem).map(|k| (Algorithm::ES256, k)))
                .map_err(|_| {
                    ConfigError(format!("{} is not an RSA or EC public key in PEM", path.display()))
                })?;
            keys.insert(kid.clone(), key);
        }
        if let Some(path) = &cfg.jwks_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("cannot read JWKS {}: {e}", path.display())))?;
            let set: JwkSet = serde_json::from_str(&text)
                .map_err(|e| ConfigError(format!("{} is not a JWKS: {e}", path.display())))?;
            for jwk in &set.keys {
                let kid = jwk
                    .common
                    .key_id
                    .clone()
                    .ok_or_else(|| ConfigError("every JWKS key needs a kid".into()))?;
                let alg = match &jwk.algorithm {
                    AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                        Algorithm::ES256
                    }
                    _ => {
                        return Err(ConfigError(format!(
                            "JWKS key {kid}: only RSA and P-256 keys are accepted"
                        )))
                    }
                };
                let key =
                    DecodingKey::from_jwk(jwk).map_err(|e| ConfigError(format!("JWKS key {kid}: {e}")))?;
                keys.insert(kid, (alg, key));
            }
        }
        let secret = cfg.secret.as_ref().map(|s| DecodingKey::from_secret(s.as_bytes()));
        if secret.is_none() && keys.is_empty() && cfg.oidc.is_none() {
            return Err(ConfigError(
                "no token keys: set KENSHU_JWT_SECRET, KENSHU_JWT_PUBLIC_KEYS, KENSHU_JWT_JWKS_FILE or KENSHU_OIDC_ISSUER".into(),
            ));
        }
        Ok(Self {
            secret,
            keys,
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
            leeway: cfg.leeway_seconds,
            oidc: cfg.oidc.clone().map(|config| Oidc {
                config,
                http,
                leeway: cfg.leeway_seconds,
                cache: tokio::sync::RwLock::new(KeyCache::default()),
                refresh: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Check a bearer token: its size and header first (RFC 7515: a `crit` header names
    /// extensions Kenshu does not implement, so the token is refused), then the identity
    /// provider's keys when its issuer is the provider's, otherwise Kenshu's own.
    pub async fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Verified, Words> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Words::fixed("the token is too large", "トークンが大きすぎます"));
        }
        let peek = Peek::of(token)?;
        if peek.critical {
            return Err(Words::fixed(
                "the token has critical header parameters (crit) that are not understood",
                "トークンに解釈できない必須ヘッダー（crit）があります",
            ));
        }
        match &self.oidc {
            Some(oidc) if peek.issuer.as_deref() == Some(oidc.config.issuer.as_str()) => {
                oidc.verify(token, now).await
            }
            _ => self.verify_own(token).map(Verified::Own),
        }
    }

    fn verify_own(&self, token: &str) -> Result<Claims, Words> {
        let header = decode_header(token).map_err(|_| MALFORMED)?;
        let (alg, key) = match header.alg {
            Algorithm::HS256 => (
                Algorithm::HS256,
                self.secret.as_ref().ok_or(Words::fixed(
                    "HS256 tokens are not accepted",
                    "HS256 のトークンは受け付けていません",
                ))?,
            ),
            Algorithm::RS256 | Algorithm::ES256 => {
                let found = match &header.kid {
                    Some(kid) => self.keys.get(kid),
                    // Without a kid, only an unambiguous single key of that algorithm will do.
                    None => {
                        let mut of_alg = self.keys.values().filter(|(a, _)| *a == header.alg);
                        match (of_alg.next(), of_alg.next()) {
                            (Some(k), None) => Some(k),
                            _ => None,
                        }
                    }
                };
                match found {
                    Some((a, k)) if *a == header.alg => (*a, k),
                    _ => return Err(UNKNOWN_KEY),
                }
            }
            _ => return Err(ALGORITHM_REFUSED),
        };
        let mut v = Validation::new(alg);
        v.leeway = self.leeway;
        v.validate_nbf = true;
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        decode::<Claims>(token, key, &v).map(|d| d.claims).map_err(refusal)
    }
}

fn refusal(e: jsonwebtoken::errors::Error) -> Words {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => Words::fixed("the token has expired", "トークンの有効期限が切れています"),
        K::ImmatureSignature => {
            Words::fixed("the token is not valid yet", "トークンはまだ有効になっていません")
        }
        K::InvalidAudience => {
            Words::fixed("the token is for another audience", "トークンの対象（aud）が違います")
        }
        K::InvalidIssuer => {
            Words::fixed("the token is from an unknown issuer", "トークンの発行者が登録されていません")
        }
        K::InvalidSignature => {
            Words::fixed("the token's signature is invalid", "トークンの署名が正しくありません")
        }
        _ => Words::fixed("the token is invalid", "トークンが無効です"),
    }
}

/// What is read from a token before its signature is checked: whether its header is critical,
/// and its issuer, to choose the keys.
struct Peek {
    critical: bool,
    issuer: Option<String>,
}

impl Peek {
    fn of(token: &str) -> Result<Self, Words> {
        use base64::Engine;
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(MALFORMED);
        };
        let json = |part: &str| -> Result<serde_json::Map<String, serde_json::Value>, Words> {
            let bytes =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).map_err(|_| MALFORMED)?;
            serde_json::from_slice(&bytes).map_err(|_| MALFORMED)
        };
        let header = json(header)?;
        let payload = json(payload)?;
        Ok(Peek {
            critical: header.contains_key("crit"),
            issuer: payload.get("iss").and_then(|v| v.as_str()).map(str::to_string),
        })
    }
}

/// The identity provider: its settings and its keys, read from the JWKS URL when a token names
/// a key not yet known (at most once per `jwks_refresh_seconds`) and when the keys are older
/// than [`JWKS_MAX_AGE_SECONDS`].
struct Oidc {
    config: OidcConfig,
    http: reqwest::Client,
    leeway: u64,
    cache: tokio::sync::RwLock<KeyCache>,
    /// One read of the JWKS at a time; others wait and use what it found.
    refresh: tokio::sync::Mutex<()>,
}

/// Keys retired at the provider stop working within this time.
const JWKS_MAX_AGE_SECONDS: i64 = 3600;
/// A JWKS larger than this is not one.
const MAX_JWKS_BYTES: usize = 256 * 1024;

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, (Algorithm, DecodingKey)>,
    fetched_at: Option<DateTime<Utc>>,
    tried_at: Option<DateTime<Utc>>,
}

impl KeyCache {
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        let found = match kid {
            Some(kid) => self.keys.get(kid),
            None => {
                let mut of_alg = self.keys.values().filter(|(a, _)| *a == alg);
                match (of_alg.next(), of_alg.next()) {
                    (Some(k), None) => Some(k),
                    _ => None,
                }
            }
        };
        found.filter(|(a, _)| *a == alg).map(|(_, k)| k.clone())
    }

    fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.fetched_at.is_some_and(|at| (now - at).num_seconds() < JWKS_MAX_AGE_SECONDS)
    }
}

impl Oidc {
    async fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Verified, Words> {
        let header = decode_header(token).map_err(|_| MALFORMED)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(ALGORITHM_REFUSED);
        }
        let key = self.key(header.kid.as_deref(), header.alg, now).await.ok_or(UNKNOWN_KEY)?;
        let mut v = Validation::new(header.alg);
        v.leeway = self.leeway;
        v.validate_nbf = true;
        v.set_issuer(&[&self.config.issuer]);
        // `aud` may be a string or an array; one of its values must be Kenshu's client id.
        v.set_audience(&[&self.config.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims =
            decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &v).map_err(refusal)?.claims;
        let text = |path: &str| {
            claim(&claims, path).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty())
        };
        let user = text(&self.config.user_claim).ok_or(Words::fixed(
            "the token does not name the user in the configured claim",
            "設定されたクレームに利用者が含まれていません",
        ))?;
        let org = match &self.config.organisation {
            OidcOrganisation::Fixed(code) => code.clone(),
            OidcOrganisation::Claim(path) => text(path)
                .ok_or(Words::fixed(
                    "the token does not name the organisation in the configured claim",
                    "設定されたクレームに団体が含まれていません",
                ))?
                .to_string(),
        };
        let groups: Vec<&str> = match claim(&claims, &self.config.roles_claim) {
            Some(serde_json::Value::String(s)) => vec![s.as_str()],
            Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).collect(),
            _ => vec![],
        };
        let claimed = self
            .config
            .role_map
            .iter()
            .filter(|(group, _)| groups.contains(&group.as_str()))
            .map(|(_, role)| *role)
            .collect();
        Ok(Verified::SignIn { org, user: user.to_string(), user_is: self.config.user_is, claimed })
    }

    async fn key(&self, kid: Option<&str>, alg: Algorithm, now: DateTime<Utc>) -> Option<DecodingKey> {
        {
            let cache = self.cache.read().await;
            if cache.fresh(now) {
                if let Some(k) = cache.find(kid, alg) {
                    return Some(k);
                }
            }
        }
        let _one_at_a_time = self.refresh.lock().await;
        let mut cache = self.cache.write().await;
        // Another request may have read the keys while this one waited.
        let found = cache.find(kid, alg);
        if found.is_some() && cache.fresh(now) {
            return found;
        }
        let may_try = cache
            .tried_at
            .is_none_or(|at| (now - at).num_seconds() >= self.config.jwks_refresh_seconds as i64);
        if !may_try {
            return found;
        }
        cache.tried_at = Some(now);
        match self.fetch().await {
            Ok(keys) => {
                cache.keys = keys;
                cache.fetched_at = Some(now);
            }
            // The keys known stay in use; the URL is configuration, not personal data.
            Err(why) => {
                tracing::warn!(url = %self.config.jwks_url, error = %why, "cannot read the identity provider's keys")
            }
        }
        cache.find(kid, alg)
    }

    async fn fetch(&self) -> Result<HashMap<String, (Algorithm, DecodingKey)>, String> {
        let res = self.http.get(&self.config.jwks_url).send().await.map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("HTTP {}", res.status()));
        }
        let body = res.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("the JWKS is too large".into());
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| format!("not a JWKS: {e}"))?;
        Ok(signing_keys(&set))
    }
}

/// The JWKS's RSA and P-256 signing keys that have a key id; others (encryption keys, other
/// curves) are left out.
fn signing_keys(set: &JwkSet) -> HashMap<String, (Algorithm, DecodingKey)> {
    use jsonwebtoken::jwk::PublicKeyUse;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else { continue };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let alg = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
            _ => continue,
        };
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            keys.insert(kid, (alg, key));
        }
    }
    keys
}

/// A claim by name, or by a dotted path into nested claims (`realm_access.roles`).
fn claim<'a>(
    claims: &'a serde_json::Map<String, serde_json::Value>,
    path: &str,
) -> Option<&'a serde_json::Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut at = claims.get(parts.next()?)?;
    for part in parts {
        at = at.get(part)?;
    }
    Some(at)
}

/// Sign an HS256 token, as `kenshu token` and the tests do.
pub fn mint(
    secret: &str,
    issuer: &str,
    audience: &str,
    org: &str,
    sub: &str,
    roles: &[Role],
    ttl: Duration,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: sub.to_string(),
        org: org.to_string(),
        roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
        exp: now + ttl.as_secs() as i64,
        nbf: Some(now),
        iat: Some(now),
        iss: issuer.to_string(),
        aud: audience.to_string(),
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
}

/// The request id given to every request by the middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The authenticated caller: every protected handler takes this.
pub struct Auth {
    pub principal: Principal,
    pub employee: Option<EmployeeRecord>,
    request_id: Option<String>,
    /// A bulk request's place among its organisation's, held until the request is done.
    _bulk: Option<BulkPermit>,
}

impl Auth {
    /// The employee a portal form names, acting as themself: what they may do is what they
    /// could do signed in (the roster's roles, no office roles). `request_id` ties the audit
    /// records of what the form changes to the change received.
    pub async fn for_portal(
        state: &AppState,
        org_id: uuid::Uuid,
        user: SignInUser<'_>,
        request_id: String,
    ) -> Result<Result<Auth, Words>, ApiError> {
        let subject = Subject::SignIn { user, claimed: BTreeSet::new() };
        let loaded = principal::load_in(&state.db, org_id, subject).await?;
        match Self::from_loaded(loaded, Some(request_id)) {
            Ok(auth) => Ok(Ok(auth)),
            Err(ApiError::Unauthorized(why) | ApiError::NotOnRoster(why)) => Ok(Err(why)),
            Err(other) => Err(other),
        }
    }

    /// The caller a principal load found, or why there is none (401 either way).
    fn from_loaded(loaded: Loaded, request_id: Option<String>) -> Result<Auth, ApiError> {
        match loaded {
            Loaded::Found(found) => {
                let (principal, employee, language) = *found;
                crate::problem::organisation_language(language.as_deref());
                Ok(Auth { principal, employee, request_id, _bulk: None })
            }
            Loaded::UnknownOrganisation => Err(ApiError::Unauthorized(Words::fixed(
                "the token's organisation is not known",
                "トークンの団体は登録されていません",
            ))),
            Loaded::NotOnRoster(why) => Err(ApiError::NotOnRoster(why)),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            org_id: self.principal.org_id,
            subject: self.principal.subject.clone(),
            request_id: self.request_id.clone(),
        }
    }

    /// What the caller is to the employee whose paperwork they act on (a trainee, an
    /// applicant), from the roster: themself, whoever confirms or approves for them, HR, and
    /// whether they may read the employee's records. Each workflow turns the relation into its
    /// own capacities.
    /// Read on `conn`: inside a write, its transaction.
    pub async fn relation_to(
        &self,
        conn: &impl kenshu_persistence::ConnectionTrait,
        employee_id: uuid::Uuid,
    ) -> Result<Party, ApiError> {
        let (who, chain) =
            kenshu_persistence::repo::approval::chain(conn, self.principal.org_id, employee_id).await?;
        Ok(Party {
            placement: chain.trainee,
            who,
            relation: kenshu_domain::approval::relation(&self.principal, &chain),
        })
    }
}

/// An employee whose paperwork is acted on, and the caller's relation to them. See
/// [`Auth::relation_to`].
pub struct Party {
    pub placement: kenshu_domain::auth::EmployeePlacement,
    pub who: EmployeeRef,
    pub relation: kenshu_domain::approval::Relation,
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        let ip = req.peer_addr().map(|a| a.ip());
        let class = RouteClass::of(req.method().as_str(), req.match_pattern().as_deref(), req.query_string());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            // An address that keeps failing waits before its next token is even checked.
            state.limits.authentication_allowed(ip)?;
            let found = authenticate(&state, header, request_id, class).await;
            if let Err(ApiError::Unauthorized(_) | ApiError::NotOnRoster(_)) = &found {
                state.limits.authentication_failed(ip);
            }
            found
        })
    }
}

/// Verify the bearer token, count the request against its caller's limit, then load who they are.
async fn authenticate(
    state: &AppState,
    header: Option<String>,
    request_id: Option<String>,
    class: RouteClass,
) -> Result<Auth, ApiError> {
    let header = header.ok_or(ApiError::Unauthorized(SEND_BEARER))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized(SEND_BEARER))?;
    let verified = state.verifier.verify(token, state.clock.now()).await.map_err(ApiError::Unauthorized)?;
    let db = &state.db;
    // The caller's limit is counted before anything is read for them.
    let (loaded, permit) = match &verified {
        Verified::Own(claims) => {
            let permit = state.limits.caller(&claims.org, &claims.sub, class)?;
            let roles: BTreeSet<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
            (principal::load(db, &claims.org, Subject::Token { sub: &claims.sub, roles }).await?, permit)
        }
        Verified::SignIn { org, user, user_is, claimed } => {
            let permit = state.limits.caller(org, user, class)?;
            let user = match user_is {
                OidcUser::LoginId => SignInUser::LoginId(user),
                OidcUser::EmployeeNo => SignInUser::EmployeeNo(user),
            };
            (principal::load(db, org, Subject::SignIn { user, claimed: claimed.clone() }).await?, permit)
        }
    };
    Ok(Auth { _bulk: permit, ..Auth::from_loaded(loaded, request_id)? })
}

/// Parse `1h`, `30m`, `7d`, `3600s` or plain seconds.
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("'{s}' is not a duration like 1h, 30m or 7d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("'{s}' is not a duration like 1h, 30m or 7d")),
    };
    if secs == 0 || secs > 366 * 86400 {
        return Err("the lifetime must be between 1 second and 366 days".into());
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_parses() {
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert!(parse_ttl("1y").is_err());
        assert!(parse_ttl("0").is_err());
    }
}
