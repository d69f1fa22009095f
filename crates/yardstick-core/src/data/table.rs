//! A source table held as columns, with its natural-key index and per-field dictionaries.
//! Rows are added or updated (upsert by natural key); a row's index never changes, so
//! references from other tables stay valid.

use std::borrow::Cow;
use std::collections::HashMap;

use super::column::{IntColumn, NULL, TextColumn};
use super::interner::Interner;
use crate::schema::{FieldType, Source, TableDef};

/// The storage of one field.
#[derive(Clone, Debug)]
pub enum Column {
    /// Instants, integers, decimals (millionths), booleans (0/1), row references, keys.
    Int(IntColumn),
    /// Enums, categories and period labels: codes into a dictionary.
    Coded {
        codes: IntColumn,
        dict: Interner,
    },
    Text(TextColumn),
    /// The natural key (`*_id`): row `i` has key `i` of the interner.
    Id(Interner),
}

/// One cell of a row as it enters a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Null,
    /// Instants, integers, decimals in millionths, booleans as 0/1, resolved references.
    Int(i64),
    /// Ids, enum and category labels, text.
    Text(String),
}

/// Rows to be appended in one go (what a parser produces for a chunk of a file).
#[derive(Debug, Default)]
pub struct RowBatch {
    pub len: usize,
    /// One per field of the table, in schema order.
    pub columns: Vec<BatchColumn>,
}

impl RowBatch {
    /// Keeps the rows whose flag is true.
    pub fn retain(&mut self, keep: &[bool]) {
        for column in &mut self.columns {
            match column {
                BatchColumn::Ints(v) | BatchColumn::Coded { codes: v, .. } | BatchColumn::Keys { values: v, .. } => {
                    let mut i = 0;
                    v.retain(|_| {
                        i += 1;
                        keep[i - 1]
                    });
                }
                BatchColumn::Text(t) => {
                    let mut kept = TextColumn::default();
                    for (row, &k) in keep.iter().enumerate() {
                        if k {
                            kept.push(t.get(row));
                        }
                    }
                    *t = kept;
                }
            }
        }
        self.len = keep.iter().filter(|&&k| k).count();
    }

