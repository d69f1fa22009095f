//! No input panics the loader or the change path: random and mutated CSV files of every
//! canonical kind go through the CSV reader, and random changes (any source, field names
//! right and wrong, hostile values) through `Host::apply`, some with a live view
//! registered. Each case is run under `catch_unwind`, and the first one that panics is
//! printed so that it can be replayed.
//!
//! CI runs 20 000 cases; the million-case run is
//! `YARDSTICK_FUZZ_CASES=1000000 cargo test --release -p yardstick --test fuzz -- --nocapture`.

use std::panic::{AssertUnwindSafe, catch_unwind};

mod common;

use common::Rng;
use yardstick_core::data::Dataset;
use yardstick_core::engine::{Query, SubjectKinds};
use yardstick_core::host::{Change, Config, Host};
use yardstick_core::period::Period;
use yardstick_core::schema::{FieldType, Source};
use yardstick_core::settings::Settings;
use yardstick_ingest::{FileImport, ImportOptions, import_file};

/// Values that have broken parsers elsewhere: extremes, near-misses of every type,
/// separators, quotes, encodings, formulas, ids that exist and ids that do not.
const NASTY: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "1",
    "5",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999",
    "1e308",
    "NaN",
    "inf",
    "0.0000001",
    "12.3456789012",
    "-0",
    "1,000",
    "１２",
    "2025-03-01",
    "2025-03-01T09:00:00+08:00",
    "2025-03-31T23:59:59Z",
    "2025-02-30",
    "2025-03-01T25:61:61",
    "9999-12-31T23:59:59Z",
    "0001-01-01",
    "1900-01-01",
    "2025-03-01T09:00:00+15:00",
    "2025-03-01T09:00:00-99:99",
    "2025-03-01T09:00:60",
    "2025-03-01 09:00",
    "2025-W10",
    "2025-Q1",
    "2025-13",
    "是",
    "否",
    "yes",
    "TRUE",
    "\"",
    "\"\"",
    "a,b",
    "\n",
    "\r\n",
    "张三",
    "\u{feff}x",
    "=SUM(A1)",
    "@cmd",
    "\u{0}",
    "\u{7f}",
    "😀",
    "T1",
    "T2",
    "S1",
    "V1",
    "P1",
    "P2",
    "E1",
    "C1",
    "A",
    "B",
    "agent",
    "technician",
    "team_lead",
    "chat",
    "phone",
    "onsite",
    "product_defect",
    "service",
    "minor",
    "major",
    "manager",
    "peer",
    "attitude",
    "qa",
];

const BASE: &[(Source, &str)] = &[
    (Source::Teams, "team_id,name,parent_team_id,lead_id\nR,总部,,\nA,热线一组,R,L1\nB,热线二组,R,\n"),
    (
        Source::People,
        "person_id,name,role,team_id,hired_at,left_at\nL1,组长,team_lead,A,2020-01-01,\nP1,张三,agent,A,2024-01-01,\nP2,李四,technician,B,2024-01-01,\n",
    ),
    (Source::Memberships, "person_id,team_id,from,to\nP1,A,2024-01-01,2025-03-10\nP1,B,2025-03-10,\n"),
    (
        Source::Tickets,
        "ticket_id,created_at,customer_id,agent_id,channel,resolved_at,cause,contact_count\n\
         T1,2025-03-01T09:00:00+08:00,C1,P1,phone,2025-03-01T10:00:00+08:00,service,1\n\
         T2,2025-03-02T09:00:00+08:00,C1,P1,chat,,product_defect,2\n",
    ),
    (
        Source::Visits,
        "visit_id,ticket_id,technician_id,visit_seq,scheduled_at,finished_at,fixed\nV1,T1,P2,1,2025-03-02,2025-03-02T12:00:00+08:00,true\n",
    ),
    (Source::Surveys, "survey_id,ticket_id,answered_at,csat,nps\nS1,T1,2025-03-02,5,9\n"),
    (Source::Complaints, "complaint_id,ticket_id,received_at,severity\nQ1,T2,2025-03-03,major\n"),
    (Source::Ratings, "rating_id,ratee_id,rater_id,period,item,score,relation\nG1,P1,L1,2025-03,attitude,4,manager\n"),
];

