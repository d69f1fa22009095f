//! The business calendar (SPEC §5): weekly working hours plus a public-holiday calendar,
//! and the business clock that measures working time between two instants.

mod holidays;

use std::sync::Arc;

pub use holidays::{CHINA_HOLIDAYS_TOML, DayRule, Festival, HolidayCalendar};

use crate::time::{DayNumber, Instant, OrgTimeZone, SECONDS_PER_DAY, days_from_civil, iso_weekday};

/// Working intervals of one day as local seconds since midnight, `[start, end)`, sorted and
/// disjoint; `end` may be 86 400 (midnight at the end of the day).
pub type DayHours = Vec<(u32, u32)>;

/// Working hours per ISO weekday (index 0 = Monday) and for adjusted working days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeeklyHours {
    pub days: [DayHours; 7],
    /// Hours of a weekend day declared a working day (调休); by default Monday's hours.
    pub adjusted_workday: DayHours,
}

pub const HOURS_FORMAT_HINT: &str =
    "write e.g. \"Mon-Fri 09:00-18:00\", \"Mon-Fri 09:00-12:00,13:00-18:00; Sat 09:00-12:00\" or \"24x7\"";

impl WeeklyHours {
    /// Parses `Mon-Fri 09:00-18:00; Sat 09:00-12:00`, `24x7`, or Chinese day names
    /// (`周一-周五 09:00-18:00`). Days not mentioned have no working hours.
    pub fn parse(text: &str) -> Result<WeeklyHours, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("24x7") || text == "24/7" {
            let all = vec![(0, 86_400)];
            return Ok(WeeklyHours { days: std::array::from_fn(|_| all.clone()), adjusted_workday: all });
        }
        let mut days: [DayHours; 7] = Default::default();
        for segment in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let (day_spec, times) =
                segment.split_once(char::is_whitespace).ok_or_else(|| format!("`{segment}` has no times"))?;
            let mut intervals = Vec::new();
            for range in times.split(',').map(str::trim) {
                let (a, b) = range.split_once('-').ok_or_else(|| format!("`{range}` is not a time range"))?;
                let (a, b) = (parse_clock(a)?, parse_clock(b)?);
                if a >= b {
                    return Err(format!("`{range}` ends before it starts"));
                }
                intervals.push((a, b));
            }
            for day in parse_day_spec(day_spec)? {
                days[day].extend(intervals.iter().copied());
            }
        }
        for hours in days.iter_mut() {
            hours.sort_unstable();
            if hours.windows(2).any(|w| w[0].1 > w[1].0) {
                return Err("working intervals of a day overlap".to_string());
            }
        }
        let adjusted_workday = days[0].clone();
        Ok(WeeklyHours { days, adjusted_workday })
    }
}

fn parse_clock(text: &str) -> Result<u32, String> {
    let (h, m) = text.trim().split_once(':').ok_or_else(|| format!("`{text}` is not a time like 09:00"))?;
    let (h, m): (u32, u32) = (
        h.parse().map_err(|_| format!("`{text}` is not a time"))?,
        m.parse().map_err(|_| format!("`{text}` is not a time"))?,
    );
    if m > 59 || h > 24 || (h == 24 && m > 0) {
        return Err(format!("`{text}` is not a time of day"));
    }
    Ok(h * 3600 + m * 60)
}

fn parse_day_spec(spec: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        let (a, b) = match part.split_once(['-', '~', '至']) {
            Some((a, b)) => (weekday_index(a)?, weekday_index(b)?),
            None => (weekday_index(part)?, weekday_index(part)?),
        };
        let mut d = a;
        loop {
            out.push(d);
            if d == b {
                break;
            }
            d = (d + 1) % 7;
        }
    }
    Ok(out)
}

fn weekday_index(name: &str) -> Result<usize, String> {
    const EN: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    const ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    let lower = name.trim().to_ascii_lowercase();
    EN.iter()
        .position(|d| lower.starts_with(d))
        .or_else(|| ZH.iter().position(|d| *d == name.trim()))
        .or_else(|| (name.trim() == "周天").then_some(6))
        .ok_or_else(|| format!("`{name}` is not a weekday (Mon … Sun, 周一 … 周日)"))
}

/// A named calendar: weekly hours and (optionally) a holiday calendar.
#[derive(Clone, Debug)]
pub struct Calendar {
    pub name: String,
    pub weekly: WeeklyHours,
    pub holidays: Option<Arc<HolidayCalendar>>,
}

