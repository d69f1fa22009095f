//! Importing a file as a stream of blocks: memory stays a few blocks however large the
//! file, and while one block is parsed (in chunks, in parallel; see `csv.rs`) the one before
//! is appended to the table and the next one read.

use std::io::Read;

use memchr::memchr_iter;
use yardstick_core::data::Dataset;
use yardstick_core::diag::Diagnostic;

use crate::csv::{
    CHUNK_BYTES, ChunkResult, FileImport, FileReport, decode, first_record_end, gb18030, header_of, not_text,
    parse_parts, position, read_header, split,
};

/// Size of the blocks a file is read in: a few chunks per core, so that one block is
/// parsed while the one before is appended and the next is read.
const BLOCK_BYTES: usize = 32 << 20;

/// The text encoding of a file, as far as it has been read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    /// Only ASCII so far: the same text in UTF-8 and GB18030.
    Ascii,
    Utf8,
    Gb18030,
}

/// Imports the bytes of one CSV file into `data`. Diagnostics go to `diags`; the report
/// counts rows. Nothing is added when the header is wrong.
pub fn import_csv(data: &mut Dataset, at: &FileImport, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> FileReport {
    import_reader(data, at, &mut &bytes[..], Some(bytes.len() as u64), diags).expect("reading memory cannot fail")
}

/// Imports a CSV file from `reader`, block by block: memory stays a few blocks however
/// large the file (`size_hint`, its length if known, lets the table reserve its rows
/// once). Encoding: UTF-8 (a BOM is dropped), or GB18030 when the bytes are not UTF-8 and
/// everything before them was ASCII. A file that is neither stops at the first bad byte,
/// with its line and column; the blocks before it (32 MiB each) stay imported.
pub fn import_reader<R: Read + Send>(
    data: &mut Dataset,
    at: &FileImport,
    reader: &mut R,
    size_hint: Option<u64>,
    diags: &mut Vec<Diagnostic>,
) -> std::io::Result<FileReport> {
    import_reader_into(data, at, reader, size_hint, diags, &mut Blocks::default())
}

/// The two block buffers of an import (the one parsed and the one read meanwhile), kept
/// from one file to the next: 32 MiB each, which fresh for every file had to be paged in
/// and zeroed again.
#[derive(Default)]
pub struct Blocks {
    cur: Vec<u8>,
    next: Vec<u8>,
}

/// [`import_reader`] with buffers kept from an earlier import.
pub fn import_reader_into<R: Read + Send>(
    data: &mut Dataset,
    at: &FileImport,
    reader: &mut R,
    size_hint: Option<u64>,
    diags: &mut Vec<Diagnostic>,
    blocks: &mut Blocks,
) -> std::io::Result<FileReport> {
    import_blocks(data, at, reader, size_hint, diags, (BLOCK_BYTES, CHUNK_BYTES), blocks)
}

/// Reads up to `more` bytes onto the end of `buf`; true when the input has ended.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, more: usize) -> std::io::Result<bool> {
    buf.reserve(more);
    let got = reader.take(more as u64).read_to_end(buf)?;
    Ok(got < more)
}

