//! A look at the chunks of saved Automerge bytes before automerge parses them.
//!
//! Automerge 0.12 reads a newer chunk type, the *bundle*, with decoders that panic or run
//! for minutes on hostile input (fuzzing found both). Itinera never writes bundles and the sync
//! protocol never sends them, so bytes that hold one are refused before automerge sees them.
//! Bytes from the network are also refused when their deflated parts would inflate without
//! bound, which automerge does not limit.

use std::io::Read;

/// The first bytes of every chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// The chunk type byte (after the magic bytes and a 4-byte checksum) of a whole document.
const DOCUMENT: u8 = 0;
/// The chunk type byte of a change whose bytes are deflated as a whole.
const COMPRESSED_CHANGE: u8 = 2;
/// The chunk type byte of a bundle.
const BUNDLE: u8 = 3;
/// The bit of a column specification that says the column's data is deflated.
const DEFLATED_COLUMN: u64 = 0b1000;
/// Why bytes holding a bundle are refused.
const BUNDLE_REFUSED: &str = "a bundle chunk, which Itinera does not accept";

/// The most the deflated parts of one sync message may inflate to. Automerge inflates columns
/// and compressed changes without a limit, and deflate packs up to about a thousand bytes into
/// one: a frame under the size limit could otherwise ask for tens of gigabytes. A real record
/// document, even an index of every document a head office holds, inflates to a few megabytes.
pub const MAX_INFLATED_BYTES: u64 = 256 << 20;

/// One chunk: its type byte and its data (after the header).
struct Chunk<'a> {
    kind: u8,
    data: &'a [u8],
}

/// The chunks of `bytes` (a snapshot, changes, or both, one after another), as far as they are
/// chunks: bytes that stop being chunks part-way are left to automerge, which refuses them
/// itself at the same place.
fn chunks(bytes: &[u8]) -> impl Iterator<Item = Chunk<'_>> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.len() <= 9 || rest[..4] != MAGIC {
            return None;
        }
        let kind = rest[8];
        let mut header = &rest[9..];
        let length = leb128(&mut header).and_then(|length| usize::try_from(length).ok());
        let data = length.and_then(|length| header.get(..length));
        let Some(data) = data else {
            // Cut short: what is left is for automerge to refuse, but a bundle is still
            // named as one.
            rest = &[];
            return (kind == BUNDLE).then_some(Chunk { kind, data: &[] });
        };
        rest = &header[data.len()..];
        Some(Chunk { kind, data })
    })
}

/// Refuses bytes that hold a bundle chunk: a newer chunk type that automerge 0.12 reads with
/// decoders that panic or run for minutes on hostile input (fuzzing found both). Itinera never
/// writes bundles and the sync protocol never sends them.
pub(crate) fn refuse_bundles(bytes: &[u8]) -> Result<(), String> {
    if chunks(bytes).any(|chunk| chunk.kind == BUNDLE) {
        return Err(BUNDLE_REFUSED.into());
    }
    Ok(())
}

/// Refuses bundles (see [`refuse_bundles`]) and bytes whose deflated parts (the deflated
/// columns of document chunks and the bodies of compressed changes), all `pieces` together,
/// would inflate to more than `limit` bytes. Inflating stops at the limit, so a bomb costs a
/// limit's worth of work and no memory.
pub(crate) fn check_untrusted<'a>(
    pieces: impl IntoIterator<Item = &'a [u8]>,
    limit: u64,
) -> Result<(), String> {
    let mut budget = limit;
    for bytes in pieces {
        check_chunks(bytes, &mut budget).map_err(|refusal| match refusal {
            Refusal::Bundle => BUNDLE_REFUSED.to_owned(),
            Refusal::Inflates => {
                format!("deflated data that inflates to more than {}", size(limit))
            }
        })?;
    }
    Ok(())
}

enum Refusal {
    Bundle,
    Inflates,
}

