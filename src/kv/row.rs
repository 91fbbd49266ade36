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
        KvStorage::Q8 => {
            let Some((scale_word, packed)) = dst.split_first_mut() else {
                return;
            };
            let amax = src.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let scale = amax / 127.0;
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            *scale_word = scale.to_bits();
            let mut quads = src.chunks(4);
            for d in packed.iter_mut() {
                let mut word = 0u32;
                if let Some(quad) = quads.next() {
                    for (i, x) in quad.iter().enumerate() {
                        word |= u32::from(quantise(*x, inv) as u8) << (8 * i);
                    }
                }
                *d = word;
            }
        }
    }
}

/// `round(x · inv)` half away from zero, clamped to ±127 (NaN → 0; `as` saturates).
#[inline]
fn quantise(x: f32, inv: f32) -> i8 {
    let r = x * inv;
    let r = if r >= 0.0 { r + 0.5 } else { r - 0.5 };
    (r as i32).clamp(-127, 127) as i8
}

/// The four `i8` of a packed Q8 word as f32.
#[inline]
fn quad(word: u32) -> [f32; 4] {
    [
        f32::from(word as u8 as i8),
        f32::from((word >> 8) as u8 as i8),
        f32::from((word >> 16) as u8 as i8),
        f32::from((word >> 24) as u8 as i8),
    ]
}

/// The two binary16 halves of a word as f32 (exact; the crate's branch-free conversion, which
/// vectorises, instead of `half`'s branching one: a demo token on Cortex-M4F spent 6 % of its
/// instructions converting F16 keys with `half`).
#[inline]
fn halves(word: u32) -> (f32, f32) {
    (
        crate::quant::f16_to_f32(word as u16),
        crate::quant::f16_to_f32((word >> 16) as u16),
    )
}

/// `Σ_d q[d] · row[d]` in f32 (`q.len()` elements; a longer row is truncated; a Q8 row's sum
/// is multiplied by its scale at the end).
///
/// Summation order, the same for every storage and on every target: 8 lane sums (lane `l`
/// accumulates elements `8i + l`), added in lane order, plus the elements after the last full
/// 8-group in order ([`dot_cells`], `ops::dot`'s order). Eight independent sums instead of one
/// serial chain: the decode of a 110M model spent 7 % of its time in this loop when it was a
/// fold (one add latency per element).
#[inline]
pub(crate) fn dot<Q: Cell>(storage: KvStorage, row: &[u32], q: &[Q]) -> f32 {
    match storage {
        KvStorage::F32 => dot_cells(row, q),
        KvStorage::F16 => {
            if let Some(d) = Q::as_f32s(q).and_then(|q| crate::quant::dot_f16_words(row, q)) {
                return d; // the Arm DSP kernel, same order and bits as below
            }
            let mut acc = [0.0f32; LANES];
            let r4 = row.as_chunks::<4>().0;
            let q8 = q.as_chunks::<LANES>().0;
            for (r, qs) in r4.iter().zip(q8) {
                let [a, b, c, d] = r.map(halves);
                let v = [a.0, a.1, b.0, b.1, c.0, c.1, d.0, d.1];
                for ((s, x), y) in acc.iter_mut().zip(v).zip(qs) {
                    *s += x * y.get();
                }
            }
            let done = r4.len().min(q8.len());
            let rt = row.get(4 * done..).unwrap_or(&[]);
            let qt = q.get(LANES * done..).unwrap_or(&[]);
            // the rest element by element, as `quant::row::tail_f16`
            let mut tail = 0.0f32;
            let mut qs = qt.chunks(2);
            for r in rt {
                let (lo, hi) = halves(*r);
                match qs.next() {
                    Some([a, b]) => {
                        tail += lo * a.get();
                        tail += hi * b.get();
                    }
                    Some([a]) => tail += lo * a.get(),
                    _ => break,
                }
            }
            acc.iter().sum::<f32>() + tail
        }
        KvStorage::Q8 => {
            let Some((scale, packed)) = row.split_first() else {
                return 0.0;
            };
            let mut acc = [0.0f32; LANES];
            let w2 = packed.as_chunks::<2>().0;
            let q8 = q.as_chunks::<LANES>().0;
            for (w, qs) in w2.iter().zip(q8) {
                let [a, b] = w.map(quad);
                let v = [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]];
                for ((s, x), y) in acc.iter_mut().zip(v).zip(qs) {
                    *s += x * y.get();
                }
            }
            let done = w2.len().min(q8.len());
            let wt = packed.get(2 * done..).unwrap_or(&[]);
            let qt = q.get(LANES * done..).unwrap_or(&[]);
            let mut tail = 0.0f32;
            for (w, qs) in wt.iter().zip(qt.chunks(4)) {
                for (a, b) in quad(*w).iter().zip(qs) {
                    tail += a * b.get();
                }
            }
            f32::from_bits(*scale) * (acc.iter().sum::<f32>() + tail)
        }
    }
}

/// Lane sums per 8-group in [`dot`] and [`dot_cells`].
const LANES: usize = 8;

/// `Σ_i a[i] · b[i]` over the common length, in [`dot`]'s order (8 lane sums, then the rest in
/// order). The F32 cache rows and SnapKV's reference mode (caller f32 slices) share it, so
/// the two modes score keys bit for bit alike.
#[inline]
pub(crate) fn dot_cells<A: Cell, B: Cell>(a: &[A], b: &[B]) -> f32 {
    let n = a.len().min(b.len());
    let (a8, at) = a.get(..n).unwrap_or(&[]).as_chunks::<LANES>();
    let (b8, bt) = b.get(..n).unwrap_or(&[]).as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for (x, y) in a8.iter().zip(b8) {
        for ((s, x), y) in acc.iter_mut().zip(x).zip(y) {
            *s += x.get() * y.get();
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in at.iter().zip(bt) {
        tail += x.get() * y.get();
    }
    acc.iter().sum::<f32>() + tail
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
            // the Arm DSP kernel takes whole groups of 8 (each element's `o + w·v` the same)
            let done = crate::quant::axpy_f16_words(row, weight, out);
            let row = row.get(done / 2..).unwrap_or(&[]);
            let mut outs = out.get_mut(done..).unwrap_or(&mut []).chunks_mut(2);
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
        KvStorage::Q8 => {
            let Some((scale, packed)) = row.split_first() else {
                return;
            };
            let ws = weight * f32::from_bits(*scale);
            for (w, os) in packed.iter().zip(out.chunks_mut(4)) {
                for (a, o) in quad(*w).iter().zip(os) {
                    *o += ws * a;
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
