//! The authority: after a user's change is durable, it checks the rules a merge cannot keep
//! and writes its decisions back as ordinary changes, through the doc actors, so they reach every
//! phone. `RULES.md` at the repository root says every rule in head office's terms.
//!
//! - seats: confirmed seats are never taken; the queue follows office's priority and when the
//!   server received each submission; changes are requests ([`seats`]);
//! - invoices: legal numbers durable with their sequence, journal entries once each, in the
//!   company's calendar, locked periods respected, dates far back held for approval
//!   ([`invoices`], [`journals`]);
//! - guides: answers from the field log, conflicts, access by assignment ([`guides`]);
//! - stock: counters follow the movement log, transfers post their movements ([`stock`]);
//! - customers: duplicates within and across accounts, leads converted twice, purchase
//!   history ([`customers`]);
//! - every finding is an alert episode, copied to the phones of whom it concerns ([`alerts`]).
//!
//! Crash safety: the engine writes an outbox entry in the same transaction as every user's
//! commit of a kind the authority decides ([`decides`]); the authority deletes exactly the
//! entries it decided with its last write, and at start-up evaluates every entry left again.
//! Evaluations are idempotent, so one evaluated twice changes nothing.

mod alerts;
mod company_rules;
mod customers;
mod guides;
mod invoices;
mod journals;
mod members;
mod plan;
mod records;
mod relations;
mod seats;
mod stock;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use automerge::{AutoCommit, ChangeHash};
use itinera_core::document::Touched;
use itinera_core::engine::{Committed, EditError, OUTBOX_PREFIX, OutboxEntry};
use itinera_core::model::*;
use itinera_core::rules::{self, CalendarError};
use itinera_core::store::WriteBatch;
use itinera_core::{DocumentId, DocumentKind, Record};

pub use company_rules::CompanyRules;

/// The leader's term, which every decision's transaction checks: an authority whose node lost
/// its leadership without knowing it yet cannot commit a decision once another leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// Where the store keeps the current term.
    pub key: String,
    /// This leader's term, as stored.
    pub term: Vec<u8>,
}

/// Another node committed `document`: decide what the outbox holds for it.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct DecideStoredDocument {
    pub document: DocumentId,
    pub kind: Option<DocumentKind>,
}

/// How long after a decision failed to be written the outbox is read again.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(1);
pub use plan::{Deferred, Plan};

use self::journals::Journals;
use self::records::Records;
use self::relations::{GuideKey, Relations, parse_reference};
use crate::actors::{EditDocument, Hub};
use crate::events::CommittedEvent;
use crate::readiness::StartupWork;
use crate::services::Services;

/// How long a shipped transfer may go unreceived before it is flagged.
const TRANSFER_GRACE_MS: i64 = 3 * 24 * 3_600_000;

/// How often shipped transfers are looked at again (they age without anyone touching them).
const TRANSFER_CHECK: Duration = Duration::from_secs(3_600);

/// The kinds whose committed events must carry the document: the ones the rules read. Not the
/// journals: only the server writes their entries, office only locks a period, and carrying a
/// month's journal with each of the server's entries would copy it each time.
pub fn reads_content(kind: Option<DocumentKind>) -> bool {
    matches!(
        kind,
        Some(
            DocumentKind::Booking
                | DocumentKind::Departure
                | DocumentKind::FieldLog
                | DocumentKind::Employee
                | DocumentKind::Stock
                | DocumentKind::Invoice
                | DocumentKind::Account
                | DocumentKind::Lead
                | DocumentKind::Transfer
                | DocumentKind::Catalog
                | DocumentKind::Alerts
        )
    )
}

/// How long the outbox entries of evaluations that decided nothing wait to be deleted together.
const SETTLED_DELETE_DELAY: Duration = Duration::from_millis(200);

/// The kinds a user's commit needs a decision for: the engine writes their outbox entries.
pub fn decides(kind: Option<DocumentKind>) -> bool {
    reads_content(kind)
}

