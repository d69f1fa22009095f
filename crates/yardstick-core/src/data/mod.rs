//! The records in memory: one columnar [`Table`] per source, the shared customer key
//! space, and the organisation structure derived from teams, people and memberships.

mod answers;
mod builder;
mod cell;
pub mod column;
pub mod interner;
mod keys;
mod org;
mod render;
mod table;

pub use answers::{AnswerMap, Answers};
pub use builder::{BatchBuilder, FieldError, map_header};
pub use cell::{parse_bool, parse_decimal};
pub use column::{IntColumn, NULL, TextColumn};
pub use interner::Interner;
pub use keys::KeySpace;
pub use org::{Membership, Org, TeamIx};
pub use table::{BatchColumn, Cell, Column, RowBatch, Table};

use crate::schema::{FieldType, KeySpace as Space, Source};

/// Where an import appends: the table of one source and the customer key space.
#[derive(Debug)]
pub struct Importer<'a> {
    source: Source,
    table: &'a mut Table,
    customers: &'a mut KeySpace,
}

impl Importer<'_> {
    /// Rows in the table.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Reserves room for `rows` more rows (a large import knows its size early).
    pub fn reserve(&mut self, rows: usize) {
        self.table.reserve(rows);
    }

    /// Appends parsed rows. `Key` fields (customer ids) arrive as labels and are interned
    /// into the dataset's key space here.
    pub fn append_batch(&mut self, mut batch: RowBatch) {
        for (field, def) in self.source.def().fields.iter().enumerate() {
            if let FieldType::Key(Space::Customers) = def.ty
                && let BatchColumn::Keys { values, shape, labels } = &batch.columns[field]
            {
                let customers = &mut *self.customers;
                let direct = shape.as_ref().is_some_and(|(prefix, width)| customers.adopt_shape(prefix, *width));
                let mut label_codes: Vec<i64> = vec![NULL; labels.len()];
                let ints = values
                    .iter()
                    .map(|&v| match v {
                        NULL => NULL,
                        v if v >= 0 && direct => customers.intern_number(v as u64) as i64,
                        v if v >= 0 => {
                            let (prefix, width) = shape.as_ref().expect("numbers come with a shape");
                            customers.intern(&format!("{prefix}{v:0width$}")) as i64
                        }
                        v => {
                            let c = (-v - 2) as usize;
                            if label_codes[c] == NULL {
                                label_codes[c] = customers.intern(&labels.get(c as u32)) as i64;
                            }
                            label_codes[c]
                        }
                    })
                    .collect();
                batch.columns[field] = BatchColumn::Ints(ints);
            }
        }
        self.table.append_batch(batch);
    }
}

/// All records of an organisation.
#[derive(Clone, Debug)]
pub struct Dataset {
    tables: Vec<Table>,
    pub customers: KeySpace,
    /// The `exists` answers worked out from these records (dropped when they change).
    pub answers: Answers,
}

impl Default for Dataset {
    fn default() -> Self {
        Dataset::new()
    }
}

/// Read access to some tables: all of a dataset's, or only those before a source (what
/// rows of that source can refer to — the schema orders tables by dependency).
#[derive(Clone, Copy, Debug)]
pub struct Tables<'a> {
    tables: &'a [Table],
}

impl<'a> Tables<'a> {
    /// A table; panics for a table this view does not include (a schema bug).
    pub fn table(&self, source: Source) -> &'a Table {
        &self.tables[source.index()]
    }
}

impl Dataset {
    /// Read access to every table.
    pub fn tables(&self) -> Tables<'_> {
        Tables { tables: &self.tables }
    }

    /// Splits the dataset for importing into `source`: read access to the tables before it
    /// (for references) while it and the customer keys take new rows.
    pub fn split_for_import(&mut self, source: Source) -> (Tables<'_>, Importer<'_>) {
        self.answers.take();
        let (before, rest) = self.tables.split_at_mut(source.index());
        (Tables { tables: before }, Importer { source, table: &mut rest[0], customers: &mut self.customers })
    }

    pub fn new() -> Dataset {
        Dataset {
            tables: Source::ALL.iter().map(|&s| Table::new(s)).collect(),
            customers: KeySpace::default(),
            answers: Answers::default(),
        }
    }

    pub fn table(&self, source: Source) -> &Table {
        &self.tables[source.index()]
    }

    pub fn table_mut(&mut self, source: Source) -> &mut Table {
        self.answers.take();
        &mut self.tables[source.index()]
    }

    /// Appends parsed rows. `Key` fields (customer ids) arrive as labels and are interned
    /// into the dataset's key space here.
    pub fn append_batch(&mut self, source: Source, batch: RowBatch) {
        self.split_for_import(source).1.append_batch(batch);
    }

    /// Adds or replaces one record (by its natural key). Key fields (customer ids) may come
    /// as text; references as row indices. Returns the row and the previous cells.
    /// The `exists` answers are dropped ([`crate::engine::Live`] keeps them up to date).
    pub fn upsert(&mut self, source: Source, mut cells: Vec<Cell>) -> (usize, Option<Vec<Cell>>) {
        self.answers.take();
        for (field, def) in source.def().fields.iter().enumerate() {
            if let (FieldType::Key(Space::Customers), Cell::Text(label)) = (def.ty, &cells[field]) {
                cells[field] = Cell::Int(self.customers.intern(label) as i64);
            }
        }
        self.tables[source.index()].upsert(cells)
    }

    /// Deletes a record (see [`Table::delete`]); returns the cells it had. The `exists`
    /// answers are dropped, as by [`Dataset::upsert`].
    pub fn delete(&mut self, source: Source, row: usize) -> Vec<Cell> {
        self.answers.take();
        self.tables[source.index()].delete(row)
    }

    /// Bytes held on the heap by all records, their indexes and the `exists` answers.
    pub fn heap_bytes(&self) -> usize {
        self.tables.iter().map(Table::heap_bytes).sum::<usize>()
            + self.customers.heap_bytes()
            + self.answers.heap_bytes()
    }

    pub fn shrink_to_fit(&mut self) {
        for t in &mut self.tables {
            t.shrink_to_fit();
        }
        self.customers.shrink_to_fit();
    }
}
