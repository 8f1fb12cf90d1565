//! Who may read and write what, tried for real: a user of every role reads and writes a document
//! of every kind, over the sync protocol and over the REST API, for each relation the user can
//! have to it (their own, in their grants, neither), and every token that must not work is tried.
//!
//! The expected table below is written from DOMAIN.md, independently of the policy code. The
//! observed table is rendered into `server/ACCESS.md`: the test fails if the file differs from
//! what the server did, so the documentation cannot drift from behaviour. After a deliberate
//! change of the rules, `ITINERA_BLESS=1` rewrites the file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, WriteBatch};
use itinera_core::sync::Event;
use itinera_core::{DocumentId, DocumentKind};
use itinera_tests::device::{ConnectError, Device};
use itinera_tests::server::{Backend, DataDir, TestServer, http};

const WAIT: Duration = Duration::from_secs(30);

/// A user's relation to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Relation {
    /// The user owns it: the account's or lead's owner, the booking's rep, the ticket's
    /// assignee, the invoice's or generic document's creator, the stock's custodian, the
    /// employee record's user, the index's subject.
    Own,
    /// It is in the user's grants: a territory (accounts), a departure (departures, field logs),
    /// a stock location (stock, transfers); for generic documents, shared with the user.
    Granted,
    /// Neither.
    Other,
}

impl Relation {
    fn label(self) -> &'static str {
        match self {
            Relation::Own => "own",
            Relation::Granted => "granted",
            Relation::Other => "other",
        }
    }
}

/// What a user may do with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allowed {
    Write,
    Read,
    Nothing,
}

impl Allowed {
    fn cell(self) -> &'static str {
        match self {
            Allowed::Write => "read, write",
            Allowed::Read => "read",
            Allowed::Nothing => "—",
        }
    }
}

const ROLES: [(&str, &str); 4] = [
    ("ada", "admin"),
    ("olga", "office"),
    ("sam", "sales"),
    ("gus", "guide"),
];

/// A document kind in the table: an Itinera kind, or `None` for generic documents.
type Kind = Option<DocumentKind>;

fn kind_label(kind: Kind) -> &'static str {
    kind.map_or("generic", |kind| kind.as_str())
}

/// The relations worth trying for a kind: where ownership or grants change the answer.
fn relations(kind: Kind) -> &'static [Relation] {
    use DocumentKind as K;
    use Relation::*;
    match kind {
        None => &[Own, Granted, Other],
        Some(K::Account) | Some(K::Stock) => &[Own, Granted, Other],
        Some(K::Lead | K::Booking | K::Invoice | K::Ticket | K::Employee | K::Index) => {
            &[Own, Other]
        }
        Some(K::Departure | K::FieldLog | K::Transfer | K::Manifest) => &[Granted, Other],
        Some(_) => &[Other],
    }
}

/// The rules of DOMAIN.md, written out: what `role` may do with a `kind` document it stands in
/// `relation` to.
fn expected(role: &str, kind: Kind, relation: Relation) -> Allowed {
    use Allowed::*;
    use DocumentKind as K;
    use Relation::*;
    let Some(kind) = kind else {
        // Generic documents: their creator's and whoever they are shared with; admins see all.
        return if role == "admin" || relation != Other {
            Write
        } else {
            Nothing
        };
    };
    match (role, kind) {
        // Head office: everything, but the indexes and the alerts are the server's to write
        // (office resolves alerts through the API, which stamps who and when; of the ledger,
        // office writes only the lock of a period).
        ("admin" | "office", K::Index | K::Alerts | K::Manifest) => Read,
        ("admin" | "office", _) => Write,
        // Sales reps: their customers and sales; the catalog, departures and campaigns to sell.
        ("sales", K::Catalog | K::Departure | K::Campaign) => Read,
        ("sales", K::Account) => match relation {
            Own => Write,
            Granted => Read,
            Other => Nothing,
        },
        ("sales", K::Lead | K::Booking | K::Invoice | K::Ticket) if relation == Own => Write,
        ("sales" | "guide", K::Index) if relation == Own => Read,
        // Their own copy of the alerts about their records.
        ("sales" | "guide", K::Alerts) if relation == Own => Read,
        ("sales", _) => Nothing,
        // Guides: their departures and their passengers (read; no rep reads the passengers),
        // field logs and kits (write), their employee record; assigned, not granted, is the
        // same (the authority scenarios check it).
        ("guide", K::Departure | K::Manifest) if relation == Granted => Read,
        ("guide", K::FieldLog | K::Transfer) if relation == Granted => Write,
        ("guide", K::Stock) if relation != Other => Write,
        ("guide", K::Employee) if relation == Own => Read,
        ("guide", _) => Nothing,
        _ => unreachable!("no role {role}"),
    }
}

