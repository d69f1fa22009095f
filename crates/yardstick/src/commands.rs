//! The commands: metrics, calendar, generate, check, records, demo.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use yardstick_core::diag::Diagnostic;
use yardstick_core::engine::explain::RecordStatus;
use yardstick_core::engine::{Engine, Query, Subject, SubjectKinds};
use yardstick_core::metric::Catalogue;
use yardstick_core::period::{PERIOD_FORMAT_HINT, Period};
use yardstick_core::settings::Settings;
use yardstick_core::time::{format_day, parse_day};
use yardstick_ingest::{ImportOptions, Loaded, load_folder};

use crate::config::{self, ensure_dir, report};
use crate::output;
use crate::{Format, SubjectKind};

/// Prints diagnostics to stderr, at most `limit` of them.
pub fn print_diagnostics(diags: &[Diagnostic], limit: usize) {
    let mut err = std::io::stderr().lock();
    for d in diags.iter().take(limit) {
        let _ = writeln!(err, "{d}");
    }
    if diags.len() > limit {
        let _ = writeln!(err, "… and {} more", diags.len() - limit);
    }
}

pub fn parse_periods(texts: &[String]) -> Result<Vec<Period>> {
    texts
        .iter()
        .flat_map(|t| t.split(','))
        .map(|t| Period::parse(t).with_context(|| format!("`{t}` is not a period: {PERIOD_FORMAT_HINT}")))
        .collect()
}

/// Checks requested metric ids (and `.attainment` targets) before the data is loaded,
/// which takes seconds for millions of records: a typo is reported at once. An expanded id
/// (`rating_mean:ITEM`) is checked by its base; its label is looked up in the data later.
fn check_metric_ids(configured: &config::Configured, ids: &[String]) -> Result<()> {
    let nothing = yardstick_core::data::Dataset::default();
    Engine::new(&nothing, &configured.settings).resolve(&configured.catalogue, ids).map_err(|d| report(&[d]))?;
    Ok(())
}

/// Loads a data folder, printing what was rejected.
pub fn load_data(dir: &Path, settings: &Settings) -> Result<Loaded> {
    ensure_dir(dir)?;
    let loaded =
        load_folder(dir, settings, &ImportOptions::default()).with_context(|| format!("loading {}", dir.display()))?;
    print_diagnostics(&loaded.diagnostics, 50);
    let rejected: usize = loaded.reports.iter().map(|r| r.rows_rejected).sum();
    if rejected > 0 {
        eprintln!("{rejected} row(s) were rejected and left out (see above); every other row is loaded.");
    }
    Ok(loaded)
}

