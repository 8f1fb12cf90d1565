//! The authority: after a document's change is durable, it checks the rules a merge cannot keep
//! and writes its decisions back as ordinary changes, through the doc actors, so they reach every
//! phone.
//!
//! - bookings are confirmed in a deterministic order up to a departure's capacity, the rest
//!   waitlisted; cancellations free seats and promote the waitlist ([`seats`]);
//! - posted invoices get the next legal number of their series and year, durable in the same
//!   store transaction as the invoice change, so numbers are gapless and never reused; posted
//!   invoices and payments produce balanced journal entries ([`invoices`]);
//! - guides booked twice are marked in conflict ([`guides`]);
//! - stock below zero or the reorder point, stage conflicts, edits of archived records,
//!   duplicate contacts, transfers never received and bookings on cancelled departures become
//!   alerts in the `alerts` document ([`alerts`]).
//!
//! It subscribes to the committed events, which carry the changed document itself (for the
//! kinds [`reads_content`] names), and reads the related documents from the store ([`records`]).

mod alerts;
mod guides;
mod invoices;
mod plan;
mod records;
mod relations;
mod seats;

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use automerge::AutoCommit;
use itinera_core::engine::{Committed, EditError};
use itinera_core::model::*;
use itinera_core::rules;
use itinera_core::{Document, DocumentId, DocumentKind, Record};

pub use plan::Plan;

use self::records::Records;
use self::relations::Relations;
use crate::actors::{EditDocument, Hub};
use crate::events::CommittedEvent;
use crate::services::Services;

/// How long a shipped transfer may go unreceived before it is flagged.
const TRANSFER_GRACE_MS: i64 = 3 * 24 * 3_600_000;

/// How often shipped transfers are looked at again (they age without anyone touching them).
const TRANSFER_CHECK: Duration = Duration::from_secs(3_600);

/// The kinds whose committed events must carry the document: the ones the rules read.
pub fn reads_content(kind: Option<DocumentKind>) -> bool {
    matches!(
        kind,
        Some(
            DocumentKind::Booking
                | DocumentKind::Departure
                | DocumentKind::Employee
                | DocumentKind::Stock
                | DocumentKind::Invoice
                | DocumentKind::Journal
                | DocumentKind::Account
                | DocumentKind::Transfer
        )
    )
}

/// Checks the rules after changes and writes the server's decisions.
pub struct Authority {
    services: Arc<Services>,
    hub: Addr<Hub>,
    records: Records,
    relations: Relations,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

/// The record a committed event carries, if it reads as `R`.
fn record_of<R: Record>(committed: &Committed) -> Option<R> {
    let content: &AutoCommit = committed.content.as_deref()?;
    autosurgeon::hydrate(content).ok()
}

impl Authority {
    pub fn new(services: Arc<Services>, hub: Addr<Hub>) -> Self {
        let records = Records::new(services.store.clone());
        let relations = Relations::from_summaries(&services.read_model.summaries());
        Self {
            services,
            hub,
            records,
            relations,
        }
    }

    /// What the rules decide after `committed`.
    fn evaluate(&mut self, committed: &Committed) -> Plan {
        let mut plan = Plan::default();
        let id = committed.document;
        let now = self.services.now_ms();
        match committed.kind {
            Some(DocumentKind::Booking) => {
                if let Some(booking) = record_of::<Booking>(committed) {
                    self.booking_changed(id, &booking, now, &mut plan);
                }
            }
            Some(DocumentKind::Departure) => {
                if let Some(departure) = record_of::<Departure>(committed) {
                    self.departure_changed(id, &departure, now, &mut plan);
                }
            }
            Some(DocumentKind::Employee) => {
                if let Some(employee) = record_of::<Employee>(committed) {
                    self.guide(id, &employee, now, &mut plan);
                }
            }
            Some(DocumentKind::Stock) => {
                if let Some(location) = record_of::<StockLocation>(committed) {
                    self.stock_changed(id, &location, now, &mut plan);
                }
            }
            Some(DocumentKind::Catalog) => self.relations.catalog = Some(id),
            Some(DocumentKind::Invoice) => {
                if let Some(invoice) = record_of::<Invoice>(committed) {
                    invoices::decide_invoice(&self.records, id, &invoice, now, &mut plan);
                }
            }
            Some(DocumentKind::Journal) => {
                if let Some(journal) = record_of::<Journal>(committed) {
                    let findings = rules::unbalanced_entries(&id, &journal);
                    let rules = [AlertRule::UnbalancedLedger];
                    alerts::record_findings(&self.records, id, &rules, findings, now, &mut plan);
                }
            }
            Some(DocumentKind::Account) => {
                if let Some(content) = &committed.content {
                    self.account_changed(id, (**content).clone(), now, &mut plan);
                }
            }
            Some(DocumentKind::Transfer) => {
                if let Some(transfer) = record_of::<Transfer>(committed) {
                    self.transfer(id, &transfer, now, &mut plan);
                }
            }
            _ => {}
        }
        plan
    }

