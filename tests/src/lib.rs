//! End-to-end tests of Itinera: they drive the real server and devices through public
//! interfaces only. The tests live in `tests/tests/`; this library holds what they share.

pub mod crash_loop;
pub mod decision_crash_loop;
pub mod device;
pub mod js;
pub mod postgres;
pub mod server;
pub mod tls;
pub mod tls_proxy;
