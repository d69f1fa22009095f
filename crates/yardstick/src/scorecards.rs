//! The `score` and `explain` commands: a period's scorecards as CSV, JSON, a table or an
//! XLSX workbook, and one person's full chain from records to bonus.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use yardstick_core::engine::explain::RecordStatus;
use yardstick_core::engine::{Engine, Rational, Subject, csv_quote, neutralise};
use yardstick_core::period::{PERIOD_FORMAT_HINT, Period};
use yardstick_core::schema::Source;
use yardstick_core::scorecard::read::DIMENSIONS;
use yardstick_core::scorecard::{
    self, Direction, GradeScheme, Item, ItemResult, ItemStatus, Method, Missing, MissingReason, Of, Scorecard, Scored,
    Scoring, Template, TemplateSet, VetoEffect,
};

use crate::commands::{load_data, print_diagnostics};
use crate::config::{self, report};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScoreFormat {
    Table,
    Csv,
    Json,
    Xlsx,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

/// A cell of the scorecard sheet: CSV, table and XLSX are written from the same cells.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    /// A number and the decimals it is shown with.
    Number(Rational, u32),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    fn opt(v: Option<Rational>, places: u32) -> Cell {
        v.map_or(Cell::Empty, |v| Cell::Number(v, places))
    }

    /// As written in CSV and tables; text that a spreadsheet would execute is neutralised.
    pub fn plain(&self) -> String {
        match self {
            Cell::Text(s) => neutralise(s),
            Cell::Number(v, places) => v.format_places(*places),
            Cell::Empty => String::new(),
        }
    }
}

/// Looks up names of people and teams.
pub struct Names<'a> {
    pub engine: &'a Engine<'a>,
}

impl Names<'_> {
    fn field(&self, source: Source, field: &str, row: u32) -> String {
        let t = self.engine.data.table(source);
        let f = t.def().field_index(field).expect("schema field");
        t.text(f, row as usize).map(|n| n.into_owned()).unwrap_or_default()
    }

    pub fn person_id(&self, row: u32) -> String {
        self.engine.subject_id(Subject::Person(row))
    }

    pub fn person_name(&self, row: u32) -> String {
        self.field(Source::People, "name", row)
    }

    pub fn role(&self, row: u32) -> String {
        self.field(Source::People, "role", row)
    }

    pub fn team_id(&self, team: Option<u32>) -> String {
        team.map(|t| self.engine.subject_id(Subject::Team(t))).unwrap_or_default()
    }

    pub fn team_name(&self, team: Option<u32>) -> String {
        team.map(|t| self.field(Source::Teams, "name", t)).unwrap_or_default()
    }
}

