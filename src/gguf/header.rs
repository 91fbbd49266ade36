//! The fixed 24-byte file header.
//!
//! `magic: [u8; 4] = "GGUF"`, `version: u32`, `tensor_count: u64`, `metadata_kv_count: u64`,
//! little-endian.

use super::cursor::Cursor;
use crate::{Error, Result};

/// The four magic bytes at the start of every GGUF file.
pub const MAGIC: [u8; 4] = *b"GGUF";

/// Size of the header in bytes.
pub const HEADER_LEN: usize = 24;

/// Smallest encoding of one metadata key/value pair: key length (8), empty key, type (4), a
/// one-byte value.
const MIN_KV_LEN: usize = 8 + 4 + 1;

/// Smallest encoding of one tensor info: name length (8), empty name, `n_dims` (4), no dims,
/// type (4), offset (8).
const MIN_TENSOR_INFO_LEN: usize = 8 + 4 + 4 + 8;

/// The decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) version: u32,
    pub(crate) tensor_count: usize,
    pub(crate) metadata_count: usize,
}

impl Header {
    /// Reads and checks the header: magic, version 2 or 3, and counts that the rest of the
    /// file could hold at all (so a count of 2^60 in a tiny file fails here, at once).
    pub(crate) fn read(cur: &mut Cursor<'_>) -> Result<Header> {
        if cur.array::<4>()? != MAGIC {
            return Err(Error::Malformed {
                what: "magic (expected \"GGUF\")",
                offset: 0,
            });
        }
        let version = cur.u32()?;
        // v1 used 32-bit counts and lengths; v2 and v3 share the little-endian layout read
        // here (v3 only added big-endian files, whose version reads as 0x0300_0000).
        if !matches!(version, 2 | 3) {
            return Err(Error::Unsupported {
                what: "GGUF version",
                value: version.into(),
            });
        }
        let tensor_count = bounded_count(cur, MIN_TENSOR_INFO_LEN, "tensor count exceeds file")?;
        let metadata_count = bounded_count(cur, MIN_KV_LEN, "metadata count exceeds file")?;
        Ok(Header {
            version,
            tensor_count,
            metadata_count,
        })
    }
}

/// A `u64` count of records at least `min_len` bytes long each, bounded by the bytes left.
fn bounded_count(cur: &mut Cursor<'_>, min_len: usize, what: &'static str) -> Result<usize> {
    let offset = cur.pos();
    let n = cur.u64()?;
    match usize::try_from(n) {
        Ok(n) if n <= cur.remaining() / min_len => Ok(n),
        _ => Err(Error::Malformed { what, offset }),
    }
}
