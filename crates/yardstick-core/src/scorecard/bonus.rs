//! Bonuses: base × grade coefficient, raised by per-item rules ("+5 % for each +1 point
//! above target"), or a pool split by total to the cent (largest remainder).

use super::method::{add, div, mul, r, sub};
use super::template::{BonusRule, Direction};
use crate::engine::Rational;

/// Money is rounded to the cent.
pub const MONEY_PLACES: u32 = 2;

/// The percent a rule adds for a value: whole steps of `per` beyond the target (on the
/// better side), times `percent`, at most `max_percent`. Returns (percent, arithmetic).
pub fn rule_percent(rule: &BonusRule, direction: Direction, value: Rational, target: Rational) -> (Rational, String) {
    let beyond = match direction {
        Direction::HigherIsBetter => sub(value, target),
        Direction::LowerIsBetter => sub(target, value),
    };
    let n = |x: Rational| x.format6();
    if beyond <= r(0) {
        return (r(0), format!("{}: {} is not beyond target {} → +0%", rule.metric, n(value), n(target)));
    }
    let steps_exact = div(beyond, rule.per);
    let steps = steps_exact.num.div_euclid(steps_exact.den());
    let mut percent = mul(r(steps), rule.percent);
    let mut text = format!(
        "{}: floor(|{} - {}| / {}) = {} step(s) × {}% = {}%",
        rule.metric,
        n(value),
        n(target),
        n(rule.per),
        steps,
        n(rule.percent),
        n(percent)
    );
    if let Some(max) = rule.max_percent
        && percent > max
    {
        percent = max;
        text.push_str(&format!(", capped at {}%", n(max)));
    }
    (percent, text)
}

/// base × coefficient × (1 + percent / 100), to the cent.
pub fn base_bonus(base: Rational, coefficient: Rational, percent: Rational) -> (Rational, String) {
    let amount = mul(mul(base, coefficient), add(r(1), div(percent, r(100)))).round(MONEY_PLACES);
    let text = if percent == r(0) {
        format!("{} × {} = {}", base.format6(), coefficient.format6(), amount.format_places(MONEY_PLACES))
    } else {
        format!(
            "{} × {} × (1 + {}%) = {}",
            base.format6(),
            coefficient.format6(),
            percent.format6(),
            amount.format_places(MONEY_PLACES)
        )
    };
    (amount, text)
}

/// Splits `pool` by `totals` (each ≥ 0) to the cent: everyone gets the floor of their
/// exact share, and the cents left over go to the largest remainders (ties: the earlier
/// id in `ids`' order). A group whose totals are all 0 gets nothing.
pub fn split_pool(pool: Rational, totals: &[Rational], ids: &[&str]) -> Vec<Rational> {
    let cents = mul(pool, r(100));
    let cents = cents.num.div_euclid(cents.den());
    let sum = totals.iter().fold(r(0), |a, t| add(a, (*t).max(r(0))));
    if sum <= r(0) {
        return vec![r(0); totals.len()];
    }
    let shares: Vec<Rational> = totals.iter().map(|t| div(mul(r(cents), (*t).max(r(0))), sum)).collect();
    let mut floors: Vec<i128> = shares.iter().map(|s| s.num.div_euclid(s.den())).collect();
    let left = cents - floors.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..totals.len()).collect();
    order.sort_by(|&a, &b| {
        let rem = |i: usize| sub(shares[i], r(floors[i]));
        rem(b).cmp(&rem(a)).then_with(|| ids[a].cmp(ids[b]))
    });
    for &i in order.iter().take(left.max(0) as usize) {
        floors[i] += 1;
    }
    floors.into_iter().map(|c| Rational::new(c, 100).unwrap_or(r(0))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::tests::d;

    #[test]
    fn each_whole_point_above_target_adds_the_percent() {
        let rule = BonusRule { metric: "fcr_rate".into(), per: d("0.01"), percent: d("5"), max_percent: Some(d("20")) };
        let check = |value: &str, expected: &str| {
            let (p, _) = rule_percent(&rule, Direction::HigherIsBetter, d(value), d("0.8"));
            assert_eq!(p, d(expected), "value {value}");
        };
        check("0.8", "0"); // at target
        check("0.75", "0"); // below: rules only reward
        check("0.819", "5"); // 1.9 points → 1 whole step
        check("0.82", "10");
        check("0.83", "15");
        check("0.9", "20"); // 10 steps = 50 %, capped at 20 %
        let lower = BonusRule { metric: "handle_minutes_mean".into(), per: d("1"), percent: d("2"), max_percent: None };
        let (p, text) = rule_percent(&lower, Direction::LowerIsBetter, d("6.5"), d("10"));
        assert_eq!(p, d("6"), "{text}"); // 3.5 minutes below target → 3 steps × 2 %
    }

    #[test]
    fn base_bonus_is_base_times_coefficient_times_rules() {
        assert_eq!(base_bonus(d("3000"), d("1.2"), d("0")).0, d("3600"));
        let (amount, text) = base_bonus(d("3000"), d("1.2"), d("15"));
        assert_eq!(amount, d("4140"));
        assert_eq!(text, "3000 × 1.2 × (1 + 15%) = 4140");
        assert_eq!(base_bonus(d("1000"), d("0.333"), d("0")).0, d("333"));
        assert_eq!(base_bonus(d("100"), d("1"), d("0.005")).0, d("100.01")); // 100.005 → half away from zero
    }

    #[test]
    fn pool_splits_to_the_cent_by_largest_remainder() {
        // 100.00 over totals 1:1:1 → 33.34, 33.33, 33.33 (the first id takes the odd cent).
        let shares = split_pool(d("100"), &[d("80"), d("80"), d("80")], &["P1", "P2", "P3"]);
        assert_eq!(shares, vec![d("33.34"), d("33.33"), d("33.33")]);
        // 1000 by 90 / 60 / 50 (sum 200): 450, 300, 250 exactly.
        let shares = split_pool(d("1000"), &[d("90"), d("60"), d("50")], &["A", "B", "C"]);
        assert_eq!(shares, vec![d("450"), d("300"), d("250")]);
        // 10.00 by 2 / 1 (sum 3): 6.666… and 3.333… → 6.67 + 3.33.
        let shares = split_pool(d("10"), &[d("2"), d("1")], &["A", "B"]);
        assert_eq!(shares, vec![d("6.67"), d("3.33")]);
        assert_eq!(split_pool(d("10"), &[d("0"), d("0")], &["A", "B"]), vec![d("0"), d("0")]);
        let many: Vec<Rational> = (1..=37).map(|i| Rational::int(i * 7 % 11 + 50)).collect();
        let ids: Vec<String> = (1..=37).map(|i| format!("P{i:02}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let sum = split_pool(d("12345.67"), &many, &ids).into_iter().fold(r(0), add);
        assert_eq!(sum, d("12345.67"));
    }
}
