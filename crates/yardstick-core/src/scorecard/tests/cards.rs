//! One scorecard: missing-data policies and weight renormalisation, minimum samples and
//! shrinkage, vetoes, peak-season blending, subtotals; properties over random cards.

use super::{d, templates};
use crate::engine::{MetricValue, Rational};
use crate::period::Period;
use crate::scorecard::card::{ItemInput, item_result, subtotals, total, veto_effects};
use crate::scorecard::template::Missing;
use crate::scorecard::{ItemStatus, MissingReason, Template};
use crate::testkit::Rng;

/// Agent-like template: FCR 60 (linear 0.5 → 0.8), CSAT 40 (linear 0.6 → 0.9, minimum
/// sample 5) with the given extra item lines for CSAT, and a veto-only compliance item.
fn template(csat_extra: &str, veto_effect: &str) -> Template {
    templates(&format!(
        r#"
[[template]]
id = "t"
name_zh = "测试"
name_en = "Test"
version = 3
applies_to = {{ roles = ["agent"] }}

[[template.item]]
metric = "fcr_rate"
weight = 60
dimension = "quality"
method = "linear"
target = 0.8
threshold = 0.5

[[template.item]]
metric = "csat_rate"
weight = 40
dimension = "experience"
kind = "qualitative"
category = "process"
method = "linear"
target = 0.9
threshold = 0.6
min_sample = 5
{csat_extra}

[[template.item]]
metric = "compliance_violations"
weight = 0
dimension = "quality"
method = "deduction"
points_per_unit = 20
veto = {{ when = "> 0", {veto_effect} }}

[[template.override]]
name = "双11"
from = "2025-11-01"
to = "2025-11-15"
weights = {{ fcr_rate = 40, csat_rate = 60 }}
targets = {{ csat_rate = 0.85 }}
"#
    ))
    .remove(0)
}

fn ratio(n: i64, den: i64) -> Option<MetricValue> {
    Some(MetricValue::ratio(n, den, 1))
}

fn count(n: i64) -> Option<MetricValue> {
    Some(MetricValue::plain(Some(Rational::int(n as i128))).with_sample(n))
}

const MARCH: &str = "2025-03";

/// Scores the three items for March and returns (item scores, total).
fn card(
    t: &Template,
    fcr: Option<MetricValue>,
    csat: ItemInput,
    violations: Option<MetricValue>,
) -> (Vec<Option<Rational>>, Option<Rational>) {
    let period = Period::parse(MARCH).unwrap();
    let inputs =
        [ItemInput { value: fcr, ..Default::default() }, csat, ItemInput { value: violations, ..Default::default() }];
    let mut items: Vec<_> = t.items.iter().zip(inputs).map(|(i, input)| item_result(i, t, period, input)).collect();
    let (total, _) = total(&mut items);
    (items.iter().map(|i| i.score).collect(), total)
}

#[test]
fn missing_items_are_excluded_zero_or_neutral() {
    // FCR 0.74 = 37/50 → (0.74 - 0.5) / 0.3 × 100 = 80. CSAT has no surveys.
    let no_csat = ItemInput::default();
    let (scores, t) = card(&template("", "effect = \"flag\""), ratio(37, 50), no_csat, None);
    assert_eq!(scores, vec![Some(d("80")), None, None]);
    assert_eq!(t, Some(d("80"))); // 60 × 80 / 60: the weights renormalise
    let (_, t) = card(&template("missing = \"zero\"", "effect = \"flag\""), ratio(37, 50), no_csat, None);
    assert_eq!(t, Some(d("48"))); // (60 × 80 + 40 × 0) / 100
    let (_, t) = card(&template("missing = \"neutral\"", "effect = \"flag\""), ratio(37, 50), no_csat, None);
    assert_eq!(t, Some(d("72"))); // (60 × 80 + 40 × 60) / 100
    let (_, t) =
        card(&template("missing = \"neutral\"\nneutral_score = 75", "effect = \"flag\""), ratio(37, 50), no_csat, None);
    assert_eq!(t, Some(d("78"))); // (4800 + 40 × 75) / 100
    // Nothing at all: no total.
    let (_, t) = card(&template("", "effect = \"flag\""), None, no_csat, None);
    assert_eq!(t, None);
}

#[test]
fn an_empty_denominator_is_missing_not_zero() {
    // A ratio over nothing is null (SPEC §4): the item is missing, never scored 0.
    let t = template("", "effect = \"flag\"");
    let (scores, total) = card(&t, ratio(0, 0), ItemInput { value: ratio(9, 10), ..Default::default() }, None);
    assert_eq!(scores[0], None);
    assert_eq!(total, Some(d("100"))); // CSAT 0.9 → 100, alone
}

