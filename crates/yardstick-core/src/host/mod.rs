//! The host: the one owner of an organisation's configuration, records and live views.
//! Every front end (the CLI, the web application, the store's loader) reads through it and
//! changes records only through [`Host::apply`], which checks a batch of changes whole,
//! keeps every registered view right, and says what moved.
//!
//! Readers take [`Host::read`] — a consistent [`State`] — for as long as a computation
//! runs; a writer holds the state only while it applies a batch (milliseconds for a few
//! records), so pages keep being answered while records arrive.

mod change;
pub mod config;
mod views;

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use change::Change;
pub use config::{Checked, Config, ReadFile, check_files};
pub use views::{MovedCard, MovedValue, ViewId};

use crate::data::Dataset;
use crate::diag::{Diagnostic, Diagnostics, Origin};
use crate::engine::explain::Explanation;
use crate::engine::{Engine, Query, ResultRow, Subject};
use crate::period::Period;
use crate::schema::Source;
use crate::scorecard::{self, Scoring};
use views::View;

/// The configuration, the records and the live views of one organisation.
pub struct Host {
    state: RwLock<State>,
}

/// What readers see: the configuration and the records at one moment.
pub struct State {
    pub config: Arc<Config>,
    pub data: Dataset,
    views: Vec<View>,
    /// How many batches of changes have been applied.
    pub sequence: u64,
}

/// What one [`Host::apply`] did.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// The changes applied (all of the batch).
    pub changes: usize,
    /// The sequence number of the state after them.
    pub sequence: u64,
    /// Every value of a registered view that differs from before, in view order.
    pub values: Vec<MovedValue>,
    /// Every scorecard of a registered scoring view that differs from before.
    pub scorecards: Vec<MovedCard>,
}

impl Host {
    pub fn new(config: Config, data: Dataset) -> Host {
        Host { state: RwLock::new(State { config: Arc::new(config), data, views: Vec::new(), sequence: 0 }) }
    }

    /// The state, for reading. Writers wait while it is held.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Works out the `exists` answers of the whole catalogue once, so that no later
    /// computation pays for them (what a server does after loading).
    pub fn prepare(&self) -> Result<usize, Diagnostic> {
        let state = self.read();
        state.engine().prepare(&state.config.catalogue)
    }

    /// Registers a live view of a query: kept up to date by every [`Host::apply`], which
    /// reports its values that moved.
    pub fn watch(&self, query: &Query) -> Result<ViewId, Diagnostic> {
        let mut state = self.write();
        let view = View::metrics(&state.engine(), &state.config, query)?;
        state.views.push(view);
        Ok(ViewId(state.views.len() - 1))
    }

    /// Registers a live view of a period's scorecards (and the values they read).
    pub fn watch_scores(&self, period: Period) -> Result<ViewId, Diagnostic> {
        let mut state = self.write();
        let view = View::scores(&state.engine(), &state.config, period)?;
        state.views.push(view);
        Ok(ViewId(state.views.len() - 1))
    }

