//! Turns rows of text cells into a [`RowBatch`]: parses every field by its schema type,
//! resolves references against the records already loaded, applies row checks, and keeps a
//! bad row out whole, saying which field was wrong, why, and how to fix it.

use super::Tables;
use super::column::{NULL, TextColumn};
use super::interner::Interner;
use super::table::{BatchColumn, RowBatch};
use crate::period::{PERIOD_FORMAT_HINT, Period};
use crate::schema::{FieldType, Source, TableDef};
use crate::time::{OrgTimeZone, TIME_FORMAT_HINT, TimeParser, parse_time};

/// A field that did not parse: which column of the row, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Index of the cell in the row (0-based).
    pub cell: usize,
    pub field: String,
    pub message: String,
    pub fix: String,
}

/// Parsed cell before it is committed to the batch.
#[derive(Clone, Copy)]
enum Parsed<'t> {
    Int(i64),
    Label(&'t str),
    Text(&'t str),
}

enum Builder {
    Ints(Vec<i64>),
    Coded(Vec<i64>, Interner),
    /// Customer keys: numbers of the batch's key shape as they are, other keys interned
    /// (stored as `−(code + 2)`).
    Keys(Vec<i64>, Option<(String, usize)>, Interner),
    /// A label column of few distinct values: the last labels seen are tried first.
    Labels(Vec<i64>, Interner, Vec<(Box<str>, i64)>),
    Text(TextColumn),
}

/// How many recent labels a label column remembers.
const RECENT_LABELS: usize = 16;

/// Builds one batch of rows of a source. `columns[i]` is the schema field of the `i`-th
/// cell of every row (None: a column the import was told to ignore).
pub struct BatchBuilder<'a> {
    source: Source,
    def: &'static TableDef,
    data: Tables<'a>,
    tz: &'a OrgTimeZone,
    /// Field index for each cell position.
    columns: Vec<Option<usize>>,
    /// Cell position of each field (None when the file has no such column).
    positions: Vec<Option<usize>>,
    builders: Vec<Builder>,
    len: usize,
    roles: Vec<String>,
    /// Field indices resolved once: order checks `(earlier, later, is_time)`, the people
    /// `role` field, and the `ticket_id` field with the fields defaulted from the ticket.
    checks: Vec<(usize, usize, bool)>,
    /// Timestamps of a file cluster on few dates: the parser caches the last one.
    times: std::cell::RefCell<TimeParser>,
    role_field: Option<usize>,
    ticket_defaults: Option<(usize, Vec<(usize, usize)>)>,
}

