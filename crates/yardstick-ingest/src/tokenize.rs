//! A zero-copy CSV tokenizer over text already known to be UTF-8 (RFC 4180: `,` separates,
//! `"` quotes, `""` is a quote inside quotes, records end with `\n` or `\r\n`; blank lines
//! are skipped). Unquoted and simply quoted fields are slices of the input; only fields
//! with doubled quotes are copied.

/// One field: a range of the input, or an unescaped copy in the record's scratch space.
#[derive(Clone, Copy, Debug)]
enum Field {
    Slice(usize, usize),
    Scratch(usize, usize),
}

/// The position of the next `,`, `\n` or `\r` at or after `i` (or the end), eight bytes
/// at a time (SWAR: a byte equal to `c` makes `x = w ^ c…c` have a zero byte, which
/// `(x − 0x01…01) & !x & 0x80…80` flags; the lowest flag is exact).
#[inline]
fn find_delimiter(b: &[u8], mut i: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("eight bytes"));
        let m = zero(w ^ (LO * b',' as u64)) | zero(w ^ (LO * b'\n' as u64)) | zero(w ^ (LO * b'\r' as u64));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b',' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Reads records one by one.
pub struct Records<'t> {
    text: &'t str,
    at: usize,
    /// 1-based line of `at`.
    line: usize,
    fields: Vec<Field>,
    scratch: String,
}

/// A problem with the CSV structure itself (not a field's value).
#[derive(Debug, PartialEq, Eq)]
pub struct TokenError {
    pub line: usize,
    pub column: usize,
    pub message: &'static str,
}

