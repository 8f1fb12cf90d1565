use autosurgeon::{Counter, Hydrate, HydrateError, Reconcile, Reconciler};

use super::Shape;

/// A counted quantity: an [`autosurgeon::Counter`] that writes nothing when it did not change.
///
/// Concurrent increments add up, so two guides consuming 3 bottles each offline leave the
/// merged count 6 lower. A bare `Counter` reconciles as an increment even when the increment is
/// zero, which would add one operation per counter to every change of a stock location.
#[derive(Debug, Clone, Default)]
pub struct Quantity {
    counter: Counter,
    /// The value read from the document, `None` for a quantity not stored yet.
    stored: Option<i64>,
}

impl Quantity {
    /// A new quantity starting at `value`.
    pub fn new(value: i64) -> Self {
        Self {
            counter: Counter::with_value(value),
            stored: None,
        }
    }

    /// Adds `by` (negative to subtract); merges with other devices' increments.
    pub fn increment(&mut self, by: i64) {
        self.counter.increment(by);
    }

    /// The current value, including increments not yet written.
    pub fn value(&self) -> i64 {
        self.counter.value()
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Eq for Quantity {}

impl Reconcile for Quantity {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
        if self.stored == Some(self.value()) {
            return Ok(());
        }
        self.counter.reconcile(reconciler)
    }
}

impl Hydrate for Quantity {
    fn hydrate_counter(value: i64) -> Result<Self, HydrateError> {
        Ok(Self {
            counter: Counter::hydrate_counter(value)?,
            stored: Some(value),
        })
    }
}

impl Shape for Quantity {}
