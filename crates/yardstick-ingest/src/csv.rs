//! Parsing CSV text in parallel: text cut into chunks at record boundaries (quote-aware, so
//! a quoted newline never splits a record), each chunk checked as UTF-8, tokenised
//! (`tokenize.rs`) and parsed a group of rows at a time into a column batch on its own
//! thread. Batches are appended in file order (by `stream.rs`, or returned whole by
//! [`parse_csv`]), so the last occurrence of a key wins. A bad row is reported with file,
//! line, column and reason and kept out.

use std::borrow::Cow;

use memchr::memchr_iter;

use crate::tokenize::Records;
use rayon::prelude::*;
use yardstick_core::data::{BatchBuilder, Dataset, RowBatch, Tables, map_header};
use yardstick_core::diag::Diagnostic;
use yardstick_core::schema::Source;
use yardstick_core::settings::Settings;

/// Target size of a chunk parsed by one task: 32 chunks to a 32 MiB block, so that the
/// threads finish a block nearly together (with 4 MiB chunks a thread idled at the end of
/// each block: the tickets import at 10 M kept 1.86 of 2 cores busy, with 1 MiB 1.90, and
/// took 2.81 s against 2.96 s, medians of 6 loads alternated, for 0.16 % more instructions).
pub(crate) const CHUNK_BYTES: usize = 1 << 20;

/// What importing one file did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    pub file: String,
    /// Data rows in the file (header and blank lines excluded).
    pub rows_read: usize,
    /// Rows that were added or updated.
    pub rows_loaded: usize,
    pub rows_rejected: usize,
    /// The whole file was refused (its header or its encoding): none of its rows loaded.
    pub refused: bool,
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
        Err(utf8_error) => match gb18030(body) {
            Some(text) => Ok((Cow::Owned(text), "GB18030")),
            None => Err(not_text(file, position(body, utf8_error.valid_up_to(), 1))),
        },
    }
}

/// How `body` divides into chunks for parallel parsing.
pub(crate) struct Split {
    /// `(start, end, first_line)` of each chunk, 1-based lines.
    pub(crate) parts: Vec<(usize, usize, usize)>,
    /// The end of the last whole record (all of `body` when it is complete).
    pub(crate) end: usize,
    /// The line just after `end`.
    pub(crate) next_line: usize,
}

/// Splits `body` into chunks that each start at a record boundary, with 1-based line
/// numbers counted from `first_line_of_body`. When `complete` is false, `body` is the
/// start of a longer text: the chunks stop at the end of its last whole record (a newline
/// outside quotes), and `None` means that `body` holds no whole record yet.
pub(crate) fn split(body: &[u8], first_line_of_body: usize, chunk_bytes: usize, complete: bool) -> Option<Split> {
    const { assert!(CHUNK_BYTES > 0) };
    let n_raw = body.len().div_ceil(chunk_bytes);
    // Quotes and newlines of each raw range, in parallel.
    let counts: Vec<(usize, usize)> = (0..n_raw)
        .into_par_iter()
        .map(|i| {
            let range = &body[i * chunk_bytes..((i + 1) * chunk_bytes).min(body.len())];
            quotes_and_newlines(range)
        })
        .collect();
    let total_quotes: usize = counts.iter().map(|c| c.0).sum();
    let total_newlines: usize = counts.iter().map(|c| c.1).sum();
    let (body, next_line) = if complete {
        (body, first_line_of_body + total_newlines)
    } else {
        let end = last_record_end(body, total_quotes)?;
        let after = memchr_iter(b'\n', &body[end..]).count();
        (&body[..end], first_line_of_body + total_newlines - after)
    };
    let mut parts = Vec::new();
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
        parts.push((start, boundary, line));
        // The next chunk starts after the newline at `boundary - 1`.
        line = first_line_of_body + newlines_before + memchr_iter(b'\n', &body[raw_end..boundary]).count();
        start = boundary;
    }
    if start < body.len() {
        parts.push((start, body.len(), line));
    }
    Some(Split { parts, end: body.len(), next_line })
}

