//! The automerge-repo wire protocol.
