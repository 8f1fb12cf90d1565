use std::borrow::Cow;
use std::collections::BTreeMap;

use super::cbor::{self, Value, Writer};
use super::{ChangesPage, DecodeLimits, FrameError, PeerId, StorageId, SyncData};

/// The longest peer id or storage id accepted, in bytes (automerge-repo makes ids of a few
/// dozen characters).
pub const MAX_ID_BYTES: usize = 256;
use crate::DocumentId;

/// What a peer says about itself in `join` and `peer`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerMetadata {
    /// The peer's storage id, if it stores documents.
    pub storage_id: Option<StorageId>,
    /// Whether the peer keeps nothing between sessions.
    pub is_ephemeral: Option<bool>,
}

/// A peer's heads of one document as last seen by a storage, in `remote-heads-changed`.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteHeads {
    /// Change hashes as automerge-repo encodes them (opaque here).
    pub heads: Vec<String>,
    /// Unix ms; JS may send it as a float.
    pub timestamp: f64,
}

/// One message of the automerge-repo WebSocket protocol, version "1".
///
/// Field names on the wire are those of the JS implementation (`senderId`, `peerMetadata`,
/// `supportedProtocolVersions`, …). Unknown fields are ignored, so newer peers can add some;
/// known fields of the wrong type are errors.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// Client to server: the first message on a connection.
    Join {
        sender_id: PeerId,
        peer_metadata: PeerMetadata,
        /// `None` when the client sent none (JS then assumes "1").
        supported_protocol_versions: Option<Vec<String>>,
    },
    /// Server to client: the answer to `join`.
    Peer {
        sender_id: PeerId,
        target_id: PeerId,
        peer_metadata: PeerMetadata,
        selected_protocol_version: String,
    },
    /// A peer says goodbye (JS 2.5 never sends it).
    Leave { sender_id: PeerId },
    /// Something went wrong; `document_id` names the document a rejection is about.
    Error {
        sender_id: PeerId,
        target_id: Option<PeerId>,
        message: String,
        document_id: Option<DocumentId>,
    },
    /// Like `sync`, from a peer that does not have the document yet and asks for it.
    Request {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: SyncData,
    },
    /// An Automerge sync message for one document.
    Sync {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: SyncData,
    },
    /// The sender does not have the document (or may not show it).
    DocUnavailable {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
    },
    /// Application data that is relayed, never stored (presence, cursors).
    Ephemeral {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        /// Increases with each message of a session; JS may send it as a float.
        count: u64,
        session_id: String,
        data: Vec<u8>,
    },
    /// Subscribe to (or stop following) the heads other storages have of documents. An empty
    /// list is not sent.
    RemoteSubscriptionChange {
        sender_id: PeerId,
        target_id: PeerId,
        add: Vec<StorageId>,
        remove: Vec<StorageId>,
    },
    /// The heads that storages have of a document changed.
    RemoteHeadsChanged {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        new_heads: BTreeMap<StorageId, RemoteHeads>,
    },
    /// Itinera's extension, device to server: the documents this user may read that changed
    /// after `checkpoint` (0: all of them), with their bodies if `bodies`; with `live`, the
    /// server goes on sending pages as documents change. Plain automerge-repo peers never send
    /// it, so they never receive [`Message::Changes`].
    ChangesSince {
        sender_id: PeerId,
        target_id: PeerId,
        checkpoint: u64,
        bodies: bool,
        live: bool,
        /// The user the device's replica belongs to: the server refuses the feed to a token
        /// of another user, so that a replica is never synced with someone else's rights.
        user: Option<String>,
    },
    /// Itinera's extension, server to device: one page of the changes feed. `checkpoint` is the
    /// position after the page; `caught_up` says no page follows until something changes.
    Changes {
        sender_id: PeerId,
        target_id: PeerId,
        checkpoint: u64,
        caught_up: bool,
        page: ChangesPage,
    },
}

