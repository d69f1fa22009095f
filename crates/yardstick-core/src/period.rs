//! Periods: a day, ISO week, month, quarter, half, year or custom range of local days,
//! written as in SPEC §4 (`2025-03-14`, `2025-W09`, `2025-03`, `2025-Q1`, `2025-H1`, `2025`,
//! `2025-03-01..2025-03-15`).

use std::fmt;

use crate::time::{DayNumber, civil_from_days, days_from_civil, days_in_month, format_day, iso_weekday, parse_day};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    Day,
    Week,
    Month,
    Quarter,
    Half,
    Year,
    /// A custom range of whole days, both ends inclusive as written.
    Range,
}

/// A half-open range of local days `[start, end)` with the kind that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: DayNumber,
    pub end: DayNumber,
}

pub const PERIOD_FORMAT_HINT: &str = "expected a period such as 2025-03-14, 2025-W09, 2025-03, 2025-Q1, 2025-H1, 2025 or 2025-03-01..2025-03-15 (期望的周期格式)";

impl Period {
    pub fn day(day: DayNumber) -> Period {
        Period { kind: PeriodKind::Day, start: day, end: day + 1 }
    }

    pub fn month(year: i64, month: u32) -> Period {
        let start = days_from_civil(year, month, 1);
        Period { kind: PeriodKind::Month, start, end: start + days_in_month(year, month) as i64 }
    }

    pub fn quarter(year: i64, quarter: u32) -> Period {
        let start = days_from_civil(year, quarter * 3 - 2, 1);
        let (ny, nm) = if quarter == 4 { (year + 1, 1) } else { (year, quarter * 3 + 1) };
        Period { kind: PeriodKind::Quarter, start, end: days_from_civil(ny, nm, 1) }
    }

    pub fn half(year: i64, half: u32) -> Period {
        let start = days_from_civil(year, if half == 1 { 1 } else { 7 }, 1);
        let end = if half == 1 { days_from_civil(year, 7, 1) } else { days_from_civil(year + 1, 1, 1) };
        Period { kind: PeriodKind::Half, start, end }
    }

    pub fn year(year: i64) -> Period {
        Period { kind: PeriodKind::Year, start: days_from_civil(year, 1, 1), end: days_from_civil(year + 1, 1, 1) }
    }

    /// ISO week `week` of ISO week-year `year` (weeks start on Monday; week 1 holds January 4th).
    pub fn iso_week(year: i64, week: u32) -> Option<Period> {
        if week == 0 || week > iso_weeks_in_year(year) {
            return None;
        }
        let start = iso_week_one_monday(year) + (week as i64 - 1) * 7;
        Some(Period { kind: PeriodKind::Week, start, end: start + 7 })
    }

    /// A custom range from `first` to `last`, both inclusive.
    pub fn range(first: DayNumber, last: DayNumber) -> Option<Period> {
        (first <= last).then_some(Period { kind: PeriodKind::Range, start: first, end: last + 1 })
    }

    pub fn parse(text: &str) -> Option<Period> {
        let text = text.trim();
        if let Some((a, b)) = text.split_once("..") {
            return Period::range(parse_day(a.trim())?, parse_day(b.trim())?);
        }
        let b = text.as_bytes();
        if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let year: i64 = text[..4].parse().ok()?;
        let rest = &text[4..];
        if rest.is_empty() {
            return Some(Period::year(year));
        }
        let rest = rest.strip_prefix('-')?;
        let number = |s: &str, max: u32| -> Option<u32> {
            (s.len() == 1 || s.len() == 2).then_some(())?;
            let n: u32 = s.parse().ok()?;
            (1..=max).contains(&n).then_some(n)
        };
        match rest.as_bytes().first()? {
            b'Q' | b'q' => Some(Period::quarter(year, number(&rest[1..], 4)?)),
            b'H' | b'h' => Some(Period::half(year, number(&rest[1..], 2)?)),
            b'W' | b'w' => {
                (rest.len() == 3).then_some(())?;
                Period::iso_week(year, number(&rest[1..], 53)?)
            }
            _ if rest.len() == 2 => Some(Period::month(year, number(rest, 12)?)),
            _ => parse_day(text).map(Period::day),
        }
    }

    pub fn n_days(&self) -> i64 {
        self.end - self.start
    }