fn kinds() -> Vec<Kind> {
    DocumentKind::ALL
        .iter()
        .copied()
        .map(Some)
        .chain([None])
        .collect()
}

/// The ids the scope of the granted documents points at.
struct Grants {
    departure: DocumentId,
    location: DocumentId,
}

fn id_for(kind: Kind, relation: Relation, user: &str) -> DocumentId {
    let kind_index = kind
        .and_then(|kind| DocumentKind::ALL.iter().position(|k| *k == kind))
        .unwrap_or(DocumentKind::ALL.len());
    let user_index = ROLES.iter().position(|(u, _)| *u == user).unwrap_or(9);
    let bytes = [
        u8::try_from(kind_index).unwrap_or(0),
        relation as u8,
        u8::try_from(user_index).unwrap_or(9),
        0x5c,
        0x5c,
        0x5c,
        0x5c,
        0x5c,
        0x5c,
        0x5c,
    ];
    DocumentId::new_v7(1_764_400_000_000 + u64::from(bytes[0]), bytes)
}

/// The document of `kind` standing in `relation` to `user` (for `Own`) or to every user.
fn build(
    kind: Kind,
    relation: Relation,
    user: &str,
    grants: &Grants,
) -> (AutoCommit, Option<String>) {
    let stranger = "zed";
    let owner = if relation == Relation::Own {
        user
    } else {
        stranger
    };
    let actor = ActorId::from([0x33; 16]);
    let Some(kind) = kind else {
        let mut doc = AutoCommit::new().with_actor(actor);
        doc.put(ROOT, "title", "shared notes").expect("put");
        doc.commit();
        return (doc, Some(owner.to_owned()));
    };
    let mut doc =
        itinera_core::document::new_record(kind, actor, 1_764_400_000_000).expect("record");
    let mut put = |field: &str, value: String| doc.put(ROOT, field, value).expect("put");
    let granted = relation == Relation::Granted;
    match kind {
        DocumentKind::Account => {
            put("owner", owner.into());
            put("territory", if granted { "north" } else { "south" }.into());
        }
        DocumentKind::Lead => put("owner", owner.into()),
        DocumentKind::Booking => put("rep", owner.into()),
        DocumentKind::Ticket => put("assignee", owner.into()),
        DocumentKind::Employee => put("user", owner.into()),
        DocumentKind::Index => put("user", owner.into()),
        DocumentKind::Stock if relation == Relation::Own => put("custodian", owner.into()),
        DocumentKind::FieldLog | DocumentKind::Manifest => put(
            "departure",
            if granted {
                grants.departure.to_string()
            } else {
                id_for(Some(DocumentKind::Departure), Relation::Other, "").to_string()
            },
        ),
        DocumentKind::Transfer => {
            let end = if granted {
                grants.location
            } else {
                id_for(Some(DocumentKind::Stock), Relation::Other, "")
            };
            put("from", end.to_string());
            put(
                "to",
                id_for(Some(DocumentKind::Stock), Relation::Other, "").to_string(),
            );
        }
        _ => {}
    }
    doc.commit();
    (doc, Some(owner.to_owned()))
}

