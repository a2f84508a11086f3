//! Trainee selection (選考): nominations and the state machine they move through.
//!
//! A nomination ties an employee to a course by a route. Applications (公募制) start proposed
//! and need their section head's confirmation; recommendations (推薦制) are made by the section
//! head and start confirmed; designations (指名制) are HR's own and start selected. HR selects,
//! wait-lists or declines; selected trainees are notified; anyone selected, notified or waiting
//! may be cancelled; a notified trainee completes the course.

use serde::{Deserialize, Serialize};

use crate::audience::Route;

/// Where a nomination stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NominationState {
    /// 申込: an application waiting for the section head.
    Proposed,
    /// 所属長確認済: confirmed by the section head (or recommended by them), waiting for HR.
    Confirmed,
    /// 所属長不承認: the section head did not confirm the application.
    Rejected,
    /// 選考: a place is held.
    Selected,
    /// 補欠: waiting for a place, in order.
    Waitlisted,
    /// 不選考: HR did not select.
    Declined,
    /// 研修通知済: the trainee and their section head were notified.
    Notified,
    /// 取消: withdrawn by the trainee, or the course or session was cancelled.
    Cancelled,
    /// 修了
    Completed,
}

impl NominationState {
    /// The term HR's lists use (exports, messages).
    pub fn japanese(self) -> &'static str {
        match self {
            Self::Proposed => "申込",
            Self::Confirmed => "所属長確認済",
            Self::Rejected => "所属長不承認",
            Self::Selected => "選考",
            Self::Waitlisted => "補欠",
            Self::Declined => "不選考",
            Self::Notified => "研修通知済",
            Self::Cancelled => "取消",
            Self::Completed => "修了",
        }
    }

    pub const ALL: [NominationState; 9] = [
        Self::Proposed,
        Self::Confirmed,
        Self::Rejected,
        Self::Selected,
        Self::Waitlisted,
        Self::Declined,
        Self::Notified,
        Self::Cancelled,
        Self::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
            Self::Selected => "selected",
            Self::Waitlisted => "waitlisted",
            Self::Declined => "declined",
            Self::Notified => "notified",
            Self::Cancelled => "cancelled",
            Self::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Holds one of the course's places.
    pub fn holds_place(self) -> bool {
        matches!(self, Self::Selected | Self::Notified | Self::Completed)
    }

    /// Still in play: not refused, cancelled or finished.
    pub fn is_live(self) -> bool {
        !matches!(self, Self::Rejected | Self::Declined | Self::Cancelled | Self::Completed)
    }

    /// The state a new nomination starts in, by route.
    pub fn initial(route: Route) -> Self {
        match route {
            Route::Application => Self::Proposed,
            Route::Recommendation => Self::Confirmed,
            Route::Designation => Self::Selected,
        }
    }
}

/// What happens to a nomination.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The section head confirms an application.
    Confirm,
    /// The section head does not confirm an application.
    Reject,
    /// HR gives a place.
    Select,
    /// HR puts the nominee on the waiting list (also: no place left on select).
    Waitlist,
    /// HR does not select.
    Decline,
    /// HR sends the training notice.
    Notify,
    /// The trainee withdraws, HR cancels, or the session is cancelled.
    Cancel,
    /// The trainee completed the course (from attendance).
    Complete,
    /// A correction of attendance undoes a completion (HR).
    Reopen,
}

impl Event {
    /// As in "a completed nomination cannot be cancelled".
    pub fn past(self) -> &'static str {
        match self {
            Event::Confirm => "confirmed",
            Event::Reject => "rejected",
            Event::Select => "selected",
            Event::Waitlist => "waitlisted",
            Event::Decline => "declined",
            Event::Notify => "notified",
            Event::Cancel => "cancelled",
            Event::Complete => "completed",
            Event::Reopen => "reopened",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Confirm => "confirm",
            Event::Reject => "reject",
            Event::Select => "select",
            Event::Waitlist => "waitlist",
            Event::Decline => "decline",
            Event::Notify => "notify",
            Event::Cancel => "cancel",
            Event::Complete => "complete",
            Event::Reopen => "reopen",
        }
    }
}

