//! The customer key space. Numeric customer ids of one shape (`C00012345`) are coded as
//! their number — no hashing on import, however the rows are ordered; any other key, or a
//! number too large, is interned and coded above the numbers. Codes never change.

use std::borrow::Cow;

use super::interner::{Interner, split_numeric};

/// Numbers below this are their own code.
const DIRECT: u64 = 1 << 24;

#[derive(Clone, Debug, Default)]
pub struct KeySpace {
    /// `prefix` and zero-padded `width` of the numeric keys (set by the first one).
    shape: Option<(String, usize)>,
    /// Which numbers below [`DIRECT`] are keys.
    present: Vec<u64>,
    n_present: usize,
    /// Other keys, coded `DIRECT + code`.
    others: Interner,
}

/// The number of `key` if it has `shape` (`prefix` + at least `width` digits, no extra
/// leading zero).
#[inline]
pub fn shaped_number(key: &str, prefix: &str, width: usize) -> Option<u64> {
    let (p, digits, v) = split_numeric(key)?;
    (p == prefix && (digits.len() == width || (digits.len() > width && !digits.starts_with('0')))).then_some(v)
}

impl KeySpace {
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.n_present + self.others.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn is_present(&self, v: u64) -> bool {
        self.present.get((v / 64) as usize).is_some_and(|w| w & (1 << (v % 64)) != 0)
    }

    /// The code of a number of the space's shape, adding it if new.
    #[inline]
    pub fn intern_number(&mut self, v: u64) -> u32 {
        if v < DIRECT {
            let (word, bit) = ((v / 64) as usize, v % 64);
            if word >= self.present.len() {
                self.present.resize(word + 1, 0);
            }
            if self.present[word] & (1 << bit) == 0 {
                self.present[word] |= 1 << bit;
                self.n_present += 1;
            }
            return v as u32;
        }
        let (prefix, width) = self.shape.clone().expect("numbers come with a shape");
        DIRECT as u32 + self.others.intern(&format!("{prefix}{v:0width$}")).0
    }

    /// The shape numeric keys must have to be coded directly (adopting `shape` if the
    /// space has none yet).
    pub fn adopt_shape(&mut self, prefix: &str, width: usize) -> bool {
        match &self.shape {
            None => {
                self.shape = Some((prefix.to_string(), width));
                true
            }
            Some((p, w)) => p == prefix && *w == width,
        }
    }

    pub fn intern(&mut self, key: &str) -> u32 {
        if let Some((p, digits, v)) = split_numeric(key) {
            if self.shape.is_none() && v < DIRECT {
                self.shape = Some((p.to_string(), digits.len()));
            }
            if let Some((prefix, width)) = &self.shape
                && shaped_number(key, prefix, *width) == Some(v)
                && v < DIRECT
            {
                return self.intern_number(v);
            }
        }
        DIRECT as u32 + self.others.intern(key).0
    }

    pub fn find(&self, key: &str) -> Option<u32> {
        if let Some((prefix, width)) = &self.shape
            && let Some(v) = shaped_number(key, prefix, *width)
            && v < DIRECT
        {
            return self.is_present(v).then_some(v as u32);
        }
        self.others.find(key).map(|c| DIRECT as u32 + c)
    }

    pub fn get(&self, code: u32) -> Cow<'_, str> {
        if (code as u64) < DIRECT {
            let (prefix, width) = self.shape.as_ref().expect("numbers have a shape");
            Cow::Owned(format!("{prefix}{code:0width$}"))
        } else {
            self.others.get(code - DIRECT as u32)
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.present.capacity() * 8 + self.others.heap_bytes()
    }

    pub fn shrink_to_fit(&mut self) {
        self.present.shrink_to_fit();
        self.others.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_their_own_codes_and_other_keys_go_above() {
        let mut k = KeySpace::default();
        assert_eq!(k.intern("C00000042"), 42);
        assert_eq!(k.intern("C00000007"), 7);
        assert_eq!(k.intern("C00000042"), 42);
        assert_eq!(k.len(), 2);
        let other = k.intern("VIP-甲");
        assert!(other >= DIRECT as u32);
        assert_eq!(k.intern("C7"), other + 1, "another shape is another key");
        assert_eq!(k.intern(&format!("C{}", DIRECT + 5)), other + 2, "numbers too large are interned");
        assert_eq!((k.find("C00000007"), k.find("C00000008"), k.find("VIP-甲")), (Some(7), None, Some(other)));
        assert_eq!((k.get(42), k.get(other)), (Cow::Borrowed("C00000042"), Cow::Borrowed("VIP-甲")));
        assert_eq!(k.len(), 5);
    }
}
