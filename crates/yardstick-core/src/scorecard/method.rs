//! The scoring methods of SPEC §6 as plain functions: a value and an item's rule in, a
//! score (rounded to 2 decimals, within [0, cap]) and the arithmetic that produced it out —
//! written so that a reader can redo it with a calculator.

use super::template::{Direction, Item, Method};
use crate::engine::Rational;

/// Scores are shown and added up at this many decimals.
pub const SCORE_PLACES: u32 = 2;

/// An item's rule for one period: its target and threshold after overrides.
#[derive(Clone, Copy, Debug)]
pub struct Rule<'a> {
    pub item: &'a Item,
    pub target: Option<Rational>,
    pub threshold: Option<Rational>,
    pub stretch: Option<Rational>,
}

impl<'a> Rule<'a> {
    pub fn of(item: &'a Item) -> Rule<'a> {
        Rule { item, target: item.target, threshold: item.threshold, stretch: item.stretch }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scored {
    pub score: Rational,
    /// E.g. `(0.8 - 0.6) / (0.85 - 0.6) × 100 = 80`.
    pub arithmetic: String,
}

pub(crate) fn r(n: i128) -> Rational {
    Rational::int(n)
}

// Scoring arithmetic is exact: a result that does not fit in i128 is not approximated.
// It is noted on this thread and comes out as 0; `score_values` takes the note after each
// card (and after grading and bonuses) and reports the card as not scorable, with a
// diagnostic, instead of a number. Realistic inputs never get near the limit (values
// enter at 6 decimals, weights at 4); an absurd value (a sale of 10²⁵) does.
thread_local! {
    static OVERFLOWED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Did scoring arithmetic on this thread overflow since the last call? Clears the note.
pub(crate) fn take_overflow() -> bool {
    OVERFLOWED.with(|o| o.replace(false))
}

fn exact(result: Option<Rational>) -> Rational {
    result.unwrap_or_else(|| {
        OVERFLOWED.with(|o| o.set(true));
        r(0)
    })
}

pub(crate) fn add(a: Rational, b: Rational) -> Rational {
    exact(a.checked_add(b))
}

pub(crate) fn sub(a: Rational, b: Rational) -> Rational {
    exact(a.checked_sub(b))
}

pub(crate) fn mul(a: Rational, b: Rational) -> Rational {
    exact(a.checked_mul(b))
}

/// `a / b`; `b` must not be 0.
pub(crate) fn div(a: Rational, b: Rational) -> Rational {
    exact(a.checked_div(b))
}

/// A number in arithmetic text; negative ones in parentheses (`0.01 - (-0.03)`).
fn n(x: Rational) -> String {
    let text = x.format6();
    if text.starts_with('-') { format!("({text})") } else { text }
}

/// Scores a value by the item's method.
pub fn score(rule: &Rule, value: Rational) -> Scored {
    let item = rule.item;
    let cap = item.cap;
    let hundred = r(100);
    let higher = item.direction == Direction::HigherIsBetter;
    // "a is at least as good as b"
    let good = |a: Rational, b: Rational| if higher { a >= b } else { a <= b };
    let done = |raw: Rational, arithmetic: String| {
        let score = raw.max(r(0)).min(cap).round(SCORE_PLACES);
        Scored { score, arithmetic }
    };
    match &item.method {
        Method::Linear => {
            let (Some(target), Some(threshold)) = (rule.target, rule.threshold) else {
                return done(r(0), "no target/threshold".into());
            };
            if !good(value, threshold) || value == threshold {
                let sign = if higher { "<=" } else { ">=" };
                return done(r(0), format!("{} {sign} threshold {} → 0", n(value), n(threshold)));
            }
            if good(value, target) {
                let Some(stretch) = rule.stretch else {
                    let sign = if higher { ">=" } else { "<=" };
                    return done(hundred, format!("{} {sign} target {} → 100", n(value), n(target)));
                };
                if good(value, stretch) {
                    let sign = if higher { ">=" } else { "<=" };
                    return done(cap, format!("{} {sign} stretch {} → cap {}", n(value), n(stretch), n(cap)));
                }
                let raw = add(hundred, mul(div(sub(value, target), sub(stretch, target)), sub(cap, hundred)));
                let shown = raw.round(SCORE_PLACES);
                return done(
                    raw,
                    format!(
                        "100 + ({} - {}) / ({} - {}) × ({} - 100) = {}",
                        n(value),
                        n(target),
                        n(stretch),
                        n(target),
                        n(cap),
                        shown.format_places(SCORE_PLACES)
                    ),
                );
            }
            let raw = mul(div(sub(value, threshold), sub(target, threshold)), hundred);
            let shown = raw.round(SCORE_PLACES);
            done(
                raw,
                format!(
                    "({} - {}) / ({} - {}) × 100 = {}",
                    n(value),
                    n(threshold),
                    n(target),
                    n(threshold),
                    shown.format_places(SCORE_PLACES)
                ),
            )
        }
        Method::Ratio => {
            let Some(target) = rule.target.filter(|t| *t != r(0)) else {
                return done(r(0), "no target".into());
            };
            let (raw, text) = if higher {
                (div(mul(hundred, value), target), format!("100 × {} / {}", n(value), n(target)))
            } else if value <= r(0) {
                return done(cap, format!("{} <= 0 → cap {}", n(value), n(cap)));
            } else {
                (div(mul(hundred, target), value), format!("100 × {} / {}", n(target), n(value)))
            };
            let shown = raw.max(r(0)).min(cap).round(SCORE_PLACES);
            let text = if raw > cap {
                format!("min({text}, cap {}) = {}", n(cap), shown.format_places(SCORE_PLACES))
            } else {
                format!("{text} = {}", shown.format_places(SCORE_PLACES))
            };
            done(raw, text)
        }
        Method::Steps(steps) => {
            let sign = if higher { ">=" } else { "<=" };
            match steps.iter().find(|s| good(value, s.bound)) {
                Some(s) => done(s.points, format!("{} {sign} {} → {}", n(value), n(s.bound), n(s.points))),
                None => done(r(0), format!("{} is outside every step → 0", n(value))),
            }
        }
        Method::PassFail => {
            let Some(target) = rule.target else { return done(r(0), "no target".into()) };
            let (sign, pass) = match (higher, good(value, target)) {
                (true, true) => (">=", true),
                (true, false) => ("<", false),
                (false, true) => ("<=", true),
                (false, false) => (">", false),
            };
            let points = if pass { hundred } else { r(0) };
            done(points, format!("{} {sign} target {} → {}", n(value), n(target), n(points)))
        }
        Method::Deduction { points_per_unit } => {
            let raw = sub(hundred, mul(*points_per_unit, value));
            let shown = raw.max(r(0)).min(cap).round(SCORE_PLACES);
            let text = format!("100 - {} × {}", n(*points_per_unit), n(value));
            let text = if raw < r(0) {
                format!("max(0, {text}) = 0")
            } else {
                format!("{text} = {}", shown.format_places(SCORE_PLACES))
            };
            done(raw, text)
        }
        Method::Rating { min, max } => {
            let raw = mul(div(sub(value, *min), sub(*max, *min)), hundred);
            let shown = raw.max(r(0)).min(cap).round(SCORE_PLACES);
            done(
                raw,
                format!(
                    "({} - {}) / ({} - {}) × 100 = {}",
                    n(value),
                    n(*min),
                    n(*max),
                    n(*min),
                    shown.format_places(2)
                ),
            )
        }
    }
}
