//! A whole period scored from records: template choice by specificity, team scorecards,
//! ranks by the team at period end, grades (bands and forced), bonuses (base with rules,
//! pool), people outside the period; shuffled input gives identical scorecards.
//!
//! March 2025. R (lead M1) has teams A (lead L1) and B (lead L2). P1, P2 in A; P3 in A
//! until 2025-03-25, then B; P4 in B. Tickets resolved in March (contacts/reopens):
//!
//! | agent | tickets | first-contact resolved | tickets_resolved score (ratio, target 5) | fcr_rate score (linear 0.2 → 0.7) | total |
//! |-------|---------|------------------------|-----|-----|------|
//! | P1    | 4       | 4 → 1.0                | 80  | 100 | 90   |
//! | P2    | 2       | 1 → 0.5                | 40  | 60  | 50   |
//! | P3    | 4 (before the move, so credited to A) | 3 → 0.75 | 80 | 100 | 90 |
//! | P4    | 1       | 1 → 1.0  — own template: fcr pass_fail 0.9 | | 100 | 100 |
//!
//! Team A's FCR = 8 / 10 = 0.8 → L1 scores 80 (lead template: team FCR linear 0 → 1);
//! team B's = 1 / 1 → L2 scores 100.

use super::d;
use crate::engine::Engine;
use crate::metric::Catalogue;
use crate::period::Period;
use crate::schema::Source;
use crate::scorecard::{Group, Scored, TemplateSet, score};
use crate::settings::Settings;
use crate::testkit::dataset;

const TEAMS: &str = "
team_id,name,parent_team_id,lead_id,region
R,售后总部,,M1,
A,热线一组,R,L1,east
B,热线二组,R,L2,west
";

const PEOPLE: &str = "
person_id,name,role,team_id,manager_id,email,hired_at,left_at
M1,孙经理,manager,R,,,2020-01-01,
L1,李组长,team_lead,A,M1,,2020-01-01,
L2,赵组长,team_lead,B,M1,,2020-01-01,
P1,张三,agent,A,L1,,2024-01-01,
P2,李四,agent,A,L1,,2024-01-01,
P3,王五,agent,A,L1,,2024-01-01,
P4,钱六,agent,B,L2,,2024-01-01,
P5,新人,agent,A,L1,,2025-04-01,
P6,离职,agent,A,L1,,2024-01-01,2025-02-15
Q1,质检员,auditor,R,M1,,2020-01-01,
";

const MEMBERSHIPS: &str = "
person_id,team_id,from,to
P3,A,2024-01-01,2025-03-25
P3,B,2025-03-25,
";

const TICKETS: &str = "
ticket_id,created_at,customer_id,agent_id,channel,resolved_at,reopen_count,contact_count
T1,2025-03-01T09:00:00+08:00,C1,P1,phone,2025-03-01T10:00:00+08:00,0,1
T2,2025-03-02T09:00:00+08:00,C2,P1,phone,2025-03-02T10:00:00+08:00,0,1
T3,2025-03-03T09:00:00+08:00,C3,P1,phone,2025-03-03T10:00:00+08:00,0,1
T4,2025-03-04T09:00:00+08:00,C4,P1,phone,2025-03-04T10:00:00+08:00,0,1
T5,2025-03-05T09:00:00+08:00,C5,P2,phone,2025-03-05T10:00:00+08:00,0,1
T6,2025-03-06T09:00:00+08:00,C6,P2,phone,2025-03-06T10:00:00+08:00,0,2
T7,2025-03-07T09:00:00+08:00,C7,P3,phone,2025-03-07T10:00:00+08:00,0,1
T8,2025-03-08T09:00:00+08:00,C8,P3,phone,2025-03-08T10:00:00+08:00,0,1
T9,2025-03-09T09:00:00+08:00,C9,P3,phone,2025-03-09T10:00:00+08:00,0,1
T10,2025-03-10T09:00:00+08:00,C10,P3,phone,2025-03-10T10:00:00+08:00,1,1
T11,2025-03-11T09:00:00+08:00,C11,P4,phone,2025-03-11T10:00:00+08:00,0,1
T12,2025-03-12T09:00:00+08:00,C12,,phone,2025-03-12T10:00:00+08:00,0,1
";

