//! A look at the chunks of saved Automerge bytes before automerge parses them.
//!
//! Automerge 0.12 reads a newer chunk type, the *bundle*, with decoders that panic or run
//! for minutes on hostile input (fuzzing found both). Itinera never writes bundles and the sync
//! protocol never sends them, so bytes that hold one are refused before automerge sees them.

/// The first bytes of every chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// The chunk type byte of a bundle (after the magic bytes and a 4-byte checksum).
const BUNDLE: u8 = 3;

/// Walks the chunks of `bytes` (a snapshot, changes, or both, one after another) and refuses a
/// bundle. Bytes that stop being chunks part-way are left to automerge, which refuses them
/// itself at the same place.
pub(crate) fn refuse_bundles(bytes: &[u8]) -> Result<(), String> {
    let mut rest = bytes;
    while rest.len() > 9 && rest[..4] == MAGIC {
        if rest[8] == BUNDLE {
            return Err("a bundle chunk, which Itinera does not accept".into());
        }
        let mut length = 0u64;
        let mut used = 0usize;
        for (i, byte) in rest[9..].iter().take(10).enumerate() {
            length |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                used = i + 1;
                break;
            }
        }
        if used == 0 {
            return Ok(());
        }
        let Some(end) = usize::try_from(length)
            .ok()
            .and_then(|length| (9 + used).checked_add(length))
        else {
            return Ok(());
        };
        rest = rest.get(end..).unwrap_or_default();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    #[test]
    fn documents_and_changes_pass() {
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "a", 1).expect("put");
        doc.commit();
        let mut bytes = doc.save();
        doc.put(automerge::ROOT, "b", 2).expect("put");
        doc.commit();
        bytes.extend(doc.save_incremental());
        assert!(refuse_bundles(&bytes).is_ok());
    }

    #[test]
    fn a_bundle_is_refused_even_after_a_document() {
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "a", 1).expect("put");
        doc.commit();
        let mut bytes = doc.save();
        bytes.extend(MAGIC);
        bytes.extend([0, 0, 0, 0, BUNDLE, 1, 0]);
        assert!(refuse_bundles(&bytes).is_err());
    }
}
