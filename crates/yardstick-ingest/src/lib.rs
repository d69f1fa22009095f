//! Bytes in, typed records and row diagnostics out: reads the canonical CSV files of a
//! folder (SPEC §3) into a [`Dataset`].

mod csv;
mod memberships;
mod stream;
mod tokenize;

use std::path::{Path, PathBuf};

pub use csv::{FileImport, FileReport, ImportOptions, decode};
pub use stream::{Blocks, import_csv, import_reader, import_reader_into};
use yardstick_core::data::Dataset;
use yardstick_core::diag::Diagnostic;
use yardstick_core::schema::Source;
use yardstick_core::settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
    #[error("{0} has none of the canonical files (teams.csv, people.csv, tickets.csv, …)")]
    NoFiles(PathBuf),
}

/// The records of a folder, with what the import found.
#[derive(Debug)]
pub struct Loaded {
    pub data: Dataset,
    pub reports: Vec<FileReport>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn n_errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

/// Loads every canonical file (`teams.csv`, `people.csv`, …) of `dir`, in dependency
/// order. Files that are not canonical are reported as warnings and skipped.
pub fn load_folder(dir: &Path, settings: &Settings, options: &ImportOptions) -> Result<Loaded, IngestError> {
    if !dir.is_dir() {
        return Err(IngestError::NotAFolder(dir.to_path_buf()));
    }
    let mut data = Dataset::new();
    let mut reports = Vec::new();
    let mut diagnostics = Vec::new();
    let mut blocks = Blocks::default();
    for source in Source::ALL {
        let name = format!("{}.csv", source.name());
        let path = dir.join(&name);
        if !path.exists() {
            continue;
        }
        let at = FileImport { source, file: &name, settings, options };
        let io = |e| IngestError::Io { path: path.clone(), source: e };
        let report = if source == Source::Memberships {
            let bytes = std::fs::read(&path).map_err(io)?;
            import_file(&mut data, &at, &bytes, &mut diagnostics)
        } else {
            let mut file = std::fs::File::open(&path).map_err(io)?;
            let size = file.metadata().map_err(io)?.len();
            import_reader_into(&mut data, &at, &mut file, Some(size), &mut diagnostics, &mut blocks).map_err(io)?
        };
        // The table was empty: fewer rows than were loaded means ids repeated within the
        // file (the later row updates the record: SPEC §3's upsert), worth a word.
        let repeated = report.rows_loaded.saturating_sub(data.table(source).len());
        if repeated > 0 {
            diagnostics.push(
                Diagnostic::warning(
                    &name,
                    0,
                    0,
                    format!("{repeated} row(s) repeat the id of an earlier row; for each such id the last row is kept"),
                ).code("csv.repeated_id")
                .fix("remove the repeated rows (a file exported twice?), or leave them if the later rows are corrections"),
            );
        }
        reports.push(report);
    }
    if reports.is_empty() {
        return Err(IngestError::NoFiles(dir.to_path_buf()));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| IngestError::Io { path: dir.to_path_buf(), source: e })?;
    let mut others: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.to_ascii_lowercase().ends_with(".csv") && Source::parse(n.trim_end_matches(".csv")).is_none())
        .collect();
    others.sort();
    for other in others {
        let names: Vec<String> = Source::ALL.iter().map(|s| format!("{}.csv", s.name())).collect();
        let fix = match yardstick_core::diag::closest(&other, names.iter().map(String::as_str)) {
            Some(meant) => format!("did you mean {meant}? Rename it"),
            None => format!("rename it to one of {}", names.join(", ")),
        };
        diagnostics
            .push(Diagnostic::warning(&other, 0, 0, "not a Yardstick file; skipped").code("csv.unknown_file").fix(fix));
    }
    data.shrink_to_fit();
    Ok(Loaded { data, reports, diagnostics })
}

/// Imports one file's bytes. Memberships are checked for overlaps first.
pub fn import_file(data: &mut Dataset, at: &FileImport, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> FileReport {
    if at.source == Source::Memberships {
        return memberships::import(data, at, bytes, diags);
    }
    import_csv(data, at, bytes, diags)
}

#[cfg(test)]
mod tests;
