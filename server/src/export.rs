//! `itinera-server export` and `import`: the whole store as portable files, for moving to
//! another machine or another store backend, or for reading with any Automerge tool.
//!
//! An export is a folder:
//!
//! ```text
//! manifest.ndjson                 one JSON object per line, first the header
//! documents/<id>.automerge        each document as one saved Automerge file
//! ```
//!
//! The manifest's lines are `{"type":"export", "format", "layout", "itinera", "exported_at"}`,
//! then `{"type":"document", "id", "file", "kind", "owner", "scope", "heads", "last_change_at"}`
//! per document, `{"type":"user", "user"}` per user (with its password hash),
//! `{"type":"token", "hash", "token"}` per token (only hashes are ever stored), `{"type":"value",
//! "key", "json"}` (or `"base64"` where the value is not JSON) for the rest of the key–value
//! table (audit trail, invoice sequences, report summaries, the server's storage id), and a
//! closing `{"type":"end", "documents", "values"}` that tells a complete export from a cut one.
//! Sync states are left out: devices rebuild them on their next sync.
//!
//! An import reads the same into an empty data folder and checks each document's heads
//! against the manifest.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use itinera_core::DocumentId;
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::operation_error::OperationError;

/// The export format this build writes and reads.
pub const EXPORT_FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.ndjson";
const DOCUMENTS: &str = "documents";
/// Keys not worth carrying: the readiness probe's filler.
const SKIPPED_KEYS: [&str; 1] = ["server:readiness-probe"];
/// Documents written per import transaction.
const IMPORT_BATCH: usize = 500;

/// One line of the manifest.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Export {
        format: u32,
        layout: u64,
        itinera: String,
        exported_at: i64,
    },
    Document {
        id: String,
        file: String,
        kind: Option<String>,
        /// Who created it (`owner` in exports of older builds).
        #[serde(alias = "owner")]
        creator: Option<String>,
        /// The users a generic document is shared with.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        shared_with: Vec<String>,
        heads: Vec<String>,
        last_change_at: i64,
    },
    User {
        user: Json,
    },
    Token {
        hash: String,
        token: Json,
    },
    Value {
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        json: Option<Json>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base64: Option<String>,
    },
    End {
        documents: u64,
        values: u64,
    },
}

/// What an export or import moved.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moved {
    pub documents: u64,
    pub values: u64,
    pub took: Duration,
}

fn write_line(out: &mut impl Write, line: &Line, path: &Path) -> Result<(), OperationError> {
    let text = serde_json::to_string(line)
        .map_err(|err| OperationError::Refused(format!("manifest line: {err}")))?;
    writeln!(out, "{text}").map_err(OperationError::file(path))
}

/// Writes every document and value of `store` into the new folder `dest`.
pub fn export(store: &dyn DocumentStore, dest: &Path, now: i64) -> Result<Moved, OperationError> {
    let started = Instant::now();
    if dest.exists() && std::fs::read_dir(dest).map_or(true, |mut d| d.next().is_some()) {
        return Err(OperationError::Refused(format!(
            "{} exists and is not empty; export into a new folder",
            dest.display()
        )));
    }
    // Only the owner may enter: the manifest holds password and token hashes.
    crate::init::create_private_folder(dest)?;
    let documents_dir = dest.join(DOCUMENTS);
    std::fs::create_dir_all(&documents_dir).map_err(OperationError::file(&documents_dir))?;
    let manifest_path = dest.join(MANIFEST);
    let file = File::create(&manifest_path).map_err(OperationError::file(&manifest_path))?;
    let mut manifest = BufWriter::new(file);
    let header = Line::Export {
        format: EXPORT_FORMAT,
        layout: itinera_core::store::LAYOUT,
        itinera: env!("CARGO_PKG_VERSION").to_owned(),
        exported_at: now,
    };
    write_line(&mut manifest, &header, &manifest_path)?;
    let mut moved = Moved::default();
    for (id, meta) in store.documents()? {
        let line = export_document(store, id, &meta, &documents_dir)?;
        write_line(&mut manifest, &line, &manifest_path)?;
        moved.documents += 1;
    }
    for (key, value) in store.values_with_prefix("")? {
        if SKIPPED_KEYS.contains(&key.as_str()) {
            continue;
        }
        write_line(&mut manifest, &value_line(key, &value), &manifest_path)?;
        moved.values += 1;
    }
    let end = Line::End {
        documents: moved.documents,
        values: moved.values,
    };
    write_line(&mut manifest, &end, &manifest_path)?;
    manifest
        .into_inner()
        .map_err(|err| OperationError::file(&manifest_path)(err.into_error()))?
        .sync_all()
        .map_err(OperationError::file(&manifest_path))?;
    moved.took = started.elapsed();
    Ok(moved)
}

