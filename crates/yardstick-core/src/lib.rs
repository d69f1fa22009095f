//! The Yardstick domain: records, business calendar, metric language and catalogue, and
//! the KPI engine. Pure: no async, no database, no HTTP, no file system.

pub mod calendar;
pub mod data;
pub mod diag;
pub mod engine;
pub mod host;
pub mod lang;
pub mod metric;
pub mod period;
pub mod schema;
pub mod scorecard;
pub mod settings;
#[cfg(test)]
pub(crate) mod testkit;
pub mod time;

#[cfg(test)]
mod tidy {
    /// Every source file starts with a `//!` line saying what it is for.
    #[test]
    fn every_rust_file_starts_with_a_module_doc() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut missing = Vec::new();
        let mut stack = vec![root.join("crates")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if !text.starts_with("//!") {
                        missing.push(path.display().to_string());
                    }
                }
            }
        }
        assert!(missing.is_empty(), "files without a //! first line: {missing:?}");
    }
}
