//! The authority: after a document changes, it checks the rules a merge cannot keep and writes
//! its decisions back as ordinary changes, through the doc actors, so they reach every phone.
//!
//! - bookings are confirmed in a deterministic order up to a departure's capacity, the rest
//!   waitlisted; cancellations free seats and promote the waitlist;
//! - posted invoices get the next legal number of their series and year, durable in the same
//!   store transaction as the invoice change, so numbers are gapless and never reused;
//! - posted invoices and payments produce balanced journal entries;
//! - stock below zero or the reorder point, guides booked twice, stage conflicts, edits of
//!   archived records, duplicate contacts, transfers never received and bookings on cancelled
//!   departures become alerts in the `alerts` document.
//!
//! It reads documents from the store (every change it hears of is durable) and keeps two small
//! indexes, built from the report summaries at start-up: the bookings of each departure and
//! the departures of each guide.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use automerge::AutoCommit;
use itinera_core::model::*;
use itinera_core::reports::Summary;
use itinera_core::rules::{self, AssignmentRef, Finding};
use itinera_core::store::WriteBatch;
use itinera_core::{Document, DocumentId, DocumentKind, Record};

use crate::actors::{Changed, Edit, Hub, LocalChange, LocalChangeError};
use crate::services::Services;

/// How long a shipped transfer may go unreceived before it is flagged.
const TRANSFER_GRACE_MS: i64 = 3 * 24 * 3_600_000;

pub use itinera_core::reports::summary_key;

/// The id of a document the server keeps under a fixed name (`alerts`, `journal:2026-11`).
pub fn named_document_id(name: &str) -> DocumentId {
    DocumentId::named(name)
}

/// The company's alerts document.
pub fn alerts_document_id() -> DocumentId {
    named_document_id("alerts")
}

/// Reads every report summary in the store.
pub fn load_summaries(services: &Services) -> Vec<(DocumentId, Summary)> {
    let Ok(values) = services.store.values_with_prefix("summary:") else {
        return Vec::new();
    };
    values
        .into_iter()
        .filter_map(|(key, bytes)| {
            let id = DocumentId::parse(key.strip_prefix("summary:")?).ok()?;
            let summary = serde_json::from_slice::<Summary>(&bytes).ok()?;
            Some((id, summary))
        })
        .collect()
}

/// Checks the rules after changes and writes the server's decisions.
pub struct Authority {
    services: Arc<Services>,
    hub: Addr<Hub>,
    bookings_by_departure: HashMap<DocumentId, BTreeSet<DocumentId>>,
    departures_by_employee: HashMap<String, BTreeSet<DocumentId>>,
    catalog: Option<DocumentId>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

/// The writes one evaluation decided, carried out one after another.
type Plan = Vec<(DocumentId, Edit, Option<WriteBatch>)>;

fn typed_edit<R: Record + 'static>(
    change: impl FnOnce(&mut R) -> Result<bool, String> + Send + 'static,
) -> Edit {
    Box::new(move |doc: &mut AutoCommit| {
        let mut record: R = autosurgeon::hydrate(doc).map_err(|e| e.to_string())?;
        if !change(&mut record)? {
            return Ok(());
        }
        autosurgeon::reconcile(doc, &record).map_err(|e| e.to_string())
    })
}

impl Authority {
    pub fn new(services: Arc<Services>, hub: Addr<Hub>) -> Self {
        Self {
            services,
            hub,
            bookings_by_departure: HashMap::new(),
            departures_by_employee: HashMap::new(),
            catalog: None,
        }
    }

    fn load<R: Record>(&self, id: &DocumentId) -> Option<R> {
        let bytes = self.services.store.load(*id).ok()??;
        Document::<R>::load(&bytes).ok()?.record().ok()
    }

    fn load_document<R: Record>(&self, id: &DocumentId) -> Option<Document<R>> {
        let bytes = self.services.store.load(*id).ok()??;
        Document::<R>::load(&bytes).ok()
    }

    fn index_departure(&mut self, id: DocumentId, departure: &Departure) {
        for set in self.departures_by_employee.values_mut() {
            set.remove(&id);
        }
        for assignment in departure.assignments.values() {
            self.departures_by_employee
                .entry(assignment.employee.clone())
                .or_default()
                .insert(id);
        }
    }

    fn index_booking(&mut self, id: DocumentId, departure: Option<DocumentId>) {
        for set in self.bookings_by_departure.values_mut() {
            set.remove(&id);
        }
        if let Some(departure) = departure {
            self.bookings_by_departure
                .entry(departure)
                .or_default()
                .insert(id);
        }
    }

