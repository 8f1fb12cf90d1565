//! Sync health per device: when each was last heard from and what it has not yet received.
//!
//! The server knows its devices (the sync layer's peers and storage ids), so it supplies them
//! as [`DeviceHealth`]; this report only sorts and judges. A device silent for more than
//! [`SILENT_AFTER_MS`] (seven days) is flagged: a guide's phone left in a drawer holds
//! consumption and check-ins head office has not seen.
//!
//! ```
//! use itinera_core::reports::{DeviceHealth, sync_health};
//!
//! let day = 86_400_000;
//! let phone = DeviceHealth { user: "gus".into(), peer_id: "p-1".into(), storage_id: None, last_seen: 0, pending_documents: 3 };
//! let report = sync_health(&[phone], 8 * day);
//! assert!(report.devices[0].silent);
//! assert_eq!(report.devices[0].silent_for_ms, 8 * day);
//! ```

use serde::{Deserialize, Serialize};

use crate::reports::calendar::DAY_MS;

/// Silence longer than this flags a device.
pub const SILENT_AFTER_MS: i64 = 7 * DAY_MS;

/// What the server knows of one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHealth {
    /// The user signed in on it.
    pub user: String,
    /// The sync layer's peer id.
    pub peer_id: String,
    /// The device's storage id, when it announced one.
    pub storage_id: Option<String>,
    /// Unix ms it was last heard from.
    pub last_seen: i64,
    /// Documents changed on the server that it has not received.
    pub pending_documents: u64,
}

/// Every device, most silent first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncHealthReport {
    /// Every device, longest silent first, then by user and peer.
    pub devices: Vec<DeviceStatus>,
    /// How many are flagged silent.
    pub silent_devices: u64,
    /// Pending documents over all devices.
    pub pending_documents: u64,
}

/// One device's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// The user signed in on it.
    pub user: String,
    /// The sync layer's peer id.
    pub peer_id: String,
    /// The device's storage id, if known.
    pub storage_id: Option<String>,
    /// Unix ms it was last heard from.
    pub last_seen: i64,
    /// How long ago that was (zero if `last_seen` is in the future).
    pub silent_for_ms: i64,
    /// Documents it has not received.
    pub pending_documents: u64,
    /// Silent for more than seven days.
    pub silent: bool,
}

/// Sync health of `devices` as of `now_ms` (Unix ms).
pub fn sync_health(devices: &[DeviceHealth], now_ms: i64) -> SyncHealthReport {
    let mut rows: Vec<DeviceStatus> = devices
        .iter()
        .map(|device| {
            let silent_for_ms = now_ms.saturating_sub(device.last_seen).max(0);
            DeviceStatus {
                user: device.user.clone(),
                peer_id: device.peer_id.clone(),
                storage_id: device.storage_id.clone(),
                last_seen: device.last_seen,
                silent_for_ms,
                pending_documents: device.pending_documents,
                silent: silent_for_ms > SILENT_AFTER_MS,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.silent_for_ms
            .cmp(&a.silent_for_ms)
            .then_with(|| (&a.user, &a.peer_id).cmp(&(&b.user, &b.peer_id)))
    });
    SyncHealthReport {
        silent_devices: rows.iter().filter(|row| row.silent).count() as u64,
        pending_documents: rows
            .iter()
            .fold(0u64, |sum, row| sum.saturating_add(row.pending_documents)),
        devices: rows,
    }
}
