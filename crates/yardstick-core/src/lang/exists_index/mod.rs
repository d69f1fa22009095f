//! `exists` answered from an index: the records of the inner table grouped by the join key
//! and sorted by the window's time, probed for each outer record (with the residual
//! condition evaluated per candidate pair).

use super::ast::BinaryOp;
use super::eval::{Env, Evaluator, Rows, arith, compare, decimal_div, decimal_mul, scale};
use super::program::{ExistsPlan, Node, NodeId, Program, Side};
use crate::data::{NULL, Table};
use buckets::{Keyed, take};

mod buckets;
mod self_join;

/// Records of `inner` grouped by a key and sorted by a time within each group.
#[derive(Clone, Debug, Default)]
pub struct ExistsIndex {
    offsets: Vec<u32>,
    rows: Vec<u32>,
    times: Times,
    /// An index over some rows only ([`ExistsIndex::of_rows`]): its keys, sorted; group
    /// `i` is that of `keys[i]`. Empty for an index over the whole table, whose offsets are
    /// by key.
    keys: Vec<i64>,
}

/// The index's times: as seconds after the earliest when they span less than 2³² seconds
/// (136 years; half the memory of 10 M tickets' times, which is fresh memory each build),
/// else as they are.
#[derive(Clone, Debug)]
enum Times {
    Narrow { base: i64, since: Vec<u32> },
    Wide(Vec<i64>),
}

impl Default for Times {
    fn default() -> Self {
        Times::Wide(Vec::new())
    }
}

impl ExistsIndex {
    /// Groups the rows of `table` by `key_field`, each group by `time_field`. Rows with a
    /// null key, or a null time when there is a time field, can never match.
    ///
    /// The rows are spread over buckets of keys by their high bits, straight into the
    /// index's own arrays ([`buckets::spread`]); then each bucket — a key range small
    /// enough for the cache — is sorted by (key, time, row) in place, buckets in parallel.
    /// The only memory beyond the index is each row's key within its bucket: staging the
    /// rows apart first (16 bytes a row, 160 MB at 10 M tickets) made first touches of
    /// fresh memory half the build's time.
    pub fn build(table: &Table, key_field: u16, time_field: Option<u16>) -> ExistsIndex {
        let keyed = Keyed { key_field, time_field, untimed: false };
        let (n_keys, first, last) = keyed.survey(table);
        match narrow_base(first, last) {
            Some(base) => {
                let (offsets, rows, since) = build_as(table, keyed, n_keys, |t| (t - base) as u32);
                ExistsIndex { offsets, rows, times: Times::Narrow { base, since }, keys: Vec::new() }
            }
            None => {
                let (offsets, rows, times) = build_as(table, keyed, n_keys, |t| t);
                ExistsIndex { offsets, rows, times: Times::Wide(times), keys: Vec::new() }
            }
        }
    }

    /// The time of entry `i` of the index.
    #[cfg(test)]
    fn time(&self, i: usize) -> i64 {
        match &self.times {
            Times::Narrow { base, since } => base + since[i] as i64,
            Times::Wide(times) => times[i],
        }
    }

    /// An index over `rows` of `table` only: what a live update probes when every record
    /// that can match the rows it answers is among them (a self-join's rows of the keys a
    /// change touched). Built by one sort of those rows.
    pub fn of_rows(table: &Table, key_field: u16, time_field: Option<u16>, rows: &[u32]) -> ExistsIndex {
        let mut entries: Vec<(i64, i64, u32)> = rows
            .iter()
            .map(|&r| {
                let time = time_field.map_or(0, |f| table.int(f as usize, r as usize));
                (table.int(key_field as usize, r as usize), time, r)
            })
            .filter(|&(key, time, _)| key != NULL && time != NULL)
            .collect();
        entries.sort_unstable();
        entries.dedup();
        let mut index = ExistsIndex::default();
        for (i, &(key, _, _)) in entries.iter().enumerate() {
            if index.keys.last() != Some(&key) {
                index.keys.push(key);
                index.offsets.push(i as u32);
            }
        }
        index.offsets.push(entries.len() as u32);
        index.rows = entries.iter().map(|e| e.2).collect();
        index.times = Times::Wide(entries.iter().map(|e| e.1).collect());
        index
    }

