//! The subset of CBOR (RFC 8949) the automerge-repo protocol uses, decoded strictly.
//!
//! cbor-x on the JS side writes maps with text keys, text and byte strings, integers, floats,
//! booleans, null and undefined, and arrays. This reader accepts exactly those (definite or
//! indefinite length), checks every declared length against the bytes that remain before
//! allocating, bounds nesting and container sizes, and never panics. Tags are refused: the
//! protocol uses none (`tagUint8Array: false`).

use std::borrow::Cow;

use super::{DecodeLimits, FrameError};

/// One decoded CBOR item, borrowing strings from the frame where it can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Uint(u64),
    /// A negative integer `-1 - n`.
    Negative(u64),
    Bytes(Cow<'a, [u8]>),
    Text(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
    Bool(bool),
    Null,
    Undefined,
    Float(f64),
}

impl Value<'_> {
    /// What the item is, for error messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Value::Uint(_) | Value::Negative(_) => "an integer",
            Value::Bytes(_) => "a byte string",
            Value::Text(_) => "a text string",
            Value::Array(_) => "an array",
            Value::Map(_) => "a map",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
            Value::Undefined => "undefined",
            Value::Float(_) => "a float",
        }
    }
}

/// Decodes exactly one item filling all of `input`.
pub(crate) fn decode<'a>(input: &'a [u8], limits: &DecodeLimits) -> Result<Value<'a>, FrameError> {
    let mut reader = Reader {
        input,
        pos: 0,
        limits,
    };
    let value = reader.item(0)?;
    if reader.pos != input.len() {
        return Err(FrameError::Cbor {
            offset: reader.pos,
            reason: "bytes after the end of the message".into(),
        });
    }
    Ok(value)
}

struct Reader<'a, 'l> {
    input: &'a [u8],
    pos: usize,
    limits: &'l DecodeLimits,
}

/// The "break" stop code that ends an indefinite-length item.
const BREAK: u8 = 0xff;

