//! The authority's rules.
