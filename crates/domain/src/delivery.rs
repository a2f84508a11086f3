//! 配信: how notices reach people outside the service. An organisation's training office sets
//! up channels (outbound webhooks, the desknet's NEO portal); each notice a channel takes is one
//! delivery, tried until the receiver takes it, with growing pauses between tries, and given up
//! after the last one (the training office sees it and may deliver it again). A receiver knows a
//! notice by its id, so a second try of the same notice is never a second message.
//!
//! Here are the rules: what each receiver's answer means, when to try again, which notices a
//! channel takes, how a webhook is signed and what the portal app is given. Sending is IO and
//! lives with the API.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::notice::NoticeKind;

/// How a channel reaches people.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A signed JSON POST to an endpoint the organisation runs.
    Webhook,
    /// A record in an AppSuite app of desknet's NEO, which staff see in the portal.
    Portal,
    /// E-mail over SMTP to the recipient's address on the roster.
    Mail,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] = [Self::Webhook, Self::Portal, Self::Mail];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Portal => "portal",
            Self::Mail => "mail",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where one delivery stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next try.
    Pending,
    /// The receiver took it.
    Delivered,
    /// Given up: refused, or no answer after the last try. Delivered again only by hand.
    Failed,
    /// Not for this channel: the recipient cannot be reached on it (no portal login id).
    Skipped,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 4] = [Self::Pending, Self::Delivered, Self::Failed, Self::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What one try came to, with the receiver's answer in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(String),
    /// Worth another try; `after` is how long the receiver asked to wait (a 429).
    Retry {
        answer: String,
        after: Option<Duration>,
    },
    /// Refused as it is: trying again the same way will not help.
    Failed(String),
    Skipped(String),
}

impl Outcome {
    pub fn answer(&self) -> &str {
        match self {
            Self::Delivered(a) | Self::Failed(a) | Self::Skipped(a) | Self::Retry { answer: a, .. } => a,
        }
    }

    /// The name the attempt log keeps.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Delivered(_) => "delivered",
            Self::Retry { .. } => "retry",
            Self::Failed(_) => "failed",
            Self::Skipped(_) => "skipped",
        }
    }
}

/// Tries before a delivery is given up: the pauses double from a minute, about four hours in all.
pub const MAX_ATTEMPTS: i32 = 8;
const FIRST_PAUSE_SECS: i64 = 60;

/// A delivery after its `attempts`-th try came to `outcome` at `at`: its state and next try.
pub fn settle(outcome: &Outcome, attempts: i32, at: DateTime<Utc>) -> (DeliveryState, Option<DateTime<Utc>>) {
    match outcome {
        Outcome::Delivered(_) => (DeliveryState::Delivered, None),
        Outcome::Failed(_) => (DeliveryState::Failed, None),
        Outcome::Skipped(_) => (DeliveryState::Skipped, None),
        Outcome::Retry { .. } if attempts >= MAX_ATTEMPTS => (DeliveryState::Failed, None),
        Outcome::Retry { after, .. } => {
            let pause = after.unwrap_or_else(|| {
                Duration::seconds(FIRST_PAUSE_SECS << (attempts - 1).clamp(0, MAX_ATTEMPTS))
            });
            (DeliveryState::Pending, Some(at + pause))
        }
    }
}

/// Which notices a channel takes: those of its kinds (all when none are named), never those that
/// wait for a head's digest.
pub fn wants(kinds: &[NoticeKind], kind: NoticeKind, digest: bool) -> bool {
    !digest && (kinds.is_empty() || kinds.contains(&kind))
}

