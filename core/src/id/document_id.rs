use std::fmt;
use std::str::FromStr;

/// The URL scheme automerge-repo uses for document addresses.
const URL_PREFIX: &str = "automerge:";

/// The identity of one Automerge document: 16 bytes, shown as bs58check.
///
/// Ids are made on the device that creates the record, so they must be unique without asking
/// anyone: [`DocumentId::new_v7`] lays them out as a UUIDv7 (milliseconds first, then random
/// bits), which also makes ids of records created later sort later.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentId([u8; 16]);

/// Why a string is not a document id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// A character outside the base58 alphabet.
    #[error("document id {0:?} is not base58")]
    NotBase58(String),
    /// The last four bytes do not match the checksum of the rest.
    #[error("document id {0:?} has a bad checksum")]
    BadChecksum(String),
    /// Decoded to a number of bytes other than 16.
    #[error("document id {id:?} has {len} bytes, expected 16")]
    WrongLength { id: String, len: usize },
}

impl DocumentId {
    /// Wraps 16 raw bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// A UUIDv7 id: `unix_ms` in the first 48 bits, then the version, `random`, and the variant.
    ///
    /// Time and randomness are arguments so that callers (and tests) decide where they come from.
    pub fn new_v7(unix_ms: u64, random: [u8; 10]) -> Self {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
        bytes[6..].copy_from_slice(&random);
        bytes[6] = 0x70 | (bytes[6] & 0x0f);
        bytes[8] = 0x80 | (bytes[8] & 0x3f);
        Self(bytes)
    }

    /// The id of a document the server keeps under a fixed name (`alerts`, `index/ana`,
    /// `journal:2026-11`), so the server and every device agree on it without asking.
    ///
    /// It is SHA-256 of `itinera/<name>` laid out in a shape no client makes: the marker
    /// [`RESERVED_MARKER`](Self::RESERVED_MARKER) first and UUID version 8 (Itinera's devices
    /// make version 7, automerge-repo's clients version 4). The server refuses any client's
    /// creation of a document of that shape ([`DocumentId::is_reserved`]), whatever the name:
    /// nobody can take a server document's place before the server writes it, including the
    /// index of a user added later.
    ///
    /// ```
    /// use itinera_core::DocumentId;
    ///
    /// assert!(DocumentId::named("alerts").is_reserved());
    /// assert!(DocumentId::index_of("a user nobody has added yet").is_reserved());
    /// assert!(!DocumentId::new_v7(1_764_000_000_000, [7; 10]).is_reserved());
    /// ```
    pub fn named(name: &str) -> Self {
        let mut bytes = Self::legacy_named(name).0;
        bytes[..4].copy_from_slice(&Self::RESERVED_MARKER);
        bytes[6] = 0x80 | (bytes[6] & 0x0f);
        bytes[8] = 0x80 | (bytes[8] & 0x3f);
        Self(bytes)
    }

    /// The first bytes of every id the server reserves for its own documents.
    pub const RESERVED_MARKER: [u8; 4] = *b"ITNR";

    /// Whether the id has the shape of the server's own documents ([`DocumentId::named`]):
    /// only the server may create such a document.
    pub fn is_reserved(&self) -> bool {
        self.0[..4] == Self::RESERVED_MARKER && self.0[6] >> 4 == 8
    }

