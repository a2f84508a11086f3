//! 催告・リマインダー: what the service reminds people of by itself, and when. Each reminder
//! has a key that names it once (this trainee, this session; this report, this round of
//! overdue), so it is written once however many times or instances look for it; a reminder
//! found late (the service was down) still goes out, but only the current round of an overdue
//! one. Everything goes out at the organisation's sending hour in Japan time, not at midnight.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::{jst, tokyo_date};

/// An organisation's reminder settings.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderSettings {
    /// Days before a session its trainees are reminded (0: off).
    pub session_days_before: u32,
    /// Days before a report's due day its writer is reminded (0: off).
    pub report_days_before: u32,
    /// An overdue report is reminded of the day after its due day, then every this many days.
    pub overdue_every_days: u32,
    /// Once a report is this many days overdue, the writer's head is told too (once).
    pub escalate_after_days: u32,
    /// The hour (Japan time, 0–23) reminders and heads' daily digests go out.
    pub send_hour: u32,
}

impl Default for ReminderSettings {
    fn default() -> Self {
        Self {
            session_days_before: 3,
            report_days_before: 2,
            overdue_every_days: 7,
            escalate_after_days: 7,
            send_hour: 8,
        }
    }
}

impl ReminderSettings {
    /// Field errors for values out of range.
    pub fn check(&self) -> Vec<crate::FieldError> {
        let mut errors = Vec::new();
        let mut within = |field: &str, v: u32, lo: u32, hi: u32| {
            if !(lo..=hi).contains(&v) {
                errors.push(crate::FieldError::range(field, format!("must be between {lo} and {hi}")));
            }
        };
        within("session_days_before", self.session_days_before, 0, 30);
        within("report_days_before", self.report_days_before, 0, 30);
        within("overdue_every_days", self.overdue_every_days, 1, 90);
        within("escalate_after_days", self.escalate_after_days, 1, 365);
        within("send_hour", self.send_hour, 0, 23);
        errors
    }

    /// The moment `date` reaches the sending hour in Japan.
    pub fn moment(&self, date: NaiveDate) -> DateTime<Utc> {
        let time = NaiveTime::from_hms_opt(self.send_hour.min(23), 0, 0).expect("an hour of the day");
        jst()
            .from_local_datetime(&date.and_time(time))
            .single()
            .expect("Japan has no DST")
            .with_timezone(&Utc)
    }
}

/// A reminder, with the key that names it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reminder {
    /// The session starts in a few days.
    Session { nomination_id: Uuid, session_id: Uuid },
    /// The report is due soon.
    ReportDue { nomination_id: Uuid, due_on: NaiveDate },
    /// The report is overdue: the `round`-th reminder (0 the day after the due day).
    ReportOverdue { nomination_id: Uuid, due_on: NaiveDate, round: u32 },
    /// The report is long overdue: the writer's head is told.
    ReportOverdueToHead { nomination_id: Uuid, due_on: NaiveDate },
}

impl Reminder {
    pub fn key(&self) -> String {
        match self {
            Self::Session { nomination_id, session_id } => format!("session:{nomination_id}:{session_id}"),
            Self::ReportDue { nomination_id, .. } => format!("report_due:{nomination_id}"),
            Self::ReportOverdue { nomination_id, round, .. } => {
                format!("report_overdue:{nomination_id}:{round}")
            }
            Self::ReportOverdueToHead { nomination_id, .. } => format!("report_overdue_head:{nomination_id}"),
        }
    }
}

/// The reminder of a session a trainee holds a place on, if it is time: from the sending hour
/// `session_days_before` days before the session's day until it starts.
pub fn session_reminder(
    s: &ReminderSettings,
    nomination_id: Uuid,
    session_id: Uuid,
    starts_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Option<Reminder> {
    if s.session_days_before == 0 || at >= starts_at {
        return None;
    }
    let from = s.moment(tokyo_date(starts_at) - Duration::days(s.session_days_before.into()));
    (at >= from).then_some(Reminder::Session { nomination_id, session_id })
}

/// Whether the writer of a report is still on the roster (a leaver, 退職者, is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    OnRoster,
    Left,
}

/// The reminders of a report not yet handed in, due on `due_on`, that are due at `at`: before
/// the due day, the current round of overdue, and the head's once it is long overdue. None for a
/// writer who has left the organisation: nobody can still hand it in, and their former head is
/// not asked to chase it; it stays on the lists of reports owed for the training office.
pub fn report_reminders(
    s: &ReminderSettings,
    nomination_id: Uuid,
    due_on: NaiveDate,
    writer: Writer,
    at: DateTime<Utc>,
) -> Vec<Reminder> {
    let mut out = Vec::new();
    if writer == Writer::Left {
        return out;
    }
    let today = tokyo_date(at);
    if s.report_days_before > 0
        && today <= due_on
        && at >= s.moment(due_on - Duration::days(s.report_days_before.into()))
    {
        out.push(Reminder::ReportDue { nomination_id, due_on });
    }
    let first_overdue = due_on + Duration::days(1);
    if at >= s.moment(first_overdue) {
        let days_over = (today - first_overdue).num_days().max(0) as u32;
        // Before the sending hour on a round's first day, the round before it stands.
        let mut round = days_over / s.overdue_every_days.max(1);
        if round > 0
            && at < s.moment(first_overdue + Duration::days((round * s.overdue_every_days.max(1)).into()))
        {
            round -= 1;
        }
        out.push(Reminder::ReportOverdue { nomination_id, due_on, round });
    }
    if at >= s.moment(due_on + Duration::days(s.escalate_after_days.into())) {
        out.push(Reminder::ReportOverdueToHead { nomination_id, due_on });
    }
    out
}

