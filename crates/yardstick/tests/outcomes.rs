//! What a user meets at the edges of the CLI: honest exit codes and refusals, a closed
//! pipe, configuration traps, one subject syntax, help on every option, and the README's
//! tour run as written.

mod common;

use std::path::Path;

use common::{generate, temp_dir, yardstick};

/// A reader that stops early (`| head -1`) ends the command quietly, with success.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = temp_dir("pipe");
    generate(&dir, "3000", "3");
    let mut child = Command::new(env!("CARGO_BIN_EXE_yardstick"))
        .args(["metrics", "--data", dir.to_str().unwrap(), "--period", "2025-03", "--period", "2025"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe is closed here, with most of the output unread.
    let out = child.wait_with_output().unwrap();
    assert_eq!(&first, b"period,subject_k");
    assert!(out.status.success(), "{:?}", out.status);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Broken pipe"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Honest outcomes: a required file absent or refused whole stops the command (exit 1)
/// with that file's own problem, not thousands of follow-on errors; an optional file not
/// given is named with the metrics that have no data; `--strict` fails on rejected rows.
#[test]
fn refused_and_missing_files_say_so_in_the_exit_code() {
    let dir = temp_dir("honest");
    generate(&dir, "2000", "4");
    let run = |extra: &[&str]| {
        let args = [&["metrics", "--data", dir.to_str().unwrap(), "--period", "2025-03"][..], extra].concat();
        yardstick(&args)
    };
    // Without surveys.csv: a warning naming what has no data, and success.
    std::fs::rename(dir.join("surveys.csv"), dir.join("surveys.bak")).unwrap();
    let (out, err, code) = run(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: surveys.csv not given: ") && err.contains("csat_rate"), "{err}");
    assert!(out.lines().count() > 10);
    std::fs::rename(dir.join("surveys.bak"), dir.join("surveys.csv")).unwrap();
    // people.csv without its role column: refused whole, exit 1, one message.
    let people = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    let without_role: String = people
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(2);
            cells.join(",") + "\n"
        })
        .collect();
    std::fs::write(dir.join("people.csv"), without_role).unwrap();
    let (out, err, code) = run(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("people.csv:1: error: required column role is missing"), "{err}");
    assert!(err.contains("the data was refused: people.csv refused whole"), "{err}");
    assert!(err.lines().count() < 5, "no follow-on errors: {err}");
    std::fs::write(dir.join("people.csv"), &people).unwrap();
    // tickets.csv absent: refused.
    std::fs::rename(dir.join("tickets.csv"), dir.join("tickets.bak")).unwrap();
    let (_, err, code) = run(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("tickets.csv not in"), "{err}");
    std::fs::rename(dir.join("tickets.bak"), dir.join("tickets.csv")).unwrap();
    // A bad row: left out with a warning (exit 0), or a failure with --strict (exit 3).
    let mut visits = std::fs::read_to_string(dir.join("visits.csv")).unwrap();
    visits.push_str("V-BAD,T-NONE,E00001,1,not a time,,,,,\n");
    std::fs::write(dir.join("visits.csv"), visits).unwrap();
    let (_, err, code) = run(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 row(s) were rejected"), "{err}");
    let (out, err, code) = run(&["--strict"]);
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty() && err.contains("(--strict)"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An item no rating has is a typo, said so with the items there are; a derived row is
/// named as such.
#[test]
fn unknown_rating_items_are_errors_and_derived_rows_are_named() {
    let dir = temp_dir("items");
    generate(&dir, "2000", "6");
    let data = dir.to_str().unwrap();
    let (out, err, code) =
        yardstick(&["metrics", "--data", data, "--period", "2025-03", "--metric", "rating_mean:atitude"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("no record has the item `atitude` of `rating_mean`")
            && err.contains("did you mean `rating_mean:attitude`?"),
        "{err}"
    );
    let (out, err, code) = yardstick(&[
        "metrics",
        "--data",
        data,
        "--period",
        "2025-03",
        "--metric",
        "fcr_rate.change",
        "--subject",
        "org",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"name_zh\": \"首次问题解决率（环比）\"")
            && out.contains("\"name_en\": \"First-contact resolution rate (change)\""),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One subject syntax for every command (`team:ID` in `metrics` too); `records` as JSON.
#[test]
fn one_subject_syntax_and_records_as_json() {
    let dir = temp_dir("subjects");
    generate(&dir, "2000", "8");
    let data = dir.to_str().unwrap();
    let (out, err, code) = yardstick(&[
        "metrics",
        "--data",
        data,
        "--period",
        "2025-03",
        "--metric",
        "fcr_rate",
        "--subject",
        "team:EAST-HL1,org",
    ]);
    assert_eq!(code, 0, "{err}");
    let subjects: Vec<&str> = out.lines().skip(1).map(|l| l.split(',').nth(2).unwrap()).collect();
    assert_eq!(subjects, ["org", "EAST-HL1"], "{out}");
    let (_, err, code) = yardstick(&["metrics", "--data", data, "--period", "2025-03", "--subject", "team:NOPE"]);
    assert_eq!(code, 2);
    assert!(err.contains("--subject: error: no subject `team:NOPE`"), "{err}");
    let (out, err, code) = yardstick(&[
        "records",
        "--data",
        data,
        "--period",
        "2025-03",
        "--metric",
        "fcr_rate",
        "--subject",
        "team:EAST-HL1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let records: serde_json::Value = serde_json::from_str(&out).unwrap();
    let first = &records.as_array().unwrap()[0];
    assert_eq!((first["metric"].as_str(), first["source"].as_str()), (Some("fcr_rate"), Some("tickets")));
    assert!(first["status"] == "counted" || first["status"] == "excluded");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every option of every command says what it is for in `--help`.
#[test]
fn every_option_has_help_text() {
    let commands = ["metrics", "score", "explain", "calendar", "generate", "check", "records", "demo", "bench"];
    for command in commands {
        let (out, err, code) = yardstick(&[command, "--help"]);
        assert_eq!(code, 0, "{err}");
        let options = out.split("Options:").nth(1).unwrap_or_default();
        for line in options.lines().filter(|l| l.trim_start().starts_with("--")) {
            // clap puts the help after the option on the same line, or on the next lines.
            let help = line.trim_start().split_once("  ").map(|(_, h)| h.trim()).unwrap_or("");
            // A default or the possible values alone are no help.
            let help = help.split(" [").next().unwrap_or("").trim_start_matches('[');
            let help = if help.starts_with("default:") || help.starts_with("possible values:") { "" } else { help };
            let next_has_help = options.lines().skip_while(|l| *l != line).nth(1).is_some_and(|l| {
                let t = l.trim_start();
                !t.is_empty() && !t.starts_with('-')
            });
            assert!(!help.is_empty() || next_has_help, "`yardstick {command}`: {line:?} has no help");
        }
    }
}

/// Every command of the README's tour runs as written (on a smaller generated folder, from
/// the repository's root, so that `examples/` is where the README says), except `bench`,
/// which generates millions of tickets (its own test runs it small).
#[test]
fn the_readme_tour_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let tour = readme.split("## A tour").nth(1).unwrap().split("\n## ").next().unwrap();
    let dir = temp_dir("tour");
    let data = dir.join("data");
    let mut ran = 0;
    for line in tour.lines().map(str::trim).filter(|l| l.starts_with("yardstick ")) {
        let command = line.split(" #").next().unwrap().split(" > ").next().unwrap();
        let mut args: Vec<String> = command.split_whitespace().skip(1).map(str::to_string).collect();
        if args[0] == "bench" {
            continue;
        }
        for a in &mut args {
            if a == "data" {
                *a = data.to_str().unwrap().to_string();
            } else if a == "200000" {
                *a = "5000".to_string();
            } else if a.ends_with(".xlsx") {
                *a = dir.join(a.as_str()).to_str().unwrap().to_string();
            }
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_yardstick"))
            .args(&args)
            .current_dir(&root)
            .output()
            .expect("run yardstick");
        assert!(out.status.success(), "`{line}` failed: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stdout.is_empty() || args.contains(&"--out".to_string()), "`{line}` printed nothing");
        ran += 1;
    }
    assert!(ran >= 13, "{ran} commands ran");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rate's target written as a percent, or a target of no metric, is caught by `check`
/// and refuses the configuration, with the fix.
#[test]
fn targets_written_as_percents_are_caught() {
    let dir = temp_dir("targets");
    let config = dir.join("yardstick.toml");
    std::fs::write(
        &config,
        "[organisation]\nid = \"asd\"\n\n[targets]\nfcr_rate = 80\nfcr_rat = 0.8\nhandle_minutes_mean = 6\n",
    )
    .unwrap();
    let (out, err, code) = yardstick(&["check", config.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("yardstick.toml:5:1: error in targets.fcr_rate: target 80 for `fcr_rate` is outside 0..1, but `fcr_rate` is a rate — fix: rates are fractions: write fcr_rate = 0.8 for 80 %"),
        "{err}"
    );
    assert!(err.contains("yardstick.toml:6:1: error in targets.fcr_rat: `fcr_rat` under [targets] is not a metric — fix: did you mean fcr_rate?"), "{err}");
    assert!(!err.contains("handle_minutes_mean"), "not a rate: 6 minutes is fine: {err}");
    let (_, err, code) =
        yardstick(&["calendar", "--from", "2026-01-01", "--to", "2026-01-02", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Days of a year whose official holidays are not loaded are printed with a warning that
/// names the year and how to add it.
#[test]
fn the_calendar_warns_about_years_without_holidays() {
    let (out, err, code) = yardstick(&["calendar", "--from", "2026-12-30", "--to", "2027-01-02"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 5);
    assert!(
        err.contains("warning: the holidays of 2027 are not loaded (loaded: 2020, 2021, 2022, 2023, 2024, 2025, 2026)"),
        "{err}"
    );
    assert!(err.contains("holiday_files = [\"holidays-2027.toml\"]"), "{err}");
    let (_, err, _) = yardstick(&["calendar", "--from", "2026-01-01", "--to", "2026-01-05"]);
    assert!(err.is_empty(), "{err}");
}
