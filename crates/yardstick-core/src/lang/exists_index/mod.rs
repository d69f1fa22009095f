//! `exists` answered from an index: the records of the inner table grouped by the join key
//! and sorted by the window's time, probed for each outer record (with the residual
//! condition evaluated per candidate pair).

use super::eval::{Env, Evaluator, Rows, arith, compare, decimal_div, decimal_mul, read_field, scale};
use super::program::{ExistsPlan, Node, NodeId, Program, Side};
use crate::data::{NULL, Table};

/// Records of `inner` grouped by a key and sorted by a time within each group.
#[derive(Clone, Debug, Default)]
pub struct ExistsIndex {
    offsets: Vec<u32>,
    rows: Vec<u32>,
    times: Times,
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
    /// Keys are spread over buckets by their high bits first (256, or more of 2¹⁶ keys each
    /// when there are more than 2²⁴ keys), straight into the index's own arrays: a counting
    /// pass gives every (bucket, chunk of rows) its place, and the chunks, in parallel,
    /// write their rows there in row order (sequential writes, a few hundred streams per
    /// chunk). Then each bucket — a key range small enough for
    /// the cache — is counting-sorted by key in place and each group sorted by time,
    /// buckets in parallel. The only memory beyond the index is each row's key within its
    /// bucket: staging the rows apart first (16 bytes a row, 160 MB at 10 M tickets) made
    /// first touches of fresh memory half the build's time.
    pub fn build(table: &Table, key_field: u16, time_field: Option<u16>) -> ExistsIndex {
        use rayon::prelude::*;
        let n = table.len();
        let (n_keys, first, last) = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let (mut top, mut first, mut last) = (0, i64::MAX, i64::MIN);
                each_keyed_row(table, key_field, time_field, rows_of_chunk(c, n), |_, k, t| {
                    (top, first, last) = (top.max(k + 1), first.min(t), last.max(t));
                });
                (top, first, last)
            })
            .reduce(|| (0, i64::MAX, i64::MIN), |a, b| (a.0.max(b.0), a.1.min(b.1), a.2.max(b.2)));
        let fields = (key_field, time_field);
        match u32::try_from(last.wrapping_sub(first)) {
            Ok(_) if first <= last => {
                let (offsets, rows, since) = build_as(table, fields, n_keys, |t| (t - first) as u32);
                ExistsIndex { offsets, rows, times: Times::Narrow { base: first, since } }
            }
            _ => {
                let (offsets, rows, times) = build_as(table, fields, n_keys, |t| t);
                ExistsIndex { offsets, rows, times: Times::Wide(times) }
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

    pub(super) fn group(&self, key: i64) -> std::ops::Range<usize> {
        if key < 0 || key as usize + 1 >= self.offsets.len() {
            return 0..0;
        }
        self.offsets[key as usize] as usize..self.offsets[key as usize + 1] as usize
    }
}

/// Rows per chunk of the index's parallel passes.
const CHUNK: usize = 1 << 16;

/// The rows of chunk `c` of a table of `n` rows.
fn rows_of_chunk(c: usize, n: usize) -> std::ops::Range<usize> {
    c * CHUNK..((c + 1) * CHUNK).min(n)
}

/// The first `len` items of `rest`, cut off it (its parts can then go to different tasks).
fn take<'a, T>(rest: &mut &'a mut [T], len: std::ops::RangeTo<usize>) -> &'a mut [T] {
    rest.split_off_mut(len).expect("a part within the whole")
}