/// Which commits' events carry the document. The rules read the record the engine read for
/// the commit's summary; the document itself only where they need what a record does not hold
/// (conflicting values, the history), or where the kind has no record: users' commits of the
/// kinds the authority decides, and bookings, whose seat queue keeps each booking as
/// committed, the server's decisions included. The server's own commits of the other kinds are
/// its decisions: nothing follows from them. Carrying costs a copy of the whole document, as
/// large as an account's years of activities or the company's alerts.
///
/// Debug builds carry accounts and leads always, so that the authority can check that what it
/// skipped without their documents would have found nothing new.
pub fn carries_content(committed: &Committed) -> bool {
    let kind = committed.kind;
    if kind == Some(DocumentKind::Booking) {
        return committed.record.is_none();
    }
    if committed.by_server_only() || !reads_content(kind) {
        return false;
    }
    if committed.record.is_none() {
        return true;
    }
    match kind {
        Some(DocumentKind::Account | DocumentKind::Lead) => {
            cfg!(debug_assertions)
                || customers::reads_document(committed.record.as_ref(), &committed.written)
        }
        _ => false,
    }
}

/// One change to decide on: the record or document as committed, and when the server made it
/// durable.
struct Evaluation {
    document: DocumentId,
    kind: Option<DocumentKind>,
    /// The document, when the commit carried it (see [`carries_content`]).
    content: Option<Arc<AutoCommit>>,
    /// The record as committed, when the engine read it already.
    record: Option<RecordValue>,
    /// The root fields the commit wrote.
    written: Touched,
    /// The heads before the commit (read by debug builds' checks).
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    previous_heads: Vec<ChangeHash>,
    at: i64,
}

impl Evaluation {
    /// The record as committed: the engine's, borrowed, or else read from the document.
    fn record<R: Record + 'static>(&self) -> Option<Cow<'_, R>> {
        match self.read::<R>() {
            Some(record) => Some(Cow::Borrowed(record)),
            None => self
                .content
                .as_deref()
                .and_then(|doc| autosurgeon::hydrate(doc).ok())
                .map(Cow::Owned),
        }
    }

    /// The document, when the rules of this change read it (see [`customers::reads_document`]).
    /// Debug builds, which carry it anyway, check that the rules would not have found anything
    /// else with it.
    fn document_for_rules(&self, server: &automerge::ActorId) -> Option<AutoCommit> {
        let content = self.content.as_deref()?;
        if customers::reads_document(self.record.as_ref(), &self.written) {
            return Some(content.clone());
        }
        // `reads_document` reads every commit without a record.
        #[cfg(debug_assertions)]
        if let Some(record) = &self.record {
            customers::check_unread_document_unchanged(
                self.document,
                record,
                content,
                &self.previous_heads,
                server,
            );
        }
        #[cfg(not(debug_assertions))]
        let _ = server;
        None
    }

    /// The record the engine read, if it is an `R`.
    fn read<R: Record + 'static>(&self) -> Option<&R> {
        self.record.as_ref().and_then(RecordValue::get)
    }
}

/// Checks the rules after users' changes and writes the server's decisions.
pub struct Authority {
    services: Arc<Services>,
    hub: Addr<Hub>,
    records: Records,
    relations: Relations,
    rules: CompanyRules,
    journals: Journals,
    /// Journal entries held back while recovering (`None` when not recovering).
    deferred: Option<Deferred>,
    /// Outbox entries settled by evaluations that changed nothing, deleted together a moment
    /// later (see [`SETTLED_DELETE_DELAY`]).
    settled_deletes: WriteBatch,
    /// The term every decision checks, when several nodes share the store.
    fence: Option<Fence>,
    /// Whether the outbox is to be read again (a decision failed to be written).
    retry_scheduled: bool,
    /// Unready (`/readyz`) until the relations are built, on the authority's thread.
    building_relations: Option<StartupWork>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    /// The authority of the company `services.config.company` describes; an unknown time zone
    /// is refused. With a `fence`, every decision's transaction checks the leader's term.
    pub fn new(
        services: Arc<Services>,
        hub: Addr<Hub>,
        fence: Option<Fence>,
    ) -> Result<Self, CalendarError> {
        let rules = CompanyRules::new(&services.config.company)?;
        let records = Records::new(services.store.clone());
        let building_relations = Some(
            services
                .metrics
                .readiness
                .begin_startup("authority relations"),
        );
        Ok(Self {
            services,
            hub,
            records,
            // Built when the actor starts, on its own thread (see `started`).
            relations: Relations::default(),
            rules,
            journals: Journals::default(),
            deferred: None,
            settled_deletes: WriteBatch::new(),
            fence,
            retry_scheduled: false,
            building_relations,
        })
    }

