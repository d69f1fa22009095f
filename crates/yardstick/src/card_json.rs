//! One scorecard as JSON (for `score --format json` and `explain`), with the arithmetic
//! of each step as text.

use serde_json::{Value, json};
use yardstick_core::engine::Rational;
use yardstick_core::scorecard::{
    self, Direction, GradeScheme, Item, ItemResult, ItemStatus, Method, Missing, MissingReason, Of, Scorecard, Scored,
    Template, TemplateSet, VetoEffect,
};

use crate::scorecards::Names;

/// A JSON number as shown (rounded to `places`); whole numbers without a fraction.
pub fn num(v: Option<Rational>, places: u32) -> Value {
    let Some(text) = v.map(|v| v.format_places(places)) else { return Value::Null };
    match text.parse::<i64>() {
        Ok(i) => Value::from(i),
        Err(_) => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number),
    }
}

fn method_text(item: &Item) -> String {
    let dir = match item.direction {
        Direction::HigherIsBetter => "越高越好 higher is better",
        Direction::LowerIsBetter => "越低越好 lower is better",
    };
    let detail = match &item.method {
        Method::Steps(steps) => {
            let sign = if item.direction == Direction::HigherIsBetter { ">=" } else { "<=" };
            let bands: Vec<String> =
                steps.iter().map(|s| format!("{sign} {} → {}", s.bound.format6(), s.points.format6())).collect();
            format!(" [{}]", bands.join("; "))
        }
        Method::Deduction { points_per_unit } => format!(" ({} per unit)", points_per_unit.format6()),
        Method::Rating { min, max } => format!(" (scale {}–{})", min.format6(), max.format6()),
        _ => String::new(),
    };
    format!("{}{detail}, {dir}, cap {}", item.method.name(), item.cap.format6())
}

/// The scoring rule as data, for tools that recompute a score.
fn rule_json(item: &Item) -> Value {
    let mut rule = json!({
        "method": item.method.name(),
        "direction": if item.direction == Direction::HigherIsBetter { "higher" } else { "lower" },
        "cap": num(Some(item.cap), 6),
    });
    match &item.method {
        Method::Steps(steps) => {
            rule["steps"] = steps
                .iter()
                .map(|s| json!({ "at": num(Some(s.bound), 6), "points": num(Some(s.points), 6) }))
                .collect();
        }
        Method::Deduction { points_per_unit } => rule["points_per_unit"] = num(Some(*points_per_unit), 6),
        Method::Rating { min, max } => rule["scale"] = json!([num(Some(*min), 6), num(Some(*max), 6)]),
        _ => {}
    }
    rule
}

fn missing_text(status: &ItemStatus) -> Option<String> {
    let ItemStatus::Missing { reason, policy } = status else { return None };
    let why = match reason {
        MissingReason::NoValue => "无数据 no value for the period".to_string(),
        MissingReason::SampleBelow { n, min } => format!("样本不足 sample {n} < minimum {min}"),
        MissingReason::LeadsNoTeam => "未带团队 leads no team".to_string(),
    };
    let what = match policy {
        Missing::Exclude => "excluded; weights renormalise".to_string(),
        Missing::Zero => "scored 0".to_string(),
        Missing::Neutral(x) => format!("scored neutral {}", x.format6()),
    };
    Some(format!("{why} → {what}"))
}