impl<'a> Reader<'a, '_> {
    fn error(&self, reason: impl Into<String>) -> FrameError {
        FrameError::Cbor {
            offset: self.pos,
            reason: reason.into(),
        }
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], FrameError> {
        if len > self.remaining() {
            return Err(self.error(format!(
                "item declares {len} bytes but only {} remain",
                self.remaining()
            )));
        }
        let bytes = &self.input[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, FrameError> {
        Ok(self.take(1)?[0])
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// The argument of an initial byte; `None` means indefinite length.
    fn argument(&mut self, info: u8) -> Result<Option<u64>, FrameError> {
        Ok(Some(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.array::<2>()?)),
            26 => u64::from(u32::from_be_bytes(self.array::<4>()?)),
            27 => u64::from_be_bytes(self.array::<8>()?),
            31 => return Ok(None),
            _ => return Err(self.error(format!("reserved additional information {info}"))),
        }))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FrameError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A declared length, checked against what remains (each element needs at least
    /// `min_bytes_each` bytes) and against the container limit.
    fn length(&self, declared: u64, min_bytes_each: usize) -> Result<usize, FrameError> {
        let len =
            usize::try_from(declared).map_err(|_| self.error("length does not fit in memory"))?;
        if len > self.limits.max_items {
            return Err(FrameError::TooManyItems {
                count: len,
                max: self.limits.max_items,
            });
        }
        if len.saturating_mul(min_bytes_each) > self.remaining() {
            return Err(self.error(format!(
                "container declares {len} items but only {} bytes remain",
                self.remaining()
            )));
        }
        Ok(len)
    }

    fn item(&mut self, depth: usize) -> Result<Value<'a>, FrameError> {
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        match major {
            0 => Ok(Value::Uint(self.definite(info)?)),
            1 => Ok(Value::Negative(self.definite(info)?)),
            2 => Ok(Value::Bytes(self.string(info, 2)?)),
            3 => {
                let at = self.pos;
                match self.string(info, 3)? {
                    Cow::Borrowed(bytes) => std::str::from_utf8(bytes)
                        .map(|text| Value::Text(Cow::Borrowed(text)))
                        .map_err(|_| FrameError::Cbor {
                            offset: at,
                            reason: "text is not UTF-8".into(),
                        }),
                    Cow::Owned(bytes) => String::from_utf8(bytes)
                        .map(|text| Value::Text(Cow::Owned(text)))
                        .map_err(|_| FrameError::Cbor {
                            offset: at,
                            reason: "text is not UTF-8".into(),
                        }),
                }
            }
            4 | 5 => {
                if depth >= self.limits.max_depth {
                    return Err(FrameError::TooDeep {
                        max: self.limits.max_depth,
                    });
                }
                let declared = self.argument(info)?;
                if major == 4 {
                    self.list(declared, depth + 1).map(Value::Array)
                } else {
                    self.map(declared, depth + 1).map(Value::Map)
                }
            }
            6 => Err(self.error("tags are not used by the protocol")),
            _ => self.simple(info),
        }
    }

    fn definite(&mut self, info: u8) -> Result<u64, FrameError> {
        self.argument(info)?
            .ok_or_else(|| self.error("integers cannot have indefinite length"))
    }

    /// A byte or text string of major type `major`, joining the chunks of an indefinite one.
    fn string(&mut self, info: u8, major: u8) -> Result<Cow<'a, [u8]>, FrameError> {
        match self.argument(info)? {
            Some(declared) => {
                let len = usize::try_from(declared)
                    .map_err(|_| self.error("string longer than memory"))?;
                Ok(Cow::Borrowed(self.take(len)?))
            }
            None => {
                let mut joined = Vec::new();
                loop {
                    if self.peek() == Some(BREAK) {
                        self.pos += 1;
                        return Ok(Cow::Owned(joined));
                    }
                    let chunk = self.byte()?;
                    if chunk >> 5 != major || chunk & 0x1f == 31 {
                        return Err(self.error("bad chunk in an indefinite-length string"));
                    }
                    let declared = self.definite(chunk & 0x1f)?;
                    let len = usize::try_from(declared)
                        .map_err(|_| self.error("string longer than memory"))?;
                    joined.extend_from_slice(self.take(len)?);
                }
            }
        }
    }

    fn list(&mut self, declared: Option<u64>, depth: usize) -> Result<Vec<Value<'a>>, FrameError> {
        match declared {
            Some(declared) => {
                let len = self.length(declared, 1)?;
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(self.item(depth)?);
                }
                Ok(items)
            }
            None => {
                let mut items = Vec::new();
                while self.peek() != Some(BREAK) {
                    if items.len() >= self.limits.max_items {
                        return Err(FrameError::TooManyItems {
                            count: items.len() + 1,
                            max: self.limits.max_items,
                        });
                    }
                    items.push(self.item(depth)?);
                }
                self.pos += 1;
                Ok(items)
            }
        }
    }

    fn map(
        &mut self,
        declared: Option<u64>,
        depth: usize,
    ) -> Result<Vec<(Value<'a>, Value<'a>)>, FrameError> {
        let mut entries = Vec::new();
        match declared {
            Some(declared) => {
                let len = self.length(declared, 2)?;
                entries.reserve(len);
                for _ in 0..len {
                    let key = self.item(depth)?;
                    let value = self.item(depth)?;
                    entries.push((key, value));
                }
            }
            None => {
                while self.peek() != Some(BREAK) {
                    if entries.len() >= self.limits.max_items {
                        return Err(FrameError::TooManyItems {
                            count: entries.len() + 1,
                            max: self.limits.max_items,
                        });
                    }
                    let key = self.item(depth)?;
                    let value = self.item(depth)?;
                    entries.push((key, value));
                }
                self.pos += 1;
            }
        }
        Ok(entries)
    }

    fn simple(&mut self, info: u8) -> Result<Value<'a>, FrameError> {
        match info {
            20 => Ok(Value::Bool(false)),
            21 => Ok(Value::Bool(true)),
            22 => Ok(Value::Null),
            23 => Ok(Value::Undefined),
            25 => Ok(Value::Float(half_to_f64(u16::from_be_bytes(
                self.array::<2>()?,
            )))),
            26 => Ok(Value::Float(f64::from(f32::from_be_bytes(
                self.array::<4>()?,
            )))),
            27 => Ok(Value::Float(f64::from_be_bytes(self.array::<8>()?))),
            31 => Err(self.error("unexpected break")),
            _ => Err(self.error(format!("unsupported simple value {info}"))),
        }
    }
}