    /// Builds the relations from the read model, waiting for it to be loaded (the server
    /// listens before). Commits heard meanwhile wait in the mailbox and are applied after;
    /// those the read model had already taken in are applied a second time, which leaves the
    /// relations as they were (each setter replaces what a document said before).
    fn build_relations(&mut self) {
        self.relations = Relations::from_read_model(&self.services.read_model, self.rules.region());
        self.building_relations = None;
    }

    /// What the rules decide after the change `e`.
    fn evaluate(&mut self, e: &Evaluation) -> Plan {
        let mut plan = Plan::default();
        let id = e.document;
        match e.kind {
            Some(DocumentKind::Booking) => {
                if let Some(booking) = e.record::<Booking>() {
                    self.booking_changed(id, &booking, e.at, &mut plan);
                }
            }
            Some(DocumentKind::Departure) => {
                if let Some(departure) = e.record::<Departure>() {
                    self.departure_changed(id, &departure, e.at, &mut plan);
                }
            }
            Some(DocumentKind::FieldLog) => {
                if let Some(log) = e.record::<FieldLog>() {
                    self.field_log_changed(id, &log, e.at, &mut plan);
                }
            }
            Some(DocumentKind::Employee) => {
                if let Some(employee) = e.record::<Employee>() {
                    self.employee_changed(id, &employee, e.at, &mut plan);
                }
            }
            Some(DocumentKind::Stock) => {
                if let Some(location) = e.record::<StockLocation>() {
                    let catalog = self.catalog();
                    stock::decide_location(
                        &self.records,
                        id,
                        &location,
                        catalog.as_ref(),
                        e.at,
                        &mut plan,
                    );
                    // A transfer stored before this location (documents commit in any order)
                    // found nothing to post to: its movements go in when the location first
                    // arrives (or is decided again after a restart).
                    if e.previous_heads.is_empty() {
                        self.post_transfers_at(id, &mut plan);
                    }
                }
            }
            Some(DocumentKind::Catalog) => self.relations.catalog = Some(id),
            Some(DocumentKind::Invoice) => {
                if let Some(invoice) = e.record::<Invoice>() {
                    let mut books = invoices::Books {
                        records: &self.records,
                        rules: &self.rules,
                        journals: &mut self.journals,
                    };
                    invoices::decide_invoice(&mut books, id, &invoice, e.at, &mut plan);
                }
            }
            Some(DocumentKind::Account) => {
                let mut customers = customers::Customers {
                    records: &self.records,
                    relations: &mut self.relations,
                    region: self.rules.region(),
                    server: &self.services.actor,
                };
                let Some(account) = e.record::<Account>() else {
                    return plan;
                };
                let document = e.document_for_rules(&self.services.actor);
                customers::decide_account(&mut customers, id, &account, document, e.at, &mut plan);
            }
            Some(DocumentKind::Lead) => {
                if let Some(document) = e.document_for_rules(&self.services.actor) {
                    customers::decide_lead(&self.records, id, document, e.at, &mut plan);
                }
            }
            Some(DocumentKind::Transfer) => {
                if let Some(transfer) = e.record::<Transfer>() {
                    let locations = [&transfer.from, &transfer.to]
                        .into_iter()
                        .filter_map(|location| parse_reference(location).ok())
                        .collect();
                    self.relations.set_transfer(id, locations);
                    stock::post_transfer(&self.records, id, &transfer, &mut plan);
                    self.transfer_overdue(id, &transfer, e.at, &mut plan);
                }
            }
            Some(DocumentKind::Alerts) => {
                if let Some(alerts) = e.record::<Alerts>().filter(|a| a.for_user.is_none()) {
                    alerts::mirror_to_owners(&self.records, &alerts, &mut plan);
                }
            }
            _ => {}
        }
        plan
    }

    fn catalog(&self) -> Option<Catalog> {
        self.relations
            .catalog
            .and_then(|catalog| self.records.load::<Catalog>(&catalog))
    }

