//! The dispatcher: delivers what is due on each organisation's channels. Each run claims due
//! deliveries with a lease (two service instances never send the same one), sends them, one
//! channel at a time in order and channels side by side, and records each answer. The service
//! runs it with its scheduled work (`scheduler`); tests run it on a clock they hold.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use kenshu_domain::delivery::{
    portal_outcome, portal_record, signature_header, webhook_outcome, ChannelKind, DeliveryState, Outcome,
    PORTAL_BUSY, SIGNATURE_HEADER,
};
use kenshu_persistence::entities::{notice, notice_delivery, notification_channel};
use kenshu_persistence::repo::delivery as repo;
use kenshu_persistence::repo::employee::Placed;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::problem::ApiResult;
use crate::routes::notices::NoticeDto;
use crate::secrets;
use crate::state::AppState;

/// How long a run holds what it claimed: longer than a run takes (every try times out in 10 s).
const LEASE_SECS: i64 = 300;
/// At most this many deliveries per run.
const BATCH: u64 = 200;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub claimed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Given back untried: the receiver was busy, or another run took the row.
    pub released: usize,
}

/// Settings of a webhook channel (its secret is kept apart, sealed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookSettings {
    /// Where each notice is POSTed as JSON.
    pub url: String,
}

/// Settings of a desknet's NEO channel (its access key is kept apart, sealed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PortalSettings {
    /// The AppSuite API: `https://…/cgi-bin/dneo/appsr.cgi`.
    pub url: String,
    /// The app notices are written into: its id, or `@` and its identifier.
    pub app: String,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only for a relay on this machine.
    None,
}

/// Settings of a mail channel (its SMTP password is kept apart, sealed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MailSettings {
    /// The SMTP server (submission relay).
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    /// Who logs in to the server; with it, the channel's secret is the password.
    pub username: Option<String>,
    /// The sender, e.g. `研修担当 <kenshu@city.isehara.lg.jp>`.
    pub from: String,
    pub reply_to: Option<String>,
    /// Where notices for the training office as a whole go; without it they are skipped.
    pub office_address: Option<String>,
    /// PEM certificate of a private CA the server's certificate is issued by (besides the
    /// system's roots).
    pub ca_certificate: Option<String>,
}

/// What a webhook receives.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEvent {
    /// The notice's id: receivers deduplicate by it (a retry sends the same id).
    pub id: Uuid,
    /// The notice's kind.
    #[serde(rename = "type")]
    pub kind: kenshu_domain::notice::NoticeKind,
    pub organisation_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub data: NoticeDto,
}

/// Why a notice to someone who has left the organisation since it was written is not sent: their
/// address and portal login are no longer theirs to read.
const LEFT: &str = "the recipient is no longer on the roster (退職)";

/// Deliver what is due now.
pub async fn run_due(state: &AppState) -> ApiResult<RunReport> {
    let at = state.clock.now();
    let txn = state.db.begin_write().await?;
    let claimed = repo::claim_due(&txn, at, at + Duration::seconds(LEASE_SECS), BATCH).await?;
    txn.commit().await?;
    let mut report = RunReport { claimed: claimed.len(), ..Default::default() };
    if claimed.is_empty() {
        return Ok(report);
    }
    let (notices, channels) = repo::context(state.db.conn(), &claimed).await?;
    let mut people: HashMap<Uuid, Placed> = HashMap::new();
    let mut by_org: BTreeMap<Uuid, Vec<notice::Model>> = BTreeMap::new();
    for n in notices.values() {
        by_org.entry(n.org_id).or_default().push(n.clone());
    }
    for (org_id, list) in &by_org {
        people.extend(kenshu_persistence::repo::notice::recipients(state.db.conn(), *org_id, list).await?);
    }
    let mut per_channel: BTreeMap<Uuid, Vec<notice_delivery::Model>> = BTreeMap::new();
    for d in claimed {
        per_channel.entry(d.channel_id).or_default().push(d);
    }
    let runs = per_channel.into_iter().map(|(channel_id, list)| {
        let channel = channels.get(&channel_id).cloned();
        let (notices, people) = (&notices, &people);
        async move { deliver_channel(state, channel, list, notices, people).await }
    });
    for r in futures_util::future::join_all(runs).await {
        let r = r?;
        report.delivered += r.delivered;
        report.retried += r.retried;
        report.failed += r.failed;
        report.skipped += r.skipped;
        report.released += r.released;
    }
    Ok(report)
}

