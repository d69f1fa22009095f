//! One pass over a source table: evaluates the shared program batch by batch and adds each
//! record into the accumulators of every metric that reads it, in parallel over chunks.

use rayon::prelude::*;

use super::cells::Cells;
use super::pairs::{Pairs, remove_each};
use super::plan::{AggKind, Group, PlannedMetric, Slots, SourcePlan};
use super::timeline::{NONE, Timeline};
use crate::data::NULL;
use crate::lang::eval::{Env, Evaluator, Rows};
use crate::lang::program::NodeId;
use crate::time::Instant;

/// Rows evaluated together.
pub const BATCH: usize = 256;

/// Everything one pass produces.
///
/// Counters are laid out per group as rows of `width` adjacent `i64`s, one row per
/// accumulator index ([`Group::acc`]): counter 0 counts the records placed there (row
/// existence), then each metric's counters (`PlannedMetric::first`, `second`) — so adding
/// a record touches one cache line, not one array per metric.
#[derive(Clone, Debug)]
pub struct State {
    pub counters: Vec<Vec<i64>>,
    /// Per metric: `(index, value)` of percentile and distinct-count metrics.
    pub values: Vec<Pairs>,
    /// Per metric: `(index, key)` for the minimum-distinct rule.
    pub keys: Vec<Vec<(u32, i64)>>,
    /// Per snapshot group: records present, per (cell, atom) ([`Group::presence_index`]),
    /// of records whose span lies within one atom and whose cell does not depend on the
    /// instant — one count instead of one per period containing the atom. [`State::settle`]
    /// moves them into counter 0 of those periods.
    pub presence: Vec<Vec<i64>>,
}

impl State {
    pub fn new(plan: &SourcePlan) -> State {
        State {
            counters: plan.groups.iter().map(|g| vec![0; g.n_accs() * g.width]).collect(),
            values: vec![Pairs::default(); plan.metrics.len()],
            keys: vec![Vec::new(); plan.metrics.len()],
            presence: plan.groups.iter().map(|g| vec![0; g.n_cells * g.presence_atoms]).collect(),
        }
    }

    /// Moves the presence counts (`State::presence`) into counter 0 of every period
    /// containing their atom. The counters are complete only after this.
    pub fn settle(&mut self, plan: &SourcePlan, timeline: &Timeline) {
        for (g, group) in plan.groups.iter().enumerate() {
            for (i, count) in self.presence[g].iter_mut().enumerate() {
                if *count != 0 {
                    let (cell, atom) = group.cell_slot(i);
                    for &k in timeline.periods_of(atom) {
                        self.counters[g][group.acc(cell as u32, k) as usize * group.width] += *count;
                    }
                    *count = 0;
                }
            }
        }
    }

    /// Adds (`sign` 1) or removes (`sign` −1) the contributions in `delta`.
    pub fn add(&mut self, delta: &State, sign: i64) {
        for (a, b) in
            self.counters.iter_mut().chain(self.presence.iter_mut()).zip(delta.counters.iter().chain(&delta.presence))
        {
            for (x, y) in a.iter_mut().zip(b) {
                *x += sign * y;
            }
        }
        for (list, d) in self.values.iter_mut().zip(&delta.values) {
            if sign > 0 {
                list.append(d.clone());
            } else {
                list.remove_each(d);
            }
        }
        for (list, d) in self.keys.iter_mut().zip(&delta.keys) {
            if sign > 0 {
                list.extend_from_slice(d);
            } else {
                remove_each(std::iter::once(list), d.iter().copied());
            }
        }
    }

    pub fn merge(mut self, other: State) -> State {
        for (a, b) in self
            .counters
            .iter_mut()
            .chain(self.presence.iter_mut())
            .zip(other.counters.into_iter().chain(other.presence))
        {
            add_into(a, &b);
        }
        for (a, b) in self.values.iter_mut().zip(other.values) {
            a.append(b);
        }
        for (a, b) in self.keys.iter_mut().zip(other.keys) {
            a.extend(b);
        }
        self
    }
}

