//! Scorecards (考核表, SPEC §6): templates turn a period's metric values into item scores,
//! weighted totals, grades, ranks and bonuses — every number with the arithmetic behind it.
//!
//! `score` computes the metrics the templates need (one engine query), picks each
//! person's template, scores every item (`card.rs`, `method.rs`), then grades, ranks and
//! pays (`grade.rs`, `bonus.rs`) across people. Numbers are exact rationals rounded at
//! fixed, documented points: values at 6 decimals, scores and totals at 2, blended weights
//! at 4, money at the cent — so a reader can redo any total with a calculator.

pub mod bonus;
pub mod card;
pub mod grade;
pub mod method;
pub mod read;
pub mod template;

mod award;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use card::{Blend, ItemResult, ItemStatus, MissingReason, Segment, Shrunk};
pub use template::*;

use crate::data::NULL;
use crate::diag::Diagnostic;
use crate::engine::{Engine, MetricValue, Query, Rational, ResultRow, Subject, SubjectKinds};
use crate::metric::Catalogue;
use crate::period::{Period, PeriodKind};
use crate::schema::Source;

/// The built-in templates, one per role of SPEC §1, written in the template format.
pub const BUILTIN_TEMPLATES: &str = include_str!("builtin.toml");

/// The templates in force: the built-in ones, replaced or joined by those of user files.
#[derive(Clone, Debug, Default)]
pub struct TemplateSet {
    pub templates: Vec<Template>,
}

impl TemplateSet {
    pub fn builtin(catalogue: &Catalogue) -> TemplateSet {
        let (templates, diags) = read::read_templates("scorecards.toml (built in)", BUILTIN_TEMPLATES, catalogue);
        assert!(diags.is_empty(), "built-in templates: {diags:?}");
        let templates = templates.into_iter().map(|t| Template { builtin: true, ..t }).collect();
        TemplateSet { templates }
    }

    /// Adds the templates of a file; one with the id of an existing template replaces it.
    /// Templates with errors are left out and reported.
    pub fn add_file(&mut self, file: &str, text: &str, catalogue: &Catalogue) -> Vec<Diagnostic> {
        let (templates, diags) = read::read_templates(file, text, catalogue);
        for t in templates {
            match self.templates.iter_mut().find(|o| o.id == t.id) {
                Some(old) => *old = t,
                None => self.templates.push(t),
            }
        }
        diags
    }
}

