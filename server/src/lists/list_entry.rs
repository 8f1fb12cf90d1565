//! One document as the list model holds it: its kind, title, access scope and list row.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::model::Lead;
//! use itinera_core::{Document, DocumentId};
//! use itinera_server::lists::ListEntry;
//!
//! let lead = Lead { name: "Márta Szabó".into(), company: "Riverside Choir".into(), owner: "sam".into(), ..Default::default() };
//! let doc = Document::create(ActorId::from([1u8; 16]), 0, &lead).unwrap();
//! let entry = ListEntry::describe(DocumentId::from_bytes([7; 16]), doc.automerge(), None).unwrap();
//! assert_eq!(entry.title, "Márta Szabó");
//! assert_eq!(entry.scope.owner.as_deref(), Some("sam"));
//! assert!(entry.matches_search("riverside"));
//! ```

use automerge::AutoCommit;
use itinera_core::model::{
    Account, Booking, Campaign, Catalog, Departure, Employee, FieldLog, Invoice, Lead, RecordValue,
    StockLocation, Ticket, Transfer,
};
use itinera_core::policy::DocumentScope;
use itinera_core::{DocumentId, DocumentKind};

use super::cell::Cell;
use super::list_kind::ListKind;
use super::sort_key::SortKey;

/// A document in the list model. Documents of kinds no list shows keep only their scope,
/// which the event feed checks access against.
#[derive(Debug, Clone, PartialEq)]
pub struct ListEntry {
    pub id: DocumentId,
    pub kind: Option<DocumentKind>,
    pub title: String,
    pub scope: DocumentScope,
    /// One cell per column of the kind's list, in column order; empty for unlisted kinds.
    pub cells: Vec<Cell>,
    /// The cells as lists sort them.
    pub keys: Vec<SortKey>,
    /// Lower-case text that search looks in: the title, the text cells and a few fields no
    /// column shows (an account's contacts' names and e-mail addresses).
    haystack: String,
}

impl ListEntry {
    /// Reads what the list model keeps of `doc`, scope and title included. `creator` is who
    /// first stored it (the owner of kinds that name none).
    pub fn describe(
        id: DocumentId,
        doc: &AutoCommit,
        creator: Option<&str>,
    ) -> itinera_core::Result<Self> {
        let scope = DocumentScope::describe(&id, doc, creator)?;
        let title = itinera_core::document::title_of(doc);
        Self::with_document(id, scope, title, doc)
    }

    /// The entry of a document whose scope and title are known (from a committed event or the
    /// store's metadata): only the row's cells are read from `doc`.
    pub fn with_document(
        id: DocumentId,
        scope: DocumentScope,
        title: String,
        doc: &AutoCommit,
    ) -> itinera_core::Result<Self> {
        let (cells, hidden) = match scope.kind.and_then(ListKind::of_kind) {
            Some(list) => row(list, doc)?,
            None => (Vec::new(), Vec::new()),
        };
        Ok(Self::with_row(id, scope, title, cells, hidden))
    }

    /// The entry of a document whose record was read already (a committed event carries it):
    /// `None` when the record is not of the kind the scope names.
    pub fn with_record(
        id: DocumentId,
        scope: DocumentScope,
        title: String,
        record: &RecordValue,
    ) -> Option<Self> {
        let (cells, hidden) = match scope.kind.and_then(ListKind::of_kind) {
            Some(list) => row_of_record(list, record)?,
            None => (Vec::new(), Vec::new()),
        };
        Some(Self::with_row(id, scope, title, cells, hidden))
    }

    fn with_row(
        id: DocumentId,
        scope: DocumentScope,
        title: String,
        cells: Vec<Cell>,
        hidden: Vec<String>,
    ) -> Self {
        let mut haystack = title.to_lowercase();
        for text in cells
            .iter()
            .filter_map(Cell::as_text)
            .chain(hidden.iter().map(String::as_str))
        {
            haystack.push('\u{1f}');
            haystack.push_str(&text.to_lowercase());
        }
        Self::from_parts(id, scope, title, cells, haystack)
    }

