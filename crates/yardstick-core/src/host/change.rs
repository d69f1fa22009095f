//! Changes to records, as a person or a program writes them: fields by name, values as
//! the text of a CSV cell, records by their natural key. Each change is parsed and
//! checked by the same code as a CSV row ([`BatchBuilder`]: types, ranges, references,
//! defaults, order of times), plus what only a change can get wrong (an unknown record, a
//! delete of a record others refer to), and becomes an [`Op`] on cells.

use super::Origin;
use crate::data::{BatchBuilder, BatchColumn, Cell, Dataset, FieldError, NULL, RowBatch};
use crate::diag::{Diagnostic, closest};
use crate::schema::{FieldType, Source};
use crate::settings::Settings;
use crate::time::TimeParser;

/// One change to the records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Adds a record, or replaces the one with the same natural key: `(field, text)`
    /// pairs as in a CSV row; fields not given are empty.
    Upsert { source: Source, fields: Vec<(String, String)> },
    /// Changes some fields of an existing record, found by the values of its natural key
    /// (`["T000001"]`; memberships: `["P1", "2025-03-01"]`, person and `from`).
    Update { source: Source, key: Vec<String>, fields: Vec<(String, String)> },
    /// Deletes a record. People and teams are never deleted (their history is kept: set
    /// `left_at`, or move their people), nor a record that others refer to.
    Delete { source: Source, key: Vec<String> },
}

impl Change {
    pub fn source(&self) -> Source {
        match self {
            Change::Upsert { source, .. } | Change::Update { source, .. } | Change::Delete { source, .. } => *source,
        }
    }

    /// An upsert from `(field, text)` pairs.
    pub fn upsert(source: Source, fields: &[(&str, &str)]) -> Change {
        Change::Upsert { source, fields: fields.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect() }
    }

    /// An update of the record with natural key `id` (single-field keys).
    pub fn update(source: Source, id: &str, fields: &[(&str, &str)]) -> Change {
        Change::Update {
            source,
            key: vec![id.to_string()],
            fields: fields.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect(),
        }
    }

    /// A delete of the record with natural key `id` (single-field keys).
    pub fn delete(source: Source, id: &str) -> Change {
        Change::Delete { source, key: vec![id.to_string()] }
    }
}

/// A checked change, on cells.
#[derive(Clone, Debug)]
pub(super) enum Op {
    /// Writes a whole record; `existing` is its row when its key is known.
    Write {
        source: Source,
        existing: Option<usize>,
        cells: Vec<Cell>,
    },
    Delete {
        source: Source,
        row: usize,
    },
}

impl Op {
    pub(super) fn source(&self) -> Source {
        match self {
            Op::Write { source, .. } | Op::Delete { source, .. } => *source,
        }
    }
}

/// Parses and checks change `index` against the records as they are.
pub(super) fn prepare(
    data: &Dataset,
    settings: &Settings,
    index: usize,
    change: &Change,
) -> Result<Op, Vec<Diagnostic>> {
    let source = change.source();
    let at = |code: &'static str, field: Option<&str>, message: String, fix: String| {
        let d = Diagnostic::error(source.name(), 0, 0, message).code(code).fix(fix);
        let d = Diagnostic { origin: Origin::Change(index), ..d };
        match field {
            Some(f) => d.field(f),
            None => d,
        }
    };
    match change {
        Change::Upsert { fields, .. } => {
            let texts = overlay(source, vec![String::new(); source.def().fields.len()], fields, None)
                .map_err(|(code, field, message, fix)| vec![at(code, Some(&field), message, fix)])?;
            write(data, settings, source, texts, index)
        }
        Change::Update { key, fields, .. } => {
            let row = find(data, settings, source, key)
                .map_err(|(message, fix)| vec![at("change.unknown_record", None, message, fix)])?;
            let texts = overlay(source, data.row_texts(source, row), fields, Some(key))
                .map_err(|(code, field, message, fix)| vec![at(code, Some(&field), message, fix)])?;
            write(data, settings, source, texts, index)
        }
        Change::Delete { key, .. } => {
            let row = find(data, settings, source, key)
                .map_err(|(message, fix)| vec![at("change.unknown_record", None, message, fix)])?;
            if matches!(source, Source::People | Source::Teams) {
                let fix = match source {
                    Source::People => "set left_at: the person's history stays, and they are no longer active",
                    _ => "move its people to another team and leave it empty",
                };
                let message = format!("{} are not deleted", source.name());
                return Err(vec![at("change.cannot_delete", None, message, fix.to_string())]);
            }
            if let Some((referrer, ids)) = referred_by(data, source, row) {
                let message = format!(
                    "{} {} is referred to by {referrer} {}",
                    source.name(),
                    data.table(source).key_text(row),
                    ids.join(", ")
                );
                let fix = format!("delete or change those {referrer} first");
                return Err(vec![at("change.record_in_use", None, message, fix)]);
            }
            Ok(Op::Delete { source, row })
        }
    }
}