/// Who a scorecard is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scored {
    Person(u32),
    /// A team led by a person whose template asks for team scorecards.
    Team(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rank {
    pub group: Group,
    pub rank: u32,
    /// How many were ranked in the group.
    pub of: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BonusResult {
    pub amount: Rational,
    /// The arithmetic, a line per step (rules first, the amount last).
    pub arithmetic: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scorecard {
    pub scored: Scored,
    /// The person's team at the end of the period (or when they left); the team itself
    /// for team scorecards.
    pub team: Option<u32>,
    /// The team whose values the template's team items read (the first team the person
    /// leads, their own team first); the team itself for team scorecards.
    pub led_team: Option<u32>,
    /// Index into the template set.
    pub template: usize,
    pub items: Vec<ItemResult>,
    /// Σ weight × score / Σ weight, rounded to 2 decimals (0 after a zeroing veto).
    pub total: Option<Rational>,
    pub total_before_veto: Option<Rational>,
    /// Σ weights of the items that counted.
    pub weight_sum: Rational,
    pub grade: Option<String>,
    /// The grade before a veto capped it.
    pub grade_before_cap: Option<String>,
    /// Forced distribution: (place in the calibration group's order, group size).
    pub forced_place: Option<(usize, usize)>,
    /// Metric ids of the items whose veto fired.
    pub vetoes: Vec<String>,
    pub ranks: Vec<Rank>,
    pub bonus: Option<BonusResult>,
    /// Σ contributions per dimension, in item order.
    pub dimensions: Vec<(String, Rational)>,
    /// quantitative / qualitative and results / process subtotals.
    pub splits: Vec<(String, Rational)>,
    /// Why the card is not graded: the items with data carry less of the weight than the
    /// template asks (`min_data_share`). Such a card has no total, grade, rank or bonus.
    pub insufficient: Option<String>,
}

/// A period's scorecards.
#[derive(Clone, Debug)]
pub struct Scoring {
    pub period: Period,
    /// Person scorecards sorted by person id, then team scorecards by team id.
    pub cards: Vec<Scorecard>,
    /// Roles of active people no template applies to, with how many.
    pub unscored: Vec<(String, usize)>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The engine's values by metric id, then subject.
#[derive(Default)]
struct Values(HashMap<String, HashMap<Subject, MetricValue>>);

impl Values {
    fn get(&self, metric: &str, subject: Subject) -> Option<MetricValue> {
        self.0.get(metric)?.get(&subject).copied()
    }
}

struct Person<'a> {
    row: u32,
    id: String,
    role: String,
    team: Option<u32>,
    /// The teams this person leads, the own team first.
    leads: &'a [u32],
}

/// Scores every active person (and led team) for a month, quarter, half or year: the
/// metrics the templates need in one engine query, then [`score_values`].
pub fn score(engine: &Engine, catalogue: &Catalogue, set: &TemplateSet, period: Period) -> Result<Scoring, Diagnostic> {
    let query = metric_query(set, period)?;
    let rows = if query.metrics.is_empty() { Vec::new() } else { engine.compute(catalogue, &query)? };
    Ok(score_values(engine, set, period, rows))
}

fn cycle_of(period: Period) -> Result<Cycle, Diagnostic> {
    match period.kind {
        PeriodKind::Month => Ok(Cycle::Month),
        PeriodKind::Quarter => Ok(Cycle::Quarter),
        PeriodKind::Half => Ok(Cycle::Half),
        PeriodKind::Year => Ok(Cycle::Year),
        _ => Err(Diagnostic::argument("period", "bad_period", format!("{period} is not a scorecard cycle"))
            .fix("score a month (2025-03), quarter (2025-Q1), half (2025-H1) or year (2025)")),
    }
}

/// The templates whose cycles include the period's kind.
fn applicable(set: &TemplateSet, cycle: Cycle) -> Vec<usize> {
    (0..set.templates.len()).filter(|&i| set.templates[i].cycles.contains(&cycle)).collect()
}

/// Every metric the templates read for a period, for persons and teams, as one query.
pub fn metric_query(set: &TemplateSet, period: Period) -> Result<Query, Diagnostic> {
    let cycle = cycle_of(period)?;
    let mut metrics: Vec<String> = Vec::new();
    for t in applicable(set, cycle) {
        let template = &set.templates[t];
        metrics.extend(template.items.iter().map(|i| i.metric.clone()));
        metrics.extend(template.applies_to.when.iter().map(|w| w.metric.clone()));
    }
    metrics.sort();
    metrics.dedup();
    Ok(Query { metrics, periods: vec![period], subjects: SubjectKinds { person: true, team: true, org: false } })
}

/// Scores a period from the rows of [`metric_query`]'s query.
pub fn score_values(engine: &Engine, set: &TemplateSet, period: Period, rows: Vec<ResultRow>) -> Scoring {
    score_values_reusing(engine, set, period, rows, None)
}

/// [`score_values`] after a change that touched only `touched` subjects' values, with
/// the scoring before it: a card none of whose subjects (the person, their team, the
/// teams they lead) was touched keeps its items and total; grades, ranks and bonuses,
/// which depend on everyone, are worked out again for all. The same result as scoring
/// afresh (a test compares them after every batch of random changes).
pub fn score_values_reusing(
    engine: &Engine,
    set: &TemplateSet,
    period: Period,
    rows: Vec<ResultRow>,
    reuse: Option<(&Scoring, &std::collections::HashSet<Subject>)>,
) -> Scoring {
    let before: HashMap<Scored, &Scorecard> = reuse.map_or_else(HashMap::new, |(s, _)| {
        s.cards.iter().filter(|c| c.total.is_some()).map(|c| (c.scored, c)).collect()
    });
    let untouched = |subjects: &mut dyn Iterator<Item = Subject>| {
        let Some((_, touched)) = reuse else { return false };
        for s in subjects {
            if touched.contains(&s) {
                return false;
            }
        }
        true
    };
    // A card as it was before grading, ranking and paying, if it can be kept.
    let kept = |scored: Scored, t: usize, subjects: &mut dyn Iterator<Item = Subject>| -> Option<Scorecard> {
        let card = before.get(&scored).filter(|c| c.template == t)?;
        untouched(subjects).then(|| Scorecard {
            grade: None,
            grade_before_cap: None,
            forced_place: None,
            ranks: Vec::new(),
            bonus: None,
            ..(*card).clone()
        })
    };
    let Ok(cycle) = cycle_of(period) else {
        return Scoring { period, cards: Vec::new(), unscored: Vec::new(), diagnostics: Vec::new() };
    };
    let data = engine.data;
    let tz = &engine.settings.tz;
    let (start, end) = (tz.day_start(period.start), tz.day_start(period.end));
    let people_table = data.table(Source::People);
    let field = |name: &str| people_table.def().field_index(name).expect("schema");
    let (role_f, hired_f, left_f) = (field("role"), field("hired_at"), field("left_at"));
    let mut led: Vec<Vec<u32>> = vec![Vec::new(); people_table.len()];
    for (t, lead) in engine.org.lead.iter().enumerate() {
        if let Some(p) = lead {
            led[*p as usize].push(t as u32);
        }
    }
    let mut people: Vec<Person> = Vec::new();
    for p in (0..people_table.len()).filter(|&p| !people_table.is_deleted(p)) {
        let (hired, left) = (people_table.int(hired_f, p), people_table.int(left_f, p));
        if (hired != NULL && hired >= end) || (left != NULL && left <= start) {
            continue;
        }
        let last = if left != NULL { left.min(end) } else { end } - 1;
        let team = engine.org.team_at(p, last);
        let leads = &mut led[p];
        leads.sort_by_key(|&t| (Some(t) != team, t));
        people.push(Person {
            row: p as u32,
            id: people_table.key_text(p),
            role: people_table.text(role_f, p).map(|r| r.into_owned()).unwrap_or_default(),
            team,
            leads: &[],
        });
    }
    for person in &mut people {
        person.leads = &led[person.row as usize];
    }
    let t0 = std::time::Instant::now();
    let templates = applicable(set, cycle);
    let mut values = Values::default();
    for row in rows {
        values.0.entry(row.metric.to_string()).or_default().insert(row.subject, row.value);
    }
    let t1 = std::time::Instant::now();
    let teams_table = data.table(Source::Teams);
    let mut diagnostics = Vec::new();
    let mut ties: HashMap<(usize, usize), usize> = HashMap::new();
    let mut unscored: HashMap<String, usize> = HashMap::new();
    let mut cards = Vec::new();
    // The role and id of each person card, in card order.
    let (mut roles, mut ids): (Vec<Option<&str>>, Vec<String>) = (Vec::new(), Vec::new());
    let mut team_cards = Vec::new();
    people.sort_by(|a, b| a.id.cmp(&b.id));
    method::take_overflow();
    // A card whose arithmetic overflows gets no total (so no grade, rank or bonus).
    let mut unscorable = |card: &mut Scorecard, who: &str| {
        if method::take_overflow() {
            card.total = None;
            card.total_before_veto = None;
            diagnostics.push(
                Diagnostic::error(
                    "scorecards",
                    0,
                    0,
                    format!("the {period} scorecard of {who} is too large to compute exactly"),
                )
                .code("score.overflow")
                .fix("a value this large is an input error: check the records behind its items"),
            );
        }
    };
    for person in &people {
        let chosen = choose_template(set, &templates, person, engine, &values, &mut ties);
        let Some(t) = chosen else {
            *unscored.entry(person.role.clone()).or_default() += 1;
            continue;
        };
        let template = &set.templates[t];
        let subjects = || {
            std::iter::once(Subject::Person(person.row))
                .chain(person.team.map(Subject::Team))
                .chain(person.leads.iter().map(|&t| Subject::Team(t)))
        };
        let card = match kept(Scored::Person(person.row), t, &mut subjects()) {
            Some(card) => card,
            None => {
                let items = template
                    .items
                    .iter()
                    .map(|item| {
                        let value = match item.of {
                            Of::Person => values.get(&item.metric, Subject::Person(person.row)),
                            Of::Team => person.leads.first().and_then(|&t| values.get(&item.metric, Subject::Team(t))),
                        };
                        let input = card::ItemInput {
                            value,
                            team_value: person.team.and_then(|t| values.get(&item.metric, Subject::Team(t))?.value),
                            leads_no_team: item.of == Of::Team && person.leads.is_empty(),
                        };
                        card::item_result(item, template, period, input)
                    })
                    .collect();
                let mut card = assemble(Scored::Person(person.row), person.team, t, template, items);
                unscorable(&mut card, &person.id);
                card.led_team = person.leads.first().copied();
                card
            }
        };
        cards.push(card);
        roles.push(Some(person.role.as_str()));
        ids.push(person.id.clone());
        if template.team_scorecard {
            for &team in person.leads {
                if let Some(card) = kept(Scored::Team(team), t, &mut std::iter::once(Subject::Team(team))) {
                    team_cards.push(card);
                    continue;
                }
                let items = template
                    .items
                    .iter()
                    .map(|item| {
                        let value = values.get(&item.metric, Subject::Team(team));
                        card::item_result(item, template, period, card::ItemInput { value, ..Default::default() })
                    })
                    .collect();
                let mut card = assemble(Scored::Team(team), Some(team), t, template, items);
                unscorable(&mut card, &teams_table.key_text(team as usize));
                card.led_team = Some(team);
                team_cards.push(card);
            }
        }
    }
    for ((a, b), n) in ties {
        diagnostics.push(
            Diagnostic::warning(
                &set.templates[b].file,
                set.templates[b].line,
                1,
                format!(
                    "{n} person(s) match templates `{}` and `{}` equally; `{}` (listed first) applies",
                    set.templates[a].id, set.templates[b].id, set.templates[a].id
                ),
            )
            .code("template.shadowed")
            .fix("make one template more specific (people > teams > roles with `when` > roles)"),
        );
    }
    let t2 = std::time::Instant::now();
    team_cards.sort_by_key(|c| teams_table.key_text(c.team.unwrap_or(0) as usize));
    award::grade_and_rank(&mut cards, set, &roles, &ids, false);
    let team_ids: Vec<String> = team_cards.iter().map(|c| teams_table.key_text(c.team.unwrap_or(0) as usize)).collect();
    let no_roles = vec![None; team_cards.len()];
    award::grade_and_rank(&mut team_cards, set, &no_roles, &team_ids, true);
    award::pay(&mut cards, set, &roles, &ids);
    if method::take_overflow() {
        for card in &mut cards {
            card.bonus = None;
        }
        diagnostics.push(
            Diagnostic::error("scorecards", 0, 0, format!("the {period} bonuses are too large to compute exactly"))
                .code("score.overflow")
                .fix("check the bonus base or pool of the templates"),
        );
    }
    cards.extend(team_cards);
    tracing::trace!(
        values = (t1 - t0).as_secs_f64(),
        cards = (t2 - t1).as_secs_f64(),
        grades_and_pay = t2.elapsed().as_secs_f64(),
        "scored"
    );
    let mut unscored: Vec<(String, usize)> = unscored.into_iter().collect();
    unscored.sort();
    Scoring { period, cards, unscored, diagnostics }
}

/// The template for a person: the most specific that applies (people > teams > roles
/// with a `when` > roles; a user template before a built-in one; then file order).
fn choose_template(
    set: &TemplateSet,
    templates: &[usize],
    person: &Person,
    engine: &Engine,
    values: &Values,
    ties: &mut HashMap<(usize, usize), usize>,
) -> Option<usize> {
    let teams = engine.data.table(Source::Teams);
    let ancestors: Vec<String> = person
        .team
        .map(|t| engine.org.ancestors[t as usize].iter().map(|&a| teams.key_text(a as usize)).collect())
        .unwrap_or_default();
    let mut best: Option<(u8, bool, usize)> = None;
    let mut tied_with: Option<usize> = None;
    for &t in templates {
        let a = &set.templates[t].applies_to;
        let level = if a.people.contains(&person.id) {
            4
        } else if a.teams.iter().any(|id| ancestors.contains(id)) {
            3
        } else if a.roles.contains(&person.role) {
            if a.when.is_some() { 2 } else { 1 }
        } else {
            continue;
        };
        if let Some(w) = &a.when {
            let value = values.get(&w.metric, Subject::Person(person.row)).and_then(|v| v.value);
            if !value.is_some_and(|v| w.op.holds(v, w.bound)) {
                continue;
            }
        }
        let key = (level, !set.templates[t].builtin);
        match best {
            Some((l, u, _)) if (l, u) > key => {}
            Some((l, u, _)) if (l, u) == key => {
                tied_with.get_or_insert(t);
            }
            _ => {
                best = Some((key.0, key.1, t));
                tied_with = None;
            }
        }
    }
    let chosen = best.map(|(_, _, t)| t);
    if let (Some(a), Some(b)) = (chosen, tied_with) {
        *ties.entry((a, b)).or_default() += 1;
    }
    chosen
}

/// A card from its scored items: total, vetoes, subtotals.
fn assemble(scored: Scored, team: Option<u32>, t: usize, template: &Template, mut items: Vec<ItemResult>) -> Scorecard {
    let (total_before_veto, weight_sum) = card::total(&mut items);
    let (zero, _) = card::veto_effects(&items, template);
    let total = if zero { total_before_veto.map(|_| Rational::int(0)) } else { total_before_veto };
    let dimensions = card::subtotals(&items, |i| template.items[i].dimension.as_str());
    let mut splits =
        card::subtotals(&items, |i| if template.items[i].qualitative { "qualitative" } else { "quantitative" });
    splits.extend(card::subtotals(&items, |i| if template.items[i].process { "process" } else { "results" }));
    let vetoes = items.iter().filter(|i| i.vetoed).map(|i| i.metric.clone()).collect();
    let insufficient = insufficient_data(&items, template);
    let total = if insufficient.is_some() { None } else { total };
    Scorecard {
        scored,
        team,
        led_team: None,
        template: t,
        items,
        total,
        total_before_veto,
        weight_sum,
        grade: None,
        grade_before_cap: None,
        forced_place: None,
        vetoes,
        ranks: Vec::new(),
        bonus: None,
        dimensions,
        splits,
        insufficient,
    }
}

/// Why a card cannot be graded, if the items with a value carry less than the template's
/// `min_data_share` of the weight (a missing value scored by policy — zero, neutral — is
/// not data).
fn insufficient_data(items: &[ItemResult], template: &Template) -> Option<String> {
    let all = items.iter().fold(Rational::int(0), |s, i| method::add(s, i.weight));
    let with_data = items
        .iter()
        .filter(|i| matches!(i.status, card::ItemStatus::Scored))
        .fold(Rational::int(0), |s, i| method::add(s, i.weight));
    let zero = Rational::int(0);
    if all == zero {
        return None;
    }
    let share = method::div(with_data, all);
    (share < template.min_data_share).then(|| {
        format!(
            "不足以评定 insufficient data: items with data carry {}% of the weight, {}% needed",
            method::mul(share, Rational::int(100)).format_places(1),
            method::mul(template.min_data_share, Rational::int(100)).format_places(1)
        )
    })
}