    fn booking_changed(&mut self, id: DocumentId, booking: &Booking, at: i64, plan: &mut Plan) {
        let departure = parse_reference(&booking.departure).ok();
        let account = parse_reference(&booking.account).ok();
        let previous = self.relations.set_booking(id, departure, account);
        // The departure it is on, the one it was on, and the one its seats were held on.
        let mut departures: Vec<DocumentId> = departure.into_iter().collect();
        departures.extend(previous);
        departures.extend(parse_reference(&booking.seating.departure).ok());
        let mut decided = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for departure_id in departures {
            if seen.insert(departure_id) {
                decided.extend(self.seats(departure_id, None, at, plan));
            }
        }
        if let Some(account) = account {
            customers::purchase_history(&self.records, &self.relations, account, &decided, plan);
        }
        let account_archived = account
            .and_then(|account| self.records.load::<Account>(&account))
            .is_some_and(|account| account.archived_at.is_some() || account.merged_into.is_some());
        let findings = rules::archived_reference_findings(&id, booking, account_archived);
        let rules = [AlertRule::ArchivedReference];
        alerts::record_findings(&self.records, id, &rules, findings, at, plan);
    }

    /// Decides the seats of departure `id` (`fresh` if this evaluation has it, else as
    /// stored); returns the bookings whose status it decided.
    fn seats(
        &self,
        id: DocumentId,
        fresh: Option<&Departure>,
        at: i64,
        plan: &mut Plan,
    ) -> BTreeMap<DocumentId, BookingStatus> {
        let stored;
        let departure = match fresh {
            Some(departure) => departure,
            None => match self.records.load::<Departure>(&id) {
                Some(found) => {
                    stored = found;
                    &stored
                }
                None => return BTreeMap::new(),
            },
        };
        // A booking moved elsewhere since the relations were last told is not this
        // departure's: its own evaluation moves it.
        let bookings: Vec<(DocumentId, Booking)> = self
            .relations
            .bookings_of(&id)
            .filter_map(|booking| Some((*booking, self.records.booking(booking)?)))
            .filter(|(_, booking)| parse_reference(&booking.departure).ok() == Some(id))
            .collect();
        let guides = guides::guide_users(&self.relations, departure);
        seats::decide_departure(&self.records, id, departure, &guides, &bookings, at, plan)
    }

    fn departure_changed(
        &mut self,
        id: DocumentId,
        departure: &Departure,
        at: i64,
        plan: &mut Plan,
    ) {
        let guides = self.relations.set_assignments(
            id,
            departure.assignments.values().map(|a| a.employee.as_str()),
        );
        let decided = self.seats(id, Some(departure), at, plan);
        self.histories(&decided, plan);
        guides::write_guides(&self.records, &self.relations, id, departure, plan);
        let fresh = [(id, departure.clone())];
        for guide in guides {
            guides::decide_guide(&self.records, &self.relations, &guide, &fresh, at, plan);
        }
    }

    /// The purchase history of the accounts whose bookings `decided` changed.
    fn histories(&self, decided: &BTreeMap<DocumentId, BookingStatus>, plan: &mut Plan) {
        let accounts: BTreeSet<DocumentId> = decided
            .keys()
            .filter_map(|booking| self.records.booking(booking))
            .filter_map(|booking| parse_reference(&booking.account).ok())
            .collect();
        for account in accounts {
            customers::purchase_history(&self.records, &self.relations, account, decided, plan);
        }
    }

    fn field_log_changed(&mut self, id: DocumentId, log: &FieldLog, at: i64, plan: &mut Plan) {
        let departure_id = parse_reference(&log.departure).ok();
        self.relations.set_field_log(id, departure_id);
        let Some(departure_id) = departure_id else {
            return;
        };
        let Some(departure) = self.records.load::<Departure>(&departure_id) else {
            return;
        };
        let answered = guides::apply_answers(&self.relations, &departure, log);
        guides::write_statuses(departure_id, &departure, &answered, plan);
        guides::write_guides(
            &self.records,
            &self.relations,
            departure_id,
            &answered,
            plan,
        );
        let keys: BTreeSet<GuideKey> = answered
            .assignments
            .values()
            .map(|a| self.relations.guide_key(&a.employee))
            .collect();
        let fresh = [(departure_id, answered)];
        for guide in keys {
            guides::decide_guide(&self.records, &self.relations, &guide, &fresh, at, plan);
        }
    }