type Refusal = (&'static str, String, String, String);

/// Puts the given `(field, text)` pairs over a row of texts in schema order. An update
/// (`key` given) may not change the natural key.
fn overlay(
    source: Source,
    mut texts: Vec<String>,
    fields: &[(String, String)],
    key: Option<&[String]>,
) -> Result<Vec<String>, Refusal> {
    let def = source.def();
    let mut seen = vec![false; def.fields.len()];
    for (name, value) in fields {
        let Some(f) = def.field_index(name.trim()) else {
            let names: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
            let fix = match closest(name, names.iter().copied()) {
                Some(meant) => format!("did you mean {meant}?"),
                None => format!("use one of {}", names.join(", ")),
            };
            return Err((
                "change.unknown_field",
                name.clone(),
                format!("{} has no field `{name}`", source.name()),
                fix,
            ));
        };
        if std::mem::replace(&mut seen[f], true) {
            let message = format!("field {name} is given twice");
            return Err(("change.duplicate_field", name.clone(), message, "give each field once".into()));
        }
        if key.is_some() && def.key.contains(&def.fields[f].name) && texts[f] != *value {
            let message = format!("an update cannot change the natural key {name}");
            let fix = "delete the record and add it under the new key".to_string();
            return Err(("change.key_changed", name.clone(), message, fix));
        }
        texts[f] = value.clone();
    }
    Ok(texts)
}

/// Parses a whole row of texts as the CSV import does, and checks what rows of a file are
/// checked for against the records (overlapping memberships).
fn write(
    data: &Dataset,
    settings: &Settings,
    source: Source,
    texts: Vec<String>,
    index: usize,
) -> Result<Op, Vec<Diagnostic>> {
    let cells = parse_row(data, settings, source, &texts).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| Diagnostic {
                origin: Origin::Change(index),
                ..Diagnostic::error(source.name(), 0, 0, e.message).code(e.code).field(e.field).fix(e.fix)
            })
            .collect::<Vec<_>>()
    })?;
    let existing = data.table(source).find_cells(&cells);
    if source == Source::Memberships
        && let Some(message) = membership_overlap(data, existing, &cells)
    {
        let fix = "end the earlier membership (to) at or before the next one's from".to_string();
        let d = Diagnostic::error(source.name(), 0, 0, message).code("change.overlapping_membership").field("from");
        return Err(vec![Diagnostic { origin: Origin::Change(index), ..d.fix(fix) }]);
    }
    Ok(Op::Write { source, existing, cells })
}

/// Parses one row (texts in schema order) into the cells a table takes.
fn parse_row(
    data: &Dataset,
    settings: &Settings,
    source: Source,
    texts: &[String],
) -> Result<Vec<Cell>, Vec<FieldError>> {
    let columns = (0..texts.len()).map(Some).collect();
    let mut builder = BatchBuilder::new(source, columns, data.tables(), &settings.tz, &settings.custom_roles);
    let cells: Vec<&str> = texts.iter().map(String::as_str).collect();
    builder.push_row(&cells)?;
    Ok(batch_cells(builder.finish()))
}

