//! Type-checks an expression against the schema and the data's dictionaries and adds it to
//! a [`Program`]. Errors carry the span of the offending piece and say what was expected.

use std::collections::HashMap;

mod exists;

use super::ast::{BinaryOp, Expr, InSet, Literal, Span};
use super::program::{Node, NodeId, Program, Side, Ty};
use crate::data::Dataset;
use crate::schema::{FieldType, Source};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub span: Span,
    pub message: String,
}

fn err<T>(span: Span, message: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError { span, message: message.into() })
}

/// What expressions can see besides the record: organisation settings (`$name`).
#[derive(Clone, Debug, Default)]
pub struct Params {
    pub lists: HashMap<String, Vec<String>>,
}

/// How an expression is compiled.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Measure `time - time` in business time (the `…b…` variants of time metrics).
    pub business: bool,
    /// The person field whose team's calendar business time uses.
    pub owner_field: Option<u16>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Vectorised over the program's table; `this.` is not allowed.
    Normal,
    /// Inside `exists`, the parts evaluated over the outer table: only `this.` fields.
    OuterOnly,
    /// Inside `exists`, the residual predicate: fields of `inner`, and `this.` of the outer.
    Residual { inner: Source },
}

pub struct Compiler<'a> {
    pub data: &'a Dataset,
    pub params: &'a Params,
    pub options: Options,
}

/// Millionths in one unit.
pub const MICROS: i64 = 1_000_000;

