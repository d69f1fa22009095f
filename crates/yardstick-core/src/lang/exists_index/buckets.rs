//! The first step of an `exists` index and of a self-join's answers: a table's rows spread
//! over buckets of keys by the keys' high bits, straight into three arrays (row, time, key
//! within its bucket), then each bucket sorted by (key, time, row) where it is in cache.

use super::super::eval::{Rows, read_field};
use crate::data::{NULL, Table};

/// Rows per chunk of the parallel passes over a table.
const CHUNK: usize = 1 << 16;

/// The rows of chunk `c` of a table of `n` rows.
fn rows_of_chunk(c: usize, n: usize) -> std::ops::Range<usize> {
    c * CHUNK..((c + 1) * CHUNK).min(n)
}

/// The first `len` items of `rest`, cut off it (its parts can then go to different tasks).
pub(super) fn take<'a, T>(rest: &mut &'a mut [T], len: std::ops::RangeTo<usize>) -> &'a mut [T] {
    rest.split_off_mut(len).expect("a part within the whole")
}

/// Which rows go into the buckets, and their key and time fields.
#[derive(Clone, Copy)]
pub(super) struct Keyed {
    pub key_field: u16,
    pub time_field: Option<u16>,
    /// Whether rows with a key but a null time are kept (as outer rows of a self-join,
    /// which still look into their group), passed on with time [`NULL`].
    pub untimed: bool,
}

impl Keyed {
    /// Calls `each(row, key, time)` for the rows of `range` with a key (and a time, unless
    /// `untimed`); `time` is 0 without a time field.
    pub fn each(&self, table: &Table, range: std::ops::Range<usize>, mut each: impl FnMut(usize, usize, i64)) {
        const BATCH: usize = 1 << 12;
        let (mut keys, mut times) = (vec![0i64; BATCH], vec![0i64; BATCH]);
        let mut start = range.start;
        while start < range.end {
            let len = BATCH.min(range.end - start);
            let rows = Rows::Range { start, len };
            read_field(table, self.key_field, rows, &mut keys[..len]);
            match self.time_field {
                Some(f) => read_field(table, f, rows, &mut times[..len]),
                None => times[..len].fill(0),
            }
            for (i, (&k, &t)) in keys[..len].iter().zip(&times[..len]).enumerate() {
                if k != NULL && k >= 0 && (t != NULL || self.untimed) {
                    each(start + i, k as usize, t);
                }
            }
            start += len;
        }
    }

    /// The number of keys (one more than the largest) and the earliest and latest non-null
    /// time of the rows kept, in parallel.
    pub fn survey(&self, table: &Table) -> (usize, i64, i64) {
        use rayon::prelude::*;
        let n = table.len();
        (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let (mut top, mut first, mut last) = (0, i64::MAX, i64::MIN);
                self.each(table, rows_of_chunk(c, n), |_, k, t| {
                    top = top.max(k + 1);
                    if t != NULL {
                        (first, last) = (first.min(t), last.max(t));
                    }
                });
                (top, first, last)
            })
            .reduce(|| (0, i64::MAX, i64::MIN), |a, b| (a.0.max(b.0), a.1.min(b.1), a.2.max(b.2)))
    }
}

/// A table's rows spread over buckets of keys: bucket `b` holds keys `b << shift` up to
/// (not including) `(b + 1) << shift`, its rows in row order.
pub(super) struct Buckets<T> {
    pub rows: Vec<u32>,
    pub times: Vec<T>,
    /// Each row's key within its bucket.
    pub locals: Vec<u16>,
    /// Rows per bucket.
    pub sizes: Vec<usize>,
    shift: u32,
    n_keys: usize,
}

impl<T> Buckets<T> {
    /// The number of keys of bucket `b`.
    pub fn n_local(&self, b: usize) -> usize {
        (1usize << self.shift).min(self.n_keys - (b << self.shift))
    }

