//! The lists head office browses, and the columns each one shows.
//!
//! A list is one kind of document; its columns are read from the record when the document
//! changes, so that a list request never loads a document. Columns holding another document's
//! id name that document's kind: the list answers with its title beside the id.

use itinera_core::DocumentKind;

/// One column of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The column's name in JSON, CSV, `sort=` and filters.
    pub name: &'static str,
    /// When the cell holds a document id: that document's kind, whose title is shown too.
    pub reference: Option<DocumentKind>,
}

const fn col(name: &'static str) -> Column {
    Column {
        name,
        reference: None,
    }
}

const fn reference(name: &'static str, kind: DocumentKind) -> Column {
    Column {
        name,
        reference: Some(kind),
    }
}

const ACCOUNTS_COLUMNS: &[Column] = &[
    col("name"),
    col("account_kind"),
    col("owner"),
    col("territory"),
    col("city"),
    col("country"),
    col("contacts"),
    col("open_opportunities"),
    col("tags"),
    col("archived_at"),
];

const LEADS_COLUMNS: &[Column] = &[
    col("name"),
    col("company"),
    col("email"),
    col("phone"),
    col("status"),
    col("owner"),
    col("source"),
    reference("campaign", DocumentKind::Campaign),
];

const CAMPAIGNS_COLUMNS: &[Column] = &[
    col("name"),
    col("channel"),
    col("status"),
    col("starts_on"),
    col("ends_on"),
    col("members"),
    col("responses"),
    col("budget_minor"),
    col("currency"),
];

const TICKETS_COLUMNS: &[Column] = &[
    col("subject"),
    col("status"),
    col("priority"),
    col("assignee"),
    reference("account", DocumentKind::Account),
    col("messages"),
    col("resolved_at"),
];

const DEPARTURES_COLUMNS: &[Column] = &[
    col("tour"),
    col("starts_at"),
    col("ends_at"),
    col("status"),
    col("capacity"),
    col("seats_confirmed"),
    col("seats_provisional"),
    col("seats_waitlisted"),
    col("guides"),
];

const BOOKINGS_COLUMNS: &[Column] = &[
    reference("departure", DocumentKind::Departure),
    reference("account", DocumentKind::Account),
    col("rep"),
    col("channel"),
    col("status"),
    col("seats"),
    col("amount_minor"),
    col("currency"),
    col("submitted_at"),
];

const INVOICES_COLUMNS: &[Column] = &[
    col("number"),
    col("legal_number"),
    col("status"),
    reference("customer", DocumentKind::Account),
    col("series"),
    col("issued_on"),
    col("due_on"),
    col("gross_minor"),
    col("currency"),
];

const STOCK_COLUMNS: &[Column] = &[
    col("name"),
    col("location_kind"),
    col("custodian"),
    col("items"),
    col("units"),
];

const TRANSFERS_COLUMNS: &[Column] = &[
    reference("from", DocumentKind::Stock),
    reference("to", DocumentKind::Stock),
    col("status"),
    col("lines"),
    col("shipped_at"),
    col("received_at"),
];

const EMPLOYEES_COLUMNS: &[Column] = &[
    col("name"),
    col("status"),
    col("user"),
    col("languages"),
    col("roles"),
];

const FIELD_LOGS_COLUMNS: &[Column] = &[
    reference("departure", DocumentKind::Departure),
    col("check_ins"),
    col("incidents"),
    col("acceptances"),
];

const CATALOGS_COLUMNS: &[Column] = &[col("tours"), col("items")];

/// A list of one kind of document, as named in `/api/v1/lists/{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    Accounts,
    Leads,
    Campaigns,
    Tickets,
    Departures,
    Bookings,
    Invoices,
    Stock,
    Transfers,
    Employees,
    FieldLogs,
    Catalogs,
}

impl ListKind {
    /// Every list.
    pub const ALL: [Self; 12] = [
        Self::Accounts,
        Self::Leads,
        Self::Campaigns,
        Self::Tickets,
        Self::Departures,
        Self::Bookings,
        Self::Invoices,
        Self::Stock,
        Self::Transfers,
        Self::Employees,
        Self::FieldLogs,
        Self::Catalogs,
    ];

    /// The list's name in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::Leads => "leads",
            Self::Campaigns => "campaigns",
            Self::Tickets => "tickets",
            Self::Departures => "departures",
            Self::Bookings => "bookings",
            Self::Invoices => "invoices",
            Self::Stock => "stock",
            Self::Transfers => "transfers",
            Self::Employees => "employees",
            Self::FieldLogs => "fieldlogs",
            Self::Catalogs => "catalogs",
        }
    }

    /// The list named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|list| list.name() == name)
    }

    /// The kind of document listed.
    pub fn document_kind(self) -> DocumentKind {
        match self {
            Self::Accounts => DocumentKind::Account,
            Self::Leads => DocumentKind::Lead,
            Self::Campaigns => DocumentKind::Campaign,
            Self::Tickets => DocumentKind::Ticket,
            Self::Departures => DocumentKind::Departure,
            Self::Bookings => DocumentKind::Booking,
            Self::Invoices => DocumentKind::Invoice,
            Self::Stock => DocumentKind::Stock,
            Self::Transfers => DocumentKind::Transfer,
            Self::Employees => DocumentKind::Employee,
            Self::FieldLogs => DocumentKind::FieldLog,
            Self::Catalogs => DocumentKind::Catalog,
        }
    }

    /// The list of documents of `kind`, if head office lists that kind.
    pub fn of_kind(kind: DocumentKind) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|list| list.document_kind() == kind)
    }

    /// The columns, in the order rows hold their cells.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Self::Accounts => ACCOUNTS_COLUMNS,
            Self::Leads => LEADS_COLUMNS,
            Self::Campaigns => CAMPAIGNS_COLUMNS,
            Self::Tickets => TICKETS_COLUMNS,
            Self::Departures => DEPARTURES_COLUMNS,
            Self::Bookings => BOOKINGS_COLUMNS,
            Self::Invoices => INVOICES_COLUMNS,
            Self::Stock => STOCK_COLUMNS,
            Self::Transfers => TRANSFERS_COLUMNS,
            Self::Employees => EMPLOYEES_COLUMNS,
            Self::FieldLogs => FIELD_LOGS_COLUMNS,
            Self::Catalogs => CATALOGS_COLUMNS,
        }
    }

    /// The position of the column named `name`.
    pub fn column_index(self, name: &str) -> Option<usize> {
        self.columns().iter().position(|column| column.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_parses_back_from_its_name_and_has_distinct_columns() {
        for list in ListKind::ALL {
            assert_eq!(ListKind::parse(list.name()), Some(list));
            assert_eq!(ListKind::of_kind(list.document_kind()), Some(list));
            let mut names: Vec<&str> = list.columns().iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), list.columns().len(), "{}", list.name());
        }
    }
}