/// The cells of the one row of a batch.
fn batch_cells(batch: RowBatch) -> Vec<Cell> {
    let int = |v: i64| if v == NULL { Cell::Null } else { Cell::Int(v) };
    batch
        .columns
        .into_iter()
        .map(|column| match column {
            BatchColumn::Ints(v) => int(v[0]),
            BatchColumn::Coded { codes, labels } => match codes[0] {
                NULL => Cell::Null,
                c => Cell::Text(labels.get(c as u32).into_owned()),
            },
            BatchColumn::Text(t) => t.get(0).map_or(Cell::Null, |s| Cell::Text(s.to_string())),
            BatchColumn::Keys { values, shape, labels } => match (values[0], shape) {
                (NULL, _) => Cell::Null,
                (v, Some((prefix, width))) if v >= 0 => Cell::Text(format!("{prefix}{v:0width$}")),
                (v, _) => Cell::Text(labels.get((-v - 2) as u32).into_owned()),
            },
        })
        .collect()
}

/// The row of the record with these natural-key values, or what to say when there is none.
fn find(data: &Dataset, settings: &Settings, source: Source, key: &[String]) -> Result<usize, (String, String)> {
    let def = source.def();
    let table = data.table(source);
    let names = def.key.join(", ");
    if key.len() != def.key.len() {
        return Err((
            format!("{} are found by {names}; {} value(s) were given", source.name(), key.len()),
            format!("give the values of {names}"),
        ));
    }
    let missing = || (format!("no {} record {}", source.name(), key.join(" / ")), format!("check the {names}"));
    if let [id] = key {
        return table.find(id.trim()).ok_or_else(missing);
    }
    // A composite key (memberships: person and `from`): parsed like the fields.
    let mut cells = vec![Cell::Null; def.fields.len()];
    for (name, text) in def.key.iter().zip(key) {
        let f = def.field_index(name).expect("key field");
        let value = match def.fields[f].ty {
            FieldType::Ref(target) => data.table(target).find(text.trim()).map(|r| r as i64),
            FieldType::Instant => TimeParser::default().parse(text.trim()).map(|p| settings.tz.resolve(p)),
            _ => None,
        };
        cells[f] = Cell::Int(value.ok_or_else(missing)?);
    }
    table.find_cells(&cells).filter(|&r| !table.is_deleted(r)).ok_or_else(missing)
}

/// A membership that the one in `cells` (replacing row `existing`) overlaps, described.
fn membership_overlap(data: &Dataset, existing: Option<usize>, cells: &[Cell]) -> Option<String> {
    let table = data.table(Source::Memberships);
    let def = Source::Memberships.def();
    let field = |name: &str| def.field_index(name).expect("schema");
    let (pf, ff, tf) = (field("person_id"), field("from"), field("to"));
    let int = |c: &Cell| if let Cell::Int(v) = c { *v } else { NULL };
    let end = |v: i64| if v == NULL { i64::MAX } else { v };
    let (person, from, to) = (int(&cells[pf]), int(&cells[ff]), end(int(&cells[tf])));
    (0..table.len())
        .filter(|&r| Some(r) != existing && table.int(pf, r) == person && person != NULL)
        .find(|&r| table.int(ff, r) < to && from < end(table.int(tf, r)))
        .map(|r| {
            format!(
                "membership of {} overlaps the one from {}",
                data.table(Source::People).key_text(person as usize),
                crate::time::format_utc(table.int(ff, r))
            )
        })
}

/// Records of another table that refer to row `row` of `source`: that table and the
/// first few ids.
fn referred_by(data: &Dataset, source: Source, row: usize) -> Option<(&'static str, Vec<String>)> {
    for other in Source::ALL {
        let table = data.table(other);
        for (f, field) in other.def().fields.iter().enumerate() {
            if field.ty != FieldType::Ref(source) {
                continue;
            }
            let rows: Vec<usize> = (0..table.len()).filter(|&r| table.int(f, r) == row as i64).take(4).collect();
            if !rows.is_empty() {
                let mut ids: Vec<String> = rows.iter().take(3).map(|&r| table.key_text(r)).collect();
                if rows.len() > 3 {
                    ids.push("…".into());
                }
                return Some((other.name(), ids));
            }
        }
    }
    None
}