    /// Each bucket's `(rows, times, locals)`, cut off the whole (for tasks in parallel).
    pub fn parts(&mut self) -> Vec<(&mut [u32], &mut [T], &mut [u16])> {
        let (mut r, mut t, mut l) = (&mut self.rows[..], &mut self.times[..], &mut self.locals[..]);
        self.sizes.iter().map(|&size| (take(&mut r, ..size), take(&mut t, ..size), take(&mut l, ..size))).collect()
    }
}

/// Spreads the rows `keyed` keeps over buckets of at most 2¹⁶ keys (at least 256 buckets,
/// given `n_keys`), each time stored as `time_of(t)`: a counting pass gives every (bucket,
/// chunk of rows) its place, and the chunks, in parallel, write their rows there in row
/// order (sequential writes, a few hundred streams per chunk).
pub(super) fn spread<T: Copy + Default + Send + Sync>(
    table: &Table,
    keyed: Keyed,
    n_keys: usize,
    time_of: impl Fn(i64) -> T + Sync,
) -> Buckets<T> {
    use rayon::prelude::*;
    let n = table.len();
    let n_chunks = n.div_ceil(CHUNK);
    let chunk = |c: usize| rows_of_chunk(c, n);
    let bits = usize::BITS - n_keys.leading_zeros();
    let shift = bits.saturating_sub(8).min(16);
    let n_buckets = if n_keys == 0 { 0 } else { ((n_keys - 1) >> shift) + 1 };
    let counts: Vec<Vec<usize>> = (0..n_chunks)
        .into_par_iter()
        .map(|c| {
            let mut sizes = vec![0usize; n_buckets];
            keyed.each(table, chunk(c), |_, k, _| sizes[k >> shift] += 1);
            sizes
        })
        .collect();
    let sizes: Vec<usize> = (0..n_buckets).map(|b| counts.iter().map(|chunk| chunk[b]).sum()).collect();
    let total: usize = sizes.iter().sum();
    let mut rows = vec![0u32; total];
    let mut times = vec![T::default(); total];
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
        keyed.each(table, chunk(c), |row, k, time| {
            let b = k >> shift;
            let (rows, times, locals) = &mut place[b];
            let at = fill[b];
            fill[b] += 1;
            (rows[at], times[at], locals[at]) = (row as u32, time_of(time), (k & local_mask) as u16);
        });
    });
    Buckets { rows, times, locals, sizes, shift, n_keys }
}

/// Sorts one bucket's rows by (key, time, row) into `sorted`: a counting sort by key
/// (stable: a group stays in row order), then each group by (time, row) unless it already
/// is (rows usually arrive in time order). Afterwards group `k` is
/// `sorted[starts[k]..starts[k + 1]]`.
pub(super) fn sort_bucket<T: Copy + Ord + Default>(
    (rows, times, locals): (&[u32], &[T], &[u16]),
    n_local: usize,
    sorted: &mut Vec<(T, u32)>,
    starts: &mut Vec<u32>,
) {
    // Counts at `k + 2`, so that after the sums `starts[k + 1]` is where group `k` starts,
    // and after placing each row at `starts[k + 1]` (moved on by one), where it ends.
    starts.clear();
    starts.resize(n_local + 2, 0);
    for &k in locals {
        starts[k as usize + 2] += 1;
    }
    for k in 2..starts.len() {
        starts[k] += starts[k - 1];
    }
    sorted.clear();
    sorted.resize(rows.len(), (T::default(), 0));
    for ((&k, &t), &r) in locals.iter().zip(times).zip(rows) {
        let at = &mut starts[k as usize + 1];
        sorted[*at as usize] = (t, r);
        *at += 1;
    }
    starts.truncate(n_local + 1);
    for k in 0..n_local {
        let group = &mut sorted[starts[k] as usize..starts[k + 1] as usize];
        if group.len() > 1 && !group.is_sorted() {
            group.sort_unstable();
        }
    }
}
