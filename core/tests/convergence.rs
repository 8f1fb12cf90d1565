//! Convergence as a property: for every document kind, three replicas edit offline, merge in a
//! random order, and end with equal heads and equal records.

use automerge::ActorId;
use autosurgeon::Text;
use itinera_core::Document;
use itinera_core::model::*;
use proptest::prelude::*;

/// One random edit: which field to touch and with what.
#[derive(Debug, Clone)]
struct Op {
    choice: u8,
    key: u8,
    number: i64,
    text: String,
}

fn op() -> impl Strategy<Value = Op> {
    (any::<u8>(), 0u8..4, -50i64..50, "[a-z ]{0,6}").prop_map(|(choice, key, number, text)| Op {
        choice,
        key,
        number,
        text,
    })
}

/// Where an edit happens: which replica and how many edits it made before.
struct Writer {
    replica: usize,
    seq: usize,
}

impl Writer {
    fn log_key(&self, op: &Op) -> LogKey {
        LogKey::new(
            1_000 + op.number.abs(),
            &format!("r{}-{}", self.replica, self.seq),
        )
    }

    fn name(&self) -> String {
        format!("user-{}", self.replica)
    }
}

fn key(op: &Op) -> String {
    format!("k{}", op.key)
}

fn splice(text: &mut Text, op: &Op) {
    let len = text.as_str().chars().count();
    let pos = usize::try_from(op.number.unsigned_abs()).unwrap_or(0) % (len + 1);
    let delete = if op.choice % 2 == 0 {
        0
    } else {
        (len - pos).min(2)
    };
    text.splice(pos, isize::try_from(delete).unwrap_or(0), &op.text);
}

fn toggle(set: &mut Set, op: &Op) {
    let member = key(op);
    if !set.remove(&member) {
        set.insert(member);
    }
}

fn maybe(op: &Op) -> Option<String> {
    (op.number % 3 != 0).then(|| op.text.clone())
}

/// A record type that can take random edits.
trait RandomEdit: Record + Default {
    fn edit(&mut self, op: &Op, writer: &Writer);
}

impl RandomEdit for Catalog {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 8 {
            0 => {
                self.items.entry(key(op)).or_default().name = op.text.clone();
            }
            1 => toggle(&mut self.items.entry(key(op)).or_default().tags, op),
            2 => {
                self.items
                    .entry(key(op))
                    .or_default()
                    .reorder_points
                    .insert(format!("loc-{}", w.replica), op.number);
            }
            3 => splice(&mut self.tours.entry(key(op)).or_default().description, op),
            4 => {
                let tour = self.tours.entry(key(op)).or_default();
                tour.itinerary.push(ItineraryStop {
                    id: format!("s{}-{}", w.replica, w.seq),
                    day: op.number,
                    title: op.text.clone(),
                    place: String::new(),
                });
            }
            5 => {
                let tour = self.tours.entry(key(op)).or_default();
                if !tour.itinerary.is_empty() {
                    let at = usize::try_from(op.number.unsigned_abs()).unwrap_or(0)
                        % tour.itinerary.len();
                    tour.itinerary.remove(at);
                }
            }
            6 => {
                self.tours.entry(key(op)).or_default().price_options.insert(
                    format!("p{}", op.number % 3),
                    PriceOption {
                        name: op.text.clone(),
                        amount_minor: op.number,
                        currency: "EUR".into(),
                    },
                );
            }
            _ => {
                self.tours.entry(key(op)).or_default().default_capacity = op.number;
            }
        }
    }
}

impl RandomEdit for StockLocation {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 4 {
            0 | 1 => {
                let movement = StockMovement {
                    item: key(op),
                    quantity: if op.number == 0 { 1 } else { op.number },
                    reason: MovementReason::Consumption,
                    reference: maybe(op),
                    actor: w.name(),
                    at: op.number,
                };
                let _ = self.post_movement(w.log_key(op), movement);
            }
            2 => self.custodian = maybe(op),
            _ => self.name = op.text.clone(),
        }
    }
}

impl RandomEdit for Transfer {
    fn edit(&mut self, op: &Op, _w: &Writer) {
        match op.choice % 4 {
            0 => {
                self.lines.insert(
                    key(op),
                    TransferLine {
                        item: op.text.clone(),
                        quantity: op.number,
                    },
                );
            }
            1 => {
                self.lines.remove(&key(op));
            }
            2 => self.status = TransferStatus::ALL[op.key as usize % TransferStatus::ALL.len()],
            _ => self.received_at = Some(op.number),
        }
    }
}