    /// The values of an Int-like column of the batch.
    pub fn ints(&self, field: usize) -> Option<&[i64]> {
        match &self.columns[field] {
            BatchColumn::Ints(v) => Some(v),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub enum BatchColumn {
    /// Values of Int-like fields; already resolved (references are row indices).
    Ints(Vec<i64>),
    /// Codes into the batch's own dictionary `labels` (NULL for empty).
    Coded {
        codes: Vec<i64>,
        labels: Interner,
    },
    Text(TextColumn),
    /// Customer keys: the number of a numeric key of `shape` (≥ 0), or `−(code + 2)` of a
    /// key in `labels`, or NULL.
    Keys {
        values: Vec<i64>,
        shape: Option<(String, usize)>,
        labels: Interner,
    },
}

#[derive(Clone, Debug)]
enum KeyIndex {
    /// The `Id` column at this field index holds the keys.
    Id(usize),
    /// A composite key of Int fields (memberships: person_id + from).
    Composite { fields: Vec<usize>, index: HashMap<Vec<i64>, u32> },
}

#[derive(Clone, Debug)]
pub struct Table {
    pub source: Source,
    len: usize,
    pub columns: Vec<Column>,
    key: KeyIndex,
    /// Deleted rows: every field empty but the id, kept so that row indexes never change;
    /// [`Table::find`] does not see them, and an upsert of the same key brings the row back.
    deleted: std::collections::BTreeSet<u32>,
}

impl Table {
    pub fn new(source: Source) -> Table {
        let def = source.def();
        let columns = def
            .fields
            .iter()
            .map(|f| match f.ty {
                FieldType::Id => Column::Id(Interner::new()),
                FieldType::Enum(values) => {
                    let mut dict = Interner::default();
                    for v in values {
                        dict.intern(v);
                    }
                    Column::Coded { codes: IntColumn::default(), dict }
                }
                FieldType::Category | FieldType::Period => {
                    Column::Coded { codes: IntColumn::default(), dict: Interner::default() }
                }
                FieldType::Text => Column::Text(TextColumn::default()),
                _ => Column::Int(IntColumn::default()),
            })
            .collect();
        let key = match def.key {
            [single] if matches!(def.field(single).map(|f| f.ty), Some(FieldType::Id)) => {
                KeyIndex::Id(def.field_index(single).expect("key field"))
            }
            fields => KeyIndex::Composite {
                fields: fields.iter().map(|f| def.field_index(f).expect("key field")).collect(),
                index: HashMap::new(),
            },
        };
        Table { source, len: 0, columns, key, deleted: Default::default() }
    }

    pub fn def(&self) -> &'static TableDef {
        self.source.def()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn column(&self, field: &str) -> &Column {
        &self.columns[self
            .def()
            .field_index(field)
            .unwrap_or_else(|| panic!("{}.{field} is not in the schema", self.def().name))]
    }

    /// The Int column of a field (instants, numbers, booleans, references, keys).
    pub fn ints(&self, field: &str) -> &IntColumn {
        match self.column(field) {
            Column::Int(c) | Column::Coded { codes: c, .. } => c,
            _ => panic!("{field} is not a number-like field"),
        }
    }

    /// The value of an Int-like or coded field at a row ([`NULL`] when empty).
    pub fn int(&self, field: usize, row: usize) -> i64 {
        match &self.columns[field] {
            Column::Int(c) | Column::Coded { codes: c, .. } => c.get(row),
            Column::Id(_) => row as i64,
            Column::Text(_) => NULL,
        }
    }

    /// The text of a field at a row: the id, the label of a code, the text; None if empty.
    pub fn text(&self, field: usize, row: usize) -> Option<Cow<'_, str>> {
        match &self.columns[field] {
            Column::Id(ids) => Some(ids.get(row as u32)),
            Column::Coded { codes, dict } => {
                let c = codes.get(row);
                (c != NULL).then(|| dict.get(c as u32))
            }
            Column::Text(t) => t.get(row).map(Cow::Borrowed),
            Column::Int(_) => None,
        }
    }

    /// The natural key of a row, as written in files.
    pub fn key_text(&self, row: usize) -> String {
        match &self.key {
            KeyIndex::Id(field) => self.text(*field, row).map(|c| c.into_owned()).unwrap_or_default(),
            KeyIndex::Composite { fields, .. } => {
                fields.iter().map(|&f| self.int(f, row).to_string()).collect::<Vec<_>>().join("/")
            }
        }
    }

    /// The row with natural key `key` (single-field keys only); not a deleted one.
    pub fn find(&self, key: &str) -> Option<usize> {
        match &self.key {
            KeyIndex::Id(field) => match &self.columns[*field] {
                Column::Id(ids) => ids.find(key).map(|c| c as usize).filter(|&r| !self.is_deleted(r)),
                _ => None,
            },
            KeyIndex::Composite { .. } => None,
        }
    }

    /// Was this row deleted (and not brought back since)?
    pub fn is_deleted(&self, row: usize) -> bool {
        !self.deleted.is_empty() && self.deleted.contains(&(row as u32))
    }

    /// Does the table have deleted rows?
    pub fn has_deleted(&self) -> bool {
        !self.deleted.is_empty()
    }

    /// Rows that are not deleted.
    pub fn n_records(&self) -> usize {
        self.len - self.deleted.len()
    }

    /// Deletes a row: every field but the id becomes empty (a composite key's fields too,
    /// so the row belongs to no one), and [`Table::find`] no longer sees it. Returns the
    /// cells it had.
    pub fn delete(&mut self, row: usize) -> Vec<Cell> {
        let previous = self.row_cells(row);
        for field in 0..self.columns.len() {
            self.write(field, row, false, Cell::Null);
        }
        self.deleted.insert(row as u32);
        previous
    }

    /// The row that has the natural key of `cells`, if any.
    pub fn find_cells(&self, cells: &[Cell]) -> Option<usize> {
        match &self.key {
            KeyIndex::Id(field) => match &cells[*field] {
                Cell::Text(key) => self.find(key),
                _ => None,
            },
            KeyIndex::Composite { fields, index } => {
                let key: Vec<i64> =
                    fields.iter().map(|&f| if let Cell::Int(v) = cells[f] { v } else { NULL }).collect();
                index.get(&key).map(|&r| r as usize)
            }
        }
    }

    /// The code of a label in a coded field, if the label is known.
    pub fn code_of(&self, field: usize, label: &str) -> Option<i64> {
        match &self.columns[field] {
            Column::Coded { dict, .. } => dict.find(label).map(|c| c as i64),
            _ => None,
        }
    }

    /// Adds a row, or replaces the row with the same natural key. Returns the row index and
    /// the previous cells when it was an update.
    pub fn upsert(&mut self, cells: Vec<Cell>) -> (usize, Option<Vec<Cell>>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        let (row, new) = self.locate(&cells);
        let previous = (!new && !self.deleted.remove(&(row as u32))).then(|| self.row_cells(row));
        for (field, cell) in cells.into_iter().enumerate() {
            self.write(field, row, new, cell);
        }
        if new {
            self.len += 1;
        }
        (row, previous)
    }

    fn locate(&mut self, cells: &[Cell]) -> (usize, bool) {
        match &mut self.key {
            KeyIndex::Id(field) => {
                let Cell::Text(key) = &cells[*field] else { panic!("a row needs its id") };
                match &mut self.columns[*field] {
                    Column::Id(ids) => {
                        let (code, new) = ids.intern(key);
                        (code as usize, new)
                    }
                    _ => unreachable!("key field is an Id column"),
                }
            }
            KeyIndex::Composite { fields, index } => {
                let key: Vec<i64> =
                    fields.iter().map(|&f| if let Cell::Int(v) = cells[f] { v } else { NULL }).collect();
                let next = self.len as u32;
                let row = *index.entry(key).or_insert(next);
                (row as usize, row == next)
            }
        }
    }

    fn write(&mut self, field: usize, row: usize, new: bool, cell: Cell) {
        match &mut self.columns[field] {
            Column::Id(_) => {}
            Column::Int(c) => {
                let v = if let Cell::Int(v) = cell { v } else { NULL };
                if new { c.push(v) } else { c.set(row, v) }
            }
            Column::Coded { codes, dict } => {
                let v = match cell {
                    Cell::Text(label) => dict.intern(&label).0 as i64,
                    _ => NULL,
                };
                if new { codes.push(v) } else { codes.set(row, v) }
            }
            Column::Text(t) => {
                let text = if let Cell::Text(s) = &cell { Some(s.as_str()) } else { None };
                if new { t.push(text) } else { t.set(row, text) }
            }
        }
    }

    /// The cells of a row, as [`Table::upsert`] takes them.
    pub fn row_cells(&self, row: usize) -> Vec<Cell> {
        (0..self.columns.len())
            .map(|field| match &self.columns[field] {
                Column::Int(c) => match c.get(row) {
                    NULL => Cell::Null,
                    v => Cell::Int(v),
                },
                _ => self.text(field, row).map_or(Cell::Null, |t| Cell::Text(t.into_owned())),
            })
            .collect()
    }

    /// Appends a batch of rows in order; a key seen before (in the table or earlier in the
    /// batch) updates that row instead, so the last occurrence wins. Column-wise: a batch
    /// of new rows (the usual case of a first import) is appended without per-row work.
    pub fn append_batch(&mut self, batch: RowBatch) {
        let n = batch.len;
        let first_new = self.len;
        let targets = self.batch_targets(&batch);
        if !self.deleted.is_empty() {
            for t in &targets {
                self.deleted.remove(t);
            }
        }
        let n_new =
            targets.iter().filter(|&&t| t as usize >= first_new).max().map_or(0, |&t| t as usize + 1 - first_new);
        let contiguous = n_new == n && targets.iter().enumerate().all(|(i, &t)| t as usize == first_new + i);
        // Columns are independent: append them in parallel.
        use rayon::prelude::*;
        self.columns.par_iter_mut().zip(batch.columns.into_par_iter()).enumerate().for_each(|(field, (column, bc))| {
            let values: Option<Vec<i64>> = match (bc, &mut *column) {
                (_, Column::Id(_)) => None,
                (BatchColumn::Ints(v), Column::Int(_)) => Some(v),
                (BatchColumn::Coded { codes, labels }, Column::Coded { dict, .. }) => {
                    let remap: Vec<i64> =
                        (0..labels.len() as u32).map(|c| dict.intern_from(&labels, c).0 as i64).collect();
                    Some(codes.into_iter().map(|c| if c == NULL { NULL } else { remap[c as usize] }).collect())
                }
                (BatchColumn::Text(t), Column::Text(col)) => {
                    if contiguous {
                        col.append(&t);
                    } else {
                        for _ in 0..n_new {
                            col.push(None);
                        }
                        for (i, &row) in targets.iter().enumerate() {
                            col.set(row as usize, t.get(i));
                        }
                    }
                    None
                }
                (bc, _) => panic!("batch column {bc:?} does not match field {field}"),
            };
            if let (Some(values), Column::Int(ints) | Column::Coded { codes: ints, .. }) = (values, column) {
                if contiguous {
                    ints.extend(&values);
                } else {
                    ints.extend(&vec![NULL; n_new]);
                    for (i, &row) in targets.iter().enumerate() {
                        ints.set(row as usize, values[i]);
                    }
                }
            }
        });
        self.len += n_new;
    }

    /// The row each batch row goes to (new keys get the next free rows, in order).
    fn batch_targets(&mut self, batch: &RowBatch) -> Vec<u32> {
        match &mut self.key {
            KeyIndex::Id(field) => {
                let BatchColumn::Coded { codes, labels } = &batch.columns[*field] else {
                    panic!("the id column of a batch is coded")
                };
                let Column::Id(ids) = &mut self.columns[*field] else { unreachable!("key field is an Id column") };
                ids.reserve(labels.len());
                // Intern only the keys rows use (a rolled-back row may have left a label),
                // in the order rows first use them: new keys get the next rows.
                let mut remap: Vec<u32> = vec![u32::MAX; labels.len()];
                codes
                    .iter()
                    .map(|&c| {
                        let slot = &mut remap[c as usize];
                        if *slot == u32::MAX {
                            *slot = ids.intern_from(labels, c as u32).0;
                        }
                        *slot
                    })
                    .collect()
            }
            KeyIndex::Composite { fields, index } => (0..batch.len)
                .map(|i| {
                    let key: Vec<i64> = fields
                        .iter()
                        .map(|&f| if let BatchColumn::Ints(v) = &batch.columns[f] { v[i] } else { NULL })
                        .collect();
                    // Every row has one key, so the index size is the row count including the
                    // rows this batch has added so far.
                    let next = index.len() as u32;
                    *index.entry(key).or_insert(next)
                })
                .collect(),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        let key = match &self.key {
            KeyIndex::Id(_) => 0,
            KeyIndex::Composite { index, .. } => index.len() * 48,
        };
        key + self
            .columns
            .iter()
            .map(|c| match c {
                Column::Int(c) => c.heap_bytes(),
                Column::Coded { codes, dict } => codes.heap_bytes() + dict.heap_bytes(),
                Column::Text(t) => t.heap_bytes(),
                Column::Id(ids) => ids.heap_bytes(),
            })
            .sum::<usize>()
    }

    /// Reserves room for `rows` more rows in the columns that hold every row.
    pub fn reserve(&mut self, rows: usize) {
        for c in &mut self.columns {
            match c {
                Column::Int(c) | Column::Coded { codes: c, .. } => c.reserve(rows),
                Column::Id(ids) => ids.reserve(rows),
                Column::Text(_) => {}
            }
        }
    }

    pub fn shrink_to_fit(&mut self) {
        for c in &mut self.columns {
            match c {
                Column::Int(c) => c.shrink_to_fit(),
                Column::Coded { codes, dict } => {
                    codes.shrink_to_fit();
                    dict.shrink_to_fit();
                }
                Column::Id(ids) => ids.shrink_to_fit(),
                Column::Text(_) => {}
            }
        }
    }
}
