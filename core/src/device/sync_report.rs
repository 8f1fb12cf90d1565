//! [`SyncReport`]: what one connection of a device did.

use std::collections::BTreeMap;

use crate::DocumentId;

/// What a [`DeviceSession`](super::DeviceSession) did so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Documents whose local changes the server acknowledged.
    pub documents_sent: usize,
    /// Documents that took in changes from the server (whole bodies included).
    pub documents_received: usize,
    /// Documents that arrived whole in the feed's pages (a first sync).
    pub bodies_received: usize,
    /// Documents this session ran the automerge sync protocol for: the changed, the pending
    /// and the missing ones only; an unchanged document costs no message at all.
    pub documents_synced: usize,
    /// Documents the server refused this device's changes to, and why.
    pub rejected: BTreeMap<DocumentId, String>,
    /// Frames and bytes sent and received.
    pub frames_sent: u64,
    pub bytes_sent: u64,
    pub frames_received: u64,
    pub bytes_received: u64,
}