fn add_into<T: Copy + std::ops::AddAssign>(a: &mut [T], b: &[T]) {
    for (x, &y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// What a pass needs to place records.
pub struct Placement<'a> {
    pub timeline: &'a Timeline,
    pub cells: &'a Cells,
    /// Snapshot instants of each period (start and end), sorted with their period index.
    pub starts_sorted: Vec<(Instant, u32)>,
    pub ends_sorted: Vec<(Instant, u32)>,
}

impl<'a> Placement<'a> {
    pub fn new(timeline: &'a Timeline, cells: &'a Cells) -> Placement<'a> {
        let sorted = |v: &[Instant]| {
            let mut s: Vec<(Instant, u32)> = v.iter().enumerate().map(|(k, &t)| (t, k as u32)).collect();
            s.sort_unstable();
            s
        };
        Placement { starts_sorted: sorted(&timeline.starts), ends_sorted: sorted(&timeline.ends), timeline, cells }
    }
}

/// Accumulates every row of the plan's table, in parallel.
pub fn scan(plan: &SourcePlan, env: &Env, placement: &Placement) -> State {
    let n = env.data.table(plan.source).len();
    let n_batches = n.div_ceil(BATCH);
    // A few ranges of batches per thread: each range fills one state (counters for every
    // cell × slot, megabytes for a year of periods), so more ranges cost more zeroing and
    // merging than they gain in balance.
    let per_range = n_batches.div_ceil(4 * rayon::current_num_threads()).max(1);
    let answered: Vec<bool> = env.flags.iter().map(Option::is_some).collect();
    let needed = plan.needed_nodes(&answered);
    (0..n_batches)
        .into_par_iter()
        .with_min_len(per_range)
        .fold(
            || (State::new(plan), Evaluator::default(), Scratch::default()),
            |(mut state, mut ev, mut scratch), b| {
                let start = b * BATCH;
                let rows = Rows::Range { start, len: BATCH.min(n - start) };
                accumulate(plan, &needed, env, placement, rows, &mut state, &mut ev, &mut scratch);
                (state, ev, scratch)
            },
        )
        .map(|(state, _, _)| state)
        .reduce_with(State::merge)
        .map(|mut state| {
            state.settle(plan, placement.timeline);
            state
        })
        .unwrap_or_else(|| State::new(plan))
}

/// Per-batch working memory.
#[derive(Default)]
pub struct Scratch {
    /// `(row in batch, accumulator index)` pairs placed by the current group.
    placed: Vec<(u32, u32)>,
    /// Per population (`PlannedMetric::population`): which rows of the batch are in it.
    masks: Vec<Vec<bool>>,
}

/// Adds the records of `rows` into `state`, evaluating the `needed` nodes of the plan's
/// program ([`SourcePlan::needed_nodes`]).
#[allow(clippy::too_many_arguments)]
pub fn accumulate(
    plan: &SourcePlan,
    needed: &[bool],
    env: &Env,
    placement: &Placement,
    rows: Rows,
    state: &mut State,
    ev: &mut Evaluator,
    scratch: &mut Scratch,
) {
    ev.run_nodes(&plan.prog, env, rows, needed);
    let deleted = deleted_rows(env.data.table(plan.source), rows);
    let Scratch { placed, masks } = scratch;
    masks.resize_with(plan.metrics.len(), Vec::new);
    for (m, metric) in plan.metrics.iter().enumerate() {
        if metric.population == m {
            population(metric, ev, rows.len(), &mut masks[m]);
        }
    }
    for (g, group) in plan.groups.iter().enumerate() {
        let (width, counters) = (group.width, &mut state.counters[g]);
        placed.clear();
        // Counter 0 (records placed) is added with the metrics' counters — except for
        // snapshots: their presence comes from the span (counted here), their values from
        // where the record is live.
        let snapshot = matches!(group.slots, Slots::Snapshot { .. });
        if snapshot {
            place_present(group, ev, placement, (rows.len(), deleted.as_deref()), placed, &mut state.presence[g]);
            count_placed(placed, counters, width);
            placed.clear();
        }
        place(group, ev, placement, rows.len(), placed, snapshot);
        drop_deleted(deleted.as_deref(), placed);
        if !snapshot {
            count_placed(placed, counters, width);
        }
        let mut ops = Vec::new();
        for (m, metric) in plan.metrics.iter().enumerate() {
            if metric.group == g {
                let mask = &masks[metric.population][..];
                ops.extend(counter_op(metric, ev, mask));
                add_values(metric, ev, placed, counters, width, &mut state.values[m], &mut state.keys[m], mask);
            }
        }
        add_counters(&ops, placed, counters, width);
    }
}

