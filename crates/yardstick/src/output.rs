//! Output formats of metric results: JSON, an aligned table, and a subject × metric pivot.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use yardstick_core::engine::{Engine, ResultRow, Subject};
use yardstick_core::metric::Catalogue;
use yardstick_core::schema::Source;

fn number(text: &str) -> Value {
    text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number)
}

pub fn json(engine: &Engine, catalogue: &Catalogue, rows: &[ResultRow]) -> String {
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let base = r.metric.split('.').next().unwrap_or(&r.metric);
            let def = catalogue.resolve(base, engine.data).and_then(|d| d.into_iter().next());
            json!({
                "period": r.period.to_string(),
                "subject_kind": r.subject.kind(),
                "subject_id": engine.subject_id(r.subject),
                "metric": &*r.metric,
                "name_zh": def.as_ref().map(|d| d.name_zh.clone()),
                "name_en": def.as_ref().map(|d| d.name_en.clone()),
                "value": r.value.value.map_or(Value::Null, |v| number(&v.format6())),
                "numerator": r.value.numerator,
                "denominator": r.value.denominator,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&items).unwrap_or_default();
    text.push('\n');
    text
}

/// Display width: CJK characters take two columns.
fn width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 }).sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

pub fn render(header: &[String], lines: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for line in lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = String::new();
    let row = |cells: &[String], out: &mut String| {
        let parts: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    row(header, &mut out);
    row(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(), &mut out);
    for line in lines {
        row(line, &mut out);
    }
    out
}

pub fn table(engine: &Engine, catalogue: &Catalogue, rows: &[ResultRow]) -> String {
    let header: Vec<String> = ["period", "kind", "subject", "metric", "指标", "value", "numerator", "denominator"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let base = r.metric.split('.').next().unwrap_or(&r.metric);
            let zh = catalogue
                .resolve(base, engine.data)
                .and_then(|d| d.into_iter().next())
                .map(|d| d.name_zh)
                .unwrap_or_default();
            vec![
                r.period.to_string(),
                r.subject.kind().to_string(),
                subject_label(engine, r.subject),
                r.metric.to_string(),
                zh,
                r.value.value.map(|v| v.format6()).unwrap_or_else(|| "—".into()),
                r.value.numerator.map(|n| n.to_string()).unwrap_or_default(),
                r.value.denominator.map(|n| n.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    render(&header, &lines)
}

/// `id 名称` of a subject.
fn subject_label(engine: &Engine, s: Subject) -> String {
    let name = |source: Source, row: u32| {
        let t = engine.data.table(source);
        let f = t.def().field_index("name").expect("name field");
        t.text(f, row as usize).map(|n| n.into_owned()).unwrap_or_default()
    };
    match s {
        Subject::Org => engine.subject_id(s),
        Subject::Team(t) => format!("{} {}", engine.subject_id(s), name(Source::Teams, t)),
        Subject::Person(p) => format!("{} {}", engine.subject_id(s), name(Source::People, p)),
    }
}

/// Subjects down, metrics across; rates shown in percent.
pub fn pivot(engine: &Engine, catalogue: &Catalogue, rows: &[ResultRow], metrics: &[&str]) -> String {
    let mut by_subject: BTreeMap<Subject, BTreeMap<&str, String>> = BTreeMap::new();
    for r in rows {
        let is_rate = r.metric.ends_with("_rate");
        let text = match r.value.value {
            None => "—".to_string(),
            Some(v) if is_rate => format!("{:.1}%", v.to_f64() * 100.0),
            Some(v) => v.format6(),
        };
        by_subject.entry(r.subject).or_default().insert(&*r.metric, text);
    }
    let mut header = vec!["".to_string()];
    header.extend(metrics.iter().map(|m| catalogue.get(m).map_or(m.to_string(), |d| d.name_zh.clone())));
    let lines: Vec<Vec<String>> = by_subject
        .iter()
        .map(|(s, values)| {
            let mut line = vec![subject_label(engine, *s)];
            line.extend(metrics.iter().map(|m| values.get(m).cloned().unwrap_or_default()));
            line
        })
        .collect();
    render(&header, &lines)
}
