//! Password logins: limited per user name and per address, hashed off the HTTP workers, a few
//! at a time.
//!
//! A guessing attack meets three limits. Each user name takes [`PER_USER`] attempts, then one
//! more every few seconds, whoever sends them; each address (an IPv6 address counts by its /64,
//! what one host usually holds) takes [`PER_ADDRESS`]. Over either, the answer is 429 with
//! `Retry-After` and no hash is computed. The hashes themselves (tens of milliseconds of one
//! core and 19 MiB each) run on the blocking pool, at most half the cores at once, so a flood of
//! logins queues behind itself and never in front of sync, `/healthz` or another request.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::{AuthError, Directory};
use crate::rate::{Buckets, Rate};

/// Attempts at one user name: ten, then one every 30 seconds (120 an hour at most).
pub const PER_USER: Rate = Rate {
    burst: 10,
    every: Duration::from_secs(30),
};

/// Attempts from one address: thirty, then one every 2 seconds.
pub const PER_ADDRESS: Rate = Rate {
    burst: 30,
    every: Duration::from_secs(2),
};

/// How long a login waits for a hashing slot before it is told to come back.
const QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Login attempts left per user name and per address.
#[derive(Debug)]
pub struct AttemptBudgets {
    per_user: Buckets<String>,
    per_address: Buckets<IpAddr>,
}

impl AttemptBudgets {
    pub fn new(per_user: Rate, per_address: Rate) -> Self {
        Self {
            per_user: Buckets::new(per_user),
            per_address: Buckets::new(per_address),
        }
    }

    /// Spends one attempt of `user` and one of `address`, or tells how long until both have
    /// one (and spends nothing).
    pub fn spend(&self, user: &str, address: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let user = user.to_owned();
        let address = address.map(address_key);
        let wait = address
            .map(|address| self.per_address.wait(&address, 1, now))
            .unwrap_or_default()
            .max(self.per_user.wait(&user, 1, now));
        if !wait.is_zero() {
            return Err(wait);
        }
        self.per_user.take(&user, 1, now);
        if let Some(address) = address {
            self.per_address.take(&address, 1, now);
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

    const TIGHT: Rate = Rate {
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
}