impl Calendar {
    /// Mon–Fri 09:00–18:00 with the Chinese statutory calendar.
    pub fn china_office() -> Calendar {
        Calendar {
            name: "default".to_string(),
            weekly: WeeklyHours::parse("Mon-Fri 09:00-18:00").expect("valid"),
            holidays: Some(Arc::new(HolidayCalendar::china())),
        }
    }

    /// The working intervals of a local day.
    pub fn hours(&self, day: DayNumber) -> &[(u32, u32)] {
        match self.holidays.as_ref().and_then(|h| h.rule(day)) {
            Some(DayRule::Off(_)) => &[],
            Some(DayRule::Work(_)) => &self.weekly.adjusted_workday,
            None => &self.weekly.days[iso_weekday(day) as usize - 1],
        }
    }

    pub fn is_workday(&self, day: DayNumber) -> bool {
        !self.hours(day).is_empty()
    }

    /// The festival a day off belongs to, if any.
    pub fn holiday(&self, day: DayNumber) -> Option<&Festival> {
        let holidays = self.holidays.as_ref()?;
        match holidays.rule(day)? {
            DayRule::Off(i) => Some(holidays.festival(i)),
            DayRule::Work(_) => None,
        }
    }
}

/// Measures working time between instants for one calendar in one time zone.
///
/// Holds, for every local day of its range, the working intervals as UTC instants and the
/// working seconds before the day, so that `W(t)` (working seconds since the start of the
/// range) is a lookup; business time between `a` and `b` is `W(b) − W(a)`, which makes it
/// additive by construction. DST days are handled because intervals are converted through
/// the zone: a working span across a spring-forward gap is an hour shorter.
#[derive(Clone, Debug)]
pub struct BusinessClock {
    tz: OrgTimeZone,
    first_day: DayNumber,
    /// Working seconds before each day (`len = n_days + 1`).
    before_day: Vec<i64>,
    /// Start of each day's intervals in `intervals` (`len = n_days + 1`).
    day_offsets: Vec<u32>,
    intervals: Vec<(Instant, Instant)>,
}

impl BusinessClock {
    /// Covers local days from 1970-01-01 up to 2100-01-01; instants outside are clamped.
    pub fn new(calendar: &Calendar, tz: &OrgTimeZone) -> BusinessClock {
        BusinessClock::with_range(calendar, tz, 0, days_from_civil(2100, 1, 1))
    }

    pub fn with_range(
        calendar: &Calendar,
        tz: &OrgTimeZone,
        first_day: DayNumber,
        end_day: DayNumber,
    ) -> BusinessClock {
        let n = (end_day - first_day).max(0) as usize;
        let mut before_day = Vec::with_capacity(n + 1);
        let mut day_offsets = Vec::with_capacity(n + 1);
        let mut intervals = Vec::new();
        let mut total = 0i64;
        for i in 0..n {
            let day = first_day + i as i64;
            before_day.push(total);
            day_offsets.push(intervals.len() as u32);
            let local_midnight = day * SECONDS_PER_DAY;
            for &(a, b) in calendar.hours(day) {
                let start = tz.to_instant(local_midnight + a as i64);
                let end = tz.to_instant(local_midnight + b as i64);
                if end > start {
                    total += end - start;
                    intervals.push((start, end));
                }
            }
        }
        before_day.push(total);
        day_offsets.push(intervals.len() as u32);
        BusinessClock { tz: tz.clone(), first_day, before_day, day_offsets, intervals }
    }

    /// Working seconds from the start of the clock's range up to `t`.
    pub fn working_seconds_until(&self, t: Instant) -> i64 {
        let n = self.before_day.len() as i64 - 1;
        let d = self.tz.local_day(t) - self.first_day;
        if d < 0 {
            return 0;
        }
        if d >= n {
            return self.before_day[n as usize];
        }
        let d = d as usize;
        let mut w = self.before_day[d];
        for &(start, end) in &self.intervals[self.day_offsets[d] as usize..self.day_offsets[d + 1] as usize] {
            if t <= start {
                break;
            }
            w += t.min(end) - start;
        }
        w
    }

    /// Working seconds between `a` and `b` (negative when `b` is before `a`).
    pub fn business_seconds(&self, a: Instant, b: Instant) -> i64 {
        self.working_seconds_until(b) - self.working_seconds_until(a)
    }
}

#[cfg(test)]
mod tests;
