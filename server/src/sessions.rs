//! The open WebSocket sessions of each user, so that a change to a user (a revoked token, a
//! disabled account, another role or other grants) reaches their open connections at once:
//! each session checks its token again and closes, or takes the user's new rights.

use std::collections::HashMap;
use std::sync::Mutex;

use actix::prelude::*;
use itinera_core::engine::SessionId;

/// Check your token again: the user behind it changed.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Reauthenticate;

/// Every open session, by user.
#[derive(Debug, Default)]
pub struct SessionRegistry {
    by_user: Mutex<HashMap<String, HashMap<SessionId, Recipient<Reauthenticate>>>>,
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

    /// How many sessions `user` has open.
    pub fn count(&self, user: &str) -> usize {
        self.by_user
            .lock()
            .map(|by_user| by_user.get(user).map_or(0, HashMap::len))
            .unwrap_or(0)
    }
}
