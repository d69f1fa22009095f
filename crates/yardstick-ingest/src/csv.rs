//! Fast parallel reading of one canonical CSV file into a source table.
//!
//! The bytes are decoded (UTF-8 with or without BOM; GB18030 when they are not UTF-8), cut
//! into chunks at record boundaries (quote-aware, so a quoted newline never splits a
//! record), and each chunk is tokenised with `csv-core` and parsed into a column batch on
//! its own thread. Batches are then appended in file order, so the last occurrence of a
//! key wins. A bad row is reported with file, line, column and reason and kept out.

use std::borrow::Cow;

use memchr::memchr_iter;
use rayon::prelude::*;
use yardstick_core::data::{BatchBuilder, Dataset, RowBatch, map_header};
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

/// Reads every record of `text` (a chunk) into `builder`, reporting bad rows. Returns the
/// number of data rows seen.
fn parse_chunk(
    text: &[u8],
    first_line: usize,
    file: &str,
    header: &[String],
    builder: &mut BatchBuilder,
    diags: &mut Vec<Diagnostic>,
    lines: &mut Vec<u32>,
) -> usize {
    let mut reader = csv_core::Reader::new();
    let mut output = vec![0u8; 4096];
    let mut ends = vec![0usize; header.len().max(1) + 8];
    let (mut pos, mut record_start) = (0usize, 0usize);
    let mut line = first_line;
    let (mut out_len, mut end_len) = (0usize, 0usize);
    let mut rows = 0;
    loop {
        let (result, nin, nout, nend) = reader.read_record(&text[pos..], &mut output[out_len..], &mut ends[end_len..]);
        // csv-core reports field ends from the start of the record, across calls.
        pos += nin;
        out_len += nout;
        end_len += nend;
        match result {
            csv_core::ReadRecordResult::InputEmpty => {
                if pos < text.len() {
                    continue;
                }
                // An empty input now signals the end of the chunk: the next call flushes a
                // last record without a line break.
                let (result, _, nout, nend) = reader.read_record(&[], &mut output[out_len..], &mut ends[end_len..]);
                out_len += nout;
                end_len += nend;
                if !matches!(result, csv_core::ReadRecordResult::Record) {
                    break;
                }
            }
            csv_core::ReadRecordResult::OutputFull => {
                let n = output.len();
                output.resize(n * 2, 0);
                continue;
            }
            csv_core::ReadRecordResult::OutputEndsFull => {
                let n = ends.len();
                ends.resize(n * 2, 0);
                continue;
            }
            csv_core::ReadRecordResult::End => break,
            csv_core::ReadRecordResult::Record => {}
        }
        let consumed = &text[record_start..pos];
        let record_line = line + leading_blank_lines(consumed);
        line += memchr_iter(b'\n', consumed).count();
        record_start = pos;
        let is_blank = end_len <= 1 && out_len == 0;
        if !is_blank {
            rows += 1;
            // Cells on the stack: no allocation per row for up to 64 fields.
            let mut stack = [""; 64];
            let mut heap = Vec::new();
            let cells: &mut [&str] = if end_len <= stack.len() {
                &mut stack[..end_len]
            } else {
                heap.resize(end_len, "");
                &mut heap
            };
            let mut prev = 0;
            for (cell, &e) in cells.iter_mut().zip(&ends[..end_len]) {
                // The chunk is valid UTF-8 and fields end at delimiters or quotes.
                *cell = std::str::from_utf8(&output[prev..e]).unwrap_or("");
                prev = e;
            }
            let cells: &[&str] = cells;
            if cells.len() != header.len() {
                diags.push(
                    Diagnostic::error(
                        file,
                        record_line,
                        cells.len().min(header.len()) + 1,
                        format!("the row has {} fields, the header {}", cells.len(), header.len()),
                    )
                    .fix("check for a missing or extra comma, or an unquoted comma inside a value"),
                );
            } else {
                match builder.push_row(cells) {
                    Ok(()) => lines.push(record_line as u32),
                    Err(errors) => {
                        for e in errors {
                            diags.push(
                                Diagnostic::error(file, record_line, e.cell + 1, e.message).field(e.field).fix(e.fix),
                            );
                        }
                    }
                }
            }
        }
        out_len = 0;
        end_len = 0;
        if pos >= text.len() && matches!(result, csv_core::ReadRecordResult::InputEmpty) {
            break;
        }
    }
    rows
}