/// The end of the last whole record of `body` (just after a newline outside quotes), given
/// the number of quotes in all of it; `None` when it has no whole record.
fn last_record_end(body: &[u8], total_quotes: usize) -> Option<usize> {
    let mut quotes_after = 0;
    let mut at = body.len();
    while let Some(pos) = memchr::memrchr2(b'"', b'\n', &body[..at]) {
        if body[pos] == b'"' {
            quotes_after += 1;
        } else if (total_quotes - quotes_after).is_multiple_of(2) {
            return Some(pos + 1);
        }
        at = pos;
    }
    None
}

/// The number of `"` and of `\n` in `bytes`, in one pass: 32 bytes at a time into byte
/// counters that the compiler keeps in vector registers, added up every 255 rounds
/// (before a byte counter could overflow). Two counting passes read a block twice.
pub(crate) fn quotes_and_newlines(bytes: &[u8]) -> (usize, usize) {
    const LANES: usize = 32;
    let (mut quotes, mut newlines) = (0usize, 0usize);
    let mut blocks = bytes.chunks_exact(LANES * 255);
    for block in blocks.by_ref() {
        let (mut q, mut n) = ([0u8; LANES], [0u8; LANES]);
        for lanes in block.chunks_exact(LANES) {
            for i in 0..LANES {
                q[i] += (lanes[i] == b'"') as u8;
                n[i] += (lanes[i] == b'\n') as u8;
            }
        }
        quotes += q.iter().map(|&c| c as usize).sum::<usize>();
        newlines += n.iter().map(|&c| c as usize).sum::<usize>();
    }
    for &b in blocks.remainder() {
        quotes += (b == b'"') as usize;
        newlines += (b == b'\n') as usize;
    }
    (quotes, newlines)
}

fn memchr2_pos(hay: &[u8]) -> Option<usize> {
    memchr::memchr2(b'"', b'\n', hay)
}

/// Rows parsed together (column at a time) by the batch builder.
const GROUP_ROWS: usize = 256;

/// Reads every record of `text` (a chunk) into `builder`, reporting bad rows and noting
/// the line of every accepted row in `lines` when `keep_lines`. Returns the number of data
/// rows seen.
fn parse_chunk(
    text: &str,
    first_line: usize,
    file: &str,
    header: &[String],
    builder: &mut BatchBuilder,
    diags: &mut Vec<Diagnostic>,
    (lines, keep_lines): (&mut Vec<u32>, bool),
) -> usize {
    let mut records = Records::new(text, first_line);
    let width = header.len();
    let mut rows = 0;
    // A group of rows waiting to be parsed: their cells, one row after another, and lines.
    let mut group =
        Group { cells: Vec::with_capacity(GROUP_ROWS * width), lines: Vec::new(), diags: Vec::new(), keep_lines };
    loop {
        let first = group.cells.len();
        let Some(record) = records.next_record(&mut group.cells) else { break };
        rows += 1;
        let line = match record {
            Ok(line) => line,
            Err(e) => {
                let d = Diagnostic::error(file, e.line, e.column, e.message)
                    .code("csv.bad_quotes")
                    .fix("check the quotes of this row");
                group.diags.push((e.line, d));
                continue;
            }
        };
        let n = group.cells.len() - first;
        if n != width {
            group.cells.truncate(first);
            let d =
                Diagnostic::error(file, line, n.min(width) + 1, format!("the row has {n} fields, the header {width}"))
                    .code("csv.field_count")
                    .fix("check for a missing or extra comma, or an unquoted comma inside a value");
            group.diags.push((line, d));
            continue;
        }
        if records.escaped().is_empty() {
            group.lines.push(line as u32);
            if group.lines.len() == GROUP_ROWS {
                group.flush(file, builder, diags, lines);
            }
        } else {
            // A cell with doubled quotes needs its own text: parse the row on its own.
            let own = records.owned(group.cells.drain(first..));
            group.flush(file, builder, diags, lines);
            let cells: Vec<&str> = own.iter().map(String::as_str).collect();
            group.lines.push(line as u32);
            group.parse_one(file, builder, diags, lines, &cells);
        }
    }
    group.flush(file, builder, diags, lines);
    rows
}