    pub(super) fn group(&self, key: i64) -> std::ops::Range<usize> {
        if !self.keys.is_empty() || self.offsets.len() == 1 {
            return match self.keys.binary_search(&key) {
                Ok(i) => self.offsets[i] as usize..self.offsets[i + 1] as usize,
                Err(_) => 0..0,
            };
        }
        if key < 0 || key as usize + 1 >= self.offsets.len() {
            return 0..0;
        }
        self.offsets[key as usize] as usize..self.offsets[key as usize + 1] as usize
    }
}

/// The base of times held as `u32` seconds after it, when the times from `first` to `last`
/// span less than `u32::MAX` seconds (136 years; `u32::MAX` itself is left free to stand
/// for a null time); `None` when they do not, or there are none.
fn narrow_base(first: i64, last: i64) -> Option<i64> {
    (first <= last && u32::try_from(last.wrapping_sub(first)).is_ok_and(|span| span < u32::MAX)).then_some(first)
}

/// [`ExistsIndex::build`] with each time stored as `time_of(t)` (an order-preserving map),
/// given the number of keys: the offsets, rows and times of the index.
fn build_as<T: Copy + Ord + Default + Send + Sync>(
    table: &Table,
    keyed: Keyed,
    n_keys: usize,
    time_of: impl Fn(i64) -> T + Sync,
) -> (Vec<u32>, Vec<u32>, Vec<T>) {
    use rayon::prelude::*;
    let mut buckets = buckets::spread(table, keyed, n_keys, time_of);
    let total = buckets.rows.len();
    // Each bucket's part of the index, sorted in place.
    let mut offsets = vec![0u32; n_keys + 1];
    let n_locals: Vec<usize> = (0..buckets.sizes.len()).map(|b| buckets.n_local(b)).collect();
    let mut parts = Vec::with_capacity(n_locals.len());
    let mut o = &mut offsets[..];
    let mut base = 0u32;
    for ((rows, times, locals), &n_local) in buckets.parts().into_iter().zip(&n_locals) {
        let size = rows.len() as u32;
        parts.push((base, rows, times, locals, take(&mut o, ..n_local)));
        base += size;
    }
    o[0] = total as u32;
    parts.into_par_iter().for_each_init(
        || (Vec::new(), Vec::new()),
        |(sorted, starts), (base, rows, times, locals, offsets)| {
            buckets::sort_bucket((rows, times, locals), offsets.len(), sorted, starts);
            for (o, &s) in offsets.iter_mut().zip(starts.iter()) {
                *o = base + s;
            }
            for ((row, time), &(t, r)) in rows.iter_mut().zip(times.iter_mut()).zip(sorted.iter()) {
                (*row, *time) = (r, t);
            }
        },
    );
    let rows = std::mem::take(&mut buckets.rows);
    (offsets, rows, std::mem::take(&mut buckets.times))
}

/// Answers `exists` entry `index` of `prog` for every row of its table, in parallel: the
/// probe runs once and its answer can be kept for as long as the data does not change.
/// A table joined with itself on its own field is answered without the index
/// ([`self_join::flags`]); any other `exists` reads `env.indexes[index]`.
pub fn exists_flags(prog: &Program, env: &Env, index: usize) -> Vec<u8> {
    use rayon::prelude::*;
    if self_join::applies(prog, index) {
        return self_join::flags(prog, env, index);
    }
    let n = env.data.table(prog.source).len();
    let probing = probing_nodes(prog, index);
    let mut flags = vec![0u8; n];
    flags.par_chunks_mut(PROBE_ROWS).enumerate().for_each_init(Evaluator::default, |ev, (c, out)| {
        probe(ev, prog, env, &probing, Rows::Range { start: c * PROBE_ROWS, len: out.len() }, out)
    });
    flags
}

/// [`exists_flags`] for some rows only (sorted), probed through `env.indexes`: what a
/// live update works out again after a record changed.
pub fn exists_flags_of_rows(prog: &Program, env: &Env, index: usize, rows: &[u32]) -> Vec<u8> {
    let probing = probing_nodes(prog, index);
    let mut ev = Evaluator::default();
    let mut flags = vec![0u8; rows.len()];
    for (batch, out) in rows.chunks(PROBE_ROWS).zip(flags.chunks_mut(PROBE_ROWS)) {
        probe(&mut ev, prog, env, &probing, Rows::List(batch), out);
    }
    flags
}

/// Rows probed at a time.
const PROBE_ROWS: usize = 4096;