    fn employee_changed(&mut self, id: DocumentId, employee: &Employee, at: i64, plan: &mut Plan) {
        self.relations.set_employee(id, employee.user.as_deref());
        let guide = GuideKey::Employee(id);
        let departures: Vec<DocumentId> = self.relations.departures_of(&guide).copied().collect();
        for departure_id in departures {
            if let Some(departure) = self.records.load::<Departure>(&departure_id) {
                guides::write_guides(
                    &self.records,
                    &self.relations,
                    departure_id,
                    &departure,
                    plan,
                );
            }
        }
        guides::decide_guide(&self.records, &self.relations, &guide, &[], at, plan);
    }

    fn transfer_overdue(&self, id: DocumentId, transfer: &Transfer, now: i64, plan: &mut Plan) {
        let findings = rules::transfer_findings(&id, transfer, now, TRANSFER_GRACE_MS);
        let rules = [AlertRule::TransferNotReceived];
        alerts::record_findings(&self.records, id, &rules, findings, now, plan);
    }

    /// Posts what the transfers out of or into location `id` call for and it lacks.
    fn post_transfers_at(&self, id: DocumentId, plan: &mut Plan) {
        for transfer_id in self.relations.transfers_at(&id) {
            if let Some(transfer) = self.records.load::<Transfer>(&transfer_id) {
                stock::post_transfer(&self.records, transfer_id, &transfer, plan);
            }
        }
    }

    /// Shipped transfers age without anyone touching them: look at every transfer again.
    fn check_transfers(&self) -> Plan {
        let mut plan = Plan::default();
        let now = self.services.now_ms();
        let transfers = self.services.store.documents().unwrap_or_default();
        for (id, meta) in transfers {
            if meta.kind.as_deref() != Some(DocumentKind::Transfer.as_str()) {
                continue;
            }
            if let Some(transfer) = self.records.load::<Transfer>(&id) {
                self.transfer_overdue(id, &transfer, now, &mut plan);
            }
        }
        plan
    }

    /// Field logs are not in the read model: their departures come from the store's metadata.
    /// Learns which departure each field log reports on; returns the departures that have no
    /// manifest document yet (written by a release that kept passengers in the departure), to
    /// be decided again so that their manifest is written.
    fn learn_at_start(&mut self) -> Vec<DocumentId> {
        let documents = self.services.store.documents().unwrap_or_default();
        let present: BTreeSet<DocumentId> = documents.iter().map(|(id, _)| *id).collect();
        let mut without_manifest = Vec::new();
        for (id, meta) in documents {
            if meta.kind.as_deref() == Some(DocumentKind::FieldLog.as_str()) {
                let departure = meta.scope.and_then(|scope| scope.departure);
                self.relations.set_field_log(id, departure);
            } else if meta.kind.as_deref() == Some(DocumentKind::Transfer.as_str()) {
                let locations = meta.scope.map(|scope| scope.locations).unwrap_or_default();
                self.relations.set_transfer(id, locations);
            } else if meta.kind.as_deref() == Some(DocumentKind::Departure.as_str())
                && !present.contains(&Manifest::document_id(&id))
            {
                without_manifest.push(id);
            }
        }
        without_manifest
    }

    /// Every decision the store says is pending, by document, oldest first.
    fn pending_decisions(&self) -> VecDeque<(DocumentId, Vec<OutboxEntry>)> {
        let stored = match self.services.store.values_with_prefix(OUTBOX_PREFIX) {
            Ok(stored) => stored,
            Err(err) => {
                tracing::error!(error = %err, "pending decisions unreadable");
                return VecDeque::new();
            }
        };
        let mut by_document: BTreeMap<DocumentId, Vec<OutboxEntry>> = BTreeMap::new();
        for (key, value) in stored {
            match OutboxEntry::parse(&key, &value) {
                Some(entry) => by_document.entry(entry.document).or_default().push(entry),
                None => tracing::warn!(key, "outbox entry unreadable; left alone"),
            }
        }
        let mut pending: Vec<(DocumentId, Vec<OutboxEntry>)> = by_document.into_iter().collect();
        pending.sort_by_key(|(id, entries)| (entries.iter().map(|e| e.at).min(), *id));
        pending.into()
    }