/// Which rows of a batch are deleted (every field empty: a deleted ticket's empty
/// `created_at` would otherwise open its snapshot interval at the beginning of time);
/// None when the table has no deleted rows, as almost always.
pub(super) fn deleted_rows(table: &crate::data::Table, rows: Rows) -> Option<Vec<bool>> {
    table.has_deleted().then(|| (0..rows.len()).map(|i| table.is_deleted(rows.row(i))).collect())
}

/// Leaves the deleted rows of a batch out of its placements.
pub(super) fn drop_deleted(deleted: Option<&[bool]>, placed: &mut Vec<(u32, u32)>) {
    if let Some(deleted) = deleted {
        placed.retain(|&(i, _)| !deleted[i as usize]);
    }
}

/// Lists `(row, accumulator index)` for the records of a batch. For snapshots, `live` picks
/// the live interval (values) instead of the span (row existence).
pub(super) fn place(
    group: &Group,
    ev: &Evaluator,
    placement: &Placement,
    n: usize,
    placed: &mut Vec<(u32, u32)>,
    live: bool,
) {
    let persons = ev.values(group.person);
    let cells = placement.cells;
    let start = placed.len();
    match &group.slots {
        Slots::Atoms { anchor } => {
            let anchor = ev.values(*anchor);
            let credit = group.credit.map_or(anchor, |c| ev.values(c));
            for i in 0..n {
                let slot = placement.timeline.atom_of(anchor[i]);
                if slot != NONE {
                    let cell = cells.cell_of(persons[i], credit[i]);
                    placed.push((i as u32, group.acc(cell, slot)));
                }
            }
        }
        Slots::Labels { field, periods_of_code, credit_of_code } => {
            let _ = field;
            let labels = ev_label(ev, group);
            for i in 0..n {
                let code = labels[i];
                if code == NULL || code < 0 || code as usize >= periods_of_code.len() {
                    continue;
                }
                let cell = cells.cell_of(persons[i], credit_of_code[code as usize]);
                for &k in &periods_of_code[code as usize] {
                    placed.push((i as u32, group.acc(cell, k)));
                }
            }
        }
        Slots::Snapshot { at_end, live: live_iv, span } => {
            let interval = if live { *live_iv } else { *span };
            let (from, to) = (ev.values(interval.0), ev.values(interval.2));
            for i in 0..n {
                let Some((lo, hi)) = closed(interval, from[i], to[i]) else {
                    continue;
                };
                if live {
                    let sorted = if *at_end { &placement.ends_sorted } else { &placement.starts_sorted };
                    let first = sorted.partition_point(|&(t, _)| t < lo);
                    for &(t, k) in sorted[first..].iter().take_while(|&&(t, _)| t <= hi) {
                        let cell = cells.cell_of(persons[i], t);
                        placed.push((i as u32, group.acc(cell, k)));
                    }
                } else {
                    place_span(group, placement, *at_end, (i, persons[i]), (lo, hi), placed);
                }
            }
        }
    }
    if let Some((node, code)) = group.label_filter {
        let labels = ev.values(node);
        let mut kept = start;
        for j in start..placed.len() {
            if labels[placed[j].0 as usize] == code {
                placed[kept] = placed[j];
                kept += 1;
            }
        }
        placed.truncate(kept);
    }
}

/// A snapshot interval `(from, from inclusive, to, to inclusive)` of one record as a
/// closed interval of instants (a null end is open), or `None` when it is empty.
#[inline]
fn closed(interval: (NodeId, bool, NodeId, bool), from: i64, to: i64) -> Option<(i64, i64)> {
    let (_, from_inc, _, to_inc) = interval;
    let lo = match from {
        NULL => i64::MIN,
        t if from_inc => t,
        t => t + 1,
    };
    let hi = match to {
        NULL => i64::MAX,
        t if to_inc => t,
        t => t - 1,
    };
    (lo <= hi).then_some((lo, hi))
}

