//! Encoding of one K or V row into 32-bit words, and the two reads attention needs
//! (`q · k` and `out += w · v`), for every [`KvStorage`].

use super::cell::Cell;
use super::config::KvStorage;
use half::f16;

/// Stores `src` (`head_dim` values) into `dst` (`storage.row_words(head_dim)` words).
pub(crate) fn write(storage: KvStorage, dst: &mut [u32], src: &[f32]) {
    match storage {
        KvStorage::F32 => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = s.to_bits();
            }
        }
        KvStorage::F16 => {
            let mut pairs = src.chunks(2);
            for d in dst.iter_mut() {
                let (lo, hi) = match pairs.next() {
                    Some([a, b]) => (*a, *b),
                    Some([a]) => (*a, 0.0),
                    _ => (0.0, 0.0),
                };
                *d = u32::from(f16::from_f32(lo).to_bits())
                    | (u32::from(f16::from_f32(hi).to_bits()) << 16);
            }
        }
    }
}

#[inline]
fn halves(word: u32) -> (f32, f32) {
    (
        f16::from_bits(word as u16).to_f32(),
        f16::from_bits((word >> 16) as u16).to_f32(),
    )
}

/// `Σ_d q[d] · row[d]` in f32 (`q.len()` elements; a longer row is truncated).
#[inline]
pub(crate) fn dot<Q: Cell>(storage: KvStorage, row: &[u32], q: &[Q]) -> f32 {
    match storage {
        KvStorage::F32 => row
            .iter()
            .zip(q)
            .fold(0.0f32, |acc, (r, x)| acc + f32::from_bits(*r) * x.get()),
        KvStorage::F16 => {
            let mut acc = 0.0f32;
            let mut qs = q.chunks(2);
            for r in row {
                let (lo, hi) = halves(*r);
                match qs.next() {
                    Some([a, b]) => acc += lo * a.get() + hi * b.get(),
                    Some([a]) => acc += lo * a.get(),
                    _ => break,
                }
            }
            acc
        }
    }
}

/// `out[d] += weight · row[d]` (`out.len()` elements).
#[inline]
pub(crate) fn axpy(storage: KvStorage, row: &[u32], weight: f32, out: &mut [f32]) {
    match storage {
        KvStorage::F32 => {
            for (o, r) in out.iter_mut().zip(row) {
                *o += weight * f32::from_bits(*r);
            }
        }
        KvStorage::F16 => {
            let mut outs = out.chunks_mut(2);
            for r in row {
                let (lo, hi) = halves(*r);
                match outs.next() {
                    Some([a, b]) => {
                        *a += weight * lo;
                        *b += weight * hi;
                    }
                    Some([a]) => *a += weight * lo,
                    _ => break,
                }
            }
        }
    }
}

/// Decodes a stored row into `out` (`out.len()` elements).
pub(crate) fn read(storage: KvStorage, row: &[u32], out: &mut [f32]) {
    out.fill(0.0);
    axpy(storage, row, 1.0, out);
}
