//! Template checks: each mistake reported with file, line, column and a fix, and the
//! template left out; the built-in templates pass.

use crate::metric::Catalogue;
use crate::scorecard::TemplateSet;
use crate::scorecard::read::read_templates;

const HEAD: &str = "[[template]]\nid = \"t\"\nname_zh = \"测试\"\nname_en = \"Test\"\nversion = 1\napplies_to = { roles = [\"agent\"] }\n";

/// The diagnostics of a template file as `line:column: message — fix` strings.
fn errors(body: &str) -> Vec<String> {
    let text = format!("{HEAD}{body}");
    let (templates, diags) = read_templates("t.toml", &text, &Catalogue::builtin());
    assert!(templates.is_empty(), "a template with errors is left out");
    diags.iter().map(|d| d.to_string().trim_start_matches("t.toml:").to_string()).collect()
}

fn item(metric: &str, weight: u32, rest: &str) -> String {
    format!("\n[[template.item]]\nmetric = \"{metric}\"\nweight = {weight}\ndimension = \"quality\"\n{rest}\n")
}

#[test]
fn the_built_in_templates_are_valid() {
    let set = TemplateSet::builtin(&Catalogue::builtin());
    let ids: Vec<&str> = set.templates.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        ["agent", "chat_agent", "technician", "complaint_specialist", "cr_specialist", "team_lead", "manager"]
    );
    // The CR specialist's documented split: satisfaction 40, efficiency 30, capability 20, relationship 10.
    let cr = &set.templates[4];
    let by = |dims: &[&str]| {
        cr.items
            .iter()
            .filter(|i| dims.contains(&i.dimension.as_str()))
            .fold(crate::engine::Rational::int(0), |a, i| a.checked_add(i.weight).unwrap())
    };
    assert_eq!(by(&["experience"]), crate::engine::Rational::int(40));
    assert_eq!(by(&["efficiency"]), crate::engine::Rational::int(30));
    assert_eq!(by(&["growth"]), crate::engine::Rational::int(20));
    assert_eq!(by(&["financial"]), crate::engine::Rational::int(10));
}

#[test]
fn an_unknown_metric_is_named_with_its_position() {
    let e = errors(&item("fcr_rat", 100, "method = \"linear\"\ntarget = 0.8\nthreshold = 0.5"));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(
            "9:10: error: unknown metric `fcr_rat` — fix: did you mean `fcr_rate`? Use a catalogue metric ("
        ),
        "{}",
        e[0]
    );
}

#[test]
fn weights_must_add_up_to_100() {
    let body = item("fcr_rate", 60, "method = \"linear\"\ntarget = 0.8\nthreshold = 0.5")
        + &item("csat_rate", 30, "method = \"linear\"\ntarget = 0.9\nthreshold = 0.6");
    assert_eq!(
        errors(&body),
        ["1:1: error: the weights of template `t` add up to 90, not 100 — fix: make the items' weights add up to 100"]
    );
}

#[test]
fn a_target_on_the_wrong_side_of_its_threshold() {
    // fcr_rate is higher-is-better: the target must be above the threshold.
    let e = errors(&item("fcr_rate", 100, "method = \"linear\"\ntarget = 0.5\nthreshold = 0.8"));
    assert_eq!(
        e,
        [
            "13:10: error: target 0.5 is on the wrong side of threshold 0.8 (fcr_rate is higher better) — fix: the target must be above the threshold; swap them or set direction"
        ]
    );
    // handle_minutes_mean is lower-is-better: the target must be below.
    let e = errors(&item("handle_minutes_mean", 100, "method = \"linear\"\ntarget = 12\nthreshold = 8"));
    assert!(e[0].contains("the target must be below the threshold"), "{e:?}");
}

#[test]
fn rates_are_fractions() {
    let e = errors(&item("fcr_rate", 100, "method = \"linear\"\ntarget = 85\nthreshold = 60"));
    assert_eq!(
        e[0],
        "13:10: error: target 85 is outside 0..1, but `fcr_rate` is a rate — fix: rates are fractions: write 0.85 for 85 %"
    );
}

