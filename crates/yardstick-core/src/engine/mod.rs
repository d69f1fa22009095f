//! The KPI engine: computes any set of metrics for persons, teams and the organisation over
//! any periods, from the records.
//!
//! A computation plans every record metric of a source into one program, scans each source
//! table once (in parallel) into per-(cell, atom) accumulators, adds the accumulators up
//! per subject and period, then evaluates formula metrics and derived forms (`.change`,
//! `.attainment`). Results are exact rationals until printed.

mod cells;
pub mod explain;
mod finalize;
mod formula;
mod live;
mod output;
mod pairs;
mod percentile;
mod plan;
mod ranks;
mod rows;
mod scan;
mod subject_values;
mod timeline;
mod value;

use std::sync::Arc;

pub use cells::{Cells, Subject};
pub use finalize::SubjectKinds;
pub use live::{Live, RecordChange, Retracted, changes_cells};
pub use output::to_csv;
pub use subject_values::SubjectValues;
pub use timeline::Timeline;
pub use value::{MetricValue, Rational};

use crate::calendar::BusinessClock;
use crate::data::{Dataset, Org};
use crate::diag::Diagnostic;
use crate::lang::compile::Params;
use crate::lang::eval::{Clocks, Env, ExistsIndex};
use crate::metric::{Catalogue, MetricDef, MetricKind};
use crate::period::Period;
use crate::schema::Source;
use crate::settings::Settings;

/// A derived form of a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Derived {
    None,
    /// Value minus the value of the previous period of the same kind.
    Change,
    /// Value divided by the target.
    Attainment,
}

/// What to compute.
#[derive(Clone, Debug)]
pub struct Query {
    /// Metric ids (`fcr_rate`, `rating_mean:attitude`, `fcr_rate.change`); empty = every
    /// listed metric of the catalogue.
    pub metrics: Vec<String>,
    pub periods: Vec<Period>,
    pub subjects: SubjectKinds,
}

/// A query resolved against the catalogue.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    /// (output id, definition, derived form) of each requested metric.
    pub requested: Vec<(String, MetricDef, Derived)>,
    /// Everything the requested metrics need (formula operands included).
    pub metrics: Vec<MetricDef>,
    /// The periods computed: the requested ones and, for `.change`, their predecessors.
    pub periods: Vec<Period>,
    pub query_periods: Vec<Period>,
    pub subjects: SubjectKinds,
}

/// One value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultRow {
    pub period: Period,
    pub subject: Subject,
    pub metric: Arc<str>,
    pub value: MetricValue,
}

/// The organisation and its records, ready to compute on.
pub struct Engine<'a> {
    pub data: &'a Dataset,
    pub settings: &'a Settings,
    pub org: Org,
    pub cells: Cells,
    /// Problems found in the organisation structure.
    pub diagnostics: Vec<Diagnostic>,
    /// Prefixes the keys of this engine's `exists` answers in [`Dataset::answers`]: a
    /// fingerprint of the settings, which answers can depend on (time zone, calendars,
    /// lists), so that engines with other settings over the same records never share them.
    /// Made when first asked for (most engines never read an answer).
    answers_salt: std::sync::OnceLock<String>,
}

