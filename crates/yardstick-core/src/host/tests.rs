//! The host on small hand-made records: what a change moves (the feed, value by value),
//! how a bad batch is refused whole, partial updates, deletes and what may not be deleted.

use super::{Change, Config, Host, MovedValue};
use crate::diag::Origin;
use crate::engine::{Query, SubjectKinds, to_csv};
use crate::period::Period;
use crate::schema::Source;
use crate::settings::Settings;

fn host() -> Host {
    let data = crate::testkit::dataset(
        &[
            ("teams", "team_id,name\nT1,热线一组\nT2,热线二组"),
            ("people", "person_id,name,role,team_id\nP1,张三,agent,T1\nP2,李四,agent,T2"),
            (
                "tickets",
                "ticket_id,created_at,customer_id,agent_id,cause\n\
                 K1,2025-03-03T10:00:00+08:00,C1,P1,service\n\
                 K2,2025-03-04T10:00:00+08:00,C2,P1,service\n\
                 K3,2025-03-05T10:00:00+08:00,C3,P2,service",
            ),
            (
                "surveys",
                "survey_id,ticket_id,answered_at,csat\n\
                 S1,K1,2025-03-03T12:00:00+08:00,5\n\
                 S2,K2,2025-03-04T12:00:00+08:00,2",
            ),
        ],
        &Settings::default(),
    );
    Host::new(Config::default(), data)
}

fn csat_march() -> Query {
    Query {
        metrics: vec!["csat_rate".into()],
        periods: vec![Period::parse("2025-03").unwrap()],
        subjects: SubjectKinds::ALL,
    }
}

