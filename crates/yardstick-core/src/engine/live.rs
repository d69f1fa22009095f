//! Live scores: a computation kept up to date as records change, without a full pass.
//!
//! A [`Live`] keeps the per-(cell, atom) accumulators of its query. An upsert of a record
//! finds every record whose contribution can change — the record itself, records whose
//! `exists` answer looks at it (same key, before or after the change), and records that
//! read it through a reference (`ticket.cause`) — subtracts what they contributed before,
//! applies the change, adds what they contribute now, and recomputes only the (subject,
//! period) values the affected accumulators belong to. Changes to teams, people or
//! memberships move records between cells: those rebuild the computation.
//!
//! The `exists` answers kept with the records ([`Dataset::answers`]) are kept up to date
//! the same way: the affected records' answers are worked out again. Answers of conditions
//! none of this computation's metrics asks are dropped (it cannot tell which records they
//! depend on).

use std::collections::HashSet;
use std::sync::Arc;

use super::finalize::{MetricValues, Touched};
use super::plan::{Slots, SourcePlan};
use super::scan::{BATCH, Placement, Scratch, State, accumulate};
use super::{Engine, Resolved, ResultRow, Subject, Timeline, formula, rows};
use crate::data::{AnswerMap, Cell, Dataset, NULL};
use crate::diag::Diagnostic;
use crate::lang::eval::{Env, Evaluator, Rows, exists_flags_of_rows};
use crate::lang::program::Node;
use crate::metric::Catalogue;
use crate::schema::{FieldType, Source};
use crate::settings::Settings;

pub struct Live {
    resolved: Resolved,
    timeline: Timeline,
    /// Per planned source: its accumulators.
    states: Vec<(Source, State)>,
    /// Values of the record metrics (formulas are recomputed from them).
    values: Vec<Option<MetricValues>>,
    /// Per planned source: what changed since the values were last brought up to date.
    pending: Vec<Touched>,
}

impl Engine<'_> {
    /// Computes a query and keeps what is needed to update it record by record.
    pub fn live(&self, catalogue: &Catalogue, query: &super::Query) -> Result<Live, Diagnostic> {
        self.live_resolved(self.resolve_query(catalogue, query)?)
    }

    fn live_resolved(&self, resolved: Resolved) -> Result<Live, Diagnostic> {
        let timeline = Timeline::new(&resolved.periods, &self.settings.tz);
        let plans = self.plans(&resolved.metrics, &timeline)?;
        let clocks = self.clocks(plans.iter().any(|p| p.prog.uses_business()));
        let placement = Placement::new(&timeline, &self.cells);
        let context = self.context(&timeline, resolved.subjects);
        let mut values: Vec<Option<MetricValues>> = vec![None; resolved.metrics.len()];
        let mut states = Vec::new();
        for plan in &plans {
            let flags = self.exists_answers(plan, &clocks);
            let env = Env { data: self.data, org: &self.org, clocks: &clocks, indexes: &[], flags: &flags };
            let state = super::scan::scan(plan, &env, &placement);
            for (m, v) in super::finalize::finish_plan(plan, &state, &context, None) {
                values[m] = Some(v);
            }
            states.push((plan.source, state));
        }
        let pending =
            vec![Touched { subjects: HashSet::new(), periods: vec![false; timeline.periods.len()] }; states.len()];
        Ok(Live { resolved, timeline, states, values, pending })
    }
}

/// A record about to change: its source, its row when its key is known, and its cells
/// after the change (all empty for a delete).
#[derive(Clone, Copy, Debug)]
pub struct RecordChange<'c> {
    pub source: Source,
    pub existing: Option<usize>,
    pub cells: &'c [Cell],
}

/// What a record change affects in one live view: per plan, the rows whose contribution
/// can change, already subtracted ([`Live::retract`]), to be added back once the record
/// has changed ([`Live::restore`]).
#[derive(Debug)]
pub struct Retracted {
    affected: Vec<Vec<u32>>,
}

/// Does a change to this source move records between cells (so that live views are
/// rebuilt rather than updated record by record)?
pub fn changes_cells(source: Source) -> bool {
    matches!(source, Source::Teams | Source::People | Source::Memberships)
}