/// Rows of a chunk gathered for [`BatchBuilder::push_rows`], with the diagnostics of rows
/// among them that could not be read (kept in line order with those of parsing).
struct Group<'t> {
    cells: Vec<&'t str>,
    lines: Vec<u32>,
    diags: Vec<(usize, Diagnostic)>,
    /// Whether the lines of accepted rows are wanted (only memberships use them).
    keep_lines: bool,
}

impl<'t> Group<'t> {
    fn flush(&mut self, file: &str, builder: &mut BatchBuilder, diags: &mut Vec<Diagnostic>, lines: &mut Vec<u32>) {
        let cells = std::mem::take(&mut self.cells);
        self.parse_one(file, builder, diags, lines, &cells);
        self.cells = cells;
        self.cells.clear();
    }

    /// Parses the rows of `cells` (lines in `self.lines`) and reports, in line order.
    fn parse_one(
        &mut self,
        file: &str,
        builder: &mut BatchBuilder,
        diags: &mut Vec<Diagnostic>,
        lines: &mut Vec<u32>,
        cells: &[&str],
    ) {
        let errors = builder.push_rows(cells, self.lines.len());
        let mut next_error = errors.iter().peekable();
        for (r, &line) in self.lines.iter().enumerate() {
            match next_error.peek() {
                Some((bad, _)) if *bad == r => {
                    let (_, errors) = next_error.next().expect("peeked");
                    for e in errors {
                        let d = Diagnostic::error(file, line as usize, e.cell + 1, e.message.clone())
                            .code(e.code)
                            .field(e.field.clone())
                            .fix(e.fix.clone());
                        self.diags.push((line as usize, d));
                    }
                }
                _ if self.keep_lines => lines.push(line),
                _ => {}
            }
        }
        self.diags.sort_by_key(|(line, _)| *line);
        diags.extend(self.diags.drain(..).map(|(_, d)| d));
        self.lines.clear();
    }
}

/// Parses the header line; returns the column names and the byte offset of the body.
pub(crate) fn read_header(text: &str) -> (Vec<String>, usize) {
    let mut records = Records::new(text, 1);
    let mut cells = Vec::new();
    match records.next_record(&mut cells) {
        Some(Ok(_)) => (records.owned(cells), records.offset()),
        _ => (Vec::new(), text.len()),
    }
}

/// The end of the first record of `bytes` (after any blank lines), just after its newline;
/// `None` when it does not end within `bytes`.
pub(crate) fn first_record_end(bytes: &[u8]) -> Option<usize> {
    let mut at = bytes.iter().position(|&b| b != b'\n' && b != b'\r')?;
    let mut quoted = false;
    loop {
        let pos = at + memchr2_pos(&bytes[at..])?;
        if bytes[pos] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            return Some(pos + 1);
        }
        at = pos + 1;
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

/// What parsing one chunk gave.
pub(crate) struct ChunkResult {
    pub(crate) batch: RowBatch,
    /// The line of each row of `batch`, when asked for (empty otherwise).
    pub(crate) lines: Vec<u32>,
    pub(crate) diags: Vec<Diagnostic>,
    /// Data rows seen, accepted or not.
    pub(crate) rows: usize,
    /// Whether the chunk is plain ASCII (the same text in UTF-8 and GB18030); only worked
    /// out when asked for.
    pub(crate) ascii: bool,
    /// Line and column of the first byte that is not UTF-8 (then nothing was parsed).
    pub(crate) not_utf8: Option<(usize, usize)>,
}

/// The header of a file and the schema field of each of its columns.
pub(crate) struct Header {
    pub(crate) names: Vec<String>,
    pub(crate) columns: Vec<Option<usize>>,
}

/// Parses chunks of UTF-8 `body` in parallel, in file order. A chunk that is not UTF-8 is
/// not parsed: its result says where the first bad byte is. `keep_lines`: note the line
/// of every accepted row (memberships report overlaps by line; other tables never use
/// them, and at 10 M rows they were 40 MB).
pub(crate) fn parse_parts(
    data: Tables,
    at: &FileImport,
    header: &Header,
    body: &[u8],
    parts: &[(usize, usize, usize)],
    want_ascii: bool,
    keep_lines: bool,
) -> Vec<ChunkResult> {
    let (source, file, settings) = (at.source, at.file, at.settings);
    parts
        .par_iter()
        .map(|&(start, end, line)| {
            let mut builder =
                BatchBuilder::new(source, header.columns.clone(), data, &settings.tz, &settings.custom_roles);
            let bytes = &body[start..end];
            // A vectorised check first; the standard one only to say where a bad byte is.
            let text = match simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes)) {
                Ok(text) => text,
                Err(e) => {
                    let (line, column) = position(bytes, e.valid_up_to(), line);
                    let (batch, lines, diags) = (builder.finish(), Vec::new(), Vec::new());
                    return ChunkResult { batch, lines, diags, rows: 0, ascii: false, not_utf8: Some((line, column)) };
                }
            };
            // Room for the chunk's rows up front (about one per 8 bytes per column is an
            // upper bound; a generous guess costs only address space).
            builder.reserve((end - start) / (8 * header.names.len().max(1)) + 16);
            let (mut diags, mut lines) = (Vec::new(), Vec::new());
            let rows = parse_chunk(text, line, file, &header.names, &mut builder, &mut diags, (&mut lines, keep_lines));
            let ascii = want_ascii && bytes.is_ascii();
            ChunkResult { batch: builder.finish(), lines, diags, rows, ascii, not_utf8: None }
        })
        .collect()
}

