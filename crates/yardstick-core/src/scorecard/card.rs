//! One subject's scorecard before grades and ranks: each item's value (with shrinkage and
//! peak-season blending), score, weight and contribution, the vetoes, the total and the
//! dimension subtotals.

use super::method::{Rule, SCORE_PLACES, Scored, add, div, mul, r, score};
use super::template::{Item, Missing, Of, Template, VetoEffect};
use crate::engine::{MetricValue, Rational};
use crate::period::Period;

/// Weights after blending are kept at this many decimals.
pub const WEIGHT_PLACES: u32 = 4;
/// Metric values enter scoring as published: at 6 decimals.
pub const VALUE_PLACES: u32 = 6;

/// One override's days inside a period and what it sets for an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    pub days_in: i64,
    pub weight: Rational,
    pub target: Option<Rational>,
    pub threshold: Option<Rational>,
}

/// How overrides changed an item's weight, target and threshold for a period: each
/// parameter is `(Σ days_in × override value + remaining days × base value) / days`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blend {
    pub days: i64,
    pub segments: Vec<Segment>,
}

impl Blend {
    /// The blending of one parameter, e.g. `(11 × 30 + 19 × 20) / 30 = 23.3333`.
    pub fn arithmetic(&self, base: Rational, pick: impl Fn(&Segment) -> Option<Rational>, result: Rational) -> String {
        let covered: i64 = self.segments.iter().map(|s| s.days_in).sum();
        let mut terms: Vec<String> =
            self.segments.iter().map(|s| format!("{} × {}", s.days_in, pick(s).unwrap_or(base).format6())).collect();
        if self.days > covered {
            terms.push(format!("{} × {}", self.days - covered, base.format6()));
        }
        format!("({}) / {} = {}", terms.join(" + "), self.days, result.format6())
    }
}

