//! Tests of the batch builder: bad rows kept out whole, values outside their ranges.
use super::*;

#[test]
fn rows_parsed_together_keep_bad_ones_out_whole() {
    use crate::settings::Settings;
    let settings = Settings::default();
    let data = crate::testkit::dataset(
        &[
            ("teams", "team_id,name\nT1,热线"),
            ("people", "person_id,name,role,team_id\nP1,张三,agent,T1\nP2,李四,agent,T1"),
            ("tickets", "ticket_id,created_at,customer_id,agent_id\nK1,2025-03-01,C1,P2"),
        ],
        &settings,
    );
    let header = ["survey_id", "ticket_id", "answered_at", "agent_id", "csat", "comment"];
    let columns = map_header(Source::Surveys, &header, &[]).unwrap();
    let mut b = BatchBuilder::new(Source::Surveys, columns, data.tables(), &settings.tz, &[]);
    #[rustfmt::skip]
    let cells = [
        "S1", "K1", "2025-03-02", "P1", "5", "很好",
        "S2", "K1", "2025-03-02", "P1", "9", "out of range",
        "S3", "K1", "2025-03-02", "", "4", "",
        "S4", "K9", "yesterday", "P1", "3", "two errors",
        "S5", "K1", "2025-03-03", "P1", "", "last",
    ];
    let errors = b.push_rows(&cells, 5);
    let summary: Vec<(usize, Vec<&str>)> =
        errors.iter().map(|(r, e)| (*r, e.iter().map(|e| e.field.as_str()).collect())).collect();
    assert_eq!(summary, [(1, vec!["csat"]), (3, vec!["ticket_id", "answered_at"])]);
    assert_eq!(errors[1].1[0].message, "ticket_id `K9` is not in tickets.csv");
    let batch = b.finish();
    assert_eq!(batch.len, 3);
    let def = Source::Surveys.def();
    let ints = |name: &str| batch.ints(def.field_index(name).unwrap()).unwrap().to_vec();
    // S3's agent comes from its ticket (P2, row 1 of people); S5 has no csat.
    assert_eq!(ints("agent_id"), [0, 1, 0]);
    assert_eq!(ints("csat"), [5, 4, NULL]);
    let BatchColumn::Text(comments) = &batch.columns[def.field_index("comment").unwrap()] else { panic!() };
    assert_eq!((comments.get(0), comments.get(1), comments.get(2)), (Some("很好"), None, Some("last")));
    // One row at a time gives the same.
    let mut one = BatchBuilder::new(
        Source::Surveys,
        map_header(Source::Surveys, &header, &[]).unwrap(),
        data.tables(),
        &settings.tz,
        &[],
    );
    let results: Vec<bool> = cells.chunks(6).map(|row| one.push_row(row).is_ok()).collect();
    assert_eq!(results, [true, false, true, false, true]);
    assert_eq!(one.finish().ints(def.field_index("agent_id").unwrap()).unwrap(), &[0, 1, 0]);
}

/// Every field has a range, enforced at load with the usual diagnostic: scores on
/// their scale, money, quantities, durations, years 2000–2099, offsets within ±14:00.
#[test]
fn values_outside_their_range_are_rejected_with_the_range() {
    use crate::settings::Settings;
    let settings = Settings::default();
    let data = crate::testkit::dataset(
        &[
            ("teams", "team_id,name\nT1,热线"),
            ("people", "person_id,name,role,team_id\nP1,张三,agent,T1"),
            ("tickets", "ticket_id,created_at,customer_id,agent_id\nK1,2025-03-01,C1,P1"),
        ],
        &settings,
    );
    let check = |source: Source, header: &str, row: &str| -> Vec<String> {
        let names: Vec<&str> = header.split(',').collect();
        let columns = map_header(source, &names, &[]).unwrap();
        let mut b = BatchBuilder::new(source, columns, data.tables(), &settings.tz, &[]);
        let cells: Vec<&str> = row.split(',').collect();
        b.push_row(&cells)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| format!("{}: {} ({})", e.field, e.message, e.fix))
            .collect()
    };
    let audits = "audit_id,person_id,audited_at,kind,score";
    assert_eq!(check(Source::Audits, audits, "A1,P1,2025-03-02,qa,99.5"), Vec::<String>::new());
    assert_eq!(
        check(Source::Audits, audits, "A1,P1,2025-03-02,qa,150"),
        ["score: 150 is out of range (write a number from 0 to 100)"]
    );
    assert_eq!(
        check(Source::Audits, audits, "A1,P1,2025-03-02,qa,-20"),
        ["score: -20 is out of range (write a number from 0 to 100)"]
    );
    let tickets = "ticket_id,created_at,customer_id,agent_id,handle_seconds";
    assert_eq!(
        check(Source::Tickets, tickets, "K2,2025-03-02,C1,P1,1000000000"),
        ["handle_seconds: 1000000000 is out of range (write a whole number from 0 to 604800)"]
    );
    for year in ["0001-01-01", "1900-05-01", "2100-03-01", "9999-12-31"] {
        let errors = check(Source::Tickets, tickets, &format!("K2,{year},C1,P1,60"));
        assert_eq!(errors.len(), 1, "{year}: {errors:?}");
        assert!(errors[0].starts_with(&format!("created_at: `{year}` is outside the years 2000–2099")), "{errors:?}");
    }
    let errors = check(Source::Tickets, tickets, "K2,2025-03-01T09:00:00+15:00,C1,P1,60");
    assert!(errors[0].contains("is not a time"), "{errors:?}");
    assert!(check(Source::Tickets, tickets, "K2,2025-03-01T09:00:00+14:00,C1,P1,60").is_empty());
    let sales = "sale_id,person_id,customer_id,closed_at,amount";
    assert_eq!(
        check(Source::Sales, sales, "S1,P1,C1,2025-03-02,5000000000000"),
        ["amount: 5000000000000 is out of range (write a number from -100000000 to 100000000)"]
    );
}
