//! A multiset of durations whose mean and median stay at hand while values come and go.
//!
//! The customers report shows the mean and median resolution time of tickets. Sorting every
//! resolution time again after each change would cost as much as the first time; instead the
//! values are kept in two ordered halves (the lower half never larger than the upper, and
//! holding the extra value when the count is odd), so an insert or a removal moves at most one
//! value between them and the median is read at the halves' edges.
//!
//! ```text
//! let mut times = RunningMedian::default();
//! for ms in [5, 1, 3] { times.insert(ms); }
//! assert_eq!(times.median(), Some((3, 3)));
//! times.remove(5);
//! assert_eq!(times.median(), Some((1, 3))); // even: the two middle values
//! ```

use std::collections::BTreeMap;

/// Values in two ordered halves, each a map of value → how many times it occurs.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunningMedian {
    lower: Half,
    upper: Half,
    sum: i128,
}

#[derive(Debug, Clone, Default)]
struct Half {
    values: BTreeMap<i64, u64>,
    len: u64,
}

impl Half {
    fn insert(&mut self, value: i64) {
        *self.values.entry(value).or_default() += 1;
        self.len += 1;
    }

    /// Removes one occurrence of `value`; false when it holds none.
    fn remove(&mut self, value: i64) -> bool {
        let Some(count) = self.values.get_mut(&value) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            self.values.remove(&value);
        }
        self.len -= 1;
        true
    }

    fn first(&self) -> Option<i64> {
        self.values.keys().next().copied()
    }

    fn last(&self) -> Option<i64> {
        self.values.keys().next_back().copied()
    }
}

impl RunningMedian {
    /// Adds one value.
    pub(crate) fn insert(&mut self, value: i64) {
        match self.lower.last() {
            Some(top) if value > top => self.upper.insert(value),
            _ => self.lower.insert(value),
        }
        self.sum += i128::from(value);
        self.balance();
    }

    /// Takes out one occurrence of `value` (nothing when there is none).
    pub(crate) fn remove(&mut self, value: i64) {
        if self.lower.remove(value) || self.upper.remove(value) {
            self.sum -= i128::from(value);
            self.balance();
        }
    }

    /// How many values.
    pub(crate) fn len(&self) -> u64 {
        self.lower.len + self.upper.len
    }

    /// The exact sum of the values.
    pub(crate) fn sum(&self) -> i128 {
        self.sum
    }

    /// The middle value twice for an odd count, the two middle values for an even one; `None`
    /// when empty.
    pub(crate) fn median(&self) -> Option<(i64, i64)> {
        let low = self.lower.last()?;
        if self.lower.len > self.upper.len {
            Some((low, low))
        } else {
            Some((low, self.upper.first()?))
        }
    }

    /// Keeps `lower.len` equal to `upper.len` or one more, every lower value ≤ every upper one.
    fn balance(&mut self) {
        if self.lower.len > self.upper.len + 1 {
            if let Some(top) = self.lower.last() {
                self.lower.remove(top);
                self.upper.insert(top);
            }
        } else if self.upper.len > self.lower.len {
            if let Some(bottom) = self.upper.first() {
                self.upper.remove(bottom);
                self.lower.insert(bottom);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_median_is_the_sorted_values_middle(
            values in proptest::collection::vec(-50i64..50, 0..40),
            removals in proptest::collection::vec(-50i64..50, 0..40),
        ) {
            let mut running = RunningMedian::default();
            let mut kept: Vec<i64> = Vec::new();
            for value in &values {
                running.insert(*value);
                kept.push(*value);
            }
            for value in &removals {
                running.remove(*value);
                if let Some(at) = kept.iter().position(|v| v == value) {
                    kept.swap_remove(at);
                }
            }
            kept.sort_unstable();
            let expected = if kept.is_empty() {
                None
            } else if kept.len() % 2 == 1 {
                Some((kept[kept.len() / 2], kept[kept.len() / 2]))
            } else {
                Some((kept[kept.len() / 2 - 1], kept[kept.len() / 2]))
            };
            prop_assert_eq!(running.median(), expected);
            prop_assert_eq!(running.len(), kept.len() as u64);
            prop_assert_eq!(running.sum(), kept.iter().map(|v| i128::from(*v)).sum::<i128>());
        }
    }
}