    /// Evaluates a document the outbox names, as the store holds it now, and settles
    /// `entries`.
    fn recover(&mut self, id: DocumentId, entries: Vec<OutboxEntry>) -> Plan {
        for entry in &entries {
            self.services
                .metrics
                .authority_backlog
                .looked_at(&entry.key);
        }
        let content = match self.services.store.load(id) {
            Ok(Some(bytes)) => itinera_core::document::load_bytes(&bytes).ok(),
            _ => None,
        };
        let mut plan = match content {
            Some(content) => {
                let kind = itinera_core::DocumentHeader::read(&content)
                    .ok()
                    .and_then(|header| header.kind());
                let at = entries.iter().map(|e| e.at).min().unwrap_or_default();
                self.evaluate(&Evaluation {
                    document: id,
                    kind,
                    content: Some(Arc::new(content)),
                    record: None,
                    written: Touched::Everything,
                    previous_heads: Vec::new(),
                    at,
                })
            }
            None => Plan::default(),
        };
        for entry in entries {
            plan.settles(entry);
        }
        plan
    }

    /// Writes the decisions of one evaluation, and takes no other event until they are durable,
    /// so that each evaluation sees the previous ones. The writes of one evaluation go to the
    /// hub together (in order, so two edits of one document apply in order) and the store
    /// writer commits them in one transaction where it can: one fsync per decision rather than
    /// one per document it changes. The last write deletes the outbox entries the evaluation
    /// settles. If a write fails for want of the store, the entries are written back, so the
    /// next start decides again; a write made moot by a newer change (superseded) settles them
    /// all the same, since that change has its own entry.
    fn carry_out(&mut self, plan: Plan, ctx: &mut Context<Self>) {
        if plan.is_empty() {
            return;
        }
        let settled: Vec<OutboxEntry> = plan.settled().to_vec();
        let (decisions, alone) = plan.into_writes();
        let writer = self.services.writer.clone();
        if let Some(deletes) = alone {
            // Most evaluations decide nothing (an ordinary edit): their entries are deleted in
            // one write a moment later rather than one write each, which halves the store's
            // transactions under a stream of edits. A crash before then evaluates them again,
            // which changes nothing.
            if self.settled_deletes.is_empty() {
                ctx.run_later(SETTLED_DELETE_DELAY, |authority, _| {
                    authority.delete_settled();
                });
            }
            self.settled_deletes.extend(deletes);
            return;
        }
        let written: Vec<DocumentId> = decisions.iter().map(|d| d.document).collect();
        let mut edits: Vec<(DocumentId, EditDocument)> = decisions
            .into_iter()
            .map(|decision| {
                let document = decision.document;
                let mut with = decision.with;
                if let Some(fence) = &self.fence {
                    with.replace_value(&fence.key, Some(fence.term.clone()), fence.term.clone());
                }
                let edit = EditDocument {
                    with,
                    ..EditDocument::by_server(document, decision.edit)
                };
                (document, edit)
            })
            .collect();
        // The last decision carries the deletion of the settled outbox entries, so it is sent
        // only once the others are durable: documents commit independently, and a kill between
        // an earlier decision's commit and a later one's must leave the entries to decide again.
        let last = edits.pop();
        let hub = self.hub.clone();
        let earlier: Vec<_> = edits
            .into_iter()
            .map(|(document, edit)| (document, hub.send(edit)))
            .collect();
        ctx.wait(
            async move {
                let mut failed = false;
                let mut store_failed = false;
                let mut answers = Vec::new();
                for (document, answer) in earlier {
                    answers.push((document, answer.await));
                }
                if let Some((document, edit)) = last {
                    answers.push((document, hub.send(edit).await));
                }
                let count = answers.len();
                for (n, (document, answer)) in answers.into_iter().enumerate() {
                    match answer {
                        Ok(Ok(_)) => {}
                        Ok(Err(EditError::Superseded(_))) => {
                            if n + 1 == count {
                                // The deletions rode on it: write them on their own.
                                let mut deletes = WriteBatch::new();
                                for entry in &settled {
                                    deletes.delete_value(&entry.key);
                                }
                                writer.write_detached(deletes);
                            }
                        }
                        Ok(Err(err)) => {
                            failed = true;
                            store_failed |= matches!(err, EditError::Store(_) | EditError::Unavailable);
                            tracing::error!(%document, error = %err, "authority decision not written");
                        }
                        Err(err) => {
                            failed = true;
                            store_failed = true;
                            tracing::error!(%document, error = %err, "authority could not reach the hub");
                        }
                    }
                }
                if store_failed && !settled.is_empty() {
                    // Its deletions may have ridden on a write that succeeded: put the entries
                    // back, so the next start decides again.
                    let mut restore = WriteBatch::new();
                    for entry in &settled {
                        restore.put_value(&entry.key, entry.value());
                    }
                    writer.write_detached(restore);
                }
                failed
            }
            .into_actor(self)
            .map(move |failed, authority, ctx| {
                // A booking written here is read from the store next time, until its committed
                // event (queued behind events that arrived meanwhile) refreshes it.
                for document in written {
                    authority.records.booking_changed(document, None);
                }
                if failed {
                    // Entries counted as booked may not be: read the journals again.
                    authority.journals = Journals::default();
                    authority.retry_later(ctx);
                }
            }),
        );
    }
}

