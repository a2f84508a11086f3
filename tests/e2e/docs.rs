//! The OpenAPI document, the offline docs page, health and readiness.

use kenshu_tests::{repo_root, spawn};
use reqwest::Method;

#[test]
fn committed_openapi_matches_the_code() {
    let generated = kenshu_api::openapi::document_json();
    let path = repo_root().join("openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p kenshu-tests --test e2e committed_openapi` and commit it"
    );
}

#[tokio::test]
async fn served_document_docs_page_and_health() {
    let app = spawn().await;
    let served: serde_json::Value =
        app.request(Method::GET, "/openapi.json", None).send().await.unwrap().json().await.unwrap();
    let generated: serde_json::Value = serde_json::from_str(&kenshu_api::openapi::document_json()).unwrap();
    assert_eq!(served, generated);
    assert!(served["components"]["securitySchemes"]["bearer"].is_object());

    // The docs page and its assets come from the service itself: no CDN, works offline.
    let res = app.request(Method::GET, "/docs/", None).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for tag in html.split(['<', '>']).filter(|t| t.starts_with("script") || t.starts_with("link")) {
        assert!(!tag.contains("http://") && !tag.contains("https://"), "external asset: {tag}");
    }
    for asset in ["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/swagger-initializer.js"] {
        let res = app.request(Method::GET, asset, None).send().await.unwrap();
        assert_eq!(res.status(), 200, "{asset}");
    }
    let init = app
        .request(Method::GET, "/docs/swagger-initializer.js", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/openapi.json"), "{init}");

    for path in ["/healthz", "/readyz"] {
        let res = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers().contains_key("x-request-id"));
    }
    // A sane caller-supplied request id is kept (portals correlate their own logs).
    let res =
        app.request(Method::GET, "/healthz", None).header("X-Request-Id", "portal-42").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "portal-42");
}

#[test]
fn operation_ids_are_unique_and_creates_link_to_their_resource() {
    let doc: serde_json::Value = serde_json::from_str(&kenshu_api::openapi::document_json()).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id =
                op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
        }
    }
    // Every collection with a create links it to reading and updating the created resource,
    // named by the member path's parameter (`/plans/{fiscal_year}`, `/employees/{id}`).
    let paths = doc["paths"].as_object().unwrap();
    let mut linked = Vec::new();
    for (path, item) in paths {
        if path.contains('{') || item.get("post").is_none() {
            continue;
        }
        let prefix = format!("{path}/{{");
        let Some(member) = paths.keys().find(|p| p.starts_with(&prefix) && p.matches('{').count() == 1)
        else {
            continue;
        };
        let param = &member[prefix.len()..member.len() - 1];
        let links = &item["post"]["responses"]["201"]["links"];
        assert!(links["read"]["operationId"].is_string(), "{path}: {links}");
        assert_eq!(links["read"]["parameters"][param], format!("$response.body#/{param}"), "{path}");
        // Resources that change only through events (a subsidy application) have no update.
        if paths[member].get("put").is_some() {
            assert_eq!(links["update"]["parameters"]["header.If-Match"], "$response.header.ETag", "{path}");
        }
        linked.push(path.as_str());
    }
    for expected in ["/api/v1/employees", "/api/v1/plans", "/api/v1/courses"] {
        assert!(linked.contains(&expected), "{expected} has no links: {linked:?}");
    }
}
