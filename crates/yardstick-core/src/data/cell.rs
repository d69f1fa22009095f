//! One cell's text to a value: trimming, numbers, yes/no, decimals, the label cache of
//! label columns, and what to tell the user when a cell is not a value of its type.

use super::column::NULL;
use super::interner::Interner;
use crate::period::PERIOD_FORMAT_HINT;
use crate::schema::{FieldType, Source};
use crate::time::TIME_FORMAT_HINT;

/// Recently met labels of a column and their codes, in a small direct-mapped table keyed
/// by a label's first and last eight bytes and its length (which tell a label of up to 16
/// bytes — two to five Chinese characters — apart without comparing; a longer one is
/// compared in full).
#[derive(Default)]
pub struct LabelCache {
    slots: Vec<(u64, u64, usize, Box<str>, i64)>,
}

/// The code of a label, from the cache or interned.
#[inline]
pub(super) fn label_code(dict: &mut Interner, cache: &mut LabelCache, label: &str) -> i64 {
    const SLOTS: usize = 64;
    let b = label.as_bytes();
    let (head, tail) = if b.len() >= 8 {
        let word = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("eight bytes"));
        (word(&b[..8]), word(&b[b.len() - 8..]))
    } else {
        (short_word(b), 0)
    };
    let slot = ((head ^ tail.rotate_left(17) ^ b.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize;
    if cache.slots.is_empty() {
        cache.slots = vec![(0, 0, usize::MAX, Box::from(""), NULL); SLOTS];
    }
    let (h, t, len, text, code) = &cache.slots[slot];
    if *h == head && *t == tail && *len == b.len() && (b.len() <= 16 || **text == *label) {
        return *code;
    }
    let code = dict.intern(label).0 as i64;
    cache.slots[slot] = (head, tail, b.len(), label.into(), code);
    code
}

/// The bytes of a label shorter than 8 as a little-endian word, zero above: two
/// overlapping loads instead of a variable-length copy (which is a call to `memcpy`; it
/// was most of this function's time).
#[inline]
fn short_word(b: &[u8]) -> u64 {
    let n = b.len();
    debug_assert!(n < 8);
    let at = |i: usize, shift: usize| (b[i] as u64) << (8 * shift);
    match n {
        0 => 0,
        1..=3 => at(0, 0) | at(n / 2, n / 2) | at(n - 1, n - 1),
        _ => {
            let four = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("four bytes")) as u64;
            four(0) | four(n - 4) << (8 * (n - 4))
        }
    }
}

#[cold]
pub(super) fn role_problem(roles: &[String], role: &str) -> (String, String) {
    (
        format!("`{role}` is not a role"),
        format!("use one of {} or declare it under [organisation] custom_roles", roles.join(", ")),
    )
}

/// Why a cell of `source` did not parse as `ty`, and how to fix it.
#[cold]
pub(super) fn problem(source: Source, ty: FieldType, name: &str, text: &str) -> (String, String) {
    match ty {
        FieldType::Instant => match crate::time::parse_time(text) {
            Some(_) => (
                format!("`{text}` is outside the years 2000–2099"),
                "check the year (records of a service operation lie in 2000–2099)".to_string(),
            ),
            None => (format!("`{text}` is not a time"), TIME_FORMAT_HINT.to_string()),
        },
        FieldType::Int { min, max } => match text.parse::<i64>() {
            Ok(v) => (format!("{v} is out of range"), format!("write a whole number from {min} to {max}")),
            Err(_) => (format!("`{text}` is not a whole number"), format!("write a whole number from {min} to {max}")),
        },
        FieldType::Decimal { min, max } => match parse_decimal(text) {
            Some(_) => (format!("{text} is out of range"), format!("write a number from {min} to {max}")),
            None => (
                format!("`{text}` is not a number"),
                format!(
                    "write a number from {min} to {max} such as 12.5 (at most 6 decimals, no thousands separators)"
                ),
            ),
        },
        FieldType::Bool => {
            (format!("`{text}` is not a yes/no value"), "write true/false, 1/0, yes/no or 是/否".to_string())
        }
        FieldType::Enum(values) => {
            (format!("`{text}` is not a valid {name}"), format!("use one of {}", values.join(", ")))
        }
        FieldType::Period => (format!("`{text}` is not a period"), PERIOD_FORMAT_HINT.to_string()),
        FieldType::Ref(target) if target == source => (
            format!("{name} `{text}` does not refer to an earlier row of {}", target.name()),
            format!("list {text} before the rows that refer to it"),
        ),
        FieldType::Ref(target) => (
            format!("{name} `{text}` is not in {}.csv", target.name()),
            format!("add {text} to {}.csv or correct the id", target.name()),
        ),
        _ => (format!("`{text}` is not valid"), String::new()),
    }
}

/// Trims white space (including the ideographic space U+3000). The usual cell — plain
/// ASCII at both ends — is returned as it is after two byte checks.
#[inline(always)]
pub(super) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if f > b' ' && f < 0x80 && l > b' ' && l < 0x80 => s,
        _ => trim_any(s),
    }
}

