//! The device replica.