impl<'t> Records<'t> {
    pub fn new(text: &'t str, first_line: usize) -> Records<'t> {
        Records { text, at: 0, line: first_line, fields: Vec::with_capacity(32), scratch: String::new() }
    }

    /// Reads the next record and returns its line; `None` at the end. Its fields are then
    /// [`Records::n_fields`] and [`Records::cell`].
    pub fn next_record(&mut self) -> Option<Result<usize, TokenError>> {
        let b = self.text.as_bytes();
        let n = b.len();
        // Skip blank lines.
        while self.at < n && (b[self.at] == b'\n' || b[self.at] == b'\r') {
            if b[self.at] == b'\n' {
                self.line += 1;
            }
            self.at += 1;
        }
        if self.at >= n {
            return None;
        }
        let record_line = self.line;
        self.fields.clear();
        self.scratch.clear();
        let mut i = self.at;
        loop {
            if i < n && b[i] == b'"' {
                let start = i + 1;
                let mut j = start;
                let mut escaped = false;
                let end = loop {
                    match memchr::memchr(b'"', &b[j..]) {
                        None => {
                            self.at = n;
                            return Some(Err(TokenError {
                                line: record_line,
                                column: self.fields.len() + 1,
                                message: "a quoted value is never closed: add the closing \"",
                            }));
                        }
                        Some(off) => {
                            let q = j + off;
                            if q + 1 < n && b[q + 1] == b'"' {
                                escaped = true;
                                j = q + 2;
                            } else {
                                break q;
                            }
                        }
                    }
                };
                self.line += memchr::memchr_iter(b'\n', &b[start..end]).count();
                if escaped {
                    let s0 = self.scratch.len();
                    self.scratch.push_str(&self.text[start..end].replace("\"\"", "\""));
                    self.fields.push(Field::Scratch(s0, self.scratch.len()));
                } else {
                    self.fields.push(Field::Slice(start, end));
                }
                i = end + 1;
                if i < n && !matches!(b[i], b',' | b'\n' | b'\r') {
                    self.skip_record(i);
                    return Some(Err(TokenError {
                        line: record_line,
                        column: self.fields.len(),
                        message: "text after a closing quote: quote the whole value",
                    }));
                }
            } else {
                let start = i;
                i = find_delimiter(b, i);
                self.fields.push(Field::Slice(start, i));
            }
            if i >= n {
                self.at = n;
                break;
            }
            match b[i] {
                b',' => i += 1,
                b'\r' => {
                    i += 1;
                    if i < n && b[i] == b'\n' {
                        i += 1;
                    }
                    self.line += 1;
                    self.at = i;
                    break;
                }
                _ => {
                    self.line += 1;
                    self.at = i + 1;
                    break;
                }
            }
        }
        Some(Ok(record_line))
    }

    /// Byte offset of the next unread record.
    pub fn offset(&self) -> usize {
        self.at
    }

    pub fn n_fields(&self) -> usize {
        self.fields.len()
    }

    pub fn cell(&self, k: usize) -> &str {
        match self.fields[k] {
            Field::Slice(a, z) => &self.text[a..z],
            Field::Scratch(a, z) => &self.scratch[a..z],
        }
    }

    /// Appends the cells of the record to `out` as slices of the text; false (and nothing
    /// appended) when a cell was unescaped into scratch space, which lasts only until the
    /// next record (then use [`Records::cell`]).
    #[inline]
    pub fn text_cells_into(&self, out: &mut Vec<&'t str>) -> bool {
        if !self.scratch.is_empty() {
            return false;
        }
        out.reserve(self.fields.len());
        for f in &self.fields {
            if let Field::Slice(a, z) = *f {
                out.push(&self.text[a..z]);
            }
        }
        true
    }

    /// Skips to the start of the next line (after a malformed record).
    fn skip_record(&mut self, from: usize) {
        let b = self.text.as_bytes();
        match memchr::memchr(b'\n', &b[from..]) {
            Some(off) => {
                self.at = from + off + 1;
                self.line += 1;
            }
            None => self.at = b.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(usize, Vec<String>)> {
        let mut r = Records::new(text, 1);
        let mut out = Vec::new();
        while let Some(x) = r.next_record() {
            let line = x.unwrap();
            out.push((line, (0..r.n_fields()).map(|k| r.cell(k).to_string()).collect()));
        }
        out
    }

    #[test]
    fn quoting_line_endings_and_blank_lines() {
        let text = "a,b,c\r\n\r\n\"x, y\",\"多行\n文本\",\"say \"\"hi\"\"\"\nlast,,\n\n";
        assert_eq!(
            all(text),
            vec![
                (1, vec!["a".into(), "b".into(), "c".into()]),
                (3, vec!["x, y".into(), "多行\n文本".into(), "say \"hi\"".into()]),
                (5, vec!["last".into(), "".into(), "".into()]),
            ]
        );
        assert_eq!(all("no,newline"), vec![(1, vec!["no".into(), "newline".into()])]);
        assert_eq!(all("\"\",x\n"), vec![(1, vec!["".into(), "x".into()])]);
        // A carriage return alone ends a record too.
        assert_eq!(all("x\ry,z\n"), vec![(1, vec!["x".into()]), (2, vec!["y".into(), "z".into()])]);
    }

    #[test]
    fn the_word_at_a_time_scan_finds_every_delimiter() {
        let text = "abcdefghij,klm\nnopqrstuvwxyz0123456789\r\nxyz";
        let b = text.as_bytes();
        for start in 0..b.len() {
            let slow = (start..b.len()).find(|&i| matches!(b[i], b',' | b'\n' | b'\r')).unwrap_or(b.len());
            assert_eq!(find_delimiter(b, start), slow, "from {start}");
        }
    }

    #[test]
    fn malformed_quotes_are_errors_with_positions() {
        let mut r = Records::new("a,\"open\nmore\n", 7);
        assert_eq!(
            r.next_record().unwrap().unwrap_err(),
            TokenError { line: 7, column: 2, message: "a quoted value is never closed: add the closing \"" }
        );
        let mut r = Records::new("a,\"x\"y,z\nok\n", 1);
        assert!(r.next_record().unwrap().is_err());
        assert_eq!(r.next_record().unwrap().unwrap(), 2);
    }
}
