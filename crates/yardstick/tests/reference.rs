//! The engine against an independent, record-by-record computation of SPEC §4 on generated
//! data (team moves, leavers, unassigned tickets, uncontrollable causes, mixed offsets),
//! and the team roll-up property: a parent team's numerator and denominator are the sums of
//! its sub-teams' and its own direct members'.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use yardstick_core::data::{Dataset, NULL, Table};
use yardstick_core::engine::{Engine, Query, Rational, SubjectKinds, to_csv};
use yardstick_core::metric::Catalogue;
use yardstick_core::period::Period;
use yardstick_core::schema::Source;
use yardstick_core::settings::Settings;
use yardstick_ingest::{ImportOptions, load_folder};

fn generated(name: &str, tickets: u64, seed: u64) -> Dataset {
    let dir: PathBuf = std::env::temp_dir().join(format!("yardstick-ref-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    yardstick_demo::generate(&dir, seed, tickets, 2025).unwrap();
    let loaded = load_folder(&dir, &Settings::default(), &ImportOptions::default()).unwrap();
    assert_eq!(loaded.n_errors(), 0, "{:?}", loaded.diagnostics);
    let _ = std::fs::remove_dir_all(&dir);
    loaded.data
}

/// Column accessor by name.
fn col<'t>(t: &'t Table, name: &str) -> impl Fn(usize) -> i64 + 't {
    let f = t.def().field_index(name).unwrap();
    move |r| t.int(f, r)
}

/// The organisation as the reference sees it: team of a person at an instant (membership
/// rows `[from, to)`, else `people.team_id`), and each team's ancestors.
struct RefOrg {
    spans: HashMap<usize, Vec<(i64, i64, usize)>>,
    home: Vec<Option<usize>>,
    ancestors: Vec<Vec<usize>>,
}

impl RefOrg {
    fn new(data: &Dataset) -> RefOrg {
        let m = data.table(Source::Memberships);
        let (p, t, f, to) = (col(m, "person_id"), col(m, "team_id"), col(m, "from"), col(m, "to"));
        let mut spans: HashMap<usize, Vec<(i64, i64, usize)>> = HashMap::new();
        for r in 0..m.len() {
            spans.entry(p(r) as usize).or_default().push((
                f(r),
                if to(r) == NULL { i64::MAX } else { to(r) },
                t(r) as usize,
            ));
        }
        let people = data.table(Source::People);
        let team = col(people, "team_id");
        let home = (0..people.len()).map(|r| Some(team(r) as usize)).collect();
        let teams = data.table(Source::Teams);
        let parent_field = teams.def().field_index("parent_team_id").unwrap();
        let parent: Vec<Option<usize>> =
            (0..teams.len()).map(|r| teams.text(parent_field, r).and_then(|id| teams.find(&id))).collect();
        let ancestors = (0..teams.len())
            .map(|t| {
                let mut chain = vec![t];
                while let Some(p) = parent[*chain.last().unwrap()] {
                    chain.push(p);
                }
                chain
            })
            .collect();
        RefOrg { spans, home, ancestors }
    }

    fn team_at(&self, person: usize, t: i64) -> Option<usize> {
        match self.spans.get(&person) {
            Some(spans) => spans.iter().find(|&&(from, to, _)| from <= t && t < to).map(|s| s.2),
            None => self.home[person],
        }
    }

    /// The subjects a record attributed to `person` (or nobody) at `t` counts for.
    fn subjects(&self, person: i64, t: i64) -> Vec<String> {
        let mut out = vec!["org,org".to_string()];
        if person != NULL {
            out.push(format!("person,{}", person));
            if let Some(team) = self.team_at(person as usize, t) {
                out.extend(self.ancestors[team].iter().map(|a| format!("team,{a}")));
            }
        }
        out
    }
}

/// num, den (or values) per (period, subject).
type Acc = BTreeMap<(String, String), (i128, i128, Vec<i64>)>;

struct Reference<'a> {
    data: &'a Dataset,
    org: RefOrg,
    periods: Vec<(String, i64, i64)>,
}

