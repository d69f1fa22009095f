//! Turns rows of text cells into a [`RowBatch`]: parses every field by its schema type,
//! resolves references against the records already loaded, applies row checks, and keeps a
//! bad row out whole, saying which field was wrong, why, and how to fix it.

use super::Tables;
use super::cell::{LabelCache, label_code, parse_bool, parse_decimal, parse_int, problem, role_problem, trim};
use super::column::{NULL, TextColumn};
use super::interner::Interner;
use super::table::{BatchColumn, RowBatch};
use crate::period::Period;
use crate::schema::{FieldType, Source, TableDef};
use crate::time::{OrgTimeZone, TimeParser};

/// A field that did not parse: which column of the row, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Index of the cell in the row (0-based).
    pub cell: usize,
    pub field: String,
    /// The stable machine code of the problem (`csv.bad_time`, `csv.missing_value`, …).
    pub code: &'static str,
    pub message: String,
    pub fix: String,
}

enum Builder {
    Ints(Vec<i64>),
    Coded(Vec<i64>, Interner),
    /// Customer keys: numbers of the batch's key shape as they are, other keys interned
    /// (stored as `−(code + 2)`).
    Keys(Vec<i64>, Option<(String, usize)>, Interner),
    /// A label column of few distinct values: the last labels seen are tried first.
    Labels(Vec<i64>, Interner, LabelCache),
    Text(TextColumn),
}

