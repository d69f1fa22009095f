//! One scorecard as a report: every item with its value, rule, score and the arithmetic
//! of each step as text, the total, grade, ranks and bonus — what `score --format json`,
//! `explain` and the web API return. Keys serialise in alphabetical order (the order the
//! JSON has always had).

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Number;
use yardstick_core::engine::Rational;
use yardstick_core::scorecard::{
    self, Direction, GradeScheme, Item, ItemResult, ItemStatus, Method, Missing, MissingReason, Of, Scorecard, Scored,
    Scoring, Template, TemplateSet, VetoEffect,
};

use crate::explain::{ChangeReport, RecordReport};
use crate::sheet::Names;

/// A number as shown (rounded to `places`); whole numbers without a fraction.
pub fn num(v: Option<Rational>, places: u32) -> Option<Number> {
    let text = v?.format_places(places);
    match text.parse::<i64>() {
        Ok(i) => Some(Number::from(i)),
        Err(_) => text.parse::<f64>().ok().and_then(Number::from_f64),
    }
}

/// One scorecard.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CardReport {
    pub bonus: Option<BonusReport>,
    pub dimensions: Vec<DimensionReport>,
    pub grade: Option<String>,
    pub grade_before_cap: Option<String>,
    /// How the grade was given (bands or forced distribution, a veto's cap).
    pub grade_rule: String,
    /// Why the card is not graded (不足以评定): too little of the weight has data.
    pub insufficient: Option<String>,
    pub items: Vec<ItemReport>,
    /// The person's name, or the team's for a team scorecard.
    pub name: String,
    pub person_id: Option<String>,
    pub ranks: Vec<RankReport>,
    pub splits: Vec<SplitReport>,
    /// `person` or `team`.
    pub subject: String,
    pub team_id: String,
    pub team_name: String,
    pub template: String,
    pub template_name_en: String,
    pub template_name_zh: String,
    pub total: Option<Number>,
    /// Σ weight × score / Σ weight, written out.
    pub total_arithmetic: String,
    pub total_before_veto: Option<Number>,
    pub version: u32,
    pub vetoes: Vec<String>,
    pub weight_counted: Option<Number>,
}

/// One item of a scorecard.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ItemReport {
    /// The score's arithmetic (`linear: (0.75 - 0.5) / (0.8 - 0.5) × 100 = 83.33`).
    pub arithmetic: String,
    /// Peak-season blending of weight, target and threshold by days.
    pub blend: Option<String>,
    /// `results` or `process`.
    pub category: String,
    /// A `.change` item's two values (explanations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeReport>,
    /// weight × score.
    pub contribution: Option<Number>,
    pub denominator: Option<i64>,
    pub dimension: String,
    /// `quantitative` or `qualitative`.
    pub kind: String,
    pub method: String,
    pub metric: String,
    pub min_sample: Option<i64>,
    pub missing: Option<String>,
    pub name_en: String,
    pub name_zh: String,
    pub numerator: Option<i64>,
    /// `person` or `team` (the team the person leads).
    pub of: String,
    /// The records behind the value (explanations only; null for items not asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<Option<Vec<RecordReport>>>,
    pub rule: RuleReport,
    pub sample: Option<i64>,
    pub score: Option<Number>,
    pub shrunk: Option<ShrunkReport>,
    pub stretch: Option<Number>,
    pub target: Option<Number>,
    pub threshold: Option<Number>,
    /// The value scored (after shrinkage).
    pub used: Option<Number>,
    pub value: Option<Number>,
    pub veto_rule: Option<String>,
    pub vetoed: bool,
    pub weight: Option<Number>,
}