impl Live {
    /// Upserts a record into `data` and updates the values it affects. Returns its row.
    /// Teams, people and memberships change cells: the computation is rebuilt. (One view
    /// over data it is handed; [`crate::host::Host`] keeps several views right at once.)
    pub fn upsert(
        &mut self,
        data: &mut Dataset,
        settings: &Settings,
        _catalogue: &Catalogue,
        source: Source,
        cells: Vec<Cell>,
    ) -> Result<usize, Diagnostic> {
        if changes_cells(source) {
            let (row, _) = data.upsert(source, cells);
            self.rebuild(&Engine::new(data, settings))?;
            return Ok(row);
        }
        let existing = data.table(source).find_cells(&cells);
        let retracted = self.retract(&Engine::new(data, settings), source, existing, &cells)?;
        let mut answers = data.answers.take();
        let (row, _) = data.upsert(source, cells);
        self.restore(&Engine::new(data, settings), source, retracted, row, &mut answers)?;
        Ok(row)
    }

    /// Computes the view again from the records (after a change to teams, people or
    /// memberships, which moves records between cells).
    pub fn rebuild(&mut self, engine: &Engine) -> Result<(), Diagnostic> {
        *self = engine.live_resolved(self.resolved.clone())?;
        Ok(())
    }

    /// Before a record of `source` changes to `cells` (at row `existing`, if its key is
    /// known): subtracts what every record it can affect contributes now. `engine` is over
    /// the records as they are before the change.
    pub fn retract(
        &mut self,
        engine: &Engine,
        source: Source,
        existing: Option<usize>,
        cells: &[Cell],
    ) -> Result<Retracted, Diagnostic> {
        self.retract_all(engine, &[RecordChange { source, existing, cells }])
    }

    /// [`Live::retract`] for several record changes at once (one pass over each table).
    pub fn retract_all(&mut self, engine: &Engine, changes: &[RecordChange]) -> Result<Retracted, Diagnostic> {
        let plans = engine.plans(&self.resolved.metrics, &self.timeline)?;
        let affected: Vec<Vec<u32>> = plans.iter().map(|plan| affected_rows(engine, plan, changes)).collect();
        self.apply(engine, &plans, &affected, -1, None);
        Ok(Retracted { affected })
    }

    /// After the change (the record now at `row`): adds what the retracted records, and
    /// the changed one, contribute now. Puts the `exists` answers of this view's
    /// conditions, taken out of the data before the change, back with the affected rows'
    /// worked out again. `engine` is over the changed records.
    pub fn restore(
        &mut self,
        engine: &Engine,
        source: Source,
        retracted: Retracted,
        row: usize,
        answers: &mut AnswerMap,
    ) -> Result<(), Diagnostic> {
        self.restore_all(engine, retracted, &[(source, row)], answers)
    }

    /// [`Live::restore`] after several record changes (`written`: the source and row of
    /// each record written).
    pub fn restore_all(
        &mut self,
        engine: &Engine,
        retracted: Retracted,
        written: &[(Source, usize)],
        answers: &mut AnswerMap,
    ) -> Result<(), Diagnostic> {
        let plans = engine.plans(&self.resolved.metrics, &self.timeline)?;
        let affected: Vec<Vec<u32>> = plans
            .iter()
            .zip(retracted.affected)
            .map(|(plan, mut rows)| {
                rows.extend(written.iter().filter(|(s, _)| *s == plan.source).map(|&(_, r)| r as u32));
                rows.sort_unstable();
                rows.dedup();
                rows
            })
            .collect();
        self.apply(engine, &plans, &affected, 1, Some(answers));
        Ok(())
    }

