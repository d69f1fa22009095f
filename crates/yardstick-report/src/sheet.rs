//! A period's scorecards as one sheet of cells — the CSV contract's columns first, then
//! ranks, bonus, subtotals, and a value and score column per item — written as CSV, as an
//! aligned table, or (`xlsx.rs`) as a workbook; and the names of people and teams the
//! writers show.

use yardstick_core::engine::{Engine, Rational, Subject, csv_quote, neutralise};
use yardstick_core::schema::Source;
use yardstick_core::scorecard::read::DIMENSIONS;
use yardstick_core::scorecard::{self, Scored, Scoring, Template, TemplateSet};

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
        "insufficient",
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
                c.insufficient.as_ref().map_or(Cell::Empty, |_| Cell::text("不足以评定 insufficient data")),
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

/// The scoring as an aligned table (the `score` command's default).
pub fn table(names: &Names, set: &TemplateSet, scoring: &Scoring) -> String {
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
                match &c.insufficient {
                    Some(_) => "不足以评定".to_string(),
                    None => c.grade.clone().unwrap_or_default(),
                },
                rank(scorecard::Group::Team),
                rank(scorecard::Group::Org),
                c.vetoes.join(" "),
                c.bonus.as_ref().map_or(String::new(), |b| b.amount.format_places(2)),
            ]
        })
        .collect();
    crate::metrics::render(&header, &lines)
}

/// The scoring as CSV (the `score --format csv` contract); text a spreadsheet would run is
/// neutralised.
pub fn csv(names: &Names, set: &TemplateSet, scoring: &Scoring) -> String {
    let (header, rows) = sheet(names, set, scoring);
    let mut text = header.join(",");
    text.push('\n');
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| csv_quote(c.plain())).collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    text
}
