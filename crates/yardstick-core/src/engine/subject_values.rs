//! The values of one metric in one period, per subject.

use super::cells::Subject;
use super::value::MetricValue;

/// Values per subject in subject order (organisation, teams, people — `Subject`'s order):
/// a sorted vector, filled in that order by finalisation, read in order by the result rows
/// and looked up by binary search (formulas, `.change`). A million values in a thousand
/// maps cost more to build as trees than everything else finalisation does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectValues {
    entries: Vec<(Subject, MetricValue)>,
}

impl SubjectValues {
    pub fn new() -> SubjectValues {
        SubjectValues::default()
    }

    /// Values already in subject order (as finalisation makes them), held in a vector of
    /// exactly their number: filling a `SubjectValues` one value at a time grows it by
    /// doubling, which for a million values allocated (and copied) about twice the memory.
    /// (A slice is copied into a vector of its length; a vector is taken as it is.)
    pub fn from_ordered(entries: impl Into<Vec<(Subject, MetricValue)>>) -> SubjectValues {
        let entries = entries.into();
        assert!(entries.is_sorted_by(|a, b| a.0 < b.0), "values in subject order, each subject once");
        SubjectValues { entries }
    }

    fn position(&self, subject: &Subject) -> Result<usize, usize> {
        match self.entries.last() {
            // The usual case when filling: after everything so far.
            Some((last, _)) if last < subject => Err(self.entries.len()),
            _ => self.entries.binary_search_by(|(s, _)| s.cmp(subject)),
        }
    }

    pub fn get(&self, subject: &Subject) -> Option<&MetricValue> {
        self.position(subject).ok().map(|i| &self.entries[i].1)
    }

    /// Sets the value of `subject`, returning the one it replaces.
    pub fn insert(&mut self, subject: Subject, value: MetricValue) -> Option<MetricValue> {
        match self.position(&subject) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (subject, value));
                None
            }
        }
    }

    pub fn remove(&mut self, subject: &Subject) -> Option<MetricValue> {
        self.position(subject).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Subject, &MetricValue)> {
        self.entries.iter().map(|(s, v)| (s, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Subject> {
        self.entries.iter().map(|(s, _)| s)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> IntoIterator for &'a SubjectValues {
    type Item = (&'a Subject, &'a MetricValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Subject, MetricValue)>,
        fn(&'a (Subject, MetricValue)) -> (&'a Subject, &'a MetricValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(s, v)| (s, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Rational;
    use std::collections::BTreeMap;

    /// Inserts, replacements and removals in any order behave as in a `BTreeMap`.
    #[test]
    fn behaves_like_an_ordered_map() {
        let mut rng = crate::testkit::Rng(5);
        let (mut ours, mut tree) = (SubjectValues::new(), BTreeMap::new());
        for step in 0..5000 {
            let subject = match rng.below(3) {
                0 => Subject::Org,
                1 => Subject::Team(rng.below(20) as u32),
                _ => Subject::Person(rng.below(200) as u32),
            };
            let value = MetricValue::plain(Some(Rational::int(step)));
            if rng.below(4) == 0 {
                assert_eq!(ours.remove(&subject), tree.remove(&subject));
            } else {
                assert_eq!(ours.insert(subject, value), tree.insert(subject, value));
            }
            assert_eq!(ours.get(&subject), tree.get(&subject));
        }
        assert_eq!(ours.len(), tree.len());
        assert!(ours.iter().eq(tree.iter()));
        assert!(ours.keys().eq(tree.keys()));
        // The same values given at once, in order, make the same map, found by lookup.
        let ordered: Vec<(Subject, MetricValue)> = tree.iter().map(|(s, v)| (*s, *v)).collect();
        let at_once = SubjectValues::from_ordered(&ordered[..]);
        assert_eq!(at_once, ours);
        assert!(tree.keys().all(|s| at_once.get(s) == tree.get(s)));
    }

    /// Values out of subject order, or a subject twice, are refused.
    #[test]
    fn values_at_once_must_be_in_subject_order() {
        let v = MetricValue::plain(None);
        for bad in [vec![(Subject::Team(1), v), (Subject::Org, v)], vec![(Subject::Org, v), (Subject::Org, v)]] {
            assert!(std::panic::catch_unwind(|| SubjectValues::from_ordered(bad)).is_err());
        }
    }
}
