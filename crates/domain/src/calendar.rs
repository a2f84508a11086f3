//! Fiscal years (年度, April to March) and Japanese-era dates (和暦).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::text::normalize;

/// Japan Standard Time, UTC+9 all year (Japan has had no daylight saving since 1951). Times are
/// stored in UTC and shown with this offset.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// The date in Japan of an instant: a session at 2023-04-01 00:30 JST is on 1 April, though it
/// is still 31 March in UTC.
pub fn tokyo_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&jst()).date_naive()
}

/// 年度: the fiscal year that starts on 1 April of `year` and ends on 31 March of the next year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct FiscalYear(i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fiscal year must be between 1989 and 2200")]
pub struct FiscalYearOutOfRange;

impl FiscalYear {
    pub const MIN: i32 = 1989;
    pub const MAX: i32 = 2200;

    pub fn new(year: i32) -> Result<Self, FiscalYearOutOfRange> {
        if (Self::MIN..=Self::MAX).contains(&year) {
            Ok(Self(year))
        } else {
            Err(FiscalYearOutOfRange)
        }
    }

    /// The fiscal year a date falls in: January–March belong to the previous year's 年度.
    pub fn containing(date: NaiveDate) -> Self {
        let year = if date.month() >= 4 { date.year() } else { date.year() - 1 };
        Self(year)
    }

    pub fn year(self) -> i32 {
        self.0
    }

    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 4, 1).expect("1 April exists")
    }

    pub fn end(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 + 1, 3, 31).expect("31 March exists")
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        self.start() <= date && date <= self.end()
    }

    pub fn previous(self) -> Self {
        Self(self.0 - 1)
    }

    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// Fiscal years between a date's fiscal year and this one: "hired 1 year ago" in FY2023
    /// means hired in FY2022, whatever the month.
    pub fn years_since(self, date: NaiveDate) -> i32 {
        self.0 - Self::containing(date).0
    }

    /// 令和5年度, the label Japanese offices use.
    pub fn japanese_label(self) -> String {
        let (era, year) = era_year(self.start());
        format!("{}{}年度", era.kanji(), if year == 1 { "元".to_string() } else { year.to_string() })
    }
}

impl TryFrom<i32> for FiscalYear {
    type Error = FiscalYearOutOfRange;
    fn try_from(value: i32) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<FiscalYear> for i32 {
    fn from(value: FiscalYear) -> Self {
        value.0
    }
}

/// Japanese eras (元号) that can occur in staff records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Showa,
    Heisei,
    Reiwa,
}

impl Era {
    const ALL: [Era; 3] = [Era::Showa, Era::Heisei, Era::Reiwa];

    fn first_day(self) -> NaiveDate {
        let (y, m, d) = match self {
            Era::Showa => (1926, 12, 25),
            Era::Heisei => (1989, 1, 8),
            Era::Reiwa => (2019, 5, 1),
        };
        NaiveDate::from_ymd_opt(y, m, d).expect("era start exists")
    }

    fn last_day(self) -> Option<NaiveDate> {
        match self {
            Era::Showa => NaiveDate::from_ymd_opt(1989, 1, 7),
            Era::Heisei => NaiveDate::from_ymd_opt(2019, 4, 30),
            Era::Reiwa => None,
        }
    }

