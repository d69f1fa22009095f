//! A zero-copy CSV tokenizer over text already known to be UTF-8 (RFC 4180: `,` separates,
//! `"` quotes, `""` is a quote inside quotes, records end with `\n` or `\r\n`; blank lines
//! are skipped). Every field is a slice of the input, put straight where the caller
//! gathers its rows; a quoted field is the slice between its quotes, and one with doubled
//! quotes is flagged (see [`Records::escaped`]); [`Records::owned`] gives the text of such
//! a record.

/// The position of the next `,`, `\n` or `\r` at or after `i` (or the end), eight bytes
/// at a time (SWAR). All three are below `-` (0x2D), and one subtraction flags the bytes
/// below it: `(w − 0x2D…2D) & !w & 0x80…80`. The lowest flag is exact (flags above it can
/// be false, never missing); a flagged byte that is not a delimiter — the `+` of a time
/// zone offset, a space — is stepped over and the search goes on after it.
#[inline]
fn find_delimiter(b: &[u8], mut i: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("eight bytes"));
        let m = w.wrapping_sub(LO * 0x2D) & !w & HI;
        if m == 0 {
            i += 8;
            continue;
        }
        let at = i + (m.trailing_zeros() / 8) as usize;
        if matches!(b[at], b',' | b'\n' | b'\r') {
            return at;
        }
        i = at + 1;
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
    /// Fields of the last record (0-based) whose slices still have their quotes doubled.
    escaped: Vec<usize>,
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
        Records { text, at: 0, line: first_line, escaped: Vec::new() }
    }

    /// Reads the next record, pushes its fields onto `out` and returns its line; `None` at
    /// the end. On an error nothing of the record stays in `out`.
    pub fn next_record(&mut self, out: &mut Vec<&'t str>) -> Option<Result<usize, TokenError>> {
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
        let first = out.len();
        self.escaped.clear();
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
                            let column = out.len() - first + 1;
                            out.truncate(first);
                            return Some(Err(TokenError {
                                line: record_line,
                                column,
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
                    self.escaped.push(out.len() - first);
                }
                out.push(&self.text[start..end]);
                i = end + 1;
                if i < n && !matches!(b[i], b',' | b'\n' | b'\r') {
                    self.skip_record(i);
                    let column = out.len() - first;
                    out.truncate(first);
                    return Some(Err(TokenError {
                        line: record_line,
                        column,
                        message: "text after a closing quote: quote the whole value",
                    }));
                }
            } else {
                let start = i;
                i = find_delimiter(b, i);
                out.push(&self.text[start..i]);
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

    /// The fields of the last record (0-based) that had doubled quotes: their slices still
    /// have them doubled ([`Records::owned`]).
    pub fn escaped(&self) -> &[usize] {
        &self.escaped
    }

    /// The text of the last record's fields `cells` (as [`Records::next_record`] pushed
    /// them), each owned, with doubled quotes made single.
    pub fn owned<'c>(&self, cells: impl IntoIterator<Item = &'c str>) -> Vec<String> {
        let mut own: Vec<String> = cells.into_iter().map(String::from).collect();
        for &k in &self.escaped {
            own[k] = own[k].replace("\"\"", "\"");
        }
        own
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
        let mut cells = Vec::new();
        while let Some(x) = r.next_record(&mut cells) {
            let line = x.unwrap();
            out.push((line, r.owned(cells.iter().copied())));
            cells.clear();
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
        let text = "abcdefghij,klm\nnopqrstuvwxyz0123456789\r\nxyz+08:00 a-b,-,+-,\u{1}\"#()*.-/\r+-\n,x 中文,末";
        let b = text.as_bytes();
        for start in 0..b.len() {
            let slow = (start..b.len()).find(|&i| matches!(b[i], b',' | b'\n' | b'\r')).unwrap_or(b.len());
            assert_eq!(find_delimiter(b, start), slow, "from {start}");
        }
    }

    #[test]
    fn malformed_quotes_are_errors_with_positions() {
        let mut out = vec!["before"];
        let mut r = Records::new("a,\"open\nmore\n", 7);
        assert_eq!(
            r.next_record(&mut out).unwrap().unwrap_err(),
            TokenError { line: 7, column: 2, message: "a quoted value is never closed: add the closing \"" }
        );
        assert_eq!(out, ["before"], "nothing of a bad record is kept");
        let mut r = Records::new("a,\"x\"y,z\nok\n", 1);
        assert!(r.next_record(&mut out).unwrap().is_err());
        assert_eq!(out, ["before"], "nothing of a bad record is kept");
        assert_eq!(r.next_record(&mut out).unwrap().unwrap(), 2);
        assert_eq!(out, ["before", "ok"]);
    }
}
