//! `score`, `explain` and template `check` as a user runs them on generated data: the CSV
//! contract, totals a reviewer can redo from the printed numbers, the explanation chain,
//! the XLSX workbook (numbers as numbers, formulas neutralised), user templates.

mod common;

use std::io::Read;
use std::path::PathBuf;

use common::{generate, temp_dir, yardstick};

use serde_json::Value;
use yardstick_core::engine::Rational;

/// Generated data with the first agent renamed to a formula, as a hostile export might.
fn data(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    generate(&dir, "40000", "9");
    let people = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    let mut lines: Vec<String> = people.lines().map(str::to_string).collect();
    let k = lines.iter().position(|l| l.contains(",agent,")).unwrap();
    let mut cells: Vec<String> = lines[k].split(',').map(str::to_string).collect();
    cells[1] = "=1+2".into();
    lines[k] = cells.join(",");
    std::fs::write(dir.join("people.csv"), lines.join("\n") + "\n").unwrap();
    dir
}

/// `yardstick score --data DIR --period PERIOD` with more arguments.
fn score(dir: &std::path::Path, period: &str, more: &[&str]) -> (String, String, i32) {
    let mut args = vec!["score", "--data", dir.to_str().unwrap(), "--period", period];
    args.extend_from_slice(more);
    yardstick(&args)
}

fn d(v: &Value) -> Option<Rational> {
    match v {
        Value::Number(n) => Rational::parse_decimal(&n.to_string()),
        _ => None,
    }
}

fn r(n: i128) -> Rational {
    Rational::int(n)
}

/// An item's score recomputed from the numbers `explain` / `score --format json` print.
fn recompute(item: &Value) -> Option<Rational> {
    let v = d(&item["used"])?;
    let rule = &item["rule"];
    let cap = d(&rule["cap"]).unwrap();
    let higher = rule["direction"] == "higher";
    let (t, th, st) = (d(&item["target"]), d(&item["threshold"]), d(&item["stretch"]));
    let hundred = r(100);
    let lin = |a: Rational, b: Rational, c: Rational| a.checked_sub(b)?.checked_div(c.checked_sub(b)?);
    let better = |a: Rational, b: Rational| if higher { a >= b } else { a <= b };
    let raw = match rule["method"].as_str().unwrap() {
        "linear" => {
            let (t, th) = (t?, th?);
            if !better(v, th) || v == th {
                r(0)
            } else if better(v, t) {
                match st {
                    Some(st) if better(v, st) => cap,
                    Some(st) => hundred.checked_add(lin(v, t, st)?.checked_mul(cap.checked_sub(hundred)?)?)?,
                    None => hundred,
                }
            } else {
                lin(v, th, t)?.checked_mul(hundred)?
            }
        }
        "ratio" => {
            if higher {
                hundred.checked_mul(v)?.checked_div(t?)?
            } else if v <= r(0) {
                cap
            } else {
                hundred.checked_mul(t?)?.checked_div(v)?
            }
        }
        "pass_fail" => {
            if better(v, t?) {
                hundred
            } else {
                r(0)
            }
        }
        "deduction" => hundred.checked_sub(d(&rule["points_per_unit"])?.checked_mul(v)?)?,
        "rating" => {
            let (lo, hi) = (d(&rule["scale"][0])?, d(&rule["scale"][1])?);
            lin(v, lo, hi)?.checked_mul(hundred)?
        }
        "steps" => rule["steps"]
            .as_array()?
            .iter()
            .find(|s| better(v, d(&s["at"]).unwrap()))
            .map_or(r(0), |s| d(&s["points"]).unwrap()),
        other => panic!("method {other}"),
    };
    Some(raw.max(r(0)).min(cap).round(2))
}

