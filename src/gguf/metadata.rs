//! The metadata key/value section.
//!
//! Each pair is a key (GGUF string, UTF-8) followed by a value (see [`value`](super::value)).
//! Keys are unique within a file.

use super::cursor::Cursor;
use super::unique::check_unique;
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
/// Duplicates are found by [`check_unique`] once all pairs are known to be well formed.
pub(crate) fn validate(file: &[u8], start: usize, count: usize) -> Result<(usize, u32)> {
    let mut cur = Cursor::at(file, start);
    let mut alignment = DEFAULT_ALIGNMENT;
    for _ in 0..count {
        let key_at = cur.pos();
        let (key, value) = read_kv(&mut cur, Check::Full)?;
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
    check_unique(file, || keys(file, start, count), "duplicate metadata key")?;
    Ok((cur.pos(), alignment))
}

/// `(offset, key)` of each of `count` validated pairs starting at byte `start` of `file`.
fn keys(file: &[u8], start: usize, count: usize) -> impl Iterator<Item = (usize, &[u8])> {
    let mut cur = Cursor::at(file, start);
    (0..count).map_while(move |_| {
        let at = cur.pos();
        let key = cur.raw_str().ok()?;
        let ty = ValueType::read(&mut cur).ok()?;
        read_value(&mut cur, ty, 0, Check::Trusted).ok()?;
        Some((at, key))
    })
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