    /// The entry of a document of a kind no list shows: its scope only, which the event feed
    /// checks access against. No document is read.
    pub fn unlisted(id: DocumentId, scope: DocumentScope, title: String) -> Self {
        Self::from_parts(id, scope, title, Vec::new(), String::new())
    }

    /// The same entry with another scope: a share changes who may see a document, not its
    /// content.
    pub fn rescoped(&self, scope: DocumentScope) -> Self {
        let mut entry = self.clone();
        entry.kind = scope.kind;
        entry.scope = scope;
        entry
    }

    /// An entry as it was stored (see `stored_entry`).
    pub(super) fn from_parts(
        id: DocumentId,
        scope: DocumentScope,
        title: String,
        cells: Vec<Cell>,
        haystack: String,
    ) -> Self {
        Self {
            id,
            kind: scope.kind,
            title,
            scope,
            keys: cells.iter().map(SortKey::from).collect(),
            cells,
            haystack,
        }
    }

    /// The lower-case text search looks in.
    pub(super) fn haystack(&self) -> &str {
        &self.haystack
    }

    /// Whether `needle` (lower case) occurs in the entry's searchable text.
    pub fn matches_search(&self, needle: &str) -> bool {
        self.haystack.contains(needle)
    }
}

type Row = (Vec<Cell>, Vec<String>);

/// The row of `doc`, read as a record of the list's kind.
fn row(list: ListKind, doc: &AutoCommit) -> itinera_core::Result<Row> {
    let kind = list.document_kind();
    let record = RecordValue::of_kind(doc, kind)?;
    row_of_record(list, &record).ok_or_else(|| itinera_core::Error::Malformed {
        kind,
        path: itinera_core::FieldPath::root(),
        reason: "not a record of this list's kind".into(),
    })
}

/// The row of a record already read; `None` when the record is not of the list's kind.
fn row_of_record(list: ListKind, record: &RecordValue) -> Option<Row> {
    Some(match list {
        ListKind::Accounts => account_row(record.get()?),
        ListKind::Leads => lead_row(record.get()?),
        ListKind::Campaigns => campaign_row(record.get()?),
        ListKind::Tickets => ticket_row(record.get()?),
        ListKind::Departures => departure_row(record.get()?),
        ListKind::Bookings => booking_row(record.get()?),
        ListKind::Invoices => invoice_row(record.get()?),
        ListKind::Stock => stock_row(record.get()?),
        ListKind::Transfers => transfer_row(record.get()?),
        ListKind::Employees => employee_row(record.get()?),
        ListKind::FieldLogs => field_log_row(record.get()?),
        ListKind::Catalogs => catalog_row(record.get()?),
    })
}

fn joined<'a>(items: impl Iterator<Item = &'a str>) -> Cell {
    Cell::text(items.collect::<Vec<_>>().join(", "))
}

fn account_row(account: &Account) -> Row {
    let live_contacts = account
        .contacts
        .values()
        .filter(|c| c.archived_at.is_none());
    let mut hidden = Vec::new();
    for contact in live_contacts.clone() {
        hidden.push(format!("{} {}", contact.first_name, contact.last_name));
        hidden.extend(contact.emails.iter().map(str::to_owned));
        hidden.extend(contact.phones.iter().map(str::to_owned));
    }
    hidden.extend(account.vat_number.iter().cloned());
    let open = account
        .opportunities
        .values()
        .filter(|o| o.archived_at.is_none())
        .filter(|o| !matches!(o.stage.as_str(), "won" | "lost"))
        .count();
    let cells = vec![
        Cell::text(account.name.as_str()),
        Cell::text(account.account_kind.as_str()),
        Cell::text(account.owner.as_str()),
        Cell::text(account.territory.as_str()),
        Cell::text(account.address.city.as_str()),
        Cell::text(account.address.country.as_str()),
        Cell::count(live_contacts.count()),
        Cell::count(open),
        joined(account.tags.iter()),
        Cell::maybe_int(account.archived_at),
    ];
    (cells, hidden)
}