/// The sheet of a scoring: the CSV contract's columns first, then ranks, bonus,
/// subtotals, and a value and score column per item.
pub fn sheet(names: &Names, set: &TemplateSet, scoring: &Scoring) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut header: Vec<String> = [
        "person_id",
        "name",
        "team_id",
        "template",
        "version",
        "total",
        "grade",
        "subject",
        "team_name",
        "role",
        "rank_team",
        "rank_role",
        "rank_org",
        "veto",
        "bonus",
        "weight_counted",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let used: Vec<&Template> = {
        let mut ts: Vec<usize> = scoring.cards.iter().map(|c| c.template).collect();
        ts.sort_unstable();
        ts.dedup();
        ts.into_iter().map(|t| &set.templates[t]).collect()
    };
    let dimensions: Vec<&str> =
        DIMENSIONS.iter().copied().filter(|d| used.iter().any(|t| t.items.iter().any(|i| i.dimension == *d))).collect();
    header.extend(dimensions.iter().map(|d| format!("dimension:{d}")));
    let splits = ["quantitative", "qualitative", "results", "process"];
    header.extend(splits.iter().map(|s| s.to_string()));
    let mut metrics: Vec<&str> = Vec::new();
    for t in &used {
        for i in &t.items {
            if !metrics.contains(&i.metric.as_str()) {
                metrics.push(&i.metric);
            }
        }
    }
    for m in &metrics {
        header.push(format!("value:{m}"));
        header.push(format!("score:{m}"));
    }
    let rows = scoring
        .cards
        .iter()
        .map(|c| {
            let t = &set.templates[c.template];
            let (person_id, name, role, subject) = match c.scored {
                Scored::Person(p) => (names.person_id(p), names.person_name(p), names.role(p), "person"),
                Scored::Team(_) => (String::new(), names.team_name(c.team), String::new(), "team"),
            };
            let rank = |g: scorecard::Group| {
                c.ranks
                    .iter()
                    .find(|r| r.group == g)
                    .map_or(Cell::Empty, |r| Cell::Number(Rational::int(r.rank as i128), 0))
            };
            let mut row = vec![
                Cell::text(person_id),
                Cell::text(name),
                Cell::text(names.team_id(c.team)),
                Cell::text(&t.id),
                Cell::Number(Rational::int(t.version as i128), 0),
                Cell::opt(c.total, 2),
                c.grade.clone().map_or(Cell::Empty, Cell::Text),
                Cell::text(subject),
                Cell::text(names.team_name(c.team)),
                Cell::text(role),
                rank(scorecard::Group::Team),
                rank(scorecard::Group::Role),
                rank(scorecard::Group::Org),
                Cell::text(c.vetoes.join(" ")),
                Cell::opt(c.bonus.as_ref().map(|b| b.amount), 2),
                Cell::Number(c.weight_sum, 4),
            ];
            row.extend(
                dimensions.iter().map(|d| Cell::opt(c.dimensions.iter().find(|(k, _)| k == d).map(|(_, v)| *v), 2)),
            );
            row.extend(splits.iter().map(|s| Cell::opt(c.splits.iter().find(|(k, _)| k == s).map(|(_, v)| *v), 2)));
            for m in &metrics {
                match c.items.iter().find(|i| i.metric == *m) {
                    Some(i) => {
                        row.push(Cell::opt(i.value.and_then(|v| v.value), 6));
                        row.push(Cell::opt(i.score, 2));
                    }
                    None => row.extend([Cell::Empty, Cell::Empty]),
                }
            }
            row
        })
        .collect();
    (header, rows)
}

