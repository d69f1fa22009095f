//! Diagnostics: what was wrong, where (file, line, column, field) and how to fix it.
//!
//! The core never fails on data; it returns values plus diagnostics. Configuration files
//! (TOML) are checked the same way and every error carries a position.
//!
//! Every diagnostic has a stable machine [`Diagnostic::code`] (`unknown_metric`,
//! `csv.bad_time`, …: documented in `docs/errors.md`, never renamed) and an [`Origin`]: a
//! position in a file, an argument of a request, or a field of a change.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// Where a diagnostic comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A position in a file: [`Diagnostic::file`], `line` and `column`.
    File,
    /// An argument of a request (`metric`, `period`, `subject`): the CLI shows it as its
    /// option (`--metric`), the web API as its parameter.
    Argument(&'static str),
    /// The `index`-th change of an [`crate::host::Change`] batch (0-based); the field is
    /// [`Diagnostic::field`] and the source [`Diagnostic::file`].
    Change(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable machine name of the kind of problem (`unknown_metric`, `csv.bad_time`).
    pub code: &'static str,
    pub origin: Origin,
    /// File name as the user knows it (`tickets.csv`, `metrics.toml`).
    pub file: String,
    /// 1-based line; 0 when the problem is about the whole file.
    pub line: usize,
    /// 1-based column in characters; for CSV files the 1-based column (field) number.
    pub column: usize,
    /// The field or key concerned, when there is one.
    pub field: Option<String>,
    pub message: String,
    /// What to do about it.
    pub fix: Option<String>,
}

impl Diagnostic {
    pub fn error(file: &str, line: usize, column: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: "invalid",
            origin: Origin::File,
            file: file.to_string(),
            line,
            column,
            field: None,
            message: message.into(),
            fix: None,
        }
    }

    pub fn warning(file: &str, line: usize, column: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(file, line, column, message) }
    }

    /// A problem with an argument of a request (`metric`, `period`, `subject`, `tz`).
    pub fn argument(name: &'static str, code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, origin: Origin::Argument(name), ..Diagnostic::error("", 0, 0, message) }
    }

    /// Sets the stable machine code.
    pub fn code(mut self, code: &'static str) -> Diagnostic {
        self.code = code;
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Diagnostic {
        self.field = Some(field.into());
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Diagnostic {
        self.fix = Some(fix.into());
        self
    }

    /// An error at a byte span of a text file (a TOML config, a metric expression).
    pub fn at_span(file: &str, text: &str, span_start: usize, message: impl Into<String>) -> Diagnostic {
        let (line, column) = line_column(text, span_start);
        Diagnostic::error(file, line, column, message)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.origin {
            Origin::File => write!(f, "{}", self.file)?,
            Origin::Argument(name) => write!(f, "{name}")?,
            Origin::Change(index) => write!(f, "change {} ({})", index + 1, self.file)?,
        }
        if self.origin == Origin::File && self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        write!(f, ": {kind}")?;
        if let Some(field) = &self.field {
            write!(f, " in {field}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " — fix: {fix}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Diagnostics as one error (a configuration with several problems, a refused change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s):", self.0.len())?;
        for d in &self.0 {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

/// The candidate a misspelt `word` most likely meant: the one fewest single-character
/// edits away (insertions, deletions, substitutions; case ignored), if that is at most a
/// third of the word's length (at least one edit) and no other candidate is as close.
pub fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let word: Vec<char> = word.to_lowercase().chars().collect();
    let limit = (word.len() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    let mut tied = false;
    for candidate in candidates {
        let d = edit_distance(&word, &candidate.to_lowercase().chars().collect::<Vec<char>>());
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tied = true,
            _ => (best, tied) = (Some((d, candidate)), false),
        }
    }
    best.filter(|&(d, _)| d <= limit && !tied).map(|(_, c)| c)
}

/// Levenshtein distance between two strings of characters.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let next = (diagonal + (x != y) as usize).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// 1-based line and character column of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Parses a TOML document into `T`, turning a syntax or shape error into a diagnostic
/// with the position of the offending key or value.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, Diagnostic> {
    toml::from_str::<T>(text).map_err(|e| {
        let start = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().to_string();
        Diagnostic::at_span(file, text, start, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = "a = 1\n名称 = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        let at = text.find('=').unwrap();
        assert_eq!(line_column(text, at), (1, 3));
        let second = text.rfind('=').unwrap();
        assert_eq!(line_column(text, second), (2, 4));
    }

    /// A misspelling finds what it meant; a word far from every candidate, or as close to
    /// two of them, finds nothing.
    #[test]
    fn closest_finds_the_one_meant() {
        let ids = ["fcr_rate", "csat_rate", "nps", "created_at", "closed_at", "处理时长"];
        assert_eq!(closest("fcr_rat", ids), Some("fcr_rate"));
        assert_eq!(closest("FCR_RATE", ids), Some("fcr_rate"));
        assert_eq!(closest("csatrate", ids), Some("csat_rate"));
        assert_eq!(closest("create_at", ids), Some("created_at"));
        assert_eq!(closest("处理时间", ids), Some("处理时长"));
        assert_eq!(closest("npss", ids), Some("nps"));
        assert_eq!(closest("first_response", ids), None);
        assert_eq!(closest("x", ids), None);
        // As near to two candidates: no guess.
        assert_eq!(closest("closed_et", ["closed_at", "closed_et2"]), None);
        assert_eq!(edit_distance(&['a', 'b'], &[]), 2);
    }

    #[test]
    fn display_names_file_line_column_field_and_fix() {
        let d = Diagnostic::error("tickets.csv", 17, 5, "not a time")
            .field("created_at")
            .fix("write 2025-03-01T09:30:00+08:00");
        assert_eq!(
            d.to_string(),
            "tickets.csv:17:5: error in created_at: not a time — fix: write 2025-03-01T09:30:00+08:00"
        );
    }
}