impl Authority {
    /// Reads the outbox again a moment after a decision failed to be written (the store was
    /// unreachable, or a value it relied on changed): its entries are still there.
    fn retry_later(&mut self, ctx: &mut Context<Self>) {
        if std::mem::replace(&mut self.retry_scheduled, true) {
            return;
        }
        ctx.run_later(RETRY_FAILED_AFTER, |authority, ctx| {
            authority.retry_scheduled = false;
            let pending = authority.pending_decisions();
            ctx.notify(authority.recovery(pending));
        });
    }

    /// The recovery of `pending`, whose changes wait for the authority from now on (their
    /// wait counted from their commit).
    fn recovery(&self, pending: VecDeque<(DocumentId, Vec<OutboxEntry>)>) -> Recover {
        let now = self.services.now_ms();
        for entry in pending.iter().flat_map(|(_, entries)| entries) {
            let waited = Duration::from_millis(u64::try_from(now - entry.at).unwrap_or(0));
            self.services
                .metrics
                .authority_backlog
                .add(&entry.key, waited);
        }
        Recover {
            total: pending.iter().map(|(_, entries)| entries.len()).sum(),
            pending,
            started: Instant::now(),
        }
    }

    /// The outbox entries of one document, oldest first.
    fn pending_for(&self, document: DocumentId) -> Vec<OutboxEntry> {
        let prefix = format!("{OUTBOX_PREFIX}{document}:");
        let stored = match self.services.store.values_with_prefix(&prefix) {
            Ok(stored) => stored,
            Err(err) => {
                tracing::error!(%document, error = %err, "pending decisions unreadable");
                return Vec::new();
            }
        };
        let mut entries: Vec<OutboxEntry> = stored
            .iter()
            .filter_map(|(key, value)| OutboxEntry::parse(key, value))
            .collect();
        entries.sort_by_key(|entry| entry.at);
        entries
    }
}

impl Handler<DecideStoredDocument> for Authority {
    type Result = ();

    /// Another node stored a user's change: its outbox entries, written in the same
    /// transaction, say what is left to decide; the document is read as stored.
    fn handle(&mut self, stored: DecideStoredDocument, ctx: &mut Self::Context) {
        if stored.kind == Some(DocumentKind::Booking) {
            self.records.booking_changed(stored.document, None);
        }
        if stored.kind == Some(DocumentKind::Journal) {
            // Office may have locked a period: the journals are read again when booking.
            self.journals = Journals::default();
        }
        let entries = self.pending_for(stored.document);
        if entries.is_empty() {
            return;
        }
        let plan = self.recover(stored.document, entries);
        self.carry_out(plan, ctx);
    }
}

impl Authority {
    /// Deletes the outbox entries of evaluations that decided nothing, gathered since the last
    /// time.
    fn delete_settled(&mut self) {
        let deletes = std::mem::take(&mut self.settled_deletes);
        if !deletes.is_empty() {
            self.services.writer.write_detached(deletes);
        }
    }
}

/// The server is stopping: the outbox entries of evaluations that decided nothing are deleted
/// now rather than a moment later (the write is queued before the stop's final flush), so that
/// the next start has nothing to evaluate again of what this run looked at. Answered once
/// every committed event that arrived before it was looked at.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SettleBeforeStop;

impl Handler<SettleBeforeStop> for Authority {
    type Result = ();

    fn handle(&mut self, _: SettleBeforeStop, _: &mut Self::Context) {
        self.delete_settled();
    }
}

/// How many journal entries recovery gathers before writing them.
const DEFERRED_ENTRIES: usize = 500;

