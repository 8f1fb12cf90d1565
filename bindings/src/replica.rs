//! The device's replica as the app sees it: every method is a thin shell around
//! `itinera_core::replica::Replica`, taking the time and new ids from the device.

use std::sync::{Arc, Mutex, MutexGuard};

use itinera_core::DocumentId;
use itinera_core::model::{ActivityKind, PassengerCategory, Severity, Stage};
use itinera_core::replica::{self as core, ReplicaError};
use tokio::sync::{Notify, broadcast};

use crate::ItineraError;
use crate::sync_client::now_ms;
use crate::views::*;

/// The device's own store of records, usable with no network at all.
#[derive(uniffi::Object)]
pub struct Replica {
    inner: Mutex<core::Replica>,
    /// Woken by every local change, so a sync sends it promptly.
    pub(crate) local_changes: Arc<Notify>,
    /// Every write (local or synced), for the app's watches.
    pub(crate) written: broadcast::Sender<Arc<Vec<DocumentId>>>,
    /// The storage id the device presents to the server.
    storage_id: String,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("storage_id", &self.storage_id)
            .finish_non_exhaustive()
    }
}

impl From<ReplicaError> for ItineraError {
    fn from(error: ReplicaError) -> Self {
        match error {
            ReplicaError::Record(inner) => inner.into(),
            ReplicaError::Store(store) => ItineraError::Storage {
                reason: store.to_string(),
            },
            ReplicaError::Damaged { .. } => ItineraError::Damaged {
                reason: error.to_string(),
            },
            ReplicaError::OtherUser { .. } => ItineraError::WrongUser {
                reason: error.to_string(),
            },
            ReplicaError::NeverAcknowledged { .. } => ItineraError::NeverSynced {
                reason: error.to_string(),
            },
            other => ItineraError::Other {
                reason: other.to_string(),
            },
        }
    }
}

fn random<const N: usize>() -> Result<[u8; N], ItineraError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| ItineraError::Other {
        reason: format!("no random source: {e}"),
    })?;
    Ok(bytes)
}

fn new_id() -> Result<DocumentId, ItineraError> {
    Ok(DocumentId::new_v7(
        u64::try_from(now_ms()).unwrap_or(0),
        random()?,
    ))
}

/// A short unique suffix for log keys and sub-record ids.
fn unique() -> Result<String, ItineraError> {
    Ok(random::<6>()?.iter().map(|b| format!("{b:02x}")).collect())
}

fn id(text: &str) -> Result<DocumentId, ItineraError> {
    DocumentId::parse(text).map_err(|e| ItineraError::Invalid {
        reason: e.to_string(),
    })
}

fn parse<T>(text: &str, what: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, ItineraError> {
    parse(text).ok_or_else(|| ItineraError::Invalid {
        reason: format!("unknown {what} {text:?}"),
    })
}

impl Replica {
    fn lock(&self) -> Result<MutexGuard<'_, core::Replica>, ItineraError> {
        self.inner.lock().map_err(|_| ItineraError::Other {
            reason: "the replica is poisoned by an earlier failure".into(),
        })
    }

    /// Runs a change, tells the watches and wakes the sync.
    fn change<T>(
        &self,
        edit: impl FnOnce(&mut core::Replica) -> Result<T, ReplicaError>,
    ) -> Result<T, ItineraError> {
        let out = self.with_core(|replica| edit(replica).map_err(ItineraError::from))?;
        self.local_changes.notify_one();
        Ok(out)
    }

    /// Runs `work` on the core replica, then tells the watches what it wrote.
    pub(crate) fn with_core<T>(
        &self,
        work: impl FnOnce(&mut core::Replica) -> Result<T, ItineraError>,
    ) -> Result<T, ItineraError> {
        let (out, written) = {
            let mut replica = self.lock()?;
            let out = work(&mut replica);
            (out, replica.take_written())
        };
        if !written.is_empty() {
            let _ = self.written.send(Arc::new(written));
        }
        out
    }

    /// The user and the storage id the device presents to the server.
    pub(crate) fn identity(&self) -> Result<(String, String), ItineraError> {
        Ok((self.lock()?.user().to_owned(), self.storage_id.clone()))
    }

    /// Records, durably, that a sync completed at `at`.
    pub(crate) fn record_sync(&self, at: i64) -> Result<(), ItineraError> {
        Ok(self.lock()?.set_last_sync(at)?)
    }

    fn wrap(inner: core::Replica, storage_id: String) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(inner),
            local_changes: Arc::new(Notify::new()),
            written: broadcast::channel(256).0,
            storage_id,
        })
    }
}