/// One channel's deliveries, one at a time in order: the portal takes one request at a time,
/// and a 429 gives the rest back for ten seconds instead of queueing more.
async fn deliver_channel(
    state: &AppState,
    channel: Option<notification_channel::Model>,
    list: Vec<notice_delivery::Model>,
    notices: &HashMap<Uuid, notice::Model>,
    people: &HashMap<Uuid, Placed>,
) -> ApiResult<RunReport> {
    let mut report = RunReport::default();
    let mut busy_until = None;
    for d in list {
        if let Some(next) = busy_until {
            let txn = state.db.begin_write().await?;
            repo::release(&txn, &d, next).await?;
            txn.commit().await?;
            report.released += 1;
            continue;
        }
        let outcome = match (&channel, notices.get(&d.notice_id)) {
            (Some(c), Some(n)) if c.enabled => send(state, c, n, people).await,
            (Some(_), Some(_)) => Outcome::Skipped("the channel is switched off".into()),
            _ => Outcome::Failed("the notice or channel is gone".into()),
        };
        if let Outcome::Retry { after: Some(after), .. } = &outcome {
            if channel.as_ref().is_some_and(|c| c.kind == ChannelKind::Portal.as_str())
                && *after >= PORTAL_BUSY
            {
                busy_until = Some(state.clock.now() + *after);
            }
        }
        let txn = state.db.begin_write().await?;
        let recorded = repo::record(&txn, &d, &outcome, state.clock.now()).await?;
        txn.commit().await?;
        match (recorded, &outcome) {
            (None, _) => report.released += 1,
            (Some(_), Outcome::Delivered(_)) => report.delivered += 1,
            (Some(row), Outcome::Retry { .. }) if row.state()? == DeliveryState::Pending => {
                report.retried += 1
            }
            (Some(_), Outcome::Retry { .. } | Outcome::Failed(_)) => report.failed += 1,
            (Some(_), Outcome::Skipped(_)) => report.skipped += 1,
        }
    }
    Ok(report)
}

fn secret_of(state: &AppState, sealed: Option<&String>) -> Option<String> {
    let key = state.config.secret_key.as_ref()?;
    secrets::open(key, sealed?)
}

