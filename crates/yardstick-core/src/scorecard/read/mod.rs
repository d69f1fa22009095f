//! Reading scorecard templates from TOML, with every check `yardstick check` promises:
//! unknown metrics, weights that do not add up to 100, a target on the wrong side of its
//! threshold, overlapping overrides, quotas that do not sum to 100 % — each with file,
//! line, column and a fix. See README.md "Scorecard templates" for the format.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

mod item;
mod parts;

use super::template::*;
use crate::diag::{Diagnostic, parse_toml};
use crate::engine::Rational;
use crate::lang::ast::Expr;
use crate::metric::{Aggregate, Catalogue, MetricDef, MetricKind};

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
    min_data_share: Option<Spanned<f64>>,
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
        let d = Diagnostic::at_span(self.file, self.text, offset, message).code("template.invalid");
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
        // A formula `ratio(a, b)` is a rate and carries its denominator as the sample.
        let formula_ratio = |w: &crate::metric::Written| matches!(&w.expr, Expr::Call(name, ..) if name == "ratio");
        let is_ratio = def.is_rate();
        let has_sample = match &def.kind {
            MetricKind::Records(r) => !matches!(r.aggregate, Aggregate::Sum(_) | Aggregate::DistinctCount(_)),
            MetricKind::Formula(w) => formula_ratio(w),
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
        let all = format!("a catalogue metric ({}), rating_mean:ITEM, or add .change / .attainment", known.join(", "));
        let fix = match crate::diag::closest(s.get_ref(), known.iter().copied()) {
            Some(meant) => format!("did you mean `{meant}`? Use {all}"),
            None => format!("use {all}"),
        };
        self.at(s.span().start, format!("unknown metric `{}`", s.get_ref()), &fix)
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
        let min_data_share = match &doc.min_data_share {
            None => Rational::new(3, 5).expect("3/5"),
            Some(share) => {
                let v = *share.get_ref();
                if !(0.0..=1.0).contains(&v) {
                    let fix = if v > 1.0 && v <= 100.0 {
                        format!("write the share as a fraction: min_data_share = {}", v / 100.0)
                    } else {
                        "write a fraction from 0 to 1 (0.6: items with data carry at least 60 % of the weight)".into()
                    };
                    errors.push(self.at(share.span().start, format!("min_data_share {v} is not a share"), &fix));
                }
                crate::engine::Rational::new((v.clamp(0.0, 1.0) * 1e6).round() as i128, 1_000_000).expect("a share")
            }
        };
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
            min_data_share,
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
}
