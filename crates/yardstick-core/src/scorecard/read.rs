//! Reading scorecard templates from TOML, with every check `yardstick check` promises:
//! unknown metrics, weights that do not add up to 100, a target on the wrong side of its
//! threshold, overlapping overrides, quotas that do not sum to 100 % — each with file,
//! line, column and a fix. See README.md "Scorecard templates" for the format.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::template::*;
use crate::diag::{Diagnostic, parse_toml};
use crate::engine::Rational;
use crate::metric::{Aggregate, Catalogue, MetricDef, MetricKind};
use crate::time::parse_day;

pub const DIMENSIONS: &[&str] =
    &["quality", "efficiency", "experience", "growth", "cost", "financial", "customer", "process", "learning"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    template: Vec<Spanned<TemplateDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateDoc {
    id: Spanned<String>,
    name_zh: String,
    name_en: String,
    version: Spanned<u32>,
    #[serde(default)]
    cycle: Option<Spanned<OneOrMany>>,
    applies_to: Spanned<AppliesToDoc>,
    #[serde(default)]
    team_scorecard: bool,
    #[serde(default)]
    ranking: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    grades: Option<GradesDoc>,
    #[serde(default)]
    bonus: Option<BonusDoc>,
    #[serde(default)]
    item: Vec<Spanned<ItemDoc>>,
    #[serde(default, rename = "override")]
    overrides: Vec<Spanned<OverrideDoc>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AppliesToDoc {
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default)]
    people: Vec<String>,
    #[serde(default)]
    when: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GradesDoc {
    #[serde(default)]
    scheme: Option<Spanned<String>>,
    #[serde(default)]
    bands: Option<Spanned<Vec<BandDoc>>>,
    #[serde(default)]
    quotas: Option<Spanned<Vec<QuotaDoc>>>,
    #[serde(default)]
    group: Option<Spanned<String>>,
    #[serde(default)]
    tie_break: Option<Spanned<String>>,
    #[serde(default)]
    coefficients: Option<Spanned<BTreeMap<String, f64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BandDoc {
    grade: String,
    min: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaDoc {
    grade: String,
    percent: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BonusDoc {
    #[serde(default)]
    base: Option<Spanned<f64>>,
    #[serde(default)]
    pool: Option<Spanned<f64>>,
    #[serde(default)]
    pool_group: Option<Spanned<String>>,
    #[serde(default)]
    rule: Vec<Spanned<BonusRuleDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BonusRuleDoc {
    metric: Spanned<String>,
    per: Spanned<f64>,
    percent: f64,
    #[serde(default)]
    max_percent: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemDoc {
    metric: Spanned<String>,
    #[serde(default)]
    name_zh: Option<String>,
    #[serde(default)]
    name_en: Option<String>,
    weight: Spanned<f64>,
    dimension: Spanned<String>,
    #[serde(default)]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    category: Option<Spanned<String>>,
    #[serde(default)]
    of: Option<Spanned<String>>,
    #[serde(default)]
    direction: Option<Spanned<String>>,
    method: Spanned<String>,
    #[serde(default)]
    target: Option<Spanned<f64>>,
    #[serde(default)]
    threshold: Option<Spanned<f64>>,
    #[serde(default)]
    stretch: Option<Spanned<f64>>,
    #[serde(default)]
    cap: Option<Spanned<f64>>,
    #[serde(default)]
    steps: Option<Spanned<Vec<StepDoc>>>,
    #[serde(default)]
    points_per_unit: Option<Spanned<f64>>,
    #[serde(default)]
    scale: Option<Spanned<[f64; 2]>>,
    #[serde(default)]
    min_sample: Option<Spanned<u32>>,
    #[serde(default)]
    shrink: bool,
    #[serde(default)]
    shrink_strength: Option<Spanned<f64>>,
    #[serde(default)]
    missing: Option<Spanned<String>>,
    #[serde(default)]
    neutral_score: Option<Spanned<f64>>,
    #[serde(default)]
    veto: Option<Spanned<VetoDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDoc {
    at: f64,
    points: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VetoDoc {
    when: Spanned<String>,
    effect: Spanned<String>,
    #[serde(default)]
    grade: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideDoc {
    name: String,
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(default)]
    weights: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    targets: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    thresholds: BTreeMap<String, Spanned<f64>>,
}

/// Reads the templates of a file. Templates with an error are left out and reported;
/// the others are returned.
pub fn read_templates(file: &str, text: &str, catalogue: &Catalogue) -> (Vec<Template>, Vec<Diagnostic>) {
    let doc: FileDoc = match parse_toml(file, text) {
        Ok(doc) => doc,
        Err(d) => return (Vec::new(), vec![d]),
    };
    let reader = Reader { file, text, catalogue };
    let mut out: Vec<Template> = Vec::new();
    let mut diags = Vec::new();
    for spanned in doc.template {
        let at = spanned.span().start;
        let mut errors = Vec::new();
        let template = reader.template(spanned.into_inner(), at, &mut errors);
        if let Some(t) = &template
            && out.iter().any(|o| o.id == t.id)
        {
            errors.push(reader.at(at, format!("template `{}` is defined twice in this file", t.id), "rename one"));
        }
        match template {
            Some(t) if errors.is_empty() => out.push(t),
            _ => diags.extend(errors),
        }
    }
    (out, diags)
}

struct Reader<'a> {
    file: &'a str,
    text: &'a str,
    catalogue: &'a Catalogue,
}

/// What the catalogue says about a metric id an item names.
struct MetricInfo {
    name_zh: String,
    name_en: String,
    higher_is_better: Option<bool>,
    is_rate: bool,
    has_sample: bool,
}

impl Reader<'_> {
    fn at(&self, offset: usize, message: impl Into<String>, fix: &str) -> Diagnostic {
        let d = Diagnostic::at_span(self.file, self.text, offset, message);
        if fix.is_empty() { d } else { d.fix(fix) }
    }

    fn num(&self, v: &Spanned<f64>, errors: &mut Vec<Diagnostic>) -> Rational {
        Rational::from_f64_decimal(*v.get_ref()).unwrap_or_else(|| {
            errors.push(self.at(v.span().start, "not a finite number", "write a decimal such as 0.85 or 90"));
            Rational::int(0)
        })
    }

    fn metric_info(&self, id: &str) -> Option<MetricInfo> {
        let (base, derived) = match id.rsplit_once('.') {
            Some((b, d @ ("change" | "attainment"))) => (b, Some(d)),
            _ => (id, None),
        };
        let (def, label): (&MetricDef, Option<&str>) = match self.catalogue.get(base) {
            Some(d) if d.records().is_none_or(|r| r.expand.is_none()) => (d, None),
            _ => {
                let (b, label) = base.split_once(':')?;
                let d = self.catalogue.get(b)?;
                d.records()?.expand.as_ref()?;
                (d, Some(label))
            }
        };
        let is_ratio = match &def.kind {
            MetricKind::Records(r) => matches!(r.aggregate, Aggregate::Ratio { scale: 1, .. }),
            MetricKind::Formula(w) => w.text.trim_start().starts_with("ratio("),
        };
        let has_sample = match &def.kind {
            MetricKind::Records(r) => !matches!(r.aggregate, Aggregate::Sum(_) | Aggregate::DistinctCount(_)),
            MetricKind::Formula(w) => w.text.trim_start().starts_with("ratio("),
        };
        let (mut name_zh, mut name_en) = (def.name_zh.clone(), def.name_en.clone());
        if let Some(l) = label {
            name_zh = format!("{name_zh}：{l}");
            name_en = format!("{name_en}: {l}");
        }
        match derived {
            Some("change") => {
                name_zh.push_str("（环比变化）");
                name_en.push_str(" (change)");
            }
            Some(_) => {
                name_zh.push_str("（达成率）");
                name_en.push_str(" (attainment)");
            }
            None => {}
        }
        Some(MetricInfo {
            name_zh,
            name_en,
            higher_is_better: def.higher_is_better,
            is_rate: is_ratio && derived != Some("attainment"),
            has_sample: has_sample && derived.is_none(),
        })
    }

    fn unknown_metric(&self, s: &Spanned<String>) -> Diagnostic {
        let mut known: Vec<&str> =
            self.catalogue.metrics().iter().filter(|m| m.listed).map(|m| m.id.as_str()).collect();
        known.sort_unstable();
        self.at(
            s.span().start,
            format!("unknown metric `{}`", s.get_ref()),
            &format!("use a catalogue metric ({}), rating_mean:ITEM, or add .change / .attainment", known.join(", ")),
        )
    }

    fn condition(&self, s: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> Option<Condition> {
        let text = s.get_ref().trim();
        let fix = "write `METRIC OP NUMBER`, e.g. \"online_ticket_share >= 0.5\"";
        let split = text.find(['<', '>', '=', '!']);
        let Some(split) = split else {
            errors.push(self.at(s.span().start, format!("`{text}` is not a condition"), fix));
            return None;
        };
        let metric = text[..split].trim().to_string();
        let (op, bound) = self.comparison(&text[split..], s.span().start, errors)?;
        if self.metric_info(&metric).is_none() {
            errors.push(self.unknown_metric(&Spanned::new(s.span(), metric)));
            return None;
        }
        Some(Condition { metric, op, bound })
    }

    /// `> 0`, `>= 0.5`, `== 3`.
    fn comparison(&self, text: &str, at: usize, errors: &mut Vec<Diagnostic>) -> Option<(CmpOp, Rational)> {
        let t = text.trim();
        let ops = [
            (">=", CmpOp::GreaterEq),
            ("<=", CmpOp::LessEq),
            ("==", CmpOp::Equal),
            ("!=", CmpOp::NotEqual),
            (">", CmpOp::Greater),
            ("<", CmpOp::Less),
        ];
        let parsed = ops.iter().find_map(|(sym, op)| {
            let rest = t.strip_prefix(sym)?;
            Rational::parse_decimal(rest).map(|b| (*op, b))
        });
        if parsed.is_none() {
            errors.push(self.at(
                at,
                format!("`{t}` is not a comparison"),
                "write an operator (>, >=, <, <=, ==, !=) and a number, e.g. \"> 0\"",
            ));
        }
        parsed
    }

    fn group(&self, s: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> Group {
        match s.get_ref().as_str() {
            "team" => Group::Team,
            "role" => Group::Role,
            "org" => Group::Org,
            other => {
                errors.push(self.at(s.span().start, format!("unknown group `{other}`"), "use team, role or org"));
                Group::Org
            }
        }
    }

    fn template(&self, doc: TemplateDoc, at: usize, errors: &mut Vec<Diagnostic>) -> Option<Template> {
        let id = doc.id.get_ref().clone();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            errors.push(self.at(
                doc.id.span().start,
                format!("`{id}` is not a template id"),
                "use letters, digits, _ and -",
            ));
        }
        let cycles = self.cycles(doc.cycle.as_ref(), errors);
        let applies = doc.applies_to.get_ref();
        if applies.roles.is_empty() && applies.teams.is_empty() && applies.people.is_empty() {
            errors.push(self.at(
                doc.applies_to.span().start,
                "applies_to names nobody",
                "give roles = [...], teams = [...] or people = [...]",
            ));
        }
        let when = applies.when.as_ref().and_then(|w| self.condition(w, errors));
        let applies_to = AppliesTo {
            roles: applies.roles.clone(),
            teams: applies.teams.clone(),
            people: applies.people.clone(),
            when,
        };
        let mut items: Vec<Item> = Vec::new();
        for spanned in &doc.item {
            if let Some(item) = self.item(spanned, errors) {
                if items.iter().any(|i| i.metric == item.metric) {
                    errors.push(self.at(
                        spanned.get_ref().metric.span().start,
                        format!("metric `{}` is an item twice", item.metric),
                        "keep one item per metric",
                    ));
                }
                items.push(item);
            }
        }
        if doc.item.is_empty() {
            errors.push(self.at(at, format!("template `{id}` has no items"), "add [[template.item]] sections"));
        }
        let total: Option<Rational> = items.iter().try_fold(Rational::int(0), |a, i| a.checked_add(i.weight));
        if !doc.item.is_empty() && items.len() == doc.item.len() && total != Some(Rational::int(100)) {
            errors.push(self.at(
                at,
                format!(
                    "the weights of template `{id}` add up to {}, not 100",
                    total.map_or("?".to_string(), |t| t.format6())
                ),
                "make the items' weights add up to 100",
            ));
        }
        let grades = self.grades(doc.grades.as_ref(), &items, errors);
        for item in &items {
            if let Some(Veto { effect: VetoEffect::GradeCap(g), .. }) = &item.veto
                && !grades.order().contains(&g.as_str())
            {
                errors.push(self.at(
                    at,
                    format!("item `{}`: veto caps at grade `{g}`, which the grade scheme does not have", item.metric),
                    &format!("use one of {}", grades.order().join(", ")),
                ));
            }
        }
        let overrides = self.overrides(&doc.overrides, &items, errors);
        let ranking = match &doc.ranking {
            None => vec![Group::Team, Group::Role, Group::Org],
            Some(list) => list.iter().map(|g| self.group(g, errors)).collect(),
        };
        let bonus = doc.bonus.as_ref().map(|b| self.bonus(b, &items, &grades, at, errors));
        Some(Template {
            id,
            name_zh: doc.name_zh,
            name_en: doc.name_en,
            version: *doc.version.get_ref(),
            cycles,
            applies_to,
            items,
            overrides,
            grades,
            ranking,
            bonus: bonus.flatten(),
            team_scorecard: doc.team_scorecard,
            builtin: false,
            file: self.file.to_string(),
            line: crate::diag::line_column(self.text, at).0,
        })
    }

    fn cycles(&self, doc: Option<&Spanned<OneOrMany>>, errors: &mut Vec<Diagnostic>) -> Vec<Cycle> {
        let Some(doc) = doc else { return vec![Cycle::Month] };
        let names: Vec<&str> = match doc.get_ref() {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        };
        let mut out = Vec::new();
        for n in names {
            match n {
                "month" => out.push(Cycle::Month),
                "quarter" => out.push(Cycle::Quarter),
                "half" => out.push(Cycle::Half),
                "year" => out.push(Cycle::Year),
                other => errors.push(self.at(
                    doc.span().start,
                    format!("unknown cycle `{other}`"),
                    "use month, quarter, half or year (or a list of them)",
                )),
            }
        }
        out
    }

    fn item(&self, spanned: &Spanned<ItemDoc>, errors: &mut Vec<Diagnostic>) -> Option<Item> {
        let doc = spanned.get_ref();
        let n_errors = errors.len();
        let metric = doc.metric.get_ref().clone();
        let Some(info) = self.metric_info(&metric) else {
            errors.push(self.unknown_metric(&doc.metric));
            return None;
        };
        let num = |v: &Option<Spanned<f64>>, errors: &mut Vec<Diagnostic>| v.as_ref().map(|v| self.num(v, errors));
        let weight = self.num(&doc.weight, errors);
        if weight < Rational::int(0) || (weight == Rational::int(0) && doc.veto.is_none()) {
            errors.push(self.at(
                doc.weight.span().start,
                "a weight must be above 0 (0 only for a veto-only item)",
                "give the item a weight, or a veto if it is only a veto",
            ));
        }
        let choice = |s: &Option<Spanned<String>>, options: &[&str], default: &str, errors: &mut Vec<Diagnostic>| {
            let Some(s) = s else { return default.to_string() };
            if !options.contains(&s.get_ref().as_str()) {
                errors.push(self.at(
                    s.span().start,
                    format!("`{}` is not one of {}", s.get_ref(), options.join(", ")),
                    &format!("use one of {}", options.join(", ")),
                ));
            }
            s.get_ref().clone()
        };
        let dimension = choice(&Some(doc.dimension.clone()), DIMENSIONS, "", errors);
        let qualitative = choice(&doc.kind, &["quantitative", "qualitative"], "quantitative", errors) == "qualitative";
        let process = choice(&doc.category, &["results", "process"], "results", errors) == "process";
        let of = if choice(&doc.of, &["person", "team"], "person", errors) == "team" { Of::Team } else { Of::Person };
        let direction = match doc.direction.as_ref().map(|d| d.get_ref().as_str()) {
            Some("higher") => Direction::HigherIsBetter,
            Some("lower") => Direction::LowerIsBetter,
            Some(other) => {
                let span = doc.direction.as_ref().map_or(0, |d| d.span().start);
                errors.push(self.at(span, format!("unknown direction `{other}`"), "use higher or lower"));
                Direction::HigherIsBetter
            }
            None => match info.higher_is_better {
                Some(false) => Direction::LowerIsBetter,
                Some(true) => Direction::HigherIsBetter,
                None => {
                    errors.push(self.at(
                        doc.metric.span().start,
                        format!("the catalogue does not say which way `{metric}` is better"),
                        "add direction = \"higher\" or \"lower\" to the item",
                    ));
                    Direction::HigherIsBetter
                }
            },
        };
        let target = num(&doc.target, errors);
        let threshold = num(&doc.threshold, errors);
        let stretch = num(&doc.stretch, errors);
        let cap = num(&doc.cap, errors).unwrap_or(Rational::int(100));
        let hundred = Rational::int(100);
        if cap < hundred {
            let span = doc.cap.as_ref().map_or(0, |c| c.span().start);
            errors.push(self.at(span, "cap is below 100", "a cap is the highest score: 100 or more"));
        }
        let method_at = doc.method.span().start;
        let need = |what: Option<Rational>, name: &str, errors: &mut Vec<Diagnostic>| {
            if what.is_none() {
                errors.push(self.at(
                    method_at,
                    format!("method `{}` needs `{name}`", doc.method.get_ref()),
                    &format!("add {name} = … to the item"),
                ));
            }
        };
        let method = match doc.method.get_ref().as_str() {
            "linear" => {
                need(target, "target", errors);
                need(threshold, "threshold", errors);
                Method::Linear
            }
            "ratio" => {
                need(target, "target", errors);
                if target == Some(Rational::int(0)) {
                    errors.push(self.at(method_at, "method `ratio` divides by the target: it cannot be 0", ""));
                }
                Method::Ratio
            }
            "pass_fail" => {
                need(target, "target", errors);
                Method::PassFail
            }
            "steps" => {
                let Some(steps) = &doc.steps else {
                    errors.push(self.at(
                        method_at,
                        "method `steps` needs `steps`",
                        "add steps = [{ at = 0.9, points = 100 }, { at = 0.8, points = 80 }]",
                    ));
                    return None;
                };
                let mut out = Vec::new();
                for s in steps.get_ref() {
                    let (Some(bound), Some(points)) =
                        (Rational::from_f64_decimal(s.at), Rational::from_f64_decimal(s.points))
                    else {
                        continue;
                    };
                    out.push(Step { bound, points });
                }
                let ordered = out.windows(2).all(|w| match direction {
                    Direction::HigherIsBetter => w[0].bound > w[1].bound,
                    Direction::LowerIsBetter => w[0].bound < w[1].bound,
                });
                if out.is_empty() || !ordered {
                    errors.push(self.at(
                        steps.span().start,
                        "steps must list bands best first",
                        match direction {
                            Direction::HigherIsBetter => "higher is better: list `at` from the highest to the lowest",
                            Direction::LowerIsBetter => "lower is better: list `at` from the lowest to the highest",
                        },
                    ));
                }
                if out.iter().any(|s| s.points > cap || s.points < Rational::int(0)) {
                    errors.push(self.at(steps.span().start, "step points must lie between 0 and the cap", ""));
                }
                Method::Steps(out)
            }
            "deduction" => {
                let per = num(&doc.points_per_unit, errors);
                need(per, "points_per_unit", errors);
                Method::Deduction { points_per_unit: per.unwrap_or(Rational::int(0)) }
            }
            "rating" => {
                let (min, max) = match &doc.scale {
                    Some(s) => {
                        let [a, b] = *s.get_ref();
                        let pair = (Rational::from_f64_decimal(a), Rational::from_f64_decimal(b));
                        match pair {
                            (Some(a), Some(b)) if a < b => (a, b),
                            _ => {
                                errors.push(self.at(s.span().start, "scale must be [lowest, highest]", "e.g. [1, 5]"));
                                (Rational::int(1), Rational::int(5))
                            }
                        }
                    }
                    None => (Rational::int(1), Rational::int(5)),
                };
                Method::Rating { min, max }
            }
            other => {
                errors.push(self.at(
                    method_at,
                    format!("unknown scoring method `{other}`"),
                    "use linear, ratio, steps, pass_fail, deduction or rating",
                ));
                return None;
            }
        };
        // Which side of the threshold the target is on, and of the target the stretch.
        let better = |a: Rational, b: Rational| match direction {
            Direction::HigherIsBetter => a > b,
            Direction::LowerIsBetter => a < b,
        };
        let side = if direction == Direction::HigherIsBetter { "above" } else { "below" };
        if let (Some(t), Some(th)) = (target, threshold)
            && !better(t, th)
        {
            let span = doc.target.as_ref().map_or(0, |t| t.span().start);
            errors.push(self.at(
                span,
                format!(
                    "target {} is on the wrong side of threshold {} ({} is {} better)",
                    t.format6(),
                    th.format6(),
                    metric,
                    if direction == Direction::HigherIsBetter { "higher" } else { "lower" }
                ),
                &format!("the target must be {side} the threshold; swap them or set direction"),
            ));
        }
        if let (Some(s), Some(t)) = (stretch, target)
            && !better(s, t)
        {
            let span = doc.stretch.as_ref().map_or(0, |s| s.span().start);
            errors.push(self.at(
                span,
                format!("stretch {} is not beyond target {}", s.format6(), t.format6()),
                &format!("the stretch must be {side} the target"),
            ));
        }
        if stretch.is_some() && cap == hundred {
            let span = doc.stretch.as_ref().map_or(0, |s| s.span().start);
            errors.push(self.at(span, "a stretch needs a cap above 100", "add cap = 120 (for example)"));
        }
        if info.is_rate {
            let (lo, hi) = if metric.ends_with(".change") { (-1, 1) } else { (0, 1) };
            for (value, name) in [(&doc.target, "target"), (&doc.threshold, "threshold"), (&doc.stretch, "stretch")] {
                if let Some(v) = value
                    && let Some(r) = Rational::from_f64_decimal(*v.get_ref())
                    && (r < Rational::int(lo) || r > Rational::int(hi))
                {
                    errors.push(self.at(
                        v.span().start,
                        format!("{name} {} is outside {lo}..{hi}, but `{metric}` is a rate", r.format6()),
                        "rates are fractions: write 0.85 for 85 %",
                    ));
                }
            }
        }
        let min_sample = doc.min_sample.as_ref().map(|m| *m.get_ref() as i128);
        if let Some(m) = &doc.min_sample
            && !info.has_sample
        {
            errors.push(self.at(
                m.span().start,
                format!("`{metric}` is not counted over records, so it has no sample size"),
                "remove min_sample (it applies to ratios, means, percentiles and counts)",
            ));
        }
        let shrink = if doc.shrink {
            let strength = num(&doc.shrink_strength, errors).or(min_sample.map(Rational::int));
            match strength {
                Some(s) if s > Rational::int(0) => Some(Shrink { strength: s }),
                _ => {
                    errors.push(self.at(
                        spanned.span().start,
                        "shrink needs a minimum sample or a shrink_strength above 0",
                        "add min_sample = 5 (the prior counts as that many records)",
                    ));
                    None
                }
            }
        } else {
            None
        };
        if shrink.is_some() && of == Of::Team {
            errors.push(self.at(spanned.span().start, "a team item cannot be shrunk towards the team", ""));
        }
        let missing = match doc.missing.as_ref().map(|m| m.get_ref().as_str()) {
            None | Some("exclude") => Missing::Exclude,
            Some("zero") => Missing::Zero,
            Some("neutral") => Missing::Neutral(num(&doc.neutral_score, errors).unwrap_or(Rational::int(60))),
            Some(other) => {
                let span = doc.missing.as_ref().map_or(0, |m| m.span().start);
                errors.push(self.at(
                    span,
                    format!("unknown missing-data policy `{other}`"),
                    "use exclude, zero or neutral",
                ));
                Missing::Exclude
            }
        };
        let veto = doc.veto.as_ref().and_then(|v| {
            let v = v.get_ref();
            let (op, bound) = self.comparison(v.when.get_ref(), v.when.span().start, errors)?;
            let effect = match (v.effect.get_ref().as_str(), &v.grade) {
                ("zero", _) => VetoEffect::Zero,
                ("flag", _) => VetoEffect::Flag,
                ("grade_cap", Some(g)) => VetoEffect::GradeCap(g.clone()),
                ("grade_cap", None) => {
                    errors.push(self.at(v.effect.span().start, "grade_cap needs a grade", "add grade = \"C\""));
                    return None;
                }
                (other, _) => {
                    errors.push(self.at(
                        v.effect.span().start,
                        format!("unknown veto effect `{other}`"),
                        "use zero (total = 0), grade_cap (with grade = …) or flag",
                    ));
                    return None;
                }
            };
            Some(Veto { op, bound, effect })
        });
        (errors.len() == n_errors).then(|| Item {
            metric: metric.clone(),
            name_zh: doc.name_zh.clone().unwrap_or(info.name_zh),
            name_en: doc.name_en.clone().unwrap_or(info.name_en),
            weight,
            dimension,
            qualitative,
            process,
            of,
            direction,
            method,
            target,
            threshold,
            stretch,
            cap,
            min_sample,
            shrink,
            missing,
            veto,
            is_rate: info.is_rate,
            line: crate::diag::line_column(self.text, spanned.span().start).0,
        })
    }

    fn grades(&self, doc: Option<&GradesDoc>, items: &[Item], errors: &mut Vec<Diagnostic>) -> Grades {
        let mut grades = Grades::default_bands();
        let Some(doc) = doc else { return grades };
        let forced = match &doc.scheme {
            None => doc.quotas.is_some(),
            Some(s) => match s.get_ref().as_str() {
                "bands" => false,
                "forced" => true,
                other => {
                    errors.push(self.at(
                        s.span().start,
                        format!("unknown grade scheme `{other}`"),
                        "use bands or forced",
                    ));
                    false
                }
            },
        };
        if forced {
            let Some(quotas) = &doc.quotas else {
                errors.push(Diagnostic::error(self.file, 0, 0, "a forced distribution needs quotas").fix(
                    "add quotas = [{ grade = \"A+\", percent = 10 }, { grade = \"A\", percent = 20 }, …] under [template.grades]",
                ));
                return grades;
            };
            let list: Vec<(String, Rational)> = quotas
                .get_ref()
                .iter()
                .map(|q| (q.grade.clone(), Rational::from_f64_decimal(q.percent).unwrap_or(Rational::int(-1))))
                .collect();
            let sum = list.iter().try_fold(Rational::int(0), |a, (_, p)| a.checked_add(*p));
            if sum != Some(Rational::int(100)) || list.iter().any(|(_, p)| *p < Rational::int(0)) {
                errors.push(self.at(
                    quotas.span().start,
                    format!("the quotas add up to {}%, not 100%", sum.map_or("?".into(), |s| s.format6())),
                    "make the grade quotas add up to 100 (percent)",
                ));
            }
            let group = doc.group.as_ref().map_or(Group::Org, |g| self.group(g, errors));
            let tie_break = doc.tie_break.as_ref().map(|t| {
                if !items.iter().any(|i| &i.metric == t.get_ref()) {
                    errors.push(self.at(
                        t.span().start,
                        format!("tie_break `{}` is not an item of this template", t.get_ref()),
                        "name one of the template's item metrics",
                    ));
                }
                t.get_ref().clone()
            });
            grades.scheme = GradeScheme::Forced { quotas: list, group, tie_break };
        } else if let Some(bands) = &doc.bands {
            let list: Vec<(String, Rational)> = bands
                .get_ref()
                .iter()
                .map(|b| (b.grade.clone(), Rational::from_f64_decimal(b.min).unwrap_or(Rational::int(0))))
                .collect();
            if list.is_empty() || list.windows(2).any(|w| w[0].1 <= w[1].1) {
                errors.push(self.at(
                    bands.span().start,
                    "grade bands must go from the highest minimum to the lowest",
                    "e.g. bands = [{ grade = \"A\", min = 85 }, { grade = \"B\", min = 70 }, { grade = \"C\", min = 0 }]",
                ));
            }
            grades.scheme = GradeScheme::Bands(list);
        }
        let order: Vec<String> = grades.order().iter().map(|s| s.to_string()).collect();
        if let Some(c) = &doc.coefficients {
            grades.coefficients.clear();
            for (g, v) in c.get_ref() {
                if !order.contains(g) {
                    errors.push(self.at(
                        c.span().start,
                        format!("coefficient for grade `{g}`, which the scheme does not have"),
                        &format!("grades are {}", order.join(", ")),
                    ));
                }
                grades.coefficients.push((g.clone(), Rational::from_f64_decimal(*v).unwrap_or(Rational::int(0))));
            }
        }
        grades
    }

    fn overrides(&self, docs: &[Spanned<OverrideDoc>], items: &[Item], errors: &mut Vec<Diagnostic>) -> Vec<Override> {
        let mut out: Vec<(Override, usize)> = Vec::new();
        for spanned in docs {
            let doc = spanned.get_ref();
            let day = |s: &Spanned<String>, errors: &mut Vec<Diagnostic>| {
                parse_day(s.get_ref()).or_else(|| {
                    errors.push(self.at(
                        s.span().start,
                        format!("`{}` is not a date", s.get_ref()),
                        "write 2025-11-01",
                    ));
                    None
                })
            };
            let (Some(from), Some(to)) = (day(&doc.from, errors), day(&doc.to, errors)) else { continue };
            if to < from {
                errors.push(self.at(doc.to.span().start, "the override ends before it starts", "swap from and to"));
                continue;
            }
            let list = |map: &BTreeMap<String, Spanned<f64>>, errors: &mut Vec<Diagnostic>| {
                let mut v = Vec::new();
                for (metric, value) in map {
                    if !items.iter().any(|i| &i.metric == metric) {
                        errors.push(self.at(
                            value.span().start,
                            format!("override `{}` names `{metric}`, which is not an item of this template", doc.name),
                            "name one of the template's item metrics",
                        ));
                    }
                    v.push((metric.clone(), self.num(value, errors)));
                }
                v
            };
            let o = Override {
                name: doc.name.clone(),
                from,
                to,
                weights: list(&doc.weights, errors),
                targets: list(&doc.targets, errors),
                thresholds: list(&doc.thresholds, errors),
            };
            if !o.weights.is_empty() {
                let sum = items.iter().try_fold(Rational::int(0), |a, i| {
                    let w = o.weights.iter().find(|(m, _)| *m == i.metric).map_or(i.weight, |(_, w)| *w);
                    a.checked_add(w)
                });
                if sum != Some(Rational::int(100)) {
                    errors.push(self.at(
                        spanned.span().start,
                        format!(
                            "with override `{}` the weights add up to {}, not 100",
                            o.name,
                            sum.map_or("?".into(), |s| s.format6())
                        ),
                        "change the override's weights so that all items add up to 100",
                    ));
                }
            }
            for (metric, target) in &o.targets {
                let Some(item) = items.iter().find(|i| &i.metric == metric) else { continue };
                let threshold = o.thresholds.iter().find(|(m, _)| m == metric).map(|(_, t)| *t).or(item.threshold);
                let wrong = threshold.is_some_and(|th| match item.direction {
                    Direction::HigherIsBetter => *target <= th,
                    Direction::LowerIsBetter => *target >= th,
                });
                if wrong {
                    errors.push(self.at(
                        spanned.span().start,
                        format!(
                            "override `{}`: the target of `{metric}` is on the wrong side of its threshold",
                            o.name
                        ),
                        "the target must be on the better side of the threshold",
                    ));
                }
            }
            if let Some((other, _)) = out.iter().find(|(p, _)| p.from <= o.to && o.from <= p.to) {
                errors.push(self.at(
                    spanned.span().start,
                    format!("override `{}` overlaps override `{}`", o.name, other.name),
                    "give overrides of one template separate date ranges",
                ));
            }
            out.push((o, spanned.span().start));
        }
        out.into_iter().map(|(o, _)| o).collect()
    }

    fn bonus(
        &self,
        doc: &BonusDoc,
        items: &[Item],
        grades: &Grades,
        at: usize,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<Bonus> {
        let base = match (&doc.base, &doc.pool) {
            (Some(b), None) => BonusBase::Base(self.num(b, errors)),
            (None, Some(p)) => BonusBase::Pool {
                amount: self.num(p, errors),
                group: doc.pool_group.as_ref().map_or(Group::Org, |g| self.group(g, errors)),
            },
            _ => {
                errors.push(self.at(at, "a bonus needs either base or pool", "add base = 2000 or pool = 100000"));
                return None;
            }
        };
        if matches!(base, BonusBase::Base(_)) {
            for g in grades.order() {
                if grades.coefficient(g).is_none() {
                    errors.push(self.at(
                        at,
                        format!("grade `{g}` has no bonus coefficient"),
                        "add it under coefficients in [template.grades]",
                    ));
                }
            }
        }
        if matches!(base, BonusBase::Pool { .. }) && !doc.rule.is_empty() {
            errors.push(self.at(
                at,
                "bonus rules raise a base bonus; a pool is split by total",
                "use base = … with rules, or a pool without them",
            ));
        }
        let mut rules = Vec::new();
        for r in &doc.rule {
            let r = r.get_ref();
            let Some(item) = items.iter().find(|i| &i.metric == r.metric.get_ref()) else {
                errors.push(self.at(
                    r.metric.span().start,
                    format!("bonus rule on `{}`, which is not an item of this template", r.metric.get_ref()),
                    "name one of the template's item metrics",
                ));
                continue;
            };
            if item.target.is_none() {
                errors.push(self.at(
                    r.metric.span().start,
                    "a bonus rule counts steps above the item's target",
                    "give the item a target",
                ));
            }
            let per = self.num(&r.per, errors);
            if per <= Rational::int(0) {
                errors.push(self.at(
                    r.per.span().start,
                    "per must be above 0",
                    "e.g. per = 0.01 (one point of a rate)",
                ));
            }
            rules.push(BonusRule {
                metric: item.metric.clone(),
                per,
                percent: Rational::from_f64_decimal(r.percent).unwrap_or(Rational::int(0)),
                max_percent: r.max_percent.and_then(Rational::from_f64_decimal),
            });
        }
        Some(Bonus { base, rules })
    }
}
