use automerge::{ReadDoc, ScalarValue, Value};

/// Root fields that name a document, in order of preference.
const TITLE_FIELDS: [&str; 6] = [
    "name",
    "subject",
    "code",
    "provisional_number",
    "period",
    "tour",
];

/// The most characters of a title: index entries hold one for every document a user sees, so a
/// long name on one document must not grow every user's index.
pub const MAX_TITLE_CHARS: usize = 120;

/// A short title for a document: the first non-empty of its root's `name`, `subject`, `code`,
/// `provisional_number`, `period` or `tour`, cut to [`MAX_TITLE_CHARS`] (ending in `…` when
/// cut), or an empty string. The server titles index entries with it and devices their lists,
/// so both show the same.
pub fn title_of<D: ReadDoc>(doc: &D) -> String {
    let title = TITLE_FIELDS
        .iter()
        .find_map(|field| root_text(doc, field))
        .unwrap_or_default();
    if title.chars().count() <= MAX_TITLE_CHARS {
        return title;
    }
    let mut cut: String = title.chars().take(MAX_TITLE_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The non-empty string at `field` of the root.
pub(crate) fn root_text<D: ReadDoc>(doc: &D, field: &str) -> Option<String> {
    match doc.get(automerge::ROOT, field).ok()?? {
        (Value::Scalar(value), _) => match value.as_ref() {
            ScalarValue::Str(text) if !text.is_empty() => Some(text.to_string()),
            _ => None,
        },
        _ => None,
    }
}
