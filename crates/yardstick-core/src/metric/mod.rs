//! Metric definitions and the catalogue: the built-in metrics (written in the metric
//! language, embedded) plus any a user adds in a TOML file.

pub mod def;

use std::collections::{HashMap, HashSet};

pub use def::{
    Aggregate, Anchor, Exclusion, Interval, MetricDef, MetricKind, PersonSubjects, RecordMetric, Unit, Written,
};

use crate::data::{Column, Dataset};
use crate::diag::Diagnostic;
use crate::lang::ast::Expr;
use crate::lang::compile::{Compiler, Options, Params};
use crate::lang::program::{Program, Ty};

/// The built-in catalogue (SPEC §4) in the metric language.
pub const BUILTIN_CATALOGUE: &str = include_str!("catalogue.toml");

#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    metrics: Vec<MetricDef>,
    by_id: HashMap<String, usize>,
}

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Catalogue {
        let mut c = Catalogue::default();
        let diags = c.add_file("catalogue.toml (built in)", BUILTIN_CATALOGUE, &Params::default());
        assert!(diags.iter().all(|d| !d.is_error()), "built-in catalogue: {diags:?}");
        c
    }

    /// Adds (or redefines) the metrics of a file. Every metric is type-checked against the
    /// schema; a metric with an error is left out and reported.
    pub fn add_file(&mut self, file: &str, text: &str, params: &Params) -> Vec<Diagnostic> {
        let (defs, mut diags) = def::read_metrics(file, text);
        for def in defs {
            if let Err(d) = check_metric(&def, params) {
                diags.push(d);
                continue;
            }
            if let Some(&i) = self.by_id.get(&def.id) {
                if self.metrics[i].file != def.file {
                    diags.push(
                        Diagnostic::warning(
                            file,
                            def.line,
                            1,
                            format!("metric {} redefines the one from {}", def.id, self.metrics[i].file),
                        )
                        .code("metric.redefined"),
                    );
                }
                self.metrics[i] = def;
            } else {
                self.by_id.insert(def.id.clone(), self.metrics.len());
                self.metrics.push(def);
            }
        }
        diags.extend(self.check_formulas(file));
        diags
    }

    /// Formula metrics must name metrics that exist, without cycles.
    fn check_formulas(&self, file: &str) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        for m in &self.metrics {
            let MetricKind::Formula(w) = &m.kind else {
                continue;
            };
            if m.file != file {
                continue;
            }
            for (name, _) in formula_refs(&w.expr) {
                if !self.by_id.contains_key(&name) {
                    diags.push(
                        Diagnostic::error(
                            &w.file,
                            w.line,
                            w.column,
                            format!("formula of {} uses unknown metric `{name}`", m.id),
                        )
                        .code("metric.invalid")
                        .fix(
                            match crate::diag::closest(&name, self.by_id.keys().map(String::as_str)) {
                                Some(meant) => format!("did you mean `{meant}`? Or define that metric"),
                                None => "define that metric or correct the name".to_string(),
                            },
                        ),
                    );
                }
            }
            let mut stack = vec![m.id.clone()];
            if self.has_cycle(&m.id, &mut stack) {
                diags.push(
                    Diagnostic::error(
                        &w.file,
                        w.line,
                        w.column,
                        format!("formula of {} refers to itself through {}", m.id, stack.join(" → ")),
                    )
                    .code("metric.invalid")
                    .fix("break the cycle"),
                );
            }
        }
        diags
    }

    fn has_cycle(&self, id: &str, stack: &mut Vec<String>) -> bool {
        let Some(MetricKind::Formula(w)) = self.get(id).map(|m| &m.kind) else {
            return false;
        };
        for (name, _) in formula_refs(&w.expr) {
            if stack.contains(&name) {
                stack.push(name);
                return true;
            }
            stack.push(name.clone());
            if self.has_cycle(&name, stack) {
                return true;
            }
            stack.pop();
        }
        false
    }

    pub fn get(&self, id: &str) -> Option<&MetricDef> {
        self.by_id.get(id).map(|&i| &self.metrics[i])
    }

    pub fn metrics(&self) -> &[MetricDef] {
        &self.metrics
    }

    /// The metrics of the default output: every listed metric, with `expand` metrics
    /// expanded over the labels present in the data.
    pub fn listed(&self, data: &Dataset) -> Vec<MetricDef> {
        self.metrics.iter().filter(|m| m.listed).flat_map(|m| self.expand(m, data)).collect()
    }

    /// Resolves a requested id (`fcr_rate`, `rating_mean:attitude`, `rating_mean` for all
    /// items) to definitions.
    pub fn resolve(&self, id: &str, data: &Dataset) -> Option<Vec<MetricDef>> {
        if let Some(m) = self.get(id) {
            return Some(self.expand(m, data));
        }
        let (base, label) = id.split_once(':')?;
        let m = self.get(base)?;
        let r = m.records()?;
        r.expand.as_ref()?;
        Some(vec![expanded(m, label)])
    }

    fn expand(&self, m: &MetricDef, data: &Dataset) -> Vec<MetricDef> {
        let Some(field) = m.records().and_then(|r| r.expand.as_ref()) else {
            return vec![m.clone()];
        };
        let r = m.records().expect("records");
        let table = data.table(r.source);
        let index = table.def().field_index(field).expect("checked field");
        let mut labels: Vec<String> = match &table.columns[index] {
            Column::Coded { codes, dict } => {
                let mut used = HashSet::new();
                for row in 0..table.len() {
                    let c = codes.get(row);
                    if c != crate::data::NULL {
                        used.insert(c);
                    }
                }
                used.into_iter().map(|c| dict.get(c as u32).into_owned()).collect()
            }
            _ => Vec::new(),
        };
        labels.sort();
        labels.iter().map(|l| expanded(m, l)).collect()
    }

    /// The ids of all metrics a set of metrics needs (formula operands, recursively).
    pub fn closure(&self, wanted: &[MetricDef]) -> Vec<MetricDef> {
        let mut out: Vec<MetricDef> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut queue: Vec<MetricDef> = wanted.to_vec();
        while let Some(m) = queue.pop() {
            if !seen.insert(m.id.clone()) {
                continue;
            }
            if let MetricKind::Formula(w) = &m.kind {
                for (name, _) in formula_refs(&w.expr) {
                    if let Some(dep) = self.get(&name) {
                        queue.push(dep.clone());
                    }
                }
            }
            out.push(m);
        }
        out
    }
}