/// Every (kind, relation, user-or-everyone) document, keyed by what the table needs.
type Documents = BTreeMap<(usize, Relation, &'static str), DocumentId>;

fn document_for(documents: &Documents, kind: Kind, relation: Relation, user: &str) -> DocumentId {
    let index = kinds().iter().position(|k| *k == kind).expect("kind");
    let who = if relation == Relation::Own { user } else { "" };
    *documents
        .iter()
        .find(|((k, r, u), _)| *k == index && *r == relation && *u == who)
        .map(|(_, id)| id)
        .expect("document")
}

/// Writes every document straight into the store of the stopped server.
fn seed(store: &dyn DocumentStore) -> Documents {
    let grants = Grants {
        departure: id_for(Some(DocumentKind::Departure), Relation::Granted, ""),
        location: id_for(Some(DocumentKind::Stock), Relation::Granted, ""),
    };
    let mut batch = WriteBatch::new();
    let mut documents = Documents::new();
    for (index, kind) in kinds().into_iter().enumerate() {
        for &relation in relations(kind) {
            let users: Vec<&'static str> = if relation == Relation::Own {
                ROLES.iter().map(|(user, _)| *user).collect()
            } else {
                vec![""]
            };
            for user in users {
                let id = id_for(kind, relation, user);
                let (mut doc, owner) = build(kind, relation, user, &grants);
                // Written as stores did before the metadata kept scopes and titles (shares in
                // their own table): the server describes them at start.
                let meta = DocumentMeta {
                    kind: kind.map(|kind| kind.as_str().to_owned()),
                    creator: owner,
                    heads: doc.get_heads(),
                    ..DocumentMeta::default()
                };
                batch.put_snapshot(id, doc.save(), meta);
                if kind.is_none() && relation == Relation::Granted {
                    let everyone: Vec<&str> = ROLES.iter().map(|(user, _)| *user).collect();
                    batch.put_value(
                        &format!("share:{id}"),
                        serde_json::to_vec(&everyone).expect("json"),
                    );
                }
                documents.insert((index, relation, user), id);
            }
        }
    }
    store
        .commit(batch, Durability::Immediate)
        .expect("seed documents");
    documents
}

/// A change that whoever may write a document of `kind` may make (a field of the record that
/// is neither the server's nor set once), as a JSON merge patch: documents of a kind refuse
/// fields the kind does not define. `tag` makes each probe differ from the ones before it (an
/// equal value would change nothing).
fn probe(kind: Kind, tag: &str) -> serde_json::Value {
    use DocumentKind as K;
    let Some(kind) = kind else {
        return serde_json::json!({ "access_probe": tag });
    };
    let number = tag
        .bytes()
        .fold(1i64, |n, b| n.wrapping_mul(31).wrapping_add(i64::from(b)));
    match kind {
        K::Catalog => serde_json::json!({ "items": { tag: {
            "sku": "P-1", "name": "Probe", "unit": "piece", "category": "probes",
            "reorder_points": {}, "tags": {}, "archived_at": null,
        } } }),
        K::Stock | K::Employee | K::Account | K::Lead | K::Campaign => {
            serde_json::json!({ "name": tag })
        }
        K::Transfer => serde_json::json!({ "shipped_at": number }),
        K::PurchaseOrder | K::Hr => serde_json::json!({ "currency": tag }),
        K::Departure => serde_json::json!({ "time_zone": tag }),
        K::FieldLog => serde_json::json!({ "check_ins": { tag: true } }),
        K::Booking => serde_json::json!({ "channel": tag }),
        K::Invoice => serde_json::json!({ "customer": tag }),
        K::Ticket => serde_json::json!({ "subject": tag }),
        // Of the ledger, head office writes only the lock of a period.
        K::Journal => serde_json::json!({ "locked": true }),
        K::Manifest => serde_json::json!({ "departure": tag }),
        K::Index => serde_json::json!({ "user": tag }),
        K::Alerts => serde_json::json!({ "alerts": { tag: {
            "rule": "low_stock", "severity": "info", "document": "x", "message": "probe",
            "raised_at": 1, "status": "open", "resolved_by": null, "resolved_at": null,
        } } }),
    }
}