impl Reference<'_> {
    /// Adds a record anchored at `anchor` for `person` with contributions.
    fn add(&self, acc: &mut Acc, anchor: i64, person: i64, contribution: Option<(i128, i128, Option<i64>)>) {
        if anchor == NULL {
            return;
        }
        for (label, start, end) in &self.periods {
            if *start <= anchor && anchor < *end {
                for s in self.org.subjects(person, anchor) {
                    let e = acc.entry((label.clone(), s)).or_insert((0, 0, Vec::new()));
                    if let Some((n, d, v)) = contribution {
                        e.0 += n;
                        e.1 += d;
                        if let Some(v) = v {
                            e.2.push(v);
                        }
                    }
                }
            }
        }
    }

    /// Prints `period,kind,id,metric,value,num,den` like the engine, with ids mapped back.
    fn lines(
        &self,
        metric: &str,
        acc: &Acc,
        value: impl Fn(&(i128, i128, Vec<i64>)) -> (Option<Rational>, bool),
    ) -> Vec<String> {
        let people = self.data.table(Source::People);
        let teams = self.data.table(Source::Teams);
        let mut out = Vec::new();
        for ((period, subject), entry) in acc {
            let (kind, id) = subject.split_once(',').unwrap();
            let id = match kind {
                "person" => people.key_text(id.parse().unwrap()),
                "team" => teams.key_text(id.parse().unwrap()),
                _ => "org".to_string(),
            };
            let (v, ratio) = value(entry);
            let v = v.map(|r| r.format6()).unwrap_or_default();
            let tail = if ratio { format!("{},{}", entry.0, entry.1) } else { ",".to_string() };
            out.push(format!("{period},{kind},{id},{metric},{v},{tail}"));
        }
        out.sort();
        out
    }
}

fn ratio(e: &(i128, i128, Vec<i64>)) -> (Option<Rational>, bool) {
    (Rational::new(e.0, e.1), true)
}

fn percentile(mut values: Vec<i64>, p_num: i128, p_den: i128, scale: i128) -> Option<Rational> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = p_num * (values.len() as i128 - 1);
    let lo = (rank / p_den) as usize;
    let frac = rank % p_den;
    let (a, b) = (values[lo] as i128, values[(lo + 1).min(values.len() - 1)] as i128);
    Rational::new(a * p_den + (b - a) * frac, p_den * scale)
}

fn engine_lines(data: &Dataset, metric: &str, periods: &[&str]) -> Vec<String> {
    let settings = Settings::default();
    let engine = Engine::new(data, &settings);
    let query = Query {
        metrics: vec![metric.to_string()],
        periods: periods.iter().map(|p| Period::parse(p).unwrap()).collect(),
        subjects: SubjectKinds::ALL,
    };
    let rows = engine.compute(&Catalogue::builtin(), &query).unwrap();
    let mut lines: Vec<String> = to_csv(&engine, &rows).lines().skip(1).map(str::to_string).collect();
    lines.sort();
    lines
}

fn assert_same(metric: &str, engine: Vec<String>, reference: Vec<String>) {
    assert!(!reference.is_empty(), "{metric}: the reference found nothing");
    if engine != reference {
        let diff: Vec<String> = engine
            .iter()
            .zip(&reference)
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("engine    {a}\nreference {b}"))
            .collect();
        panic!(
            "{metric}: {} engine rows, {} reference rows; first differences:\n{}",
            engine.len(),
            reference.len(),
            diff.join("\n")
        );
    }
}

