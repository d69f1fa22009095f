//! Fast parallel reading of one canonical CSV file into a source table.
//!
//! The bytes are decoded (UTF-8 with or without BOM; GB18030 when they are not UTF-8), cut
//! into chunks at record boundaries (quote-aware, so a quoted newline never splits a
//! record), and each chunk is tokenised with `csv-core` and parsed into a column batch on
//! its own thread. Batches are then appended in file order, so the last occurrence of a
//! key wins. A bad row is reported with file, line, column and reason and kept out.

use std::borrow::Cow;

use memchr::memchr_iter;

use crate::tokenize::Records;
use rayon::prelude::*;
use yardstick_core::data::{BatchBuilder, Dataset, RowBatch, Tables, map_header};
use yardstick_core::diag::Diagnostic;
use yardstick_core::schema::Source;
use yardstick_core::settings::Settings;

/// Target size of a chunk parsed by one task.
const CHUNK_BYTES: usize = 4 << 20;

/// What importing one file did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    pub file: String,
    /// Data rows in the file (header and blank lines excluded).
    pub rows_read: usize,
    /// Rows that were added or updated.
    pub rows_loaded: usize,
    pub rows_rejected: usize,
    /// The text encoding that was detected.
    pub encoding: &'static str,
}

/// A file being imported: which table it fills, its name (for diagnostics), and how.
#[derive(Clone, Copy, Debug)]
pub struct FileImport<'a> {
    pub source: Source,
    pub file: &'a str,
    pub settings: &'a Settings,
    pub options: &'a ImportOptions,
}

/// Options of an import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Columns to skip instead of rejecting them as unknown.
    pub ignore_columns: Vec<String>,
}

/// Decodes file bytes to text: UTF-8 (a BOM is dropped) or, failing that, GB18030.
pub fn decode<'b>(file: &str, bytes: &'b [u8]) -> Result<(Cow<'b, str>, &'static str), Diagnostic> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(text) => Ok((Cow::Borrowed(text), "UTF-8")),
        Err(utf8_error) => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(body);
            if had_errors {
                let at = utf8_error.valid_up_to();
                let line = body[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                let column = body[..at].iter().rev().take_while(|&&b| b != b'\n').count() + 1;
                Err(Diagnostic::error(file, line, column, "the file is neither UTF-8 nor GB18030 text")
                    .fix("save it as UTF-8 (CSV UTF-8 in Excel)"))
            } else {
                Ok((Cow::Owned(text.into_owned()), "GB18030"))
            }
        }
    }
}

/// Splits `body` into chunks that each start at a record boundary; returns
/// `(start, end, first_line)` with 1-based line numbers relative to `first_line_of_body`.
fn chunks(body: &[u8], first_line_of_body: usize, chunk_bytes: usize) -> Vec<(usize, usize, usize)> {
    if body.is_empty() {
        return Vec::new();
    }
    const { assert!(CHUNK_BYTES > 0) };
    let n_raw = body.len().div_ceil(chunk_bytes);
    // Quotes and newlines of each raw range, in parallel.
    let counts: Vec<(usize, usize)> = (0..n_raw)
        .into_par_iter()
        .map(|i| {
            let range = &body[i * chunk_bytes..((i + 1) * chunk_bytes).min(body.len())];
            (memchr_iter(b'"', range).count(), memchr_iter(b'\n', range).count())
        })
        .collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut line = first_line_of_body;
    let mut quotes_before = 0usize;
    let mut newlines_before = 0usize;
    for (i, &(quotes, newlines)) in counts.iter().enumerate() {
        let raw_end = ((i + 1) * chunk_bytes).min(body.len());
        quotes_before += quotes;
        newlines_before += newlines;
        if raw_end >= body.len() {
            break;
        }
        // From raw_end, find the first newline outside quotes.
        let mut parity = quotes_before % 2;
        let mut at = raw_end;
        let boundary = loop {
            let Some(off) = memchr2_pos(&body[at..]) else { break None };
            let pos = at + off;
            if body[pos] == b'"' {
                parity ^= 1;
            } else if parity == 0 {
                break Some(pos + 1);
            }
            at = pos + 1;
        };
        let Some(boundary) = boundary else { break };
        if boundary <= start {
            continue;
        }
        out.push((start, boundary, line));
        // The next chunk starts after the newline at `boundary - 1`.
        line = first_line_of_body + newlines_before + memchr_iter(b'\n', &body[raw_end..boundary]).count();
        start = boundary;
    }
    if start < body.len() {
        out.push((start, body.len(), line));
    }
    out
}

