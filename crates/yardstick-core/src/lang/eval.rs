//! Runs a [`Program`] column-at-a-time over a batch of rows: one tight loop per node, no
//! per-row allocation. `exists` probes a per-key, time-sorted index.

use std::sync::Arc;

use super::ast::BinaryOp;
use super::compile::MICROS;
use super::program::{ExistsPlan, Node, NodeId, Program, Side};
use crate::calendar::BusinessClock;
use crate::data::{Dataset, NULL, Org, Table};

/// The business clocks of the organisation: one per team (inherited from the parent when
/// a team has none of its own) and the organisation's default.
#[derive(Clone, Debug)]
pub struct Clocks {
    pub default: Arc<BusinessClock>,
    pub by_team: Vec<Arc<BusinessClock>>,
}

impl Clocks {
    pub fn for_team(&self, team: Option<u32>) -> &BusinessClock {
        match team {
            Some(t) => &self.by_team[t as usize],
            None => &self.default,
        }
    }
}

/// What evaluation reads besides the program.
pub struct Env<'a> {
    pub data: &'a Dataset,
    pub org: &'a Org,
    pub clocks: &'a Clocks,
    /// One per `prog.exists` entry.
    pub indexes: &'a [ExistsIndex],
    /// Precomputed answers of `prog.exists` entries, one byte per row of the program's
    /// table (see [`exists_flags`]); an entry without flags is probed row by row.
    pub flags: &'a [Option<std::sync::Arc<Vec<u8>>>],
}

/// The rows of a batch: a contiguous range, or a list (drill-down, incremental updates).
#[derive(Clone, Copy, Debug)]
pub enum Rows<'a> {
    Range { start: usize, len: usize },
    List(&'a [u32]),
}

