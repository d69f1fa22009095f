//! Compact columns. Every number-like field (instants, integers, decimals in millionths,
//! booleans, dictionary codes, row references) is an [`IntColumn`]: values relative to the
//! column's minimum, held in the narrowest unsigned width that fits, the width's maximum
//! meaning null. Text is held sparsely: only non-empty cells take space.

/// The null sentinel of every `i64` value the engine reads from a column.
pub const NULL: i64 = i64::MIN;

#[derive(Clone, Debug)]
enum IntData {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    I64(Vec<i64>),
}

/// A column of nullable `i64` values, stored as `base + narrow` (see the module doc).
#[derive(Clone, Debug)]
pub struct IntColumn {
    base: i64,
    data: IntData,
}

impl Default for IntColumn {
    fn default() -> Self {
        IntColumn { base: 0, data: IntData::U8(Vec::new()) }
    }
}

macro_rules! each_width {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            IntData::U8($v) => $body,
            IntData::U16($v) => $body,
            IntData::U32($v) => $body,
            IntData::I64($v) => $body,
        }
    };
}

impl IntColumn {
    /// Packs values (with [`NULL`] for null) into the narrowest width that holds them.
    pub fn from_values(values: &[i64]) -> IntColumn {
        let mut min = i64::MAX;
        let mut max = i64::MIN;
        for &v in values {
            if v != NULL {
                min = min.min(v);
                max = max.max(v);
            }
        }
        if min > max {
            return IntColumn { base: 0, data: IntData::U8(vec![u8::MAX; values.len()]) };
        }
        let span = (max as i128 - min as i128) as u128;
        let pack = |max_code: u128| span < max_code;
        let data = if pack(u8::MAX as u128) {
            IntData::U8(values.iter().map(|&v| if v == NULL { u8::MAX } else { (v - min) as u8 }).collect())
        } else if pack(u16::MAX as u128) {
            IntData::U16(values.iter().map(|&v| if v == NULL { u16::MAX } else { (v - min) as u16 }).collect())
        } else if pack(u32::MAX as u128) {
            IntData::U32(values.iter().map(|&v| if v == NULL { u32::MAX } else { (v - min) as u32 }).collect())
        } else {
            return IntColumn { base: 0, data: IntData::I64(values.to_vec()) };
        };
        IntColumn { base: min, data }
    }

    pub fn nulls(len: usize) -> IntColumn {
        IntColumn { base: 0, data: IntData::U8(vec![u8::MAX; len]) }
    }

    pub fn len(&self) -> usize {
        each_width!(&self.data, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        match &self.data {
            IntData::U8(v) => decode(v[i] as u64, u8::MAX as u64, self.base),
            IntData::U16(v) => decode(v[i] as u64, u16::MAX as u64, self.base),
            IntData::U32(v) => decode(v[i] as u64, u32::MAX as u64, self.base),
            IntData::I64(v) => v[i],
        }
    }

    /// Writes rows `start..start + out.len()` into `out`.
    pub fn read_range(&self, start: usize, out: &mut [i64]) {
        let base = self.base;
        let n = out.len();
        match &self.data {
            IntData::U8(v) => decode_into(&v[start..start + n], u8::MAX, base, out),
            IntData::U16(v) => decode_into(&v[start..start + n], u16::MAX, base, out),
            IntData::U32(v) => decode_into(&v[start..start + n], u32::MAX, base, out),
            IntData::I64(v) => out.copy_from_slice(&v[start..start + n]),
        }
    }

    /// Writes the given rows into `out` (`out.len() == rows.len()`).
    pub fn read_rows(&self, rows: &[u32], out: &mut [i64]) {
        self.gather(rows.iter().map(|&r| Some(r as usize)), out);
    }

    /// Writes the values at row references `refs` into `out` (`out.len() == refs.len()`):
    /// [`NULL`] for a null reference.
    pub fn read_refs(&self, refs: &[i64], out: &mut [i64]) {
        self.gather(refs.iter().map(|&r| (r != NULL).then_some(r as usize)), out);
    }

    /// Writes the values at `rows` (`None`: [`NULL`]) into `out`, the width matched once,
    /// not per value.
    #[inline]
    fn gather(&self, rows: impl Iterator<Item = Option<usize>>, out: &mut [i64]) {
        #[inline]
        fn each<T: Copy + Into<u64>>(
            src: &[T],
            null: T,
            base: i64,
            rows: impl Iterator<Item = Option<usize>>,
            out: &mut [i64],
        ) {
            for (o, r) in out.iter_mut().zip(rows) {
                *o = r.map_or(NULL, |r| decode(src[r].into(), null.into(), base));
            }
        }
        match &self.data {
            IntData::U8(v) => each(v, u8::MAX, self.base, rows, out),
            IntData::U16(v) => each(v, u16::MAX, self.base, rows, out),
            IntData::U32(v) => each(v, u32::MAX, self.base, rows, out),
            IntData::I64(v) => {
                for (o, r) in out.iter_mut().zip(rows) {
                    *o = r.map_or(NULL, |r| v[r]);
                }
            }
        }
    }

    pub fn to_values(&self) -> Vec<i64> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }

