//! A transfer shipped and never received.
//!
//! Goods leave one location's counter when shipped and reach the other's when received; until
//! then they are on the road. A transfer still open long after shipping usually means goods
//! lost, or a receipt never entered on a phone.

use super::Finding;
use crate::DocumentId;
use crate::model::{AlertRule, AlertSeverity, Transfer, TransferStatus};

/// An [`AlertRule::TransferNotReceived`] finding (warning) if `transfer` is shipped, not
/// received, and more than `grace_ms` have passed since it was shipped (`now_ms` is the
/// caller's clock). A shipped transfer without a shipping time cannot age and raises nothing.
///
/// ```
/// use itinera_core::DocumentId;
/// use itinera_core::model::{Transfer, TransferStatus};
/// use itinera_core::rules::transfer_findings;
///
/// let transfer = Transfer { status: TransferStatus::Shipped, shipped_at: Some(1_000), ..Default::default() };
/// let id = DocumentId::from_bytes([6; 16]);
/// assert!(transfer_findings(&id, &transfer, 1_500, 500).is_empty());
/// assert_eq!(transfer_findings(&id, &transfer, 1_501, 500).len(), 1);
/// ```
pub fn transfer_findings(
    transfer_id: &DocumentId,
    transfer: &Transfer,
    now_ms: i64,
    grace_ms: i64,
) -> Vec<Finding> {
    let Some(shipped_at) = transfer.shipped_at else {
        return Vec::new();
    };
    let open = transfer.status == TransferStatus::Shipped && transfer.received_at.is_none();
    if !open || now_ms <= shipped_at.saturating_add(grace_ms) {
        return Vec::new();
    }
    let hours = now_ms.saturating_sub(shipped_at) / 3_600_000;
    vec![Finding::new(
        AlertRule::TransferNotReceived,
        AlertSeverity::Warning,
        *transfer_id,
        "",
        format!(
            "transfer {transfer_id} from {} to {} ({} lines) was shipped {hours} h ago and is \
             not received; find the goods or have the receiver confirm them",
            transfer.from,
            transfer.to,
            transfer.lines.len()
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_drafts_and_cancelled_transfers_raise_nothing() {
        let id = DocumentId::from_bytes([6; 16]);
        let late = 10 * 86_400_000;
        for status in [
            TransferStatus::Draft,
            TransferStatus::Received,
            TransferStatus::Cancelled,
        ] {
            let transfer = Transfer {
                status,
                shipped_at: Some(0),
                ..Default::default()
            };
            assert!(
                transfer_findings(&id, &transfer, late, 1).is_empty(),
                "{status}"
            );
        }
        let received_without_status = Transfer {
            status: TransferStatus::Shipped,
            shipped_at: Some(0),
            received_at: Some(5),
            ..Default::default()
        };
        assert!(transfer_findings(&id, &received_without_status, late, 1).is_empty());
        let unshipped = Transfer {
            status: TransferStatus::Shipped,
            ..Default::default()
        };
        assert!(transfer_findings(&id, &unshipped, late, 1).is_empty());
        let shipped = Transfer {
            status: TransferStatus::Shipped,
            shipped_at: Some(0),
            ..Default::default()
        };
        let findings = transfer_findings(&id, &shipped, late, 1);
        assert_eq!(findings[0].key, format!("transfer_not_received:{id}"));
        assert!(
            findings[0].message.contains("240 h"),
            "{}",
            findings[0].message
        );
    }
}
