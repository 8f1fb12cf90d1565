//! One page of the invoices report's receivables, and how a request asks for the next.
//!
//! At 100,000 records a company has tens of thousands of receivables: the JSON report returns
//! its totals and ageing whole and the receivables a page at a time, in the report's order
//! (most overdue first, undated last, ties by invoice id). A page ends with a cursor, the
//! place of its last row in that order (`{due day}~{invoice}`, `none~{invoice}` when undated),
//! which does not move with the clock; the next page starts after it, wherever that row went
//! since.
//!
//! ```
//! use itinera_core::reports::ReceivablesQuery;
//!
//! let first = ReceivablesQuery::parse(None, Some(50))?;
//! assert_eq!(first.limit, 50);
//! assert!(ReceivablesQuery::parse(Some("tomorrow"), None).is_err());
//! # Ok::<(), itinera_core::reports::PageError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::reports::Receivable;

/// Which receivables a request wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivablesQuery {
    /// Start after this place in the order; `None`: from the first.
    pub(crate) after: Option<ReceivableKey>,
    /// At most this many rows.
    pub limit: usize,
}

/// A bad page request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// The cursor is not one a page gave.
    #[error("the cursor {0:?} is not one a page of receivables gave")]
    Cursor(String),
    /// The limit is out of range.
    #[error("limit must be 1 to {most}, not {0}", most = ReceivablesQuery::MOST)]
    Limit(usize),
}

impl ReceivablesQuery {
    /// The rows of a page when the request names no limit.
    pub const DEFAULT_LIMIT: usize = 100;
    /// The most rows a page holds.
    pub const MOST: usize = 1_000;

    /// The query of a request's `after` cursor and `limit`.
    pub fn parse(after: Option<&str>, limit: Option<usize>) -> Result<Self, PageError> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MOST).contains(&limit) {
            return Err(PageError::Limit(limit));
        }
        let after = after
            .map(|cursor| {
                ReceivableKey::parse(cursor).ok_or_else(|| PageError::Cursor(cursor.to_owned()))
            })
            .transpose()?;
        Ok(Self { after, limit })
    }

    /// Every row in one page (CSV exports and tests).
    pub fn all() -> Self {
        Self {
            after: None,
            limit: usize::MAX,
        }
    }
}

/// A page of receivables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivablesPage {
    /// The rows, in the report's order.
    pub rows: Vec<Receivable>,
    /// How many receivables there are in all.
    pub total: u64,
    /// Where the next page starts (`after=`); `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A receivable's place in the report's order: dated ones by due day (the earliest is the
/// most overdue), then undated ones; ties by invoice id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ReceivableKey {
    pub(crate) undated: bool,
    pub(crate) due_day: i64,
    pub(crate) invoice: String,
}

impl ReceivableKey {
    pub(crate) fn new(due_day: Option<i64>, invoice: String) -> Self {
        Self {
            undated: due_day.is_none(),
            due_day: due_day.unwrap_or(0),
            invoice,
        }
    }

    /// The cursor of this place.
    pub(crate) fn cursor(&self) -> String {
        if self.undated {
            format!("none~{}", self.invoice)
        } else {
            format!("{}~{}", self.due_day, self.invoice)
        }
    }

    fn parse(cursor: &str) -> Option<Self> {
        let (day, invoice) = cursor.split_once('~')?;
        crate::reports::reference::id_of(invoice)?;
        let due_day = match day {
            "none" => None,
            day => Some(day.parse().ok()?),
        };
        Some(Self::new(due_day, invoice.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_as_the_place_they_print() {
        let invoice = crate::DocumentId::from_bytes([4; 16]).to_string();
        for key in [
            ReceivableKey::new(Some(-3), invoice.clone()),
            ReceivableKey::new(None, invoice.clone()),
        ] {
            let query = ReceivablesQuery::parse(Some(&key.cursor()), Some(1)).expect("a cursor");
            assert_eq!(query.after, Some(key));
        }
        assert_eq!(
            ReceivablesQuery::parse(Some("12~not-an-id"), None),
            Err(PageError::Cursor("12~not-an-id".into()))
        );
        assert_eq!(
            ReceivablesQuery::parse(None, Some(0)),
            Err(PageError::Limit(0))
        );
        assert_eq!(
            ReceivablesQuery::parse(None, Some(1_001)),
            Err(PageError::Limit(1_001))
        );
    }
}
