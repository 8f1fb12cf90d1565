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
        return Err("a bundle chunk, which Itinera does not accept".into());
    }
    Ok(())
}

/// Refuses bundles (see [`refuse_bundles`]) and chunks whose deflated parts would inflate past
/// what is left of `budget` (bytes), which it counts down: the deflated columns of a document
/// chunk and the body of a compressed change. Inflating stops at the limit, so a bomb costs a
/// budget's worth of work and no memory.
pub(crate) fn check_untrusted(bytes: &[u8], budget: &mut u64) -> Result<(), String> {
    for chunk in chunks(bytes) {
        match chunk.kind {
            BUNDLE => return Err("a bundle chunk, which Itinera does not accept".into()),
            COMPRESSED_CHANGE => inflate(chunk.data, budget)?,
            DOCUMENT => {
                for column in deflated_columns(chunk.data)? {
                    inflate(column, budget)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Inflates `deflated` into nothing, counting its size down from `budget`.
fn inflate(deflated: &[u8], budget: &mut u64) -> Result<(), String> {
    let decoder = flate2::bufread::DeflateDecoder::new(deflated);
    // One byte past the budget tells "exactly the budget" from "more".
    let inflated = std::io::copy(
        &mut decoder.take(budget.saturating_add(1)),
        &mut std::io::sink(),
    )
    // Broken deflate data is automerge's to refuse; it stops at the same place.
    .unwrap_or(0);
    if inflated > *budget {
        return Err(format!(
            "deflated data that inflates to more than {} MiB",
            MAX_INFLATED_BYTES >> 20
        ));
    }
    *budget -= inflated;
    Ok(())
}

/// The deflated columns of a document chunk's data: actors, heads, the change columns' and the
/// op columns' specifications and lengths, then the columns' data in that order.
fn deflated_columns(data: &[u8]) -> Result<Vec<&[u8]>, String> {
    let malformed = || "a document chunk whose columns cannot be read".to_owned();
    let mut rest = data;
    let actors = leb128(&mut rest).ok_or_else(malformed)?;
    for _ in 0..actors {
        let length = leb128(&mut rest).ok_or_else(malformed)?;
        rest = skip(rest, length).ok_or_else(malformed)?;
    }
    let heads = leb128(&mut rest).ok_or_else(malformed)?;
    rest = skip(rest, heads.checked_mul(32).ok_or_else(malformed)?).ok_or_else(malformed)?;
    let mut columns = Vec::new();
    for _ in 0..2 {
        let count = leb128(&mut rest).ok_or_else(malformed)?;
        for _ in 0..count {
            let spec = leb128(&mut rest).ok_or_else(malformed)?;
            let length = leb128(&mut rest).ok_or_else(malformed)?;
            columns.push((spec & DEFLATED_COLUMN != 0, length));
        }
    }
    let mut deflated = Vec::new();
    for (is_deflated, length) in columns {
        let length = usize::try_from(length).map_err(|_| malformed())?;
        let column = rest.get(..length).ok_or_else(malformed)?;
        if is_deflated {
            deflated.push(column);
        }
        rest = &rest[length..];
    }
    Ok(deflated)
}

fn skip(bytes: &[u8], length: u64) -> Option<&[u8]> {
    bytes.get(usize::try_from(length).ok()?..)
}

/// An unsigned LEB128 number, as automerge writes lengths and counts.
fn leb128(input: &mut &[u8]) -> Option<u64> {
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
        let mut length = data.len();
        loop {
            let byte = (length & 0x7f) as u8;
            length >>= 7;
            if length == 0 {
                bytes.push(byte);
                break;
            }
            bytes.push(byte | 0x80);
        }
        bytes.extend(data);
        bytes
    }

    fn deflate(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).expect("deflate");
        encoder.finish().expect("deflate")
    }

    #[test]
    fn a_real_document_inflates_within_the_budget_and_is_counted() {
        let mut doc = automerge::AutoCommit::new();
        for n in 0..2_000 {
            doc.put(automerge::ROOT, format!("key-{n}"), format!("value {n}"))
                .expect("put");
        }
        doc.commit();
        let bytes = doc.save();
        let mut budget = MAX_INFLATED_BYTES;
        check_untrusted(&bytes, &mut budget).expect("a real document passes");
        assert!(
            budget < MAX_INFLATED_BYTES,
            "automerge deflated some of this document's columns, and they were inflated"
        );
        assert!(automerge::AutoCommit::load(&bytes).is_ok());
    }

    #[test]
    fn a_compressed_change_that_inflates_past_the_budget_is_refused() {
        let bomb = chunk(COMPRESSED_CHANGE, &deflate(&vec![0; 4 << 20]));
        assert!(bomb.len() < 16 << 10, "{} bytes", bomb.len());
        let mut budget = 1 << 20;
        let refused = check_untrusted(&bomb, &mut budget).expect_err("refused");
        assert!(refused.contains("inflates to more than"), "{refused}");

        let mut budget = 8 << 20;
        check_untrusted(&bomb, &mut budget).expect("within a larger budget");
        assert_eq!(budget, 4 << 20, "the inflated size is counted");
    }

    #[test]
    fn a_document_column_that_inflates_past_the_budget_is_refused() {
        let column = deflate(&vec![0; 4 << 20]);
        // No actors, no heads, one deflated change column (id 1, type 0), no op columns.
        let mut data = vec![0, 0, 1, 0b1_1000];
        let mut length = column.len();
        while length >= 0x80 {
            data.push((length & 0x7f) as u8 | 0x80);
            length >>= 7;
        }
        data.push(length as u8);
        data.push(0);
        data.extend(&column);
        let bomb = chunk(DOCUMENT, &data);
        let mut budget = 1 << 20;
        assert!(check_untrusted(&bomb, &mut budget).is_err());

        // The budget is for all chunks together: two halves of it in two chunks are refused.
        let mut two = bomb.clone();
        two.extend(&bomb);
        let mut budget = 6 << 20;
        assert!(check_untrusted(&two, &mut budget).is_err());
    }

    #[test]
    fn a_document_chunk_whose_columns_run_past_its_end_is_refused() {
        // One deflated column said to be 1,000 bytes long, with 3 bytes there.
        let bytes = chunk(DOCUMENT, &[0, 0, 1, 0b1_1000, 0xe8, 0x07, 0, 1, 2, 3]);
        assert!(check_untrusted(&bytes, &mut MAX_INFLATED_BYTES.clone()).is_err());
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
