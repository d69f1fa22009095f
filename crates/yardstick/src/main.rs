//! `yardstick` (量尺): KPI scorecards for after-sales and customer-service organisations.
//! The binary: commands, configuration, output formats.

mod bench;
mod bench_changes;
mod commands;
mod config;
mod explain;
mod scorecards;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "yardstick",
    version,
    about = "量尺 Yardstick — KPI scorecards for after-sales and customer service, computed from the records you already keep."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Fail (exit code 3) when rows of the data were rejected, instead of leaving them out
    /// with a warning.
    #[arg(long, global = true)]
    strict: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Table,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RecordsFormat {
    Csv,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Compute metrics from a folder of canonical CSV files (SPEC §4 output contract).
    Metrics {
        /// Folder with teams.csv, people.csv, tickets.csv, …
        #[arg(long)]
        data: PathBuf,
        /// Period(s): 2025-03, 2025-Q1, 2025-H1, 2025-W09, 2025-03-14, 2025, 2025-03-01..2025-03-15.
        #[arg(long = "period", required = true, num_args = 1..)]
        periods: Vec<String>,
        /// Metric ids, comma-separated (default: the whole catalogue). Add .change or
        /// .attainment for derived forms; rating_mean:ITEM for one rating item.
        #[arg(long = "metric", value_delimiter = ',')]
        metrics: Vec<String>,
        /// Only these subjects: kinds (person, team, org) or single subjects (person:ID,
        /// team:ID), comma-separated (default: all).
        #[arg(long = "subject", value_delimiter = ',')]
        subjects: Vec<String>,
        /// Organisation settings (default: ./yardstick.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Organisation time zone, overriding the config (e.g. Asia/Shanghai, Europe/Berlin).
        #[arg(long)]
        tz: Option<String>,
        /// csv (the contract: period,subject_kind,subject_id,metric,value,numerator,denominator),
        /// json, or an aligned table.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
    },
    /// Score a period: one scorecard per person (and per team for team-lead and manager
    /// templates) with item scores, subtotals, total, grade, ranks, vetoes and bonus.
    Score {
        /// Folder with the canonical CSV files (teams.csv, people.csv, tickets.csv, …).
        #[arg(long)]
        data: PathBuf,
        /// A month (2025-03), quarter (2025-Q1), half (2025-H1) or year (2025).
        #[arg(long)]
        period: String,
        /// Organisation settings; its [scorecards] files = [...] add or replace templates
        /// (default: ./yardstick.toml when present; without one the built-in templates apply).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Organisation time zone, overriding the config (e.g. Asia/Shanghai).
        #[arg(long)]
        tz: Option<String>,
        /// table, csv (the contract's columns first), json, or xlsx (with --out).
        #[arg(long, value_enum, default_value = "table")]
        format: scorecards::ScoreFormat,
        /// Write to this file instead of standard output (required for xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Explain one scorecard: template, each item's value, its records (counted and
    /// excluded), the scoring arithmetic, weights, total, grade, rank and bonus.
    Explain {
        /// Folder with the canonical CSV files (teams.csv, people.csv, tickets.csv, …).
        #[arg(long)]
        data: PathBuf,
        /// A month, quarter, half or year the person's template scores.
        #[arg(long)]
        period: String,
        /// The person's id.
        #[arg(long, conflicts_with = "team")]
        person: Option<String>,
        /// A team id, for a team scorecard.
        #[arg(long)]
        team: Option<String>,
        /// Only this item (its records in full).
        #[arg(long)]
        item: Option<String>,
        /// Organisation settings (default: ./yardstick.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
        /// text (in Chinese with English alongside) or json.
        #[arg(long, value_enum, default_value = "text")]
        format: explain::ExplainFormat,
    },
    /// Print the business calendar: date,workday,holiday.
    Calendar {
        /// The first day (2026-01-01).
        #[arg(long)]
        from: String,
        /// The last day, included.
        #[arg(long)]
        to: String,
        /// Settings with the calendar and holiday files (default: ./yardstick.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Generate a realistic organisation and a year of its data as canonical CSV files.
    Generate {
        /// The folder to write the CSV files into (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// The random seed: the same seed gives the same files, byte for byte.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// How many tickets (visits, surveys, complaints, … follow in proportion).
        #[arg(long, default_value_t = 200_000)]
        tickets: u64,
        /// The calendar year of the data.
        #[arg(long, default_value_t = 2025)]
        year: i64,
    },
    /// Validate metric, scorecard template and configuration files: every error with file,
    /// line, column and a fix.
    Check {
        /// Metric files ([[metric]]), template files ([[template]]), holiday files ([[year]])
        /// or a yardstick.toml.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Show the records behind one value (drill-down).
    Records {
        /// Folder with the canonical CSV files (teams.csv, people.csv, tickets.csv, …).
        #[arg(long)]
        data: PathBuf,
        /// The period of the value (2025-03, 2025-Q1, …).
        #[arg(long)]
        period: String,
        /// The metric (fcr_rate, rating_mean:attitude, …).
        #[arg(long)]
        metric: String,
        /// person:ID, team:ID or org.
        #[arg(long)]
        subject: String,
        /// Organisation settings (default: ./yardstick.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
        /// csv (metric,source,record_id,status,numerator,denominator,value,reason) or json.
        #[arg(long, value_enum, default_value = "csv")]
        format: RecordsFormat,
    },
    /// Build the demo organisation (an appliance maker's after-sales division, a year of
    /// data) and show its KPIs.
    Demo {
        /// Where the demo data goes.
        #[arg(long, default_value = "yardstick-demo-data")]
        out: PathBuf,
        /// How many tickets the demo year has.
        #[arg(long, default_value_t = 600_000)]
        tickets: u64,
    },
    /// Measure load and compute speed and memory on generated data (1 M and 10 M tickets).
    Bench {
        /// Ticket counts to measure.
        #[arg(long, value_delimiter = ',', default_values_t = [1_000_000u64, 10_000_000])]
        tickets: Vec<u64>,
        /// Where the generated data is kept between runs.
        #[arg(long, default_value = "target/bench-data")]
        dir: PathBuf,
        /// Compute runs per size (the first, which also works out the `exists` answers, is
        /// reported apart from the median of the others); 0 measures the loads alone.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Loads per size (the median is reported).
        #[arg(long, default_value_t = 3)]
        loads: usize,
        /// Each compute run on a new engine, so that every run works out the `exists`
        /// answers again, as the first run after a load does (to compare builds on that
        /// path: more runs per process, less noise).
        #[arg(long)]
        cold: bool,
        /// Instead of computations: N single changes applied through the host, one at a
        /// time, with a month's scorecards and all its metrics live (latency p50, p99), then
        /// a batch of 10 000 changes and a team move.
        #[arg(long, default_value_t = 0)]
        changes: usize,
    },
}

/// The glibc allocator setting Yardstick runs with: large allocations on transparent huge
/// pages. The engine allocates arrays of tens to hundreds of megabytes per computation
/// (accumulator states, percentile values, result rows); with 4 KiB pages the first touch
/// of each page is a fault, and zeroing and faulting were a fifth of compute time on a
/// 2-core VM. Measured at 10 M tickets: first computation 2.7 → 2.1–2.3 s, later ones
/// 1.54 → 1.28 s (`yardstick bench`).
const MALLOC_TUNABLES: &str = "glibc.malloc.hugetlb=1";

/// glibc reads its tunables only at start: unless the caller chose some, start again with
/// ours (`exec` returns only if it failed, and then we simply go on as we are).
fn run_with_allocator_tunables() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("GLIBC_TUNABLES").is_none()
        && let Ok(exe) = std::env::current_exe()
    {
        use std::os::unix::process::CommandExt;
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            command.arg0(arg0);
        }
        let _ = command.args(args).env("GLIBC_TUNABLES", MALLOC_TUNABLES).exec();
    }
}

fn main() -> ExitCode {
    run_with_allocator_tunables();
    // YARDSTICK_PROFILE=1 shows where the time of a command goes (the core's timings are
    // tracing events).
    if std::env::var_os("YARDSTICK_PROFILE").is_some() {
        tracing_subscriber::fmt()
            .with_max_level(match std::env::var("YARDSTICK_PROFILE").as_deref() {
                Ok("trace") => tracing::Level::TRACE,
                _ => tracing::Level::DEBUG,
            })
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .without_time()
            .init();
    }
    let cli = Cli::parse();
    config::STRICT.store(cli.strict, std::sync::atomic::Ordering::Relaxed);
    let result = match cli.command {
        Command::Metrics { data, periods, metrics, subjects, config, tz, format } => {
            commands::metrics(&data, &periods, &metrics, &subjects, config.as_deref(), tz.as_deref(), format)
        }
        Command::Score { data, period, config, tz, format, out } => {
            scorecards::score(&data, &period, config.as_deref(), tz.as_deref(), format, out.as_deref())
        }
        Command::Explain { data, period, person, team, item, config, format } => explain::explain(
            &data,
            &period,
            person.as_deref(),
            team.as_deref(),
            item.as_deref(),
            config.as_deref(),
            format,
        ),
        Command::Calendar { from, to, config } => commands::calendar(&from, &to, config.as_deref()),
        Command::Generate { out, seed, tickets, year } => commands::generate(&out, seed, tickets, year),
        Command::Check { files } => commands::check(&files),
        Command::Records { data, period, metric, subject, config, format } => {
            commands::records(&data, &period, &metric, &subject, config.as_deref(), format)
        }
        Command::Demo { out, tickets } => commands::demo(&out, tickets),
        Command::Bench { tickets, dir, runs, loads, cold, changes } => {
            bench::run(&tickets, &dir, runs, loads, cold, changes)
        }
    };
    match result {
        Ok(code) => code,
        // A reader that closed the pipe (`yardstick metrics … | head`) has what it wanted.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        // Exit codes: 0 done (warnings aside); 1 the input was refused (a required file
        // absent or refused whole, a configuration error); 2 any other error (a bad
        // argument, a file that cannot be read or written); 3 rows rejected with --strict.
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<config::RowsRejected>().is_some() {
                ExitCode::from(3)
            } else if e.downcast_ref::<config::Refused>().is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    }
}
