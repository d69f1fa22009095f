//! Opening an organisation for a command: its configuration (`yardstick.toml` and the files
//! it names, read from disk here) and its records (a folder of canonical CSV files), put
//! into a [`Host`]. Diagnostics are printed the CLI's way (an argument as its `--option`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use yardstick_core::diag::{Diagnostic, Diagnostics, Origin};
use yardstick_core::host::{Config, Host};
use yardstick_ingest::{ImportOptions, load_folder};

/// Reads the config (an explicit path, or `./yardstick.toml` when present), the metric,
/// scorecard and holiday files it names, and applies a `--tz` override.
pub fn load(config: Option<&Path>, tz: Option<&str>) -> Result<Config> {
    let path: Option<PathBuf> = match config {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("yardstick.toml")).filter(|p| p.exists()),
    };
    let text = match &path {
        Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let base = path.as_ref().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
    let read = |rel: &str| std::fs::read_to_string(base.join(rel)).map_err(|e| e.to_string());
    let name = path.as_ref().map_or("yardstick.toml".to_string(), |p| p.display().to_string());
    let config = Config::load(&name, text.as_deref(), tz, &read).map_err(report)?;
    print_diagnostics(&config.warnings, 20);
    Ok(config)
}

/// Loads the configuration and a data folder into a host, printing what was rejected.
pub fn open(data: &Path, config: Option<&Path>, tz: Option<&str>) -> Result<Host> {
    let config = load(config, tz)?;
    open_with(data, config)
}

/// Loads a data folder into a host with this configuration.
pub fn open_with(dir: &Path, config: Config) -> Result<Host> {
    if !dir.is_dir() {
        bail!("{} is not a folder with canonical CSV files (teams.csv, people.csv, tickets.csv, …)", dir.display());
    }
    let loaded = load_folder(dir, &config.settings, &ImportOptions::default())
        .with_context(|| format!("loading {}", dir.display()))?;
    print_diagnostics(&loaded.diagnostics, 50);
    let rejected: usize = loaded.reports.iter().map(|r| r.rows_rejected).sum();
    if rejected > 0 {
        eprintln!("{rejected} row(s) were rejected and left out (see above); every other row is loaded.");
    }
    let host = Host::new(config, loaded.data);
    print_diagnostics(&host.read().engine().diagnostics, 20);
    Ok(host)
}

/// A diagnostic as the CLI shows it: an argument of a request is its `--option`.
pub fn line(d: &Diagnostic) -> String {
    match d.origin {
        Origin::Argument(_) => format!("--{d}"),
        _ => d.to_string(),
    }
}

/// Prints diagnostics to stderr, at most `limit` of them.
pub fn print_diagnostics(diags: &[Diagnostic], limit: usize) {
    let mut err = std::io::stderr().lock();
    for d in diags.iter().take(limit) {
        let _ = writeln!(err, "{}", line(d));
    }
    if diags.len() > limit {
        let _ = writeln!(err, "… and {} more", diags.len() - limit);
    }
}

/// Turns diagnostics into one error listing them all.
pub fn report(errors: impl Into<Diagnostics>) -> anyhow::Error {
    let errors = errors.into().0;
    let lines: Vec<String> = errors.iter().map(line).collect();
    anyhow::anyhow!("{} problem(s):\n{}", errors.len(), lines.join("\n"))
}
