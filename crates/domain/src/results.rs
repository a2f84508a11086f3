//! 研修実績: what a fiscal year's training came to, per course, category and grade: how trainees
//! were chosen, who attended and completed, the absences, and whether reports came in on time.

use serde::Serialize;

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

/// Nominations alike in everything the results count, with how many there are and their
/// absences summed: the database groups a year's nominations into a few of these per course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alike {
    pub route: Route,
    pub state: NominationState,
    /// Present (late, left early) at one session at least.
    pub present_once: bool,
    pub report: ReportStanding,
    /// How many nominations these are.
    pub nominations: u32,
    /// Their absences (欠席, sessions) covered by a received absence notice.
    pub absences_excused: u32,
    /// Their absences without one.
    pub absences_unexcused: u32,
}

/// Counts over a set of nominations.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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
    pub fn add(&mut self, a: &Alike) {
        let n = a.nominations;
        match a.route {
            Route::Designation => self.designated += n,
            Route::Recommendation => self.recommended += n,
            Route::Application => self.applied += n,
        }
        if a.state.holds_place() {
            self.selected += n;
        }
        let attended = attended(a.state, a.present_once);
        if attended {
            self.attended += n;
        }
        if a.state == NominationState::Completed {
            self.completed += n;
        }
        self.excused_absences += a.absences_excused;
        self.unexcused_absences += a.absences_unexcused;
        if attended {
            match a.report {
                ReportStanding::NotRequired => {}
                ReportStanding::NotSubmitted => self.reports_outstanding += n,
                ReportStanding::OnTime => self.reports_on_time += n,
                ReportStanding::Late => self.reports_late += n,
            }
            if a.report != ReportStanding::NotRequired {
                self.reports_owed += n;
            }
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

    fn one(route: Route, state: S, present_once: bool, report: ReportStanding) -> Alike {
        Alike {
            route,
            state,
            present_once,
            report,
            nominations: 1,
            absences_excused: 0,
            absences_unexcused: 0,
        }
    }

    #[test]
    fn a_tally_counts_routes_places_attendance_completion_and_reports() {
        use ReportStanding as R;
        let mut t = Tally::default();
        t.add(&one(Route::Designation, S::Completed, true, R::OnTime));
        t.add(&one(Route::Designation, S::Notified, true, R::Late));
        t.add(&Alike {
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

    #[test]
    fn a_group_counts_as_many_as_its_nominations() {
        let mut grouped = Tally::default();
        grouped.add(&Alike {
            nominations: 3,
            absences_excused: 2,
            absences_unexcused: 5,
            ..one(Route::Designation, S::Notified, true, ReportStanding::Late)
        });
        let mut singly = Tally::default();
        for (excused, unexcused) in [(2, 1), (0, 4), (0, 0)] {
            singly.add(&Alike {
                absences_excused: excused,
                absences_unexcused: unexcused,
                ..one(Route::Designation, S::Notified, true, ReportStanding::Late)
            });
        }
        assert_eq!(grouped, singly);
        assert_eq!((grouped.attended, grouped.reports_late, grouped.unexcused_absences), (3, 3, 5));
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