impl RandomEdit for PurchaseOrder {
    fn edit(&mut self, op: &Op, _w: &Writer) {
        match op.choice % 4 {
            0 => {
                let line = self.lines.entry(key(op)).or_default();
                line.quantity = op.number;
                line.description = op.text.clone();
            }
            1 => splice(&mut self.notes, op),
            2 => {
                self.status =
                    PurchaseOrderStatus::ALL[op.key as usize % PurchaseOrderStatus::ALL.len()]
            }
            _ => self.expected_on = maybe(op),
        }
    }
}

impl RandomEdit for Departure {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 5 {
            0 => self.capacity = op.number,
            1 => {
                self.allotments.insert(w.name(), op.number);
            }
            2 => {
                let assignment = self.assignments.entry(key(op)).or_default();
                assignment.status = AssignmentStatus::ALL
                    [op.number.unsigned_abs() as usize % AssignmentStatus::ALL.len()];
                assignment.hours = op.number as f64 / 2.0;
            }
            3 => {
                self.manifest.insert(
                    key(op),
                    ManifestEntry {
                        name: op.text.clone(),
                        ..Default::default()
                    },
                );
            }
            _ => self.status = DepartureStatus::ALL[op.key as usize % DepartureStatus::ALL.len()],
        }
    }
}

impl RandomEdit for FieldLog {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 4 {
            0 => toggle(&mut self.check_ins, op),
            1 => splice(&mut self.notes, op),
            2 => {
                let incident = Incident {
                    severity: Severity::High,
                    summary: op.text.clone(),
                    actor: w.name(),
                    at: op.number,
                };
                let _ = self.incidents.append(w.log_key(op), incident);
            }
            _ => {
                let response = AssignmentResponse {
                    assignment: key(op),
                    employee: w.name(),
                    accepted: op.number > 0,
                    at: op.number,
                };
                let _ = self.acceptances.append(w.log_key(op), response);
            }
        }
    }
}

impl RandomEdit for Booking {
    fn edit(&mut self, op: &Op, _w: &Writer) {
        match op.choice % 5 {
            0 => {
                self.passengers.insert(
                    key(op),
                    Passenger {
                        name: op.text.clone(),
                        ..Default::default()
                    },
                );
            }
            1 => {
                self.passengers.remove(&key(op));
            }
            2 => splice(&mut self.notes, op),
            3 => self.amount_minor = op.number,
            _ => self.submitted_at = Some(op.number),
        }
    }
}

impl RandomEdit for Invoice {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 5 {
            0 => {
                let line = self.lines.entry(key(op)).or_default();
                line.unit_price_minor = op.number;
                line.quantity = 1;
            }
            1 => toggle(&mut self.bookings, op),
            2 => self.totals = self.compute_totals(),
            3 => {
                let payment = Payment {
                    amount_minor: op.number,
                    method: "transfer".into(),
                    reference: op.text.clone(),
                    at: op.number,
                };
                let _ = self.payments.append(w.log_key(op), payment);
            }
            _ => self.due_on = maybe(op),
        }
    }
}

impl RandomEdit for Journal {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 2 {
            0 => {
                let mut entry = JournalEntry {
                    at: op.number,
                    description: op.text.clone(),
                    ..Default::default()
                };
                entry.lines.insert(
                    "d".into(),
                    JournalLine {
                        account: "1200".into(),
                        debit_minor: op.number,
                        credit_minor: 0,
                        currency: String::new(),
                    },
                );
                entry.lines.insert(
                    "c".into(),
                    JournalLine {
                        account: "4000".into(),
                        debit_minor: 0,
                        credit_minor: op.number,
                        currency: String::new(),
                    },
                );
                let _ = self.entries.append(w.log_key(op), entry);
            }
            _ => self.locked = op.number > 0,
        }
    }
}

impl RandomEdit for Employee {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 4 {
            0 => toggle(&mut self.languages, op),
            1 => toggle(&mut self.roles, op),
            2 => {
                let leave = Leave {
                    starts_at: op.number,
                    ends_at: op.number + 10,
                    reason: op.text.clone(),
                };
                let _ = self.leave.append(w.log_key(op), leave);
            }
            _ => {
                self.licences.entry(key(op)).or_default().number = op.text.clone();
            }
        }
    }
}

