//! Live views registered with the host, and how a checked change reaches them: the
//! records a change affects are retracted from every view before the change and added
//! back after it, the `exists` answers kept with the records are worked out again for the
//! affected rows, and after a batch each view's values (and scorecards) are compared with
//! what it showed before: the change feed.

use std::collections::HashMap;
use std::sync::Arc;

use super::change::Op;
use super::config::Config;
use crate::data::{AnswerMap, Cell, Dataset};
use crate::diag::Diagnostic;
use crate::engine::{Engine, Live, MetricValue, Query, RecordChange, ResultRow, Retracted, Subject, changes_cells};
use crate::period::Period;
use crate::scorecard::{self, Scorecard, Scored, Scoring};

/// A registered view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ViewId(pub usize);

/// A value of a view that a batch of changes moved (`None`: no row before, or after).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovedValue {
    pub view: ViewId,
    pub period: Period,
    pub subject: Subject,
    pub metric: Arc<str>,
    pub before: Option<MetricValue>,
    pub after: Option<MetricValue>,
}

/// A scorecard of a scoring view that a batch of changes moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovedCard {
    pub view: ViewId,
    pub period: Period,
    pub scored: Scored,
    pub before: Option<Scorecard>,
    pub after: Option<Scorecard>,
}

pub(super) struct View {
    /// None when the view could not be computed again (reported once, then left out).
    live: Option<Live>,
    rows: Vec<ResultRow>,
    /// A scoring view: its period and scorecards.
    scores: Option<(Period, Scoring)>,
    /// Rebuilt since the last refresh (teams, people or memberships changed: scorecards can
    /// move without any value moving, by a person's team at the period's end).
    rebuilt: bool,
}

impl View {
    pub(super) fn metrics(engine: &Engine, config: &Config, query: &Query) -> Result<View, Diagnostic> {
        let mut live = engine.live(&config.catalogue, query)?;
        let rows = live.rows(engine)?;
        Ok(View { live: Some(live), rows, scores: None, rebuilt: false })
    }

    pub(super) fn scores(engine: &Engine, config: &Config, period: Period) -> Result<View, Diagnostic> {
        let query = scorecard::metric_query(&config.templates, period)?;
        let mut view = View::metrics(engine, config, &query)?;
        let scoring = scorecard::score_values(engine, &config.templates, period, view.rows.clone());
        view.scores = Some((period, scoring));
        Ok(view)
    }

    pub(super) fn rows(&self) -> &[ResultRow] {
        &self.rows
    }

    pub(super) fn scoring(&self) -> Option<&Scoring> {
        self.scores.as_ref().map(|(_, s)| s)
    }

    /// Brings the view's rows (and scorecards) up to date; returns what differs.
    pub(super) fn refresh(
        &mut self,
        engine: &Engine,
        config: &Config,
        id: ViewId,
    ) -> (Vec<MovedValue>, Vec<MovedCard>) {
        let Some(live) = &mut self.live else { return Default::default() };
        let t = std::time::Instant::now();
        // Only the touched subjects' rows can differ (a rebuilt view's can all differ).
        let touched = (!self.rebuilt).then(|| live.touched_subjects());
        let rows = match live.rows(engine) {
            Ok(rows) => rows,
            Err(_) => {
                self.live = None;
                return Default::default();
            }
        };
        tracing::debug!(seconds = t.elapsed().as_secs_f64(), "view rows");
        let started = std::time::Instant::now();
        let values = match &touched {
            Some(touched) => {
                let of_touched = |rows: &[ResultRow]| -> Vec<ResultRow> {
                    rows.iter().filter(|r| touched.contains(&r.subject)).cloned().collect()
                };
                moved_values(id, &of_touched(&self.rows), &of_touched(&rows))
            }
            None => moved_values(id, &self.rows, &rows),
        };
        let compared = started.elapsed().as_secs_f64();
        let mut cards = Vec::new();
        if let Some((period, before)) = &mut self.scores
            && (!values.is_empty() || self.rebuilt)
        {
            let reuse = touched.as_ref().map(|touched| (&*before, touched));
            let after = scorecard::score_values_reusing(engine, &config.templates, *period, rows.clone(), reuse);
            cards = moved_cards(id, *period, &before.cards, &after.cards);
            *before = after;
        }
        tracing::debug!(
            rows = rows.len(),
            compare_seconds = compared,
            seconds = started.elapsed().as_secs_f64(),
            "view refreshed"
        );
        self.rows = rows;
        self.rebuilt = false;
        (values, cards)
    }

    fn rebuild(&mut self, engine: &Engine) {
        self.rebuilt = true;
        if let Some(live) = &mut self.live
            && live.rebuild(engine).is_err()
        {
            self.live = None;
        }
    }
}

/// Writes a checked change into the records (and nothing else); returns the row written
/// and the change that undoes it.
pub(super) fn commit(data: &mut Dataset, op: &Op) -> (usize, Op) {
    match op {
        Op::Write { source, existing, cells } => {
            let before = existing.map(|r| data.table(*source).row_cells(r));
            let (row, _) = data.upsert(*source, cells.clone());
            (row, undo(*source, row, before))
        }
        Op::Delete { source, row } => {
            let before = data.delete(*source, *row);
            (*row, Op::Write { source: *source, existing: None, cells: before })
        }
    }
}

