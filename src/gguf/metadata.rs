//! The metadata key/value section.
//!
//! Each pair is a key (GGUF string, UTF-8) followed by a value (see [`value`](super::value)).
//! Keys are unique within a file.

use super::cursor::Cursor;
use super::seen::Seen;
use super::value::{read_value, Check, Value, ValueType};
use crate::{Error, Result};

/// The key holding the tensor data alignment.
pub const ALIGNMENT_KEY: &str = "general.alignment";

/// Alignment used when the file has no `general.alignment`.
pub const DEFAULT_ALIGNMENT: u32 = 32;

/// Reads one key/value pair at the cursor.
pub(crate) fn read_kv<'a>(cur: &mut Cursor<'a>, check: Check) -> Result<(&'a str, Value<'a>)> {
    let key = cur.str("metadata key is not UTF-8")?;
    let ty = ValueType::read(cur)?;
    let value = read_value(cur, ty, 0, check)?;
    Ok((key, value))
}

/// Validates `count` pairs starting at byte `start` of `file`: every value of every type, no
/// duplicate keys, and a well-formed `general.alignment` (a `u32`, nonzero power of two, as
/// llama.cpp requires). Returns the end of the section and the alignment.
///
/// Duplicate detection compares a key with all earlier ones (re-walking the earlier values)
/// only when a small Bloom filter ([`Seen`]) says it may be a repeat: linear in practice,
/// O(count · bytes) in the worst case.
pub(crate) fn validate(file: &[u8], start: usize, count: usize) -> Result<(usize, u32)> {
    let mut cur = Cursor::at(file, start);
    let mut alignment = DEFAULT_ALIGNMENT;
    let mut seen = Seen::new();
    for i in 0..count {
        let key_at = cur.pos();
        let (key, value) = read_kv(&mut cur, Check::Full)?;
        if seen.insert(key.as_bytes()) && MetadataIter::new(file, start, i).any(|(k, _)| k == key) {
            return Err(Error::Malformed {
                what: "duplicate metadata key",
                offset: key_at,
            });
        }
        if key == ALIGNMENT_KEY {
            alignment = match value {
                Value::U32(a) if a.is_power_of_two() => a,
                Value::U32(_) => {
                    return Err(Error::Malformed {
                        what: "general.alignment is not a nonzero power of two",
                        offset: key_at,
                    })
                }
                _ => {
                    return Err(Error::Malformed {
                        what: "general.alignment is not a u32",
                        offset: key_at,
                    })
                }
            };
        }
    }
    Ok((cur.pos(), alignment))
}

/// Iterator over the metadata pairs of a parsed [`File`](super::File), in file order.
#[derive(Debug, Clone)]
pub struct MetadataIter<'a> {
    cur: Cursor<'a>,
    remaining: usize,
}

impl<'a> MetadataIter<'a> {
    /// Iterates `count` validated pairs starting at byte `start` of `file`.
    pub(crate) fn new(file: &'a [u8], start: usize, count: usize) -> Self {
        MetadataIter {
            cur: Cursor::at(file, start),
            remaining: count,
        }
    }
}

impl<'a> Iterator for MetadataIter<'a> {
    type Item = (&'a str, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        match read_kv(&mut self.cur, Check::Trusted) {
            Ok(kv) => {
                self.remaining -= 1;
                Some(kv)
            }
            Err(_) => {
                // Unreachable for validated data; end rather than panic.
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}
