//! Findings become alerts: episodes in the company's `alerts` document, copied into the
//! `alerts:{user}` document of each user the alert is about (the rep of a booking, the guide
//! of an assignment, the custodian of a kit), which their phone syncs.
//!
//! An alert is one episode of a finding. While the condition holds the episode stays; when it
//! goes away the server resolves the episode (or, if a person resolved it already, notes that
//! it cleared); when it comes back after that, a new episode opens (`<finding>#2`). An alert a
//! person resolved while the condition still held opens no new episode until the condition
//! has cleared once.

use std::collections::{BTreeMap, BTreeSet};

use itinera_core::DocumentId;
use itinera_core::engine::ServerEdit;
use itinera_core::model::{Alert, AlertRule, AlertStatus, Alerts, DocumentKind};
use itinera_core::rules::Finding;

use super::Plan;
use super::records::Records;
use crate::server_documents::{alerts_document_id, user_alerts_document_id};

/// The latest episode of each finding of `subject` under `rules`: finding key → (alert id,
/// alert, episode number).
fn latest_episodes<'a>(
    alerts: &'a Alerts,
    subject: &str,
    rules: &[AlertRule],
) -> BTreeMap<&'a str, (&'a str, &'a Alert, u32)> {
    let mut latest: BTreeMap<&str, (&str, &Alert, u32)> = BTreeMap::new();
    for (id, alert) in &alerts.alerts {
        if alert.document != subject || !rules.contains(&alert.rule) {
            continue;
        }
        let finding = alert.finding_key(id);
        let episode = id
            .strip_prefix(finding)
            .and_then(|rest| rest.strip_prefix('#'))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        if latest
            .get(finding)
            .is_none_or(|(_, _, seen)| *seen < episode)
        {
            latest.insert(finding, (id, alert, episode));
        }
    }
    latest
}

/// Records `findings` for `subject` under `rules`: opens an episode for a finding with none
/// open, resolves (or marks cleared) the open episodes whose finding disappeared, and copies
/// every alert written to its owners. `owner` is the user the subject document belongs to.
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
    let subject_owner = records.owner_of(&subject);
    let latest = latest_episodes(&current, &subject_text, rules);
    let wanted: BTreeMap<String, Finding> =
        findings.into_iter().map(|f| (f.key.clone(), f)).collect();
    let mut written: BTreeMap<String, Alert> = BTreeMap::new();
    for (key, finding) in &wanted {
        let episode = match latest.get(key.as_str()) {
            None => Some(key.clone()),
            // Still open: the same episode, its message brought up to date (a group of
            // look-alikes that grew names its new members).
            Some((id, alert, _)) if alert.is_open() => {
                if alert.message != finding.message {
                    let mut updated = (*alert).clone();
                    updated.message = finding.message.clone();
                    written.insert((*id).to_owned(), updated);
                }
                None
            }
            Some((_, alert, n)) if alert.cleared_at.is_some() => Some(format!("{key}#{}", n + 1)),
            Some(_) => None,
        };
        if let Some(id) = episode {
            let mut alert = finding.to_alert(now);
            if let Some(owner) = &subject_owner {
                alert.owners.insert(owner.as_str());
            }
            written.insert(id, alert);
        }
    }
    for (finding, (id, alert, _)) in &latest {
        if wanted.contains_key(*finding) || alert.cleared_at.is_some() {
            continue;
        }
        let mut alert = (*alert).clone();
        if alert.is_open() {
            alert.status = AlertStatus::Resolved;
            alert.resolved_by = Some("server".into());
            alert.resolved_at = Some(now);
        }
        alert.cleared_at = Some(now);
        written.insert((*id).to_owned(), alert);
    }
    write_alerts(written, plan);
}

/// Writes `alerts` (id → alert) into the company's document and their owners' copies.
pub fn write_alerts(alerts: BTreeMap<String, Alert>, plan: &mut Plan) {
    if alerts.is_empty() {
        return;
    }
    let mut by_owner: BTreeMap<String, BTreeMap<String, Alert>> = BTreeMap::new();
    for (id, alert) in &alerts {
        for owner in alert.owners.iter() {
            by_owner
                .entry(owner.to_owned())
                .or_default()
                .insert(id.clone(), alert.clone());
        }
    }
    plan.edit(alerts_document_id(), upsert(alerts, None));
    for (owner, alerts) in by_owner {
        plan.edit(user_alerts_document_id(&owner), upsert(alerts, Some(owner)));
    }
}

fn upsert(alerts: BTreeMap<String, Alert>, for_user: Option<String>) -> ServerEdit {
    ServerEdit::record(move |doc: &mut Alerts| {
        let mut changed = doc.for_user != for_user;
        doc.for_user = for_user;
        for (id, alert) in alerts {
            if doc.alerts.get(&id) != Some(&alert) {
                doc.alerts.insert(id, alert);
                changed = true;
            }
        }
        Ok(changed)
    })
    .or_create(DocumentKind::Alerts)
}

/// After office changed the company's alerts (acknowledged or resolved some), the owners'
/// copies that differ are brought in line.
pub fn mirror_to_owners(records: &Records, company: &Alerts, plan: &mut Plan) {
    let mut owners: BTreeSet<&str> = BTreeSet::new();
    for alert in company.alerts.values() {
        owners.extend(alert.owners.iter());
    }
    for owner in owners {
        let copy = records
            .load::<Alerts>(&user_alerts_document_id(owner))
            .unwrap_or_default();
        let stale: BTreeMap<String, Alert> = company
            .alerts
            .iter()
            .filter(|(_, alert)| alert.owners.contains(owner))
            .filter(|(id, alert)| copy.alerts.get(*id) != Some(*alert))
            .map(|(id, alert)| (id.clone(), alert.clone()))
            .collect();
        if !stale.is_empty() {
            plan.edit(
                user_alerts_document_id(owner),
                upsert(stale, Some(owner.to_owned())),
            );
        }
    }
}
