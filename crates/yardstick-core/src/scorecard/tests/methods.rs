//! Each scoring method, higher and lower is better, at and around its boundaries.

use super::{d, one_item};
use crate::scorecard::method::{Rule, score};

/// `cases`: (value, expected score), the arithmetic shown on a mismatch.
fn check(item: &str, cases: &[(&str, &str)]) {
    let t = one_item(item);
    for (value, expected) in cases {
        let s = score(&Rule::of(&t.items[0]), d(value));
        assert_eq!(s.score, d(expected), "value {value}: {}", s.arithmetic);
    }
}

#[test]
fn linear_higher_is_better_with_stretch_and_cap() {
    // threshold 0.5 → 0, target 0.8 → 100, stretch 0.9 → cap 110.
    let item = "metric = \"fcr_rate\"\nmethod = \"linear\"\ntarget = 0.8\nthreshold = 0.5\nstretch = 0.9\ncap = 110";
    check(
        item,
        &[
            ("0.4", "0"),          // beyond the threshold
            ("0.5", "0"),          // at the threshold
            ("0.65", "50"),        // (0.65 - 0.5) / 0.3 × 100
            ("0.725061", "75.02"), // 75.0203… → 75.02
            ("0.8", "100"),
            ("0.85", "105"), // 100 + 0.05 / 0.1 × 10
            ("0.9", "110"),
            ("0.99", "110"),
        ],
    );
    let t = one_item(item);
    let s = score(&Rule::of(&t.items[0]), d("0.85"));
    assert_eq!(s.arithmetic, "100 + (0.85 - 0.8) / (0.9 - 0.8) × (110 - 100) = 105");
    let s = score(&Rule::of(&t.items[0]), d("0.65"));
    assert_eq!(s.arithmetic, "(0.65 - 0.5) / (0.8 - 0.5) × 100 = 50");
}

#[test]
fn linear_lower_is_better_mirrors() {
    // repeat_contact_7d_rate is lower-is-better in the catalogue: threshold 0.2, target 0.05.
    check(
        "metric = \"repeat_contact_7d_rate\"\nmethod = \"linear\"\ntarget = 0.05\nthreshold = 0.2",
        &[
            ("0.25", "0"),
            ("0.2", "0"),
            ("0.125", "50"),
            ("0.090024", "73.32"), // (0.2 - 0.090024) / 0.15 × 100 = 73.3173…
            ("0.05", "100"),
            ("0", "100"), // beyond the target without a stretch: flat 100
        ],
    );
    // With a stretch: 5 minutes → 100, 3 minutes → cap 120.
    check(
        "metric = \"handle_minutes_mean\"\nmethod = \"linear\"\ntarget = 5\nthreshold = 10\nstretch = 3\ncap = 120",
        &[("11", "0"), ("7.5", "50"), ("5", "100"), ("4", "110"), ("3", "120"), ("1", "120")],
    );
}

#[test]
fn linear_direction_can_be_set_on_the_item() {
    check(
        "metric = \"tickets_resolved\"\ndirection = \"lower\"\nmethod = \"linear\"\ntarget = 100\nthreshold = 300",
        &[("200", "50"), ("100", "100"), ("300", "0")],
    );
}

#[test]
fn ratio_is_value_over_target_capped() {
    check(
        "metric = \"secondary_sales_amount\"\nmethod = \"ratio\"\ntarget = 20000\ncap = 120",
        &[("0", "0"), ("15000", "75"), ("20000", "100"), ("23000", "115"), ("30000", "120")],
    );
    // Lower is better: 100 × target / value; 0 is the best possible (cap).
    check(
        "metric = \"parts_cost_per_visit\"\nmethod = \"ratio\"\ntarget = 100",
        &[("0", "100"), ("80", "100"), ("125", "80"), ("300", "33.33")],
    );
}

#[test]
fn steps_take_the_best_band_reached() {
    let steps = "steps = [{ at = 0.9, points = 100 }, { at = 0.8, points = 80 }, { at = 0.6, points = 50 }]";
    check(
        &format!("metric = \"fcr_rate\"\nmethod = \"steps\"\n{steps}"),
        &[("0.95", "100"), ("0.9", "100"), ("0.89", "80"), ("0.8", "80"), ("0.6", "50"), ("0.59", "0")],
    );
    let steps = "steps = [{ at = 5, points = 100 }, { at = 8, points = 70 }]";
    check(
        &format!("metric = \"handle_minutes_mean\"\nmethod = \"steps\"\n{steps}"),
        &[("4", "100"), ("5", "100"), ("6", "70"), ("8", "70"), ("9", "0")],
    );
}

#[test]
fn pass_fail_meets_the_target_or_not() {
    check(
        "metric = \"fields_complete_rate\"\nmethod = \"pass_fail\"\ntarget = 0.95",
        &[("0.95", "100"), ("1", "100"), ("0.949999", "0")],
    );
    check(
        "metric = \"repeat_contact_7d_rate\"\nmethod = \"pass_fail\"\ntarget = 0.1",
        &[("0.1", "100"), ("0.02", "100"), ("0.11", "0")],
    );
}

#[test]
fn deduction_takes_points_per_unit_down_to_zero() {
    check(
        "metric = \"compliance_violations\"\nmethod = \"deduction\"\npoints_per_unit = 20",
        &[("0", "100"), ("1", "80"), ("2", "60"), ("5", "0"), ("7", "0")],
    );
}

#[test]
fn rating_maps_the_scale_onto_0_to_100() {
    check(
        "metric = \"rating_mean:attitude\"\nmethod = \"rating\"",
        &[("1", "0"), ("3", "50"), ("4.2", "80"), ("5", "100")],
    );
    check(
        "metric = \"rating_mean:attitude\"\nmethod = \"rating\"\nscale = [1, 10]",
        &[("1", "0"), ("5.5", "50"), ("10", "100"), ("3.25", "25")],
    );
}
