//! Password logins: limited per user name and per address, hashed off the HTTP workers, a few
//! at a time.
//!
//! A guessing attack meets three limits. Each user name takes [`PER_USER`] attempts, then one
//! more every few seconds, whoever sends them; each address (an IPv6 address counts by its /64,
//! what one host usually holds) takes [`PER_ADDRESS`]. Over either, the answer is 429 with
//! `Retry-After` and no hash is computed. The hashes themselves (tens of milliseconds of one
//! core and 19 MiB each) run on the blocking pool, at most half the cores at once, so a flood of
//! logins queues behind itself and never in front of sync, `/healthz` or another request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::{AuthError, Directory};

/// How many attempts a key may make at once, and how soon it earns another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimit {
    pub burst: u32,
    pub every: Duration,
}

/// Attempts at one user name: ten, then one every 30 seconds (120 an hour at most).
pub const PER_USER: AttemptLimit = AttemptLimit {
    burst: 10,
    every: Duration::from_secs(30),
};

/// Attempts from one address: thirty, then one every 2 seconds.
pub const PER_ADDRESS: AttemptLimit = AttemptLimit {
    burst: 30,
    every: Duration::from_secs(2),
};

/// The most keys remembered; past it, keys whose budget has refilled are forgotten first.
const MAX_KEYS: usize = 100_000;

/// How long a login waits for a hashing slot before it is told to come back.
const QUEUE_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Attempts left, in thousandths (refills are fractional).
    left_milli: u64,
    updated: Instant,
}

/// Per-key attempt budgets (token buckets).
#[derive(Debug)]
pub struct AttemptBudgets {
    per_user: AttemptLimit,
    per_address: AttemptLimit,
    budgets: Mutex<HashMap<Key, Budget>>,
}

impl AttemptBudgets {
    pub fn new(per_user: AttemptLimit, per_address: AttemptLimit) -> Self {
        Self {
            per_user,
            per_address,
            budgets: Mutex::new(HashMap::new()),
        }
    }

    /// Spends one attempt of `user` and one of `address`, or tells how long until both have
    /// one (and spends nothing).
    pub fn spend(&self, user: &str, address: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let mut keys = vec![(Key::User(user.to_owned()), self.per_user)];
        if let Some(address) = address {
            keys.push((Key::Address(address_key(address)), self.per_address));
        }
        let Ok(mut budgets) = self.budgets.lock() else {
            return Err(Duration::from_secs(1));
        };
        if budgets.len() >= MAX_KEYS {
            forget_refilled(&mut budgets, self.per_user, self.per_address, now);
        }
        let refilled: Vec<(Key, AttemptLimit, Budget)> = keys
            .into_iter()
            .map(|(key, limit)| {
                let budget = budgets
                    .get(&key)
                    .map_or_else(|| full(limit, now), |budget| refill(*budget, limit, now));
                (key, limit, budget)
            })
            .collect();
        let wait = refilled
            .iter()
            .filter(|(_, _, budget)| budget.left_milli < 1000)
            .map(|(_, limit, budget)| wait_for_one(*budget, *limit))
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        for (key, _, mut budget) in refilled {
            budget.left_milli -= 1000;
            budgets.insert(key, budget);
        }
        Ok(())
    }
}

/// An IPv4 address as it is; an IPv6 address by its /64 network.
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(network.into())
            }
        },
        v4 => v4,
    }
}

fn full(limit: AttemptLimit, now: Instant) -> Budget {
    Budget {
        left_milli: u64::from(limit.burst) * 1000,
        updated: now,
    }
}

fn refill(budget: Budget, limit: AttemptLimit, now: Instant) -> Budget {
    let elapsed = now.saturating_duration_since(budget.updated);
    let earned = elapsed.as_millis() * 1000 / limit.every.as_millis().max(1);
    let cap = u64::from(limit.burst) * 1000;
    Budget {
        left_milli: u64::try_from(earned)
            .unwrap_or(u64::MAX)
            .saturating_add(budget.left_milli)
            .min(cap),
        updated: now,
    }
}