/// Saves one document as a single Automerge file; returns its manifest line.
fn export_document(
    store: &dyn DocumentStore,
    id: DocumentId,
    meta: &DocumentMeta,
    folder: &Path,
) -> Result<Line, OperationError> {
    let bytes = store.load(id)?.ok_or_else(|| {
        OperationError::Refused(format!("document {id} is listed but has no data"))
    })?;
    let mut doc = itinera_core::document::load_bytes(&bytes)
        .map_err(|err| OperationError::Refused(format!("document {id} does not load: {err}")))?;
    let file = format!("{DOCUMENTS}/{id}.automerge");
    let path = folder.join(format!("{id}.automerge"));
    std::fs::write(&path, doc.save()).map_err(OperationError::file(&path))?;
    Ok(Line::Document {
        id: id.to_string(),
        file,
        kind: meta.kind.clone(),
        creator: meta.creator.clone(),
        shared_with: meta
            .scope
            .as_ref()
            .map(|scope| scope.shared_with.iter().cloned().collect())
            .unwrap_or_default(),
        heads: doc.get_heads().iter().map(ToString::to_string).collect(),
        last_change_at: meta.last_change_at,
    })
}

/// A user, a token or another value, as JSON where it is JSON.
fn value_line(key: String, value: &[u8]) -> Line {
    let json = serde_json::from_slice::<Json>(value).ok();
    if let (Some(name), Some(user)) = (key.strip_prefix("user:"), json.as_ref()) {
        if user["name"] == name {
            return Line::User { user: user.clone() };
        }
    }
    if let (Some(hash), Some(token)) = (key.strip_prefix("token:"), json.as_ref()) {
        return Line::Token {
            hash: hash.to_owned(),
            token: token.clone(),
        };
    }
    // As JSON where nothing is lost: the very same bytes, or an object or array whose numbers
    // are all integers (a long run of digits or a fraction could come back altered).
    let exact = json.filter(|json| {
        serde_json::to_vec(json).is_ok_and(|again| again == value)
            || (matches!(json, Json::Object(_) | Json::Array(_)) && integers_only(json))
    });
    match exact {
        Some(json) => Line::Value {
            key,
            json: Some(json),
            base64: None,
        },
        None => Line::Value {
            key,
            json: None,
            base64: Some(base64::engine::general_purpose::STANDARD.encode(value)),
        },
    }
}

/// Whether every number inside `json` is an integer JSON keeps exactly.
fn integers_only(json: &Json) -> bool {
    match json {
        Json::Number(number) => number.is_i64() || number.is_u64(),
        Json::Array(items) => items.iter().all(integers_only),
        Json::Object(fields) => fields.values().all(integers_only),
        Json::Null | Json::Bool(_) | Json::String(_) => true,
    }
}

/// Reads an export into the store at `store_path`, which must hold no documents and no users.
pub fn import(source: &Path, store_path: &Path) -> Result<Moved, OperationError> {
    let started = Instant::now();
    let manifest_path = source.join(MANIFEST);
    let file = File::open(&manifest_path).map_err(OperationError::file(&manifest_path))?;
    let mut lines = BufReader::new(file).lines();
    let header = next_line(&mut lines, &manifest_path)?;
    match header {
        Some(Line::Export { format, .. }) if format <= EXPORT_FORMAT => {}
        Some(Line::Export { format, .. }) => {
            return Err(OperationError::Refused(format!(
                "the export has format {format}; this build reads format {EXPORT_FORMAT}"
            )));
        }
        _ => {
            return Err(OperationError::Refused(format!(
                "{} is not an Itinera export manifest",
                manifest_path.display()
            )));
        }
    }
    if let Some(folder) = store_path.parent() {
        crate::init::create_private_folder(folder)?;
    }
    let store = RedbStore::open(store_path)?;
    if !store.documents()?.is_empty() || !store.values_with_prefix("user:")?.is_empty() {
        return Err(OperationError::Refused(format!(
            "{} is not empty; import into a new data folder",
            store_path.display()
        )));
    }
    let mut moved = Moved::default();
    let mut batch = WriteBatch::new();
    loop {
        let Some(line) = next_line(&mut lines, &manifest_path)? else {
            return Err(OperationError::Refused(
                "the manifest ends without its closing line: the export is incomplete".into(),
            ));
        };
        if let Line::End { documents, values } = line {
            if (documents, values) != (moved.documents, moved.values) {
                return Err(OperationError::Refused(format!(
                    "the manifest lists {documents} documents and {values} values but holds \
                     {} and {}",
                    moved.documents, moved.values
                )));
            }
            break;
        }
        import_line(source, line, &mut batch, &mut moved)?;
        if batch.len() >= IMPORT_BATCH {
            store.commit(std::mem::take(&mut batch), Durability::Relaxed)?;
        }
    }
    // The last commit is durable, and with it every relaxed one before.
    let mut closing = std::mem::take(&mut batch);
    closing.put_value("server:imported-at", started_at_text().into_bytes());
    store.commit(closing, Durability::Immediate)?;
    store.close()?;
    moved.took = started.elapsed();
    Ok(moved)
}

