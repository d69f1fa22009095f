//! Reading a template's grade scheme, peak-season overrides and bonus, each checked.

use std::collections::BTreeMap;

use toml::Spanned;

use super::{BonusDoc, GradesDoc, OverrideDoc, Reader};
use crate::diag::Diagnostic;
use crate::engine::Rational;
use crate::scorecard::template::*;
use crate::time::parse_day;

impl Reader<'_> {
    pub(super) fn grades(&self, doc: Option<&GradesDoc>, items: &[Item], errors: &mut Vec<Diagnostic>) -> Grades {
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
                errors.push(Diagnostic::error(self.file, 0, 0, "a forced distribution needs quotas").code("template.invalid").fix(
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

    pub(super) fn overrides(
        &self,
        docs: &[Spanned<OverrideDoc>],
        items: &[Item],
        errors: &mut Vec<Diagnostic>,
    ) -> Vec<Override> {
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

    pub(super) fn bonus(
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
