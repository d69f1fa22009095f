//! Bytes in, typed records and row diagnostics out: reads the canonical CSV files of a
//! folder (SPEC §3) into a [`Dataset`].

mod csv;
mod memberships;
mod tokenize;

use std::path::{Path, PathBuf};

pub use csv::{FileImport, FileReport, ImportOptions, decode, import_csv};
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
    for source in Source::ALL {
        let name = format!("{}.csv", source.name());
        let path = dir.join(&name);
        if !path.exists() {
            continue;
        }
        let bytes = read_parallel(&path).map_err(|e| IngestError::Io { path: path.clone(), source: e })?;
        let at = FileImport { source, file: &name, settings, options };
        reports.push(import_file(&mut data, &at, &bytes, &mut diagnostics));
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
        diagnostics.push(
            Diagnostic::warning(&other, 0, 0, "not a Yardstick file; skipped")
                .fix(format!("rename it to one of {}", names.join(", "))),
        );
    }
    data.shrink_to_fit();
    Ok(Loaded { data, reports, diagnostics })
}

/// Reads a whole file with one positioned read per core (large files load faster when the
/// copying and the page faults are spread over the cores).
pub fn read_parallel(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len() as usize;
    if len < (64 << 20) {
        return std::fs::read(path);
    }
    let mut bytes = vec![0u8; len];
    let parts = rayon::current_num_threads().max(1);
    let per = len.div_ceil(parts);
    let results: Vec<std::io::Result<()>> = {
        use rayon::prelude::*;
        bytes.par_chunks_mut(per).enumerate().map(|(i, chunk)| file.read_exact_at(chunk, (i * per) as u64)).collect()
    };
    results.into_iter().collect::<std::io::Result<()>>()?;
    Ok(bytes)
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