fn started_at_text() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis())
        .to_string()
}

fn next_line(
    lines: &mut std::io::Lines<BufReader<File>>,
    path: &Path,
) -> Result<Option<Line>, OperationError> {
    let Some(text) = lines.next() else {
        return Ok(None);
    };
    let text = text.map_err(OperationError::file(path))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|err| OperationError::Refused(format!("a manifest line is unreadable: {err}")))
}

fn import_line(
    source: &Path,
    line: Line,
    batch: &mut WriteBatch,
    moved: &mut Moved,
) -> Result<(), OperationError> {
    let json_bytes = |json: &Json| serde_json::to_vec(json).unwrap_or_default();
    match line {
        Line::Document {
            id,
            file,
            kind,
            creator,
            shared_with,
            heads,
            last_change_at,
        } => {
            let (id, bytes, mut doc) = read_document(source, &id, &file)?;
            let found = doc.get_heads();
            let listed: Vec<String> = heads;
            if found.iter().map(ToString::to_string).collect::<Vec<_>>() != listed {
                return Err(OperationError::Refused(format!(
                    "document {id}: its file's heads differ from the manifest's"
                )));
            }
            // Who may see it and its title are described again from the content, as the
            // server that wrote it did.
            let mut meta =
                DocumentMeta::describe(&id, &mut doc, creator.as_deref(), last_change_at);
            if let Some(scope) = &mut meta.scope {
                scope.shared_with = shared_with.into_iter().collect();
            }
            meta.kind = meta.kind.or(kind);
            batch.put_snapshot(id, bytes, meta);
            moved.documents += 1;
        }
        Line::User { user } => {
            let name = user["name"].as_str().unwrap_or_default().to_owned();
            batch.put_value(&format!("user:{name}"), json_bytes(&user));
            moved.values += 1;
        }
        Line::Token { hash, token } => {
            batch.put_value(&format!("token:{hash}"), json_bytes(&token));
            moved.values += 1;
        }
        Line::Value { key, json, base64 } => {
            let bytes = match (json, base64) {
                (Some(json), _) => json_bytes(&json),
                (None, Some(text)) => base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|err| OperationError::Refused(format!("value {key}: {err}")))?,
                (None, None) => Vec::new(),
            };
            batch.put_value(&key, bytes);
            moved.values += 1;
        }
        Line::Export { .. } | Line::End { .. } => {
            return Err(OperationError::Refused(
                "the manifest has a header or closing line in its middle".into(),
            ));
        }
    }
    Ok(())
}

/// Reads and loads one document file; returns its id, bytes and heads.
fn read_document(
    source: &Path,
    id: &str,
    file: &str,
) -> Result<(DocumentId, Vec<u8>, automerge::AutoCommit), OperationError> {
    let id = DocumentId::parse(id)
        .map_err(|err| OperationError::Refused(format!("document id {id:?}: {err}")))?;
    if file.contains("..") || file.starts_with('/') {
        return Err(OperationError::Refused(format!(
            "document {id}: the file {file:?} is outside the export"
        )));
    }
    let path = source.join(file);
    let bytes = std::fs::read(&path).map_err(OperationError::file(&path))?;
    let doc = itinera_core::document::load_bytes(&bytes)
        .map_err(|err| OperationError::Refused(format!("document {id} does not load: {err}")))?;
    Ok((id, bytes, doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &Line) -> &'static str {
        match line {
            Line::User { .. } => "user",
            Line::Token { .. } => "token",
            Line::Value { json: Some(_), .. } => "json",
            Line::Value {
                base64: Some(_), ..
            } => "base64",
            _ => "other",
        }
    }

    #[test]
    fn values_are_json_only_where_they_come_back_unchanged() {
        let cases: [(&str, &[u8], &str); 6] = [
            ("user:ana", br#"{"name":"ana","role":"sales"}"#, "user"),
            ("token:ab12", br#"{"user":"ana","revoked":false}"#, "token"),
            ("summary:x", br#"{"total":12345,"lines":[1,2]}"#, "json"),
            ("server:stopped-at", b"1796017876356", "json"),
            // Twenty-four digits would come back as a float.
            ("server:storage-id", b"123456789012345678901234", "base64"),
            ("blob", &[0xff, 0x00, 0x10], "base64"),
        ];
        for (key, value, expected) in cases {
            assert_eq!(kind(&value_line(key.to_owned(), value)), expected, "{key}");
        }
    }
}
