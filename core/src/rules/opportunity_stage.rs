//! Rule 6, an opportunity's stage moved by two people at once, and deals won without a booking.
//!
//! The merge keeps one stage (every replica picks the same), but the other move was a real
//! decision by a colleague: the authority flags it to the owner instead of letting it vanish.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::{Document, DocumentId};
//! use itinera_core::model::{Account, LogKey, Opportunity, Stage};
//! use itinera_core::rules::stage_findings;
//!
//! let mut office = Document::create(ActorId::from([1u8; 16]), 1, &Account::default())?;
//! office.change(2, |a| { a.opportunities.insert("o-1".into(), Opportunity::default()); Ok(()) })?;
//! let mut ana = office.fork(ActorId::from([2u8; 16]));
//! let mut ben = office.fork(ActorId::from([3u8; 16]));
//! ana.change(3, |a| a.move_opportunity("o-1", Stage::Proposal, LogKey::new(3, "ana"), "ana", 3))?;
//! ben.change(3, |a| a.move_opportunity("o-1", Stage::Lost, LogKey::new(3, "ben"), "ben", 3))?;
//! ana.merge(&mut ben)?;
//!
//! let findings = stage_findings(&DocumentId::from_bytes([5; 16]), &ana);
//! assert_eq!(findings.len(), 1);
//! assert!(findings[0].message.contains("proposal") && findings[0].message.contains("lost"));
//! # Ok::<(), itinera_core::Error>(())
//! ```

use super::Finding;
use crate::document::{FieldConflicts, FieldValue};
use crate::model::{Account, AlertRule, AlertSeverity, FieldPath, Stage};
use crate::{Document, DocumentId};

/// [`AlertRule::StageConflict`] findings for the opportunities of one account document, in
/// opportunity order:
///
/// - one per opportunity whose stage holds concurrent values, naming each value, the device
///   that wrote it and the one shown; its key names the conflicting writes, so a later
///   conflict on the same opportunity is a new alert;
/// - one per opportunity at [`Stage::Won`] with no linked booking (key suffix
///   `won_without_booking`): a deal is won by a booking.
///
/// Archived opportunities are skipped; a document that does not read as an account has none.
pub fn stage_findings(account_id: &DocumentId, doc: &Document<Account>) -> Vec<Finding> {
    match doc.record() {
        Ok(account) => stage_findings_in(account_id, doc, &account),
        Err(_) => Vec::new(),
    }
}

/// [`stage_findings`] for a caller that holds the record already (`account` is `doc`'s).
pub fn stage_findings_in(
    account_id: &DocumentId,
    doc: &Document<Account>,
    account: &Account,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (opportunity_id, opportunity) in &account.opportunities {
        if opportunity.archived_at.is_some() {
            continue;
        }
        let title = if opportunity.name.is_empty() {
            format!("opportunity {opportunity_id}")
        } else {
            format!("opportunity {} ({opportunity_id})", opportunity.name)
        };
        let owner = if opportunity.owner.is_empty() {
            String::new()
        } else {
            format!(" for its owner {}", opportunity.owner)
        };
        let path = FieldPath::root()
            .key("opportunities")
            .key(opportunity_id.as_str())
            .key("stage");
        let conflicts = doc
            .conflicts(&path)
            .ok()
            .filter(FieldConflicts::is_conflicted);
        if let Some(conflicts) = conflicts {
            findings.push(conflict_finding(
                account_id,
                opportunity_id,
                &title,
                &owner,
                &conflicts,
            ));
        }
        let unbooked = opportunity.booking.as_deref().is_none_or(str::is_empty);
        if opportunity.stage == Stage::Won && unbooked {
            findings.push(Finding::new(
                AlertRule::StageConflict,
                AlertSeverity::Warning,
                *account_id,
                &format!("{opportunity_id}:won_without_booking"),
                format!("{title} is won but no booking is linked to it; link the booking or move it back{owner}"),
            ));
        }
    }
    findings
}

fn conflict_finding(
    account_id: &DocumentId,
    opportunity_id: &str,
    title: &str,
    owner: &str,
    conflicts: &FieldConflicts,
) -> Finding {
    let mut writes: Vec<(String, String)> = conflicts
        .values
        .iter()
        .map(|value| (shown(&value.value), value.actor.chars().take(8).collect()))
        .collect();
    writes.sort();
    let subject = writes
        .iter()
        .map(|(value, actor)| format!("{value}@{actor}"))
        .collect::<Vec<_>>()
        .join("+");
    let described = writes
        .iter()
        .map(|(value, actor)| format!("{value} (device {actor})"))
        .collect::<Vec<_>>()
        .join(" and ");
    let winner = conflicts.winner().map(shown).unwrap_or_default();
    Finding::new(
        AlertRule::StageConflict,
        AlertSeverity::Warning,
        *account_id,
        &format!("{opportunity_id}:{subject}"),
        format!(
            "{title} was moved to {described} at the same time; it shows {winner}; review it{owner}"
        ),
    )
}

fn shown(value: &FieldValue) -> String {
    match value {
        FieldValue::Str(text) | FieldValue::Text(text) => text.clone(),
        other => format!("{other:?}"),
    }
}
