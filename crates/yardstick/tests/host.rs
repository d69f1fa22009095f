//! The host under thousands of random changes: new, changed and deleted tickets, visits,
//! surveys, complaints, audits and ratings, team moves and people leaving, in batches,
//! some of them refused. Three views are registered (all metrics over a month and a
//! quarter; a dozen metrics over a week, a month and the year; a month's scorecards).
//! After every batch each view equals a full computation on the records as they now
//! are, and the change feed lists exactly the values and scorecards that differ from the
//! full computation before the batch.

use std::collections::BTreeSet;

mod common;

use common::Rng;
use yardstick_core::data::Dataset;
use yardstick_core::engine::{Engine, MetricValue, Query, ResultRow, SubjectKinds, to_csv};
use yardstick_core::host::{Applied, Change, Config, Host, ViewId};
use yardstick_core::period::Period;
use yardstick_core::schema::Source;
use yardstick_core::scorecard::Scorecard;
use yardstick_core::settings::Settings;
use yardstick_core::time::format_utc;
use yardstick_ingest::{ImportOptions, load_folder};

fn query(metrics: &[&str], periods: &[&str], subjects: SubjectKinds) -> Query {
    Query {
        metrics: metrics.iter().map(|m| m.to_string()).collect(),
        periods: periods.iter().map(|p| Period::parse(p).unwrap()).collect(),
        subjects,
    }
}

/// Rows as sorted CSV lines, each with the value's sample size (which scorecards read for
/// their minimum samples, so a change of it alone is a change).
fn lines(engine: &Engine, rows: &[ResultRow]) -> BTreeSet<String> {
    let csv = to_csv(engine, rows);
    // to_csv writes a line per row, in the order given.
    csv.lines().skip(1).zip(rows).map(|(line, row)| format!("{line} n={:?}", row.value.sample())).collect()
}

/// What a full computation gives on a copy of the records without their kept answers.
struct Full {
    views: Vec<BTreeSet<String>>,
    cards: Vec<Scorecard>,
}

fn full(data: &Dataset, queries: &[Query], period: Period) -> Full {
    let mut fresh = data.clone();
    fresh.answers.take();
    let config = Config::default();
    let engine = Engine::new(&fresh, &config.settings);
    let views = queries.iter().map(|q| lines(&engine, &engine.compute(&config.catalogue, q).unwrap())).collect();
    let cards = yardstick_core::scorecard::score(&engine, &config.catalogue, &config.templates, period).unwrap().cards;
    Full { views, cards }
}

/// Random changes against the records as they are. Fresh tickets get no dependents, so
/// that they can be deleted again.
struct Changes {
    rng: Rng,
    n: usize,
    agents: Vec<String>,
    technicians: Vec<String>,
    teams: Vec<String>,
    /// Ticket ids (with creation instant) present when the test began.
    tickets: Vec<(String, i64)>,
    customers: Vec<String>,
    fresh_tickets: Vec<String>,
    fresh_visits: Vec<String>,
    moved: BTreeSet<String>,
    /// Ids deleted by the batch being made (changes are made before the batch applies).
    gone: BTreeSet<String>,
}

const MARCH: i64 = 1_740_758_400; // 2025-03-01T00:00:00+08:00 is 1_740_758_400 - 8 h; close enough.

