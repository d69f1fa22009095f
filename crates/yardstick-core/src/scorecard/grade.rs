//! Grades and ranks: absolute bands, forced distribution with quotas and deterministic
//! tie-breaks, grade caps from vetoes, and competition ranking (1, 2, 2, 4).

use super::method::{mul, r};
use crate::engine::Rational;

/// The grade of a total under absolute bands (best first; the last band takes the rest).
pub fn band(bands: &[(String, Rational)], total: Rational) -> String {
    bands.iter().find(|(_, min)| total >= *min).or(bands.last()).map(|(g, _)| g.clone()).unwrap_or_default()
}

/// One person in a forced distribution.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    pub total: Rational,
    /// The score of the tie-break item (None sorts last).
    pub tie_break: Option<Rational>,
    /// The person id: the last, always-distinct tie-break.
    pub id: &'a str,
}

/// How many people of `n` each quota gets: cumulative shares rounded half up, so the
/// counts add up to `n` exactly (quotas in percent, best first).
pub fn quota_counts(quotas: &[Rational], n: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(quotas.len());
    let mut cumulative = r(0);
    let mut before = 0usize;
    for (k, q) in quotas.iter().enumerate() {
        cumulative = cumulative.checked_add(*q).unwrap_or(cumulative);
        let boundary = if k + 1 == quotas.len() {
            n
        } else {
            let exact = mul(cumulative, r(n as i128)).checked_div(r(100)).unwrap_or(r(0));
            // Round half up: floor(x + 1/2).
            let twice = exact.num * 2 + exact.den();
            (twice.div_euclid(2 * exact.den()) as usize).min(n)
        };
        out.push(boundary.saturating_sub(before));
        before = boundary.max(before);
    }
    out
}

/// The order of a forced distribution: by total, then the tie-break item's score, then
/// person id — the best first. Returns indexes into `candidates`.
pub fn forced_order(candidates: &[Candidate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&candidates[a], &candidates[b]);
        y.total.cmp(&x.total).then_with(|| y.tie_break.cmp(&x.tie_break)).then_with(|| x.id.cmp(y.id))
    });
    order
}

/// Grades by quota (best first) for candidates: index → grade.
pub fn forced(candidates: &[Candidate], quotas: &[(String, Rational)]) -> Vec<String> {
    let order = forced_order(candidates);
    let counts = quota_counts(&quotas.iter().map(|(_, q)| *q).collect::<Vec<_>>(), candidates.len());
    let mut out = vec![String::new(); candidates.len()];
    let mut at = 0;
    for ((grade, _), count) in quotas.iter().zip(counts) {
        for &i in &order[at..at + count] {
            out[i] = grade.clone();
        }
        at += count;
    }
    out
}

/// The better of a grade and a cap is the cap: a vetoed person's grade is no better than
/// `cap`. `order` lists grades best first.
pub fn capped(grade: &str, cap: &str, order: &[&str]) -> String {
    let at = |g: &str| order.iter().position(|o| *o == g).unwrap_or(usize::MAX);
    if at(grade) < at(cap) { cap.to_string() } else { grade.to_string() }
}

/// Competition ranks (1, 2, 2, 4) of totals, higher is better.
pub fn competition_ranks(totals: &[Rational]) -> Vec<u32> {
    let mut sorted: Vec<Rational> = totals.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    totals.iter().map(|t| sorted.partition_point(|s| s > t) as u32 + 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::tests::d;

    #[test]
    fn bands_take_the_first_minimum_reached() {
        let bands: Vec<(String, Rational)> =
            [("A+", "95"), ("A", "85"), ("B", "70"), ("C", "60"), ("D", "0")].map(|(g, m)| (g.into(), d(m))).into();
        let check = |total: &str, grade: &str| assert_eq!(band(&bands, d(total)), grade, "total {total}");
        check("100", "A+");
        check("95", "A+");
        check("94.99", "A");
        check("85", "A");
        check("70", "B");
        check("69.99", "C");
        check("60", "C");
        check("59.99", "D");
        check("0", "D");
    }

    #[test]
    fn quota_counts_add_up_by_cumulative_rounding() {
        let q = |v: &[&str]| v.iter().map(|t| d(t)).collect::<Vec<_>>();
        let standard = q(&["10", "20", "50", "15", "5"]);
        // n = 10: boundaries 1, 3, 8, 9.5 → 10, 10.
        assert_eq!(quota_counts(&standard, 10), vec![1, 2, 5, 2, 0]);
        // n = 7: 0.7 → 1, 2.1 → 2, 5.6 → 6, 6.65 → 7, 7.
        assert_eq!(quota_counts(&standard, 7), vec![1, 1, 4, 1, 0]);
        // n = 20: 2, 6, 16, 19, 20.
        assert_eq!(quota_counts(&standard, 20), vec![2, 4, 10, 3, 1]);
        assert_eq!(quota_counts(&standard, 0), vec![0, 0, 0, 0, 0]);
        for n in 0..200 {
            assert_eq!(quota_counts(&standard, n).iter().sum::<usize>(), n);
        }
    }

    #[test]
    fn forced_distribution_breaks_ties_by_item_then_id() {
        let c =
            |total: &str, tie: Option<&str>, id: &'static str| Candidate { total: d(total), tie_break: tie.map(d), id };
        let people = vec![
            c("80", Some("90"), "P4"),
            c("90", Some("50"), "P1"),
            c("80", Some("95"), "P3"), // same total as P4, better tie-break item
            c("80", Some("90"), "P2"), // same total and item as P4: id decides
            c("70", None, "P5"),
        ];
        assert_eq!(forced_order(&people), vec![1, 2, 3, 0, 4]);
        let quotas: Vec<(String, Rational)> =
            [("A", "20"), ("B", "40"), ("C", "40")].map(|(g, q)| (g.into(), d(q))).into();
        // counts for 5: 1, 2, 2
        assert_eq!(forced(&people, &quotas), vec!["C", "A", "B", "B", "C"]);
    }

    #[test]
    fn caps_only_lower_a_grade() {
        let order = ["A+", "A", "B", "C", "D"];
        assert_eq!(capped("A+", "C", &order), "C");
        assert_eq!(capped("B", "C", &order), "C");
        assert_eq!(capped("D", "C", &order), "D");
    }

    #[test]
    fn competition_ranking_skips_after_ties() {
        let t = ["90", "85", "90", "70", "85", "85"].map(d);
        assert_eq!(competition_ranks(&t), vec![1, 3, 1, 6, 3, 3]);
        assert_eq!(competition_ranks(&[]), Vec::<u32>::new());
    }
}
