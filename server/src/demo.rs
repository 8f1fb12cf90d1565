//! A small demo tour company, so a newcomer can connect at once (`serve --demo`).

use std::sync::Arc;

use itinera_core::store::RedbStore;

/// Seeds the demo into `store` if it holds no records; returns `(user, role, token)` for each
/// demo user.
pub fn seed(_store: Arc<RedbStore>, _now: i64) -> crate::Result<Vec<(String, String, String)>> {
    Ok(Vec::new())
}
