//! Exact metric values: every aggregate is a ratio of integers until it is printed, so the
//! 6-decimal output is rounded once, exactly, and never depends on summation order.

use std::cmp::Ordering;
use std::fmt;
use std::num::NonZeroI128;

/// `num / den` with `den > 0`. The denominator is never zero, which leaves `Option<Rational>`
/// the size of a `Rational` (32 bytes, not 48): a computation at 10 M tickets holds one in
/// each of 3 million values and result rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rational {
    pub num: i128,
    den: NonZeroI128,
}

impl Rational {
    pub fn new(num: i128, den: i128) -> Option<Rational> {
        match den.cmp(&0) {
            Ordering::Equal => None,
            Ordering::Greater => Some(Rational::raw(num, den).reduced()),
            Ordering::Less => Some(Rational::raw(-num, -den).reduced()),
        }
    }

    /// `num / den` as given, not reduced; `den > 0`.
    pub(crate) fn raw(num: i128, den: i128) -> Rational {
        debug_assert!(den > 0, "a positive denominator");
        Rational { num, den: NonZeroI128::new(den).expect("a positive denominator") }
    }

    /// The denominator (positive).
    pub fn den(self) -> i128 {
        self.den.get()
    }

    pub fn int(v: i128) -> Rational {
        Rational::raw(v, 1)
    }

    fn reduced(self) -> Rational {
        // Nearly every value fits in 64 bits, where division is one instruction instead of
        // a library call (`den > 0` here, so the divisor is at most `i64::MAX`).
        if let (Ok(num), Ok(den)) = (i64::try_from(self.num), i64::try_from(self.den()))
            && let Ok(g) = i64::try_from(gcd64(num.unsigned_abs(), den.unsigned_abs()))
        {
            return if g == 1 { self } else { Rational::raw((num / g) as i128, (den / g) as i128) };
        }
        let g = gcd(self.num.unsigned_abs(), self.den().unsigned_abs()) as i128;
        if g > 1 { Rational::raw(self.num / g, self.den() / g) } else { self }
    }

    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den() as f64
    }

    pub fn is_integer(self) -> bool {
        self.den() == 1
    }

    pub fn checked_add(self, o: Rational) -> Option<Rational> {
        Rational::new(
            self.num.checked_mul(o.den())?.checked_add(o.num.checked_mul(self.den())?)?,
            self.den().checked_mul(o.den())?,
        )
    }

    pub fn checked_sub(self, o: Rational) -> Option<Rational> {
        self.checked_add(-o)
    }

    pub fn checked_mul(self, o: Rational) -> Option<Rational> {
        Rational::new(self.num.checked_mul(o.num)?, self.den().checked_mul(o.den())?)
    }

    pub fn checked_div(self, o: Rational) -> Option<Rational> {
        Rational::new(self.num.checked_mul(o.den())?, self.den().checked_mul(o.num)?)
    }

    /// Rounded to 6 decimals, half away from zero, trailing zeros stripped (`0.125`,
    /// `0.666667`, `12`, `-3.5`).
    pub fn format6(self) -> String {
        self.format_places(6)
    }

    /// Rounded to `places` decimals (at most 12), half away from zero, trailing zeros
    /// stripped.
    pub fn format_places(self, places: u32) -> String {
        let mut out = String::new();
        self.write_places(&mut out, places);
        out
    }

    /// [`Rational::format_places`] written onto `out` (no text made on the way: output of
    /// a million values calls this a million times).
    pub fn write_places(self, out: &mut String, places: u32) {
        use std::fmt::Write;
        let unit = 10i128.pow(places);
        let rounded = self.round(places);
        let Some(scaled) = rounded.num.checked_mul(unit / rounded.den()) else {
            // Too large to scale: `round` gave a whole number, written without decimals.
            let _ = write!(out, "{}", rounded.num / rounded.den());
            return;
        };
        if scaled < 0 {
            out.push('-');
        }
        let a = scaled.unsigned_abs();
        let (int, frac) = (a / unit as u128, a % unit as u128);
        let _ = write!(out, "{int}");
        if frac != 0 {
            let mut digits = places as usize;
            let mut frac = frac;
            while frac % 10 == 0 {
                frac /= 10;
                digits -= 1;
            }
            let _ = write!(out, ".{frac:0digits$}");
        }
    }

    /// Rounded to `places` decimals (at most 12), half away from zero.
    pub fn round(self, places: u32) -> Rational {
        let unit = 10i128.pow(places);
        let Some(scaled) = self.num.checked_mul(unit) else {
            // Too large to scale exactly: whole numbers this big have no decimals to round.
            return Rational::int(self.num / self.den());
        };
        let (q, r) = (scaled / self.den(), scaled % self.den());
        let rounded = if 2 * r.abs() >= self.den() { q + scaled.signum() } else { q };
        Rational::raw(rounded, unit).reduced()
    }

    /// Parses a plain decimal (`85`, `0.85`, `-3.5`).
    pub fn parse_decimal(text: &str) -> Option<Rational> {
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || int.len() + frac.len() > 30
        {
            return None;
        }
        let num: i128 = format!("{int}{frac}").trim_start_matches('0').parse().unwrap_or(0);
        let r = Rational::new(num, 10i128.pow(frac.len() as u32))?;
        Some(if negative { -r } else { r })
    }

    /// The decimal a configuration number was written as (`0.85` is 85/100, not the
    /// binary fraction nearest to it).
    pub fn from_f64_decimal(x: f64) -> Option<Rational> {
        if !x.is_finite() {
            return None;
        }
        Rational::parse_decimal(&format!("{x}"))
    }
}