const TEMPLATES: &str = r#"
[[template]]
id = "agent_t"
name_zh = "坐席"
name_en = "Agent"
version = 2
applies_to = { roles = ["agent"] }
GRADES
[template.bonus]
BONUS

[[template.item]]
metric = "tickets_resolved"
weight = 50
dimension = "efficiency"
method = "ratio"
target = 5
cap = 120

[[template.item]]
metric = "fcr_rate"
weight = 50
dimension = "quality"
method = "linear"
target = 0.7
threshold = 0.2

[[template]]
id = "p4_special"
name_zh = "特别"
name_en = "Special"
version = 1
applies_to = { people = ["P4"] }

[[template.item]]
metric = "fcr_rate"
weight = 100
dimension = "quality"
method = "pass_fail"
target = 0.9

[[template]]
id = "lead"
name_zh = "组长"
name_en = "Lead"
version = 1
applies_to = { roles = ["team_lead"] }
team_scorecard = true

[[template.item]]
metric = "fcr_rate"
weight = 100
dimension = "quality"
of = "team"
method = "linear"
target = 1
threshold = 0
"#;

const BASE_BONUS: &str = "base = 1000\n\n[[template.bonus.rule]]\nmetric = \"fcr_rate\"\nper = 0.1\npercent = 10\n";

/// Scores March with the grades and bonus sections given, returning one line per
/// scorecard: `id template total grade ranks bonus`.
fn scored(grades: &str, bonus: &str, people: &str, tickets: &str) -> (Vec<String>, Vec<(String, usize)>) {
    let settings = Settings::default();
    let data =
        dataset(&[("teams", TEAMS), ("people", people), ("memberships", MEMBERSHIPS), ("tickets", tickets)], &settings);
    let engine = Engine::new(&data, &settings);
    let catalogue = Catalogue::builtin();
    let mut set = TemplateSet::default();
    let text = TEMPLATES.replace("GRADES", grades).replace("BONUS", bonus);
    let diags = set.add_file("t.toml", &text, &catalogue);
    assert!(diags.is_empty(), "{diags:?}");
    let scoring = score(&engine, &catalogue, &set, Period::parse("2025-03").unwrap()).expect("score");
    let people = data.table(Source::People);
    let teams = data.table(Source::Teams);
    let lines = scoring
        .cards
        .iter()
        .map(|c| {
            let id = match c.scored {
                Scored::Person(p) => people.key_text(p as usize),
                Scored::Team(t) => format!("team:{}", teams.key_text(t as usize)),
            };
            let ranks: Vec<String> = c
                .ranks
                .iter()
                .map(|r| {
                    let g = match r.group {
                        Group::Team => "team",
                        Group::Role => "role",
                        Group::Org => "org",
                    };
                    format!("{g}={}/{}", r.rank, r.of)
                })
                .collect();
            format!(
                "{id} {} {} {} {} {}",
                set.templates[c.template].id,
                c.total.map_or("-".into(), |t| t.format_places(2)),
                c.grade.as_deref().unwrap_or("-"),
                ranks.join(","),
                c.bonus.as_ref().map_or("-".into(), |b| b.amount.format_places(2))
            )
        })
        .collect();
    (lines, scoring.unscored)
}

fn expect(actual: &[String], expected: &str) {
    let expected: Vec<String> = expected.trim().lines().map(|l| l.trim().to_string()).collect();
    assert_eq!(actual, expected.as_slice(), "\nactual:\n{}", actual.join("\n"));
}

#[test]
fn a_month_scored_with_bands_and_base_bonuses() {
    let (lines, unscored) = scored("", BASE_BONUS, PEOPLE, TICKETS);
    // Bonuses (A 1.2, D 0.5): P1's FCR 1.0 is 0.3 above target 0.7 → 3 steps × 10 % →
    // 1000 × 1.2 × 1.3 = 1560; P3's 0.75 is 0.05 above → 0 steps → 1200; P2 500.
    // Ranks use the team at period end: P3 is in B on March 31.
    expect(
        &lines,
        "
        L1 lead 80 B team=2/3,role=2/2,org=5/6 -
        L2 lead 100 A+ team=1/3,role=1/2,org=1/6 -
        P1 agent_t 90 A team=1/3,role=2/4,org=3/6 1560
        P2 agent_t 50 D team=3/3,role=4/4,org=6/6 500
        P3 agent_t 90 A team=3/3,role=2/4,org=3/6 1200
        P4 p4_special 100 A+ team=1/3,role=1/4,org=1/6 -
        team:A lead 80 B org=2/2 -
        team:B lead 100 A+ org=1/2 -
        ",
    );
    // P5 (hired in April) and P6 (left in February) are not scored; nobody covers the
    // manager and the auditor.
    assert_eq!(unscored, vec![("auditor".to_string(), 1), ("manager".to_string(), 1)]);
}