impl Changes {
    fn new(data: &Dataset, seed: u64) -> Changes {
        let people = data.table(Source::People);
        let def = Source::People.def();
        let (role, person_id) = (def.field_index("role").unwrap(), def.field_index("person_id").unwrap());
        let with_role = |r: &str| -> Vec<String> {
            (0..people.len())
                .filter(|&p| people.text(role, p).as_deref() == Some(r))
                .map(|p| people.text(person_id, p).unwrap().into_owned())
                .collect()
        };
        let teams = (0..data.table(Source::Teams).len()).map(|t| data.table(Source::Teams).key_text(t)).collect();
        let tickets = data.table(Source::Tickets);
        let td = Source::Tickets.def();
        let (created, customer) = (td.field_index("created_at").unwrap(), td.field_index("customer_id").unwrap());
        let mut march: Vec<(String, i64)> = (0..tickets.len())
            .filter(|&r| (MARCH - 20 * 86_400..MARCH + 40 * 86_400).contains(&tickets.int(created, r)))
            .map(|r| (tickets.key_text(r), tickets.int(created, r)))
            .collect();
        march.truncate(1500);
        let customers =
            (0..tickets.len()).step_by(7).filter_map(|r| data.field_text(Source::Tickets, customer, r)).collect();
        Changes {
            rng: Rng(seed),
            n: 0,
            agents: with_role("agent"),
            technicians: with_role("technician"),
            teams,
            tickets: march,
            customers,
            fresh_tickets: Vec::new(),
            fresh_visits: Vec::new(),
            moved: BTreeSet::new(),
            gone: BTreeSet::new(),
        }
    }

