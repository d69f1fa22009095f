//! The `score` command: a period's scorecards as a table, CSV, JSON or an XLSX workbook
//! (the writers are `yardstick-report`'s).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use yardstick_core::period::{PERIOD_FORMAT_HINT, Period};
use yardstick_report::sheet::Names;

use crate::config::{self, print_diagnostics, report};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScoreFormat {
    Table,
    Csv,
    Json,
    Xlsx,
}

pub fn score(
    data: &Path,
    period: &str,
    config: Option<&Path>,
    tz: Option<&str>,
    format: ScoreFormat,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let period = Period::parse(period).with_context(|| format!("`{period}` is not a period: {PERIOD_FORMAT_HINT}"))?;
    let host = config::open(data, config, tz)?;
    let state = host.read();
    let engine = state.engine();
    let set = &state.config.templates;
    let scoring = state.score(period).map_err(report)?;
    print_diagnostics(&scoring.diagnostics, 20);
    if !scoring.unscored.is_empty() {
        let list: Vec<String> = scoring.unscored.iter().map(|(r, n)| format!("{n} {r}")).collect();
        eprintln!("no scorecard template applies to: {} (add a template for their role)", list.join(", "));
    }
    let names = Names { engine: &engine };
    let started = std::time::Instant::now();
    let bytes: Vec<u8> = match format {
        ScoreFormat::Csv => yardstick_report::sheet::csv(&names, set, &scoring).into_bytes(),
        ScoreFormat::Json => yardstick_report::card::scoring_json(&names, set, &scoring).into_bytes(),
        ScoreFormat::Table => yardstick_report::sheet::table(&names, set, &scoring).into_bytes(),
        ScoreFormat::Xlsx => {
            if out.is_none() {
                bail!("--format xlsx writes a workbook: give --out FILE.xlsx");
            }
            yardstick_report::xlsx::workbook(&names, set, &scoring)?
        }
    };
    match out {
        Some(path) => std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    tracing::debug!(cards = scoring.cards.len(), seconds = started.elapsed().as_secs_f64(), "output");
    Ok(ExitCode::SUCCESS)
}
