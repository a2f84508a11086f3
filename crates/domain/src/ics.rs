//! iCalendar (RFC 5545): sessions as calendar entries, for mail invitations (RFC 5546: REQUEST
//! when a place is given or moved, CANCEL when it goes) and for the calendar feeds staff
//! subscribe to. An entry's UID stays the same for the same place on the same session; its
//! SEQUENCE is the session's version, so every change rises above the last; times are in
//! Asia/Tokyo with its VTIMEZONE.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus};
use uuid::Uuid;

use crate::calendar::jst;

/// Japan keeps one offset all year; calendars that do not know the zone by name use this.
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nTZNAME:JST\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// What a calendar is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A feed to subscribe to.
    Publish,
    /// An invitation: add or update these entries.
    Request,
    /// Remove these entries.
    Cancel,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "PUBLISH",
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

/// One session as a calendar entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub uid: String,
    pub sequence: u32,
    pub summary: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The venue, or the online URL.
    pub location: Option<String>,
    pub description: String,
    pub cancelled: bool,
    /// When it last changed (DTSTAMP).
    pub stamp: DateTime<Utc>,
}

/// The UID of a trainee's place on a session: the same in invitations and feeds.
pub fn place_uid(session_id: Uuid, nomination_id: Uuid) -> String {
    format!("{session_id}.{nomination_id}@kenshu")
}

/// The UID of a session itself (a course's feed).
pub fn session_uid(session_id: Uuid) -> String {
    format!("{session_id}@kenshu")
}