#[test]
fn ticket_and_service_metrics_equal_an_independent_computation() {
    let data = generated("reference", 12_000, 5);
    let settings = Settings::default();
    let periods = ["2025-02", "2025-06", "2025-Q4", "2025"];
    let bounds: Vec<(String, i64, i64)> = periods
        .iter()
        .map(|p| {
            let p = Period::parse(p).unwrap();
            (p.to_string(), settings.tz.day_start(p.start), settings.tz.day_start(p.end))
        })
        .collect();
    let r = Reference { data: &data, org: RefOrg::new(&data), periods: bounds };
    let t = data.table(Source::Tickets);
    let (created, resolved, first, agent, customer, contacts, reopens, cause) = (
        col(t, "created_at"),
        col(t, "resolved_at"),
        col(t, "first_response_at"),
        col(t, "agent_id"),
        col(t, "customer_id"),
        col(t, "contact_count"),
        col(t, "reopen_count"),
        col(t, "cause"),
    );
    let day = 86_400;
    // Tickets of each customer, for the 7-day repeat contact.
    let mut by_customer: HashMap<i64, Vec<usize>> = HashMap::new();
    for i in 0..t.len() {
        by_customer.entry(customer(i)).or_default().push(i);
    }
    let mut fcr = Acc::new();
    let mut frt24 = Acc::new();
    let mut median = Acc::new();
    let mut repeat = Acc::new();
    let mut mean_hours = Acc::new();
    let mut resolved_count = Acc::new();
    for i in 0..t.len() {
        let c = if contacts(i) == NULL { 1 } else { contacts(i) };
        let o = if reopens(i) == NULL { 0 } else { reopens(i) };
        r.add(&mut fcr, resolved(i), agent(i), Some(((c == 1 && o == 0) as i128, 1, None)));
        r.add(&mut resolved_count, resolved(i), agent(i), Some((1, 0, None)));
        let hit = first(i) != NULL && first(i) - created(i) <= day;
        r.add(&mut frt24, created(i), agent(i), Some((hit as i128, 1, None)));
        let response = (first(i) != NULL).then(|| first(i) - created(i));
        r.add(&mut median, created(i), agent(i), Some((0, 0, response)));
        if resolved(i) != NULL {
            let again = by_customer[&customer(i)]
                .iter()
                .any(|&j| j != i && created(j) > resolved(i) && created(j) <= resolved(i) + 7 * day);
            r.add(&mut repeat, resolved(i), agent(i), Some((again as i128, 1, None)));
            r.add(&mut mean_hours, resolved(i), agent(i), Some(((resolved(i) - created(i)) as i128, 1, None)));
        }
    }
    assert_same("fcr_rate", engine_lines(&data, "fcr_rate", &periods), r.lines("fcr_rate", &fcr, ratio));
    assert_same(
        "tickets_resolved",
        engine_lines(&data, "tickets_resolved", &periods),
        r.lines("tickets_resolved", &resolved_count, |e| (Some(Rational::int(e.0)), false)),
    );
    assert_same(
        "first_response_24h_rate",
        engine_lines(&data, "first_response_24h_rate", &periods),
        r.lines("first_response_24h_rate", &frt24, ratio),
    );
    assert_same(
        "repeat_contact_7d_rate",
        engine_lines(&data, "repeat_contact_7d_rate", &periods),
        r.lines("repeat_contact_7d_rate", &repeat, ratio),
    );
    assert_same(
        "resolution_hours_mean",
        engine_lines(&data, "resolution_hours_mean", &periods),
        r.lines("resolution_hours_mean", &mean_hours, |e| (Rational::new(e.0, e.1 * 3600), false)),
    );
    assert_same(
        "first_response_median_min",
        engine_lines(&data, "first_response_median_min", &periods),
        r.lines("first_response_median_min", &median, |e| (percentile(e.2.clone(), 1, 2, 60), false)),
    );
    assert_same(
        "first_response_p90_min",
        engine_lines(&data, "first_response_p90_min", &periods),
        r.lines("first_response_p90_min", &median, |e| (percentile(e.2.clone(), 9, 10, 60), false)),
    );

    // Surveys: the agent defaults to the ticket's; product-defect tickets are excluded.
    let s = data.table(Source::Surveys);
    let (answered, s_agent, csat, nps, s_ticket) =
        (col(s, "answered_at"), col(s, "agent_id"), col(s, "csat"), col(s, "nps"), col(s, "ticket_id"));
    let defect = t.code_of(t.def().field_index("cause").unwrap(), "product_defect").unwrap();
    let mut csat_rate = Acc::new();
    let mut nps_acc = Acc::new();
    for i in 0..s.len() {
        let excluded = cause(s_ticket(i) as usize) == defect;
        let c = (csat(i) != NULL && !excluded).then(|| ((csat(i) >= 4) as i128, 1, None));
        r.add(&mut csat_rate, answered(i), s_agent(i), Some(c.unwrap_or((0, 0, None))));
        let n = (nps(i) != NULL && !excluded).then(|| {
            (
                if nps(i) >= 9 {
                    1
                } else if nps(i) <= 6 {
                    -1
                } else {
                    0
                },
                1,
                None,
            )
        });
        r.add(&mut nps_acc, answered(i), s_agent(i), Some(n.unwrap_or((0, 0, None))));
    }
    assert_same("csat_rate", engine_lines(&data, "csat_rate", &periods), r.lines("csat_rate", &csat_rate, ratio));
    assert_same(
        "nps",
        engine_lines(&data, "nps", &periods),
        r.lines("nps", &nps_acc, |e| (Rational::new(100 * e.0, e.1), true)),
    );

    // Visits: first-time fix and 30-day rework.
    let v = data.table(Source::Visits);
    let (scheduled, finished, tech, seq, fixed, cancelled, v_ticket) = (
        col(v, "scheduled_at"),
        col(v, "finished_at"),
        col(v, "technician_id"),
        col(v, "visit_seq"),
        col(v, "fixed"),
        col(v, "cancelled"),
        col(v, "ticket_id"),
    );
    let mut by_ticket: HashMap<i64, Vec<usize>> = HashMap::new();
    for i in 0..v.len() {
        by_ticket.entry(v_ticket(i)).or_default().push(i);
    }
    let mut ftf = Acc::new();
    let mut rework = Acc::new();
    for i in 0..v.len() {
        let first_visit = seq(i) == 1 && cancelled(i) != 1;
        r.add(
            &mut ftf,
            scheduled(i),
            tech(i),
            Some(if first_visit { ((fixed(i) == 1) as i128, 1, None) } else { (0, 0, None) }),
        );
        let again = by_ticket[&v_ticket(i)]
            .iter()
            .any(|&j| j != i && scheduled(j) > finished(i) && scheduled(j) <= finished(i) + 30 * day);
        r.add(
            &mut rework,
            finished(i),
            tech(i),
            Some(if fixed(i) == 1 { (again as i128, 1, None) } else { (0, 0, None) }),
        );
    }
    assert_same(
        "first_time_fix_rate",
        engine_lines(&data, "first_time_fix_rate", &periods),
        r.lines("first_time_fix_rate", &ftf, ratio),
    );
    assert_same(
        "rework_30d_rate",
        engine_lines(&data, "rework_30d_rate", &periods),
        r.lines("rework_30d_rate", &rework, ratio),
    );
}