/// Writes `patch` into `obj` of `doc`, as a device would.
fn put_json(doc: &mut AutoCommit, obj: &automerge::ObjId, patch: &serde_json::Value) {
    let serde_json::Value::Object(fields) = patch else {
        return;
    };
    for (key, value) in fields {
        let key = key.as_str();
        match value {
            serde_json::Value::Object(_) => {
                let child = match doc.get(obj, key).expect("get") {
                    Some((automerge::Value::Object(automerge::ObjType::Map), id)) => id,
                    _ => doc
                        .put_object(obj, key, automerge::ObjType::Map)
                        .expect("map"),
                };
                put_json(doc, &child, value);
            }
            serde_json::Value::String(text) => doc.put(obj, key, text.as_str()).expect("put"),
            serde_json::Value::Number(n) => {
                doc.put(obj, key, n.as_i64().unwrap_or(0)).expect("put")
            }
            serde_json::Value::Bool(b) => doc.put(obj, key, *b).expect("put"),
            _ => doc
                .put(obj, key, automerge::ScalarValue::Null)
                .expect("put"),
        }
    }
}

/// What one user could do with each of `ids` (of `kinds`) over the sync protocol.
fn over_protocol(
    url: &str,
    token: &str,
    user: &str,
    ids: &[DocumentId],
    kinds: &[Kind],
    labels: &[String],
) -> Vec<Allowed> {
    let mut device = Device::connect(url, token, &format!("{user}-phone")).expect("connect");
    for id in ids {
        device.node.find(*id);
    }
    let unavailable = |device: &Device, id: &DocumentId| {
        device
            .events
            .iter()
            .any(|event| matches!(event, Event::DocumentUnavailable(u) if u == id))
    };
    assert!(
        device.run_until(WAIT, |d| ids
            .iter()
            .all(|id| d.node.document(id).is_some() || unavailable(d, id))),
        "{user}: some documents neither arrived nor were refused"
    );
    let readable: Vec<bool> = ids
        .iter()
        .map(|id| device.node.document(id).is_some())
        .collect();
    for ((id, readable), kind) in ids.iter().zip(&readable).zip(kinds) {
        if *readable {
            let patch = probe(*kind, &format!("{user}-protocol"));
            device.node.change(id, |doc| put_json(doc, &ROOT, &patch));
        }
    }
    // A read-only document's changes are refused with an error, or, by a client that honours
    // the read-only flag the server sets in its sync messages (as automerge does), never sent.
    let refused = |device: &Device, id: &DocumentId| {
        let read_only = device.node.doc_sync(id).is_some_and(|sync| {
            sync.peers()
                .filter_map(|(peer, _)| sync.sync_state(peer))
                .any(|state| state.is_peer_read_only())
        });
        read_only
            || device
                .errors
                .iter()
                .any(|error| error.contains(&id.to_string()))
    };
    let settled = device.run_until(WAIT, |d| {
        ids.iter()
            .zip(&readable)
            .all(|(id, readable)| !readable || d.acknowledged(id) || refused(d, id))
    });
    if !settled {
        let mut pending = Vec::new();
        for ((id, readable), label) in ids.iter().zip(&readable).zip(labels) {
            if *readable && !device.acknowledged(id) && !refused(&device, id) {
                let ours = device.node.document(id).map(|d| d.clone().get_heads());
                pending.push(format!(
                    "{label} {id}: ours {ours:?}, server's {:?}",
                    device.server_heads(id)
                ));
            }
        }
        panic!(
            "{user}: writes neither acknowledged nor refused: {pending:#?}\nerrors: {:?}",
            device.errors
        );
    }
    let allowed = ids
        .iter()
        .zip(&readable)
        .map(|(id, readable)| match (readable, device.acknowledged(id)) {
            (false, _) => Allowed::Nothing,
            (true, true) => Allowed::Write,
            (true, false) => Allowed::Read,
        })
        .collect();
    device.disconnect();
    allowed
}

/// What `user` could do with `id` (of `kind`) over the REST API.
fn over_rest(base: &str, token: &str, user: &str, id: &DocumentId, kind: Kind) -> Allowed {
    let url = format!("{base}/api/v1/documents/{id}");
    let (read, body) = http("GET", &url, Some(token), None);
    let (write, patched) = http(
        "PATCH",
        &url,
        Some(token),
        Some(&probe(kind, &format!("{user}-rest")).to_string()),
    );
    match (read, write) {
        (200, 200) => Allowed::Write,
        (200, 403) => Allowed::Read,
        (404, 404) => Allowed::Nothing,
        other => panic!("{id}: unexpected statuses {other:?}: {body} / {patched}"),
    }
}

fn access_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/ACCESS.md")
}

