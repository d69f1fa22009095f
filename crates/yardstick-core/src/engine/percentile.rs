//! Exact percentiles (PERCENTILE.INC): for a whole computation, from all values sorted once
//! (`ranks.rs` finds the values at the wanted ranks); for the few (subject, period)s a live change touched, by
//! gathering and sorting their values.

use rayon::prelude::*;

use super::finalize::{Context, MetricValues, Touched, add_up, partials, period_slots, subject_list, type_scale};
use super::pairs::{INDEX_BITS, Pairs};
use super::plan::{AggKind, Group, PlannedMetric};
use super::ranks::{Sets, values_at_ranks};
use super::subject_values::SubjectValues;
use super::value::{MetricValue, Rational};

/// Percentile metrics that read the same values (median and p90 of the same times).
///
/// All values are sorted once (radix sort); the values at the ranks each (subject, period)
/// needs are then found for all of them at once, in blocks of the sorted values
/// ([`values_at_ranks`]). No per-subject sorting or merging.
pub fn finalize_percentiles(
    metrics: &[&PlannedMetric],
    group: &Group,
    counters: &[i64],
    pairs: &Pairs,
    cx: &Context,
) -> Vec<MetricValues> {
    let n_slots = group.n_slots;
    let n_periods = cx.timeline.periods.len();
    let subjects = subject_list(metrics[0], cx, None);
    let n_subjects = subjects.len();
    let n_cells = cx.cells.len();
    // The subjects each cell counts for.
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); n_cells];
    for (si, (_, cells)) in subjects.iter().enumerate() {
        for &c in cells {
            lists[c as usize].push(si as u32);
        }
    }
    let periods_of_slot: Vec<Vec<u32>> = (0..n_slots)
        .map(|s| (0..n_periods as u32).filter(|&k| period_slots(group, cx.timeline, k as usize).contains(&s)).collect())
        .collect();
    let sets = Sets {
        n_cells,
        n_slots,
        n_periods,
        cells_of_subject: subjects.iter().map(|(_, cells)| &cells[..]).collect(),
        subjects_of_cell: lists,
        periods_of_slot,
        slots_of_period: (0..n_periods).map(|k| period_slots(group, cx.timeline, k)).collect(),
    };
    // How many values each (subject, period) has; index `sp(s, k)`.
    let sp = |s: usize, k: usize| s * n_periods + k;
    let per_acc = pairs.count_per_index(group.n_accs());
    let mut total = vec![0u32; n_subjects * n_periods];
    sets.add_leaf_counts(&per_acc, &mut total);
    // The ranks each (subject, period) needs, ascending: (rank, metric, is_upper).
    let mut targets: Vec<Vec<(u32, u8, bool)>> = vec![Vec::new(); n_subjects * n_periods];
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
    let sorted = sort_by_value(pairs);
    let t1 = std::time::Instant::now();
    let n_metrics = metrics.len();
    let wanted: Vec<Vec<u32>> = targets
        .iter()
        .map(|t| {
            let mut ranks: Vec<u32> = t.iter().map(|x| x.0).collect();
            ranks.dedup();
            ranks
        })
        .collect();
    let at_ranks = values_at_ranks(&sorted, &sets, &wanted);
    // Per (subject, period, metric): the values at its lower and upper rank.
    let mut found: Vec<[i64; 2]> = vec![[0, 0]; targets.len() * n_metrics];
    let mut first = 0;
    for (i, (t, w)) in targets.iter().zip(&wanted).enumerate() {
        for &(rank, m, upper) in t {
            found[i * n_metrics + m as usize][upper as usize] = at_ranks[first + w.partition_point(|&r| r < rank)];
        }
        first += w.len();
    }
    let found_at = |s: usize, k: usize, m: usize| found[sp(s, k) * n_metrics + m];
    tracing::debug!(
        values = pairs.len(),
        radix_seconds = (t1 - t0).as_secs_f64(),
        ranks_seconds = t1.elapsed().as_secs_f64(),
        "percentiles"
    );
    metrics
        .iter()
        .enumerate()
        .map(|(m, metric)| {
            let AggKind::Percentile { p_num, p_den } = metric.agg else { unreachable!("percentile metrics") };
            let scale = type_scale(metric.compiled.value_ty, metric.unit);
            (0..n_periods)
                .map(|k| {
                    let partial = partials(metric, group, counters, k, cx);
                    let mut out = Vec::new();
                    for (si, (subject, cells)) in subjects.iter().enumerate() {
                        if add_up(&partial, cells)[0] == 0 {
                            continue;
                        }
                        let i = sp(si, k);
                        let n = total[i] as i128;
                        let value = (n > 0).then(|| {
                            let [lo, hi] = found_at(si, k, m);
                            let frac = p_num as i128 * (n - 1) % p_den as i128;
                            let (lo, hi, p_den) = (lo as i128, hi as i128, p_den as i128);
                            Rational::new(lo * p_den + (hi - lo) * frac, p_den * scale)
                        });
                        out.push((*subject, MetricValue::plain(value.flatten()).with_sample(n as i64)));
                    }
                    SubjectValues::from_ordered(out)
                })
                .collect()
        })
        .collect()
}

