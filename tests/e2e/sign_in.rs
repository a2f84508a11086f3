//! Single sign-on: tokens of the municipality's identity provider (OpenID Connect), verified with
//! keys read from its JWKS URL (a stand-in the tests start), mapped to people on the roster.

use base64::Engine;
use chrono::{Duration, Utc};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use kenshu_tests::standins::JwksServer;
use kenshu_tests::{assert_problem, fixtures, people, spawn_configured, TestApp, AUDIENCE, ORG};
use reqwest::Method;
use serde_json::{json, Value};

const IDP: &str = "https://idp.city.isehara.example.jp/realms/staff";
const CLIENT: &str = "kenshu-api";

async fn idp_app(jwks: &JwksServer, extra: &[(&str, &str)]) -> TestApp {
    let mut vars: Vec<(&str, String)> = vec![
        ("KENSHU_OIDC_ISSUER", IDP.into()),
        ("KENSHU_OIDC_JWKS_URL", jwks.url.clone()),
        ("KENSHU_OIDC_AUDIENCE", CLIENT.into()),
        ("KENSHU_OIDC_ORGANISATION", ORG.into()),
        ("KENSHU_OIDC_ROLE_MAP", "kenshu-training-office=hr_admin,kenshu-audit=auditor".into()),
        ("KENSHU_OIDC_JWKS_REFRESH_SECONDS", "60".into()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    spawn_configured(&vars).await
}

/// The provider's token for `user`, signed with the test key `kid`, with `extra` claims.
fn idp_token(kid: &str, user: &str, extra: Value) -> String {
    let alg = if kid.starts_with("idp-ec") { Algorithm::ES256 } else { Algorithm::RS256 };
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    sign(header, kid, user, extra)
}

fn sign(header: Header, kid: &str, user: &str, extra: Value) -> String {
    let now = Utc::now().timestamp();
    let mut claims = json!({
        "iss": IDP, "aud": CLIENT, "sub": "f3c1d2e4-0000-4000-8000-00000000abcd",
        "preferred_username": user, "exp": now + 300, "iat": now, "nbf": now,
    });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let pem = std::fs::read(fixtures().join("keys").join(format!("{kid}-private.pem"))).unwrap();
    let key = match header.alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem).unwrap(),
        _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
    };
    encode(&header, &claims, &key).unwrap()
}

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::GET, "/api/v1/me", Some(token)).send().await.unwrap()
}