    fn id(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}{:05}", self.n)
    }

    /// Some record id of a source that exists now.
    fn existing(&mut self, data: &Dataset, source: Source) -> Option<String> {
        let table = data.table(source);
        let id = (0..20)
            .map(|_| self.rng.below(table.len().max(1)))
            .filter(|&r| r < table.len() && !table.is_deleted(r))
            .map(|r| table.key_text(r))
            .find(|id| !self.gone.contains(id))?;
        // Whatever is done to it, nothing else in this batch touches it again.
        self.gone.insert(id.clone());
        Some(id)
    }

    fn one(&mut self, data: &Dataset) -> Change {
        let hour = 3600;
        let (ticket, created) = self.rng.pick(&self.tickets).clone();
        let at = |offset: i64| format_utc(created + offset);
        match self.rng.below(20) {
            0..=2 => {
                let (field, value) = match self.rng.below(5) {
                    0 => ("customer_id", self.rng.pick(&self.customers).clone()),
                    1 => ("agent_id", self.rng.pick(&self.agents).clone()),
                    2 => ("cause", self.rng.pick(&["service", "product_defect", "customer", "logistics"]).to_string()),
                    3 => ("channel", self.rng.pick(&["phone", "chat", "email", "app"]).to_string()),
                    _ => ("reopen_count", self.rng.below(3).to_string()),
                };
                Change::update(Source::Tickets, &ticket, &[(field, &value)])
            }
            3 => {
                let hours = 1 + self.rng.below(100) as i64;
                let (resolved, closed) = if hours > 90 {
                    (String::new(), String::new())
                } else {
                    (at(hours * hour), at((hours + 1) * hour))
                };
                Change::update(Source::Tickets, &ticket, &[("resolved_at", &resolved), ("closed_at", &closed)])
            }
            4 | 5 => {
                let id = self.id("TN");
                self.fresh_tickets.push(id.clone());
                let created = at(self.rng.below(20 * 24) as i64 * hour);
                let resolved = if self.rng.below(3) == 0 {
                    String::new()
                } else {
                    at(self.rng.below(20 * 24) as i64 * hour + 30 * 24 * hour)
                };
                let customer = self.rng.pick(&self.customers).clone();
                let agent = self.rng.pick(&self.agents).clone();
                Change::upsert(
                    Source::Tickets,
                    &[
                        ("ticket_id", &id),
                        ("created_at", &created),
                        ("customer_id", &customer),
                        ("agent_id", &agent),
                        ("resolved_at", &resolved),
                        ("channel", "phone"),
                        ("contact_count", "1"),
                    ],
                )
            }
            6 if !self.fresh_tickets.is_empty() => {
                let k = self.rng.below(self.fresh_tickets.len());
                Change::delete(Source::Tickets, &self.fresh_tickets.swap_remove(k))
            }
            6 | 7 => {
                let id = self.id("SN");
                let (csat, nps) = ((1 + self.rng.below(5)).to_string(), self.rng.below(11).to_string());
                Change::upsert(
                    Source::Surveys,
                    &[
                        ("survey_id", &id),
                        ("ticket_id", &ticket),
                        ("answered_at", &at(26 * hour)),
                        ("csat", &csat),
                        ("nps", &nps),
                    ],
                )
            }
            8 => match self.existing(data, Source::Surveys) {
                Some(s) if self.rng.below(3) == 0 => Change::delete(Source::Surveys, &s),
                Some(s) => Change::update(Source::Surveys, &s, &[("csat", &(1 + self.rng.below(5)).to_string())]),
                None => Change::update(Source::Tickets, &ticket, &[("priority", "high")]),
            },
            9 => {
                let id = self.id("VN");
                self.fresh_visits.push(id.clone());
                let technician = self.rng.pick(&self.technicians).clone();
                let fixed = if self.rng.below(2) == 0 { "true" } else { "false" };
                let seq = (1 + self.rng.below(3)).to_string();
                Change::upsert(
                    Source::Visits,
                    &[
                        ("visit_id", &id),
                        ("ticket_id", &ticket),
                        ("technician_id", &technician),
                        ("visit_seq", &seq),
                        ("scheduled_at", &at(24 * hour)),
                        ("arrived_at", &at(25 * hour)),
                        ("finished_at", &at(27 * hour)),
                        ("fixed", fixed),
                    ],
                )
            }
            10 if !self.fresh_visits.is_empty() => {
                let k = self.rng.below(self.fresh_visits.len());
                Change::delete(Source::Visits, &self.fresh_visits.swap_remove(k))
            }
            10 => match self.existing(data, Source::Visits) {
                Some(v) => {
                    Change::update(Source::Visits, &v, &[("fixed", if self.rng.below(2) == 0 { "是" } else { "否" })])
                }
                None => Change::update(Source::Tickets, &ticket, &[("priority", "low")]),
            },
            11 | 12 => {
                let id = self.id("QN");
                let severity = *self.rng.pick(&["minor", "major"]);
                let satisfied = *self.rng.pick(&["true", "false", ""]);
                Change::upsert(
                    Source::Complaints,
                    &[
                        ("complaint_id", &id),
                        ("ticket_id", &ticket),
                        ("received_at", &at(2 * hour)),
                        ("severity", severity),
                        ("resolved_at", &at(9 * hour)),
                        ("satisfied", satisfied),
                    ],
                )
            }
            13 => match self.existing(data, Source::Complaints) {
                Some(q) if self.rng.below(2) == 0 => Change::delete(Source::Complaints, &q),
                Some(q) => Change::update(Source::Complaints, &q, &[("recovered", "true")]),
                None => Change::update(Source::Tickets, &ticket, &[("priority", "low")]),
            },
            14 => {
                let id = self.id("AN");
                let person = self.rng.pick(&self.agents).clone();
                let score = format!("{}.5", 40 + self.rng.below(60));
                Change::upsert(
                    Source::Audits,
                    &[
                        ("audit_id", &id),
                        ("person_id", &person),
                        ("audited_at", &at(5 * hour)),
                        ("kind", "qa"),
                        ("score", &score),
                        ("compliance_violation", if self.rng.below(5) == 0 { "true" } else { "false" }),
                    ],
                )
            }
            15 => match self.existing(data, Source::Audits) {
                Some(a) if self.rng.below(2) == 0 => Change::delete(Source::Audits, &a),
                Some(a) => Change::update(Source::Audits, &a, &[("score", "77")]),
                None => Change::update(Source::Tickets, &ticket, &[("priority", "low")]),
            },
            16 => {
                let id = self.id("GN");
                let (ratee, rater) = (self.rng.pick(&self.agents).clone(), self.rng.pick(&self.agents).clone());
                let item = *self.rng.pick(&["attitude", "communication", "teamwork"]);
                let score = (1 + self.rng.below(5)).to_string();
                Change::upsert(
                    Source::Ratings,
                    &[
                        ("rating_id", &id),
                        ("ratee_id", &ratee),
                        ("rater_id", &rater),
                        ("period", "2025-03"),
                        ("item", item),
                        ("score", &score),
                        ("relation", "manager"),
                    ],
                )
            }
            17 => match self.existing(data, Source::Ratings) {
                Some(g) => Change::delete(Source::Ratings, &g),
                None => Change::update(Source::Tickets, &ticket, &[("priority", "low")]),
            },
            18 => {
                // A team move: people.team_id of someone without membership rows.
                let person = self.rng.pick(&self.agents).clone();
                let team = self.rng.pick(&self.teams).clone();
                if has_memberships(data, &person) {
                    return Change::update(Source::People, &person, &[("email", "moved@example.cn")]);
                }
                self.moved.insert(person.clone());
                Change::update(Source::People, &person, &[("team_id", &team)])
            }
            _ => {
                let person = self.rng.pick(&self.agents).clone();
                let day = 1 + self.rng.below(28);
                Change::update(Source::People, &person, &[("left_at", &format!("2025-03-{day:02}"))])
            }
        }
    }
}