    pub fn kanji(self) -> &'static str {
        match self {
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    fn letter(self) -> char {
        match self {
            Era::Showa => 'S',
            Era::Heisei => 'H',
            Era::Reiwa => 'R',
        }
    }

    fn from_prefix(prefix: &str) -> Option<Era> {
        let upper = prefix.to_uppercase();
        Era::ALL
            .into_iter()
            .find(|e| prefix == e.kanji() || upper.len() == 1 && upper.starts_with(e.letter()))
    }
}

/// The era and era year of a date (dates before Shōwa are shown as Shōwa-era years ≤ 0 never;
/// callers only pass dates of living staff and fiscal years from 1989).
pub fn era_year(date: NaiveDate) -> (Era, i32) {
    let era = Era::ALL.into_iter().rev().find(|e| date >= e.first_day()).unwrap_or(Era::Showa);
    (era, date.year() - era.first_day().year() + 1)
}

/// 令和5年4月1日 style.
pub fn format_japanese(date: NaiveDate) -> String {
    let (era, year) = era_year(date);
    let year = if year == 1 { "元".to_string() } else { year.to_string() };
    format!("{}{}年{}月{}日", era.kanji(), year, date.month(), date.day())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("not a date; use 2023-04-01, 2023/4/1, 令和5年4月1日 or R5.4.1")]
    Format,
    #[error("no such day in the calendar")]
    NoSuchDay,
    #[error("{era}{year}年 is outside the {era} era")]
    OutsideEra { era: &'static str, year: i32 },
}

/// Parse a date as Japanese HR exports write it: `2023-04-01`, `2023/4/1`, `20230401`,
/// `令和5年4月1日`, `令和元年5月1日`, `R5.4.1`, `H31/4/30`; full-width digits are accepted.
pub fn parse_date(input: &str) -> Result<NaiveDate, DateError> {
    let s = normalize(input).replace(' ', "");
    if s.is_empty() {
        return Err(DateError::Format);
    }
    if let Some(era) = leading_era(&s) {
        let rest = &s[era.1..];
        return parse_era_date(era.0, rest);
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let (y, m, d) = (&s[0..4], &s[4..6], &s[6..8]);
        return ymd(num(y)?, num(m)?, num(d)?);
    }
    let s = s.trim_end_matches('日');
    let parts: Vec<&str> = s.split(['-', '/', '.', '年', '月']).collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => ymd(num(y)?, num(m)?, num(d)?),
        _ => Err(DateError::Format),
    }
}

fn leading_era(s: &str) -> Option<(Era, usize)> {
    for era in Era::ALL {
        if s.starts_with(era.kanji()) {
            return Some((era, era.kanji().len()));
        }
    }
    let first = s.chars().next()?;
    if first.is_ascii_alphabetic() {
        return Era::from_prefix(&first.to_string()).map(|e| (e, 1));
    }
    None
}

fn parse_era_date(era: Era, rest: &str) -> Result<NaiveDate, DateError> {
    let rest = rest.trim_end_matches('日');
    let parts: Vec<&str> = rest.split(['-', '/', '.', '年', '月']).collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(DateError::Format);
    };
    let year = if *y == "元" { 1 } else { num(y)? };
    if year < 1 {
        return Err(DateError::Format);
    }
    let date = ymd(era.first_day().year() + year - 1, num(m)?, num(d)?)?;
    let outside = date < era.first_day() || era.last_day().is_some_and(|last| date > last);
    if outside {
        return Err(DateError::OutsideEra { era: era.kanji(), year });
    }
    Ok(date)
}

fn num(s: &str) -> Result<i32, DateError> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DateError::Format);
    }
    s.parse().map_err(|_| DateError::Format)
}

/// The years a date a person or system sends may fall in, everywhere: bodies, parameters and
/// files alike (a hire date of 0001-01-01 or 9999-12-31 is a typing error, not a date).
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// `d` when it falls within [`YEARS`], else why not.
pub fn check_year(d: NaiveDate) -> Result<NaiveDate, String> {
    if YEARS.contains(&d.year()) {
        Ok(d)
    } else {
        Err(format!("must be in the years {} to {}", YEARS.start(), YEARS.end()))
    }
}

