//! Token faults: every one is a 401 problem, and the right tokens get in.

use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use kenshu_tests::{assert_problem, fixtures, people, spawn, AUDIENCE, ISSUER, ORG, SECRET};
use reqwest::Method;
use serde_json::{json, Value};

fn claims(overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({
        "sub": people::HR, "org": ORG, "roles": ["hr_admin"],
        "exp": now + 600, "nbf": now, "iat": now, "iss": ISSUER, "aud": AUDIENCE,
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn hs(alg: Algorithm, c: &Value) -> String {
    encode(&Header::new(alg), c, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

fn key(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("keys").join(name)).unwrap()
}

fn signed(alg: Algorithm, kid: Option<&str>, pem: &str, c: &Value) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(String::from);
    let k = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&key(pem)).unwrap(),
        _ => EncodingKey::from_rsa_pem(&key(pem)).unwrap(),
    };
    encode(&h, c, &k).unwrap()
}

#[tokio::test]
async fn token_faults_are_401_problems() {
    let app = spawn().await;
    let now = chrono::Utc::now().timestamp();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let valid = hs(Algorithm::HS256, &claims(json!({})));
    let tampered = {
        // Change the payload (roles) and keep the signature.
        let parts: Vec<&str> = valid.split('.').collect();
        let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        payload["roles"] = json!(["hr_admin", "auditor"]);
        format!("{}.{}.{}", parts[0], b64.encode(payload.to_string()), parts[2])
    };
    assert_ne!(tampered, valid);
    let none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims(json!({})).to_string())
    );
    let critical = {
        let t = hs(Algorithm::HS256, &claims(json!({})));
        let parts: Vec<&str> = t.split('.').collect();
        // A header naming a critical extension, signed: RFC 7515 says refuse what is not understood.
        let header = b64.encode(r#"{"alg":"HS256","typ":"JWT","crit":["b64"],"b64":true}"#);
        let input = format!("{header}.{}", parts[1]);
        let sig = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{input}.{sig}")
    };
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("critical header", Some(format!("Bearer {critical}"))),
        (
            "oversized",
            Some(format!("Bearer {}", hs(Algorithm::HS256, &claims(json!({"pad": "x".repeat(9000)}))))),
        ),
        ("not bearer", Some(format!("Basic {}", b64.encode("a:b")))),
        ("garbage", Some("Bearer not-a-jwt".into())),
        ("expired", Some(format!("Bearer {}", hs(Algorithm::HS256, &claims(json!({"exp": now - 3600})))))),
        (
            "not yet valid",
            Some(format!("Bearer {}", hs(Algorithm::HS256, &claims(json!({"nbf": now + 3600}))))),
        ),
        (
            "wrong audience",
            Some(format!("Bearer {}", hs(Algorithm::HS256, &claims(json!({"aud": "other"}))))),
        ),
        ("wrong issuer", Some(format!("Bearer {}", hs(Algorithm::HS256, &claims(json!({"iss": "evil"})))))),
        ("no exp", Some(format!("Bearer {}", hs(Algorithm::HS256, &claims(json!({"exp": null})))))),
        ("wrong algorithm HS512", Some(format!("Bearer {}", hs(Algorithm::HS512, &claims(json!({})))))),
        ("alg none", Some(format!("Bearer {none}"))),
        ("tampered", Some(format!("Bearer {tampered}"))),
        (
            "unknown organisation",
            Some(format!("Bearer {}", hs(Algorithm::HS256, &claims(json!({"org": "nowhere"}))))),
        ),
        (
            "RS256 with an unknown kid",
            Some(format!(
                "Bearer {}",
                signed(Algorithm::RS256, Some("nope"), "rsa-private.pem", &claims(json!({})))
            )),
        ),
        (
            "RS256 signed by another key",
            Some(format!(
                "Bearer {}",
                signed(Algorithm::RS256, Some("rsa-1"), "other-rsa-private.pem", &claims(json!({})))
            )),
        ),
        (
            "ES256 token naming the RSA key",
            Some(format!(
                "Bearer {}",
                signed(Algorithm::ES256, Some("rsa-1"), "ec-private.pem", &claims(json!({})))
            )),
        ),
        (
            "RS256 signature presented as HS256 with the public key as secret",
            Some(format!("Bearer {}", {
                let pubkey = key("rsa-public.pem");
                encode(&Header::new(Algorithm::HS256), &claims(json!({})), &EncodingKey::from_secret(&pubkey))
                    .unwrap()
            })),
        ),
    ];
    for (name, header) in cases {
        let mut rb = app.request(Method::GET, "/api/v1/me", None);
        if let Some(h) = header {
            rb = rb.header("Authorization", h);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), 401, "{name}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{name}");
        assert_problem(res, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn accepted_tokens_hs256_rs256_es256_and_jwks() {
    let app = spawn().await;
    let c = claims(json!({}));
    let now = chrono::Utc::now().timestamp();
    let tokens = [
        hs(Algorithm::HS256, &c),
        // Within the clock leeway.
        hs(Algorithm::HS256, &claims(json!({"exp": now - 10}))),
        signed(Algorithm::RS256, Some("rsa-1"), "rsa-private.pem", &c),
        signed(Algorithm::ES256, Some("ec-1"), "ec-private.pem", &c),
        // The only ES256 key: a token without kid is unambiguous.
        signed(Algorithm::ES256, None, "ec-private.pem", &c),
        signed(Algorithm::RS256, Some("jwks-rsa"), "jwks-rsa-private.pem", &c),
    ];
    for (i, t) in tokens.iter().enumerate() {
        let res = app.request(Method::GET, "/api/v1/me", Some(t)).send().await.unwrap();
        assert_eq!(res.status(), 200, "token {i}");
        let me: Value = res.json().await.unwrap();
        assert_eq!(me["subject"], people::HR);
        assert_eq!(me["employee"]["employee_no"], people::HR);
        assert_eq!(me["roles"], json!(["hr_admin"]));
    }
    // Two RSA keys are configured: without a kid the RS256 key is ambiguous.
    let no_kid = signed(Algorithm::RS256, None, "rsa-private.pem", &c);
    let res = app.request(Method::GET, "/api/v1/me", Some(&no_kid)).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn me_shows_a_service_account_without_employee_record() {
    let app = spawn().await;
    let t = kenshu_api::auth::mint(
        SECRET,
        ISSUER,
        AUDIENCE,
        ORG,
        "personnel-system",
        &[kenshu_domain::auth::Role::Importer],
        Duration::from_secs(60),
    )
    .unwrap();
    let me = app.get_json("/api/v1/me", &t).await;
    assert_eq!(me["employee"], Value::Null);
    assert_eq!(me["roles"], json!(["importer"]));
    // Unknown role names are ignored, not granted.
    let t = hs(Algorithm::HS256, &claims(json!({"roles": ["superuser"]})));
    let me = app.get_json("/api/v1/me", &t).await;
    assert_eq!(me["roles"], json!([]));
    let res = app.get("/api/v1/employees", &t).await;
    assert_problem(res, 403, "forbidden").await;
}