impl RandomEdit for HrRecord {
    fn edit(&mut self, op: &Op, _w: &Writer) {
        match op.choice % 3 {
            0 => self.salary_minor = op.number,
            1 => splice(&mut self.notes, op),
            _ => self.bank_account = op.text.clone(),
        }
    }
}

impl RandomEdit for Account {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 10 {
            0 => self.name = op.text.clone(),
            1 => toggle(&mut self.tags, op),
            2 => splice(&mut self.notes, op),
            3 => {
                self.contacts.entry(key(op)).or_default().title = op.text.clone();
            }
            4 => toggle(&mut self.contacts.entry(key(op)).or_default().emails, op),
            5 => {
                self.contacts.entry(key(op)).or_default().archived_at = Some(op.number);
            }
            6 => {
                self.opportunities.entry(key(op)).or_default();
                let stage = Stage::ALL[op.number.unsigned_abs() as usize % Stage::ALL.len()];
                let _ = self.move_opportunity(&key(op), stage, w.log_key(op), &w.name(), op.number);
            }
            7 => {
                let activity = Activity {
                    subject: op.text.clone(),
                    actor: w.name(),
                    at: op.number,
                    ..Default::default()
                };
                let _ = self.activities.append(w.log_key(op), activity);
            }
            8 => self.address.city = op.text.clone(),
            _ => self.archived_at = Some(op.number),
        }
    }
}

impl RandomEdit for Lead {
    fn edit(&mut self, op: &Op, _w: &Writer) {
        match op.choice % 4 {
            0 => self.status = LeadStatus::ALL[op.key as usize % LeadStatus::ALL.len()],
            1 => splice(&mut self.notes, op),
            2 => self.email = op.text.clone(),
            _ => self.campaign = maybe(op),
        }
    }
}

impl RandomEdit for Campaign {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 3 {
            0 => toggle(&mut self.members, op),
            1 => {
                let response = CampaignResponse {
                    member: key(op),
                    response: op.text.clone(),
                    at: op.number,
                };
                let _ = self.responses.append(w.log_key(op), response);
            }
            _ => self.budget_minor = op.number,
        }
    }
}

impl RandomEdit for Ticket {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 4 {
            0 => {
                let message = TicketMessage {
                    author: w.name(),
                    body: op.text.clone(),
                    internal: op.number > 0,
                    at: op.number,
                };
                let _ = self.messages.append(w.log_key(op), message);
            }
            1 => splice(&mut self.notes, op),
            2 => self.priority = TicketPriority::ALL[op.key as usize % TicketPriority::ALL.len()],
            _ => self.assignee = maybe(op),
        }
    }
}

impl RandomEdit for UserIndex {
    fn edit(&mut self, op: &Op, _w: &Writer) {
        match op.choice % 2 {
            0 => {
                self.documents.insert(
                    key(op),
                    IndexEntry {
                        kind: "account".into(),
                        title: op.text.clone(),
                        access: AccessLevel::Read,
                    },
                );
            }
            _ => {
                self.documents.remove(&key(op));
            }
        }
    }
}

impl RandomEdit for Alerts {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 2 {
            0 => {
                self.alerts.entry(key(op)).or_insert_with(|| Alert {
                    rule: AlertRule::ALL[op.number.unsigned_abs() as usize % AlertRule::ALL.len()],
                    severity: AlertSeverity::Warning,
                    document: op.text.clone(),
                    message: String::new(),
                    raised_at: op.number,
                    status: AlertStatus::Open,
                    resolved_by: None,
                    resolved_at: None,
                    finding: String::new(),
                    cleared_at: None,
                    owners: Default::default(),
                });
            }
            _ => {
                if let Some(alert) = self.alerts.get_mut(&key(op)) {
                    alert.status = AlertStatus::Resolved;
                    alert.resolved_by = Some(w.name());
                }
            }
        }
    }
}

impl RandomEdit for Manifest {
    fn edit(&mut self, op: &Op, w: &Writer) {
        match op.choice % 3 {
            0 => {
                self.passengers.insert(
                    key(op),
                    ManifestEntry {
                        name: op.text.clone(),
                        category: "adult".into(),
                        dietary: String::new(),
                        booking: w.name(),
                    },
                );
            }
            1 => {
                self.passengers.remove(&key(op));
            }
            _ => {
                self.guides.insert(&op.text);
            }
        }
    }
}

