//! Compiling `exists(source, predicate)`: the predicate is split into an equality key, a
//! time window on the inner table (for the per-key, time-sorted index) and a residual
//! checked pair by pair.

use super::{CompileError, Compiler, Mode, err, field_type, flip, unify};
use crate::lang::ast::{BinaryOp, Expr, Span};
use crate::lang::program::{ExistsPlan, Node, NodeId, Program, Ty};
use crate::schema::Source;

impl Compiler<'_> {
    pub(super) fn exists(
        &self,
        prog: &mut Program,
        source_name: &str,
        predicate: &Expr,
        span: Span,
    ) -> Result<(NodeId, Ty), CompileError> {
        let Some(inner) = Source::parse(source_name) else {
            let names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
            return err(span, format!("`{source_name}` is not a source; sources: {}", names.join(", ")));
        };
        let mut conjuncts = Vec::new();
        flatten_and(predicate, &mut conjuncts);
        let mut key: Option<(u16, NodeId)> = None;
        let mut time_field: Option<u16> = None;
        let mut lower: Option<(NodeId, bool)> = None;
        let mut upper: Option<(NodeId, bool)> = None;
        let mut residual: Vec<&Expr> = Vec::new();
        for c in conjuncts {
            if let Expr::Binary(op, a, b, _) = c
                && op.is_comparison()
                && *op != BinaryOp::Ne
            {
                let (inner_side, outer_side, op) = match (inner_field(a, inner), inner_field(b, inner)) {
                    (Some(f), None) if is_outer_only(b) => (Some(f), b, *op),
                    (None, Some(f)) if is_outer_only(a) => (Some(f), a, flip(*op)),
                    _ => (None, a, *op),
                };
                if let Some(field) = inner_side {
                    let fdef = &inner.def().fields[field as usize];
                    let fty = field_type(inner, field, fdef.ty);
                    let (outer_node, oty) = self.node(prog, outer_side, Mode::OuterOnly)?;
                    if op == BinaryOp::Eq
                        && key.is_none()
                        && matches!(fty, Ty::Row(_) | Ty::Key(_) | Ty::Code(..) | Ty::Int)
                    {
                        if unify(fty, oty) != Some(fty) {
                            return err(c.span(), format!("cannot join a {} with a {}", fty.name(), oty.name()));
                        }
                        key = Some((field, outer_node));
                        continue;
                    }
                    if fty == Ty::Instant
                        && oty == Ty::Instant
                        && op != BinaryOp::Eq
                        && time_field.is_none_or(|t| t == field)
                    {
                        let bound = match op {
                            BinaryOp::Gt => (&mut lower, false),
                            BinaryOp::Ge => (&mut lower, true),
                            BinaryOp::Lt => (&mut upper, false),
                            _ => (&mut upper, true),
                        };
                        if bound.0.is_none() {
                            *bound.0 = Some((outer_node, bound.1));
                            time_field = Some(field);
                            continue;
                        }
                    }
                }
            }
            residual.push(c);
        }
        let Some((key_field, key_outer)) = key else {
            return err(
                span,
                "exists(…) needs a condition `FIELD = this.FIELD` to find the other records (e.g. customer_id = this.customer_id)",
            );
        };
        let residual = match residual.as_slice() {
            [] => None,
            parts => {
                let mut ids = Vec::new();
                for part in parts {
                    let (id, ty) = self.node(prog, part, Mode::Residual { inner })?;
                    if ty != Ty::Bool {
                        return err(part.span(), "expected a condition");
                    }
                    ids.push(id);
                }
                let mut acc = ids[0];
                for &id in &ids[1..] {
                    acc = prog.add_residual(Node::And(acc, id), Ty::Bool);
                }
                Some(acc)
            }
        };
        let plan = ExistsPlan { inner, key_field, key_outer, time_field, lower, upper, residual };
        let index = prog.exists.iter().position(|p| *p == plan).unwrap_or_else(|| {
            prog.exists.push(plan);
            prog.exists.len() - 1
        });
        Ok((prog.add(Node::Exists(index as u32), Ty::Bool), Ty::Bool))
    }
}

fn flatten_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary(BinaryOp::And, a, b, _) => {
            flatten_and(a, out);
            flatten_and(b, out);
        }
        other => out.push(other),
    }
}

/// The field index if `e` is a plain field of the inner table (no `this.`, no navigation).
fn inner_field(e: &Expr, inner: Source) -> Option<u16> {
    match e {
        Expr::Path(p, _) if p.len() == 1 && p[0] != "this" => inner.def().field_index(&p[0]).map(|i| i as u16),
        _ => None,
    }
}

/// Whether `e` only reads `this.` fields and constants.
fn is_outer_only(e: &Expr) -> bool {
    match e {
        Expr::Literal(..) | Expr::Param(..) => true,
        Expr::Path(p, _) => p.first().is_some_and(|s| s == "this"),
        Expr::Neg(a, _) | Expr::Not(a, _) => is_outer_only(a),
        Expr::Binary(_, a, b, _) => is_outer_only(a) && is_outer_only(b),
        Expr::IsNull { expr, .. } => is_outer_only(expr),
        Expr::Call(_, args, _) => args.iter().all(is_outer_only),
        _ => false,
    }
}