/// `(value, index)` pairs in value order, as [`sort_by_value`] leaves them.
pub(super) enum SortedValues {
    /// `(value − min) << 24 | index` (values spanning at most 40 bits, indexes below 2²⁴).
    Packed { keys: Vec<u64>, min: i64 },
    /// `(value, index)` otherwise.
    Wide { pairs: Vec<(i64, u32)> },
}

impl SortedValues {
    /// The number of values.
    pub(super) fn len(&self) -> usize {
        match self {
            SortedValues::Packed { keys, .. } => keys.len(),
            SortedValues::Wide { pairs } => pairs.len(),
        }
    }

    /// The `j`-th `(value, index)` in value order.
    #[inline]
    pub(super) fn get(&self, j: usize) -> (i64, u32) {
        match self {
            SortedValues::Packed { keys, min } => {
                let k = keys[j];
                (min + (k >> INDEX_BITS) as i64, (k & ((1 << INDEX_BITS) - 1)) as u32)
            }
            SortedValues::Wide { pairs } => pairs[j],
        }
    }
}

/// Sorts `(index, value)` pairs by value. Packed pairs (all but the rarest:
/// [`Pairs::packed_parts`]) by an LSD radix sort over the bits in which the values differ
/// (two 11-bit passes sort durations of up to 48 days; the first reads the scan's parts
/// directly); the others by a stable sort.
pub(super) fn sort_by_value(pairs: &Pairs) -> SortedValues {
    let Some(parts) = pairs.packed_parts() else {
        let mut a: Vec<(i64, u32)> = pairs.iter().map(|(i, v)| (v, i)).collect();
        a.sort_by_key(|x| x.0);
        return SortedValues::Wide { pairs: a };
    };
    let (lo, hi) = parts
        .par_iter()
        .flat_map_iter(|part| part.iter())
        .fold(|| (u64::MAX, 0u64), |(lo, hi), &k| (lo.min(k >> INDEX_BITS), hi.max(k >> INDEX_BITS)))
        .reduce(|| (u64::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    if lo > hi {
        return SortedValues::Wide { pairs: Vec::new() };
    }
    let value_bits = 64 - (hi - lo).leading_zeros();
    let (_, min) = super::pairs::unpack(lo << INDEX_BITS);
    SortedValues::Packed { keys: radix_sort(parts, lo << INDEX_BITS, INDEX_BITS, INDEX_BITS + value_bits), min }
}

/// Where a radix pass reads: a piece of a packed part (less `base`), or of the array the
/// pass before wrote.
enum Piece<'a> {
    Part(&'a [u64], u64),
    Sorted(&'a [u64]),
}

impl Piece<'_> {
    #[inline]
    fn for_each(&self, mut f: impl FnMut(u64)) {
        match self {
            Piece::Part(keys, base) => keys.iter().for_each(|&k| f(k - base)),
            Piece::Sorted(keys) => keys.iter().for_each(|&k| f(k)),
        }
    }
}

/// Stable LSD radix sort of the keys of `parts` less `base`, by bits `[from, to)`, 11 bits
/// a pass (at least one pass: the first moves the keys out of the parts). Each pass runs in
/// parallel: every piece counts its digits, the counts give each (piece, digit) its own
/// part of the output, and the pieces scatter at once. The output arrays are never filled
/// beforehand: the scatter is their first write.
fn radix_sort(parts: &[Vec<u64>], base: u64, from: u32, to: u32) -> Vec<u64> {
    let n: usize = parts.iter().map(Vec::len).sum();
    let per = n.div_ceil(4 * rayon::current_num_threads()).max(1 << 16);
    let mut sorted = vec![0u64; n];
    let first: Vec<Piece> = parts.iter().flat_map(|p| p.chunks(per)).map(|c| Piece::Part(c, base)).collect();
    radix_pass(&first, from, &mut sorted);
    // Later passes go back and forth between two arrays (the second made only if needed).
    let mut spare: Option<Vec<u64>> = None;
    let mut shift = from + RADIX_BITS;
    while shift < to {
        let mut out = spare.take().unwrap_or_else(|| vec![0u64; n]);
        let pieces: Vec<Piece> = sorted.chunks(per).map(Piece::Sorted).collect();
        radix_pass(&pieces, shift, &mut out);
        spare = Some(std::mem::replace(&mut sorted, out));
        shift += RADIX_BITS;
    }
    sorted
}

const RADIX_BITS: u32 = 11;

/// One stable pass by the 11 bits at `shift`, from `pieces` (in order) into `out`.
fn radix_pass(pieces: &[Piece], shift: u32, out: &mut [u64]) {
    const DIGITS: usize = 1 << RADIX_BITS;
    let digit = |x: u64| ((x >> shift) as usize) & (DIGITS - 1);
    let counts: Vec<Vec<usize>> = pieces
        .par_iter()
        .map(|piece| {
            let mut count = vec![0usize; DIGITS];
            piece.for_each(|x| count[digit(x)] += 1);
            count
        })
        .collect();
    // Each (piece, digit)'s part of `out`: digit-major, pieces in order within a digit.
    let mut places: Vec<Vec<&mut [u64]>> = pieces.iter().map(|_| Vec::with_capacity(DIGITS)).collect();
    let mut rest = out;
    for d in 0..DIGITS {
        for (place, count) in places.iter_mut().zip(&counts) {
            place.push(rest.split_off_mut(..count[d]).expect("the counts add up to the output"));
        }
    }
    pieces.par_iter().zip(places).for_each(|(piece, mut place)| {
        let mut fill = [0usize; DIGITS];
        piece.for_each(|x| {
            let d = digit(x);
            place[d][fill[d]] = x;
            fill[d] += 1;
        })
    });
}

/// Percentiles of a few touched (subject, period)s: their values are gathered in one pass
/// and sorted.
pub(super) fn percentiles_of_touched(
    metrics: &[&PlannedMetric],
    group: &Group,
    counters: &[i64],
    pairs: &Pairs,
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
    for (a, v) in pairs.iter() {
        let (c, slot) = group.cell_slot(a as usize);
        let own = &of_cell[c];
        if own.is_empty() {
            continue;
        }
        for &k in &periods_of_slot[slot] {
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
                    let mut out = SubjectValues::new();
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
                                .with_sample(values.len() as i64),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_orders_any_i64() {
        let pairs: Vec<(u32, i64)> =
            [5, -3, i64::MAX, 0, i64::MIN, 70_000, 5].iter().enumerate().map(|(i, &v)| (i as u32, v)).collect();
        let sorted = |pairs: &[(u32, i64)]| {
            let mut out = Vec::new();
            let sorted = sort_by_value(&Pairs::from_pairs(pairs.iter().copied()));
            out.extend((0..sorted.len()).map(|j| sorted.get(j)));
            out
        };
        // Values spanning all of i64: the wide form.
        let values: Vec<i64> = sorted(&pairs).into_iter().map(|(v, _)| v).collect();
        assert_eq!(values, [i64::MIN, -3, 0, 5, 5, 70_000, i64::MAX]);
        // Packed, over several chunks and passes, stable (equal values keep their order).
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let pairs: Vec<(u32, i64)> = (0..300_000u32)
            .map(|i| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (i % 5000, (rng % 3_000_000) as i64 - 1_000_000)
            })
            .collect();
        let mut expected: Vec<(i64, u32)> = pairs.iter().map(|&(i, v)| (v, i)).collect();
        expected.sort_by_key(|&(v, _)| v);
        assert!(matches!(sort_by_value(&Pairs::from_pairs(pairs.iter().copied())), SortedValues::Packed { .. }));
        assert_eq!(sorted(&pairs), expected);
        // All values equal: no bit differs, one pass still moves the keys out of the parts.
        let same: Vec<(u32, i64)> = (0..5u32).map(|i| (4 - i, -7)).collect();
        assert_eq!(sorted(&same), (0..5u32).map(|i| (-7, 4 - i)).collect::<Vec<_>>());
    }

    #[test]
    fn percentiles_interpolate_like_excel_percentile_inc() {
        let p = |values: &[i64], num, den| percentile_of_sorted(values, num, den, 1).map(|r| r.format6());
        // numpy.percentile([1, 2, 3, 4], 90) = 3.7; median of [1, 2, 3, 4] = 2.5
        assert_eq!(p(&[1, 2, 3, 4], 9, 10).as_deref(), Some("3.7"));
        assert_eq!(p(&[1, 2, 3, 4], 1, 2).as_deref(), Some("2.5"));
        assert_eq!(p(&[5], 9, 10).as_deref(), Some("5"));
        assert_eq!(p(&[], 1, 2), None);
    }
}
