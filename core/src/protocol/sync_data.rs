//! Checks of an Automerge sync message beyond what automerge's own decoder checks: values it
//! accepts but that make it panic or allocate without bound later, when the message is used.

use automerge::sync;

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