/// Builds one batch of rows of a source. `columns[i]` is the schema field of the `i`-th
/// cell of every row (None: a column the import was told to ignore).
pub struct BatchBuilder<'a> {
    source: Source,
    def: &'static TableDef,
    data: Tables<'a>,
    tz: &'a OrgTimeZone,
    /// Cell position of each field (None when the file has no such column).
    positions: Vec<Option<usize>>,
    builders: Vec<Builder>,
    len: usize,
    roles: Vec<String>,
    /// Field indices resolved once: order checks `(earlier, later, is_time)`, the people
    /// `role` field, and the `ticket_id` field with the fields defaulted from the ticket.
    checks: Vec<(usize, usize, bool)>,
    /// Timestamps of a file cluster on few months: the parser caches the last one.
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
                    Builder::Labels(Vec::new(), Interner::default(), LabelCache::default())
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

    /// Parses and adds a row; on error nothing of the row is kept.
    pub fn push_row(&mut self, cells: &[&str]) -> Result<(), Vec<FieldError>> {
        match self.push_rows(cells, 1).pop() {
            Some((_, errors)) => Err(errors),
            None => Ok(()),
        }
    }

    /// Parses and adds `n` rows, given one after another in `cells` (`cells.len() / n` each).
    /// Column at a time: one tight loop per field, its type decided once. A row with any
    /// error is kept out whole; returns the errors of each such row (by its index among
    /// the `n`, in order), sorted by cell.
    pub fn push_rows(&mut self, cells: &[&str], n: usize) -> Vec<(usize, Vec<FieldError>)> {
        if n == 0 {
            return Vec::new();
        }
        let width = cells.len() / n;
        let start = self.len;
        let mut errors: Vec<(usize, FieldError)> = Vec::new();
        for f in 0..self.builders.len() {
            let field = &self.def.fields[f];
            let Some(cell) = self.positions[f] else {
                if field.required {
                    errors.extend((0..n).map(|r| {
                        (
                            r,
                            FieldError {
                                cell: 0,
                                field: field.name.into(),
                                code: "csv.missing_column",
                                message: format!("the file has no {} column", field.name),
                                fix: format!("add a {} column", field.name),
                            },
                        )
                    }));
                }
                for _ in 0..n {
                    self.push_null(f);
                }
                continue;
            };
            let column = (0..n).map(|r| cells.get(r * width + cell).copied().unwrap_or(""));
            self.parse_column(f, cell, column, &mut errors);
        }
        let mut bad = vec![false; n];
        for &(r, _) in &errors {
            bad[r] = true;
        }
        for r in 0..n {
            if bad[r] {
                continue;
            }
            self.defaults_from_ticket(start + r);
            let before = errors.len();
            self.order_checks(start + r, r, &mut errors);
            bad[r] = errors.len() > before;
        }
        self.len = start + n;
        if errors.is_empty() {
            return Vec::new();
        }
        self.drop_rows(start, &bad);
        errors.sort_by_key(|(r, e)| (*r, e.cell));
        let mut out: Vec<(usize, Vec<FieldError>)> = Vec::new();
        for (r, e) in errors {
            match out.last_mut() {
                Some((last, list)) if *last == r => list.push(e),
                _ => out.push((r, vec![e])),
            }
        }
        out
    }

    /// Parses one field of every row into its builder.
    fn parse_column<'t>(
        &mut self,
        f: usize,
        cell: usize,
        column: impl Iterator<Item = &'t str>,
        errors: &mut Vec<(usize, FieldError)>,
    ) {
        let field = &self.def.fields[f];
        let (ty, name, required) = (field.ty, field.name, field.required);
        let source = self.source;
        let BatchBuilder { builders, times, tz, data, roles, role_field, .. } = self;
        let problem = |text: &str| problem(source, ty, name, text);
        let at = (required, name, cell, field_code(ty));
        match (&mut builders[f], ty) {
            (Builder::Text(t), _) => each_cell(column, at, errors, |c| {
                t.push(c.map(|(_, raw)| raw));
                Ok(())
            }),
            (Builder::Ints(v), FieldType::Instant) => {
                let times = times.get_mut();
                // Records of service operations lie in the years 2000–2099 (a day of slack
                // either side for time zones): 0001, 1900 or 9999 is a typing error.
                const FIRST: i64 = 946_684_800 - 86_400;
                const END: i64 = 4_102_444_800 + 86_400;
                each_cell(column, at, errors, |c| {
                    put_int(
                        v,
                        c,
                        |t| times.parse(t).map(|p| tz.resolve(p)).filter(|i| (FIRST..END).contains(i)),
                        problem,
                    )
                })
            }
            (Builder::Ints(v), FieldType::Int { min, max }) => each_cell(column, at, errors, |c| {
                put_int(v, c, |t| parse_int(t).filter(|x| (min..=max).contains(x)), problem)
            }),
            (Builder::Ints(v), FieldType::Decimal { min, max }) => {
                let range = (min.saturating_mul(1_000_000))..=(max.saturating_mul(1_000_000));
                each_cell(column, at, errors, |c| {
                    put_int(v, c, |t| parse_decimal(t).filter(|x| range.contains(x)), problem)
                })
            }
            (Builder::Ints(v), FieldType::Bool) => {
                each_cell(column, at, errors, |c| put_int(v, c, |t| parse_bool(t).map(i64::from), problem))
            }
            (Builder::Ints(v), FieldType::Ref(target)) => {
                let table = data.table(target);
                each_cell(column, at, errors, |c| put_int(v, c, |t| table.find(t).map(|row| row as i64), problem))
            }
            (Builder::Ints(v), _) => each_cell(column, at, errors, |c| put_int(v, c, |_| None, problem)),
            (Builder::Coded(v, dict), _) => each_cell(column, at, errors, |c| {
                v.push(c.map_or(NULL, |(text, _)| dict.intern(text).0 as i64));
                Ok(())
            }),
            (Builder::Labels(v, dict, recent), FieldType::Enum(values)) => {
                // The codes of the enumeration's values, as they are met.
                let mut codes: Vec<i64> = vec![NULL; values.len()];
                each_cell(column, at, errors, |c| {
                    let Some((text, _)) = c else {
                        v.push(NULL);
                        return Ok(());
                    };
                    let Some(k) = values.iter().position(|x| x.eq_ignore_ascii_case(text)) else {
                        v.push(NULL);
                        return Err(problem(text));
                    };
                    if codes[k] == NULL {
                        codes[k] = label_code(dict, recent, values[k]);
                    }
                    v.push(codes[k]);
                    Ok(())
                })
            }
            (Builder::Labels(v, dict, recent), _) => {
                let roles = (*role_field == Some(f)).then_some(&*roles);
                each_cell(column, at, errors, |c| {
                    let Some((text, _)) = c else {
                        v.push(NULL);
                        return Ok(());
                    };
                    if ty == FieldType::Period && Period::parse(text).is_none() {
                        v.push(NULL);
                        return Err(problem(text));
                    }
                    if let Some(roles) = roles
                        && !roles.iter().any(|r| r == text)
                    {
                        v.push(NULL);
                        return Err(role_problem(roles, text));
                    }
                    v.push(label_code(dict, recent, text));
                    Ok(())
                })
            }
            (Builder::Keys(v, shape, labels), _) => each_cell(column, at, errors, |c| {
                let Some((key, _)) = c else {
                    v.push(NULL);
                    return Ok(());
                };
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
                Ok(())
            }),
        }
    }

    fn push_null(&mut self, f: usize) {
        match &mut self.builders[f] {
            Builder::Ints(v) | Builder::Coded(v, _) | Builder::Labels(v, _, _) | Builder::Keys(v, _, _) => v.push(NULL),
            Builder::Text(t) => t.push(None),
        }
    }

    /// Removes the rows `start + r` with `bad[r]` from every builder (rare: rows with errors).
    fn drop_rows(&mut self, start: usize, bad: &[bool]) {
        for b in &mut self.builders {
            match b {
                Builder::Ints(v) | Builder::Coded(v, _) | Builder::Labels(v, _, _) | Builder::Keys(v, _, _) => {
                    let mut kept = start;
                    for (r, &is_bad) in bad.iter().enumerate() {
                        if !is_bad {
                            v[kept] = v[start + r];
                            kept += 1;
                        }
                    }
                    v.truncate(kept);
                }
                Builder::Text(t) => {
                    let tail: Vec<Option<String>> =
                        (start..start + bad.len()).map(|r| t.get(r).map(String::from)).collect();
                    t.truncate(start);
                    for (text, &is_bad) in tail.iter().zip(bad) {
                        if !is_bad {
                            t.push(text.as_deref());
                        }
                    }
                }
            }
        }
        self.len = start + bad.iter().filter(|&&b| !b).count();
    }

    /// The value of an Int-like column at row `i` of the batch.
    fn value(&self, f: usize, i: usize) -> i64 {
        match &self.builders[f] {
            Builder::Ints(v) | Builder::Coded(v, _) | Builder::Labels(v, _, _) | Builder::Keys(v, _, _) => v[i],
            Builder::Text(_) => NULL,
        }
    }

    /// `agent_id` of surveys and complaints defaults to the ticket's agent.
    fn defaults_from_ticket(&mut self, i: usize) {
        let Some((ticket_field, fields)) = &self.ticket_defaults else { return };
        let ticket = self.value(*ticket_field, i);
        if ticket == NULL {
            return;
        }
        let tickets = self.data.table(Source::Tickets);
        let fill: Vec<(usize, i64)> = fields
            .iter()
            .filter(|&&(f, _)| self.value(f, i) == NULL)
            .map(|&(f, from)| (f, tickets.int(from, ticket as usize)))
            .collect();
        for (f, v) in fill {
            if let Builder::Ints(values) = &mut self.builders[f] {
                values[i] = v;
            }
        }
    }

    /// Checks that earlier fields do not come after later ones, for row `i` of the batch
    /// (row `r` of the call).
    fn order_checks(&self, i: usize, r: usize, errors: &mut Vec<(usize, FieldError)>) {
        for &(a, b, is_time) in &self.checks {
            let (x, y) = (self.value(a, i), self.value(b, i));
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
                errors.push((
                    r,
                    FieldError {
                        cell: self.positions[b].unwrap_or(0),
                        field: later.into(),
                        code: "csv.out_of_order",
                        message,
                        fix,
                    },
                ));
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
}

/// The code of a cell that does not parse as its field's type.
fn field_code(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Instant => "csv.bad_time",
        FieldType::Int { .. } | FieldType::Decimal { .. } => "csv.bad_number",
        FieldType::Bool => "csv.bad_boolean",
        FieldType::Enum(_) => "csv.bad_label",
        FieldType::Ref(_) => "csv.unknown_reference",
        FieldType::Period => "csv.bad_period",
        FieldType::Id | FieldType::Key(_) | FieldType::Category | FieldType::Text => "csv.bad_value",
    }
}