    fn fits(&self, v: i64) -> bool {
        if self.is_empty() {
            // An empty column has no base yet: let the first values choose it.
            return v == NULL;
        }
        let max_code = match &self.data {
            IntData::U8(_) => u8::MAX as i64,
            IntData::U16(_) => u16::MAX as i64,
            IntData::U32(_) => u32::MAX as i64,
            IntData::I64(_) => return true,
        };
        v == NULL || (v >= self.base && (v as i128 - self.base as i128) < max_code as i128)
    }

    fn widen_for(&mut self, v: i64) {
        let mut values = self.to_values();
        values.push(v);
        let wider = IntColumn::from_values(&values);
        values.pop();
        *self = wider;
        self.truncate(values.len());
    }

    fn truncate(&mut self, len: usize) {
        each_width!(&mut self.data, v => v.truncate(len))
    }

    pub fn push(&mut self, v: i64) {
        if !self.fits(v) {
            self.widen_for(v);
        }
        let base = self.base;
        match &mut self.data {
            IntData::U8(d) => d.push(if v == NULL { u8::MAX } else { (v - base) as u8 }),
            IntData::U16(d) => d.push(if v == NULL { u16::MAX } else { (v - base) as u16 }),
            IntData::U32(d) => d.push(if v == NULL { u32::MAX } else { (v - base) as u32 }),
            IntData::I64(d) => d.push(v),
        }
    }

    /// Appends many values, repacking at most once.
    pub fn extend(&mut self, values: &[i64]) {
        let (mut min, mut max) = (i64::MAX, i64::MIN);
        for &v in values {
            if v != NULL {
                min = min.min(v);
                max = max.max(v);
            }
        }
        if min <= max && !(self.fits(min) && self.fits(max)) {
            let mut all = self.to_values();
            all.extend_from_slice(values);
            *self = IntColumn::from_values(&all);
            return;
        }
        let base = self.base;
        match &mut self.data {
            IntData::U8(d) => d.extend(values.iter().map(|&v| if v == NULL { u8::MAX } else { (v - base) as u8 })),
            IntData::U16(d) => d.extend(values.iter().map(|&v| if v == NULL { u16::MAX } else { (v - base) as u16 })),
            IntData::U32(d) => d.extend(values.iter().map(|&v| if v == NULL { u32::MAX } else { (v - base) as u32 })),
            IntData::I64(d) => d.extend_from_slice(values),
        }
    }

    pub fn set(&mut self, i: usize, v: i64) {
        if !self.fits(v) {
            self.widen_for(v);
        }
        let base = self.base;
        match &mut self.data {
            IntData::U8(d) => d[i] = if v == NULL { u8::MAX } else { (v - base) as u8 },
            IntData::U16(d) => d[i] = if v == NULL { u16::MAX } else { (v - base) as u16 },
            IntData::U32(d) => d[i] = if v == NULL { u32::MAX } else { (v - base) as u32 },
            IntData::I64(d) => d[i] = v,
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match &self.data {
            IntData::U8(v) => v.capacity(),
            IntData::U16(v) => v.capacity() * 2,
            IntData::U32(v) => v.capacity() * 4,
            IntData::I64(v) => v.capacity() * 8,
        }
    }

    /// Reserves room for `n` more values of the present width.
    pub fn reserve(&mut self, n: usize) {
        each_width!(&mut self.data, v => v.reserve(n))
    }

    pub fn shrink_to_fit(&mut self) {
        each_width!(&mut self.data, v => v.shrink_to_fit())
    }
}

#[inline]
fn decode(code: u64, null_code: u64, base: i64) -> i64 {
    if code == null_code { NULL } else { base + code as i64 }
}

#[inline]
fn decode_into<T: Copy + Into<u64> + PartialEq>(src: &[T], null_code: T, base: i64, out: &mut [i64]) {
    for (o, &c) in out.iter_mut().zip(src) {
        *o = if c == null_code { NULL } else { base + c.into() as i64 };
    }
}

/// Free text, held only for non-empty cells: `rows` (sorted) and their byte ranges.
#[derive(Clone, Debug, Default)]
pub struct TextColumn {
    len: usize,
    rows: Vec<u32>,
    ends: Vec<u32>,
    bytes: String,
}

impl TextColumn {
    pub fn with_len(len: usize) -> TextColumn {
        TextColumn { len, ..TextColumn::default() }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, row: usize) -> Option<&str> {
        let i = self.rows.binary_search(&(row as u32)).ok()?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.bytes[start..self.ends[i] as usize])
    }

