//! Small pieces every handler shares: ETags, If-Match, keyset cursors, 405 answers.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, Resource};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kenshu_domain::FieldError;
use kenshu_domain::Words;
use kenshu_persistence::PageRequest;
use kenshu_persistence::Precondition;
use serde::Serialize;

use crate::problem::{ApiError, ApiResult};

/// A fiscal year named in the path: outside the supported range it names nothing (404).
pub fn path_year(year: i32) -> ApiResult<kenshu_domain::calendar::FiscalYear> {
    kenshu_domain::calendar::FiscalYear::new(year).map_err(|_| ApiError::NotFound)
}

/// A fiscal year given in a body or query `field`: outside the range is a 422 on that field.
pub fn fiscal_year(field: &str, year: i32) -> ApiResult<kenshu_domain::calendar::FiscalYear> {
    kenshu_domain::calendar::FiscalYear::new(year)
        .map_err(|e| ApiError::validation(FieldError::range(field, e.to_string())))
}

/// The `fiscal_year` asked for, or the current one in Japan time.
pub fn fiscal_year_or_current(year: Option<i32>) -> ApiResult<kenshu_domain::calendar::FiscalYear> {
    match year {
        Some(y) => fiscal_year("fiscal_year", y),
        None => Ok(kenshu_domain::calendar::FiscalYear::containing(kenshu_domain::calendar::tokyo_date(
            chrono::Utc::now(),
        ))),
    }
}

pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// What the client's `If-Match` admits (RFC 9110 §13.1.1); updates without it are refused (428).
/// `*` admits whatever version the resource has now; `"N"` that version, and a list
/// (`"3", "4"`) any of them; a weak tag `W/"N"` never matches, since If-Match compares strongly,
/// and neither does `"0"` (no version is 0): then 412 with the current version.
pub fn if_match(req: &HttpRequest) -> ApiResult<Precondition> {
    let value = req.headers().get(header::IF_MATCH).ok_or(ApiError::PreconditionRequired)?;
    let malformed = || {
        ApiError::BadRequest(Words::fixed(
            "If-Match must be ETags you read, like \"3\", or *",
            "If-Match には読み込んだときの ETag（\"3\" など）か * を送ってください",
        ))
    };
    let text = value.to_str().map_err(|_| malformed())?.trim();
    if text == "*" {
        return Ok(Precondition::Any);
    }
    let mut versions = Vec::new();
    for tag in text.split(',').map(str::trim) {
        let (weak, tag) = match tag.strip_prefix("W/") {
            Some(tag) => (true, tag),
            None => (false, tag),
        };
        let version = tag
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|t| t.parse::<i32>().ok())
            .ok_or_else(malformed)?;
        // Versions start at 1: a tag of 0 (or a weak one) is well formed and never current.
        if !weak && version >= 1 {
            versions.push(version);
        }
    }
    Ok(Precondition::OneOf(versions))
}

/// A JSON response carrying the resource's version as its ETag.
pub fn json_with_etag<T: Serialize>(status: StatusCode, version: i32, body: &T) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::ETAG, etag(version))).json(body)
}

/// [`json_with_etag`] of a body already rendered as JSON.
pub fn rendered_with_etag(status: StatusCode, version: i32, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .content_type(header::ContentType::json())
        .body(body)
}

/// 201 Created with the new resource's ETag and its `Location`.
pub fn created<T: Serialize>(version: i32, location: &str, body: &T) -> HttpResponse {
    let mut res = json_with_etag(StatusCode::CREATED, version, body);
    res.headers_mut()
        .insert(header::LOCATION, header::HeaderValue::from_str(location).expect("locations are ASCII"));
    res
}

/// A required free text, trimmed (inner lines and spaces kept): 1 to `max` characters as sent,
/// else an error for `field`.
pub fn required_text(
    field: &str,
    value: &str,
    max: usize,
    errors: &mut Vec<kenshu_domain::FieldError>,
) -> String {
    let t = value.trim().to_string();
    if t.is_empty() || value.chars().count() > max {
        errors.push(kenshu_domain::FieldError::length(field, format!("1 to {max} characters")));
    }
    t
}

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

/// Turn `limit` and `cursor` query values into a page request. The cursor names the list it
/// belongs to, so a cursor from one list (or sort order) is refused by another.
pub fn page_request(scope: &str, limit: Option<u64>, cursor: Option<&str>) -> ApiResult<PageRequest> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::validation(FieldError::range(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )));
    }
    let after = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let bad = || ApiError::validation(FieldError::format("cursor", "is not a cursor from this list"));
            let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
            let mut parts: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
            if parts.is_empty() || parts.remove(0) != scope {
                return Err(bad());
            }
            Some(parts)
        }
    };
    Ok(PageRequest { limit, after })
}

/// The answer to a cursor whose item is no longer in the list.
pub fn list_changed() -> ApiError {
    ApiError::validation(FieldError::conflict(
        "cursor",
        "the list has changed since this cursor was given; start again",
    ))
}

