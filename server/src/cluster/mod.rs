//! Several nodes on one store: what this node does with the commits of the others, and which
//! node runs the authority.
//!
//! On the embedded redb file the node is alone: nothing is committed elsewhere (the store has
//! no [`SharedStore`]), and the authority starts at once, as it always did. On a store several
//! nodes share (PostgreSQL), the store tells this node what the others commit
//! ([`StoreNotice`]), and [`RemoteCommits`] hands each written document to the hub (which
//! merges it into the open document's actor, so that its peers get it, and publishes it to
//! the read model, the lists and the devices' changes feeds), each written user or token to
//! the directory and the user's sessions, and each document to the [`Leader`], whose
//! authority decides it from the outbox if this node leads.
//!
//! ```text
//! other node's commit ─ NOTIFY ─▶ store's listener ─▶ RemoteCommits ─┬▶ Hub ─▶ DocActor (merge, sync, publish)
//!                                                                    ├▶ Directory + sessions
//!                                                                    └▶ Leader ─▶ Authority (outbox)
//! ```
//!
//! [`SharedStore`]: itinera_core::store::SharedStore
//! [`StoreNotice`]: itinera_core::store::StoreNotice

mod leader;
mod remote_commits;

use std::sync::Arc;
use std::sync::mpsc;

use actix::prelude::*;
use itinera_core::store::{DocumentStore, Leadership, StoreNotice};

pub use leader::{DecideStored, Leader, LeadershipChanged, Settle};
pub use remote_commits::RemoteCommits;

use crate::actors::Hub;
use crate::services::Services;
use crate::{Error, Result};

/// Starts listening to the other nodes' commits, if the store is shared: before the node
/// reads its users and read model, so that nothing committed after they were read goes
/// unheard. The notices wait in the returned channel until [`start`] takes them.
pub fn listen(store: &dyn DocumentStore) -> Result<Option<mpsc::Receiver<StoreNotice>>> {
    let Some(shared) = store.shared() else {
        return Ok(None);
    };
    let (tell, notices) = mpsc::channel();
    shared.listen(Arc::new(move |notice| {
        // The node is stopping when nobody takes them.
        let _ = tell.send(notice);
    }))?;
    Ok(Some(notices))
}

/// Starts the authority (at once when the node is alone, else whenever it leads) and, on a
/// shared store, the thread that takes the other nodes' commits. Returns the leader, whom the
/// server tells to step down when it stops.
pub fn start(
    services: &Arc<Services>,
    hub: &Addr<Hub>,
    notices: Option<mpsc::Receiver<StoreNotice>>,
) -> Result<Addr<Leader>> {
    let mut leader = Leader::new(services.clone(), hub.clone())?;
    let Some(notices) = notices else {
        leader.lead(None);
        return Ok(leader.start());
    };
    let leader = leader.start();
    RemoteCommits::new(services.clone(), hub.clone(), leader.clone())
        .spawn(notices)
        .map_err(|source| Error::Io {
            context: "starting the thread that takes other nodes' commits".into(),
            source,
        })?;
    if let Some(shared) = services.store.shared() {
        let elected = leader.clone();
        shared.campaign(Arc::new(move |leadership: Leadership| {
            elected.do_send(LeadershipChanged(leadership));
        }))?;
    }
    Ok(leader)
}