/// Every role × kind × relation over the protocol and REST, and the bad tokens, on a server
/// storing in `backend`; panics if access differs from the rules, and returns the table as
/// `server/ACCESS.md` renders it.
fn observe_access(backend: &Backend) -> String {
    let data = DataDir::new("access");
    let grants = [
        "--grant".to_owned(),
        "territory:north".to_owned(),
        "--grant".to_owned(),
        format!(
            "departure:{}",
            id_for(Some(DocumentKind::Departure), Relation::Granted, "")
        ),
        "--grant".to_owned(),
        format!(
            "stock:{}",
            id_for(Some(DocumentKind::Stock), Relation::Granted, "")
        ),
    ];
    let mut tokens = BTreeMap::new();
    for (user, role) in ROLES {
        let mut args = vec!["user", "add", user, "--role", role];
        args.extend(grants.iter().map(String::as_str));
        backend.cli(&data, &args);
        tokens.insert(user, backend.token(&data, user, "1d"));
    }
    let bad_tokens = BadTokens::make(backend, &data);
    let documents = seed(&*backend.open(&data));
    let server = backend.start(&data, &[]);

    // user → (kind, relation) → (protocol, REST)
    let mut observed: BTreeMap<(&str, usize, Relation), (Allowed, Allowed)> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut cases = 0;
    for (user, role) in ROLES {
        let mut rows = Vec::new();
        for (index, kind) in kinds().into_iter().enumerate() {
            for &relation in relations(kind) {
                rows.push((
                    index,
                    kind,
                    relation,
                    document_for(&documents, kind, relation, user),
                ));
            }
        }
        let ids: Vec<DocumentId> = rows.iter().map(|row| row.3).collect();
        let labels: Vec<String> = rows
            .iter()
            .map(|(_, kind, relation, _)| format!("{} ({})", kind_label(*kind), relation.label()))
            .collect();
        let row_kinds: Vec<Kind> = rows.iter().map(|(_, kind, _, _)| *kind).collect();
        let protocol = over_protocol(
            &server.sync_url(),
            &tokens[user],
            user,
            &ids,
            &row_kinds,
            &labels,
        );
        for ((index, kind, relation, id), protocol) in rows.into_iter().zip(protocol) {
            let rest = over_rest(&server.base, &tokens[user], user, &id, kind);
            let want = expected(role, kind, relation);
            cases += 4;
            for (how, got) in [("protocol", protocol), ("REST", rest)] {
                if got != want {
                    wrong.push(format!(
                        "{role} {user}, {} ({}) over {how}: expected {want:?}, got {got:?}",
                        kind_label(kind),
                        relation.label()
                    ));
                }
            }
            observed.insert((user, index, relation), (protocol, rest));
        }
    }
    assert!(
        wrong.is_empty(),
        "access differs from the rules:\n{}",
        wrong.join("\n")
    );

    let token_rows = refused_tokens(&server, &bad_tokens, &tokens["olga"]);
    cases += token_rows.len() * 2;
    render(&observed, &token_rows, cases)
}

#[test]
fn every_role_reads_and_writes_exactly_what_the_rules_allow() {
    let rendered = observe_access(&Backend::Redb);
    let path = access_file();
    if std::env::var_os("ITINERA_BLESS").is_some() {
        std::fs::write(&path, &rendered).expect("write ACCESS.md");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "server/ACCESS.md does not match what the server did; if the rules changed on purpose, \
         run the test with ITINERA_BLESS=1 and commit the file. Expected:\n{rendered}"
    );
}

#[test]
fn on_postgres_every_role_reads_and_writes_exactly_what_the_rules_allow() {
    let rendered = observe_access(&Backend::postgres("access_matrix"));
    let committed = std::fs::read_to_string(access_file()).unwrap_or_default();
    assert!(
        committed == rendered,
        "on PostgreSQL the server grants other access than server/ACCESS.md says (what the \
         redb store's server did). Observed:\n{rendered}"
    );
}

/// Tokens that must not work, made with the CLI before the server starts.
struct BadTokens {
    expired: String,
    revoked: String,
    disabled: String,
}