impl Authority {
    /// Writes the journal entries recovery held back, after `plan`'s own writes.
    fn flush_deferred(&mut self, plan: &mut Plan) {
        let Some(deferred) = self.deferred.take() else {
            return;
        };
        let held = deferred.into_plan();
        let (decisions, alone) = held.into_writes();
        for decision in decisions {
            plan.with(decision.document, decision.edit, decision.with);
        }
        if let Some(deletes) = alone {
            self.services.writer.write_detached(deletes);
        }
    }
}

/// Time to look at the shipped transfers again.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct CheckTransfers;

/// Decisions left pending by the last run, evaluated one document at a time.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Recover {
    pending: VecDeque<(DocumentId, Vec<OutboxEntry>)>,
    started: Instant,
    total: usize,
}

impl Actor for Authority {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.build_relations();
        let without_manifest = self.learn_at_start();
        let mut pending = self.pending_decisions();
        pending.extend(without_manifest.into_iter().map(|id| (id, Vec::new())));
        let recovery = self.recovery(pending);
        tracing::info!(
            pending = recovery.total,
            documents = recovery.pending.len(),
            "authority started"
        );
        ctx.notify(recovery);
        ctx.run_interval(TRANSFER_CHECK, |_, ctx| ctx.notify(CheckTransfers));
    }
}

impl Handler<CommittedEvent> for Authority {
    type Result = ();

    fn handle(&mut self, event: CommittedEvent, ctx: &mut Self::Context) {
        let committed: &Committed = &event.0;
        if let Some(entry) = &committed.outbox {
            self.services
                .metrics
                .authority_backlog
                .looked_at(&entry.key);
        }
        if committed.kind == Some(DocumentKind::Booking) && committed.changed_content() {
            let booking = match committed
                .record
                .as_ref()
                .and_then(RecordValue::get::<Booking>)
            {
                Some(booking) => Some(booking.clone()),
                None => committed
                    .content
                    .as_deref()
                    .and_then(|doc| autosurgeon::hydrate::<_, Booking>(doc).ok()),
            };
            self.records.booking_changed(committed.document, booking);
        }
        // The server's own commits are its decisions: nothing follows from them.
        if !committed.changed_content() || committed.by_server_only() {
            return;
        }
        if committed.kind == Some(DocumentKind::Journal) {
            // Office locked a period: the journals are read again when booking.
            self.journals = Journals::default();
            return;
        }
        if committed.content.is_none() && committed.record.is_none() {
            return;
        }
        let at = committed
            .outbox
            .as_ref()
            .map_or_else(|| self.services.now_ms(), |entry| entry.at);
        let mut plan = self.evaluate(&Evaluation {
            document: committed.document,
            kind: committed.kind,
            content: committed.content.clone(),
            record: committed.record.clone(),
            written: committed.written.clone(),
            previous_heads: committed.previous_heads.clone(),
            at,
        });
        if let Some(entry) = &committed.outbox {
            plan.settles(entry.clone());
        }
        self.carry_out(plan, ctx);
    }
}

impl Handler<Recover> for Authority {
    type Result = ();

    fn handle(&mut self, mut recover: Recover, ctx: &mut Self::Context) {
        let Some((id, entries)) = recover.pending.pop_front() else {
            if recover.total > 0 {
                tracing::info!(
                    decisions = recover.total,
                    elapsed_ms = recover.started.elapsed().as_millis() as u64,
                    "recovered the pending decisions"
                );
            }
            return;
        };
        let mut plan = self.recover(id, entries);
        if plan.books() {
            let deferred = self.deferred.get_or_insert_with(Deferred::default);
            deferred.take_from(&mut plan);
            if deferred.waiting() >= DEFERRED_ENTRIES || recover.pending.is_empty() {
                self.flush_deferred(&mut plan);
            }
        } else if recover.pending.is_empty() {
            self.flush_deferred(&mut plan);
        }
        self.carry_out(plan, ctx);
        let left = recover.pending.len();
        if left > 0 && left % 1_000 == 0 {
            tracing::info!(
                documents_left = left,
                elapsed_ms = recover.started.elapsed().as_millis() as u64,
                "recovering pending decisions"
            );
        }
        ctx.notify(recover);
    }
}

impl Handler<CheckTransfers> for Authority {
    type Result = ();

    fn handle(&mut self, _: CheckTransfers, ctx: &mut Self::Context) {
        let plan = self.check_transfers();
        self.carry_out(plan, ctx);
    }
}
