use std::collections::HashMap;

use crate::protocol::PeerId;

/// Drops ephemeral messages seen before, as automerge-repo does: per sender and session, only a
/// count higher than the highest seen passes. Relaying peers form loops; this breaks them.
#[derive(Debug, Default)]
pub struct EphemeralRelay {
    highest: HashMap<(PeerId, String), u64>,
}

impl EphemeralRelay {
    /// An empty relay.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a message from `sender` in `session` with `count` is new; remembers it if so.
    pub fn admit(&mut self, sender: &PeerId, session: &str, count: u64) -> bool {
        match self.highest.get_mut(&(sender.clone(), session.to_owned())) {
            Some(highest) if count <= *highest => false,
            Some(highest) => {
                *highest = count;
                true
            }
            None => {
                self.highest
                    .insert((sender.clone(), session.to_owned()), count);
                true
            }
        }
    }

    /// Forgets the sessions of a peer that left.
    pub fn forget(&mut self, sender: &PeerId) {
        self.highest.retain(|(peer, _), _| peer != sender);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_each_count_once_and_in_order() {
        let mut relay = EphemeralRelay::new();
        let alice = PeerId::new("alice");
        assert!(relay.admit(&alice, "s1", 1));
        assert!(!relay.admit(&alice, "s1", 1));
        assert!(relay.admit(&alice, "s1", 3));
        assert!(!relay.admit(&alice, "s1", 2), "older than the newest seen");
        assert!(relay.admit(&alice, "s2", 1), "a new session starts over");
        assert!(relay.admit(&PeerId::new("bob"), "s1", 1));
        relay.forget(&alice);
        assert!(relay.admit(&alice, "s1", 1));
    }
}
