//! The one error type. Every failure leaves the service as an RFC 9457 problem
//! (`application/problem+json`) with a stable `type` per kind.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use kenshu_domain::auth::Denied;
use kenshu_domain::roster_import::RowError;
use kenshu_domain::{FieldCode, FieldError, Words};
use kenshu_persistence::RepoError;
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:kenshu:problem:validation",
    "title": "The request has invalid fields",
    "status": 422,
    "detail": "1 field is invalid",
    "code": "validation",
    "errors": [{"field": "kana", "code": "format", "reason": "must be written in katakana or hiragana"}]
}))]
pub struct Problem {
    /// Stable identifier of the kind of problem: `urn:kenshu:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The same kind as `type`, short: validation, not-found, forbidden …
    pub code: String,
    /// Invalid fields, for `validation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldErrorDto>>,
    /// Invalid rows of an uploaded file, for `import-rejected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<RowErrorDto>>,
    /// The version the resource has now, for `precondition-failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i32>,
    /// The state the object is in, for `invalid-transition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// This occurrence: the request's path, and its id (`X-Request-Id`) as a fragment, to quote
    /// when asking the training office or an operator about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// One invalid field of a `validation` problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDto {
    /// Where, as a path into the body or a query parameter (`rules[0].conditions`).
    pub field: String,
    /// What is wrong, as a stable code: show your own words for it.
    pub code: FieldCode,
    /// What is wrong, in words a person can act on; led by the code's Japanese when the client
    /// asks for Japanese. The words may change between releases; the code does not.
    pub reason: String,
}

/// One invalid row (or a warning about one) of an imported file.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrorDto {
    /// Line in the file; the header is line 1.
    pub line: u64,
    /// The column as the file names it; empty when the whole row is at fault.
    pub column: String,
    /// What is wrong, as a stable code (the same codes as a field's): show your own words for it.
    pub code: FieldCode,
    /// What is wrong, in words a person can act on; led by the code's Japanese when the client
    /// asks for Japanese. The words may change between releases; the code does not.
    pub reason: String,
}

impl RowErrorDto {
    /// The row's error in the language of the request being answered.
    pub fn of(e: &RowError) -> Self {
        RowErrorDto {
            line: e.line,
            column: e.column.clone(),
            code: e.code,
            reason: reason(e.code, &e.reason),
        }
    }
}