fn expanded(m: &MetricDef, label: &str) -> MetricDef {
    let mut e = m.clone();
    e.id = format!("{}:{label}", m.id);
    e.name_zh = format!("{}：{label}", m.name_zh);
    e.name_en = format!("{}: {label}", m.name_en);
    if let MetricKind::Records(r) = &mut e.kind {
        r.expanded_label = Some(label.to_string());
    }
    e
}

/// Metric names a formula reads, with their spans.
pub fn formula_refs(e: &Expr) -> Vec<(String, crate::lang::ast::Span)> {
    let mut out = Vec::new();
    collect_refs(e, &mut out);
    out
}

fn collect_refs(e: &Expr, out: &mut Vec<(String, crate::lang::ast::Span)>) {
    match e {
        Expr::Path(p, span) => out.push((p.join("."), *span)),
        Expr::Neg(a, _) | Expr::Not(a, _) => collect_refs(a, out),
        Expr::Binary(_, a, b, _) => {
            collect_refs(a, out);
            collect_refs(b, out);
        }
        Expr::Call(_, args, _) => args.iter().for_each(|a| collect_refs(a, out)),
        _ => {}
    }
}

/// The organisation settings every metric may use (`$uncontrollable_causes`), with
/// placeholder values: enough to type-check.
pub fn check_params() -> Params {
    let mut p = Params::default();
    p.lists.insert("uncontrollable_causes".into(), vec!["product_defect".into()]);
    p
}

