//! Head office reports.