    /// The id [`DocumentId::named`] gave before reserved ids had a shape of their own: the
    /// first 16 bytes of SHA-256 of `itinera/<name>`. Only for finding (and moving) what older
    /// stores kept under it.
    pub fn legacy_named(name: &str) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("itinera/{name}").as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }

    /// The id of a user's index document, which lists what the user's devices should hold.
    pub fn index_of(user: &str) -> Self {
        Self::named(&Self::index_name(user))
    }

    /// The name under which a user's index is kept (see [`DocumentId::named`]).
    pub fn index_name(user: &str) -> String {
        format!("index/{user}")
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The address automerge-repo clients use: `automerge:<bs58check>`.
    pub fn to_url(&self) -> String {
        format!("{URL_PREFIX}{self}")
    }

    /// Parses either a bare bs58check id or an `automerge:` URL (heads after `#` are ignored).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let bare = text.strip_prefix(URL_PREFIX).unwrap_or(text);
        let bare = bare.split_once('#').map_or(bare, |(id, _heads)| id);
        let decoded = bs58::decode(bare)
            .with_check(None)
            .into_vec()
            .map_err(|err| match err {
                bs58::decode::Error::InvalidChecksum { .. } => IdError::BadChecksum(text.into()),
                bs58::decode::Error::NoChecksum => IdError::WrongLength {
                    id: text.into(),
                    len: 0,
                },
                _ => IdError::NotBase58(text.into()),
            })?;
        let bytes: [u8; 16] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| IdError::WrongLength {
                id: text.into(),
                len: decoded.len(),
            })?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl From<[u8; 16]> for DocumentId {
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex digit");
        }
        out
    }

    /// Pairs printed by `stringifyAutomergeUrl` of npm `@automerge/automerge-repo` 2.5.6.
    const VECTORS: [(&str, &str); 3] = [
        (
            "00000000000000000000000000000000",
            "automerge:11111111111111114Ki9Gx",
        ),
        (
            "000102030405060708090a0b0c0d0e0f",
            "automerge:1Bhh3pU9gLXZiNDL6PEa1Gs9fh",
        ),
        (
            "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0",
            "automerge:4ZrZFcjeYBUkRtGVJ2HXHtxQJmBs",
        ),
    ];

    #[test]
    fn prints_as_automerge_repo_does() {
        for (bytes, url) in VECTORS {
            assert_eq!(DocumentId::from_bytes(hex(bytes)).to_url(), url);
        }
    }

    #[test]
    fn parses_as_automerge_repo_does() {
        for (bytes, url) in VECTORS {
            assert_eq!(
                DocumentId::parse(url),
                Ok(DocumentId::from_bytes(hex(bytes)))
            );
            let bare = url.trim_start_matches(URL_PREFIX);
            assert_eq!(bare.parse(), Ok(DocumentId::from_bytes(hex(bytes))));
        }
    }

    #[test]
    fn ignores_heads_in_a_url() {
        let id = DocumentId::parse("automerge:1Bhh3pU9gLXZiNDL6PEa1Gs9fh#2abc").expect("valid");
        assert_eq!(id.as_bytes()[1], 1);
    }

    #[test]
    fn rejects_a_bad_checksum() {
        // Last character changed: the payload no longer matches its checksum.
        assert!(matches!(
            DocumentId::parse("1Bhh3pU9gLXZiNDL6PEa1Gs9fi"),
            Err(IdError::BadChecksum(_))
        ));
    }

    #[test]
    fn rejects_a_wrong_length() {
        let short = bs58::encode([1u8, 2, 3]).with_check().into_string();
        assert_eq!(
            DocumentId::parse(&short),
            Err(IdError::WrongLength {
                id: short.clone(),
                len: 3
            })
        );
        assert!(matches!(
            DocumentId::parse(""),
            Err(IdError::WrongLength { .. })
        ));
    }

    #[test]
    fn rejects_characters_outside_base58() {
        assert!(matches!(
            DocumentId::parse("automerge:0OIl"),
            Err(IdError::NotBase58(_))
        ));
    }

    #[test]
    fn v7_ids_sort_by_time_and_carry_version_bits() {
        let early = DocumentId::new_v7(1_700_000_000_000, [0xff; 10]);
        let late = DocumentId::new_v7(1_700_000_000_001, [0x00; 10]);
        assert!(early < late);
        assert_eq!(early.as_bytes()[6] >> 4, 7);
        assert_eq!(late.as_bytes()[8] >> 6, 0b10);
        assert_eq!(DocumentId::parse(&late.to_url()), Ok(late));
    }
}
