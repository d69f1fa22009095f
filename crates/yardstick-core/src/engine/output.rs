//! The `yardstick metrics` CSV contract (SPEC §4), written in parallel: the texts many rows
//! share (each subject's id, each metric's, each period's) are made once, and the rows are
//! written in blocks, one block per task, straight onto the block's text.

use std::collections::HashMap;
use std::fmt::Write;

use rayon::prelude::*;

use super::{Engine, ResultRow, Subject, csv_field};
use crate::period::Period;
use crate::schema::Source;

/// The CSV of `rows`, with its header.
pub fn to_csv(engine: &Engine, rows: &[ResultRow]) -> String {
    let n_teams = engine.org.n_teams();
    let at = |s: Subject| s.index(n_teams);
    let mut subjects: Vec<Option<String>> = vec![None; 1 + n_teams + engine.data.table(Source::People).len()];
    let mut metrics: HashMap<&str, String> = HashMap::new();
    let mut periods: Vec<(Period, String)> = Vec::new();
    for r in rows {
        let id = &mut subjects[at(r.subject)];
        if id.is_none() {
            *id = Some(csv_field(&engine.subject_id(r.subject)));
        }
        metrics.entry(&r.metric).or_insert_with(|| csv_field(&r.metric));
        if !periods.iter().any(|(p, _)| *p == r.period) {
            periods.push((r.period, r.period.to_string()));
        }
    }
    let blocks: Vec<String> = rows
        .par_chunks(1 << 14)
        .map(|block| {
            let mut out = String::with_capacity(block.len() * 64);
            for r in block {
                let period = &periods.iter().find(|(p, _)| *p == r.period).expect("listed").1;
                let subject = subjects[at(r.subject)].as_deref().expect("listed");
                let _ = write!(out, "{period},{},{subject},{},", r.subject.kind(), metrics[&*r.metric]);
                let v = &r.value;
                if let Some(x) = v.value {
                    x.write_places(&mut out, 6);
                }
                out.push(',');
                if let Some(n) = v.numerator() {
                    let _ = write!(out, "{n}");
                }
                out.push(',');
                if let Some(d) = v.denominator() {
                    let _ = write!(out, "{d}");
                }
                out.push('\n');
            }
            out
        })
        .collect();
    let mut out = String::with_capacity(64 + blocks.iter().map(String::len).sum::<usize>());
    out.push_str("period,subject_kind,subject_id,metric,value,numerator,denominator\n");
    for block in blocks {
        out.push_str(&block);
    }
    out
}