impl Compiler<'_> {
    /// Compiles `expr` over `prog.source` and returns its node and type.
    pub fn compile(&self, prog: &mut Program, expr: &Expr) -> Result<(NodeId, Ty), CompileError> {
        self.node(prog, expr, Mode::Normal)
    }

    /// Compiles a predicate (boolean result).
    pub fn compile_predicate(&self, prog: &mut Program, expr: &Expr) -> Result<NodeId, CompileError> {
        let (id, ty) = self.compile(prog, expr)?;
        if ty != Ty::Bool {
            return err(expr.span(), format!("expected a condition (true/false), found a {}", ty.name()));
        }
        Ok(id)
    }

    fn add(&self, prog: &mut Program, mode: Mode, node: Node, ty: Ty) -> (NodeId, Ty) {
        match mode {
            Mode::Residual { .. } => (prog.add_residual(node, ty), ty),
            _ => (prog.add(node, ty), ty),
        }
    }

    fn ty_of(&self, prog: &Program, mode: Mode, id: NodeId) -> Ty {
        match mode {
            Mode::Residual { .. } => prog.residual_types[id as usize],
            _ => prog.ty(id),
        }
    }

    fn table_of(&self, prog: &Program, mode: Mode, side: Side) -> Source {
        match (mode, side) {
            (Mode::Residual { inner }, Side::Row) => inner,
            _ => prog.source,
        }
    }

    fn node(&self, prog: &mut Program, expr: &Expr, mode: Mode) -> Result<(NodeId, Ty), CompileError> {
        match expr {
            Expr::Literal(lit, span) => {
                let (v, ty) = match lit {
                    Literal::Null => (crate::data::NULL, Ty::Null),
                    Literal::Bool(b) => (*b as i64, Ty::Bool),
                    Literal::Int(i) => (*i, Ty::Int),
                    Literal::Decimal(m) => (*m, Ty::Decimal),
                    Literal::Duration(s) => (*s, Ty::Duration),
                    Literal::Text(t) => {
                        return err(
                            *span,
                            format!("the text '{t}' can only be compared with a label field (channel = 'chat')"),
                        );
                    }
                };
                Ok(self.add(prog, mode, Node::Const(v), ty))
            }
            Expr::Path(path, span) => self.path(prog, path, *span, mode),
            Expr::Param(name, span) => err(*span, format!("${name} is a list; use it as `field in ${name}`")),
            Expr::Neg(inner, span) => {
                let (a, ty) = self.node(prog, inner, mode)?;
                if !matches!(ty, Ty::Int | Ty::Decimal | Ty::Duration) {
                    return err(*span, format!("cannot negate a {}", ty.name()));
                }
                Ok(self.add(prog, mode, Node::Neg(a), ty))
            }
            Expr::Not(inner, span) => {
                let (a, ty) = self.node(prog, inner, mode)?;
                if ty != Ty::Bool {
                    return err(*span, format!("`not` needs a condition, found a {}", ty.name()));
                }
                Ok(self.add(prog, mode, Node::Not(a), Ty::Bool))
            }
            Expr::Binary(op, a, b, span) => self.binary(prog, *op, a, b, *span, mode),
            Expr::IsNull { expr, negated, .. } => {
                let (a, _) = self.node(prog, expr, mode)?;
                let (n, _) = self.add(prog, mode, Node::IsNull(a), Ty::Bool);
                Ok(if *negated { self.add(prog, mode, Node::Not(n), Ty::Bool) } else { (n, Ty::Bool) })
            }
            Expr::In { expr, set, negated, span } => {
                let (a, ty) = self.node(prog, expr, mode)?;
                let mut values = Vec::new();
                match set {
                    InSet::Param(name, pspan) => {
                        let Some(list) = self.params.lists.get(name) else {
                            return err(*pspan, format!("unknown setting ${name}; known: {}", self.known_params()));
                        };
                        for label in list {
                            values.push(self.label_code(prog, ty, label, *pspan)?);
                        }
                    }
                    InSet::List(items) => {
                        for item in items {
                            values.push(self.constant_of(prog, ty, item)?);
                        }
                    }
                }
                if matches!(ty, Ty::Text | Ty::Bool) {
                    return err(*span, format!("`in` does not apply to a {}", ty.name()));
                }
                values.sort_unstable();
                values.dedup();
                let (n, _) = self.add(prog, mode, Node::InSet { a, set: values }, Ty::Bool);
                Ok(if *negated { self.add(prog, mode, Node::Not(n), Ty::Bool) } else { (n, Ty::Bool) })
            }
            Expr::Call(name, args, span) => self.call(prog, name, args, *span, mode),
            Expr::Case { arms, otherwise, span } => {
                let mut compiled = Vec::new();
                let mut ty = Ty::Null;
                for (cond, value) in arms {
                    let (c, cty) = self.node(prog, cond, mode)?;
                    if cty != Ty::Bool {
                        return err(cond.span(), "`when` needs a condition");
                    }
                    let (v, vty) = self.node(prog, value, mode)?;
                    ty = unify(ty, vty).ok_or_else(|| CompileError {
                        span: value.span(),
                        message: format!("`case` arms mix {} and {}", ty.name(), vty.name()),
                    })?;
                    compiled.push((c, v));
                }
                let (otherwise_id, oty) = match otherwise {
                    Some(e) => self.node(prog, e, mode)?,
                    None => self.add(prog, mode, Node::Const(crate::data::NULL), Ty::Null),
                };
                ty = unify(ty, oty)
                    .ok_or_else(|| CompileError { span: *span, message: "`case` arms have different types".into() })?;
                // Bring integer arms to decimal when the case is decimal.
                let mut arms = Vec::new();
                for (c, v) in compiled {
                    arms.push((c, self.convert(prog, mode, v, ty)));
                }
                let otherwise = self.convert(prog, mode, otherwise_id, ty);
                Ok(self.add(prog, mode, Node::Case { arms, otherwise }, ty))
            }
            Expr::Exists { source, predicate, span } => {
                if mode != Mode::Normal {
                    return err(*span, "`exists` cannot be nested");
                }
                self.exists(prog, source, predicate, *span)
            }
        }
    }

    fn known_params(&self) -> String {
        let mut names: Vec<String> = self.params.lists.keys().map(|k| format!("${k}")).collect();
        names.sort();
        names.join(", ")
    }

    /// Converts an Int node to Decimal when `target` is Decimal.
    fn convert(&self, prog: &mut Program, mode: Mode, id: NodeId, target: Ty) -> NodeId {
        let from = self.ty_of(prog, mode, id);
        if from == Ty::Int && target == Ty::Decimal {
            self.add(prog, mode, Node::Scale { a: id, mul: MICROS, div: 1 }, Ty::Decimal).0
        } else {
            id
        }
    }

    fn path(&self, prog: &mut Program, path: &[String], span: Span, mode: Mode) -> Result<(NodeId, Ty), CompileError> {
        let (side, rest) = match path.first().map(String::as_str) {
            Some("this") => match mode {
                Mode::Normal => return err(span, "`this.` is only meaningful inside exists(…)"),
                Mode::OuterOnly => (Side::Row, &path[1..]),
                Mode::Residual { .. } => (Side::Outer, &path[1..]),
            },
            _ => {
                if mode == Mode::OuterOnly {
                    return err(span, "internal: outer-only expression uses the other record");
                }
                (Side::Row, path)
            }
        };
        if rest.is_empty() {
            return err(span, "expected a field after `this.`");
        }
        let mut source = self.table_of(prog, mode, side);
        let mut current: Option<NodeId> = None;
        for (i, name) in rest.iter().enumerate() {
            let def = source.def();
            let last = i + 1 == rest.len();
            let field_name = if last { name.clone() } else { format!("{name}_id") };
            let Some(field_def) = def.field(&field_name) else {
                let fields: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
                let meant = match crate::diag::closest(name, fields.iter().copied()) {
                    Some(meant) => format!(" (did you mean `{meant}`?)"),
                    None => String::new(),
                };
                return err(
                    span,
                    format!("`{name}` is not a field of {}{meant}; fields: {}", def.name, fields.join(", ")),
                );
            };
            let field = def.field_index(field_def.name).expect("field") as u16;
            let ty = field_type(source, field, field_def.ty);
            let node = match current {
                None => Node::Field { side, field },
                Some(row) => Node::Deref { row, source, field },
            };
            let (id, _) = self.add(prog, mode, node, ty);
            if last {
                return Ok((id, ty));
            }
            let FieldType::Ref(target) = field_def.ty else {
                return err(span, format!("`{name}` is not a reference to another record; it has no fields"));
            };
            current = Some(id);
            source = target;
        }
        unreachable!("the loop returns at the last segment")
    }

    fn binary(
        &self,
        prog: &mut Program,
        op: BinaryOp,
        a: &Expr,
        b: &Expr,
        span: Span,
        mode: Mode,
    ) -> Result<(NodeId, Ty), CompileError> {
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            let (x, tx) = self.node(prog, a, mode)?;
            let (y, ty) = self.node(prog, b, mode)?;
            if tx != Ty::Bool || ty != Ty::Bool {
                return err(span, format!("`{}` joins conditions", op.symbol()));
            }
            let node = if op == BinaryOp::And { Node::And(x, y) } else { Node::Or(x, y) };
            return Ok(self.add(prog, mode, node, Ty::Bool));
        }
        if op.is_comparison() {
            // A label compared with a text literal: resolve the literal to its code.
            if let Expr::Literal(Literal::Text(_) | Literal::Null, _) = b {
                let (x, tx) = self.node(prog, a, mode)?;
                let c = self.constant_of(prog, tx, b)?;
                let (y, _) = self.add(prog, mode, Node::Const(c), tx);
                return Ok(self.add(prog, mode, Node::Cmp { op, a: x, b: y }, Ty::Bool));
            }
            if let Expr::Literal(Literal::Text(_), _) = a {
                return self.binary(prog, flip(op), b, a, span, mode);
            }
            let (x, tx) = self.node(prog, a, mode)?;
            let (y, ty) = self.node(prog, b, mode)?;
            let Some(common) = unify(tx, ty) else {
                return err(span, format!("cannot compare a {} with a {}", tx.name(), ty.name()));
            };
            if common == Ty::Text {
                return err(span, "free text can only be tested with `is null`");
            }
            let (x, y) = (self.convert(prog, mode, x, common), self.convert(prog, mode, y, common));
            return Ok(self.add(prog, mode, Node::Cmp { op, a: x, b: y }, Ty::Bool));
        }
        let (x, tx) = self.node(prog, a, mode)?;
        let (y, ty) = self.node(prog, b, mode)?;
        use Ty::*;
        let mismatch = || err(span, format!("cannot apply `{}` to a {} and a {}", op.symbol(), tx.name(), ty.name()));
        match (op, tx, ty) {
            (BinaryOp::Sub, Instant, Instant) => {
                if self.options.business {
                    let Some(owner_field) = self.options.owner_field else {
                        return err(span, "business time needs the metric's attribution to find a calendar");
                    };
                    let owner = self
                        .add(prog, mode, Node::Field { side: Side::Row, field: owner_field }, Row(Source::People))
                        .0;
                    Ok(self.add(prog, mode, Node::Business { from: y, to: x, owner }, Duration))
                } else {
                    Ok(self.add(prog, mode, Node::Arith { op, a: x, b: y }, Duration))
                }
            }
            (BinaryOp::Add | BinaryOp::Sub, Instant, Duration) => {
                Ok(self.add(prog, mode, Node::Arith { op, a: x, b: y }, Instant))
            }
            (BinaryOp::Add, Duration, Instant) => Ok(self.add(prog, mode, Node::Arith { op, a: y, b: x }, Instant)),
            (BinaryOp::Add | BinaryOp::Sub, Duration, Duration)
            | (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, Int, Int) => {
                Ok(self.add(prog, mode, Node::Arith { op, a: x, b: y }, tx))
            }
            (BinaryOp::Mul, Duration, Int) | (BinaryOp::Div, Duration, Int) => {
                Ok(self.add(prog, mode, Node::Arith { op, a: x, b: y }, Duration))
            }
            (BinaryOp::Mul, Int, Duration) => Ok(self.add(prog, mode, Node::Arith { op, a: y, b: x }, Duration)),
            (BinaryOp::Add | BinaryOp::Sub, Int | Decimal, Int | Decimal) => {
                let (x, y) = (self.convert(prog, mode, x, Decimal), self.convert(prog, mode, y, Decimal));
                Ok(self.add(prog, mode, Node::Arith { op, a: x, b: y }, Decimal))
            }
            (BinaryOp::Mul, Int | Decimal, Int | Decimal) => {
                let (x, y) = (self.convert(prog, mode, x, Decimal), self.convert(prog, mode, y, Decimal));
                Ok(self.add(prog, mode, Node::DecimalMul { a: x, b: y }, Decimal))
            }
            (BinaryOp::Div, Int | Decimal, Int | Decimal) | (BinaryOp::Div, Duration, Duration) => {
                let (x, y) = if tx == Duration {
                    (x, y)
                } else {
                    (self.convert(prog, mode, x, Decimal), self.convert(prog, mode, y, Decimal))
                };
                Ok(self.add(prog, mode, Node::DecimalDiv { a: x, b: y }, Decimal))
            }
            _ => mismatch(),
        }
    }

    /// The run-time value of a constant compared with a value of type `ty`.
    fn constant_of(&self, prog: &mut Program, ty: Ty, item: &Expr) -> Result<i64, CompileError> {
        match item {
            Expr::Literal(Literal::Text(label), span) => self.label_code(prog, ty, label, *span),
            Expr::Literal(Literal::Null, _) => Ok(crate::data::NULL),
            Expr::Literal(Literal::Int(i), span) => match ty {
                Ty::Int => Ok(*i),
                Ty::Decimal => Ok(i * MICROS),
                _ => err(*span, format!("a number cannot be compared with a {}", ty.name())),
            },
            Expr::Literal(Literal::Decimal(m), _) if ty == Ty::Decimal => Ok(*m),
            Expr::Literal(Literal::Duration(s), _) if ty == Ty::Duration => Ok(*s),
            Expr::Literal(Literal::Bool(b), _) if ty == Ty::Bool => Ok(*b as i64),
            other => err(other.span(), format!("expected a constant to compare with a {}", ty.name())),
        }
    }

    fn label_code(&self, _prog: &mut Program, ty: Ty, label: &str, span: Span) -> Result<i64, CompileError> {
        // A label that is not in the data yet cannot match any record.
        const NO_MATCH: i64 = -2;
        match ty {
            Ty::Code(source, field) => {
                let def = &source.def().fields[field as usize];
                if let FieldType::Enum(values) = def.ty
                    && !values.contains(&label)
                {
                    return err(
                        span,
                        format!(
                            "'{label}' is not a value of {}.{}; expected one of {}",
                            source.name(),
                            def.name,
                            values.join(", ")
                        ),
                    );
                }
                Ok(self.data.table(source).code_of(field as usize, label).unwrap_or(NO_MATCH))
            }
            Ty::Row(source) => Ok(self.data.table(source).find(label).map_or(NO_MATCH, |r| r as i64)),
            Ty::Key(_) => Ok(self.data.customers.find(label).map_or(NO_MATCH, |c| c as i64)),
            _ => err(span, format!("the text '{label}' cannot be compared with a {}", ty.name())),
        }
    }

    fn call(
        &self,
        prog: &mut Program,
        name: &str,
        args: &[Expr],
        span: Span,
        mode: Mode,
    ) -> Result<(NodeId, Ty), CompileError> {
        let compiled: Vec<(NodeId, Ty)> = args.iter().map(|a| self.node(prog, a, mode)).collect::<Result<_, _>>()?;
        let arity = |n: usize| {
            if compiled.len() == n { Ok(()) } else { err(span, format!("{name}() takes {n} argument(s)")) }
        };
        match name {
            "coalesce" => {
                if compiled.len() < 2 {
                    return err(span, "coalesce() takes two or more arguments");
                }
                let mut ty = Ty::Null;
                for ((_, t), a) in compiled.iter().zip(args) {
                    ty = unify(ty, *t).ok_or_else(|| CompileError {
                        span: a.span(),
                        message: format!("coalesce() mixes {} and {}", ty.name(), t.name()),
                    })?;
                }
                let ids = compiled.iter().map(|&(id, _)| self.convert(prog, mode, id, ty)).collect();
                Ok(self.add(prog, mode, Node::Coalesce(ids), ty))
            }
            "seconds" | "minutes" | "hours" | "days" => {
                arity(1)?;
                let (a, t) = compiled[0];
                if t != Ty::Int {
                    return err(span, format!("{name}() turns a whole number into a duration"));
                }
                let mul = match name {
                    "seconds" => 1,
                    "minutes" => 60,
                    "hours" => 3600,
                    _ => 86_400,
                };
                Ok(self.add(prog, mode, Node::Scale { a, mul, div: 1 }, Ty::Duration))
            }
            "abs" => {
                arity(1)?;
                let (a, t) = compiled[0];
                if !matches!(t, Ty::Int | Ty::Decimal | Ty::Duration) {
                    return err(span, "abs() takes a number or duration");
                }
                Ok(self.add(prog, mode, Node::Abs(a), t))
            }
            "business" => {
                arity(2)?;
                if compiled.iter().any(|&(_, t)| t != Ty::Instant) {
                    return err(span, "business(from, to) takes two times");
                }
                let Some(owner_field) = self.options.owner_field else {
                    return err(span, "business time needs the metric's attribution to find a calendar");
                };
                let owner = self
                    .add(prog, mode, Node::Field { side: Side::Row, field: owner_field }, Ty::Row(Source::People))
                    .0;
                Ok(self.add(prog, mode, Node::Business { from: compiled[0].0, to: compiled[1].0, owner }, Ty::Duration))
            }
            _ => err(
                span,
                format!("unknown function {name}(); known: coalesce, seconds, minutes, hours, days, abs, business"),
            ),
        }
    }
}

fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

/// The common type of two operands (null takes the other's type; Int widens to Decimal).
fn unify(a: Ty, b: Ty) -> Option<Ty> {
    match (a, b) {
        (x, y) if x == y => Some(x),
        (Ty::Null, y) => Some(y),
        (x, Ty::Null) => Some(x),
        (Ty::Int, Ty::Decimal) | (Ty::Decimal, Ty::Int) => Some(Ty::Decimal),
        _ => None,
    }
}

pub fn field_type(source: Source, field: u16, ty: FieldType) -> Ty {
    match ty {
        FieldType::Id => Ty::Row(source),
        FieldType::Ref(target) => Ty::Row(target),
        FieldType::Key(space) => Ty::Key(space),
        FieldType::Instant => Ty::Instant,
        FieldType::Int { .. } => Ty::Int,
        FieldType::Decimal { .. } => Ty::Decimal,
        FieldType::Bool => Ty::Bool,
        FieldType::Enum(_) | FieldType::Category | FieldType::Period => Ty::Code(source, field),
        FieldType::Text => Ty::Text,
    }
}
