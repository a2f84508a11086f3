//! 研修実績: what a fiscal year's training came to, per course, category and grade: how trainees
//! were chosen, who attended and completed, the absences, and whether reports came in on time.

use serde::{Deserialize, Serialize};

use crate::audience::Route;
use crate::selection::NominationState;
use crate::spreadsheet::{Cell, Table};

/// Where a nomination's post-training report stands against its course's rule and due day,
/// whether or not the trainee attended (only those who did owe one: [`attended`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStanding {
    /// The course needs none.
    NotRequired,
    /// Not yet submitted (未提出).
    NotSubmitted,
    /// First submitted by the due day (or the course has no day to be due by).
    OnTime,
    /// First submitted after the due day.
    Late,
}

/// Whether a trainee attended the course: holding a place and present (late, left early) at one
/// session at least, or completed. Only they count as 受講者, and only they write a report.
pub fn attended(state: NominationState, present_once: bool) -> bool {
    state.holds_place() && (present_once || state == NominationState::Completed)
}

/// Report standings counted: not submitted, on time, late (courses that require none aside).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standings {
    pub not_submitted: u32,
    pub on_time: u32,
    pub late: u32,
}

impl Standings {
    /// These less `o` (a part of them).
    fn less(self, o: Standings) -> Standings {
        Standings {
            not_submitted: self.not_submitted.saturating_sub(o.not_submitted),
            on_time: self.on_time.saturating_sub(o.on_time),
            late: self.late.saturating_sub(o.late),
        }
    }

    /// The standings of `requiring` nominations on courses that require a report, of which
    /// `not_submitted` have none yet and `late` were first submitted after the due day: the
    /// rest came in on time (as do reports on a course with no day to be due by).
    pub fn of_requiring(requiring: u32, not_submitted: u32, late: u32) -> Standings {
        Standings {
            not_submitted,
            late,
            on_time: requiring.saturating_sub(not_submitted).saturating_sub(late),
        }
    }

    /// One nomination of the given standing.
    pub fn one(standing: ReportStanding) -> Standings {
        let mut s = Standings::default();
        match standing {
            ReportStanding::NotRequired => {}
            ReportStanding::NotSubmitted => s.not_submitted = 1,
            ReportStanding::OnTime => s.on_time = 1,
            ReportStanding::Late => s.late = 1,
        }
        s
    }
}

/// Nominations of one route and state (on one course, or of trainees of one grade and
/// section), counted in what the results need of them: the database counts a year's
/// nominations into a few of these, and [`Tally::add`] decides what they come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub route: Route,
    pub state: NominationState,
    pub nominations: u32,
    /// Of them, present (late, left early) at one session at least.
    pub present_once: u32,
    /// Of them, on courses that require a report, by their report's standing.
    pub reports: Standings,
    /// The same, of those present once.
    pub reports_present_once: Standings,
    /// Their absences (欠席, sessions) covered by a received absence notice.
    pub absences_excused: u32,
    /// Their absences without one.
    pub absences_unexcused: u32,
}

impl Counts {
    /// One nomination.
    pub fn one(route: Route, state: NominationState, present_once: bool, report: ReportStanding) -> Counts {
        let reports = Standings::one(report);
        Counts {
            route,
            state,
            nominations: 1,
            present_once: u32::from(present_once),
            reports,
            reports_present_once: if present_once { reports } else { Standings::default() },
            absences_excused: 0,
            absences_unexcused: 0,
        }
    }
}

/// Counts over a set of nominations.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// 指名: nominations by designation, whatever became of them.
    pub designated: u32,
    /// 推薦
    pub recommended: u32,
    /// 公募: applications.
    pub applied: u32,
    /// 受講決定: holding a place (selected, notified or completed).
    pub selected: u32,
    /// 受講者: selected and attended at least one session.
    pub attended: u32,
    /// 修了者
    pub completed: u32,
    /// 欠席 (sessions) with a received absence notice.
    pub excused_absences: u32,
    /// 欠席 (sessions) without one.
    pub unexcused_absences: u32,
    /// Reports owed (by trainees who attended courses that require one).
    pub reports_owed: u32,
    pub reports_on_time: u32,
    pub reports_late: u32,
    /// 未提出
    pub reports_outstanding: u32,
}