#[test]
fn every_total_can_be_redone_from_the_printed_numbers() {
    let dir = data("redo");
    let (out, err, code) = score(&dir, "2025-11", &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let cards = doc["scorecards"].as_array().unwrap();
    assert!(cards.len() > 100, "{} scorecards", cards.len());
    let (mut items_checked, mut insufficient) = (0, 0);
    let mut templates = std::collections::BTreeSet::new();
    for card in cards {
        templates.insert(card["template"].as_str().unwrap().to_string());
        let (mut weighted, mut weights) = (r(0), r(0));
        for item in card["items"].as_array().unwrap() {
            let Some(score) = d(&item["score"]) else { continue };
            if item["missing"].is_null() {
                assert_eq!(Some(score), recompute(item), "{}: {item}", card["person_id"]);
                items_checked += 1;
            }
            let w = d(&item["weight"]).unwrap();
            weighted = weighted.checked_add(w.checked_mul(score).unwrap()).unwrap();
            weights = weights.checked_add(w).unwrap();
        }
        if weights == r(0) {
            assert!(card["total"].is_null());
            continue;
        }
        let total = weighted.checked_div(weights).unwrap().round(2);
        assert_eq!(Some(total), d(&card["total_before_veto"]), "{card}");
        assert_eq!(Some(weights), d(&card["weight_counted"]));
        // Built-in templates grade by the default bands.
        let grade = match total {
            t if t >= r(95) => "A+",
            t if t >= r(85) => "A",
            t if t >= r(70) => "B",
            t if t >= r(60) => "C",
            _ => "D",
        };
        let before_cap = card["grade_before_cap"].as_str().or(card["grade"].as_str());
        if card["insufficient"].is_string() {
            // Too little of the weight has data: no total, grade, rank or bonus.
            assert!(card["total"].is_null() && card["grade"].is_null() && card["bonus"].is_null(), "{card}");
            assert!(card["ranks"].as_array().unwrap().is_empty(), "{card}");
            insufficient += 1;
        } else if card["vetoes"].as_array().unwrap().is_empty() {
            assert_eq!(before_cap, Some(grade), "{card}");
        }
    }
    // The generated HR and support leads are scored on little of their template's weight.
    assert!(insufficient > 0 && insufficient < cards.len() / 4, "{insufficient} insufficient cards");
    assert!(items_checked > 500, "{items_checked} items");
    let expected =
        ["agent", "chat_agent", "complaint_specialist", "cr_specialist", "manager", "team_lead", "technician"];
    assert_eq!(templates.iter().map(String::as_str).collect::<Vec<_>>(), expected);
}

#[test]
fn score_csv_starts_with_the_contract_columns_and_neutralises_formulas() {
    let dir = data("csv");
    let (out, err, code) = score(&dir, "2025-Q2", &["--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no scorecard template applies to: 1 admin, 4 auditor, 2 hr"), "{err}");
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("person_id,name,team_id,template,version,total,grade,subject,"), "{header}");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().any(|r| r[1] == "'=1+2"), "the formula-like name is neutralised");
    assert!(rows.iter().all(|r| !r[1].starts_with('=')));
    let teams = rows.iter().filter(|r| r[7] == "team").count();
    assert!(teams >= 10, "team scorecards for leads and managers: {teams}");
    // Negative numbers (a change) are numbers, not neutralised text.
    let change = header.split(',').position(|h| h == "value:fcr_rate.change").unwrap();
    assert!(rows.iter().any(|r| r[change].starts_with('-')), "some team's FCR fell");
    assert!(rows.iter().all(|r| !r[change].starts_with('\'')));
    for r in &rows {
        assert_eq!(r[4], "1");
        if let Some((_, decimals)) = r[5].split_once('.') {
            assert!(decimals.len() <= 2, "{r:?}");
        }
    }
    // Weeks are not a scorecard cycle.
    let (_, err, code) = score(&dir, "2025-W10", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("2025-W10 is not a scorecard cycle"), "{err}");
}

