//! Loading organisation settings (`yardstick.toml`) and the metric catalogue from files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use yardstick_core::diag::Diagnostic;
use yardstick_core::metric::Catalogue;
use yardstick_core::scorecard::TemplateSet;
use yardstick_core::settings::Settings;
use yardstick_core::time::OrgTimeZone;

/// Settings and catalogue as configured.
pub struct Configured {
    pub settings: Settings,
    pub catalogue: Catalogue,
    /// The built-in scorecard templates and those of the files the config names.
    pub templates: TemplateSet,
    pub warnings: Vec<Diagnostic>,
}

/// Reads the config (an explicit path, or `./yardstick.toml` when present), the metric
/// and scorecard files it names, and applies a `--tz` override.
pub fn load(config: Option<&Path>, tz: Option<&str>) -> Result<Configured> {
    let path: Option<PathBuf> = match config {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("yardstick.toml")).filter(|p| p.exists()),
    };
    let mut settings = Settings::default();
    let mut warnings = Vec::new();
    let base = path.as_ref().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
    if let Some(path) = &path {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let read = |rel: &str| std::fs::read_to_string(base.join(rel)).map_err(|e| e.to_string());
        settings = Settings::from_toml(&path.display().to_string(), &text, &read).map_err(|errors| report(&errors))?;
    }
    if let Some(tz) = tz {
        settings.tz = OrgTimeZone::named(tz).with_context(|| {
            format!("unknown time zone `{tz}`: use an IANA name such as Asia/Shanghai or an offset such as +08:00")
        })?;
    }
    let mut catalogue = Catalogue::builtin();
    let params = {
        let mut p = yardstick_core::lang::compile::Params::default();
        p.lists.insert("uncontrollable_causes".into(), settings.uncontrollable_causes.clone());
        p
    };
    for file in settings.metric_files.clone() {
        let full = base.join(&file);
        let text = std::fs::read_to_string(&full).with_context(|| format!("reading metric file {}", full.display()))?;
        let diags = catalogue.add_file(&file, &text, &params);
        let (errors, rest): (Vec<Diagnostic>, Vec<Diagnostic>) = diags.into_iter().partition(|d| d.is_error());
        if !errors.is_empty() {
            return Err(report(&errors));
        }
        warnings.extend(rest);
    }
    let mut templates = TemplateSet::builtin(&catalogue);
    for file in settings.scorecard_files.clone() {
        let full = base.join(&file);
        let text =
            std::fs::read_to_string(&full).with_context(|| format!("reading scorecard file {}", full.display()))?;
        let diags = templates.add_file(&file, &text, &catalogue);
        if !diags.is_empty() {
            return Err(report(&diags));
        }
    }
    Ok(Configured { settings, catalogue, templates, warnings })
}

/// Turns diagnostics into one error listing them all.
pub fn report(errors: &[Diagnostic]) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
    anyhow::anyhow!("{} problem(s):\n{}", errors.len(), lines.join("\n"))
}

pub fn ensure_dir(path: &Path) -> Result<()> {
    if !path.is_dir() {
        bail!("{} is not a folder with canonical CSV files (teams.csv, people.csv, tickets.csv, …)", path.display());
    }
    Ok(())
}