#[uniffi::export]
impl Replica {
    /// Opens (or creates) the replica stored at `path` for `user`. Refuses a replica of
    /// another user (`WrongUser`) and one whose file was emptied, replaced or damaged
    /// (`Damaged`: see [`recover`](Self::recover)).
    #[uniffi::constructor]
    pub fn open(path: String, user: String) -> Result<Arc<Self>, ItineraError> {
        let (inner, identity) = core::Replica::open_on_device(&path, &user, random()?)?;
        Ok(Self::wrap(inner, identity.storage_id))
    }

    /// Sets a damaged replica file aside (kept beside it as `….damaged-N`) and opens a fresh
    /// replica in its place, which the next sync fills with everything the server has.
    /// Changes that were never synced are in the file set aside only.
    #[uniffi::constructor]
    pub fn recover(path: String, user: String) -> Result<Arc<Self>, ItineraError> {
        let (inner, identity, aside) = core::Replica::recover_on_device(&path, &user, random()?)?;
        tracing::warn!(aside = %aside.display(), "a damaged replica was set aside");
        Ok(Self::wrap(inner, identity.storage_id))
    }

    /// The signed-in user.
    pub fn user(&self) -> Result<String, ItineraError> {
        Ok(self.lock()?.user().to_owned())
    }

    /// The prefix of this device's provisional invoice numbers (`SAM-P7` → `SAM-P7-0001`).
    pub fn set_invoice_prefix(&self, prefix: String) -> Result<(), ItineraError> {
        Ok(self.lock()?.set_invoice_prefix(prefix)?)
    }

    // Sales rep: accounts, contacts, activities, opportunities.

    /// A new account owned by the user; returns its id.
    pub fn create_account(&self, name: String, territory: String) -> Result<String, ItineraError> {
        let new = new_id()?;
        self.change(|r| r.create_account(new, name, territory, now_ms()))
            .map(|id| id.to_url())
    }

    /// Renames or moves an account; `None` leaves a field as it is.
    pub fn update_account(
        &self,
        account: String,
        name: Option<String>,
        territory: Option<String>,
        city: Option<String>,
    ) -> Result<(), ItineraError> {
        let account = id(&account)?;
        let update = core::AccountUpdate {
            name,
            territory,
            vat_number: None,
            city,
            country: None,
        };
        self.change(|r| r.update_account(account, update, now_ms()))
            .map(drop)
    }

    /// Archives an account; its history stays.
    pub fn archive_account(&self, account: String) -> Result<(), ItineraError> {
        let account = id(&account)?;
        self.change(|r| r.archive_account(account, now_ms()))
            .map(drop)
    }

    /// One account.
    pub fn account(&self, account: String) -> Result<Option<AccountView>, ItineraError> {
        Ok(self.lock()?.account(id(&account)?)?.map(Into::into))
    }

    /// The activities of an account, newest first.
    pub fn activities(&self, account: String) -> Result<Vec<ActivityView>, ItineraError> {
        let account = id(&account)?;
        Ok(self
            .lock()?
            .activities(account)?
            .into_iter()
            .map(|(key, a)| ActivityView {
                ordered_at: key
                    .get(..16)
                    .and_then(|hex| i64::from_str_radix(hex, 16).ok())
                    .unwrap_or(a.at),
                key,
                kind: a.activity_kind.as_str().into(),
                subject: a.subject,
                body: a.body,
                actor: a.actor,
                at: a.at,
                due: a.due,
                done: a.done,
            })
            .collect())
    }

