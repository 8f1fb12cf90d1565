//! What a user is given access to beyond their role: a territory, a departure, a stock location.

use std::fmt;
use std::str::FromStr;

use crate::id::{DocumentId, IdError};

/// One thing a user is granted, written `territory:north`, `departure:<id>` or `stock:<id>`.
///
/// Grants are how the office hands out documents one by one: a rep sees the accounts of the
/// territories they cover, a guide the departures they lead and the stock they carry. The text
/// form is what the server stores and what tools type, so it is stable.
///
/// ```
/// use itinera_core::policy::Grant;
///
/// let grant: Grant = "territory:north".parse()?;
/// assert_eq!(grant, Grant::Territory("north".into()));
/// assert_eq!(grant.to_string(), "territory:north");
/// # Ok::<(), itinera_core::policy::GrantError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    /// The accounts of a sales territory, readable by a rep who does not own them.
    Territory(String),
    /// One departure (and its field log), for the guides assigned to it.
    Departure(DocumentId),
    /// One stock location (a van, a tour kit) and the transfers in and out of it.
    StockLocation(DocumentId),
}

/// The prefix of a territory grant.
const TERRITORY: &str = "territory";
/// The prefix of a departure grant.
const DEPARTURE: &str = "departure";
/// The prefix of a stock location grant; `stock` as in the document name `stock:{location}`.
const STOCK: &str = "stock";

/// Why a string is not a [`Grant`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// No `:` between the kind of grant and its value.
    #[error("grant {0:?} is not of the form kind:value")]
    NoSeparator(String),
    /// The part before `:` is not `territory`, `departure` or `stock`.
    #[error("grant {text:?} is of unknown kind {kind:?}; expected territory, departure or stock")]
    UnknownKind {
        /// The whole grant as given.
        text: String,
        /// The part before `:`.
        kind: String,
    },
    /// `territory:` with nothing after it.
    #[error("grant {0:?} names no territory")]
    EmptyTerritory(String),
    /// The part after `departure:` or `stock:` is not a document id.
    #[error("grant {text:?} does not name a document: {source}")]
    BadDocumentId {
        /// The whole grant as given.
        text: String,
        /// Why the id did not parse.
        #[source]
        source: IdError,
    },
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Territory(territory) => write!(f, "{TERRITORY}:{territory}"),
            Self::Departure(id) => write!(f, "{DEPARTURE}:{id}"),
            Self::StockLocation(id) => write!(f, "{STOCK}:{id}"),
        }
    }
}

impl FromStr for Grant {
    type Err = GrantError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Some((kind, value)) = text.split_once(':') else {
            return Err(GrantError::NoSeparator(text.into()));
        };
        let document = || {
            DocumentId::parse(value).map_err(|source| GrantError::BadDocumentId {
                text: text.into(),
                source,
            })
        };
        match kind {
            TERRITORY if value.is_empty() => Err(GrantError::EmptyTerritory(text.into())),
            TERRITORY => Ok(Self::Territory(value.into())),
            DEPARTURE => document().map(Self::Departure),
            STOCK => document().map(Self::StockLocation),
            _ => Err(GrantError::UnknownKind {
                text: text.into(),
                kind: kind.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1Bhh3pU9gLXZiNDL6PEa1Gs9fh";

    fn id() -> DocumentId {
        DocumentId::parse(ID).expect("valid id")
    }

    #[test]
    fn every_grant_round_trips_through_its_text() {
        let grants = [
            (
                Grant::Territory("north".into()),
                "territory:north".to_owned(),
            ),
            (Grant::Departure(id()), format!("departure:{ID}")),
            (Grant::StockLocation(id()), format!("stock:{ID}")),
        ];
        for (grant, text) in grants {
            assert_eq!(grant.to_string(), text);
            assert_eq!(text.parse::<Grant>(), Ok(grant));
        }
    }

    #[test]
    fn a_territory_may_contain_a_colon() {
        // Only the first colon separates: territory names are the office's free text.
        assert_eq!(
            "territory:eu:alps".parse::<Grant>(),
            Ok(Grant::Territory("eu:alps".into()))
        );
    }

    #[test]
    fn malformed_grants_say_what_is_wrong() {
        assert_eq!(
            "north".parse::<Grant>(),
            Err(GrantError::NoSeparator("north".into()))
        );
        assert_eq!(
            "territory:".parse::<Grant>(),
            Err(GrantError::EmptyTerritory("territory:".into()))
        );
        assert_eq!(
            format!("Departure:{ID}").parse::<Grant>(),
            Err(GrantError::UnknownKind {
                text: format!("Departure:{ID}"),
                kind: "Departure".into(),
            })
        );
        let err = "stock:not-an-id".parse::<Grant>().expect_err("bad id");
        assert!(
            matches!(&err, GrantError::BadDocumentId { text, .. } if text == "stock:not-an-id"),
            "{err:?}"
        );
        assert!(err.to_string().contains("stock:not-an-id"), "{err}");
        assert!(matches!(
            "departure:".parse::<Grant>(),
            Err(GrantError::BadDocumentId { .. })
        ));
    }

    #[test]
    fn grants_of_different_kinds_for_one_id_are_different() {
        assert_ne!(Grant::Departure(id()), Grant::StockLocation(id()));
    }
}