/// The feed as `subject metric: before → after` lines (values at 6 decimals).
fn feed(host: &Host, moved: &[MovedValue]) -> Vec<String> {
    let state = host.read();
    let engine = state.engine();
    let show = |v: &Option<crate::engine::MetricValue>| match v {
        None => "—".to_string(),
        Some(v) => v.value.map_or("null".to_string(), |x| x.format6()),
    };
    let mut lines: Vec<String> = moved
        .iter()
        .map(|m| format!("{} {}: {} → {}", engine.subject_id(m.subject), m.metric, show(&m.before), show(&m.after)))
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_new_survey_moves_exactly_the_values_it_counts_in() {
    let host = host();
    let view = host.watch(&csat_march()).unwrap();
    let applied = host
        .apply(&[Change::upsert(
            Source::Surveys,
            &[("survey_id", "S3"), ("ticket_id", "K3"), ("answered_at", "2025-03-05 12:00"), ("csat", "4")],
        )])
        .unwrap();
    // P2 and T2 had no survey (no row); the organisation had 1 of 2 satisfied.
    assert_eq!(
        feed(&host, &applied.values),
        ["P2 csat_rate: — → 1", "T2 csat_rate: — → 1", "org csat_rate: 0.5 → 0.666667"]
    );
    assert_eq!(applied.sequence, 1);
    // The view holds what a full computation gives.
    let state = host.read();
    assert_eq!(
        to_csv(&state.engine(), state.view_rows(view)),
        to_csv(&state.engine(), &state.metrics(&csat_march()).unwrap())
    );
}

#[test]
fn a_refused_change_leaves_nothing_of_its_batch_behind() {
    let host = host();
    host.watch(&csat_march()).unwrap();
    let before = to_csv(&host.read().engine(), &host.read().metrics(&csat_march()).unwrap());
    let refused = host
        .apply(&[
            Change::update(Source::Surveys, "S2", &[("csat", "5")]),
            Change::upsert(
                Source::Surveys,
                &[("survey_id", "S4"), ("ticket_id", "K3"), ("answered_at", "5 March"), ("csat", "4")],
            ),
        ])
        .unwrap_err();
    let d = &refused.0[0];
    assert_eq!((d.code, &d.origin, d.field.as_deref()), ("csv.bad_time", &Origin::Change(1), Some("answered_at")));
    assert_eq!(
        d.to_string().split(" — fix").next().unwrap(),
        "change 2 (surveys): error in answered_at: `5 March` is not a time"
    );
    let state = host.read();
    assert_eq!(to_csv(&state.engine(), &state.metrics(&csat_march()).unwrap()), before);
    assert_eq!(state.data.field_text(Source::Surveys, 4, 1).as_deref(), Some("2"), "S2's csat is back");
    assert!(state.data.table(Source::Surveys).find("S4").is_none());
    assert_eq!(state.sequence, 0);
}

#[test]
fn an_update_changes_only_the_fields_it_names() {
    let host = host();
    host.watch(&csat_march()).unwrap();
    // A product defect: the ticket's survey no longer counts against P1 (SPEC §4).
    let applied = host.apply(&[Change::update(Source::Tickets, "K1", &[("cause", "product_defect")])]).unwrap();
    assert_eq!(
        feed(&host, &applied.values),
        ["P1 csat_rate: 0.5 → 0", "T1 csat_rate: 0.5 → 0", "org csat_rate: 0.5 → 0"]
    );
    let state = host.read();
    let row = state.data.table(Source::Tickets).find("K1").unwrap();
    let texts = state.data.row_texts(Source::Tickets, row);
    assert!(texts.contains(&"2025-03-03T02:00:00Z".to_string()) && texts.contains(&"C1".to_string()), "{texts:?}");
}

#[test]
fn deletes_keep_history_and_references_whole() {
    let host = host();
    host.watch(&csat_march()).unwrap();
    let code = |changes: &[Change]| host.apply(changes).unwrap_err().0[0].code;
    assert_eq!(code(&[Change::delete(Source::Tickets, "K1")]), "change.record_in_use");
    assert_eq!(code(&[Change::delete(Source::People, "P1")]), "change.cannot_delete");
    assert_eq!(code(&[Change::delete(Source::Surveys, "S9")]), "change.unknown_record");
    assert_eq!(code(&[Change::update(Source::Tickets, "K1", &[("ticket_id", "K9")])]), "change.key_changed");
    let unknown = host.apply(&[Change::update(Source::Surveys, "S1", &[("csatt", "1")])]).unwrap_err();
    assert_eq!(unknown.0[0].code, "change.unknown_field");
    assert_eq!(unknown.0[0].fix.as_deref(), Some("did you mean csat?"));
    // The survey first, then its ticket, in one batch.
    let applied = host.apply(&[Change::delete(Source::Surveys, "S1"), Change::delete(Source::Tickets, "K1")]).unwrap();
    assert_eq!(
        feed(&host, &applied.values),
        ["P1 csat_rate: 0.5 → 0", "T1 csat_rate: 0.5 → 0", "org csat_rate: 0.5 → 0"]
    );
    {
        let state = host.read();
        assert!(state.data.table(Source::Tickets).find("K1").is_none());
        assert_eq!(state.data.table(Source::Tickets).n_records(), 2);
    }
    // The same ids again: the records come back.
    let again = [
        Change::upsert(
            Source::Tickets,
            &[("ticket_id", "K1"), ("created_at", "2025-03-03 10:00"), ("customer_id", "C1"), ("agent_id", "P1")],
        ),
        Change::upsert(
            Source::Surveys,
            &[("survey_id", "S1"), ("ticket_id", "K1"), ("answered_at", "2025-03-03 12:00"), ("csat", "5")],
        ),
    ];
    let applied = host.apply(&again).unwrap();
    assert_eq!(
        feed(&host, &applied.values),
        ["P1 csat_rate: 0 → 0.5", "T1 csat_rate: 0 → 0.5", "org csat_rate: 0 → 0.5"]
    );
    assert_eq!(host.read().data.table(Source::Tickets).n_records(), 3);
}

#[test]
fn a_move_to_another_team_moves_its_records() {
    let host = host();
    host.watch(&csat_march()).unwrap();
    let applied = host
        .apply(&[
            Change::upsert(
                Source::Memberships,
                &[("person_id", "P1"), ("team_id", "T1"), ("from", "2025-01-01"), ("to", "2025-03-04")],
            ),
            Change::upsert(Source::Memberships, &[("person_id", "P1"), ("team_id", "T2"), ("from", "2025-03-04")]),
        ])
        .unwrap();
    // K2's survey (dissatisfied) is now credited to T2.
    assert_eq!(feed(&host, &applied.values), ["T1 csat_rate: 0.5 → 1", "T2 csat_rate: — → 0"]);
    let overlap = host
        .apply(&[Change::upsert(
            Source::Memberships,
            &[("person_id", "P1"), ("team_id", "T1"), ("from", "2025-03-10")],
        )])
        .unwrap_err();
    assert_eq!(overlap.0[0].code, "change.overlapping_membership");
}
