//! Reading one template item: its metric, weight, classification, scoring method and
//! parameters, minimum sample and shrinkage, missing-data policy and veto — each checked.

use toml::Spanned;

use super::{DIMENSIONS, ItemDoc, Reader};
use crate::diag::Diagnostic;
use crate::engine::Rational;
use crate::scorecard::template::*;

impl Reader<'_> {
    pub(super) fn item(&self, spanned: &Spanned<ItemDoc>, errors: &mut Vec<Diagnostic>) -> Option<Item> {
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
}