/// Probes `rows` (at most [`PROBE_ROWS`]) for the `exists` node of `probing` (as
/// [`probing_nodes`] gives it), an answer a row into `out`.
fn probe(ev: &mut Evaluator, prog: &Program, env: &Env, probing: &(usize, Vec<bool>), rows: Rows, out: &mut [u8]) {
    let (node, needed) = probing;
    ev.run_nodes(prog, env, rows, needed);
    for (o, &v) in out.iter_mut().zip(ev.values(*node as NodeId)) {
        *o = v as u8;
    }
}

/// Whether `exists` entry `index` of `prog` joins its table with itself on one of its
/// own fields: the records that can match a row are then exactly those with its key.
pub fn is_self_join(prog: &Program, index: usize) -> bool {
    self_join::applies(prog, index)
}

/// Whether `exists` entry `index` of `prog` needs an index to be answered (a self-join
/// does not: [`exists_flags`] answers it from its own sort).
pub fn needs_index(prog: &Program, index: usize) -> bool {
    !self_join::applies(prog, index)
}

/// The node of `exists` entry `index`, and the nodes probing it row by row evaluates: only
/// those it reads (its key and window), not all that come before it.
fn probing_nodes(prog: &Program, index: usize) -> (usize, Vec<bool>) {
    let node =
        prog.nodes.iter().position(|n| *n == Node::Exists(index as u32)).expect("the program has the exists node");
    (node, prog.reachable([node as NodeId], |i| i == index))
}

/// What deciding whether an inner record matches an outer one reads.
pub(super) struct Pair<'p> {
    prog: &'p Program,
    env: &'p Env<'p>,
    plan: &'p ExistsPlan,
    inner: &'p Table,
    outer: &'p Table,
    /// The residual condition only asks for another record of the same table
    /// (`ticket_id != this.ticket_id`): decided by comparing rows, not by evaluating it.
    other_record: bool,
}

impl<'p> Pair<'p> {
    pub(super) fn new(
        prog: &'p Program,
        env: &'p Env<'p>,
        plan: &'p ExistsPlan,
        inner: &'p Table,
        outer: &'p Table,
    ) -> Pair<'p> {
        let id_field = |side: Side, node: NodeId| match prog.residual[node as usize] {
            Node::Field { side: s, field } if s == side => {
                matches!(inner.columns[field as usize], crate::data::Column::Id(_)).then_some(field)
            }
            _ => None,
        };
        let other_record = std::ptr::eq(inner, outer)
            && plan.residual.is_some_and(|id| match prog.residual[id as usize] {
                Node::Cmp { op: BinaryOp::Ne, a, b } => {
                    let (a, b) = match id_field(Side::Row, a) {
                        Some(_) => (a, b),
                        None => (b, a),
                    };
                    id_field(Side::Row, a).is_some() && id_field(Side::Outer, b) == id_field(Side::Row, a)
                }
                _ => false,
            });
        Pair { prog, env, plan, inner, outer, other_record }
    }

    /// Whether a record of index group `group` lies in the window `(lower, upper)` of
    /// `outer_row` and meets the residual condition.
    pub(super) fn probe(
        &self,
        idx: &ExistsIndex,
        outer_row: usize,
        group: std::ops::Range<usize>,
        window: (Option<(i64, bool)>, Option<(i64, bool)>),
    ) -> bool {
        let rows = &idx.rows[group.clone()];
        match &idx.times {
            Times::Narrow { base, since } => {
                let since = &since[group];
                self.any_in_window(outer_row, rows.len(), |j| base + since[j] as i64, |j| rows[j], window)
            }
            Times::Wide(times) => {
                let times = &times[group];
                self.any_in_window(outer_row, rows.len(), |j| times[j], |j| rows[j], window)
            }
        }
    }

    /// Whether a record of a group (`len` entries in time order: entry `j` is row
    /// `row_at(j)` at `time_at(j)`) lies in the window `(lower, upper)` of `outer_row` and
    /// meets the residual condition. A null bound matches nothing.
    pub(super) fn any_in_window(
        &self,
        outer_row: usize,
        len: usize,
        time_at: impl Fn(usize) -> i64,
        row_at: impl Fn(usize) -> u32,
        (lower, upper): (Option<(i64, bool)>, Option<(i64, bool)>),
    ) -> bool {
        if len == 0 || lower.is_some_and(|(v, _)| v == NULL) || upper.is_some_and(|(v, _)| v == NULL) {
            return false;
        }
        let matches = |inner_row: u32| match self.plan.residual {
            None => true,
            Some(_) if self.other_record => inner_row as usize != outer_row,
            Some(id) => {
                eval_residual(self.prog, self.env, self.inner, self.outer, id, inner_row as usize, outer_row) == 1
            }
        };
        first_in_window(len, time_at, row_at, lower, upper, matches)
    }
}