    /// What the rules decide after `changed`; the writes to make.
    fn evaluate(&mut self, changed: &Changed) -> Plan {
        let mut plan = Plan::new();
        let id = changed.document;
        match changed.kind {
            DocumentKind::Booking => {
                if let Some(booking) = self.load::<Booking>(&id) {
                    let departure = DocumentId::parse(&booking.departure).ok();
                    self.index_booking(id, departure);
                    if let Some(departure) = departure {
                        self.evaluate_departure(departure, &mut plan);
                    }
                    let account_archived = DocumentId::parse(&booking.account)
                        .ok()
                        .and_then(|account| self.load::<Account>(&account))
                        .is_some_and(|account| {
                            account.archived_at.is_some() || account.merged_into.is_some()
                        });
                    let findings =
                        rules::archived_reference_findings(&id, &booking, account_archived);
                    self.alerts(id, &[AlertRule::ArchivedReference], findings, &mut plan);
                }
            }
            DocumentKind::Departure => {
                if let Some(departure) = self.load::<Departure>(&id) {
                    self.index_departure(id, &departure);
                    let employees: Vec<String> = departure
                        .assignments
                        .values()
                        .map(|a| a.employee.clone())
                        .collect();
                    self.evaluate_departure(id, &mut plan);
                    for employee in employees {
                        self.evaluate_guide(&employee, &mut plan);
                    }
                }
            }
            DocumentKind::Employee => self.evaluate_guide(&id.to_string(), &mut plan),
            DocumentKind::Stock => {
                if let Some(location) = self.load::<StockLocation>(&id) {
                    // Two phones that created the same counter at once leave one counter; the
                    // movement log keeps every movement, so the counter is set right from it.
                    let drift = rules::counter_drift(&location);
                    if !drift.is_empty() {
                        plan.push((
                            id,
                            typed_edit::<StockLocation>(move |kit| {
                                for (item, missing) in drift {
                                    kit.on_hand.entry(item).or_default().increment(missing);
                                }
                                Ok(true)
                            }),
                            None,
                        ));
                    }
                    let catalog = self
                        .catalog
                        .and_then(|catalog| self.load::<Catalog>(&catalog));
                    let findings = rules::stock_findings(&id, &location, catalog.as_ref());
                    self.alerts(
                        id,
                        &[AlertRule::NegativeStock, AlertRule::LowStock],
                        findings,
                        &mut plan,
                    );
                }
            }
            DocumentKind::Catalog => self.catalog = Some(id),
            DocumentKind::Invoice => self.evaluate_invoice(id, &mut plan),
            DocumentKind::Journal => {
                if let Some(journal) = self.load::<Journal>(&id) {
                    let findings = rules::unbalanced_entries(&id, &journal);
                    self.alerts(id, &[AlertRule::UnbalancedLedger], findings, &mut plan);
                }
            }
            DocumentKind::Account => {
                if let Some(mut doc) = self.load_document::<Account>(&id) {
                    let mut findings = rules::stage_findings(&id, &doc);
                    findings.extend(rules::edits_after_archive(
                        &id,
                        &mut doc,
                        Some(&self.services.actor),
                    ));
                    if let Ok(account) = doc.record() {
                        findings.extend(
                            rules::duplicate_contacts(&id, &account)
                                .iter()
                                .map(|p| p.finding()),
                        );
                    }
                    let rules = [
                        AlertRule::StageConflict,
                        AlertRule::EditAfterArchive,
                        AlertRule::DuplicateContact,
                    ];
                    self.alerts(id, &rules, findings, &mut plan);
                }
            }
            DocumentKind::Transfer => {
                if let Some(transfer) = self.load::<Transfer>(&id) {
                    let findings = rules::transfer_findings(
                        &id,
                        &transfer,
                        self.services.now_ms(),
                        TRANSFER_GRACE_MS,
                    );
                    self.alerts(id, &[AlertRule::TransferNotReceived], findings, &mut plan);
                }
            }
            _ => {}
        }
        plan
    }

