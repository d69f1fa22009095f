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
use crate::lang::eval::{Env, Evaluator, ExistsIndex, Rows, exists_flags_of_rows, is_self_join};
use crate::lang::program::{Node, Side};
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
    /// Per plan: the affected rows, sorted.
    affected: Vec<Vec<u32>>,
    /// Per plan, per `exists` of its program: the keys the changes had or have (sorted).
    keys: Vec<Vec<Vec<i64>>>,
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
        source: Source,
        cells: Vec<Cell>,
    ) -> Result<usize, Diagnostic> {
        if changes_cells(source) {
            let (row, _) = data.upsert(source, cells);
            self.rebuild(&Engine::new(data, settings))?;
            return Ok(row);
        }
        let existing = data.table(source).find_cells(&cells);
        let mut answers = data.answers.take();
        let change = RecordChange { source, existing, cells: &cells };
        let retracted = self.retract_all(&Engine::new(data, settings), &[change], &answers)?;
        let (row, _) = data.upsert(source, cells);
        self.restore_all(&Engine::new(data, settings), retracted, &[(source, row)], &mut answers)?;
        Ok(row)
    }

    /// Computes the view again from the records (after a change to teams, people or
    /// memberships, which moves records between cells).
    pub fn rebuild(&mut self, engine: &Engine) -> Result<(), Diagnostic> {
        *self = engine.live_resolved(self.resolved.clone())?;
        Ok(())
    }

    /// Before records change: subtracts what every record they can affect contributes
    /// now. `engine` is over the records as they are before the changes; `answers` are the
    /// `exists` answers kept with them (taken out of the data), read where they cover the
    /// affected rows instead of probing an index.
    pub fn retract_all(
        &mut self,
        engine: &Engine,
        changes: &[RecordChange],
        answers: &AnswerMap,
    ) -> Result<Retracted, Diagnostic> {
        let plans = engine.plans(&self.resolved.metrics, &self.timeline)?;
        let (mut affected, mut keys) = (Vec::new(), Vec::new());
        for plan in &plans {
            let t = std::time::Instant::now();
            let (rows, plan_keys) = affected_rows(engine, plan, changes);
            tracing::trace!(
                source = plan.source.name(),
                rows = rows.len(),
                seconds = t.elapsed().as_secs_f64(),
                "affected rows"
            );
            if !rows.is_empty() {
                let n = rows.last().map_or(0, |&r| r as usize + 1);
                let kept: Option<Vec<Option<Arc<Vec<u8>>>>> = (0..plan.prog.exists.len())
                    .map(|i| answers.get(&engine.answers_key(plan, i)).filter(|f| f.len() >= n).cloned().map(Some))
                    .collect();
                let (indexes, flags) = match kept {
                    Some(flags) => (Vec::new(), flags),
                    None => (plan.exists_indexes(engine.data), Vec::new()),
                };
                let t = std::time::Instant::now();
                self.add_rows(engine, plan, &rows, (&indexes, &flags), -1);
                tracing::trace!(source = plan.source.name(), seconds = t.elapsed().as_secs_f64(), "retracted");
            }
            affected.push(rows);
            keys.push(plan_keys);
        }
        Ok(Retracted { affected, keys })
    }

    /// After the changes (`written`: the source and row of each record written): adds
    /// back what the retracted records, and the written ones, contribute now. The `exists`
    /// answers taken out of the data before the changes are put back, with those of the
    /// affected rows worked out again (for a self-join, from an index of just the rows of
    /// the keys the changes touched); answers no view asks are left out. `engine` is over
    /// the changed records.
    pub fn restore_all(
        &mut self,
        engine: &Engine,
        retracted: Retracted,
        written: &[(Source, usize)],
        answers: &mut AnswerMap,
    ) -> Result<(), Diagnostic> {
        let plans = engine.plans(&self.resolved.metrics, &self.timeline)?;
        for ((plan, mut rows), keys) in plans.iter().zip(retracted.affected).zip(retracted.keys) {
            rows.extend(written.iter().filter(|(s, _)| *s == plan.source).map(|&(_, r)| r as u32));
            rows.sort_unstable();
            rows.dedup();
            let flags = updated_answers(engine, plan, &rows, &keys, answers);
            if rows.is_empty() {
                continue;
            }
            let indexes = match flags.iter().all(Option::is_some) {
                true => Vec::new(),
                false => plan.exists_indexes(engine.data),
            };
            self.add_rows(engine, plan, &rows, (&indexes, &flags), 1);
        }
        Ok(())
    }

    /// Adds (`sign` 1) or subtracts (−1) the contributions of `rows` (sorted) of a plan,
    /// its `exists` answered from `flags` where given, else from `indexes`.
    fn add_rows(
        &mut self,
        engine: &Engine,
        plan: &SourcePlan,
        rows: &[u32],
        (indexes, flags): (&[ExistsIndex], &[Option<Arc<Vec<u8>>>]),
        sign: i64,
    ) {
        let t0 = std::time::Instant::now();
        let placement = Placement::new(&self.timeline, &engine.cells);
        let p = self.states.iter().position(|(s, _)| *s == plan.source).expect("the same plans");
        let clocks = engine.clocks(plan.prog.uses_business());
        let t1 = std::time::Instant::now();
        let env = Env { data: engine.data, org: &engine.org, clocks: &clocks, indexes, flags };
        let mut delta = State::new(plan);
        let t2 = std::time::Instant::now();
        let (mut ev, mut scratch) = (Evaluator::default(), Scratch::default());
        let needed = plan.needed_nodes(&[]);
        for batch in rows.chunks(BATCH) {
            accumulate(plan, &needed, &env, &placement, Rows::List(batch), &mut delta, &mut ev, &mut scratch);
        }
        let t3 = std::time::Instant::now();
        delta.settle(plan, &self.timeline);
        touch(&self.timeline, &mut self.pending[p], engine, plan, &delta);
        let t4 = std::time::Instant::now();
        self.states[p].1.add(&delta, sign);
        tracing::trace!(
            clocks = (t1 - t0).as_secs_f64(),
            new_state = (t2 - t1).as_secs_f64(),
            accumulate = (t3 - t2).as_secs_f64(),
            settle_touch = (t4 - t3).as_secs_f64(),
            add = t4.elapsed().as_secs_f64(),
            "add rows"
        );
    }

    /// The subjects whose values changes have touched since the last [`Live::rows`].
    pub fn touched_subjects(&self) -> HashSet<Subject> {
        self.pending.iter().flat_map(|t| t.subjects.iter().copied()).collect()
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

/// The `exists` answers of a plan after a change, one entry per `exists` (None: none
/// kept, to be probed through an index): taken out of `answers` (the answers before the
/// change), those of `rows` (sorted) worked out again, and put back into the data; or,
/// when an earlier view already did so, as the data holds them.
fn updated_answers(
    engine: &Engine,
    plan: &SourcePlan,
    rows: &[u32],
    keys: &[Vec<i64>],
    answers: &mut AnswerMap,
) -> Vec<Option<Arc<Vec<u8>>>> {
    let table = engine.data.table(plan.source);
    let n = table.len();
    let clocks = engine.clocks(plan.prog.uses_business());
    let mut full: Option<Vec<ExistsIndex>> = None;
    (0..plan.prog.exists.len())
        .map(|i| {
            let key = engine.answers_key(plan, i);
            let Some(mut kept) = answers.remove(&key) else { return engine.data.answers.get(&key) };
            let flags = Arc::make_mut(&mut kept);
            flags.resize(n, 0);
            let e = &plan.prog.exists[i];
            if rows.is_empty() {
                // Nothing to work out again.
            } else if is_self_join(&plan.prog, i) {
                // The rows whose answer can have changed are those of a touched key (or of
                // none), and every record that can match them has a touched key: an index
                // of just those rows answers them.
                let key_of = |r: u32| table.int(e.key_field as usize, r as usize);
                let touched = |k: i64| k == NULL || keys[i].binary_search(&k).is_ok();
                let probe: Vec<u32> = rows.iter().copied().filter(|&r| touched(key_of(r))).collect();
                let mut indexes = vec![ExistsIndex::default(); plan.prog.exists.len()];
                indexes[i] = ExistsIndex::of_rows(table, e.key_field, e.time_field, &probe);
                let env = Env { data: engine.data, org: &engine.org, clocks: &clocks, indexes: &indexes, flags: &[] };
                for (&r, answer) in probe.iter().zip(exists_flags_of_rows(&plan.prog, &env, i, &probe)) {
                    flags[r as usize] = answer;
                }
            } else {
                let indexes = full.get_or_insert_with(|| plan.exists_indexes(engine.data));
                let env = Env { data: engine.data, org: &engine.org, clocks: &clocks, indexes, flags: &[] };
                for (&r, answer) in rows.iter().zip(exists_flags_of_rows(&plan.prog, &env, i, rows)) {
                    flags[r as usize] = answer;
                }
            }
            engine.data.answers.insert(key, kept.clone());
            Some(kept)
        })
        .collect()
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
/// Also, per `exists` of the plan, the keys the changes had or have (sorted).
fn affected_rows(engine: &Engine, plan: &SourcePlan, changes: &[RecordChange]) -> (Vec<u32>, Vec<Vec<i64>>) {
    let table = engine.data.table(plan.source);
    let n = table.len();
    let mut out: HashSet<u32> = changes
        .iter()
        .filter(|c| c.source == plan.source)
        .filter_map(|c| c.existing)
        .filter(|&r| r < n)
        .map(|r| r as u32)
        .collect();
    let mut exists_keys: Vec<Vec<i64>> = vec![Vec::new(); plan.prog.exists.len()];
    // Nodes whose value must not be one of these keys for a row to be unaffected.
    let mut watch: Vec<(u32, Vec<i64>)> = Vec::new();
    for change in changes {
        let inner = engine.data.table(change.source);
        for (i, e) in plan.prog.exists.iter().enumerate().filter(|(_, e)| e.inner == change.source) {
            if let Some(r) = change.existing.filter(|&r| r < inner.len()) {
                exists_keys[i].push(inner.int(e.key_field as usize, r));
            }
            exists_keys[i].extend(new_key(engine.data, change.source, e.key_field as usize, change.cells));
        }
        if let Some(r) = change.existing {
            for node in &plan.prog.nodes {
                if let Node::Deref { row, source: s, .. } = node
                    && *s == change.source
                {
                    watch.push((*row, vec![r as i64]));
                }
            }
        }
    }
    for (i, keys) in exists_keys.iter_mut().enumerate() {
        keys.retain(|&k| k != NULL);
        keys.sort_unstable();
        keys.dedup();
        watch.push((plan.prog.exists[i].key_outer, keys.clone()));
    }
    // One list of keys per node.
    watch.sort_by_key(|(node, _)| *node);
    let mut merged: Vec<(u32, Vec<i64>)> = Vec::new();
    for (node, keys) in watch {
        match merged.last_mut() {
            Some((last, all)) if *last == node => all.extend(keys),
            _ => merged.push((node, keys)),
        }
    }
    merged.retain_mut(|(_, keys)| {
        keys.retain(|&k| k != NULL);
        keys.sort_unstable();
        keys.dedup();
        !keys.is_empty()
    });
    // A node that reads a field of the row is answered from its column; any other by
    // evaluating the program over the table.
    let (fields, others): (Vec<_>, Vec<_>) = merged
        .into_iter()
        .partition(|(node, _)| matches!(plan.prog.nodes[*node as usize], Node::Field { side: Side::Row, .. }));
    for (node, keys) in &fields {
        let Node::Field { field, .. } = plan.prog.nodes[*node as usize] else { unreachable!("partitioned") };
        out.extend(rows_with_values(table, field as usize, keys));
    }
    if !others.is_empty() {
        let clocks = engine.clocks(false);
        let env = Env { data: engine.data, org: &engine.org, clocks: &clocks, indexes: &[], flags: &[] };
        let last = others.iter().map(|(id, _)| *id).max().expect("non-empty") as usize;
        let mut ev = Evaluator::default();
        for start in (0..n).step_by(BATCH) {
            let rows = Rows::Range { start, len: BATCH.min(n - start) };
            ev.run_until(&plan.prog, &env, rows, last + 1);
            for (id, keys) in &others {
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
    (rows, exists_keys)
}

/// The rows of `table` whose `field` holds one of `keys` (sorted, no null): a scan of the
/// column in parallel chunks (an id field's value is the row itself).
fn rows_with_values(table: &crate::data::Table, field: usize, keys: &[i64]) -> Vec<u32> {
    use crate::data::Column;
    use rayon::prelude::*;
    let n = table.len();
    let column = match &table.columns[field] {
        Column::Int(c) | Column::Coded { codes: c, .. } => c,
        Column::Id(_) => return keys.iter().filter(|&&k| k >= 0 && (k as usize) < n).map(|&k| k as u32).collect(),
        Column::Text(_) => return Vec::new(),
    };
    const CHUNK: usize = 1 << 16;
    (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .flat_map_iter(|c| {
            let start = c * CHUNK;
            let mut values = vec![0i64; CHUNK.min(n - start)];
            column.read_range(start, &mut values);
            values
                .into_iter()
                .enumerate()
                .filter(|&(_, v)| v != NULL && keys.binary_search(&v).is_ok())
                .map(move |(i, _)| (start + i) as u32)
                .collect::<Vec<u32>>()
        })
        .collect()
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