fn line(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// A webhook receiver's answer: 2xx took it; a timeout, 429 or 5xx is worth another try; any
/// other answer is a refusal.
pub fn webhook_outcome(status: u16, retry_after: Option<Duration>) -> Outcome {
    let answer = format!("HTTP {status}");
    match status {
        200..=299 => Outcome::Delivered(answer),
        408 | 425 | 429 | 500..=599 => Outcome::Retry { answer, after: retry_after },
        _ => Outcome::Failed(answer),
    }
}

/// How long the portal turns requests away once more than ten wait (its documented 429).
pub const PORTAL_BUSY: Duration = Duration::seconds(10);

/// The AppSuite API's answer: `status: ok` took it; `ng` is a refusal kept with its error number
/// and message; 429 means the portal's queue is full, so wait ten seconds; a 5xx is worth
/// another try.
pub fn portal_outcome(status: u16, body: &str) -> Outcome {
    if status == 429 {
        return Outcome::Retry { answer: "HTTP 429: the portal is busy".into(), after: Some(PORTAL_BUSY) };
    }
    if status >= 500 {
        return Outcome::Retry { answer: format!("HTTP {status}"), after: None };
    }
    let reply: Option<serde_json::Value> = serde_json::from_str(body).ok();
    match reply.as_ref().and_then(|r| r.get("status")).and_then(|s| s.as_str()) {
        Some("ok") if status == 200 => Outcome::Delivered("ok".into()),
        Some("ng") => {
            let r = reply.as_ref().expect("parsed");
            let no = r.get("errorno").map(|n| n.to_string()).unwrap_or_default();
            let message = r.get("errormessage").and_then(|m| m.as_str()).unwrap_or("");
            let extra =
                r.get("errmsgadd").and_then(|m| m.as_str()).map(|a| format!(" ({a})")).unwrap_or_default();
            Outcome::Failed(line(&format!("ng errorno={no}: {message}{extra}")))
        }
        _ => Outcome::Failed(line(&format!("HTTP {status}: not an AppSuite reply"))),
    }
}

/// A receiver's address: `https://host/…`, or `http://` only on this machine (a stand-in, a
/// relay beside the service): notices carry personal data and are never sent in clear over a
/// network.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .map(|r| (r, true))
        .or_else(|| url.strip_prefix("http://").map(|r| (r, false)));
    let Some((rest, tls)) = rest else { return Err("must start with https://".into()) };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    if host.is_empty() || url.len() > 500 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be an absolute URL of at most 500 characters".into());
    }
    if !tls && !is_loopback(host) {
        return Err("must start with https:// (http:// only for this machine)".into());
    }
    Ok(())
}

/// Whether `host` is this machine: a relay or stand-in beside the service may be reached
/// without TLS.
pub fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]")
}

/// The header a webhook carries its signatures in: `t=<unix seconds>,v1=<hex>[,v1=<hex>]`.
pub const SIGNATURE_HEADER: &str = "Kenshu-Signature";

