//! Metric rows as reports: the row type (`MetricRowReport`, whose JSON Schema is
//! published), and the writers — JSON, an aligned table, and a subject × metric pivot.
//! (CSV, the contract's own format, is the core's `engine::to_csv`.)

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use rayon::prelude::*;
use yardstick_core::engine::{Engine, ResultRow, Subject};
use yardstick_core::metric::Catalogue;
use yardstick_core::period::Period;
use yardstick_core::schema::Source;

/// One metric value as `metrics --format json` and the web API give it.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct MetricRowReport {
    /// A ratio's denominator (an integer), else null.
    pub denominator: Option<i64>,
    pub metric: String,
    pub name_en: Option<String>,
    pub name_zh: Option<String>,
    /// A ratio's numerator (an integer), else null.
    pub numerator: Option<i64>,
    /// `2025-03`, `2025-Q1`, `2025-W09`, `2025`, `2025-03-01..2025-03-15`, …
    pub period: String,
    pub subject_id: String,
    /// `person`, `team` or `org`.
    pub subject_kind: String,
    /// Rounded to 6 decimals; null when empty (no denominator, nothing to average, …).
    pub value: Option<f64>,
}

impl MetricRowReport {
    /// The reports of result rows (the web API's shape; `json` writes the same text
    /// faster for a million rows).
    pub fn of_rows(engine: &Engine, catalogue: &Catalogue, rows: &[ResultRow]) -> Vec<MetricRowReport> {
        let texts = Texts::of(engine, catalogue, rows, |s| engine.subject_id(s));
        rows.iter()
            .map(|r| {
                let (zh, en) = texts.names.get(&*r.metric).cloned().unwrap_or_default();
                MetricRowReport {
                    denominator: r.value.denominator(),
                    metric: r.metric.to_string(),
                    name_en: en,
                    name_zh: zh,
                    numerator: r.value.numerator(),
                    period: texts.period(r.period).to_string(),
                    subject_id: texts.subjects[&r.subject].clone(),
                    subject_kind: r.subject.kind().to_string(),
                    value: r.value.value.and_then(|v| v.format6().parse::<f64>().ok()).filter(|x| x.is_finite()),
                }
            })
            .collect()
    }
}

/// The rows as a pretty-printed JSON array of objects (keys in order, as serde_json prints
/// a `json!` object), written straight onto the text: the texts rows share are quoted once,
/// numbers are written by serde_json, and blocks of rows are written in parallel. (Building
/// a `serde_json::Value` per row and printing those took 7.5 s for 1.48 M rows.)
pub fn json(engine: &Engine, catalogue: &Catalogue, rows: &[ResultRow]) -> String {
    if rows.is_empty() {
        return "[]\n".to_string();
    }
    let texts = Texts::of(engine, catalogue, rows, |s| engine.subject_id(s));
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let or_null = |s: &Option<String>| s.as_deref().map_or("null".to_string(), quoted);
    let names: HashMap<&str, [String; 3]> =
        texts.names.iter().map(|(m, (zh, en))| (*m, [quoted(m), or_null(en), or_null(zh)])).collect();
    let subjects: HashMap<Subject, String> = texts.subjects.iter().map(|(s, id)| (*s, quoted(id))).collect();
    let blocks: Vec<String> = rows
        .par_chunks(1 << 12)
        .map(|block| {
            let mut out = String::with_capacity(block.len() * 320);
            for (i, r) in block.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                let [metric, name_en, name_zh] = &names[&*r.metric];
                let v = &r.value;
                let _ = write!(
                    out,
                    "  {{\n    \"denominator\": {},\n    \"metric\": {metric},\n    \"name_en\": {name_en},\n    \"name_zh\": {name_zh},\n    \"numerator\": {},\n    \"period\": \"{}\",\n    \"subject_id\": {},\n    \"subject_kind\": \"{}\",\n    \"value\": {}\n  }}",
                    Int(v.denominator()),
                    Int(v.numerator()),
                    texts.period(r.period),
                    subjects[&r.subject],
                    r.subject.kind(),
                    Number(v.value),
                );
            }
            out
        })
        .collect();
    format!("[\n{}\n]\n", blocks.join(",\n"))
}

/// An optional integer as JSON: the number, or `null`.
struct Int(Option<i64>);

impl std::fmt::Display for Int {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("null"),
        }
    }
}

/// A value as a JSON number: its 6-decimal text read as a float, as serde_json writes it
/// (`100.0`, `0.5`, `1e-6`), or `null`.
struct Number(Option<yardstick_core::engine::Rational>);

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let float = self.0.and_then(|v| v.format6().parse::<f64>().ok()).filter(|x| x.is_finite());
        match float {
            Some(x) => f.write_str(&serde_json::to_string(&x).unwrap_or_default()),
            None => f.write_str("null"),
        }
    }
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
                let (base, derived) = r.metric.split_once('.').unwrap_or((&r.metric, ""));
                let def = catalogue.resolve(base, engine.data).and_then(|d| d.into_iter().next());
                // A derived row is named as such: 首次问题解决率（环比）.
                let (zh, en) = match derived {
                    "change" => ("（环比）", " (change)"),
                    "attainment" => ("（达成率）", " (attainment)"),
                    _ => ("", ""),
                };
                (def.as_ref().map(|d| format!("{}{zh}", d.name_zh)), def.as_ref().map(|d| format!("{}{en}", d.name_en)))
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
                r.value.numerator().map(|n| n.to_string()).unwrap_or_default(),
                r.value.denominator().map(|n| n.to_string()).unwrap_or_default(),
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

#[cfg(test)]
mod tests {
    use yardstick_core::engine::{Engine, Query, SubjectKinds};
    use yardstick_core::metric::Catalogue;
    use yardstick_core::period::Period;
    use yardstick_core::settings::Settings;

    use super::{MetricRowReport, json};

    /// The fast JSON writer prints exactly the serialised reports, nulls, whole numbers,
    /// names and derived rows included.
    #[test]
    fn json_is_the_serialised_reports() {
        let dir = std::env::temp_dir().join(format!("yardstick-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        yardstick_demo::generate(&dir, 5, 2000, 2025).unwrap();
        let settings = Settings::default();
        let options = yardstick_ingest::ImportOptions::default();
        let data = yardstick_ingest::load_folder(&dir, &settings, &options).unwrap().data;
        let _ = std::fs::remove_dir_all(&dir);
        let engine = Engine::new(&data, &settings);
        let catalogue = Catalogue::builtin();
        let query = Query {
            metrics: vec!["fcr_rate".into(), "fcr_rate.change".into(), "backlog_over_3d".into(), "nps".into()],
            periods: vec![Period::parse("2025-03").unwrap(), Period::parse("2025-W10").unwrap()],
            subjects: SubjectKinds::ALL,
        };
        let rows = engine.compute(&catalogue, &query).unwrap();
        assert!(rows.len() > 100);
        let reports = MetricRowReport::of_rows(&engine, &catalogue, &rows);
        let mut expected = serde_json::to_string_pretty(&reports).unwrap();
        expected.push('\n');
        assert_eq!(json(&engine, &catalogue, &rows), expected);
    }
}