/// Whether an entry of a group (`len` entries in time order: entry `j` is row `row_at(j)`
/// at `time_at(j)`) within the window from `lower` to `upper` (each inclusive or not)
/// `matches`, trying them in time order.
fn first_in_window(
    len: usize,
    time_at: impl Fn(usize) -> i64,
    row_at: impl Fn(usize) -> u32,
    lower: Option<(i64, bool)>,
    upper: Option<(i64, bool)>,
    mut matches: impl FnMut(u32) -> bool,
) -> bool {
    let from_lower = |j: usize| match lower {
        Some((lo, true)) => time_at(j) >= lo,
        Some((lo, false)) => time_at(j) > lo,
        None => true,
    };
    // The first entry within the lower bound (times ascend).
    let (mut start, mut end) = (0, len);
    while start < end {
        let mid = start + (end - start) / 2;
        if from_lower(mid) {
            end = mid;
        } else {
            start = mid + 1;
        }
    }
    for j in start..len {
        match upper {
            Some((hi, true)) if time_at(j) > hi => break,
            Some((hi, false)) if time_at(j) >= hi => break,
            _ => {}
        }
        if matches(row_at(j)) {
            return true;
        }
    }
    false
}

/// Evaluates a residual `exists` predicate for one pair of records.
#[allow(clippy::too_many_arguments)]
fn eval_residual(
    prog: &Program,
    env: &Env,
    inner: &Table,
    outer: &Table,
    id: NodeId,
    inner_row: usize,
    outer_row: usize,
) -> i64 {
    let ev = |id: NodeId| eval_residual(prog, env, inner, outer, id, inner_row, outer_row);
    match &prog.residual[id as usize] {
        Node::Const(v) => *v,
        Node::Field { side: Side::Row, field } => field_value(inner, *field, inner_row),
        Node::Field { side: Side::Outer, field } => field_value(outer, *field, outer_row),
        Node::Deref { row, source, field } => match ev(*row) {
            NULL => NULL,
            r => field_value(env.data.table(*source), *field, r as usize),
        },
        Node::Scale { a, mul, div } => scale(ev(*a), *mul, *div),
        Node::Neg(a) => match ev(*a) {
            NULL => NULL,
            x => -x,
        },
        Node::Abs(a) => match ev(*a) {
            NULL => NULL,
            x => x.abs(),
        },
        Node::Arith { op, a, b } => arith(*op, ev(*a), ev(*b)),
        Node::DecimalMul { a, b } => decimal_mul(ev(*a), ev(*b)),
        Node::DecimalDiv { a, b } => decimal_div(ev(*a), ev(*b)),
        Node::Cmp { op, a, b } => compare(*op, ev(*a), ev(*b)) as i64,
        Node::And(a, b) => (ev(*a) == 1 && ev(*b) == 1) as i64,
        Node::Or(a, b) => (ev(*a) == 1 || ev(*b) == 1) as i64,
        Node::Not(a) => (ev(*a) != 1) as i64,
        Node::IsNull(a) => (ev(*a) == NULL) as i64,
        Node::InSet { a, set } => {
            let x = ev(*a);
            (x != NULL && set.binary_search(&x).is_ok()) as i64
        }
        Node::Coalesce(items) => items.iter().map(|&i| ev(i)).find(|&v| v != NULL).unwrap_or(NULL),
        Node::Case { arms, otherwise } => {
            arms.iter().find(|(c, _)| ev(*c) == 1).map_or_else(|| ev(*otherwise), |(_, v)| ev(*v))
        }
        Node::Business { from, to, owner } => {
            let (f, t, p) = (ev(*from), ev(*to), ev(*owner));
            if f == NULL || t == NULL {
                return NULL;
            }
            let team = if p == NULL { None } else { env.org.team_at(p as usize, f) };
            env.clocks.for_team(team).business_seconds(f, t)
        }
        Node::Exists(_) => NULL,
    }
}

fn field_value(table: &Table, field: u16, row: usize) -> i64 {
    match &table.columns[field as usize] {
        crate::data::Column::Id(_) => row as i64,
        crate::data::Column::Text(t) => {
            if t.get(row).is_some() {
                1
            } else {
                NULL
            }
        }
        _ => table.int(field as usize, row),
    }
}

#[cfg(test)]
mod tests;
