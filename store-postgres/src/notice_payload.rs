//! The text of the notifications a commit sends to the other nodes (`pg_notify`), and how a
//! node reads them back into [`StoreNotice`]s.
//!
//! A notification carries at most 8,000 bytes, so a commit of many documents sends several,
//! each naming the node that committed (so that a node skips its own) and the change sequence
//! after the commit. All of them are delivered at the commit, in commit order, or never.
//!
//! ```text
//! d <node> <sequence>          documents: one line each, the id and its heads
//! <document id> <head>,<head>
//! v <node>                     values: one key a line (users and tokens)
//! <key>
//! ```

use automerge::ChangeHash;
use itinera_core::DocumentId;
use itinera_core::store::{StoreNotice, WriteOp};

/// Room for the lines of one notification, below PostgreSQL's 8,000 bytes with the header.
const MAX_LINES_BYTES: usize = 7_600;

/// The keys of the key–value table every node keeps in memory (users and tokens): their writes
/// are announced, so that a revocation or a new grant reaches the sessions of every node.
pub(crate) const ANNOUNCED_PREFIXES: [&str; 2] = ["user:", "token:"];

/// What one commit announces, read from its writes before they are sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Announcement {
    /// The document lines, each starting with a newline, grouped to fit one notification
    /// each; the header (with the sequence, known only to the database) goes in front.
    pub(crate) documents: Vec<String>,
    /// The value notifications, header included.
    pub(crate) values: Vec<String>,
}

impl Announcement {
    /// What the writes of one batch announce, from node `node`.
    pub(crate) fn of(node: &str, operations: &[WriteOp]) -> Self {
        let mut documents = Vec::new();
        let mut keys = Vec::new();
        for operation in operations {
            match operation {
                WriteOp::AppendChanges { doc, meta, .. }
                | WriteOp::PutSnapshot { doc, meta, .. }
                | WriteOp::UpdateMeta { doc, meta } => {
                    let heads: Vec<String> = meta.heads.iter().map(ToString::to_string).collect();
                    documents.push(format!("\n{doc} {}", heads.join(",")));
                }
                WriteOp::PutValue { key, .. }
                | WriteOp::DeleteValue { key }
                | WriteOp::ReplaceValue { key, .. }
                    if is_announced(key) && !key.contains('\n') =>
                {
                    keys.push(format!("\n{key}"));
                }
                _ => {}
            }
        }
        Self {
            documents: group(documents),
            values: group(keys)
                .into_iter()
                .map(|lines| format!("v {node}{lines}"))
                .collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.documents.is_empty() && self.values.is_empty()
    }
}

fn is_announced(key: &str) -> bool {
    ANNOUNCED_PREFIXES
        .iter()
        .any(|prefix| key.starts_with(prefix))
}

/// Lines joined into groups that fit one notification each.
fn group(lines: Vec<String>) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for line in lines {
        match groups.last_mut() {
            Some(last) if last.len() + line.len() <= MAX_LINES_BYTES => last.push_str(&line),
            _ => groups.push(line),
        }
    }
    groups
}

/// A notification as received: its node, the sequence it carries (documents only), and the
/// notice for the nodes that did not send it. `None` for text this build did not send.
pub(crate) fn parse(payload: &str) -> Option<(String, Option<u64>, StoreNotice)> {
    let mut lines = payload.split('\n');
    let mut header = lines.next()?.split(' ');
    match (header.next()?, header.next()?) {
        ("d", node) => {
            let sequence: u64 = header.next()?.parse().ok()?;
            let documents = lines
                .map(parse_document)
                .collect::<Option<Vec<(DocumentId, Vec<ChangeHash>)>>>()?;
            let notice = StoreNotice::Documents {
                sequence,
                documents,
            };
            Some((node.to_owned(), Some(sequence), notice))
        }
        ("v", node) => {
            let keys = lines.map(str::to_owned).collect();
            Some((node.to_owned(), None, StoreNotice::Values { keys }))
        }
        _ => None,
    }
}

fn parse_document(line: &str) -> Option<(DocumentId, Vec<ChangeHash>)> {
    let (id, heads) = line.split_once(' ')?;
    let heads = heads
        .split(',')
        .filter(|head| !head.is_empty())
        .map(|head| head.parse().ok())
        .collect::<Option<Vec<ChangeHash>>>()?;
    Some((id.parse().ok()?, heads))
}

#[cfg(test)]
mod tests {
    use itinera_core::store::{DocumentMeta, WriteBatch};

    use super::*;

    #[test]
    fn a_commit_announces_its_documents_and_users_and_reads_back() {
        let doc = DocumentId::from_bytes([7; 16]);
        let head = ChangeHash([9; 32]);
        let mut batch = WriteBatch::new();
        let meta = DocumentMeta {
            heads: vec![head],
            ..DocumentMeta::default()
        };
        batch
            .append_changes(doc, vec![1], meta)
            .put_value("user:ana", b"{}".to_vec())
            .put_value("summary:x", b"{}".to_vec())
            .delete_value("token:abc");
        let announced = Announcement::of("n1", batch.operations());
        assert_eq!(announced.documents.len(), 1);
        let documents = format!("d n1 42{}", announced.documents[0]);
        let (node, sequence, notice) = parse(&documents).expect("parses");
        assert_eq!((node.as_str(), sequence), ("n1", Some(42)));
        assert_eq!(
            notice,
            StoreNotice::Documents {
                sequence: 42,
                documents: vec![(doc, vec![head])]
            }
        );
        let (_, _, values) = parse(&announced.values[0]).expect("parses");
        assert_eq!(
            values,
            StoreNotice::Values {
                keys: vec!["user:ana".into(), "token:abc".into()]
            }
        );
    }

    #[test]
    fn many_documents_are_split_into_notifications_that_fit() {
        let mut batch = WriteBatch::new();
        for n in 0..500u16 {
            let mut bytes = [0; 16];
            bytes[..2].copy_from_slice(&n.to_be_bytes());
            let meta = DocumentMeta {
                heads: vec![ChangeHash([1; 32]), ChangeHash([2; 32])],
                ..DocumentMeta::default()
            };
            batch.update_meta(DocumentId::from_bytes(bytes), meta);
        }
        let announced = Announcement::of("node", batch.operations());
        assert!(announced.documents.len() > 1);
        let mut seen = 0;
        for lines in &announced.documents {
            let payload = format!("d node 18446744073709551615{lines}");
            assert!(payload.len() < 8_000, "{}", payload.len());
            let Some((_, _, StoreNotice::Documents { documents, .. })) = parse(&payload) else {
                panic!("documents expected");
            };
            seen += documents.len();
        }
        assert_eq!(seen, 500);
    }

    #[test]
    fn text_this_build_did_not_send_is_ignored() {
        for bad in ["", "x n1", "d n1", "d n1 notanumber", "d n1 1\nnot-an-id h"] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
