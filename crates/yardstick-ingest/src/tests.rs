//! Import tests: every kind of bad input is reported with file, line, column, field and a
//! fix and kept out; encodings, quoting and chunk boundaries; idempotent re-import.

use yardstick_core::data::Dataset;
use yardstick_core::diag::Diagnostic;
use yardstick_core::schema::Source;
use yardstick_core::settings::Settings;

use crate::FileReport;
use crate::csv::parse_csv_in_chunks;
use crate::stream::import_blocks;
use crate::{FileImport, ImportOptions, import_file};

const TEAMS: &str = "team_id,name,parent_team_id,lead_id,region\nT1,热线组,,,east\n";
const PEOPLE: &str = "person_id,name,role,team_id\nP1,张三,agent,T1\nP2,李四,agent,T1\n";

fn org() -> (Dataset, Settings) {
    let settings = Settings::default();
    let mut data = Dataset::new();
    let mut diags = Vec::new();
    let options = ImportOptions::default();
    for (source, file, text) in [(Source::Teams, "teams.csv", TEAMS), (Source::People, "people.csv", PEOPLE)] {
        import_file(
            &mut data,
            &FileImport { source, file, settings: &settings, options: &options },
            text.as_bytes(),
            &mut diags,
        );
    }
    assert!(diags.is_empty(), "{diags:?}");
    (data, settings)
}

fn import(data: &mut Dataset, settings: &Settings, source: Source, text: &[u8]) -> Vec<String> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    let file = format!("{}.csv", source.name());
    let options = ImportOptions::default();
    import_file(data, &FileImport { source, file: &file, settings, options: &options }, text, &mut diags);
    diags.iter().map(|d| d.to_string()).collect()
}

#[test]
fn bad_rows_are_reported_with_position_and_kept_out() {
    let (mut data, settings) = org();
    let tickets = "ticket_id,created_at,customer_id,agent_id,resolved_at,fields_complete,channel,reopen_count
T1,2025-03-01T09:00:00+08:00,C1,P1,2025-03-01T10:00:00+08:00,是,phone,0
T2,2025-03-01 09:00,C1,P9,,,phone,
T3,01/03/2025,C2,P1,,,chat,
T4,2025-03-01T09:00:00Z,C3,P2,2025-03-01T08:00:00Z,maybe,fax,-1
T5,2025-03-01T09:00:00Z,,P2,,,,
T6,2025-03-01T09:00:00Z,C4,P2
T7,2025-03-02T09:00:00+08:00,C5,,,no,email,3
";
    let errors = import(&mut data, &settings, Source::Tickets, tickets.as_bytes());
    assert_eq!(
        errors,
        [
            "tickets.csv:3:4: error in agent_id: agent_id `P9` is not in people.csv — fix: add P9 to people.csv or correct the id",
            "tickets.csv:4:2: error in created_at: `01/03/2025` is not a time — fix: expected an ISO 8601 time such as 2025-03-01T09:30:00+08:00, 2025-03-01T01:30:00Z, 2025-03-01 09:30 or 2025-03-01 (期望 ISO 8601 时间)",
            "tickets.csv:5:6: error in fields_complete: `maybe` is not a yes/no value — fix: write true/false, 1/0, yes/no or 是/否",
            "tickets.csv:5:7: error in channel: `fax` is not a valid channel — fix: use one of phone, chat, email, app, onsite, other",
            "tickets.csv:5:8: error in reopen_count: -1 is out of range — fix: write a whole number from 0 to 1000000000",
            "tickets.csv:6:3: error in customer_id: customer_id is required but empty — fix: fill in customer_id (必填)",
            "tickets.csv:7:5: error: the row has 4 fields, the header 8 — fix: check for a missing or extra comma, or an unquoted comma inside a value",
        ]
    );
    let t = data.table(Source::Tickets);
    assert_eq!(t.len(), 2);
    assert!(t.find("T1").is_some() && t.find("T7").is_some());
    // A resolution before the creation is impossible: the row is rejected, not coerced.
    let backwards = "ticket_id,created_at,customer_id,resolved_at\nT8,2025-03-01T09:00:00Z,C1,2025-03-01T08:59:59Z\n";
    assert_eq!(
        import(&mut data, &settings, Source::Tickets, backwards.as_bytes()),
        [
            "tickets.csv:2:4: error in resolved_at: resolved_at is before created_at — fix: correct resolved_at or created_at; resolved_at cannot come first"
        ]
    );
}