fn memchr2_pos(hay: &[u8]) -> Option<usize> {
    memchr::memchr2(b'"', b'\n', hay)
}

/// Reads every record of `text` (a chunk) into `builder`, reporting bad rows and noting
/// the line of every accepted row. Returns the number of data rows seen.
fn parse_chunk(
    text: &str,
    first_line: usize,
    file: &str,
    header: &[String],
    builder: &mut BatchBuilder,
    diags: &mut Vec<Diagnostic>,
    lines: &mut Vec<u32>,
) -> usize {
    let mut records = Records::new(text, first_line);
    let mut rows = 0;
    while let Some(record) = records.next_record() {
        rows += 1;
        let line = match record {
            Ok(line) => line,
            Err(e) => {
                diags.push(Diagnostic::error(file, e.line, e.column, e.message).fix("check the quotes of this row"));
                continue;
            }
        };
        let n = records.n_fields();
        // Cells on the stack: no allocation per row for up to 64 fields.
        let mut stack = [""; 64];
        let mut heap = Vec::new();
        let cells: &mut [&str] = if n <= stack.len() {
            &mut stack[..n]
        } else {
            heap.resize(n, "");
            &mut heap
        };
        for (k, cell) in cells.iter_mut().enumerate() {
            *cell = records.cell(k);
        }
        if n != header.len() {
            diags.push(
                Diagnostic::error(
                    file,
                    line,
                    n.min(header.len()) + 1,
                    format!("the row has {n} fields, the header {}", header.len()),
                )
                .fix("check for a missing or extra comma, or an unquoted comma inside a value"),
            );
            continue;
        }
        match builder.push_row(cells) {
            Ok(()) => lines.push(line as u32),
            Err(errors) => {
                for e in errors {
                    diags.push(Diagnostic::error(file, line, e.cell + 1, e.message).field(e.field).fix(e.fix));
                }
            }
        }
    }
    rows
}

/// Parses the header line; returns the column names and the byte offset of the body.
fn read_header(text: &str) -> (Vec<String>, usize) {
    let mut records = Records::new(text, 1);
    match records.next_record() {
        Some(Ok(_)) => ((0..records.n_fields()).map(|k| records.cell(k).to_string()).collect(), records.offset()),
        _ => (Vec::new(), text.len()),
    }
}

/// A file parsed into batches (in file order) with the line of every accepted row.
pub struct Parsed {
    pub batches: Vec<(RowBatch, Vec<u32>)>,
    pub report: FileReport,
}

/// Parses the text of one CSV file against `data` (for references), without changing it.
pub fn parse_csv(data: &Dataset, at: &FileImport, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> Parsed {
    parse_csv_in_chunks(data, at, bytes, diags, CHUNK_BYTES)
}

/// A decoded file with its header mapped and its body cut into chunks.
struct Prepared<'b> {
    text: Cow<'b, str>,
    body_start: usize,
    header: Vec<String>,
    columns: Vec<Option<usize>>,
    /// `(start, end, first line)` of each chunk, relative to the body.
    parts: Vec<(usize, usize, usize)>,
    report: FileReport,
}

fn prepare<'b>(
    at: &FileImport,
    bytes: &'b [u8],
    diags: &mut Vec<Diagnostic>,
    chunk_bytes: usize,
) -> Result<Prepared<'b>, FileReport> {
    let (source, file, options) = (at.source, at.file, at.options);
    let mut report = FileReport { file: file.to_string(), ..FileReport::default() };
    let (text, encoding) = match decode(file, bytes) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return Err(report);
        }
    };
    report.encoding = encoding;
    let (header, body_start) = read_header(&text);
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let columns = match map_header(source, &header_refs, &options.ignore_columns) {
        Ok(c) => c,
        Err(errors) => {
            for (column, message, fix) in errors {
                diags.push(Diagnostic::error(file, 1, column, message).fix(fix));
            }
            return Err(report);
        }
    };
    let header_lines = memchr_iter(b'\n', &text.as_bytes()[..body_start]).count();
    let parts = chunks(&text.as_bytes()[body_start..], 1 + header_lines, chunk_bytes);
    Ok(Prepared { text, body_start, header, columns, parts, report })
}