impl Message {
    /// A `request` (the sender lacks the document and asks for it) or a `sync` message.
    pub fn sync_or_request(
        is_request: bool,
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: SyncData,
    ) -> Self {
        if is_request {
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            }
        }
    }

    /// The `type` on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Error { .. } => "error",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
            Message::ChangesSince { .. } => "itinera-changes-since",
            Message::Changes { .. } => "itinera-changes",
        }
    }

    /// Who sent it.
    pub fn sender_id(&self) -> &PeerId {
        match self {
            Message::Join { sender_id, .. }
            | Message::Peer { sender_id, .. }
            | Message::Leave { sender_id }
            | Message::Error { sender_id, .. }
            | Message::Request { sender_id, .. }
            | Message::Sync { sender_id, .. }
            | Message::DocUnavailable { sender_id, .. }
            | Message::Ephemeral { sender_id, .. }
            | Message::RemoteSubscriptionChange { sender_id, .. }
            | Message::RemoteHeadsChanged { sender_id, .. }
            | Message::ChangesSince { sender_id, .. }
            | Message::Changes { sender_id, .. } => sender_id,
        }
    }

    /// The peer it is addressed to, if it names one.
    pub fn target_id(&self) -> Option<&PeerId> {
        match self {
            Message::Peer { target_id, .. }
            | Message::Request { target_id, .. }
            | Message::Sync { target_id, .. }
            | Message::DocUnavailable { target_id, .. }
            | Message::Ephemeral { target_id, .. }
            | Message::RemoteSubscriptionChange { target_id, .. }
            | Message::RemoteHeadsChanged { target_id, .. }
            | Message::ChangesSince { target_id, .. }
            | Message::Changes { target_id, .. } => Some(target_id),
            Message::Error { target_id, .. } => target_id.as_ref(),
            Message::Join { .. } | Message::Leave { .. } => None,
        }
    }

    /// The document it is about, if any.
    pub fn document_id(&self) -> Option<&DocumentId> {
        match self {
            Message::Request { document_id, .. }
            | Message::Sync { document_id, .. }
            | Message::DocUnavailable { document_id, .. }
            | Message::Ephemeral { document_id, .. }
            | Message::RemoteHeadsChanged { document_id, .. } => Some(document_id),
            Message::Error { document_id, .. } => document_id.as_ref(),
            _ => None,
        }
    }

    /// The same message addressed to `target` (how a server relays an ephemeral message: the
    /// author stays the sender). Messages without a target come back unchanged.
    pub fn retargeted(&self, target: &PeerId) -> Message {
        let mut message = self.clone();
        match &mut message {
            Message::Peer { target_id, .. }
            | Message::Request { target_id, .. }
            | Message::Sync { target_id, .. }
            | Message::DocUnavailable { target_id, .. }
            | Message::Ephemeral { target_id, .. }
            | Message::RemoteSubscriptionChange { target_id, .. }
            | Message::RemoteHeadsChanged { target_id, .. }
            | Message::ChangesSince { target_id, .. }
            | Message::Changes { target_id, .. } => *target_id = target.clone(),
            Message::Error { target_id, .. } => *target_id = Some(target.clone()),
            Message::Join { .. } | Message::Leave { .. } => {}
        }
        message
    }

    /// Decodes one binary frame with the given limits.
    pub fn decode(frame: &[u8], limits: &DecodeLimits) -> Result<Self, FrameError> {
        if frame.len() > limits.max_frame_bytes {
            return Err(FrameError::TooLarge {
                size: frame.len(),
                max: limits.max_frame_bytes,
            });
        }
        let value = cbor::decode(frame, limits)?;
        let Value::Map(entries) = value else {
            return Err(FrameError::NotAMap(value.describe()));
        };
        let mut fields = Fields::new(entries)?;
        fields.max_inflated_bytes = limits.max_inflated_bytes;
        let type_name = match fields.remove("type") {
            Some(Value::Text(name)) => name,
            Some(_) | None => return Err(FrameError::MissingType),
        };
        let message = match type_name.as_ref() {
            "join" => {
                let mut f = fields.of("join");
                Message::Join {
                    sender_id: f.peer_id("senderId")?,
                    peer_metadata: f.metadata("peerMetadata")?,
                    supported_protocol_versions: f.opt_strings("supportedProtocolVersions")?,
                }
            }
            "peer" => {
                let mut f = fields.of("peer");
                Message::Peer {
                    sender_id: f.peer_id("senderId")?,
                    target_id: f.peer_id("targetId")?,
                    peer_metadata: f.metadata("peerMetadata")?,
                    selected_protocol_version: f.string("selectedProtocolVersion")?,
                }
            }
            "leave" => Message::Leave {
                sender_id: fields.of("leave").peer_id("senderId")?,
            },
            "error" => {
                let mut f = fields.of("error");
                Message::Error {
                    sender_id: f.peer_id("senderId")?,
                    target_id: f.opt_string("targetId")?.map(PeerId::new),
                    message: f.opt_string("message")?.unwrap_or_default(),
                    document_id: f.opt_document_id("documentId")?,
                }
            }
            "request" | "sync" => {
                let is_request = type_name == "request";
                let mut f = fields.of(if is_request { "request" } else { "sync" });
                let sender_id = f.peer_id("senderId")?;
                let target_id = f.peer_id("targetId")?;
                let document_id = f.document_id("documentId")?;
                let data = f.sync_data("data")?;
                Message::sync_or_request(is_request, sender_id, target_id, document_id, data)
            }
            "doc-unavailable" => {
                let mut f = fields.of("doc-unavailable");
                Message::DocUnavailable {
                    sender_id: f.peer_id("senderId")?,
                    target_id: f.peer_id("targetId")?,
                    document_id: f.document_id("documentId")?,
                }
            }
            "ephemeral" => {
                let mut f = fields.of("ephemeral");
                Message::Ephemeral {
                    sender_id: f.peer_id("senderId")?,
                    target_id: f.peer_id("targetId")?,
                    document_id: f.document_id("documentId")?,
                    count: f.count("count")?,
                    session_id: {
                        let session = f.string("sessionId")?;
                        f.bounded_id("sessionId", &session)?;
                        session
                    },
                    data: f.bytes("data")?,
                }
            }
            "remote-subscription-change" => {
                let mut f = fields.of("remote-subscription-change");
                Message::RemoteSubscriptionChange {
                    sender_id: f.peer_id("senderId")?,
                    target_id: f.peer_id("targetId")?,
                    add: f.storage_ids("add")?,
                    remove: f.storage_ids("remove")?,
                }
            }
            "remote-heads-changed" => {
                let mut f = fields.of("remote-heads-changed");
                Message::RemoteHeadsChanged {
                    sender_id: f.peer_id("senderId")?,
                    target_id: f.peer_id("targetId")?,
                    document_id: f.document_id("documentId")?,
                    new_heads: f.new_heads("newHeads")?,
                }
            }
            "itinera-changes-since" => {
                let mut f = fields.of("itinera-changes-since");
                Message::ChangesSince {
                    sender_id: f.peer_id("senderId")?,
                    target_id: f.peer_id("targetId")?,
                    checkpoint: f.count("checkpoint")?,
                    bodies: f.flag("bodies")?,
                    live: f.flag("live")?,
                    user: f.opt_string("user")?,
                }
            }
            "itinera-changes" => {
                let mut f = fields.of("itinera-changes");
                Message::Changes {
                    sender_id: f.peer_id("senderId")?,
                    target_id: f.peer_id("targetId")?,
                    checkpoint: f.count("checkpoint")?,
                    caught_up: f.flag("caughtUp")?,
                    page: ChangesPage::decode(&f.bytes("page")?, limits)?,
                }
            }
            other => return Err(FrameError::UnknownType(other.to_owned())),
        };
        Ok(message)
    }

    /// Encodes the message as one binary frame, as cbor-x would.
    pub fn encode(&self) -> Vec<u8> {
        let sync_data = match self {
            Message::Request { data, .. } | Message::Sync { data, .. } => Some(data.to_bytes()),
            _ => None,
        };
        let data_len = match self {
            Message::Ephemeral { data, .. } => data.len(),
            _ => sync_data.as_ref().map_or(0, |data| data.len()),
        };
        let mut w = Writer::with_capacity(data_len + 128);
        match self {
            Message::Join {
                sender_id,
                peer_metadata,
                supported_protocol_versions,
            } => {
                w.map(3 + usize::from(supported_protocol_versions.is_some()));
                w.entry_text("type", "join");
                w.entry_text("senderId", sender_id.as_str());
                w.text("peerMetadata");
                write_metadata(&mut w, peer_metadata);
                if let Some(versions) = supported_protocol_versions {
                    w.text("supportedProtocolVersions");
                    w.array(versions.len());
                    for version in versions {
                        w.text(version);
                    }
                }
            }
            Message::Peer {
                sender_id,
                target_id,
                peer_metadata,
                selected_protocol_version,
            } => {
                w.map(5);
                w.entry_text("type", "peer");
                w.entry_text("senderId", sender_id.as_str());
                w.text("peerMetadata");
                write_metadata(&mut w, peer_metadata);
                w.entry_text("selectedProtocolVersion", selected_protocol_version);
                w.entry_text("targetId", target_id.as_str());
            }
            Message::Leave { sender_id } => {
                w.map(2);
                w.entry_text("type", "leave");
                w.entry_text("senderId", sender_id.as_str());
            }
            Message::Error {
                sender_id,
                target_id,
                message,
                document_id,
            } => {
                w.map(3 + usize::from(target_id.is_some()) + usize::from(document_id.is_some()));
                w.entry_text("type", "error");
                w.entry_text("senderId", sender_id.as_str());
                w.entry_text("message", message);
                if let Some(target_id) = target_id {
                    w.entry_text("targetId", target_id.as_str());
                }
                if let Some(document_id) = document_id {
                    w.entry_text("documentId", &document_id.to_string());
                }
            }
            Message::Request {
                sender_id,
                target_id,
                document_id,
                ..
            }
            | Message::Sync {
                sender_id,
                target_id,
                document_id,
                ..
            } => {
                w.map(5);
                w.entry_text("type", self.type_name());
                w.entry_text("senderId", sender_id.as_str());
                w.entry_text("targetId", target_id.as_str());
                w.entry_text("documentId", &document_id.to_string());
                w.text("data");
                w.bytes(sync_data.as_deref().unwrap_or_default());
            }
            Message::DocUnavailable {
                sender_id,
                target_id,
                document_id,
            } => {
                w.map(4);
                w.entry_text("type", "doc-unavailable");
                w.entry_text("senderId", sender_id.as_str());
                w.entry_text("targetId", target_id.as_str());
                w.entry_text("documentId", &document_id.to_string());
            }
            Message::Ephemeral {
                sender_id,
                target_id,
                document_id,
                count,
                session_id,
                data,
            } => {
                w.map(7);
                w.entry_text("type", "ephemeral");
                w.entry_text("senderId", sender_id.as_str());
                w.entry_text("targetId", target_id.as_str());
                w.text("count");
                w.number(*count as f64);
                w.entry_text("sessionId", session_id);
                w.entry_text("documentId", &document_id.to_string());
                w.text("data");
                w.bytes(data);
            }
            Message::RemoteSubscriptionChange {
                sender_id,
                target_id,
                add,
                remove,
            } => {
                w.map(3 + usize::from(!add.is_empty()) + usize::from(!remove.is_empty()));
                w.entry_text("type", "remote-subscription-change");
                w.entry_text("senderId", sender_id.as_str());
                w.entry_text("targetId", target_id.as_str());
                for (key, ids) in [("add", add), ("remove", remove)] {
                    if ids.is_empty() {
                        continue;
                    }
                    w.text(key);
                    w.array(ids.len());
                    for id in ids {
                        w.text(id.as_str());
                    }
                }
            }
            Message::RemoteHeadsChanged {
                sender_id,
                target_id,
                document_id,
                new_heads,
            } => {
                w.map(5);
                w.entry_text("type", "remote-heads-changed");
                w.entry_text("senderId", sender_id.as_str());
                w.entry_text("targetId", target_id.as_str());
                w.entry_text("documentId", &document_id.to_string());
                w.text("newHeads");
                w.map(new_heads.len());
                for (storage, heads) in new_heads {
                    w.text(storage.as_str());
                    w.map(2);
                    w.text("heads");
                    w.array(heads.heads.len());
                    for head in &heads.heads {
                        w.text(head);
                    }
                    w.text("timestamp");
                    w.number(heads.timestamp);
                }
            }
            Message::ChangesSince {
                sender_id,
                target_id,
                checkpoint,
                bodies,
                live,
                user,
            } => {
                w.map(6 + usize::from(user.is_some()));
                w.entry_text("type", "itinera-changes-since");
                w.entry_text("senderId", sender_id.as_str());
                w.entry_text("targetId", target_id.as_str());
                w.text("checkpoint");
                w.uint(*checkpoint);
                w.text("bodies");
                w.bool(*bodies);
                w.text("live");
                w.bool(*live);
                if let Some(user) = user {
                    w.entry_text("user", user);
                }
            }
            Message::Changes {
                sender_id,
                target_id,
                checkpoint,
                caught_up,
                page,
            } => {
                w.map(6);
                w.entry_text("type", "itinera-changes");
                w.entry_text("senderId", sender_id.as_str());
                w.entry_text("targetId", target_id.as_str());
                w.text("checkpoint");
                w.uint(*checkpoint);
                w.text("caughtUp");
                w.bool(*caught_up);
                w.text("page");
                w.bytes(&page.encode());
            }
        }
        w.finish()
    }
}