#[test]
fn header_problems_stop_the_file() {
    let (mut data, settings) = org();
    let errors =
        import(&mut data, &settings, Source::Tickets, b"ticket_id,created_at,customer,agent_id\nT1,2025-03-01,C1,P1\n");
    assert_eq!(errors.len(), 2);
    assert!(errors[0].starts_with("tickets.csv:1:3: error: unknown column `customer` in tickets.csv — fix: rename it to one of ticket_id, created_at, customer_id"));
    assert!(errors[1].contains("required column customer_id is missing"));
    assert_eq!(data.table(Source::Tickets).len(), 0);
    // A near miss is named.
    let errors = import(
        &mut data,
        &settings,
        Source::Tickets,
        b"ticket_id,create_at,customer_id
T1,2025-03-01,C1
",
    );
    assert!(
        errors[0].ends_with("unknown column `create_at` in tickets.csv — fix: did you mean created_at? Rename it, or list it under ignore_columns"),
        "{errors:?}"
    );
}

#[test]
fn utf8_bom_gb18030_quotes_crlf_and_blank_lines() {
    let (mut data, settings) = org();
    let text = "\u{feff}ticket_id,created_at,customer_id,category\r\nT1,2025-03-01,C1,\"空调, 不制冷\"\r\n\r\nT2,2025-03-02,C2,\"多行\n描述 \"\"引号\"\"\"\r\nT3,2025-03-03,C3,洗衣机";
    assert_eq!(import(&mut data, &settings, Source::Tickets, text.as_bytes()), Vec::<String>::new());
    let t = data.table(Source::Tickets);
    let category = t.def().field_index("category").unwrap();
    assert_eq!(t.text(category, 0).unwrap(), "空调, 不制冷");
    assert_eq!(t.text(category, 1).unwrap(), "多行\n描述 \"引号\"");
    assert_eq!(t.text(category, 2).unwrap(), "洗衣机");
    // The same table saved by a Chinese Excel in GB18030.
    let (mut data2, _) = org();
    let (gb, _, _) = encoding_rs::GB18030.encode("ticket_id,created_at,customer_id,category\nT1,2025-03-01,C1,空调\n");
    let mut diags = Vec::new();
    let options = ImportOptions::default();
    let at = FileImport { source: Source::Tickets, file: "tickets.csv", settings: &settings, options: &options };
    let report = import_file(&mut data2, &at, &gb, &mut diags);
    assert_eq!((report.encoding, report.rows_loaded), ("GB18030", 1));
    let t = data2.table(Source::Tickets);
    assert_eq!(t.text(category, 0).unwrap(), "空调");
    // Bytes that are no text at all.
    let errors = import(
        &mut data2,
        &settings,
        Source::Tickets,
        b"ticket_id,created_at,customer_id\nT1,2025-03-01,\xff\xfe\xfd\n",
    );
    assert_eq!(
        errors,
        [
            "tickets.csv:2:15: error: the file is neither UTF-8 nor GB18030 text — fix: save it as UTF-8 (CSV UTF-8 in Excel)"
        ]
    );
}

#[test]
fn tiny_chunks_give_the_same_rows_and_lines_as_one_chunk() {
    let (data, settings) = org();
    let mut text = String::from("ticket_id,created_at,customer_id,category\n");
    for i in 0..200 {
        let category = if i % 7 == 0 { "\"带,逗号\n和换行\"".to_string() } else { format!("c{i}") };
        let created = if i % 13 == 5 { "bad".to_string() } else { "2025-03-01T09:00:00Z".to_string() };
        text.push_str(&format!("T{i},{created},C{},{category}\n", i % 17));
    }
    let run = |chunk: usize| {
        let mut diags = Vec::new();
        let options = ImportOptions::default();
        let at = FileImport { source: Source::Tickets, file: "tickets.csv", settings: &settings, options: &options };
        let parsed = parse_csv_in_chunks(&data, &at, text.as_bytes(), &mut diags, chunk);
        let lines: Vec<u32> = parsed.batches.iter().flat_map(|(_, l)| l.clone()).collect();
        (lines, diags.iter().map(|d| d.to_string()).collect::<Vec<_>>(), parsed.report.rows_read)
    };
    let whole = run(1 << 20);
    assert_eq!(whole.2, 200);
    assert_eq!(whole.1.len(), 15);
    for chunk in [1, 7, 33, 100] {
        assert_eq!(run(chunk), whole, "chunk size {chunk}");
    }
    // Lines count the quoted newlines: row i starts after i / 7 + 1 earlier embedded newlines.
    assert!(whole.1[0].starts_with("tickets.csv:8:2:"), "{}", whole.1[0]);
}

