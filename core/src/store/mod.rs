//! The durable document store (feature `redb`).
