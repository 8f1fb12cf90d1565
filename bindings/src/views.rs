//! Records as the app sees them. Ids cross as `automerge:` URLs; statuses and stages as the
//! lowercase strings the documents store (`"proposal"`, `"confirmed"`), so a newer server's
//! value never breaks an older app.

use itinera_core::replica as core;

/// An account with its contacts and opportunities.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub territory: String,
    pub owner: String,
    pub vat_number: Option<String>,
    pub city: String,
    pub country: String,
    pub contacts: Vec<ContactView>,
    pub opportunities: Vec<OpportunityView>,
    pub open_tasks: u32,
    pub archived: bool,
}

/// A person at an account.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContactView {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub title: String,
    pub language: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

/// A sale being worked on.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpportunityView {
    pub id: String,
    pub name: String,
    pub stage: String,
    pub amount_minor: i64,
    pub currency: String,
    pub owner: String,
}

/// What the rep types for a contact.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContactInput {
    pub first_name: String,
    pub last_name: String,
    pub title: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
}

/// A lead.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LeadView {
    pub id: String,
    pub name: String,
    pub company: String,
    pub email: String,
    pub phone: String,
    pub source: String,
    pub status: String,
    pub converted_to: Option<String>,
}

/// What a lead became.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConvertedLead {
    pub account: String,
    pub contact: String,
    pub opportunity: String,
}

/// One traveller.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PassengerInput {
    pub name: String,
    /// `adult`, `child`, `infant` or `senior`.
    pub category: String,
    pub dietary: String,
}

/// A booking and the status the server decided.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BookingView {
    pub id: String,
    pub departure: String,
    pub account: String,
    pub rep: String,
    pub passengers: Vec<PassengerInput>,
    pub amount_minor: i64,
    pub currency: String,
    /// `draft` until submitted; then the server's `confirmed`, `waitlisted` or `rejected`.
    pub status: String,
    pub submitted_at: Option<i64>,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvoiceLineInput {
    pub description: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    /// Basis points: 2700 is 27 %.
    pub vat_rate_bp: i64,
}

/// An invoice: the device's provisional number, and the legal one once the server assigned it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvoiceView {
    pub id: String,
    pub provisional_number: String,
    pub legal_number: Option<String>,
    pub status: String,
    pub customer: String,
    pub currency: String,
    pub net_minor: i64,
    pub vat_minor: i64,
    pub gross_minor: i64,
}

/// A departure as a guide sees it: no prices.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DepartureView {
    pub id: String,
    pub tour: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub time_zone: String,
    pub capacity: i64,
    pub status: String,
    pub manifest: Vec<ManifestEntryView>,
    pub assignments: Vec<AssignmentView>,
    pub field_log: Option<String>,
}

/// A passenger on the manifest.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ManifestEntryView {
    pub key: String,
    pub name: String,
    pub category: String,
    pub dietary: String,
    pub checked_in: bool,
}

/// A guide's assignment to a departure.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AssignmentView {
    pub id: String,
    pub employee: String,
    pub role: String,
    pub status: String,
    pub hours: f64,
}

/// A call, meeting, e-mail, note or task logged on an account.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ActivityView {
    pub key: String,
    /// `call`, `email`, `meeting`, `note` or `task`.
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub actor: String,
    /// When it happened, by the clock of the device that logged it (Unix ms).
    pub at: i64,
    /// Where it stands in the log (Unix ms of a hybrid logical clock: never before the entries
    /// the device had when it logged it, whatever its clock said); the log is in this order.
    pub ordered_at: i64,
    pub due: Option<i64>,
    pub done: bool,
}

/// One value of a field that devices wrote concurrently.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConflictValue {
    /// The value as text (a string, a number, `true`…).
    pub value: String,
    /// The device (actor) that wrote it.
    pub actor: String,
    /// Whether every device shows this value.
    pub winner: bool,
}

impl From<core::AccountView> for AccountView {
    fn from(view: core::AccountView) -> Self {
        Self {
            id: view.id.to_url(),
            name: view.name,
            territory: view.territory,
            owner: view.owner,
            vat_number: view.vat_number,
            city: view.city,
            country: view.country,
            contacts: view.contacts.into_iter().map(Into::into).collect(),
            opportunities: view.opportunities.into_iter().map(Into::into).collect(),
            open_tasks: u32::try_from(view.open_tasks).unwrap_or(u32::MAX),
            archived: view.archived,
        }
    }
}

impl From<core::ContactView> for ContactView {
    fn from(view: core::ContactView) -> Self {
        Self {
            id: view.id,
            first_name: view.first_name,
            last_name: view.last_name,
            title: view.title,
            language: view.language,
            emails: view.emails,
            phones: view.phones,
        }
    }
}

impl From<core::OpportunityView> for OpportunityView {
    fn from(view: core::OpportunityView) -> Self {
        Self {
            id: view.id,
            name: view.name,
            stage: view.stage.as_str().into(),
            amount_minor: view.amount_minor,
            currency: view.currency,
            owner: view.owner,
        }
    }
}

impl From<ContactInput> for core::ContactInput {
    fn from(input: ContactInput) -> Self {
        Self {
            first_name: input.first_name,
            last_name: input.last_name,
            title: input.title,
            email: input.email,
            phone: input.phone,
            language: input.language,
        }
    }
}

impl From<core::LeadView> for LeadView {
    fn from(view: core::LeadView) -> Self {
        Self {
            id: view.id.to_url(),
            name: view.name,
            company: view.company,
            email: view.email,
            phone: view.phone,
            source: view.source,
            status: view.status.as_str().into(),
            converted_to: view.converted_to,
        }
    }
}

impl From<core::BookingView> for BookingView {
    fn from(view: core::BookingView) -> Self {
        Self {
            id: view.id.to_url(),
            departure: view.departure,
            account: view.account,
            rep: view.rep,
            passengers: view
                .passengers
                .into_iter()
                .map(|p| PassengerInput {
                    name: p.name,
                    category: p.category.as_str().into(),
                    dietary: p.dietary,
                })
                .collect(),
            amount_minor: view.amount_minor,
            currency: view.currency,
            status: view.status.as_str().into(),
            submitted_at: view.submitted_at,
        }
    }
}

impl From<core::InvoiceView> for InvoiceView {
    fn from(view: core::InvoiceView) -> Self {
        Self {
            id: view.id.to_url(),
            provisional_number: view.provisional_number,
            legal_number: view.legal_number,
            status: view.status.as_str().into(),
            customer: view.customer,
            currency: view.currency,
            net_minor: view.net_minor,
            vat_minor: view.vat_minor,
            gross_minor: view.gross_minor,
        }
    }
}

impl From<core::DepartureView> for DepartureView {
    fn from(view: core::DepartureView) -> Self {
        Self {
            id: view.id.to_url(),
            tour: view.tour,
            starts_at: view.starts_at,
            ends_at: view.ends_at,
            time_zone: view.time_zone,
            capacity: view.capacity,
            status: view.status.as_str().into(),
            manifest: view
                .manifest
                .into_iter()
                .map(|m| ManifestEntryView {
                    key: m.key,
                    name: m.name,
                    category: m.category,
                    dietary: m.dietary,
                    checked_in: m.checked_in,
                })
                .collect(),
            assignments: view
                .assignments
                .into_iter()
                .map(|a| AssignmentView {
                    id: a.id,
                    employee: a.employee,
                    role: a.role.as_str().into(),
                    status: a.status.as_str().into(),
                    hours: a.hours,
                })
                .collect(),
            field_log: view.field_log.map(|id| id.to_url()),
        }
    }
}