    /// Applies a batch of changes, in order, as one: each is checked against the records
    /// as the changes before it left them, and if one is refused, those before it are
    /// undone and nothing has changed. Returns what moved in the registered views.
    pub fn apply(&self, changes: &[Change]) -> Result<Applied, Diagnostics> {
        let mut guard = self.write();
        let state = &mut *guard;
        // Each change is checked against the records as the changes before it left them:
        // written into the records alone (the kept `exists` answers set aside), then all
        // undone, so that the views see the batch whole or not at all.
        let answers = state.data.answers.take();
        let lengths: Vec<usize> = Source::ALL.iter().map(|&s| state.data.table(s).len()).collect();
        let (mut ops, mut undo) = (Vec::with_capacity(changes.len()), Vec::with_capacity(changes.len()));
        let mut refused = None;
        for (i, change) in changes.iter().enumerate() {
            match change::prepare(&state.data, &state.config.settings, i, change) {
                Ok(op) => {
                    undo.push(views::commit(&mut state.data, &op).1);
                    ops.push(op);
                }
                Err(diagnostics) => {
                    refused = Some(diagnostics);
                    break;
                }
            }
        }
        for op in undo.iter().rev() {
            views::commit(&mut state.data, op);
        }
        if let Some(diagnostics) = refused {
            // A team or person added and taken out again leaves an empty row, which moves
            // the organisation's cells: the views are computed again.
            if ops.iter().any(|op| crate::engine::changes_cells(op.source())) {
                views::rebuild_all(&state.config, &state.data, &mut state.views);
            }
            // The answers are per row: kept only if no table grew (a record added and taken
            // out again leaves an empty row, which they have no answer for).
            if Source::ALL.iter().zip(&lengths).all(|(&s, &n)| state.data.table(s).len() == n) {
                for (key, kept) in answers {
                    state.data.answers.insert(key, kept);
                }
            }
            return Err(Diagnostics(diagnostics));
        }
        views::perform(&state.config, &mut state.data, &mut state.views, &ops, answers);
        state.sequence += 1;
        let (values, scorecards) = state.refresh();
        Ok(Applied { changes: changes.len(), sequence: state.sequence, values, scorecards })
    }
}

impl State {
    /// An engine over the records (cheap: it builds the team tree and the cells).
    pub fn engine(&self) -> Engine<'_> {
        Engine::new(&self.data, &self.config.settings)
    }

    /// Computes a query (SPEC §4 rows, sorted).
    pub fn metrics(&self, query: &Query) -> Result<Vec<ResultRow>, Diagnostic> {
        self.engine().compute(&self.config.catalogue, query)
    }

    /// Checks metric ids without computing anything (an unknown id is reported before
    /// any work is done).
    pub fn check_metrics(&self, ids: &[String]) -> Result<(), Diagnostic> {
        self.engine().resolve(&self.config.catalogue, ids).map(|_| ())
    }

    /// A period's scorecards.
    pub fn score(&self, period: Period) -> Result<Scoring, Diagnostic> {
        scorecard::score(&self.engine(), &self.config.catalogue, &self.config.templates, period)
    }

    /// The records behind one value, counted and excluded.
    pub fn records(&self, metric: &str, subject: Subject, period: Period) -> Result<Vec<Explanation>, Diagnostic> {
        self.engine().records(&self.config.catalogue, metric, subject, period)
    }

    /// A subject written as `person:ID`, `team:ID` or `org`.
    pub fn subject(&self, text: &str) -> Result<Subject, Diagnostic> {
        let (kind, id) = text.split_once(':').unwrap_or((text, ""));
        self.engine().find_subject(kind.trim(), id.trim()).ok_or_else(|| {
            let known = ["person", "team", "org"].contains(&kind.trim());
            let message = if known { format!("no subject `{text}`") } else { format!("`{text}` is not a subject") };
            Diagnostic::argument("subject", "unknown_subject", message)
                .fix("write person:ID, team:ID or org, with an id from people.csv or teams.csv")
        })
    }

    /// The current rows of a metric view.
    pub fn view_rows(&self, id: ViewId) -> &[ResultRow] {
        self.views.get(id.0).map_or(&[], View::rows)
    }

    /// The current scorecards of a scoring view.
    pub fn view_scores(&self, id: ViewId) -> Option<&Scoring> {
        self.views.get(id.0).and_then(View::scoring)
    }

    /// Brings every view up to date; returns what moved.
    fn refresh(&mut self) -> (Vec<MovedValue>, Vec<MovedCard>) {
        let engine = Engine::new(&self.data, &self.config.settings);
        let (mut values, mut cards) = (Vec::new(), Vec::new());
        for (i, view) in self.views.iter_mut().enumerate() {
            let (v, c) = view.refresh(&engine, &self.config, ViewId(i));
            values.extend(v);
            cards.extend(c);
        }
        (values, cards)
    }
}

#[cfg(test)]
mod tests;