/// Too little data is not a grade: an item scored "neutral" when its value is missing
/// (20 % of the weight) would give a person with no records 60 / C and a bonus; with less
/// than the template's `min_data_share` (default 60 %) of the weight carrying data, the card
/// is "insufficient data" — no total, grade, rank or bonus — and says why.
#[test]
fn a_card_with_too_little_data_is_not_graded_or_paid() {
    let settings = Settings::default();
    let data =
        dataset(&[("teams", TEAMS), ("people", PEOPLE), ("memberships", MEMBERSHIPS), ("tickets", TICKETS)], &settings);
    let engine = Engine::new(&data, &settings);
    let catalogue = Catalogue::builtin();
    let template = |share: &str| {
        format!(
            r#"
[[template]]
id = "t"
name_zh = "测试"
name_en = "Test"
version = 1
applies_to = {{ roles = ["agent"] }}
{share}
[template.bonus]
base = 1000
[[template.item]]
metric = "csat_rate"
weight = 80
dimension = "experience"
method = "linear"
target = 0.9
threshold = 0.5
[[template.item]]
metric = "complaint_rate"
weight = 20
dimension = "quality"
method = "linear"
target = 0.0
threshold = 0.1
missing = "neutral"
"#
        )
    };
    let score_with = |share: &str| {
        let mut set = TemplateSet::default();
        let diags = set.add_file("t.toml", &template(share), &catalogue);
        assert!(diags.is_empty(), "{diags:?}");
        score(&engine, &catalogue, &set, Period::parse("2025-03").unwrap()).unwrap()
    };
    // No surveys at all: csat_rate (80 %) has no value for anyone; P1 has a complaint rate.
    let scoring = score_with("");
    let p1 = scoring.cards.iter().find(|c| c.scored == Scored::Person(p1_row(&data))).unwrap();
    assert_eq!((p1.total, p1.grade.as_deref(), p1.bonus.is_some(), p1.ranks.len()), (None, None, false, 0));
    assert_eq!(
        p1.insufficient.as_deref(),
        Some("不足以评定 insufficient data: items with data carry 20% of the weight, 60% needed")
    );
    // A template may accept less (here none): the card is graded again.
    let scoring = score_with("min_data_share = 0.0");
    let p1 = scoring.cards.iter().find(|c| c.scored == Scored::Person(p1_row(&data))).unwrap();
    assert!(p1.insufficient.is_none() && p1.grade.is_some() && p1.bonus.is_some(), "{p1:?}");
    // A percent where a share belongs is caught with its fix.
    let mut set = TemplateSet::default();
    let diags = set.add_file("t.toml", &template("min_data_share = 60"), &catalogue);
    assert_eq!(diags[0].fix.as_deref(), Some("write the share as a fraction: min_data_share = 0.6"));
}

#[test]
fn forced_distribution_breaks_ties_by_item_then_id() {
    // Quotas A 34 % / B 66 % of 3 agents on agent_t: 1.02 → 1 A, 2 B. P1 and P3 tie on
    // total 90 and on the tie-break item's score (FCR 100): the id decides.
    let grades = "[template.grades]\nscheme = \"forced\"\nquotas = [{ grade = \"A\", percent = 34 }, { grade = \"B\", percent = 66 }]\ngroup = \"org\"\ntie_break = \"fcr_rate\"\ncoefficients = { A = 1.5, B = 1 }\n";
    let (lines, _) = scored(grades, "base = 1000", PEOPLE, TICKETS);
    let agents: Vec<&String> = lines.iter().filter(|l| l.contains("agent_t")).collect();
    assert_eq!(agents[0], "P1 agent_t 90 A team=1/3,role=2/4,org=3/6 1500");
    assert_eq!(agents[1], "P2 agent_t 50 B team=3/3,role=4/4,org=6/6 1000");
    assert_eq!(agents[2], "P3 agent_t 90 B team=3/3,role=2/4,org=3/6 1000");
}

