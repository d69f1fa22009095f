//! Live scores: after upserting changed and new records one by one, the incrementally
//! updated values (and the `exists` answers kept with the records) equal a full
//! computation on the changed data.

use yardstick_core::data::{AnswerMap, Cell, Dataset, NULL};
use yardstick_core::engine::{Engine, Query, SubjectKinds, to_csv};
use yardstick_core::metric::Catalogue;
use yardstick_core::period::Period;
use yardstick_core::schema::Source;
use yardstick_core::settings::Settings;
use yardstick_ingest::{ImportOptions, load_folder};

fn field(source: Source, name: &str) -> usize {
    source.def().field_index(name).unwrap()
}

/// A full computation on a copy of the records without the answers kept with them (worked
/// out anew), and the answers it worked out.
fn full(data: &Dataset, settings: &Settings, query: &Query) -> (String, AnswerMap) {
    let mut fresh = data.clone();
    fresh.answers.take();
    let engine = Engine::new(&fresh, settings);
    let rows = engine.compute(&Catalogue::builtin(), query).unwrap();
    (to_csv(&engine, &rows), fresh.answers.to_map())
}

fn generated(name: &str, tickets: u64) -> Dataset {
    let dir = std::env::temp_dir().join(format!("yardstick-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    yardstick_demo::generate(&dir, 21, tickets, 2025).unwrap();
    let data = load_folder(&dir, &Settings::default(), &ImportOptions::default()).unwrap().data;
    let _ = std::fs::remove_dir_all(&dir);
    data
}

/// Every catalogue metric for every kind of subject over `periods`.
fn all_metrics(periods: &[&str]) -> Query {
    Query {
        metrics: Vec::new(),
        periods: periods.iter().map(|p| Period::parse(p).unwrap()).collect(),
        subjects: SubjectKinds::ALL,
    }
}

#[test]
fn prepared_answers_are_those_computations_use() {
    let settings = Settings::default();
    let mut data = generated("prepare", 3000);
    let catalogue = Catalogue::builtin();
    let query = all_metrics(&["2025-02", "2025-Q3", "2025-W09"]);
    // The catalogue asks three `exists`: repeat contact, rework visits, repeat complaints.
    assert_eq!(Engine::new(&data, &settings).prepare(&catalogue).unwrap(), 3);
    let prepared = data.answers.to_map();
    assert_eq!(prepared.len(), 3);
    assert!(prepared.values().all(|a| a.contains(&1) && a.contains(&0)));
    let engine = Engine::new(&data, &settings);
    let csv = to_csv(&engine, &engine.compute(&catalogue, &query).unwrap());
    drop(engine);
    // The computation found every answer it needed kept, and they are the ones it would
    // have worked out itself.
    assert_eq!(data.answers.to_map(), prepared);
    assert_eq!(full(&data, &settings, &query), (csv, prepared));
    // Other settings (a time zone) never read answers kept for these.
    let mut other = settings.clone();
    other.tz = yardstick_core::time::OrgTimeZone::named("UTC").unwrap();
    Engine::new(&data, &other).prepare(&catalogue).unwrap();
    assert_eq!(data.answers.len(), 6);
    // Any other change to the records drops them.
    let cells = data.table(Source::Surveys).row_cells(0);
    data.upsert(Source::Surveys, cells);
    assert!(data.answers.is_empty());
}

#[test]
fn upserts_update_the_affected_values_exactly() {
    let settings = Settings::default();
    let mut data = generated("live", 6000);
    let catalogue = Catalogue::builtin();
    let query = all_metrics(&["2025-03", "2025-Q1", "2025"]);
    let mut live = Engine::new(&data, &settings).live(&catalogue, &query).unwrap();

    let tickets = Source::Tickets;
    let n = data.table(tickets).len();
    // March tickets to change (ids from the middle of the year's first quarter).
    let march: Vec<usize> = (0..n)
        .filter(|&r| {
            let t = data.table(tickets).int(field(tickets, "created_at"), r);
            (1_740_758_400..1_743_436_800).contains(&t)
        })
        .take(40)
        .collect();
    assert!(march.len() == 40);
    let day = 86_400;
    for (i, &r) in march.iter().enumerate() {
        let mut cells = data.table(tickets).row_cells(r);
        let created = match cells[field(tickets, "created_at")] {
            Cell::Int(t) => t,
            _ => unreachable!(),
        };
        match i % 5 {
            // Resolved quickly now, or not at all.
            0 => cells[field(tickets, "resolved_at")] = Cell::Int(created + 3600),
            1 => cells[field(tickets, "resolved_at")] = Cell::Null,
            // Another customer: the 7-day repeat contacts of both customers change.
            2 => {
                cells[field(tickets, "customer_id")] =
                    data.table(tickets).row_cells(march[(i + 7) % march.len()])[field(tickets, "customer_id")].clone()
            }
            // A product defect: the ticket's surveys leave the agent's satisfaction.
            3 => cells[field(tickets, "cause")] = Cell::Text("product_defect".into()),
            // Another agent (possibly in another team).
            _ => {
                cells[field(tickets, "agent_id")] =
                    data.table(tickets).row_cells(march[(i + 3) % march.len()])[field(tickets, "agent_id")].clone()
            }
        }
        live.upsert(&mut data, &settings, tickets, cells).unwrap();
    }
    // New tickets for existing customers, one of them a repeat contact within 7 days.
    for k in 0..5 {
        let mut cells = data.table(tickets).row_cells(march[k]);
        let resolved = match cells[field(tickets, "resolved_at")] {
            Cell::Int(t) => t,
            _ => 1_741_000_000,
        };
        cells[field(tickets, "ticket_id")] = Cell::Text(format!("TNEW{k}"));
        cells[field(tickets, "created_at")] = Cell::Int(resolved + 2 * day);
        cells[field(tickets, "first_response_at")] = Cell::Int(resolved + 2 * day + 60);
        cells[field(tickets, "resolved_at")] = if k % 2 == 0 { Cell::Null } else { Cell::Int(resolved + 3 * day) };
        cells[field(tickets, "closed_at")] = Cell::Null;
        live.upsert(&mut data, &settings, tickets, cells).unwrap();
    }
    // Survey scores and a visit's outcome change.
    let surveys = Source::Surveys;
    for r in 0..10.min(data.table(surveys).len()) {
        let mut cells = data.table(surveys).row_cells(r * 7);
        cells[field(surveys, "csat")] = Cell::Int(1 + (r as i64 % 5));
        live.upsert(&mut data, &settings, surveys, cells).unwrap();
    }
    let visits = Source::Visits;
    for r in 0..10.min(data.table(visits).len()) {
        let mut cells = data.table(visits).row_cells(r * 11);
        let fixed = data.table(visits).int(field(visits, "fixed"), r * 11);
        cells[field(visits, "fixed")] = Cell::Int(if fixed == 1 { 0 } else { 1 });
        if fixed == NULL {
            cells[field(visits, "fixed")] = Cell::Null;
        }
        live.upsert(&mut data, &settings, visits, cells).unwrap();
    }
    let engine = Engine::new(&data, &settings);
    let incremental = to_csv(&engine, &live.rows(&engine).unwrap());
    let (expected, answers) = full(&data, &settings, &query);
    assert!(expected.lines().count() > 1000);
    // The answers kept with the records were updated record by record.
    assert_eq!(answers.len(), 3);
    assert_eq!(data.answers.to_map(), answers);
    if incremental != expected {
        let diff: Vec<String> = incremental
            .lines()
            .zip(expected.lines())
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("live {a}\nfull {b}"))
            .collect();
        panic!(
            "{} vs {} lines; first differences:\n{}",
            incremental.lines().count(),
            expected.lines().count(),
            diff.join("\n")
        );
    }

    // A person moving team rebuilds the computation; it still agrees.
    drop(engine);
    let people = Source::People;
    let mut cells = data.table(people).row_cells(5);
    cells[field(people, "team_id")] = data.table(people).row_cells(40)[field(people, "team_id")].clone();
    live.upsert(&mut data, &settings, people, cells).unwrap();
    let engine = Engine::new(&data, &settings);
    let (expected, answers) = full(&data, &settings, &query);
    assert_eq!(to_csv(&engine, &live.rows(&engine).unwrap()), expected);
    assert_eq!(data.answers.to_map(), answers);
}