fn actor(replica: usize) -> ActorId {
    ActorId::from([u8::try_from(replica + 1).unwrap_or(0xff); 16])
}

/// Three replicas of one document make `edits` offline, then merge pairwise in `order`, then
/// exchange everything; all must end equal.
fn converges<R: RandomEdit>(
    edits: [Vec<Op>; 3],
    order: Vec<(usize, usize)>,
) -> Result<(), TestCaseError> {
    let mut origin = Document::create(actor(0), 0, &R::default()).map_err(fail)?;
    let mut replicas = [
        origin.fork(actor(0)),
        origin.fork(actor(1)),
        origin.fork(actor(2)),
    ];
    for (replica, ops) in edits.iter().enumerate() {
        for (seq, op) in ops.iter().enumerate() {
            let writer = Writer { replica, seq };
            replicas[replica]
                .change(op.number, |record| {
                    record.edit(op, &writer);
                    Ok(())
                })
                .map_err(fail)?;
        }
    }
    let full_exchange = [(0, 1), (0, 2), (1, 0), (2, 0)];
    for (into, from) in order.into_iter().chain(full_exchange) {
        if into == from {
            continue;
        }
        let mut source = replicas[from].fork(actor(from));
        replicas[into].merge(&mut source).map_err(fail)?;
    }
    let heads: Vec<_> = replicas.iter_mut().map(Document::heads).collect();
    prop_assert_eq!(&heads[0], &heads[1]);
    prop_assert_eq!(&heads[0], &heads[2]);
    let records: Vec<R> = replicas
        .iter()
        .map(Document::record)
        .collect::<Result<_, _>>()
        .map_err(fail)?;
    prop_assert_eq!(&records[0], &records[1]);
    prop_assert_eq!(&records[0], &records[2]);
    // What one replica saved, another loads to the same record.
    let reloaded = Document::<R>::load(&replicas[1].save()).map_err(fail)?;
    prop_assert_eq!(&reloaded.record().map_err(fail)?, &records[0]);
    Ok(())
}

fn fail(err: itinera_core::Error) -> TestCaseError {
    TestCaseError::fail(err.to_string())
}

fn edits() -> impl Strategy<Value = [Vec<Op>; 3]> {
    let replica = || proptest::collection::vec(op(), 0..10);
    (replica(), replica(), replica()).prop_map(|(a, b, c)| [a, b, c])
}

fn order() -> impl Strategy<Value = Vec<(usize, usize)>> {
    proptest::collection::vec((0usize..3, 0usize..3), 0..6)
}

macro_rules! convergence_tests {
    ($($name:ident: $record:ty,)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            $(
                #[test]
                fn $name(edits in edits(), order in order()) {
                    converges::<$record>(edits, order)?;
                }
            )*
        }
    };
}

convergence_tests! {
    catalog_converges: Catalog,
    stock_location_converges: StockLocation,
    transfer_converges: Transfer,
    purchase_order_converges: PurchaseOrder,
    departure_converges: Departure,
    field_log_converges: FieldLog,
    booking_converges: Booking,
    invoice_converges: Invoice,
    journal_converges: Journal,
    employee_converges: Employee,
    hr_record_converges: HrRecord,
    account_converges: Account,
    lead_converges: Lead,
    campaign_converges: Campaign,
    ticket_converges: Ticket,
    user_index_converges: UserIndex,
    alerts_converges: Alerts,
    manifest_converges: Manifest,
}

/// Every kind has a convergence test above.
#[test]
fn every_kind_is_covered() {
    let covered = [
        Catalog::KIND,
        StockLocation::KIND,
        Transfer::KIND,
        PurchaseOrder::KIND,
        Departure::KIND,
        FieldLog::KIND,
        Booking::KIND,
        Invoice::KIND,
        Journal::KIND,
        Employee::KIND,
        HrRecord::KIND,
        Account::KIND,
        Lead::KIND,
        Campaign::KIND,
        Ticket::KIND,
        UserIndex::KIND,
        Alerts::KIND,
        Manifest::KIND,
    ];
    for kind in DocumentKind::ALL {
        assert!(covered.contains(kind), "{kind} has no convergence test");
    }
}
