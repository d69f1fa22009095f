//! `yardstick bench`: load and compute speed and memory on generated data, measured as a
//! user would run it (wall clock, this machine's cores), reported as a table.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use yardstick_core::engine::{Engine, Query, SubjectKinds};
use yardstick_core::metric::Catalogue;
use yardstick_core::period::Period;
use yardstick_core::scorecard::{self, TemplateSet};
use yardstick_core::settings::Settings;
use yardstick_ingest::{ImportOptions, load_folder};

/// Resident memory of this process in bytes (Linux), and its peak.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU seconds (user and system, all threads) this process has used, and its minor page
/// faults. With wall time, the first tells a slower build from a host that took the CPU
/// away (steal time is not counted); system time and faults show fresh memory touched
/// (each fault maps a page, which the kernel zeroes first, and which this VM's host may
/// have to back anew: docs/dev/performance-log.md).
fn cpu_and_faults() -> (f64, f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces): minflt
    // is the 10th, utime and stime the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let field = |k: usize| rest.split_whitespace().nth(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (field(11) as f64 / 100.0, field(12) as f64 / 100.0, field(7))
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The twelve KPIs of the DuckDB comparison.
const TWELVE: [&str; 12] = [
    "tickets_resolved",
    "fcr_rate",
    "resolution_hours_mean",
    "handle_minutes_mean",
    "repeat_contact_7d_rate",
    "first_response_24h_rate",
    "resolved_24h_rate",
    "fields_complete_rate",
    "first_response_median_min",
    "first_response_p90_min",
    "csat_rate",
    "nps",
];

/// Reads every file of `dir` once, so that the OS holds them in its page cache.
fn warm_page_cache(dir: &Path) -> Result<()> {
    use std::io::Read;
    let mut buf = vec![0u8; 8 << 20];
    for entry in std::fs::read_dir(dir)? {
        let mut file = std::fs::File::open(entry?.path())?;
        while file.read(&mut buf)? > 0 {}
    }
    Ok(())
}

fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