/// The JSON of one scorecard; with `records`, each item carries its records.
pub fn card_json(names: &Names, set: &TemplateSet, c: &Scorecard, records: Option<&[Value]>) -> Value {
    let t = &set.templates[c.template];
    let items: Vec<Value> = c
        .items
        .iter()
        .zip(&t.items)
        .enumerate()
        .map(|(k, (r, item))| {
            let mut v = json!({
                "metric": r.metric,
                "name_zh": item.name_zh,
                "name_en": item.name_en,
                "dimension": item.dimension,
                "kind": if item.qualitative { "qualitative" } else { "quantitative" },
                "category": if item.process { "process" } else { "results" },
                "of": if item.of == Of::Team { "team" } else { "person" },
                "method": method_text(item),
                "rule": rule_json(item),
                "weight": num(Some(r.weight), 4),
                "target": num(r.target, 6),
                "threshold": num(r.threshold, 6),
                "stretch": num(item.stretch, 6),
                "value": num(r.value.and_then(|v| v.value), 6),
                "numerator": r.value.and_then(|v| v.numerator()),
                "denominator": r.value.and_then(|v| v.denominator()),
                "sample": r.value.and_then(|v| v.sample()),
                "min_sample": item.min_sample.map(|n| n as i64),
                "shrunk": r.shrunk.map(|s| json!({
                    "n": s.n as i64, "strength": num(Some(s.strength), 6), "own": num(Some(s.own), 6),
                    "team": num(Some(s.team), 6), "result": num(Some(s.result), 6),
                    "arithmetic": shrink_text(&s),
                })),
                "blend": r.blend.as_ref().map(|b| blend_text(b, item, r)),
                "used": num(r.used, 6),
                "missing": missing_text(&r.status),
                "score": num(r.score, 2),
                "arithmetic": r.arithmetic,
                "contribution": num(r.contribution, 4),
                "vetoed": r.vetoed,
                "veto_rule": item.veto.as_ref().map(|v| {
                    let effect = match &v.effect {
                        VetoEffect::Zero => "总分归零 total becomes 0".to_string(),
                        VetoEffect::GradeCap(g) => format!("等级封顶 grade capped at {g}"),
                        VetoEffect::Flag => "仅标记 flagged only".to_string(),
                    };
                    format!("value {} {} → {effect}", v.op.symbol(), v.bound.format6())
                }),
            });
            if let Some(records) = records {
                v["records"] = records[k].clone();
            }
            v
        })
        .collect();
    let (person_id, name) = match c.scored {
        Scored::Person(p) => (Some(names.person_id(p)), names.person_name(p)),
        Scored::Team(_) => (None, names.team_name(c.team)),
    };
    json!({
        "subject": if person_id.is_some() { "person" } else { "team" },
        "person_id": person_id,
        "name": name,
        "team_id": names.team_id(c.team),
        "team_name": names.team_name(c.team),
        "template": t.id,
        "template_name_zh": t.name_zh,
        "template_name_en": t.name_en,
        "version": t.version,
        "items": items,
        "weight_counted": num(Some(c.weight_sum), 4),
        "total_arithmetic": total_text(c),
        "total_before_veto": num(c.total_before_veto, 2),
        "total": num(c.total, 2),
        "grade": c.grade,
        "grade_rule": grade_text(t, c),
        "grade_before_cap": c.grade_before_cap,
        "vetoes": c.vetoes,
        "ranks": c.ranks.iter().map(|r| json!({ "group": r.group.name(), "rank": r.rank, "of": r.of })).collect::<Vec<_>>(),
        "bonus": c.bonus.as_ref().map(|b| json!({ "amount": num(Some(b.amount), 2), "arithmetic": b.arithmetic })),
        "dimensions": c.dimensions.iter().map(|(k, v)| json!({ "dimension": k, "subtotal": num(Some(*v), 2) })).collect::<Vec<_>>(),
        "splits": c.splits.iter().map(|(k, v)| json!({ "split": k, "subtotal": num(Some(*v), 2) })).collect::<Vec<_>>(),
    })
}

fn shrink_text(s: &scorecard::Shrunk) -> String {
    format!(
        "({} × {} + {} × {}) / ({} + {}) = {}",
        s.n,
        s.own.format6(),
        s.strength.format6(),
        s.team.format6(),
        s.n,
        s.strength.format6(),
        s.result.format6()
    )
}

fn blend_text(b: &scorecard::Blend, item: &Item, r: &ItemResult) -> String {
    let spans: Vec<String> = b.segments.iter().map(|s| format!("{} {}/{} days", s.name, s.days_in, b.days)).collect();
    let mut parts = vec![format!("weight {}", b.arithmetic(item.weight, |s| Some(s.weight), r.weight))];
    if let (Some(base), Some(t)) = (item.target, r.target)
        && base != t
    {
        parts.push(format!("target {}", b.arithmetic(base, |s| s.target, t)));
    }
    if let (Some(base), Some(t)) = (item.threshold, r.threshold)
        && base != t
    {
        parts.push(format!("threshold {}", b.arithmetic(base, |s| s.threshold, t)));
    }
    format!("{}: {}", spans.join(", "), parts.join("; "))
}

fn total_text(c: &Scorecard) -> String {
    let terms: Vec<String> = c
        .items
        .iter()
        .filter_map(|i| i.score.map(|s| format!("{} × {}", i.weight.format6(), s.format_places(2))))
        .collect();
    match c.total_before_veto {
        None => "no item has a value → no total".into(),
        Some(t) => format!("({}) / {} = {}", terms.join(" + "), c.weight_sum.format6(), t.format_places(2)),
    }
}

fn grade_text(t: &Template, c: &Scorecard) -> String {
    let mut text = match (&t.grades.scheme, c.total) {
        (_, None) => return "no total → no grade".into(),
        (GradeScheme::Bands(bands), Some(total)) => {
            let list: Vec<String> = bands.iter().map(|(g, m)| format!("{g} ≥ {}", m.format6())).collect();
            format!("{} by bands ({})", total.format_places(2), list.join(", "))
        }
        (GradeScheme::Forced { quotas, group, tie_break }, Some(total)) => {
            let list: Vec<String> = quotas.iter().map(|(g, q)| format!("{g} {}%", q.format6())).collect();
            let place = c.forced_place.map_or(String::new(), |(p, n)| format!(", place {p} of {n}"));
            format!(
                "{} by forced distribution in the {} ({}; ties by total, then {}, then id){place}",
                total.format_places(2),
                group.name(),
                list.join(" / "),
                tie_break.as_deref().unwrap_or("—")
            )
        }
    };
    if let Some(before) = &c.grade_before_cap {
        text.push_str(&format!("; veto caps {before} → {}", c.grade.as_deref().unwrap_or("")));
    }
    text
}
