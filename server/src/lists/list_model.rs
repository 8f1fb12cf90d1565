//! The in-memory list model: every document's list row and access scope, kept current from the
//! committed events, so that lists answer without loading a document.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use itinera_core::policy::{DocumentScope, Principal, access};
use itinera_core::sync::Access;
use itinera_core::{DocumentId, DocumentKind};
use tokio::sync::{broadcast, watch};

use super::cell::Cell;
use super::list_entry::ListEntry;
use super::list_kind::ListKind;
use super::list_query::{Cursor, ListQuery};
use super::sort_key::SortKey;

/// How many events a slow subscriber may fall behind before it is told to start over.
const EVENT_BUFFER: usize = 4_096;

/// A document the list model took in: which kind, and who could read it before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentEvent {
    pub id: DocumentId,
    pub kind: Option<DocumentKind>,
    /// The scope before the change (`None` for a new document).
    pub before: Option<DocumentScope>,
    pub after: DocumentScope,
}

impl DocumentEvent {
    /// Whether `principal` could read the document before or after the change: a rep whose
    /// account was handed to a colleague hears of it once more, so the page drops it.
    pub fn concerns(&self, principal: &Principal) -> bool {
        access(principal, &self.after) != Access::None
            || self
                .before
                .as_ref()
                .is_some_and(|scope| access(principal, scope) != Access::None)
    }
}

/// One row of a list page, copied out of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRow {
    pub id: DocumentId,
    pub title: String,
    pub cells: Vec<Cell>,
    /// Per column: the title of the document a reference column names, if the reader may
    /// read that document.
    pub references: Vec<Option<String>>,
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub rows: Vec<ListRow>,
    /// Rows matching the search and filters, on every page.
    pub total: usize,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

type Table = HashMap<DocumentId, ListEntry>;

/// The list model. Cheap to share (`Arc`); reads take a read lock for the length of one pass.
#[derive(Debug)]
pub struct ListModel {
    tables: RwLock<HashMap<DocumentKind, Table>>,
    ready: watch::Sender<bool>,
    events: broadcast::Sender<Arc<DocumentEvent>>,
}

impl Default for ListModel {
    fn default() -> Self {
        Self {
            tables: RwLock::new(HashMap::new()),
            ready: watch::Sender::new(false),
            events: broadcast::Sender::new(EVENT_BUFFER),
        }
    }
}

impl ListModel {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<DocumentKind, Table>> {
        self.tables
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<DocumentKind, Table>> {
        self.tables
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces everything with what a scan of the store found, and marks the model ready.
    pub fn load(&self, entries: Vec<ListEntry>) {
        // Each table is made its final size at once: grown an entry at a time, every doubling
        // would hold the old table and the new one together (at 100,000 accounts, tens of
        // megabytes the allocator then keeps).
        let mut sizes: HashMap<DocumentKind, usize> = HashMap::new();
        for kind in entries.iter().filter_map(|entry| entry.kind) {
            *sizes.entry(kind).or_default() += 1;
        }
        let mut tables: HashMap<DocumentKind, Table> = sizes
            .into_iter()
            .map(|(kind, size)| (kind, Table::with_capacity(size)))
            .collect();
        for entry in entries {
            if let Some(kind) = entry.kind {
                tables.entry(kind).or_default().insert(entry.id, entry);
            }
        }
        *self.write() = tables;
        self.ready.send_replace(true);
    }

    /// Takes in a document's new entry and tells subscribers.
    pub fn upsert(&self, entry: ListEntry) {
        let Some(kind) = entry.kind else {
            return;
        };
        let event = DocumentEvent {
            id: entry.id,
            kind: entry.kind,
            before: None,
            after: entry.scope.clone(),
        };
        let previous = self
            .write()
            .entry(kind)
            .or_default()
            .insert(entry.id, entry);
        // Nobody listening is fine: the send only fails when there are no subscribers.
        let _ = self.events.send(Arc::new(DocumentEvent {
            before: previous.map(|entry| entry.scope),
            ..event
        }));
    }

    /// Waits until the first scan of the store is in.
    pub async fn ready(&self) {
        let mut ready = self.ready.subscribe();
        // Fails only when the sender is gone, and the model owns it.
        let _ = ready.wait_for(|ready| *ready).await;
    }

    /// Every later change, for the event feed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<DocumentEvent>> {
        self.events.subscribe()
    }