fn import(data: &mut Dataset, settings: &Settings, source: Source, bytes: &[u8]) {
    let name = format!("{}.csv", source.name());
    let options = ImportOptions::default();
    let at = FileImport { source, file: &name, settings, options: &options };
    import_file(data, &at, bytes, &mut Vec::new());
}

fn base(settings: &Settings) -> Dataset {
    let mut data = Dataset::new();
    for (source, text) in BASE {
        import(&mut data, settings, *source, text.as_bytes());
    }
    data
}

/// A CSV file for `source`: its header (sometimes mangled), rows of hostile values, then
/// byte-level mutations.
fn csv_case(rng: &mut Rng, source: Source) -> Vec<u8> {
    let def = source.def();
    let mut names: Vec<String> = def.fields.iter().map(|f| f.name.to_string()).collect();
    match rng.below(8) {
        0 => names.truncate(rng.below(names.len() + 1)),
        1 => names.push("unknown_column".into()),
        2 => names.reverse(),
        3 => names.push(names[0].clone()),
        _ => {}
    }
    let mut text = names.join(",");
    text.push('\n');
    for _ in 0..rng.below(6) {
        let cells: Vec<String> = (0..names.len() + rng.below(3).saturating_sub(1))
            .map(|_| {
                let v = NASTY[rng.below(NASTY.len())];
                if rng.below(4) == 0 { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() }
            })
            .collect();
        text.push_str(&cells.join(","));
        text.push_str(if rng.below(5) == 0 { "\r\n" } else { "\n" });
    }
    let mut bytes = text.into_bytes();
    for _ in 0..rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if at < bytes.len() => bytes[at] = rng.next() as u8,
            1 => bytes.insert(at, b'"'),
            2 => bytes.insert(at, b','),
            3 => bytes.splice(at..at, [0xEF, 0xBB, 0xBF, 0x81, 0x30]).for_each(drop),
            _ => bytes.truncate(at),
        }
    }
    if rng.below(50) == 0 {
        bytes = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
    }
    bytes
}

/// Ids of the base records, by source.
fn ids(source: Source) -> &'static [&'static str] {
    match source {
        Source::Teams => &["R", "A", "B"],
        Source::People => &["L1", "P1", "P2"],
        Source::Tickets => &["T1", "T2"],
        Source::Visits => &["V1"],
        Source::Surveys => &["S1"],
        Source::Complaints => &["Q1"],
        Source::Ratings => &["G1"],
        _ => &["X1"],
    }
}

/// A value for a field: most often one of its type (an existing id for a reference), else
/// a hostile one.
fn value(rng: &mut Rng, source: Source, ty: FieldType) -> String {
    if rng.below(5) == 0 {
        return NASTY[rng.below(NASTY.len())].to_string();
    }
    let pick = |rng: &mut Rng, items: &[&str]| items[rng.below(items.len())].to_string();
    match ty {
        FieldType::Id => {
            let existing = ids(source);
            if rng.below(2) == 0 { pick(rng, existing) } else { format!("N{}", rng.below(50)) }
        }
        FieldType::Ref(target) => pick(rng, ids(target)),
        FieldType::Key(_) => pick(rng, &["C1", "C2", "C3"]),
        FieldType::Instant => format!("2025-03-{:02}T{:02}:00:00+08:00", 1 + rng.below(28), rng.below(24)),
        FieldType::Int { min, max } => (min + (rng.next() % 5) as i64).min(max).to_string(),
        FieldType::Decimal { .. } => format!("{}.{}", rng.below(100), rng.below(100)),
        FieldType::Bool => pick(rng, &["true", "false", "是", "否"]),
        FieldType::Enum(values) => pick(rng, values),
        FieldType::Period => pick(rng, &["2025-03", "2025-Q1"]),
        FieldType::Category | FieldType::Text => pick(rng, &["冰箱", "attitude", "note"]),
    }
}

