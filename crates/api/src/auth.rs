//! JWT verification and the one auth extractor. Algorithms are an allow-list: HS256 with the
//! shared secret, RS256/ES256 with public keys chosen by `kid`. Nothing else is accepted.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kenshu_domain::auth::{Principal, Role};
use kenshu_persistence::repo::employee::EmployeeRecord;
use kenshu_persistence::repo::employee::EmployeeRef;
use kenshu_persistence::repo::principal;
use kenshu_persistence::Actor;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, JwtConfig};
use crate::problem::ApiError;
use crate::state::AppState;

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

pub struct JwtVerifier {
    secret: Option<DecodingKey>,
    keys: HashMap<String, (Algorithm, DecodingKey)>,
    issuer: String,
    audience: String,
    leeway: u64,
}

impl JwtVerifier {
    pub fn from_config(cfg: &JwtConfig) -> Result<Self, ConfigError> {
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
        if secret.is_none() && keys.is_empty() {
            return Err(ConfigError(
                "no token keys: set KENSHU_JWT_SECRET, KENSHU_JWT_PUBLIC_KEYS or KENSHU_JWT_JWKS_FILE".into(),
            ));
        }
        Ok(Self {
            secret,
            keys,
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
            leeway: cfg.leeway_seconds,
        })
    }

    pub fn verify(&self, token: &str) -> Result<Claims, &'static str> {
        let header = decode_header(token).map_err(|_| "the token is malformed")?;
        let (alg, key) = match header.alg {
            Algorithm::HS256 => {
                (Algorithm::HS256, self.secret.as_ref().ok_or("HS256 tokens are not accepted")?)
            }
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
                    _ => return Err("the token's key is not known"),
                }
            }
            _ => return Err("the token's algorithm is not accepted"),
        };
        let mut v = Validation::new(alg);
        v.leeway = self.leeway;
        v.validate_nbf = true;
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        decode::<Claims>(token, key, &v).map(|d| d.claims).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => "the token has expired",
                K::ImmatureSignature => "the token is not valid yet",
                K::InvalidAudience => "the token is for another audience",
                K::InvalidIssuer => "the token is from an unknown issuer",
                K::InvalidSignature => "the token's signature is invalid",
                _ => "the token is invalid",
            }
        })
    }
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
}

impl Auth {
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
    pub async fn relation_to(&self, state: &AppState, employee_id: uuid::Uuid) -> Result<Party, ApiError> {
        let (who, chain) =
            kenshu_persistence::repo::approval::chain(state.db.conn(), self.principal.org_id, employee_id)
                .await?;
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
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let header = header.ok_or(ApiError::Unauthorized("send Authorization: Bearer <token>"))?;
            let token = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or(ApiError::Unauthorized("send Authorization: Bearer <token>"))?;
            let claims = state.verifier.verify(token).map_err(ApiError::Unauthorized)?;
            let roles: BTreeSet<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
            let loaded = principal::load(state.db.conn(), &claims.org, &claims.sub, roles).await?;
            let (principal, employee) =
                loaded.ok_or(ApiError::Unauthorized("the token's organisation is not known"))?;
            Ok(Auth { principal, employee, request_id })
        })
    }
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
