//! The `explain` command: one person's (or team's) scorecard down to the records, as JSON
//! or as text (`explain_text.rs`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use yardstick_core::engine::explain::RecordStatus;
use yardstick_core::engine::{Engine, Subject};
use yardstick_core::period::{PERIOD_FORMAT_HINT, Period};
use yardstick_core::schema::Source;
use yardstick_core::scorecard::{Item, Of, Scorecard, Scored};

use crate::card_json::{card_json, num};
use crate::config::{self, report};
use crate::scorecards::Names;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

/// Explains one person's (or team's) scorecard down to the records.
#[allow(clippy::too_many_arguments)]
pub fn explain(
    data: &Path,
    period: &str,
    person: Option<&str>,
    team: Option<&str>,
    item: Option<&str>,
    config: Option<&Path>,
    format: ExplainFormat,
) -> Result<ExitCode> {
    let period = Period::parse(period).with_context(|| format!("`{period}` is not a period: {PERIOD_FORMAT_HINT}"))?;
    let host = config::open(data, config, None)?;
    let state = host.read();
    let engine = state.engine();
    let configured = &state.config;
    let set = &configured.templates;
    let wanted = match (person, team) {
        (Some(p), None) => Scored::Person(
            engine.data.table(Source::People).find(p).with_context(|| format!("no person `{p}` in people.csv"))? as u32,
        ),
        (None, Some(t)) => Scored::Team(
            engine.data.table(Source::Teams).find(t).with_context(|| format!("no team `{t}` in teams.csv"))? as u32,
        ),
        _ => bail!("give --person ID (or --team ID for a team scorecard)"),
    };
    let scoring = state.score(period).map_err(report)?;
    let Some(card) = scoring.cards.iter().find(|c| c.scored == wanted) else {
        bail!(
            "no scorecard for {} in {period}: not active in the period, or no template applies (a team scorecard needs a lead with a team-lead or manager template)",
            person.or(team).unwrap_or_default()
        );
    };
    let template = &set.templates[card.template];
    if let Some(m) = item
        && template.item(m).is_none()
    {
        let list: Vec<&str> = template.items.iter().map(|i| i.metric.as_str()).collect();
        bail!("`{m}` is not an item of template {}: use one of {}", template.id, list.join(", "));
    }
    let names = Names { engine: &engine };
    let records: Vec<Value> = template
        .items
        .iter()
        .map(|it| {
            if item.is_some_and(|m| m != it.metric) {
                return Ok(Value::Null);
            }
            item_records(&engine, &configured.catalogue, card, it, period)
        })
        .collect::<Result<_>>()?;
    let mut doc = card_json(&names, set, card, Some(&records));
    for (k, it) in template.items.iter().enumerate() {
        if let Some(base) = it.metric.strip_suffix(".change")
            && let Some(subject) = item_subject(card, it)
        {
            doc["items"][k]["change"] = change_json(&engine, &configured.catalogue, base, subject, period)?;
        }
    }
    let text = match format {
        ExplainFormat::Json => {
            let mut t = serde_json::to_string_pretty(&json!({ "period": period.to_string(), "scorecard": doc }))?;
            t.push('\n');
            t
        }
        ExplainFormat::Text => crate::explain_text::render(&doc, period, item, template),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Whose records an item reads: the person, the team they lead, or the team of a team card.
fn item_subject(card: &Scorecard, item: &Item) -> Option<Subject> {
    match (card.scored, item.of) {
        (Scored::Person(p), Of::Person) => Some(Subject::Person(p)),
        (Scored::Person(_), Of::Team) => card.led_team.map(Subject::Team),
        (Scored::Team(t), _) => Some(Subject::Team(t)),
    }
}

/// A `.change` item's two values: this period's and the previous one's.
fn change_json(
    engine: &Engine,
    catalogue: &yardstick_core::metric::Catalogue,
    base: &str,
    subject: Subject,
    period: Period,
) -> Result<Value> {
    let previous = period.previous();
    let query = yardstick_core::engine::Query {
        metrics: vec![base.to_string()],
        periods: vec![period, previous],
        subjects: yardstick_core::engine::SubjectKinds { person: true, team: true, org: false },
    };
    let rows = engine.compute(catalogue, &query).map_err(report)?;
    let value = |p: Period| rows.iter().find(|r| r.period == p && r.subject == subject).and_then(|r| r.value.value);
    let (now, before) = (value(period), value(previous));
    Ok(json!({
        "metric": base,
        "value": num(now, 6),
        "previous_period": previous.to_string(),
        "previous_value": num(before, 6),
        "arithmetic": match (now, before) {
            // The difference of the exact values, as the engine publishes it.
            (Some(a), Some(b)) => format!(
                "{} - {} = {}",
                a.format6(),
                b.format6(),
                a.checked_sub(b).map_or(String::new(), |c| c.format6())
            ),
            _ => "one of the two periods has no value → no change".to_string(),
        },
    }))
}

/// The records behind an item's value: counted (with what each adds) and excluded (why).
fn item_records(
    engine: &Engine,
    catalogue: &yardstick_core::metric::Catalogue,
    card: &Scorecard,
    item: &Item,
    period: Period,
) -> Result<Value> {
    let Some(subject) = item_subject(card, item) else { return Ok(Value::Null) };
    let base = item.metric.strip_suffix(".change").or(item.metric.strip_suffix(".attainment")).unwrap_or(&item.metric);
    let explanations = engine.records(catalogue, base, subject, period).map_err(report)?;
    let mut out = Vec::new();
    for e in &explanations {
        let table = engine.data.table(e.source);
        for entry in &e.entries {
            let id = table.key_text(entry.row);
            out.push(match &entry.status {
                RecordStatus::Counted { numerator, denominator, value } => json!({
                    "metric": e.metric, "source": e.source.name(), "record_id": id, "status": "counted",
                    "numerator": numerator, "denominator": denominator, "value": num(*value, 6),
                }),
                RecordStatus::Excluded { reason_zh, reason_en } => json!({
                    "metric": e.metric, "source": e.source.name(), "record_id": id, "status": "excluded",
                    "reason_zh": reason_zh, "reason_en": reason_en,
                }),
            });
        }
    }
    Ok(Value::Array(out))
}