    /// Adds (`sign` 1) or subtracts (−1) the contributions of `affected` rows of each plan;
    /// puts the plans' `answers` back into the data, with the affected rows' worked out again.
    fn apply(
        &mut self,
        engine: &Engine,
        plans: &[SourcePlan],
        affected: &[Vec<u32>],
        sign: i64,
        mut answers: Option<&mut AnswerMap>,
    ) {
        let placement = Placement::new(&self.timeline, &engine.cells);
        for (plan, rows) in plans.iter().zip(affected) {
            if rows.is_empty() {
                if let Some(answers) = answers.as_deref_mut() {
                    restore_answers(engine, plan, answers, None);
                }
                continue;
            }
            let p = self.states.iter().position(|(s, _)| *s == plan.source).expect("the same plans");
            let indexes = plan.exists_indexes(engine.data);
            let clocks = engine.clocks(plan.prog.uses_business());
            let env = Env { data: engine.data, org: &engine.org, clocks: &clocks, indexes: &indexes, flags: &[] };
            let mut delta = State::new(plan);
            let (mut ev, mut scratch) = (Evaluator::default(), Scratch::default());
            let needed = plan.needed_nodes(&[]);
            let mut sorted = rows.clone();
            sorted.sort_unstable();
            for batch in sorted.chunks(BATCH) {
                accumulate(plan, &needed, &env, &placement, Rows::List(batch), &mut delta, &mut ev, &mut scratch);
            }
            if let Some(answers) = answers.as_deref_mut() {
                restore_answers(engine, plan, answers, Some((&env, &sorted)));
            }
            delta.settle(plan, &self.timeline);
            touch(&self.timeline, &mut self.pending[p], engine, plan, &delta);
            self.states[p].1.add(&delta, sign);
        }
    }

    /// Brings the touched (subject, period) values up to date and returns all rows, as
    /// [`Engine::compute`] would.
    pub fn rows(&mut self, engine: &Engine) -> Result<Vec<ResultRow>, Diagnostic> {
        let plans = engine.plans(&self.resolved.metrics, &self.timeline)?;
        let context = engine.context(&self.timeline, self.resolved.subjects);
        for (p, (source, state)) in self.states.iter().enumerate() {
            let touched = &mut self.pending[p];
            if touched.subjects.is_empty() {
                continue;
            }
            let plan = plans.iter().find(|pl| pl.source == *source).expect("the same plans");
            for (m, fresh) in super::finalize::finish_plan(plan, state, &context, Some(touched)) {
                let values = self.values[m].as_mut().expect("computed");
                for (k, period) in values.iter_mut().enumerate() {
                    if !touched.periods[k] {
                        continue;
                    }
                    for subject in &touched.subjects {
                        match fresh[k].get(subject) {
                            Some(v) => period.insert(*subject, *v),
                            None => period.remove(subject),
                        };
                    }
                }
            }
            touched.subjects.clear();
            touched.periods.iter_mut().for_each(|x| *x = false);
        }
        let mut all: Vec<Option<MetricValues>> = self
            .resolved
            .metrics
            .iter()
            .zip(&self.values)
            .map(|(m, v)| if super::is_record_metric(m) { v.clone() } else { None })
            .collect();
        formula::evaluate_formulas(&self.resolved.metrics, &mut all, self.timeline.periods.len());
        let values: Vec<MetricValues> = all
            .into_iter()
            .map(|v| v.unwrap_or_else(|| vec![Default::default(); self.timeline.periods.len()]))
            .collect();
        Ok(rows::rows(engine, &self.resolved, &values))
    }
}

/// Puts the answers of `plan`'s `exists` conditions taken out of the data back, with those
/// of `changed` rows (sorted) worked out again through the environment's indexes.
fn restore_answers(engine: &Engine, plan: &SourcePlan, answers: &mut AnswerMap, changed: Option<(&Env, &[u32])>) {
    let n = engine.data.table(plan.source).len();
    for i in 0..plan.prog.exists.len() {
        let key = engine.answers_key(plan, i);
        let Some(mut kept) = answers.remove(&key) else { continue };
        let flags = Arc::make_mut(&mut kept);
        flags.resize(n, 0);
        if let Some((env, rows)) = changed {
            for (&r, answer) in rows.iter().zip(exists_flags_of_rows(&plan.prog, env, i, rows)) {
                flags[r as usize] = answer;
            }
        }
        engine.data.answers.insert(key, kept);
    }
}