fn has_memberships(data: &Dataset, person: &str) -> bool {
    let table = data.table(Source::Memberships);
    let f = Source::Memberships.def().field_index("person_id").unwrap();
    (0..table.len()).any(|r| data.field_text(Source::Memberships, f, r).as_deref() == Some(person))
}

/// The feed of one view as the CSV lines that left and the lines that came.
fn feed_lines(engine: &Engine, applied: &Applied, view: ViewId) -> (BTreeSet<String>, BTreeSet<String>) {
    let side = |pick: fn(&yardstick_core::host::MovedValue) -> Option<MetricValue>| -> Vec<ResultRow> {
        applied
            .values
            .iter()
            .filter(|m| m.view == view)
            .filter_map(|m| {
                pick(m).map(|value| ResultRow { period: m.period, subject: m.subject, metric: m.metric.clone(), value })
            })
            .collect()
    };
    (lines(engine, &side(|m| m.before)), lines(engine, &side(|m| m.after)))
}

/// Two sets of lines are equal; otherwise the first lines only one of them has.
fn same(got: &BTreeSet<String>, expected: &BTreeSet<String>, what: &str) {
    let extra: Vec<&String> = got.difference(expected).take(5).collect();
    let missing: Vec<&String> = expected.difference(got).take(5).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what}: {} lines, {} expected; extra {extra:?}, missing {missing:?}",
        got.len(),
        expected.len()
    );
}