/// [`trim`] for cells that start or end with a space or a non-ASCII character. Only a
/// character whose first byte is at most a space, or 0xC2, 0xE1, 0xE2 or 0xE3 (U+0085,
/// U+00A0, U+1680, U+2000–U+205F, U+3000) can be white space: Chinese text (first bytes
/// 0xE4–0xE9) is taken as it is without decoding a character.
#[inline(never)]
fn trim_any(s: &str) -> &str {
    let b = s.as_bytes();
    let may_be_space = |lead: u8| lead <= b' ' || matches!(lead, 0xC2 | 0xE1 | 0xE2 | 0xE3);
    let Some(&first) = b.first() else { return s };
    // The first byte of the last character: back over its continuation bytes (10xxxxxx).
    let last = b.iter().rev().take(4).find(|&&c| c & 0xC0 != 0x80).copied().unwrap_or(first);
    if may_be_space(first) || may_be_space(last) { s.trim() } else { s }
}

/// An optional leading sign: (negative, the rest); `None` for no text at all.
#[inline]
fn signed(b: &[u8]) -> Option<(bool, &[u8])> {
    Some(match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    })
}

/// A whole number: optional sign and decimal digits.
#[inline]
pub fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = signed(text.as_bytes())?;
    if digits.is_empty() || digits.len() > 18 {
        return text.parse().ok();
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(if negative { -v } else { v })
}

/// `true/false/1/0/yes/no/是/否` in any letter case.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "是" => Some(true),
        "0" | "否" => Some(false),
        t if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("yes") => Some(true),
        t if t.eq_ignore_ascii_case("false") || t.eq_ignore_ascii_case("no") => Some(false),
        _ => None,
    }
}

/// A decimal number in millionths: `-12.5` → -12 500 000. At most 6 decimals.
pub fn parse_decimal(text: &str) -> Option<i64> {
    let (negative, digits) = signed(text.as_bytes())?;
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    if (int.is_empty() && frac.is_empty()) || frac.len() > 6 {
        return None;
    }
    let number = |d: &[u8]| {
        d.iter()
            .try_fold(0i64, |v, &c| c.is_ascii_digit().then(|| v.checked_mul(10)?.checked_add((c - b'0') as i64))?)
    };
    let frac_value = number(frac)? * 10i64.pow(6 - frac.len() as u32);
    let v = number(int)?.checked_mul(1_000_000)?.checked_add(frac_value)?;
    Some(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_cache_never_confuses_labels() {
        // Labels of every length around the 8- and 16-byte edges, sharing heads and tails.
        let mut labels: Vec<String> = Vec::new();
        for len in 0..40 {
            labels.push("x".repeat(len));
            labels.push(format!("{}y", "x".repeat(len)));
            labels.push(format!("y{}", "x".repeat(len)));
            labels.push(format!("{}y{}", "x".repeat(len / 2), "x".repeat(len - len / 2)));
        }
        labels.extend(
            ["冰箱", "空调", "洗衣机", "热水器", "油烟机", "投诉", "咨询", "售后服务投诉升级", "售后服务投诉降级"]
                .map(String::from),
        );
        let (mut dict, mut cache) = (Interner::default(), LabelCache::default());
        for round in 0..3 {
            for (i, l) in labels.iter().enumerate().filter(|(i, _)| (i + round) % 3 != 0) {
                let code = label_code(&mut dict, &mut cache, l);
                assert_eq!(dict.get(code as u32), l.as_str(), "label {i}");
            }
        }
    }

    #[test]
    fn short_words_equal_zero_padded_bytes() {
        for n in 0..8 {
            let b: Vec<u8> = (0..n as u8).map(|i| 0xA1 + i * 7).collect();
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&b);
            assert_eq!(short_word(&b), u64::from_le_bytes(w), "{n} bytes");
        }
    }

    #[test]
    fn trimming_matches_str_trim() {
        for t in
            ["", " ", "a", " a ", "冰箱", "\u{3000}冰箱\u{3000}", "冰箱 ", "\u{a0}x", "x\u{2028}", "\t空调\n", "a b"]
        {
            assert_eq!(trim(t), t.trim(), "{t:?}");
        }
        // Every white space character, and characters that share their first byte, at
        // either end of Chinese text.
        let spaces = "\u{85}\u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}\t\n\u{b}\u{c}\r ";
        for c in spaces.chars().chain("©\u{1681}—\u{3001}、中\u{1}".chars()) {
            for t in [format!("{c}冰箱"), format!("冰箱{c}"), format!("{c}"), format!("{c}a{c}")] {
                assert_eq!(trim(&t), t.trim(), "{t:?}");
            }
        }
    }

    #[test]
    fn field_parsers() {
        for t in
            ["0", "-12", "+7", "123456789012345678", "1234567890123456789", "9223372036854775808", "1e3", "", "-", "1 "]
        {
            assert_eq!(parse_int(t), t.parse::<i64>().ok(), "{t}");
        }
        assert_eq!(parse_decimal("12.5"), Some(12_500_000));
        assert_eq!(parse_decimal("-0.000001"), Some(-1));
        assert_eq!(parse_decimal(".5"), Some(500_000));
        assert_eq!(parse_decimal("1,000"), None);
        assert_eq!(parse_decimal("1.1234567"), None);
        for (t, v) in [("0", Some(0)), ("7.", Some(7_000_000)), ("-.000001", Some(-1)), ("+3.25", Some(3_250_000))] {
            assert_eq!(parse_decimal(t), v, "{t}");
        }
        for t in ["", ".", "-", "1.2.3", "1e3", " 1", "9223372036854.775808", "١٢"] {
            assert_eq!(parse_decimal(t), None, "{t}");
        }
        assert_eq!(parse_decimal("9223372036854.775807"), Some(i64::MAX));
        for (t, b) in [("是", true), ("否", false), ("YES", true), ("False", false), ("1", true)] {
            assert_eq!(parse_bool(t), Some(b));
        }
        assert_eq!(parse_bool("y"), None);
    }
}
