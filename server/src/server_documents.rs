//! The documents the server keeps for itself, under reserved ids derived from their names: the
//! company's `alerts`, the ledger's `journal:{yyyy-mm}`, and each user's `index/{user}`.
//!
//! Their ids have a shape no client makes ([`DocumentId::named`]); the server refuses any
//! client's creation of a document of that shape, so nobody can hold one before the server
//! writes it. Stores written before the shape existed kept these documents under ids anyone
//! could compute: [`repair_legacy_ids`] moves the server's own to their reserved ids at start-up,
//! and removes, with an alert, any a client created there.

use itinera_core::DocumentId;
use itinera_core::engine::ServerEdit;
use itinera_core::model::{AlertRule, AlertSeverity, Alerts, DocumentKind};
use itinera_core::rules::Finding;
use itinera_core::store::{DocumentMeta, DocumentStore, StoreResult, WriteBatch};

/// The company's alerts document.
pub fn alerts_document_id() -> DocumentId {
    DocumentId::named(ALERTS)
}

/// The journal of one period (`2026-11`).
pub fn journal_document_id(period: &str) -> DocumentId {
    DocumentId::named(&journal_name(period))
}

/// The id of a user's index document: derived from the name, so the server and the user's
/// devices agree on it without asking.
pub fn index_document_id(user: &str) -> DocumentId {
    DocumentId::index_of(user)
}

const ALERTS: &str = "alerts";

fn journal_name(period: &str) -> String {
    format!("journal:{period}")
}

/// The names whose legacy ids a store may hold: the alerts, every period's journal from 2000 to
/// 2099, and the index of each of `users`.
fn legacy_names(users: &[String]) -> Vec<String> {
    let mut names = vec![ALERTS.to_owned()];
    for year in 2000..2100 {
        for month in 1..=12 {
            names.push(journal_name(&format!("{year:04}-{month:02}")));
        }
    }
    names.extend(users.iter().map(|user| DocumentId::index_name(user)));
    names
}

/// What the start-up repair did.
#[derive(Debug, Default)]
pub struct Repair {
    /// The writes that move and remove documents; commit them before serving.
    pub batch: WriteBatch,
    /// An alert for each document a client had created at a server's id.
    pub findings: Vec<Finding>,
}

/// Finds the server's documents under their legacy ids: the server's own move to their reserved
/// ids (indexes are rebuilt instead), and those a client created there are removed with an
/// alert naming who.
pub fn repair_legacy_ids(store: &dyn DocumentStore, users: &[String]) -> StoreResult<Repair> {
    let mut repair = Repair::default();
    for name in legacy_names(users) {
        let legacy = DocumentId::legacy_named(&name);
        let Some(meta) = store.meta(legacy)? else {
            continue;
        };
        let reserved = DocumentId::named(&name);
        match &meta.creator {
            Some(user) => {
                tracing::warn!(%legacy, %user, name, "a client held a server document's id; removed");
                repair.findings.push(Finding::new(
                    AlertRule::ReservedIdTaken,
                    AlertSeverity::Critical,
                    legacy,
                    "",
                    format!(
                        "{user} created a document at the id the server kept for {name}; it was \
                         removed and the server keeps {name} under an id only it may create. \
                         Check what the server wrote into it (ledger entries, alerts, index entries)."
                    ),
                ));
            }
            None if !name.starts_with("index/") && store.meta(reserved)?.is_none() => {
                if let Some(bytes) = store.load(legacy)? {
                    let moved = DocumentMeta {
                        incremental_chunks: 0,
                        ..meta.clone()
                    };
                    repair.batch.put_snapshot(reserved, bytes, moved);
                }
                let summary = itinera_core::reports::summary_key(&legacy);
                if let Some(value) = store.value(&summary)? {
                    repair
                        .batch
                        .put_value(&itinera_core::reports::summary_key(&reserved), value);
                }
            }
            None => {}
        }
        repair.batch.delete_document(legacy);
        repair
            .batch
            .delete_value(&itinera_core::reports::summary_key(&legacy));
    }
    Ok(repair)
}

/// The server's edit that raises `findings` in the alerts document (creating it if needed).
pub fn raise_alerts(findings: Vec<Finding>, now: i64) -> ServerEdit {
    ServerEdit::record(move |alerts: &mut Alerts| {
        for finding in findings {
            alerts
                .alerts
                .insert(finding.key.clone(), finding.to_alert(now));
        }
        Ok(true)
    })
    .or_create(DocumentKind::Alerts)
}
