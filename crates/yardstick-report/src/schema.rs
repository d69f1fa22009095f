//! The JSON Schemas of the reports, generated from their types: published as
//! `docs/api/*.schema.json` (a test keeps those files equal to what the types generate:
//! `YARDSTICK_WRITE_SCHEMAS=1 cargo test -p yardstick-report` writes them anew).

use schemars::{JsonSchema, schema_for};

use crate::card::{CardReport, ScoringReport};
use crate::explain::{ExplainReport, RecordReport};
use crate::metrics::MetricRowReport;

/// Each report's file name (in `docs/api/`) and schema, pretty-printed.
pub fn schemas() -> Vec<(&'static str, String)> {
    fn one<T: JsonSchema>() -> String {
        let mut text = serde_json::to_string_pretty(&schema_for!(T)).unwrap_or_default();
        text.push('\n');
        text
    }
    vec![
        ("metric-row.schema.json", one::<MetricRowReport>()),
        ("scorecard.schema.json", one::<CardReport>()),
        ("scoring.schema.json", one::<ScoringReport>()),
        ("explanation.schema.json", one::<ExplainReport>()),
        ("record.schema.json", one::<RecordReport>()),
    ]
}

#[cfg(test)]
mod tests {
    /// The published schemas are those the types generate.
    #[test]
    fn published_schemas_match_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api");
        let write = std::env::var_os("YARDSTICK_WRITE_SCHEMAS").is_some();
        let mut stale = Vec::new();
        for (name, text) in super::schemas() {
            let path = dir.join(name);
            if write {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(name);
            }
        }
        assert!(
            stale.is_empty(),
            "docs/api is out of date for {stale:?}: run YARDSTICK_WRITE_SCHEMAS=1 cargo test -p yardstick-report"
        );
    }
}
