//! Formula metrics: `ratio(a, b)` and arithmetic over other metrics' values, per subject
//! and period. `ratio` treats a missing operand row as 0 and keeps integer numerator and
//! denominator; a row exists where any operand has one.

use std::collections::{BTreeSet, HashMap};

use super::cells::Subject;
use super::subject_values::SubjectValues;
use super::value::{MetricValue, Rational};
use crate::lang::ast::{BinaryOp, Expr, Literal};
use crate::metric::{MetricDef, MetricKind, formula_refs};

type Values = Vec<SubjectValues>;

/// Evaluates every formula metric whose operands are computed, repeatedly, so that
/// formulas over formulas resolve (the catalogue rejects cycles).
pub fn evaluate_formulas(metrics: &[MetricDef], out: &mut [Option<Values>], n_periods: usize) {
    let index: HashMap<&str, usize> = metrics.iter().enumerate().map(|(i, m)| (m.id.as_str(), i)).collect();
    loop {
        let mut progressed = false;
        for (i, m) in metrics.iter().enumerate() {
            let MetricKind::Formula(w) = &m.kind else {
                continue;
            };
            if out[i].is_some() {
                continue;
            }
            let refs: Vec<usize> =
                formula_refs(&w.expr).iter().filter_map(|(name, _)| index.get(name.as_str()).copied()).collect();
            if refs.iter().any(|&r| out[r].is_none()) {
                continue;
            }
            let mut result: Values = vec![SubjectValues::new(); n_periods];
            for (k, values) in result.iter_mut().enumerate() {
                let subjects: BTreeSet<Subject> =
                    refs.iter().flat_map(|&r| out[r].as_ref().expect("computed")[k].keys().copied()).collect();
                let ordered: Vec<(Subject, MetricValue)> = subjects
                    .into_iter()
                    .map(|s| {
                        let lookup = |name: &str| {
                            index.get(name).and_then(|&r| out[r].as_ref().expect("computed")[k].get(&s).copied())
                        };
                        (s, eval(&w.expr, &lookup))
                    })
                    .collect();
                *values = SubjectValues::from_ordered(ordered);
            }
            out[i] = Some(result);
            progressed = true;
        }
        if !progressed {
            return;
        }
    }
}

fn eval(e: &Expr, lookup: &dyn Fn(&str) -> Option<MetricValue>) -> MetricValue {
    match e {
        Expr::Call(name, args, _) if name == "ratio" => {
            let part = |a: &Expr| match a {
                Expr::Path(p, _) => lookup(&p.join(".")).map_or(Some(Rational::int(0)), |v| v.value),
                _ => None,
            };
            match (part(&args[0]), part(&args[1])) {
                (Some(a), Some(b))
                    if let (true, true, Ok(x), Ok(y)) =
                        (a.is_integer(), b.is_integer(), i64::try_from(a.num), i64::try_from(b.num)) =>
                {
                    MetricValue::ratio(x, y, 1)
                }
                (Some(a), Some(b)) => MetricValue::plain(a.checked_div(b)),
                _ => MetricValue::plain(None),
            }
        }
        other => MetricValue::plain(value(other, lookup)),
    }
}

fn value(e: &Expr, lookup: &dyn Fn(&str) -> Option<MetricValue>) -> Option<Rational> {
    match e {
        Expr::Path(p, _) => lookup(&p.join("."))?.value,
        Expr::Literal(Literal::Int(i), _) => Some(Rational::int(*i as i128)),
        Expr::Literal(Literal::Decimal(m), _) => Rational::new(*m as i128, 1_000_000),
        Expr::Neg(a, _) => value(a, lookup).map(|r| -r),
        Expr::Call(..) => eval(e, lookup).value,
        Expr::Binary(op, a, b, _) => {
            let (a, b) = (value(a, lookup)?, value(b, lookup)?);
            match op {
                BinaryOp::Add => a.checked_add(b),
                BinaryOp::Sub => a.checked_sub(b),
                BinaryOp::Mul => a.checked_mul(b),
                BinaryOp::Div => a.checked_div(b),
                _ => None,
            }
        }
        _ => None,
    }
}
