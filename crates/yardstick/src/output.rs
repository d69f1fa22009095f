//! Output formats of metric results: JSON, an aligned table, and a subject × metric pivot.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde_json::{Value, json};
use yardstick_core::engine::{Engine, ResultRow, Subject};
use yardstick_core::metric::Catalogue;
use yardstick_core::period::Period;
use yardstick_core::schema::Source;

fn number(text: &str) -> Value {
    text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number)
}

pub fn json(engine: &Engine, catalogue: &Catalogue, rows: &[ResultRow]) -> String {
    let texts = Texts::of(engine, catalogue, rows, |s| engine.subject_id(s));
    if rows.is_empty() {
        return "[]\n".to_string();
    }
    let item = |r: &ResultRow| {
        let (zh, en) = &texts.names[&*r.metric];
        json!({
            "period": texts.period(r.period),
            "subject_kind": r.subject.kind(),
            "subject_id": texts.subject(r.subject),
            "metric": &*r.metric,
            "name_zh": zh,
            "name_en": en,
            "value": r.value.value.map_or(Value::Null, |v| number(&v.format6())),
            "numerator": r.value.numerator,
            "denominator": r.value.denominator,
        })
    };
    // Each block of rows written as the items of a pretty-printed array, in parallel: an
    // item's own pretty text indented by two spaces, items apart by ",\n".
    let blocks: Vec<String> = rows
        .par_chunks(1 << 12)
        .map(|block| {
            let mut out = String::new();
            for r in block {
                if !out.is_empty() {
                    out.push_str(",\n");
                }
                let text = serde_json::to_string_pretty(&item(r)).unwrap_or_default();
                out.push_str("  ");
                out.push_str(&text.replace('\n', "\n  "));
            }
            out
        })
        .collect();
    format!("[\n{}\n]\n", blocks.join(",\n"))
}

/// The texts many rows share, made once: each metric's names, each subject's text, each
/// period's (a metric's names took a catalogue lookup per row: seconds for a million rows).
struct Texts<'r> {
    names: HashMap<&'r str, (Option<String>, Option<String>)>,
    subjects: HashMap<Subject, String>,
    periods: Vec<(Period, String)>,
}

impl<'r> Texts<'r> {
    fn of(
        engine: &Engine,
        catalogue: &Catalogue,
        rows: &'r [ResultRow],
        subject_text: impl Fn(Subject) -> String,
    ) -> Texts<'r> {
        let mut texts = Texts { names: HashMap::new(), subjects: HashMap::new(), periods: Vec::new() };
        for r in rows {
            texts.names.entry(&r.metric).or_insert_with(|| {
                let base = r.metric.split('.').next().unwrap_or(&r.metric);
                let def = catalogue.resolve(base, engine.data).and_then(|d| d.into_iter().next());
                (def.as_ref().map(|d| d.name_zh.clone()), def.as_ref().map(|d| d.name_en.clone()))
            });
            texts.subjects.entry(r.subject).or_insert_with(|| subject_text(r.subject));
            if !texts.periods.iter().any(|(p, _)| *p == r.period) {
                texts.periods.push((r.period, r.period.to_string()));
            }
        }
        texts
    }

    fn subject(&self, s: Subject) -> &str {
        &self.subjects[&s]
    }

    fn period(&self, p: Period) -> &str {
        &self.periods.iter().find(|(q, _)| *q == p).expect("a period of the rows").1
    }
}

/// Display width: CJK characters take two columns.
fn width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 }).sum()
}

pub fn render(header: &[String], lines: &[Vec<String>]) -> String {
    let widest = |mut widths: Vec<usize>, line: &[String]| {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(width(cell));
        }
        widths
    };
    let widths: Vec<usize> = lines
        .par_iter()
        .fold(|| vec![0; header.len()], |widths, line| widest(widths, line))
        .reduce(|| vec![0; header.len()], |a, b| a.iter().zip(&b).map(|(x, y)| *x.max(y)).collect());
    let widths = widest(widths, header);
    let row = |cells: &[String], out: &mut String| {
        let start = out.len();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(c);
            out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(c))));
        }
        out.truncate(start + out[start..].trim_end().len());
        out.push('\n');
    };
    let mut out = String::new();
    row(header, &mut out);
    row(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(), &mut out);
    let blocks: Vec<String> = lines
        .par_chunks(1 << 12)
        .map(|block| {
            let mut out = String::new();
            for line in block {
                row(line, &mut out);
            }
            out
        })
        .collect();
    out.extend(blocks);
    out
}

pub fn table(engine: &Engine, catalogue: &Catalogue, rows: &[ResultRow]) -> String {
    let header: Vec<String> = ["period", "kind", "subject", "metric", "指标", "value", "numerator", "denominator"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let texts = Texts::of(engine, catalogue, rows, |s| subject_label(engine, s));
    let lines: Vec<Vec<String>> = rows
        .par_iter()
        .map(|r| {
            vec![
                texts.period(r.period).to_string(),
                r.subject.kind().to_string(),
                texts.subject(r.subject).to_string(),
                r.metric.to_string(),
                texts.names[&*r.metric].0.clone().unwrap_or_default(),
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