impl Tally {
    pub fn add(&mut self, c: &Counts) {
        let n = c.nominations;
        match c.route {
            Route::Designation => self.designated += n,
            Route::Recommendation => self.recommended += n,
            Route::Application => self.applied += n,
        }
        if c.state.holds_place() {
            self.selected += n;
        }
        if c.state == NominationState::Completed {
            self.completed += n;
        }
        self.excused_absences += c.absences_excused;
        self.unexcused_absences += c.absences_unexcused;
        // Those present once and the others, each counted as attending or not.
        let parts = [
            (true, c.present_once, c.reports_present_once),
            (false, n.saturating_sub(c.present_once), c.reports.less(c.reports_present_once)),
        ];
        for (present_once, nominations, reports) in parts {
            if !attended(c.state, present_once) {
                continue;
            }
            self.attended += nominations;
            self.reports_outstanding += reports.not_submitted;
            self.reports_on_time += reports.on_time;
            self.reports_late += reports.late;
            self.reports_owed += reports.not_submitted + reports.on_time + reports.late;
        }
    }

    pub fn merge(&mut self, o: &Tally) {
        self.designated += o.designated;
        self.recommended += o.recommended;
        self.applied += o.applied;
        self.selected += o.selected;
        self.attended += o.attended;
        self.completed += o.completed;
        self.excused_absences += o.excused_absences;
        self.unexcused_absences += o.unexcused_absences;
        self.reports_owed += o.reports_owed;
        self.reports_on_time += o.reports_on_time;
        self.reports_late += o.reports_late;
        self.reports_outstanding += o.reports_outstanding;
    }

    /// 修了率: completed per selected, in tenths of a percent rounded half up (857 = 85.7 %);
    /// `None` when nobody was selected. Integers, so a report reads the same everywhere.
    pub fn completion_permille(&self) -> Option<u32> {
        (self.selected > 0).then(|| (self.completed * 2000 + self.selected) / (self.selected * 2))
    }
}

/// A rate in tenths of a percent as people write it: 857 → "85.7%".
pub fn format_permille(p: Option<u32>) -> String {
    p.map(|p| format!("{}.{}%", p / 10, p % 10)).unwrap_or_default()
}

/// The counts that follow a row's own columns in every results table.
const TALLY_HEADERS: [&str; 13] = [
    "指名",
    "推薦",
    "公募",
    "受講決定",
    "受講者",
    "修了者",
    "修了率",
    "欠席（届出あり）",
    "欠席（届出なし）",
    "報告書（対象）",
    "報告書（期限内）",
    "報告書（期限後）",
    "報告書（未提出）",
];

fn tally_cells(t: &Tally) -> Vec<Cell> {
    let mut cells: Vec<Cell> = [t.designated, t.recommended, t.applied, t.selected, t.attended, t.completed]
        .into_iter()
        .map(Cell::from)
        .collect();
    cells.push(Cell::Text(format_permille(t.completion_permille())));
    cells.extend(
        [
            t.excused_absences,
            t.unexcused_absences,
            t.reports_owed,
            t.reports_on_time,
            t.reports_late,
            t.reports_outstanding,
        ]
        .into_iter()
        .map(Cell::from),
    );
    cells
}

