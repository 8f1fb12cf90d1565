//! A live booking that references an archived account.
//!
//! Archiving is soft, so nothing stops a rep who has not synced from booking for a customer
//! office has just archived (or merged into another account). The booking stands; the
//! authority asks someone to move it to the surviving account or to confirm it.

use super::Finding;
use crate::DocumentId;
use crate::model::{AlertRule, AlertSeverity, Booking, BookingStatus};

/// An [`AlertRule::ArchivedReference`] finding (warning) if `booking` is live (not cancelled
/// or rejected) and its account is archived; the caller looks the account up and says whether
/// it is archived (or merged into another).
///
/// ```
/// use itinera_core::DocumentId;
/// use itinera_core::model::Booking;
/// use itinera_core::rules::archived_reference_findings;
///
/// let booking = Booking { account: "acct-1".into(), ..Default::default() };
/// let id = DocumentId::from_bytes([2; 16]);
/// assert_eq!(archived_reference_findings(&id, &booking, true).len(), 1);
/// assert!(archived_reference_findings(&id, &booking, false).is_empty());
/// ```
pub fn archived_reference_findings(
    booking_id: &DocumentId,
    booking: &Booking,
    account_archived: bool,
) -> Vec<Finding> {
    let closed = booking.cancelled_at.is_some()
        || matches!(
            booking.status,
            BookingStatus::Cancelled | BookingStatus::Rejected
        );
    if !account_archived || closed {
        return Vec::new();
    }
    vec![Finding::new(
        AlertRule::ArchivedReference,
        AlertSeverity::Warning,
        *booking_id,
        &format!("account:{}", booking.account),
        format!(
            "booking {booking_id} ({}) is for account {}, which is archived; move it to the \
             account that replaced it, or confirm it",
            booking.status, booking.account
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_bookings_raise_nothing() {
        let id = DocumentId::from_bytes([2; 16]);
        let cancelled = Booking {
            cancelled_at: Some(5),
            ..Default::default()
        };
        assert!(archived_reference_findings(&id, &cancelled, true).is_empty());
        let rejected = Booking {
            status: BookingStatus::Rejected,
            ..Default::default()
        };
        assert!(archived_reference_findings(&id, &rejected, true).is_empty());
        let confirmed = Booking {
            status: BookingStatus::Confirmed,
            account: "a".into(),
            ..Default::default()
        };
        let findings = archived_reference_findings(&id, &confirmed, true);
        assert_eq!(
            findings[0].key,
            format!("archived_reference:{id}:account:a")
        );
        assert_eq!(findings[0].document, id);
    }
}