#[test]
fn below_the_minimum_sample_an_item_is_missing_or_shrunk() {
    let period = Period::parse(MARCH).unwrap();
    // 3 surveys, 2 satisfied: 0.666667 < minimum sample 5 → missing.
    let t = template("", "effect = \"flag\"");
    let r = item_result(&t.items[1], &t, period, ItemInput { value: ratio(2, 3), ..Default::default() });
    assert_eq!(
        r.status,
        ItemStatus::Missing { reason: MissingReason::SampleBelow { n: 3, min: 5 }, policy: Missing::Exclude }
    );
    assert_eq!(r.score, None);
    // With shrinkage (k = minimum sample = 5) towards the team's 0.8:
    // (3 × 0.666667 + 5 × 0.8) / (3 + 5) = 6.000001 / 8 = 0.750000125 → 0.75 at 6 decimals;
    // score (0.75 - 0.6) / 0.3 × 100 = 50.
    let t = template("shrink = true", "effect = \"flag\"");
    let input = ItemInput { value: ratio(2, 3), team_value: Some(d("0.8")), leads_no_team: false };
    let r = item_result(&t.items[1], &t, period, input);
    let s = r.shrunk.expect("shrunk");
    assert_eq!((s.n, s.strength, s.own, s.team, s.result), (3, d("5"), d("0.666667"), d("0.8"), d("0.75")));
    assert_eq!(r.used, Some(d("0.75")));
    assert_eq!(r.score, Some(d("50")));
    // An explicit strength: (3 × 0.666667 + 2 × 0.8) / 5 = 0.72 → 40.
    let t = template("shrink = true\nshrink_strength = 2", "effect = \"flag\"");
    let r = item_result(&t.items[1], &t, period, input);
    assert_eq!(r.used, Some(d("0.72")));
    assert_eq!(r.score, Some(d("40")));
    // Enough surveys: no shrinkage.
    let r = item_result(&t.items[1], &t, period, ItemInput { value: ratio(4, 5), ..input });
    assert_eq!((r.shrunk, r.used, r.score), (None, Some(d("0.8")), Some(d("66.67"))));
}

#[test]
fn vetoes_zero_the_total_cap_the_grade_or_flag() {
    let csat = ItemInput { value: ratio(9, 10), ..Default::default() };
    for (effect, zero, caps) in [
        ("effect = \"zero\"", true, vec![]),
        ("effect = \"grade_cap\", grade = \"C\"", false, vec!["C"]),
        ("effect = \"flag\"", false, vec![]),
    ] {
        let t = template("", effect);
        let period = Period::parse(MARCH).unwrap();
        let inputs = [
            ItemInput { value: ratio(37, 50), ..Default::default() },
            csat,
            ItemInput { value: count(1), ..Default::default() },
        ];
        let mut items: Vec<_> =
            t.items.iter().zip(inputs).map(|(i, input)| item_result(i, &t, period, input)).collect();
        assert!(items[2].vetoed, "{effect}");
        assert_eq!(items[2].score, Some(d("80"))); // 100 - 20 × 1, weight 0
        let (total, weights) = total(&mut items);
        assert_eq!((total, weights), (Some(d("88")), d("100"))); // (60 × 80 + 40 × 100 + 0 × 80) / 100
        let (z, c) = veto_effects(&items, &t);
        assert_eq!((z, c), (zero, caps), "{effect}");
    }
    // No violations: no veto; an empty value never fires one.
    let t = template("", "effect = \"zero\"");
    let period = Period::parse(MARCH).unwrap();
    assert!(!item_result(&t.items[2], &t, period, ItemInput { value: count(0), ..Default::default() }).vetoed);
    assert!(!item_result(&t.items[2], &t, period, ItemInput::default()).vetoed);
}

#[test]
fn overrides_blend_by_the_days_they_cover() {
    let t = template("", "effect = \"flag\"");
    let item = |period: &str, k: usize| {
        let r = item_result(
            &t.items[k],
            &t,
            Period::parse(period).unwrap(),
            ItemInput { value: ratio(87, 100), ..Default::default() },
        );
        (r.weight, r.target, r.blend.map(|b| (b.days, b.segments.iter().map(|s| s.days_in).sum::<i64>())))
    };
    // March: untouched.
    assert_eq!(item("2025-03", 1), (d("40"), Some(d("0.9")), None));
    // November (30 days), override 11-01..11-15 (15 days):
    // weight (15 × 60 + 15 × 40) / 30 = 50; target (15 × 0.85 + 15 × 0.9) / 30 = 0.875.
    assert_eq!(item("2025-11", 1), (d("50"), Some(d("0.875")), Some((30, 15))));
    // FCR's weight: (15 × 40 + 15 × 60) / 30 = 50; its target is not overridden.
    assert_eq!(item("2025-11", 0), (d("50"), Some(d("0.8")), Some((30, 15))));
    // Q4 (92 days): weight (15 × 60 + 77 × 40) / 92 = 43.2608…→ 43.2609 (4 decimals);
    // target (15 × 0.85 + 77 × 0.9) / 92 = 0.891848 (6 decimals).
    assert_eq!(item("2025-Q4", 1), (d("43.2609"), Some(d("0.891848")), Some((92, 15))));
    // The day 11-15 alone is inside; 11-16 is not (ranges are inclusive).
    let blend = t.overrides[0].to - t.overrides[0].from + 1;
    assert_eq!(blend, 15);
    // The November total uses the blended numbers: FCR 0.74 → 80, CSAT 0.87 at target
    // 0.875: (0.87 - 0.6) / (0.875 - 0.6) × 100 = 98.18; (50 × 80 + 50 × 98.18) / 100 = 89.09.
    let period = Period::parse("2025-11").unwrap();
    let mut items = vec![
        item_result(&t.items[0], &t, period, ItemInput { value: ratio(37, 50), ..Default::default() }),
        item_result(&t.items[1], &t, period, ItemInput { value: ratio(87, 100), ..Default::default() }),
    ];
    assert_eq!(items[1].score, Some(d("98.18")));
    assert_eq!(total(&mut items).0, Some(d("89.09")));
}