/// A field's or row's reason, led by its code's Japanese when the client asked for Japanese.
fn reason(code: FieldCode, reason: &str) -> String {
    let japanese = PROBLEM_CONTEXT.try_with(|c| c.language() == Language::Japanese).unwrap_or(false);
    if japanese {
        format!("{}（{reason}）", code.japanese())
    } else {
        reason.to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(Words),
    /// A person the identity provider signed in whom the roster does not hold: 401, saying so.
    #[error("{0}")]
    NotOnRoster(Words),
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("no such resource")]
    NotFound,
    #[error("{0}")]
    BadRequest(Words),
    #[error("{} invalid", if .0.len() == 1 { "1 field is".to_string() } else { format!("{} fields are", .0.len()) })]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Conflict(Words),
    #[error("the resource has changed since you read it; read it again and reapply your change")]
    PreconditionFailed { current: i32 },
    /// A state machine refused the move: 409, naming the state the object is in.
    #[error("{message}")]
    InvalidTransition { state: String, message: String },
    #[error("send If-Match with the ETag of the resource you read")]
    PreconditionRequired,
    #[error("{0}")]
    PayloadTooLarge(Words),
    /// A request head over the bound Kenshu reads: 431.
    #[error("the request's head is larger than {0} bytes")]
    HeadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(Words),
    #[error("{0}")]
    ImportFile(Words),
    #[error("{} rows have errors; nothing was written", .0.iter().map(|e| e.line).collect::<std::collections::BTreeSet<_>>().len())]
    ImportRejected(Vec<RowError>),
    /// A portal form's change, stored, that cannot be applied: 422 with the reason.
    #[error("{reason} (received as {id}; the training office can correct it and replay the change)")]
    PortalChangeFailed { id: uuid::Uuid, reason: String },
    /// A limit per caller is spent: 429 with `Retry-After`.
    #[error("too many {what}; try again in {retry_after} s")]
    TooManyRequests { retry_after: u64, what: &'static str },
    /// The portal's directory could not be read whole: 502, and nothing was changed.
    #[error("{0}")]
    DirectoryUnavailable(Words),
    #[error("the database is not reachable just now; try again in a few seconds")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

/// The language a problem's `title` (and its fixed `detail`s) are written in.
/// A language Kenshu writes problems in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, ToSchema)]
pub enum Language {
    #[default]
    #[serde(rename = "en")]
    English,
    /// 日本語
    #[serde(rename = "ja")]
    Japanese,
}

impl Language {
    pub fn parse(code: &str) -> Option<Self> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Language::English),
            "ja" => Some(Language::Japanese),
            _ => None,
        }
    }

    /// The language the client's `Accept-Language` asks for, if it names one Kenshu writes
    /// above `*`; otherwise `None` (the organisation's or the service's default then).
    pub fn asked(accept: Option<&str>) -> Option<Language> {
        let mut best: Option<(f32, Option<Language>)> = None;
        for item in accept.unwrap_or_default().split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            let lang = if tag == "*" { Some(None) } else { Language::parse(tag).map(Some) };
            if let Some(lang) = lang.filter(|_| q > 0.0) {
                if best.is_none_or(|(b, _)| q > b) {
                    best = Some((q, lang));
                }
            }
        }
        best.and_then(|(_, l)| l)
    }

    /// The code an organisation's setting stores.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Japanese => "ja",
        }
    }
}

/// What a problem takes from the request it answers: its `instance` (path and request id) and
/// the language to write it in. Set by the request middleware for the whole request; the
/// caller's organisation is learnt later, when the token is resolved.
#[derive(Debug, Clone)]
pub struct ProblemContext {
    pub instance: String,
    /// What the client's `Accept-Language` asks for, if anything Kenshu writes.
    pub asked: Option<Language>,
    /// The service's default (`KENSHU_LANGUAGE`).
    pub service_default: Language,
    /// The caller's organisation's default, once the caller is known.
    pub organisation: std::sync::Arc<std::sync::OnceLock<Language>>,
}

impl ProblemContext {
    /// The client's choice, else their organisation's default, else the service's.
    pub fn language(&self) -> Language {
        self.asked.or_else(|| self.organisation.get().copied()).unwrap_or(self.service_default)
    }
}

/// Once the caller is known: their organisation's default language (`ja`, `en`; none keeps the
/// service's) for the problems of this request.
pub fn organisation_language(code: Option<&str>) {
    if let Some(language) = code.and_then(Language::parse) {
        let _ = PROBLEM_CONTEXT.try_with(|c| c.organisation.set(language));
    }
}

tokio::task_local! {
    pub static PROBLEM_CONTEXT: ProblemContext;
}

/// The Japanese title of each kind of problem.
fn japanese_title(code: &str) -> &'static str {
    match code {
        "unauthorized" => "認証が必要です",
        "not-on-roster" => "職員名簿に登録されていません",
        "forbidden" => "この操作は許可されていません",
        "not-found" => "見つかりません",
        "bad-request" => "リクエストの形式が正しくありません",
        "validation" => "入力内容に誤りがあります",
        "conflict" => "現在の状態と矛盾します",
        "invalid-transition" => "現在の状態ではこの操作はできません",
        "precondition-failed" => "ほかの変更が先に保存されています",
        "precondition-required" => "If-Match が必要です",
        "payload-too-large" => "送信データが大きすぎます",
        "head-too-large" => "リクエストヘッダーが大きすぎます",
        "unsupported-media-type" => "この形式のデータは受け付けません",
        "import-file" => "ファイルを読み取れません",
        "import-rejected" => "ファイルに誤りのある行があります",
        "portal-change-failed" => "ポータルからの変更を反映できません",
        "too-many-requests" => "リクエストが多すぎます",
        "directory-unavailable" => "ポータルの職員情報をすべて読み取れませんでした",
        "unavailable" => "一時的に利用できません",
        _ => "内部エラー",
    }
}

