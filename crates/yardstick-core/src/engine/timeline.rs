//! The requested periods as UTC instants, cut into atoms: the coarsest intervals such that
//! every period is a run of whole atoms (months for month + quarter + year requests). A
//! record is accumulated once, into its atom; periods add their atoms up.

use crate::period::Period;
use crate::time::{Instant, OrgTimeZone};

/// No atom: the instant is outside every requested period.
pub const NONE: u32 = u32::MAX;

/// Width of the slots of the instant → atom table. Atom boundaries are local midnights, at
/// least 22 hours apart in any time zone, so a slot holds at most one boundary; three hours
/// keep the table of a year in the first-level cache.
const SLOT_SECONDS: i64 = 3 * 3600;

#[derive(Clone, Debug)]
pub struct Timeline {
    pub periods: Vec<Period>,
    /// UTC instants of each period's start and end (local midnights).
    pub starts: Vec<Instant>,
    pub ends: Vec<Instant>,
    /// Sorted distinct boundaries; atom `a` is `[bounds[a], bounds[a + 1])`.
    bounds: Vec<Instant>,
    /// Atom range of each period.
    pub period_atoms: Vec<(u32, u32)>,
    used: Vec<bool>,
    /// The periods containing each atom, in period order.
    periods_of_atom: Vec<Vec<u32>>,
    /// Atom at the start of each slot of [`SLOT_SECONDS`] from `bounds[0]`.
    slot_atom: Vec<u32>,
}

impl Timeline {
    pub fn new(periods: &[Period], tz: &OrgTimeZone) -> Timeline {
        let starts: Vec<Instant> = periods.iter().map(|p| tz.day_start(p.start)).collect();
        let ends: Vec<Instant> = periods.iter().map(|p| tz.day_start(p.end)).collect();
        let mut bounds: Vec<Instant> = starts.iter().chain(&ends).copied().collect();
        bounds.sort_unstable();
        bounds.dedup();
        let n_atoms = bounds.len().saturating_sub(1);
        let atom_index = |t: Instant| bounds.binary_search(&t).expect("a boundary") as u32;
        let period_atoms: Vec<(u32, u32)> =
            starts.iter().zip(&ends).map(|(&s, &e)| (atom_index(s), atom_index(e))).collect();
        let mut used = vec![false; n_atoms];
        for &(a, b) in &period_atoms {
            for u in &mut used[a as usize..b as usize] {
                *u = true;
            }
        }
        let mut slot_atom = Vec::new();
        if n_atoms > 0 {
            let span = bounds[n_atoms] - bounds[0];
            let n_slots = (span + SLOT_SECONDS - 1) / SLOT_SECONDS;
            slot_atom.reserve(n_slots as usize);
            let mut a = 0usize;
            for s in 0..n_slots {
                let t = bounds[0] + s * SLOT_SECONDS;
                while a + 1 < n_atoms && bounds[a + 1] <= t {
                    a += 1;
                }
                slot_atom.push(a as u32);
            }
        }
        let mut periods_of_atom = vec![Vec::new(); n_atoms];
        for (k, &(a, b)) in period_atoms.iter().enumerate() {
            for list in &mut periods_of_atom[a as usize..b as usize] {
                list.push(k as u32);
            }
        }
        Timeline { periods: periods.to_vec(), starts, ends, bounds, period_atoms, used, periods_of_atom, slot_atom }
    }

    pub fn n_atoms(&self) -> usize {
        self.used.len()
    }

    /// The atom containing `t`, or [`NONE`] (also for null).
    #[inline]
    pub fn atom_of(&self, t: Instant) -> u32 {
        let n = self.used.len();
        if n == 0 || t < self.bounds[0] || t >= self.bounds[n] {
            return NONE;
        }
        let a = self.atom_at(t);
        if self.used[a as usize] { a } else { NONE }
    }

    /// Calls `f` with each period whose `[start, end)` overlaps the closed interval
    /// `[lo, hi]`, in period order: those whose atoms reach from the atom of `lo` to the
    /// atom of `hi` — for an interval within one atom (the usual record), that atom's
    /// periods, listed in advance.
    #[inline]
    pub fn for_each_period_overlapping(&self, lo: Instant, hi: Instant, mut f: impl FnMut(usize)) {
        let Some((first, last)) = self.span_atoms(lo, hi) else {
            return;
        };
        if first == last {
            for &k in &self.periods_of_atom[first as usize] {
                f(k as usize);
            }
            return;
        }
        for (k, &(a, b)) in self.period_atoms.iter().enumerate() {
            if a <= last && b > first {
                f(k);
            }
        }
    }