#[test]
fn subtotals_add_contributions_per_dimension_and_split() {
    let t = template("", "effect = \"flag\"");
    let period = Period::parse(MARCH).unwrap();
    let inputs = [
        ItemInput { value: ratio(37, 50), ..Default::default() },
        ItemInput { value: ratio(15, 20), ..Default::default() }, // 0.75 → 50
        ItemInput { value: count(0), ..Default::default() },
    ];
    let mut items: Vec<_> = t.items.iter().zip(inputs).map(|(i, input)| item_result(i, &t, period, input)).collect();
    assert_eq!(total(&mut items).0, Some(d("68"))); // (60 × 80 + 40 × 50) / 100
    let dims = subtotals(&items, |i| t.items[i].dimension.as_str());
    assert_eq!(dims, vec![("quality".to_string(), d("48")), ("experience".to_string(), d("20"))]);
    let kinds = subtotals(&items, |i| if t.items[i].qualitative { "qualitative" } else { "quantitative" });
    assert_eq!(kinds, vec![("quantitative".to_string(), d("48")), ("qualitative".to_string(), d("20"))]);
}

#[test]
fn property_totals_stay_within_zero_and_cap_and_weights_renormalise() {
    let mut rng = Rng(7);
    let t = templates(
        r#"
[[template]]
id = "p"
name_zh = "性质"
name_en = "Property"
version = 1
applies_to = { roles = ["agent"] }

[[template.item]]
metric = "fcr_rate"
weight = 35
dimension = "quality"
method = "linear"
target = 0.8
threshold = 0.5
stretch = 0.9
cap = 120

[[template.item]]
metric = "repeat_contact_7d_rate"
weight = 25
dimension = "quality"
method = "ratio"
target = 0.05
cap = 110

[[template.item]]
metric = "csat_rate"
weight = 25
dimension = "experience"
method = "steps"
steps = [{ at = 0.9, points = 100 }, { at = 0.7, points = 60 }]

[[template.item]]
metric = "compliance_violations"
weight = 15
dimension = "quality"
method = "deduction"
points_per_unit = 30
"#,
    )
    .remove(0);
    let period = Period::parse(MARCH).unwrap();
    for _ in 0..2000 {
        let inputs: Vec<ItemInput> = (0..4)
            .map(|k| {
                if rng.below(4) == 0 {
                    return ItemInput::default(); // missing
                }
                let den = rng.below(50) as i64 + 1;
                let num = rng.below(den as u64 + 1) as i64;
                let value = if k == 3 { count(num % 6) } else { ratio(num, den) };
                ItemInput { value, ..Default::default() }
            })
            .collect();
        let mut items: Vec<_> =
            t.items.iter().zip(inputs).map(|(i, input)| item_result(i, &t, period, input)).collect();
        let (total, weight_sum) = total(&mut items);
        let counted: Vec<_> = items.iter().filter(|i| i.score.is_some()).collect();
        let Some(total) = total else {
            assert!(counted.is_empty());
            continue;
        };
        assert!(total >= d("0") && total <= d("120"), "total {total}");
        // The renormalised weights of the counted items sum to exactly 1.
        let share =
            counted.iter().fold(d("0"), |a, i| a.checked_add(i.weight.checked_div(weight_sum).unwrap()).unwrap());
        assert_eq!(share, d("1"));
        // The contributions add up to the total (before its rounding to 2 decimals).
        let sum = counted.iter().fold(d("0"), |a, i| a.checked_add(i.contribution.unwrap()).unwrap());
        assert_eq!(sum.round(2), total);
        for i in &items {
            if let Some(s) = i.score {
                assert!(s >= d("0") && s <= d("120"));
            }
        }
    }
}