#[test]
fn random_batches_keep_every_view_and_the_feed_exact() {
    let dir = std::env::temp_dir().join(format!("yardstick-host-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    yardstick_demo::generate(&dir, 7, 4000, 2025).unwrap();
    let data = load_folder(&dir, &Settings::default(), &ImportOptions::default()).unwrap().data;
    let _ = std::fs::remove_dir_all(&dir);
    let mut changes = Changes::new(&data, 0x9e37_79b9_7f4a_7c15);
    let host = Host::new(Config::default(), data);
    assert_eq!(host.prepare().unwrap(), 3);
    let month = Period::parse("2025-03").unwrap();
    let queries = [
        query(&[], &["2025-03", "2025-Q1"], SubjectKinds::ALL),
        query(
            &[
                "fcr_rate",
                "fcr_rate.change",
                "repeat_contact_7d_rate",
                "first_time_fix_rate",
                "rework_30d_rate",
                "csat_rate",
                "nps",
                "complaint_rate",
                "repeat_complaint_rate",
                "qa_score_mean",
                "rating_mean",
                "team_attrition_rate",
                "backlog_over_3d",
                "first_response_median_min",
            ],
            &["2025-W10", "2025-02", "2025"],
            SubjectKinds { person: true, team: true, org: false },
        ),
    ];
    let views: Vec<ViewId> = queries.iter().map(|q| host.watch(q).unwrap()).collect();
    let scores = host.watch_scores(month).unwrap();
    let mut before = full(&host.read().data, &queries, month);
    let (mut applied_changes, mut refused, mut moved_values, mut moved_cards) = (0, 0, 0, 0);
    for batch in 0..60 {
        let fresh = (changes.fresh_tickets.clone(), changes.fresh_visits.clone());
        changes.gone.clear();
        let size = 1 + changes.rng.below(60);
        let mut list: Vec<Change> = (0..size).map(|_| changes.one(&host.read().data)).collect();
        let bad = batch % 9 == 4;
        if bad {
            let at = changes.rng.below(list.len() + 1);
            list.insert(at, Change::update(Source::Surveys, "S-none", &[("csat", "3")]));
        }
        let result = host.apply(&list);
        let state = host.read();
        let engine = state.engine();
        let after = full(&state.data, &queries, month);
        match result {
            Err(refusal) => {
                assert!(bad, "batch {batch} refused: {refusal}");
                assert_eq!(refusal.0[0].code, "change.unknown_record");
                refused += 1;
                (changes.fresh_tickets, changes.fresh_visits) = fresh;
                for k in 0..queries.len() {
                    same(&after.views[k], &before.views[k], &format!("batch {batch}, view {k}: after a refused batch"));
                }
                assert!(after.cards == before.cards, "batch {batch}: a refused batch changed the scorecards");
            }
            Ok(applied) => {
                assert!(!bad, "batch {batch}: the bad change was not refused");
                applied_changes += applied.changes;
                for (k, &view) in views.iter().enumerate() {
                    let rows = lines(&engine, state.view_rows(view));
                    same(
                        &rows,
                        &after.views[k],
                        &format!("batch {batch}, view {k}: the view against a full computation"),
                    );
                    let (left, came) = feed_lines(&engine, &applied, view);
                    let expected_left: BTreeSet<String> =
                        before.views[k].difference(&after.views[k]).cloned().collect();
                    let expected_came: BTreeSet<String> =
                        after.views[k].difference(&before.views[k]).cloned().collect();
                    same(&left, &expected_left, &format!("batch {batch}, view {k}: values before"));
                    same(&came, &expected_came, &format!("batch {batch}, view {k}: values after"));
                    moved_values += came.len();
                }
                assert!(state.view_scores(scores).unwrap().cards == after.cards, "batch {batch}: scorecards");
                let moved: BTreeSet<_> = applied.scorecards.iter().map(|c| c.scored).collect();
                let expected: BTreeSet<_> = after
                    .cards
                    .iter()
                    .filter(|c| !before.cards.contains(c))
                    .map(|c| c.scored)
                    .chain(
                        before
                            .cards
                            .iter()
                            .filter(|c| !after.cards.iter().any(|a| a.scored == c.scored))
                            .map(|c| c.scored),
                    )
                    .collect();
                assert_eq!(moved, expected, "batch {batch}: moved scorecards");
                moved_cards += moved.len();
            }
        }
        before = after;
    }
    // The answers kept with the records are those worked out anew.
    let state = host.read();
    let mut fresh = state.data.clone();
    fresh.answers.take();
    Engine::new(&fresh, &state.config.settings).prepare(&state.config.catalogue).unwrap();
    assert_eq!(state.data.answers.to_map(), fresh.answers.to_map());
    assert!(applied_changes > 1000 && refused >= 5, "{applied_changes} changes applied, {refused} batches refused");
    assert!(moved_values > 1000 && moved_cards > 50, "{moved_values} values and {moved_cards} scorecards moved");
    assert!(!changes.moved.is_empty());
}