/// Who acts on a nomination, as far as the state machine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// 研修担当 (never for its own nomination).
    Hr,
    /// Whoever confirms for the nominee: their section head or acting head, or for a section
    /// head their department's head (never the nominee).
    Confirmer,
    /// The nominee themself.
    Nominee,
}

impl Actor {
    /// The capacities of a caller, from their relation to the nominee.
    pub fn of(r: &crate::approval::Relation) -> Vec<Actor> {
        r.capacities(crate::approval::Step::Confirmation, Self::Nominee, Self::Confirmer, Self::Hr)
    }
}

/// Try `event` in each capacity the caller has: the first that may cause it wins. Not allowed in
/// any capacity is `NotYours`; allowed but not from this state is `NotFromState`.
pub fn transition_as(
    state: NominationState,
    event: Event,
    actors: &[Actor],
) -> Result<NominationState, TransitionError> {
    let mut error = TransitionError::NotYours { event };
    for actor in actors {
        match transition(state, event, *actor) {
            Ok(next) => return Ok(next),
            Err(e @ TransitionError::NotFromState { .. }) => error = e,
            Err(_) => {}
        }
    }
    Err(error)
}

/// An illegal move: 409, naming the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a {} nomination cannot be {}", .state.as_str(), .event.past())]
    NotFromState { state: NominationState, event: Event },
    #[error("not allowed to {} this nomination", .event.as_str())]
    NotYours { event: Event },
}

/// The state after `event`, if `actor` may cause it from `state`.
pub fn transition(
    state: NominationState,
    event: Event,
    actor: Actor,
) -> Result<NominationState, TransitionError> {
    use NominationState as S;
    let allowed_actor = match event {
        Event::Confirm | Event::Reject => matches!(actor, Actor::Confirmer),
        Event::Select
        | Event::Waitlist
        | Event::Decline
        | Event::Notify
        | Event::Complete
        | Event::Reopen => actor == Actor::Hr,
        // The trainee withdraws their own; HR cancels anyone's.
        Event::Cancel => matches!(actor, Actor::Hr | Actor::Nominee),
    };
    if !allowed_actor {
        return Err(TransitionError::NotYours { event });
    }
    let next = match (state, event) {
        (S::Proposed, Event::Confirm) => S::Confirmed,
        (S::Proposed, Event::Reject) => S::Rejected,
        (S::Confirmed | S::Waitlisted, Event::Select) => S::Selected,
        (S::Confirmed, Event::Waitlist) => S::Waitlisted,
        (S::Confirmed | S::Waitlisted, Event::Decline) => S::Declined,
        (S::Selected, Event::Notify) => S::Notified,
        (S::Proposed | S::Confirmed | S::Selected | S::Waitlisted | S::Notified, Event::Cancel) => {
            S::Cancelled
        }
        // Attendance completes a trainee whether or not the notice went out through the service.
        (S::Selected | S::Notified, Event::Complete) => S::Completed,
        (S::Completed, Event::Reopen) => S::Notified,
        _ => return Err(TransitionError::NotFromState { state, event }),
    };
    Ok(next)
}

/// How many places are free: `None` capacity means no limit.
pub fn places_left(capacity: Option<u32>, held: u64) -> Option<u64> {
    capacity.map(|c| u64::from(c).saturating_sub(held))
}

/// Designation rerun (指名の再実行): who to add, and who no longer matches, comparing the
/// employees the rules match now with those already nominated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesignationDiff<Id> {
    /// Match now and have no nomination for the course.
    pub new: Vec<Id>,
    /// Match and are already nominated (whatever the state).
    pub already: Vec<Id>,
    /// Hold a live designation but no longer match (promoted, transferred, retired).
    pub no_longer_matching: Vec<Id>,
}