impl<'a> BatchBuilder<'a> {
    pub fn new(
        source: Source,
        columns: Vec<Option<usize>>,
        data: Tables<'a>,
        tz: &'a OrgTimeZone,
        custom_roles: &[String],
    ) -> BatchBuilder<'a> {
        let def = source.def();
        let mut positions = vec![None; def.fields.len()];
        for (cell, f) in columns.iter().enumerate() {
            if let Some(f) = f {
                positions[*f] = Some(cell);
            }
        }
        let builders = def
            .fields
            .iter()
            .map(|f| match f.ty {
                FieldType::Text => Builder::Text(TextColumn::default()),
                FieldType::Id => Builder::Coded(Vec::new(), Interner::new()),
                FieldType::Key(_) => Builder::Keys(Vec::new(), None, Interner::default()),
                FieldType::Enum(_) | FieldType::Category | FieldType::Period => {
                    Builder::Labels(Vec::new(), Interner::default(), Vec::new())
                }
                _ => Builder::Ints(Vec::new()),
            })
            .collect();
        let roles = crate::schema::ROLES.iter().map(|r| r.to_string()).chain(custom_roles.iter().cloned()).collect();
        let field = |name: &str| def.field_index(name).expect("schema field");
        let checks = def
            .order_checks
            .iter()
            .map(|c| {
                (field(c.earlier), field(c.later), def.field(c.earlier).is_some_and(|f| f.ty == FieldType::Instant))
            })
            .collect();
        let role_field = (source == Source::People).then(|| field("role"));
        let tickets = Source::Tickets.def();
        let ticket_defaults = (!def.defaults_from_ticket.is_empty()).then(|| {
            (
                field("ticket_id"),
                def.defaults_from_ticket
                    .iter()
                    .map(|n| (field(n), tickets.field_index(n).expect("tickets have it")))
                    .collect(),
            )
        });
        BatchBuilder {
            source,
            def,
            data,
            tz,
            columns,
            positions,
            builders,
            len: 0,
            roles,
            checks,
            times: Default::default(),
            role_field,
            ticket_defaults,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Reserves room for `rows` more rows.
    pub fn reserve(&mut self, rows: usize) {
        for b in &mut self.builders {
            match b {
                Builder::Ints(v) | Builder::Coded(v, _) | Builder::Labels(v, _, _) | Builder::Keys(v, _, _) => {
                    v.reserve(rows)
                }
                Builder::Text(_) => {}
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Parses and adds a row; on error nothing of the row is kept. Each cell is parsed
    /// straight into its column; a row with an error is rolled back.
    pub fn push_row(&mut self, cells: &[&str]) -> Result<(), Vec<FieldError>> {
        let mut errors: Vec<FieldError> = Vec::new();
        for f in 0..self.builders.len() {
            let field = &self.def.fields[f];
            let Some(cell) = self.positions[f] else {
                if field.required {
                    errors.push(FieldError {
                        cell: 0,
                        field: field.name.into(),
                        message: format!("the file has no {} column", field.name),
                        fix: format!("add a {} column", field.name),
                    });
                }
                self.push_null(f);
                continue;
            };
            let raw = cells.get(cell).copied().unwrap_or("");
            let text = trim(raw);
            if text.is_empty() {
                if field.required {
                    errors.push(FieldError {
                        cell,
                        field: field.name.into(),
                        message: format!("{} is required but empty", field.name),
                        fix: format!("fill in {} (必填)", field.name),
                    });
                }
                self.push_null(f);
                continue;
            }
            let parsed = match self.parse(field.ty, text, raw) {
                Some(p) if Some(f) == self.role_field => self.check_role(p),
                Some(p) => Ok(p),
                None => Err(self.problem(field.ty, field.name, text)),
            };
            match parsed {
                Ok(p) => self.push_parsed(f, p),
                Err((message, fix)) => {
                    errors.push(FieldError { cell, field: field.name.into(), message, fix });
                    self.push_null(f);
                }
            }
        }
        if errors.is_empty() {
            self.defaults_from_ticket();
            self.order_checks(&mut errors);
        }
        if !errors.is_empty() {
            self.roll_back();
            errors.sort_by_key(|e| e.cell);
            return Err(errors);
        }
        self.len += 1;
        Ok(())
    }

    fn push_null(&mut self, f: usize) {
        match &mut self.builders[f] {
            Builder::Ints(v) | Builder::Coded(v, _) | Builder::Labels(v, _, _) | Builder::Keys(v, _, _) => v.push(NULL),
            Builder::Text(t) => t.push(None),
        }
    }

    fn push_parsed(&mut self, f: usize, p: Parsed) {
        match (&mut self.builders[f], p) {
            (Builder::Ints(v), Parsed::Int(x)) => v.push(x),
            (Builder::Coded(v, dict), Parsed::Label(l)) => v.push(dict.intern(l).0 as i64),
            (Builder::Labels(v, dict, recent), Parsed::Label(l)) => {
                let code = match recent.iter().find(|(label, _)| **label == *l) {
                    Some(&(_, code)) => code,
                    None => {
                        let code = dict.intern(l).0 as i64;
                        if recent.len() < RECENT_LABELS {
                            recent.push((l.into(), code));
                        }
                        code
                    }
                };
                v.push(code);
            }
            (Builder::Keys(v, shape, labels), Parsed::Label(key)) => {
                if shape.is_none()
                    && let Some((prefix, digits, _)) = super::interner::split_numeric(key)
                {
                    *shape = Some((prefix.to_string(), digits.len()));
                }
                let number = shape.as_ref().and_then(|(prefix, width)| super::keys::shaped_number(key, prefix, *width));
                match number {
                    Some(n) if n < (1 << 62) => v.push(n as i64),
                    _ => v.push(-(labels.intern(key).0 as i64) - 2),
                }
            }
            (Builder::Text(t), Parsed::Text(s)) => t.push(Some(s)),
            _ => self.push_null(f),
        }
    }

    /// The value just pushed into an Int-like column.
    fn last(&self, f: usize) -> i64 {
        match &self.builders[f] {
            Builder::Ints(v) | Builder::Coded(v, _) | Builder::Labels(v, _, _) | Builder::Keys(v, _, _) => v[self.len],
            Builder::Text(_) => NULL,
        }
    }

    fn set_last(&mut self, f: usize, value: i64) {
        let len = self.len;
        if let Builder::Ints(v) = &mut self.builders[f] {
            v[len] = value;
        }
    }

    /// Removes the cells of the row being added.
    fn roll_back(&mut self) {
        let len = self.len;
        for b in &mut self.builders {
            match b {
                Builder::Ints(v) | Builder::Coded(v, _) | Builder::Labels(v, _, _) | Builder::Keys(v, _, _) => {
                    v.truncate(len)
                }
                Builder::Text(t) => t.truncate(len),
            }
        }
    }

    /// Parses a non-empty cell; `None` when it is not a valid value of its type (then
    /// [`BatchBuilder::problem`] says why).
    #[inline]
    fn parse<'t>(&self, ty: FieldType, text: &'t str, raw: &'t str) -> Option<Parsed<'t>> {
        match ty {
            FieldType::Id | FieldType::Category | FieldType::Key(_) => Some(Parsed::Label(text)),
            FieldType::Text => Some(Parsed::Text(raw)),
            FieldType::Instant => self.times.borrow_mut().parse(text).map(|p| Parsed::Int(self.tz.resolve(p))),
            FieldType::Int { min, max } => parse_int(text).filter(|v| (min..=max).contains(v)).map(Parsed::Int),
            FieldType::Decimal => parse_decimal(text).map(Parsed::Int),
            FieldType::Bool => parse_bool(text).map(|b| Parsed::Int(b as i64)),
            FieldType::Enum(values) => values.iter().find(|v| v.eq_ignore_ascii_case(text)).map(|v| Parsed::Label(v)),
            FieldType::Period => Period::parse(text).map(|_| Parsed::Label(text)),
            FieldType::Ref(target) => self.data.table(target).find(text).map(|row| Parsed::Int(row as i64)),
        }
    }

    /// Why a cell did not parse, and how to fix it.
    #[cold]
    fn problem(&self, ty: FieldType, name: &str, text: &str) -> (String, String) {
        match ty {
            FieldType::Instant => (format!("`{text}` is not a time"), TIME_FORMAT_HINT.to_string()),
            FieldType::Int { min, max } => match text.parse::<i64>() {
                Ok(v) => (format!("{v} is out of range"), format!("write a whole number from {min} to {max}")),
                Err(_) => {
                    (format!("`{text}` is not a whole number"), format!("write a whole number from {min} to {max}"))
                }
            },
            FieldType::Decimal => (
                format!("`{text}` is not a number"),
                "write a number such as 12.5 (at most 6 decimals, no thousands separators)".to_string(),
            ),
            FieldType::Bool => {
                (format!("`{text}` is not a yes/no value"), "write true/false, 1/0, yes/no or 是/否".to_string())
            }
            FieldType::Enum(values) => {
                (format!("`{text}` is not a valid {name}"), format!("use one of {}", values.join(", ")))
            }
            FieldType::Period => (format!("`{text}` is not a period"), PERIOD_FORMAT_HINT.to_string()),
            FieldType::Ref(target) if target == self.source => (
                format!("{name} `{text}` does not refer to an earlier row of {}", target.name()),
                format!("list {text} before the rows that refer to it"),
            ),
            FieldType::Ref(target) => (
                format!("{name} `{text}` is not in {}.csv", target.name()),
                format!("add {text} to {}.csv or correct the id", target.name()),
            ),
            _ => (format!("`{text}` is not valid"), String::new()),
        }
    }

    fn check_role<'t>(&self, p: Parsed<'t>) -> Result<Parsed<'t>, (String, String)> {
        if let Parsed::Label(role) = p
            && !self.roles.iter().any(|r| r == role)
        {
            return Err((
                format!("`{role}` is not a role"),
                format!("use one of {} or declare it under [organisation] custom_roles", self.roles.join(", ")),
            ));
        }
        Ok(p)
    }

    /// `agent_id` of surveys and complaints defaults to the ticket's agent.
    fn defaults_from_ticket(&mut self) {
        let Some((ticket_field, fields)) = &self.ticket_defaults else { return };
        let ticket = self.last(*ticket_field);
        if ticket == NULL {
            return;
        }
        let tickets = self.data.table(Source::Tickets);
        let fill: Vec<(usize, i64)> = fields
            .iter()
            .filter(|&&(f, _)| self.last(f) == NULL)
            .map(|&(f, from)| (f, tickets.int(from, ticket as usize)))
            .collect();
        for (f, v) in fill {
            self.set_last(f, v);
        }
    }

    fn order_checks(&self, errors: &mut Vec<FieldError>) {
        for &(a, b, is_time) in &self.checks {
            let (x, y) = (self.last(a), self.last(b));
            if x != NULL && y != NULL && y < x {
                let (earlier, later) = (self.def.fields[a].name, self.def.fields[b].name);
                let (message, fix) = if is_time {
                    (
                        format!("{later} is before {earlier}"),
                        format!("correct {later} or {earlier}; {later} cannot come first"),
                    )
                } else {
                    (format!("{earlier} is larger than {later}"), format!("{earlier} must not exceed {later}"))
                };
                errors.push(FieldError { cell: self.positions[b].unwrap_or(0), field: later.into(), message, fix });
            }
        }
    }

    pub fn finish(self) -> RowBatch {
        let columns = self
            .builders
            .into_iter()
            .map(|b| match b {
                Builder::Ints(v) => BatchColumn::Ints(v),
                Builder::Coded(codes, labels) | Builder::Labels(codes, labels, _) => {
                    BatchColumn::Coded { codes, labels }
                }
                Builder::Keys(values, shape, labels) => BatchColumn::Keys { values, shape, labels },
                Builder::Text(t) => BatchColumn::Text(t),
            })
            .collect();
        RowBatch { len: self.len, columns }
    }

    /// The schema field of each cell position.
    pub fn columns(&self) -> &[Option<usize>] {
        &self.columns
    }
}

/// Trims white space (including the ideographic space U+3000); plain ASCII cells, the
/// usual case, are checked byte by byte.
#[inline]
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if f > b' ' && f < 0x80 && l > b' ' && l < 0x80 => s,
        _ => s.trim(),
    }
}