fn half_to_f64(half: u16) -> f64 {
    let exponent = i32::from((half >> 10) & 0x1f);
    let mantissa = f64::from(half & 0x3ff);
    let magnitude = match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (mantissa + 1024.0) * 2f64.powi(exponent - 25),
    };
    if half & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Writes CBOR the way cbor-x does for the protocol's maps: shortest-form heads, text keys.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.out
    }

    fn head(&mut self, major: u8, argument: u64) {
        let major = major << 5;
        if argument < 24 {
            self.out.push(major | argument as u8);
        } else if let Ok(byte) = u8::try_from(argument) {
            self.out.extend_from_slice(&[major | 24, byte]);
        } else if let Ok(short) = u16::try_from(argument) {
            self.out.push(major | 25);
            self.out.extend_from_slice(&short.to_be_bytes());
        } else if let Ok(word) = u32::try_from(argument) {
            self.out.push(major | 26);
            self.out.extend_from_slice(&word.to_be_bytes());
        } else {
            self.out.push(major | 27);
            self.out.extend_from_slice(&argument.to_be_bytes());
        }
    }

    pub(crate) fn map(&mut self, entries: usize) {
        self.head(5, entries as u64);
    }

    pub(crate) fn array(&mut self, items: usize) {
        self.head(4, items as u64);
    }

    pub(crate) fn text(&mut self, text: &str) {
        self.head(3, text.len() as u64);
        self.out.extend_from_slice(text.as_bytes());
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.head(2, bytes.len() as u64);
        self.out.extend_from_slice(bytes);
    }

    pub(crate) fn uint(&mut self, value: u64) {
        self.head(0, value);
    }

    pub(crate) fn bool(&mut self, value: bool) {
        self.out.push(if value { 0xf5 } else { 0xf4 });
    }

    pub(crate) fn null(&mut self) {
        self.out.push(0xf6);
    }

    /// A number as cbor-x writes a JS number: an integer up to 32 bits, else a double. (cbor-x
    /// reads a 64-bit integer as a BigInt, which JS code does not expect for counts and times.)
    pub(crate) fn number(&mut self, value: f64) {
        if value.fract() == 0.0 && value >= 0.0 && value <= f64::from(u32::MAX) {
            self.uint(value as u64);
        } else {
            self.out.push(0xfb);
            self.out.extend_from_slice(&value.to_be_bytes());
        }
    }

    /// A text key followed by a text value.
    pub(crate) fn entry_text(&mut self, key: &str, value: &str) {
        self.text(key);
        self.text(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> DecodeLimits {
        DecodeLimits::default()
    }

    #[test]
    fn decodes_the_rfc_examples_it_supports() {
        let cases: [(&[u8], Value<'_>); 10] = [
            (&[0x00], Value::Uint(0)),
            (&[0x18, 0x64], Value::Uint(100)),
            (
                &[0x1b, 0, 0, 0, 0xe8, 0xd4, 0xa5, 0x10, 0],
                Value::Uint(1_000_000_000_000),
            ),
            (&[0x38, 0x63], Value::Negative(99)),
            (&[0xf9, 0x3c, 0x00], Value::Float(1.0)),
            (&[0xfa, 0x47, 0xc3, 0x50, 0x00], Value::Float(100_000.0)),
            (
                &[0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
                Value::Float(1.1),
            ),
            (&[0x64, 0x49, 0x45, 0x54, 0x46], Value::Text("IETF".into())),
            (
                &[0x5f, 0x42, 1, 2, 0x41, 3, 0xff],
                Value::Bytes(vec![1, 2, 3].into()),
            ),
            (
                &[0x9f, 0x01, 0x02, 0xff],
                Value::Array(vec![Value::Uint(1), Value::Uint(2)]),
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(decode(bytes, &limits()), Ok(expected), "{bytes:02x?}");
        }
    }

    #[test]
    fn refuses_lengths_beyond_the_frame() {
        // A byte string claiming 2^32 bytes, and an array claiming a million items.
        assert!(matches!(
            decode(&[0x5a, 0xff, 0xff, 0xff, 0xff], &limits()),
            Err(FrameError::Cbor { .. })
        ));
        assert!(matches!(
            decode(&[0x9a, 0x00, 0x0f, 0x42, 0x40], &limits()),
            Err(FrameError::TooManyItems { .. }) | Err(FrameError::Cbor { .. })
        ));
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = [vec![0x81u8; 100], vec![0x00]].concat();
        assert_eq!(
            decode(&deep, &limits()),
            Err(FrameError::TooDeep {
                max: limits().max_depth
            })
        );
    }

    #[test]
    fn refuses_trailing_bytes_tags_and_bad_utf8() {
        assert!(decode(&[0x00, 0x00], &limits()).is_err());
        assert!(decode(&[0xc1, 0x00], &limits()).is_err());
        assert!(decode(&[0x62, 0xff, 0xfe], &limits()).is_err());
        assert!(decode(&[], &limits()).is_err());
        assert!(decode(&[0xff], &limits()).is_err());
    }

    #[test]
    fn writer_output_reads_back() {
        let mut writer = Writer::default();
        writer.map(3);
        writer.entry_text("type", "sync");
        writer.text("count");
        writer.number(70_000.0);
        writer.text("data");
        writer.bytes(&[0x42, 1]);
        let bytes = writer.finish();
        let expected = Value::Map(vec![
            (Value::Text("type".into()), Value::Text("sync".into())),
            (Value::Text("count".into()), Value::Uint(70_000)),
            (
                Value::Text("data".into()),
                Value::Bytes(vec![0x42, 1].into()),
            ),
        ]);
        assert_eq!(decode(&bytes, &limits()), Ok(expected));
    }
}