fn lead_row(lead: &Lead) -> Row {
    let cells = vec![
        Cell::text(lead.name.as_str()),
        Cell::text(lead.company.as_str()),
        Cell::text(lead.email.as_str()),
        Cell::text(lead.phone.as_str()),
        Cell::text(lead.status.as_str()),
        Cell::text(lead.owner.as_str()),
        Cell::text(lead.source.as_str()),
        Cell::maybe_text(lead.campaign.as_deref()),
    ];
    (cells, Vec::new())
}

fn campaign_row(campaign: &Campaign) -> Row {
    let cells = vec![
        Cell::text(campaign.name.as_str()),
        Cell::text(campaign.channel.as_str()),
        Cell::text(campaign.status.as_str()),
        Cell::maybe_text(campaign.starts_on.as_deref()),
        Cell::maybe_text(campaign.ends_on.as_deref()),
        Cell::count(campaign.members.len()),
        Cell::count(campaign.responses.len()),
        Cell::Int(campaign.budget_minor),
        Cell::text(campaign.currency.as_str()),
    ];
    (cells, Vec::new())
}

fn ticket_row(ticket: &Ticket) -> Row {
    let cells = vec![
        Cell::text(ticket.subject.as_str()),
        Cell::text(ticket.status.as_str()),
        Cell::text(ticket.priority.as_str()),
        Cell::maybe_text(ticket.assignee.as_deref()),
        Cell::text(ticket.account.as_str()),
        Cell::count(ticket.messages.len()),
        Cell::maybe_int(ticket.resolved_at),
    ];
    (cells, Vec::new())
}

fn departure_row(departure: &Departure) -> Row {
    let guides = departure
        .assignments
        .values()
        .filter(|a| !matches!(a.status.as_str(), "declined" | "cancelled"))
        .count();
    let cells = vec![
        Cell::text(departure.tour.as_str()),
        Cell::Int(departure.starts_at),
        Cell::Int(departure.ends_at),
        Cell::text(departure.status.as_str()),
        Cell::Int(departure.capacity),
        Cell::Int(departure.seats_confirmed),
        Cell::Int(departure.seats_provisional),
        Cell::Int(departure.seats_waitlisted),
        Cell::count(guides),
    ];
    (cells, Vec::new())
}

fn booking_row(booking: &Booking) -> Row {
    let cells = vec![
        Cell::text(booking.departure.as_str()),
        Cell::text(booking.account.as_str()),
        Cell::text(booking.rep.as_str()),
        Cell::text(booking.channel.as_str()),
        Cell::text(booking.status.as_str()),
        Cell::count(booking.passengers.len()),
        Cell::Int(booking.amount_minor),
        Cell::text(booking.currency.as_str()),
        Cell::maybe_int(booking.submitted_at),
    ];
    let hidden = booking
        .passengers
        .values()
        .map(|p| p.name.clone())
        .collect();
    (cells, hidden)
}

fn invoice_row(invoice: &Invoice) -> Row {
    let number = invoice
        .legal_number
        .as_deref()
        .unwrap_or(&invoice.provisional_number);
    let cells = vec![
        Cell::text(number),
        Cell::maybe_text(invoice.legal_number.as_deref()),
        Cell::text(invoice.status.as_str()),
        Cell::text(invoice.customer.as_str()),
        Cell::text(invoice.series.as_str()),
        Cell::maybe_text(invoice.issued_on.as_deref()),
        Cell::maybe_text(invoice.due_on.as_deref()),
        Cell::Int(invoice.totals.gross_minor),
        Cell::text(invoice.currency.as_str()),
    ];
    (cells, vec![invoice.provisional_number.clone()])
}

