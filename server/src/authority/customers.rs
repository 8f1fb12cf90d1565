//! Customers: opportunity stage conflicts, edits of archived accounts, duplicate contacts
//! inside an account and duplicate customers or contacts across accounts (company-wide, phone
//! numbers in E.164 in the company's region), a lead converted on two devices, and each
//! account's purchase history written by the server.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ActorId, AutoCommit};
use itinera_core::document::Touched;
use itinera_core::engine::ServerEdit;
use itinera_core::model::{
    Account, AlertRule, AlertSeverity, BookingStatus, Departure, Lead, PurchaseSummary, RecordValue,
};
use itinera_core::reports::AccountSummary;
use itinera_core::rules::{self, Finding};
use itinera_core::{Document, DocumentId, FieldPath};

use super::Plan;
use super::alerts::record_findings;
use super::records::Records;
use super::relations::{Relations, parse_reference};

/// What the account decision reads and keeps besides the account.
pub struct Customers<'a> {
    pub records: &'a Records,
    pub relations: &'a mut Relations,
    /// The company's phone region.
    pub region: Option<&'a str>,
    /// The server's actor, whose edits of an archived account are not "edits after archive".
    pub server: &'a ActorId,
}

/// The account fields whose writes can change what the rules that read the account's
/// document find: conflicting opportunity stages, and edits of an archived contact.
const FIELDS_READ_FROM_THE_DOCUMENT: [&str; 3] = ["opportunities", "contacts", "archived_at"];

/// Whether the rules of an account or lead commit need its document, not only its record:
/// the account's conflicting stages and edits after an archive (any edit of an archived
/// account; of an archived contact, an edit of the contacts), and a lead's conversion on two
/// devices. Any other commit leaves what those rules found as it was, and its document is not
/// copied for them.
pub fn reads_document(record: Option<&RecordValue>, written: &Touched) -> bool {
    let Some(record) = record else {
        return true;
    };
    if let Some(account) = record.get::<Account>() {
        return written.any(&FIELDS_READ_FROM_THE_DOCUMENT) || account.archived_at.is_some();
    }
    if record.get::<Lead>().is_some() {
        return written.field("converted_to");
    }
    true
}

/// Findings about account `id` and the accounts it duplicates. `document` is the account's
/// document when [`reads_document`] says its rules read it; without it the findings of those
/// rules stay as they are.
pub fn decide_account(
    customers: &mut Customers<'_>,
    id: DocumentId,
    account: &Account,
    document: Option<AutoCommit>,
    now: i64,
    plan: &mut Plan,
) {
    let (records, region, server) = (customers.records, customers.region, customers.server);
    let relations = &mut *customers.relations;
    let mut rules = vec![AlertRule::DuplicateContact];
    let mut findings: Vec<Finding> = rules::duplicate_contacts_in(&id, account, region)
        .iter()
        .map(|proposal| proposal.finding())
        .collect();
    if let Some(document) = document {
        rules.extend(DOCUMENT_RULES);
        findings.extend(document_findings(&id, document, account, server));
    }
    record_findings(records, id, &rules, findings, now, plan);

    // Across accounts: one proposal per group of look-alikes, on the group's newest account.
    // The groups it belonged to and joins now are decided again, and the accounts that carried
    // their proposals before are cleared where they no longer do.
    let summary = AccountSummary::from(account);
    let archived = account.archived_at.is_some() || account.merged_into.is_some();
    let keys: Vec<(Option<String>, String)> = if archived {
        Vec::new()
    } else {
        summary
            .identity_keys(region)
            .into_iter()
            .map(|(contact, key)| (contact.map(str::to_owned), key))
            .collect()
    };
    let mut touched: BTreeSet<DocumentId> =
        relations.duplicate_group(id).accounts.into_iter().collect();
    for (_, key) in &keys {
        touched.extend(relations.key_holders(key));
    }
    let carriers_before: BTreeSet<DocumentId> = groups_of(relations, &touched)
        .iter()
        .filter_map(|group| group.finding().map(|finding| finding.document))
        .collect();
    relations.set_account_keys(id, keys);
    let mut carriers = BTreeSet::new();
    for group in groups_of(relations, &touched) {
        let Some(newest) = group.newest() else {
            continue;
        };
        carriers.insert(newest);
        let findings: Vec<Finding> = group.finding().into_iter().collect();
        record_findings(
            records,
            newest,
            &[AlertRule::DuplicateAccount],
            findings,
            now,
            plan,
        );
    }
    for previous in carriers_before.difference(&carriers) {
        record_findings(
            records,
            *previous,
            &[AlertRule::DuplicateAccount],
            Vec::new(),
            now,
            plan,
        );
    }
}

/// The alert rules that read an account's document.
const DOCUMENT_RULES: [AlertRule; 2] = [AlertRule::StageConflict, AlertRule::EditAfterArchive];

/// What the rules that read the account's document find (none when it does not load as one:
/// the engine checked it whole when it committed it).
fn document_findings(
    id: &DocumentId,
    document: AutoCommit,
    account: &Account,
    server: &ActorId,
) -> Vec<Finding> {
    let Ok(mut doc) = Document::<Account>::from_checked(document) else {
        return Vec::new();
    };
    let mut findings = rules::stage_findings_in(id, &doc, account);
    findings.extend(rules::edits_after_archive_in(
        id,
        &mut doc,
        Some(account),
        Some(server),
    ));
    findings
}

