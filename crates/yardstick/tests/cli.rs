//! The `yardstick` binary as a user runs it: generate data, compute metrics (the SPEC §4
//! CSV contract), the calendar, checks, drill-down; determinism of the generator and of
//! results under shuffled input.

mod common;

use std::path::Path;

use common::{generate, temp_dir, yardstick};

#[test]
fn metrics_follow_the_csv_contract() {
    let dir = temp_dir("contract");
    generate(&dir, "20000", "3");
    let (out, err, code) =
        yardstick(&["metrics", "--data", dir.to_str().unwrap(), "--period", "2025-06", "--period", "2025-Q2"]);
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("period,subject_kind,subject_id,metric,value,numerator,denominator"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() > 1000, "{} rows", rows.len());
    // Sorted by period, subject kind, subject id and metric as plain strings.
    let keys: Vec<(&str, &str, &str, &str)> = rows.iter().map(|r| (r[0], r[1], r[2], r[3])).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    for r in &rows {
        assert_eq!(r.len(), 7);
        assert!(["2025-06", "2025-Q2"].contains(&r[0]));
        assert!(["person", "team", "org"].contains(&r[1]));
        // Values have at most 6 decimals and no trailing zeros; ratios carry integers.
        if let Some((_, decimals)) = r[4].split_once('.') {
            assert!(decimals.len() <= 6 && !decimals.ends_with('0'), "{r:?}");
        }
        if !r[5].is_empty() {
            let (n, d): (i64, i64) = (r[5].parse().unwrap(), r[6].parse().unwrap());
            if d == 0 {
                assert_eq!(r[4], "", "{r:?}");
            }
            assert!(n <= d || r[3] == "complaint_rate" || r[3] == "nps", "{r:?}");
        }
    }
    for metric in [
        "fcr_rate",
        "first_response_p90_min",
        "backlog_over_3d",
        "rating_mean:attitude",
        "team_attrition_rate",
        "complaint_rate",
    ] {
        assert!(rows.iter().any(|r| r[3] == metric && r[1] == "org"), "{metric}");
    }
    // One metric, one subject kind, JSON.
    let (json, err, code) = yardstick(&[
        "metrics",
        "--data",
        dir.to_str().unwrap(),
        "--period",
        "2025-06",
        "--metric",
        "fcr_rate,fcr_rate.change",
        "--subject",
        "org",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        json.contains("\"metric\": \"fcr_rate.change\"") && json.contains("\"name_zh\": \"首次问题解决率\""),
        "{json}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_generator_is_deterministic_and_shuffled_input_gives_the_same_metrics() {
    let a = temp_dir("gen-a");
    let b = temp_dir("gen-b");
    generate(&a, "8000", "11");
    generate(&b, "8000", "11");
    for file in ["tickets.csv", "visits.csv", "surveys.csv", "people.csv", "ratings.csv"] {
        assert_eq!(std::fs::read(a.join(file)).unwrap(), std::fs::read(b.join(file)).unwrap(), "{file}");
    }
    // Reverse the data rows of every record file: the results must not change.
    for file in
        ["tickets.csv", "visits.csv", "surveys.csv", "complaints.csv", "audits.csv", "ratings.csv", "trainings.csv"]
    {
        let text = std::fs::read_to_string(b.join(file)).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let header = lines.remove(0);
        lines.reverse();
        std::fs::write(b.join(file), format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    }
    let run = |dir: &Path| {
        yardstick(&["metrics", "--data", dir.to_str().unwrap(), "--period", "2025-03", "--period", "2025"]).0
    };
    let (x, y) = (run(&a), run(&b));
    assert!(x.lines().count() > 500);
    assert_eq!(x, y);
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn the_calendar_command_prints_the_official_days() {
    let (out, err, code) = yardstick(&["calendar", "--from", "2026-02-13", "--to", "2026-02-15"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "date,workday,holiday\n2026-02-13,true,\n2026-02-14,true,\n2026-02-15,false,春节\n");
    let (all, _, _) = yardstick(&["calendar", "--from", "2020-01-01", "--to", "2026-12-31"]);
    assert_eq!(all.lines().count(), 2558);
}

#[test]
fn bad_data_is_reported_with_file_line_and_column() {
    let dir = temp_dir("bad");
    std::fs::write(dir.join("teams.csv"), "team_id,name\nT1,一组\n").unwrap();
    std::fs::write(dir.join("people.csv"), "person_id,name,role,team_id\nP1,张三,agent,T1\n").unwrap();
    std::fs::write(dir.join("tickets.csv"), "ticket_id,created_at,customer_id,agent_id,resolved_at\nK1,2025-03-01T09:00:00+08:00,C1,P1,2025-03-01T10:00:00+08:00\nK2,2025-03-01T25:00,C1,P1,\nK1,2025-03-01T09:00:00+08:00,C1,P1,2025-03-01T10:00:00+08:00\n").unwrap();
    std::fs::write(dir.join("survey.csv"), "survey_id\n").unwrap();
    let (out, err, code) = yardstick(&[
        "metrics",
        "--data",
        dir.to_str().unwrap(),
        "--period",
        "2025-03",
        "--metric",
        "tickets_resolved",
        "--subject",
        "org",
    ]);
    assert_eq!(code, 0);
    assert!(err.contains("tickets.csv:3:2: error in created_at: `2025-03-01T25:00` is not a time"), "{err}");
    assert!(err.contains("1 row(s) were rejected"), "{err}");
    assert!(
        err.contains(
            "tickets.csv: warning: 1 row(s) repeat the id of an earlier row; for each such id the last row is kept"
        ),
        "{err}"
    );
    assert!(
        err.contains("survey.csv: warning: not a Yardstick file; skipped — fix: did you mean surveys.csv? Rename it"),
        "{err}"
    );
    assert!(out.ends_with("2025-03,org,org,tickets_resolved,1,,\n"), "{out}");
    // Unknown metric and bad period are clear errors.
    let (_, err, code) =
        yardstick(&["metrics", "--data", dir.to_str().unwrap(), "--period", "2025-03", "--metric", "fcr"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown metric `fcr`"), "{err}");
    // Metric ids are checked before the data is read: no folder needed to learn of a typo.
    for command in ["metrics", "records"] {
        let (_, err, code) = yardstick(&[
            command,
            "--data",
            "no-such-folder",
            "--period",
            "2025-03",
            "--metric",
            "fcr",
            "--subject",
            "org",
        ]);
        assert_eq!(code, 2, "{command}");
        assert!(err.contains("unknown metric `fcr`") && !err.contains("no-such-folder"), "{command}: {err}");
    }
    // A near miss is named.
    let (_, err, _) = yardstick(&["metrics", "--data", "no-such-folder", "--period", "2025-03", "--metric", "fcr_rat"]);
    assert!(err.contains("unknown metric `fcr_rat` — fix: did you mean `fcr_rate`? The metrics are "), "{err}");
    let (_, err, code) = yardstick(&["metrics", "--data", dir.to_str().unwrap(), "--period", "March"]);
    assert_eq!(code, 2);
    assert!(err.contains("`March` is not a period"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_validates_metric_files_and_config_with_positions() {
    let dir = temp_dir("check");
    let metrics = dir.join("metrics.toml");
    std::fs::write(&metrics, "[[metric]]\nid = \"vip_fcr\"\nname_zh = \"VIP首解率\"\nname_en = \"VIP FCR\"\nsource = \"tickets\"\nanchor = \"resolved_at\"\nattribution = \"agent_id\"\naggregate = \"ratio\"\nwhere = \"customer_tier = 'vip'\"\nnumerator = \"contact_count = 1\"\n").unwrap();
    let (out, err, code) = yardstick(&["check", metrics.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ok:"));
    std::fs::write(&metrics, "[[metric]]\nid = \"vip_fcr\"\nname_zh = \"x\"\nname_en = \"x\"\nsource = \"tickets\"\nanchor = \"resolved_at\"\nattribution = \"agent\"\naggregate = \"ratio\"\nnumerator = \"contact_count = 1\"\n").unwrap();
    let (_, err, code) = yardstick(&["check", metrics.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("metrics.toml:7:15: error: `agent` is not a person field of tickets — fix: use one of agent_id"),
        "{err}"
    );
    let config = dir.join("yardstick.toml");
    std::fs::write(&config, "[organisation]\ntime_zone = \"Asia/Shanghai\"\n[metrics]\nfiles = [\"metrics.toml\"]\n")
        .unwrap();
    let (_, _, code) = yardstick(&["check", config.to_str().unwrap()]);
    assert_eq!(code, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn user_metrics_and_time_zone_from_the_config() {
    let dir = temp_dir("config");
    std::fs::write(dir.join("teams.csv"), "team_id,name\nT1,一组\n").unwrap();
    std::fs::write(dir.join("people.csv"), "person_id,name,role,team_id\nP1,张三,agent,T1\n").unwrap();
    // Created at 23:30 UTC on 31 March: April in Shanghai, still March in New York.
    std::fs::write(dir.join("tickets.csv"), "ticket_id,created_at,customer_id,agent_id,channel,first_response_at\nK1,2025-03-31T23:30:00Z,C1,P1,chat,2025-03-31T23:30:15Z\nK2,2025-04-02T09:00:00+08:00,C2,P1,chat,2025-04-02T09:01:00+08:00\n").unwrap();
    std::fs::write(dir.join("chat.toml"), "[[metric]]\nid = \"chat_reply_20s_rate\"\nname_zh = \"在线20秒响应率\"\nname_en = \"Chat replies within 20 s\"\nsource = \"tickets\"\nanchor = \"created_at\"\nattribution = \"agent_id\"\naggregate = \"ratio\"\nwhere = \"channel = 'chat'\"\nnumerator = \"first_response_at - created_at <= 20s\"\n").unwrap();
    std::fs::write(dir.join("yardstick.toml"), "[metrics]\nfiles = [\"chat.toml\"]\n").unwrap();
    let config = dir.join("yardstick.toml");
    let run = |tz: Option<&str>| {
        let mut args = vec![
            "metrics",
            "--data",
            dir.to_str().unwrap(),
            "--period",
            "2025-04",
            "--metric",
            "chat_reply_20s_rate",
            "--subject",
            "person",
            "--config",
            config.to_str().unwrap(),
        ];
        if let Some(tz) = tz {
            args.extend(["--tz", tz]);
        }
        yardstick(&args)
    };
    let (out, err, _) = run(None);
    assert_eq!(
        out,
        "period,subject_kind,subject_id,metric,value,numerator,denominator\n2025-04,person,P1,chat_reply_20s_rate,0.5,1,2\n",
        "{err}"
    );
    let (out, _, _) = run(Some("America/New_York"));
    assert_eq!(
        out,
        "period,subject_kind,subject_id,metric,value,numerator,denominator\n2025-04,person,P1,chat_reply_20s_rate,0,0,1\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn records_show_what_counted_and_what_was_excluded() {
    let dir = temp_dir("records");
    std::fs::write(dir.join("teams.csv"), "team_id,name\nT1,一组\n").unwrap();
    std::fs::write(dir.join("people.csv"), "person_id,name,role,team_id\nP1,张三,agent,T1\n").unwrap();
    std::fs::write(dir.join("tickets.csv"), "ticket_id,created_at,customer_id,agent_id,cause\nK1,2025-03-01,C1,P1,service\nK2,2025-03-01,C2,P1,product_defect\n").unwrap();
    std::fs::write(
        dir.join("surveys.csv"),
        "survey_id,ticket_id,answered_at,csat\nS1,K1,2025-03-02,5\nS2,K2,2025-03-02,1\nS3,K1,2025-03-03,3\n",
    )
    .unwrap();
    let (out, err, code) = yardstick(&[
        "records",
        "--data",
        dir.to_str().unwrap(),
        "--period",
        "2025-03",
        "--metric",
        "csat_rate",
        "--subject",
        "person:P1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "metric,source,record_id,status,numerator,denominator,value,reason\n\
         csat_rate,surveys,S1,counted,1,1,,\n\
         csat_rate,surveys,S2,excluded,,,,工单原因不可控（如产品缺陷），不计入坐席 / ticket cause is uncontrollable (e.g. product defect)\n\
         csat_rate,surveys,S3,counted,0,1,,\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bench generates its data once and reports loads and computations; `--runs 0`
/// measures the loads alone.
#[test]
fn bench_reports_loads_and_runs() {
    let dir = temp_dir("bench");
    let base = ["bench", "--tickets", "3000", "--loads", "1", "--dir", dir.to_str().unwrap()];
    let (out, err, code) = yardstick(&[&base[..], &["--runs", "0"]].concat());
    assert_eq!(code, 0, "{err}");
    let row = out.lines().find(|l| l.starts_with("| 3000 |")).unwrap_or_else(|| panic!("{out}"));
    assert!(row.ends_with("| — | — | — | — | — | — |"), "{row}");
    assert!(!err.contains("compute run"), "{err}");
    let (out, err, code) = yardstick(&[&base[..], &["--runs", "2"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("compute run 2") && !err.contains("generating"), "{err}");
    let row = out.lines().find(|l| l.starts_with("| 3000 |")).unwrap_or_else(|| panic!("{out}"));
    assert!(!row.contains('—') && row.contains("cards)"), "{row}");
    // `--cold`: every run works out the `exists` answers again (the profile shows each time);
    // otherwise only the first does.
    let exists_worked_out = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_yardstick"))
            .args([&base[..], &["--runs", "3"], extra].concat())
            .env("YARDSTICK_PROFILE", "1")
            .output()
            .expect("run yardstick");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).matches("exists answers source=\"tickets\"").count()
    };
    assert_eq!(exists_worked_out(&[]), 1);
    assert_eq!(exists_worked_out(&["--cold"]), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The three output formats hold the same rows in the same order, over enough rows that
/// each format is written in several parallel blocks (4 096 rows a block for JSON and the
/// table, 16 384 for CSV).
#[test]
fn csv_json_and_table_hold_the_same_rows() {
    let dir = temp_dir("formats");
    generate(&dir, "8000", "5");
    let run = |format: &str| {
        let mut args = vec!["metrics", "--data", dir.to_str().unwrap(), "--format", format];
        for p in ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-Q1", "2025-Q2", "2025"] {
            args.extend(["--period", p]);
        }
        let (out, err, code) = yardstick(&args);
        assert_eq!(code, 0, "{err}");
        out
    };
    let csv = run("csv");
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert!(rows.len() > 16_384, "{} rows", rows.len());
    let json: serde_json::Value = serde_json::from_str(&run("json")).expect("JSON");
    let items = json.as_array().expect("an array");
    assert_eq!(items.len(), rows.len());
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (item, row) in items.iter().zip(&rows) {
        let fields = ["period", "subject_kind", "subject_id", "metric"].map(|k| text(&item[k]));
        assert_eq!(fields, [row[0], row[1], row[2], row[3]], "{item}");
        assert_eq!([text(&item["numerator"]), text(&item["denominator"])], [row[5], row[6]], "{item}");
    }
    let table = run("table");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), rows.len() + 2);
    for (line, row) in lines[2..].iter().zip(&rows) {
        // period, kind, "id name" of the subject, metric, …
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cells[..3], &row[..3], "{line}");
        assert!(line.contains(&format!(" {} ", row[3])), "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