/// The key of the digest of what waits for `recipient` (None: the training office) on `date`.
pub fn digest_key(recipient: Option<Uuid>, date: NaiveDate) -> String {
    match recipient {
        Some(id) => format!("digest:{id}:{date}"),
        None => format!("digest:office:{date}"),
    }
}

/// Whether the day's digests are due: from the sending hour on.
pub fn digest_due(s: &ReminderSettings, at: DateTime<Utc>) -> bool {
    at >= s.moment(tokyo_date(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jst_at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        jst().with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
    }

    fn ids() -> (Uuid, Uuid) {
        (Uuid::from_u128(1), Uuid::from_u128(2))
    }

    #[test]
    fn a_session_is_reminded_from_eight_three_days_before_until_it_starts() {
        let s = ReminderSettings::default();
        let (n, sid) = ids();
        let starts = jst_at(2023, 7, 12, 9, 0);
        assert_eq!(session_reminder(&s, n, sid, starts, jst_at(2023, 7, 9, 7, 59)), None);
        let r = session_reminder(&s, n, sid, starts, jst_at(2023, 7, 9, 8, 0)).unwrap();
        assert_eq!(r.key(), format!("session:{n}:{sid}"));
        // Found late (the service was down): still once, until the session starts.
        assert!(session_reminder(&s, n, sid, starts, jst_at(2023, 7, 12, 8, 59)).is_some());
        assert_eq!(session_reminder(&s, n, sid, starts, starts), None);
        let off = ReminderSettings { session_days_before: 0, ..s };
        assert_eq!(session_reminder(&off, n, sid, starts, jst_at(2023, 7, 11, 9, 0)), None);
    }

    #[test]
    fn a_report_is_reminded_before_the_day_after_then_weekly_and_its_head_after_a_week() {
        let s = ReminderSettings::default();
        let (n, _) = ids();
        let due = NaiveDate::from_ymd_opt(2023, 7, 19).unwrap();
        let keys = |at| {
            report_reminders(&s, n, due, Writer::OnRoster, at).iter().map(Reminder::key).collect::<Vec<_>>()
        };
        assert!(keys(jst_at(2023, 7, 17, 7, 0)).is_empty());
        assert_eq!(keys(jst_at(2023, 7, 17, 8, 0)), vec![format!("report_due:{n}")]);
        assert_eq!(keys(jst_at(2023, 7, 19, 20, 0)), vec![format!("report_due:{n}")]);
        // The day after: the first overdue round; a week later the second, and the head.
        assert_eq!(keys(jst_at(2023, 7, 20, 8, 0)), vec![format!("report_overdue:{n}:0")]);
        assert_eq!(
            keys(jst_at(2023, 7, 26, 9, 0)),
            vec![format!("report_overdue:{n}:0"), format!("report_overdue_head:{n}")]
        );
        assert_eq!(
            keys(jst_at(2023, 7, 27, 7, 0)),
            vec![format!("report_overdue:{n}:0"), format!("report_overdue_head:{n}")]
        );
        assert_eq!(
            keys(jst_at(2023, 7, 27, 8, 0)),
            vec![format!("report_overdue:{n}:1"), format!("report_overdue_head:{n}")]
        );
        assert_eq!(keys(jst_at(2023, 8, 3, 8, 0))[0], format!("report_overdue:{n}:2"));
        // A writer who left: nothing, before the day or long after.
        for at in [jst_at(2023, 7, 17, 8, 0), jst_at(2023, 8, 3, 8, 0)] {
            assert!(report_reminders(&s, n, due, Writer::Left, at).is_empty());
        }
    }

    #[test]
    fn settings_out_of_range_are_named() {
        let bad = ReminderSettings { send_hour: 24, overdue_every_days: 0, ..Default::default() };
        let fields: Vec<String> = bad.check().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["overdue_every_days", "send_hour"]);
        assert!(ReminderSettings::default().check().is_empty());
        assert!(digest_due(&ReminderSettings::default(), jst_at(2023, 7, 12, 8, 0)));
        assert!(!digest_due(&ReminderSettings::default(), jst_at(2023, 7, 12, 7, 59)));
    }
}