impl std::ops::Neg for Rational {
    type Output = Rational;

    fn neg(self) -> Rational {
        Rational { num: -self.num, den: self.den }
    }
}

impl PartialOrd for Rational {
    fn partial_cmp(&self, other: &Rational) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rational {
    fn cmp(&self, other: &Rational) -> Ordering {
        match (self.num.checked_mul(other.den()), other.num.checked_mul(self.den())) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

/// Binary GCD (Stein): shifts and subtractions, no division; at least 1.
fn gcd64(mut a: u64, mut b: u64) -> u64 {
    if a == 0 || b == 0 {
        return (a | b).max(1);
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format6())
    }
}

/// A metric's value for one subject and period: 64 bytes (a computation at 10 M tickets
/// holds about 3 million of them, in its values and its result rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricValue {
    /// None when null (empty denominator, mean over nothing, too few raters).
    pub value: Option<Rational>,
    /// [`MetricValue::numerator`], [`MetricValue::denominator`], [`MetricValue::sample`]: 0
    /// where absent, which `present` tells.
    numerator: i64,
    denominator: i64,
    sample: i64,
    present: u8,
}

// The sizes the comments above promise.
const _: () = assert!(size_of::<Option<Rational>>() == 32 && size_of::<MetricValue>() == 64);

const NUMERATOR: u8 = 1;
const DENOMINATOR: u8 = 2;
const SAMPLE: u8 = 4;

impl MetricValue {
    pub fn plain(value: Option<Rational>) -> MetricValue {
        MetricValue { value, numerator: 0, denominator: 0, sample: 0, present: 0 }
    }

    /// The same value resting on `n` records.
    pub fn with_sample(self, n: i64) -> MetricValue {
        MetricValue { sample: n, present: self.present | SAMPLE, ..self }
    }

    pub fn ratio(numerator: i64, denominator: i64, scale: i128) -> MetricValue {
        MetricValue {
            value: Rational::new(numerator as i128 * scale, denominator as i128),
            numerator,
            denominator,
            sample: denominator,
            present: NUMERATOR | DENOMINATOR | SAMPLE,
        }
    }

    fn part(self, which: u8, v: i64) -> Option<i64> {
        (self.present & which != 0).then_some(v)
    }

    /// Integer numerator of a ratio; None for counts, sums, means, percentiles.
    pub fn numerator(self) -> Option<i64> {
        self.part(NUMERATOR, self.numerator)
    }

    /// Integer denominator of a ratio; None for counts, sums, means, percentiles.
    pub fn denominator(self) -> Option<i64> {
        self.part(DENOMINATOR, self.denominator)
    }