    fn evaluate_departure(&mut self, id: DocumentId, plan: &mut Plan) {
        let Some(departure) = self.load::<Departure>(&id) else {
            return;
        };
        let bookings: Vec<(DocumentId, Booking)> = self
            .bookings_by_departure
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|booking| Some((*booking, self.load::<Booking>(booking)?)))
            .collect();
        let seats = rules::decide_seats(&id, &departure, &bookings);
        for (booking_id, booking) in &bookings {
            if let Some(status) = seats.statuses.get(booking_id).copied() {
                if booking.status != status {
                    plan.push((
                        *booking_id,
                        typed_edit::<Booking>(move |b| {
                            let changed = b.status != status;
                            b.status = status;
                            Ok(changed)
                        }),
                        None,
                    ));
                }
            }
        }
        let (confirmed, provisional, waitlisted, manifest) = (
            seats.seats_confirmed,
            seats.seats_provisional,
            seats.seats_waitlisted,
            seats.manifest.clone(),
        );
        let differs = departure.seats_confirmed != confirmed
            || departure.seats_provisional != provisional
            || departure.seats_waitlisted != waitlisted
            || departure.manifest != manifest;
        if differs {
            plan.push((
                id,
                typed_edit::<Departure>(move |d| {
                    d.seats_confirmed = confirmed;
                    d.seats_provisional = provisional;
                    d.seats_waitlisted = waitlisted;
                    d.manifest = manifest;
                    Ok(true)
                }),
                None,
            ));
        }
        let rules = [
            AlertRule::Overbooked,
            AlertRule::BookingOnCancelledDeparture,
        ];
        self.alerts(id, &rules, seats.findings, plan);
    }

    fn evaluate_guide(&mut self, employee: &str, plan: &mut Plan) {
        let Ok(employee_id) = DocumentId::parse(employee) else {
            return;
        };
        let Some(record) = self.load::<Employee>(&employee_id) else {
            return;
        };
        let departures: Vec<(DocumentId, Departure)> = self
            .departures_by_employee
            .get(employee)
            .into_iter()
            .flatten()
            .filter_map(|id| Some((*id, self.load::<Departure>(id)?)))
            .collect();
        let refs: Vec<AssignmentRef> = departures
            .iter()
            .flat_map(|(id, departure)| {
                departure
                    .assignments
                    .iter()
                    .filter(|(_, a)| a.employee == employee)
                    .map(|(key, a)| AssignmentRef {
                        departure: *id,
                        assignment: key.clone(),
                        starts_at: departure.starts_at,
                        ends_at: departure.ends_at,
                        status: a.status,
                    })
            })
            .collect();
        let decision = rules::guide_conflicts(&employee_id, &record, &refs);
        for (departure_id, departure) in &departures {
            let mut updates = BTreeMap::new();
            for (key, assignment) in &departure.assignments {
                if assignment.employee != employee {
                    continue;
                }
                let conflicted = decision.conflicted.contains(&(*departure_id, key.clone()));
                let wanted = match (conflicted, assignment.status) {
                    (true, AssignmentStatus::Accepted) => Some(AssignmentStatus::Conflict),
                    (false, AssignmentStatus::Conflict) => Some(AssignmentStatus::Accepted),
                    _ => None,
                };
                if let Some(wanted) = wanted {
                    updates.insert(key.clone(), wanted);
                }
            }
            if !updates.is_empty() {
                plan.push((
                    *departure_id,
                    typed_edit::<Departure>(move |d| {
                        for (key, status) in updates {
                            if let Some(assignment) = d.assignments.get_mut(&key) {
                                assignment.status = status;
                            }
                        }
                        Ok(true)
                    }),
                    None,
                ));
            }
        }
        self.alerts(
            employee_id,
            &[AlertRule::GuideDoubleBooked],
            decision.findings,
            plan,
        );
    }

    fn evaluate_invoice(&mut self, id: DocumentId, plan: &mut Plan) {
        let Some(invoice) = self.load::<Invoice>(&id) else {
            return;
        };
        let now = self.services.now_ms();
        if rules::needs_legal_number(&invoice) {
            let year = rules::invoice_year(&invoice, now);
            let key = rules::sequence_key(&invoice.series, year);
            // The store holds the last number used: the authority decides one change at a time
            // and waits for its writes, so what it reads is current.
            let last: u64 = self
                .services
                .store
                .value(&key)
                .ok()
                .flatten()
                .and_then(|bytes| String::from_utf8(bytes).ok()?.parse().ok())
                .unwrap_or(0);
            let next = last + 1;
            let number = rules::legal_number(&invoice.series, year, next);
            let mut sequence = WriteBatch::new();
            sequence.put_value(&key, next.to_string().into_bytes());
            let issued = rules::issue_date(now);
            plan.push((
                id,
                typed_edit::<Invoice>(move |i| {
                    if i.legal_number.is_some() {
                        return Err("already numbered".into());
                    }
                    i.legal_number = Some(number);
                    // An invoice takes its legal date when it takes its number, if it had none.
                    i.issued_on.get_or_insert(issued);
                    i.totals = i.compute_totals();
                    Ok(true)
                }),
                Some(sequence),
            ));
        }
        if matches!(
            invoice.status,
            InvoiceStatus::Posted | InvoiceStatus::Credited
        ) {
            let entries = rules::journal_entries_for_invoice(&id, &invoice);
            let mut by_period: BTreeMap<String, Vec<(String, JournalEntry)>> = BTreeMap::new();
            for (key, entry) in entries {
                by_period
                    .entry(rules::journal_period(entry.at))
                    .or_default()
                    .push((key, entry));
            }
            for (period, entries) in by_period {
                let journal_id = named_document_id(&format!("journal:{period}"));
                let existing = self.load::<Journal>(&journal_id);
                let missing: Vec<(String, JournalEntry)> = entries
                    .into_iter()
                    .filter(|(key, _)| {
                        existing
                            .as_ref()
                            .is_none_or(|j| j.entries.get(key).is_none())
                    })
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let actor = self.services.actor.clone();
                let edit: Edit = Box::new(move |doc: &mut AutoCommit| {
                    if doc.get_heads().is_empty() {
                        let mut template =
                            itinera_core::document::new_record(DocumentKind::Journal, actor, now)
                                .map_err(|e| e.to_string())?;
                        doc.merge(&mut template).map_err(|e| e.to_string())?;
                    }
                    let mut journal: Journal =
                        autosurgeon::hydrate(doc).map_err(|e| e.to_string())?;
                    journal.period.clone_from(&period);
                    for (key, entry) in missing {
                        if journal.entries.get(&key).is_none() {
                            journal
                                .entries
                                .append(LogKey::from_stored(key), entry)
                                .map_err(|e| e.to_string())?;
                        }
                    }
                    autosurgeon::reconcile(doc, &journal).map_err(|e| e.to_string())
                });
                plan.push((journal_id, edit, None));
            }
        }
    }

    /// Records `findings` for `subject` under `rules`: new ones open an alert, ones that
    /// disappeared are resolved by the server.
    fn alerts(
        &mut self,
        subject: DocumentId,
        rules: &[AlertRule],
        findings: Vec<Finding>,
        plan: &mut Plan,
    ) {
        let current = self
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
        // A finding the server had resolved that holds again reopens its alert; one a person
        // resolved stays resolved (they decided it needs no more attention).
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
        let now = self.services.now_ms();
        let actor = self.services.actor.clone();
        let edit: Edit = Box::new(move |doc: &mut AutoCommit| {
            if doc.get_heads().is_empty() {
                let mut template =
                    itinera_core::document::new_record(DocumentKind::Alerts, actor, now)
                        .map_err(|e| e.to_string())?;
                doc.merge(&mut template).map_err(|e| e.to_string())?;
            }
            let mut alerts: Alerts = autosurgeon::hydrate(doc).map_err(|e| e.to_string())?;
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
            autosurgeon::reconcile(doc, &alerts).map_err(|e| e.to_string())
        });
        plan.push((alerts_document_id(), edit, None));
    }
}

