//! Exact metric values: every aggregate is a ratio of integers until it is printed, so the
//! 6-decimal output is rounded once, exactly, and never depends on summation order.

use std::cmp::Ordering;
use std::fmt;

/// `num / den` with `den > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rational {
    pub num: i128,
    pub den: i128,
}

impl Rational {
    pub fn new(num: i128, den: i128) -> Option<Rational> {
        match den.cmp(&0) {
            Ordering::Equal => None,
            Ordering::Greater => Some(Rational { num, den }.reduced()),
            Ordering::Less => Some(Rational { num: -num, den: -den }.reduced()),
        }
    }

    pub fn int(v: i128) -> Rational {
        Rational { num: v, den: 1 }
    }

    fn reduced(self) -> Rational {
        let g = gcd(self.num.unsigned_abs(), self.den.unsigned_abs()) as i128;
        if g > 1 { Rational { num: self.num / g, den: self.den / g } } else { self }
    }

    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    pub fn is_integer(self) -> bool {
        self.den == 1
    }

    pub fn checked_add(self, o: Rational) -> Option<Rational> {
        Rational::new(
            self.num.checked_mul(o.den)?.checked_add(o.num.checked_mul(self.den)?)?,
            self.den.checked_mul(o.den)?,
        )
    }

    pub fn checked_sub(self, o: Rational) -> Option<Rational> {
        self.checked_add(Rational { num: -o.num, den: o.den })
    }

    pub fn checked_mul(self, o: Rational) -> Option<Rational> {
        Rational::new(self.num.checked_mul(o.num)?, self.den.checked_mul(o.den)?)
    }

    pub fn checked_div(self, o: Rational) -> Option<Rational> {
        Rational::new(self.num.checked_mul(o.den)?, self.den.checked_mul(o.num)?)
    }

    /// Rounded to 6 decimals, half away from zero, trailing zeros stripped (`0.125`,
    /// `0.666667`, `12`, `-3.5`).
    pub fn format6(self) -> String {
        let scaled = self.num * 1_000_000;
        let (q, r) = (scaled / self.den, scaled % self.den);
        let rounded = if 2 * r.abs() >= self.den { q + scaled.signum() } else { q };
        if rounded == 0 {
            return "0".to_string();
        }
        let sign = if rounded < 0 { "-" } else { "" };
        let a = rounded.unsigned_abs();
        let (int, frac) = (a / 1_000_000, a % 1_000_000);
        if frac == 0 {
            format!("{sign}{int}")
        } else {
            let frac = format!("{frac:06}");
            format!("{sign}{int}.{}", frac.trim_end_matches('0'))
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

/// A metric's value for one subject and period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricValue {
    /// None when null (empty denominator, mean over nothing, too few raters).
    pub value: Option<Rational>,
    /// Integer numerator and denominator of ratios; None for counts, sums, means, percentiles.
    pub numerator: Option<i128>,
    pub denominator: Option<i128>,
}

impl MetricValue {
    pub fn plain(value: Option<Rational>) -> MetricValue {
        MetricValue { value, numerator: None, denominator: None }
    }

    pub fn ratio(numerator: i128, denominator: i128, scale: i128) -> MetricValue {
        MetricValue {
            value: Rational::new(numerator * scale, denominator),
            numerator: Some(numerator),
            denominator: Some(denominator),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
