//! Test support: builds a dataset from small CSV tables (no quoting) and runs queries,
//! printing results in the `yardstick metrics` CSV format.

use crate::data::{BatchBuilder, Dataset, map_header};
use crate::engine::{Engine, Query, SubjectKinds, to_csv};
use crate::metric::Catalogue;
use crate::period::Period;
use crate::schema::Source;
use crate::settings::Settings;

/// `tables`: (source name, CSV text with a header). Panics on any row error.
pub fn dataset(tables: &[(&str, &str)], settings: &Settings) -> Dataset {
    let mut data = Dataset::new();
    for source in Source::ALL {
        for (name, text) in tables.iter().filter(|(n, _)| *n == source.name()) {
            let mut lines = text.trim().lines();
            let header: Vec<&str> = lines.next().expect("header").split(',').collect();
            let columns = map_header(source, &header, &[]).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let mut builder = BatchBuilder::new(source, columns, data.tables(), &settings.tz, &settings.custom_roles);
            for (i, line) in lines.enumerate() {
                let cells: Vec<&str> = line.split(',').collect();
                builder.push_row(&cells).unwrap_or_else(|e| panic!("{name} line {}: {e:?}", i + 2));
            }
            let batch = builder.finish();
            data.append_batch(source, batch);
        }
    }
    data
}

/// Runs `metrics` for `periods` and returns the CSV lines without the header.
pub fn run(data: &Dataset, settings: &Settings, metrics: &[&str], periods: &[&str]) -> Vec<String> {
    let engine = Engine::new(data, settings);
    let query = Query {
        metrics: metrics.iter().map(|m| m.to_string()).collect(),
        periods: periods.iter().map(|p| Period::parse(p).expect("period")).collect(),
        subjects: SubjectKinds::ALL,
    };
    let rows = engine.compute(&Catalogue::builtin(), &query).expect("query");
    to_csv(&engine, &rows).lines().skip(1).map(str::to_string).collect()
}

/// Compares output with an expected table, showing both in full on a mismatch.
pub fn check(actual: &[String], expected: &str) {
    let expected: Vec<String> = expected.trim().lines().map(|l| l.trim().to_string()).collect();
    if actual != expected.as_slice() {
        panic!("\nexpected:\n{}\n\nactual:\n{}\n", expected.join("\n"), actual.join("\n"));
    }
}

/// A small deterministic generator for property tests (SplitMix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