fn wait_for_one(budget: Budget, limit: AttemptLimit) -> Duration {
    let missing = 1000u64.saturating_sub(budget.left_milli);
    let millis = u128::from(missing) * limit.every.as_millis() / 1000;
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

fn forget_refilled(
    budgets: &mut HashMap<Key, Budget>,
    per_user: AttemptLimit,
    per_address: AttemptLimit,
    now: Instant,
) {
    budgets.retain(|key, budget| {
        let limit = match key {
            Key::User(_) => per_user,
            Key::Address(_) => per_address,
        };
        refill(*budget, limit, now).left_milli < u64::from(limit.burst) * 1000
    });
    if budgets.len() >= MAX_KEYS {
        // Every key is mid-attack: forget the oldest half rather than grow without bound.
        let mut ages: Vec<Instant> = budgets.values().map(|budget| budget.updated).collect();
        ages.sort_unstable();
        let cut = ages[ages.len() / 2];
        budgets.retain(|_, budget| budget.updated > cut);
    }
}

/// The login service: attempt budgets, then a hashing slot, then the directory's check.
#[derive(Debug)]
pub struct Logins {
    directory: Arc<Directory>,
    budgets: AttemptBudgets,
    hashing: Semaphore,
}

impl Logins {
    pub fn new(directory: Arc<Directory>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            directory,
            budgets: AttemptBudgets::new(PER_USER, PER_ADDRESS),
            hashing: Semaphore::new((cores / 2).max(1)),
        }
    }

    /// Checks a password from `address` and issues a token valid for `ttl_ms`.
    pub async fn sign_in(
        &self,
        name: String,
        password: String,
        address: Option<IpAddr>,
        ttl_ms: i64,
        now: i64,
    ) -> Result<String, AuthError> {
        self.budgets
            .spend(&name, address, Instant::now())
            .map_err(|wait| AuthError::TooManyAttempts {
                retry_after_secs: wait.as_secs().max(1),
            })?;
        let busy = AuthError::TooManyAttempts {
            retry_after_secs: 1,
        };
        let _slot = tokio::time::timeout(QUEUE_WAIT, self.hashing.acquire())
            .await
            .map_err(|_| busy)?
            .map_err(|_| busy)?;
        let directory = self.directory.clone();
        tokio::task::spawn_blocking(move || directory.login(&name, &password, ttl_ms, now))
            .await
            .map_err(|_| busy)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIGHT: AttemptLimit = AttemptLimit {
        burst: 3,
        every: Duration::from_secs(10),
    };

    #[test]
    fn a_user_name_runs_out_of_attempts_and_earns_them_back() {
        let budgets = AttemptBudgets::new(TIGHT, PER_ADDRESS);
        let start = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(budgets.spend("olga", Some(a), start), Ok(()));
        }
        // From another address too: the name is what is limited.
        assert_eq!(
            budgets.spend("olga", Some(b), start),
            Err(Duration::from_secs(10))
        );
        assert_eq!(
            budgets.spend("olga", Some(b), start + Duration::from_secs(4)),
            Err(Duration::from_secs(6))
        );
        assert_eq!(budgets.spend("ana", Some(b), start), Ok(()));
        assert_eq!(
            budgets.spend("olga", Some(b), start + Duration::from_secs(10)),
            Ok(())
        );
    }

    #[test]
    fn an_address_runs_out_whatever_names_it_tries() {
        let budgets = AttemptBudgets::new(PER_USER, TIGHT);
        let now = Instant::now();
        let host: IpAddr = "2001:db8::1".parse().expect("ip");
        let neighbour: IpAddr = "2001:db8::ffff:2".parse().expect("ip");
        let elsewhere: IpAddr = "2001:db8:1::1".parse().expect("ip");
        for name in ["a", "b", "c"] {
            assert_eq!(budgets.spend(name, Some(host), now), Ok(()));
        }
        assert!(budgets.spend("d", Some(host), now).is_err());
        assert!(
            budgets.spend("e", Some(neighbour), now).is_err(),
            "the same /64"
        );
        assert_eq!(budgets.spend("f", Some(elsewhere), now), Ok(()));
        // A refused attempt spends nothing: the name "d" still has its budget.
        assert_eq!(budgets.spend("d", Some(elsewhere), now), Ok(()));
    }

    #[test]
    fn remembered_keys_stay_bounded() {
        let budgets = AttemptBudgets::new(PER_USER, PER_ADDRESS);
        let now = Instant::now();
        for i in 0..MAX_KEYS + 10 {
            let _ = budgets.spend(&format!("user{i}"), None, now);
        }
        let len = budgets.budgets.lock().map(|b| b.len()).unwrap_or(0);
        assert!(len <= MAX_KEYS, "{len}");
    }
}
