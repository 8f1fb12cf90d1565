//! The open WebSocket sessions of each user, so that a change to a user (a revoked token, a
//! disabled account, another role or other grants) reaches their open connections at once:
//! each session checks its token again and closes, or takes the user's new rights.

use std::collections::HashMap;
use std::sync::Mutex;

use actix::prelude::*;
use itinera_core::engine::SessionId;
use itinera_core::protocol::PeerId;

/// Check your token again: the user behind it changed.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Reauthenticate;

/// Another session of the same user joined with this session's peer id: it takes the peer id
/// over, and this session closes.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Superseded;

/// Who holds a peer id.
#[derive(Debug)]
struct Holder {
    user: String,
    session: SessionId,
    superseded: Recipient<Superseded>,
}

/// Why a session may not join with a peer id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("peer id {peer} is in use by another user's connection; choose another")]
pub struct PeerIdTaken {
    /// The peer id asked for.
    pub peer: PeerId,
}

/// Every open session, by user, and which session holds each peer id.
#[derive(Debug, Default)]
pub struct SessionRegistry {
    by_user: Mutex<HashMap<String, HashMap<SessionId, Recipient<Reauthenticate>>>>,
    peers: Mutex<HashMap<PeerId, Holder>>,
}

impl SessionRegistry {
    /// A session of `user` opened.
    pub fn register(&self, user: &str, session: SessionId, recipient: Recipient<Reauthenticate>) {
        if let Ok(mut by_user) = self.by_user.lock() {
            by_user
                .entry(user.to_owned())
                .or_default()
                .insert(session, recipient);
        }
    }

    /// A session of `user` closed.
    pub fn unregister(&self, user: &str, session: SessionId) {
        if let Ok(mut by_user) = self.by_user.lock() {
            if let Some(sessions) = by_user.get_mut(user) {
                sessions.remove(&session);
                if sessions.is_empty() {
                    by_user.remove(user);
                }
            }
        }
    }

    /// Tells every open session of `user` to check its token again.
    pub fn reauthenticate(&self, user: &str) {
        let recipients: Vec<Recipient<Reauthenticate>> = match self.by_user.lock() {
            Ok(by_user) => by_user
                .get(user)
                .map(|sessions| sessions.values().cloned().collect())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        for recipient in recipients {
            recipient.do_send(Reauthenticate);
        }
    }

    /// Session `session` of `user` joins as `peer`: a peer id belongs to one session of one user
    /// at a time. Another session of the same user that held it is told it was superseded (a
    /// device that reconnects before its old connection timed out); another user's is refused.
    pub fn claim_peer(
        &self,
        peer: &PeerId,
        user: &str,
        session: SessionId,
        superseded: Recipient<Superseded>,
    ) -> Result<(), PeerIdTaken> {
        let Ok(mut peers) = self.peers.lock() else {
            return Ok(());
        };
        if let Some(holder) = peers.get(peer) {
            if holder.session == session {
                return Ok(());
            }
            if holder.user != user {
                return Err(PeerIdTaken { peer: peer.clone() });
            }
            holder.superseded.do_send(Superseded);
        }
        peers.insert(
            peer.clone(),
            Holder {
                user: user.to_owned(),
                session,
                superseded,
            },
        );
        Ok(())
    }

    /// Session `session` no longer holds `peer` (it closed).
    pub fn release_peer(&self, peer: &PeerId, session: SessionId) {
        if let Ok(mut peers) = self.peers.lock() {
            if peers
                .get(peer)
                .is_some_and(|holder| holder.session == session)
            {
                peers.remove(peer);
            }
        }
    }

    /// How many sessions `user` has open.
    pub fn count(&self, user: &str) -> usize {
        self.by_user
            .lock()
            .map(|by_user| by_user.get(user).map_or(0, HashMap::len))
            .unwrap_or(0)
    }
}
