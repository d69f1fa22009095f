//! From accumulators to values: adds up a subject's cells over a period's slots and turns
//! the sums into exact values (percentiles in `percentile.rs`).

use super::cells::{Cells, Subject};
use super::percentile::{finalize_percentiles, percentiles_of_touched};
use super::plan::{AggKind, Group, PlannedMetric, Slots};
use super::subject_values::SubjectValues;
use super::timeline::Timeline;
use super::value::{MetricValue, Rational};
use crate::lang::compile::MICROS;
use crate::lang::program::Ty;
use crate::metric::Unit;

/// Values of one metric: per period index, per subject.
pub type MetricValues = Vec<SubjectValues>;

/// The slots of period `k` in a group.
pub fn period_slots(group: &Group, timeline: &Timeline, k: usize) -> std::ops::Range<usize> {
    match group.slots {
        Slots::Atoms { .. } => {
            let (a, b) = timeline.period_atoms[k];
            a as usize..b as usize
        }
        _ => k..k + 1,
    }
}

/// Sorted values per accumulator index.
pub struct Buckets {
    offsets: Vec<u32>,
    values: Vec<i64>,
}

impl Buckets {
    pub fn new<I: Iterator<Item = (u32, i64)>>(pairs: impl Fn() -> I, n: usize) -> Buckets {
        let mut offsets = vec![0u32; n + 1];
        for (a, _) in pairs() {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut values = vec![0i64; offsets[n] as usize];
        for (a, v) in pairs() {
            values[fill[a as usize] as usize] = v;
            fill[a as usize] += 1;
        }
        for i in 0..n {
            values[offsets[i] as usize..offsets[i + 1] as usize].sort_unstable();
        }
        Buckets { offsets, values }
    }

    fn run(&self, a: usize) -> &[i64] {
        &self.values[self.offsets[a] as usize..self.offsets[a + 1] as usize]
    }
}

/// Scale that turns the raw values of a type into output units.
pub(crate) fn type_scale(ty: Option<Ty>, unit: Unit) -> i128 {
    match ty {
        Some(Ty::Decimal) => MICROS as i128,
        Some(Ty::Duration) => unit.seconds(),
        _ => 1,
    }
}

/// What finalisation needs to know about the organisation.
pub struct Context<'a> {
    pub cells: &'a Cells,
    pub timeline: &'a Timeline,
    /// Parent of each team.
    pub parent: &'a [Option<u32>],
    pub n_people: usize,
    pub subjects: SubjectKinds,
}

/// Computes the values of one planned metric for every subject and period.
pub fn finalize_metric(
    metric: &PlannedMetric,
    group: &Group,
    counters: &[i64],
    keys: &[(u32, i64)],
    values: Option<&Buckets>,
    cx: &Context,
    only: Option<&Touched>,
) -> MetricValues {
    let keys = metric.compiled.min_distinct.map(|_| Buckets::new(|| keys.iter().copied(), group.n_accs()));
    let scale = type_scale(metric.compiled.value_ty, metric.unit);
    let n_periods = cx.timeline.periods.len();
    let mut out: MetricValues = vec![SubjectValues::new(); n_periods];
    let subjects = subject_list(metric, cx, only);
    let mut ordered = Vec::new();
    for (k, period_values) in out.iter_mut().enumerate() {
        if only.is_some_and(|t| !t.periods[k]) {
            continue;
        }
        let slots = period_slots(group, cx.timeline, k);
        let partial = partials(metric, group, counters, k, cx);
        for &(subject, ref subject_cells) in &subjects {
            let total = add_up(&partial, subject_cells);
            if total[0] == 0 {
                continue;
            }
            let (x, y) = (total[1] as i128, total[2] as i128);
            let mut value = match metric.agg {
                AggKind::Count => MetricValue::plain(Some(Rational::int(x))).with_sample(total[1]),
                AggKind::Ratio { scale } => MetricValue::ratio(total[1], total[2], scale as i128),
                AggKind::Sum => MetricValue::plain(Rational::new(x, scale)),
                AggKind::Mean => {
                    MetricValue::plain(if y == 0 { None } else { Rational::new(x, y * scale) }).with_sample(total[2])
                }
                AggKind::Percentile { .. } => unreachable!("percentiles are finalised together"),
                AggKind::Distinct => {
                    let b = values.expect("buckets");
                    let mut all: Vec<i64> = subject_cells
                        .iter()
                        .flat_map(|&c| {
                            slots.clone().flat_map(move |s| b.run(group.acc(c, s as u32) as usize).iter().copied())
                        })
                        .collect();
                    all.sort_unstable();
                    all.dedup();
                    MetricValue::plain(Some(Rational::int(all.len() as i128)))
                }
            };
            if let (Some((_, min, _)), Some(keys)) = (metric.compiled.min_distinct, &keys)
                && total[3] == 1
            {
                let mut all: Vec<i64> = subject_cells
                    .iter()
                    .flat_map(|&c| {
                        slots.clone().flat_map(move |s| keys.run(group.acc(c, s as u32) as usize).iter().copied())
                    })
                    .collect();
                all.sort_unstable();
                all.dedup();
                if all.len() < min {
                    value.value = None;
                }
            }
            ordered.push((subject, value));
        }
        *period_values = SubjectValues::from_ordered(&ordered[..]);
        ordered.clear();
    }
    out
}