fn hmac_hex(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Stripe's scheme: HMAC-SHA256 of `"{timestamp}.{body}"`, one `v1` per valid secret (two while
/// a secret is being rotated, so a receiver with either verifies).
pub fn signature_header(secrets: &[&[u8]], timestamp: i64, body: &[u8]) -> String {
    let mut out = format!("t={timestamp}");
    for s in secrets {
        out.push_str(",v1=");
        out.push_str(&hmac_hex(s, timestamp, body));
    }
    out
}

/// A receiver's check: one `v1` matches `secret`, and the timestamp is within `tolerance_secs`
/// of `now` (a replayed old delivery fails).
pub fn verify_signature(secret: &[u8], header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let Some(t) = timestamp else { return false };
    if (now - t).abs() > tolerance_secs {
        return false;
    }
    let expected = hmac_hex(secret, t, body);
    // Compared in constant time: every byte, whatever the first difference.
    signatures.iter().any(|s| {
        s.len() == expected.len()
            && s.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

/// The parts (部品) of the AppSuite app notices are written into, as its settings name them.
pub const PORTAL_PARTS: [&str; 8] =
    ["通知ID", "宛先ログインID", "宛先職員番号", "宛先氏名", "種別", "件名", "本文", "通知日時"];

/// One notice as an AppSuite record: part name → `{"value": …}`.
#[allow(clippy::too_many_arguments)]
pub fn portal_record(
    notice_id: uuid::Uuid,
    login_id: &str,
    employee_no: &str,
    name: &str,
    kind: NoticeKind,
    subject: &str,
    text: &str,
    at: DateTime<Utc>,
) -> serde_json::Value {
    let at = at.with_timezone(&crate::calendar::jst()).format("%Y/%m/%d %H:%M").to_string();
    let values = [
        notice_id.to_string(),
        login_id.into(),
        employee_no.into(),
        name.into(),
        kind.as_str().into(),
        subject.into(),
        text.into(),
        at,
    ];
    serde_json::Value::Object(
        PORTAL_PARTS
            .iter()
            .zip(values)
            .map(|(k, v)| (k.to_string(), serde_json::json!({"value": v})))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 7, 12, 0, 0, 0).unwrap()
    }

    #[test]
    fn pauses_double_from_a_minute_and_the_last_try_gives_up() {
        let retry = Outcome::Retry { answer: "HTTP 503".into(), after: None };
        let pauses: Vec<i64> =
            (1..MAX_ATTEMPTS).map(|n| (settle(&retry, n, at()).1.unwrap() - at()).num_seconds()).collect();
        assert_eq!(pauses, vec![60, 120, 240, 480, 960, 1920, 3840]);
        assert_eq!(settle(&retry, MAX_ATTEMPTS, at()), (DeliveryState::Failed, None));
        // A receiver that says how long to wait is believed.
        let busy = Outcome::Retry { answer: "HTTP 429".into(), after: Some(PORTAL_BUSY) };
        assert_eq!(settle(&busy, 3, at()).1, Some(at() + Duration::seconds(10)));
        assert_eq!(settle(&Outcome::Delivered("ok".into()), 1, at()), (DeliveryState::Delivered, None));
    }

    #[test]
    fn webhook_answers_are_taken_retried_or_refused() {
        assert_eq!(webhook_outcome(204, None), Outcome::Delivered("HTTP 204".into()));
        assert_eq!(webhook_outcome(503, None).name(), "retry");
        assert_eq!(webhook_outcome(429, None).name(), "retry");
        assert_eq!(webhook_outcome(410, None), Outcome::Failed("HTTP 410".into()));
        assert_eq!(webhook_outcome(301, None).name(), "failed");
    }

    #[test]
    fn portal_replies_follow_the_appsuite_api() {
        assert_eq!(portal_outcome(200, r#"{"status":"ok","id":"12"}"#), Outcome::Delivered("ok".into()));
        let ng = portal_outcome(
            200,
            r#"{"status":"ng","errorno":-10,"errormessage":"部品が見つかりません","errmsgadd":"{{件名}}"}"#,
        );
        assert_eq!(ng, Outcome::Failed("ng errorno=-10: 部品が見つかりません ({{件名}})".into()));
        assert_eq!(
            portal_outcome(429, ""),
            Outcome::Retry { answer: "HTTP 429: the portal is busy".into(), after: Some(PORTAL_BUSY) }
        );
        assert_eq!(portal_outcome(502, "").name(), "retry");
        assert_eq!(portal_outcome(200, "<html>").name(), "failed");
    }

    #[test]
    fn a_signature_verifies_with_either_secret_during_a_rotation_and_not_when_stale_or_forged() {
        let body = br#"{"id":"n1"}"#;
        let header = signature_header(&[b"new-secret", b"old-secret"], 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(header.matches("v1=").count(), 2);
        assert!(verify_signature(b"new-secret", &header, body, 1_700_000_100, 300));
        assert!(verify_signature(b"old-secret", &header, body, 1_700_000_100, 300));
        assert!(!verify_signature(b"other", &header, body, 1_700_000_100, 300));
        assert!(!verify_signature(b"new-secret", &header, br#"{"id":"n2"}"#, 1_700_000_100, 300));
        assert!(!verify_signature(b"new-secret", &header, body, 1_700_000_301, 300), "too old");
        assert!(!verify_signature(b"new-secret", "v1=abc", body, 1_700_000_000, 300));
    }

    #[test]
    fn receivers_are_reached_over_tls_except_on_this_machine() {
        assert!(check_url("https://hooks.example.jp/kenshu").is_ok());
        assert!(check_url("http://127.0.0.1:8081/hook").is_ok());
        assert!(check_url("http://[::1]:8081/hook").is_ok());
        assert!(check_url("http://hooks.example.jp/kenshu").unwrap_err().contains("https"));
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("https:///path").is_err());
        assert!(check_url("https://a b").is_err());
    }

    #[test]
    fn a_channel_takes_its_kinds_and_never_what_waits_for_a_digest() {
        assert!(wants(&[], NoticeKind::TrainingNotice, false));
        assert!(!wants(&[], NoticeKind::AwaitingConfirmation, true));
        assert!(!wants(&[NoticeKind::Returned], NoticeKind::TrainingNotice, false));
    }

    #[test]
    fn a_portal_record_names_every_part_in_japan_time() {
        let r = portal_record(
            uuid::Uuid::nil(),
            "yamaguchi",
            "10009",
            "山口 裕子",
            NoticeKind::TrainingNotice,
            "【研修通知】接遇研修",
            "本文",
            at(),
        );
        assert_eq!(r["通知日時"]["value"], "2023/07/12 09:00");
        assert_eq!(r["宛先ログインID"]["value"], "yamaguchi");
        assert_eq!(r.as_object().unwrap().len(), PORTAL_PARTS.len());
    }
}