    /// The entry the model holds for document `id` of `kind`.
    pub fn entry(&self, kind: DocumentKind, id: &DocumentId) -> Option<ListEntry> {
        self.read().get(&kind)?.get(id).cloned()
    }

    /// How many documents of `kind` the model holds.
    pub fn count(&self, kind: DocumentKind) -> usize {
        self.read().get(&kind).map_or(0, HashMap::len)
    }

    /// The rows of `list` that `principal` may read and `query` selects, sorted; at most
    /// `limit` of them after the query's cursor.
    pub fn list(
        &self,
        principal: &Principal,
        list: ListKind,
        query: &ListQuery,
        limit: usize,
    ) -> ListPage {
        let tables = self.read();
        let Some(table) = tables.get(&list.document_kind()) else {
            return ListPage {
                rows: Vec::new(),
                total: 0,
                next_cursor: None,
            };
        };
        let after = query.cursor.as_ref().map(|cursor| Ranked {
            key: &cursor.key,
            id: cursor.id,
            descending: query.descending,
            entry: None,
        });
        let mut total = 0;
        let mut after_cursor = 0;
        let mut best: BinaryHeap<Ranked<'_>> = BinaryHeap::with_capacity(limit.min(1_024) + 1);
        for entry in table.values() {
            if !selects(principal, query, entry) {
                continue;
            }
            total += 1;
            let ranked = Ranked {
                key: &entry.keys[query.sort],
                id: entry.id,
                descending: query.descending,
                entry: Some(entry),
            };
            if after.as_ref().is_some_and(|after| ranked <= *after) {
                continue;
            }
            after_cursor += 1;
            if best.len() == limit && best.peek().is_some_and(|worst| ranked >= *worst) {
                continue;
            }
            best.push(ranked);
            if best.len() > limit {
                best.pop();
            }
        }
        let ranked = best.into_sorted_vec();
        let next_cursor = (after_cursor > ranked.len())
            .then(|| ranked.last())
            .flatten()
            .map(|last| Cursor {
                key: last.key.clone(),
                id: last.id,
            });
        let rows = ranked
            .iter()
            .filter_map(|ranked| ranked.entry)
            .map(|entry| row_of(&tables, principal, list, entry))
            .collect();
        ListPage {
            rows,
            total,
            next_cursor,
        }
    }
}

/// Whether `entry` is readable by `principal` and passes the query's search and filters.
fn selects(principal: &Principal, query: &ListQuery, entry: &ListEntry) -> bool {
    query
        .filters
        .iter()
        .all(|(column, wanted)| entry.cells[*column].matches(wanted))
        && query
            .search
            .as_deref()
            .is_none_or(|needle| entry.matches_search(needle))
        && access(principal, &entry.scope) != Access::None
}

fn row_of(
    tables: &HashMap<DocumentKind, Table>,
    principal: &Principal,
    list: ListKind,
    entry: &ListEntry,
) -> ListRow {
    let references = list
        .columns()
        .iter()
        .zip(&entry.cells)
        .map(|(column, cell)| {
            let kind = column.reference?;
            let id = DocumentId::parse(cell.as_text()?).ok()?;
            let target = tables.get(&kind)?.get(&id)?;
            (access(principal, &target.scope) != Access::None).then(|| target.title.clone())
        })
        .collect();
    ListRow {
        id: entry.id,
        title: entry.title.clone(),
        cells: entry.cells.clone(),
        references,
    }
}

/// A row's place in the requested order: its sort cell, then its id, so that every row has
/// exactly one place and a cursor never skips or repeats one.
#[derive(Debug)]
struct Ranked<'a> {
    key: &'a SortKey,
    id: DocumentId,
    descending: bool,
    entry: Option<&'a ListEntry>,
}

impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let order = self.key.cmp(other.key).then(self.id.cmp(&other.id));
        if self.descending {
            order.reverse()
        } else {
            order
        }
    }
}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked<'_> {}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use itinera_core::Document;
    use itinera_core::model::Account;
    use itinera_core::policy::{Grant, Role};

    use super::*;

    fn account(n: u8, name: &str, owner: &str, territory: &str) -> ListEntry {
        let record = Account {
            name: name.into(),
            owner: owner.into(),
            territory: territory.into(),
            ..Default::default()
        };
        let doc = Document::create(ActorId::from([1u8; 16]), 0, &record).expect("create");
        ListEntry::describe(DocumentId::from_bytes([n; 16]), doc.automerge(), None)
            .expect("describe")
    }

    fn model() -> ListModel {
        let model = ListModel::default();
        let names = ["delta", "Alpha", "charlie", "bravo", "echo", "alpha"];
        model.load(
            names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let owner = if i % 2 == 0 { "sam" } else { "sofia" };
                    account(
                        i as u8 + 1,
                        name,
                        owner,
                        if i < 3 { "north" } else { "south" },
                    )
                })
                .collect(),
        );
        model
    }

    fn names(page: &ListPage) -> Vec<String> {
        page.rows.iter().map(|row| row.title.clone()).collect()
    }

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        ListQuery::parse(ListKind::Accounts, pairs.iter().copied()).expect("query")
    }

    #[test]
    fn pages_follow_each_other_without_gaps_or_repeats_in_both_orders() {
        let model = model();
        let office = Principal::new("olga", Role::Office);
        for order in ["asc", "desc"] {
            let mut seen = Vec::new();
            let mut cursor = String::new();
            loop {
                let q = query(&[("order", order), ("limit", "2"), ("cursor", &cursor)]);
                let page = model.list(&office, ListKind::Accounts, &q, q.limit);
                assert_eq!(page.total, 6);
                seen.extend(names(&page));
                match page.next_cursor {
                    Some(next) => cursor = next.encode(),
                    None => break,
                }
            }
            let mut expected = vec!["Alpha", "alpha", "bravo", "charlie", "delta", "echo"];
            if order == "desc" {
                expected.reverse();
            }
            assert_eq!(seen, expected, "{order}");
        }
    }

    #[test]
    fn a_rep_sees_their_own_and_their_territorys_accounts_only() {
        let model = model();
        let sam = Principal::new("sam", Role::Sales);
        let page = model.list(&sam, ListKind::Accounts, &query(&[]), 50);
        assert_eq!(names(&page), vec!["charlie", "delta", "echo"]);
        let north = Principal::new("sam", Role::Sales).with_grant(Grant::Territory("north".into()));
        let page = model.list(&north, ListKind::Accounts, &query(&[]), 50);
        assert_eq!(names(&page), vec!["Alpha", "charlie", "delta", "echo"]);
        let guide = Principal::new("gus", Role::Guide);
        assert_eq!(
            model
                .list(&guide, ListKind::Accounts, &query(&[]), 50)
                .total,
            0
        );
    }

    #[test]
    fn search_and_filters_narrow_the_list_and_a_change_is_heard() {
        let model = model();
        let office = Principal::new("olga", Role::Office);
        let page = model.list(&office, ListKind::Accounts, &query(&[("q", "ALPH")]), 50);
        assert_eq!(names(&page), vec!["Alpha", "alpha"]);
        let q = query(&[("territory", "south"), ("owner", "sofia")]);
        assert_eq!(
            names(&model.list(&office, ListKind::Accounts, &q, 50)),
            vec!["alpha", "bravo"]
        );
        let mut events = model.subscribe();
        model.upsert(account(4, "bravo", "sam", "north"));
        let event = events.try_recv().expect("an event");
        assert_eq!(
            event.before.as_ref().and_then(|s| s.owner.as_deref()),
            Some("sofia")
        );
        assert!(event.concerns(&Principal::new("sofia", Role::Sales)));
        assert!(!event.concerns(&Principal::new("sara", Role::Sales)));
        assert_eq!(
            names(&model.list(&office, ListKind::Accounts, &q, 50)),
            vec!["alpha"]
        );
    }
}