/// Places a batch of a snapshot group by span (row existence): a record within one atom
/// whose cell is fixed is counted once in `presence`; any other is listed per period in
/// `placed`, as [`place`] does.
fn place_present(
    group: &Group,
    ev: &Evaluator,
    placement: &Placement,
    (n, deleted): (usize, Option<&[bool]>),
    placed: &mut Vec<(u32, u32)>,
    presence: &mut [i64],
) {
    let Slots::Snapshot { at_end, span, .. } = &group.slots else { unreachable!("snapshot groups") };
    let persons = ev.values(group.person);
    let (from, to) = (ev.values(span.0), ev.values(span.2));
    let label = group.label_filter.map(|(node, code)| (ev.values(node), code));
    let (cells, timeline) = (placement.cells, placement.timeline);
    for i in 0..n {
        if label.is_some_and(|(labels, code)| labels[i] != code) || deleted.is_some_and(|d| d[i]) {
            continue;
        }
        let Some((lo, hi)) = closed(*span, from[i], to[i]) else {
            continue;
        };
        let Some((first, last)) = timeline.span_atoms(lo, hi) else {
            continue;
        };
        match cells.fixed_cell(persons[i]) {
            Some(cell) if first == last => presence[group.presence_index(cell, first)] += 1,
            _ => place_span(group, placement, *at_end, (i, persons[i]), (lo, hi), placed),
        }
    }
}

/// Lists record `i` (attributed to `person`) in every period its span `[lo, hi]` overlaps,
/// in the cell of its person at the period's start or end.
fn place_span(
    group: &Group,
    placement: &Placement,
    at_end: bool,
    (i, person): (usize, i64),
    (lo, hi): (i64, i64),
    placed: &mut Vec<(u32, u32)>,
) {
    let timeline = placement.timeline;
    timeline.for_each_period_overlapping(lo, hi, |k| {
        let at = if at_end { timeline.ends[k] } else { timeline.starts[k] };
        placed.push((i as u32, group.acc(placement.cells.cell_of(person, at), k as u32)));
    });
}

fn ev_label<'e>(ev: &'e Evaluator, group: &Group) -> &'e [i64] {
    match &group.slots {
        Slots::Labels { .. } => ev.values(group.label_node.expect("label groups read their label")),
        _ => &[],
    }
}

/// Marks the rows of the batch that are in the metric's population (`where` holds and no
/// exclusion applies). Metrics with the same condition share the mask.
fn population(metric: &PlannedMetric, ev: &Evaluator, n: usize, mask: &mut Vec<bool>) {
    let c = &metric.compiled;
    mask.clear();
    match c.filter {
        Some(f) => mask.extend(ev.values(f)[..n].iter().map(|&v| v == 1)),
        None => mask.resize(n, true),
    }
    for &e in &c.exclusions {
        for (m, &x) in mask.iter_mut().zip(&ev.values(e)[..n]) {
            *m &= x != 1;
        }
    }
}