/// Per cell, for period `k`: records placed, the metric's two counters, the
/// min-distinct flag.
pub(super) fn partials(
    metric: &PlannedMetric,
    group: &Group,
    counters: &[i64],
    k: usize,
    cx: &Context,
) -> Vec<[i64; 4]> {
    let width = group.width;
    let slots = period_slots(group, cx.timeline, k);
    (0..cx.cells.len() as u32)
        .map(|c| {
            let mut p = [0i64; 4];
            for s in slots.clone() {
                let row = &counters[group.acc(c, s as u32) as usize * width..][..width];
                p[0] += row[0];
                if let Some(i) = metric.first {
                    p[1] += row[i];
                }
                if let Some(i) = metric.second {
                    p[2] += row[i];
                }
                if let Some(a) = metric.applies_offset {
                    p[3] |= (row[a] > 0) as i64;
                }
            }
            p
        })
        .collect()
}

pub(super) fn add_up(partial: &[[i64; 4]], cells: &[u32]) -> [i64; 4] {
    let mut total = [0i64; 4];
    for &c in cells {
        let p = &partial[c as usize];
        total[0] += p[0];
        total[1] += p[1];
        total[2] += p[2];
        total[3] |= p[3];
    }
    total
}

/// The (subject, period)s a change touched: only these are recomputed.
#[derive(Clone, Debug, Default)]
pub struct Touched {
    pub subjects: std::collections::HashSet<Subject>,
    pub periods: Vec<bool>,
}

/// Finalises every metric of a plan from its pass's state: `(metric index, values)`.
/// With `only`, just the touched (subject, period)s are computed (the maps hold nothing
/// else).
pub fn finish_plan(
    plan: &super::plan::SourcePlan,
    state: &super::scan::State,
    cx: &Context,
    only: Option<&Touched>,
) -> Vec<(usize, MetricValues)> {
    use rayon::prelude::*;
    let buckets: Vec<Option<Buckets>> = plan
        .metrics
        .iter()
        .enumerate()
        .map(|(m, pm)| {
            (matches!(pm.agg, AggKind::Distinct) && pm.shares_values_with.is_none())
                .then(|| Buckets::new(|| state.values[m].iter(), plan.groups[pm.group].n_accs()))
        })
        .collect();
    let is_percentile = |pm: &PlannedMetric| matches!(pm.agg, AggKind::Percentile { .. });
    let mut out: Vec<(usize, MetricValues)> = plan
        .metrics
        .par_iter()
        .enumerate()
        .filter(|(_, pm)| !is_percentile(pm))
        .map(|(m, pm)| {
            let values = buckets[pm.shares_values_with.unwrap_or(m)].as_ref();
            (
                pm.metric,
                finalize_metric(
                    pm,
                    &plan.groups[pm.group],
                    &state.counters[pm.group],
                    &state.keys[m],
                    values,
                    cx,
                    only,
                ),
            )
        })
        .collect();
    // Percentiles: all metrics over the same values together.
    for owner in 0..plan.metrics.len() {
        let sharing: Vec<&PlannedMetric> = plan
            .metrics
            .iter()
            .enumerate()
            .filter(|(m, pm)| is_percentile(pm) && pm.shares_values_with.unwrap_or(*m) == owner)
            .map(|(_, pm)| pm)
            .collect();
        if sharing.is_empty() {
            continue;
        }
        let group = &plan.groups[sharing[0].group];
        let results = match only {
            None => finalize_percentiles(&sharing, group, &state.counters[sharing[0].group], &state.values[owner], cx),
            Some(touched) => percentiles_of_touched(
                &sharing,
                group,
                &state.counters[sharing[0].group],
                &state.values[owner],
                cx,
                touched,
            ),
        };
        out.extend(sharing.iter().map(|pm| pm.metric).zip(results));
    }
    out
}

/// The subjects to compute, with their cells.
pub(super) fn subject_list(metric: &PlannedMetric, cx: &Context, only: Option<&Touched>) -> Vec<(Subject, Vec<u32>)> {
    // In `Subject` order, so that values are appended to their `SubjectValues` in order.
    let mut out = Vec::new();
    if cx.subjects.org {
        out.push((Subject::Org, cx.cells.of(Subject::Org, false)));
    }
    if cx.subjects.team {
        out.extend((0..cx.parent.len() as u32).map(|t| (Subject::Team(t), cx.cells.of(Subject::Team(t), false))));
    }
    if cx.subjects.person {
        out.extend(
            (0..cx.n_people as u32).map(|p| (Subject::Person(p), cx.cells.of(Subject::Person(p), metric.team_lead))),
        );
    }
    out.retain(|(s, cells)| !cells.is_empty() && only.is_none_or(|t| t.subjects.contains(s)));
    out
}

/// Which kinds of subject to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubjectKinds {
    pub person: bool,
    pub team: bool,
    pub org: bool,
}

impl SubjectKinds {
    pub const ALL: SubjectKinds = SubjectKinds { person: true, team: true, org: true };
}
