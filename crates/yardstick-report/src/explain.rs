//! One scorecard explained down to the records: for each item the records behind its
//! value (counted, with what each adds, or excluded, with why) and, for a `.change` item,
//! the two values it compares — what `yardstick explain` prints and the web API returns.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Number;
use yardstick_core::diag::Diagnostic;
use yardstick_core::engine::explain::{Explanation, RecordStatus};
use yardstick_core::engine::{Engine, Query, Subject, SubjectKinds, csv_field};
use yardstick_core::metric::Catalogue;
use yardstick_core::period::Period;
use yardstick_core::scorecard::{Item, Of, Scorecard, Scored, TemplateSet};

use crate::card::{CardReport, num};
use crate::sheet::Names;

/// A scorecard with its records (`explain --format json`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExplainReport {
    pub period: String,
    pub scorecard: CardReport,
}

/// A record behind a value: counted (with what it adds) or excluded (with why).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RecordReport {
    Counted {
        denominator: Option<i64>,
        metric: String,
        numerator: Option<i64>,
        record_id: String,
        source: String,
        /// `counted`.
        status: String,
        value: Option<Number>,
    },
    Excluded {
        metric: String,
        reason_en: String,
        reason_zh: String,
        record_id: String,
        source: String,
        /// `excluded`.
        status: String,
    },
}

/// A `.change` item's two values: this period's and the previous one's.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ChangeReport {
    pub arithmetic: String,
    pub metric: String,
    pub previous_period: String,
    pub previous_value: Option<Number>,
    pub value: Option<Number>,
}

/// The records of explanations as reports.
pub fn record_reports(engine: &Engine, explanations: &[Explanation]) -> Vec<RecordReport> {
    let mut out = Vec::new();
    for e in explanations {
        let table = engine.data.table(e.source);
        for entry in &e.entries {
            let (metric, source, record_id) =
                (e.metric.clone(), e.source.name().to_string(), table.key_text(entry.row));
            out.push(match &entry.status {
                RecordStatus::Counted { numerator, denominator, value } => RecordReport::Counted {
                    denominator: *denominator,
                    metric,
                    numerator: *numerator,
                    record_id,
                    source,
                    status: "counted".into(),
                    value: num(*value, 6),
                },
                RecordStatus::Excluded { reason_zh, reason_en } => RecordReport::Excluded {
                    metric,
                    reason_en: reason_en.clone(),
                    reason_zh: reason_zh.clone(),
                    record_id,
                    source,
                    status: "excluded".into(),
                },
            });
        }
    }
    out
}

/// The records of explanations as CSV (`yardstick records`):
/// `metric,source,record_id,status,numerator,denominator,value,reason`.
pub fn records_csv(engine: &Engine, explanations: &[Explanation]) -> String {
    let mut out = String::from("metric,source,record_id,status,numerator,denominator,value,reason\n");
    for e in explanations {
        let table = engine.data.table(e.source);
        for entry in &e.entries {
            let id = csv_field(&table.key_text(entry.row));
            let line = match &entry.status {
                RecordStatus::Counted { numerator, denominator, value } => {
                    let s = |v: &Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
                    format!(
                        "{},{},{id},counted,{},{},{},\n",
                        e.metric,
                        e.source.name(),
                        s(numerator),
                        s(denominator),
                        value.map(|v| v.format6()).unwrap_or_default()
                    )
                }
                RecordStatus::Excluded { reason_zh, reason_en } => format!(
                    "{},{},{id},excluded,,,,{}\n",
                    e.metric,
                    e.source.name(),
                    csv_field(&format!("{reason_zh} / {reason_en}"))
                ),
            };
            out.push_str(&line);
        }
    }
    out
}

/// Whose records an item reads: the person, the team they lead, or the team of a team card.
fn item_subject(card: &Scorecard, item: &Item) -> Option<Subject> {
    match (card.scored, item.of) {
        (Scored::Person(p), Of::Person) => Some(Subject::Person(p)),
        (Scored::Person(_), Of::Team) => card.led_team.map(Subject::Team),
        (Scored::Team(t), _) => Some(Subject::Team(t)),
    }
}

/// Explains one scorecard: the card's report with each item's records (only `only`'s when
/// given; the others' are null) and each `.change` item's two values.
pub fn explain(
    engine: &Engine,
    catalogue: &Catalogue,
    set: &TemplateSet,
    card: &Scorecard,
    period: Period,
    only: Option<&str>,
) -> Result<ExplainReport, Diagnostic> {
    let names = Names { engine };
    let template = &set.templates[card.template];
    let mut report = CardReport::new(&names, set, card);
    for (it, item) in template.items.iter().zip(&mut report.items) {
        item.records = Some(match only {
            Some(m) if m != it.metric => None,
            _ => match item_subject(card, it) {
                Some(subject) => {
                    let base = it
                        .metric
                        .strip_suffix(".change")
                        .or(it.metric.strip_suffix(".attainment"))
                        .unwrap_or(&it.metric);
                    Some(record_reports(engine, &engine.records(catalogue, base, subject, period)?))
                }
                None => None,
            },
        });
        if let Some(base) = it.metric.strip_suffix(".change")
            && let Some(subject) = item_subject(card, it)
        {
            item.change = Some(change(engine, catalogue, base, subject, period)?);
        }
    }
    Ok(ExplainReport { period: period.to_string(), scorecard: report })
}

/// A `.change` item's two values: this period's and the previous one's.
fn change(
    engine: &Engine,
    catalogue: &Catalogue,
    base: &str,
    subject: Subject,
    period: Period,
) -> Result<ChangeReport, Diagnostic> {
    let previous = period.previous();
    let query = Query {
        metrics: vec![base.to_string()],
        periods: vec![period, previous],
        subjects: SubjectKinds { person: true, team: true, org: false },
    };
    let rows = engine.compute(catalogue, &query)?;
    let value = |p: Period| rows.iter().find(|r| r.period == p && r.subject == subject).and_then(|r| r.value.value);
    let (now, before) = (value(period), value(previous));
    Ok(ChangeReport {
        arithmetic: match (now, before) {
            // The difference of the exact values, as the engine publishes it.
            (Some(a), Some(b)) => {
                format!(
                    "{} - {} = {}",
                    a.format6(),
                    b.format6(),
                    a.checked_sub(b).map_or(String::new(), |c| c.format6())
                )
            }
            _ => "one of the two periods has no value → no change".to_string(),
        },
        metric: base.to_string(),
        previous_period: previous.to_string(),
        previous_value: num(before, 6),
        value: num(now, 6),
    })
}