#[test]
fn a_parent_team_adds_up_its_sub_teams_and_direct_members() {
    let data = generated("rollup", 15_000, 9);
    let settings = Settings::default();
    let engine = Engine::new(&data, &settings);
    let periods = ["2025-03", "2025-Q3", "2025"];
    let query = Query {
        metrics: Vec::new(),
        periods: periods.iter().map(|p| Period::parse(p).unwrap()).collect(),
        subjects: SubjectKinds::ALL,
    };
    let rows = engine.compute(&Catalogue::builtin(), &query).unwrap();
    let teams = data.table(Source::Teams);
    let people = data.table(Source::People);
    let parent_field = teams.def().field_index("parent_team_id").unwrap();
    let team_of = col(people, "team_id");
    let movers: std::collections::HashSet<i64> = {
        let m = data.table(Source::Memberships);
        let p = col(m, "person_id");
        (0..m.len()).map(p).collect()
    };
    // (period, metric, kind, id) → (numerator, denominator)
    let mut nd: HashMap<(String, String, &str, String), (i128, i128)> = HashMap::new();
    for r in &rows {
        if let (Some(n), Some(d)) = (r.value.numerator(), r.value.denominator()) {
            nd.insert(
                (r.period.to_string(), r.metric.to_string(), r.subject.kind(), engine.subject_id(r.subject)),
                (n as i128, d as i128),
            );
        }
    }
    let mut checked = 0;
    for t in 0..teams.len() {
        let id = teams.key_text(t);
        let children: Vec<String> = (0..teams.len())
            .filter(|&c| teams.text(parent_field, c).as_deref() == Some(id.as_str()))
            .map(|c| teams.key_text(c))
            .collect();
        if children.is_empty() {
            continue;
        }
        let direct: Vec<String> =
            (0..people.len()).filter(|&p| team_of(p) as usize == t).map(|p| people.key_text(p)).collect();
        for p in &direct {
            assert!(
                !movers.contains(&(people.find(p).unwrap() as i64)),
                "direct members of parent teams do not move in the generated data"
            );
        }
        for ((period, metric, kind, subject), &(n, d)) in nd.iter().filter(|(k, _)| k.2 == "team" && k.3 == id) {
            if metric == "team_attrition_rate" {
                continue; // its person rows are the leads' (their teams' values), not members'
            }
            let _ = kind;
            let part = |kind: &'static str, who: &String| {
                nd.get(&(period.clone(), metric.clone(), kind, who.clone())).copied().unwrap_or((0, 0))
            };
            let (mut sn, mut sd) = (0, 0);
            for c in &children {
                let (a, b) = part("team", c);
                sn += a;
                sd += b;
            }
            for p in &direct {
                let (a, b) = part("person", p);
                sn += a;
                sd += b;
            }
            assert_eq!((n, d), (sn, sd), "{period} {metric} team {subject}");
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} parent rows checked");
}
