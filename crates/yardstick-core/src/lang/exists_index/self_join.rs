//! A table's `exists` over its own records with the same key — repeat contact, rework,
//! repeat complaint — answered without an index. The rows are spread over buckets of keys
//! and sorted as for an index ([`super::buckets`]), and each bucket is answered as soon as
//! it is sorted, while it is still in cache: no index is kept, no key's offsets are
//! stored, and the answers need not be moved from index order to row order. Each bucket
//! lists its rows whose answer is true; the lists set bits in one bitmap (a bit a row:
//! 1.25 MB for 10 M rows, in cache), written out as a flag per row at the end.

use rayon::prelude::*;

use super::buckets::{self, Keyed};
use super::{Pair, narrow_base};
use crate::data::NULL;
use crate::lang::eval::{Env, Evaluator, Rows};
use crate::lang::program::{Node, NodeId, Program, Side};

/// Whether `exists` entry `index` of `prog` joins the program's table with itself on one
/// of its own fields (`exists(tickets where customer_id = this.customer_id …)`): the rows
/// whose key is `k` are then exactly the group of key `k`. Its window bounds must not
/// themselves hold an `exists` (they are evaluated without any index).
pub(super) fn applies(prog: &Program, index: usize) -> bool {
    let plan = &prog.exists[index];
    let same_key = prog.nodes[plan.key_outer as usize] == Node::Field { side: Side::Row, field: plan.key_field };
    plan.inner == prog.source
        && same_key
        && !bound_nodes(prog, index)
            .iter()
            .zip(&prog.nodes)
            .any(|(&read, node)| read && matches!(node, Node::Exists(_)))
}

/// The nodes the window bounds of `exists` entry `index` read.
fn bound_nodes(prog: &Program, index: usize) -> Vec<bool> {
    let plan = &prog.exists[index];
    prog.reachable([plan.lower, plan.upper].into_iter().flatten().map(|b| b.0), |_| false)
}

/// The answers of self-join `exists` entry `index` ([`applies`]) for every row, in
/// parallel. Rows with a key but a null time are kept as outer rows (their group is still
/// searched) with the largest time, so that they come last in their group, where no
/// window reaches them.
pub(super) fn flags(prog: &Program, env: &Env, index: usize) -> Vec<u8> {
    let plan = &prog.exists[index];
    let table = env.data.table(prog.source);
    let keyed = Keyed { key_field: plan.key_field, time_field: plan.time_field, untimed: true };
    let (n_keys, first, last) = keyed.survey(table);
    let answer = Answer { prog, env, index, keyed, n_keys };
    let true_rows = match narrow_base(first, last) {
        Some(base) => {
            answer.run(|t| if t == NULL { u32::MAX } else { (t - base) as u32 }, u32::MAX, |t| base + t as i64)
        }
        None => answer.run(|t| if t == NULL { i64::MAX } else { t }, i64::MAX, |t| t),
    };
    // One thread sets the bits: the buckets' rows are spread over the whole table, and
    // threads setting bits of the same words need atomic read-modify-writes, which were a
    // tenth of the answering's samples (tickets' repeat contact at 10 M, alone, 8 runs
    // alternated: 0.268–0.311 s → 0.245–0.281 s).
    let mut bits = vec![0u64; table.len().div_ceil(64)];
    for &row in true_rows.iter().flatten() {
        bits[row as usize / 64] |= 1 << (row % 64);
    }
    let mut flags = vec![0u8; table.len()];
    const CHUNK: usize = 1 << 16;
    flags.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
        for (i, f) in out.iter_mut().enumerate() {
            let row = c * CHUNK + i;
            *f = (bits[row / 64] >> (row % 64)) as u8 & 1;
        }
    });
    flags
}

/// One self-join's answering: what it reads.
struct Answer<'a> {
    prog: &'a Program,
    env: &'a Env<'a>,
    index: usize,
    keyed: Keyed,
    n_keys: usize,
}

impl Answer<'_> {
    /// Spreads and sorts the rows with each time stored as `time_of(t)` (an
    /// order-preserving map taking a null time to `untimed`, above all others), and
    /// answers every row of every bucket; `instant_of` maps a stored time back. Returns
    /// each bucket's rows whose answer is true.
    fn run<T: Copy + Ord + Default + Send + Sync>(
        &self,
        time_of: impl Fn(i64) -> T + Sync,
        untimed: T,
        instant_of: impl Fn(T) -> i64 + Sync,
    ) -> Vec<Vec<u32>> {
        let (prog, env) = (self.prog, self.env);
        let plan = &prog.exists[self.index];
        let table = env.data.table(prog.source);
        let pair = Pair::new(prog, env, plan, table, table);
        let needed = bound_nodes(prog, self.index);
        let bound = |ev: &Evaluator, b: Option<(NodeId, bool)>, i: usize| b.map(|(id, inc)| (ev.values(id)[i], inc));
        let mut spread = buckets::spread(table, self.keyed, self.n_keys, time_of);
        let n_locals: Vec<usize> = (0..spread.sizes.len()).map(|b| spread.n_local(b)).collect();
        let parts: Vec<_> = spread.parts().into_iter().zip(n_locals).collect();
        parts
            .into_par_iter()
            .map_init(
                || (Evaluator::default(), Vec::new(), Vec::new(), Vec::new()),
                |(ev, sorted, starts, order), ((rows, times, locals), n_local)| {
                    let mut true_rows = Vec::new();
                    buckets::sort_bucket((rows, times, locals), n_local, sorted, starts);
                    order.clear();
                    order.extend(sorted.iter().map(|&(_, row)| row));
                    // The group of the current key, and how many of its rows have a time.
                    let (mut k, mut group, mut timed) = (0, &sorted[..0], 0);
                    for (b, batch) in order.chunks(BATCH).enumerate() {
                        ev.run_nodes(prog, env, Rows::List(batch), &needed);
                        for (i, &row) in batch.iter().enumerate() {
                            let at = b * BATCH + i;
                            if group.is_empty() || starts[k + 1] as usize <= at {
                                while starts[k + 1] as usize <= at {
                                    k += 1;
                                }
                                group = &sorted[starts[k] as usize..starts[k + 1] as usize];
                                timed = group.partition_point(|&(t, _)| t < untimed);
                            }
                            let window = (bound(ev, plan.lower, i), bound(ev, plan.upper, i));
                            let time_at = |j: usize| instant_of(group[j].0);
                            if pair.any_in_window(row as usize, timed, time_at, |j| group[j].1, window) {
                                true_rows.push(row);
                            }
                        }
                    }
                    true_rows
                },
            )
            .collect()
    }
}

/// Rows whose window bounds are evaluated together.
const BATCH: usize = 256;
