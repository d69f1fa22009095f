//! From accumulators to values: adds up a subject's cells over a period's slots and turns
//! the sums into exact values. Percentiles select from sorted runs without merging them.

use std::collections::BTreeMap;

use super::cells::{Cells, Subject};
use super::plan::{AggKind, Group, PlannedMetric, Slots};
use super::timeline::Timeline;
use super::value::{MetricValue, Rational};
use crate::lang::compile::MICROS;
use crate::lang::program::Ty;
use crate::metric::Unit;

/// Values of one metric: per period index, per subject.
pub type MetricValues = Vec<BTreeMap<Subject, MetricValue>>;

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
    pub fn new(pairs: &[(u32, i64)], n: usize) -> Buckets {
        let mut offsets = vec![0u32; n + 1];
        for &(a, _) in pairs {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut values = vec![0i64; pairs.len()];
        for &(a, v) in pairs {
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

/// The `k`-th smallest (0-based) value of the union of sorted runs (the reference the
/// tests check the sweep against).
#[cfg(test)]
fn kth(runs: &[&[i64]], k: usize) -> i64 {
    if let [run] = runs {
        return run[k];
    }
    let total: usize = runs.iter().map(|r| r.len()).sum();
    if total <= 4096 {
        let mut all: Vec<i64> = runs.iter().flat_map(|r| r.iter().copied()).collect();
        let (_, v, _) = all.select_nth_unstable(k);
        return *v;
    }
    // Bisection on the value: the smallest v with more than k values ≤ v.
    let mut lo = runs.iter().filter_map(|r| r.first()).copied().min().expect("non-empty") as i128;
    let mut hi = runs.iter().filter_map(|r| r.last()).copied().max().expect("non-empty") as i128;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let count: usize = runs.iter().map(|r| r.partition_point(|&v| (v as i128) <= mid)).sum();
        if count > k { hi = mid } else { lo = mid + 1 }
    }
    lo as i64
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
    let cells = cx.cells;
    let n_slots = group.n_slots;
    let keys = metric.compiled.min_distinct.map(|_| Buckets::new(keys, cells.len() * n_slots));
    let scale = type_scale(metric.compiled.value_ty, metric.unit);
    let n_periods = cx.timeline.periods.len();
    let mut out: MetricValues = vec![BTreeMap::new(); n_periods];
    let subjects = subject_list(metric, cx, only);
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
                AggKind::Count => MetricValue::plain(Some(Rational::int(x))).with_sample(x),
                AggKind::Ratio { scale } => MetricValue::ratio(x, y, scale as i128),
                AggKind::Sum => MetricValue::plain(Rational::new(x, scale)),
                AggKind::Mean => {
                    MetricValue::plain(if y == 0 { None } else { Rational::new(x, y * scale) }).with_sample(y)
                }
                AggKind::Percentile { .. } => unreachable!("percentiles are finalised together"),
                AggKind::Distinct => {
                    let b = values.expect("buckets");
                    let mut all: Vec<i64> = subject_cells
                        .iter()
                        .flat_map(|&c| slots.clone().flat_map(move |s| b.run(c as usize * n_slots + s).iter().copied()))
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
                    .flat_map(|&c| slots.clone().flat_map(move |s| keys.run(c as usize * n_slots + s).iter().copied()))
                    .collect();
                all.sort_unstable();
                all.dedup();
                if all.len() < min {
                    value.value = None;
                }
            }
            period_values.insert(subject, value);
        }
    }
    out
}

/// Per cell, for period `k`: records placed, the metric's two counters, the
/// min-distinct flag.
fn partials(metric: &PlannedMetric, group: &Group, counters: &[i64], k: usize, cx: &Context) -> Vec<[i64; 4]> {
    let (n_slots, width) = (group.n_slots, group.width);
    let slots = period_slots(group, cx.timeline, k);
    (0..cx.cells.len())
        .map(|c| {
            let mut p = [0i64; 4];
            for s in slots.clone() {
                let row = &counters[(c * n_slots + s) * width..][..width];
                p[0] += row[0];
                if metric.offset < width {
                    p[1] += row[metric.offset];
                    if metric.offset + 1 < width {
                        p[2] += row[metric.offset + 1];
                    }
                }
                if let Some(a) = metric.applies_offset {
                    p[3] |= row[a];
                }
            }
            p
        })
        .collect()
}

