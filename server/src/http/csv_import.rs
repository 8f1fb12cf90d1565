//! CSV files as a CRM or a spreadsheet exports them, turned into records: accounts with their
//! contacts (one row per contact, the account's columns repeated), or leads (one row each).
//!
//! A column mapping says which header feeds which field (`name` ← `Account Name`); without one
//! the headers are matched against the usual names. Every row is checked before anything is
//! written, and each bad row is reported with its line number and the reason. Rows are keyed by
//! an external reference (the record's id in the old system), which makes an import idempotent:
//! each record becomes one JSON merge patch, and the patch's fingerprint is kept with the id of
//! the document it made, so a second import of the same file finds every record unchanged.
//!
//! ```
//! use itinera_server::http::{ImportKind, ImportPlan};
//!
//! let csv = "Account ID,Account Name,Email\nA-1,Lakeside Schools,ilona@lakeside.example\nA-2,,x@y.example\n";
//! let plan = ImportPlan::build(ImportKind::Accounts, csv, None, &|_: &str| true).unwrap();
//! assert_eq!(plan.items.len(), 1);
//! assert_eq!(plan.bad_rows[0].line, 3);
//! assert_eq!(plan.items[0].patch["contacts"].as_object().unwrap().len(), 1);
//! ```

use std::collections::BTreeMap;

use itinera_core::Document;
use itinera_core::model::{Account, AccountKind, Contact, LeadStatus};
use itinera_core::rules::{normalise_email, normalise_phone};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

use crate::json_view::document_to_json;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Accounts,
    Leads,
}

impl ImportKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "accounts" => Some(Self::Accounts),
            "leads" => Some(Self::Leads),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::Leads => "leads",
        }
    }

    /// The document kind the records become.
    pub fn document_kind(self) -> itinera_core::DocumentKind {
        match self {
            Self::Accounts => itinera_core::DocumentKind::Account,
            Self::Leads => itinera_core::DocumentKind::Lead,
        }
    }

    /// The fields a column can feed, with the header names each is guessed from (compared
    /// lower-case without spaces or punctuation).
    pub fn fields(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Self::Accounts => &[
                (
                    "external_ref",
                    &[
                        "accountid",
                        "externalid",
                        "externalref",
                        "externalreference",
                        "customerid",
                        "companyid",
                        "id",
                    ],
                ),
                (
                    "name",
                    &[
                        "accountname",
                        "name",
                        "companyname",
                        "company",
                        "organisation",
                        "organization",
                        "customer",
                    ],
                ),
                ("account_kind", &["accounttype", "type", "kind"]),
                ("territory", &["territory", "salesterritory", "region"]),
                ("owner", &["accountowner", "owner", "salesrep", "rep"]),
                (
                    "vat_number",
                    &["vatnumber", "vat", "taxid", "taxnumber", "adoszam"],
                ),
                (
                    "address.line1",
                    &["billingstreet", "street", "address", "addressline1"],
                ),
                ("address.city", &["billingcity", "city", "town"]),
                (
                    "address.postcode",
                    &[
                        "billingpostalcode",
                        "postalcode",
                        "postcode",
                        "zip",
                        "zipcode",
                    ],
                ),
                ("address.country", &["billingcountry", "country"]),
                ("tags", &["tags", "labels"]),
                ("contact.external_ref", &["contactid"]),
                (
                    "contact.first_name",
                    &["firstname", "contactfirstname", "givenname"],
                ),
                (
                    "contact.last_name",
                    &["lastname", "contactlastname", "surname", "familyname"],
                ),
                ("contact.title", &["title", "jobtitle", "position"]),
                ("contact.email", &["email", "emailaddress", "contactemail"]),
                (
                    "contact.phone",
                    &[
                        "phone",
                        "phonenumber",
                        "mobile",
                        "telephone",
                        "contactphone",
                    ],
                ),
                ("contact.language", &["language", "preferredlanguage"]),
            ],
            Self::Leads => &[
                (
                    "external_ref",
                    &[
                        "leadid",
                        "externalid",
                        "externalref",
                        "externalreference",
                        "id",
                    ],
                ),
                ("name", &["name", "fullname", "leadname", "contactname"]),
                ("first_name", &["firstname", "givenname"]),
                ("last_name", &["lastname", "surname", "familyname"]),
                (
                    "company",
                    &[
                        "company",
                        "companyname",
                        "organisation",
                        "organization",
                        "account",
                    ],
                ),
                ("email", &["email", "emailaddress"]),
                ("phone", &["phone", "phonenumber", "mobile", "telephone"]),
                ("source", &["leadsource", "source"]),
                ("status", &["leadstatus", "status"]),
                ("owner", &["leadowner", "owner"]),
                ("campaign", &["campaign", "campaignid"]),
                ("notes", &["notes", "description", "comments", "comment"]),
            ],
        }
    }
}

