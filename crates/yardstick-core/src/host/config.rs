//! An organisation's configuration as the host holds it: settings (`yardstick.toml`), the
//! metric catalogue with the metric files it names, and the scorecard templates with the
//! template files it names. Files are read through a function the caller gives, so the
//! core reads none itself.

use crate::diag::{Diagnostic, Diagnostics};
use crate::metric::Catalogue;
use crate::scorecard::TemplateSet;
use crate::settings::Settings;
use crate::time::OrgTimeZone;

/// Reads a file named by a configuration (relative to the configuration's folder).
pub type ReadFile<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Settings, catalogue and templates.
#[derive(Clone, Debug)]
pub struct Config {
    pub settings: Settings,
    pub catalogue: Catalogue,
    /// The built-in scorecard templates and those of the files the settings name.
    pub templates: TemplateSet,
    /// Warnings from the metric files (a metric redefined, …).
    pub warnings: Vec<Diagnostic>,
}

impl Default for Config {
    /// The built-in catalogue and templates with default settings.
    fn default() -> Config {
        let catalogue = Catalogue::builtin();
        let templates = TemplateSet::builtin(&catalogue);
        Config { settings: Settings::default(), catalogue, templates, warnings: Vec::new() }
    }
}

impl Config {
    /// Builds a configuration from a `yardstick.toml` (`file` names it in diagnostics;
    /// without `text`, the defaults) and the metric, template and holiday files it names,
    /// read with `read`. `tz` overrides the time zone.
    pub fn load(file: &str, text: Option<&str>, tz: Option<&str>, read: ReadFile) -> Result<Config, Diagnostics> {
        let mut settings = match text {
            Some(text) => Settings::from_toml(file, text, read).map_err(Diagnostics)?,
            None => Settings::default(),
        };
        if let Some(tz) = tz {
            settings.tz = OrgTimeZone::named(tz).ok_or_else(|| {
                Diagnostic::argument("tz", "unknown_time_zone", format!("unknown time zone `{tz}`"))
                    .fix("use an IANA name such as Asia/Shanghai or an offset such as +08:00")
            })?;
        }
        let mut catalogue = Catalogue::builtin();
        let params = settings.params();
        let mut warnings = Vec::new();
        for name in settings.metric_files.clone() {
            let text = read_named(file, &name, "metric", read)?;
            let (errors, rest): (Vec<Diagnostic>, Vec<Diagnostic>) =
                catalogue.add_file(&name, &text, &params).into_iter().partition(Diagnostic::is_error);
            if !errors.is_empty() {
                return Err(Diagnostics(errors));
            }
            warnings.extend(rest);
        }
        if let Some(text) = text {
            let errors = check_targets(file, text, &settings, &catalogue);
            if !errors.is_empty() {
                return Err(Diagnostics(errors));
            }
        }
        let mut templates = TemplateSet::builtin(&catalogue);
        for name in settings.scorecard_files.clone() {
            let text = read_named(file, &name, "scorecard", read)?;
            let diags = templates.add_file(&name, &text, &catalogue);
            if !diags.is_empty() {
                return Err(Diagnostics(diags));
            }
        }
        Ok(Config { settings, catalogue, templates, warnings })
    }
}

/// The `[targets]` of a configuration: each of a known metric, a rate's as a fraction
/// (`fcr_rate = 80` is a percent where 0.8 belongs: its attainment would be 0.009).
fn check_targets(file: &str, text: &str, settings: &Settings, catalogue: &Catalogue) -> Vec<Diagnostic> {
    let line_of = |id: &str| {
        text.lines()
            .position(|l| l.trim_start().strip_prefix(id).is_some_and(|rest| rest.trim_start().starts_with('=')))
            .map_or(0, |i| i + 1)
    };
    let mut targets: Vec<(&String, &f64)> = settings.targets.iter().collect();
    targets.sort_by(|a, b| a.0.cmp(b.0));
    let mut errors = Vec::new();
    for (id, &value) in targets {
        let at = |message: String| Diagnostic::error(file, line_of(id), 1, message).field(format!("targets.{id}"));
        match catalogue.get(id) {
            None => {
                let known = catalogue.metrics().iter().filter(|m| m.listed).map(|m| m.id.as_str());
                let fix = match crate::diag::closest(id, known) {
                    Some(meant) => format!("did you mean {meant}?"),
                    None => "name a metric of the catalogue (yardstick metrics --help lists the forms)".into(),
                };
                errors
                    .push(at(format!("`{id}` under [targets] is not a metric")).code("config.unknown_metric").fix(fix));
            }
            Some(def) if def.is_rate() && !(0.0..=1.0).contains(&value) => errors.push(
                at(format!("target {value} for `{id}` is outside 0..1, but `{id}` is a rate"))
                    .code("config.percent_for_fraction")
                    .fix(format!("rates are fractions: write {id} = {} for {value} %", value / 100.0)),
            ),
            Some(_) => {}
        }
    }
    errors
}

fn read_named(config: &str, name: &str, kind: &str, read: ReadFile) -> Result<String, Diagnostic> {
    read(name).map_err(|e| {
        Diagnostic::error(config, 0, 0, format!("cannot read {kind} file {name}: {e}"))
            .code("config.unreadable_file")
            .fix("check the path (relative to the config file)")
    })
}

/// What `yardstick check` says of one file.
#[derive(Clone, Debug)]
pub struct Checked {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn ok(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks metric, template, holiday and configuration files, each by its kind
/// (`(name, text)`). Metric files come first, so that templates given with them may use
/// the metrics they define. `read(config, name)` reads a file that configuration `config`
/// names.
pub fn check_files(files: &[(String, String)], read: &dyn Fn(&str, &str) -> Result<String, String>) -> Vec<Checked> {
    let mut catalogue = Catalogue::builtin();
    let mut out = Vec::new();
    let is_metrics = |text: &str| text.contains("[[metric]]");
    for (name, text) in files.iter().filter(|(_, t)| is_metrics(t)) {
        let diagnostics = catalogue.add_file(name, text, &crate::metric::check_params());
        out.push(Checked { file: name.clone(), diagnostics });
    }
    for (name, text) in files.iter().filter(|(_, t)| !is_metrics(t)) {
        let diagnostics = if text.contains("[[template]]") {
            TemplateSet::default().add_file(name, text, &catalogue)
        } else if text.contains("[[year]]") {
            crate::calendar::HolidayCalendar::default().add_file(name, text).err().unwrap_or_default()
        } else {
            match Settings::from_toml(name, text, &|file: &str| read(name, file)) {
                Ok(settings) => check_targets(name, text, &settings, &catalogue),
                Err(errors) => errors,
            }
        };
        out.push(Checked { file: name.clone(), diagnostics });
    }
    out
}