/// A change: mostly well-formed, with hostile values here and there, sometimes with wrong
/// field names or keys.
fn change_case(rng: &mut Rng) -> Change {
    let source = Source::ALL[rng.below(Source::ALL.len())];
    let def = source.def();
    let mut fields: Vec<(String, String)> = Vec::new();
    for f in def.fields {
        if f.required || rng.below(2) == 0 {
            let v = value(rng, source, f.ty);
            fields.push((f.name.to_string(), v));
        }
    }
    if rng.below(10) == 0 {
        fields.push((NASTY[rng.below(NASTY.len())].to_string(), "1".to_string()));
    }
    let mut key: Vec<String> = def
        .key
        .iter()
        .map(|k| fields.iter().find(|(f, _)| f == k).map_or_else(String::new, |(_, v)| v.clone()))
        .collect();
    if rng.below(10) == 0 {
        key.push("extra".into());
    }
    match rng.below(4) {
        0 | 1 => Change::Upsert { source, fields },
        2 => {
            fields.retain(|(f, _)| !def.key.contains(&f.as_str()));
            Change::Update { source, key, fields }
        }
        _ => Change::Delete { source, key },
    }
}

#[test]
fn no_input_panics_the_loader_or_apply() {
    let cases: usize = std::env::var("YARDSTICK_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let settings = Settings::default();
    let start = base(&settings);
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut host = Host::new(Config::default(), start.clone());
    let query = Query {
        metrics: vec![
            "csat_rate".into(),
            "repeat_contact_7d_rate".into(),
            "rating_mean".into(),
            "backlog_over_3d".into(),
        ],
        periods: vec![Period::parse("2025-03").unwrap()],
        subjects: SubjectKinds::ALL,
    };
    // Replaying a failure: YARDSTICK_FUZZ_FROM=N (a multiple of 1000, where a host starts
    // afresh) skips the cases before N.
    let from: usize = std::env::var("YARDSTICK_FUZZ_FROM").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let (mut loaded, mut applied) = (0usize, 0usize);
    for case in 0..cases {
        if case < from / 1000 * 1000 {
            rng.next();
            continue;
        }
        if case % 1000 == 0 {
            // A fresh host now and then, with a live view every other time.
            host = Host::new(Config::default(), start.clone());
            if case % 2000 == 0 {
                host.watch(&query).unwrap();
            }
        }
        let seed = rng.next();
        let mut case_rng = Rng(seed | 1);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if case % 2 == 0 {
                let source = Source::ALL[case_rng.below(Source::ALL.len())];
                let bytes = csv_case(&mut case_rng, source);
                let mut data = start.clone();
                import(&mut data, &settings, source, &bytes);
                // What was loaded computes.
                let engine = yardstick_core::engine::Engine::new(&data, &settings);
                engine.compute(&Config::default().catalogue, &query).map(|rows| rows.len()).unwrap_or(0);
                0
            } else {
                let changes: Vec<Change> = (0..1 + case_rng.below(3)).map(|_| change_case(&mut case_rng)).collect();
                let result = host.apply(&changes);
                if std::env::var_os("YARDSTICK_FUZZ_SHOW").is_some() && result.is_ok() {
                    eprintln!("case {case}: {changes:?}");
                }
                result.map_or(0, |a| a.changes)
            }
        }));
        match outcome {
            Ok(n) if case % 2 == 0 => loaded += 1 + n,
            Ok(n) => applied += n,
            Err(_) => panic!("case {case} (seed {seed:#x}) panicked"),
        }
    }
    eprintln!("{cases} cases without a panic: {loaded} files loaded, {applied} changes applied");
    assert!(applied > cases / 100, "too few changes were valid to exercise apply: {applied}");
}
