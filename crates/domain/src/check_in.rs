//! Self check-in (出席登録): the training office shows a code that changes every minute, as text
//! and as a QR image; a trainee enters or scans it on their phone during the session window.
//! The code is an HMAC of the session and the minute under a secret kept per session, so a code
//! is good for one session and about one minute only.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::absence::SessionWindow;
use crate::attendance::{AttendanceEntry, AttendanceStatus};

/// How long one code is shown.
pub const CODE_SECONDS: i64 = 60;

/// Trainees may check in from this long before the start (受付開始) until the end.
pub const OPENS_BEFORE_START: Duration = Duration::minutes(30);

/// Digits in a code.
const DIGITS: u32 = 6;

fn period(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(CODE_SECONDS)
}

/// The code for `session_id` in the minute holding `at`.
pub fn code_at(secret: &[u8], session_id: Uuid, at: DateTime<Utc>) -> String {
    code_of_period(secret, session_id, period(at))
}

fn code_of_period(secret: &[u8], session_id: Uuid, period: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(session_id.as_bytes());
    mac.update(&period.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // Dynamic truncation as in RFC 4226.
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:0width$}", bin % 10u32.pow(DIGITS), width = DIGITS as usize)
}

/// When the code shown at `at` stops being shown.
pub fn shown_until(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp((period(at) + 1) * CODE_SECONDS, 0).expect("in range")
}

/// Why a check-in is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CheckInError {
    #[error("check-in opens 30 minutes before the session starts ({opens_at})")]
    NotYet { opens_at: DateTime<Utc> },
    #[error("the session has ended; check-in is closed")]
    Ended,
    #[error("the code has expired; enter the code shown now")]
    Expired,
    #[error("the code is not this session's current code")]
    Wrong,
}

impl CheckInError {
    /// What it says, in both languages Kenshu writes.
    pub fn words(&self) -> crate::Words {
        let ja = match self {
            CheckInError::NotYet { opens_at } => format!(
                "出席登録は開始30分前（{}）からです",
                opens_at.with_timezone(&crate::calendar::jst()).format("%H:%M")
            ),
            CheckInError::Ended => "研修は終了しました。出席登録は締め切られています".into(),
            CheckInError::Expired => {
                "コードの有効期限が切れました。いま表示されているコードを入力してください".into()
            }
            CheckInError::Wrong => "この日程の現在のコードではありません".into(),
        };
        crate::Words::new(self.to_string(), ja)
    }
}

/// Whether check-in is possible at `now`: from 30 minutes before the start to the end.
pub fn within_window(session: SessionWindow, now: DateTime<Utc>) -> Result<(), CheckInError> {
    let opens_at = session.starts_at - OPENS_BEFORE_START;
    if now < opens_at {
        return Err(CheckInError::NotYet { opens_at });
    }
    if now > session.ends_at {
        return Err(CheckInError::Ended);
    }
    Ok(())
}