impl BadTokens {
    fn make(backend: &Backend, data: &DataDir) -> Self {
        let revoked = backend.token(data, "olga", "1d");
        backend.cli(data, &["token", "revoke", &revoked]);
        let expired = backend.token(data, "olga", "0s");
        backend.cli(data, &["user", "add", "gone", "--role", "guide"]);
        let disabled = backend.token(data, "gone", "1d");
        backend.cli(data, &["user", "disable", "gone"]);
        Self {
            expired,
            revoked,
            disabled,
        }
    }
}

/// Tries every token that must not work over the protocol and REST: each row is (token,
/// protocol status, REST status).
fn refused_tokens(
    server: &TestServer,
    bad: &BadTokens,
    good: &str,
) -> Vec<(&'static str, u16, u16)> {
    let mut tampered = good.to_owned();
    let last = tampered.pop().expect("a token has characters");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let mut rows = Vec::new();
    for (what, token) in [
        ("expired", bad.expired.as_str()),
        ("revoked", bad.revoked.as_str()),
        ("of a disabled user", bad.disabled.as_str()),
        ("tampered (one character changed)", tampered.as_str()),
        ("empty", ""),
    ] {
        let protocol = match Device::connect(&server.sync_url(), token, "p") {
            Err(ConnectError::Status(status)) => status,
            Err(other) => panic!("{what}: {other:?}"),
            Ok(_) => 101,
        };
        let (rest, _) = http(
            "GET",
            &format!("{}/api/v1/me", server.base),
            Some(token),
            None,
        );
        assert_eq!(
            (protocol, rest),
            (401, 401),
            "a token {what} was not refused"
        );
        rows.push((what, protocol, rest));
    }
    rows
}

fn render(
    observed: &BTreeMap<(&str, usize, Relation), (Allowed, Allowed)>,
    tokens: &[(&str, u16, u16)],
    cases: usize,
) -> String {
    let mut out = String::new();
    out.push_str(
        "# Who may read and write what\n\n\
         Generated by `tests/tests/access_matrix.rs` from what the server did: a user of each \
         role read and wrote a document of every kind over the sync protocol and over the REST \
         API, for each relation the user can have to it, and both answered alike. The test \
         compares the behaviour with the rules of DOMAIN.md and this file with the behaviour; \
         do not edit it by hand (`ITINERA_BLESS=1` rewrites it after a deliberate change).\n\n\
         *Own*: the user owns it (the account's or lead's owner, the booking's rep, the ticket's \
         assignee, the creator of an invoice or generic document, the kit's custodian, the \
         employee record's user, the index's subject). *Granted*: in the user's grants (a \
         territory for accounts, a departure for departures and field logs, a stock location \
         for stock and transfers; a generic document shared with the user). *Other*: neither. \
         \"—\" means the document does not exist for the user: the protocol answers \
         `doc-unavailable`, REST 404. \"read\" means the server marks its sync messages \
         read-only and refuses changes (with an error to a client that sends them anyway), \
         REST `PATCH` answers 403. The ledger, the indexes and the alerts are the server's: \
         office acknowledges and resolves alerts through `POST /api/v1/alerts/<key>/acknowledge` \
         and `…/resolve`, and the server records who did and when.\n\n",
    );
    out.push_str("| kind | relation | admin | office | sales | guide |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for (index, kind) in kinds().into_iter().enumerate() {
        for &relation in relations(kind) {
            let _ = write!(out, "| {} | {} |", kind_label(kind), relation.label());
            for (user, _) in ROLES {
                let (protocol, rest) = observed[&(user, index, relation)];
                let cell = if protocol == rest {
                    protocol.cell().to_owned()
                } else {
                    format!("protocol: {}, REST: {}", protocol.cell(), rest.cell())
                };
                let _ = write!(out, " {cell} |");
            }
            out.push('\n');
        }
    }
    out.push_str(
        "\nTokens that do not work, tried on the WebSocket upgrade (`/sync`) and on REST \
         (`/api/v1/me`):\n\n| token | `/sync` | REST |\n|---|---|---|\n",
    );
    for (what, protocol, rest) in tokens {
        let _ = writeln!(out, "| {what} | {protocol} | {rest} |");
    }
    let _ = writeln!(out, "\n{cases} cases checked.");
    out
}