/// Why a whole file was refused (a bad row is reported, not refused).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not CSV: {0}")]
    NotCsv(String),
    #[error("the file has no header row")]
    NoHeader,
    #[error("{kind} have no field {field:?}")]
    UnknownField { kind: &'static str, field: String },
    #[error("the mapping names column {column:?} for {field}, and the file has no such column")]
    UnknownColumn { field: String, column: String },
    #[error("no column is mapped to {0}, which every record needs")]
    Unmapped(&'static str),
}

/// A row that will not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRow {
    /// The line of the file (the header is line 1).
    pub line: usize,
    pub reason: String,
}

/// One record to write: its external reference, the lines it came from and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportItem {
    pub external_ref: String,
    pub lines: Vec<usize>,
    /// A JSON merge patch of the record's fields.
    pub patch: Map<String, Json>,
}

impl ImportItem {
    /// A short fingerprint of the patch: equal patches, equal fingerprints.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(Json::Object(self.patch.clone()).to_string().as_bytes());
        bs58::encode(&digest[..16]).into_string()
    }
}

/// A checked file: the records to write and the rows left out.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportPlan {
    pub kind: ImportKind,
    pub headers: Vec<String>,
    /// Field → column, as used.
    pub mapping: BTreeMap<String, String>,
    /// Data rows in the file.
    pub rows: usize,
    pub items: Vec<ImportItem>,
    pub bad_rows: Vec<BadRow>,
}

/// A data row as the mapped fields see it.
struct Row<'a> {
    line: usize,
    values: BTreeMap<&'a str, String>,
}

impl Row<'_> {
    fn get(&self, field: &str) -> &str {
        self.values.get(field).map_or("", |value| value.trim())
    }
}

fn normalise_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The usual header of each field, where the file has one.
pub fn guess_mapping(kind: ImportKind, headers: &[String]) -> BTreeMap<String, String> {
    let mut taken = vec![false; headers.len()];
    let mut mapping = BTreeMap::new();
    for (field, names) in kind.fields() {
        let found = names.iter().find_map(|name| {
            headers
                .iter()
                .enumerate()
                .find(|(i, header)| !taken[*i] && normalise_header(header) == *name)
        });
        if let Some((i, header)) = found {
            taken[i] = true;
            mapping.insert((*field).to_owned(), header.clone());
        }
    }
    mapping
}