    /// The previous period of the same kind and length (previous month for a month, the
    /// same number of days before for a custom range): what `change` compares against.
    pub fn previous(&self) -> Period {
        let (y, m, _) = civil_from_days(self.start);
        match self.kind {
            PeriodKind::Day => Period::day(self.start - 1),
            PeriodKind::Week => Period { kind: PeriodKind::Week, start: self.start - 7, end: self.start },
            PeriodKind::Month => {
                if m == 1 {
                    Period::month(y - 1, 12)
                } else {
                    Period::month(y, m - 1)
                }
            }
            PeriodKind::Quarter => {
                let q = (m - 1) / 3 + 1;
                if q == 1 { Period::quarter(y - 1, 4) } else { Period::quarter(y, q - 1) }
            }
            PeriodKind::Half => {
                if m == 1 {
                    Period::half(y - 1, 2)
                } else {
                    Period::half(y, 1)
                }
            }
            PeriodKind::Year => Period::year(y - 1),
            PeriodKind::Range => {
                let n = self.n_days();
                Period { kind: PeriodKind::Range, start: self.start - n, end: self.start }
            }
        }
    }

    /// Whether `other` lies entirely inside this period.
    pub fn contains(&self, other: &Period) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

fn iso_week_one_monday(year: i64) -> DayNumber {
    let jan4 = days_from_civil(year, 1, 4);
    jan4 - (iso_weekday(jan4) as i64 - 1)
}

fn iso_weeks_in_year(year: i64) -> u32 {
    ((iso_week_one_monday(year + 1) - iso_week_one_monday(year)) / 7) as u32
}

/// The ISO week-year and week number of a day.
pub fn iso_week_of(day: DayNumber) -> (i64, u32) {
    let (y, _, _) = civil_from_days(day);
    for year in [y + 1, y, y - 1] {
        let monday = iso_week_one_monday(year);
        if day >= monday {
            return (year, ((day - monday) / 7 + 1) as u32);
        }
    }
    unreachable!("a day is always in one of three ISO week-years")
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, _) = civil_from_days(self.start);
        match self.kind {
            PeriodKind::Day => write!(f, "{}", format_day(self.start)),
            PeriodKind::Week => {
                let (wy, w) = iso_week_of(self.start);
                write!(f, "{wy:04}-W{w:02}")
            }
            PeriodKind::Month => write!(f, "{y:04}-{m:02}"),
            PeriodKind::Quarter => write!(f, "{y:04}-Q{}", (m - 1) / 3 + 1),
            PeriodKind::Half => write!(f, "{y:04}-H{}", if m < 7 { 1 } else { 2 }),
            PeriodKind::Year => write!(f, "{y:04}"),
            PeriodKind::Range => write!(f, "{}..{}", format_day(self.start), format_day(self.end - 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, first: &str, last: &str) {
        let p = Period::parse(text).unwrap_or_else(|| panic!("{text} did not parse"));
        assert_eq!((format_day(p.start), format_day(p.end - 1)), (first.to_string(), last.to_string()), "{text}");
        assert_eq!(p.to_string(), text);
    }

    #[test]
    fn parses_every_kind_of_period() {
        check("2025-03-14", "2025-03-14", "2025-03-14");
        check("2025-W09", "2025-02-24", "2025-03-02");
        check("2025-W01", "2024-12-30", "2025-01-05");
        check("2020-W53", "2020-12-28", "2021-01-03");
        check("2024-02", "2024-02-01", "2024-02-29");
        check("2025-Q1", "2025-01-01", "2025-03-31");
        check("2025-Q4", "2025-10-01", "2025-12-31");
        check("2025-H2", "2025-07-01", "2025-12-31");
        check("2025", "2025-01-01", "2025-12-31");
        check("2025-03-01..2025-03-15", "2025-03-01", "2025-03-15");
        for bad in ["2025-13", "2025-Q5", "2025-W54", "2025-W53", "2025-H3", "25-03", "2025-03-15..2025-03-01", "March"]
        {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn previous_periods() {
        let prev = |s: &str| Period::parse(s).unwrap().previous().to_string();
        assert_eq!(prev("2025-01"), "2024-12");
        assert_eq!(prev("2025-03"), "2025-02");
        assert_eq!(prev("2025-Q1"), "2024-Q4");
        assert_eq!(prev("2025-H2"), "2025-H1");
        assert_eq!(prev("2025-W01"), "2024-W52");
        assert_eq!(prev("2025-03-01"), "2025-02-28");
        assert_eq!(prev("2025"), "2024");
        assert_eq!(prev("2025-03-01..2025-03-15"), "2025-02-14..2025-02-28");
    }

    #[test]
    fn iso_weeks_round_trip_for_years() {
        for year in 2015..2035 {
            let weeks = iso_weeks_in_year(year);
            assert!(weeks == 52 || weeks == 53);
            for w in 1..=weeks {
                let p = Period::iso_week(year, w).unwrap();
                assert_eq!(iso_week_of(p.start), (year, w));
                assert_eq!(iso_week_of(p.end - 1), (year, w));
            }
        }
    }
}
