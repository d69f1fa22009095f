//! Memberships: overlapping spans of one person are bad input (SPEC §4). The later row of
//! an overlapping pair is rejected with the line of the row it overlaps.

use std::collections::HashMap;

use yardstick_core::data::{Dataset, NULL};
use yardstick_core::diag::Diagnostic;
use yardstick_core::schema::Source;
use yardstick_core::time::format_utc;

use crate::csv::{FileImport, FileReport, parse_csv};

pub fn import(data: &mut Dataset, at: &FileImport, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> FileReport {
    let file = at.file;
    let mut parsed = parse_csv(data, at, bytes, diags);
    let def = Source::Memberships.def();
    let (pf, ff, tf) = (
        def.field_index("person_id").expect("schema"),
        def.field_index("from").expect("schema"),
        def.field_index("to").expect("schema"),
    );
    // Spans already stored (from an earlier import) take part too, without a line.
    let mut spans: HashMap<i64, Vec<(i64, i64, Option<u32>)>> = HashMap::new();
    let table = data.table(Source::Memberships);
    for r in 0..table.len() {
        let to = table.int(tf, r);
        spans.entry(table.int(pf, r)).or_default().push((
            table.int(ff, r),
            if to == NULL { i64::MAX } else { to },
            None,
        ));
    }
    let people = data.table(Source::People);
    for (batch, lines) in &mut parsed.batches {
        let (persons, froms, tos) = (
            batch.ints(pf).expect("ints").to_vec(),
            batch.ints(ff).expect("ints").to_vec(),
            batch.ints(tf).expect("ints").to_vec(),
        );
        let mut keep = vec![true; batch.len];
        for i in 0..batch.len {
            let (from, to) = (froms[i], if tos[i] == NULL { i64::MAX } else { tos[i] });
            let mine = spans.entry(persons[i]).or_default();
            // The same person and `from` is the same record again: an update, not an overlap.
            let clash = mine.iter().find(|&&(f, t, _)| f != from && f < to && from < t);
            if let Some(&(f, _, line)) = clash {
                keep[i] = false;
                let other = line
                    .map_or_else(|| format!("the stored membership from {}", format_utc(f)), |l| format!("line {l}"));
                diags.push(
                    Diagnostic::error(
                        file,
                        lines[i] as usize,
                        3,
                        format!("membership of {} overlaps {other}", people.key_text(persons[i] as usize)),
                    )
                    .code("csv.overlapping_membership")
                    .field("from")
                    .fix("end the earlier membership (to) at or before the next one's from"),
                );
            } else {
                mine.retain(|&(f, _, _)| f != from);
                mine.push((from, to, Some(lines[i])));
            }
        }
        let rejected = keep.iter().filter(|&&k| !k).count();
        parsed.report.rows_loaded -= rejected;
        parsed.report.rows_rejected += rejected;
        batch.retain(&keep);
    }
    for (batch, _) in parsed.batches {
        data.append_batch(Source::Memberships, batch);
    }
    parsed.report
}
