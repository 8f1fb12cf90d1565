//! The change feed: "document X of kind K changed", published once a change is durable.
//!
//! The read model is its subscriber; what the page hears comes from the read model after it
//! took the change in, so a page that refetches on an event sees the new state. Today the feed
//! is fed by [`ChangeRelay`], which stands between the doc actors and the authority and copies
//! every `Changed` they send; a committed-event bus of the engine can publish into the same
//! [`ChangeFeed::publish`] instead.
//!
//! ```
//! use itinera_core::{DocumentId, DocumentKind};
//! use itinera_server::read_model::{ChangeFeed, DocumentChanged};
//!
//! let feed = ChangeFeed::new();
//! let mut heard = feed.subscribe();
//! let change = DocumentChanged { document: DocumentId::from_bytes([1; 16]), kind: DocumentKind::Account };
//! feed.publish(change);
//! assert_eq!(heard.try_recv().unwrap(), change);
//! ```

use actix::prelude::*;
use itinera_core::{DocumentId, DocumentKind};
use tokio::sync::broadcast;

use crate::actors::Changed;

/// Changes a subscriber may fall behind by before it is told it lagged (and rescans).
const FEED_BUFFER: usize = 65_536;

/// A document changed durably.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentChanged {
    pub document: DocumentId,
    pub kind: DocumentKind,
}

/// Where durable changes are announced. Clones publish into the same feed.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<DocumentChanged>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self {
            sender: broadcast::Sender::new(FEED_BUFFER),
        }
    }
}

impl ChangeFeed {
    pub fn new() -> Self {
        Self::default()
    }

    /// Announces a durable change.
    pub fn publish(&self, change: DocumentChanged) {
        // Fails only when nobody subscribed, which loses nothing.
        let _ = self.sender.send(change);
    }

    /// Every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DocumentChanged> {
        self.sender.subscribe()
    }
}

/// Copies every `Changed` a doc actor sends the authority onto the change feed, and passes it
/// on unchanged.
#[derive(Debug)]
pub struct ChangeRelay {
    authority: Recipient<Changed>,
    feed: ChangeFeed,
}

impl ChangeRelay {
    pub fn new(authority: Recipient<Changed>, feed: ChangeFeed) -> Self {
        Self { authority, feed }
    }
}

impl Actor for ChangeRelay {
    type Context = Context<Self>;
}

impl Handler<Changed> for ChangeRelay {
    type Result = ();

    fn handle(&mut self, changed: Changed, _: &mut Self::Context) {
        self.feed.publish(DocumentChanged {
            document: changed.document,
            kind: changed.kind,
        });
        self.authority.do_send(changed);
    }
}