#[test]
fn importing_twice_changes_nothing_and_a_changed_row_updates() {
    let (mut data, settings) = org();
    let text =
        "ticket_id,created_at,customer_id,agent_id\nT1,2025-03-01,C1,P1\nT2,2025-03-02,C2,P2\nT1,2025-03-03,C1,P2\n";
    import(&mut data, &settings, Source::Tickets, text.as_bytes());
    let before: Vec<_> = (0..2).map(|r| data.table(Source::Tickets).row_cells(r)).collect();
    import(&mut data, &settings, Source::Tickets, text.as_bytes());
    let t = data.table(Source::Tickets);
    assert_eq!(t.len(), 2);
    assert_eq!((0..2).map(|r| t.row_cells(r)).collect::<Vec<_>>(), before);
    // The last occurrence in the file won: T1 belongs to P2.
    let agent = t.def().field_index("agent_id").unwrap();
    assert_eq!(t.int(agent, 0), 1);
}

#[test]
fn overlapping_memberships_are_rejected() {
    let (mut data, settings) = org();
    let teams2 = "team_id,name\nT2,二组\n";
    import(&mut data, &settings, Source::Teams, teams2.as_bytes());
    let text = "person_id,team_id,from,to\nP1,T1,2025-01-01,2025-03-01\nP1,T2,2025-02-15,\nP1,T2,2025-03-01,\nP2,T1,2025-01-01,\n";
    let errors = import(&mut data, &settings, Source::Memberships, text.as_bytes());
    assert_eq!(
        errors,
        [
            "memberships.csv:3:3: error in from: membership of P1 overlaps line 2 — fix: end the earlier membership (to) at or before the next one's from"
        ]
    );
    assert_eq!(data.table(Source::Memberships).len(), 3);
    // Importing the file again is an update of the same records, not an overlap.
    let again = import(
        &mut data,
        &settings,
        Source::Memberships,
        "person_id,team_id,from,to\nP1,T1,2025-01-01,2025-03-01\n".as_bytes(),
    );
    assert_eq!(again, Vec::<String>::new());
}

/// Imports `text` read in blocks of `block` bytes and chunks of `chunk` bytes; returns the
/// table's rows, the diagnostics and the report. The block buffers come from importing
/// another file first, as they do from file to file in a folder: nothing of it may show.
fn import_in_blocks(
    text: &[u8],
    block: usize,
    chunk: usize,
) -> (Vec<Vec<yardstick_core::data::Cell>>, Vec<String>, FileReport) {
    let (mut data, settings) = org();
    let mut diags = Vec::new();
    let options = ImportOptions::default();
    let at = FileImport { source: Source::Tickets, file: "tickets.csv", settings: &settings, options: &options };
    let mut blocks = crate::Blocks::default();
    let other = "ticket_id,created_at,customer_id,category\nX1,2025-01-01,C9,leftover\nX2,2025-01-01,C9,\"left\nover";
    let (mut other_data, _) = org();
    import_blocks(&mut other_data, &at, &mut other.as_bytes(), None, &mut Vec::new(), (block, chunk), &mut blocks)
        .unwrap();
    let report =
        import_blocks(&mut data, &at, &mut &text[..], Some(text.len() as u64), &mut diags, (block, chunk), &mut blocks)
            .unwrap();
    let t = data.table(Source::Tickets);
    let rows = (0..t.len()).map(|r| t.row_cells(r)).collect();
    (rows, diags.iter().map(|d| d.to_string()).collect(), report)
}

