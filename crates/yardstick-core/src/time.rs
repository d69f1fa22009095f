//! Instants, civil dates and the organisation time zone: parsing ISO 8601 quickly and
//! mapping UTC instants to local days.
//!
//! An [`Instant`] is whole seconds since 1970-01-01T00:00:00Z. Yardstick works at one-second
//! resolution: fractional seconds in the input are truncated (documented in README.md).

use jiff::civil;
use jiff::tz::TimeZone;

/// Seconds since the Unix epoch, UTC.
pub type Instant = i64;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// A civil date as days since 1970-01-01 (proleptic Gregorian).
pub type DayNumber = i64;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> DayNumber {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number.
pub fn civil_from_days(days: DayNumber) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// ISO weekday of a day number: 1 = Monday … 7 = Sunday.
pub fn iso_weekday(days: DayNumber) -> u32 {
    ((days + 3).rem_euclid(7) + 1) as u32
}

pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap_year(year) => 29,
        _ => 28,
    }
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_day(days: DayNumber) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD` into a day number.
pub fn parse_day(text: &str) -> Option<DayNumber> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    valid_date(year, month, day).then(|| days_from_civil(year, month, day))
}

fn valid_date(year: i64, month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// A timestamp as written in a file: either an absolute instant (it had `Z` or an offset)
/// or a wall-clock time that still needs the organisation time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParsedTime {
    Utc(Instant),
    /// Seconds since 1970-01-01T00:00:00 of the wall clock, no zone applied yet.
    Local(i64),
}

/// Why a timestamp did not parse; the message is shown to users.
pub const TIME_FORMAT_HINT: &str = "expected an ISO 8601 time such as 2025-03-01T09:30:00+08:00, 2025-03-01T01:30:00Z, 2025-03-01 09:30 or 2025-03-01 (期望 ISO 8601 时间)";

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` (or a space instead of `T`) with an
/// optional `Z`, `±HH:MM`, `±HHMM` or `±HH`. Fractional seconds are truncated.
pub fn parse_time(text: &str) -> Option<ParsedTime> {
    let b = text.as_bytes();
    if b.len() < 10 {
        return None;
    }
    parse_after_date(b, parse_day(text.get(..10)?)?)
}

/// A timestamp parser that remembers the last month it saw (`YYYY-MM`, its first day and
/// length): timestamps in a file cluster on few months, so most parses skip the calendar
/// arithmetic and only read the day.
#[derive(Clone, Debug, Default)]
pub struct TimeParser {
    month: [u8; 7],
    first_day: DayNumber,
    month_len: u32,
}

impl TimeParser {
    /// Same as [`parse_time`].
    #[inline]
    pub fn parse(&mut self, text: &str) -> Option<ParsedTime> {
        let b = text.as_bytes();
        if b.len() < 10 {
            return None;
        }
        let days = if b[..7] == self.month && self.month_len > 0 {
            let day = if b[7] == b'-' { digits(&b[8..10])? } else { return None };
            if day == 0 || day > self.month_len {
                return None;
            }
            self.first_day + day as DayNumber - 1
        } else {
            let days = parse_day(text.get(..10)?)?;
            let (year, month, day) = civil_from_days(days);
            self.month.copy_from_slice(&b[..7]);
            self.first_day = days - (day as DayNumber - 1);
            self.month_len = days_in_month(year, month);
            days
        };
        parse_after_date(b, days)
    }
}