impl ImportPlan {
    /// Reads and checks `csv`. `mapping` is field → column (guessed when `None`); `may_own`
    /// tells whether the importing user may give a record to an owner (a user name).
    pub fn build(
        kind: ImportKind,
        csv: &str,
        mapping: Option<BTreeMap<String, String>>,
        may_own: &dyn Fn(&str) -> bool,
    ) -> Result<Self, ImportError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::Headers)
            .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|err| ImportError::NotCsv(err.to_string()))?
            .iter()
            .map(str::to_owned)
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(ImportError::NoHeader);
        }
        let mapping = match mapping {
            Some(mapping) => check_mapping(kind, &headers, mapping)?,
            None => guess_mapping(kind, &headers),
        };
        for required in ["external_ref"] {
            if !mapping.contains_key(required) {
                return Err(ImportError::Unmapped(required));
            }
        }
        let columns: Vec<(&str, usize)> = mapping
            .iter()
            .filter_map(|(field, column)| {
                let index = headers.iter().position(|h| h == column)?;
                Some((field.as_str(), index))
            })
            .collect();
        let mut plan = Self {
            kind,
            headers: headers.clone(),
            mapping: mapping.clone(),
            rows: 0,
            items: Vec::new(),
            bad_rows: Vec::new(),
        };
        let mut rows = Vec::new();
        for record in reader.records() {
            plan.rows += 1;
            let record = match record {
                Ok(record) => record,
                Err(err) => {
                    let line = err.position().map_or(plan.rows + 1, |p| p.line() as usize);
                    plan.bad_rows.push(BadRow {
                        line,
                        reason: format!("not readable as CSV: {err}"),
                    });
                    continue;
                }
            };
            let line = record
                .position()
                .map_or(plan.rows + 1, |p| p.line() as usize);
            if record.iter().all(|value| value.trim().is_empty()) {
                plan.rows -= 1;
                continue;
            }
            let values = columns
                .iter()
                .map(|(field, index)| (*field, record.get(*index).unwrap_or("").to_owned()))
                .collect();
            rows.push(Row { line, values });
        }
        match kind {
            ImportKind::Accounts => plan.add_accounts(&rows, may_own),
            ImportKind::Leads => plan.add_leads(&rows, may_own),
        }
        plan.bad_rows.sort_by_key(|bad| bad.line);
        Ok(plan)
    }

    fn refuse(&mut self, line: usize, reason: impl Into<String>) {
        self.bad_rows.push(BadRow {
            line,
            reason: reason.into(),
        });
    }

    fn add_accounts(&mut self, rows: &[Row<'_>], may_own: &dyn Fn(&str) -> bool) {
        let mut by_ref: BTreeMap<String, usize> = BTreeMap::new();
        for row in rows {
            let checked = account_fields(row, may_own).and_then(|account| {
                let contact = contact_fields(row)?;
                Ok((account, contact))
            });
            let (account, contact) = match checked {
                Ok(fields) => fields,
                Err(reason) => {
                    self.refuse(row.line, reason);
                    continue;
                }
            };
            let external_ref = row.get("external_ref").to_owned();
            let index = match by_ref.get(&external_ref) {
                Some(index) => *index,
                None => {
                    by_ref.insert(external_ref.clone(), self.items.len());
                    self.items.push(ImportItem {
                        external_ref,
                        lines: Vec::new(),
                        patch: account,
                    });
                    self.items.len() - 1
                }
            };
            let item = &mut self.items[index];
            item.lines.push(row.line);
            if let Some((key, contact)) = contact {
                if let Some(Json::Object(contacts)) = item.patch.get_mut("contacts") {
                    contacts.insert(key, contact);
                }
            }
        }
    }

    fn add_leads(&mut self, rows: &[Row<'_>], may_own: &dyn Fn(&str) -> bool) {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for row in rows {
            let external_ref = row.get("external_ref").to_owned();
            if let Some(first) = seen.get(&external_ref) {
                self.refuse(
                    row.line,
                    format!("external reference {external_ref:?} is already on line {first}"),
                );
                continue;
            }
            match lead_fields(row, may_own) {
                Ok(patch) => {
                    seen.insert(external_ref.clone(), row.line);
                    self.items.push(ImportItem {
                        external_ref,
                        lines: vec![row.line],
                        patch,
                    });
                }
                Err(reason) => self.refuse(row.line, reason),
            }
        }
    }
}

