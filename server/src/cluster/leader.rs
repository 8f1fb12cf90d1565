//! [`Leader`]: runs the authority while this node leads, and only then.

use std::sync::Arc;

use actix::prelude::*;
use itinera_core::DocumentId;
use itinera_core::DocumentKind;
use itinera_core::store::Leadership;

use crate::actors::Hub;
use crate::authority::{Authority, CompanyRules, DecideStoredDocument, Fence, SettleBeforeStop};
use crate::services::Services;
use crate::{Error, Result};

/// This node started or stopped leading (from the store's campaign).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct LeadershipChanged(pub Leadership);

/// Another node committed `document`: the authority decides what its outbox holds for it, if
/// this node leads.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct DecideStored {
    pub document: DocumentId,
    pub kind: Option<DocumentKind>,
}

/// The server is stopping: the authority, if this node leads, settles what it looked at
/// (see [`SettleBeforeStop`]); answered once it has.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Settle;

/// Starts the authority on a thread of its own when this node leads, stops it when it no
/// longer does: at most one authority decides at a time across the nodes. A new authority
/// starts by deciding every outbox entry left, which is how a new leader takes over.
pub struct Leader {
    services: Arc<Services>,
    hub: Addr<Hub>,
    authority: Option<(Arbiter, Addr<Authority>)>,
}

impl std::fmt::Debug for Leader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leader")
            .field("leading", &self.authority.is_some())
            .finish_non_exhaustive()
    }
}

impl Leader {
    /// A leader for this node; the company's settings are checked now (an unknown time zone
    /// stops the server with its name), not when the node first leads.
    pub fn new(services: Arc<Services>, hub: Addr<Hub>) -> Result<Self> {
        CompanyRules::new(&services.config.company)
            .map_err(|err| Error::Config(err.to_string()))?;
        // Every change committed with an outbox entry waits for the authority from its commit,
        // which is now, on this node while it leads (the backlog ignores it otherwise).
        let metrics = services.metrics.clone();
        services
            .events
            .observe_committed(Arc::new(move |committed| {
                if let Some(entry) = &committed.outbox {
                    metrics
                        .authority_backlog
                        .add(&entry.key, std::time::Duration::ZERO);
                }
            }));
        Ok(Self {
            services,
            hub,
            authority: None,
        })
    }

    /// Starts the authority, its decisions checked against `fence` (none when the node is
    /// alone).
    pub fn lead(&mut self, fence: Option<Fence>) {
        self.step_down();
        let authority = match Authority::new(self.services.clone(), self.hub.clone(), fence) {
            Ok(authority) => authority,
            Err(error) => {
                tracing::error!(%error, "the authority cannot start");
                return;
            }
        };
        let thread = Arbiter::new();
        let authority = Authority::start_in_arbiter(&thread.handle(), move |_| authority);
        self.services
            .events
            .subscribe_committed(authority.clone().recipient());
        // Counted once subscribed: every change counted from here reaches the authority.
        self.services.metrics.authority_backlog.open();
        self.authority = Some((thread, authority));
    }

    /// Stops the authority, if it runs.
    fn step_down(&mut self) {
        if let Some((thread, _)) = self.authority.take() {
            self.services.metrics.authority_backlog.close();
            thread.stop();
        }
    }
}

impl Actor for Leader {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Self::Context) {
        self.step_down();
    }
}

impl Handler<LeadershipChanged> for Leader {
    type Result = ();

    fn handle(&mut self, changed: LeadershipChanged, _: &mut Self::Context) {
        match changed.0 {
            Leadership::Leading { term_key, term } => {
                self.lead(Some(Fence {
                    key: term_key,
                    term,
                }));
            }
            Leadership::Following => self.step_down(),
        }
    }
}

impl Handler<DecideStored> for Leader {
    type Result = ();

    fn handle(&mut self, stored: DecideStored, _: &mut Self::Context) {
        if let Some((_, authority)) = &self.authority {
            authority.do_send(DecideStoredDocument {
                document: stored.document,
                kind: stored.kind,
            });
        }
    }
}

impl Handler<Settle> for Leader {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Settle, _: &mut Self::Context) -> Self::Result {
        let authority = self
            .authority
            .as_ref()
            .map(|(_, authority)| authority.clone());
        Box::pin(async move {
            if let Some(authority) = authority {
                // An authority that stopped has nothing more to settle.
                let _ = authority.send(SettleBeforeStop).await;
            }
        })
    }
}