/// `HH:MM:SS` read as one little-endian word: the hour, minute and second when all six
/// are ASCII digits and both colons are in place.
#[inline]
fn clock_word(b: [u8; 8]) -> Option<(u32, u32, u32)> {
    const DIGITS: u64 = 0xFFFF_00FF_FF00_FFFF;
    let w = u64::from_le_bytes(b);
    // Colons at bytes 2 and 5; `0x3_` high nibbles at the digits; a low nibble plus 6
    // carries into the high nibble exactly when it is above 9 (no carry between bytes).
    let ok = w & !DIGITS == 0x0000_3A00_003A_0000
        && w & (DIGITS & 0xF0F0_F0F0_F0F0_F0F0) == 0x3030_0030_3000_3030
        && ((w & 0x0F0F_0F0F_0F0F_0F0F & DIGITS) + 0x0606_0006_0600_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0;
    if !ok {
        return None;
    }
    let d = |i: u32| ((w >> (8 * i)) & 0x0F) as u32;
    Some((d(0) * 10 + d(1), d(3) * 10 + d(4), d(6) * 10 + d(7)))
}

/// Parses what follows `YYYY-MM-DD` in a timestamp.
#[inline]
fn parse_after_date(b: &[u8], days: DayNumber) -> Option<ParsedTime> {
    // The usual shapes first: `THH:MM:SS` then nothing, `Z` or `±HH:MM` (a third of the
    // import's time parsing before); anything else takes the general path below.
    if b.len() >= 19
        && b[10] == b'T'
        && let Some((hour, minute, second)) = clock_word(b[11..19].try_into().expect("eight bytes"))
        && hour <= 23
        && minute <= 59
        && second <= 60
    {
        let local = days * SECONDS_PER_DAY + (hour * 3600 + minute * 60 + second.min(59)) as i64;
        match b[19..] {
            [] => return Some(ParsedTime::Local(local)),
            [b'Z'] => return Some(ParsedTime::Utc(local)),
            [sign @ (b'+' | b'-'), h1 @ b'0'..=b'9', h2 @ b'0'..=b'9', b':', m1 @ b'0'..=b'5', m2 @ b'0'..=b'9'] => {
                let oh = (h1 - b'0') as i64 * 10 + (h2 - b'0') as i64;
                let om = (m1 - b'0') as i64 * 10 + (m2 - b'0') as i64;
                // Real offsets lie within ±14:00.
                if oh * 60 + om <= 14 * 60 {
                    let offset = oh * 3600 + om * 60;
                    return Some(ParsedTime::Utc(if sign == b'+' { local - offset } else { local + offset }));
                }
            }
            _ => {}
        }
    }
    parse_after_date_generally(b, days)
}

/// [`parse_after_date`] for every accepted shape.
fn parse_after_date_generally(b: &[u8], days: DayNumber) -> Option<ParsedTime> {
    if b.len() == 10 {
        return Some(ParsedTime::Local(days * SECONDS_PER_DAY));
    }
    if b[10] != b'T' && b[10] != b' ' && b[10] != b't' {
        return None;
    }
    let rest = &b[11..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let hour = digits(&rest[0..2])?;
    let minute = digits(&rest[3..5])?;
    let mut i = 5;
    let mut second = 0;
    if rest.len() >= 8 && rest[5] == b':' {
        second = digits(&rest[6..8])?;
        i = 8;
        if i < rest.len() && (rest[i] == b'.' || rest[i] == b',') {
            i += 1;
            let start = i;
            while i < rest.len() && rest[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // A leap second (:60) is folded onto :59.
    let second = second.min(59);
    let local = days * SECONDS_PER_DAY + (hour * 3600 + minute * 60 + second) as i64;
    match &rest[i..] {
        [] => Some(ParsedTime::Local(local)),
        [b'Z'] | [b'z'] => Some(ParsedTime::Utc(local)),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (oh, om) = match tail {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
                _ => return None,
            };
            if om > 59 || oh * 60 + om > 14 * 60 {
                return None;
            }
            let offset = (oh * 3600 + om * 60) as i64;
            let offset = if *sign == b'+' { offset } else { -offset };
            Some(ParsedTime::Utc(local - offset))
        }
        _ => None,
    }
}

/// Formats an instant as RFC 3339 in UTC (`2025-03-01T01:30:00Z`).
pub fn format_utc(t: Instant) -> String {
    let days = t.div_euclid(SECONDS_PER_DAY);
    let secs = t.rem_euclid(SECONDS_PER_DAY);
    format!("{}T{:02}:{:02}:{:02}Z", format_day(days), secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The organisation time zone: defines local days, weeks, months, quarters and years.
///
/// Holds the zone's offset transitions as a sorted table so that mapping an instant to its
/// local offset is a binary search over a handful of entries.
#[derive(Clone, Debug)]
pub struct OrgTimeZone {
    name: String,
    zone: TimeZone,
    /// `(utc_start, offset_seconds)`, sorted by `utc_start`; the first entry starts at `i64::MIN`.
    transitions: Vec<(Instant, i32)>,
}

/// The range of instants the transition table covers exactly (1900..2200); outside it the
/// nearest entry's offset is used, which is what the tz database itself does.
const TABLE_FROM: i64 = -2_208_988_800;
const TABLE_TO: i64 = 7_258_118_400;

impl OrgTimeZone {
    /// Looks up an IANA zone name such as `Asia/Shanghai` or `Europe/Berlin` in the bundled
    /// time-zone database. Fixed offsets (`UTC`, `+08:00`) are accepted too.
    pub fn named(name: &str) -> Option<OrgTimeZone> {
        let zone = TimeZone::get(name).ok().or_else(|| {
            // A fixed offset such as +08:00 or -05:30.
            let ParsedTime::Utc(t) = parse_time(&format!("1970-01-01T00:00:00{name}"))? else {
                return None;
            };
            Some(TimeZone::fixed(jiff::tz::Offset::from_seconds(-t as i32).ok()?))
        })?;
        let mut transitions = Vec::new();
        let start = jiff::Timestamp::from_second(TABLE_FROM).expect("valid");
        transitions.push((i64::MIN, zone.to_offset(start).seconds()));
        for t in zone.following(start) {
            let at = t.timestamp().as_second();
            if at > TABLE_TO {
                break;
            }
            let offset = t.offset().seconds();
            if transitions.last().map(|&(_, o)| o) != Some(offset) {
                transitions.push((at, offset));
            }
        }
        Some(OrgTimeZone { name: name.to_string(), zone, transitions })
    }

    pub fn shanghai() -> OrgTimeZone {
        OrgTimeZone::named("Asia/Shanghai").expect("bundled tz database has Asia/Shanghai")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The UTC offset in seconds in force at `t`.
    pub fn offset_at(&self, t: Instant) -> i64 {
        let i = self.transitions.partition_point(|&(start, _)| start <= t);
        self.transitions[i - 1].1 as i64
    }

    /// The local day number of an instant.
    pub fn local_day(&self, t: Instant) -> DayNumber {
        (t + self.offset_at(t)).div_euclid(SECONDS_PER_DAY)
    }

    /// The local wall-clock seconds (since 1970-01-01T00:00:00 local) of an instant.
    pub fn local_seconds(&self, t: Instant) -> i64 {
        t + self.offset_at(t)
    }

    /// The instant of a wall-clock time. In a gap (spring forward) the time is moved forward
    /// by the gap; in a fold (fall back) the earlier instant is taken (RFC 5545 "compatible").
    pub fn to_instant(&self, local_seconds: i64) -> Instant {
        // Fast path: no transition within a day of the guess, so the wall clock is unambiguous.
        let guess = local_seconds - self.offset_at(local_seconds);
        let i = self.transitions.partition_point(|&(start, _)| start <= guess);
        let previous_far = self.transitions[i - 1].0 <= guess - SECONDS_PER_DAY;
        let next_far = self.transitions.get(i).is_none_or(|&(start, _)| start > guess + SECONDS_PER_DAY);
        if previous_far && next_far && local_seconds - self.transitions[i - 1].1 as i64 == guess {
            return guess;
        }
        let days = local_seconds.div_euclid(SECONDS_PER_DAY);
        let secs = local_seconds.rem_euclid(SECONDS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let dt = civil::DateTime::new(
            y as i16,
            m as i8,
            d as i8,
            (secs / 3600) as i8,
            (secs % 3600 / 60) as i8,
            (secs % 60) as i8,
            0,
        );
        match dt {
            Ok(dt) => match self.zone.to_ambiguous_timestamp(dt).compatible() {
                Ok(ts) => ts.as_second(),
                Err(_) => guess,
            },
            Err(_) => guess,
        }
    }

    /// The instant at which a local day starts (local midnight, or the first instant of the
    /// day where midnight falls into a gap).
    pub fn day_start(&self, day: DayNumber) -> Instant {
        self.to_instant(day * SECONDS_PER_DAY)
    }

    /// Resolves a parsed time to an instant.
    pub fn resolve(&self, parsed: ParsedTime) -> Instant {
        match parsed {
            ParsedTime::Utc(t) => t,
            ParsedTime::Local(l) => self.to_instant(l),
        }
    }

    /// Formats an instant as local time with its offset (`2025-03-01T09:30:00+08:00`).
    pub fn format(&self, t: Instant) -> String {
        let offset = self.offset_at(t);
        let local = t + offset;
        let days = local.div_euclid(SECONDS_PER_DAY);
        let secs = local.rem_euclid(SECONDS_PER_DAY);
        let sign = if offset < 0 { '-' } else { '+' };
        let o = offset.abs();
        format!(
            "{}T{:02}:{:02}:{:02}{}{:02}:{:02}",
            format_day(days),
            secs / 3600,
            secs % 3600 / 60,
            secs % 60,
            sign,
            o / 3600,
            o % 3600 / 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(format_day(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(iso_weekday(days_from_civil(2025, 3, 3)), 1);
        assert_eq!(iso_weekday(days_from_civil(2025, 3, 9)), 7);
    }

    /// The fast path for the usual shapes agrees with the general one on every one-byte
    /// change of usual timestamps (digits, separators, nibbles just above 9, `Z`, signs).
    #[test]
    fn usual_shapes_parse_as_the_general_path_does() {
        let bytes = b"0123456789:T tZz+-./;?@\x00\x7f";
        let days = days_from_civil(2025, 3, 1);
        let mut checked = 0;
        for base in
            ["2025-03-01T09:30:59+08:00", "2025-03-01T23:59:60Z", "2025-03-01T00:00:00", "2025-03-01T19:45:07-05:30"]
        {
            for i in 10..base.len() {
                for &c in bytes {
                    let mut b = base.as_bytes().to_vec();
                    b[i] = c;
                    assert_eq!(
                        parse_after_date(&b, days),
                        parse_after_date_generally(&b, days),
                        "{:?}",
                        String::from_utf8_lossy(&b)
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000);
        assert_eq!(clock_word(*b"23:59:60"), Some((23, 59, 60)));
        assert_eq!(clock_word(*b"2?:59:60"), None);
        assert_eq!(clock_word(*b"23:59/60"), None);
    }

    #[test]
    fn parses_the_iso_8601_forms() {
        let utc = |s| match parse_time(s) {
            Some(ParsedTime::Utc(t)) => format_utc(t),
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(utc("2025-03-01T09:30:00+08:00"), "2025-03-01T01:30:00Z");
        assert_eq!(utc("2025-03-01T01:30:00Z"), "2025-03-01T01:30:00Z");
        assert_eq!(utc("2025-03-01 09:30+0800"), "2025-03-01T01:30:00Z");
        assert_eq!(utc("2025-03-01T09:30:00.999+08"), "2025-03-01T01:30:00Z");
        assert_eq!(utc("2025-03-01T00:30:00-05:30"), "2025-03-01T06:00:00Z");
        assert_eq!(parse_time("2025-03-01"), Some(ParsedTime::Local(days_from_civil(2025, 3, 1) * 86_400)));
        assert_eq!(
            parse_time("2025-03-01T09:30"),
            Some(ParsedTime::Local(days_from_civil(2025, 3, 1) * 86_400 + 9 * 3600 + 1800))
        );
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-03-01T24:00:00Z",
            "2025-03-01T09:30:00+8",
            "03/01/2025",
            "2025-03-01T09:30:00 +08:00",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_caching_parser_agrees_with_parse_time() {
        let mut p = TimeParser::default();
        for t in [
            "2025-03-01T09:30:00+08:00",
            "2025-03-01T10:00:00Z",
            "2025-03-02",
            "2025-03-02 08:00",
            "2025-02-30T00:00:00Z",
            "2025-03-02T25:00:00Z",
            "short",
            "2025-03-02T08:00:00+08:00",
            "2025-03-31T23:59:59Z",
            "2025-03-32T00:00:00Z",
            "2025-03-00",
            "2025-03x15",
            "2025-03-1a",
            "2024-02-29",
            "2024-02-30",
            "2025-02-28",
            "2025-02-29",
        ] {
            assert_eq!(p.parse(t), parse_time(t), "{t}");
        }
        // Every day of two years, in order and shuffled by a stride.
        let days: Vec<String> = (0..731)
            .map(|i| {
                let (y, m, d) = civil_from_days(days_from_civil(2024, 1, 1) + i);
                format!("{y:04}-{m:02}-{d:02}T12:00:00+08:00")
            })
            .collect();
        for k in (0..days.len()).chain((0..days.len()).map(|i| i * 7 % 731)) {
            assert_eq!(p.parse(&days[k]), parse_time(&days[k]), "{}", days[k]);
        }
    }

    #[test]
    fn shanghai_has_no_dst_and_berlin_does() {
        let sh = OrgTimeZone::shanghai();
        let t = 1_740_792_600; // 2025-03-01T01:30:00Z
        assert_eq!(sh.offset_at(t), 8 * 3600);
        assert_eq!(sh.format(t), "2025-03-01T09:30:00+08:00");
        let berlin = OrgTimeZone::named("Europe/Berlin").unwrap();
        // 2025-03-30 is 23 hours long in Berlin, 2025-10-26 is 25 hours long.
        let spring = days_from_civil(2025, 3, 30);
        assert_eq!(berlin.day_start(spring + 1) - berlin.day_start(spring), 23 * 3600);
        let autumn = days_from_civil(2025, 10, 26);
        assert_eq!(berlin.day_start(autumn + 1) - berlin.day_start(autumn), 25 * 3600);
        // 02:30 on the spring-forward day does not exist: it is moved to 03:30 CEST.
        let gap = berlin.to_instant(spring * 86_400 + 2 * 3600 + 1800);
        assert_eq!(berlin.format(gap), "2025-03-30T03:30:00+02:00");
        // 02:30 on the fall-back day happens twice: the earlier (CEST) one is taken.
        let fold = berlin.to_instant(autumn * 86_400 + 2 * 3600 + 1800);
        assert_eq!(berlin.format(fold), "2025-10-26T02:30:00+02:00");
        assert_eq!(OrgTimeZone::named("+05:30").unwrap().offset_at(0), 19_800);
        assert!(OrgTimeZone::named("Mars/Olympus").is_none());
    }
}