/// Compare `matching` (in roster order) with the existing nominations: `(employee, route, live)`.
pub fn designation_diff<Id: Copy + Eq + std::hash::Hash>(
    matching: &[Id],
    nominated: &[(Id, Route, bool)],
) -> DesignationDiff<Id> {
    let nominated_ids: std::collections::HashSet<Id> = nominated.iter().map(|(id, _, _)| *id).collect();
    let matching_ids: std::collections::HashSet<Id> = matching.iter().copied().collect();
    let mut diff = DesignationDiff { new: Vec::new(), already: Vec::new(), no_longer_matching: Vec::new() };
    for id in matching {
        if nominated_ids.contains(id) {
            diff.already.push(*id);
        } else {
            diff.new.push(*id);
        }
    }
    for (id, route, live) in nominated {
        if *route == Route::Designation && *live && !matching_ids.contains(id) {
            diff.no_longer_matching.push(*id);
        }
    }
    diff
}

/// A course as "who has not yet taken X" (未受講者) looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapCourse {
    pub id: uuid::Uuid,
    pub fiscal_year: i32,
    pub category: crate::catalogue::Category,
    pub number: i32,
    pub title: String,
    /// Title, purpose and content as `text::search_key` makes them.
    pub search_key: String,
}

/// How HR names the courses of a gap query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GapCourses {
    /// These courses exactly, and the same course (by title) in other years.
    pub ids: Vec<uuid::Uuid>,
    /// With `number`: that course of the category in `fiscal_year`, and by title in other years.
    /// Alone: every course of the category.
    pub category: Option<crate::catalogue::Category>,
    pub number: Option<i32>,
    /// A title (exactly, as typed: Ⅰ is not Ⅱ), else text in title, purpose or content.
    pub text: Option<String>,
}

/// The courses a gap query names, or why it names none. A course is "the same" across fiscal
/// years when its title is (after NFKC and spacing); text that is some course's whole title
/// names only those courses, since NFKC turns Ⅰ into "I", a prefix of "II".
pub fn gap_courses(
    all: &[GapCourse],
    named: &GapCourses,
    fiscal_year: i32,
) -> Result<Vec<uuid::Uuid>, String> {
    use std::collections::BTreeSet;
    let title_key = |t: &str| crate::text::normalize(t).to_lowercase();
    let same_title = |seeds: &[&GapCourse]| -> BTreeSet<uuid::Uuid> {
        let titles: BTreeSet<String> = seeds.iter().map(|c| title_key(&c.title)).collect();
        all.iter().filter(|c| titles.contains(&title_key(&c.title))).map(|c| c.id).collect()
    };
    let chosen: BTreeSet<uuid::Uuid> = if !named.ids.is_empty() {
        let seeds: Vec<&GapCourse> = all.iter().filter(|c| named.ids.contains(&c.id)).collect();
        if let Some(missing) = named.ids.iter().find(|id| !seeds.iter().any(|c| c.id == **id)) {
            return Err(format!("no course {missing} in the organisation"));
        }
        same_title(&seeds)
    } else if let Some(number) = named.number {
        let Some(category) = named.category else {
            return Err("a course number needs its category (course_category)".into());
        };
        let seeds: Vec<&GapCourse> = all
            .iter()
            .filter(|c| c.category == category && c.number == number && c.fiscal_year == fiscal_year)
            .collect();
        if seeds.is_empty() {
            return Err(format!("no course {} No.{number} in FY{fiscal_year}", category.japanese()));
        }
        same_title(&seeds)
    } else if let Some(text) = named.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let in_category = |c: &&GapCourse| named.category.is_none_or(|k| c.category == k);
        let exact: Vec<&GapCourse> =
            all.iter().filter(in_category).filter(|c| title_key(&c.title) == title_key(text)).collect();
        if exact.is_empty() {
            let key = crate::text::search_key(text);
            all.iter().filter(in_category).filter(|c| c.search_key.contains(&key)).map(|c| c.id).collect()
        } else {
            same_title(&exact)
        }
    } else if let Some(category) = named.category {
        all.iter().filter(|c| c.category == category).map(|c| c.id).collect()
    } else {
        return Err(
            "name the courses: course_ids, course_category with course_number, course_q, or course_category"
                .into(),
        );
    };
    if chosen.is_empty() {
        return Err("no course matches; nobody can be said not to have taken it".into());
    }
    Ok(chosen.into_iter().collect())
}