async fn send(
    state: &AppState,
    channel: &notification_channel::Model,
    n: &notice::Model,
    people: &HashMap<Uuid, Placed>,
) -> Outcome {
    let kind = match channel.kind() {
        Ok(k) => k,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    match kind {
        ChannelKind::Webhook => webhook(state, channel, n, people).await,
        ChannelKind::Portal => portal(state, channel, n, people).await,
        ChannelKind::Mail => mail(state, channel, n, people).await,
    }
}

fn settings<T: serde::de::DeserializeOwned>(channel: &notification_channel::Model) -> Result<T, Outcome> {
    serde_json::from_str(&channel.settings)
        .map_err(|e| Outcome::Failed(format!("the channel's settings: {e}")))
}

/// A transport error: no answer at all is worth another try.
fn unanswered(e: reqwest::Error) -> Outcome {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    Outcome::Retry { answer: what.into(), after: None }
}

async fn webhook(
    state: &AppState,
    channel: &notification_channel::Model,
    n: &notice::Model,
    people: &HashMap<Uuid, Placed>,
) -> Outcome {
    let s: WebhookSettings = match settings(channel) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let Some(secret) = secret_of(state, channel.secret.as_ref()) else {
        return Outcome::Failed("the signing secret cannot be opened (KENSHU_SECRET_KEY changed?)".into());
    };
    let mut secrets = vec![secret];
    let at = state.clock.now();
    if channel.previous_secret_until.is_some_and(|until| until > at) {
        secrets.extend(secret_of(state, channel.previous_secret.as_ref()));
    }
    let data = match NoticeDto::of(n, people) {
        Ok(d) => d,
        Err(e) => return Outcome::Failed(format!("the notice cannot be read: {e}")),
    };
    let event =
        WebhookEvent { id: n.id, kind: data.kind, organisation_id: n.org_id, created_at: n.created_at, data };
    let body = serde_json::to_vec(&event).expect("events serialise");
    let timestamp = at.timestamp();
    let keys: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    let res = state
        .http
        .post(&s.url)
        .header("Content-Type", "application/json")
        .header("Kenshu-Event-Id", n.id.to_string())
        .header("Kenshu-Timestamp", timestamp.to_string())
        .header(SIGNATURE_HEADER, signature_header(&keys, timestamp, &body))
        .body(body)
        .send()
        .await;
    match res {
        Ok(r) => {
            let after = r
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
                .map(|s| Duration::seconds(s.clamp(1, 3600)));
            webhook_outcome(r.status().as_u16(), after)
        }
        Err(e) => unanswered(e),
    }
}

async fn portal(
    state: &AppState,
    channel: &notification_channel::Model,
    n: &notice::Model,
    people: &HashMap<Uuid, Placed>,
) -> Outcome {
    let s: PortalSettings = match settings(channel) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let Some(person) = n.recipient_employee_id.and_then(|id| people.get(&id)) else {
        return Outcome::Skipped("for the training office as a whole: no portal user".into());
    };
    if !person.active {
        return Outcome::Skipped(LEFT.into());
    }
    let Some(login) = person.portal_login_id.as_deref() else {
        return Outcome::Skipped("the recipient has no portal login id on the roster".into());
    };
    let Some(key) = secret_of(state, channel.secret.as_ref()) else {
        return Outcome::Failed("the access key cannot be opened (KENSHU_SECRET_KEY changed?)".into());
    };
    let body: kenshu_domain::notice::NoticeBody = match serde_json::from_str(&n.body) {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(format!("the notice cannot be read: {e}")),
    };
    let kind = match n.kind() {
        Ok(k) => k,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let record = portal_record(
        n.id,
        login,
        &person.employee.employee_no,
        &person.employee.name,
        kind,
        &n.subject,
        &body.plain_text(),
        n.created_at,
    );
    let form =
        [("action", "insert_data".to_string()), ("app_id", s.app.clone()), ("data", record.to_string())];
    let res = state.http.post(&s.url).header("X-Desknets-Auth", key).form(&form).send().await;
    match res {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            portal_outcome(status, &text)
        }
        Err(e) => unanswered(e),
    }
}

/// The transport a mail channel's settings describe.
fn smtp(
    s: &MailSettings,
    password: Option<String>,
) -> Result<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>, String> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let tls = || -> Result<TlsParameters, String> {
        let mut b = TlsParameters::builder(s.host.clone());
        if let Some(pem) = &s.ca_certificate {
            b = b.add_root_certificate(
                Certificate::from_pem(pem.as_bytes()).map_err(|e| format!("the CA certificate: {e}"))?,
            );
        }
        b.build_rustls().map_err(|e| format!("TLS: {e}"))
    };
    let mut b = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(&s.host)
        .port(s.port)
        .timeout(Some(std::time::Duration::from_secs(10)));
    b = match s.security {
        MailSecurity::Starttls => b.tls(Tls::Required(tls()?)),
        MailSecurity::Tls => b.tls(Tls::Wrapper(tls()?)),
        MailSecurity::None => b.tls(Tls::None),
    };
    if let Some(user) = &s.username {
        let password = password.ok_or("the SMTP password cannot be opened (KENSHU_SECRET_KEY changed?)")?;
        b = b.credentials(Credentials::new(user.clone(), password));
    }
    Ok(b.build())
}

