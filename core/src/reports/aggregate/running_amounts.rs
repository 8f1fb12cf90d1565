//! Money summed per currency that can be taken back out: the running form of [`Amounts`].
//!
//! An incremental report adds a document's amounts when it arrives and subtracts the same
//! amounts when it changes or goes. [`Amounts`] records a currency as soon as any amount in it
//! is added (a zero amount too), so a running sum also counts the amounts in each currency: a
//! currency whose last amount was taken out disappears, exactly as if it had never been added.
//! Sums are kept exact in `i128` and saturated to `i64` only when read.
//!
//! ```text
//! let mut booked = RunningAmounts::default();
//! booked.add("EUR", 100);
//! booked.add("HUF", 0);
//! booked.remove("HUF", 0);
//! assert_eq!(booked.amounts(), [("EUR", 100)].into_iter().collect());
//! ```

use std::collections::BTreeMap;

use crate::reports::amounts::Amounts;

/// Per currency: how many amounts, and their exact sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RunningAmounts(BTreeMap<String, (u64, i128)>);

impl RunningAmounts {
    /// Adds `minor` in `currency`.
    pub(crate) fn add(&mut self, currency: &str, minor: i64) {
        if let Some((count, sum)) = self.0.get_mut(currency) {
            *count += 1;
            *sum += i128::from(minor);
            return;
        }
        self.0.insert(currency.to_owned(), (1, i128::from(minor)));
    }

    /// Takes back an amount [`Self::add`] added.
    pub(crate) fn remove(&mut self, currency: &str, minor: i64) {
        let Some((count, sum)) = self.0.get_mut(currency) else {
            return;
        };
        *count = count.saturating_sub(1);
        *sum -= i128::from(minor);
        if *count == 0 {
            self.0.remove(currency);
        }
    }

    /// Adds every amount of `other`.
    pub(crate) fn add_all(&mut self, other: &RunningAmounts) {
        for (currency, (count, sum)) in &other.0 {
            let (mine, total) = self.0.entry(currency.clone()).or_default();
            *mine += count;
            *total += sum;
        }
    }

    /// Takes out every amount of `other`, which must have been added.
    pub(crate) fn remove_all(&mut self, other: &RunningAmounts) {
        for (currency, (count, sum)) in &other.0 {
            if let Some((mine, total)) = self.0.get_mut(currency) {
                *mine = mine.saturating_sub(*count);
                *total -= sum;
                if *mine == 0 {
                    self.0.remove(currency);
                }
            }
        }
    }

    /// Whether no amount is in.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The sums as reports show them.
    pub(crate) fn amounts(&self) -> Amounts {
        self.0
            .iter()
            .map(|(currency, (_, sum))| (currency.as_str(), saturate(*sum)))
            .collect()
    }
}

/// An exact sum as the `i64` a report shows.
pub(crate) fn saturate(sum: i128) -> i64 {
    i64::try_from(sum).unwrap_or(if sum < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_currency_leaves_with_its_last_amount() {
        let mut running = RunningAmounts::default();
        running.add("EUR", 100);
        running.add("EUR", 0);
        running.add("HUF", 0);
        running.remove("EUR", 100);
        assert_eq!(
            running.amounts(),
            [("EUR", 0), ("HUF", 0)].into_iter().collect()
        );
        running.remove("EUR", 0);
        running.remove("HUF", 0);
        assert!(running.is_empty());
        assert!(running.amounts().is_empty());
    }

    #[test]
    fn sums_saturate_only_when_read() {
        let mut running = RunningAmounts::default();
        running.add("EUR", i64::MAX);
        running.add("EUR", 1);
        assert_eq!(running.amounts().get("EUR"), i64::MAX);
        running.remove("EUR", 1);
        assert_eq!(running.amounts().get("EUR"), i64::MAX);
        running.remove("EUR", i64::MAX);
        running.add("EUR", -5);
        assert_eq!(running.amounts().get("EUR"), -5);
    }
}
