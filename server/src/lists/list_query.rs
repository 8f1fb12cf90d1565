//! What a list request asks: search, filters, sort, page size and where the last page ended.
//!
//! ```
//! use itinera_server::lists::{ListKind, ListQuery};
//!
//! let pairs = [("q", "lake"), ("sort", "owner"), ("order", "desc"), ("territory", "north"), ("limit", "20")];
//! let query = ListQuery::parse(ListKind::Accounts, pairs.iter().map(|(k, v)| (*k, *v))).unwrap();
//! assert_eq!(query.limit, 20);
//! assert!(query.descending);
//! assert!(ListQuery::parse(ListKind::Accounts, [("sort", "salary")].into_iter()).is_err());
//! ```

use itinera_core::DocumentId;
use serde_json::Value as Json;

use super::list_kind::ListKind;
use super::sort_key::SortKey;

/// The page size when a request names none, and the largest one it may ask for.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// A list request, checked against the list's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Lower-case text the row must contain somewhere.
    pub search: Option<String>,
    /// The column to sort by (the first column when none is named).
    pub sort: usize,
    pub descending: bool,
    /// Columns that must equal a value.
    pub filters: Vec<(usize, String)>,
    pub limit: usize,
    /// Rows come after this one.
    pub cursor: Option<Cursor>,
}

/// Where a page ended: the sort key and id of its last row. Opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: SortKey,
    pub id: DocumentId,
}

/// Why a list request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListQueryError {
    #[error("{list} has no column {column:?}")]
    NoSuchColumn { list: &'static str, column: String },
    #[error("limit must be a number from 1 to {MAX_LIMIT}")]
    BadLimit,
    #[error("order must be asc or desc")]
    BadOrder,
    #[error("the cursor is not one this server gave")]
    BadCursor,
}

impl ListQuery {
    /// Reads a request's query pairs. Names other than `q`, `sort`, `order`, `limit`,
    /// `cursor` and `format` are filters on the column of that name.
    pub fn parse<'a>(
        list: ListKind,
        pairs: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ListQueryError> {
        let column = |name: &str| {
            list.column_index(name)
                .ok_or_else(|| ListQueryError::NoSuchColumn {
                    list: list.name(),
                    column: name.to_owned(),
                })
        };
        let mut query = Self {
            search: None,
            sort: 0,
            descending: false,
            filters: Vec::new(),
            limit: DEFAULT_LIMIT,
            cursor: None,
        };
        for (name, value) in pairs {
            match name {
                "q" => {
                    let needle = value.trim().to_lowercase();
                    query.search = (!needle.is_empty()).then_some(needle);
                }
                "sort" => query.sort = column(value)?,
                "order" => {
                    query.descending = match value {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(ListQueryError::BadOrder),
                    }
                }
                "limit" => {
                    query.limit = value
                        .parse()
                        .ok()
                        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                        .ok_or(ListQueryError::BadLimit)?;
                }
                "cursor" if value.is_empty() => {}
                "cursor" => query.cursor = Some(Cursor::decode(value)?),
                "format" | "token" => {}
                filter => query.filters.push((column(filter)?, value.to_owned())),
            }
        }
        Ok(query)
    }
}

impl Cursor {
    /// The cursor as a URL-safe text: base58 of `[key, id]` in JSON.
    pub fn encode(&self) -> String {
        let key = match &self.key {
            SortKey::Empty => Json::Null,
            SortKey::Int(number) => Json::from(*number),
            SortKey::Text(text) => Json::from(text.as_str()),
        };
        let json = Json::Array(vec![key, Json::from(self.id.to_string())]);
        bs58::encode(json.to_string()).into_string()
    }

    /// Reads a cursor made by [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, ListQueryError> {
        let bytes = bs58::decode(text)
            .into_vec()
            .map_err(|_| ListQueryError::BadCursor)?;
        let json: Json = serde_json::from_slice(&bytes).map_err(|_| ListQueryError::BadCursor)?;
        let [key, Json::String(id)] = json.as_array().map(Vec::as_slice).unwrap_or_default() else {
            return Err(ListQueryError::BadCursor);
        };
        let key = match key {
            Json::Null => SortKey::Empty,
            Json::Number(n) => SortKey::Int(n.as_i64().ok_or(ListQueryError::BadCursor)?),
            Json::String(text) => SortKey::text(text),
            _ => return Err(ListQueryError::BadCursor),
        };
        let id = DocumentId::parse(id).map_err(|_| ListQueryError::BadCursor)?;
        Ok(Self { key, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_text_form_and_garbage_is_refused() {
        for key in [
            SortKey::Empty,
            SortKey::Int(-5),
            SortKey::text("kovács \"ilona\""),
        ] {
            let cursor = Cursor {
                key,
                id: DocumentId::from_bytes([4; 16]),
            };
            assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        }
        for bad in [
            "",
            "0OIl",
            "3mJr7AoUXx2Wqd",
            &bs58::encode("[1]").into_string(),
        ] {
            assert_eq!(Cursor::decode(bad), Err(ListQueryError::BadCursor), "{bad}");
        }
    }

    #[test]
    fn filters_name_columns_and_limits_stay_in_range() {
        let pairs = [("status", "open"), ("limit", "500")];
        let query = ListQuery::parse(ListKind::Tickets, pairs.into_iter()).expect("parses");
        assert_eq!(query.filters, vec![(1, "open".to_owned())]);
        for limit in ["0", "501", "ten"] {
            assert_eq!(
                ListQuery::parse(ListKind::Tickets, [("limit", limit)].into_iter()),
                Err(ListQueryError::BadLimit)
            );
        }
    }
}