pub fn score(
    data: &Path,
    period: &str,
    config: Option<&Path>,
    tz: Option<&str>,
    format: ScoreFormat,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let period = Period::parse(period).with_context(|| format!("`{period}` is not a period: {PERIOD_FORMAT_HINT}"))?;
    let configured = config::load(config, tz)?;
    print_diagnostics(&configured.warnings, 20);
    let loaded = load_data(data, &configured.settings)?;
    let engine = Engine::new(&loaded.data, &configured.settings);
    print_diagnostics(&engine.diagnostics, 20);
    let set = &configured.templates;
    let scoring = scorecard::score(&engine, &configured.catalogue, set, period).map_err(|d| report(&[d]))?;
    print_diagnostics(&scoring.diagnostics, 20);
    if !scoring.unscored.is_empty() {
        let list: Vec<String> = scoring.unscored.iter().map(|(r, n)| format!("{n} {r}")).collect();
        eprintln!("no scorecard template applies to: {} (add a template for their role)", list.join(", "));
    }
    let names = Names { engine: &engine };
    let bytes: Vec<u8> = match format {
        ScoreFormat::Csv => {
            let (header, rows) = sheet(&names, set, &scoring);
            let mut text = header.join(",");
            text.push('\n');
            for row in rows {
                let cells: Vec<String> = row.iter().map(|c| csv_quote(c.plain())).collect();
                text.push_str(&cells.join(","));
                text.push('\n');
            }
            text.into_bytes()
        }
        ScoreFormat::Json => {
            let cards: Vec<Value> = scoring.cards.iter().map(|c| card_json(&names, set, c, None)).collect();
            let doc = json!({ "period": period.to_string(), "scorecards": cards });
            let mut text = serde_json::to_string_pretty(&doc)?;
            text.push('\n');
            text.into_bytes()
        }
        ScoreFormat::Table => table(&names, set, &scoring).into_bytes(),
        ScoreFormat::Xlsx => {
            if out.is_none() {
                bail!("--format xlsx writes a workbook: give --out FILE.xlsx");
            }
            crate::xlsx::workbook(&names, set, &scoring)?
        }
    };
    match out {
        Some(path) => std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn table(names: &Names, set: &TemplateSet, scoring: &Scoring) -> String {
    let header: Vec<String> = [
        "工号 id",
        "姓名 name",
        "团队 team",
        "考核表 template",
        "总分 total",
        "等级 grade",
        "团队排名",
        "全员排名",
        "否决 veto",
        "奖金 bonus",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let lines: Vec<Vec<String>> = scoring
        .cards
        .iter()
        .map(|c| {
            let t = &set.templates[c.template];
            let (id, name) = match c.scored {
                Scored::Person(p) => (names.person_id(p), names.person_name(p)),
                Scored::Team(_) => (format!("[{}]", names.team_id(c.team)), names.team_name(c.team)),
            };
            let rank =
                |g| c.ranks.iter().find(|r| r.group == g).map_or(String::new(), |r| format!("{}/{}", r.rank, r.of));
            vec![
                id,
                name,
                names.team_id(c.team),
                format!("{} v{}", t.id, t.version),
                c.total.map_or("—".into(), |v| v.format_places(2)),
                c.grade.clone().unwrap_or_default(),
                rank(scorecard::Group::Team),
                rank(scorecard::Group::Org),
                c.vetoes.join(" "),
                c.bonus.as_ref().map_or(String::new(), |b| b.amount.format_places(2)),
            ]
        })
        .collect();
    crate::output::render(&header, &lines)
}

/// A JSON number as shown (rounded to `places`); whole numbers without a fraction.
fn num(v: Option<Rational>, places: u32) -> Value {
    let Some(text) = v.map(|v| v.format_places(places)) else { return Value::Null };
    match text.parse::<i64>() {
        Ok(i) => Value::from(i),
        Err(_) => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number),
    }
}

fn method_text(item: &Item) -> String {
    let dir = match item.direction {
        Direction::HigherIsBetter => "越高越好 higher is better",
        Direction::LowerIsBetter => "越低越好 lower is better",
    };
    let detail = match &item.method {
        Method::Steps(steps) => {
            let sign = if item.direction == Direction::HigherIsBetter { ">=" } else { "<=" };
            let bands: Vec<String> =
                steps.iter().map(|s| format!("{sign} {} → {}", s.bound.format6(), s.points.format6())).collect();
            format!(" [{}]", bands.join("; "))
        }
        Method::Deduction { points_per_unit } => format!(" ({} per unit)", points_per_unit.format6()),
        Method::Rating { min, max } => format!(" (scale {}–{})", min.format6(), max.format6()),
        _ => String::new(),
    };
    format!("{}{detail}, {dir}, cap {}", item.method.name(), item.cap.format6())
}

/// The scoring rule as data, for tools that recompute a score.
fn rule_json(item: &Item) -> Value {
    let mut rule = json!({
        "method": item.method.name(),
        "direction": if item.direction == Direction::HigherIsBetter { "higher" } else { "lower" },
        "cap": num(Some(item.cap), 6),
    });
    match &item.method {
        Method::Steps(steps) => {
            rule["steps"] = steps
                .iter()
                .map(|s| json!({ "at": num(Some(s.bound), 6), "points": num(Some(s.points), 6) }))
                .collect();
        }
        Method::Deduction { points_per_unit } => rule["points_per_unit"] = num(Some(*points_per_unit), 6),
        Method::Rating { min, max } => rule["scale"] = json!([num(Some(*min), 6), num(Some(*max), 6)]),
        _ => {}
    }
    rule
}

fn missing_text(status: &ItemStatus) -> Option<String> {
    let ItemStatus::Missing { reason, policy } = status else { return None };
    let why = match reason {
        MissingReason::NoValue => "无数据 no value for the period".to_string(),
        MissingReason::SampleBelow { n, min } => format!("样本不足 sample {n} < minimum {min}"),
        MissingReason::LeadsNoTeam => "未带团队 leads no team".to_string(),
    };
    let what = match policy {
        Missing::Exclude => "excluded; weights renormalise".to_string(),
        Missing::Zero => "scored 0".to_string(),
        Missing::Neutral(x) => format!("scored neutral {}", x.format6()),
    };
    Some(format!("{why} → {what}"))
}

/// The JSON of one scorecard; with `records`, each item carries its records.
pub fn card_json(names: &Names, set: &TemplateSet, c: &Scorecard, records: Option<&[Value]>) -> Value {
    let t = &set.templates[c.template];
    let items: Vec<Value> = c
        .items
        .iter()
        .zip(&t.items)
        .enumerate()
        .map(|(k, (r, item))| {
            let mut v = json!({
                "metric": r.metric,
                "name_zh": item.name_zh,
                "name_en": item.name_en,
                "dimension": item.dimension,
                "kind": if item.qualitative { "qualitative" } else { "quantitative" },
                "category": if item.process { "process" } else { "results" },
                "of": if item.of == Of::Team { "team" } else { "person" },
                "method": method_text(item),
                "rule": rule_json(item),
                "weight": num(Some(r.weight), 4),
                "target": num(r.target, 6),
                "threshold": num(r.threshold, 6),
                "stretch": num(item.stretch, 6),
                "value": num(r.value.and_then(|v| v.value), 6),
                "numerator": r.value.and_then(|v| v.numerator).map(|n| n as i64),
                "denominator": r.value.and_then(|v| v.denominator).map(|n| n as i64),
                "sample": r.value.and_then(|v| v.sample).map(|n| n as i64),
                "min_sample": item.min_sample.map(|n| n as i64),
                "shrunk": r.shrunk.map(|s| json!({
                    "n": s.n as i64, "strength": num(Some(s.strength), 6), "own": num(Some(s.own), 6),
                    "team": num(Some(s.team), 6), "result": num(Some(s.result), 6),
                    "arithmetic": shrink_text(&s),
                })),
                "blend": r.blend.as_ref().map(|b| blend_text(b, item, r)),
                "used": num(r.used, 6),
                "missing": missing_text(&r.status),
                "score": num(r.score, 2),
                "arithmetic": r.arithmetic,
                "contribution": num(r.contribution, 4),
                "vetoed": r.vetoed,
                "veto_rule": item.veto.as_ref().map(|v| {
                    let effect = match &v.effect {
                        VetoEffect::Zero => "总分归零 total becomes 0".to_string(),
                        VetoEffect::GradeCap(g) => format!("等级封顶 grade capped at {g}"),
                        VetoEffect::Flag => "仅标记 flagged only".to_string(),
                    };
                    format!("value {} {} → {effect}", v.op.symbol(), v.bound.format6())
                }),
            });
            if let Some(records) = records {
                v["records"] = records[k].clone();
            }
            v
        })
        .collect();
    let (person_id, name) = match c.scored {
        Scored::Person(p) => (Some(names.person_id(p)), names.person_name(p)),
        Scored::Team(_) => (None, names.team_name(c.team)),
    };
    json!({
        "subject": if person_id.is_some() { "person" } else { "team" },
        "person_id": person_id,
        "name": name,
        "team_id": names.team_id(c.team),
        "team_name": names.team_name(c.team),
        "template": t.id,
        "template_name_zh": t.name_zh,
        "template_name_en": t.name_en,
        "version": t.version,
        "items": items,
        "weight_counted": num(Some(c.weight_sum), 4),
        "total_arithmetic": total_text(c),
        "total_before_veto": num(c.total_before_veto, 2),
        "total": num(c.total, 2),
        "grade": c.grade,
        "grade_rule": grade_text(t, c),
        "grade_before_cap": c.grade_before_cap,
        "vetoes": c.vetoes,
        "ranks": c.ranks.iter().map(|r| json!({ "group": r.group.name(), "rank": r.rank, "of": r.of })).collect::<Vec<_>>(),
        "bonus": c.bonus.as_ref().map(|b| json!({ "amount": num(Some(b.amount), 2), "arithmetic": b.arithmetic })),
        "dimensions": c.dimensions.iter().map(|(k, v)| json!({ "dimension": k, "subtotal": num(Some(*v), 2) })).collect::<Vec<_>>(),
        "splits": c.splits.iter().map(|(k, v)| json!({ "split": k, "subtotal": num(Some(*v), 2) })).collect::<Vec<_>>(),
    })
}

fn shrink_text(s: &scorecard::Shrunk) -> String {
    format!(
        "({} × {} + {} × {}) / ({} + {}) = {}",
        s.n,
        s.own.format6(),
        s.strength.format6(),
        s.team.format6(),
        s.n,
        s.strength.format6(),
        s.result.format6()
    )
}

fn blend_text(b: &scorecard::Blend, item: &Item, r: &ItemResult) -> String {
    let spans: Vec<String> = b.segments.iter().map(|s| format!("{} {}/{} days", s.name, s.days_in, b.days)).collect();
    let mut parts = vec![format!("weight {}", b.arithmetic(item.weight, |s| Some(s.weight), r.weight))];
    if let (Some(base), Some(t)) = (item.target, r.target)
        && base != t
    {
        parts.push(format!("target {}", b.arithmetic(base, |s| s.target, t)));
    }
    if let (Some(base), Some(t)) = (item.threshold, r.threshold)
        && base != t
    {
        parts.push(format!("threshold {}", b.arithmetic(base, |s| s.threshold, t)));
    }
    format!("{}: {}", spans.join(", "), parts.join("; "))
}

fn total_text(c: &Scorecard) -> String {
    let terms: Vec<String> = c
        .items
        .iter()
        .filter_map(|i| i.score.map(|s| format!("{} × {}", i.weight.format6(), s.format_places(2))))
        .collect();
    match c.total_before_veto {
        None => "no item has a value → no total".into(),
        Some(t) => format!("({}) / {} = {}", terms.join(" + "), c.weight_sum.format6(), t.format_places(2)),
    }
}

fn grade_text(t: &Template, c: &Scorecard) -> String {
    let mut text = match (&t.grades.scheme, c.total) {
        (_, None) => return "no total → no grade".into(),
        (GradeScheme::Bands(bands), Some(total)) => {
            let list: Vec<String> = bands.iter().map(|(g, m)| format!("{g} ≥ {}", m.format6())).collect();
            format!("{} by bands ({})", total.format_places(2), list.join(", "))
        }
        (GradeScheme::Forced { quotas, group, tie_break }, Some(total)) => {
            let list: Vec<String> = quotas.iter().map(|(g, q)| format!("{g} {}%", q.format6())).collect();
            let place = c.forced_place.map_or(String::new(), |(p, n)| format!(", place {p} of {n}"));
            format!(
                "{} by forced distribution in the {} ({}; ties by total, then {}, then id){place}",
                total.format_places(2),
                group.name(),
                list.join(" / "),
                tie_break.as_deref().unwrap_or("—")
            )
        }
    };
    if let Some(before) = &c.grade_before_cap {
        text.push_str(&format!("; veto caps {before} → {}", c.grade.as_deref().unwrap_or("")));
    }
    text
}

/// Explains one person's (or team's) scorecard down to the records.
#[allow(clippy::too_many_arguments)]
pub fn explain(
    data: &Path,
    period: &str,
    person: Option<&str>,
    team: Option<&str>,
    item: Option<&str>,
    config: Option<&Path>,
    format: ExplainFormat,
) -> Result<ExitCode> {
    let period = Period::parse(period).with_context(|| format!("`{period}` is not a period: {PERIOD_FORMAT_HINT}"))?;
    let configured = config::load(config, None)?;
    let loaded = load_data(data, &configured.settings)?;
    let engine = Engine::new(&loaded.data, &configured.settings);
    let set = &configured.templates;
    let wanted = match (person, team) {
        (Some(p), None) => Scored::Person(
            engine.data.table(Source::People).find(p).with_context(|| format!("no person `{p}` in people.csv"))? as u32,
        ),
        (None, Some(t)) => Scored::Team(
            engine.data.table(Source::Teams).find(t).with_context(|| format!("no team `{t}` in teams.csv"))? as u32,
        ),
        _ => bail!("give --person ID (or --team ID for a team scorecard)"),
    };
    let scoring = scorecard::score(&engine, &configured.catalogue, set, period).map_err(|d| report(&[d]))?;
    let Some(card) = scoring.cards.iter().find(|c| c.scored == wanted) else {
        bail!(
            "no scorecard for {} in {period}: not active in the period, or no template applies (a team scorecard needs a lead with a team-lead or manager template)",
            person.or(team).unwrap_or_default()
        );
    };
    let template = &set.templates[card.template];
    if let Some(m) = item
        && template.item(m).is_none()
    {
        let list: Vec<&str> = template.items.iter().map(|i| i.metric.as_str()).collect();
        bail!("`{m}` is not an item of template {}: use one of {}", template.id, list.join(", "));
    }
    let names = Names { engine: &engine };
    let records: Vec<Value> = template
        .items
        .iter()
        .map(|it| {
            if item.is_some_and(|m| m != it.metric) {
                return Ok(Value::Null);
            }
            item_records(&engine, &configured.catalogue, card, it, period)
        })
        .collect::<Result<_>>()?;
    let mut doc = card_json(&names, set, card, Some(&records));
    for (k, it) in template.items.iter().enumerate() {
        if let Some(base) = it.metric.strip_suffix(".change")
            && let Some(subject) = item_subject(card, it)
        {
            doc["items"][k]["change"] = change_json(&engine, &configured.catalogue, base, subject, period)?;
        }
    }
    let text = match format {
        ExplainFormat::Json => {
            let mut t = serde_json::to_string_pretty(&json!({ "period": period.to_string(), "scorecard": doc }))?;
            t.push('\n');
            t
        }
        ExplainFormat::Text => crate::explain_text::render(&doc, period, item, template),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Whose records an item reads: the person, the team they lead, or the team of a team card.
fn item_subject(card: &Scorecard, item: &Item) -> Option<Subject> {
    match (card.scored, item.of) {
        (Scored::Person(p), Of::Person) => Some(Subject::Person(p)),
        (Scored::Person(_), Of::Team) => card.led_team.map(Subject::Team),
        (Scored::Team(t), _) => Some(Subject::Team(t)),
    }
}

/// A `.change` item's two values: this period's and the previous one's.
fn change_json(
    engine: &Engine,
    catalogue: &yardstick_core::metric::Catalogue,
    base: &str,
    subject: Subject,
    period: Period,
) -> Result<Value> {
    let previous = period.previous();
    let query = yardstick_core::engine::Query {
        metrics: vec![base.to_string()],
        periods: vec![period, previous],
        subjects: yardstick_core::engine::SubjectKinds { person: true, team: true, org: false },
    };
    let rows = engine.compute(catalogue, &query).map_err(|d| report(&[d]))?;
    let value = |p: Period| rows.iter().find(|r| r.period == p && r.subject == subject).and_then(|r| r.value.value);
    let (now, before) = (value(period), value(previous));
    Ok(json!({
        "metric": base,
        "value": num(now, 6),
        "previous_period": previous.to_string(),
        "previous_value": num(before, 6),
        "arithmetic": match (now, before) {
            // The difference of the exact values, as the engine publishes it.
            (Some(a), Some(b)) => format!(
                "{} - {} = {}",
                a.format6(),
                b.format6(),
                a.checked_sub(b).map_or(String::new(), |c| c.format6())
            ),
            _ => "one of the two periods has no value → no change".to_string(),
        },
    }))
}

/// The records behind an item's value: counted (with what each adds) and excluded (why).
fn item_records(
    engine: &Engine,
    catalogue: &yardstick_core::metric::Catalogue,
    card: &Scorecard,
    item: &Item,
    period: Period,
) -> Result<Value> {
    let Some(subject) = item_subject(card, item) else { return Ok(Value::Null) };
    let base = item.metric.strip_suffix(".change").or(item.metric.strip_suffix(".attainment")).unwrap_or(&item.metric);
    let explanations = engine.records(catalogue, base, subject, period).map_err(|d| report(&[d]))?;
    let mut out = Vec::new();
    for e in &explanations {
        let table = engine.data.table(e.source);
        for entry in &e.entries {
            let id = table.key_text(entry.row);
            out.push(match &entry.status {
                RecordStatus::Counted { numerator, denominator, value } => json!({
                    "metric": e.metric, "source": e.source.name(), "record_id": id, "status": "counted",
                    "numerator": numerator, "denominator": denominator, "value": num(*value, 6),
                }),
                RecordStatus::Excluded { reason_zh, reason_en } => json!({
                    "metric": e.metric, "source": e.source.name(), "record_id": id, "status": "excluded",
                    "reason_zh": reason_zh, "reason_en": reason_en,
                }),
            });
        }
    }
    Ok(Value::Array(out))
}
