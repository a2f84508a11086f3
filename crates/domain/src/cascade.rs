//! What a change to the catalogue carries through to the rest of the year (記載内容については、変更
//! する場合があります): a cancelled course cancels its nominations, more places move the waiting
//! list up, a moved or cancelled session is told to its trainees. Decided here; persistence
//! applies it in the transaction of the change.

use chrono::{DateTime, Utc};

use crate::notice::{Event, NoticeSession};

/// A course as far as its consequences care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CourseState {
    pub cancelled: bool,
    /// 人数: `None` means no limit.
    pub headcount: Option<u32>,
}

/// What a course change carries through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CourseCascade {
    /// Cancel every live nomination (applied, confirmed, waiting, selected, notified) and tell
    /// the trainees and their heads.
    pub cancel_live: bool,
    /// Move the waiting list up into the places now free.
    pub promote: bool,
}

/// More places than before (`None` is no limit).
pub fn raised(before: Option<u32>, after: Option<u32>) -> bool {
    match (before, after) {
        (Some(_), None) => true,
        (Some(b), Some(a)) => a > b,
        (None, _) => false,
    }
}

pub fn course_changed(before: CourseState, after: CourseState) -> CourseCascade {
    if after.cancelled {
        return CourseCascade { cancel_live: !before.cancelled, promote: false };
    }
    CourseCascade { cancel_live: false, promote: raised(before.headcount, after.headcount) }
}

/// A session as far as its consequences care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: Option<String>,
    pub online_url: Option<String>,
    pub capacity: Option<u32>,
}

impl SessionState {
    fn facts(&self) -> NoticeSession {
        NoticeSession::new(self.starts_at, self.ends_at, self.venue.clone(), self.online_url.clone())
    }
}

/// What a session change carries through.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionCascade {
    /// Tell the session's trainees (and their heads) this.
    pub tell: Option<Event>,
    /// Move the waiting list up into the places now free.
    pub promote: bool,
    /// Its time moved: the absence notices written for the old time that are not yet received
    /// lapse (`absence::lapsed`); whoever still cannot come files again for the new time.
    pub lapse_notices: bool,
}

/// A session changed (`after`) or cancelled (`None`). Only what a trainee must act on is told:
/// its time or place; a lecturer or a note is not.
pub fn session_changed(before: &SessionState, after: Option<&SessionState>) -> SessionCascade {
    let Some(after) = after else {
        return SessionCascade {
            tell: Some(Event::SessionCancelled { previous: before.facts() }),
            promote: false,
            lapse_notices: false,
        };
    };
    let retimed = before.starts_at != after.starts_at || before.ends_at != after.ends_at;
    let moved = retimed || before.venue != after.venue || before.online_url != after.online_url;
    SessionCascade {
        tell: moved.then(|| Event::SessionChanged { previous: before.facts() }),
        promote: raised(before.capacity, after.capacity),
        lapse_notices: retimed,
    }
}

/// Whether a leaver's place on a course is released: while any of its sessions is still to come
/// (or none is scheduled yet) the place goes back, to the waiting list; a course already held
/// stays in their history as it is.
pub fn released_on_leaving(session_starts: &[DateTime<Utc>], now: DateTime<Utc>) -> bool {
    session_starts.is_empty() || session_starts.iter().any(|s| *s > now)
}

/// What keeps a session from being cancelled outright (a typhoon, a lecturer taken ill): a sheet
/// on file (it was held; its attendance counts) and trainees placed on it, whom HR moves to
/// another session first. Absence notices do not: they excuse a day that will not be held, so
/// they go with it (each kept in the audit log), and the trainees are told it is cancelled.
pub fn session_removable(attendance: bool, pinned: u64) -> Result<(), crate::Words> {
    if attendance {
        return Err(crate::Words::fixed(
            "the session has attendance on file (it was held); it cannot be deleted",
            "この日程には出欠の記録があるため（実施済み）、削除できません",
        ));
    }
    if pinned > 0 {
        return Err(crate::Words::new(
            format!(
                "{pinned} trainees are placed on this session; move them to another session first (nominations/bulk with move_to_session)"
            ),
            format!("この日程に{pinned}人の受講者がいます。先に別の日程へ移してください（nominations/bulk の move_to_session）"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn session(h: u32, venue: &str, capacity: Option<u32>) -> SessionState {
        SessionState {
            starts_at: Utc.with_ymd_and_hms(2023, 7, 12, h, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2023, 7, 12, h + 3, 0, 0).unwrap(),
            venue: Some(venue.into()),
            online_url: None,
            capacity,
        }
    }

    #[test]
    fn a_leaver_keeps_what_was_held_and_gives_back_what_is_to_come() {
        let at = |d| Utc.with_ymd_and_hms(2024, 4, d, 0, 0, 0).unwrap();
        assert!(released_on_leaving(&[at(10)], at(1)));
        assert!(released_on_leaving(&[at(1), at(10)], at(5)), "a course under way");
        assert!(!released_on_leaving(&[at(1), at(2)], at(5)), "already held");
        assert!(released_on_leaving(&[], at(5)), "not scheduled yet");
    }

    #[test]
    fn a_held_session_or_one_with_placed_trainees_stays() {
        assert!(session_removable(false, 0).is_ok());
        assert!(session_removable(true, 0).unwrap_err().en.contains("attendance"));
        assert!(session_removable(false, 3).unwrap_err().en.starts_with("3 trainees"));
    }

    #[test]
    fn a_cancelled_course_cancels_its_nominations_once() {
        let open = CourseState { cancelled: false, headcount: Some(20) };
        let cancelled = CourseState { cancelled: true, ..open };
        assert_eq!(course_changed(open, cancelled), CourseCascade { cancel_live: true, promote: false });
        assert_eq!(course_changed(cancelled, cancelled), CourseCascade::default());
    }

    #[test]
    fn more_places_move_the_waiting_list_up() {
        let with = |h| CourseState { cancelled: false, headcount: h };
        assert!(course_changed(with(Some(3)), with(Some(5))).promote);
        assert!(course_changed(with(Some(3)), with(None)).promote, "no limit any more");
        assert!(!course_changed(with(Some(3)), with(Some(2))).promote);
        assert!(!course_changed(with(None), with(Some(9))).promote);
        assert!(session_changed(&session(0, "A", Some(3)), Some(&session(0, "A", Some(4)))).promote);
    }

    #[test]
    fn a_moved_or_cancelled_session_is_told_and_a_new_lecturer_is_not() {
        let before = session(0, "本庁舎", Some(3));
        let c = session_changed(&before, Some(&session(1, "本庁舎", Some(3))));
        assert!(matches!(c.tell, Some(Event::SessionChanged { .. })));
        assert!(c.lapse_notices, "notices written for the old time lapse");
        let c = session_changed(&before, Some(&session(0, "分庁舎", Some(3))));
        assert!(matches!(c.tell, Some(Event::SessionChanged { .. })));
        assert!(!c.lapse_notices, "another room keeps them");
        assert_eq!(session_changed(&before, Some(&before.clone())), SessionCascade::default());
        match session_changed(&before, None).tell {
            Some(Event::SessionCancelled { previous }) => {
                assert_eq!(previous.venue.as_deref(), Some("本庁舎"))
            }
            other => panic!("{other:?}"),
        }
    }
}
