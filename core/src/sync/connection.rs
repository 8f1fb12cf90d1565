use crate::protocol::{Message, PROTOCOL_VERSION, PeerId, PeerMetadata};

/// The handshake of one WebSocket connection, from either end.
///
/// A server-side connection waits for `join`, picks the protocol version and answers `peer`; a
/// client-side one sends `join` and waits for `peer`. Afterwards every message must come from
/// the peer that joined. Anything else is a [`Violation`] with the `error` to send back.
#[derive(Debug)]
pub struct Connection {
    /// Whether we opened the connection (we are the client).
    client_side: bool,
    local: PeerId,
    local_metadata: PeerMetadata,
    state: State,
}

#[derive(Debug)]
enum State {
    AwaitingJoin,
    AwaitingPeer,
    Open {
        remote: PeerId,
        metadata: PeerMetadata,
    },
    Closed,
}

/// What a received message means for the connection.
#[derive(Debug, PartialEq)]
pub enum Handshake {
    /// Server side: the client joined; send `reply` (a `peer` message).
    Joined {
        remote: PeerId,
        metadata: PeerMetadata,
        reply: Message,
    },
    /// Client side: the server answered `peer`.
    Accepted {
        remote: PeerId,
        metadata: PeerMetadata,
    },
    /// A message for the sync engine from the joined peer.
    Message(Message),
    /// The peer said `leave`.
    Left { remote: PeerId },
}

/// A message that breaks the handshake rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct Violation {
    /// Why, in words the peer gets to read.
    pub reason: String,
    /// The `error` message to send before acting on `close`.
    pub reply: Box<Message>,
    /// Whether the connection must be closed (unusable) or only this message dropped.
    pub close: bool,
}

impl Connection {
    /// The server end of a new connection.
    pub fn accept(local: PeerId, local_metadata: PeerMetadata) -> Self {
        Self {
            client_side: false,
            local,
            local_metadata,
            state: State::AwaitingJoin,
        }
    }

    /// The client end of a new connection, and the `join` to send first.
    pub fn open(local: PeerId, local_metadata: PeerMetadata) -> (Self, Message) {
        let join = Message::Join {
            sender_id: local.clone(),
            peer_metadata: local_metadata.clone(),
            supported_protocol_versions: Some(vec![PROTOCOL_VERSION.to_owned()]),
        };
        (
            Self {
                client_side: true,
                local,
                local_metadata,
                state: State::AwaitingPeer,
            },
            join,
        )
    }

    /// The peer at the other end, once the handshake is done.
    pub fn remote(&self) -> Option<&PeerId> {
        match &self.state {
            State::Open { remote, .. } => Some(remote),
            _ => None,
        }
    }

    /// What the peer said about itself, once the handshake is done.
    pub fn remote_metadata(&self) -> Option<&PeerMetadata> {
        match &self.state {
            State::Open { metadata, .. } => Some(metadata),
            _ => None,
        }
    }

    /// Our own peer id on this connection.
    pub fn local(&self) -> &PeerId {
        &self.local
    }

    /// Takes one decoded message from the peer.
    pub fn receive(&mut self, message: Message) -> Result<Handshake, Violation> {
        match (&self.state, message) {
            (
                State::AwaitingJoin,
                Message::Join {
                    sender_id,
                    peer_metadata,
                    supported_protocol_versions,
                },
            ) => {
                let supported = supported_protocol_versions
                    .as_ref()
                    .is_none_or(|versions| versions.iter().any(|v| v == PROTOCOL_VERSION));
                if !supported {
                    self.state = State::Closed;
                    return Err(self.violation(
                        Some(sender_id),
                        format!(
                            "unsupported protocol version: offered {:?}, this server speaks {PROTOCOL_VERSION:?}",
                            supported_protocol_versions.unwrap_or_default()
                        ),
                        true,
                    ));
                }
                let reply = self.peer_message(&sender_id);
                self.state = State::Open {
                    remote: sender_id.clone(),
                    metadata: peer_metadata.clone(),
                };
                Ok(Handshake::Joined {
                    remote: sender_id,
                    metadata: peer_metadata,
                    reply,
                })
            }
            (State::AwaitingJoin, other) => {
                let sender = other.sender_id().clone();
                Err(self.violation(
                    Some(sender),
                    format!("{} before join", other.type_name()),
                    true,
                ))
            }
            (
                State::AwaitingPeer,
                Message::Peer {
                    sender_id,
                    peer_metadata,
                    selected_protocol_version,
                    ..
                },
            ) => {
                if selected_protocol_version != PROTOCOL_VERSION {
                    self.state = State::Closed;
                    return Err(self.violation(
                        Some(sender_id),
                        format!("server selected unsupported protocol version {selected_protocol_version:?}"),
                        true,
                    ));
                }
                self.state = State::Open {
                    remote: sender_id.clone(),
                    metadata: peer_metadata.clone(),
                };
                Ok(Handshake::Accepted {
                    remote: sender_id,
                    metadata: peer_metadata,
                })
            }
            (
                State::AwaitingPeer,
                Message::Error {
                    message, sender_id, ..
                },
            ) => {
                self.state = State::Closed;
                Err(self.violation(
                    Some(sender_id),
                    format!("server refused the connection: {message}"),
                    true,
                ))
            }
            (State::AwaitingPeer, other) => {
                let sender = other.sender_id().clone();
                Err(self.violation(
                    Some(sender),
                    format!("{} before peer", other.type_name()),
                    true,
                ))
            }
            (State::Open { remote, .. }, Message::Join { sender_id, .. }) => {
                if &sender_id == remote {
                    // A client that did not hear our `peer` may join again: answer again.
                    let reply = self.peer_message(&sender_id);
                    let metadata = self.remote_metadata().cloned().unwrap_or_default();
                    Ok(Handshake::Joined {
                        remote: sender_id,
                        metadata,
                        reply,
                    })
                } else {
                    let remote = remote.clone();
                    Err(self.violation(
                        Some(sender_id.clone()),
                        format!("second join as {sender_id} on a connection joined as {remote}"),
                        true,
                    ))
                }
            }
            (State::Open { remote, .. }, Message::Leave { sender_id }) if &sender_id == remote => {
                self.state = State::Closed;
                Ok(Handshake::Left { remote: sender_id })
            }
            (State::Open { remote, .. }, message) => {
                // A server relays ephemeral messages with their author's sender id; everything
                // else must come from the peer that joined.
                let relayed = self.client_side && matches!(message, Message::Ephemeral { .. });
                if message.sender_id() != remote && !relayed {
                    let remote = remote.clone();
                    return Err(self.violation(
                        Some(remote.clone()),
                        format!(
                            "{} from {} on a connection joined as {remote}",
                            message.type_name(),
                            message.sender_id()
                        ),
                        false,
                    ));
                }
                Ok(Handshake::Message(message))
            }
            (State::Closed, message) => {
                let sender = message.sender_id().clone();
                Err(self.violation(Some(sender), "connection already closed".into(), true))
            }
        }
    }

