//! From accumulators to values: adds up a subject's cells over a period's slots and turns
//! the sums into exact values. Percentiles select from sorted runs without merging them.

use std::collections::BTreeMap;

use super::cells::{Cells, Subject};
use super::plan::{AggKind, Group, PlannedMetric, Slots};
use super::scan::Acc;
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

/// The `k`-th smallest (0-based) value of the union of sorted runs.
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
fn type_scale(ty: Option<Ty>, unit: Unit) -> i128 {
    match ty {
        Some(Ty::Decimal) => MICROS as i128,
        Some(Ty::Duration) => unit.seconds(),
        _ => 1,
    }
}

/// Computes the values of one planned metric for every subject and period.
pub fn finalize_metric(
    metric: &PlannedMetric,
    group: &Group,
    presence: &[u32],
    acc: &Acc,
    values: Option<&Buckets>,
    cells: &Cells,
    timeline: &Timeline,
    n_people: usize,
    n_teams: usize,
    subjects: SubjectKinds,
) -> MetricValues {
    let n_slots = group.n_slots;
    let n_acc = cells.len() * n_slots;
    let buckets = values;
    let keys = metric.compiled.min_distinct.map(|_| Buckets::new(&acc.keys, n_acc));
    let scale = type_scale(metric.compiled.value_ty, metric.unit);
    let mut out: MetricValues = vec![BTreeMap::new(); timeline.periods.len()];
    let mut candidates: Vec<Subject> = Vec::new();
    if subjects.person {
        candidates.extend((0..n_people as u32).map(Subject::Person));
    }
    if subjects.team {
        candidates.extend((0..n_teams as u32).map(Subject::Team));
    }
    if subjects.org {
        candidates.push(Subject::Org);
    }
    for subject in candidates {
        let subject_cells = cells.of(subject, metric.team_lead);
        if subject_cells.is_empty() {
            continue;
        }
        for (k, values) in out.iter_mut().enumerate() {
            let slots = period_slots(group, timeline, k);
            let indices = || subject_cells.iter().flat_map(|&c| slots.clone().map(move |s| c as usize * n_slots + s));
            if indices().all(|a| presence[a] == 0) {
                continue;
            }
            let sum_i64 = |v: &[i64]| indices().map(|a| v[a] as i128).sum::<i128>();
            let mut value = match metric.agg {
                AggKind::Count => MetricValue::plain(Some(Rational::int(sum_i64(&acc.count)))),
                AggKind::Ratio { scale } => MetricValue::ratio(sum_i64(&acc.num), sum_i64(&acc.den), scale as i128),
                AggKind::Sum => MetricValue::plain(Rational::new(indices().map(|a| acc.sum[a]).sum(), scale)),
                AggKind::Mean => {
                    let n = sum_i64(&acc.count);
                    MetricValue::plain(if n == 0 {
                        None
                    } else {
                        Rational::new(indices().map(|a| acc.sum[a]).sum(), n * scale)
                    })
                }
                AggKind::Percentile { p_num, p_den } => {
                    let b = buckets.expect("buckets");
                    let runs: Vec<&[i64]> = indices().map(|a| b.run(a)).filter(|r| !r.is_empty()).collect();
                    MetricValue::plain(percentile(&runs, p_num as i128, p_den as i128, scale))
                }
                AggKind::Distinct => {
                    let b = buckets.expect("buckets");
                    let mut all: Vec<i64> = indices().flat_map(|a| b.run(a).iter().copied()).collect();
                    all.sort_unstable();
                    all.dedup();
                    MetricValue::plain(Some(Rational::int(all.len() as i128)))
                }
            };
            if let (Some((_, min, _)), Some(keys)) = (metric.compiled.min_distinct, &keys) {
                let applies = indices().any(|a| acc.applies[a] == 1);
                if applies {
                    let mut all: Vec<i64> = indices().flat_map(|a| keys.run(a).iter().copied()).collect();
                    all.sort_unstable();
                    all.dedup();
                    if all.len() < min {
                        value.value = None;
                    }
                }
            }
            values.insert(subject, value);
        }
    }
    out
}

/// Linear interpolation between closest ranks (Excel PERCENTILE.INC, numpy's default):
/// rank = p × (n − 1); value = v[⌊rank⌋] + (v[⌊rank⌋ + 1] − v[⌊rank⌋]) × frac(rank).
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
