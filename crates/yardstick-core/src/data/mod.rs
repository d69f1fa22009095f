//! The records in memory: one columnar [`Table`] per source, the shared customer key
//! space, and the organisation structure derived from teams, people and memberships.

mod builder;
pub mod column;
pub mod interner;
mod org;
mod table;

pub use builder::{BatchBuilder, FieldError, map_header, parse_bool, parse_decimal, parse_instant};
pub use column::{IntColumn, NULL, TextColumn};
pub use interner::Interner;
pub use org::{Membership, Org, TeamIx};
pub use table::{BatchColumn, Cell, Column, RowBatch, Table};

use crate::schema::{FieldType, KeySpace, Source};

/// All records of an organisation.
#[derive(Clone, Debug)]
pub struct Dataset {
    tables: Vec<Table>,
    pub customers: Interner,
}

impl Default for Dataset {
    fn default() -> Self {
        Dataset::new()
    }
}

impl Dataset {
    pub fn new() -> Dataset {
        Dataset { tables: Source::ALL.iter().map(|&s| Table::new(s)).collect(), customers: Interner::new() }
    }

    pub fn table(&self, source: Source) -> &Table {
        &self.tables[source.index()]
    }

    pub fn table_mut(&mut self, source: Source) -> &mut Table {
        &mut self.tables[source.index()]
    }

    /// Appends parsed rows. `Key` fields (customer ids) arrive as labels and are interned
    /// into the dataset's key space here.
    pub fn append_batch(&mut self, source: Source, mut batch: RowBatch) {
        for (field, def) in source.def().fields.iter().enumerate() {
            if let FieldType::Key(KeySpace::Customers) = def.ty
                && let BatchColumn::Coded { codes, labels } = &batch.columns[field]
            {
                self.customers.reserve(labels.len());
                // Only keys that rows use (a rolled-back row may have left a label).
                let mut remap: Vec<i64> = vec![NULL; labels.len()];
                let customers = &mut self.customers;
                let ints = codes
                    .iter()
                    .map(|&c| {
                        if c == NULL {
                            return NULL;
                        }
                        let slot = &mut remap[c as usize];
                        if *slot == NULL {
                            *slot = customers.intern_from(labels, c as u32).0 as i64;
                        }
                        *slot
                    })
                    .collect();
                batch.columns[field] = BatchColumn::Ints(ints);
            }
        }
        self.tables[source.index()].append_batch(batch);
    }

    /// Adds or replaces one record (by its natural key). Key fields (customer ids) may come
    /// as text; references as row indices. Returns the row and the previous cells.
    pub fn upsert(&mut self, source: Source, mut cells: Vec<Cell>) -> (usize, Option<Vec<Cell>>) {
        for (field, def) in source.def().fields.iter().enumerate() {
            if let (FieldType::Key(KeySpace::Customers), Cell::Text(label)) = (def.ty, &cells[field]) {
                cells[field] = Cell::Int(self.customers.intern(label).0 as i64);
            }
        }
        self.tables[source.index()].upsert(cells)
    }

    /// Bytes held on the heap by all records and their indexes.
    pub fn heap_bytes(&self) -> usize {
        self.tables.iter().map(Table::heap_bytes).sum::<usize>() + self.customers.heap_bytes()
    }

    pub fn shrink_to_fit(&mut self) {
        for t in &mut self.tables {
            t.shrink_to_fit();
        }
        self.customers.shrink_to_fit();
    }
}
