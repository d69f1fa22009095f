//! The `explain` command: one person's (or team's) scorecard down to the records, as JSON
//! or as text (the report and its writers are `yardstick-report`'s).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use yardstick_core::period::{PERIOD_FORMAT_HINT, Period};
use yardstick_core::schema::Source;
use yardstick_core::scorecard::Scored;

use crate::config::{self, report};

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
    let set = &state.config.templates;
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
    let explained = yardstick_report::explain::explain(&engine, &state.config.catalogue, set, card, period, item)
        .map_err(report)?;
    let text = match format {
        ExplainFormat::Json => {
            let mut t = serde_json::to_string_pretty(&explained)?;
            t.push('\n');
            t
        }
        ExplainFormat::Text => {
            let doc = serde_json::to_value(&explained.scorecard)?;
            yardstick_report::explain_text::render(&doc, period, item, template)
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
