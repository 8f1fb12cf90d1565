//! Which root fields of a document a set of changes wrote, read from the changes' operations.
//!
//! The server checks a user's change by the rules of the fields it wrote. A field no operation
//! of the change wrote reads as it did before, when it was checked; reading which fields were
//! written costs time in proportion to the change, where checking every field costs time in
//! proportion to the whole record (an account with thousands of contacts and log entries,
//! checked again for each renamed street).

use std::collections::{BTreeSet, HashMap};

use automerge::legacy::{Key, ObjectId};
use automerge::{ActorId, AutoCommit, ChangeHash, Prop, ROOT, ReadDoc};

/// The root fields a change wrote, or everything when that cannot be told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Touched {
    /// Every field counts as written: a new document, or a change whose operations could not
    /// all be traced to a root field.
    Everything,
    /// Only these root fields were written (set, deleted, or written somewhere inside).
    Fields(BTreeSet<String>),
}

impl Touched {
    /// No field written yet: what a set of changes starts from before [`Touched::merge`].
    pub fn nothing() -> Self {
        Self::Fields(BTreeSet::new())
    }

    /// Counts the fields `other` wrote as written too.
    pub fn merge(&mut self, other: Touched) {
        match (&mut *self, other) {
            (Self::Everything, _) => {}
            (_, Self::Everything) => *self = Self::Everything,
            (Self::Fields(fields), Self::Fields(more)) => fields.extend(more),
        }
    }

    /// The root fields the changes of `doc` after `before` wrote.
    ///
    /// `before` holds the heads the document had before the changes; with no heads (a new
    /// document) everything is written.
    pub fn since(doc: &mut AutoCommit, before: &[ChangeHash]) -> Self {
        if before.is_empty() {
            return Self::Everything;
        }
        let changes = doc.get_changes(before);
        let mut roots = RootOf::new(doc);
        let mut fields = BTreeSet::new();
        for change in &changes {
            for op in change.decode().operations {
                let field = match (&op.obj, &op.key) {
                    (ObjectId::Root, Key::Map(key)) => Some(key.to_string()),
                    (ObjectId::Root, Key::Seq(_)) => None,
                    (ObjectId::Id(id), _) => roots.field(id.0, &id.1),
                };
                match field {
                    Some(field) => fields.insert(field),
                    None => return Self::Everything,
                };
            }
        }
        Self::Fields(fields)
    }

    /// Whether `field` may have been written.
    pub fn field(&self, field: &str) -> bool {
        match self {
            Self::Everything => true,
            Self::Fields(fields) => fields.contains(field),
        }
    }

    /// Whether any of `fields` may have been written.
    pub fn any(&self, fields: &[&str]) -> bool {
        fields.iter().any(|field| self.field(field))
    }
}

/// Finds the root field an object sits under, remembering what it found.
struct RootOf<'a> {
    doc: &'a AutoCommit,
    found: HashMap<(u64, ActorId), Option<String>>,
}

impl<'a> RootOf<'a> {
    fn new(doc: &'a AutoCommit) -> Self {
        Self {
            doc,
            found: HashMap::new(),
        }
    }

    fn field(&mut self, counter: u64, actor: &ActorId) -> Option<String> {
        let key = (counter, actor.clone());
        if let Some(field) = self.found.get(&key) {
            return field.clone();
        }
        let field = self.trace(counter, actor);
        self.found.insert(key, field.clone());
        field
    }

    /// The root field above an object, through its parents (found by the id of the operation
    /// that made each, an indexed look-up).
    fn trace(&self, counter: u64, actor: &ActorId) -> Option<String> {
        let obj = self.doc.import_obj(&format!("{counter}@{actor}")).ok()?;
        match self.doc.parents(&obj).ok()?.last()? {
            parent if parent.obj == ROOT => match parent.prop {
                Prop::Map(key) => Some(key),
                Prop::Seq(_) => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT};

    use super::*;

    fn field_set(fields: &[&str]) -> Touched {
        Touched::Fields(fields.iter().map(|f| f.to_string()).collect())
    }

    fn account() -> AutoCommit {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "name", "Alpine Tours").expect("written");
        let address = doc
            .put_object(ROOT, "address", ObjType::Map)
            .expect("written");
        doc.put(&address, "line1", "Main street 1")
            .expect("written");
        let contacts = doc
            .put_object(ROOT, "contacts", ObjType::Map)
            .expect("written");
        let ana = doc
            .put_object(&contacts, "c-1", ObjType::Map)
            .expect("written");
        let consent = doc
            .put_object(&ana, "consent", ObjType::List)
            .expect("written");
        doc.insert(&consent, 0, "yes").expect("written");
        doc.commit();
        doc
    }

    #[test]
    fn merging_adds_fields_and_everything_absorbs_them() {
        let mut written = Touched::nothing();
        assert!(!written.field("name"));
        written.merge(field_set(&["name"]));
        written.merge(field_set(&["address"]));
        assert_eq!(written, field_set(&["address", "name"]));
        written.merge(Touched::Everything);
        assert_eq!(written, Touched::Everything);
        written.merge(field_set(&["name"]));
        assert_eq!(written, Touched::Everything);
    }

    #[test]
    fn a_new_document_writes_everything() {
        let mut doc = account();
        assert_eq!(Touched::since(&mut doc, &[]), Touched::Everything);
    }

    #[test]
    fn a_write_inside_an_object_names_its_root_field() {
        let mut doc = account();
        let before = doc.get_heads();
        let (_, address) = doc
            .get(ROOT, "address")
            .expect("readable")
            .expect("present");
        doc.put(&address, "line1", "Station road 2")
            .expect("written");
        doc.commit();
        assert_eq!(Touched::since(&mut doc, &before), field_set(&["address"]));
    }

    #[test]
    fn deep_writes_set_and_deleted_fields_are_all_named() {
        let mut doc = account();
        let before = doc.get_heads();
        let (_, contacts) = doc
            .get(ROOT, "contacts")
            .expect("readable")
            .expect("present");
        let (_, ana) = doc
            .get(&contacts, "c-1")
            .expect("readable")
            .expect("present");
        let (_, consent) = doc
            .get(&ana, "consent")
            .expect("readable")
            .expect("present");
        doc.insert(&consent, 1, "withdrawn").expect("written");
        doc.delete(ROOT, "name").expect("written");
        let tags = doc.put_object(ROOT, "tags", ObjType::Map).expect("written");
        doc.put(&tags, "vip", true).expect("written");
        doc.commit();
        let touched = Touched::since(&mut doc, &before);
        assert_eq!(touched, field_set(&["contacts", "name", "tags"]));
        assert!(touched.any(&["address", "tags"]));
        assert!(!touched.field("address"));
    }

    #[test]
    fn a_write_into_the_loser_of_a_conflict_names_its_field() {
        let mut doc = account();
        let mut other = doc.fork();
        let before = doc.get_heads();
        let ours = doc
            .put_object(ROOT, "address", ObjType::Map)
            .expect("written");
        doc.put(&ours, "line1", "ours").expect("written");
        doc.commit();
        let theirs = other
            .put_object(ROOT, "address", ObjType::Map)
            .expect("written");
        other.put(&theirs, "line1", "theirs").expect("written");
        other.commit();
        doc.merge(&mut other).expect("written");
        assert_eq!(Touched::since(&mut doc, &before), field_set(&["address"]));
    }
}