    /// Appends a row.
    pub fn push(&mut self, text: Option<&str>) {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            self.bytes.push_str(t);
            self.rows.push(self.len as u32);
            self.ends.push(self.bytes.len() as u32);
        }
        self.len += 1;
    }

    /// Appends all rows of `other` after the rows of `self`.
    pub fn append(&mut self, other: &TextColumn) {
        let (row_base, byte_base) = (self.len as u32, self.bytes.len() as u32);
        self.rows.extend(other.rows.iter().map(|r| r + row_base));
        self.ends.extend(other.ends.iter().map(|e| e + byte_base));
        self.bytes.push_str(&other.bytes);
        self.len += other.len;
    }

    /// Keeps the first `len` rows.
    pub fn truncate(&mut self, len: usize) {
        while self.rows.last().is_some_and(|&r| r as usize >= len) {
            self.rows.pop();
            self.ends.pop();
        }
        self.bytes.truncate(self.ends.last().map_or(0, |&e| e as usize));
        self.len = self.len.min(len);
    }

    /// Replaces the text of an existing row.
    pub fn set(&mut self, row: usize, text: Option<&str>) {
        if self.get(row) == text.filter(|t| !t.is_empty()) {
            return;
        }
        let mut rebuilt = TextColumn::default();
        for r in 0..self.len {
            let value = if r == row { text } else { self.get(r) };
            rebuilt.push(value);
        }
        *self = rebuilt;
    }

    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * 4 + self.ends.capacity() * 4 + self.bytes.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading by row references gives each referenced row's value (nulls included) and a
    /// null for a null reference, in every width.
    #[test]
    fn read_refs_equals_reading_row_by_row() {
        for values in [
            vec![7, NULL, 3, 250],
            vec![-7, 300, NULL, 40_000],
            vec![1_740_000_000, NULL, 1_760_000_000, 1_700_000_000],
            vec![i64::MAX, -5, NULL, 0],
        ] {
            let column = IntColumn::from_values(&values);
            let refs = [0, NULL, 3, 1, 2, 0, NULL];
            let mut out = vec![0; refs.len()];
            column.read_refs(&refs, &mut out);
            let expected: Vec<i64> = refs.iter().map(|&r| if r == NULL { NULL } else { values[r as usize] }).collect();
            assert_eq!(out, expected, "{values:?}");
        }
    }

    #[test]
    fn packs_into_the_narrowest_width_and_round_trips() {
        let cases: [&[i64]; 5] = [
            &[1, 5, NULL, 3],
            &[1_740_000_000, 1_760_000_000, NULL],
            &[-7, 300, NULL],
            &[i64::MAX, -5, NULL],
            &[NULL, NULL],
        ];
        let widths = [1, 4, 2, 8, 1];
        for (values, width) in cases.iter().zip(widths) {
            let c = IntColumn::from_values(values);
            assert_eq!(c.to_values(), values.to_vec());
            assert_eq!(c.heap_bytes(), values.len() * width, "{values:?}");
            let mut out = vec![0; values.len()];
            c.read_range(0, &mut out);
            assert_eq!(out, values.to_vec());
        }
    }

    #[test]
    fn push_and_set_widen_when_a_value_does_not_fit() {
        let mut c = IntColumn::from_values(&[10, 11]);
        c.push(9);
        c.push(100_000);
        c.set(0, NULL);
        c.set(1, -1);
        assert_eq!(c.to_values(), vec![NULL, -1, 9, 100_000]);
    }

    #[test]
    fn text_is_sparse_and_settable() {
        let mut t = TextColumn::default();
        t.push(Some("很好"));
        t.push(None);
        t.push(Some(""));
        t.push(Some("slow"));
        assert_eq!((t.get(0), t.get(1), t.get(2), t.get(3)), (Some("很好"), None, None, Some("slow")));
        let mut more = TextColumn::default();
        more.push(None);
        more.push(Some("后来"));
        let mut joined = t.clone();
        joined.append(&more);
        assert_eq!((joined.len(), joined.get(3), joined.get(4), joined.get(5)), (6, Some("slow"), None, Some("后来")));
        t.set(1, Some("ok"));
        t.set(0, None);
        assert_eq!((t.get(0), t.get(1), t.get(3), t.len()), (None, Some("ok"), Some("slow"), 4));
    }
}