/// [`import_reader`] with chosen block and chunk sizes (tests use tiny ones).
pub(crate) fn import_blocks<R: Read + Send>(
    data: &mut Dataset,
    at: &FileImport,
    reader: &mut R,
    size_hint: Option<u64>,
    diags: &mut Vec<Diagnostic>,
    (block_bytes, chunk_bytes): (usize, usize),
    blocks: &mut Blocks,
) -> std::io::Result<FileReport> {
    let started = std::time::Instant::now();
    let file = at.file;
    let mut report = FileReport { file: file.to_string(), ..FileReport::default() };
    let Blocks { cur, next } = blocks;
    cur.clear();
    next.clear();
    let mut eof = false;
    while !eof && cur.len() < 3 {
        eof = fill(reader, cur, block_bytes)?;
    }
    let mut start = if cur.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let header_end = loop {
        if let Some(end) = first_record_end(&cur[start..]) {
            break start + end;
        }
        if eof {
            break cur.len();
        }
        eof = fill(reader, cur, block_bytes)?;
    };
    let header_bytes = &cur[start..header_end];
    let (header_text, mut encoding) = match decode(file, header_bytes) {
        Ok((text, "GB18030")) => (text, Encoding::Gb18030),
        Ok((text, _)) if header_bytes.is_ascii() => (text, Encoding::Ascii),
        Ok((text, _)) => (text, Encoding::Utf8),
        Err(d) => {
            diags.push(d);
            report.refused = true;
            return Ok(report);
        }
    };
    let Some(header) = header_of(at, read_header(&header_text).0, diags) else {
        report.refused = true;
        return Ok(report);
    };
    let mut line = 1 + memchr_iter(b'\n', header_bytes).count();
    start = header_end;
    let mut body_bytes = 0usize;
    let (tables, mut importer) = data.split_for_import(at.source);
    let mut reserved = size_hint.is_none();
    let mut pending: Vec<ChunkResult> = Vec::new();
    // Appends parsed chunks; after the first block, reserves the rows the file will have.
    let mut append =
        |results: Vec<ChunkResult>, body_bytes: usize, report: &mut FileReport, diags: &mut Vec<Diagnostic>| {
            for mut r in results {
                report.rows_read += r.rows;
                report.rows_loaded += r.batch.len;
                diags.append(&mut r.diags);
                importer.append_batch(r.batch);
            }
            if !reserved && body_bytes > 0 {
                reserved = true;
                let rows = importer.len() as f64;
                let expected = size_hint.unwrap_or(0) as f64 * rows / body_bytes as f64;
                importer.reserve((expected * 1.02 - rows).max(0.0) as usize);
            }
        };
    loop {
        // A block of whole records at `cur[start..start + split.end]`.
        let block = loop {
            if let Some(s) = split(&cur[start..], line, chunk_bytes, eof) {
                break s;
            }
            eof = fill(reader, cur, block_bytes)?;
        };
        let raw = &cur[start..start + block.end];
        let (decoded, parts) = if encoding == Encoding::Gb18030 {
            match gb18030(raw) {
                Some(text) => {
                    let parts = split(text.as_bytes(), line, chunk_bytes, true).expect("complete").parts;
                    (Some(text), parts)
                }
                None => {
                    let bad = std::str::from_utf8(raw).err().map_or(0, |e| e.valid_up_to());
                    diags.push(not_text(file, position(raw, bad, line)));
                    break;
                }
            }
        } else {
            (None, block.parts)
        };
        let body = decoded.as_ref().map_or(raw, |t| t.as_bytes());
        next.clear();
        next.extend_from_slice(&cur[start + block.end..]);
        let want_ascii = encoding == Encoding::Ascii;
        let done = body_bytes;
        let (read, mut results) = rayon::join(
            || {
                append(std::mem::take(&mut pending), done, &mut report, diags);
                if eof { Ok(true) } else { fill(reader, next, block_bytes) }
            },
            || parse_parts(tables, at, &header, body, &parts, want_ascii, false),
        );
        let next_eof = read?;
        if let Some(bad) = results.iter().find_map(|r| r.not_utf8) {
            // Not UTF-8: GB18030 if all the text before was ASCII (and so the same in both).
            match gb18030(raw).filter(|_| encoding == Encoding::Ascii) {
                Some(text) => {
                    encoding = Encoding::Gb18030;
                    let parts = split(text.as_bytes(), line, chunk_bytes, true).expect("complete").parts;
                    results = parse_parts(tables, at, &header, text.as_bytes(), &parts, false, false);
                }
                None => {
                    diags.push(not_text(file, bad));
                    break;
                }
            }
        } else if encoding == Encoding::Ascii && results.iter().any(|r| !r.ascii) {
            encoding = Encoding::Utf8;
        }
        pending = results;
        body_bytes += block.end;
        line = block.next_line;
        if eof {
            break;
        }
        std::mem::swap(cur, next);
        (start, eof) = (0, next_eof);
    }
    append(pending, body_bytes, &mut report, diags);
    report.encoding = if encoding == Encoding::Gb18030 { "GB18030" } else { "UTF-8" };
    report.rows_rejected = report.rows_read - report.rows_loaded;
    tracing::debug!(file, seconds = started.elapsed().as_secs_f64(), "import");
    Ok(report)
}