    fn peer_message(&self, target: &PeerId) -> Message {
        Message::Peer {
            sender_id: self.local.clone(),
            target_id: target.clone(),
            peer_metadata: self.local_metadata.clone(),
            selected_protocol_version: PROTOCOL_VERSION.to_owned(),
        }
    }

    fn violation(&self, target: Option<PeerId>, reason: String, close: bool) -> Violation {
        Violation {
            reply: Box::new(Message::Error {
                sender_id: self.local.clone(),
                target_id: target,
                message: reason.clone(),
                document_id: None,
            }),
            reason,
            close,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(sender: &str, versions: Option<Vec<&str>>) -> Message {
        Message::Join {
            sender_id: PeerId::new(sender),
            peer_metadata: PeerMetadata::default(),
            supported_protocol_versions: versions
                .map(|v| v.into_iter().map(String::from).collect()),
        }
    }

    fn server() -> Connection {
        Connection::accept(PeerId::new("server"), PeerMetadata::default())
    }

    #[test]
    fn a_client_and_a_server_shake_hands() {
        let (mut client, join) = Connection::open(PeerId::new("phone"), PeerMetadata::default());
        let mut server = server();
        let Ok(Handshake::Joined { remote, reply, .. }) = server.receive(join) else {
            panic!("server did not accept the join");
        };
        assert_eq!(remote, PeerId::new("phone"));
        assert!(
            matches!(client.receive(reply), Ok(Handshake::Accepted { remote, .. }) if remote.as_str() == "server")
        );
        assert_eq!(client.remote().map(PeerId::as_str), Some("server"));
    }

    #[test]
    fn a_join_without_versions_is_taken_as_version_one() {
        assert!(matches!(
            server().receive(join("p", None)),
            Ok(Handshake::Joined { .. })
        ));
    }

    #[test]
    fn an_unknown_version_is_refused_and_closes() {
        let err = server()
            .receive(join("p", Some(vec!["2"])))
            .expect_err("refused");
        assert!(err.close);
        assert!(err.reason.contains("unsupported protocol version"));
        assert!(matches!(*err.reply, Message::Error { .. }));
    }

    #[test]
    fn a_message_before_join_is_refused() {
        let leave = Message::Leave {
            sender_id: PeerId::new("p"),
        };
        let err = server().receive(leave).expect_err("refused");
        assert!(err.close);
        assert_eq!(err.reason, "leave before join");
    }

    #[test]
    fn a_second_join_as_someone_else_is_refused_but_a_repeat_is_answered() {
        let mut server = server();
        server.receive(join("p", None)).expect("first join");
        assert!(matches!(
            server.receive(join("p", None)),
            Ok(Handshake::Joined { .. })
        ));
        let err = server.receive(join("q", None)).expect_err("refused");
        assert!(err.close);
    }

    #[test]
    fn a_message_from_another_sender_is_dropped() {
        let mut server = server();
        server.receive(join("p", None)).expect("join");
        let err = server
            .receive(Message::Leave {
                sender_id: PeerId::new("q"),
            })
            .expect_err("dropped");
        assert!(!err.close);
    }
}