#[test]
fn overlapping_overrides_are_rejected() {
    let body = item("fcr_rate", 100, "method = \"linear\"\ntarget = 0.8\nthreshold = 0.5")
        + "\n[[template.override]]\nname = \"618\"\nfrom = \"2025-06-01\"\nto = \"2025-06-20\"\ntargets = { fcr_rate = 0.75 }\n"
        + "\n[[template.override]]\nname = \"年中\"\nfrom = \"2025-06-20\"\nto = \"2025-06-30\"\ntargets = { fcr_rate = 0.7 }\n";
    assert_eq!(
        errors(&body),
        [
            "22:1: error: override `年中` overlaps override `618` — fix: give overrides of one template separate date ranges"
        ]
    );
}

#[test]
fn quotas_must_sum_to_100_percent() {
    let body = item("fcr_rate", 100, "method = \"linear\"\ntarget = 0.8\nthreshold = 0.5")
        + "\n[template.grades]\nscheme = \"forced\"\nquotas = [{ grade = \"A\", percent = 20 }, { grade = \"B\", percent = 70 }, { grade = \"C\", percent = 20 }]\n";
    assert_eq!(
        errors(&body),
        ["18:10: error: the quotas add up to 110%, not 100% — fix: make the grade quotas add up to 100 (percent)"]
    );
}

#[test]
fn methods_need_their_parameters() {
    let e = errors(&item("fcr_rate", 100, "method = \"linear\"\ntarget = 0.8"));
    assert_eq!(e, ["12:10: error: method `linear` needs `threshold` — fix: add threshold = … to the item"]);
    let e = errors(&item("fcr_rate", 100, "method = \"linearr\""));
    assert_eq!(
        e,
        [
            "12:10: error: unknown scoring method `linearr` — fix: use linear, ratio, steps, pass_fail, deduction or rating"
        ]
    );
    let e = errors(&item(
        "fcr_rate",
        100,
        "method = \"steps\"\nsteps = [{ at = 0.6, points = 50 }, { at = 0.9, points = 100 }]",
    ));
    assert!(e[0].contains("steps must list bands best first"), "{e:?}");
}

#[test]
fn a_veto_caps_at_a_grade_the_scheme_has() {
    let body = item("fcr_rate", 100, "method = \"linear\"\ntarget = 0.8\nthreshold = 0.5")
        + &item(
            "compliance_violations",
            0,
            "method = \"deduction\"\npoints_per_unit = 20\nveto = { when = \"> 0\", effect = \"grade_cap\", grade = \"E\" }",
        );
    let e = errors(&body);
    assert!(e[0].contains("veto caps at grade `E`, which the grade scheme does not have"), "{e:?}");
    let body = item("fcr_rate", 100, "method = \"linear\"\ntarget = 0.8\nthreshold = 0.5")
        + &item(
            "compliance_violations",
            0,
            "method = \"deduction\"\npoints_per_unit = 20\nveto = { when = \"more than 0\", effect = \"zero\" }",
        );
    assert!(errors(&body)[0].contains("`more than 0` is not a comparison"));
}

#[test]
fn a_weight_of_zero_needs_a_veto_and_min_sample_needs_records() {
    let body = item("fcr_rate", 100, "method = \"linear\"\ntarget = 0.8\nthreshold = 0.5")
        + &item("compliance_violations", 0, "method = \"deduction\"\npoints_per_unit = 20");
    assert!(errors(&body)[0].contains("a weight must be above 0 (0 only for a veto-only item)"));
    let body = item("secondary_sales_amount", 100, "method = \"ratio\"\ntarget = 1000\nmin_sample = 3");
    assert!(errors(&body)[0].contains("is not counted over records, so it has no sample size"));
}

#[test]
fn syntax_errors_point_into_the_file() {
    let (_, diags) = read_templates("t.toml", "[[template]]\nid = \"t\"\nversion = \"one\"\n", &Catalogue::builtin());
    assert_eq!((diags[0].line, diags[0].column), (3, 11));
}
