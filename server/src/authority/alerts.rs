//! Findings become alerts in the company's `alerts` document: a new finding opens an alert, one
//! that no longer holds is resolved by the server.

use std::collections::BTreeMap;

use itinera_core::DocumentId;
use itinera_core::engine::ServerEdit;
use itinera_core::model::{AlertRule, AlertStatus, Alerts, DocumentKind};
use itinera_core::rules::Finding;

use super::Plan;
use super::records::Records;
use crate::server_documents::alerts_document_id;

/// Records `findings` for `subject` under `rules`: new ones open an alert, ones that
/// disappeared are resolved by the server. A finding the server had resolved that holds again
/// reopens its alert; one a person resolved stays resolved.
pub fn record_findings(
    records: &Records,
    subject: DocumentId,
    rules: &[AlertRule],
    findings: Vec<Finding>,
    now: i64,
    plan: &mut Plan,
) {
    let current = records
        .load::<Alerts>(&alerts_document_id())
        .unwrap_or_default();
    let subject_text = subject.to_string();
    let wanted: BTreeMap<String, Finding> =
        findings.into_iter().map(|f| (f.key.clone(), f)).collect();
    let stale: Vec<String> = current
        .alerts
        .iter()
        .filter(|(key, alert)| {
            alert.document == subject_text
                && rules.contains(&alert.rule)
                && alert.status != AlertStatus::Resolved
                && !wanted.contains_key(*key)
        })
        .map(|(key, _)| key.clone())
        .collect();
    let new: Vec<Finding> = wanted
        .into_values()
        .filter(|f| {
            current.alerts.get(&f.key).is_none_or(|alert| {
                alert.status == AlertStatus::Resolved
                    && alert.resolved_by.as_deref() == Some("server")
            })
        })
        .collect();
    if stale.is_empty() && new.is_empty() {
        return;
    }
    let edit = ServerEdit::record(move |alerts: &mut Alerts| {
        for finding in new {
            alerts
                .alerts
                .insert(finding.key.clone(), finding.to_alert(now));
        }
        for key in stale {
            if let Some(alert) = alerts.alerts.get_mut(&key) {
                alert.status = AlertStatus::Resolved;
                alert.resolved_by = Some("server".into());
                alert.resolved_at = Some(now);
            }
        }
        Ok(true)
    })
    .or_create(DocumentKind::Alerts);
    plan.edit(alerts_document_id(), edit);
}