/// Parses some chunks of a prepared file in parallel: batches, row lines, diagnostics and
/// the number of rows read, in file order.
fn parse_parts(
    data: Tables,
    at: &FileImport,
    p: &Prepared,
    parts: &[(usize, usize, usize)],
) -> Vec<(RowBatch, Vec<u32>, Vec<Diagnostic>, usize)> {
    let (source, file, settings) = (at.source, at.file, at.settings);
    let body = &p.text[p.body_start..];
    parts
        .par_iter()
        .map(|&(start, end, line)| {
            let mut builder = BatchBuilder::new(source, p.columns.clone(), data, &settings.tz, &settings.custom_roles);
            // Room for the chunk's rows up front (about one per 8 bytes per column is an
            // upper bound; a generous guess costs only address space).
            builder.reserve((end - start) / (8 * p.header.len().max(1)) + 16);
            let (mut local, mut lines) = (Vec::new(), Vec::new());
            let rows = parse_chunk(&body[start..end], line, file, &p.header, &mut builder, &mut local, &mut lines);
            (builder.finish(), lines, local, rows)
        })
        .collect()
}

/// [`parse_csv`] with a chosen chunk size (tests use tiny chunks to cross boundaries).
pub(crate) fn parse_csv_in_chunks(
    data: &Dataset,
    at: &FileImport,
    bytes: &[u8],
    diags: &mut Vec<Diagnostic>,
    chunk_bytes: usize,
) -> Parsed {
    let mut p = match prepare(at, bytes, diags, chunk_bytes) {
        Ok(p) => p,
        Err(report) => return Parsed { batches: Vec::new(), report },
    };
    let mut batches = Vec::new();
    for (batch, lines, mut local, rows) in parse_parts(data.tables(), at, &p, &p.parts) {
        p.report.rows_read += rows;
        p.report.rows_loaded += batch.len;
        diags.append(&mut local);
        batches.push((batch, lines));
    }
    p.report.rows_rejected = p.report.rows_read - p.report.rows_loaded;
    Parsed { batches, report: p.report }
}

/// Imports the text of one CSV file into `data`. Diagnostics go to `diags`; the report
/// counts rows. Nothing is added when the header is wrong.
pub fn import_csv(data: &mut Dataset, at: &FileImport, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> FileReport {
    let started = std::time::Instant::now();
    let mut p = match prepare(at, bytes, diags, CHUNK_BYTES) {
        Ok(p) => p,
        Err(report) => return report,
    };
    // In waves of a few chunks per core, pipelined: while one wave is appended to the
    // table, the next is parsed (rows only refer to earlier tables, which the parser reads
    // while this one is written). Batch memory is reused from wave to wave.
    let wave = 2 * rayon::current_num_threads().max(1);
    let parts = p.parts.clone();
    let waves: Vec<&[(usize, usize, usize)]> = parts.chunks(wave).collect();
    let (tables, mut importer) = data.split_for_import(at.source);
    let mut report = std::mem::take(&mut p.report);
    let mut append = |results: Vec<(RowBatch, Vec<u32>, Vec<Diagnostic>, usize)>,
                      report: &mut FileReport,
                      diags: &mut Vec<Diagnostic>| {
        for (batch, _, mut local, rows) in results {
            report.rows_read += rows;
            report.rows_loaded += batch.len;
            diags.append(&mut local);
            importer.append_batch(batch);
        }
    };
    let mut pending = waves.first().map(|w| parse_parts(tables, at, &p, w));
    for next in waves.iter().skip(1) {
        let current = pending.take().expect("a parsed wave");
        let (_, parsed) = rayon::join(|| append(current, &mut report, diags), || parse_parts(tables, at, &p, next));
        pending = Some(parsed);
    }
    if let Some(last) = pending {
        append(last, &mut report, diags);
    }
    report.rows_rejected = report.rows_read - report.rows_loaded;
    if std::env::var_os("YARDSTICK_PROFILE").is_some() {
        eprintln!("{}: {:.3} s", at.file, started.elapsed().as_secs_f64());
    }
    report
}