impl<'a> Engine<'a> {
    pub fn new(data: &'a Dataset, settings: &'a Settings) -> Engine<'a> {
        let (org, diagnostics) = Org::build(data);
        let cells = Cells::build(&org);
        Engine { data, settings, org, cells, diagnostics, answers_salt: Default::default() }
    }

    pub fn params(&self) -> Params {
        self.settings.params()
    }

    /// The business clocks: the organisation calendar and each team's (inherited from the
    /// nearest ancestor that has one). Built only when a metric measures business time.
    pub fn clocks(&self, needed: bool) -> Clocks {
        let tz = &self.settings.tz;
        let build = |c| {
            if needed { Arc::new(BusinessClock::new(c, tz)) } else { Arc::new(BusinessClock::with_range(c, tz, 0, 0)) }
        };
        let default = build(&self.settings.calendar);
        let teams = self.data.table(Source::Teams);
        let own: Vec<Option<Arc<BusinessClock>>> = (0..teams.len())
            .map(|t| {
                let id = teams.key_text(t);
                self.settings.team_calendars.iter().find(|(team, _)| *team == id).map(|(_, c)| build(c))
            })
            .collect();
        let by_team = (0..teams.len())
            .map(|t| {
                self.org.ancestors[t].iter().find_map(|&a| own[a as usize].clone()).unwrap_or_else(|| default.clone())
            })
            .collect();
        Clocks { default, by_team }
    }

    /// Resolves requested ids into (output id, definition, derived form).
    pub fn resolve(
        &self,
        catalogue: &Catalogue,
        ids: &[String],
    ) -> Result<Vec<(String, MetricDef, Derived)>, Diagnostic> {
        if ids.is_empty() {
            return Ok(catalogue.listed(self.data).into_iter().map(|m| (m.id.clone(), m, Derived::None)).collect());
        }
        let mut out = Vec::new();
        for id in ids {
            let (base, derived) = match id.rsplit_once('.') {
                Some((b, "change")) => (b, Derived::Change),
                Some((b, "attainment")) => (b, Derived::Attainment),
                _ => (id.as_str(), Derived::None),
            };
            let defs = catalogue.resolve(base, self.data).ok_or_else(|| {
                let mut known: Vec<&str> =
                    catalogue.metrics().iter().filter(|m| m.listed).map(|m| m.id.as_str()).collect();
                known.sort_unstable();
                let all = format!("{} (add .change or .attainment for derived forms)", known.join(", "));
                Diagnostic::argument("metric", "unknown_metric", format!("unknown metric `{base}`")).fix(
                    match crate::diag::closest(base, known.iter().copied()) {
                        Some(meant) => format!("did you mean `{meant}`? The metrics are {all}"),
                        None => format!("use one of {all}"),
                    },
                )
            })?;
            // An expanded id (`rating_mean:ITEM`) names a label of the data: one that no
            // record has is a typo, not an empty result (when there are records to look at).
            if let Some((expandable, label)) = base.split_once(':')
                && let Some(all) =
                    catalogue.get(expandable).map(|m| catalogue.resolve(&m.id, self.data).unwrap_or_default())
                && !all.is_empty()
                && !all.iter().any(|m| m.id == base)
            {
                let items: Vec<&str> = all.iter().filter_map(|m| m.id.split_once(':').map(|(_, l)| l)).collect();
                let fix = match crate::diag::closest(label, items.iter().copied()) {
                    Some(meant) => format!("did you mean `{expandable}:{meant}`? The data has {}", items.join(", ")),
                    None => format!("use one of {} (as {expandable}:ITEM)", items.join(", ")),
                };
                return Err(Diagnostic::argument(
                    "metric",
                    "unknown_metric",
                    format!("no record has the item `{label}` of `{expandable}`"),
                )
                .fix(fix));
            }
            for m in defs {
                if derived == Derived::Attainment && self.target(&m).is_none() {
                    return Err(Diagnostic::argument(
                        "metric",
                        "attainment_without_target",
                        format!("{}.attainment needs a target", m.id),
                    )
                    .fix(format!("add `{} = …` under [targets] in yardstick.toml", m.id)));
                }
                let out_id = match derived {
                    Derived::None => m.id.clone(),
                    Derived::Change => format!("{}.change", m.id),
                    Derived::Attainment => format!("{}.attainment", m.id),
                };
                out.push((out_id, m, derived));
            }
        }
        Ok(out)
    }

    fn target(&self, m: &MetricDef) -> Option<f64> {
        self.settings.targets.get(&m.id).copied().or(m.target)
    }

    /// Resolves a query: the requested metrics, everything they need, and the periods to
    /// compute (with the previous ones when `.change` is asked for).
    pub(crate) fn resolve_query(&self, catalogue: &Catalogue, query: &Query) -> Result<Resolved, Diagnostic> {
        let requested = self.resolve(catalogue, &query.metrics)?;
        let mut periods: Vec<Period> = query.periods.clone();
        if requested.iter().any(|(_, _, d)| *d == Derived::Change) {
            periods.extend(query.periods.iter().map(Period::previous));
        }
        periods.sort_unstable();
        periods.dedup();
        let bases: Vec<MetricDef> = {
            let mut seen = std::collections::HashSet::new();
            requested.iter().filter(|(_, m, _)| seen.insert(m.id.clone())).map(|(_, m, _)| m.clone()).collect()
        };
        let metrics = catalogue.closure(&bases);
        Ok(Resolved { requested, metrics, periods, query_periods: query.periods.clone(), subjects: query.subjects })
    }

    /// Computes a query. Rows come sorted by period, subject kind, subject id and metric, as
    /// plain strings (SPEC §4).
    pub fn compute(&self, catalogue: &Catalogue, query: &Query) -> Result<Vec<ResultRow>, Diagnostic> {
        let resolved = self.resolve_query(catalogue, query)?;
        let t0 = std::time::Instant::now();
        let values = self.values(&resolved.metrics, &resolved.periods, resolved.subjects)?;
        let t1 = std::time::Instant::now();
        let rows = rows::rows(self, &resolved, &values);
        tracing::debug!(values_seconds = (t1 - t0).as_secs_f64(), rows_seconds = t1.elapsed().as_secs_f64(), "compute");
        Ok(rows)
    }

    /// Works out the `exists` answers of every metric of the catalogue and keeps them with
    /// the records ([`Dataset::answers`]), the plans in parallel: what a store does once
    /// after loading, so that no computation pays for them. Returns how many are kept.
    pub fn prepare(&self, catalogue: &Catalogue) -> Result<usize, Diagnostic> {
        use rayon::prelude::*;
        let query = Query { metrics: Vec::new(), periods: vec![Period::year(2000)], subjects: SubjectKinds::ALL };
        let resolved = self.resolve_query(catalogue, &query)?;
        let timeline = Timeline::new(&resolved.periods, &self.settings.tz);
        let plans = self.plans(&resolved.metrics, &timeline)?;
        let clocks = self.clocks(plans.iter().any(|p| p.prog.uses_business()));
        let kept = plans.par_iter().map(|plan| self.exists_answers(plan, &clocks).len()).sum();
        Ok(kept)
    }

    /// Every record metric among `metrics`, planned per source.
    pub(crate) fn plans(
        &self,
        metrics: &[MetricDef],
        timeline: &Timeline,
    ) -> Result<Vec<plan::SourcePlan>, Diagnostic> {
        let params = self.params();
        let mut plans = Vec::new();
        for source in Source::ALL {
            if let Some(p) =
                plan::plan_source(source, metrics, self.data, &params, timeline, &self.settings.tz, self.cells.len())?
            {
                plans.push(p);
            }
        }
        Ok(plans)
    }

    pub(crate) fn context<'c>(&'c self, timeline: &'c Timeline, subjects: SubjectKinds) -> finalize::Context<'c> {
        finalize::Context {
            cells: &self.cells,
            timeline,
            parent: &self.org.parent,
            n_people: self.data.table(Source::People).len(),
            subjects,
        }
    }

    /// Values of every metric in `metrics` (record metrics first, then formulas), indexed
    /// like `metrics`, per period, per subject.
    pub fn values(
        &self,
        metrics: &[MetricDef],
        periods: &[Period],
        subjects: SubjectKinds,
    ) -> Result<Vec<finalize::MetricValues>, Diagnostic> {
        let started = std::time::Instant::now();
        let timeline = Timeline::new(periods, &self.settings.tz);
        let plans = self.plans(metrics, &timeline)?;
        let clocks = self.clocks(plans.iter().any(|p| p.prog.uses_business()));
        let placement = scan::Placement::new(&timeline, &self.cells);
        let mut out: Vec<Option<finalize::MetricValues>> = vec![None; metrics.len()];
        let context = self.context(&timeline, subjects);
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), "plans and clocks");
        // All plans at once: the pass and finalisation of a small table cannot keep the
        // cores busy on their own, so they run beside the large ones (rayon shares the
        // threads between the nested parallel loops).
        use rayon::prelude::*;
        let finished: Vec<Vec<(usize, finalize::MetricValues)>> = plans
            .par_iter()
            .map(|plan| {
                let t0 = std::time::Instant::now();
                let flags = self.exists_answers(plan, &clocks);
                let env = Env { data: self.data, org: &self.org, clocks: &clocks, indexes: &[], flags: &flags };
                let state = scan::scan(plan, &env, &placement);
                let t1 = std::time::Instant::now();
                let values = finalize::finish_plan(plan, &state, &context, None);
                tracing::debug!(
                    source = plan.source.name(),
                    nodes = plan.prog.nodes.len(),
                    groups = plan.groups.len(),
                    metrics = plan.metrics.len(),
                    scan_seconds = (t1 - t0).as_secs_f64(),
                    finalize_seconds = t1.elapsed().as_secs_f64(),
                    "plan"
                );
                values
            })
            .collect();
        for (metric, values) in finished.into_iter().flatten() {
            out[metric] = Some(values);
        }
        let t = std::time::Instant::now();
        formula::evaluate_formulas(metrics, &mut out, periods.len());
        tracing::debug!(seconds = t.elapsed().as_secs_f64(), "formulas");
        Ok(out.into_iter().map(|v| v.unwrap_or_else(|| vec![SubjectValues::new(); periods.len()])).collect())
    }

    /// The key under which the answers of `exists` entry `i` of a plan are kept in
    /// [`Dataset::answers`].
    pub(crate) fn answers_key(&self, plan: &plan::SourcePlan, i: usize) -> String {
        let node = crate::lang::program::Node::Exists(i as u32);
        let id = plan.prog.nodes.iter().position(|n| *n == node).expect("exists node");
        let salt = self.answers_salt.get_or_init(|| format!("{:016x} ", self.settings.fingerprint()));
        format!("{salt}{}", crate::lang::eval::describe(&plan.prog, id as u32, false))
    }

    /// The per-row answers of every `exists` in a plan's program, kept with the records or
    /// worked out now (in parallel) and kept.
    fn exists_answers(&self, plan: &plan::SourcePlan, clocks: &Clocks) -> Vec<Option<Arc<Vec<u8>>>> {
        let no_flags: Vec<Option<Arc<Vec<u8>>>> = vec![None; plan.prog.exists.len()];
        let mut indexes: Option<Vec<ExistsIndex>> = None;
        let mut out = Vec::new();
        for i in 0..plan.prog.exists.len() {
            let key = self.answers_key(plan, i);
            if let Some(flags) = self.data.answers.get(&key) {
                out.push(Some(flags));
                continue;
            }
            // Only a cache miss that is not a self-join needs the indexes.
            let t0 = std::time::Instant::now();
            let indexes: &[ExistsIndex] = match crate::lang::eval::needs_index(&plan.prog, i) {
                true => indexes.get_or_insert_with(|| plan.exists_indexes(self.data)),
                false => &[],
            };
            let t1 = std::time::Instant::now();
            let probe_env = Env { data: self.data, org: &self.org, clocks, indexes, flags: &no_flags };
            let flags = Arc::new(crate::lang::eval::exists_flags(&plan.prog, &probe_env, i));
            tracing::debug!(
                source = plan.source.name(),
                exists = i,
                indexes_seconds = (t1 - t0).as_secs_f64(),
                answers_seconds = t1.elapsed().as_secs_f64(),
                "exists answers"
            );
            self.data.answers.insert(key, flags.clone());
            out.push(Some(flags));
        }
        out
    }

    /// The id of a subject as written in files (person id, team id, the organisation id).
    pub fn subject_id(&self, subject: Subject) -> String {
        match subject {
            Subject::Org => self.settings.org_id.clone(),
            Subject::Team(t) => self.data.table(Source::Teams).key_text(t as usize),
            Subject::Person(p) => self.data.table(Source::People).key_text(p as usize),
        }
    }

    /// Finds a subject by kind and id.
    pub fn find_subject(&self, kind: &str, id: &str) -> Option<Subject> {
        match kind {
            "org" => Some(Subject::Org),
            "team" => self.data.table(Source::Teams).find(id).map(|t| Subject::Team(t as u32)),
            "person" => self.data.table(Source::People).find(id).map(|p| Subject::Person(p as u32)),
            _ => None,
        }
    }
}

fn rational_of_f64(x: f64) -> Option<Rational> {
    let micros = (x * 1_000_000.0).round();
    micros.is_finite().then(|| Rational::new(micros as i128, 1_000_000)).flatten()
}

/// Is this metric defined over records (not a formula)?
pub fn is_record_metric(m: &MetricDef) -> bool {
    matches!(m.kind, MetricKind::Records(_))
}

/// Quotes a CSV field when needed, and neutralises text a spreadsheet would execute.
pub fn csv_field(s: &str) -> String {
    csv_quote(neutralise(s))
}

/// Text beginning with `= + - @` (or a tab or carriage return) gets a leading `'`, so that
/// no spreadsheet runs it as a formula. For text only: a negative number stays a number.
pub fn neutralise(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_quote(s: String) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[cfg(test)]
mod tests;