/// [`ExistsIndex::build`] with each time stored as `time_of(t)` (an order-preserving map),
/// given the number of keys: the offsets, rows and times of the index.
fn build_as<T: Copy + Ord + Default + Send + Sync>(
    table: &Table,
    (key_field, time_field): (u16, Option<u16>),
    n_keys: usize,
    time_of: impl Fn(i64) -> T + Sync,
) -> (Vec<u32>, Vec<u32>, Vec<T>) {
    use rayon::prelude::*;
    let n = table.len();
    let n_chunks = n.div_ceil(CHUNK);
    let chunk = |c: usize| rows_of_chunk(c, n);
    let bits = usize::BITS - n_keys.leading_zeros();
    // At least 256 buckets, each of at most 2¹⁶ keys (a key within its bucket is a u16).
    let shift = bits.saturating_sub(8).min(16);
    let n_buckets = if n_keys == 0 { 0 } else { ((n_keys - 1) >> shift) + 1 };
    let counts: Vec<Vec<usize>> = (0..n_chunks)
        .into_par_iter()
        .map(|c| {
            let mut sizes = vec![0usize; n_buckets];
            each_keyed_row(table, key_field, time_field, chunk(c), |_, k, _| sizes[k >> shift] += 1);
            sizes
        })
        .collect();
    let sizes: Vec<usize> = (0..n_buckets).map(|b| counts.iter().map(|chunk| chunk[b]).sum()).collect();
    let total: usize = sizes.iter().sum();
    let mut rows = vec![0u32; total];
    let mut times = vec![T::default(); total];
    // Each row's key within its bucket, until the buckets are sorted.
    let mut locals = vec![0u16; total];
    // The place of every (chunk, bucket): bucket-major, chunks in row order within.
    let mut places: Vec<Vec<(&mut [u32], &mut [T], &mut [u16])>> =
        (0..n_chunks).map(|_| Vec::with_capacity(n_buckets)).collect();
    let (mut r, mut t, mut l) = (&mut rows[..], &mut times[..], &mut locals[..]);
    for b in 0..n_buckets {
        for (c, place) in places.iter_mut().enumerate() {
            let part = ..counts[c][b];
            place.push((take(&mut r, part), take(&mut t, part), take(&mut l, part)));
        }
    }
    let local_mask = (1usize << shift) - 1;
    places.into_par_iter().enumerate().for_each(|(c, mut place)| {
        let mut fill = vec![0usize; n_buckets];
        each_keyed_row(table, key_field, time_field, chunk(c), |row, k, time| {
            let b = k >> shift;
            let (rows, times, locals) = &mut place[b];
            let at = fill[b];
            fill[b] += 1;
            (rows[at], times[at], locals[at]) = (row as u32, time_of(time), (k & local_mask) as u16);
        });
    });
    // Each bucket's part of the index, sorted in place.
    let mut offsets = vec![0u32; n_keys + 1];
    let mut parts = Vec::with_capacity(n_buckets);
    let (mut r, mut t, mut l, mut o) = (&mut rows[..], &mut times[..], &locals[..], &mut offsets[..]);
    let mut base = 0u32;
    for (b, &size) in sizes.iter().enumerate() {
        let n_local = (1usize << shift).min(n_keys - (b << shift));
        let l0 = l.split_off(..size).expect("the bucket's keys");
        parts.push((base, take(&mut r, ..size), take(&mut t, ..size), l0, take(&mut o, ..n_local)));
        base += size as u32;
    }
    o[0] = total as u32;
    parts.into_par_iter().for_each_init(Vec::new, |sorted, (base, rows, times, locals, offsets)| {
        // Counting sort by key (stable: a group stays in row order), then each group by
        // (time, row) unless it already is (rows usually arrive in time order).
        let mut fill = vec![0u32; offsets.len() + 1];
        for &k in locals.iter() {
            fill[k as usize + 1] += 1;
        }
        for k in 0..offsets.len() {
            fill[k + 1] += fill[k];
        }
        for (o, &f) in offsets.iter_mut().zip(&fill) {
            *o = base + f;
        }
        sorted.clear();
        sorted.resize(rows.len(), (T::default(), 0u32));
        for ((&k, &t), &r) in locals.iter().zip(times.iter()).zip(rows.iter()) {
            sorted[fill[k as usize] as usize] = (t, r);
            fill[k as usize] += 1;
        }
        for k in 0..offsets.len() {
            let group = &mut sorted[(offsets[k] - base) as usize..fill[k] as usize];
            if group.len() > 1 && !group.is_sorted() {
                group.sort_unstable();
            }
        }
        for ((row, time), &(t, r)) in rows.iter_mut().zip(times.iter_mut()).zip(sorted.iter()) {
            (*row, *time) = (r, t);
        }
    });
    (offsets, rows, times)
}