fn write_metadata(w: &mut Writer, metadata: &PeerMetadata) {
    w.map(
        usize::from(metadata.storage_id.is_some()) + usize::from(metadata.is_ephemeral.is_some()),
    );
    if let Some(storage_id) = &metadata.storage_id {
        w.entry_text("storageId", storage_id.as_str());
    }
    if let Some(is_ephemeral) = metadata.is_ephemeral {
        w.text("isEphemeral");
        w.bool(is_ephemeral);
    }
}

/// The fields of a message map, by key.
struct Fields<'a> {
    entries: BTreeMap<Cow<'a, str>, Value<'a>>,
    /// How far sync data in these fields may inflate ([`DecodeLimits::max_inflated_bytes`]).
    max_inflated_bytes: u64,
}

impl<'a> Fields<'a> {
    fn new(entries: Vec<(Value<'a>, Value<'a>)>) -> Result<Self, FrameError> {
        let mut map = BTreeMap::new();
        for (key, value) in entries {
            let Value::Text(key) = key else {
                return Err(FrameError::BadKey(format!(
                    "a key that is {}",
                    key.describe()
                )));
            };
            if map.contains_key(&key) {
                return Err(FrameError::BadKey(format!("{key:?} given twice")));
            }
            map.insert(key, value);
        }
        Ok(Self {
            entries: map,
            max_inflated_bytes: crate::document::MAX_INFLATED_BYTES,
        })
    }