/// Debug builds: a commit decided without its document (see [`reads_document`]) leaves what
/// the rules that read it find as it was at `previous_heads`.
#[cfg(debug_assertions)]
pub fn check_unread_document_unchanged(
    id: DocumentId,
    record: &RecordValue,
    document: &AutoCommit,
    previous_heads: &[automerge::ChangeHash],
    server: &ActorId,
) {
    let is_account = record.get::<Account>().is_some();
    let findings = |doc: AutoCommit| {
        if !is_account {
            return lead_findings(id, doc);
        }
        match autosurgeon::hydrate::<_, Account>(&doc) {
            Ok(account) => document_findings(&id, doc, &account, server),
            Err(_) => Vec::new(),
        }
    };
    let Ok(before) = document.clone().fork_at(previous_heads) else {
        return;
    };
    assert_eq!(
        findings(before),
        findings(document.clone()),
        "{id}: the rules that read its document find something else after a commit decided \
         without it"
    );
}

/// The groups of look-alike accounts that `accounts` belong to, each once.
fn groups_of(
    relations: &Relations,
    accounts: &BTreeSet<DocumentId>,
) -> Vec<rules::DuplicateCustomers> {
    let mut covered = BTreeSet::new();
    let mut groups = Vec::new();
    for account in accounts {
        if covered.contains(account) {
            continue;
        }
        let group = relations.duplicate_group(*account);
        covered.extend(group.accounts.iter().copied());
        groups.push(group);
    }
    groups
}

/// A lead converted on two devices holds two accounts in `converted_to`: propose merging the
/// loser into the winner.
pub fn decide_lead(
    records: &Records,
    id: DocumentId,
    content: AutoCommit,
    now: i64,
    plan: &mut Plan,
) {
    let findings = lead_findings(id, content);
    record_findings(
        records,
        id,
        &[AlertRule::DuplicateAccount],
        findings,
        now,
        plan,
    );
}

/// The lead's conversion into two accounts, if two devices converted it.
fn lead_findings(id: DocumentId, content: AutoCommit) -> Vec<Finding> {
    let Ok(doc) = Document::<Lead>::from_checked(content) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    if let Ok(conflicts) = doc.conflicts(&FieldPath::parse("/converted_to")) {
        let accounts: Vec<String> = conflicts
            .values
            .iter()
            .filter_map(|value| match &value.value {
                itinera_core::document::FieldValue::Str(text) => Some(text.clone()),
                _ => None,
            })
            .collect();
        if accounts.len() > 1 {
            let winner = conflicts
                .values
                .iter()
                .find(|value| value.winner)
                .and_then(|value| match &value.value {
                    itinera_core::document::FieldValue::Str(text) => Some(text.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let others: Vec<&String> = accounts.iter().filter(|a| **a != winner).collect();
            findings.push(Finding::new(
                AlertRule::DuplicateAccount,
                AlertSeverity::Warning,
                id,
                "converted_to",
                format!(
                    "lead {id} was converted on two devices into accounts {winner} and {}: \
                     merge {} into {winner}",
                    others
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    others
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ));
        }
    }
    findings
}

/// The purchase history of `account` from its bookings: confirmed bookings, their revenue per
/// currency, the last one's submission and the latest trip. `decided` holds statuses this
/// evaluation decided and has not written yet.
pub fn purchase_history(
    records: &Records,
    relations: &Relations,
    account: DocumentId,
    decided: &BTreeMap<DocumentId, BookingStatus>,
    plan: &mut Plan,
) {
    let Some(current) = records.load::<Account>(&account) else {
        return;
    };
    let mut history = PurchaseSummary::default();
    let mut departures: BTreeMap<DocumentId, Option<Departure>> = BTreeMap::new();
    for booking_id in relations.bookings_of_account(&account) {
        let Some(booking) = records.booking(booking_id) else {
            continue;
        };
        let status = decided.get(booking_id).copied().unwrap_or(booking.status);
        if status != BookingStatus::Confirmed {
            continue;
        }
        history.bookings += 1;
        *history
            .revenue_by_currency
            .entry(booking.currency.clone())
            .or_default() += booking.amount_minor;
        history.last_booking_at = history
            .last_booking_at
            .max(booking.seating.received_at.or(booking.submitted_at));
        let Ok(departure_id) = parse_reference(&booking.departure) else {
            continue;
        };
        let departure = departures
            .entry(departure_id)
            .or_insert_with(|| records.load::<Departure>(&departure_id));
        if let Some(departure) = departure {
            if history
                .last_trip_at
                .is_none_or(|at| departure.starts_at > at)
            {
                history.last_trip_at = Some(departure.starts_at);
                history.last_trip_departure = Some(departure_id.to_string());
            }
        }
    }
    if let Some((currency, revenue)) = history
        .revenue_by_currency
        .iter()
        .max_by_key(|(currency, revenue)| (**revenue, std::cmp::Reverse((*currency).clone())))
    {
        history.currency = currency.clone();
        history.revenue_minor = *revenue;
    }
    if current.purchase_summary != history {
        // Only the field the server owns is written: reconciling the whole account would
        // overwrite (and so settle) a conflict two reps left in another field.
        plan.edit(
            account,
            ServerEdit::new(move |doc| {
                autosurgeon::reconcile_prop(doc, automerge::ROOT, "purchase_summary", &history)?;
                Ok(())
            }),
        );
    }
}
