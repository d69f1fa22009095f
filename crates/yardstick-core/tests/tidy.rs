//! Tidy checks over the source tree: every Rust file says what it is for, and the core
//! stays pure (no printing, no environment, no file system: the binary decides those).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every source file starts with a `//!` line saying what it is for.
#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let missing: Vec<String> = rust_files(&root().join("crates"))
        .into_iter()
        .filter(|p| !std::fs::read_to_string(p).unwrap().starts_with("//!"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! first line: {missing:?}");
}

/// The core does no I/O of its own: it neither prints, nor reads the environment, nor
/// touches files (timings are `tracing` events; files are read by a function it is given).
#[test]
fn the_core_prints_nothing_and_reads_no_environment_or_files() {
    let forbidden =
        ["eprintln!", "println!", "eprint!", "print!(", "std::env", "std::fs", "std::io::stdout", "std::io::stderr"];
    let mut found = Vec::new();
    for path in rust_files(&root().join("crates/yardstick-core/src")) {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for f in forbidden {
                if line.contains(f) {
                    found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "the core must not do I/O:\n{}", found.join("\n"));
}

/// Every diagnostic code in the source is documented in `docs/errors.md` (codes are an
/// interface: programs decide on them).
#[test]
fn every_diagnostic_code_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/errors.md")).unwrap();
    let prefixes = ["csv.", "change.", "config.", "metric.", "template.", "holidays.", "org.", "score."];
    let mut missing = Vec::new();
    for path in rust_files(&root().join("crates")).into_iter().filter(|p| !p.ends_with("tests/tidy.rs")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let quoted = text.split('"').skip(1).step_by(2);
        for word in quoted {
            let is_code = prefixes.iter().any(|p| word.starts_with(p))
                && word.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                && !word.ends_with('.');
            if is_code && !doc.contains(&format!("`{word}`")) {
                missing.push(format!("{word} ({})", path.display()));
            }
        }
        for (_, rest) in text.match_indices("Diagnostic::argument(").map(|(i, _)| ((), &text[i..])) {
            if let Some(code) = rest.split('"').nth(3)
                && !doc.contains(&format!("`{code}`"))
            {
                missing.push(format!("{code} ({})", path.display()));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "codes missing from docs/errors.md: {missing:?}");
}
