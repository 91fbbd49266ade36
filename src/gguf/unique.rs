//! Duplicate detection without allocation.
//!
//! Finding a repeated name among `n` with O(1) memory takes O(n²) comparisons done naively, and
//! a GGUF file can hold ~40 000 tensor infos or ~55 000 keys per MiB. Instead, names are taken
//! in chunks of [`CHUNK`]: the chunk's (hash, offset) pairs are sorted on the stack, and every
//! name from the chunk's start onwards is looked up in it by binary search; equal hashes are
//! confirmed by comparing the bytes, so hash collisions cost time, never correctness. Every pair
//! `i < j` meets in the pass whose chunk holds `i`. Work: `n/CHUNK` walks of the table and
//! `n²/(2·CHUNK)` look-ups — one pass for files with at most 64 keys (or tensors), a few
//! passes for real models' tensor tables. The worst case stays quadratic (a time–space
//! trade-off no fixed-memory method avoids): 1 MiB of distinct keys parses in ≈ 2 s on a
//! desktop core.

use super::cursor::Cursor;
use crate::{Error, Result};

/// Names per pass. Stack use: `CHUNK × 16` bytes = 1 KiB.
pub(crate) const CHUNK: usize = 64;

/// Fails with [`Error::Malformed`] `{ what, offset }` (offset of the later occurrence) if two
/// names yielded by `names()` are equal. `names()` must yield, every time it is called, the
/// same `(offset, name)` sequence in increasing `offset` order, where each name is the GGUF
/// string stored at `offset` in `file`.
pub(crate) fn check_unique<'a, I, F>(file: &'a [u8], names: F, what: &'static str) -> Result<()>
where
    F: Fn() -> I,
    I: Iterator<Item = (usize, &'a [u8])>,
{
    let mut done = 0usize;
    loop {
        let mut chunk: [(u64, usize); CHUNK] = [(0, 0); CHUNK];
        let mut k = 0;
        for (slot, (offset, name)) in chunk.iter_mut().zip(names().skip(done)) {
            *slot = (hash(name), offset);
            k += 1;
        }
        let Some(chunk) = chunk.get_mut(..k).filter(|c| !c.is_empty()) else {
            return Ok(());
        };
        chunk.sort_unstable();
        for (offset, name) in names().skip(done) {
            let h = hash(name);
            let first = chunk.partition_point(|e| e.0 < h);
            let dup = chunk
                .get(first..)
                .unwrap_or(&[])
                .iter()
                .take_while(|e| e.0 == h)
                .any(|e| e.1 < offset && Cursor::at(file, e.1).raw_str().ok() == Some(name));
            if dup {
                return Err(Error::Malformed { what, offset });
            }
        }
        done = done.saturating_add(k);
    }
}

/// FNV-1a, 64-bit.
fn hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
