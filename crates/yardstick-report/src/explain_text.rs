//! `yardstick explain` as text a team lead can read (and redo with a calculator): the
//! same structure as `--format json`, in Chinese with English alongside.

use serde_json::Value;
use yardstick_core::period::Period;
use yardstick_core::scorecard::Template;

/// Records listed per item unless one item is asked for.
const RECORD_LIMIT: usize = 10;

fn s(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

pub fn render(doc: &Value, period: Period, only: Option<&str>, template: &Template) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let who = match doc["subject"].as_str() {
        Some("team") => format!("团队 Team {} {}", s(&doc["team_id"]), s(&doc["name"])),
        _ => format!(
            "人员 Person {} {}  ·  团队 Team {} {}",
            s(&doc["person_id"]),
            s(&doc["name"]),
            s(&doc["team_id"]),
            s(&doc["team_name"])
        ),
    };
    line(format!("量尺 绩效考核说明 Scorecard explanation — {period}"));
    line(who);
    line(format!(
        "考核表 Template: {} {} / {} — version {}{}",
        s(&doc["template"]),
        s(&doc["template_name_zh"]),
        s(&doc["template_name_en"]),
        s(&doc["version"]),
        if template.builtin { " (built in)" } else { "" }
    ));
    line("规则 Rules: values at 6 decimals; scores and the total at 2 (half away from zero); total = Σ weight × score / Σ weight of the items that count.".into());
    line(String::new());
    let items = doc["items"].as_array().cloned().unwrap_or_default();
    for (k, item) in items.iter().enumerate() {
        let metric = s(&item["metric"]);
        if only.is_some_and(|m| m != metric) {
            continue;
        }
        line(format!(
            "{}. {} / {} ({metric}){}",
            k + 1,
            s(&item["name_zh"]),
            s(&item["name_en"]),
            if item["of"] == "team" { " — 所带团队 of the team led" } else { "" }
        ));
        line(format!(
            "   维度 {} · {} · {} · 权重 weight {}",
            s(&item["dimension"]),
            s(&item["kind"]),
            s(&item["category"]),
            s(&item["weight"])
        ));
        if !item["blend"].is_null() {
            line(format!("   阶段性调整 override (day-weighted): {}", s(&item["blend"])));
        }
        let mut value = format!("   实际值 value {}", s(&item["value"]));
        if !item["denominator"].is_null() {
            value.push_str(&format!(" = {} / {}", s(&item["numerator"]), s(&item["denominator"])));
        }
        if !item["sample"].is_null() {
            value.push_str(&format!(", sample {}", s(&item["sample"])));
            if !item["min_sample"].is_null() {
                value.push_str(&format!(" (minimum {})", s(&item["min_sample"])));
            }
        }
        line(value);
        if !item["change"].is_null() {
            line(format!(
                "   环比 change: this period - {} = {}",
                s(&item["change"]["previous_period"]),
                s(&item["change"]["arithmetic"])
            ));
        }
        if let Some(records) = item["records"].as_array() {
            // A formula (complaint_rate) lists the records of each operand apart.
            let mut operands: Vec<String> = Vec::new();
            for r in records {
                let m = s(&r["metric"]);
                if !operands.contains(&m) {
                    operands.push(m);
                }
            }
            for operand in &operands {
                let of_operand: Vec<&Value> = records.iter().filter(|r| &s(&r["metric"]) == operand).collect();
                let label = if operands.len() > 1 { format!(" [{operand}]") } else { String::new() };
                records_lines(&mut line, &of_operand, &label, only.is_some(), &metric);
            }
        }
        if !item["shrunk"].is_null() {
            line(format!("   小样本修正 shrunk towards the team: {}", s(&item["shrunk"]["arithmetic"])));
        }
        let mut rule = format!("   计分规则 rule: {}", s(&item["method"]));
        for key in ["target", "threshold", "stretch"] {
            if !item[key].is_null() {
                rule.push_str(&format!(", {key} {}", s(&item[key])));
            }
        }
        line(rule);
        if let Some(m) = item["missing"].as_str() {
            line(format!("   缺失 missing: {m}"));
        }
        line(format!("   得分 score: {}", s(&item["arithmetic"])));
        if !item["contribution"].is_null() {
            line(format!(
                "   加权 weighted: {} × {} / {} = {}",
                s(&item["weight"]),
                s(&item["score"]),
                s(&doc["weight_counted"]),
                s(&item["contribution"])
            ));
        }
        if item["vetoed"] == true {
            line(format!("   否决 VETO: {} ({})", s(&item["veto_rule"]), s(&item["value"])));
        }
        line(String::new());
    }
    line(format!("总分 Total: {}", s(&doc["total_arithmetic"])));
    for item in items.iter().filter(|i| i["vetoed"] == true) {
        line(format!(
            "否决 Veto: {} = {}: {} — total {} (before veto {})",
            s(&item["metric"]),
            s(&item["value"]),
            s(&item["veto_rule"]),
            s(&doc["total"]),
            s(&doc["total_before_veto"])
        ));
    }
    if let Some(why) = doc["insufficient"].as_str() {
        line(why.to_string());
    }
    line(format!("等级 Grade: {} — {}", s(&doc["grade"]), s(&doc["grade_rule"])));
    let ranks: Vec<String> = doc["ranks"]
        .as_array()
        .map(|rs| rs.iter().map(|r| format!("{} {} of {}", s(&r["group"]), s(&r["rank"]), s(&r["of"]))).collect())
        .unwrap_or_default();
    if !ranks.is_empty() {
        line(format!("排名 Rank (competition 1,2,2,4): {}", ranks.join(", ")));
    }
    if !doc["bonus"].is_null() {
        let steps: Vec<String> =
            doc["bonus"]["arithmetic"].as_array().map(|a| a.iter().map(s).collect()).unwrap_or_default();
        line(format!("奖金 Bonus: {} — {}", s(&doc["bonus"]["amount"]), steps.join("; ")));
    }
    let subtotals = |key: &str, name: &str| -> String {
        doc[key]
            .as_array()
            .map(|a| a.iter().map(|d| format!("{} {}", s(&d[name]), s(&d["subtotal"]))).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    line(format!("维度小计 Dimensions: {}", subtotals("dimensions", "dimension")));
    line(format!("定量/定性 · 结果/过程 Splits: {}", subtotals("splits", "split")));
    out
}

/// The counted and excluded records of one operand.
fn records_lines(line: &mut impl FnMut(String), records: &[&Value], label: &str, all: bool, metric: &str) {
    let counted: Vec<&&Value> = records.iter().filter(|r| r["status"] == "counted").collect();
    let excluded: Vec<&&Value> = records.iter().filter(|r| r["status"] == "excluded").collect();
    let limit = if all { usize::MAX } else { RECORD_LIMIT };
    let show = |r: &Value| {
        let mut t = s(&r["record_id"]);
        if !r["denominator"].is_null() {
            t.push_str(&format!(" ({}/{})", s(&r["numerator"]), s(&r["denominator"])));
        } else if !r["value"].is_null() {
            t.push_str(&format!(" ({})", s(&r["value"])));
        }
        t
    };
    let list: Vec<String> = counted.iter().take(limit).map(|r| show(r)).collect();
    let more = if counted.len() > limit { format!(", … {} more", counted.len() - limit) } else { String::new() };
    line(format!("   计入记录 records counted{label} ({}): {}{more}", counted.len(), list.join(", ")));
    if !excluded.is_empty() {
        line(format!("   剔除记录 records excluded{label} ({}):", excluded.len()));
        for r in excluded.iter().take(limit) {
            line(format!("     {} — {} / {}", s(&r["record_id"]), s(&r["reason_zh"]), s(&r["reason_en"])));
        }
        if excluded.len() > limit {
            line(format!("     … {} more (add --item {metric} to list all)", excluded.len() - limit));
        }
    }
}
