//! One value of a list row: what a list shows, sorts and filters by.

use serde::{Serialize, Serializer};

/// A list cell: a number (counts, minor units, unix ms), a text, or nothing. Lists sort by the
/// cell's [`SortKey`](super::sort_key::SortKey).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Int(i64),
    Text(String),
}

impl Cell {
    /// A text cell, or `Empty` for an empty text.
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        if text.is_empty() {
            Self::Empty
        } else {
            Self::Text(text)
        }
    }

    /// A text cell from an optional text.
    pub fn maybe_text(text: Option<&str>) -> Self {
        text.map_or(Self::Empty, Self::text)
    }

    /// A number cell from an optional number.
    pub fn maybe_int(number: Option<i64>) -> Self {
        number.map_or(Self::Empty, Self::Int)
    }

    /// A count as a number cell.
    pub fn count(count: usize) -> Self {
        Self::Int(i64::try_from(count).unwrap_or(i64::MAX))
    }

    /// The cell as a filter compares it: texts as they are, numbers in decimal.
    pub fn matches(&self, wanted: &str) -> bool {
        match self {
            Self::Empty => wanted.is_empty(),
            Self::Int(number) => wanted.parse::<i64>().is_ok_and(|w| w == *number),
            Self::Text(text) => text.eq_ignore_ascii_case(wanted) || text == wanted,
        }
    }

    /// The text of a text cell.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The cell as a CSV field.
    pub fn to_csv(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Int(number) => number.to_string(),
            Self::Text(text) => text.clone(),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Empty => serializer.serialize_none(),
            Self::Int(number) => serializer.serialize_i64(*number),
            Self::Text(text) => serializer.serialize_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compare_texts_and_numbers() {
        assert!(Cell::text("Open").matches("open"));
        assert!(Cell::Int(20).matches("20"));
        assert!(!Cell::Int(20).matches("twenty"));
        assert!(Cell::Empty.matches(""));
    }
}
