//! The requested periods as UTC instants, cut into atoms: the coarsest intervals such that
//! every period is a run of whole atoms (months for month + quarter + year requests). A
//! record is accumulated once, into its atom; periods add their atoms up.

use crate::period::Period;
use crate::time::{Instant, OrgTimeZone};

/// No atom: the instant is outside every requested period.
pub const NONE: u32 = u32::MAX;

/// Width of the slots of the instant → atom table. Atom boundaries are local midnights, at
/// least 22 hours apart in any time zone, so a slot holds at most one boundary; the table
/// of a year (730 slots of 16 bytes) stays in the first-level cache.
const SLOT_SECONDS: i64 = 12 * 3600;

/// Marks an atom no requested period uses, in [`Slot`].
const UNUSED: u32 = 1 << 31;

/// One slot of the instant → atom table: the atom at the slot's start and the atom from the
/// boundary in it on (`boundary` is `i64::MAX` when there is none), each with [`UNUSED`]
/// set when no period uses it — one load answers [`Timeline::atom_of`].
#[derive(Clone, Copy, Debug)]
struct Slot {
    boundary: Instant,
    before: u32,
    after: u32,
}

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
    /// The slots of [`SLOT_SECONDS`] from `bounds[0]` to the last boundary.
    slots: Vec<Slot>,
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
        let mut slots = Vec::new();
        if n_atoms > 0 {
            let span = bounds[n_atoms] - bounds[0];
            let n_slots = (span + SLOT_SECONDS - 1) / SLOT_SECONDS;
            slots.reserve(n_slots as usize);
            let marked = |a: usize| if used[a] { a as u32 } else { a as u32 | UNUSED };
            let mut a = 0usize;
            for s in 0..n_slots {
                let t = bounds[0] + s * SLOT_SECONDS;
                while a + 1 < n_atoms && bounds[a + 1] <= t {
                    a += 1;
                }
                let next = bounds[a + 1];
                // The last boundary leads out of the atoms: to NONE, which has UNUSED set.
                let after = if a + 1 < n_atoms { marked(a + 1) } else { NONE };
                slots.push(if next < t + SLOT_SECONDS {
                    Slot { boundary: next, before: marked(a), after }
                } else {
                    Slot { boundary: i64::MAX, before: marked(a), after: marked(a) }
                });
            }
        }
        let mut periods_of_atom = vec![Vec::new(); n_atoms];
        for (k, &(a, b)) in period_atoms.iter().enumerate() {
            for list in &mut periods_of_atom[a as usize..b as usize] {
                list.push(k as u32);
            }
        }
        Timeline { periods: periods.to_vec(), starts, ends, bounds, period_atoms, used, periods_of_atom, slots }
    }

    pub fn n_atoms(&self) -> usize {
        self.used.len()
    }

    /// The atom containing `t`, or [`NONE`] (also for null).
    #[inline]
    pub fn atom_of(&self, t: Instant) -> u32 {
        // An instant before the first boundary (null included) wraps round to an offset
        // past the table.
        let from_first = t.wrapping_sub(self.bounds.first().copied().unwrap_or(0)) as u64;
        let Some(slot) = self.slots.get((from_first / SLOT_SECONDS as u64) as usize) else {
            return NONE;
        };
        let a = if t >= slot.boundary { slot.after } else { slot.before };
        if a & UNUSED != 0 { NONE } else { a }
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
        // One call of `f` in the code (so that it is inlined): the listed periods, or else
        // the periods whose atoms overlap.
        let within_one = first == last;
        let listed: &[u32] = if within_one { &self.periods_of_atom[first as usize] } else { &[] };
        let searched = if within_one { &self.period_atoms[..0] } else { &self.period_atoms[..] };
        let overlapping = searched.iter().enumerate().filter(|(_, (a, b))| *a <= last && *b > first).map(|(k, _)| k);
        for k in listed.iter().map(|&k| k as usize).chain(overlapping) {
            f(k);
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
        let slot = &self.slots[((t - self.bounds[0]) / SLOT_SECONDS) as usize];
        (if t >= slot.boundary { slot.after } else { slot.before }) & !UNUSED
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

    /// The slot table answers like a binary search over the boundaries, in zones with and
    /// without daylight saving time, for periods with gaps, on and around every boundary.
    #[test]
    fn atom_of_equals_a_search_over_the_boundaries() {
        let sets: Vec<Vec<Period>> = vec![
            (1..=12).map(|m| Period::month(2025, m)).chain([Period::year(2025)]).collect(),
            vec![Period::month(2025, 3), Period::month(2025, 11), Period::quarter(2025, 2)],
            (60..100).map(|d| Period::day(crate::time::days_from_civil(2025, 1, 1) + d)).collect(),
            vec![Period::iso_week(2025, 10).unwrap(), Period::iso_week(2025, 44).unwrap()],
        ];
        for zone in ["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Asia/Kathmandu", "Pacific/Chatham"] {
            let tz = OrgTimeZone::named(zone).unwrap();
            for periods in &sets {
                let t = Timeline::new(periods, &tz);
                let search = |x: Instant| {
                    let a = t.bounds.partition_point(|&b| b <= x);
                    if a == 0 || a > t.n_atoms() || !t.used[a - 1] { NONE } else { a as u32 - 1 }
                };
                let mut probes = vec![crate::data::NULL, i64::MIN + 1, i64::MAX];
                for &b in &t.bounds {
                    probes.extend([b - 1, b, b + 1, b - SLOT_SECONDS, b + SLOT_SECONDS - 1]);
                }
                let (first, last) = (t.bounds[0], t.bounds[t.bounds.len() - 1]);
                probes.extend((first - 86_400..last + 86_400).step_by(1_021));
                for x in probes {
                    assert_eq!(t.atom_of(x), search(x), "{zone} {periods:?} at {x}");
                }
            }
        }
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
