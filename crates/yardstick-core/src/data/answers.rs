//! Per-record answers of `exists` conditions, kept with the records they were worked out
//! from.
//!
//! An answer depends only on the records (and the settings, which are part of its key), so
//! it is worked out once — when the data is loaded ([`crate::engine::Engine::prepare`]) or
//! by the first computation that needs it — and read by every later computation. Any
//! change to the records drops them all, except through [`crate::engine::Live`], which
//! takes them out before an upsert and puts them back with the affected records' answers
//! worked out again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// One byte per row of the table the condition is asked of (1 = true), by key.
pub type AnswerMap = HashMap<String, Arc<Vec<u8>>>;

#[derive(Debug, Default)]
pub struct Answers {
    map: Mutex<AnswerMap>,
}

impl Clone for Answers {
    fn clone(&self) -> Self {
        Answers { map: Mutex::new(self.lock().clone()) }
    }
}

impl Answers {
    fn lock(&self) -> MutexGuard<'_, AnswerMap> {
        // A panic while the map was held cannot leave it half-written: every change is one
        // `insert` or `take`.
        self.map.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.lock().get(key).cloned()
    }

    pub fn insert(&self, key: String, answers: Arc<Vec<u8>>) {
        self.lock().insert(key, answers);
    }

    /// A copy of every answer (the vectors shared).
    pub fn to_map(&self) -> AnswerMap {
        self.lock().clone()
    }

    /// Takes every answer out (the records are about to change).
    pub fn take(&mut self) -> AnswerMap {
        std::mem::take(self.map.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Drops every answer (to measure working them out again, say).
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn heap_bytes(&self) -> usize {
        self.lock().iter().map(|(k, v)| k.capacity() + v.capacity()).sum()
    }
}