    /// The first and last atom the closed interval `[lo, hi]` reaches (clamped to the
    /// atoms), or `None` when it misses them all.
    #[inline]
    pub fn span_atoms(&self, lo: Instant, hi: Instant) -> Option<(u32, u32)> {
        let n = self.used.len();
        if n == 0 || lo >= self.bounds[n] || hi < self.bounds[0] || lo > hi {
            return None;
        }
        Some((self.atom_at(lo.max(self.bounds[0])), self.atom_at(hi.min(self.bounds[n] - 1))))
    }

    /// The periods containing atom `a`, in period order.
    pub fn periods_of(&self, a: usize) -> &[u32] {
        &self.periods_of_atom[a]
    }

    /// The atom containing `t`, used or not (`t` within the atoms).
    #[inline]
    fn atom_at(&self, t: Instant) -> u32 {
        let mut a = self.slot_atom[((t - self.bounds[0]) / SLOT_SECONDS) as usize] as usize;
        if t >= self.bounds[a + 1] {
            a += 1;
        }
        a as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{ParsedTime, parse_time};

    fn at(s: &str) -> Instant {
        match parse_time(s).unwrap() {
            ParsedTime::Utc(t) => t,
            ParsedTime::Local(_) => panic!(),
        }
    }

    #[test]
    fn months_quarter_and_year_share_month_atoms() {
        let mut periods: Vec<Period> = (1..=12).map(|m| Period::month(2025, m)).collect();
        periods.push(Period::quarter(2025, 1));
        periods.push(Period::year(2025));
        let t = Timeline::new(&periods, &OrgTimeZone::shanghai());
        assert_eq!(t.n_atoms(), 12);
        assert_eq!(t.period_atoms[12], (0, 3));
        assert_eq!(t.period_atoms[13], (0, 12));
        // Boundaries are local midnights: 2025-02-01T00:00+08:00 is 2025-01-31T16:00Z.
        assert_eq!(t.atom_of(at("2025-01-31T15:59:59Z")), 0);
        assert_eq!(t.atom_of(at("2025-01-31T16:00:00Z")), 1);
        assert_eq!(t.atom_of(at("2024-12-31T15:59:59Z")), NONE);
        assert_eq!(t.atom_of(at("2025-12-31T15:59:59Z")), 11);
        assert_eq!(t.atom_of(at("2025-12-31T16:00:00Z")), NONE);
    }

    #[test]
    fn overlap_queries_agree_with_a_scan() {
        let mut periods: Vec<Period> = (1..=12).map(|m| Period::month(2025, m)).collect();
        periods.extend((1..=4).map(|q| Period::quarter(2025, q)));
        periods.push(Period::year(2025));
        periods.push(
            Period::range(crate::time::days_from_civil(2025, 3, 20), crate::time::days_from_civil(2025, 4, 10))
                .unwrap(),
        );
        periods.push(Period::iso_week(2025, 14).unwrap());
        // And periods with gaps between them.
        let gaps = [Period::month(2025, 2), Period::month(2025, 5), Period::quarter(2025, 3), Period::year(2024)];
        for periods in [&periods[..], &gaps[..]] {
            let t = Timeline::new(periods, &OrgTimeZone::shanghai());
            let base = at("2024-12-01T00:00:00Z");
            for i in 0..450 {
                for offset in [-7 * 3600, 0, 1, 86_399] {
                    let lo = base + i * 86_400 + offset;
                    for len in [0, 1, 3600, 40 * 86_400, 200 * 86_400] {
                        let mut fast = Vec::new();
                        t.for_each_period_overlapping(lo, lo + len, |k| fast.push(k));
                        let slow: Vec<usize> =
                            (0..periods.len()).filter(|&k| t.starts[k] <= lo + len && lo < t.ends[k]).collect();
                        assert_eq!(fast, slow, "[{lo}, {}]", lo + len);
                    }
                }
            }
        }
    }

    #[test]
    fn gaps_between_periods_are_in_no_atom_and_odd_offsets_work() {
        let periods = [Period::month(2025, 1), Period::month(2025, 3)];
        let t = Timeline::new(&periods, &OrgTimeZone::named("Asia/Kathmandu").unwrap());
        assert_eq!(t.atom_of(at("2025-02-10T00:00:00Z")), NONE);
        // Kathmandu is UTC+05:45: March starts at 2025-02-28T18:15Z.
        assert_eq!(t.atom_of(at("2025-02-28T18:14:59Z")), NONE);
        assert_eq!(t.atom_of(at("2025-02-28T18:15:00Z")), 2);
        let weeks_and_months = [Period::month(2025, 3), Period::iso_week(2025, 10).unwrap()];
        let t = Timeline::new(&weeks_and_months, &OrgTimeZone::shanghai());
        assert_eq!(t.period_atoms, vec![(0, 3), (1, 2)]);
    }
}
