//! Turns rows of text cells into a [`RowBatch`]: parses every field by its schema type,
//! resolves references against the records already loaded, applies row checks, and keeps a
//! bad row out whole, saying which field was wrong, why, and how to fix it.

use super::Dataset;
use super::column::{NULL, TextColumn};
use super::interner::Interner;
use super::table::{BatchColumn, RowBatch};
use crate::period::{PERIOD_FORMAT_HINT, Period};
use crate::schema::{FieldType, Source, TableDef};
use crate::time::{OrgTimeZone, TIME_FORMAT_HINT, parse_time};

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
    Null,
    Int(i64),
    Label(&'t str),
    Text(&'t str),
}

enum Builder {
    Ints(Vec<i64>),
    Coded(Vec<i64>, Interner),
    Text(TextColumn),
}

/// Builds one batch of rows of a source. `columns[i]` is the schema field of the `i`-th
/// cell of every row (None: a column the import was told to ignore).
pub struct BatchBuilder<'a> {
    source: Source,
    def: &'static TableDef,
    data: &'a Dataset,
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
    role_field: Option<usize>,
    ticket_defaults: Option<(usize, Vec<(usize, usize)>)>,
}

/// The widest table has 19 fields.
const MAX_FIELDS: usize = 24;

impl<'a> BatchBuilder<'a> {
    pub fn new(
        source: Source,
        columns: Vec<Option<usize>>,
        data: &'a Dataset,
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
                FieldType::Id | FieldType::Key(_) => Builder::Coded(Vec::new(), Interner::new()),
                FieldType::Enum(_) | FieldType::Category | FieldType::Period => {
                    Builder::Coded(Vec::new(), Interner::default())
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
                Builder::Ints(v) | Builder::Coded(v, _) => v.reserve(rows),
                Builder::Text(_) => {}
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Parses and adds a row; on error nothing of the row is kept.
    pub fn push_row(&mut self, cells: &[&str]) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut parsed = [Parsed::Null; MAX_FIELDS];
        let parsed = &mut parsed[..self.def.fields.len()];
        for (f, field) in self.def.fields.iter().enumerate() {
            let Some(cell) = self.positions[f] else {
                if field.required {
                    errors.push(FieldError {
                        cell: 0,
                        field: field.name.into(),
                        message: format!("the file has no {} column", field.name),
                        fix: format!("add a {} column", field.name),
                    });
                }
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
                continue;
            }
            match self
                .parse(field.ty, field.name, text, raw)
                .and_then(|p| if Some(f) == self.role_field { self.check_role(p) } else { Ok(p) })
            {
                Ok(p) => parsed[f] = p,
                Err((message, fix)) => errors.push(FieldError { cell, field: field.name.into(), message, fix }),
            }
        }
        if errors.is_empty() {
            self.defaults_from_ticket(parsed);
            self.order_checks(parsed, &mut errors);
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.cell);
            return Err(errors);
        }
        for (f, p) in parsed.iter().enumerate() {
            match (&mut self.builders[f], *p) {
                (Builder::Ints(v), Parsed::Int(x)) => v.push(x),
                (Builder::Ints(v), _) => v.push(NULL),
                (Builder::Coded(v, dict), Parsed::Label(l)) => v.push(dict.intern(l).0 as i64),
                (Builder::Coded(v, _), _) => v.push(NULL),
                (Builder::Text(t), Parsed::Text(s)) => t.push(Some(s)),
                (Builder::Text(t), _) => t.push(None),
            }
        }
        self.len += 1;
        Ok(())
    }

    fn parse<'t>(
        &self,
        ty: FieldType,
        name: &str,
        text: &'t str,
        raw: &'t str,
    ) -> Result<Parsed<'t>, (String, String)> {
        match ty {
            FieldType::Id | FieldType::Category => Ok(Parsed::Label(text)),
            FieldType::Text => Ok(Parsed::Text(raw)),
            FieldType::Key(_) => Ok(Parsed::Label(text)),
            FieldType::Instant => parse_instant(text, self.tz)
                .map(Parsed::Int)
                .ok_or_else(|| (format!("`{text}` is not a time"), TIME_FORMAT_HINT.to_string())),
            FieldType::Int { min, max } => match text.parse::<i64>() {
                Ok(v) if (min..=max).contains(&v) => Ok(Parsed::Int(v)),
                Ok(v) => Err((format!("{v} is out of range"), format!("write a whole number from {min} to {max}"))),
                Err(_) => Err((
                    format!("`{text}` is not a whole number"),
                    format!("write a whole number from {min} to {max}"),
                )),
            },
            FieldType::Decimal => parse_decimal(text).map(Parsed::Int).ok_or_else(|| {
                (
                    format!("`{text}` is not a number"),
                    "write a number such as 12.5 (at most 6 decimals, no thousands separators)".to_string(),
                )
            }),
            FieldType::Bool => parse_bool(text).map(|b| Parsed::Int(b as i64)).ok_or_else(|| {
                (format!("`{text}` is not a yes/no value"), "write true/false, 1/0, yes/no or 是/否".to_string())
            }),
            FieldType::Enum(values) => {
                if let Some(v) = values.iter().find(|v| v.eq_ignore_ascii_case(text)) {
                    Ok(Parsed::Label(v))
                } else {
                    Err((format!("`{text}` is not a valid {name}"), format!("use one of {}", values.join(", "))))
                }
            }
            FieldType::Period => match Period::parse(text) {
                Some(_) => Ok(Parsed::Label(text)),
                None => Err((format!("`{text}` is not a period"), PERIOD_FORMAT_HINT.to_string())),
            },
            FieldType::Ref(target) => match self.data.table(target).find(text) {
                Some(row) => Ok(Parsed::Int(row as i64)),
                None if target == self.source => Err((
                    format!("{name} `{text}` does not refer to an earlier row of {}", target.name()),
                    format!("list {text} before the rows that refer to it"),
                )),
                None => Err((
                    format!("{name} `{text}` is not in {}.csv", target.name()),
                    format!("add {text} to {}.csv or correct the id", target.name()),
                )),
            },
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
    fn defaults_from_ticket(&self, parsed: &mut [Parsed]) {
        let Some((ticket_field, fields)) = &self.ticket_defaults else { return };
        let Parsed::Int(ticket) = parsed[*ticket_field] else { return };
        let tickets = self.data.table(Source::Tickets);
        for &(f, from) in fields {
            if matches!(parsed[f], Parsed::Null) {
                let v = tickets.int(from, ticket as usize);
                if v != NULL {
                    parsed[f] = Parsed::Int(v);
                }
            }
        }
    }

    fn order_checks(&self, parsed: &[Parsed], errors: &mut Vec<FieldError>) {
        for &(a, b, is_time) in &self.checks {
            if let (Parsed::Int(x), Parsed::Int(y)) = (parsed[a], parsed[b])
                && y < x
            {
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
                Builder::Coded(codes, labels) => BatchColumn::Coded { codes, labels },
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
