//! 研修実績: what a fiscal year's training came to, per course, category and grade: how trainees
//! were chosen, who attended and completed, the absences, and whether reports came in on time.

use serde::Serialize;

use crate::audience::Route;
use crate::selection::NominationState;
use crate::spreadsheet::{Cell, Table};

/// Where a trainee's post-training report stands, for the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFact {
    /// The course needs none, or the trainee did not attend.
    NotOwed,
    /// Owed and not yet submitted (未提出).
    Outstanding,
    /// First submitted by the due day.
    OnTime,
    /// First submitted after the due day.
    Late,
}

/// What the results need to know of one nomination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraineeFacts {
    pub route: Route,
    pub state: NominationState,
    /// Sessions attended (present, late or left early).
    pub sessions_attended: u32,
    /// Absences (欠席) covered by a received absence notice.
    pub absences_excused: u32,
    /// Absences without one.
    pub absences_unexcused: u32,
    pub report: ReportFact,
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
    pub fn add(&mut self, f: &TraineeFacts) {
        match f.route {
            Route::Designation => self.designated += 1,
            Route::Recommendation => self.recommended += 1,
            Route::Application => self.applied += 1,
        }
        let selected = f.state.holds_place();
        if selected {
            self.selected += 1;
            if f.sessions_attended > 0 || f.state == NominationState::Completed {
                self.attended += 1;
            }
        }
        if f.state == NominationState::Completed {
            self.completed += 1;
        }
        self.excused_absences += f.absences_excused;
        self.unexcused_absences += f.absences_unexcused;
        match f.report {
            ReportFact::NotOwed => {}
            ReportFact::Outstanding => self.reports_outstanding += 1,
            ReportFact::OnTime => self.reports_on_time += 1,
            ReportFact::Late => self.reports_late += 1,
        }
        if f.report != ReportFact::NotOwed {
            self.reports_owed += 1;
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

    fn facts(route: Route, state: S, attended: u32, report: ReportFact) -> TraineeFacts {
        TraineeFacts {
            route,
            state,
            sessions_attended: attended,
            absences_excused: 0,
            absences_unexcused: 0,
            report,
        }
    }

    #[test]
    fn a_tally_counts_routes_places_attendance_completion_and_reports() {
        let mut t = Tally::default();
        t.add(&facts(Route::Designation, S::Completed, 2, ReportFact::OnTime));
        t.add(&facts(Route::Designation, S::Notified, 1, ReportFact::Late));
        t.add(&TraineeFacts {
            absences_excused: 1,
            absences_unexcused: 1,
            ..facts(Route::Recommendation, S::Notified, 0, ReportFact::NotOwed)
        });
        t.add(&facts(Route::Application, S::Declined, 0, ReportFact::NotOwed));
        t.add(&facts(Route::Application, S::Completed, 0, ReportFact::Outstanding));
        assert_eq!((t.designated, t.recommended, t.applied), (2, 1, 2));
        assert_eq!((t.selected, t.attended, t.completed), (4, 3, 2), "completed counts as attended");
        assert_eq!((t.excused_absences, t.unexcused_absences), (1, 1));
        assert_eq!((t.reports_owed, t.reports_on_time, t.reports_late, t.reports_outstanding), (3, 1, 1, 1));
        assert_eq!(t.completion_permille(), Some(500));
        let mut sum = Tally::default();
        sum.merge(&t);
        sum.merge(&t);
        assert_eq!((sum.selected, sum.reports_owed), (8, 6));
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