/// A results table: the row's own columns (`first` names them), then the counts with Japanese
/// headers.
pub fn tally_table(title: &str, first: &[&str], rows: Vec<(Vec<Cell>, &Tally)>) -> Table {
    let header: Vec<&str> = first.iter().chain(TALLY_HEADERS.iter()).copied().collect();
    let mut table = Table::new(title, &header);
    for (mut cells, tally) in rows {
        cells.extend(tally_cells(tally));
        table.push(cells);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use NominationState as S;

    #[test]
    fn standings_counted_in_sql_leave_the_rest_on_time() {
        let s = Standings::of_requiring(10, 3, 2);
        assert_eq!(s, Standings { not_submitted: 3, on_time: 5, late: 2 });
        let sum = [ReportStanding::NotSubmitted, ReportStanding::OnTime, ReportStanding::Late]
            .map(Standings::one)
            .into_iter()
            .fold(Standings::default(), |a, b| Standings {
                not_submitted: a.not_submitted + b.not_submitted,
                on_time: a.on_time + b.on_time,
                late: a.late + b.late,
            });
        assert_eq!(Standings::of_requiring(3, 1, 1), sum);
        assert_eq!(Standings::of_requiring(0, 0, 0), Standings::default());
        // Counts that do not add up (never from one grouped read) do not wrap.
        assert_eq!(Standings::of_requiring(1, 1, 1).on_time, 0);
    }

    #[test]
    fn a_tally_counts_routes_places_attendance_completion_and_reports() {
        use ReportStanding as R;
        let one = Counts::one;
        let mut t = Tally::default();
        t.add(&one(Route::Designation, S::Completed, true, R::OnTime));
        t.add(&one(Route::Designation, S::Notified, true, R::Late));
        t.add(&Counts {
            absences_excused: 1,
            absences_unexcused: 1,
            ..one(Route::Recommendation, S::Notified, false, R::NotSubmitted)
        });
        t.add(&one(Route::Application, S::Declined, true, R::NotSubmitted));
        t.add(&one(Route::Application, S::Completed, false, R::NotSubmitted));
        assert_eq!((t.designated, t.recommended, t.applied), (2, 1, 2));
        assert_eq!((t.selected, t.attended, t.completed), (4, 3, 2), "completed counts as attended");
        assert_eq!((t.excused_absences, t.unexcused_absences), (1, 1));
        assert_eq!(
            (t.reports_owed, t.reports_on_time, t.reports_late, t.reports_outstanding),
            (3, 1, 1, 1),
            "only those who attended owe a report; a declined one present once does not"
        );
        assert_eq!(t.completion_permille(), Some(500));
        let mut sum = Tally::default();
        sum.merge(&t);
        sum.merge(&t);
        assert_eq!((sum.selected, sum.reports_owed), (8, 6));
    }

    /// Counted together or one by one, nominations come to the same tally.
    #[test]
    fn counts_of_many_nominations_tally_as_each_of_them_would() {
        use ReportStanding as R;
        let standings = [R::NotRequired, R::NotSubmitted, R::OnTime, R::Late];
        for state in [S::Notified, S::Completed, S::Cancelled, S::Selected] {
            let mut singly = Tally::default();
            let mut together =
                Counts { nominations: 0, ..Counts::one(Route::Application, state, false, R::NotRequired) };
            for (i, standing) in standings.iter().cycle().take(11).enumerate() {
                let mut c = Counts::one(Route::Application, state, i % 3 == 0, *standing);
                c.absences_unexcused = (i % 2) as u32;
                singly.add(&c);
                together.nominations += 1;
                together.present_once += c.present_once;
                for (sum, part) in [
                    (&mut together.reports, c.reports),
                    (&mut together.reports_present_once, c.reports_present_once),
                ] {
                    sum.not_submitted += part.not_submitted;
                    sum.on_time += part.on_time;
                    sum.late += part.late;
                }
                together.absences_unexcused += c.absences_unexcused;
            }
            let mut grouped = Tally::default();
            grouped.add(&together);
            assert_eq!(grouped, singly, "{state:?}");
        }
        let mut notified = Tally::default();
        notified.add(&Counts {
            nominations: 5,
            present_once: 2,
            reports: Standings { not_submitted: 1, on_time: 2, late: 1 },
            reports_present_once: Standings { not_submitted: 0, on_time: 1, late: 1 },
            ..Counts::one(Route::Designation, S::Notified, false, R::NotRequired)
        });
        assert_eq!(
            (notified.attended, notified.reports_owed, notified.reports_on_time, notified.reports_late),
            (2, 2, 1, 1),
            "only the two present once attended and owe"
        );
    }

    #[test]
    fn attending_means_a_place_and_a_session_or_completion() {
        assert!(attended(S::Notified, true));
        assert!(attended(S::Completed, false), "completed without a record (recognised elsewhere)");
        assert!(!attended(S::Notified, false));
        assert!(!attended(S::Declined, true), "a record without a place");
        assert!(!attended(S::Cancelled, true));
    }

    #[test]
    fn completion_rates_round_half_up_in_tenths_of_a_percent() {
        let rate =
            |completed, selected| Tally { completed, selected, ..Tally::default() }.completion_permille();
        assert_eq!(rate(6, 7), Some(857), "85.714…");
        assert_eq!(rate(1, 8), Some(125), "12.5 exactly");
        assert_eq!(rate(1, 16), Some(63), "6.25 rounds up");
        assert_eq!(rate(2, 3), Some(667));
        assert_eq!(rate(3, 3), Some(1000));
        assert_eq!(rate(0, 0), None);
        assert_eq!(format_permille(Some(857)), "85.7%");
        assert_eq!(format_permille(Some(1000)), "100.0%");
        assert_eq!(format_permille(None), "");
    }

    #[test]
    fn a_table_has_japanese_headers_and_one_row_per_key() {
        let t = Tally {
            designated: 7,
            selected: 7,
            attended: 6,
            completed: 6,
            reports_owed: 6,
            reports_late: 1,
            ..Tally::default()
        };
        let text = tally_table("職級別", &["職級"], vec![(vec!["主事".into()], &t)]).to_csv();
        let mut lines = text.split("\r\n");
        assert_eq!(
            lines.next().unwrap(),
            "職級,指名,推薦,公募,受講決定,受講者,修了者,修了率,欠席（届出あり）,欠席（届出なし）,報告書（対象）,報告書（期限内）,報告書（期限後）,報告書（未提出）"
        );
        assert_eq!(lines.next().unwrap(), "主事,7,0,0,7,6,6,85.7%,0,0,6,0,1,0");
    }
}
