//! The server's event bus: one [`Committed`] per durable commit of a document, and a notice
//! whenever a user's role, grants or status change.
//!
//! The doc actors publish; the authority, the indexer and the read model subscribe at start-up
//! (actors, through [`Recipient`]s, in publication order), and anything asynchronous (a page
//! following changes live) takes a [`broadcast`] receiver, which drops what a slow reader
//! missed and tells it so. Publishers and subscribers know the bus only, not each other.
//!
//! ```
//! use itinera_server::events::Events;
//!
//! let events = Events::default();
//! let mut feed = events.feed();
//! events.user_changed("ana");
//! assert!(feed.try_recv().is_err(), "the feed carries committed documents only");
//! ```

use std::sync::{Arc, RwLock};

use actix::prelude::*;
use itinera_core::engine::Committed;
use tokio::sync::broadcast;

/// How many committed events a [`Events::feed`] receiver may fall behind before it misses some.
const FEED_CAPACITY: usize = 4_096;

/// A document's changes became durable.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct CommittedEvent(pub Arc<Committed>);

/// A user was added, or their role, grants or status changed.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct UserChanged {
    /// The user's name.
    pub user: String,
}

/// A subscriber called on the publisher's thread, before the commit is answered: for quick,
/// in-memory bookkeeping that a reader must see as soon as a write returns (the read model).
pub type Observer = Arc<dyn Fn(&Committed) + Send + Sync>;

/// Where events are published and subscribed to.
pub struct Events {
    observers: RwLock<Vec<Observer>>,
    committed: RwLock<Vec<Recipient<CommittedEvent>>>,
    users: RwLock<Vec<Recipient<UserChanged>>>,
    feed: broadcast::Sender<Arc<Committed>>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            observers: RwLock::new(Vec::new()),
            committed: RwLock::new(Vec::new()),
            users: RwLock::new(Vec::new()),
            feed: broadcast::channel(FEED_CAPACITY).0,
        }
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// Calls `observer` with every committed event from now on, on the publisher's thread.
    pub fn observe_committed(&self, observer: Observer) {
        if let Ok(mut observers) = self.observers.write() {
            observers.push(observer);
        }
    }

    /// Delivers every committed event to `subscriber` from now on. Subscribers that stopped
    /// (an authority whose node no longer leads) are let go here, so that a node that loses and
    /// wins the lead again and again does not keep one more each time.
    pub fn subscribe_committed(&self, subscriber: Recipient<CommittedEvent>) {
        if let Ok(mut subscribers) = self.committed.write() {
            subscribers.retain(Recipient::connected);
            subscribers.push(subscriber);
        }
    }

    /// Delivers every user change to `subscriber` from now on (stopped subscribers are let go,
    /// as for [`Self::subscribe_committed`]).
    pub fn subscribe_users(&self, subscriber: Recipient<UserChanged>) {
        if let Ok(mut subscribers) = self.users.write() {
            subscribers.retain(Recipient::connected);
            subscribers.push(subscriber);
        }
    }

    /// How many subscribers the committed events have.
    #[cfg(test)]
    fn committed_subscribers(&self) -> usize {
        self.committed
            .read()
            .map_or(0, |subscribers| subscribers.len())
    }

    /// The committed events from now on, for an asynchronous reader.
    pub fn feed(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.feed.subscribe()
    }

    /// Publishes a durable commit.
    pub fn publish(&self, committed: Arc<Committed>) {
        if let Ok(observers) = self.observers.read() {
            for observer in observers.iter() {
                observer(&committed);
            }
        }
        if let Ok(subscribers) = self.committed.read() {
            for subscriber in subscribers.iter() {
                subscriber.do_send(CommittedEvent(committed.clone()));
            }
        }
        // Nobody listening is fine.
        let _ = self.feed.send(committed);
    }

    /// Publishes a commit another node made to the store this one shares, to the observers
    /// (the read model) and the feed (the lists, the devices' changes feeds), not to the
    /// subscribers: the indexer indexes what its own node commits, and the authority hears of
    /// other nodes' commits through the outbox (see `cluster`).
    pub fn publish_elsewhere(&self, committed: Arc<Committed>) {
        if let Ok(observers) = self.observers.read() {
            for observer in observers.iter() {
                observer(&committed);
            }
        }
        let _ = self.feed.send(committed);
    }

    /// Tells the subscribers a user changed.
    pub fn user_changed(&self, user: &str) {
        if let Ok(subscribers) = self.users.read() {
            for subscriber in subscribers.iter() {
                subscriber.do_send(UserChanged {
                    user: user.to_owned(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix::{Actor, Arbiter, Context, Handler};

    struct Listener;

    impl Actor for Listener {
        type Context = Context<Self>;
    }

    impl Handler<CommittedEvent> for Listener {
        type Result = ();

        fn handle(&mut self, _: CommittedEvent, _: &mut Self::Context) {}
    }

    #[test]
    fn a_stopped_subscriber_is_let_go_when_the_next_one_subscribes() {
        let system = actix::System::new();
        system.block_on(async {
            let events = Events::default();
            // The authority of a node that leads, on a thread of its own, then stops leading.
            let thread = Arbiter::new();
            let first = Listener::start_in_arbiter(&thread.handle(), |_| Listener);
            events.subscribe_committed(first.recipient());
            assert!(thread.stop());
            assert!(thread.join().is_ok());
            assert_eq!(events.committed_subscribers(), 1);
            // It leads again: the new authority replaces the stopped one.
            let second = Listener.start();
            events.subscribe_committed(second.recipient());
            assert_eq!(events.committed_subscribers(), 1);
        });
    }
}
