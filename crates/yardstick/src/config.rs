//! Opening an organisation for a command: its configuration (`yardstick.toml` and the files
//! it names, read from disk here) and its records (a folder of canonical CSV files), put
//! into a [`Host`]. Diagnostics are printed the CLI's way (an argument as its `--option`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use yardstick_core::diag::{Diagnostic, Diagnostics, Origin};
use yardstick_core::host::{Config, Host};
use yardstick_core::schema::Source;
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
    let config = Config::load(&name, text.as_deref(), tz, &read)
        .map_err(|d| anyhow::Error::new(Refused(format!("{:#}", report(d)))))?;
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
    // A required file that is absent or refused whole makes every number wrong: refuse,
    // showing that file's problems (not the thousands of rows that refer to it).
    let present = |s: Source| loaded.reports.iter().any(|r| r.file == format!("{}.csv", s.name()) && !r.refused);
    let required = [Source::Teams, Source::People, Source::Tickets];
    let missing: Vec<String> = required.iter().filter(|&&s| !present(s)).map(|s| format!("{}.csv", s.name())).collect();
    let refused: Vec<&str> = loaded.reports.iter().filter(|r| r.refused).map(|r| r.file.as_str()).collect();
    if !missing.is_empty() || !refused.is_empty() {
        let own: Vec<Diagnostic> =
            loaded.diagnostics.iter().filter(|d| refused.contains(&d.file.as_str())).cloned().collect();
        print_diagnostics(&own, 50);
        let mut why = Vec::new();
        if !refused.is_empty() {
            why.push(format!("{} refused whole (see above)", refused.join(", ")));
        }
        let absent: Vec<&String> = missing.iter().filter(|m| !refused.contains(&m.as_str())).collect();
        if !absent.is_empty() {
            why.push(format!(
                "{} not in {} (teams.csv, people.csv and tickets.csv are required)",
                absent.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                dir.display()
            ));
        }
        return Err(anyhow::Error::new(Refused(format!("the data was refused: {}", why.join("; ")))));
    }
    print_diagnostics(&loaded.diagnostics, 50);
    // Optional files not given: their metrics have no data (say so, rather than show
    // scores that silently lack them).
    for source in Source::ALL {
        if required.contains(&source) || source == Source::Memberships || present(source) {
            continue;
        }
        let metrics: Vec<&str> = config
            .catalogue
            .metrics()
            .iter()
            .filter(|m| m.listed && m.records().is_some_and(|r| r.source == source))
            .map(|m| m.id.as_str())
            .collect();
        if !metrics.is_empty() {
            eprintln!("warning: {}.csv not given: {} have no data", source.name(), metrics.join(", "));
        }
    }
    let rejected: usize = loaded.reports.iter().map(|r| r.rows_rejected).sum();
    if rejected > 0 {
        eprintln!("{rejected} row(s) were rejected and left out (see above); every other row is loaded.");
        if STRICT.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(anyhow::Error::new(RowsRejected(rejected)));
        }
    }
    let host = Host::new(config, loaded.data);
    print_diagnostics(&host.read().engine().diagnostics, 20);
    Ok(host)
}

/// `--strict`: rows rejected on loading fail the command (exit code 3).
pub static STRICT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The input was refused: a required file absent or refused whole, or the configuration
/// (exit code 1).
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Rows were rejected and `--strict` was given (exit code 3).
#[derive(Debug)]
pub struct RowsRejected(pub usize);

impl std::fmt::Display for RowsRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} row(s) were rejected (--strict)", self.0)
    }
}

impl std::error::Error for RowsRejected {}

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
