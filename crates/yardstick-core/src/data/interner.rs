//! Interning of keys (natural ids, customer ids, dictionary labels) to dense `u32` codes.
//!
//! Keys that share a prefix followed by a number (`T000123`, `C98765`) — the usual shape
//! of CRM ids — are held as the number alone (8 bytes instead of the string plus an
//! offset). While such keys arrive in increasing order (an export sorted by id) they need
//! no hash table at all: lookups search the sorted numbers (by interpolation, so dense ids
//! are found in one probe). Keys out of order get a hash table; keys of any other shape
//! switch the interner to plain strings. Codes never change.

use std::borrow::Cow;

use hashbrown::HashTable;

#[derive(Clone, Debug)]
enum Keys {
    /// `prefix` followed by the value written with at least `width` digits (zero-padded).
    Numeric {
        prefix: String,
        width: usize,
        values: Vec<u64>,
        sorted: bool,
    },
    Strings {
        bytes: String,
        ends: Vec<u32>,
    },
}

#[derive(Clone, Debug)]
pub struct Interner {
    keys: Keys,
    /// Empty while the keys are sorted numbers.
    table: HashTable<u32>,
}

impl Default for Interner {
    /// An interner of labels (strings from the start).
    fn default() -> Self {
        Interner { keys: Keys::Strings { bytes: String::new(), ends: Vec::new() }, table: HashTable::new() }
    }
}

fn hash_str(s: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5EED).hash_one(s)
}

