//! Result rows from computed values: derived forms (`.change`, `.attainment`) and the
//! SPEC §4 order (period, subject kind, subject id, metric as plain strings).

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use super::finalize::MetricValues;
use super::{Derived, Engine, MetricValue, Resolved, ResultRow, Subject, rational_of_f64};
use crate::period::Period;
use crate::schema::Source;

/// Ranks of texts in plain string order.
fn rank_of(texts: Vec<String>) -> Vec<u32> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by(|&a, &b| texts[a].cmp(&texts[b]));
    let mut rank = vec![0u32; texts.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as u32;
    }
    rank
}

/// The rows of the requested metrics and periods, sorted: each distinct period, subject
/// and metric is ranked once by its text, then rows are put in order by those ranks.
pub fn rows(engine: &Engine, resolved: &Resolved, values: &[MetricValues]) -> Vec<ResultRow> {
    let by_id: HashMap<&str, usize> = resolved.metrics.iter().enumerate().map(|(i, m)| (m.id.as_str(), i)).collect();
    let period_index: HashMap<Period, usize> = resolved.periods.iter().enumerate().map(|(k, p)| (*p, k)).collect();
    let period_rank = rank_of(resolved.query_periods.iter().map(|p| p.to_string()).collect());
    let metric_rank = rank_of(resolved.requested.iter().map(|(id, _, _)| id.clone()).collect());
    let n_teams = engine.org.n_teams();
    let subject_index = |s: Subject| s.index(n_teams);
    let all_subjects: Vec<Subject> = std::iter::once(Subject::Org)
        .chain((0..n_teams as u32).map(Subject::Team))
        .chain((0..engine.data.table(Source::People).len() as u32).map(Subject::Person))
        .collect();
    let subject_rank =
        rank_of(all_subjects.iter().map(|&s| format!("{}\u{0}{}", s.kind(), engine.subject_id(s))).collect());
    // The rows' order first, from light entries, then each row built once, in order and in
    // parallel (rows are large, and a million of them moved twice cost more than all the
    // ordering). Periods in order, and within one, a counting sort by subject of its
    // metrics' values taken in metric order (stable: metric order stays within a subject).
    // The metric ids rows share: each parallel task makes its own, so that threads do not
    // contend for one reference count.
    let ids =
        || -> Vec<Arc<str>> { resolved.requested.iter().map(|(out_id, _, _)| Arc::from(out_id.as_str())).collect() };
    let in_order = |rank: &[u32]| {
        let mut order: Vec<usize> = (0..rank.len()).collect();
        order.sort_by_key(|&i| rank[i]);
        order
    };
    let (periods_in_order, metrics_in_order) = (in_order(&period_rank), in_order(&metric_rank));
    // Each requested metric's values, and each requested period's place among them.
    let values_of: Vec<&MetricValues> =
        resolved.requested.iter().map(|(_, m, _)| &values[by_id[m.id.as_str()]]).collect();
    let slot_of: Vec<usize> = resolved.query_periods.iter().map(|p| period_index[p]).collect();
    let values_at = |mi: usize, pi: usize| &values_of[mi][slot_of[pi]];
    let sizes: Vec<usize> =
        periods_in_order.iter().map(|&pi| metrics_in_order.iter().map(|&mi| values_at(mi, pi).len()).sum()).collect();
    let none = MetricValue::plain(None);
    let mut order: Vec<(&MetricValue, u32, u32, Subject)> = vec![(&none, 0, 0, Subject::Org); sizes.iter().sum()];
    let mut parts = Vec::with_capacity(sizes.len());
    let mut rest = &mut order[..];
    for (&pi, &size) in periods_in_order.iter().zip(&sizes) {
        parts.push((pi, rest.split_off_mut(..size).expect("a period's rows within all")));
    }
    parts.into_par_iter().for_each(|(pi, part)| {
        let mut next = vec![0usize; subject_rank.len() + 1];
        for &mi in &metrics_in_order {
            for subject in values_at(mi, pi).keys() {
                next[subject_rank[subject_index(*subject)] as usize + 1] += 1;
            }
        }
        for r in 1..next.len() {
            next[r] += next[r - 1];
        }
        for &mi in &metrics_in_order {
            for (subject, value) in values_at(mi, pi) {
                let r = subject_rank[subject_index(*subject)] as usize;
                part[next[r]] = (value, mi as u32, pi as u32, *subject);
                next[r] += 1;
            }
        }
    });
    // What each row needs, looked up once: the previous period.
    let previous_of: Vec<Option<usize>> =
        resolved.query_periods.iter().map(|p| period_index.get(&p.previous()).copied()).collect();
    let targets: Vec<Option<super::Rational>> = resolved
        .requested
        .iter()
        .map(|(_, m, derived)| {
            (*derived == Derived::Attainment).then(|| engine.target(m).and_then(rational_of_f64)).flatten()
        })
        .collect();
    order
        .into_par_iter()
        .map_init(ids, |ids, (value, mi, pi, subject)| {
            let (mi, pi) = (mi as usize, pi as usize);
            let derived = resolved.requested[mi].2;
            let p = resolved.query_periods[pi];
            let value = match derived {
                Derived::None => *value,
                Derived::Change => {
                    let previous = previous_of[pi].map(|k| &values_of[mi][k]);
                    let before = previous.and_then(|prev| prev.get(&subject)).and_then(|x| x.value);
                    MetricValue::plain(value.value.zip(before).and_then(|(a, b)| a.checked_sub(b)))
                }
                Derived::Attainment => {
                    MetricValue::plain(value.value.zip(targets[mi]).and_then(|(a, t)| a.checked_div(t)))
                }
            };
            ResultRow { period: p, subject, metric: ids[mi].clone(), value }
        })
        .collect()
}