fn add_up(partial: &[[i64; 4]], cells: &[u32]) -> [i64; 4] {
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

/// Percentile metrics that read the same values (median and p90 of the same times).
///
/// All values are sorted once (radix sort); one sweep in value order then counts, for every
/// (subject, period) a value belongs to, how many of its values came before, and keeps the
/// value found at each rank a percentile needs. No per-subject sorting or merging: about
/// fifteen counter bumps per value (person, teams up to the root, organisation × the
/// periods containing its atom).
pub fn finalize_percentiles(
    metrics: &[&PlannedMetric],
    group: &Group,
    counters: &[i64],
    pairs: &[(u32, i64)],
    cx: &Context,
) -> Vec<MetricValues> {
    let n_slots = group.n_slots;
    let n_periods = cx.timeline.periods.len();
    let subjects = subject_list(metrics[0], cx, None);
    let mut of_cell: Vec<Vec<u32>> = vec![Vec::new(); cx.cells.len()];
    for (si, (_, cells)) in subjects.iter().enumerate() {
        for &c in cells {
            of_cell[c as usize].push(si as u32);
        }
    }
    let periods_of_slot: Vec<Vec<u32>> = (0..n_slots)
        .map(|s| (0..n_periods as u32).filter(|&k| period_slots(group, cx.timeline, k as usize).contains(&s)).collect())
        .collect();
    // How many values each (subject, period) has.
    let sp = |s: u32, k: u32| s as usize * n_periods + k as usize;
    let mut per_acc = vec![0u32; cx.cells.len() * n_slots];
    for &(a, _) in pairs {
        per_acc[a as usize] += 1;
    }
    let mut total = vec![0u32; subjects.len() * n_periods];
    for (a, &count) in per_acc.iter().enumerate() {
        if count > 0 {
            for &k in &periods_of_slot[a % n_slots] {
                for &s in &of_cell[a / n_slots] {
                    total[sp(s, k)] += count;
                }
            }
        }
    }
    // The ranks each (subject, period) needs, ascending: (rank, metric, is_upper).
    let mut targets: Vec<Vec<(u32, u8, bool)>> = vec![Vec::new(); subjects.len() * n_periods];
    for (i, t) in targets.iter_mut().enumerate() {
        let n = total[i] as i128;
        if n == 0 {
            continue;
        }
        for (m, metric) in metrics.iter().enumerate() {
            let AggKind::Percentile { p_num, p_den } = metric.agg else { unreachable!("percentile metrics") };
            let rank = p_num as i128 * (n - 1);
            let lo = (rank / p_den as i128) as u32;
            t.push((lo, m as u8, false));
            if rank % p_den as i128 != 0 {
                t.push((lo + 1, m as u8, true));
            }
        }
        t.sort_unstable();
    }
    let t0 = std::time::Instant::now();
    let sorted = radix_sort_by_value(pairs);
    let t1 = std::time::Instant::now();
    // Per (subject, period): values seen so far, and the next rank wanted (u32::MAX: none),
    // side by side so that a value touches one cache line per (subject, period). (Dealing
    // subjects to two threads was measured slower: the sweep is bound by memory.)
    let n_metrics = metrics.len();
    let mut state: Vec<[u32; 2]> = targets.iter().map(|t| [0, t.first().map_or(u32::MAX, |x| x.0)]).collect();
    let mut cursor = vec![0u16; state.len()];
    let mut found: Vec<[i64; 2]> = vec![[0, 0]; state.len() * n_metrics];
    // For each accumulator index, the (subject, period)s its values count for, flattened.
    let n_acc = cx.cells.len() * n_slots;
    let mut starts = Vec::with_capacity(n_acc + 1);
    let mut targets_of_acc: Vec<u32> = Vec::new();
    for a in 0..n_acc {
        starts.push(targets_of_acc.len() as u32);
        for &k in &periods_of_slot[a % n_slots] {
            for &s in &of_cell[a / n_slots] {
                targets_of_acc.push(sp(s, k) as u32);
            }
        }
    }
    starts.push(targets_of_acc.len() as u32);
    for &(v, a) in &sorted {
        for &i in &targets_of_acc[starts[a as usize] as usize..starts[a as usize + 1] as usize] {
            let i = i as usize;
            let [rank, next] = state[i];
            state[i][0] = rank + 1;
            if rank == next {
                let t = &targets[i];
                let mut c = cursor[i] as usize;
                while c < t.len() && t[c].0 == rank {
                    found[i * n_metrics + t[c].1 as usize][t[c].2 as usize] = v;
                    c += 1;
                }
                cursor[i] = c as u16;
                state[i][1] = t.get(c).map_or(u32::MAX, |x| x.0);
            }
        }
    }
    let found_at = |s: usize, k: usize, m: usize| found[(s * n_periods + k) * n_metrics + m];
    if std::env::var_os("YARDSTICK_PROFILE").is_some() {
        eprintln!(
            "    percentiles: {} values, radix {:.3} s, sweep {:.3} s",
            pairs.len(),
            (t1 - t0).as_secs_f64(),
            t1.elapsed().as_secs_f64()
        );
    }
    metrics
        .iter()
        .enumerate()
        .map(|(m, metric)| {
            let AggKind::Percentile { p_num, p_den } = metric.agg else { unreachable!("percentile metrics") };
            let scale = type_scale(metric.compiled.value_ty, metric.unit);
            (0..n_periods)
                .map(|k| {
                    let partial = partials(metric, group, counters, k, cx);
                    let mut out = BTreeMap::new();
                    for (si, (subject, cells)) in subjects.iter().enumerate() {
                        if add_up(&partial, cells)[0] == 0 {
                            continue;
                        }
                        let i = sp(si as u32, k as u32);
                        let n = total[i] as i128;
                        let value = (n > 0).then(|| {
                            let [lo, hi] = found_at(si, k, m);
                            let frac = p_num as i128 * (n - 1) % p_den as i128;
                            let (lo, hi, p_den) = (lo as i128, hi as i128, p_den as i128);
                            Rational::new(lo * p_den + (hi - lo) * frac, p_den * scale)
                        });
                        out.insert(*subject, MetricValue::plain(value.flatten()).with_sample(n));
                    }
                    out
                })
                .collect()
        })
        .collect()
}

/// `(value, index)` pairs sorted by value: an LSD radix sort over the bits in which the
/// values differ. When they fit, value and index are packed into one `u64` (value above,
/// index in the low 24 bits): two 11-bit passes sort durations of up to 48 days.
fn radix_sort_by_value(pairs: &[(u32, i64)]) -> Vec<(i64, u32)> {
    let key = |v: i64| (v as u64) ^ (1 << 63);
    let (mut lo, mut hi, mut max_index) = (u64::MAX, 0u64, 0u32);
    for &(i, v) in pairs {
        lo = lo.min(key(v));
        hi = hi.max(key(v));
        max_index = max_index.max(i);
    }
    let span = hi.saturating_sub(lo);
    let value_bits = 64 - span.leading_zeros();
    if value_bits <= 40 && max_index < (1 << 24) {
        let mut a: Vec<u64> = pairs.iter().map(|&(i, v)| ((key(v) - lo) << 24) | i as u64).collect();
        radix_passes(&mut a, 24, 24 + value_bits, |x| x);
        return a.into_iter().map(|x| ((((x >> 24) + lo) ^ (1 << 63)) as i64, (x & 0xFF_FFFF) as u32)).collect();
    }
    let mut a: Vec<(u64, u32)> = pairs.iter().map(|&(i, v)| (key(v) - lo, i)).collect();
    radix_passes(&mut a, 0, value_bits, |x| x.0);
    a.into_iter().map(|(k, i)| (((k + lo) ^ (1 << 63)) as i64, i)).collect()
}

/// Stable LSD radix passes of 11 bits over bits `[from, to)` of `key(x)`.
fn radix_passes<T: Copy + Default>(a: &mut Vec<T>, from: u32, to: u32, key: impl Fn(T) -> u64) {
    const BITS: u32 = 11;
    let mut b = vec![T::default(); a.len()];
    let mut shift = from;
    while shift < to {
        let mut count = vec![0usize; (1 << BITS) + 1];
        for &x in a.iter() {
            count[((key(x) >> shift) & ((1 << BITS) - 1)) as usize + 1] += 1;
        }
        for i in 0..(1 << BITS) {
            count[i + 1] += count[i];
        }
        for &x in a.iter() {
            let d = ((key(x) >> shift) & ((1 << BITS) - 1)) as usize;
            b[count[d]] = x;
            count[d] += 1;
        }
        std::mem::swap(a, &mut b);
        shift += BITS;
    }
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
                .then(|| Buckets::new(&state.values[m], cx.cells.len() * plan.groups[pm.group].n_slots))
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

/// Percentiles of a few touched (subject, period)s: their values are gathered in one pass
/// and sorted.
fn percentiles_of_touched(
    metrics: &[&PlannedMetric],
    group: &Group,
    counters: &[i64],
    pairs: &[(u32, i64)],
    cx: &Context,
    only: &Touched,
) -> Vec<MetricValues> {
    let n_slots = group.n_slots;
    let n_periods = cx.timeline.periods.len();
    let subjects = subject_list(metrics[0], cx, Some(only));
    let mut of_cell: Vec<Vec<usize>> = vec![Vec::new(); cx.cells.len()];
    for (si, (_, cells)) in subjects.iter().enumerate() {
        for &c in cells {
            of_cell[c as usize].push(si);
        }
    }
    let periods_of_slot: Vec<Vec<usize>> = (0..n_slots)
        .map(|s| {
            (0..n_periods).filter(|&k| only.periods[k] && period_slots(group, cx.timeline, k).contains(&s)).collect()
        })
        .collect();
    let mut gathered: Vec<Vec<i64>> = vec![Vec::new(); subjects.len() * n_periods];
    for &(a, v) in pairs {
        let own = &of_cell[a as usize / n_slots];
        if own.is_empty() {
            continue;
        }
        for &k in &periods_of_slot[a as usize % n_slots] {
            for &si in own {
                gathered[si * n_periods + k].push(v);
            }
        }
    }
    metrics
        .iter()
        .map(|metric| {
            let AggKind::Percentile { p_num, p_den } = metric.agg else { unreachable!("percentile metrics") };
            let scale = type_scale(metric.compiled.value_ty, metric.unit);
            (0..n_periods)
                .map(|k| {
                    let mut out = BTreeMap::new();
                    if !only.periods[k] {
                        return out;
                    }
                    let partial = partials(metric, group, counters, k, cx);
                    for (si, (subject, cells)) in subjects.iter().enumerate() {
                        if add_up(&partial, cells)[0] == 0 {
                            continue;
                        }
                        let mut values = gathered[si * n_periods + k].clone();
                        values.sort_unstable();
                        out.insert(
                            *subject,
                            MetricValue::plain(percentile_of_sorted(&values, p_num as i128, p_den as i128, scale))
                                .with_sample(values.len() as i128),
                        );
                    }
                    out
                })
                .collect()
        })
        .collect()
}

/// Linear interpolation between closest ranks of sorted values (PERCENTILE.INC).
fn percentile_of_sorted(values: &[i64], p_num: i128, p_den: i128, scale: i128) -> Option<Rational> {
    if values.is_empty() {
        return None;
    }
    let rank = p_num * (values.len() as i128 - 1);
    let lo = (rank / p_den) as usize;
    let frac = rank % p_den;
    let a = values[lo] as i128;
    if frac == 0 {
        return Rational::new(a, scale);
    }
    let b = values[lo + 1] as i128;
    Rational::new(a * p_den + (b - a) * frac, p_den * scale)
}

/// The subjects to compute, with their cells.
fn subject_list(metric: &PlannedMetric, cx: &Context, only: Option<&Touched>) -> Vec<(Subject, Vec<u32>)> {
    let mut out = Vec::new();
    if cx.subjects.person {
        out.extend(
            (0..cx.n_people as u32).map(|p| (Subject::Person(p), cx.cells.of(Subject::Person(p), metric.team_lead))),
        );
    }
    if cx.subjects.team {
        out.extend((0..cx.parent.len() as u32).map(|t| (Subject::Team(t), cx.cells.of(Subject::Team(t), false))));
    }
    if cx.subjects.org {
        out.push((Subject::Org, cx.cells.of(Subject::Org, false)));
    }
    out.retain(|(s, cells)| !cells.is_empty() && only.is_none_or(|t| t.subjects.contains(s)));
    out
}

/// Linear interpolation between closest ranks (Excel PERCENTILE.INC, numpy's default):
/// rank = p × (n − 1); value = v[⌊rank⌋] + (v[⌊rank⌋ + 1] − v[⌊rank⌋]) × frac(rank).
#[cfg(test)]
pub fn percentile(runs: &[&[i64]], p_num: i128, p_den: i128, scale: i128) -> Option<Rational> {
    let n: usize = runs.iter().map(|r| r.len()).sum();
    if n == 0 {
        return None;
    }
    let rank_num = p_num * (n as i128 - 1);
    let lo = (rank_num / p_den) as usize;
    let frac = rank_num % p_den;
    let v_lo = kth(runs, lo) as i128;
    if frac == 0 {
        return Rational::new(v_lo, scale);
    }
    let v_hi = kth(runs, lo + 1) as i128;
    Rational::new(v_lo * p_den + (v_hi - v_lo) * frac, p_den * scale)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_orders_any_i64() {
        let pairs: Vec<(u32, i64)> =
            [5, -3, i64::MAX, 0, i64::MIN, 70_000, 5].iter().enumerate().map(|(i, &v)| (i as u32, v)).collect();
        let sorted: Vec<i64> = radix_sort_by_value(&pairs).into_iter().map(|(v, _)| v).collect();
        assert_eq!(sorted, [i64::MIN, -3, 0, 5, 5, 70_000, i64::MAX]);
    }

    #[test]
    fn percentiles_interpolate_like_excel_percentile_inc() {
        let p = |runs: &[&[i64]], num, den| percentile(runs, num, den, 1).map(|r| r.format6());
        // numpy.percentile([1, 2, 3, 4], 90) = 3.7; median of [1, 2, 3, 4] = 2.5
        assert_eq!(p(&[&[1, 2], &[3, 4]], 9, 10).as_deref(), Some("3.7"));
        assert_eq!(p(&[&[1, 2, 3, 4]], 1, 2).as_deref(), Some("2.5"));
        assert_eq!(p(&[&[5]], 9, 10).as_deref(), Some("5"));
        assert_eq!(p(&[], 1, 2), None);
        // Bisection path (more than 4096 values in several runs) agrees with sorting.
        let a: Vec<i64> = (0..5000).map(|i| (i * 7919) % 10007).collect();
        let b: Vec<i64> = (0..3000).map(|i| (i * 104_729) % 20011 - 5000).collect();
        let (mut sa, mut sb) = (a.clone(), b.clone());
        sa.sort_unstable();
        sb.sort_unstable();
        let mut all: Vec<i64> = a.into_iter().chain(b).collect();
        all.sort_unstable();
        for k in [0, 1, 2500, 7998, 7999] {
            assert_eq!(kth(&[&sa, &sb], k), all[k], "k = {k}");
        }
    }
}