fn ymd(y: i32, m: i32, d: i32) -> Result<NaiveDate, DateError> {
    if !YEARS.contains(&y) {
        return Err(DateError::Format);
    }
    NaiveDate::from_ymd_opt(y, m as u32, d as u32).ok_or(DateError::NoSuchDay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn fiscal_year_runs_april_to_march() {
        let fy = FiscalYear::new(2023).unwrap();
        assert_eq!(fy.start(), d(2023, 4, 1));
        assert_eq!(fy.end(), d(2024, 3, 31));
        assert_eq!(FiscalYear::containing(d(2024, 3, 31)), fy);
        assert_eq!(FiscalYear::containing(d(2024, 4, 1)), fy.next());
        assert_eq!(FiscalYear::containing(d(2023, 3, 31)), fy.previous());
        assert!(fy.contains(d(2024, 2, 29)));
        assert!(!fy.contains(d(2023, 3, 31)));
    }

    #[test]
    fn years_since_counts_fiscal_years() {
        let fy = FiscalYear::new(2023).unwrap();
        // Hired in March 2023 is FY2022: "1 year after hire" in FY2023.
        assert_eq!(fy.years_since(d(2023, 3, 1)), 1);
        assert_eq!(fy.years_since(d(2023, 4, 1)), 0);
        assert_eq!(fy.years_since(d(2018, 4, 1)), 5);
    }

    #[test]
    fn fiscal_year_labels() {
        assert_eq!(FiscalYear::new(2023).unwrap().japanese_label(), "令和5年度");
        assert_eq!(FiscalYear::new(2019).unwrap().japanese_label(), "平成31年度");
        assert_eq!(FiscalYear::new(2020).unwrap().japanese_label(), "令和2年度");
        assert!(FiscalYear::new(1800).is_err());
    }

    #[test]
    fn parses_western_forms() {
        assert_eq!(parse_date("2023-04-01"), Ok(d(2023, 4, 1)));
        assert_eq!(parse_date("2023/4/1"), Ok(d(2023, 4, 1)));
        assert_eq!(parse_date("２０２３／４／１"), Ok(d(2023, 4, 1)));
        assert_eq!(parse_date("20230401"), Ok(d(2023, 4, 1)));
        assert_eq!(parse_date("2023年4月1日"), Ok(d(2023, 4, 1)));
        assert_eq!(parse_date("2024-02-29"), Ok(d(2024, 2, 29)));
    }

    #[test]
    fn parses_japanese_era_forms() {
        assert_eq!(parse_date("令和5年4月1日"), Ok(d(2023, 4, 1)));
        assert_eq!(parse_date("令和元年5月1日"), Ok(d(2019, 5, 1)));
        assert_eq!(parse_date("R5.4.1"), Ok(d(2023, 4, 1)));
        assert_eq!(parse_date("r05.04.01"), Ok(d(2023, 4, 1)));
        assert_eq!(parse_date("Ｈ３１．４．３０"), Ok(d(2019, 4, 30)));
        assert_eq!(parse_date("平成元年1月8日"), Ok(d(1989, 1, 8)));
        assert_eq!(parse_date("S64.1.7"), Ok(d(1989, 1, 7)));
        assert_eq!(parse_date("昭和60年4月1日"), Ok(d(1985, 4, 1)));
    }

    #[test]
    fn rejects_dates_outside_their_era() {
        assert!(matches!(parse_date("令和元年4月30日"), Err(DateError::OutsideEra { .. })));
        assert!(matches!(parse_date("平成31年5月1日"), Err(DateError::OutsideEra { .. })));
        assert!(matches!(parse_date("H1.1.7"), Err(DateError::OutsideEra { .. })));
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in ["", "2023-13-01", "2023-02-30", "R5", "令和5年", "4/1/2023", "X5.4.1", "abc", "R0.4.1"]
        {
            assert!(parse_date(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(parse_date("2023-02-29"), Err(DateError::NoSuchDay));
    }

    #[test]
    fn formats_japanese_dates() {
        assert_eq!(format_japanese(d(2023, 4, 1)), "令和5年4月1日");
        assert_eq!(format_japanese(d(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(format_japanese(d(2019, 4, 30)), "平成31年4月30日");
    }
}