fn stock_row(location: &StockLocation) -> Row {
    let units: i64 = location.on_hand.values().map(|q| q.value()).sum();
    let cells = vec![
        Cell::text(location.name.as_str()),
        Cell::text(location.location_kind.as_str()),
        Cell::maybe_text(location.custodian.as_deref()),
        Cell::count(location.on_hand.len()),
        Cell::Int(units),
    ];
    (cells, Vec::new())
}

fn transfer_row(transfer: &Transfer) -> Row {
    let cells = vec![
        Cell::text(transfer.from.as_str()),
        Cell::text(transfer.to.as_str()),
        Cell::text(transfer.status.as_str()),
        Cell::count(transfer.lines.len()),
        Cell::maybe_int(transfer.shipped_at),
        Cell::maybe_int(transfer.received_at),
    ];
    (cells, Vec::new())
}

fn employee_row(employee: &Employee) -> Row {
    let cells = vec![
        Cell::text(employee.name.as_str()),
        Cell::text(employee.status.as_str()),
        Cell::maybe_text(employee.user.as_deref()),
        joined(employee.languages.iter()),
        joined(employee.roles.iter()),
    ];
    (cells, Vec::new())
}

fn field_log_row(log: &FieldLog) -> Row {
    let cells = vec![
        Cell::text(log.departure.as_str()),
        Cell::count(log.check_ins.len()),
        Cell::count(log.incidents.len()),
        Cell::count(log.acceptances.len()),
    ];
    (cells, Vec::new())
}

fn catalog_row(catalog: &Catalog) -> Row {
    let cells = vec![
        Cell::count(catalog.tours.len()),
        Cell::count(catalog.items.len()),
    ];
    (cells, Vec::new())
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use itinera_core::Document;
    use itinera_core::model::{Contact, Opportunity, Record, Stage};

    use super::*;

    fn entry_of<R: Record>(record: &R) -> ListEntry {
        let doc = Document::create(ActorId::from([1u8; 16]), 0, record).expect("create");
        ListEntry::describe(
            DocumentId::from_bytes([9; 16]),
            doc.automerge(),
            Some("olga"),
        )
        .expect("describe")
    }

    #[test]
    fn every_list_row_has_one_cell_per_column() {
        let entries = [
            entry_of(&Account::default()),
            entry_of(&Lead::default()),
            entry_of(&Campaign::default()),
            entry_of(&Ticket::default()),
            entry_of(&Departure::default()),
            entry_of(&Booking::default()),
            entry_of(&Invoice::default()),
            entry_of(&StockLocation::default()),
            entry_of(&Transfer::default()),
            entry_of(&Employee::default()),
            entry_of(&FieldLog::default()),
            entry_of(&Catalog::default()),
        ];
        for entry in entries {
            let list = entry
                .kind
                .and_then(ListKind::of_kind)
                .expect("a listed kind");
            assert_eq!(entry.cells.len(), list.columns().len(), "{}", list.name());
        }
    }

    #[test]
    fn an_account_row_counts_open_opportunities_and_finds_its_contacts() {
        let mut account = Account {
            name: "Lakeside Schools".into(),
            owner: "sam".into(),
            ..Default::default()
        };
        account.contacts.insert(
            "c-1".into(),
            Contact {
                first_name: "Ilona".into(),
                last_name: "Kovács".into(),
                emails: ["ilona@lakeside.example"].into_iter().collect(),
                ..Default::default()
            },
        );
        for (key, stage) in [("o-1", Stage::Proposal), ("o-2", Stage::Won)] {
            account.opportunities.insert(
                key.into(),
                Opportunity {
                    stage,
                    ..Default::default()
                },
            );
        }
        let entry = entry_of(&account);
        let list = ListKind::Accounts;
        let cell = |name| &entry.cells[list.column_index(name).expect("column")];
        assert_eq!(cell("contacts"), &Cell::Int(1));
        assert_eq!(cell("open_opportunities"), &Cell::Int(1));
        assert!(entry.matches_search("kovács"));
        assert!(entry.matches_search("ilona@lakeside"));
        assert!(!entry.matches_search("harbour"));
    }
}
