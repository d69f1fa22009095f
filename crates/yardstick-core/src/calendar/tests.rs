//! Tests of the business calendar: the official Chinese calendar day by day, working
//! hours, business durations by hand, additivity, and DST.

use super::*;
use crate::testkit::Rng;
use crate::time::{format_day, parse_day};

/// Every day of 2020–2026, workday or not, as published by the State Council. The fixture
/// was produced independently of Yardstick's data with the `chinesecalendar` 1.11.0 package
/// (PyPI), whose tables are maintained from the same notices.
const OFFICIAL_WORKDAYS: &str = include_str!("../../tests/fixtures/cn-workdays-2020-2026.csv");

#[test]
fn matches_the_official_calendar_for_every_day_2020_to_2026() {
    let calendar = Calendar::china_office();
    let mut checked = 0;
    for line in OFFICIAL_WORKDAYS.lines().skip(1) {
        let (date, workday) = line.split_once(',').unwrap();
        let day = parse_day(date).unwrap();
        assert_eq!(calendar.is_workday(day), workday == "true", "{date}");
        checked += 1;
    }
    assert_eq!(checked, 2557);
}

#[test]
fn festival_names_and_adjusted_workdays() {
    let calendar = Calendar::china_office();
    let name = |d: &str| calendar.holiday(parse_day(d).unwrap()).map(|f| f.name.clone());
    assert_eq!(name("2020-02-02").as_deref(), Some("春节")); // the 2020 extension
    assert_eq!(name("2022-12-31").as_deref(), Some("元旦")); // announced for 2023
    assert_eq!(name("2023-10-06").as_deref(), Some("中秋节、国庆节"));
    assert_eq!(name("2025-10-08").as_deref(), Some("国庆节、中秋节"));
    assert_eq!(name("2026-02-23").as_deref(), Some("春节"));
    assert_eq!(name("2024-12-31"), None);
    // 调休: weekend days that are working days carry no festival name.
    for d in ["2020-01-19", "2023-01-28", "2023-01-29", "2025-02-08", "2026-01-04", "2026-02-28"] {
        let day = parse_day(d).unwrap();
        assert!(crate::time::iso_weekday(day) >= 6 && calendar.is_workday(day), "{d}");
        assert_eq!(name(d), None);
    }
    // 2020-02-01 was announced as a working Saturday, then cancelled by the extension.
    assert!(!calendar.is_workday(parse_day("2020-02-01").unwrap()));
}

#[test]
fn weekly_hours_parse() {
    let hours = WeeklyHours::parse("Mon-Fri 09:00-12:00,13:00-18:00; Sat 09:00-12:00").unwrap();
    assert_eq!(hours.days[0], vec![(9 * 3600, 12 * 3600), (13 * 3600, 18 * 3600)]);
    assert_eq!(hours.days[5], vec![(9 * 3600, 12 * 3600)]);
    assert!(hours.days[6].is_empty());
    assert_eq!(WeeklyHours::parse("周一-周六 08:00-20:00").unwrap().days[5], vec![(8 * 3600, 20 * 3600)]);
    assert_eq!(WeeklyHours::parse("24x7").unwrap().days[6], vec![(0, 86_400)]);
    assert_eq!(WeeklyHours::parse("Sat-Mon 10:00-11:00").unwrap().days[0], vec![(36_000, 39_600)]);
    for bad in
        ["Mon-Fri", "Mon-Fri 18:00-09:00", "Funday 09:00-10:00", "Mon 09:00-25:00", "Mon 09:00-12:00,11:00-13:00"]
    {
        assert!(WeeklyHours::parse(bad).is_err(), "{bad}");
    }
}

fn at(text: &str) -> Instant {
    match crate::time::parse_time(text).unwrap() {
        crate::time::ParsedTime::Utc(t) => t,
        crate::time::ParsedTime::Local(_) => panic!("give an offset"),
    }
}

