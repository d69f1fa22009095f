//! Interning of keys (natural ids, customer ids, dictionary labels) to dense `u32` codes.
//!
//! Keys that share a prefix followed by a number (`T000123`, `C98765`) — the usual shape
//! of CRM ids — are held as the number alone (8 bytes instead of the string plus an
//! offset); any other key switches the interner to plain strings.

use std::borrow::Cow;

use hashbrown::HashTable;

#[derive(Clone, Debug)]
enum Keys {
    /// `prefix` followed by the value written with at least `width` digits (zero-padded).
    Numeric {
        prefix: String,
        width: usize,
        values: Vec<u64>,
    },
    Strings {
        bytes: String,
        ends: Vec<u32>,
    },
}

#[derive(Clone, Debug)]
pub struct Interner {
    keys: Keys,
    table: HashTable<u32>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner { keys: Keys::Strings { bytes: String::new(), ends: Vec::new() }, table: HashTable::new() }
    }
}

fn hash_str(s: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5EED).hash_one(s)
}

fn hash_u64(v: u64) -> u64 {
    // A strong 64-bit mix; numeric ids are often sequential.
    let mut z = v.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Splits `T000123` into (`T`, `000123`, 123) when the key is a prefix and a number.
fn split_numeric(key: &str) -> Option<(&str, &str, u64)> {
    let digits_start = key.len() - key.bytes().rev().take_while(u8::is_ascii_digit).count();
    let digits = &key[digits_start..];
    if digits.is_empty() || digits.len() > 18 || digits_start > 24 {
        return None;
    }
    Some((&key[..digits_start], digits, digits.parse().ok()?))
}

impl Interner {
    /// An interner that starts in the compact numeric form.
    pub fn new() -> Interner {
        Interner {
            keys: Keys::Numeric { prefix: String::new(), width: 0, values: Vec::new() },
            table: HashTable::new(),
        }
    }

    pub fn with_capacity(n: usize) -> Interner {
        let mut i = Interner::new();
        i.table.reserve(n, |_| 0);
        i
    }

    pub fn len(&self) -> usize {
        match &self.keys {
            Keys::Numeric { values, .. } => values.len(),
            Keys::Strings { ends, .. } => ends.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, code: u32) -> Cow<'_, str> {
        match &self.keys {
            Keys::Numeric { prefix, width, values } => Cow::Owned(format!("{prefix}{:0width$}", values[code as usize])),
            Keys::Strings { bytes, ends } => {
                let i = code as usize;
                let start = if i == 0 { 0 } else { ends[i - 1] as usize };
                Cow::Borrowed(&bytes[start..ends[i] as usize])
            }
        }
    }

    /// The numeric value of `key` if the interner is numeric and `key` has its shape.
    fn numeric_value(&self, key: &str) -> Option<u64> {
        let Keys::Numeric { prefix, width, values } = &self.keys else {
            return None;
        };
        let (p, digits, value) = split_numeric(key)?;
        let fits_shape = if values.is_empty() {
            true
        } else {
            p == prefix && (digits.len() == *width || (digits.len() > *width && !digits.starts_with('0')))
        };
        fits_shape.then_some(value)
    }

    pub fn find(&self, key: &str) -> Option<u32> {
        match &self.keys {
            Keys::Numeric { values, .. } => {
                let v = self.numeric_value(key)?;
                self.table.find(hash_u64(v), |&c| values[c as usize] == v).copied()
            }
            Keys::Strings { .. } => self.table.find(hash_str(key), |&c| self.get(c) == key).copied(),
        }
    }

    /// The code of `key`, adding it if new; the flag says whether it was added.
    pub fn intern(&mut self, key: &str) -> (u32, bool) {
        if let Some(code) = self.find(key) {
            return (code, false);
        }
        let code = self.len() as u32;
        if matches!(self.keys, Keys::Numeric { .. }) {
            match self.numeric_value(key) {
                Some(v) => {
                    if let Keys::Numeric { prefix, width, values } = &mut self.keys {
                        if values.is_empty() {
                            let (p, digits, _) = split_numeric(key).expect("checked");
                            *prefix = p.to_string();
                            *width = digits.len();
                        }
                        values.push(v);
                        let values = &*values;
                        self.table.insert_unique(hash_u64(v), code, |&c| hash_u64(values[c as usize]));
                    }
                    return (code, true);
                }
                None => self.switch_to_strings(),
            }
        }
        if let Keys::Strings { bytes, ends } = &mut self.keys {
            bytes.push_str(key);
            ends.push(bytes.len() as u32);
        }
        let hash = hash_str(key);
        let keys = &self.keys;
        self.table.insert_unique(hash, code, |&c| hash_str(&key_of(keys, c)));
        (code, true)
    }

    fn switch_to_strings(&mut self) {
        let n = self.len();
        let mut bytes = String::new();
        let mut ends = Vec::with_capacity(n);
        for code in 0..n {
            bytes.push_str(&self.get(code as u32));
            ends.push(bytes.len() as u32);
        }
        self.keys = Keys::Strings { bytes, ends };
        let keys = &self.keys;
        let mut table = HashTable::with_capacity(n);
        for code in 0..n as u32 {
            table.insert_unique(hash_str(&key_of(keys, code)), code, |&c| hash_str(&key_of(keys, c)));
        }
        self.table = table;
    }

    pub fn heap_bytes(&self) -> usize {
        let keys = match &self.keys {
            Keys::Numeric { values, prefix, .. } => values.capacity() * 8 + prefix.capacity(),
            Keys::Strings { bytes, ends } => bytes.capacity() + ends.capacity() * 4,
        };
        // hashbrown: one control byte per bucket (+ a group) and the u32 payload.
        keys + self.table.capacity().next_power_of_two() * 8 / 7 * 5
    }

    pub fn shrink_to_fit(&mut self) {
        match &mut self.keys {
            Keys::Numeric { values, .. } => values.shrink_to_fit(),
            Keys::Strings { bytes, ends } => {
                bytes.shrink_to_fit();
                ends.shrink_to_fit();
            }
        }
        let keys = &self.keys;
        self.table.shrink_to_fit(|&c| match keys {
            Keys::Numeric { values, .. } => hash_u64(values[c as usize]),
            Keys::Strings { .. } => hash_str(&key_of(keys, c)),
        });
    }
}

fn key_of(keys: &Keys, code: u32) -> Cow<'_, str> {
    match keys {
        Keys::Numeric { prefix, width, values } => Cow::Owned(format!("{prefix}{:0width$}", values[code as usize])),
        Keys::Strings { bytes, ends } => {
            let i = code as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] as usize };
            Cow::Borrowed(&bytes[start..ends[i] as usize])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_keys_stay_compact_and_others_switch_to_strings() {
        let mut i = Interner::new();
        assert_eq!(i.intern("T000001"), (0, true));
        assert_eq!(i.intern("T000002"), (1, true));
        assert_eq!(i.intern("T000001"), (0, false));
        assert_eq!(i.intern("T1000000"), (2, true));
        assert!(matches!(i.keys, Keys::Numeric { .. }));
        assert_eq!(i.find("T1"), None);
        assert_eq!(i.find("T000002"), Some(1));
        // A key of another shape: all keys become strings, codes stay.
        assert_eq!(i.intern("工单-甲"), (3, true));
        assert!(matches!(i.keys, Keys::Strings { .. }));
        assert_eq!(i.intern("T1"), (4, true));
        assert_eq!((i.get(0).as_ref(), i.get(2).as_ref(), i.get(3).as_ref()), ("T000001", "T1000000", "工单-甲"));
        assert_eq!(i.find("T000002"), Some(1));
    }

    #[test]
    fn leading_zero_variants_are_distinct_keys() {
        let mut i = Interner::new();
        i.intern("7");
        assert_eq!(i.intern("07"), (1, true));
        assert_eq!(i.intern("7"), (0, false));
        assert_eq!(i.get(1), "07");
    }
}
