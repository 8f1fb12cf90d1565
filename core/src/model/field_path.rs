use std::fmt;

/// One step into a document: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    /// A key of a map (a field name, or the id of a sub-record).
    Key(String),
    /// A position in a list.
    Index(usize),
}

/// Where a field lives in a document, printed like a JSON pointer: `/contacts/c-1/title`.
///
/// Used to name the field of a validation error and to ask for the conflicts of a field.
///
/// ```
/// use itinera_core::FieldPath;
///
/// let path = FieldPath::root().key("contacts").key("c-1").key("title");
/// assert_eq!(path.to_string(), "/contacts/c-1/title");
/// assert_eq!(FieldPath::parse("/contacts/c-1/title"), path);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<PathSegment>);

impl FieldPath {
    /// The document root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path extended by a map key.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.0.push(PathSegment::Key(key.into()));
        self
    }

    /// This path extended by a list index.
    pub fn index(mut self, index: usize) -> Self {
        self.0.push(PathSegment::Index(index));
        self
    }

    /// Parses `/a/b/3`: every segment is a map key, except that a segment of digits under a list
    /// is read as an index by whoever walks the path.
    pub fn parse(text: &str) -> Self {
        Self(
            text.split('/')
                .filter(|segment| !segment.is_empty())
                .map(|segment| PathSegment::Key(segment.replace("~1", "/").replace("~0", "~")))
                .collect(),
        )
    }

    /// The segments from the root down.
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    pub(crate) fn push(&mut self, segment: PathSegment) {
        self.0.push(segment);
    }

    pub(crate) fn pop(&mut self) {
        self.0.pop();
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("/");
        }
        for segment in &self.0 {
            match segment {
                PathSegment::Key(key) => {
                    write!(f, "/{}", key.replace('~', "~0").replace('/', "~1"))?
                }
                PathSegment::Index(index) => write!(f, "/{index}")?,
            }
        }
        Ok(())
    }
}
