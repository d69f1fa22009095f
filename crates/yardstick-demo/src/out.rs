//! Fast CSV writing: numbers and times are formatted by hand into byte buffers.

use yardstick_core::time::{SECONDS_PER_DAY, civil_from_days};

/// The organisation's offset: the generator writes Asia/Shanghai times (+08:00).
pub const OFFSET: i64 = 8 * 3600;

pub trait Push {
    fn num(&mut self, v: u64) -> &mut Self;
    fn padded(&mut self, v: u64, width: usize) -> &mut Self;
    fn text(&mut self, s: &str) -> &mut Self;
    fn comma(&mut self) -> &mut Self;
    fn end(&mut self) -> &mut Self;
    /// An instant as local time with `+08:00`, or as UTC with `Z` when `utc`.
    fn time(&mut self, t: i64, utc: bool) -> &mut Self;
    fn opt_time(&mut self, t: Option<i64>, utc: bool) -> &mut Self;
    fn date(&mut self, t: i64) -> &mut Self;
    /// A decimal with two places (money).
    fn money(&mut self, cents: i64) -> &mut Self;
    fn bool(&mut self, b: bool) -> &mut Self;
}

impl Push for Vec<u8> {
    #[inline]
    fn num(&mut self, mut v: u64) -> &mut Self {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.extend_from_slice(&buf[i..]);
        self
    }

    #[inline]
    fn padded(&mut self, v: u64, width: usize) -> &mut Self {
        let mut buf = [b'0'; 20];
        let mut x = v;
        let mut i = buf.len();
        while x > 0 {
            i -= 1;
            buf[i] = b'0' + (x % 10) as u8;
            x /= 10;
        }
        let start = (buf.len() - width).min(i);
        self.extend_from_slice(&buf[start..]);
        self
    }

    #[inline]
    fn text(&mut self, s: &str) -> &mut Self {
        self.extend_from_slice(s.as_bytes());
        self
    }

    #[inline]
    fn comma(&mut self) -> &mut Self {
        self.push(b',');
        self
    }

    #[inline]
    fn end(&mut self) -> &mut Self {
        self.push(b'\n');
        self
    }

    #[inline]
    fn time(&mut self, t: i64, utc: bool) -> &mut Self {
        let local = if utc { t } else { t + OFFSET };
        let days = local.div_euclid(SECONDS_PER_DAY);
        let secs = local.rem_euclid(SECONDS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        self.padded(y as u64, 4).push(b'-');
        self.padded(m as u64, 2).push(b'-');
        self.padded(d as u64, 2).push(b'T');
        self.padded((secs / 3600) as u64, 2).push(b':');
        self.padded((secs % 3600 / 60) as u64, 2).push(b':');
        self.padded((secs % 60) as u64, 2);
        self.text(if utc { "Z" } else { "+08:00" })
    }

    #[inline]
    fn opt_time(&mut self, t: Option<i64>, utc: bool) -> &mut Self {
        if let Some(t) = t {
            self.time(t, utc);
        }
        self
    }

    fn date(&mut self, t: i64) -> &mut Self {
        let (y, m, d) = civil_from_days((t + OFFSET).div_euclid(SECONDS_PER_DAY));
        self.padded(y as u64, 4).push(b'-');
        self.padded(m as u64, 2).push(b'-');
        self.padded(d as u64, 2)
    }

    fn money(&mut self, cents: i64) -> &mut Self {
        if cents < 0 {
            self.push(b'-');
        }
        let c = cents.unsigned_abs();
        self.num(c / 100).push(b'.');
        self.padded(c % 100, 2)
    }

    #[inline]
    fn bool(&mut self, b: bool) -> &mut Self {
        self.text(if b { "true" } else { "false" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_canonical_files() {
        let mut b = Vec::new();
        b.time(1_740_792_600, false)
            .comma()
            .time(1_740_792_600, true)
            .comma()
            .money(12345)
            .comma()
            .padded(42, 6)
            .comma()
            .num(0);
        assert_eq!(String::from_utf8(b).unwrap(), "2025-03-01T09:30:00+08:00,2025-03-01T01:30:00Z,123.45,000042,0");
    }
}