#[test]
fn business_durations_worked_by_hand() {
    let tz = OrgTimeZone::shanghai();
    let clock = BusinessClock::new(&Calendar::china_office(), &tz);
    let hours = |a: &str, b: &str| clock.business_seconds(at(a), at(b)) as f64 / 3600.0;
    // Friday 17:00 → Monday 10:00: one hour on Friday, one on Monday.
    assert_eq!(hours("2025-03-07T17:00:00+08:00", "2025-03-10T10:00:00+08:00"), 2.0);
    // Within one working day, and entirely outside working hours.
    assert_eq!(hours("2025-03-10T09:30:00+08:00", "2025-03-10T11:00:00+08:00"), 1.5);
    assert_eq!(hours("2025-03-10T19:00:00+08:00", "2025-03-11T08:00:00+08:00"), 0.0);
    // Across the 2025 Spring Festival: Mon 27 Jan 17:00 → Sat 8 Feb (调休 workday) 10:00.
    // 27 Jan: 1 h; 28 Jan – 4 Feb off; 5–7 Feb: 3 × 9 h; 8 Feb: 1 h.
    assert_eq!(hours("2025-01-27T17:00:00+08:00", "2025-02-08T10:00:00+08:00"), 29.0);
    // The adjusted Sunday 26 Jan 2025 is a working day.
    assert_eq!(hours("2025-01-26T00:00:00+08:00", "2025-01-27T00:00:00+08:00"), 9.0);
    // Reversed arguments give the negative.
    assert_eq!(hours("2025-03-10T11:00:00+08:00", "2025-03-10T09:30:00+08:00"), -1.5);
}

#[test]
fn business_time_across_dst_in_berlin() {
    let tz = OrgTimeZone::named("Europe/Berlin").unwrap();
    let calendar = Calendar { name: "night".into(), weekly: WeeklyHours::parse("24x7").unwrap(), holidays: None };
    let clock = BusinessClock::new(&calendar, &tz);
    // Sunday 30 March 2025 has 23 hours; 26 October has 25.
    let spring = clock.business_seconds(at("2025-03-30T00:00:00+01:00"), at("2025-03-31T00:00:00+02:00"));
    assert_eq!(spring, 23 * 3600);
    let autumn = clock.business_seconds(at("2025-10-26T00:00:00+02:00"), at("2025-10-27T00:00:00+01:00"));
    assert_eq!(autumn, 25 * 3600);
    // A 01:00–04:00 shift on the spring-forward night is two real hours long.
    let shift = Calendar { name: "x".into(), weekly: WeeklyHours::parse("Sun 01:00-04:00").unwrap(), holidays: None };
    let clock = BusinessClock::new(&shift, &tz);
    assert_eq!(clock.business_seconds(at("2025-03-29T12:00:00Z"), at("2025-03-30T12:00:00Z")), 2 * 3600);
}

trait InstantRng {
    fn instant(&mut self, from: Instant, to: Instant) -> Instant;
}

impl InstantRng for Rng {
    fn instant(&mut self, from: Instant, to: Instant) -> Instant {
        from + (self.next() % (to - from) as u64) as i64
    }
}

#[test]
fn business_duration_is_additive_and_bounded() {
    let from = at("2019-12-01T00:00:00Z");
    let to = at("2027-02-01T00:00:00Z");
    let calendars = [
        (OrgTimeZone::shanghai(), Calendar::china_office()),
        (
            OrgTimeZone::named("Europe/Berlin").unwrap(),
            Calendar {
                name: "b".into(),
                weekly: WeeklyHours::parse("Mon-Sat 08:00-12:30,13:30-20:00").unwrap(),
                holidays: None,
            },
        ),
        (
            OrgTimeZone::named("America/New_York").unwrap(),
            Calendar { name: "c".into(), weekly: WeeklyHours::parse("24x7").unwrap(), holidays: None },
        ),
    ];
    let mut rng = Rng(7);
    for (tz, calendar) in &calendars {
        let clock = BusinessClock::new(calendar, tz);
        for _ in 0..20_000 {
            let mut t = [rng.instant(from, to), rng.instant(from, to), rng.instant(from, to)];
            t.sort_unstable();
            let [a, b, c] = t;
            let ab = clock.business_seconds(a, b);
            let bc = clock.business_seconds(b, c);
            assert_eq!(clock.business_seconds(a, c), ab + bc, "{} {} {}", a, b, c);
            assert!(ab >= 0 && ab <= b - a);
        }
    }
}

#[test]
fn calendar_days_print_as_the_cli_shows_them() {
    let calendar = Calendar::china_office();
    let rows: Vec<String> = (parse_day("2025-09-27").unwrap()..=parse_day("2025-10-01").unwrap())
        .map(|d| {
            format!(
                "{},{},{}",
                format_day(d),
                calendar.is_workday(d),
                calendar.holiday(d).map_or("", |f| f.name.as_str())
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "2025-09-27,false,",
            "2025-09-28,true,",
            "2025-09-29,true,",
            "2025-09-30,true,",
            "2025-10-01,false,国庆节、中秋节"
        ]
    );
}