/// Empirical-Bayes shrinkage as applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shrunk {
    pub n: i128,
    pub strength: Rational,
    pub own: Rational,
    pub team: Rational,
    pub result: Rational,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemStatus {
    /// Scored from the value.
    Scored,
    /// Without a usable value; the policy decides (`score` is None when excluded).
    Missing { reason: MissingReason, policy: Missing },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingReason {
    /// No value for the period (no records, an empty denominator, too few raters).
    NoValue,
    /// Fewer records than the minimum sample.
    SampleBelow { n: i128, min: i128 },
    /// A team item for a person who leads no team.
    LeadsNoTeam,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemResult {
    pub metric: String,
    /// The weight for this period (after any override blending).
    pub weight: Rational,
    pub target: Option<Rational>,
    pub threshold: Option<Rational>,
    pub blend: Option<Blend>,
    /// The value from the engine (for the person, or the team the person leads).
    pub value: Option<MetricValue>,
    pub shrunk: Option<Shrunk>,
    /// The value scored: the value at 6 decimals, or the shrunk value.
    pub used: Option<Rational>,
    pub status: ItemStatus,
    /// None when the item is left out (missing, policy exclude).
    pub score: Option<Rational>,
    pub arithmetic: String,
    /// weight × score / Σ weights of the items counted.
    pub contribution: Option<Rational>,
    pub vetoed: bool,
}

/// An item's weight, target and threshold for a period: overrides blended by the days
/// they cover (weights at 4 decimals, targets and thresholds at 6).
pub fn effective(
    item: &Item,
    template: &Template,
    period: Period,
) -> (Rational, Option<Rational>, Option<Rational>, Option<Blend>) {
    let days = period.n_days();
    let find = |list: &[(String, Rational)]| list.iter().find(|(m, _)| *m == item.metric).map(|(_, v)| *v);
    let segments: Vec<Segment> = template
        .overrides
        .iter()
        .filter_map(|o| {
            let days_in = (o.to + 1).min(period.end) - o.from.max(period.start);
            let (w, t, th) = (find(&o.weights), find(&o.targets), find(&o.thresholds));
            (days_in > 0 && (w.is_some() || t.is_some() || th.is_some())).then(|| Segment {
                name: o.name.clone(),
                days_in,
                weight: w.unwrap_or(item.weight),
                target: t.or(item.target),
                threshold: th.or(item.threshold),
            })
        })
        .collect();
    if segments.is_empty() {
        return (item.weight, item.target, item.threshold, None);
    }
    let covered: i64 = segments.iter().map(|s| s.days_in).sum();
    let blend = |base: Rational, pick: &dyn Fn(&Segment) -> Option<Rational>, places: u32| {
        let sum = segments.iter().fold(mul(r((days - covered) as i128), base), |a, s| {
            add(a, mul(r(s.days_in as i128), pick(s).unwrap_or(base)))
        });
        div(sum, r(days as i128)).round(places)
    };
    let weight = blend(item.weight, &|s| Some(s.weight), WEIGHT_PLACES);
    let target = item.target.map(|t| blend(t, &|s| s.target, VALUE_PLACES));
    let threshold = item.threshold.map(|t| blend(t, &|s| s.threshold, VALUE_PLACES));
    (weight, target, threshold, Some(Blend { days, segments }))
}

/// Values an item reads for one subject.
#[derive(Clone, Copy, Debug, Default)]
pub struct ItemInput {
    /// The subject's value; None when there is none (or no team for a team item).
    pub value: Option<MetricValue>,
    /// The value of the person's team, for shrinkage.
    pub team_value: Option<Rational>,
    /// A team item for a person who leads no team.
    pub leads_no_team: bool,
}

/// Scores one item.
pub fn item_result(item: &Item, template: &Template, period: Period, input: ItemInput) -> ItemResult {
    let (weight, target, threshold, blend) = effective(item, template, period);
    let rule = Rule { item, target, threshold, stretch: item.stretch };
    let value = input.value;
    let published = value.and_then(|v| v.value).map(|v| v.round(VALUE_PLACES));
    let sample = value.and_then(|v| v.sample()).map(i128::from);
    let mut shrunk = None;
    let mut reason = None;
    let mut used = published;
    if input.leads_no_team && item.of == Of::Team {
        reason = Some(MissingReason::LeadsNoTeam);
        used = None;
    } else if published.is_none() {
        reason = Some(MissingReason::NoValue);
    } else if let (Some(min), Some(n), Some(own)) = (item.min_sample, sample, published)
        && n < min
    {
        match (item.shrink, input.team_value) {
            (Some(s), Some(team)) => {
                let team = team.round(VALUE_PLACES);
                let result = div(add(mul(r(n), own), mul(s.strength, team)), add(r(n), s.strength)).round(VALUE_PLACES);
                shrunk = Some(Shrunk { n, strength: s.strength, own, team, result });
                used = Some(result);
            }
            _ => {
                reason = Some(MissingReason::SampleBelow { n, min });
                used = None;
            }
        }
    }
    let vetoed = item.veto.as_ref().is_some_and(|v| published.is_some_and(|x| v.op.holds(x, v.bound)));
    let (status, scored) = match reason {
        None => {
            let s = score(&rule, used.expect("a usable value"));
            (ItemStatus::Scored, Some(s))
        }
        Some(reason) => {
            let scored = match item.missing {
                Missing::Exclude => None,
                Missing::Zero => Some(Scored { score: r(0), arithmetic: "missing → 0".into() }),
                Missing::Neutral(x) => Some(Scored {
                    score: x.round(SCORE_PLACES),
                    arithmetic: format!("missing → neutral {}", x.format6()),
                }),
            };
            (ItemStatus::Missing { reason, policy: item.missing }, scored)
        }
    };
    ItemResult {
        metric: item.metric.clone(),
        weight,
        target,
        threshold,
        blend,
        value,
        shrunk,
        used,
        status,
        score: scored.as_ref().map(|s| s.score),
        arithmetic: scored.map_or_else(|| "missing → left out; the other weights renormalise".into(), |s| s.arithmetic),
        contribution: None,
        vetoed,
    }
}

/// The total of scored items: Σ weight × score / Σ weight, rounded to 2 decimals; sets
/// each item's contribution. None when no item counts.
pub fn total(items: &mut [ItemResult]) -> (Option<Rational>, Rational) {
    let weight_sum = items.iter().filter(|i| i.score.is_some()).fold(r(0), |a, i| add(a, i.weight));
    if weight_sum <= r(0) {
        return (None, r(0));
    }
    let mut sum = r(0);
    for item in items.iter_mut() {
        if let Some(s) = item.score {
            let product = mul(item.weight, s);
            sum = add(sum, product);
            item.contribution = Some(div(product, weight_sum));
        }
    }
    (Some(div(sum, weight_sum).round(SCORE_PLACES)), weight_sum)
}

/// Σ of contributions per key (dimension, or a split), rounded to 2 decimals, in the
/// order keys first appear.
pub fn subtotals<'a>(items: &[ItemResult], key: impl Fn(usize) -> &'a str) -> Vec<(String, Rational)> {
    let mut out: Vec<(String, Rational)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let k = key(i);
        let c = item.contribution.unwrap_or(r(0));
        match out.iter_mut().find(|(name, _)| name == k) {
            Some((_, v)) => *v = add(*v, c),
            None => out.push((k.to_string(), c)),
        }
    }
    for (_, v) in &mut out {
        *v = v.round(SCORE_PLACES);
    }
    out
}

/// The effect of the vetoes hit: total zeroed, the strictest grade cap, flags.
pub fn veto_effects<'a>(items: &[ItemResult], template: &'a Template) -> (bool, Vec<&'a str>) {
    let mut zero = false;
    let mut caps = Vec::new();
    for (item, result) in template.items.iter().zip(items) {
        if !result.vetoed {
            continue;
        }
        match &item.veto.as_ref().expect("vetoed items have a veto").effect {
            VetoEffect::Zero => zero = true,
            VetoEffect::GradeCap(g) => caps.push(g.as_str()),
            VetoEffect::Flag => {}
        }
    }
    (zero, caps)
}