/// The scoring rule as data, for tools that recompute a score.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RuleReport {
    pub cap: Option<Number>,
    /// `higher` or `lower`.
    pub direction: String,
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points_per_unit: Option<Option<Number>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<[Option<Number>; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepReport>>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StepReport {
    pub at: Option<Number>,
    pub points: Option<Number>,
}

/// Shrinkage towards the team: `(n·v + k·team) / (n + k)`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ShrunkReport {
    pub arithmetic: String,
    pub n: i64,
    pub own: Option<Number>,
    pub result: Option<Number>,
    pub strength: Option<Number>,
    pub team: Option<Number>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct RankReport {
    /// `team`, `role` or `org`.
    pub group: String,
    /// How many were ranked in the group.
    pub of: u32,
    pub rank: u32,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct BonusReport {
    pub amount: Option<Number>,
    /// A line per step: the rules first, the amount last.
    pub arithmetic: Vec<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DimensionReport {
    pub dimension: String,
    pub subtotal: Option<Number>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SplitReport {
    pub split: String,
    pub subtotal: Option<Number>,
}

/// A period's scorecards (`score --format json`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ScoringReport {
    pub period: String,
    pub scorecards: Vec<CardReport>,
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

fn rule(item: &Item) -> RuleReport {
    let mut rule = RuleReport {
        cap: num(Some(item.cap), 6),
        direction: if item.direction == Direction::HigherIsBetter { "higher" } else { "lower" }.into(),
        method: item.method.name().into(),
        points_per_unit: None,
        scale: None,
        steps: None,
    };
    match &item.method {
        Method::Steps(steps) => {
            rule.steps = Some(
                steps
                    .iter()
                    .map(|s| StepReport { at: num(Some(s.bound), 6), points: num(Some(s.points), 6) })
                    .collect(),
            );
        }
        Method::Deduction { points_per_unit } => rule.points_per_unit = Some(num(Some(*points_per_unit), 6)),
        Method::Rating { min, max } => rule.scale = Some([num(Some(*min), 6), num(Some(*max), 6)]),
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

impl CardReport {
    /// The report of one scorecard (without records: [`crate::explain`] adds them).
    pub fn new(names: &Names, set: &TemplateSet, c: &Scorecard) -> CardReport {
        let t = &set.templates[c.template];
        let items = c.items.iter().zip(&t.items).map(|(r, item)| item_report(r, item)).collect();
        let (person_id, name) = match c.scored {
            Scored::Person(p) => (Some(names.person_id(p)), names.person_name(p)),
            Scored::Team(_) => (None, names.team_name(c.team)),
        };
        CardReport {
            bonus: c
                .bonus
                .as_ref()
                .map(|b| BonusReport { amount: num(Some(b.amount), 2), arithmetic: b.arithmetic.clone() }),
            dimensions: c
                .dimensions
                .iter()
                .map(|(k, v)| DimensionReport { dimension: k.clone(), subtotal: num(Some(*v), 2) })
                .collect(),
            grade: c.grade.clone(),
            grade_before_cap: c.grade_before_cap.clone(),
            grade_rule: grade_text(t, c),
            insufficient: c.insufficient.clone(),
            items,
            name,
            subject: if person_id.is_some() { "person" } else { "team" }.into(),
            person_id,
            ranks: c
                .ranks
                .iter()
                .map(|r| RankReport { group: r.group.name().into(), of: r.of, rank: r.rank })
                .collect(),
            splits: c
                .splits
                .iter()
                .map(|(k, v)| SplitReport { split: k.clone(), subtotal: num(Some(*v), 2) })
                .collect(),
            team_id: names.team_id(c.team),
            team_name: names.team_name(c.team),
            template: t.id.clone(),
            template_name_en: t.name_en.clone(),
            template_name_zh: t.name_zh.clone(),
            total: num(c.total, 2),
            total_arithmetic: total_text(c),
            total_before_veto: num(c.total_before_veto, 2),
            version: t.version,
            vetoes: c.vetoes.clone(),
            weight_counted: num(Some(c.weight_sum), 4),
        }
    }
}

fn item_report(r: &ItemResult, item: &Item) -> ItemReport {
    ItemReport {
        arithmetic: r.arithmetic.clone(),
        blend: r.blend.as_ref().map(|b| blend_text(b, item, r)),
        category: if item.process { "process" } else { "results" }.into(),
        change: None,
        contribution: num(r.contribution, 4),
        denominator: r.value.and_then(|v| v.denominator()),
        dimension: item.dimension.clone(),
        kind: if item.qualitative { "qualitative" } else { "quantitative" }.into(),
        method: method_text(item),
        metric: r.metric.clone(),
        min_sample: item.min_sample.map(|n| n as i64),
        missing: missing_text(&r.status),
        name_en: item.name_en.clone(),
        name_zh: item.name_zh.clone(),
        numerator: r.value.and_then(|v| v.numerator()),
        of: if item.of == Of::Team { "team" } else { "person" }.into(),
        records: None,
        rule: rule(item),
        sample: r.value.and_then(|v| v.sample()),
        score: num(r.score, 2),
        shrunk: r.shrunk.map(|s| ShrunkReport {
            arithmetic: shrink_text(&s),
            n: s.n as i64,
            own: num(Some(s.own), 6),
            result: num(Some(s.result), 6),
            strength: num(Some(s.strength), 6),
            team: num(Some(s.team), 6),
        }),
        stretch: num(item.stretch, 6),
        target: num(r.target, 6),
        threshold: num(r.threshold, 6),
        used: num(r.used, 6),
        value: num(r.value.and_then(|v| v.value), 6),
        veto_rule: item.veto.as_ref().map(|v| {
            let effect = match &v.effect {
                VetoEffect::Zero => "总分归零 total becomes 0".to_string(),
                VetoEffect::GradeCap(g) => format!("等级封顶 grade capped at {g}"),
                VetoEffect::Flag => "仅标记 flagged only".to_string(),
            };
            format!("value {} {} → {effect}", v.op.symbol(), v.bound.format6())
        }),
        vetoed: r.vetoed,
        weight: num(Some(r.weight), 4),
    }
}

/// A period's scorecards as pretty-printed JSON (`{"period": …, "scorecards": […]}`),
/// each card's text made in parallel (about 11 KB each with its arithmetic) and indented
/// into the document: the same text as serialising a [`ScoringReport`].
pub fn scoring_json(names: &Names, set: &TemplateSet, scoring: &Scoring) -> String {
    let cards: Vec<String> = scoring
        .cards
        .par_iter()
        .map(|c| {
            let text = serde_json::to_string_pretty(&CardReport::new(names, set, c)).unwrap_or_default();
            format!("    {}", text.replace('\n', "\n    "))
        })
        .collect();
    let period = serde_json::to_string(&scoring.period.to_string()).unwrap_or_default();
    let cards = if cards.is_empty() { "[]".to_string() } else { format!("[\n{}\n  ]", cards.join(",\n")) };
    format!("{{\n  \"period\": {period},\n  \"scorecards\": {cards}\n}}\n")
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
    if c.insufficient.is_some() {
        return "不足以评定 insufficient data → no total, grade, rank or bonus".into();
    }
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