#[allow(clippy::too_many_arguments)]
pub fn metrics(
    data: &Path,
    periods: &[String],
    metrics: &[String],
    subjects: &[SubjectKind],
    config: Option<&Path>,
    tz: Option<&str>,
    format: Format,
) -> Result<ExitCode> {
    let periods = parse_periods(periods)?;
    let configured = config::load(config, tz)?;
    print_diagnostics(&configured.warnings, 20);
    check_metric_ids(&configured, metrics)?;
    let loaded = load_data(data, &configured.settings)?;
    let engine = Engine::new(&loaded.data, &configured.settings);
    print_diagnostics(&engine.diagnostics, 20);
    let kinds = if subjects.is_empty() {
        SubjectKinds::ALL
    } else {
        SubjectKinds {
            person: subjects.contains(&SubjectKind::Person),
            team: subjects.contains(&SubjectKind::Team),
            org: subjects.contains(&SubjectKind::Org),
        }
    };
    let query = Query { metrics: metrics.to_vec(), periods, subjects: kinds };
    let rows = engine.compute(&configured.catalogue, &query).map_err(|d| report(&[d]))?;
    let started = Instant::now();
    let text = match format {
        Format::Csv => yardstick_core::engine::to_csv(&engine, &rows),
        Format::Json => output::json(&engine, &configured.catalogue, &rows),
        Format::Table => output::table(&engine, &configured.catalogue, &rows),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    if std::env::var_os("YARDSTICK_PROFILE").is_some() {
        eprintln!("output: {} rows, {:.3} s", rows.len(), started.elapsed().as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn calendar(from: &str, to: &str, config: Option<&Path>) -> Result<ExitCode> {
    let (Some(first), Some(last)) = (parse_day(from), parse_day(to)) else {
        bail!("--from and --to take dates such as 2020-01-01");
    };
    if last < first {
        bail!("--to ({to}) is before --from ({from})");
    }
    let configured = config::load(config, None)?;
    let calendar = &configured.settings.calendar;
    let mut out = String::from("date,workday,holiday\n");
    for day in first..=last {
        let holiday = calendar.holiday(day).map_or("", |f| f.name.as_str());
        out.push_str(&format!("{},{},{}\n", format_day(day), calendar.is_workday(day), holiday));
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub fn generate(out: &Path, seed: u64, tickets: u64, year: i64) -> Result<ExitCode> {
    let started = Instant::now();
    let s = yardstick_demo::generate(out, seed, tickets, year).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "generated {} teams, {} people, {} tickets, {} visits, {} surveys, {} complaints ({:.1} MB) in {} in {:.1} s",
        s.teams,
        s.people,
        s.tickets,
        s.visits,
        s.surveys,
        s.complaints,
        s.bytes as f64 / 1e6,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Checks each file by its kind. Metric files are read first, so templates given in the
/// same call may use the metrics they define.
pub fn check(files: &[std::path::PathBuf]) -> Result<ExitCode> {
    let mut failed = false;
    let mut texts = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        texts.push((path, path.display().to_string(), text));
    }
    let mut catalogue = Catalogue::builtin();
    let mut report = |name: &str, diags: Vec<Diagnostic>| {
        print_diagnostics(&diags, 200);
        if diags.iter().any(Diagnostic::is_error) {
            failed = true;
        } else {
            println!("ok: {name}");
        }
    };
    for (_, name, text) in texts.iter().filter(|(_, _, t)| t.contains("[[metric]]")) {
        report(name, catalogue.add_file(name, text, &yardstick_core::metric::check_params()));
    }
    for (path, name, text) in texts.iter().filter(|(_, _, t)| !t.contains("[[metric]]")) {
        let diags: Vec<Diagnostic> = if text.contains("[[template]]") {
            let mut set = yardstick_core::scorecard::TemplateSet::default();
            set.add_file(name, text, &catalogue)
        } else if text.contains("[[year]]") {
            let mut h = yardstick_core::calendar::HolidayCalendar::default();
            h.add_file(name, text).err().unwrap_or_default()
        } else {
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let read = |rel: &str| std::fs::read_to_string(base.join(rel)).map_err(|e| e.to_string());
            Settings::from_toml(name, text, &read).err().unwrap_or_default()
        };
        report(name, diags);
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub fn records(data: &Path, period: &str, metric: &str, subject: &str, config: Option<&Path>) -> Result<ExitCode> {
    let period = Period::parse(period).with_context(|| format!("`{period}` is not a period: {PERIOD_FORMAT_HINT}"))?;
    let configured = config::load(config, None)?;
    check_metric_ids(&configured, std::slice::from_ref(&metric.to_string()))?;
    let loaded = load_data(data, &configured.settings)?;
    let engine = Engine::new(&loaded.data, &configured.settings);
    let (kind, id) = subject.split_once(':').unwrap_or((subject, ""));
    let subject: Subject = engine
        .find_subject(kind, id)
        .with_context(|| format!("no subject `{subject}`: write person:ID, team:ID or org"))?;
    let explanations = engine.records(&configured.catalogue, metric, subject, period).map_err(|d| report(&[d]))?;
    let mut out = String::from("metric,source,record_id,status,numerator,denominator,value,reason\n");
    for e in &explanations {
        let table = loaded.data.table(e.source);
        for entry in &e.entries {
            let id = yardstick_core::engine::csv_field(&table.key_text(entry.row));
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
                RecordStatus::Excluded { reason_zh, reason_en } => {
                    format!(
                        "{},{},{id},excluded,,,,{}\n",
                        e.metric,
                        e.source.name(),
                        yardstick_core::engine::csv_field(&format!("{reason_zh} / {reason_en}"))
                    )
                }
            };
            out.push_str(&line);
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Generates the demo organisation (once) and prints its key figures for December.
pub fn demo(out: &Path, tickets: u64) -> Result<ExitCode> {
    let marker = out.join(".yardstick-demo");
    let wanted = format!("seed=42 tickets={tickets} year=2025 generator={}", yardstick_demo::GENERATOR_VERSION);
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
        generate(out, 42, tickets, 2025)?;
        std::fs::write(&marker, &wanted)?;
    }
    let configured = config::load(None, None)?;
    let started = Instant::now();
    let loaded = load_data(out, &configured.settings)?;
    let load_time = started.elapsed();
    let engine = Engine::new(&loaded.data, &configured.settings);
    let key = [
        "tickets_resolved",
        "fcr_rate",
        "first_response_24h_rate",
        "csat_rate",
        "complaint_rate",
        "first_time_fix_rate",
        "backlog_over_3d",
    ];
    let query = Query {
        metrics: key.iter().map(|s| s.to_string()).collect(),
        periods: vec![Period::month(2025, 12)],
        subjects: SubjectKinds { person: false, team: true, org: true },
    };
    let started = Instant::now();
    let rows = engine.compute(&configured.catalogue, &query).map_err(|d| report(&[d]))?;
    let compute_time = started.elapsed();
    println!(
        "量尺 Yardstick demo — 家电售后服务部 (an appliance maker's after-sales division), data in {}",
        out.display()
    );
    println!(
        "{} teams, {} people, {} tickets; loaded in {:.2} s, KPIs computed in {:.0} ms\n",
        loaded.data.table(yardstick_core::schema::Source::Teams).len(),
        loaded.data.table(yardstick_core::schema::Source::People).len(),
        loaded.data.table(yardstick_core::schema::Source::Tickets).len(),
        load_time.as_secs_f64(),
        compute_time.as_secs_f64() * 1000.0
    );
    println!("2025-12, teams and organisation:\n");
    print!("{}", output::pivot(&engine, &configured.catalogue, &rows, &key));
    let scoring =
        yardstick_core::scorecard::score(&engine, &configured.catalogue, &configured.templates, query.periods[0])
            .map_err(|d| report(&[d]))?;
    let mut grades: Vec<(String, usize)> = Vec::new();
    for c in scoring.cards.iter().filter(|c| matches!(c.scored, yardstick_core::scorecard::Scored::Person(_))) {
        let g = c.grade.clone().unwrap_or_else(|| "—".into());
        match grades.iter_mut().find(|(k, _)| *k == g) {
            Some((_, n)) => *n += 1,
            None => grades.push((g, 1)),
        }
    }
    grades.sort();
    let shown: Vec<String> = grades.iter().map(|(g, n)| format!("{g} {n}")).collect();
    println!(
        "\n2025-12 scorecards (考核表): {} people and {} teams scored; grades {}",
        scoring.cards.iter().filter(|c| matches!(c.scored, yardstick_core::scorecard::Scored::Person(_))).count(),
        scoring.cards.iter().filter(|c| matches!(c.scored, yardstick_core::scorecard::Scored::Team(_))).count(),
        shown.join(", ")
    );
    println!("\nExplore: yardstick metrics --data {} --period 2025-12 --format table", out.display());
    println!(
        "Scorecards: yardstick score --data {} --period 2025-12   (--format csv|json|xlsx --out FILE)",
        out.display()
    );
    if let Some(c) = scoring.cards.iter().find(|c| c.total.is_some())
        && let yardstick_core::scorecard::Scored::Person(p) = c.scored
    {
        println!(
            "Why that score: yardstick explain --data {} --period 2025-12 --person {}",
            out.display(),
            engine.subject_id(yardstick_core::engine::Subject::Person(p))
        );
    }
    println!(
        "Drill down: yardstick records --data {} --period 2025-12 --metric fcr_rate --subject team:EAST-HL1",
        out.display()
    );
    println!("(The web application comes with a later release; this demo is the command-line view.)");
    Ok(ExitCode::SUCCESS)
}