#[test]
fn a_pool_is_split_by_total_to_the_cent() {
    // 1000 over totals 90 / 50 / 90 (Σ 230): 391.304…, 217.391…, 391.304… → floors
    // 391.30 + 217.39 + 391.30 = 999.99; the odd cent goes to the larger remainder, the
    // tie between P1 and P3 to the earlier id.
    let (lines, _) = scored("", "pool = 1000", PEOPLE, TICKETS);
    let bonus: Vec<&str> =
        lines.iter().filter(|l| l.contains("agent_t")).map(|l| l.rsplit(' ').next().unwrap()).collect();
    assert_eq!(bonus, ["391.31", "217.39", "391.3"]);
}

#[test]
fn shuffled_people_and_records_give_identical_scorecards() {
    let (expected, _) = scored("", BASE_BONUS, PEOPLE, TICKETS);
    let reverse = |text: &str| {
        let mut lines: Vec<&str> = text.trim().lines().collect();
        let header = lines.remove(0);
        lines.reverse();
        format!("{header}\n{}", lines.join("\n"))
    };
    let (shuffled, _) = scored("", BASE_BONUS, &reverse(PEOPLE), &reverse(TICKETS));
    assert_eq!(shuffled, expected);
    let _ = d("0");
}

/// A value too large for exact arithmetic (here 10³⁷ tickets resolved, scored as
/// `100 × v / 5`, as a broken import could produce) is not approximated in floating point: the card gets no
/// total, grade or bonus, and a diagnostic says why. The other cards are as before.
#[test]
fn a_value_too_large_to_score_exactly_is_reported_not_approximated() {
    use crate::engine::{MetricValue, Query, Rational, Subject, SubjectKinds};
    use crate::scorecard::score_values;
    let settings = Settings::default();
    let data =
        dataset(&[("teams", TEAMS), ("people", PEOPLE), ("memberships", MEMBERSHIPS), ("tickets", TICKETS)], &settings);
    let engine = Engine::new(&data, &settings);
    let catalogue = Catalogue::builtin();
    let mut set = TemplateSet::default();
    let text = TEMPLATES.replace("GRADES", "").replace("BONUS", "base = 1000");
    assert!(set.add_file("t.toml", &text, &catalogue).is_empty());
    let period = Period::parse("2025-03").unwrap();
    let query = Query {
        periods: vec![period],
        subjects: SubjectKinds::ALL,
        ..crate::scorecard::metric_query(&set, period).unwrap()
    };
    let mut rows = engine.compute(&catalogue, &query).unwrap();
    let p1 = Subject::Person(data.table(Source::People).find("P1").unwrap() as u32);
    let huge = Rational::new(10_i128.pow(37), 1).unwrap();
    for row in rows.iter_mut().filter(|r| r.subject == p1 && &*r.metric == "tickets_resolved") {
        row.value = MetricValue::plain(Some(huge));
    }
    let scoring = score_values(&engine, &set, period, rows);
    let p1_card = scoring.cards.iter().find(|c| c.scored == Scored::Person(p1_row(&data))).unwrap();
    assert_eq!((p1_card.total, p1_card.grade.as_deref(), p1_card.bonus.is_some()), (None, None, false));
    let d = scoring.diagnostics.iter().find(|d| d.code == "score.overflow").expect("a diagnostic");
    assert_eq!(d.message, "the 2025-03 scorecard of P1 is too large to compute exactly");
    let p2 = scoring
        .cards
        .iter()
        .find(|c| c.scored == Scored::Person(data.table(Source::People).find("P2").unwrap() as u32));
    assert_eq!(p2.and_then(|c| c.total).map(|t| t.format_places(2)).as_deref(), Some("50"));
}

fn p1_row(data: &crate::data::Dataset) -> u32 {
    data.table(Source::People).find("P1").unwrap() as u32
}