/// One page of a list computed in memory (in its order), paged the way every list pages: the
/// cursor names the last item seen by `id`. A cursor whose item is no longer in the list (it
/// moved on meanwhile) is a 422 asking to start again, rather than a page that skips or repeats.
pub fn page_of<T>(
    items: Vec<T>,
    page: &PageRequest,
    id: impl Fn(&T) -> String,
) -> ApiResult<kenshu_persistence::Page<T>> {
    let start = match page.after.as_ref().and_then(|a| a.first()) {
        None => 0,
        Some(after) => items.iter().position(|i| id(i) == *after).map(|p| p + 1).ok_or_else(list_changed)?,
    };
    let rows: Vec<T> = items.into_iter().skip(start).take(page.limit as usize + 1).collect();
    Ok(kenshu_persistence::Page::from_rows(rows, page.limit, |i| vec![id(i)]))
}

pub fn encode_cursor(scope: &str, key: Option<Vec<String>>) -> Option<String> {
    key.map(|mut k| {
        k.insert(0, scope.to_string());
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&k).expect("strings serialise"))
    })
}

/// The problem a method a path does not take is answered with.
pub fn method_not_allowed(allowed: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "urn:kenshu:problem:method-not-allowed",
        "title": "Method not allowed",
        "status": 405,
        "detail": format!("allowed: {allowed}"),
        "code": "method-not-allowed",
    })
}

/// A resource whose other methods answer 405 with an `Allow` header and a problem body.
pub fn resource(path: &str, allowed: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        let problem = method_not_allowed(allowed);
        HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, allowed))
            .content_type("application/problem+json")
            .body(problem.to_string())
    }))
}

/// The one JSON body extractor: the body as `web::Json` reads it (size limit, content type), an
/// object (never an array of the fields), with every string in it checked against the one text rule (`text::check_plain`: a 422 naming each
/// field that holds a NUL), then deserialised into `T`.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            // Every body is an object; serde would also read a struct from an array of its fields.
            if !value.is_object() {
                return Err(ApiError::validation(FieldError::format("body", "must be a JSON object")).into());
            }
            let mut errors = Vec::new();
            plain_text_errors(&value, &mut String::new(), &mut errors);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors).into());
            }
            serde_path_to_error::deserialize(value).map(Json).map_err(|e| body_error(e).into())
        })
    }
}

/// A body that is JSON but does not fit the schema: 422 naming the field by its path
/// (`rules[0].conditions[1].grade`), or the unknown or missing field itself, instead of "body".
fn body_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let reason = e.into_inner().to_string();
    // An unknown or missing field is named in the message; the path is where it was looked for.
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| reason.strip_prefix(p))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string);
    // A missing field's path is its object's; so is an unknown one's inside a tagged variant.
    let field = match (path.as_str(), named) {
        (".", Some(name)) => name,
        (".", None) => "body".to_string(),
        (path, Some(name)) if !path.ends_with(&format!(".{name}")) && path != name => {
            format!("{path}.{name}")
        }
        (path, _) => path.to_string(),
    };
    let code = if reason.starts_with("missing field") {
        kenshu_domain::FieldCode::Required
    } else if reason.starts_with("unknown field") || reason.starts_with("unknown variant") {
        kenshu_domain::FieldCode::UnknownValue
    } else {
        kenshu_domain::FieldCode::Format
    };
    ApiError::Validation(vec![kenshu_domain::FieldError::new(field, code, reason)])
}

/// Every string (keys included) in `value` that breaks the text rule, by its path (`members[2].name`).
fn plain_text_errors(value: &serde_json::Value, path: &mut String, out: &mut Vec<kenshu_domain::FieldError>) {
    use serde_json::Value;
    let field = |p: &str| if p.is_empty() { "body".to_string() } else { p.to_string() };
    match value {
        Value::String(s) => {
            if let Err(why) = kenshu_domain::text::check_plain(s) {
                out.push(kenshu_domain::FieldError::format(field(path), why));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                plain_text_errors(item, path, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if let Err(why) = kenshu_domain::text::check_plain(key) {
                    out.push(kenshu_domain::FieldError::format(field(path), why));
                }
                plain_text_errors(item, path, out);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod body_error_tests {
    use super::body_error;
    use crate::problem::ApiError;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // Read only to fail.
    struct Member {
        name: String,
        age: u8,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Group {
        title: String,
        members: Vec<Member>,
    }

    fn field_of(body: serde_json::Value) -> String {
        let e = serde_path_to_error::deserialize::<_, Group>(body).unwrap_err();
        match body_error(e) {
            ApiError::Validation(errors) => errors[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_body_error_names_the_field() {
        let member = serde_json::json!({"name": "a", "age": 1});
        let ok = |extra: serde_json::Value| {
            let mut b = serde_json::json!({"title": "t", "members": [member, member]});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        assert_eq!(field_of(ok(serde_json::json!({"employee_no": "1"}))), "employee_no");
        assert_eq!(field_of(serde_json::json!({"members": []})), "title");
        assert_eq!(field_of(ok(serde_json::json!({"title": 3}))), "title");
        let wrong_age = serde_json::json!({"title": "t", "members": [member, {"name": "b", "age": "old"}]});
        assert_eq!(field_of(wrong_age), "members[1].age");
        let unknown_inside = serde_json::json!({"title": "t", "members": [{"name": "b", "age": 1, "x": 0}]});
        assert_eq!(field_of(unknown_inside), "members[0].x");
        let missing_inside = serde_json::json!({"title": "t", "members": [{"name": "b"}]});
        assert_eq!(field_of(missing_inside), "members[0].age");
    }
}
