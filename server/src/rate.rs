//! Budgets that refill with time (token buckets), kept per key in memory: login attempts per
//! user name and per address, history per user.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A budget of `burst` units, one more earned every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u64,
    pub every: Duration,
}

/// The most keys remembered; past it, keys whose budget has refilled are forgotten first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Units left, in thousandths (refills are fractional).
    left_milli: u64,
    updated: Instant,
}

/// A [`Rate`] for each key.
#[derive(Debug)]
pub struct Buckets<K> {
    rate: Rate,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// How long until `key` has `amount` units (zero: it has them now). An amount over the
    /// burst waits for a full budget.
    pub fn wait(&self, key: &K, amount: u64, now: Instant) -> Duration {
        let Ok(buckets) = self.buckets.lock() else {
            return self.rate.every;
        };
        let bucket = buckets
            .get(key)
            .map_or_else(|| self.full(now), |bucket| self.refill(*bucket, now));
        let want = amount.min(self.rate.burst).saturating_mul(1000);
        let missing = want.saturating_sub(bucket.left_milli);
        let millis = u128::from(missing) * self.rate.every.as_millis() / 1000;
        Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    /// Takes `amount` units from `key` (down to none).
    pub fn take(&self, key: &K, amount: u64, now: Instant) {
        let Ok(mut buckets) = self.buckets.lock() else {
            return;
        };
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            self.forget_refilled(&mut buckets, now);
        }
        let bucket = buckets
            .get(key)
            .map_or_else(|| self.full(now), |bucket| self.refill(*bucket, now));
        buckets.insert(
            key.clone(),
            Bucket {
                left_milli: bucket
                    .left_milli
                    .saturating_sub(amount.saturating_mul(1000)),
                updated: now,
            },
        );
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.buckets.lock().map_or(0, |buckets| buckets.len())
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn full(&self, now: Instant) -> Bucket {
        Bucket {
            left_milli: self.rate.burst.saturating_mul(1000),
            updated: now,
        }
    }

    fn refill(&self, bucket: Bucket, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(bucket.updated);
        let earned = elapsed.as_millis() * 1000 / self.rate.every.as_millis().max(1);
        Bucket {
            left_milli: u64::try_from(earned)
                .unwrap_or(u64::MAX)
                .saturating_add(bucket.left_milli)
                .min(self.rate.burst.saturating_mul(1000)),
            updated: now,
        }
    }

    fn forget_refilled(&self, buckets: &mut HashMap<K, Bucket>, now: Instant) {
        let full = self.rate.burst.saturating_mul(1000);
        buckets.retain(|_, bucket| self.refill(*bucket, now).left_milli < full);
        if buckets.len() >= MAX_KEYS {
            // Every key is mid-spend: forget the older half rather than grow without bound.
            let mut ages: Vec<Instant> = buckets.values().map(|bucket| bucket.updated).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            buckets.retain(|_, bucket| bucket.updated > cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_SECONDS: Duration = Duration::from_secs(10);

    #[test]
    fn a_budget_runs_out_and_refills_with_time() {
        let buckets = Buckets::new(Rate {
            burst: 3,
            every: TEN_SECONDS,
        });
        let start = Instant::now();
        assert_eq!(buckets.wait(&"a", 3, start), Duration::ZERO);
        buckets.take(&"a", 3, start);
        assert_eq!(buckets.wait(&"a", 1, start), TEN_SECONDS);
        assert_eq!(
            buckets.wait(&"a", 1, start + Duration::from_secs(4)),
            Duration::from_secs(6)
        );
        assert_eq!(buckets.wait(&"b", 1, start), Duration::ZERO);
        assert_eq!(buckets.wait(&"a", 1, start + TEN_SECONDS), Duration::ZERO);
        // More than the burst waits for a full budget.
        assert_eq!(buckets.wait(&"a", 100, start), Duration::from_secs(30));
    }

    #[test]
    fn remembered_keys_stay_bounded() {
        let buckets = Buckets::new(Rate {
            burst: 10,
            every: TEN_SECONDS,
        });
        let now = Instant::now();
        for i in 0..MAX_KEYS + 10 {
            buckets.take(&i, 1, now);
        }
        assert!(buckets.len() <= MAX_KEYS, "{}", buckets.len());
    }
}
