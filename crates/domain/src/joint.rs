//! 合同研修 (joint training): a host organisation shares one of its courses with participating
//! organisations, each with its own number of places. Each participant that accepts runs its own
//! selection for the course inside its own organisation (the places are its course's headcount),
//! so every rule of selection holds there unchanged; the host runs the sessions and sees only
//! what running them needs of other organisations' staff.

use crate::catalogue::{vocabulary, Lecturer};
use crate::text::normalize;
use crate::{FieldError, Words};
use serde::{Deserialize, Serialize};

vocabulary! {
    /// Where a share stands.
    ShareState {
        /// 参加依頼中: offered, not yet answered.
        Offered = "offered" / "参加依頼中",
        /// 参加: the participant has its own course for it.
        Accepted = "accepted" / "参加",
        /// 不参加: the participant said no.
        Declined = "declined" / "不参加",
        /// 参加取りやめ: the participant left after accepting.
        Withdrawn = "withdrawn" / "参加取りやめ",
        /// 取消: the host took the offer back or cancelled the course.
        Cancelled = "cancelled" / "取消",
    }
}

impl ShareState {
    /// Still in force: places are held for the participant.
    pub fn is_live(self) -> bool {
        matches!(self, ShareState::Offered | ShareState::Accepted)
    }
}

/// Which side of a share acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// 主催: the organisation whose course it is.
    Host,
    /// 参加団体: the organisation it is shared with.
    Participant,
}

/// What happens to a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareEvent {
    /// The participant takes part: it gets a course of its own with the places as headcount.
    Accept,
    Decline,
    /// The participant leaves: its course is cancelled, the places return to the host.
    Withdraw,
    /// The host takes the offer back, or cancels the course: the participant's course is cancelled.
    Cancel,
    /// The host changes the places (offered or accepted).
    ChangePlaces,
}

impl ShareEvent {
    fn party(self) -> Party {
        match self {
            ShareEvent::Accept | ShareEvent::Decline | ShareEvent::Withdraw => Party::Participant,
            ShareEvent::Cancel | ShareEvent::ChangePlaces => Party::Host,
        }
    }

    fn past(self) -> &'static str {
        match self {
            ShareEvent::Accept => "accepted",
            ShareEvent::Decline => "declined",
            ShareEvent::Withdraw => "withdrawn from",
            ShareEvent::Cancel => "cancelled",
            ShareEvent::ChangePlaces => "given other places",
        }
    }
}

/// An illegal move on a share: 409 naming its state, or 403 for the other side's move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShareTransitionError {
    #[error("a share that is {} cannot be {}", .state.as_str(), .event.past())]
    NotFromState { state: ShareState, event: ShareEvent },
    #[error("the other organisation of the share decides whether it is {}", .event.past())]
    NotYours { event: ShareEvent },
}

/// The state after `event` by `party`, if that side may cause it from `state`.
pub fn share_transition(
    state: ShareState,
    event: ShareEvent,
    party: Party,
) -> Result<ShareState, ShareTransitionError> {
    use ShareState as S;
    if event.party() != party {
        return Err(ShareTransitionError::NotYours { event });
    }
    let next = match (state, event) {
        (S::Offered, ShareEvent::Accept) => S::Accepted,
        (S::Offered, ShareEvent::Decline) => S::Declined,
        (S::Accepted, ShareEvent::Withdraw) => S::Withdrawn,
        (S::Offered | S::Accepted, ShareEvent::Cancel) => S::Cancelled,
        (S::Offered | S::Accepted, ShareEvent::ChangePlaces) => state,
        _ => return Err(ShareTransitionError::NotFromState { state, event }),
    };
    Ok(next)
}

/// The most places one share may hold: more than any course the plan has, fewer than a typo.
pub const MAX_PLACES: u32 = 500;

/// A share's places as asked for: between one and [`MAX_PLACES`]. Parsed before anything is
/// read, so an out-of-range body is refused as such whatever the share's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Places(u32);