fn check_chunks(bytes: &[u8], budget: &mut u64) -> Result<(), Refusal> {
    for chunk in chunks(bytes) {
        match chunk.kind {
            BUNDLE => return Err(Refusal::Bundle),
            COMPRESSED_CHANGE => inflate(chunk.data, budget)?,
            DOCUMENT => {
                // Columns that cannot be read are automerge's to refuse; it reads them the
                // same way and stops at the same place.
                for column in deflated_columns(chunk.data).unwrap_or_default() {
                    inflate(column, budget)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `bytes` as people write it: 256 MiB, 512 KiB, 1000 bytes.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Inflates `deflated` into nothing, counting its size down from `budget`.
fn inflate(deflated: &[u8], budget: &mut u64) -> Result<(), Refusal> {
    let decoder = flate2::bufread::DeflateDecoder::new(deflated);
    // One byte past the budget tells "exactly the budget" from "more".
    let inflated = std::io::copy(
        &mut decoder.take(budget.saturating_add(1)),
        &mut std::io::sink(),
    )
    // Broken deflate data is automerge's to refuse; it stops at the same place.
    .unwrap_or(0);
    if inflated > *budget {
        return Err(Refusal::Inflates);
    }
    *budget -= inflated;
    Ok(())
}

/// The deflated columns of a document chunk's data: actors, heads, the change columns' and the
/// op columns' specifications and lengths, then the columns' data in that order.
fn deflated_columns(data: &[u8]) -> Option<Vec<&[u8]>> {
    let mut rest = data;
    let actors = leb128(&mut rest)?;
    for _ in 0..actors {
        let length = leb128(&mut rest)?;
        rest = skip(rest, length)?;
    }
    let heads = leb128(&mut rest)?;
    rest = skip(rest, heads.checked_mul(32)?)?;
    let mut columns = Vec::new();
    for _ in 0..2 {
        let count = leb128(&mut rest)?;
        for _ in 0..count {
            let spec = leb128(&mut rest)?;
            let length = leb128(&mut rest)?;
            columns.push((spec & DEFLATED_COLUMN != 0, length));
        }
    }
    let mut deflated = Vec::new();
    for (is_deflated, length) in columns {
        let length = usize::try_from(length).ok()?;
        let column = rest.get(..length)?;
        if is_deflated {
            deflated.push(column);
        }
        rest = &rest[length..];
    }
    Some(deflated)
}

fn skip(bytes: &[u8], length: u64) -> Option<&[u8]> {
    bytes.get(usize::try_from(length).ok()?..)
}

/// An unsigned LEB128 number, as automerge writes lengths and counts (at most ten bytes); `None`
/// when the input ends first or the number is longer.
pub(crate) fn leb128(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
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

    /// A chunk of `kind` around `data`, as automerge frames it (the checksum is not checked
    /// here).
    fn chunk(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend([0, 0, 0, 0, kind]);
        push_leb128(&mut bytes, data.len());
        bytes.extend(data);
        bytes
    }

    fn push_leb128(bytes: &mut Vec<u8>, mut value: usize) {
        while value >= 0x80 {
            bytes.push((value & 0x7f) as u8 | 0x80);
            value >>= 7;
        }
        bytes.push(value as u8);
    }

    fn deflate(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).expect("deflate");
        encoder.finish().expect("deflate")
    }

    #[test]
    fn a_real_document_inflates_within_the_limit_and_is_counted() {
        let mut doc = automerge::AutoCommit::new();
        for n in 0..2_000 {
            doc.put(automerge::ROOT, format!("key-{n}"), format!("value {n}"))
                .expect("put");
        }
        doc.commit();
        let bytes = doc.save();
        check_untrusted([bytes.as_slice()], MAX_INFLATED_BYTES).expect("a real document passes");
        let mut budget = MAX_INFLATED_BYTES;
        check_chunks(&bytes, &mut budget).ok().expect("passes");
        assert!(
            budget < MAX_INFLATED_BYTES,
            "automerge deflated some of this document's columns, and they were inflated"
        );
        // Exactly what they inflate to is allowed; a byte less is not.
        let inflated = MAX_INFLATED_BYTES - budget;
        assert!(check_untrusted([bytes.as_slice()], inflated).is_ok());
        assert!(check_untrusted([bytes.as_slice()], inflated - 1).is_err());
        assert!(automerge::AutoCommit::load(&bytes).is_ok());
    }

    #[test]
    fn a_compressed_change_that_inflates_past_the_limit_is_refused() {
        let bomb = chunk(COMPRESSED_CHANGE, &deflate(&vec![0; 4 << 20]));
        assert!(bomb.len() < 16 << 10, "{} bytes", bomb.len());
        let refused = check_untrusted([bomb.as_slice()], 1 << 20).expect_err("refused");
        assert_eq!(refused, "deflated data that inflates to more than 1 MiB");
        assert!(check_untrusted([bomb.as_slice()], 4 << 20).is_ok());
    }

    #[test]
    fn a_document_column_that_inflates_past_the_limit_is_refused() {
        let column = deflate(&vec![0; 4 << 20]);
        // No actors, no heads, one deflated change column (id 1, type 0), no op columns.
        let mut data = vec![0, 0, 1, 0b1_1000];
        push_leb128(&mut data, column.len());
        data.push(0);
        data.extend(&column);
        let bomb = chunk(DOCUMENT, &data);
        assert!(check_untrusted([bomb.as_slice()], 1 << 20).is_err());
        assert!(check_untrusted([bomb.as_slice()], 6 << 20).is_ok());

        // The limit is for all chunks of a message together.
        let two = [bomb.as_slice(), bomb.as_slice()];
        assert!(check_untrusted(two, 6 << 20).is_err());
        let mut both = bomb.clone();
        both.extend(&bomb);
        assert!(check_untrusted([both.as_slice()], 6 << 20).is_err());
    }

    #[test]
    fn a_document_chunk_whose_columns_run_past_its_end_is_left_to_automerge() {
        // One deflated column said to be 1,000 bytes long, with 3 bytes there.
        let bytes = chunk(DOCUMENT, &[0, 0, 1, 0b1_1000, 0xe8, 0x07, 0, 1, 2, 3]);
        let mut budget = MAX_INFLATED_BYTES;
        assert!(check_chunks(&bytes, &mut budget).is_ok());
        assert_eq!(budget, MAX_INFLATED_BYTES, "nothing was inflated");
        assert!(automerge::AutoCommit::load(&bytes).is_err());
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
