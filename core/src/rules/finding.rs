//! What the authority found: one rule broken by one subject.

use crate::DocumentId;
use crate::model::{Alert, AlertRule, AlertSeverity, AlertStatus};

/// A rule a merge could not keep, broken by one subject of one document.
///
/// `key` names the rule and the subject (`negative_stock:<location>:<item>`), never the time
/// or the order of evaluation, so the same finding raised twice is one alert.
///
/// ```
/// use itinera_core::DocumentId;
/// use itinera_core::model::{AlertRule, AlertSeverity, AlertStatus};
/// use itinera_core::rules::Finding;
///
/// let kit = DocumentId::from_bytes([4; 16]);
/// let finding = Finding::new(AlertRule::NegativeStock, AlertSeverity::Critical, kit, "water", "water is -2");
/// assert_eq!(finding.key, format!("negative_stock:{kit}:water"));
/// let alert = finding.to_alert(1_000);
/// assert_eq!((alert.status, alert.raised_at), (AlertStatus::Open, 1_000));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Finding {
    /// The rule broken.
    pub rule: AlertRule,
    /// How urgently someone should look.
    pub severity: AlertSeverity,
    /// The document the rule was checked on (the alert's subject).
    pub document: DocumentId,
    /// The alert id: rule, document and subject within it.
    pub key: String,
    /// What is wrong, for the person who resolves it.
    pub message: String,
    /// Users who should see the alert on their phones besides the owner of `document` (the
    /// rep of a booking a departure's finding is about).
    pub owners: Vec<String>,
}

impl Finding {
    /// A finding about `subject` within `document` (an item, a booking id; empty for the
    /// document as a whole), keyed `<rule>:<document>[:<subject>]`.
    pub fn new(
        rule: AlertRule,
        severity: AlertSeverity,
        document: DocumentId,
        subject: &str,
        message: impl Into<String>,
    ) -> Self {
        let key = if subject.is_empty() {
            format!("{rule}:{document}")
        } else {
            format!("{rule}:{document}:{subject}")
        };
        Self {
            rule,
            severity,
            document,
            key,
            message: message.into(),
            owners: Vec::new(),
        }
    }

    /// This finding, shown on `user`'s phone too (nobody for an empty name).
    pub fn for_owner(mut self, user: &str) -> Self {
        if !user.is_empty() && !self.owners.iter().any(|owner| owner == user) {
            self.owners.push(user.to_owned());
        }
        self
    }

    /// The open alert that records this finding, raised at `raised_at` (Unix ms).
    pub fn to_alert(&self, raised_at: i64) -> Alert {
        Alert {
            rule: self.rule,
            severity: self.severity,
            document: self.document.to_string(),
            message: self.message.clone(),
            raised_at,
            status: AlertStatus::Open,
            resolved_by: None,
            resolved_at: None,
            finding: self.key.clone(),
            cleared_at: None,
            owners: self.owners.iter().map(String::as_str).collect(),
        }
    }
}