pub fn run(sizes: &[u64], dir: &Path, runs: usize, loads: usize, cold: bool, changes: usize) -> Result<ExitCode> {
    let settings = Settings::default();
    let catalogue = Catalogue::builtin();
    let mut periods: Vec<Period> = (1..=12).map(|m| Period::month(2025, m)).collect();
    periods.extend((1..=4).map(|q| Period::quarter(2025, q)));
    periods.push(Period::year(2025));
    let threads = rayon::current_num_threads();
    let later = if cold { "later runs, each on a new engine (median)" } else { "later runs (median)" };
    let mut report = vec![format!(
        "| tickets | CSV size | load (of it, `exists` answers) | held (heap) | held per ticket | RSS per ticket | all metrics × {} periods × person/team/org: first run | {later} | 12 KPIs × agent × month | rows | scorecards of a month: their metrics | scoring beyond the metrics |",
        periods.len()
    )];
    report.push("|---|---|---|---|---|---|---|---|---|---|---|---|".to_string());
    let templates = TemplateSet::builtin(&catalogue);
    let month = Period::month(2025, 11);
    let mut change_report = vec![
        format!(
            "| tickets | views set up ({month}'s scorecards, all metrics × person/team/org) | one change: p50 | p99 | slowest | a batch of 10 000 changes | a team move |"
        ),
        "|---|---|---|---|---|---|---|".to_string(),
    ];
    for &n in sizes {
        let data_dir = dir.join(format!("{n}"));
        let marker = data_dir.join(".yardstick-bench");
        let wanted = format!("seed=7 tickets={n} year=2025 generator={}", yardstick_demo::GENERATOR_VERSION);
        if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
            eprintln!("generating {n} tickets in {} …", data_dir.display());
            let started = Instant::now();
            yardstick_demo::generate(&data_dir, 7, n, 2025)
                .with_context(|| format!("writing {}", data_dir.display()))?;
            std::fs::write(&marker, &wanted)?;
            eprintln!("  generated in {:.1} s", started.elapsed().as_secs_f64());
        }
        let csv_bytes = folder_bytes(&data_dir);
        // Load times are of parsing, not of the disk: every load starts with the files in
        // the OS page cache (read once just before). The median of `loads` loads.
        let mut load_times = Vec::new();
        let mut answer_times = Vec::new();
        let mut loaded = None;
        let mut rss_before = 0;
        for _ in 0..loads.max(1) {
            drop(loaded.take());
            warm_page_cache(&data_dir)?;
            rss_before = rss().0;
            // A load is what a store does before its first computation: the files parsed,
            // then the `exists` answers of the catalogue worked out and kept with the
            // records (`Engine::prepare`).
            let (started, (user, system, _)) = (Instant::now(), cpu_and_faults());
            let data = load_folder(&data_dir, &settings, &ImportOptions::default())?;
            let (parsed, (user_files, system_files, _)) = (started.elapsed().as_secs_f64(), cpu_and_faults());
            let kept = Engine::new(&data.data, &settings).prepare(&catalogue).map_err(|d| anyhow::anyhow!("{d}"))?;
            let total = started.elapsed().as_secs_f64();
            loaded = Some(data);
            load_times.push(total);
            answer_times.push(total - parsed);
            let (user_after, system_after, _) = cpu_and_faults();
            eprintln!(
                "  load: {total:.2} s: files {parsed:.2} s (CPU {:.2} s user + {:.2} s system), {kept} exists answers {:.2} s (CPU {:.2} s + {:.2} s)",
                user_files - user,
                system_files - system,
                total - parsed,
                user_after - user_files,
                system_after - system_files
            );
        }
        let loaded = loaded.expect("at least one load");
        let load_s = median(load_times);
        let answers_s = median(answer_times);
        let (rss_after, peak) = rss();
        let tickets = loaded.data.table(yardstick_core::schema::Source::Tickets).len() as f64;
        let heap = loaded.data.heap_bytes() as f64;
        eprintln!(
            "{n} tickets: loaded {:.0} MB of CSV in {load_s:.2} s; {} rows rejected; heap {:.1} MB ({:.1} B/ticket); RSS +{:.1} MB (peak {:.1} MB)",
            csv_bytes as f64 / 1e6,
            loaded.reports.iter().map(|r| r.rows_rejected).sum::<usize>(),
            heap / 1e6,
            heap / tickets,
            (rss_after.saturating_sub(rss_before)) as f64 / 1e6,
            peak as f64 / 1e6
        );
        if changes > 0 {
            change_report.push(crate::bench_changes::measure(n, loaded.data, month, changes)?);
            continue;
        }
        if runs == 0 {
            // The loads alone (to count their instructions, say).
            report.push(format!(
                "| {n} | {:.0} MB | {load_s:.2} s ({answers_s:.2} s) | {:.0} MB | {:.1} B | {:.1} B | — | — | — | — | — | — |",
                csv_bytes as f64 / 1e6,
                heap / 1e6,
                heap / tickets,
                rss_after.saturating_sub(rss_before) as f64 / tickets,
            ));
            continue;
        }
        let mut engine = Engine::new(&loaded.data, &settings);
        let query = Query { metrics: Vec::new(), periods: periods.clone(), subjects: SubjectKinds::ALL };
        let mut times = Vec::new();
        let mut n_rows = 0;
        for run in 0..runs {
            if cold && run > 0 {
                loaded.data.answers.clear();
                engine = Engine::new(&loaded.data, &settings);
            }
            let (started, (user, system, faults)) = (Instant::now(), cpu_and_faults());
            let rows = engine.compute(&catalogue, &query).map_err(|d| anyhow::anyhow!("{d}"))?;
            let t = started.elapsed().as_secs_f64();
            let (user_after, system_after, faults_after) = cpu_and_faults();
            eprintln!(
                "  compute run {}: {:.3} s, CPU {:.2} s user + {:.2} s system, {} page faults ({} values)",
                run + 1,
                t,
                user_after - user,
                system_after - system,
                faults_after - faults,
                rows.len()
            );
            n_rows = rows.len();
            times.push(t);
        }
        // The query DuckDB is compared with (bench/duckdb_compare.py): twelve KPIs per agent
        // and month, on the same engine (exists answers already cached).
        let narrow = Query {
            metrics: TWELVE.iter().map(|m| m.to_string()).collect(),
            periods: (1..=12).map(|m| Period::month(2025, m)).collect(),
            subjects: SubjectKinds { person: true, team: false, org: false },
        };
        let mut narrow_times = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            engine.compute(&catalogue, &narrow).map_err(|d| anyhow::anyhow!("{d}"))?;
            narrow_times.push(started.elapsed().as_secs_f64());
        }
        // Scorecards of one month with the built-in templates: the engine query for their
        // metrics, then everything after it (templates, scores, grades, ranks, bonuses).
        let (mut metric_times, mut score_times, mut n_cards) = (Vec::new(), Vec::new(), 0);
        for _ in 0..runs {
            let started = Instant::now();
            let query = scorecard::metric_query(&templates, month).map_err(|d| anyhow::anyhow!("{d}"))?;
            let rows = engine.compute(&catalogue, &query).map_err(|d| anyhow::anyhow!("{d}"))?;
            let between = Instant::now();
            let scoring = scorecard::score_values(&engine, &templates, month, rows);
            score_times.push(between.elapsed().as_secs_f64());
            metric_times.push((between - started).as_secs_f64());
            n_cards = scoring.cards.len();
        }
        eprintln!("  scorecards of {month}: {n_cards}");
        report.push(format!(
            "| {n} | {:.0} MB | {load_s:.2} s ({answers_s:.2} s) | {:.0} MB | {:.1} B | {:.1} B | {:.3} s | {:.3} s | {:.3} s | {n_rows} | {:.3} s | {:.3} s ({n_cards} cards) |",
            csv_bytes as f64 / 1e6,
            heap / 1e6,
            heap / tickets,
            rss_after.saturating_sub(rss_before) as f64 / tickets,
            times[0],
            median(times[1..].to_vec()),
            median(narrow_times),
            median(metric_times),
            median(score_times),
        ));
    }
    let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_else(|_| "none".to_string());
    println!("yardstick bench on {threads} threads (allocator tunables: {tunables})\n");
    let lines = if changes > 0 { change_report } else { report };
    for line in lines {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
