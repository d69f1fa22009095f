//! Measures the tokenizer and the row parser separately on one file (single thread).
use std::time::Instant;
use yardstick_core::data::{BatchBuilder, Dataset, map_header};
use yardstick_core::schema::Source;
use yardstick_core::settings::Settings;

fn main() {
    let dir = std::env::args().nth(1).expect("data dir");
    let settings = Settings::default();
    let mut data = Dataset::new();
    let mut diags = Vec::new();
    for s in [Source::Teams, Source::People] {
        let bytes = std::fs::read(format!("{dir}/{}.csv", s.name())).unwrap();
        yardstick_ingest::import_file(&mut data, s, "x", &bytes, &settings, &Default::default(), &mut diags);
    }
    let text = std::fs::read_to_string(format!("{dir}/tickets.csv")).unwrap();
    let text = &text[..text.len().min(60_000_000)];
    let text = &text[..text.rfind('\n').unwrap() + 1];
    let t = Instant::now();
    let mut r = yardstick_ingest::tokenize_for_bench(text);
    let mut n = 0usize;
    let mut bytes = 0usize;
    while r.next_record().is_some() {
        n += 1;
        for k in 0..r.n_fields() {
            bytes += r.cell(k).len();
        }
    }
    let tok = t.elapsed();
    println!("tokenize: {n} rows in {tok:?} ({:.0} ns/row) {bytes}", tok.as_nanos() as f64 / n as f64);
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let nested: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let flat: Vec<&str> = nested.iter().flatten().copied().collect();
    let lines: Vec<&[&str]> = flat.chunks(19).collect();
    interner_speed(&lines);
    let sets: &[&[&str]] = &[
        &["ticket_id"],
        &["ticket_id", "customer_id"],
        &["ticket_id", "created_at"],
        &["ticket_id", "agent_id"],
        &["ticket_id", "category", "product", "priority", "status", "customer_tier"],
        &["ticket_id", "channel", "cause"],
        &["ticket_id", "reopen_count", "contact_count", "handle_seconds", "requires_visit", "fields_complete"],
        &["ticket_id", "first_response_at", "resolved_at", "closed_at"],
    ];
    for set in sets.iter().copied().chain(std::iter::once(&header[..])) {
        let mut cols = map_header(Source::Tickets, &header, &[]).unwrap();
        for (i, c) in cols.iter_mut().enumerate() {
            if !set.contains(&header[i]) && !["ticket_id", "created_at", "customer_id"].contains(&header[i]) {
                *c = None;
            }
        }
        let mut b = BatchBuilder::new(Source::Tickets, cols, &data, &settings.tz, &[]);
        b.reserve(lines.len());
        let t = Instant::now();
        let mut ok = 0;
        for l in &lines {
            ok += b.push_row(l).is_ok() as usize;
        }
        let el = t.elapsed();
        println!("{:>4.0} ns/row ({ok} ok) {:?}", el.as_nanos() as f64 / lines.len() as f64, set.len());
    }
}

#[allow(dead_code)]
fn interner_speed(lines: &[&[&str]]) {
    let t = Instant::now();
    let mut z = 0u64;
    for l in lines {
        z += l[0].bytes().map(|b| b as u64).sum::<u64>();
    }
    println!("harness: {:.0} ns/row {z}", t.elapsed().as_nanos() as f64 / lines.len() as f64);
    let t = Instant::now();
    let mut z = 0u64;
    for l in lines {
        z += l[0][1..].parse::<u64>().unwrap_or(0);
    }
    println!("parse u64: {:.0} ns/row {z}", t.elapsed().as_nanos() as f64 / lines.len() as f64);
    let mut i = yardstick_core::data::Interner::new();
    let t = Instant::now();
    for l in lines {
        i.intern(l[2]);
    }
    println!("customer intern: {:.0} ns/row", t.elapsed().as_nanos() as f64 / lines.len() as f64);
    let mut i = yardstick_core::data::Interner::new();
    let t = Instant::now();
    for l in lines {
        i.intern(l[0]);
    }
    println!("ticket id intern: {:.0} ns/row", t.elapsed().as_nanos() as f64 / lines.len() as f64);
    let tz = yardstick_core::time::OrgTimeZone::shanghai();
    let t = Instant::now();
    let mut x = 0;
    for l in lines {
        x += yardstick_core::data::parse_instant(l[1], &tz).unwrap_or(0);
    }
    println!("parse_instant: {:.0} ns/row {x}", t.elapsed().as_nanos() as f64 / lines.len() as f64);
}