/// Calls `each(row, key, time)` for the rows of `range` whose key (and time, when there is
/// a time field) is not null; `time` is 0 without a time field.
fn each_keyed_row(
    table: &Table,
    key_field: u16,
    time_field: Option<u16>,
    range: std::ops::Range<usize>,
    mut each: impl FnMut(usize, usize, i64),
) {
    const BATCH: usize = 1 << 12;
    let (mut keys, mut times) = (vec![0i64; BATCH], vec![0i64; BATCH]);
    let mut start = range.start;
    while start < range.end {
        let len = BATCH.min(range.end - start);
        let rows = Rows::Range { start, len };
        read_field(table, key_field, rows, &mut keys[..len]);
        match time_field {
            Some(f) => read_field(table, f, rows, &mut times[..len]),
            None => times[..len].fill(0),
        }
        for (i, (&k, &t)) in keys[..len].iter().zip(&times[..len]).enumerate() {
            if k != NULL && k >= 0 && t != NULL {
                each(start + i, k as usize, t);
            }
        }
        start += len;
    }
}

/// Answers `exists` entry `index` of `prog` for every row of its table, in parallel: the
/// probe runs once and its answer can be kept for as long as the data does not change.
pub fn exists_flags(prog: &Program, env: &Env, index: usize) -> Vec<u8> {
    use rayon::prelude::*;
    if let Some(flags) = self_join_flags(prog, env, index) {
        return flags;
    }
    let n = env.data.table(prog.source).len();
    let (node, needed) = probing_nodes(prog, index);
    let mut flags = vec![0u8; n];
    const CHUNK: usize = 4096;
    flags.par_chunks_mut(CHUNK).enumerate().for_each_init(Evaluator::default, |ev, (c, out)| {
        ev.run_nodes(prog, env, Rows::Range { start: c * CHUNK, len: out.len() }, &needed);
        for (o, &v) in out.iter_mut().zip(ev.values(node as NodeId)) {
            *o = v as u8;
        }
    });
    flags
}

/// The node of `exists` entry `index`, and the nodes probing it row by row evaluates: only
/// those it reads (its key and window), not all that come before it.
fn probing_nodes(prog: &Program, index: usize) -> (usize, Vec<bool>) {
    let node =
        prog.nodes.iter().position(|n| *n == Node::Exists(index as u32)).expect("the program has the exists node");
    (node, prog.reachable([node as NodeId], |i| i == index))
}