async fn me_ok(app: &TestApp, token: &str) -> Value {
    let res = me(app, token).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn roles(me: &Value) -> Vec<&str> {
    me["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect()
}

#[tokio::test]
async fn staff_sign_in_with_the_providers_tokens_and_the_roster_decides_their_roles() {
    let jwks = JwksServer::start(&["idp-rsa-1", "idp-ec-1"]).await;
    let app = idp_app(&jwks, &[]).await;
    app.set_login_id(people::EMPLOYEE, "Yamaguchi.Hanako").await;
    app.set_login_id(people::SECTION_HEAD, "kacho").await;
    app.set_login_id(people::HR, "jinji").await;

    // RS256, `aud` as an array, the login id in another case than the roster's.
    let t = idp_token("idp-rsa-1", "yamaguchi.HANAKO", json!({"aud": ["desknets-neo", CLIENT]}));
    let m = me_ok(&app, &t).await;
    assert_eq!(m["subject"], people::EMPLOYEE);
    assert_eq!(m["employee"]["employee_no"], people::EMPLOYEE);
    assert_eq!(roles(&m), ["employee"]);
    // A group that names a head's role grants nothing the roster does not show.
    let pretender =
        idp_token("idp-rsa-1", "yamaguchi.hanako", json!({"groups": ["section_head", "importer"]}));
    assert_eq!(roles(&me_ok(&app, &pretender).await), ["employee"]);
    let audit = app.request(Method::GET, "/api/v1/audit", Some(&pretender)).send().await.unwrap();
    assert_problem(audit, 403, "forbidden").await;

    // ES256. The section head is one without any group saying so, and acts as one.
    let head = idp_token("idp-ec-1", "KACHO", json!({}));
    let m = me_ok(&app, &head).await;
    assert_eq!(roles(&m), ["employee", "section_head"]);
    let section = m["headed_sections"][0].as_str().unwrap().to_string();
    let res = app.get(&format!("/api/v1/sections/{section}/nominations"), &head).await;
    assert_eq!(res.status(), 200);

    // The provider's group makes the training office; the map decides which group.
    let office = idp_token("idp-rsa-1", "jinji", json!({"groups": ["kenshu-training-office", "staff"]}));
    assert_eq!(roles(&me_ok(&app, &office).await), ["employee", "hr_admin"]);
    assert_eq!(app.get("/api/v1/audit?limit=1", &office).await.status(), 200);

    // Someone the provider knows but the roster does not.
    let stranger = idp_token("idp-rsa-1", "temp.worker", json!({}));
    let p = assert_problem(me(&app, &stranger).await, 401, "not-on-roster").await;
    assert!(p["detail"].as_str().unwrap().contains("roster"), "{p}");
    // A retired employee is not on the roster either.
    app.edit_employee(people::SAME_SECTION, |e| {
        e["portal_login_id"] = json!("taishoku");
        e["active"] = json!(false);
    })
    .await;
    let retired = idp_token("idp-rsa-1", "taishoku", json!({}));
    assert_problem(me(&app, &retired).await, 401, "not-on-roster").await;

    // Kenshu's own tokens keep working beside the provider's.
    assert_eq!(me_ok(&app, &app.hr()).await["subject"], people::HR);
    assert_eq!(jwks.reads(), 1, "the keys were read once and kept");
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_unknown_keys_cannot_make_it_fetch_without_end() {
    let jwks = JwksServer::start(&["idp-rsa-1"]).await;
    let app = idp_app(&jwks, &[]).await;
    app.set_login_id(people::EMPLOYEE, "yamaguchi").await;
    let t0 = Utc::now();
    app.clock.set(t0);
    me_ok(&app, &idp_token("idp-rsa-1", "yamaguchi", json!({}))).await;
    assert_eq!(jwks.reads(), 1);

    // Floods of tokens naming keys nobody published: at most one read per refresh interval.
    let flood = |n: usize| {
        (0..n).map(|i| {
            let mut h = Header::new(Algorithm::RS256);
            h.kid = Some(format!("forged-{i}"));
            sign(h, "idp-rsa-2", "yamaguchi", json!({}))
        })
    };
    for forged in flood(25) {
        assert_problem(me(&app, &forged).await, 401, "unauthorized").await;
    }
    assert_eq!(jwks.reads(), 1, "the keys were read just now");
    app.clock.set(t0 + Duration::seconds(61));
    for forged in flood(25) {
        assert_problem(me(&app, &forged).await, 401, "unauthorized").await;
    }
    assert_eq!(jwks.reads(), 2, "one read for the whole flood");

    // The provider rotates its key. Within the interval the new key is not read yet…
    jwks.publish(&["idp-rsa-2"]);
    let rotated = idp_token("idp-rsa-2", "yamaguchi", json!({}));
    assert_problem(me(&app, &rotated).await, 401, "unauthorized").await;
    assert_eq!(jwks.reads(), 2);
    // …after it, the first token that names it reads the keys again, and the retired key is gone.
    app.clock.set(t0 + Duration::seconds(122));
    me_ok(&app, &rotated).await;
    assert_eq!(jwks.reads(), 3);
    let old = idp_token("idp-rsa-1", "yamaguchi", json!({}));
    assert_problem(me(&app, &old).await, 401, "unauthorized").await;
    me_ok(&app, &rotated).await;
    assert_eq!(jwks.reads(), 3);
}

#[tokio::test]
async fn provider_tokens_that_are_not_right_are_refused() {
    let jwks = JwksServer::start(&["idp-rsa-1", "idp-ec-1"]).await;
    let app = idp_app(&jwks, &[]).await;
    app.set_login_id(people::EMPLOYEE, "yamaguchi").await;
    let now = Utc::now().timestamp();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let crit = {
        let header =
            json!({"alg": "RS256", "typ": "JWT", "kid": "idp-rsa-1", "crit": ["exp"], "exp": now + 300});
        let valid = idp_token("idp-rsa-1", "yamaguchi", json!({}));
        let parts: Vec<&str> = valid.split('.').collect();
        // A real signature over a header that names a critical extension.
        let signing_input = format!("{}.{}", b64.encode(header.to_string()), parts[1]);
        let pem = std::fs::read(fixtures().join("keys").join("idp-rsa-1-private.pem")).unwrap();
        let sig = jsonwebtoken::crypto::sign(
            signing_input.as_bytes(),
            &EncodingKey::from_rsa_pem(&pem).unwrap(),
            Algorithm::RS256,
        )
        .unwrap();
        format!("{signing_input}.{sig}")
    };
    let oversized = idp_token("idp-rsa-1", "yamaguchi", json!({"groups": vec!["g".repeat(64); 200]}));
    assert!(oversized.len() > 8 * 1024);
    let cases: Vec<(&str, String)> = vec![
        ("crit header", crit),
        ("oversized", oversized),
        ("another audience", idp_token("idp-rsa-1", "yamaguchi", json!({"aud": ["desknets-neo", AUDIENCE]}))),
        ("expired", idp_token("idp-rsa-1", "yamaguchi", json!({"exp": now - 3600, "nbf": now - 7200}))),
        ("no user claim", idp_token("idp-rsa-1", "yamaguchi", json!({"preferred_username": null}))),
        ("signed by a key it does not name", {
            let mut h = Header::new(Algorithm::RS256);
            h.kid = Some("idp-rsa-1".into());
            sign(h, "idp-rsa-2", "yamaguchi", json!({}))
        }),
        ("HS256 with the provider's issuer", {
            let claims =
                json!({"iss": IDP, "aud": CLIENT, "preferred_username": "yamaguchi", "exp": now + 300});
            encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(kenshu_tests::SECRET.as_bytes()),
            )
            .unwrap()
        }),
    ];
    for (name, token) in cases {
        let res = me(&app, &token).await;
        assert_eq!(res.status(), 401, "{name}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{name}");
        assert_problem(res, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn the_provider_may_name_staff_by_employee_number_in_a_nested_claim_and_the_organisation_in_a_claim() {
    let jwks = JwksServer::start(&["idp-ec-1"]).await;
    let app = {
        let jwks_url = jwks.url.clone();
        spawn_configured(&[
            ("KENSHU_OIDC_ISSUER", IDP.into()),
            ("KENSHU_OIDC_JWKS_URL", jwks_url),
            ("KENSHU_OIDC_AUDIENCE", CLIENT.into()),
            ("KENSHU_OIDC_ORGANISATION_CLAIM", "tenant".into()),
            ("KENSHU_OIDC_USER_IS", "employee_no".into()),
            ("KENSHU_OIDC_USER_CLAIM", "ext.employee_number".into()),
            ("KENSHU_OIDC_ROLES_CLAIM", "realm_access.roles".into()),
            ("KENSHU_OIDC_ROLE_MAP", "auditors=auditor".into()),
        ])
        .await
    };
    let token = |org: &str, no: &str| {
        idp_token(
            "idp-ec-1",
            "ignored",
            json!({"tenant": org, "ext": {"employee_number": no}, "realm_access": {"roles": ["auditors"]}}),
        )
    };
    let m = me_ok(&app, &token(ORG, people::DEPARTMENT_HEAD)).await;
    assert_eq!(m["subject"], people::DEPARTMENT_HEAD);
    assert_eq!(roles(&m), ["employee", "department_head", "auditor"]);
    let other = me_ok(&app, &token(kenshu_tests::OTHER_ORG, people::OTHER_ORG_EMPLOYEE)).await;
    assert_eq!(other["subject"], people::OTHER_ORG_EMPLOYEE);
    assert_ne!(other["org_id"], m["org_id"]);
    // An employee number of one organisation is nobody in another.
    assert_problem(me(&app, &token(kenshu_tests::OTHER_ORG, people::EMPLOYEE)).await, 401, "not-on-roster")
        .await;
    assert_problem(me(&app, &token("nowhere", people::EMPLOYEE)).await, 401, "unauthorized").await;
}