    fn remove(&mut self, key: &str) -> Option<Value<'a>> {
        self.entries.remove(key)
    }

    fn of(&mut self, message_type: &'static str) -> Typed<'_, 'a> {
        Typed {
            fields: self,
            message_type,
        }
    }
}

/// Field access for one message type, so errors can name it.
struct Typed<'f, 'a> {
    fields: &'f mut Fields<'a>,
    message_type: &'static str,
}

impl<'a> Typed<'_, 'a> {
    fn take(&mut self, field: &'static str) -> Result<Value<'a>, FrameError> {
        self.fields.remove(field).ok_or(FrameError::MissingField {
            message_type: self.message_type,
            field,
        })
    }

    fn optional(&mut self, field: &'static str) -> Option<Value<'a>> {
        match self.fields.remove(field) {
            None | Some(Value::Null | Value::Undefined) => None,
            Some(value) => Some(value),
        }
    }

    fn wrong(&self, field: &'static str, expected: &'static str, found: &Value<'_>) -> FrameError {
        FrameError::WrongFieldType {
            message_type: self.message_type,
            field,
            expected,
            found: found.describe(),
        }
    }

    fn text_of(&self, field: &'static str, value: Value<'a>) -> Result<String, FrameError> {
        match value {
            Value::Text(text) => Ok(text.into_owned()),
            other => Err(self.wrong(field, "a text string", &other)),
        }
    }

    fn string(&mut self, field: &'static str) -> Result<String, FrameError> {
        let value = self.take(field)?;
        self.text_of(field, value)
    }

    fn opt_string(&mut self, field: &'static str) -> Result<Option<String>, FrameError> {
        self.optional(field)
            .map(|value| self.text_of(field, value))
            .transpose()
    }

    fn peer_id(&mut self, field: &'static str) -> Result<PeerId, FrameError> {
        let id = self.string(field)?;
        if id.is_empty() {
            return Err(FrameError::WrongFieldType {
                message_type: self.message_type,
                field,
                expected: "a non-empty peer id",
                found: "an empty string",
            });
        }
        self.bounded_id(field, &id)?;
        Ok(PeerId::new(id))
    }

    /// Refuses a peer or storage id longer than [`MAX_ID_BYTES`]: the server keeps them (in
    /// its device list, under stored sync states), so their size must be bounded.
    fn bounded_id(&self, field: &'static str, id: &str) -> Result<(), FrameError> {
        if id.len() > MAX_ID_BYTES {
            return Err(FrameError::WrongFieldType {
                message_type: self.message_type,
                field,
                expected: "an id of at most 256 bytes",
                found: "a longer string",
            });
        }
        Ok(())
    }

    fn document_id(&mut self, field: &'static str) -> Result<DocumentId, FrameError> {
        let text = self.string(field)?;
        DocumentId::parse(&text).map_err(|reason| FrameError::InvalidDocumentId {
            value: text,
            reason,
        })
    }

    fn opt_document_id(&mut self, field: &'static str) -> Result<Option<DocumentId>, FrameError> {
        match self.opt_string(field)? {
            None => Ok(None),
            Some(text) => {
                DocumentId::parse(&text)
                    .map(Some)
                    .map_err(|reason| FrameError::InvalidDocumentId {
                        value: text,
                        reason,
                    })
            }
        }
    }

    fn bytes(&mut self, field: &'static str) -> Result<Vec<u8>, FrameError> {
        match self.take(field)? {
            Value::Bytes(bytes) => Ok(bytes.into_owned()),
            other => Err(self.wrong(field, "a byte string", &other)),
        }
    }

    /// The sync message, decoded and checked here once: the engine takes it as it is.
    fn sync_data(&mut self, field: &'static str) -> Result<SyncData, FrameError> {
        let data = match self.take(field)? {
            Value::Bytes(bytes) => bytes,
            other => return Err(self.wrong(field, "a byte string", &other)),
        };
        SyncData::decode(&data, self.fields.max_inflated_bytes).map_err(|reason| {
            FrameError::NotASyncMessage {
                message_type: self.message_type,
                reason,
            }
        })
    }

    /// A boolean; absent counts as false.
    fn flag(&mut self, field: &'static str) -> Result<bool, FrameError> {
        match self.optional(field) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(flag),
            Some(other) => Err(self.wrong(field, "a boolean", &other)),
        }
    }

    /// A non-negative whole number, sent by JS as an integer or a float.
    fn count(&mut self, field: &'static str) -> Result<u64, FrameError> {
        match self.take(field)? {
            Value::Uint(n) => Ok(n),
            Value::Float(f) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(f as u64),
            other => Err(self.wrong(field, "a non-negative whole number", &other)),
        }
    }

    fn metadata(&mut self, field: &'static str) -> Result<PeerMetadata, FrameError> {
        let Some(value) = self.optional(field) else {
            return Ok(PeerMetadata::default());
        };
        let Value::Map(entries) = value else {
            return Err(self.wrong(field, "a map", &value));
        };
        let mut inner = Fields::new(entries)?;
        let mut f = inner.of(self.message_type);
        let storage_id = f.opt_string("storageId")?;
        if let Some(id) = &storage_id {
            f.bounded_id("storageId", id)?;
        }
        let storage_id = storage_id.map(StorageId::new);
        let is_ephemeral = match f.optional("isEphemeral") {
            None => None,
            Some(Value::Bool(b)) => Some(b),
            Some(other) => return Err(f.wrong("isEphemeral", "a boolean", &other)),
        };
        Ok(PeerMetadata {
            storage_id,
            is_ephemeral,
        })
    }

    fn strings_of(&self, field: &'static str, value: Value<'a>) -> Result<Vec<String>, FrameError> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|item| self.text_of(field, item))
                .collect(),
            other => Err(self.wrong(field, "an array of text strings", &other)),
        }
    }

    fn opt_strings(&mut self, field: &'static str) -> Result<Option<Vec<String>>, FrameError> {
        self.optional(field)
            .map(|value| self.strings_of(field, value))
            .transpose()
    }

    fn storage_ids(&mut self, field: &'static str) -> Result<Vec<StorageId>, FrameError> {
        let ids = self.opt_strings(field)?.unwrap_or_default();
        for id in &ids {
            self.bounded_id(field, id)?;
        }
        Ok(ids.into_iter().map(StorageId::new).collect())
    }

    fn new_heads(
        &mut self,
        field: &'static str,
    ) -> Result<BTreeMap<StorageId, RemoteHeads>, FrameError> {
        let value = self.take(field)?;
        let Value::Map(entries) = value else {
            return Err(self.wrong(field, "a map", &value));
        };
        let mut out = BTreeMap::new();
        for (storage, heads) in Fields::new(entries)?.entries {
            let Value::Map(inner) = heads else {
                return Err(self.wrong(field, "a map of storage id to heads", &heads));
            };
            let mut inner = Fields::new(inner)?;
            let mut f = inner.of(self.message_type);
            let heads_value = f.take("heads")?;
            let heads = f.strings_of("heads", heads_value)?;
            let timestamp = match f.take("timestamp")? {
                Value::Uint(n) => n as f64,
                Value::Float(x) if x.is_finite() => x,
                other => return Err(f.wrong("timestamp", "a number", &other)),
            };
            out.insert(
                StorageId::new(storage.into_owned()),
                RemoteHeads { heads, timestamp },
            );
        }
        Ok(out)
    }
}