impl ApiError {
    /// The detail in Japanese. Words from outside Kenshu that a detail quotes (a parser's
    /// message, a portal's refusal as received) stay as written inside the Japanese sentence.
    fn japanese_detail(&self) -> String {
        use ApiError::*;
        match self {
            Forbidden => "この操作を行う権限がありません".into(),
            NotFound => "指定されたものは存在しません".into(),
            Validation(errors) => format!("{}項目に誤りがあります", errors.len()),
            PreconditionFailed { .. } => {
                "読み込んだ後に変更されています。読み込み直してから変更してください".into()
            }
            PreconditionRequired => "読み込んだときの ETag を If-Match で送ってください".into(),
            InvalidTransition { state, .. } => format!("現在の状態（{state}）ではこの操作はできません"),
            Conflict(words)
            | Unauthorized(words)
            | NotOnRoster(words)
            | BadRequest(words)
            | PayloadTooLarge(words)
            | UnsupportedMediaType(words)
            | ImportFile(words)
            | DirectoryUnavailable(words) => words.ja.to_string(),
            HeadTooLarge(limit) => format!("リクエストのヘッダーが {limit} バイトを超えています"),
            PortalChangeFailed { id, reason } => {
                format!("{reason}（{id} として受信済みです。研修担当が修正して再適用できます）")
            }
            ImportRejected(rows) => format!(
                "{}行に誤りがあります。何も書き込んでいません",
                rows.iter().map(|e| e.line).collect::<std::collections::BTreeSet<_>>().len()
            ),
            TooManyRequests { retry_after, .. } => format!("{retry_after}秒後にもう一度お試しください"),
            Unavailable => "データベースに接続できません。数秒後にもう一度お試しください".into(),
            Internal(_) => "サーバー側で問題が発生しました".into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Authentication required"),
            NotOnRoster(_) => (StatusCode::UNAUTHORIZED, "not-on-roster", "Not on the roster"),
            Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
            NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "The request is malformed"),
            Validation(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "validation", "The request has invalid fields")
            }
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict with the current state"),
            InvalidTransition { .. } => {
                (StatusCode::CONFLICT, "invalid-transition", "Not possible in the current state")
            }
            PreconditionFailed { .. } => {
                (StatusCode::PRECONDITION_FAILED, "precondition-failed", "The resource has changed")
            }
            PreconditionRequired => {
                (StatusCode::PRECONDITION_REQUIRED, "precondition-required", "If-Match required")
            }
            PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "The request body is too large")
            }
            HeadTooLarge(_) => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "head-too-large",
                "The request head is too large",
            ),
            UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported content type")
            }
            ImportFile(_) => (StatusCode::UNPROCESSABLE_ENTITY, "import-file", "The file cannot be read"),
            ImportRejected(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "import-rejected", "The file has invalid rows")
            }
            PortalChangeFailed { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "portal-change-failed",
                "The form's change cannot be applied",
            ),
            TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too-many-requests", "Too many requests")
            }
            DirectoryUnavailable(_) => (
                StatusCode::BAD_GATEWAY,
                "directory-unavailable",
                "The portal's directory could not be read whole",
            ),
            Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable"),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.parts();
        let context = PROBLEM_CONTEXT.try_with(Clone::clone).ok();
        let japanese = context.as_ref().is_some_and(|c| c.language() == Language::Japanese);
        let detail = match (japanese.then(|| self.japanese_detail()), self) {
            (Some(japanese), _) => Some(japanese),
            // Internal details stay in the log.
            (None, ApiError::Internal(_)) => Some("something went wrong on our side".to_string()),
            (None, other) => Some(other.to_string()),
        };
        Problem {
            kind: format!("urn:kenshu:problem:{code}"),
            title: if japanese { japanese_title(code) } else { title }.to_string(),
            status: status.as_u16(),
            detail,
            code: code.to_string(),
            errors: match self {
                ApiError::Validation(errors) => Some(
                    errors
                        .iter()
                        .map(|e| FieldErrorDto {
                            field: e.field.clone(),
                            code: e.code,
                            reason: reason(e.code, &e.reason),
                        })
                        .collect(),
                ),
                _ => None,
            },
            rows: match self {
                ApiError::ImportRejected(rows) => Some(rows.iter().map(RowErrorDto::of).collect()),
                _ => None,
            },
            current_version: match self {
                ApiError::PreconditionFailed { current } => Some(*current),
                _ => None,
            },
            current_state: match self {
                ApiError::InvalidTransition { state, .. } => Some(state.clone()),
                _ => None,
            },
            instance: context.map(|c| c.instance),
        }
    }

    pub fn validation(error: FieldError) -> Self {
        ApiError::Validation(vec![error])
    }

    /// A typical error answered with `status`, as the API document shows it: each status its
    /// own example, written by the same code that writes the real ones.
    pub fn example(status: u16) -> Option<ApiError> {
        use ApiError::*;
        Some(match status {
            400 => BadRequest(Words::fixed(
                "unknown query parameter 'sort': this operation takes cursor, limit",
                "クエリパラメーター 'sort' はありません。使えるのは cursor, limit です",
            )),
            401 => Unauthorized(Words::fixed("the token has expired", "トークンの有効期限が切れています")),
            403 => Forbidden,
            404 => NotFound,
            409 => Conflict(Words::fixed("the course is cancelled", "この研修は中止されています")),
            412 => PreconditionFailed { current: 4 },
            413 => PayloadTooLarge(Words::fixed(
                "the file exceeds 10485760 bytes",
                "ファイルが 10485760 バイトを超えています",
            )),
            431 => HeadTooLarge(crate::wire::MAX_HEAD_BYTES),
            415 => UnsupportedMediaType(Words::fixed("send the file as text/csv", "ファイルは text/csv で送ってください")),
            422 => Validation(vec![FieldError::format("kana", "must be written in katakana or hiragana")]),
            428 => PreconditionRequired,
            429 => TooManyRequests { retry_after: 12, what: "requests" },
            500 => Internal(String::new()),
            502 => DirectoryUnavailable(Words::fixed(
                "the portal answered HTTP 503; nothing was changed",
                "ポータルの職員情報を読み取れませんでした（the portal answered HTTP 503）。何も変更していません",
            )),
            503 => Unavailable,
            _ => return None,
        })
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(msg) = self {
            tracing::error!(error = %msg, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        // The title follows Accept-Language.
        res.insert_header((header::VARY, "Accept-Language"));
        if let ApiError::Unauthorized(_) | ApiError::NotOnRoster(_) = self {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let ApiError::TooManyRequests { retry_after, .. } = self {
            res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        if let ApiError::Unavailable = self {
            // The pool reconnects by itself; a client may try again shortly.
            res.insert_header((header::RETRY_AFTER, "2"));
        }
        res.body(serde_json::to_string(&self.problem()).expect("problems serialise"))
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Forbidden => ApiError::Forbidden,
            Denied::NotFound => ApiError::NotFound,
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => ApiError::NotFound,
            RepoError::Forbidden => ApiError::Forbidden,
            RepoError::Stale { current } => ApiError::PreconditionFailed { current },
            RepoError::Conflict(m) => ApiError::Conflict(m),
            RepoError::Invalid(errors) => ApiError::Validation(errors),
            RepoError::Transition { state, message } => ApiError::InvalidTransition { state, message },
            RepoError::Db(e) => e.into(),
        }
    }
}

impl From<kenshu_persistence::DbErr> for ApiError {
    fn from(e: kenshu_persistence::DbErr) -> Self {
        if kenshu_persistence::unavailable(&e) {
            // The kind of failure only: a statement's text can carry personal data.
            tracing::warn!(error = %e.to_string().split(':').next().unwrap_or_default(), "database unavailable");
            ApiError::Unavailable
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        for (field, errs) in errors.field_errors() {
            for e in errs {
                let reason = e.message.as_ref().map(|m| m.to_string()).unwrap_or_else(|| e.code.to_string());
                let code = match e.code.as_ref() {
                    "length" => FieldCode::Length,
                    "range" => FieldCode::Range,
                    "required" => FieldCode::Required,
                    _ => FieldCode::Format,
                };
                out.push(FieldError::new(field.to_string(), code, reason));
            }
        }
        ApiError::Validation(out)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Errors actix raises before a handler runs (bad JSON, bad query, unknown route).
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => ApiError::PayloadTooLarge(Words::fixed(
            "the JSON body exceeds the size limit",
            "JSON の本文が上限を超えています",
        )),
        J::ContentType => ApiError::UnsupportedMediaType(Words::fixed(
            "send the body as application/json",
            "本文は application/json で送ってください",
        )),
        J::Deserialize(e) if e.is_data() => {
            ApiError::Validation(vec![FieldError::format("body", e.to_string())])
        }
        J::Deserialize(e) => not_json(&e),
        other => {
            ApiError::BadRequest(Words::new(other.to_string(), format!("本文を読み取れません（{other}）")))
        }
    }
}

pub fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    ApiError::BadRequest(Words::new(
        format!("invalid query parameters: {err}"),
        format!("クエリパラメーターが正しくありません（{err}）"),
    ))
}

/// A body that is not JSON at all (a body that is JSON of the wrong shape is a 422).
pub fn not_json(e: &serde_json::Error) -> ApiError {
    ApiError::BadRequest(Words::new(
        format!("the body is not valid JSON: {e}"),
        format!("本文が正しい JSON ではありません（{e}）"),
    ))
}

/// A path segment that does not parse (say, an id that is not a UUID) names nothing that exists.
pub fn path_error(_: actix_web::error::PathError) -> ApiError {
    ApiError::NotFound
}

pub fn header_value(res: &HttpResponse, name: header::HeaderName) -> Option<String> {
    res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

#[cfg(test)]
mod language_tests {
    use super::Language::{self, English, Japanese};

    #[test]
    fn accept_language_picks_the_highest_weight_kenshu_writes() {
        let n = |h: Option<&str>, d: Language| Language::asked(h).unwrap_or(d);
        assert_eq!(n(None, English), English);
        assert_eq!(n(None, Japanese), Japanese);
        assert_eq!(n(Some("ja"), English), Japanese);
        assert_eq!(n(Some("ja-JP,ja;q=0.9,en;q=0.8"), English), Japanese);
        assert_eq!(n(Some("en-US,ja;q=0.5"), Japanese), English);
        assert_eq!(n(Some("fr, de;q=0.9"), Japanese), Japanese, "nothing Kenshu writes: the default");
        assert_eq!(n(Some("fr, *;q=0.5"), English), English);
        assert_eq!(n(Some("ja;q=0, en;q=0.1"), Japanese), English, "q=0 means not this one");
        assert_eq!(n(Some("en;q=0.5, ja;q=0.5"), Japanese), English, "the first of equals");
        assert_eq!(n(Some(";;,q=;"), English), English);
    }
}

#[cfg(test)]
mod japanese_tests {
    use super::ApiError;

    /// Each status's example (one of every kind the API document shows) has a Japanese detail
    /// that is not its English one.
    #[test]
    fn every_example_has_a_japanese_detail() {
        let mut seen = 0;
        for status in 400..=599 {
            let Some(e) = ApiError::example(status) else { continue };
            let ja = e.japanese_detail();
            assert!(
                ja.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}')),
                "{status}: {ja}"
            );
            assert_ne!(ja, e.to_string(), "{status}");
            seen += 1;
        }
        assert!(seen >= 14, "{seen}");
    }
}