/// A table joined with itself on one of its own fields (`exists(tickets where
/// customer_id = this.customer_id …)`): the rows with key `k` are exactly index group `k`,
/// so the groups are answered one after another — each group's times are read once, in
/// order, instead of looked up at random for every row. Rows the index leaves out (null
/// time) are probed one by one. `None` when the `exists` is not of this kind.
fn self_join_flags(prog: &Program, env: &Env, index: usize) -> Option<Vec<u8>> {
    use rayon::prelude::*;
    let plan = &prog.exists[index];
    let same_key = prog.nodes[plan.key_outer as usize] == Node::Field { side: Side::Row, field: plan.key_field };
    if plan.inner != prog.source || !same_key {
        return None;
    }
    let idx = &env.indexes[index];
    let table = env.data.table(prog.source);
    let n = table.len();
    let needed = prog.reachable([plan.lower, plan.upper].into_iter().flatten().map(|b| b.0), |_| false);
    // Keys cut into runs of about `PER` indexed rows, each run answered by one task into
    // its own part of `answers` (index order).
    const PER: usize = 1 << 14;
    let n_keys = idx.offsets.len().saturating_sub(1);
    let mut cuts = vec![0usize];
    for k in 0..n_keys {
        if (idx.offsets[k + 1] - idx.offsets[*cuts.last().expect("a cut")]) as usize >= PER {
            cuts.push(k + 1);
        }
    }
    if *cuts.last().expect("a cut") != n_keys {
        cuts.push(n_keys);
    }
    let mut answers = vec![0u8; idx.rows.len()];
    let mut parts = Vec::with_capacity(cuts.len());
    let mut rest = &mut answers[..];
    for w in cuts.windows(2) {
        let len = (idx.offsets[w[1]] - idx.offsets[w[0]]) as usize;
        parts.push((w[0]..w[1], take(&mut rest, ..len)));
    }
    let bound = |ev: &Evaluator, b: Option<(NodeId, bool)>, i: usize| b.map(|(id, inc)| (ev.values(id)[i], inc));
    parts.into_par_iter().for_each_init(Evaluator::default, |ev, (keys, out)| {
        let base = idx.offsets[keys.start] as usize;
        let rows = &idx.rows[base..base + out.len()];
        let mut k = keys.start;
        for (b, batch) in rows.chunks(BATCH).enumerate() {
            ev.run_nodes(prog, env, Rows::List(batch), &needed);
            for (i, &row) in batch.iter().enumerate() {
                let at = base + b * BATCH + i;
                while idx.offsets[k + 1] as usize <= at {
                    k += 1;
                }
                let group = idx.offsets[k] as usize..idx.offsets[k + 1] as usize;
                let (lower, upper) = (bound(ev, plan.lower, i), bound(ev, plan.upper, i));
                out[at - base] = probe(prog, env, plan, idx, table, table, row as usize, group, lower, upper) as u8;
            }
        }
    });
    // From index order to row order: each thread owns a range of rows and picks its own
    // answers out of the whole list (one sequential read per thread), so that its writes
    // stay within its range.
    const UNANSWERED: u8 = 2;
    let mut flags = vec![UNANSWERED; n];
    let per = n.div_ceil(rayon::current_num_threads()).max(1);
    flags.par_chunks_mut(per).enumerate().for_each(|(c, own)| {
        let start = (c * per) as u32;
        for (&row, &answer) in idx.rows.iter().zip(&answers) {
            if let Some(f) = own.get_mut(row.wrapping_sub(start) as usize) {
                *f = answer;
            }
        }
    });
    // Rows outside the index: a null key never matches; a null time is probed by its key.
    let left: Vec<u32> = (0..n as u32).filter(|&r| flags[r as usize] == UNANSWERED).collect();
    let (node, needed_all) = probing_nodes(prog, index);
    let mut ev = Evaluator::default();
    for batch in left.chunks(BATCH) {
        ev.run_nodes(prog, env, Rows::List(batch), &needed_all);
        for (&row, &v) in batch.iter().zip(ev.values(node as NodeId)) {
            flags[row as usize] = v as u8;
        }
    }
    Some(flags)
}

/// Rows evaluated together when answering grouped `exists`.
const BATCH: usize = 256;

#[allow(clippy::too_many_arguments)]
pub(super) fn probe(
    prog: &Program,
    env: &Env,
    plan: &ExistsPlan,
    idx: &ExistsIndex,
    inner: &Table,
    outer: &Table,
    outer_row: usize,
    group: std::ops::Range<usize>,
    lower: Option<(i64, bool)>,
    upper: Option<(i64, bool)>,
) -> bool {
    if group.is_empty() || lower.is_some_and(|(v, _)| v == NULL) || upper.is_some_and(|(v, _)| v == NULL) {
        return false;
    }
    let matches = |inner_row: u32| match plan.residual {
        None => true,
        Some(id) => eval_residual(prog, env, inner, outer, id, inner_row as usize, outer_row) == 1,
    };
    let rows = &idx.rows[group.clone()];
    match &idx.times {
        Times::Narrow { base, since } => first_in_window(&since[group], *base, rows, lower, upper, matches),
        Times::Wide(times) => first_in_window(&times[group], 0, rows, lower, upper, matches),
    }
}

/// Whether a row of a group (`times`, after `base`, and `rows`) within the window from
/// `lower` to `upper` (each inclusive or not) `matches`, trying them in time order.
fn first_in_window<T: Copy + Into<i64>>(
    times: &[T],
    base: i64,
    rows: &[u32],
    lower: Option<(i64, bool)>,
    upper: Option<(i64, bool)>,
    mut matches: impl FnMut(u32) -> bool,
) -> bool {
    let at = |j: usize| times[j].into() + base;
    let start = match lower {
        Some((lo, true)) => times.partition_point(|&t| t.into() + base < lo),
        Some((lo, false)) => times.partition_point(|&t| t.into() + base <= lo),
        None => 0,
    };
    for j in start..times.len() {
        match upper {
            Some((hi, true)) if at(j) > hi => break,
            Some((hi, false)) if at(j) >= hi => break,
            _ => {}
        }
        if matches(rows[j]) {
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