/// The message for a notice: its subject and plain text, and for a trainee's place its sessions
/// as an invitation (text/calendar; REQUEST or CANCEL). The Message-ID is the notice's, so a
/// second try is the same message.
fn message(
    s: &MailSettings,
    n: &notice::Model,
    to: lettre::message::Mailbox,
    at: DateTime<Utc>,
) -> Result<lettre::Message, String> {
    use lettre::message::{header::ContentType, Attachment, MultiPart, SinglePart};
    let body: kenshu_domain::notice::NoticeBody =
        serde_json::from_str(&n.body).map_err(|e| format!("the notice cannot be read: {e}"))?;
    let from: lettre::message::Mailbox = s.from.parse().map_err(|e| format!("the sender: {e}"))?;
    let mut b = lettre::Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(n.subject.clone())
        .message_id(Some(format!("<{}@kenshu>", n.id)));
    if let Some(r) = &s.reply_to {
        b = b.reply_to(r.parse().map_err(|e| format!("the reply-to address: {e}"))?);
    }
    let text = SinglePart::plain(body.plain_text());
    let trainee = n.recipient_role == kenshu_domain::notice::RecipientRole::Trainee.as_str()
        && n.item_type == kenshu_domain::notice::ItemKind::Nomination.as_str();
    let invite = if trainee { kenshu_domain::ics::invitation(&body, n.item_id, at) } else { None };
    let built = match invite {
        None => b.singlepart(text),
        Some((method, entries)) => {
            let ics = kenshu_domain::ics::calendar(
                &body.title,
                method,
                &entries,
                Some(from.email.as_ref()),
                Some(to.email.as_ref()),
            );
            let kind = if method == kenshu_domain::ics::Method::Cancel { "CANCEL" } else { "REQUEST" };
            let calendar = ContentType::parse(&format!("text/calendar; method={kind}; charset=UTF-8"))
                .expect("a valid content type");
            b.multipart(
                MultiPart::mixed()
                    .singlepart(text)
                    .singlepart(Attachment::new("invite.ics".into()).body(ics, calendar)),
            )
        }
    };
    built.map_err(|e| format!("the message: {e}"))
}

async fn mail(
    state: &AppState,
    channel: &notification_channel::Model,
    n: &notice::Model,
    people: &HashMap<Uuid, Placed>,
) -> Outcome {
    use lettre::AsyncTransport;
    let s: MailSettings = match settings(channel) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let to = match n.recipient_employee_id.and_then(|id| people.get(&id)) {
        Some(person) if !person.active => return Outcome::Skipped(LEFT.into()),
        Some(person) => match &person.email {
            Some(email) => format!("{} <{email}>", person.employee.name),
            None => return Outcome::Skipped("the recipient has no e-mail address on the roster".into()),
        },
        None => match &s.office_address {
            Some(address) => address.clone(),
            None => {
                return Outcome::Skipped(
                    "for the training office: the channel names no office address".into(),
                )
            }
        },
    };
    let to: lettre::message::Mailbox = match to.parse() {
        Ok(m) => m,
        Err(e) => return Outcome::Failed(format!("the recipient's address: {e}")),
    };
    let message = match message(&s, n, to, state.clock.now()) {
        Ok(m) => m,
        Err(e) => return Outcome::Failed(e),
    };
    let transport = match smtp(&s, secret_of(state, channel.secret.as_ref())) {
        Ok(t) => t,
        Err(e) => return Outcome::Failed(e),
    };
    // Each read has its own timeout; a server that trickles is cut off as a whole too.
    let sent = tokio::time::timeout(std::time::Duration::from_secs(60), transport.send(message)).await;
    let Ok(sent) = sent else {
        return Outcome::Retry { answer: "SMTP: no answer in time".into(), after: None };
    };
    match sent {
        Ok(r) => Outcome::Delivered(
            format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")).chars().take(300).collect(),
        ),
        Err(e) if e.is_permanent() => Outcome::Failed(format!("SMTP: {e}").chars().take(300).collect()),
        Err(e) => Outcome::Retry { answer: format!("SMTP: {e}").chars().take(300).collect(), after: None },
    }
}