#[inline]
fn hash_u64(v: u64) -> u64 {
    // A strong 64-bit mix; numeric ids are often sequential.
    let mut z = v.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Splits `T000123` into (`T`, `000123`, 123) when the key is a prefix and a number.
#[inline]
pub(crate) fn split_numeric(key: &str) -> Option<(&str, &str, u64)> {
    let b = key.as_bytes();
    let mut start = b.len();
    let mut value = 0u64;
    let mut scale = 1u64;
    while start > 0 && b[start - 1].is_ascii_digit() {
        if b.len() - start >= 18 {
            return None;
        }
        start -= 1;
        value += (b[start] - b'0') as u64 * scale;
        scale *= 10;
    }
    if start == b.len() || start > 24 {
        return None;
    }
    Some((&key[..start], &key[start..], value))
}

/// Where `v` is in sorted, distinct `values` (interpolation, then binary search).
#[inline]
fn sorted_position(values: &[u64], v: u64) -> Option<usize> {
    let (&first, &last) = (values.first()?, values.last()?);
    if v < first || v > last {
        return None;
    }
    let (span, n) = (last - first, (values.len() - 1) as u64);
    if span == n {
        // Consecutive numbers (E00001, E00002, …): the position is the offset.
        return Some((v - first) as usize);
    }
    let guess = match (v - first).checked_mul(n) {
        _ if span == 0 => 0,
        // 64-bit arithmetic when it fits (a 128-bit division is a slow library call).
        Some(product) => (product / span) as usize,
        None => ((v - first) as u128 * n as u128 / span as u128) as usize,
    };
    if values[guess] == v {
        return Some(guess);
    }
    values.binary_search(&v).ok()
}

impl Interner {
    /// An interner of ids: starts in the compact numeric form.
    pub fn new() -> Interner {
        Interner {
            keys: Keys::Numeric { prefix: String::new(), width: 0, values: Vec::new(), sorted: true },
            table: HashTable::new(),
        }
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
        key_of(&self.keys, code)
    }

    /// The numeric value of `key` if the interner is numeric and `key` has its shape.
    #[inline]
    fn numeric_value(&self, key: &str) -> Option<u64> {
        let Keys::Numeric { prefix, width, values, .. } = &self.keys else { return None };
        let (p, digits, value) = split_numeric(key)?;
        let fits = values.is_empty()
            || (p == prefix && (digits.len() == *width || (digits.len() > *width && !digits.starts_with('0'))));
        fits.then_some(value)
    }

    #[inline]
    fn find_value(&self, v: u64) -> Option<u32> {
        let Keys::Numeric { values, sorted, .. } = &self.keys else { return None };
        if *sorted {
            sorted_position(values, v).map(|p| p as u32)
        } else {
            self.table.find(hash_u64(v), |&c| values[c as usize] == v).copied()
        }
    }

    pub fn find(&self, key: &str) -> Option<u32> {
        match &self.keys {
            Keys::Numeric { .. } => self.find_value(self.numeric_value(key)?),
            Keys::Strings { .. } => self.table.find(hash_str(key), |&c| key_of(&self.keys, c) == key).copied(),
        }
    }

    /// The code of `key`, adding it if new; the flag says whether it was added.
    pub fn intern(&mut self, key: &str) -> (u32, bool) {
        if let Keys::Numeric { .. } = self.keys {
            match self.numeric_value(key) {
                Some(v) => {
                    if let Keys::Numeric { prefix, width, values, .. } = &mut self.keys
                        && values.is_empty()
                    {
                        let (p, digits, _) = split_numeric(key).expect("checked");
                        *prefix = p.to_string();
                        *width = digits.len();
                    }
                    return self.intern_value(v);
                }
                None => self.switch_to_strings(),
            }
        }
        let hash = hash_str(key);
        if let Some(&code) = self.table.find(hash, |&c| key_of(&self.keys, c) == key) {
            return (code, false);
        }
        let code = self.len() as u32;
        if let Keys::Strings { bytes, ends } = &mut self.keys {
            bytes.push_str(key);
            ends.push(bytes.len() as u32);
        }
        let keys = &self.keys;
        self.table.insert_unique(hash, code, |&c| hash_str(&key_of(keys, c)));
        (code, true)
    }

    /// Interns a number of a numeric interner whose prefix and width are already set.
    fn intern_value(&mut self, v: u64) -> (u32, bool) {
        let Keys::Numeric { values, sorted, .. } = &mut self.keys else { unreachable!("numeric") };
        if *sorted {
            if values.last().is_none_or(|&last| v > last) {
                values.push(v);
                return ((values.len() - 1) as u32, true);
            }
            if let Some(p) = sorted_position(values, v) {
                return (p as u32, false);
            }
            // Out of order: from now on a hash table finds the keys.
            *sorted = false;
            let values = &*values;
            let mut table = HashTable::with_capacity(values.len() + 1);
            for (c, &x) in values.iter().enumerate() {
                table.insert_unique(hash_u64(x), c as u32, |&c| hash_u64(values[c as usize]));
            }
            self.table = table;
        }
        let Keys::Numeric { values, .. } = &mut self.keys else { unreachable!("numeric") };
        if let Some(&code) = self.table.find(hash_u64(v), |&c| values[c as usize] == v) {
            return (code, false);
        }
        let code = values.len() as u32;
        values.push(v);
        let values = &*values;
        self.table.insert_unique(hash_u64(v), code, |&c| hash_u64(values[c as usize]));
        (code, true)
    }

    /// Interns key `code` of `other` (remapping a batch's local codes to this interner's).
    pub fn intern_from(&mut self, other: &Interner, code: u32) -> (u32, bool) {
        if let (
            Keys::Numeric { prefix: p1, width: w1, values: mine, .. },
            Keys::Numeric { prefix: p2, width: w2, values: theirs, .. },
        ) = (&self.keys, &other.keys)
            && !mine.is_empty()
            && p1 == p2
            && w1 == w2
        {
            return self.intern_value(theirs[code as usize]);
        }
        self.intern(&other.get(code))
    }

    /// Reserves room for `n` more keys.
    pub fn reserve(&mut self, n: usize) {
        match &mut self.keys {
            Keys::Numeric { values, sorted: true, .. } => values.reserve(n),
            Keys::Numeric { values, .. } => {
                values.reserve(n);
                let values = &*values;
                self.table.reserve(n, |&c| hash_u64(values[c as usize]));
            }
            Keys::Strings { ends, .. } => {
                ends.reserve(n);
                let keys = &self.keys;
                self.table.reserve(n, |&c| hash_str(&key_of(keys, c)));
            }
        }
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
        // hashbrown: the u32 payload and one control byte per bucket.
        let buckets = if self.table.capacity() == 0 { 0 } else { (self.table.capacity() * 8 / 7).next_power_of_two() };
        keys + buckets * 5
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
        Keys::Numeric { prefix, width, values, .. } => Cow::Owned(format!("{prefix}{:0width$}", values[code as usize])),
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
        assert!(matches!(i.keys, Keys::Numeric { sorted: true, .. }));
        assert_eq!(i.table.capacity(), 0, "sorted ids need no hash table");
        assert_eq!(i.find("T1"), None);
        assert_eq!(i.find("T000002"), Some(1));
        // Out of order: a hash table takes over, codes stay.
        assert_eq!(i.intern("T000000"), (3, true));
        assert!(matches!(i.keys, Keys::Numeric { sorted: false, .. }));
        assert_eq!((i.find("T000002"), i.find("T000000")), (Some(1), Some(3)));
        // A key of another shape: all keys become strings, codes stay.
        assert_eq!(i.intern("工单-甲"), (4, true));
        assert!(matches!(i.keys, Keys::Strings { .. }));
        assert_eq!(i.intern("T1"), (5, true));
        assert_eq!((i.get(0).as_ref(), i.get(2).as_ref(), i.get(4).as_ref()), ("T000001", "T1000000", "工单-甲"));
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

    #[test]
    fn interning_from_another_interner_keeps_keys() {
        let mut local = Interner::new();
        for k in ["C0000009", "C0000003", "C0000009"] {
            local.intern(k);
        }
        let mut global = Interner::new();
        global.intern("C0000003");
        let codes: Vec<u32> = (0..local.len() as u32).map(|c| global.intern_from(&local, c).0).collect();
        assert_eq!(codes, [1, 0]);
        let mut strings = Interner::default();
        strings.intern("x");
        assert_eq!(strings.intern_from(&local, 0), (1, true));
        assert_eq!(strings.get(1), "C0000009");
    }

    #[test]
    fn sparse_sorted_ids_are_found() {
        let mut i = Interner::new();
        let ids: Vec<u64> = (0..1000).map(|k| k * k * 7 + 3).collect();
        for v in &ids {
            i.intern(&format!("V{v:06}"));
        }
        for (c, v) in ids.iter().enumerate() {
            assert_eq!(i.find(&format!("V{v:06}")), Some(c as u32));
        }
        assert_eq!(i.find("V000004"), None);
    }

    /// Ids split into prefix, digits and value as a plain forward reading does, for every
    /// number of digits up to the limit and past it, with and without a prefix.
    #[test]
    fn numeric_keys_split_like_a_digit_by_digit_reading() {
        fn slow(key: &str) -> Option<(&str, &str, u64)> {
            let digits = key.bytes().rev().take_while(u8::is_ascii_digit).count();
            let start = key.len() - digits;
            let value = key[start..].bytes().fold(0u64, |v, c| v.wrapping_mul(10).wrapping_add((c - b'0') as u64));
            (digits > 0 && digits <= 18 && start <= 24).then(|| (&key[..start], &key[start..], value))
        }
        let mut keys = vec![String::new(), "T".into(), "工单".into(), "T1x".into(), format!("{}1", "P".repeat(25))];
        // Bytes just outside the digits (`/` 0x2F, `:`–`?` 0x3A–0x3F) at every place of a long id.
        for bad in ['/', ':', ';', '?', 'p', 'y'] {
            for at in 0..20 {
                let mut id: Vec<char> = "12345678901234567890".chars().collect();
                id[at] = bad;
                keys.push(id.into_iter().collect());
            }
        }
        for n in 1..=20 {
            let number: String = (0..n).map(|k| char::from(b'0' + ((k * 7 + 3) % 10) as u8)).collect();
            keys.extend([number.clone(), format!("C{number}"), format!("工单{number}"), "9".repeat(n)]);
        }
        for key in &keys {
            assert_eq!(split_numeric(key), slow(key), "{key}");
        }
        assert_eq!(split_numeric("T000000001"), Some(("T", "000000001", 1)));
        assert_eq!(split_numeric("999999999999999999"), Some(("", "999999999999999999", 999_999_999_999_999_999)));
    }

    /// The position in sorted, distinct values equals a binary search: consecutive values
    /// (found by their offset), values with gaps, and values missing from either.
    #[test]
    fn sorted_positions_equal_a_binary_search() {
        let sets: Vec<Vec<u64>> = vec![
            (5..105).collect(),
            vec![7],
            (0..50).chain(60..110).collect(),
            (0..400).map(|k| k * 3 + 1).collect(),
            vec![0, u64::MAX / 2, u64::MAX],
        ];
        for values in &sets {
            let probes = values.iter().flat_map(|&v| [v.wrapping_sub(1), v, v.wrapping_add(1)]);
            for v in probes.chain([0, 1, u64::MAX]) {
                assert_eq!(sorted_position(values, v), values.binary_search(&v).ok(), "{v} in {values:?}");
            }
        }
    }
}