impl Actor for Authority {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        for (id, summary) in load_summaries(&self.services) {
            match summary {
                Summary::Booking(booking) => {
                    let departure = DocumentId::parse(&booking.departure).ok();
                    self.index_booking(id, departure);
                }
                Summary::Departure(departure) => {
                    for assignment in &departure.assignments {
                        self.departures_by_employee
                            .entry(assignment.employee.clone())
                            .or_default()
                            .insert(id);
                    }
                }
                Summary::Catalog(_) => self.catalog = Some(id),
                _ => {}
            }
        }
        // Shipped transfers age without anyone touching them.
        ctx.run_interval(Duration::from_secs(3_600), |authority, ctx| {
            let transfers: Vec<DocumentId> = authority
                .services
                .store
                .documents()
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, meta)| meta.kind.as_deref() == Some("transfer"))
                .map(|(id, _)| id)
                .collect();
            for document in transfers {
                ctx.notify(Changed {
                    document,
                    kind: DocumentKind::Transfer,
                    by_server: true,
                });
            }
        });
    }
}

impl Handler<Changed> for Authority {
    type Result = ();

    fn handle(&mut self, changed: Changed, ctx: &mut Self::Context) {
        let plan = self.evaluate(&changed);
        if plan.is_empty() {
            return;
        }
        let hub = self.hub.clone();
        // One evaluation's writes finish before the next change is looked at, so decisions are
        // made on what the previous ones wrote.
        ctx.wait(
            async move {
                for (document, edit, with) in plan {
                    match hub.send(LocalChange { document, author: None, edit, with }).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(LocalChangeError::Refused(reason))) if reason == "already numbered" => {}
                        Ok(Err(err)) => tracing::error!(%document, error = %err, "authority decision not written"),
                        Err(err) => tracing::error!(%document, error = %err, "authority could not reach the hub"),
                    }
                }
            }
            .into_actor(self),
        );
    }
}
