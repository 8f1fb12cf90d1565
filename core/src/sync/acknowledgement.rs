//! An acknowledgement taken in without asking automerge: a sync message without changes whose
//! heads are ours.
//!
//! automerge's `receive_sync_message` walks every ancestor of the message's heads to trim the
//! hashes it counts as sent, even when there is nothing to trim: a message without changes
//! costs a walk of the whole change graph. A document shared by a hundred devices gets a
//! hundred acknowledgements per change, so each change cost a hundred walks of a history that
//! only grows. When the peer's heads are among ours and either nothing counts as sent or the
//! peer holds exactly our heads (so every change we hold, sent ones included, is one of those
//! ancestors), the outcome is known without the walk; this module writes it into the state as
//! automerge would. The suite's debug builds check every use against automerge.

use automerge::AutoCommit;
use automerge::sync::{self, Capability, MessageFlags};

/// Takes `message` into `state` if it is an acknowledgement the shortcut covers; otherwise
/// hands it back untouched, for automerge.
pub(super) fn take(
    doc: &mut AutoCommit,
    state: &mut sync::State,
    message: sync::Message,
) -> Result<(), sync::Message> {
    let ours = doc.get_heads();
    if !covered(&ours, state, &message) {
        return Err(message);
    }
    #[cfg(debug_assertions)]
    let expected = {
        use automerge::sync::SyncDoc;
        let mut expected = state.clone();
        doc.sync()
            .receive_sync_message(&mut expected, message.clone())
            .map(|()| expected)
    };
    apply(&ours, state, message);
    #[cfg(debug_assertions)]
    debug_assert_eq!(
        expected.ok().as_ref(),
        Some(&*state),
        "an acknowledgement was taken in unlike automerge takes it"
    );
    Ok(())
}

/// Whether the shortcut knows the outcome: no changes, heads we all hold (so none is unknown,
/// and the peer did not lose its copy), and either no hash counted as sent or exactly our heads.
fn covered(ours: &[automerge::ChangeHash], state: &sync::State, message: &sync::Message) -> bool {
    let resets = message
        .flags
        .is_some_and(|flags| flags.contains(MessageFlags::SYNC_RESET));
    message.changes.is_empty()
        && !message.heads.is_empty()
        && message.heads.iter().all(|head| ours.contains(head))
        && (resets || state.sent_hashes.is_empty() || same_heads(&message.heads, ours))
}

/// Whether `theirs` names exactly the hashes of `ours` (which automerge keeps sorted).
fn same_heads(theirs: &[automerge::ChangeHash], ours: &[automerge::ChangeHash]) -> bool {
    let mut theirs = theirs.to_vec();
    theirs.sort();
    theirs.dedup();
    theirs == ours
}

/// What automerge's `receive_sync_message` does with a message [`covered`] accepts.
fn apply(ours: &[automerge::ChangeHash], state: &mut sync::State, message: sync::Message) {
    let sync::Message {
        heads,
        need,
        have,
        flags,
        ..
    } = message;
    state.in_flight = false;
    if let Some(flags) = flags {
        let mut capabilities = vec![Capability::MessageV2];
        if flags.contains(MessageFlags::SUPPORTS_SYNC_RESET) {
            capabilities.push(Capability::SyncReset);
        }
        state.their_capabilities = Some(capabilities);
        if flags.contains(MessageFlags::SYNC_RESET) {
            state.sent_hashes.clear();
        }
        state.peer_read_only = flags.contains(MessageFlags::READ_ONLY);
    }
    // Every hash counted as sent is one of our changes, and so an ancestor of our heads: the
    // peer holding our heads holds all of them.
    if same_heads(&heads, ours) {
        state.sent_hashes.clear();
    }
    if heads == ours {
        state.last_sent_heads.clone_from(&heads);
    }
    state.shared_heads.clone_from(&heads);
    state.their_have = Some(have);
    state.their_heads = Some(heads);
    state.their_need = Some(need);
}

#[cfg(test)]
mod tests {
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;

    use super::*;

    /// A server and a phone synced to the same heads, the server having sent the phone its
    /// latest change.
    fn synced_pair() -> (AutoCommit, AutoCommit, sync::State, sync::State) {
        let mut server = AutoCommit::new();
        let mut phone = AutoCommit::new();
        let (mut to_phone, mut to_server) = (sync::State::new(), sync::State::new());
        for n in 0..3 {
            server.put(automerge::ROOT, "seats", n as i64).expect("put");
            server.commit();
            loop {
                let a = server.sync().generate_sync_message(&mut to_phone);
                if let Some(m) = a.clone() {
                    phone
                        .sync()
                        .receive_sync_message(&mut to_server, m)
                        .expect("phone receives");
                }
                let b = phone.sync().generate_sync_message(&mut to_server);
                let done = a.is_none() && b.is_none();
                if let Some(m) = b {
                    server
                        .sync()
                        .receive_sync_message(&mut to_phone, m)
                        .expect("server receives");
                }
                if done {
                    break;
                }
            }
        }
        (server, phone, to_phone, to_server)
    }

    #[test]
    fn an_acknowledgement_of_our_heads_is_taken_as_automerge_takes_it() {
        let (mut server, mut phone, mut to_phone, mut to_server) = synced_pair();
        server.put(automerge::ROOT, "seats", 9).expect("put");
        server.commit();
        let sent = server
            .sync()
            .generate_sync_message(&mut to_phone)
            .expect("a change to send");
        assert!(!to_phone.sent_hashes.is_empty());
        phone
            .sync()
            .receive_sync_message(&mut to_server, sent)
            .expect("phone receives");
        let ack = phone
            .sync()
            .generate_sync_message(&mut to_server)
            .expect("an acknowledgement");
        let mut by_automerge = to_phone.clone();
        server
            .sync()
            .receive_sync_message(&mut by_automerge, ack.clone())
            .expect("automerge receives");
        assert_eq!(take(&mut server, &mut to_phone, ack), Ok(()));
        assert_eq!(to_phone, by_automerge);
        assert!(to_phone.sent_hashes.is_empty());
    }

    #[test]
    fn a_message_with_changes_or_unknown_heads_goes_to_automerge() {
        let (mut server, mut phone, mut to_phone, mut to_server) = synced_pair();
        phone.put(automerge::ROOT, "note", "late").expect("put");
        phone.commit();
        let with_changes = phone
            .sync()
            .generate_sync_message(&mut to_server)
            .expect("a change to send");
        let before = to_phone.clone();
        let handed_back = take(&mut server, &mut to_phone, with_changes.clone());
        assert_eq!(handed_back, Err(with_changes));
        assert_eq!(to_phone, before);
    }
}
