//! Public-holiday calendars: days off and adjusted working days (调休) per announcement,
//! read from the TOML format of `cn-holidays.toml` (built in) or an admin's file.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::diag::{Diagnostic, parse_toml};
use crate::time::{DayNumber, civil_from_days, format_day, parse_day};

/// The built-in Chinese calendar, 2020–2026.
pub const CHINA_HOLIDAYS_TOML: &str = include_str!("cn-holidays.toml");

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Festival {
    pub name: String,
    pub name_en: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayRule {
    /// A statutory day off (放假) of festival `.0`.
    Off(usize),
    /// A weekend day that is a working day (调休上班) for festival `.0`.
    Work(usize),
}

/// Days off and adjusted working days by local date.
#[derive(Clone, Debug, Default)]
pub struct HolidayCalendar {
    festivals: Vec<Festival>,
    days: BTreeMap<DayNumber, DayRule>,
    /// Which announcement year each day came from, so that a file can replace a year.
    day_year: BTreeMap<DayNumber, i64>,
    years: Vec<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    year: Vec<YearDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearDoc {
    year: toml::Spanned<i64>,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    #[serde(default)]
    festival: Vec<FestivalDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FestivalDoc {
    name: String,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    off: Vec<toml::Spanned<String>>,
    #[serde(default)]
    work: Vec<toml::Spanned<String>>,
}

impl HolidayCalendar {
    /// The Chinese statutory calendar as announced by the State Council for 2020–2026.
    pub fn china() -> HolidayCalendar {
        let mut calendar = HolidayCalendar::default();
        calendar.add_file("cn-holidays.toml", CHINA_HOLIDAYS_TOML).expect("the built-in holiday file is valid");
        calendar
    }

    /// Adds the announcements of a holiday file. A year present in the file replaces
    /// everything known about that year. Nothing changes if the file has an error.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), Vec<Diagnostic>> {
        let doc: FileDoc = parse_toml(file, text).map_err(|d| vec![d])?;
        let mut errors = Vec::new();
        let mut next = self.clone();
        for year in &doc.year {
            let y = *year.year.get_ref();
            if !(1970..=2200).contains(&y) {
                errors.push(
                    Diagnostic::at_span(file, text, year.year.span().start, format!("year {y} is out of range"))
                        .code("holidays.invalid")
                        .fix("write a year between 1970 and 2200"),
                );
                continue;
            }
            next.remove_year(y);
            next.years.push(y);
            for festival in &year.festival {
                let index = next.festivals.len();
                next.festivals.push(Festival {
                    name: festival.name.clone(),
                    name_en: festival.name_en.clone().unwrap_or_else(|| festival.name.clone()),
                });
                for (list, rule) in [(&festival.off, DayRule::Off(index)), (&festival.work, DayRule::Work(index))] {
                    for entry in list {
                        let Some((first, last)) = parse_day_range(entry.get_ref()) else {
                            errors.push(
                                Diagnostic::at_span(
                                    file,
                                    text,
                                    entry.span().start,
                                    format!("`{}` is not a date or date range", entry.get_ref()),
                                )
                                .code("holidays.invalid")
                                .fix("write 2027-02-05 or 2027-02-05..2027-02-11"),
                            );
                            continue;
                        };
                        for day in first..=last {
                            if let Some(previous) = next.days.insert(day, rule)
                                && next.day_year.get(&day) == Some(&y)
                            {
                                let other = match previous {
                                    DayRule::Off(i) | DayRule::Work(i) => &next.festivals[i].name,
                                };
                                errors.push(
                                    Diagnostic::at_span(
                                        file,
                                        text,
                                        entry.span().start,
                                        format!("{} is listed twice (also under {other})", format_day(day)),
                                    )
                                    .code("holidays.invalid")
                                    .fix("list each day once, either as off or as work"),
                                );
                            }
                            next.day_year.insert(day, y);
                        }
                    }
                }
            }
        }
        if errors.is_empty() {
            next.years.sort_unstable();
            next.years.dedup();
            *self = next;
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn remove_year(&mut self, year: i64) {
        let days: Vec<DayNumber> = self.day_year.iter().filter(|(_, y)| **y == year).map(|(d, _)| *d).collect();
        for day in days {
            self.days.remove(&day);
            self.day_year.remove(&day);
        }
        self.years.retain(|y| *y != year);
    }

    pub fn rule(&self, day: DayNumber) -> Option<DayRule> {
        self.days.get(&day).copied()
    }

    pub fn festival(&self, index: usize) -> &Festival {
        &self.festivals[index]
    }

    /// The years that have an announcement.
    pub fn years(&self) -> &[i64] {
        &self.years
    }

    /// Whether the calendar knows about the year of `day` (a day in an unannounced year is
    /// treated as an ordinary day; `yardstick check` warns about it).
    pub fn covers(&self, day: DayNumber) -> bool {
        self.years.contains(&civil_from_days(day).0)
    }
}

fn parse_day_range(text: &str) -> Option<(DayNumber, DayNumber)> {
    match text.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (parse_day(a.trim())?, parse_day(b.trim())?);
            (a <= b && b - a < 60).then_some((a, b))
        }
        None => parse_day(text.trim()).map(|d| (d, d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_year_can_be_added_and_a_year_replaced() {
        let mut calendar = HolidayCalendar::china();
        let added = r#"
[[year]]
year = 2027
source = "test"
[[year.festival]]
name = "元旦"
off = ["2027-01-01..2027-01-03"]
work = ["2027-01-04"]
"#;
        calendar.add_file("2027.toml", added).unwrap();
        assert_eq!(calendar.rule(parse_day("2027-01-02").unwrap()), Some(DayRule::Off(calendar.festivals.len() - 1)));
        assert!(matches!(calendar.rule(parse_day("2027-01-04").unwrap()), Some(DayRule::Work(_))));
        // Replacing 2026 drops everything the built-in file said about it.
        let replaced = "[[year]]\nyear = 2026\n[[year.festival]]\nname = \"元旦\"\noff = [\"2026-01-01\"]\n";
        calendar.add_file("2026.toml", replaced).unwrap();
        assert_eq!(calendar.rule(parse_day("2026-02-16").unwrap()), None);
        assert!(calendar.rule(parse_day("2026-01-01").unwrap()).is_some());
    }

    #[test]
    fn errors_name_the_position_and_change_nothing() {
        let mut calendar = HolidayCalendar::china();
        let bad = "[[year]]\nyear = 2027\n[[year.festival]]\nname = \"春节\"\noff = [\"2027-02-30\"]\n";
        let errors = calendar.add_file("2027.toml", bad).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "2027.toml:5:8: error: `2027-02-30` is not a date or date range — fix: write 2027-02-05 or 2027-02-05..2027-02-11"
        );
        assert!(!calendar.years().contains(&2027));
        let twice = "[[year]]\nyear = 2027\n[[year.festival]]\nname = \"春节\"\noff = [\"2027-02-05\"]\nwork = [\"2027-02-05\"]\n";
        assert!(calendar.add_file("2027.toml", twice).unwrap_err()[0].message.contains("listed twice"));
        let unknown = "[[year]]\nyear = 2027\nholidays = []\n";
        assert_eq!(calendar.add_file("2027.toml", unknown).unwrap_err()[0].line, 3);
    }
}