fn check_mapping(
    kind: ImportKind,
    headers: &[String],
    mapping: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ImportError> {
    let mut used = BTreeMap::new();
    for (field, column) in mapping {
        if column.is_empty() {
            continue;
        }
        if !kind.fields().iter().any(|(known, _)| *known == field) {
            return Err(ImportError::UnknownField {
                kind: kind.name(),
                field,
            });
        }
        if !headers.contains(&column) {
            return Err(ImportError::UnknownColumn { field, column });
        }
        used.insert(field, column);
    }
    Ok(used)
}

fn needs_ref(row: &Row<'_>) -> Result<(), String> {
    if row.get("external_ref").is_empty() {
        return Err("no external reference: the record could not be found again".into());
    }
    Ok(())
}

fn owner(row: &Row<'_>, may_own: &dyn Fn(&str) -> bool) -> Result<Option<String>, String> {
    let owner = row.get("owner");
    if owner.is_empty() {
        return Ok(None);
    }
    if !may_own(owner) {
        return Err(format!(
            "the owner {owner:?} is not a user you may import records for"
        ));
    }
    Ok(Some(owner.to_owned()))
}

fn set_of(members: impl IntoIterator<Item = String>) -> Json {
    Json::Object(members.into_iter().map(|m| (m, Json::Bool(true))).collect())
}

fn account_fields(
    row: &Row<'_>,
    may_own: &dyn Fn(&str) -> bool,
) -> Result<Map<String, Json>, String> {
    needs_ref(row)?;
    let name = row.get("name");
    if name.is_empty() {
        return Err("the account has no name".into());
    }
    let mut patch = Map::new();
    patch.insert("name".into(), json!(name));
    let kind = row.get("account_kind").to_lowercase();
    if !kind.is_empty() {
        let kind = AccountKind::parse(&kind).ok_or_else(|| {
            format!("unknown account type {kind:?}: customer, supplier or partner")
        })?;
        patch.insert("account_kind".into(), json!(kind.as_str()));
    }
    for field in ["territory", "vat_number"] {
        if !row.get(field).is_empty() {
            patch.insert(field.into(), json!(row.get(field)));
        }
    }
    if let Some(owner) = owner(row, may_own)? {
        patch.insert("owner".into(), json!(owner));
    }
    let mut address = Map::new();
    for part in ["line1", "city", "postcode", "country"] {
        let value = row.get(&format!("address.{part}")).to_owned();
        if !value.is_empty() {
            address.insert(part.into(), json!(value));
        }
    }
    if !address.is_empty() {
        patch.insert("address".into(), Json::Object(address));
    }
    let tags: Vec<String> = row
        .get("tags")
        .split([';', ','])
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(str::to_owned)
        .collect();
    if !tags.is_empty() {
        patch.insert("tags".into(), set_of(tags));
    }
    patch.insert("contacts".into(), Json::Object(Map::new()));
    Ok(patch)
}

/// A contact with every field at its default, as JSON: a new contact must be whole. Made once
/// (from the record type, so it follows the model) and copied for each row.
fn empty_contact() -> Map<String, Json> {
    static EMPTY: std::sync::OnceLock<Map<String, Json>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(default_contact).clone()
}

fn default_contact() -> Map<String, Json> {
    let mut account = Account::default();
    account.contacts.insert("new".into(), Contact::default());
    let doc = Document::create(automerge::ActorId::from([0u8; 16]), 0, &account);
    match doc.map(|doc| document_to_json(doc.automerge())) {
        Ok(Json::Object(mut root)) => match root
            .remove("contacts")
            .and_then(|mut contacts| contacts.get_mut("new").map(Json::take))
        {
            Some(Json::Object(contact)) => contact,
            _ => Map::new(),
        },
        _ => Map::new(),
    }
}

/// The row's contact, keyed by its external reference (or its e-mail address or name), so a
/// second import finds the same contact.
fn contact_fields(row: &Row<'_>) -> Result<Option<(String, Json)>, String> {
    let first = row.get("contact.first_name");
    let last = row.get("contact.last_name");
    let email = row.get("contact.email");
    let phone = row.get("contact.phone");
    if [first, last, email, phone].iter().all(|v| v.is_empty()) {
        return Ok(None);
    }
    let mut contact = empty_contact();
    contact.insert("first_name".into(), json!(first));
    contact.insert("last_name".into(), json!(last));
    for field in ["title", "language"] {
        let value = row.get(&format!("contact.{field}"));
        if !value.is_empty() {
            contact.insert(field.into(), json!(value));
        }
    }
    let email = if email.is_empty() {
        None
    } else {
        let normal =
            normalise_email(email).ok_or_else(|| format!("{email:?} is not an e-mail address"))?;
        contact.insert("emails".into(), set_of([normal.clone()]));
        Some(normal)
    };
    if !phone.is_empty() {
        let normal =
            normalise_phone(phone).ok_or_else(|| format!("{phone:?} is not a phone number"))?;
        contact.insert("phones".into(), set_of([normal]));
    }
    let identity = match row.get("contact.external_ref") {
        "" => email.unwrap_or_else(|| format!("{first} {last}").to_lowercase()),
        reference => reference.to_owned(),
    };
    let key = format!(
        "ext-{}",
        bs58::encode(&Sha256::digest(identity.as_bytes())[..8]).into_string()
    );
    Ok(Some((key, Json::Object(contact))))
}

fn lead_fields(row: &Row<'_>, may_own: &dyn Fn(&str) -> bool) -> Result<Map<String, Json>, String> {
    needs_ref(row)?;
    let joined = format!("{} {}", row.get("first_name"), row.get("last_name"));
    let name = match row.get("name") {
        "" => joined.trim().to_owned(),
        name => name.to_owned(),
    };
    let company = row.get("company");
    if name.is_empty() && company.is_empty() {
        return Err("the lead has neither a name nor a company".into());
    }
    let mut patch = Map::new();
    patch.insert("name".into(), json!(name));
    patch.insert("company".into(), json!(company));
    let email = row.get("email");
    if !email.is_empty() {
        let normal =
            normalise_email(email).ok_or_else(|| format!("{email:?} is not an e-mail address"))?;
        patch.insert("email".into(), json!(normal));
    }
    let phone = row.get("phone");
    if !phone.is_empty() {
        let normal =
            normalise_phone(phone).ok_or_else(|| format!("{phone:?} is not a phone number"))?;
        patch.insert("phone".into(), json!(normal));
    }
    let status = row.get("status").to_lowercase();
    if !status.is_empty() {
        let status = LeadStatus::parse(&status).ok_or_else(|| {
            let known: Vec<&str> = LeadStatus::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown lead status {status:?}: {}", known.join(", "))
        })?;
        patch.insert("status".into(), json!(status.as_str()));
    }
    for field in ["source", "campaign", "notes"] {
        if !row.get(field).is_empty() {
            patch.insert(field.into(), json!(row.get(field)));
        }
    }
    if let Some(owner) = owner(row, may_own)? {
        patch.insert("owner".into(), json!(owner));
    }
    Ok(patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(name: &str) -> bool {
        ["sam", "sofia"].contains(&name)
    }

    #[test]
    fn rows_of_one_account_become_one_record_with_a_contact_each() {
        let csv = "Account ID,Account Name,Type,Account Owner,Billing City,First Name,Last Name,Email,Phone\n\
                   A-1,Lakeside Schools,Customer,sam,Budapest,Ilona,Kovács,Ilona@Lakeside.example,+36 1 234 5678\n\
                   A-1,Lakeside Schools,Customer,sam,Budapest,Péter,Nagy,peter@lakeside.example,\n\
                   A-2,Harbour Travel,Partner,nobody,Szeged,,,,\n\
                   A-3,Riverside Choir,club,,,,,,\n\
                   A-4,Bad Mail,,,,Eva,Kis,not-an-address,\n";
        let plan = ImportPlan::build(ImportKind::Accounts, csv, None, &users).expect("plan");
        assert_eq!(plan.rows, 5);
        assert_eq!(plan.mapping["owner"], "Account Owner");
        assert_eq!(plan.items.len(), 1);
        let lakeside = &plan.items[0];
        assert_eq!(lakeside.lines, vec![2, 3]);
        assert_eq!(lakeside.patch["address"]["city"], "Budapest");
        let contacts = lakeside.patch["contacts"].as_object().expect("contacts");
        assert_eq!(contacts.len(), 2);
        assert!(
            contacts
                .values()
                .any(|c| c["phones"].get("+3612345678").is_some())
        );
        let reasons: Vec<(usize, &str)> = plan
            .bad_rows
            .iter()
            .map(|bad| (bad.line, bad.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].1.contains("\"nobody\" is not a user"));
        assert!(reasons[1].1.contains("unknown account type \"club\""));
        assert!(
            reasons[2]
                .1
                .contains("\"not-an-address\" is not an e-mail address")
        );
    }

    #[test]
    fn an_imported_account_patch_makes_a_whole_record() {
        let csv = "Account ID,Account Name,First Name,Last Name,Email\nA-1,Lakeside,Ilona,Kovács,ilona@lakeside.example\n";
        let plan = ImportPlan::build(ImportKind::Accounts, csv, None, &users).expect("plan");
        let mut doc = itinera_core::document::new_record(
            itinera_core::DocumentKind::Account,
            automerge::ActorId::from([1u8; 16]),
            0,
        )
        .expect("template");
        crate::json_view::apply_patch(&mut doc, &automerge::ROOT, &plan.items[0].patch, true)
            .expect("patch");
        itinera_core::document::validate(&doc).expect("a valid account");
        let account: Account = autosurgeon::hydrate(&doc).expect("hydrates");
        let contact = account.contacts.values().next().expect("a contact");
        assert_eq!(contact.last_name, "Kovács");
        assert!(contact.emails.contains("ilona@lakeside.example"));
    }

    #[test]
    fn the_same_file_gives_the_same_fingerprints_and_a_changed_field_another() {
        let csv = "Lead ID,First Name,Last Name,Company,Lead Status\nL-1,Márta,Szabó,Riverside Choir,New\nL-1,Dup,Row,X,New\nL-2,,,,New\n";
        let plan = ImportPlan::build(ImportKind::Leads, csv, None, &users).expect("plan");
        assert_eq!(plan.items.len(), 1);
        assert_eq!(plan.items[0].patch["name"], "Márta Szabó");
        assert_eq!(plan.bad_rows.len(), 2);
        let again = ImportPlan::build(ImportKind::Leads, csv, None, &users).expect("plan");
        assert_eq!(plan.items[0].fingerprint(), again.items[0].fingerprint());
        let changed = csv.replace("Riverside Choir", "Riverside Singers");
        let changed = ImportPlan::build(ImportKind::Leads, &changed, None, &users).expect("plan");
        assert_ne!(plan.items[0].fingerprint(), changed.items[0].fingerprint());
    }

    #[test]
    fn a_mapping_must_name_real_fields_and_columns() {
        let csv = "Ref,Org\nA-1,Lakeside\n";
        let map = |pairs: &[(&str, &str)]| {
            Some(
                pairs
                    .iter()
                    .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
                    .collect(),
            )
        };
        let plan = ImportPlan::build(
            ImportKind::Accounts,
            csv,
            map(&[("external_ref", "Ref"), ("name", "Org")]),
            &users,
        )
        .expect("plan");
        assert_eq!(plan.items[0].patch["name"], "Lakeside");
        assert!(matches!(
            ImportPlan::build(ImportKind::Accounts, csv, map(&[("salary", "Org")]), &users),
            Err(ImportError::UnknownField { .. })
        ));
        assert!(matches!(
            ImportPlan::build(
                ImportKind::Accounts,
                csv,
                map(&[("name", "Missing")]),
                &users
            ),
            Err(ImportError::UnknownColumn { .. })
        ));
        assert_eq!(
            ImportPlan::build(ImportKind::Accounts, csv, map(&[("name", "Org")]), &users),
            Err(ImportError::Unmapped("external_ref"))
        );
    }
}