/// Type-checks a record metric against the schema (with no data: labels need not exist).
pub fn check_metric(m: &MetricDef, params: &Params) -> Result<(), Diagnostic> {
    let empty = Dataset::new();
    let params = if params.lists.is_empty() { check_params() } else { params.clone() };
    match &m.kind {
        MetricKind::Records(r) => compile_record_metric(m, r, &empty, &params).map(|_| ()),
        MetricKind::Formula(w) => check_formula_shape(&w.expr).map_err(|(span, msg)| {
            Diagnostic::error(&w.file, w.line, w.column + span.start, msg).code("metric.invalid")
        }),
    }
}

fn check_formula_shape(e: &Expr) -> Result<(), (crate::lang::ast::Span, String)> {
    match e {
        Expr::Path(..)
        | Expr::Literal(crate::lang::ast::Literal::Int(_) | crate::lang::ast::Literal::Decimal(_), _) => Ok(()),
        Expr::Neg(a, _) => check_formula_shape(a),
        Expr::Binary(op, a, b, span) => {
            use crate::lang::ast::BinaryOp::*;
            if !matches!(op, Add | Sub | Mul | Div) {
                return Err((
                    *span,
                    format!("`{}` is not allowed in a formula (use + - * / and ratio(a, b))", op.symbol()),
                ));
            }
            check_formula_shape(a)?;
            check_formula_shape(b)
        }
        Expr::Call(name, args, span) if name == "ratio" => {
            if args.len() != 2 || !args.iter().all(|a| matches!(a, Expr::Path(..))) {
                return Err((*span, "ratio(a, b) takes two metric ids".into()));
            }
            Ok(())
        }
        other => Err((other.span(), "a formula combines metric ids with + - * / and ratio(a, b)".into())),
    }
}

/// A record metric compiled into a program over its source table.
#[derive(Clone, Debug)]
pub struct CompiledMetric {
    pub anchor: Option<u32>,
    pub credit_at: Option<u32>,
    pub attribution_field: u16,
    /// Population: the `where` filter and the exclusion conditions.
    pub filter: Option<u32>,
    pub exclusions: Vec<u32>,
    /// Ratio numerator/denominator, or the value of sum/mean/percentile/distinct.
    pub numerator: Option<u32>,
    pub denominator: Option<u32>,
    pub value: Option<u32>,
    pub value_ty: Option<Ty>,
    pub live: Option<(u32, bool, u32, bool)>,
    pub span: Option<(u32, bool, u32, bool)>,
    /// `expand` label restriction: (field, code).
    pub label: Option<(u16, i64)>,
    pub min_distinct: Option<(u16, usize, Option<u32>)>,
}

