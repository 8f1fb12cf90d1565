//! Money summed per currency.
//!
//! Reports never convert currencies (they have no rates): an [`Amounts`] keeps one sum per
//! currency code, so a group holding EUR and HUF opportunities shows both sums side by side
//! instead of adding forints to euros. Serialized as a map, `{"EUR": 120000, "HUF": 4500000}`.
//!
//! ```
//! use itinera_core::reports::Amounts;
//!
//! let mut booked = Amounts::default();
//! booked.add("EUR", 78_000);
//! booked.add("EUR", 22_000);
//! booked.add("HUF", 1_500_000);
//! assert_eq!(booked.get("EUR"), 100_000);
//! assert_eq!(booked.single_currency_total(), None); // two currencies
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Sums in minor units, by currency code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amounts(BTreeMap<String, i64>);

impl Amounts {
    /// No amounts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `minor` in `currency`. A zero amount still records that the currency occurs.
    pub fn add(&mut self, currency: &str, minor: i64) {
        // Looked up before inserting: reports add to a handful of currencies many times.
        if let Some(sum) = self.0.get_mut(currency) {
            *sum = sum.saturating_add(minor);
            return;
        }
        self.0.insert(currency.to_owned(), minor);
    }

    /// Adds every sum of `other`.
    pub fn add_all(&mut self, other: &Amounts) {
        for (currency, minor) in &other.0 {
            self.add(currency, *minor);
        }
    }

    /// The sum in `currency` (zero when none).
    pub fn get(&self, currency: &str) -> i64 {
        self.0.get(currency).copied().unwrap_or(0)
    }

    /// The sums, by currency code in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> {
        self.0
            .iter()
            .map(|(currency, minor)| (currency.as_str(), *minor))
    }

    /// Whether no currency occurs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The total when at most one currency occurs (zero when none); `None` when several do and
    /// a single figure would add unlike money.
    pub fn single_currency_total(&self) -> Option<i64> {
        let mut sums = self.0.values();
        match (sums.next(), sums.next()) {
            (None, _) => Some(0),
            (Some(sum), None) => Some(*sum),
            (Some(_), Some(_)) => None,
        }
    }
}

impl<S: Into<String>> FromIterator<(S, i64)> for Amounts {
    fn from_iter<I: IntoIterator<Item = (S, i64)>>(sums: I) -> Self {
        let mut amounts = Self::default();
        for (currency, minor) in sums {
            amounts.add(&currency.into(), minor);
        }
        amounts
    }
}