#[test]
fn tiny_blocks_import_the_same_table_as_one_block() {
    let mut text = String::from("\u{feff}\r\nticket_id,created_at,customer_id,category\r\n");
    for i in 0..120 {
        let category = if i % 7 == 0 { "\"带,逗号\n和\"\"换行\"\"\"".to_string() } else { format!("c{i}") };
        let created = if i % 13 == 5 { "bad".to_string() } else { format!("2025-03-01T09:{:02}:00Z", i % 60) };
        // Every tenth row repeats an earlier ticket: the later occurrence wins.
        let id = if i % 10 == 9 { i - 5 } else { i };
        text.push_str(&format!("T{id},{created},C{},{category}\r\n", i % 17));
        if i % 31 == 0 {
            text.push_str("\r\n");
        }
    }
    text.push_str("T999,2025-03-02,C1,no newline at the end");
    let whole = import_in_blocks(text.as_bytes(), 1 << 20, 1 << 20);
    assert_eq!(whole.2.rows_read, 121);
    // Rows 5, 18, …, 109 have a bad time; the 11 good repeats update their tickets, but
    // row 49 repeats T44, whose own row was bad, and so adds it.
    assert_eq!(whole.2.rows_loaded, 121 - 9);
    assert_eq!(whole.0.len(), 121 - 9 - 11 + 1);
    assert_eq!(whole.1.len(), 9);
    for (block, chunk) in [(1, 1), (5, 3), (40, 7), (97, 33), (400, 64), (5000, 100)] {
        assert_eq!(import_in_blocks(text.as_bytes(), block, chunk), whole, "blocks of {block}, chunks of {chunk}");
    }
    // Lines count the quoted newlines and the blank lines.
    assert!(whole.1[0].starts_with("tickets.csv:10:2:"), "{}", whole.1[0]);
}

#[test]
fn the_encoding_is_decided_as_blocks_arrive() {
    // ASCII first, Chinese later: a GB18030 file is recognised in a later block.
    let mut text = String::from("ticket_id,created_at,customer_id,category\n");
    for i in 0..40 {
        text.push_str(&format!("T{i},2025-03-01,C1,{}\n", if i < 30 { "plain" } else { "空调" }));
    }
    let (gb, _, _) = encoding_rs::GB18030.encode(&text);
    for block in [16, 64, 1 << 20] {
        let (rows, diags, report) = import_in_blocks(&gb, block, 8);
        assert_eq!((diags.len(), report.encoding, rows.len()), (0, "GB18030", 40), "blocks of {block}");
        let category = Source::Tickets.def().field_index("category").unwrap();
        assert_eq!(rows[35][category], yardstick_core::data::Cell::Text("空调".into()));
    }
    // UTF-8 Chinese first, then a byte that is neither: the file stops there, with the
    // place; with small blocks the rows before that block stay.
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"T40,2025-03-01,C1,\xff\n");
    bytes.extend_from_slice(b"T41,2025-03-01,C1,after\n");
    let (_, utf8_only, _) = import_in_blocks(&bytes[..bytes.len() - 44], 1 << 20, 8);
    assert!(utf8_only.is_empty(), "{utf8_only:?}");
    for (block, kept) in [(16, 40), (1 << 20, 0)] {
        let (rows, diags, _) = import_in_blocks(&bytes, block, 8);
        assert_eq!(
            diags,
            [
                "tickets.csv:42:19: error: the file is neither UTF-8 nor GB18030 text — fix: save it as UTF-8 (CSV UTF-8 in Excel)"
            ]
        );
        assert_eq!(rows.len(), kept, "blocks of {block}");
    }
}

/// Quotes and newlines counted 32 bytes at a time equal a plain count, for lengths on
/// both sides of the 255-round blocks and with every byte a quote or a newline.
#[test]
fn quotes_and_newlines_are_counted_exactly() {
    let mut state = 7u64;
    let mut bytes = Vec::new();
    for _ in 0..40_000 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        bytes.push(match state >> 61 {
            0 => b'"',
            1 => b'\n',
            _ => (state >> 33) as u8,
        });
    }
    let plain = |b: &[u8]| (b.iter().filter(|&&c| c == b'"').count(), b.iter().filter(|&&c| c == b'\n').count());
    for len in [0, 1, 31, 32, 33, 8159, 8160, 8161, 16320, 16321, 40_000] {
        assert_eq!(crate::csv::quotes_and_newlines(&bytes[..len]), plain(&bytes[..len]), "{len} bytes");
    }
    let all = vec![b'"'; 20_000];
    assert_eq!(crate::csv::quotes_and_newlines(&all), (20_000, 0));
}