impl Rows<'_> {
    pub fn len(&self) -> usize {
        match self {
            Rows::Range { len, .. } => *len,
            Rows::List(l) => l.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn row(&self, i: usize) -> usize {
        match self {
            Rows::Range { start, .. } => start + i,
            Rows::List(l) => l[i] as usize,
        }
    }
}

/// Records of `inner` grouped by a key and sorted by a time within each group.
#[derive(Clone, Debug, Default)]
pub struct ExistsIndex {
    offsets: Vec<u32>,
    rows: Vec<u32>,
    times: Vec<i64>,
}

impl ExistsIndex {
    /// Groups the rows of `table` by `key_field`, each group by `time_field`. Rows with a
    /// null key, or a null time when there is a time field, can never match.
    ///
    /// Keys are spread over up to 256 buckets by their high bits first (sequential writes,
    /// in parallel by chunks of rows), then each bucket — a key range small enough for the
    /// cache — is counting-sorted by key and each group sorted by time, buckets in
    /// parallel, each writing straight into its own part of the index.
    pub fn build(table: &Table, key_field: u16, time_field: Option<u16>) -> ExistsIndex {
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 16;
        let n = table.len();
        let n_chunks = n.div_ceil(CHUNK);
        let read = |field: u16, c: usize, out: &mut Vec<i64>| {
            let rows = Rows::Range { start: c * CHUNK, len: CHUNK.min(n - c * CHUNK) };
            out.resize(rows.len(), 0);
            read_field(table, field, rows, out);
        };
        let n_keys = (0..n_chunks)
            .into_par_iter()
            .map_init(Vec::new, |keys, c| {
                read(key_field, c, keys);
                keys.iter().filter(|&&k| k != NULL && k >= 0).max().map_or(0, |&k| k as usize + 1)
            })
            .max()
            .unwrap_or(0);
        let bits = usize::BITS - n_keys.leading_zeros();
        let shift = bits.saturating_sub(8);
        let n_buckets = if n_keys == 0 { 0 } else { ((n_keys - 1) >> shift) + 1 };
        // (row, key within its bucket, time) per bucket per chunk, in row order: later passes
        // read them sequentially instead of looking keys and times up by row.
        let staged: Vec<Vec<Vec<(u32, u32, i64)>>> = (0..n_chunks)
            .into_par_iter()
            .map_init(
                || (Vec::new(), Vec::new()),
                |(keys, times), c| {
                    read(key_field, c, keys);
                    match time_field {
                        Some(f) => read(f, c, times),
                        None => times.resize(keys.len(), 0),
                    }
                    // Counted first, so that each bucket's list is allocated once.
                    let mut sizes = vec![0usize; n_buckets];
                    for (&k, &t) in keys.iter().zip(times.iter()) {
                        if k != NULL && k >= 0 && t != NULL {
                            sizes[k as usize >> shift] += 1;
                        }
                    }
                    let mut local: Vec<Vec<(u32, u32, i64)>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
                    for (i, (&k, &t)) in keys.iter().zip(times.iter()).enumerate() {
                        if k != NULL && k >= 0 && t != NULL {
                            let k = k as usize;
                            local[k >> shift].push(((c * CHUNK + i) as u32, (k & ((1 << shift) - 1)) as u32, t));
                        }
                    }
                    local
                },
            )
            .collect();
        // Each bucket's place in the index, and the index cut into those places.
        let sizes: Vec<usize> = (0..n_buckets).map(|b| staged.iter().map(|chunk| chunk[b].len()).sum()).collect();
        let total: usize = sizes.iter().sum();
        let mut rows = vec![0u32; total];
        let mut sorted_times = vec![0i64; total];
        let mut offsets = vec![0u32; n_keys + 1];
        let mut parts = Vec::with_capacity(n_buckets);
        let (mut rows_left, mut times_left, mut offsets_left) =
            (&mut rows[..], &mut sorted_times[..], &mut offsets[..]);
        let mut base = 0u32;
        for (b, &size) in sizes.iter().enumerate() {
            let n_local = (1usize << shift).min(n_keys - (b << shift));
            let (r, rest) = std::mem::take(&mut rows_left).split_at_mut(size);
            let (t, rest_t) = std::mem::take(&mut times_left).split_at_mut(size);
            let (o, rest_o) = std::mem::take(&mut offsets_left).split_at_mut(n_local);
            (rows_left, times_left, offsets_left) = (rest, rest_t, rest_o);
            parts.push((b, base, r, t, o));
            base += size as u32;
        }
        offsets_left[0] = total as u32;
        parts.into_par_iter().for_each_init(Vec::new, |sorted, (b, base, rows, times, offsets)| {
            // Counting sort by key, then each group by (time, row).
            let n_local = offsets.len();
            let mut fill = vec![0u32; n_local + 1];
            for chunk in &staged {
                for &(_, k, _) in &chunk[b] {
                    fill[k as usize + 1] += 1;
                }
            }
            for k in 0..n_local {
                fill[k + 1] += fill[k];
            }
            for (o, &f) in offsets.iter_mut().zip(&fill) {
                *o = base + f;
            }
            sorted.clear();
            sorted.resize(rows.len(), (0i64, 0u32));
            for chunk in &staged {
                for &(r, k, t) in &chunk[b] {
                    sorted[fill[k as usize] as usize] = (t, r);
                    fill[k as usize] += 1;
                }
            }
            for k in 0..n_local {
                let group = &mut sorted[(offsets[k] - base) as usize..fill[k] as usize];
                if group.len() > 1 {
                    group.sort_unstable();
                }
            }
            for ((row, time), &(t, r)) in rows.iter_mut().zip(times.iter_mut()).zip(sorted.iter()) {
                (*row, *time) = (r, t);
            }
        });
        ExistsIndex { offsets, rows, times: sorted_times }
    }

    fn group(&self, key: i64) -> std::ops::Range<usize> {
        if key < 0 || key as usize + 1 >= self.offsets.len() {
            return 0..0;
        }
        self.offsets[key as usize] as usize..self.offsets[key as usize + 1] as usize
    }
}

/// Answers `exists` entry `index` of `prog` for every row of its table, in parallel: the
/// probe runs once and its answer can be kept for as long as the data does not change.
pub fn exists_flags(prog: &Program, env: &Env, index: usize) -> Vec<u8> {
    use rayon::prelude::*;
    let node =
        prog.nodes.iter().position(|n| *n == Node::Exists(index as u32)).expect("the program has the exists node");
    let n = env.data.table(prog.source).len();
    // Only the nodes the `exists` reads (its key and window), not all that come before it.
    let plan = &prog.exists[index];
    let mut needed = vec![false; node + 1];
    let mut stack: Vec<NodeId> =
        [Some(plan.key_outer), plan.lower.map(|b| b.0), plan.upper.map(|b| b.0)].into_iter().flatten().collect();
    stack.push(node as NodeId);
    while let Some(id) = stack.pop() {
        if !std::mem::replace(&mut needed[id as usize], true) {
            stack.extend(prog.nodes[id as usize].inputs());
        }
    }
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

/// A stable description of a node and everything under it: two programs that compile the
/// same `exists` give the same text (used as the cache key of its answers).
pub fn describe(prog: &Program, id: NodeId, residual: bool) -> String {
    let nodes = if residual { &prog.residual } else { &prog.nodes };
    let d = |id: NodeId| describe(prog, id, residual);
    match &nodes[id as usize] {
        Node::Const(v) => format!("{v}"),
        Node::Field { side, field } => format!("{side:?}.{field}"),
        Node::Deref { row, source, field } => format!("({}→{}.{field})", d(*row), source.name()),
        Node::Scale { a, mul, div } => format!("({}*{mul}/{div})", d(*a)),
        Node::Neg(a) => format!("-{}", d(*a)),
        Node::Abs(a) => format!("abs({})", d(*a)),
        Node::Arith { op, a, b } | Node::Cmp { op, a, b } => format!("({} {} {})", d(*a), op.symbol(), d(*b)),
        Node::DecimalMul { a, b } => format!("({} d* {})", d(*a), d(*b)),
        Node::DecimalDiv { a, b } => format!("({} d/ {})", d(*a), d(*b)),
        Node::And(a, b) => format!("({} and {})", d(*a), d(*b)),
        Node::Or(a, b) => format!("({} or {})", d(*a), d(*b)),
        Node::Not(a) => format!("not {}", d(*a)),
        Node::IsNull(a) => format!("{} is null", d(*a)),
        Node::InSet { a, set } => format!("{} in {set:?}", d(*a)),
        Node::Coalesce(items) => format!("coalesce({})", items.iter().map(|&i| d(i)).collect::<Vec<_>>().join(",")),
        Node::Case { arms, otherwise } => format!(
            "case({};{})",
            arms.iter().map(|&(c, v)| format!("{}=>{}", d(c), d(v))).collect::<Vec<_>>().join(";"),
            d(*otherwise)
        ),
        Node::Business { from, to, owner } => format!("business({},{},{})", d(*from), d(*to), d(*owner)),
        Node::Exists(i) => {
            let p = &prog.exists[*i as usize];
            let bound = |b: Option<(NodeId, bool)>| {
                b.map_or("-".to_string(), |(id, inc)| format!("{}{}", d(id), if inc { "=" } else { "" }))
            };
            format!(
                "exists({} {}.{}={} t{:?} ({},{}) {})",
                prog.source.name(),
                p.inner.name(),
                p.key_field,
                d(p.key_outer),
                p.time_field,
                bound(p.lower),
                bound(p.upper),
                p.residual.map_or("-".to_string(), |r| describe(prog, r, true))
            )
        }
    }
}

/// Per-node value buffers, reused from batch to batch.
#[derive(Default)]
pub struct Evaluator {
    bufs: Vec<Vec<i64>>,
}

impl Evaluator {
    pub fn values(&self, id: NodeId) -> &[i64] {
        &self.bufs[id as usize]
    }

    /// Evaluates every node of `prog` for `rows`.
    pub fn run(&mut self, prog: &Program, env: &Env, rows: Rows) {
        self.run_until(prog, env, rows, prog.nodes.len());
    }

    /// Evaluates the first `end` nodes (children come before parents, so node `end - 1`
    /// and everything it depends on are ready).
    pub fn run_until(&mut self, prog: &Program, env: &Env, rows: Rows, end: usize) {
        self.run_where(prog, env, rows, end, |_| true);
    }

    /// Evaluates the nodes `id` with `needed[id]` (each one's inputs must be among them).
    pub fn run_nodes(&mut self, prog: &Program, env: &Env, rows: Rows, needed: &[bool]) {
        self.run_where(prog, env, rows, needed.len(), |id| needed[id]);
    }

    fn run_where(&mut self, prog: &Program, env: &Env, rows: Rows, end: usize, wanted: impl Fn(usize) -> bool) {
        let n = rows.len();
        self.bufs.resize_with(prog.nodes.len(), Vec::new);
        let table = env.data.table(prog.source);
        for (id, node) in prog.nodes.iter().enumerate().take(end) {
            if !wanted(id) {
                continue;
            }
            let mut out = std::mem::take(&mut self.bufs[id]);
            // Every node writes all `n` values: no need to clear.
            if out.len() != n {
                out.resize(n, 0);
            }
            self.eval_node(prog, env, table, rows, node, &mut out);
            self.bufs[id] = out;
        }
    }

    fn eval_node(&self, prog: &Program, env: &Env, table: &Table, rows: Rows, node: &Node, out: &mut [i64]) {
        let b = |id: NodeId| &self.bufs[id as usize][..];
        match node {
            Node::Const(v) => out.fill(*v),
            Node::Field { field, .. } => read_field(table, *field, rows, out),
            Node::Deref { row, source, field } => {
                let target = env.data.table(*source);
                for (o, &r) in out.iter_mut().zip(b(*row)) {
                    *o = if r == NULL { NULL } else { target.int(*field as usize, r as usize) };
                }
            }
            Node::Scale { a, mul, div } => map1(b(*a), out, |x| scale(x, *mul, *div)),
            Node::Neg(a) => map1(b(*a), out, |x| x.wrapping_neg()),
            Node::Abs(a) => map1(b(*a), out, i64::abs),
            // The operator is matched once per batch, not per value.
            Node::Arith { op, a, b: y } => {
                let (a, y) = (b(*a), b(*y));
                match op {
                    BinaryOp::Add => map2(a, y, out, |x, y| arith(BinaryOp::Add, x, y)),
                    BinaryOp::Sub => map2(a, y, out, |x, y| arith(BinaryOp::Sub, x, y)),
                    BinaryOp::Mul => map2(a, y, out, |x, y| arith(BinaryOp::Mul, x, y)),
                    op => map2(a, y, out, |x, y| arith(*op, x, y)),
                }
            }
            Node::DecimalMul { a, b: y } => map2(b(*a), b(*y), out, decimal_mul),
            Node::DecimalDiv { a, b: y } => map2(b(*a), b(*y), out, decimal_div),
            Node::Cmp { op, a, b: y } => {
                let (a, y) = (b(*a), b(*y));
                match op {
                    BinaryOp::Eq => map2(a, y, out, |x, y| compare(BinaryOp::Eq, x, y) as i64),
                    BinaryOp::Ne => map2(a, y, out, |x, y| compare(BinaryOp::Ne, x, y) as i64),
                    BinaryOp::Lt => map2(a, y, out, |x, y| compare(BinaryOp::Lt, x, y) as i64),
                    BinaryOp::Le => map2(a, y, out, |x, y| compare(BinaryOp::Le, x, y) as i64),
                    BinaryOp::Gt => map2(a, y, out, |x, y| compare(BinaryOp::Gt, x, y) as i64),
                    BinaryOp::Ge => map2(a, y, out, |x, y| compare(BinaryOp::Ge, x, y) as i64),
                    op => map2(a, y, out, |x, y| compare(*op, x, y) as i64),
                }
            }
            Node::And(a, y) => {
                for ((o, &x), &y) in out.iter_mut().zip(b(*a)).zip(b(*y)) {
                    *o = (x == 1 && y == 1) as i64;
                }
            }
            Node::Or(a, y) => {
                for ((o, &x), &y) in out.iter_mut().zip(b(*a)).zip(b(*y)) {
                    *o = (x == 1 || y == 1) as i64;
                }
            }
            Node::Not(a) => {
                // Null counts as false, so `not null` is true.
                for (o, &x) in out.iter_mut().zip(b(*a)) {
                    *o = (x != 1) as i64;
                }
            }
            Node::IsNull(a) => {
                for (o, &x) in out.iter_mut().zip(b(*a)) {
                    *o = (x == NULL) as i64;
                }
            }
            Node::InSet { a, set } => {
                for (o, &x) in out.iter_mut().zip(b(*a)) {
                    *o = (x != NULL && set.binary_search(&x).is_ok()) as i64;
                }
            }
            Node::Coalesce(items) => {
                out.fill(NULL);
                for &item in items {
                    for (o, &x) in out.iter_mut().zip(b(item)) {
                        if *o == NULL {
                            *o = x;
                        }
                    }
                }
            }
            Node::Case { arms, otherwise } => {
                out.copy_from_slice(b(*otherwise));
                for &(cond, value) in arms.iter().rev() {
                    for ((o, &c), &v) in out.iter_mut().zip(b(cond)).zip(b(value)) {
                        if c == 1 {
                            *o = v;
                        }
                    }
                }
            }
            Node::Business { from, to, owner } => {
                for (i, o) in out.iter_mut().enumerate() {
                    let (f, t, p) = (b(*from)[i], b(*to)[i], b(*owner)[i]);
                    *o = if f == NULL || t == NULL {
                        NULL
                    } else {
                        let team = if p == NULL { None } else { env.org.team_at(p as usize, f) };
                        env.clocks.for_team(team).business_seconds(f, t)
                    };
                }
            }
            Node::Exists(index) if env.flags.get(*index as usize).is_some_and(Option::is_some) => {
                let flags = env.flags[*index as usize].as_ref().expect("checked");
                for (i, o) in out.iter_mut().enumerate() {
                    *o = flags[rows.row(i)] as i64;
                }
            }
            Node::Exists(index) => {
                let plan = &prog.exists[*index as usize];
                let idx = &env.indexes[*index as usize];
                let inner = env.data.table(plan.inner);
                let keys = b(plan.key_outer);
                let lower = plan.lower.map(|(id, inclusive)| (b(id), inclusive));
                let upper = plan.upper.map(|(id, inclusive)| (b(id), inclusive));
                // In two sweeps: first every row's group (independent loads the processor
                // overlaps), then the probes.
                let groups: Vec<std::ops::Range<usize>> = keys.iter().map(|&k| idx.group(k)).collect();
                for (i, o) in out.iter_mut().enumerate() {
                    *o = probe(
                        prog,
                        env,
                        plan,
                        idx,
                        inner,
                        table,
                        rows.row(i),
                        groups[i].clone(),
                        lower.map(|(v, inc)| (v[i], inc)),
                        upper.map(|(v, inc)| (v[i], inc)),
                    ) as i64;
                }
            }
        }
    }
}

fn read_field(table: &Table, field: u16, rows: Rows, out: &mut [i64]) {
    use crate::data::Column;
    match (&table.columns[field as usize], rows) {
        (Column::Int(c) | Column::Coded { codes: c, .. }, Rows::Range { start, .. }) => c.read_range(start, out),
        (Column::Int(c) | Column::Coded { codes: c, .. }, Rows::List(list)) => c.read_rows(list, out),
        (Column::Id(_), rows) => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = rows.row(i) as i64;
            }
        }
        (Column::Text(t), rows) => {
            for (i, o) in out.iter_mut().enumerate() {
                // Text is only ever tested for null: any non-null marker will do.
                *o = if t.get(rows.row(i)).is_some() { 1 } else { NULL };
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn probe(
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
    let times = &idx.times[group.clone()];
    let start = match lower {
        Some((lo, true)) => times.partition_point(|&t| t < lo),
        Some((lo, false)) => times.partition_point(|&t| t <= lo),
        None => 0,
    };
    for j in start..times.len() {
        let t = times[j];
        match upper {
            Some((hi, true)) if t > hi => break,
            Some((hi, false)) if t >= hi => break,
            _ => {}
        }
        let inner_row = idx.rows[group.start + j] as usize;
        let ok = match plan.residual {
            None => true,
            Some(id) => eval_residual(prog, env, inner, outer, id, inner_row, outer_row) == 1,
        };
        if ok {
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

#[inline]
fn map1(a: &[i64], out: &mut [i64], f: impl Fn(i64) -> i64) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = if x == NULL { NULL } else { f(x) };
    }
}

#[inline]
fn map2(a: &[i64], b: &[i64], out: &mut [i64], f: impl Fn(i64, i64) -> i64) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

#[inline]
fn scale(x: i64, mul: i64, div: i64) -> i64 {
    if x == NULL {
        return NULL;
    }
    // In 64 bits when the product fits (the usual case); the same truncating division.
    match x.checked_mul(mul) {
        Some(p) if div == 1 => p,
        Some(p) => p / div,
        None => (x as i128 * mul as i128 / div as i128) as i64,
    }
}

#[inline]
pub fn arith(op: BinaryOp, x: i64, y: i64) -> i64 {
    if x == NULL || y == NULL {
        return NULL;
    }
    match op {
        BinaryOp::Add => x.saturating_add(y),
        BinaryOp::Sub => x.saturating_sub(y),
        BinaryOp::Mul => x.saturating_mul(y),
        BinaryOp::Div => {
            if y == 0 {
                NULL
            } else {
                x / y
            }
        }
        _ => NULL,
    }
}

#[inline]
fn decimal_mul(x: i64, y: i64) -> i64 {
    if x == NULL || y == NULL { NULL } else { (x as i128 * y as i128 / MICROS as i128) as i64 }
}

#[inline]
fn decimal_div(x: i64, y: i64) -> i64 {
    if x == NULL || y == NULL || y == 0 { NULL } else { (x as i128 * MICROS as i128 / y as i128) as i64 }
}

#[inline]
pub fn compare(op: BinaryOp, x: i64, y: i64) -> bool {
    if x == NULL || y == NULL {
        return false;
    }
    match op {
        BinaryOp::Eq => x == y,
        BinaryOp::Ne => x != y,
        BinaryOp::Lt => x < y,
        BinaryOp::Le => x <= y,
        BinaryOp::Gt => x > y,
        BinaryOp::Ge => x >= y,
        _ => false,
    }
}