#[test]
fn explain_gives_the_chain_from_records_to_bonus() {
    let dir = data("explain");
    let d_arg = dir.to_str().unwrap();
    let (csv, _, _) = score(&dir, "2025-11", &["--format", "csv"]);
    let person = csv.lines().skip(1).find(|l| l.contains(",agent,")).unwrap().split(',').next().unwrap().to_string();
    let (text, err, code) = yardstick(&["explain", "--data", d_arg, "--period", "2025-11", "--person", &person]);
    assert_eq!(code, 0, "{err}");
    for needle in [
        "考核表 Template: agent 一线客服专员考核表 / Front-line agent scorecard — version 1 (built in)",
        "1. 首次问题解决率 / First-contact resolution rate (fcr_rate)",
        "阶段性调整 override (day-weighted): 双11大促 15/30 days: weight (15 × 15 + 15 × 20) / 30 = 17.5",
        "计入记录 records counted",
        "得分 score:",
        "总分 Total: (",
        "等级 Grade:",
        "排名 Rank (competition 1,2,2,4): team ",
        "奖金 Bonus:",
        "维度小计 Dimensions: quality ",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    // JSON: the same card as `score` prints, plus the records of each item.
    let (json, _, code) =
        yardstick(&["explain", "--data", d_arg, "--period", "2025-11", "--person", &person, "--format", "json"]);
    assert_eq!(code, 0);
    let explained: Value = serde_json::from_str(&json).unwrap();
    let (all, _, _) = score(&dir, "2025-11", &["--format", "json"]);
    let all: Value = serde_json::from_str(&all).unwrap();
    let card =
        all["scorecards"].as_array().unwrap().iter().find(|c| c["person_id"] == person.as_str()).unwrap().clone();
    let mut with_records = explained["scorecard"].clone();
    let records = with_records["items"][0]["records"].as_array().unwrap().clone();
    assert!(records.iter().any(|r| r["status"] == "counted" && r["source"] == "tickets"));
    for item in with_records["items"].as_array_mut().unwrap() {
        item.as_object_mut().unwrap().remove("records");
    }
    assert_eq!(with_records, card);
    // One item: all of its records.
    let (one, _, code) =
        yardstick(&["explain", "--data", d_arg, "--period", "2025-11", "--person", &person, "--item", "csat_rate"]);
    assert_eq!(code, 0);
    assert!(one.contains("(csat_rate)") && !one.contains("(fcr_rate)"), "{one}");
    // A team lead: team items, with a change shown as its two values.
    let lead = csv.lines().skip(1).find(|l| l.contains(",team_lead,")).unwrap().split(',').next().unwrap().to_string();
    let (text, err, code) = yardstick(&["explain", "--data", d_arg, "--period", "2025-11", "--person", &lead]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("(fcr_rate.change) — 所带团队 of the team led"), "{text}");
    assert!(text.contains("环比 change: this period - 2025-10 = 0."), "{text}");
    let (_, err, code) = yardstick(&["explain", "--data", d_arg, "--period", "2025-11", "--person", "NOBODY"]);
    assert_eq!(code, 2);
    assert!(err.contains("no person `NOBODY` in people.csv"), "{err}");
}

#[test]
fn xlsx_has_a_sheet_per_team_with_numbers_as_numbers() {
    let dir = data("xlsx");
    let file = dir.join("scores.xlsx");
    let (_, err, code) = score(&dir, "2025-11", &["--format", "xlsx", "--out", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&file).unwrap()).unwrap();
    let read = |zip: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let workbook = read(&mut zip, "xl/workbook.xml");
    assert!(workbook.contains("name=\"汇总\""), "{workbook}");
    assert!(workbook.contains("name=\"EAST-HL1 华东热线一组\""), "{workbook}");
    let sheets = workbook.matches("<sheet ").count();
    assert!(sheets > 15, "{sheets} sheets");
    let strings = read(&mut zip, "xl/sharedStrings.xml");
    for header in ["工号", "总分", "等级", "考核指标", "权重", "加权得分", "首次问题解决率"] {
        assert!(strings.contains(header), "{header}");
    }
    assert!(strings.contains("&apos;=1+2") || strings.contains("'=1+2"), "neutralised name");
    assert!(!strings.contains(">=1+2<"));
    // The summary's total column holds numbers, not text.
    let summary = read(&mut zip, "xl/worksheets/sheet1.xml");
    assert!(summary.contains("<c r=\"F3\" s=\"") && !summary.contains("<c r=\"F3\" t=\"s\""), "F3 is a number");
}

#[test]
fn user_templates_replace_built_ins_and_check_reports_positions() {
    let dir = data("user");
    let config = dir.join("yardstick.toml");
    std::fs::write(&config, "[scorecards]\nfiles = [\"cards.toml\"]\n").unwrap();
    let template = r#"[[template]]
id = "agent"
name_zh = "坐席简表"
name_en = "Agent, short"
version = 7
applies_to = { roles = ["agent"] }

[[template.item]]
metric = "fcr_rate"
weight = 100
dimension = "quality"
method = "pass_fail"
target = 0.7
"#;
    std::fs::write(dir.join("cards.toml"), template).unwrap();
    let (out, err, code) = score(&dir, "2025-11", &["--format", "csv", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let agents: Vec<&str> = out.lines().filter(|l| l.contains(",agent,7,")).collect();
    assert!(!agents.is_empty());
    for a in &agents {
        let total = a.split(',').nth(5).unwrap();
        assert!(total == "100" || total == "0", "{a}");
    }
    let (_, _, code) = yardstick(&["check", dir.join("cards.toml").to_str().unwrap()]);
    assert_eq!(code, 0);
    std::fs::write(dir.join("bad.toml"), template.replace("target = 0.7", "target = 70")).unwrap();
    let (_, err, code) = yardstick(&["check", dir.join("bad.toml").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.toml:13:10: error: target 70 is outside 0..1, but `fcr_rate` is a rate"), "{err}");
    let (_, err, code) = score(&dir, "2025-11", &["--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(&config, "[scorecards]\nfiles = [\"bad.toml\"]\n").unwrap();
    let (_, err, code) = score(&dir, "2025-11", &["--config", config.to_str().unwrap()]);
    assert_eq!(code, 1, "a configuration error refuses the input");
    assert!(err.contains("bad.toml:13:10"), "{err}");
    // A template may use a metric from a metric file checked in the same call.
    let metrics = "[[metric]]\nid = \"phone_share\"\nname_zh = \"电话占比\"\nname_en = \"Phone share\"\nsource = \"tickets\"\nanchor = \"created_at\"\nattribution = \"agent_id\"\naggregate = \"ratio\"\nnumerator = \"channel = 'phone'\"\nhigher_is_better = true\n";
    std::fs::write(dir.join("my-metrics.toml"), metrics).unwrap();
    std::fs::write(dir.join("phone.toml"), template.replace("fcr_rate", "phone_share")).unwrap();
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let (out, err, code) = yardstick(&["check", &path("phone.toml"), &path("my-metrics.toml")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok: ") && out.contains("phone.toml"), "{out}");
    let (_, err, code) = yardstick(&["check", &path("phone.toml")]);
    assert_eq!(code, 1);
    assert!(err.contains("phone.toml:9:10: error: unknown metric `phone_share`"), "{err}");
}