    /// The user's accounts, not archived.
    pub fn my_accounts(&self) -> Result<Vec<AccountView>, ItineraError> {
        Ok(self
            .lock()?
            .my_accounts()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Accounts whose name, contact e-mail or phone matches `query`.
    pub fn search_accounts(&self, query: String) -> Result<Vec<AccountView>, ItineraError> {
        Ok(self
            .lock()?
            .search_accounts(query)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Adds a contact to an account; returns the contact's id.
    pub fn add_contact(
        &self,
        account: String,
        contact: ContactInput,
    ) -> Result<String, ItineraError> {
        let account = id(&account)?;
        let contact_id = format!("c-{}", unique()?);
        self.change(|r| r.add_contact(account, contact_id.clone(), contact.into(), now_ms()))?;
        Ok(contact_id)
    }

    /// Changes a contact.
    pub fn update_contact(
        &self,
        account: String,
        contact: String,
        input: ContactInput,
    ) -> Result<(), ItineraError> {
        let account = id(&account)?;
        self.change(|r| r.update_contact(account, contact, input.into(), now_ms()))
            .map(drop)
    }

    /// Archives a contact.
    pub fn archive_contact(&self, account: String, contact: String) -> Result<(), ItineraError> {
        let account = id(&account)?;
        self.change(|r| r.archive_contact(account, contact, now_ms()))
            .map(drop)
    }

    /// Logs a call, email, meeting or note (`kind`); returns the entry's key.
    pub fn log_activity(
        &self,
        account: String,
        kind: String,
        subject: String,
        body: String,
        related: Option<String>,
    ) -> Result<String, ItineraError> {
        let account = id(&account)?;
        let kind = parse(&kind, "activity kind", ActivityKind::parse)?;
        let suffix = unique()?;
        self.change(|r| r.log_activity(account, kind, subject, body, related, now_ms(), &suffix))
    }

    /// A task with a due date (Unix ms); returns its key.
    pub fn add_task(
        &self,
        account: String,
        subject: String,
        due: i64,
    ) -> Result<String, ItineraError> {
        let account = id(&account)?;
        let suffix = unique()?;
        self.change(|r| r.add_task(account, subject, due, now_ms(), &suffix))
    }

    /// Marks a task done.
    pub fn complete_task(&self, account: String, task: String) -> Result<(), ItineraError> {
        let account = id(&account)?;
        self.change(|r| r.complete_task(account, task, now_ms()))
            .map(drop)
    }

    /// A new opportunity on an account; returns its id.
    pub fn add_opportunity(
        &self,
        account: String,
        name: String,
        amount_minor: i64,
        currency: String,
    ) -> Result<String, ItineraError> {
        let account = id(&account)?;
        let opportunity = format!("o-{}", unique()?);
        self.change(|r| {
            r.add_opportunity(
                account,
                opportunity.clone(),
                name,
                amount_minor,
                currency,
                now_ms(),
            )
        })?;
        Ok(opportunity)
    }

    /// Moves an opportunity to `stage` (`qualification`, `proposal`, `won`…); the history keeps
    /// every move.
    pub fn move_opportunity(
        &self,
        account: String,
        opportunity: String,
        stage: String,
    ) -> Result<(), ItineraError> {
        let account = id(&account)?;
        let stage = parse(&stage, "stage", Stage::parse)?;
        let suffix = unique()?;
        self.change(|r| r.move_opportunity(account, opportunity, stage, now_ms(), &suffix))
            .map(drop)
    }

    // Leads.

    /// A new lead owned by the user; returns its id.
    pub fn create_lead(
        &self,
        name: String,
        company: String,
        email: Option<String>,
        phone: Option<String>,
        source: String,
    ) -> Result<String, ItineraError> {
        let new = new_id()?;
        let input = core::LeadInput {
            name,
            company,
            email,
            phone,
            source,
            campaign: None,
        };
        self.change(|r| r.create_lead(new, input, now_ms()))
            .map(|id| id.to_url())
    }

    /// Marks a lead qualified.
    pub fn qualify_lead(&self, lead: String) -> Result<(), ItineraError> {
        let lead = id(&lead)?;
        self.change(|r| r.qualify_lead(lead, now_ms())).map(drop)
    }

    /// Turns a lead into an account with its contact and an opportunity.
    pub fn convert_lead(&self, lead: String) -> Result<ConvertedLead, ItineraError> {
        let lead = id(&lead)?;
        let account = new_id()?;
        let (contact, opportunity) = (format!("c-{}", unique()?), format!("o-{}", unique()?));
        let converted =
            self.change(|r| r.convert_lead(lead, account, contact, opportunity, now_ms()))?;
        Ok(ConvertedLead {
            account: converted.account.to_url(),
            contact: converted.contact,
            opportunity: converted.opportunity,
        })
    }

    /// The user's leads.
    pub fn my_leads(&self) -> Result<Vec<LeadView>, ItineraError> {
        Ok(self
            .lock()?
            .my_leads()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    // Bookings and invoices.

    /// A booking draft for a departure; returns its id. Submit it to have the server decide.
    pub fn create_booking(
        &self,
        departure: String,
        account: String,
        passengers: Vec<PassengerInput>,
        amount_minor: i64,
        currency: String,
    ) -> Result<String, ItineraError> {
        let (departure, account) = (id(&departure)?, id(&account)?);
        let passengers = passengers
            .into_iter()
            .enumerate()
            .map(|(n, p)| {
                Ok(core::PassengerInput {
                    key: format!("p{n}"),
                    name: p.name,
                    category: parse(&p.category, "passenger category", PassengerCategory::parse)?,
                    dietary: p.dietary,
                })
            })
            .collect::<Result<Vec<_>, ItineraError>>()?;
        let new = new_id()?;
        let input = core::BookingInput {
            departure,
            account,
            contact: None,
            passengers,
            amount_minor,
            currency,
            channel: "mobile".into(),
        };
        self.change(|r| r.create_booking(new, input, now_ms()))
            .map(|id| id.to_url())
    }

    /// Submits a booking; the server confirms or waitlists it.
    pub fn submit_booking(&self, booking: String) -> Result<(), ItineraError> {
        let booking = id(&booking)?;
        self.change(|r| r.submit_booking(booking, now_ms()))
            .map(drop)
    }

    /// One booking, with the status the server decided.
    pub fn booking(&self, booking: String) -> Result<Option<BookingView>, ItineraError> {
        Ok(self.lock()?.booking(id(&booking)?)?.map(Into::into))
    }

    /// The user's bookings.
    pub fn my_bookings(&self) -> Result<Vec<BookingView>, ItineraError> {
        Ok(self
            .lock()?
            .my_bookings()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// A draft invoice with this device's next provisional number; returns its id.
    pub fn create_invoice_draft(
        &self,
        customer: String,
        currency: String,
        series: String,
        lines: Vec<InvoiceLineInput>,
    ) -> Result<String, ItineraError> {
        let customer = id(&customer)?;
        let lines = lines
            .into_iter()
            .enumerate()
            .map(|(n, l)| core::InvoiceLineInput {
                key: format!("l{n}"),
                description: l.description,
                quantity: l.quantity,
                unit_price_minor: l.unit_price_minor,
                vat_rate_bp: l.vat_rate_bp,
            })
            .collect();
        let new = new_id()?;
        self.change(|r| r.create_invoice_draft(new, customer, currency, series, lines, now_ms()))?;
        Ok(new.to_url())
    }

    /// Posts an invoice; the server gives it its legal number.
    pub fn post_invoice(&self, invoice: String) -> Result<(), ItineraError> {
        let invoice = id(&invoice)?;
        self.change(|r| r.post_invoice(invoice, now_ms())).map(drop)
    }

    /// One invoice, with its legal number once assigned.
    pub fn invoice(&self, invoice: String) -> Result<Option<InvoiceView>, ItineraError> {
        Ok(self.lock()?.invoice(id(&invoice)?)?.map(Into::into))
    }

    // Guide.

    /// The departures on this device, with their manifests.
    pub fn my_departures(&self) -> Result<Vec<DepartureView>, ItineraError> {
        Ok(self
            .lock()?
            .my_departures()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Checks a passenger in (field log of the departure).
    pub fn check_in(&self, field_log: String, passenger: String) -> Result<(), ItineraError> {
        let field_log = id(&field_log)?;
        self.change(|r| r.check_in(field_log, passenger, now_ms()))
            .map(drop)
    }

    /// Records stock used from a tour kit.
    pub fn consume_stock(
        &self,
        location: String,
        item: String,
        quantity: i64,
        departure: Option<String>,
    ) -> Result<(), ItineraError> {
        let location = id(&location)?;
        let suffix = unique()?;
        self.change(|r| r.consume_stock(location, item, quantity, departure, now_ms(), &suffix))
            .map(drop)
    }

    /// The quantity of an item at a location.
    pub fn stock_level(&self, location: String, item: String) -> Result<Option<i64>, ItineraError> {
        let location = id(&location)?;
        Ok(self.lock()?.stock_level(location, item)?)
    }

    /// Receives a transfer into its destination.
    pub fn receive_transfer(&self, transfer: String) -> Result<(), ItineraError> {
        let transfer = id(&transfer)?;
        self.change(|r| r.receive_transfer(transfer, now_ms()))
            .map(drop)
    }

    /// Reports an incident (`low`, `medium`, `high`, `critical`).
    pub fn report_incident(
        &self,
        field_log: String,
        severity: String,
        summary: String,
    ) -> Result<String, ItineraError> {
        let field_log = id(&field_log)?;
        let severity = parse(&severity, "severity", Severity::parse)?;
        let suffix = unique()?;
        self.change(|r| r.report_incident(field_log, severity, summary, now_ms(), &suffix))
    }

    /// Replaces the field notes (the difference is written, so edits on two phones merge).
    pub fn write_field_notes(&self, field_log: String, text: String) -> Result<(), ItineraError> {
        let field_log = id(&field_log)?;
        self.change(|r| r.write_field_notes(field_log, text, now_ms()))
            .map(drop)
    }

    /// Accepts or declines an assignment.
    pub fn respond_to_assignment(
        &self,
        field_log: String,
        assignment: String,
        employee: String,
        accept: bool,
    ) -> Result<(), ItineraError> {
        let field_log = id(&field_log)?;
        let suffix = unique()?;
        self.change(|r| {
            r.respond_to_assignment(field_log, assignment, employee, accept, now_ms(), &suffix)
        })
        .map(drop)
    }

    // Both.

    /// Every value devices wrote to a field (`/opportunities/o-1/stage`) and the winner.
    pub fn conflicts(
        &self,
        document: String,
        path: String,
    ) -> Result<Vec<ConflictValue>, ItineraError> {
        let document = id(&document)?;
        let conflicts = self.lock()?.conflicts(document, &path)?;
        Ok(conflicts
            .values
            .into_iter()
            .map(|v| ConflictValue {
                value: field_text(&v.value),
                actor: v.actor,
                winner: v.winner,
            })
            .collect())
    }

    /// Documents with changes the server has not acknowledged yet.
    pub fn pending_documents(&self) -> Result<Vec<String>, ItineraError> {
        Ok(self
            .lock()?
            .pending()?
            .iter()
            .map(DocumentId::to_url)
            .collect())
    }

    /// When the last sync succeeded (Unix ms).
    pub fn last_sync(&self) -> Result<Option<i64>, ItineraError> {
        Ok(self.lock()?.last_sync())
    }

    /// Goes back to the server's version of a document whose changes it refused. Refuses
    /// (`NeverSynced`) a document the server never acknowledged, which this would delete.
    pub fn discard_local_changes(&self, document: String) -> Result<(), ItineraError> {
        let document = id(&document)?;
        self.with_core(|replica| Ok(replica.discard_local_changes(document)?))
    }

    /// Deletes a document the server never acknowledged, with every change in it (after the
    /// user agreed: nothing of it is anywhere else).
    pub fn delete_unsynced_document(&self, document: String) -> Result<(), ItineraError> {
        let document = id(&document)?;
        self.with_core(|replica| Ok(replica.delete_unsynced_document(document)?))
    }
}

fn field_text(value: &itinera_core::document::FieldValue) -> String {
    use itinera_core::document::FieldValue as V;
    match value {
        V::Str(s) | V::Text(s) => s.clone(),
        V::Int(n) | V::Counter(n) | V::Timestamp(n) => n.to_string(),
        V::Uint(n) => n.to_string(),
        V::F64(f) => f.to_string(),
        V::Bool(b) => b.to_string(),
        V::Null => "null".into(),
        V::Bytes(b) => format!("{} bytes", b.len()),
        V::Map => "{…}".into(),
        V::List => "[…]".into(),
    }
}

impl Replica {
    /// The kind of a document the replica holds, without loading it.
    pub(crate) fn kind_of(&self, id: DocumentId) -> Option<itinera_core::model::DocumentKind> {
        self.lock().ok()?.record_kind(id)
    }
}
