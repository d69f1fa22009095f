//! The `(accumulator index, value)` pairs of percentile and distinct-count metrics, as a
//! scan collects them: packed into one `u64` each when they fit (nearly always), in parts
//! that are appended rather than copied when scan states merge.

/// Values within ±2³⁹ (seconds: ±17 000 years; micro-units: ±550 000) are packed.
const BIAS: i64 = 1 << 39;
const VALUE_SPAN: u64 = 1 << 40;
/// Accumulator indexes below 2²⁴ are packed.
pub(super) const INDEX_BITS: u32 = 24;

/// One metric's pairs, in no particular order.
#[derive(Clone, Debug, Default)]
pub struct Pairs {
    /// `(value + 2³⁹) << 24 | index`.
    packed: Vec<Vec<u64>>,
    /// Pairs that do not pack.
    wide: Vec<Vec<(u32, i64)>>,
}

/// Adds pairs to the last parts of a [`Pairs`].
pub struct Writer<'p> {
    packed: &'p mut Vec<u64>,
    wide: &'p mut Vec<(u32, i64)>,
}

impl Writer<'_> {
    #[inline]
    pub fn push(&mut self, index: u32, value: i64) {
        let biased = value.wrapping_add(BIAS) as u64;
        if biased < VALUE_SPAN && index < 1 << INDEX_BITS {
            self.packed.push(biased << INDEX_BITS | index as u64);
        } else {
            self.wide.push((index, value));
        }
    }
}

#[inline]
pub(super) fn unpack(key: u64) -> (u32, i64) {
    ((key & ((1 << INDEX_BITS) - 1)) as u32, (key >> INDEX_BITS) as i64 - BIAS)
}

impl Pairs {
    #[cfg(test)]
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u32, i64)>) -> Pairs {
        let mut out = Pairs::default();
        let mut w = out.writer();
        for (index, value) in pairs {
            w.push(index, value);
        }
        out
    }

    pub fn writer(&mut self) -> Writer<'_> {
        // Each kind on its own: `append` keeps only non-empty parts of the other.
        if self.packed.is_empty() {
            self.packed.push(Vec::new());
        }
        if self.wide.is_empty() {
            self.wide.push(Vec::new());
        }
        let (packed, wide) = (self.packed.last_mut().expect("a part"), self.wide.last_mut().expect("a part"));
        Writer { packed, wide }
    }

    pub fn len(&self) -> usize {
        self.packed.iter().map(Vec::len).sum::<usize>() + self.wide.iter().map(Vec::len).sum::<usize>()
    }

    /// The pairs, packed ones first.
    pub fn iter(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        self.packed.iter().flatten().map(|&k| unpack(k)).chain(self.wide.iter().flatten().copied())
    }

    /// How many pairs each index below `n` has, the parts counted in parallel.
    pub(super) fn count_per_index(&self, n: usize) -> Vec<u32> {
        use rayon::prelude::*;
        let add = |mut a: Vec<u32>, b: Vec<u32>| {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
            a
        };
        let packed = self
            .packed
            .par_iter()
            .flat_map(|p| p.par_chunks(1 << 16))
            .fold(
                || vec![0u32; n],
                |mut count, chunk| {
                    for &k in chunk {
                        count[(k & ((1 << INDEX_BITS) - 1)) as usize] += 1;
                    }
                    count
                },
            )
            .reduce(|| vec![0u32; n], add);
        self.wide.iter().flatten().fold(packed, |mut count, &(index, _)| {
            count[index as usize] += 1;
            count
        })
    }

    /// The packed parts, when every pair is packed: `(value + 2³⁹) << 24 | index`.
    pub(super) fn packed_parts(&self) -> Option<&[Vec<u64>]> {
        self.wide.iter().all(Vec::is_empty).then_some(&self.packed[..])
    }

    /// Adds `other`'s pairs (its parts, not copied).
    pub fn append(&mut self, other: Pairs) {
        self.packed.extend(other.packed.into_iter().filter(|p| !p.is_empty()));
        self.wide.extend(other.wide.into_iter().filter(|p| !p.is_empty()));
    }

    /// Removes one occurrence of each of `other`'s pairs (a live change retracting a few
    /// records): in place, each part scanned for the few packed keys at once.
    pub fn remove_each(&mut self, other: &Pairs) {
        if other.len() > 32 {
            // Many to remove (a large batch): one hash lookup a pair instead.
            let mut left: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
            for &k in other.packed.iter().flatten() {
                *left.entry(k).or_default() += 1;
            }
            for part in &mut self.packed {
                part.retain(|k| match left.get_mut(k) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        false
                    }
                    _ => true,
                });
            }
            remove_each(self.wide.iter_mut(), other.wide.iter().flatten().copied());
            self.packed.retain(|p| !p.is_empty());
            return;
        }
        let mut left: Vec<(u64, usize)> = Vec::new();
        for &k in other.packed.iter().flatten() {
            match left.iter_mut().find(|(x, _)| *x == k) {
                Some((_, n)) => *n += 1,
                None => left.push((k, 1)),
            }
        }
        for part in &mut self.packed {
            if left.iter().all(|(_, n)| *n == 0) {
                break;
            }
            part.retain(|k| match left.iter_mut().find(|(x, n)| x == k && *n > 0) {
                Some((_, n)) => {
                    *n -= 1;
                    false
                }
                None => true,
            });
        }
        remove_each(self.wide.iter_mut(), other.wide.iter().flatten().copied());
        self.packed.retain(|p| !p.is_empty());
    }
}

/// Removes one occurrence of each of `remove` from `lists`.
pub(super) fn remove_each<'a>(
    lists: impl Iterator<Item = &'a mut Vec<(u32, i64)>>,
    remove: impl Iterator<Item = (u32, i64)>,
) {
    let mut left: std::collections::HashMap<(u32, i64), usize> = std::collections::HashMap::new();
    for x in remove {
        *left.entry(x).or_default() += 1;
    }
    if left.is_empty() {
        return;
    }
    for list in lists {
        list.retain(|x| match left.get_mut(x) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_pack_when_they_fit_and_come_back_unchanged() {
        let pairs = [
            (0, 0),
            (7, -1),
            ((1 << 24) - 1, BIAS - 1),
            (3, -BIAS),
            (1 << 24, 5),
            (4, BIAS),
            (5, -BIAS - 1),
            (6, i64::MIN),
            (8, i64::MAX),
        ];
        let p = Pairs::from_pairs(pairs);
        assert_eq!(p.packed.concat().len(), 4, "the first four pack");
        let mut back: Vec<(u32, i64)> = p.iter().collect();
        back.sort_unstable();
        let mut expected = pairs.to_vec();
        expected.sort_unstable();
        assert_eq!(back, expected);
        let mut q = p.clone();
        q.remove_each(&Pairs::from_pairs([(7, -1), (1 << 24, 5), (9, 9)]));
        assert_eq!(q.len(), pairs.len() - 2);
        assert!(q.iter().all(|x| x != (7, -1) && x != (1 << 24, 5)));
        // Writing after taking in another's parts (only packed ones: no wide part yet).
        let mut r = Pairs::default();
        r.append(Pairs::from_pairs([(1, 2)]));
        r.writer().push(3, i64::MAX);
        assert_eq!(r.iter().collect::<Vec<_>>(), [(1, 2), (3, i64::MAX)]);
    }
}