/// Compiles a record metric into `prog` (shared by every metric of the same source).
pub fn compile_into(
    prog: &mut Program,
    m: &MetricDef,
    r: &RecordMetric,
    data: &Dataset,
    params: &Params,
) -> Result<CompiledMetric, Diagnostic> {
    let def = r.source.def();
    let attribution_field = def.field_index(&r.attribution).expect("checked when read") as u16;
    let compiler =
        Compiler { data, params, options: Options { business: r.business, owner_field: Some(attribution_field) } };
    let at = |w: &Written, e: crate::lang::compile::CompileError| {
        let (line, column) = if e.span.start == 0 {
            (w.line, w.column)
        } else {
            (w.line, w.column + w.text[..e.span.start.min(w.text.len())].chars().count())
        };
        Diagnostic::error(
            &w.file,
            line,
            column,
            format!("metric {}: in `{}`: {}", m.id, def::excerpt(&w.text), e.message),
        )
        .code("metric.invalid")
    };
    let expr = |prog: &mut Program, w: &Written| compiler.compile(prog, &w.expr).map_err(|e| at(w, e));
    let typed = |prog: &mut Program, w: &Written, want: &[Ty], what: &str| -> Result<u32, Diagnostic> {
        let (id, ty) = expr(prog, w)?;
        if want.contains(&ty) {
            Ok(id)
        } else {
            Err(Diagnostic::error(
                &w.file,
                w.line,
                w.column,
                format!("metric {}: `{}` must be {what}, but it is a {}", m.id, w.text, ty.name()),
            )
            .code("metric.invalid"))
        }
    };
    let anchor = match &r.anchor {
        Anchor::Time(w) => Some(typed(prog, w, &[Ty::Instant], "a time")?),
        _ => None,
    };
    let credit_at = r.credit_at.as_ref().map(|w| typed(prog, w, &[Ty::Instant], "a time")).transpose()?;
    let filter = r.filter.as_ref().map(|w| typed(prog, w, &[Ty::Bool], "a condition")).transpose()?;
    let exclusions =
        r.exclusions.iter().map(|e| typed(prog, &e.when, &[Ty::Bool], "a condition")).collect::<Result<Vec<_>, _>>()?;
    let counting = [Ty::Bool, Ty::Int];
    let (numerator, denominator, value, value_ty) = match &r.aggregate {
        Aggregate::Count => (None, None, None, None),
        Aggregate::Ratio { numerator, denominator, .. } => (
            Some(typed(prog, numerator, &counting, "a condition or a whole number")?),
            denominator.as_ref().map(|d| typed(prog, d, &counting, "a condition or a whole number")).transpose()?,
            None,
            None,
        ),
        Aggregate::Sum(w) | Aggregate::Mean(w) | Aggregate::Percentile { value: w, .. } => {
            let id = typed(prog, w, &[Ty::Int, Ty::Decimal, Ty::Duration, Ty::Bool], "a number or a duration")?;
            (None, None, Some(id), Some(prog.ty(id)))
        }
        Aggregate::DistinctCount(w) => {
            let (id, ty) = expr(prog, w)?;
            (None, None, Some(id), Some(ty))
        }
    };
    let interval = |prog: &mut Program, i: &Interval| -> Result<(u32, bool, u32, bool), Diagnostic> {
        Ok((
            typed(prog, &i.from, &[Ty::Instant, Ty::Null], "a time")?,
            i.from_inclusive,
            typed(prog, &i.to, &[Ty::Instant, Ty::Null], "a time")?,
            i.to_inclusive,
        ))
    };
    let live = r.live.as_ref().map(|i| interval(prog, i)).transpose()?;
    let span = r.span.as_ref().map(|i| interval(prog, i)).transpose()?;
    let label = match (&r.expand, &r.expanded_label) {
        (Some(field), Some(label)) => {
            let f = def.field_index(field).expect("checked") as u16;
            Some((f, data.table(r.source).code_of(f as usize, label).unwrap_or(-2)))
        }
        _ => None,
    };
    let min_distinct = match &r.min_distinct {
        None => None,
        Some(md) => {
            let f = def.field_index(&md.field).expect("checked") as u16;
            let when = md.when.as_ref().map(|w| typed(prog, w, &[Ty::Bool], "a condition")).transpose()?;
            Some((f, md.count, when))
        }
    };
    Ok(CompiledMetric {
        anchor,
        credit_at,
        attribution_field,
        filter,
        exclusions,
        numerator,
        denominator,
        value,
        value_ty,
        live,
        span,
        label,
        min_distinct,
    })
}

fn compile_record_metric(
    m: &MetricDef,
    r: &RecordMetric,
    data: &Dataset,
    params: &Params,
) -> Result<CompiledMetric, Diagnostic> {
    let mut prog = Program::new(r.source);
    compile_into(&mut prog, m, r, data, params)
}

#[cfg(test)]
mod tests;