/// Check `code` at `now`: the code shown now, or the one shown the minute before (entered just
/// as the screen changed). Codes of a few minutes before are `Expired`; anything else is `Wrong`
/// (including another session's code, which comes from another secret).
pub fn verify(secret: &[u8], session_id: Uuid, code: &str, now: DateTime<Utc>) -> Result<(), CheckInError> {
    let code: String = crate::text::normalize(code).chars().filter(|c| !c.is_whitespace()).collect();
    let current = period(now);
    if (current - 1..=current).any(|p| constant_time_eq(&code_of_period(secret, session_id, p), &code)) {
        return Ok(());
    }
    if (current - 10..current - 1).any(|p| constant_time_eq(&code_of_period(secret, session_id, p), &code)) {
        return Err(CheckInError::Expired);
    }
    Err(CheckInError::Wrong)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a check-in at `now` records: present when on time, late (with the arrival) after the
/// start.
pub fn entry_at(session: SessionWindow, now: DateTime<Utc>) -> AttendanceEntry {
    let status = if now > session.starts_at { AttendanceStatus::Late } else { AttendanceStatus::Present };
    AttendanceEntry { status, arrived_at: Some(now), left_at: None }
}

/// What the QR image holds: the session and the code, for the mobile client to post.
pub fn qr_text(session_id: Uuid, code: &str) -> String {
    format!("kenshu:check-in?session_id={session_id}&code={code}")
}

/// `text` as a QR code in SVG, one path of unit squares with a four-module quiet zone.
pub fn qr_svg(text: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).expect("a check-in text fits a QR code");
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#FFFFFF\"/><path d=\"{path}\" fill=\"#000000\"/></svg>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 7, 12, h, m, s).unwrap()
    }

    fn session() -> SessionWindow {
        // 09:00–17:00 Japan time.
        SessionWindow { starts_at: t(0, 0, 0), ends_at: t(8, 0, 0) }
    }

    #[test]
    fn a_code_changes_every_minute_and_belongs_to_one_session() {
        let s = Uuid::from_u128(1);
        let code = code_at(SECRET, s, t(0, 5, 0));
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(code, code_at(SECRET, s, t(0, 5, 59)), "the same within the minute");
        assert_ne!(code, code_at(SECRET, s, t(0, 6, 0)), "a new one the next minute");
        assert_ne!(code, code_at(SECRET, Uuid::from_u128(2), t(0, 5, 0)), "another session's");
        assert_eq!(shown_until(t(0, 5, 17)), t(0, 6, 0));
    }

    #[test]
    fn the_current_and_previous_codes_pass_older_ones_have_expired() {
        let s = Uuid::from_u128(1);
        let shown = code_at(SECRET, s, t(0, 5, 50));
        assert_eq!(verify(SECRET, s, &shown, t(0, 5, 55)), Ok(()));
        assert_eq!(verify(SECRET, s, &shown, t(0, 6, 5)), Ok(()), "entered as the screen changed");
        assert_eq!(verify(SECRET, s, &format!(" {shown} "), t(0, 6, 5)), Ok(()));
        assert_eq!(verify(SECRET, s, &shown, t(0, 7, 1)), Err(CheckInError::Expired));
        assert_eq!(verify(SECRET, s, "000000x", t(0, 5, 55)), Err(CheckInError::Wrong));
        let other = code_at(b"another session's secret........", Uuid::from_u128(2), t(0, 5, 50));
        if other != shown {
            assert_eq!(verify(SECRET, s, &other, t(0, 5, 55)), Err(CheckInError::Wrong));
        }
        // Full-width digits typed on a phone read the same.
        let wide: String =
            shown.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()).collect();
        assert_eq!(verify(SECRET, s, &wide, t(0, 5, 55)), Ok(()));
    }

    #[test]
    fn check_in_runs_from_half_an_hour_before_the_start_to_the_end_and_is_late_after_the_start() {
        let w = session();
        assert_eq!(
            within_window(w, t(23, 29, 0) - Duration::days(1)),
            Err(CheckInError::NotYet { opens_at: t(23, 30, 0) - Duration::days(1) })
        );
        assert_eq!(within_window(w, t(23, 30, 0) - Duration::days(1)), Ok(()));
        assert_eq!(within_window(w, t(8, 0, 0)), Ok(()));
        assert_eq!(within_window(w, t(8, 0, 1)), Err(CheckInError::Ended));
        assert_eq!(entry_at(w, t(0, 0, 0)).status, AttendanceStatus::Present, "on the minute is on time");
        let late = entry_at(w, t(0, 12, 0));
        assert_eq!((late.status, late.arrived_at), (AttendanceStatus::Late, Some(t(0, 12, 0))));
        assert!(late.validate(w, "").is_ok(), "what check-in records passes the sheet's rules");
    }

    #[test]
    fn the_qr_image_is_an_svg_of_the_session_and_code() {
        let text = qr_text(Uuid::from_u128(1), "123456");
        assert_eq!(text, "kenshu:check-in?session_id=00000000-0000-0000-0000-000000000001&code=123456");
        let svg = qr_svg(&text);
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.matches("h1v1h-1z").count() > 100, "has modules");
    }
}
