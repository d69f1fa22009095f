//! The compiled form of expressions: a typed arena of nodes (children before parents,
//! common subexpressions shared) that the evaluator runs column-at-a-time over batches.

use std::collections::HashMap;

use super::ast::BinaryOp;
use crate::schema::{KeySpace, Source};

pub type NodeId = u32;

/// The type of a value. All values are `i64` at run time, `NULL` meaning null.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Int,
    /// Millionths.
    Decimal,
    /// Seconds.
    Duration,
    /// Seconds since the Unix epoch.
    Instant,
    /// A code into the dictionary of `source.field`.
    Code(Source, u16),
    /// A row index of `source` (an id or a reference).
    Row(Source),
    Key(KeySpace),
    /// Free text: only `is null` applies.
    Text,
    /// The `null` literal before it meets a typed value.
    Null,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Bool => "boolean",
            Ty::Int => "integer",
            Ty::Decimal => "decimal",
            Ty::Duration => "duration",
            Ty::Instant => "time",
            Ty::Code(..) => "label",
            Ty::Row(_) => "record reference",
            Ty::Key(_) => "key",
            Ty::Text => "text",
            Ty::Null => "null",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Decimal)
    }
}

/// Which record a field is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The record being evaluated (inside `exists`: the other record).
    Row,
    /// Inside `exists`: the record the metric is about (`this.`).
    Outer,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    Const(i64),
    Field {
        side: Side,
        field: u16,
    },
    /// Field `field` of the `source` row whose index `row` holds.
    Deref {
        row: NodeId,
        source: Source,
        field: u16,
    },
    /// `a * mul / div`, null-preserving (type conversions, decimal arithmetic).
    Scale {
        a: NodeId,
        mul: i64,
        div: i64,
    },
    Neg(NodeId),
    Arith {
        op: BinaryOp,
        a: NodeId,
        b: NodeId,
    },
    /// Multiplication of two decimals (`a * b / 10^6`) or division into a decimal (`a * 10^6 / b`).
    DecimalMul {
        a: NodeId,
        b: NodeId,
    },
    DecimalDiv {
        a: NodeId,
        b: NodeId,
    },
    /// Comparison; false when either side is null.
    Cmp {
        op: BinaryOp,
        a: NodeId,
        b: NodeId,
    },
    /// Null counts as false; the result is 0 or 1.
    And(NodeId, NodeId),
    Or(NodeId, NodeId),
    Not(NodeId),
    IsNull(NodeId),
    /// Membership in a sorted set; false for null.
    InSet {
        a: NodeId,
        set: Vec<i64>,
    },
    Coalesce(Vec<NodeId>),
    Case {
        arms: Vec<(NodeId, NodeId)>,
        otherwise: NodeId,
    },
    Abs(NodeId),
    /// Working seconds from `from` to `to` in the calendar of the team that the person in
    /// `owner` belonged to at `from` (the organisation calendar when there is none).
    Business {
        from: NodeId,
        to: NodeId,
        owner: NodeId,
    },
    /// Index into [`Program::exists`].
    Exists(u32),
}

impl Node {
    /// The nodes this one reads (for an `exists`, see [`Program::exists_inputs`]).
    pub fn inputs(&self) -> Vec<NodeId> {
        match self {
            Node::Const(_) | Node::Field { .. } | Node::Exists(_) => Vec::new(),
            Node::Deref { row: a, .. } | Node::Scale { a, .. } | Node::Neg(a) | Node::Not(a) | Node::IsNull(a) => {
                vec![*a]
            }
            Node::Abs(a) | Node::InSet { a, .. } => vec![*a],
            Node::Arith { a, b, .. }
            | Node::DecimalMul { a, b }
            | Node::DecimalDiv { a, b }
            | Node::Cmp { a, b, .. }
            | Node::And(a, b)
            | Node::Or(a, b) => vec![*a, *b],
            Node::Coalesce(items) => items.clone(),
            Node::Case { arms, otherwise } => {
                arms.iter().flat_map(|&(c, v)| [c, v]).chain(std::iter::once(*otherwise)).collect()
            }
            Node::Business { from, to, owner } => vec![*from, *to, *owner],
        }
    }
}

/// `exists(inner where key = this.key and inner.time in (lower, upper] and residual)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExistsPlan {
    pub inner: Source,
    /// The inner field joined on (an Int-like column or the inner table's id).
    pub key_field: u16,
    /// The outer value it must equal (a node of the outer program).
    pub key_outer: NodeId,
    /// The inner instant field the window applies to.
    pub time_field: Option<u16>,
    /// Outer nodes giving the window's bounds, with inclusiveness.
    pub lower: Option<(NodeId, bool)>,
    pub upper: Option<(NodeId, bool)>,
    /// A predicate over both records, evaluated for each candidate, in [`Program::residual`].
    pub residual: Option<NodeId>,
}

/// An arena of nodes over one source table.
#[derive(Clone, Debug)]
pub struct Program {
    pub source: Source,
    pub nodes: Vec<Node>,
    pub types: Vec<Ty>,
    pub exists: Vec<ExistsPlan>,
    /// Nodes of `exists` residual predicates (evaluated per candidate pair, not vectorised).
    pub residual: Vec<Node>,
    pub residual_types: Vec<Ty>,
    dedup: HashMap<Node, NodeId>,
    residual_dedup: HashMap<Node, NodeId>,
}

impl Program {
    /// The nodes `roots` depend on, themselves included, as one flag per node. An
    /// `exists` entry `i` with `probed(i)` is answered by probing, which reads its key and
    /// window nodes: those count as its inputs; otherwise its answers are known and it
    /// reads nothing.
    pub fn reachable(&self, roots: impl IntoIterator<Item = NodeId>, probed: impl Fn(usize) -> bool) -> Vec<bool> {
        let mut stack: Vec<NodeId> = roots.into_iter().collect();
        let mut needed = vec![false; self.nodes.len()];
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut needed[id as usize], true) {
                continue;
            }
            let node = &self.nodes[id as usize];
            if let Node::Exists(i) = node
                && probed(*i as usize)
            {
                let plan = &self.exists[*i as usize];
                stack.extend(
                    [Some(plan.key_outer), plan.lower.map(|b| b.0), plan.upper.map(|b| b.0)].into_iter().flatten(),
                );
            }
            stack.extend(node.inputs());
        }
        needed
    }

    pub fn new(source: Source) -> Program {
        Program {
            source,
            nodes: Vec::new(),
            types: Vec::new(),
            exists: Vec::new(),
            residual: Vec::new(),
            residual_types: Vec::new(),
            dedup: HashMap::new(),
            residual_dedup: HashMap::new(),
        }
    }

    /// Adds a node (or returns the identical one already there).
    pub fn add(&mut self, node: Node, ty: Ty) -> NodeId {
        if let Some(&id) = self.dedup.get(&node) {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(node.clone());
        self.types.push(ty);
        self.dedup.insert(node, id);
        id
    }

    pub fn add_residual(&mut self, node: Node, ty: Ty) -> NodeId {
        if let Some(&id) = self.residual_dedup.get(&node) {
            return id;
        }
        let id = self.residual.len() as NodeId;
        self.residual.push(node.clone());
        self.residual_types.push(ty);
        self.residual_dedup.insert(node, id);
        id
    }

    pub fn ty(&self, id: NodeId) -> Ty {
        self.types[id as usize]
    }

    /// Whether `id` or anything under it is a `Business` node (needs calendars).
    pub fn uses_business(&self) -> bool {
        self.nodes.iter().any(|n| matches!(n, Node::Business { .. }))
    }
}