/// SHA-256, hex: what a feed's token is kept as (the token itself is shown once), and a feed's
/// ETag.
pub fn sha256_hex(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// What the entry's description says besides the notice's own words: when to gather.
pub fn gather_note(starts_at: DateTime<Utc>) -> String {
    let gather = (starts_at - chrono::Duration::minutes(10)).with_timezone(&jst()).format("%H:%M");
    format!("集合: {gather}（講義開始の10分前）")
}

fn tokyo(t: DateTime<Utc>) -> CalendarDateTime {
    CalendarDateTime::WithTimezone {
        date_time: t.with_timezone(&jst()).naive_local(),
        tzid: "Asia/Tokyo".into(),
    }
}

/// A calendar named `name` of `entries`, for `method`. An invitation names its organizer and
/// attendee (RFC 5546) when given.
pub fn calendar(
    name: &str,
    method: Method,
    entries: &[Entry],
    organizer: Option<&str>,
    attendee: Option<&str>,
) -> String {
    let mut cal = Calendar::new();
    cal.name(name);
    cal.append_property(icalendar::Property::new("METHOD", method.as_str()));
    cal.append_property(icalendar::Property::new("X-WR-TIMEZONE", "Asia/Tokyo"));
    for e in entries {
        let mut ev = Event::new();
        ev.uid(&e.uid)
            .sequence(e.sequence)
            .summary(&e.summary)
            .description(&e.description)
            .timestamp(e.stamp)
            .starts(tokyo(e.starts_at))
            .ends(tokyo(e.ends_at))
            .status(if e.cancelled || method == Method::Cancel {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
        if let Some(l) = &e.location {
            ev.location(l);
        }
        if let Some(o) = organizer {
            ev.add_property("ORGANIZER", format!("mailto:{o}"));
        }
        if let Some(a) = attendee {
            ev.add_property("ATTENDEE", format!("mailto:{a}"));
        }
        cal.push(ev.done());
    }
    // The zone goes in as written: a component built through the crate would get a UID and a
    // DTSTAMP, which a VTIMEZONE has not (and which would change the feed's ETag every time).
    let text = cal.done().to_string();
    let at = text.find("BEGIN:VEVENT").or_else(|| text.rfind("END:VCALENDAR")).expect("a calendar ends");
    format!("{}{VTIMEZONE}{}", &text[..at], &text[at..])
}

/// The calendar a trainee's notice carries, if any: a place given or moved invites to its
/// sessions (REQUEST); a place or course cancelled, or one session cancelled, removes them
/// (CANCEL, one SEQUENCE above the session's last). Heads' copies carry none.
pub fn invitation(
    body: &crate::notice::NoticeBody,
    nomination_id: Uuid,
    stamp: DateTime<Utc>,
) -> Option<(Method, Vec<Entry>)> {
    use crate::notice::NoticeKind as K;
    let (method, sessions): (Method, Vec<&crate::notice::NoticeSession>) = match body.kind {
        K::TrainingNotice | K::PlaceGiven | K::SessionChanged => {
            (Method::Request, body.sessions.iter().collect())
        }
        K::CourseCancelled | K::PlaceCancelled => (Method::Cancel, body.sessions.iter().collect()),
        K::SessionCancelled => (Method::Cancel, body.previous.iter().collect()),
        _ => return None,
    };
    let bump = u32::from(method == Method::Cancel);
    let entries: Vec<Entry> = sessions
        .into_iter()
        .filter_map(|s| {
            let id = s.id?;
            let starts_at = DateTime::parse_from_rfc3339(&s.starts_at).ok()?.with_timezone(&Utc);
            let ends_at = DateTime::parse_from_rfc3339(&s.ends_at).ok()?.with_timezone(&Utc);
            Some(Entry {
                uid: place_uid(id, nomination_id),
                sequence: s.sequence.unwrap_or(1).max(0) as u32 + bump,
                summary: body.title.clone(),
                starts_at,
                ends_at,
                location: s.venue.clone().or_else(|| s.online_url.clone()),
                description: format!("{}\n{}", body.message, gather_note(starts_at)),
                cancelled: method == Method::Cancel,
                stamp,
            })
        })
        .collect();
    (!entries.is_empty()).then_some((method, entries))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::TimeZone;

    use super::*;

    fn entry(cancelled: bool) -> Entry {
        let t = |h| Utc.with_ymd_and_hms(2023, 7, 12, h, 0, 0).unwrap();
        Entry {
            uid: place_uid(Uuid::from_u128(1), Uuid::from_u128(2)),
            sequence: 3,
            summary: "接遇研修".into(),
            starts_at: t(0),
            ends_at: t(8),
            location: Some("本庁舎3階 会議室".into()),
            description: format!("研修の受講者に決定しました。\n{}", gather_note(t(0))),
            cancelled,
            stamp: t(0),
        }
    }

    #[test]
    fn an_invitation_parses_back_with_its_zone_uid_and_sequence() {
        let text = calendar(
            "研修",
            Method::Request,
            &[entry(false)],
            Some("kenshu@city.example.jp"),
            Some("taro@city.example.jp"),
        );
        assert!(text.contains("METHOD:REQUEST"), "{text}");
        assert!(text.contains("BEGIN:VTIMEZONE") && text.contains("TZOFFSETTO:+0900"));
        assert!(text.contains("DTSTART;TZID=Asia/Tokyo:20230712T090000"), "{text}");
        let parsed = Calendar::from_str(&text).unwrap();
        let ev = parsed.events().next().unwrap();
        assert_eq!(
            ev.get_uid(),
            Some("00000000-0000-0000-0000-000000000001.00000000-0000-0000-0000-000000000002@kenshu")
        );
        assert_eq!(ev.get_sequence(), Some(3));
        assert_eq!(ev.get_location(), Some("本庁舎3階 会議室"));
        assert!(ev.get_description().unwrap().contains("集合: 08:50"));
        assert_eq!(ev.get_status(), Some(EventStatus::Confirmed));
    }

    #[test]
    fn the_same_entries_give_the_same_calendar() {
        let a = calendar("研修", Method::Publish, &[entry(false)], None, None);
        assert_eq!(a, calendar("研修", Method::Publish, &[entry(false)], None, None));
    }

    #[test]
    fn a_cancellation_keeps_the_uid_and_says_cancelled() {
        let text = calendar("研修", Method::Cancel, &[entry(false)], None, None);
        let parsed = Calendar::from_str(&text).unwrap();
        let ev = parsed.events().next().unwrap();
        assert_eq!(ev.get_status(), Some(EventStatus::Cancelled));
        assert!(text.contains("METHOD:CANCEL"));
        let feed = calendar("研修", Method::Publish, &[entry(true)], None, None);
        assert_eq!(
            Calendar::from_str(&feed).unwrap().events().next().unwrap().get_status(),
            Some(EventStatus::Cancelled)
        );
    }
}
