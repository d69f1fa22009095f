//! The commands: metrics, calendar, generate, check, records, demo.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use yardstick_core::engine::{Engine, Query, SubjectKinds};
use yardstick_core::host::{Config, check_files};
use yardstick_core::period::{PERIOD_FORMAT_HINT, Period};
use yardstick_core::time::{civil_from_days, format_day, parse_day};

use crate::config::{self, print_diagnostics, report};
use crate::{Format, RecordsFormat};
use yardstick_report::metrics as output;

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
fn check_metric_ids(config: &Config, ids: &[String]) -> Result<()> {
    let nothing = yardstick_core::data::Dataset::default();
    Engine::new(&nothing, &config.settings).resolve(&config.catalogue, ids).map_err(report)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn metrics(
    data: &Path,
    periods: &[String],
    metrics: &[String],
    subjects: &[String],
    config: Option<&Path>,
    tz: Option<&str>,
    format: Format,
) -> Result<ExitCode> {
    let periods = parse_periods(periods)?;
    let config = config::load(config, tz)?;
    check_metric_ids(&config, metrics)?;
    let host = config::open_with(data, config)?;
    let state = host.read();
    // One subject syntax for every command: kinds, or single subjects (person:ID, team:ID).
    let (kinds_asked, single): (Vec<&String>, Vec<&String>) = subjects.iter().partition(|s| !s.contains(':'));
    for kind in &kinds_asked {
        if !["person", "team", "org"].contains(&kind.trim()) {
            bail!("--subject takes person, team, org, person:ID or team:ID, not `{kind}`");
        }
    }
    let single: Vec<yardstick_core::engine::Subject> =
        single.iter().map(|s| state.subject(s).map_err(report)).collect::<Result<_>>()?;
    let has = |k: &str| kinds_asked.iter().any(|x| x.trim() == k) || single.iter().any(|s| s.kind() == k);
    let kinds = if subjects.is_empty() {
        SubjectKinds::ALL
    } else {
        SubjectKinds { person: has("person"), team: has("team"), org: has("org") }
    };
    let query = Query { metrics: metrics.to_vec(), periods, subjects: kinds };
    let mut rows = state.metrics(&query).map_err(report)?;
    if !single.is_empty() {
        rows.retain(|r| single.contains(&r.subject) || kinds_asked.iter().any(|k| k.trim() == r.subject.kind()));
    }
    let started = Instant::now();
    let engine = state.engine();
    let catalogue = &state.config.catalogue;
    let text = match format {
        Format::Csv => yardstick_core::engine::to_csv(&engine, &rows),
        Format::Json => output::json(&engine, catalogue, &rows),
        Format::Table => output::table(&engine, catalogue, &rows),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    tracing::debug!(rows = rows.len(), seconds = started.elapsed().as_secs_f64(), "output");
    Ok(ExitCode::SUCCESS)
}

pub fn calendar(from: &str, to: &str, config: Option<&Path>) -> Result<ExitCode> {
    let (Some(first), Some(last)) = (parse_day(from), parse_day(to)) else {
        bail!("--from and --to take dates such as 2020-01-01");
    };
    if last < first {
        bail!("--to ({to}) is before --from ({from})");
    }
    let config = config::load(config, None)?;
    let calendar = &config.settings.calendar;
    // Days of years whose official holidays are not loaded would print as plain weekdays
    // and weekends: say which years, and how to add them.
    if let Some(holidays) = &calendar.holidays {
        let (first_year, last_year) = (civil_from_days(first).0, civil_from_days(last).0);
        let missing: Vec<String> =
            (first_year..=last_year).filter(|y| !holidays.years().contains(y)).map(|y| y.to_string()).collect();
        if !missing.is_empty() && !holidays.years().is_empty() {
            eprintln!(
                "warning: the holidays of {} are not loaded (loaded: {}): those days show as ordinary weekdays and weekends — fix: add the year's State Council announcement as a holiday file (holiday_files = [\"holidays-{}.toml\"] under [calendar] in yardstick.toml, in the format of cn-holidays.toml)",
                missing.join(", "),
                holidays.years().iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", "),
                missing[0]
            );
        }
    }
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

/// Checks each file by its kind (metric files first, so that templates given in the same
/// call may use the metrics they define).
pub fn check(files: &[std::path::PathBuf]) -> Result<ExitCode> {
    let mut texts = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        texts.push((path.display().to_string(), text));
    }
    let read = |config: &str, rel: &str| {
        let base = Path::new(config).parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::read_to_string(base.join(rel)).map_err(|e| e.to_string())
    };
    let mut failed = false;
    for checked in check_files(&texts, &read) {
        print_diagnostics(&checked.diagnostics, 200);
        if checked.ok() {
            println!("ok: {}", checked.file);
        } else {
            failed = true;
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub fn records(
    data: &Path,
    period: &str,
    metric: &str,
    subject: &str,
    config: Option<&Path>,
    format: RecordsFormat,
) -> Result<ExitCode> {
    let period = Period::parse(period).with_context(|| format!("`{period}` is not a period: {PERIOD_FORMAT_HINT}"))?;
    let config = config::load(config, None)?;
    check_metric_ids(&config, std::slice::from_ref(&metric.to_string()))?;
    let host = config::open_with(data, config)?;
    let state = host.read();
    let subject = state.subject(subject).map_err(report)?;
    let explanations = state.records(metric, subject, period).map_err(report)?;
    let engine = state.engine();
    let out = match format {
        RecordsFormat::Csv => yardstick_report::explain::records_csv(&engine, &explanations),
        RecordsFormat::Json => {
            let records = yardstick_report::explain::record_reports(&engine, &explanations);
            serde_json::to_string_pretty(&records)? + "\n"
        }
    };
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
    let started = Instant::now();
    let host = config::open(out, None, None)?;
    let load_time = started.elapsed();
    let state = host.read();
    let engine = state.engine();
    let configured = &state.config;
    let loaded = &state;
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
    let rows = state.metrics(&query).map_err(report)?;
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
    let scoring = state.score(query.periods[0]).map_err(report)?;
    let mut grades: Vec<(String, usize)> = Vec::new();
    for c in scoring.cards.iter().filter(|c| matches!(c.scored, yardstick_core::scorecard::Scored::Person(_))) {
        let g = match (&c.grade, &c.insufficient) {
            (_, Some(_)) => "不足以评定 insufficient data".to_string(),
            (Some(g), None) => g.clone(),
            (None, None) => "—".into(),
        };
        match grades.iter_mut().find(|(k, _)| *k == g) {
            Some((_, n)) => *n += 1,
            None => grades.push((g, 1)),
        }
    }
    // Best grade first (A+ A B C D), then the cards without a grade.
    let rank = |g: &str| ["A+", "A", "B", "C", "D"].iter().position(|x| *x == g).unwrap_or(5);
    grades.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then(a.cmp(b)));
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