/// A nomination on the waiting list (補欠), in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub id: uuid::Uuid,
    /// The session it waits for; none: the whole course.
    pub session_id: Option<uuid::Uuid>,
}

/// The places free now: on the course (its headcount) and per session (its capacity), the
/// sessions in start order; `None` means no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreePlaces {
    pub course: Option<u64>,
    pub sessions: Vec<(uuid::Uuid, Option<u64>)>,
}

/// Whether automatic promotion has stopped for what starts at `starts_at`: within `cutoff_days`
/// days of the start (or once it started), HR selects by hand (the trainee could not prepare).
pub fn promotion_closed(
    starts_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
    cutoff_days: u32,
) -> bool {
    starts_at.is_some_and(|s| s - chrono::Duration::days(i64::from(cutoff_days)) <= now)
}

/// Who moves up from the waiting list into the places free now, in the list's order, and onto
/// which session: the first waiting for a session with a free place (or for the course) moves
/// up; one whose session is full waits on while others behind it for other sessions move up. On
/// a course split across dates (a session has a capacity), one waiting for no session in
/// particular takes the open session with the most room, as designations do. `closed` tells
/// which sessions (or, for `None`, the course) are past the cut-off for automatic promotion.
pub fn promotions(
    waiting: &[Waiting],
    mut free: FreePlaces,
    closed: impl Fn(Option<uuid::Uuid>) -> bool,
) -> Vec<(uuid::Uuid, Option<uuid::Uuid>)> {
    let split = free.sessions.iter().any(|(_, f)| f.is_some());
    let mut out = Vec::new();
    for w in waiting {
        if free.course == Some(0) {
            break;
        }
        let session = match w.session_id {
            Some(s) => {
                if closed(Some(s)) {
                    continue;
                }
                match free.sessions.iter_mut().find(|(id, _)| *id == s) {
                    Some((_, Some(0))) | None => continue,
                    Some((_, Some(left))) => *left -= 1,
                    Some((_, None)) => {}
                }
                Some(s)
            }
            None if split => {
                let best =
                    free.sessions.iter_mut().filter(|(id, f)| *f != Some(0) && !closed(Some(*id))).reduce(
                        |best, s| match (best.1, s.1) {
                            (None, _) => best,
                            (Some(_), None) => s,
                            (Some(b), Some(f)) if f > b => s,
                            _ => best,
                        },
                    );
                let Some((id, f)) = best else { continue };
                if let Some(left) = f.as_mut() {
                    *left -= 1;
                }
                Some(*id)
            }
            None => {
                if closed(None) {
                    continue;
                }
                None
            }
        };
        if let Some(left) = free.course.as_mut() {
            *left -= 1;
        }
        out.push((w.id, session));
    }
    out
}

/// Where a new designation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A place: on a session when the course's sessions are dates trainees are split across,
    /// else on the whole course.
    Placed(Option<uuid::Uuid>),
    /// Beyond every free place: the waiting list.
    Waiting,
}