    fn booking_changed(&mut self, id: DocumentId, booking: &Booking, now: i64, plan: &mut Plan) {
        let departure = DocumentId::parse(&booking.departure).ok();
        self.relations.set_booking(id, departure);
        if let Some(departure_id) = departure {
            if let Some(departure) = self.records.load::<Departure>(&departure_id) {
                self.seats(departure_id, &departure, now, plan);
            }
        }
        let account_archived = DocumentId::parse(&booking.account)
            .ok()
            .and_then(|account| self.records.load::<Account>(&account))
            .is_some_and(|account| account.archived_at.is_some() || account.merged_into.is_some());
        let findings = rules::archived_reference_findings(&id, booking, account_archived);
        let rules = [AlertRule::ArchivedReference];
        alerts::record_findings(&self.records, id, &rules, findings, now, plan);
    }

    fn departure_changed(
        &mut self,
        id: DocumentId,
        departure: &Departure,
        now: i64,
        plan: &mut Plan,
    ) {
        self.relations.set_departure(id, departure);
        self.seats(id, departure, now, plan);
        let employees: Vec<String> = departure
            .assignments
            .values()
            .map(|assignment| assignment.employee.clone())
            .collect();
        for employee in employees {
            let Ok(employee_id) = DocumentId::parse(&employee) else {
                continue;
            };
            if let Some(record) = self.records.load::<Employee>(&employee_id) {
                self.guide(employee_id, &record, now, plan);
            }
        }
    }

    fn seats(&self, id: DocumentId, departure: &Departure, now: i64, plan: &mut Plan) {
        let bookings: Vec<(DocumentId, Booking)> = self
            .relations
            .bookings_of(&id)
            .filter_map(|booking| Some((*booking, self.records.load::<Booking>(booking)?)))
            .collect();
        seats::decide_departure(&self.records, id, departure, &bookings, now, plan);
    }

    fn guide(&self, id: DocumentId, employee: &Employee, now: i64, plan: &mut Plan) {
        let departures: Vec<(DocumentId, Departure)> = self
            .relations
            .departures_of(&id.to_string())
            .filter_map(|departure| Some((*departure, self.records.load::<Departure>(departure)?)))
            .collect();
        guides::decide_guide(&self.records, id, employee, &departures, now, plan);
    }

    fn stock_changed(&self, id: DocumentId, location: &StockLocation, now: i64, plan: &mut Plan) {
        // Two phones that created the same counter at once leave one counter; the movement log
        // keeps every movement, so the counter is set right from it.
        let drift = rules::counter_drift(location);
        if !drift.is_empty() {
            let edit = itinera_core::engine::ServerEdit::record(move |kit: &mut StockLocation| {
                for (item, missing) in drift {
                    kit.on_hand.entry(item).or_default().increment(missing);
                }
                Ok(true)
            });
            plan.edit(id, edit);
        }
        let catalog = self
            .relations
            .catalog
            .and_then(|catalog| self.records.load::<Catalog>(&catalog));
        let findings = rules::stock_findings(&id, location, catalog.as_ref());
        let rules = [AlertRule::NegativeStock, AlertRule::LowStock];
        alerts::record_findings(&self.records, id, &rules, findings, now, plan);
    }

    fn account_changed(&self, id: DocumentId, content: AutoCommit, now: i64, plan: &mut Plan) {
        let Ok(mut doc) = Document::<Account>::from_automerge(content) else {
            return;
        };
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
                    .map(|proposal| proposal.finding()),
            );
        }
        let rules = [
            AlertRule::StageConflict,
            AlertRule::EditAfterArchive,
            AlertRule::DuplicateContact,
        ];
        alerts::record_findings(&self.records, id, &rules, findings, now, plan);
    }

    fn transfer(&self, id: DocumentId, transfer: &Transfer, now: i64, plan: &mut Plan) {
        let findings = rules::transfer_findings(&id, transfer, now, TRANSFER_GRACE_MS);
        let rules = [AlertRule::TransferNotReceived];
        alerts::record_findings(&self.records, id, &rules, findings, now, plan);
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
                self.transfer(id, &transfer, now, &mut plan);
            }
        }
        plan
    }

    /// Writes the decisions one after another, and takes no other event until they are
    /// durable, so that each decision sees the previous ones.
    fn carry_out(&mut self, plan: Plan, ctx: &mut Context<Self>) {
        if plan.is_empty() {
            return;
        }
        let hub = self.hub.clone();
        ctx.wait(
            async move {
                for decision in plan.into_decisions() {
                    let document = decision.document;
                    let edit = EditDocument {
                        with: decision.with,
                        ..EditDocument::by_server(document, decision.edit)
                    };
                    match hub.send(edit).await {
                        Ok(Ok(_) | Err(EditError::Superseded(_))) => {}
                        Ok(Err(err)) => tracing::error!(%document, error = %err, "authority decision not written"),
                        Err(err) => tracing::error!(%document, error = %err, "authority could not reach the hub"),
                    }
                }
            }
            .into_actor(self),
        );
    }
}

/// Time to look at the shipped transfers again.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct CheckTransfers;

impl Actor for Authority {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(TRANSFER_CHECK, |_, ctx| ctx.notify(CheckTransfers));
    }
}

impl Handler<CommittedEvent> for Authority {
    type Result = ();

    fn handle(&mut self, event: CommittedEvent, ctx: &mut Self::Context) {
        if !event.0.changed_content() {
            return;
        }
        let plan = self.evaluate(&event.0);
        self.carry_out(plan, ctx);
    }
}

impl Handler<CheckTransfers> for Authority {
    type Result = ();

    fn handle(&mut self, _: CheckTransfers, ctx: &mut Self::Context) {
        let plan = self.check_transfers();
        self.carry_out(plan, ctx);
    }
}