/// One metric's counter updates for a batch: where its counters start in a row, its
/// population, and the values it adds.
enum CounterOp<'e> {
    /// `+1`.
    Count { at: usize, mask: &'e [bool] },
    /// Numerator `+num` (null = 0), denominator `+1`.
    Share { at: usize, mask: &'e [bool], num: &'e [i64] },
    /// Numerator `+num` (null = 0) of a share over every record placed: its denominator
    /// is counter 0.
    ShareOfAll { at: usize, num: &'e [i64] },
    /// Numerator `+num`, denominator `+den` (null = 0).
    Ratio { at: usize, mask: &'e [bool], num: &'e [i64], den: &'e [i64] },
    /// Sum `+v`, count `+1`, for non-null `v`.
    SumCount { at: usize, mask: &'e [bool], vals: &'e [i64] },
}

fn counter_op<'e>(metric: &PlannedMetric, ev: &'e Evaluator, mask: &'e [bool]) -> Option<CounterOp<'e>> {
    let c = &metric.compiled;
    let at = metric.first?;
    Some(match metric.agg {
        // Counter 0 itself: counted with the records placed.
        AggKind::Count if at == 0 => return None,
        AggKind::Count => CounterOp::Count { at, mask },
        AggKind::Ratio { .. } => {
            let num = ev.values(c.numerator.expect("ratio"));
            match c.denominator {
                None if metric.second == Some(0) => CounterOp::ShareOfAll { at, num },
                None => CounterOp::Share { at, mask, num },
                Some(d) => CounterOp::Ratio { at, mask, num, den: ev.values(d) },
            }
        }
        AggKind::Sum | AggKind::Mean => CounterOp::SumCount { at, mask, vals: ev.values(c.value.expect("value")) },
        AggKind::Percentile { .. } | AggKind::Distinct => return None,
    })
}

/// Adds the placed records of a batch to counter 0 (records placed) of their rows.
fn count_placed(placed: &[(u32, u32)], counters: &mut [i64], width: usize) {
    for &(_, a) in placed {
        counters[a as usize * width] += 1;
    }
}

/// Adds the placed records of a batch to the counters of all of a group's metrics, one
/// metric at a time: each is a tight loop without branches on the data (a record outside
/// the population adds zeros). The rows of the batch's records (a few hundred) stay in the
/// core's first-level cache from one metric to the next, so a row is fetched from further
/// away only once.
fn add_counters(ops: &[CounterOp], placed: &[(u32, u32)], counters: &mut [i64], width: usize) {
    let nonnull = |v: i64| if v == NULL { 0 } else { v };
    let keep = |m: bool, v: i64| if m { v } else { 0 };
    for op in ops {
        match *op {
            CounterOp::Count { at, mask } => {
                for &(i, a) in placed {
                    counters[a as usize * width + at] += mask[i as usize] as i64;
                }
            }
            CounterOp::Share { at, mask, num } => {
                for &(i, a) in placed {
                    let (i, r) = (i as usize, a as usize * width + at);
                    let m = mask[i];
                    counters[r] += keep(m, nonnull(num[i]));
                    counters[r + 1] += m as i64;
                }
            }
            CounterOp::ShareOfAll { at, num } => {
                for &(i, a) in placed {
                    counters[a as usize * width + at] += nonnull(num[i as usize]);
                }
            }
            CounterOp::Ratio { at, mask, num, den } => {
                for &(i, a) in placed {
                    let (i, r) = (i as usize, a as usize * width + at);
                    let m = mask[i];
                    counters[r] += keep(m, nonnull(num[i]));
                    counters[r + 1] += keep(m, nonnull(den[i]));
                }
            }
            CounterOp::SumCount { at, mask, vals } => {
                for &(i, a) in placed {
                    let (i, r) = (i as usize, a as usize * width + at);
                    let v = vals[i];
                    let m = mask[i] && v != NULL;
                    counters[r] += keep(m, v);
                    counters[r + 1] += m as i64;
                }
            }
        }
    }
}

/// Adds the placed records of a batch to one metric's value lists (percentiles, distinct
/// counts) and minimum-distinct keys.
#[allow(clippy::too_many_arguments)]
fn add_values(
    metric: &PlannedMetric,
    ev: &Evaluator,
    placed: &[(u32, u32)],
    counters: &mut [i64],
    width: usize,
    values: &mut Pairs,
    keys: &mut Vec<(u32, i64)>,
    mask: &[bool],
) {
    let c = &metric.compiled;
    if matches!(metric.agg, AggKind::Percentile { .. } | AggKind::Distinct) && metric.shares_values_with.is_none() {
        let vals = ev.values(c.value.expect("value"));
        let mut out = values.writer();
        for &(i, a) in placed {
            let v = vals[i as usize];
            if mask[i as usize] && v != NULL {
                out.push(a, v);
            }
        }
    }
    if let Some((_, _, when)) = c.min_distinct {
        let key_values = ev.values(metric.min_distinct_key.expect("key node"));
        let applies = metric.applies_offset.expect("min-distinct metrics have an applies counter");
        for &(i, a) in placed {
            if mask[i as usize] {
                keys.push((a, key_values[i as usize]));
                // A count, not a flag: live views subtract the records they retract.
                if when.is_none_or(|w| ev.values(w)[i as usize] == 1) {
                    counters[a as usize * width + applies] += 1;
                }
            }
        }
    }
}