/// Places for `count` new designations, in roster order, within the course's free places. When
/// any of the course's sessions has a capacity, its sessions are dates the trainees are split
/// across (日程): each goes to the session with the most free places (the earliest on a tie; no
/// capacity is no limit), so they spread over the sessions; beyond all of them they wait.
/// `sessions` are in start order with their free places.
pub fn place_designations(
    count: usize,
    mut course_free: Option<u64>,
    sessions: &[(uuid::Uuid, Option<u64>)],
) -> Vec<Placement> {
    let split = sessions.iter().any(|(_, free)| free.is_some());
    let mut free: Vec<(uuid::Uuid, Option<u64>)> = sessions.to_vec();
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if course_free == Some(0) {
            out.push(Placement::Waiting);
            continue;
        }
        let placement = if split {
            // The most room first: unlimited beats any number; ties go to the earliest.
            let best = free.iter_mut().filter(|(_, f)| *f != Some(0)).reduce(|best, s| match (best.1, s.1) {
                (None, _) => best,
                (Some(_), None) => s,
                (Some(b), Some(f)) if f > b => s,
                _ => best,
            });
            match best {
                Some((id, f)) => {
                    if let Some(left) = f.as_mut() {
                        *left -= 1;
                    }
                    Placement::Placed(Some(*id))
                }
                None => Placement::Waiting,
            }
        } else {
            Placement::Placed(None)
        };
        if let (Placement::Placed(_), Some(left)) = (placement, course_free.as_mut()) {
            *left -= 1;
        }
        out.push(placement);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use NominationState as S;

    #[test]
    fn routes_start_where_they_should() {
        assert_eq!(S::initial(Route::Application), S::Proposed);
        assert_eq!(S::initial(Route::Recommendation), S::Confirmed);
        assert_eq!(S::initial(Route::Designation), S::Selected);
    }

    #[test]
    fn an_application_walks_to_completion() {
        let s = transition(S::Proposed, Event::Confirm, Actor::Confirmer).unwrap();
        let s = transition(s, Event::Waitlist, Actor::Hr).unwrap();
        let s = transition(s, Event::Select, Actor::Hr).unwrap();
        let s = transition(s, Event::Notify, Actor::Hr).unwrap();
        assert_eq!(transition(s, Event::Complete, Actor::Hr).unwrap(), S::Completed);
    }

    #[test]
    fn only_the_right_actor_moves_a_nomination() {
        // An employee cannot confirm their own application; HR does not confirm for the head.
        for actor in [Actor::Nominee, Actor::Hr] {
            assert_eq!(
                transition(S::Proposed, Event::Confirm, actor),
                Err(TransitionError::NotYours { event: Event::Confirm })
            );
        }
        assert!(transition(S::Confirmed, Event::Select, Actor::Confirmer).is_err());
        assert!(transition(S::Selected, Event::Cancel, Actor::Nominee).is_ok());
        assert!(transition(S::Selected, Event::Cancel, Actor::Confirmer).is_err());
    }

    #[test]
    fn illegal_moves_name_the_current_state() {
        let e = transition(S::Declined, Event::Select, Actor::Hr).unwrap_err();
        assert_eq!(e, TransitionError::NotFromState { state: S::Declined, event: Event::Select });
        assert_eq!(e.to_string(), "a declined nomination cannot be selected");
        assert!(
            transition(S::Proposed, Event::Select, Actor::Hr).is_err(),
            "applications need the head first"
        );
        assert!(transition(S::Completed, Event::Cancel, Actor::Hr).is_err());
        // Attendance corrections undo a completion; only HR, only from completed.
        assert_eq!(transition(S::Completed, Event::Reopen, Actor::Hr), Ok(S::Notified));
        assert!(transition(S::Completed, Event::Reopen, Actor::Nominee).is_err());
        assert!(transition(S::Selected, Event::Reopen, Actor::Hr).is_err());
        assert_eq!(transition(S::Selected, Event::Complete, Actor::Hr), Ok(S::Completed));
        assert!(transition(S::Cancelled, Event::Cancel, Actor::Hr).is_err());
    }

    #[test]
    fn a_head_never_confirms_their_own_application() {
        let me = Actor::of(&crate::approval::relation_for_tests(true, false, false));
        assert_eq!(me, vec![Actor::Nominee]);
        assert_eq!(
            transition_as(S::Proposed, Event::Confirm, &me),
            Err(TransitionError::NotYours { event: Event::Confirm })
        );
        let head = Actor::of(&crate::approval::relation_for_tests(false, true, false));
        assert_eq!(head, vec![Actor::Confirmer]);
        assert_eq!(transition_as(S::Proposed, Event::Confirm, &head), Ok(S::Confirmed));
        // HR and nominee at once: allowed to cancel, but not from a finished state.
        let both = [Actor::Hr, Actor::Nominee];
        assert_eq!(
            transition_as(S::Completed, Event::Cancel, &both),
            Err(TransitionError::NotFromState { state: S::Completed, event: Event::Cancel })
        );
    }

    #[test]
    fn places_and_liveness() {
        assert_eq!(places_left(Some(2), 1), Some(1));
        assert_eq!(places_left(Some(2), 5), Some(0));
        assert_eq!(places_left(None, 99), None);
        assert!(S::Notified.holds_place() && !S::Waitlisted.holds_place());
        assert!(S::Waitlisted.is_live() && !S::Cancelled.is_live());
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn designation_reruns_report_new_and_gone() {
        let nominated = [
            (1, Route::Designation, true),
            (2, Route::Designation, true),
            (3, Route::Application, true),
            (4, Route::Designation, false),
        ];
        let diff = designation_diff(&[1, 3, 5], &nominated);
        assert_eq!(diff.new, vec![5]);
        assert_eq!(diff.already, vec![1, 3]);
        assert_eq!(diff.no_longer_matching, vec![2], "2 was promoted away; 4 was cancelled already");
    }

    fn gap(id: u128, fy: i32, number: i32, title: &str) -> GapCourse {
        GapCourse {
            id: uuid::Uuid::from_u128(id),
            fiscal_year: fy,
            category: crate::catalogue::Category::Thematic,
            number,
            title: title.into(),
            search_key: crate::text::search_key(&format!("{title} ラインケア")),
        }
    }

    #[test]
    fn gap_courses_name_numbered_courses_exactly_and_follow_them_across_years() {
        use crate::catalogue::Category;
        let all = [
            gap(1, 2023, 11, "メンタルヘルスセミナーⅠ"),
            gap(2, 2023, 12, "メンタルヘルスセミナーⅡ"),
            gap(3, 2023, 13, "メンタルヘルスセミナーⅢ"),
            gap(4, 2022, 10, "メンタルヘルスセミナーⅠ"),
            gap(5, 2023, 5, "人権研修Ⅰ"),
        ];
        let ids = |v: &[u128]| v.iter().map(|n| uuid::Uuid::from_u128(*n)).collect::<Vec<_>>();
        let by_text = |t: &str| GapCourses { text: Some(t.into()), ..Default::default() };
        // A whole title names that course only (Ⅰ is not a prefix of Ⅱ), in every year.
        assert_eq!(gap_courses(&all, &by_text("メンタルヘルスセミナーⅠ"), 2023), Ok(ids(&[1, 4])));
        assert_eq!(gap_courses(&all, &by_text("ﾒﾝﾀﾙﾍﾙｽｾﾐﾅｰⅢ"), 2023), Ok(ids(&[3])));
        // Other text is a search in title, purpose and content.
        assert_eq!(gap_courses(&all, &by_text("メンタルヘルス"), 2023), Ok(ids(&[1, 2, 3, 4])));
        assert_eq!(gap_courses(&all, &by_text("ラインケア"), 2023).unwrap().len(), 5);
        // By id or by category and number: that course, and the same title in other years.
        let named = GapCourses { ids: ids(&[4]), ..Default::default() };
        assert_eq!(gap_courses(&all, &named, 2023), Ok(ids(&[1, 4])));
        let named = GapCourses { category: Some(Category::Thematic), number: Some(11), ..Default::default() };
        assert_eq!(gap_courses(&all, &named, 2023), Ok(ids(&[1, 4])));
        // What names nothing is said, never read as everyone untrained.
        assert!(gap_courses(&all, &by_text("存在しない研修"), 2023).unwrap_err().contains("no course"));
        let named = GapCourses { category: Some(Category::Thematic), number: Some(11), ..Default::default() };
        assert!(gap_courses(&all, &named, 2021).is_err());
        assert!(gap_courses(&all, &GapCourses { number: Some(1), ..Default::default() }, 2023).is_err());
        let unknown = GapCourses { ids: ids(&[9]), ..Default::default() };
        assert!(gap_courses(&all, &unknown, 2023).unwrap_err().contains("no course"));
        assert!(gap_courses(&all, &GapCourses::default(), 2023).is_err());
    }

    #[test]
    fn the_waiting_list_moves_up_in_order_into_free_places_before_the_cut_off() {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let (a, b) = (id(100), id(101));
        let waiting = [
            Waiting { id: id(1), session_id: Some(a) },
            Waiting { id: id(2), session_id: Some(a) },
            Waiting { id: id(3), session_id: Some(b) },
            Waiting { id: id(4), session_id: None },
        ];
        let free = |course: Option<u64>, sa: Option<u64>, sb: Option<u64>| FreePlaces {
            course,
            sessions: vec![(a, sa), (b, sb)],
        };
        let ids =
            |v: Vec<(uuid::Uuid, Option<uuid::Uuid>)>| v.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        // One place on session a: the first for a moves up; b's waits on behind a full a. On a
        // course split across dates, one waiting for the course takes the session with room.
        let moved = promotions(&waiting, free(None, Some(1), Some(2)), |_| false);
        assert_eq!(moved, vec![(id(1), Some(a)), (id(3), Some(b)), (id(4), Some(b))]);
        // The course's headcount stops it, in order; without capacities the course is whole.
        assert_eq!(ids(promotions(&waiting, free(Some(2), None, None), |_| false)), vec![id(1), id(2)]);
        assert_eq!(promotions(&waiting, free(None, None, None), |_| false)[3], (id(4), None));
        assert!(promotions(&waiting, free(Some(0), None, None), |_| false).is_empty());
        // Past the cut-off for session a: HR selects by hand there; others still move up.
        assert_eq!(
            ids(promotions(&waiting, free(None, Some(5), Some(5)), |s| s == Some(a))),
            vec![id(3), id(4)]
        );
        // The cut-off: two days before the start by default, and once it started.
        let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2023, 7, 12, 0, 0, 0).unwrap();
        let days = |n| start - chrono::Duration::days(n);
        assert!(!promotion_closed(Some(start), days(3), 2));
        assert!(promotion_closed(Some(start), days(2), 2));
        assert!(promotion_closed(Some(start), start + chrono::Duration::hours(1), 2));
        assert!(!promotion_closed(None, start, 2), "no date yet: open");
        assert!(!promotion_closed(Some(start), days(1), 0));
    }

    #[test]
    fn designations_spread_over_dates_within_their_capacities_and_the_rest_wait() {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let (a, b) = (id(1), id(2));
        use Placement::*;
        // Sessions of 3 and 2 places, 7 designated: 3+2 placed, spread, 2 wait.
        let p = place_designations(7, None, &[(a, Some(3)), (b, Some(2))]);
        assert_eq!(
            p,
            vec![
                Placed(Some(a)),
                Placed(Some(a)),
                Placed(Some(b)),
                Placed(Some(a)),
                Placed(Some(b)),
                Waiting,
                Waiting
            ]
        );
        // The course's headcount binds first.
        assert_eq!(place_designations(3, Some(1), &[(a, Some(3))]), vec![Placed(Some(a)), Waiting, Waiting]);
        // No session has a capacity: the whole course, within its headcount.
        assert_eq!(place_designations(2, Some(1), &[(a, None), (b, None)]), vec![Placed(None), Waiting]);
        assert_eq!(place_designations(2, None, &[]), vec![Placed(None), Placed(None)]);
        // A session without a limit beside limited ones takes the rest.
        assert_eq!(place_designations(3, None, &[(a, Some(1)), (b, None)]), vec![Placed(Some(b)); 3]);
        // A full session is skipped.
        assert_eq!(place_designations(1, None, &[(a, Some(0)), (b, Some(1))]), vec![Placed(Some(b))]);
    }
}