/// The 1-based line and column of byte `at` of `bytes`, whose first line is `first_line`.
pub(crate) fn position(bytes: &[u8], at: usize, first_line: usize) -> (usize, usize) {
    let line = first_line + memchr_iter(b'\n', &bytes[..at]).count();
    let column = bytes[..at].iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

pub(crate) fn not_text(file: &str, (line, column): (usize, usize)) -> Diagnostic {
    Diagnostic::error(file, line, column, "the file is neither UTF-8 nor GB18030 text")
        .code("csv.bad_encoding")
        .fix("save it as UTF-8 (CSV UTF-8 in Excel)")
}

/// [`parse_csv`] with a chosen chunk size (tests use tiny chunks to cross boundaries).
pub(crate) fn parse_csv_in_chunks(
    data: &Dataset,
    at: &FileImport,
    bytes: &[u8],
    diags: &mut Vec<Diagnostic>,
    chunk_bytes: usize,
) -> Parsed {
    let mut report = FileReport { file: at.file.to_string(), ..FileReport::default() };
    let (text, encoding) = match decode(at.file, bytes) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            report.refused = true;
            return Parsed { batches: Vec::new(), report };
        }
    };
    report.encoding = encoding;
    let (names, body_start) = read_header(&text);
    let Some(header) = header_of(at, names, diags) else {
        report.refused = true;
        return Parsed { batches: Vec::new(), report };
    };
    let header_lines = memchr_iter(b'\n', &text.as_bytes()[..body_start]).count();
    let body = &text.as_bytes()[body_start..];
    let parts = split(body, 1 + header_lines, chunk_bytes, true).expect("a complete text splits").parts;
    let mut batches = Vec::new();
    for mut r in parse_parts(data.tables(), at, &header, body, &parts, false, true) {
        report.rows_read += r.rows;
        report.rows_loaded += r.batch.len;
        diags.append(&mut r.diags);
        batches.push((r.batch, r.lines));
    }
    report.rows_rejected = report.rows_read - report.rows_loaded;
    Parsed { batches, report }
}

/// Maps header names to schema fields, reporting unknown, doubled and missing columns.
pub(crate) fn header_of(at: &FileImport, names: Vec<String>, diags: &mut Vec<Diagnostic>) -> Option<Header> {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    match map_header(at.source, &refs, &at.options.ignore_columns) {
        Ok(columns) => Some(Header { names, columns }),
        Err(errors) => {
            for (column, message, fix) in errors {
                diags.push(Diagnostic::error(at.file, 1, column, message).code("csv.bad_header").fix(fix));
            }
            None
        }
    }
}

/// `bytes` decoded as GB18030, or `None` when they are not.
pub(crate) fn gb18030(bytes: &[u8]) -> Option<String> {
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    (!had_errors).then(|| text.into_owned())
}