    /// How many records the value rests on (the denominator of a ratio, the values of a
    /// mean or percentile, the records of a count); None for sums and formulas other
    /// than ratios. Scorecards compare it with an item's minimum sample.
    pub fn sample(self) -> Option<i64> {
        self.part(SAMPLE, self.sample)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 64-bit binary GCD agrees with Euclid's, zeros and extremes included.
    #[test]
    fn binary_gcd_equals_euclid() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut cases = vec![(0, 0), (0, 7), (7, 0), (1, u64::MAX), (u64::MAX, u64::MAX), (1 << 63, 1 << 62)];
        for _ in 0..10_000 {
            let (a, b) = (next() >> (next() % 64), next() >> (next() % 64));
            let common = next() % 1000 + 1;
            cases.push((a, b));
            cases.push((a.wrapping_mul(common) >> 12, b.wrapping_mul(common) >> 12));
        }
        for (a, b) in cases {
            assert_eq!(gcd64(a, b) as u128, gcd(a as u128, b as u128), "gcd({a}, {b})");
        }
        // Reduction by it: signs, and values at the edge of 64 bits.
        assert_eq!(Rational::new(-6, 4), Some(Rational::raw(-3, 2)));
        assert_eq!(Rational::new(6, -4), Some(Rational::raw(-3, 2)));
        let min = i64::MIN as i128;
        assert_eq!(Rational::new(min, 2), Some(Rational::raw(min / 2, 1)));
        assert_eq!(Rational::new(min, -min), Some(Rational::raw(-1, 1)));
        assert_eq!(Rational::new(0, 5), Some(Rational::raw(0, 1)));
    }

    #[test]
    fn rounds_half_away_from_zero_exactly() {
        let f = |n, d| Rational::new(n, d).unwrap().format6();
        assert_eq!(f(2, 3), "0.666667");
        assert_eq!(f(1, 8), "0.125");
        assert_eq!(f(-1, 3), "-0.333333");
        assert_eq!(f(25, 2_000_000), "0.000013"); // 0.0000125 rounds up
        assert_eq!(f(-25, 2_000_000), "-0.000013");
        assert_eq!(f(1, 3_000_000), "0"); // no "-0", no "0.000000"
        assert_eq!(f(-1, 3_000_000), "0");
        assert_eq!(f(300, 3), "100");
        assert_eq!(f(7, 1), "7");
        assert_eq!(f(1_234_567_891, 1_000), "1234567.891");
        assert_eq!(f(-5, 1_000_000), "-0.000005");
        assert_eq!(f(-101, 100), "-1.01");
        assert_eq!(f(1, 2), "0.5");
        // Written onto text already there, as the CSV output does.
        let mut out = String::from("x,");
        Rational::new(-7, 2).unwrap().write_places(&mut out, 6);
        assert_eq!(out, "x,-3.5");
    }

    #[test]
    fn arithmetic_stays_exact() {
        let a = Rational::new(1, 3).unwrap();
        let b = Rational::new(1, 6).unwrap();
        assert_eq!(a.checked_add(b), Rational::new(1, 2));
        assert_eq!(a.checked_sub(b), Rational::new(1, 6));
        assert_eq!(a.checked_div(b), Rational::new(2, 1));
        assert_eq!(a.checked_div(Rational::int(0)), None);
    }

    #[test]
    fn decimals_parse_round_and_compare() {
        let d = |t| Rational::parse_decimal(t).unwrap();
        assert_eq!(d("0.85"), Rational::new(17, 20).unwrap());
        assert_eq!(d("-3.50"), Rational::new(-7, 2).unwrap());
        assert_eq!(d("100"), Rational::int(100));
        assert_eq!(Rational::parse_decimal("1e3"), None);
        assert_eq!(Rational::parse_decimal("."), None);
        assert_eq!(Rational::from_f64_decimal(0.1), Some(d("0.1")));
        assert_eq!(Rational::new(200, 3).unwrap().round(2), d("66.67"));
        assert_eq!(d("-0.125").round(2), d("-0.13"));
        assert_eq!(d("87.5").format_places(2), "87.5");
        assert_eq!(d("87.456").format_places(2), "87.46");
        assert!(d("0.85") > d("0.849999"));
        assert!(d("-1") < Rational::int(0));
    }
}