/// Marks the subjects and periods whose accumulators `delta` changes.
fn touch(timeline: &Timeline, touched: &mut Touched, engine: &Engine, plan: &SourcePlan, delta: &State) {
    for (g, group) in plan.groups.iter().enumerate() {
        for (a, row) in delta.counters[g].chunks(group.width).enumerate() {
            if row[0] == 0 {
                continue;
            }
            let (cell, slot) = group.cell_slot(a);
            for k in 0..timeline.periods.len() {
                let in_period = match group.slots {
                    Slots::Atoms { .. } => {
                        let (lo, hi) = timeline.period_atoms[k];
                        (lo as usize..hi as usize).contains(&slot)
                    }
                    _ => slot == k,
                };
                touched.periods[k] |= in_period;
            }
            touched.subjects.insert(Subject::Org);
            if let Some(person) = engine.cells.person[cell] {
                touched.subjects.insert(Subject::Person(person));
            }
            if let Some(team) = engine.cells.team[cell] {
                for &t in &engine.org.ancestors[team as usize] {
                    touched.subjects.insert(Subject::Team(t));
                    // Team metrics give team leads a person row of their teams' value.
                    if let Some(lead) = engine.org.lead[t as usize] {
                        touched.subjects.insert(Subject::Person(lead));
                    }
                }
            }
        }
    }
}

/// The rows of `plan.source` whose contribution the record changes can change: the
/// changed records themselves, the records whose `exists` looks at one of their keys
/// (before or after the change), and the records that read one through a reference.
fn affected_rows(engine: &Engine, plan: &SourcePlan, changes: &[RecordChange]) -> Vec<u32> {
    let table = engine.data.table(plan.source);
    let n = table.len();
    let mut out: HashSet<u32> = changes
        .iter()
        .filter(|c| c.source == plan.source)
        .filter_map(|c| c.existing)
        .filter(|&r| r < n)
        .map(|r| r as u32)
        .collect();
    // Nodes whose value must not be one of these keys (sorted) for a row to be unaffected.
    let mut watch: Vec<(u32, Vec<i64>)> = Vec::new();
    let mut watch_key = |node: u32, key: i64| {
        if key == NULL {
            return;
        }
        match watch.iter_mut().find(|(id, _)| *id == node) {
            Some((_, keys)) => keys.push(key),
            None => watch.push((node, vec![key])),
        }
    };
    for change in changes {
        let inner = engine.data.table(change.source);
        for e in plan.prog.exists.iter().filter(|e| e.inner == change.source) {
            if let Some(r) = change.existing.filter(|&r| r < inner.len()) {
                watch_key(e.key_outer, inner.int(e.key_field as usize, r));
            }
            if let Some(k) = new_key(engine.data, change.source, e.key_field as usize, change.cells) {
                watch_key(e.key_outer, k);
            }
        }
        if let Some(r) = change.existing {
            for node in &plan.prog.nodes {
                if let Node::Deref { row, source: s, .. } = node
                    && *s == change.source
                {
                    watch_key(*row, r as i64);
                }
            }
        }
    }
    for (_, keys) in &mut watch {
        keys.sort_unstable();
        keys.dedup();
    }
    if !watch.is_empty() {
        let clocks = engine.clocks(false);
        let env = Env { data: engine.data, org: &engine.org, clocks: &clocks, indexes: &[], flags: &[] };
        let last = watch.iter().map(|(id, _)| *id).max().expect("non-empty") as usize;
        let mut ev = Evaluator::default();
        for start in (0..n).step_by(BATCH) {
            let rows = Rows::Range { start, len: BATCH.min(n - start) };
            ev.run_until(&plan.prog, &env, rows, last + 1);
            for (id, keys) in &watch {
                for (i, v) in ev.values(*id).iter().enumerate() {
                    if *v != NULL && keys.binary_search(v).is_ok() {
                        out.insert((start + i) as u32);
                    }
                }
            }
        }
    }
    let mut rows: Vec<u32> = out.into_iter().collect();
    rows.sort_unstable();
    rows
}

/// The value a key field will have after the upsert (a reference or key resolved against
/// the data; a label not yet known has no neighbours).
fn new_key(data: &Dataset, source: Source, field: usize, cells: &[Cell]) -> Option<i64> {
    match (&cells[field], source.def().fields[field].ty) {
        (Cell::Int(v), _) => Some(*v),
        (Cell::Text(t), FieldType::Key(_)) => data.customers.find(t).map(|c| c as i64),
        (Cell::Text(t), FieldType::Ref(target)) => data.table(target).find(t).map(|r| r as i64),
        (Cell::Text(t), FieldType::Id) => data.table(source).find(t).map(|r| r as i64),
        _ => None,
    }
}
