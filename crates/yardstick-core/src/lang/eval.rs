//! Runs a [`Program`] column-at-a-time over a batch of rows: one tight loop per node, no
//! per-row allocation. `exists` probes a per-key, time-sorted index (`exists_index/`).

use std::sync::Arc;

use super::ast::BinaryOp;
use super::compile::MICROS;
use super::exists_index::Pair;
pub use super::exists_index::{ExistsIndex, exists_flags, exists_flags_of_rows, is_self_join, needs_index};
use super::program::{Node, NodeId, Program};
use crate::calendar::BusinessClock;
use crate::data::{Column, Dataset, NULL, Org, Table};

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
    /// `Some(v)` when the node's buffer holds only `v` (a constant filled by an earlier
    /// batch of the same length): it is not filled again.
    constant: Vec<Option<i64>>,
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
        self.constant.resize(prog.nodes.len(), None);
        let table = env.data.table(prog.source);
        for (id, node) in prog.nodes.iter().enumerate().take(end) {
            if !wanted(id) {
                continue;
            }
            let constant = match node {
                Node::Const(v) => Some(*v),
                _ => None,
            };
            if constant.is_some() && self.constant[id] == constant && self.bufs[id].len() == n {
                continue;
            }
            self.constant[id] = constant;
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
                match &target.columns[*field as usize] {
                    Column::Int(c) | Column::Coded { codes: c, .. } => c.read_refs(b(*row), out),
                    _ => {
                        for (o, &r) in out.iter_mut().zip(b(*row)) {
                            *o = if r == NULL { NULL } else { target.int(*field as usize, r as usize) };
                        }
                    }
                }
            }
            // A conversion between equal units (`seconds(handle_seconds)`) is a copy.
            Node::Scale { a, mul, div } if mul == div => out.copy_from_slice(b(*a)),
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
                let pair = Pair::new(prog, env, plan, inner, table);
                for (i, o) in out.iter_mut().enumerate() {
                    let window = (lower.map(|(v, inc)| (v[i], inc)), upper.map(|(v, inc)| (v[i], inc)));
                    *o = pair.probe(idx, rows.row(i), groups[i].clone(), window) as i64;
                }
            }
        }
    }
}

pub(super) fn read_field(table: &Table, field: u16, rows: Rows, out: &mut [i64]) {
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
pub(super) fn scale(x: i64, mul: i64, div: i64) -> i64 {
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
pub(super) fn decimal_mul(x: i64, y: i64) -> i64 {
    if x == NULL || y == NULL { NULL } else { (x as i128 * y as i128 / MICROS as i128) as i64 }
}

#[inline]
pub(super) fn decimal_div(x: i64, y: i64) -> i64 {
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