/// Feeds the cells of one column to `put` — `Some((trimmed, raw))`, or `None` for an empty
/// cell — which adds one value for each (a null for an empty cell, and for a cell it did
/// not take, saying why), and records the errors: an empty required cell, or the reason
/// `put` gives. `put` is called at one place only: the compiler then inlines it into the
/// loop whatever its size (with three calls, whether it did changed with unrelated edits,
/// and a third more instructions went into parsing times when it did not).
#[inline]
fn each_cell<'t>(
    column: impl Iterator<Item = &'t str>,
    (required, name, cell, code): (bool, &str, usize, &'static str),
    errors: &mut Vec<(usize, FieldError)>,
    mut put: impl FnMut(Option<(&'t str, &'t str)>) -> Result<(), (String, String)>,
) {
    for (r, raw) in column.enumerate() {
        let text = trim(raw);
        let value = if text.is_empty() {
            if required {
                let (message, fix) = (format!("{name} is required but empty"), format!("fill in {name} (必填)"));
                let code = "csv.missing_value";
                errors.push((r, FieldError { cell, field: name.into(), code, message, fix }));
            }
            None
        } else {
            Some((text, raw))
        };
        if let Err((message, fix)) = put(value) {
            errors.push((r, FieldError { cell, field: name.into(), code, message, fix }));
        }
    }
}

/// Adds a number parsed from a cell (a null for an empty cell), or a null and why the cell
/// is not a number.
#[inline]
fn put_int(
    v: &mut Vec<i64>,
    cell: Option<(&str, &str)>,
    parse: impl FnOnce(&str) -> Option<i64>,
    problem: impl FnOnce(&str) -> (String, String),
) -> Result<(), (String, String)> {
    let Some((text, _)) = cell else {
        v.push(NULL);
        return Ok(());
    };
    match parse(text) {
        Some(x) => {
            v.push(x);
            Ok(())
        }
        None => {
            v.push(NULL);
            Err(problem(text))
        }
    }
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
                let fix = match crate::diag::closest(name, names.iter().copied()) {
                    Some(meant) => format!("did you mean {meant}? Rename it, or list it under ignore_columns"),
                    None => format!("rename it to one of {} or list it under ignore_columns", names.join(", ")),
                };
                errors.push((i + 1, format!("unknown column `{name}` in {}.csv", def.name), fix));
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
#[path = "builder_tests.rs"]
mod tests;