/// Newlines before the first non-newline byte (blank lines skipped by the tokenizer).
fn leading_blank_lines(consumed: &[u8]) -> usize {
    consumed.iter().take_while(|&&b| b == b'\n' || b == b'\r').filter(|&&b| b == b'\n').count()
}

/// Parses the header line; returns the column names and the byte offset of the body.
fn read_header(text: &[u8]) -> (Vec<String>, usize) {
    let mut reader = csv_core::Reader::new();
    let mut output = vec![0u8; text.len().clamp(64, 1 << 16)];
    let mut ends = vec![0usize; 256];
    let (_, nin, nout, nend) = reader.read_record(text, &mut output, &mut ends);
    let mut names = Vec::new();
    let mut prev = 0;
    for &e in &ends[..nend] {
        names.push(String::from_utf8_lossy(&output[prev..e]).into_owned());
        prev = e;
    }
    let _ = nout;
    (names, nin)
}

/// A file parsed into batches (in file order) with the line of every accepted row.
pub struct Parsed {
    pub batches: Vec<(RowBatch, Vec<u32>)>,
    pub report: FileReport,
}

/// Parses the text of one CSV file against `data` (for references), without changing it.
pub fn parse_csv(
    data: &Dataset,
    source: Source,
    file: &str,
    bytes: &[u8],
    settings: &Settings,
    options: &ImportOptions,
    diags: &mut Vec<Diagnostic>,
) -> Parsed {
    parse_csv_in_chunks(data, source, file, bytes, settings, options, diags, CHUNK_BYTES)
}

/// [`parse_csv`] with a chosen chunk size (tests use tiny chunks to cross boundaries).
#[allow(clippy::too_many_arguments)]
pub(crate) fn parse_csv_in_chunks(
    data: &Dataset,
    source: Source,
    file: &str,
    bytes: &[u8],
    settings: &Settings,
    options: &ImportOptions,
    diags: &mut Vec<Diagnostic>,
    chunk_bytes: usize,
) -> Parsed {
    let mut report = FileReport { file: file.to_string(), ..FileReport::default() };
    let (text, encoding) = match decode(file, bytes) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return Parsed { batches: Vec::new(), report };
        }
    };
    report.encoding = encoding;
    let text = text.as_bytes();
    let (header, body_start) = read_header(text);
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let columns = match map_header(source, &header_refs, &options.ignore_columns) {
        Ok(c) => c,
        Err(errors) => {
            for (column, message, fix) in errors {
                diags.push(Diagnostic::error(file, 1, column, message).fix(fix));
            }
            return Parsed { batches: Vec::new(), report };
        }
    };
    let header_lines = memchr_iter(b'\n', &text[..body_start]).count();
    let body = &text[body_start..];
    let parts = chunks(body, 1 + header_lines, chunk_bytes);
    let results: Vec<(RowBatch, Vec<u32>, Vec<Diagnostic>, usize)> = parts
        .par_iter()
        .map(|&(start, end, line)| {
            let mut builder = BatchBuilder::new(source, columns.clone(), data, &settings.tz, &settings.custom_roles);
            let (mut local, mut lines) = (Vec::new(), Vec::new());
            let rows = parse_chunk(&body[start..end], line, file, &header, &mut builder, &mut local, &mut lines);
            (builder.finish(), lines, local, rows)
        })
        .collect();
    let mut batches = Vec::new();
    for (batch, lines, mut local, rows) in results {
        report.rows_read += rows;
        report.rows_loaded += batch.len;
        diags.append(&mut local);
        batches.push((batch, lines));
    }
    report.rows_rejected = report.rows_read - report.rows_loaded;
    Parsed { batches, report }
}

/// Imports the text of one CSV file into `data`. Diagnostics go to `diags`; the report
/// counts rows. Nothing is added when the header is wrong.
pub fn import_csv(
    data: &mut Dataset,
    source: Source,
    file: &str,
    bytes: &[u8],
    settings: &Settings,
    options: &ImportOptions,
    diags: &mut Vec<Diagnostic>,
) -> FileReport {
    let parsed = parse_csv(data, source, file, bytes, settings, options, diags);
    for (batch, _) in parsed.batches {
        data.append_batch(source, batch);
    }
    parsed.report
}
