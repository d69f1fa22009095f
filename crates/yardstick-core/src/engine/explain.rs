//! Drill-down: the records behind one value — those counted, with what each contributed to
//! the numerator, denominator or value, and those left out of the population, with why.

use super::cells::Subject;
use super::plan::{self, AggKind, Slots};
use super::scan::{BATCH, Placement, place};
use super::timeline::Timeline;
use super::{Engine, Rational};
use crate::data::NULL;
use crate::diag::Diagnostic;
use crate::lang::eval::{Env, Evaluator, Rows};
use crate::metric::{Catalogue, MetricKind};
use crate::period::Period;
use crate::schema::Source;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordStatus {
    /// In the population. For ratios: what the record adds to the numerator and
    /// denominator; for sums, means and percentiles: its value in the metric's unit
    /// (minutes, hours, a score); counts: neither.
    Counted { numerator: Option<i64>, denominator: Option<i64>, value: Option<Rational> },
    /// Placed in the period for this subject but not in the population.
    Excluded { reason_zh: String, reason_en: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordEntry {
    /// Row index in the source table.
    pub row: usize,
    pub status: RecordStatus,
}

#[derive(Clone, Debug)]
pub struct Explanation {
    pub metric: String,
    pub source: Source,
    pub entries: Vec<RecordEntry>,
}

impl Engine<'_> {
    /// The records behind `metric` for `subject` in `period`. A formula metric is
    /// explained by its operands (one explanation each).
    pub fn records(
        &self,
        catalogue: &Catalogue,
        metric: &str,
        subject: Subject,
        period: Period,
    ) -> Result<Vec<Explanation>, Diagnostic> {
        let defs = catalogue
            .resolve(metric, self.data)
            .ok_or_else(|| Diagnostic::argument("metric", "unknown_metric", format!("unknown metric `{metric}`")))?;
        let mut out = Vec::new();
        for def in defs {
            match &def.kind {
                MetricKind::Formula(w) => {
                    for (name, _) in crate::metric::formula_refs(&w.expr) {
                        out.extend(self.records(catalogue, &name, subject, period)?);
                    }
                }
                MetricKind::Records(r) => {
                    let timeline = Timeline::new(&[period], &self.settings.tz);
                    let params = self.params();
                    let metrics = [def.clone()];
                    let Some(plan) = plan::plan_source(
                        r.source,
                        &metrics,
                        self.data,
                        &params,
                        &timeline,
                        &self.settings.tz,
                        self.cells.len(),
                    )?
                    else {
                        continue;
                    };
                    let pm = &plan.metrics[0];
                    let group = &plan.groups[pm.group];
                    let clocks = self.clocks(plan.prog.uses_business());
                    let indexes = plan.exists_indexes(self.data);
                    let env = Env { data: self.data, org: &self.org, clocks: &clocks, indexes: &indexes, flags: &[] };
                    let placement = Placement::new(&timeline, &self.cells);
                    let mut wanted = vec![false; group.n_accs()];
                    for c in self.cells.of(subject, pm.team_lead) {
                        for s in 0..group.n_slots as u32 {
                            wanted[group.acc(c, s) as usize] = true;
                        }
                    }
                    let mut ev = Evaluator::default();
                    let mut placed = Vec::new();
                    let mut entries = Vec::new();
                    let n = self.data.table(r.source).len();
                    let c = &pm.compiled;
                    let scale = super::finalize::type_scale(c.value_ty, pm.unit);
                    for start in (0..n).step_by(BATCH) {
                        let rows = Rows::Range { start, len: BATCH.min(n - start) };
                        ev.run(&plan.prog, &env, rows);
                        placed.clear();
                        place(
                            group,
                            &ev,
                            &placement,
                            rows.len(),
                            &mut placed,
                            matches!(group.slots, Slots::Snapshot { .. }),
                        );
                        super::scan::drop_deleted(
                            super::scan::deleted_rows(self.data.table(r.source), rows).as_deref(),
                            &mut placed,
                        );
                        let mut last_row = usize::MAX;
                        for &(i, a) in &placed {
                            let i = i as usize;
                            if !wanted[a as usize] || rows.row(i) == last_row {
                                continue;
                            }
                            last_row = rows.row(i);
                            let status = if c.filter.is_some_and(|f| ev.values(f)[i] != 1) {
                                let text = r.filter.as_ref().map_or(String::new(), |w| w.text.clone());
                                RecordStatus::Excluded {
                                    reason_zh: format!("不符合统计口径：{text}"),
                                    reason_en: format!("not in the population: {text}"),
                                }
                            } else if let Some(x) = c.exclusions.iter().position(|&e| ev.values(e)[i] == 1) {
                                RecordStatus::Excluded {
                                    reason_zh: r.exclusions[x].reason_zh.clone(),
                                    reason_en: r.exclusions[x].reason_en.clone(),
                                }
                            } else {
                                let get = |node: Option<u32>| node.map(|id| ev.values(id)[i]).filter(|&v| v != NULL);
                                match pm.agg {
                                    AggKind::Ratio { .. } => RecordStatus::Counted {
                                        numerator: Some(get(c.numerator).unwrap_or(0)),
                                        denominator: Some(c.denominator.map_or(1, |d| get(Some(d)).unwrap_or(0))),
                                        value: None,
                                    },
                                    AggKind::Count => {
                                        RecordStatus::Counted { numerator: None, denominator: None, value: None }
                                    }
                                    _ => match get(c.value) {
                                        Some(v) => RecordStatus::Counted {
                                            numerator: None,
                                            denominator: None,
                                            value: Rational::new(v as i128, scale),
                                        },
                                        None => RecordStatus::Excluded {
                                            reason_zh: "无取值，不参与计算".into(),
                                            reason_en: "no value to aggregate".into(),
                                        },
                                    },
                                }
                            };
                            entries.push(RecordEntry { row: rows.row(i), status });
                        }
                    }
                    out.push(Explanation { metric: def.id.clone(), source: r.source, entries });
                }
            }
        }
        Ok(out)
    }
}
