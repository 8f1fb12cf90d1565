//! Document identifiers, compatible with automerge-repo.
//!
//! A [`DocumentId`] is 16 bytes. automerge-repo prints it as bs58check (base58 with a four-byte
//! double-SHA-256 checksum, no version byte) and addresses it as `automerge:<id>`, so any
//! automerge-repo client can open an Itinera document by its URL.
//!
//! ```
//! use itinera_core::DocumentId;
//!
//! let id: DocumentId = "automerge:1Bhh3pU9gLXZiNDL6PEa1Gs9fh".parse().unwrap();
//! assert_eq!(id.as_bytes()[15], 0x0f);
//! assert_eq!(id.to_url(), "automerge:1Bhh3pU9gLXZiNDL6PEa1Gs9fh");
//! assert_eq!(id.to_string(), "1Bhh3pU9gLXZiNDL6PEa1Gs9fh");
//! ```

mod document_id;

pub use document_id::{DocumentId, IdError};
