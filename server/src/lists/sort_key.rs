//! What a list sorts by: a cell's value folded once, so that sorting compares plain bytes.
//!
//! Texts are folded to lower case when the row is read, not at each comparison: a list pass
//! compares every row with the page's last one, and folding there cost more than the rest of
//! the pass. The first 16 bytes of a text are kept inline as a number, so most comparisons
//! never follow the pointer to the text (at 100,000 rows those cache misses were most of the
//! pass). Nothing sorts first, then numbers, then texts.

use super::cell::Cell;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SortKey {
    Empty,
    Int(i64),
    Text(TextKey),
}

/// A folded text: its first 16 bytes big-endian (zero-padded), then the whole text. Ordering by
/// the pair is ordering by the text's bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TextKey {
    prefix: u128,
    text: Box<str>,
}

impl TextKey {
    /// The key of an already folded text.
    pub fn new(folded: &str) -> Self {
        let mut head = [0u8; 16];
        let bytes = folded.as_bytes();
        let n = bytes.len().min(16);
        head[..n].copy_from_slice(&bytes[..n]);
        Self {
            prefix: u128::from_be_bytes(head),
            text: folded.into(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl SortKey {
    /// A text key from text as a cursor carries it (already folded).
    pub fn text(folded: &str) -> Self {
        Self::Text(TextKey::new(folded))
    }
}

impl From<&Cell> for SortKey {
    fn from(cell: &Cell) -> Self {
        match cell {
            Cell::Empty => Self::Empty,
            Cell::Int(number) => Self::Int(*number),
            Cell::Text(text) => Self::text(&text.to_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_sort_without_regard_to_case_after_numbers_and_blanks() {
        let cells = [
            Cell::text("banana"),
            Cell::text("Apple"),
            Cell::Int(3),
            Cell::Empty,
            Cell::text("Ábel"),
            Cell::Int(-1),
        ];
        let mut keys: Vec<SortKey> = cells.iter().map(SortKey::from).collect();
        keys.sort();
        let text = SortKey::text;
        assert_eq!(
            keys,
            vec![
                SortKey::Empty,
                SortKey::Int(-1),
                SortKey::Int(3),
                text("apple"),
                text("banana"),
                text("ábel"),
            ]
        );
        assert_eq!(
            SortKey::from(&Cell::text("Alpha")),
            SortKey::from(&Cell::text("ALPHA"))
        );
    }
}