/// Applies a batch of checked changes (each checked against the records as the ones before
/// it left them) to the records and every view: the records they affect are retracted
/// from each view once, the changes written, and the records added back once, so that a
/// batch costs one pass over each table, not one per change. A change to teams, people or
/// memberships moves records between cells: then every view is computed again.
/// `answers`: the `exists` answers kept with the records before the batch, which the
/// views bring up to date (those no view asks are dropped).
pub(super) fn perform(config: &Config, data: &mut Dataset, views: &mut [View], ops: &[Op], mut answers: AnswerMap) {
    let settings = &config.settings;
    if ops.iter().any(|op| changes_cells(op.source())) {
        for op in ops {
            commit(data, op);
        }
        let engine = Engine::new(data, settings);
        views.iter_mut().for_each(|v| v.rebuild(&engine));
        return;
    }
    let nulls: Vec<Vec<Cell>> = ops.iter().map(|op| vec![Cell::Null; op.source().def().fields.len()]).collect();
    let changes: Vec<RecordChange> = ops
        .iter()
        .zip(&nulls)
        .map(|(op, nulls)| match op {
            Op::Write { source, existing, cells } => RecordChange { source: *source, existing: *existing, cells },
            Op::Delete { source, row } => RecordChange { source: *source, existing: Some(*row), cells: nulls },
        })
        .collect();
    let started = std::time::Instant::now();
    let retracted: Vec<Option<Retracted>> = {
        let engine = Engine::new(data, settings);
        views
            .iter_mut()
            .map(|v| v.live.as_mut().and_then(|live| live.retract_all(&engine, &changes, &answers).ok()))
            .collect()
    };
    drop(changes);
    let written: Vec<(crate::schema::Source, usize)> = ops.iter().map(|op| (op.source(), commit(data, op).0)).collect();
    let engine = Engine::new(data, settings);
    let retracted_at = started.elapsed().as_secs_f64();
    for (view, retracted) in views.iter_mut().zip(retracted) {
        let restored = match (&mut view.live, retracted) {
            (Some(live), Some(r)) => live.restore_all(&engine, r, &written, &mut answers).is_ok(),
            _ => false,
        };
        if !restored {
            view.rebuild(&engine);
        }
    }
    tracing::debug!(
        changes = ops.len(),
        retract_seconds = retracted_at,
        seconds = started.elapsed().as_secs_f64(),
        "views updated"
    );
}

/// Computes every view again (after the organisation's cells moved).
pub(super) fn rebuild_all(config: &Config, data: &Dataset, views: &mut [View]) {
    let engine = Engine::new(data, &config.settings);
    views.iter_mut().for_each(|v| v.rebuild(&engine));
}

/// The change that puts row `row` of `source` back as it was (`before`; None: it did not
/// exist, or was deleted).
fn undo(source: crate::schema::Source, row: usize, before: Option<Vec<Cell>>) -> Op {
    match before {
        Some(cells) => Op::Write { source, existing: Some(row), cells },
        None => Op::Delete { source, row },
    }
}

/// The values that differ between two row sets of a view.
fn moved_values(view: ViewId, before: &[ResultRow], after: &[ResultRow]) -> Vec<MovedValue> {
    type Key = (Period, Subject, Arc<str>);
    let index: HashMap<Key, &MetricValue> =
        before.iter().map(|r| ((r.period, r.subject, r.metric.clone()), &r.value)).collect();
    let mut seen: HashMap<Key, ()> = HashMap::with_capacity(after.len());
    let mut out = Vec::new();
    for r in after {
        let key = (r.period, r.subject, r.metric.clone());
        let old = index.get(&key).copied();
        if old != Some(&r.value) {
            out.push(MovedValue {
                view,
                period: r.period,
                subject: r.subject,
                metric: r.metric.clone(),
                before: old.copied(),
                after: Some(r.value),
            });
        }
        seen.insert(key, ());
    }
    for r in before {
        if !seen.contains_key(&(r.period, r.subject, r.metric.clone())) {
            out.push(MovedValue {
                view,
                period: r.period,
                subject: r.subject,
                metric: r.metric.clone(),
                before: Some(r.value),
                after: None,
            });
        }
    }
    out
}

/// The scorecards that differ between two scorings of a period.
fn moved_cards(view: ViewId, period: Period, before: &[Scorecard], after: &[Scorecard]) -> Vec<MovedCard> {
    let index: HashMap<Scored, &Scorecard> = before.iter().map(|c| (c.scored, c)).collect();
    let mut out = Vec::new();
    for card in after {
        let old = index.get(&card.scored).copied();
        if old != Some(card) {
            out.push(MovedCard { view, period, scored: card.scored, before: old.cloned(), after: Some(card.clone()) });
        }
    }
    let now: HashMap<Scored, ()> = after.iter().map(|c| (c.scored, ())).collect();
    for card in before.iter().filter(|c| !now.contains_key(&c.scored)) {
        out.push(MovedCard { view, period, scored: card.scored, before: Some(card.clone()), after: None });
    }
    out
}
