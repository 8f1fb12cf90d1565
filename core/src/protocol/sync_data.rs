//! The `data` of `sync` and `request` messages: an Automerge sync message, decoded and checked
//! once per arrival ([`SyncData`]), with the checks automerge's own decoder lacks: values it
//! accepts but that make it panic or allocate without bound later, when the message is used.

use std::borrow::Cow;
use std::sync::Arc;

use automerge::sync;

/// The Automerge sync message a `sync` or `request` message carries.
///
/// A frame from the network carries it decoded: [`Message::decode`](super::Message::decode)
/// decodes and checks it once, under the connection's [`DecodeLimits`](super::DecodeLimits), and
/// the sync engine takes the decoded message as it is. A message to send carries its encoding,
/// made once and shared (cheaply cloned) by every peer it goes to.
///
/// ```
/// use automerge::{AutoCommit, sync::{State, SyncDoc}};
/// use itinera_core::protocol::SyncData;
///
/// let mut doc = AutoCommit::new();
/// let message = doc.sync().generate_sync_message(&mut State::new()).expect("a first message");
/// let data = SyncData::encoded(message.clone().encode());
/// let received = SyncData::decode(&data.to_bytes(), 1 << 20).expect("checked");
/// assert_eq!(received.into_message().expect("decoded"), message);
/// ```
#[derive(Clone)]
pub struct SyncData(Repr);

#[derive(Clone)]
enum Repr {
    /// Received, decoded and checked.
    Decoded(Box<sync::Message>),
    /// To send (or handed over in process): the encoded message.
    Encoded(Arc<[u8]>),
}

impl SyncData {
    /// The encoding of a sync message (what a sender holds).
    pub fn encoded(bytes: impl Into<Arc<[u8]>>) -> Self {
        Self(Repr::Encoded(bytes.into()))
    }

    /// Decodes and checks received bytes, as [`decode_sync_message`] does.
    pub fn decode(bytes: &[u8], max_inflated_bytes: u64) -> Result<Self, String> {
        decode_sync_message(bytes, max_inflated_bytes)
            .map(|message| Self(Repr::Decoded(Box::new(message))))
    }

    /// The decoded message. Data that arrived encoded (from a caller in the same process) is
    /// decoded and checked here, with [`MAX_INFLATED_BYTES`](crate::document::MAX_INFLATED_BYTES).
    pub fn into_message(self) -> Result<sync::Message, String> {
        match self.0 {
            Repr::Decoded(message) => Ok(*message),
            Repr::Encoded(bytes) => {
                decode_sync_message(&bytes, crate::document::MAX_INFLATED_BYTES)
            }
        }
    }

    /// The encoded message (encoded now if it arrived decoded).
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match &self.0 {
            Repr::Decoded(message) => Cow::Owned(message.as_ref().clone().encode()),
            Repr::Encoded(bytes) => Cow::Borrowed(bytes),
        }
    }

    /// Whether the message carries changes; a received message says so without encoding.
    pub fn carries_changes(&self) -> bool {
        match &self.0 {
            Repr::Decoded(message) => !message.changes.is_empty(),
            Repr::Encoded(bytes) => {
                sync::Message::decode(bytes).is_ok_and(|m| !m.changes.is_empty())
            }
        }
    }
}

impl PartialEq for SyncData {
    /// Equal when they encode to the same bytes.
    fn eq(&self, other: &Self) -> bool {
        self.to_bytes() == other.to_bytes()
    }
}

impl std::fmt::Debug for SyncData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Repr::Decoded(message) => f
                .debug_struct("SyncData")
                .field("heads", &message.heads.len())
                .field("changes", &message.changes.len())
                .finish(),
            Repr::Encoded(bytes) => f
                .debug_struct("SyncData")
                .field("bytes", &bytes.len())
                .finish(),
        }
    }
}

/// The most probes a Bloom filter may ask for (automerge makes filters with 7).
const MAX_PROBES: u64 = 64;
/// The most bits per entry a Bloom filter may have (automerge makes filters with 10).
const MAX_BITS_PER_ENTRY: u64 = 64;

/// Decodes `data` as an Automerge sync message and checks what automerge would trust: each
/// `have`'s Bloom filter must have bits and a sane number of probes (a filter with entries but
/// no bits divides by zero when it is read; one asking for billions of probes allocates
/// gigabytes), no change chunk may be a bundle (see `document::load_bytes`), and the deflated
/// parts of all its chunks together may inflate to at most `max_inflated_bytes` (a frame's
/// [`DecodeLimits::max_inflated_bytes`](super::DecodeLimits::max_inflated_bytes), or
/// [`MAX_INFLATED_BYTES`](crate::document::MAX_INFLATED_BYTES)).
pub fn decode_sync_message(data: &[u8], max_inflated_bytes: u64) -> Result<sync::Message, String> {
    let message = sync::Message::decode(data).map_err(|err| err.to_string())?;
    for have in &message.have {
        check_bloom(&have.bloom.to_bytes())?;
    }
    crate::document::check_untrusted(message.changes.iter(), max_inflated_bytes)?;
    Ok(message)
}

/// `bytes` is a filter as automerge writes it: nothing for an empty filter, else LEB128 entry
/// count, bits per entry and probe count, then the bits.
fn check_bloom(bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut rest = bytes;
    let entries = leb128(&mut rest)?;
    let bits_per_entry = leb128(&mut rest)?;
    let probes = leb128(&mut rest)?;
    if entries == 0 {
        return Ok(());
    }
    if bits_per_entry == 0 || bits_per_entry > MAX_BITS_PER_ENTRY || rest.is_empty() {
        return Err(format!(
            "a Bloom filter of {entries} entries with {bits_per_entry} bits each"
        ));
    }
    if probes == 0 || probes > MAX_PROBES {
        return Err(format!("a Bloom filter with {probes} probes"));
    }
    Ok(())
}

/// A LEB128 number of a Bloom filter.
fn leb128(input: &mut &[u8]) -> Result<u64, String> {
    crate::document::leb128(input).ok_or_else(|| {
        if input.is_empty() {
            "a truncated Bloom filter".to_owned()
        } else {
            "a Bloom filter number too long".to_owned()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_automerge_makes_pass() {
        let mut doc = automerge::AutoCommit::new();
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "a", 1).expect("put");
        doc.commit();
        let hashes = doc.get_heads();
        let bloom = sync::BloomFilter::from_hashes(hashes.iter());
        assert!(check_bloom(&bloom.to_bytes()).is_ok());
        assert!(check_bloom(&[]).is_ok());
    }

    #[test]
    fn filters_without_bits_or_with_absurd_probes_are_refused() {
        // 1 entry, 0 bits per entry, 7 probes, no bits: reading it would divide by zero.
        assert!(check_bloom(&[1, 0, 7]).is_err());
        // 1 entry, 10 bits per entry, 2^32 - 1 probes.
        assert!(check_bloom(&[1, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]).is_err());
        assert!(check_bloom(&[1, 10, 0, 0, 0]).is_err());
        assert!(check_bloom(&[0x80]).is_err());
    }
}