/// Parses an instant, applying the organisation time zone to a time without offset.
pub fn parse_instant(text: &str, tz: &OrgTimeZone) -> Option<i64> {
    parse_time(text).map(|p| tz.resolve(p))
}

/// A whole number: optional sign and decimal digits.
#[inline]
pub fn parse_int(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let (negative, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return text.parse().ok();
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(if negative { -v } else { v })
}

/// `true/false/1/0/yes/no/是/否` in any letter case.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "是" => Some(true),
        "0" | "否" => Some(false),
        t if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("yes") => Some(true),
        t if t.eq_ignore_ascii_case("false") || t.eq_ignore_ascii_case("no") => Some(false),
        _ => None,
    }
}

/// A decimal number in millionths: `-12.5` → -12 500 000. At most 6 decimals.
pub fn parse_decimal(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || frac.len() > 6
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().ok()? };
    let v = int.checked_mul(1_000_000)?.checked_add(frac)?;
    Some(if negative { -v } else { v })
}

/// Maps a header row to schema fields. Returns the field of each column, or errors for
/// unknown and duplicate columns (with their 1-based column numbers).
pub fn map_header(
    source: Source,
    header: &[&str],
    ignore: &[String],
) -> Result<Vec<Option<usize>>, Vec<(usize, String, String)>> {
    let def = source.def();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen = vec![false; def.fields.len()];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        if ignore.iter().any(|x| x == name) {
            out.push(None);
            continue;
        }
        match def.field_index(name) {
            Some(f) if seen[f] => {
                errors.push((i + 1, format!("column {name} appears twice"), "remove one of them".to_string()))
            }
            Some(f) => {
                seen[f] = true;
                out.push(Some(f));
            }
            None => {
                let names: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
                errors.push((
                    i + 1,
                    format!("unknown column `{name}` in {}.csv", def.name),
                    format!("rename it to one of {} or list it under ignore_columns", names.join(", ")),
                ));
                out.push(None);
            }
        }
    }
    for (f, field) in def.fields.iter().enumerate() {
        if field.required && !seen[f] {
            errors.push((
                0,
                format!("required column {} is missing", field.name),
                format!("add a {} column", field.name),
            ));
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_parsers() {
        for t in
            ["0", "-12", "+7", "123456789012345678", "1234567890123456789", "9223372036854775808", "1e3", "", "-", "1 "]
        {
            assert_eq!(parse_int(t), t.parse::<i64>().ok(), "{t}");
        }
        assert_eq!(parse_decimal("12.5"), Some(12_500_000));
        assert_eq!(parse_decimal("-0.000001"), Some(-1));
        assert_eq!(parse_decimal(".5"), Some(500_000));
        assert_eq!(parse_decimal("1,000"), None);
        assert_eq!(parse_decimal("1.1234567"), None);
        for (t, b) in [("是", true), ("否", false), ("YES", true), ("False", false), ("1", true)] {
            assert_eq!(parse_bool(t), Some(b));
        }
        assert_eq!(parse_bool("y"), None);
    }
}