impl Places {
    pub fn parse(places: i64) -> Result<Self, FieldError> {
        if !(1..=i64::from(MAX_PLACES)).contains(&places) {
            return Err(FieldError::range("places", format!("between 1 and {MAX_PLACES}")));
        }
        Ok(Self(places as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A share's places are never fewer than the participant has selected (`holding`: its
/// nominations that hold a place), so no trainee loses a place to a change of quota; the
/// participant cancels nominations first.
pub fn check_places(places: Places, holding: u64) -> Result<u32, FieldError> {
    let places = places.get();
    if u64::from(places) < holding {
        return Err(FieldError::conflict(
            "places",
            format!(
                "the participant has selected {holding} trainees; it must cancel nominations before \
                 its places go below that"
            ),
        ));
    }
    Ok(places)
}

/// What a participant may not change on its course of a share: the headcount (its places,
/// which the host sets) and whether it runs (it leaves through the share, so the host knows).
pub fn check_participant_edit(
    places: Option<u32>,
    headcount: Option<u32>,
    cancelling: bool,
) -> Result<(), FieldError> {
    if headcount != places {
        return Err(FieldError::conflict(
            "headcount",
            "the places of a joint course are set by its host; ask the host for more or fewer",
        ));
    }
    if cancelling {
        return Err(FieldError::conflict(
            "status",
            "a joint course is left by withdrawing from its share, so the host is told",
        ));
    }
    Ok(())
}

/// Why a participant cannot change the sessions of its course of a share.
pub const SESSIONS_ARE_THE_HOSTS: Words = Words::fixed(
    "the sessions of a joint course are the host's; the host's changes reach this course",
    "合同研修の日程は主催団体が設定します。主催団体の変更がこの研修に反映されます",
);

/// What the host shares of a session: the participant's copy keeps the time, place and notes.
/// A lecturer from the host's staff is named, not linked: the participant's roster does not
/// hold them.
pub fn copied_lecturer(lecturer: Option<&Lecturer>, host_staff_name: Option<&str>) -> Option<Lecturer> {
    match lecturer {
        Some(Lecturer::Staff { .. }) => {
            host_staff_name.map(|n| Lecturer::Outside { name: normalize(n), affiliation: None })
        }
        other => other.cloned(),
    }
}

/// How the host sees another organisation's trainee: only what running the course needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedTrainee {
    pub organisation: String,
    pub name: String,
    pub name_kana: String,
    pub section: String,
    pub grade: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ShareState as S;

    #[test]
    fn each_party_moves_only_its_own_events() {
        assert_eq!(share_transition(S::Offered, ShareEvent::Accept, Party::Participant), Ok(S::Accepted));
        assert_eq!(share_transition(S::Offered, ShareEvent::Decline, Party::Participant), Ok(S::Declined));
        assert_eq!(share_transition(S::Accepted, ShareEvent::Withdraw, Party::Participant), Ok(S::Withdrawn));
        assert_eq!(share_transition(S::Accepted, ShareEvent::Cancel, Party::Host), Ok(S::Cancelled));
        assert_eq!(share_transition(S::Offered, ShareEvent::Cancel, Party::Host), Ok(S::Cancelled));
        assert_eq!(
            share_transition(S::Offered, ShareEvent::Accept, Party::Host),
            Err(ShareTransitionError::NotYours { event: ShareEvent::Accept })
        );
        assert!(share_transition(S::Accepted, ShareEvent::Cancel, Party::Participant).is_err());
        assert!(share_transition(S::Accepted, ShareEvent::ChangePlaces, Party::Participant).is_err());
    }

    #[test]
    fn an_answered_or_ended_share_stays_as_it_is() {
        for state in [S::Declined, S::Withdrawn, S::Cancelled] {
            for (event, party) in [
                (ShareEvent::Accept, Party::Participant),
                (ShareEvent::Decline, Party::Participant),
                (ShareEvent::Withdraw, Party::Participant),
                (ShareEvent::Cancel, Party::Host),
                (ShareEvent::ChangePlaces, Party::Host),
            ] {
                let e = share_transition(state, event, party).unwrap_err();
                assert_eq!(e, ShareTransitionError::NotFromState { state, event });
                assert!(e.to_string().contains(state.as_str()), "{e}");
            }
        }
        // Accepting twice, withdrawing what was never accepted.
        assert!(share_transition(S::Accepted, ShareEvent::Accept, Party::Participant).is_err());
        assert!(share_transition(S::Offered, ShareEvent::Withdraw, Party::Participant).is_err());
        assert_eq!(share_transition(S::Accepted, ShareEvent::ChangePlaces, Party::Host), Ok(S::Accepted));
    }

    #[test]
    fn live_shares_hold_places() {
        let live: Vec<_> = ShareState::ALL.iter().filter(|s| s.is_live()).collect();
        assert_eq!(live, [&S::Offered, &S::Accepted]);
    }

    #[test]
    fn places_never_go_below_the_selected() {
        let p = |n| Places::parse(n).unwrap();
        assert_eq!(check_places(p(3), 0), Ok(3));
        assert_eq!(check_places(p(3), 3), Ok(3));
        let e = check_places(p(2), 3).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("places", crate::FieldCode::Conflict));
        assert!(e.reason.contains("selected 3"), "{}", e.reason);
        assert_eq!(Places::parse(0).unwrap_err().code, crate::FieldCode::Range);
        assert_eq!(Places::parse(501).unwrap_err().code, crate::FieldCode::Range);
        assert_eq!(Places::parse(-1).unwrap_err().code, crate::FieldCode::Range);
        assert_eq!(check_places(p(500), 0), Ok(500));
    }

    #[test]
    fn a_participant_keeps_the_hosts_places_and_leaves_through_the_share() {
        assert_eq!(check_participant_edit(Some(3), Some(3), false), Ok(()));
        assert_eq!(check_participant_edit(Some(3), Some(4), false).unwrap_err().field, "headcount");
        assert_eq!(check_participant_edit(Some(3), None, false).unwrap_err().field, "headcount");
        assert_eq!(check_participant_edit(Some(3), Some(3), true).unwrap_err().field, "status");
    }

    #[test]
    fn a_host_staff_lecturer_is_named_on_the_copy() {
        let staff = Lecturer::Staff { employee_id: uuid::Uuid::nil() };
        assert_eq!(
            copied_lecturer(Some(&staff), Some("伊勢原　太郎")),
            Some(Lecturer::Outside { name: normalize("伊勢原　太郎"), affiliation: None })
        );
        assert_eq!(copied_lecturer(Some(&staff), None), None);
        let outside = Lecturer::Outside { name: "講師".into(), affiliation: Some("大学".into()) };
        assert_eq!(copied_lecturer(Some(&outside), None), Some(outside.clone()));
        assert_eq!(copied_lecturer(None, None), None);
    }
}
