//! Live views registered with the host, and how a checked change reaches them: the
//! records a change affects are retracted from every view before the change and added
//! back after it, the `exists` answers kept with the records are worked out again for the
//! affected rows, and after a batch each view's values (and scorecards) are compared with
//! what it showed before: the change feed.

use std::collections::HashMap;
use std::sync::Arc;

use super::change::Op;
use super::config::Config;
use crate::data::{Cell, Dataset};
use crate::diag::Diagnostic;
use crate::engine::{Engine, Live, MetricValue, Query, ResultRow, Retracted, Subject, changes_cells};
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
        let rows = match live.rows(engine) {
            Ok(rows) => rows,
            Err(_) => {
                self.live = None;
                return Default::default();
            }
        };
        let values = moved_values(id, &self.rows, &rows);
        let mut cards = Vec::new();
        if let Some((period, before)) = &mut self.scores
            && (!values.is_empty() || self.rebuilt)
        {
            let after = scorecard::score_values(engine, &config.templates, *period, rows.clone());
            cards = moved_cards(id, *period, &before.cards, &after.cards);
            *before = after;
        }
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

/// Performs a checked change on the records and every view; returns the change that
/// undoes it.
pub(super) fn perform(config: &Config, data: &mut Dataset, views: &mut [View], op: Op) -> Op {
    let settings = &config.settings;
    let (source, existing, cells, delete) = match op {
        Op::Write { source, existing, cells } => (source, existing, cells, false),
        Op::Delete { source, row } => (source, Some(row), vec![Cell::Null; source.def().fields.len()], true),
    };
    let before = existing.map(|r| data.table(source).row_cells(r));
    let commit = |data: &mut Dataset, cells: Vec<Cell>| match (delete, existing) {
        (true, Some(row)) => {
            data.delete(source, row);
            row
        }
        _ => data.upsert(source, cells).0,
    };
    if changes_cells(source) {
        let row = commit(data, cells);
        let engine = Engine::new(data, settings);
        views.iter_mut().for_each(|v| v.rebuild(&engine));
        return undo(source, row, before);
    }
    let retracted: Vec<Option<Retracted>> = {
        let engine = Engine::new(data, settings);
        views
            .iter_mut()
            .map(|v| v.live.as_mut().and_then(|live| live.retract(&engine, source, existing, &cells).ok()))
            .collect()
    };
    let mut answers = data.answers.take();
    let row = commit(data, cells);
    let engine = Engine::new(data, settings);
    for (view, retracted) in views.iter_mut().zip(retracted) {
        let restored = match (&mut view.live, retracted) {
            (Some(live), Some(r)) => live.restore(&engine, source, r, row, &mut answers).is_ok(),
            _ => false,
        };
        if !restored {
            view.rebuild(&engine);
        }
    }
    undo(source, row, before)
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
