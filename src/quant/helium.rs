//! Helium (Armv8.1-M MVE) row kernels for Cortex-M55/M85: the `Q8_0 × Q8_0` matvec, and
//! F32, F16 and `Q8_0 × f32` matvecs (at the end of this file; bit-identical to the scalar
//! path unless a product or partial sum is subnormal: QEMU 7.2's MVE flushes those).
//!
//! Selected at compile time by the `picoformer_arm_mve` cfg (set by `build.rs` when the
//! rustflags select `target-cpu=cortex-m55`/`cortex-m85` on a hard-float Armv8-M Mainline
//! target: rustc has no Armv8.1-M target and `cfg(target_feature = "mve")` is unstable).
//! Bit-identical to the scalar path (checked in the QEMU firmware self-tests:
//! `check_q8_simd` and `check_f32_simd` in `targets/fw-common/src/bench.rs`, the F16 and
//! `Q8_0 × f32` checks in `targets/cortex-m55-qemu/src/main.rs`).
//!
//! Per block of 32 and per row, the same formula as the scalar
//! [`dot_blocks_q8`](super::q8_0::dot_blocks_q8): `sum += f32(Σ_j qw_j · qx_j) · (d_w · d_x)`,
//! blocks in ascending order, starting from `sum = +0.0`. Four rows run in the four f32 lanes
//! of one vector, each lane doing exactly the scalar operations (IEEE single, round to
//! nearest, no fusion) in the scalar order:
//!
//! - `VLDRB.S8` + `VMLADAV.S8` / `VMLADAVA.S8` (disassembled as their aliases `VMLAV`/`VMLAVA`):
//!   the exact i32 block sum of each row
//!   (|Σ| ≤ 32 · 128² = 2¹⁹) in a general-purpose register; the two activation halves are
//!   loaded once per block for the four rows;
//! - the four row scales gathered as bytes (two `VLDRB.U32` gathers + `VSLI`: MVE vector
//!   loads fault on addresses not aligned to their element size, and rows may sit at any
//!   address) and widened exactly by `VCVTB.F32.F16`; the activation scales widened once per
//!   matvec into a stack buffer (`LDRH` + scalar `VCVTB`), one `LDR` per block;
//! - `VMOV` (two GPRs to two lanes) ×2, `VCVT.F32.S32` (exact: |Σ| < 2²⁴), `VMUL.F32`
//!   (`d_w · d_x`), `VMUL.F32`, `VADD.F32`.
//!
//! No subnormal f32 can arise (every non-zero product and partial sum is a multiple of 2⁻⁴⁸,
//! the square of the smallest f16 subnormal), so the result does not depend on whether the
//! vector unit flushes subnormals (QEMU 7.2's MVE does; the scalar FPU does not by default).
//! (With NaN scales both paths give a NaN, not necessarily with the same payload.)
//!
//! 30 instructions per block of four rows (128 MACs) in the inner loop; one `asm!` block runs
//! every group of four rows (Cortex-M55 under QEMU, 288 × 288, pre-quantised activations:
//! 0.256 instructions/MAC, `bash scripts/icount.sh m55`).

use core::arch::asm;
use core::slice::ChunksExact;

use super::q8_0::{Q8_0_BLOCK_BYTES, QK8_0};

/// Rows per pass: the four f32 lanes of a vector.
const ROWS: usize = 4;

/// Activation blocks per pass over the rows: their scales are widened to f32 once into a
/// stack buffer of this many entries (longer rows run in several passes, each continuing the
/// four sums from `out`).
const XCHUNK: usize = 64;

/// `dx[b] = f32(d_b)` for the scales of the first `dx.len()` blocks of `xq` (scalar
/// `LDRH`, any alignment, and the FPU's exact `VCVTB.F32.F16`). Does nothing unless `xq` holds
/// that many blocks.
#[inline(always)]
fn x_scales(xq: &[u8], dx: &mut [f32]) {
    let n = dx.len();
    if n == 0 || n.checked_mul(Q8_0_BLOCK_BYTES).is_none_or(|b| b > xq.len()) {
        return;
    }
    // SAFETY: `n ≥ 1` iterations read the halfword at `34b` of `xq` (`n` blocks, checked
    // above; `LDRH` may be unaligned with the default CCR.UNALIGN_TRP = 0) and write `dx[b]`
    // (4-byte aligned f32, `n` entries). s0 is saved and restored around its use (rustc
    // cannot name FPU registers on this target); `SUBS` sets the flags.
    unsafe {
        asm!(
            "vpush {{s0}}",
            "2:",
            "ldrh {t}, [{px}], #34",
            "vmov s0, {t}",
            "vcvtb.f32.f16 s0, s0",
            "vstmia {pd}!, {{s0}}",
            "subs {n}, #1",
            "bne 2b",
            "vpop {{s0}}",
            px = inout(reg) xq.as_ptr() => _,
            pd = inout(reg) dx.as_mut_ptr() => _,
            n = inout(reg) n => _,
            t = out(reg) _,
            // Not `nostack`: VPUSH/VPOP use the stack.
        );
    }
}

/// `out[r] += …` the `nb` block terms `f32(Σ_j qw_j · qx_j) · (d_w · d_x)` (in block order,
/// continuing each sum from `out`) for the rows `r < 4 · groups` that start at `stride · r`
/// in `rows` (`stride = 0`: the same row in every lane), with `dx` the activation scales of
/// those blocks as f32. Returns `false` (nothing computed) unless `groups ≥ 1`, `nb ≥ 1`,
/// every such row and `xq` hold `nb` blocks, `dx` has `nb` entries and `out` has
/// `4 · groups`. Any alignment: MVE vector loads fault on addresses not aligned to their
/// element size, so the row scales are gathered as bytes.
///
/// One `asm!` block for all groups: per group the block loop (`DLS`/`LE`), then the four sums
/// are stored and the row pointers advance to the next group.
#[inline(always)]
fn run(rows: &[u8], stride: usize, groups: usize, xq: &[u8], dx: &[f32], out: &mut [f32]) -> bool {
    let nb = dx.len();
    let fits = || {
        let bytes = nb.checked_mul(Q8_0_BLOCK_BYTES)?;
        let span = (ROWS.checked_mul(groups)?.checked_sub(1)?)
            .checked_mul(stride)?
            .checked_add(bytes)?;
        let ok = nb > 0
            && span <= rows.len()
            && bytes <= xq.len()
            && out.len() >= ROWS.checked_mul(groups)?
            && u32::try_from(span).is_ok();
        ok.then_some(bytes)
    };
    let Some(bytes) = fits() else {
        return false;
    };
    // Offsets (wrapping, the gather adds them modulo 2³²) of each lane's scale from the quants
    // of lane 0's block, the activation pointer (at its first quants), the pointer step from
    // the end of one group's rows to the start of the next, the group count, the blocks and
    // the activation scales.
    let s = stride as u32;
    let mut io: [u32; 12] = [
        0u32.wrapping_sub(2),
        s.wrapping_sub(2),
        (2 * s).wrapping_sub(2),
        (3 * s).wrapping_sub(2),
        xq.as_ptr().wrapping_add(2) as u32,
        (ROWS as u32 * s).wrapping_sub(bytes as u32),
        groups as u32,
        nb as u32,
        dx.as_ptr() as u32,
        0,
        0,
        0,
    ];
    let p0 = rows.as_ptr().wrapping_add(2);
    // SAFETY: lane k of group g reads, for each block b < nb, the 34 bytes at
    // `(4g + k) · stride + 34b` of `rows` (the scale's two bytes by two byte gathers, the
    // quants by two 16-byte `VLDRB`; byte elements, any alignment), the
    // quants of the same block of `xq` (`VLDRB`) and `dx[b]` (`LDR`): inside the slices by
    // `fits` (the last row of the last group ends at `span ≤ rows.len()`; `xq` holds `nb`
    // blocks, `dx` `nb` entries). The row pointers move by 34 per block and by
    // `4 · stride − 34 · nb` per group, only ever pointing into or just past `rows` before a
    // read. `io` (4-byte aligned) is read by `VLDRW`/`LDR` and its group counter written back;
    // `out` (f32, 4-byte aligned) has `4 · groups` words read and written by `VLDRW`/`VSTRW`.
    // q0–q7 are saved and restored on the stack around their use (rustc cannot name FPU/MVE
    // registers on this target), so no register visible to the compiler changes except the
    // declared outputs; the block counter lives in LR (`DLS`/`LE`). `SUBS` sets the flags;
    // FPSCR cumulative exception bits may be set (inexact).
    unsafe {
        asm!(
            "vpush {{d0-d15}}",
            "vldrw.u32 q6, [{io}]",
            "vmov.i32 q3, #1",
            "vadd.i32 q3, q3, q6",
            "3:",
            "vldrw.u32 q7, [{out}]",
            "ldr r0, [{io}, #28]",
            "dls lr, r0",
            "2:",
            // Scales: the four rows (low and high bytes gathered from lane 0's quants, any
            // alignment) times the activation's.
            "ldr r0, [{pd}], #4",
            "vldrb.u32 q5, [{p0}, q6]",
            "vldrb.u32 q2, [{p0}, q3]",
            "vsli.32 q5, q2, #8",
            "vcvtb.f32.f16 q5, q5",
            "vmul.f32 q5, q5, r0",
            // Activation quants, shared by the four rows.
            "vldrb.s8 q1, [{px}, #16]",
            "vldrb.s8 q0, [{px}], #34",
            // Exact block sums of lanes 0 and 2, into lanes 0 and 2 of q4.
            "vldrb.s8 q2, [{p0}, #16]",
            "vmladav.s8 r0, q2, q1",
            "vldrb.s8 q2, [{p0}], #34",
            "vmladava.s8 r0, q2, q0",
            "vldrb.s8 q2, [{p2}, #16]",
            "vmladav.s8 r2, q2, q1",
            "vldrb.s8 q2, [{p2}], #34",
            "vmladava.s8 r2, q2, q0",
            // `VMOV Qd[i+2], Qd[i], Rt, Rt2` puts Rt (the first register) in lane i and Rt2 in
            // lane i + 2 (as LLVM's own insert-element lowering uses it, and QEMU executes it).
            "vmov q4[2], q4[0], r0, r2",
            // Lanes 1 and 3.
            "vldrb.s8 q2, [{p1}, #16]",
            "vmladav.s8 r0, q2, q1",
            "vldrb.s8 q2, [{p1}], #34",
            "vmladava.s8 r0, q2, q0",
            "vldrb.s8 q2, [{p3}, #16]",
            "vmladav.s8 r2, q2, q1",
            "vldrb.s8 q2, [{p3}], #34",
            "vmladava.s8 r2, q2, q0",
            "vmov q4[3], q4[1], r0, r2",
            // sum += f32(sumi) · (d_w · d_x), per lane.
            "vcvt.f32.s32 q4, q4",
            "vmul.f32 q4, q4, q5",
            "vadd.f32 q7, q7, q4",
            "le lr, 2b",
            // Next group: store the sums, move the pointers, count down.
            "vstrw.32 q7, [{out}], #16",
            "ldr r0, [{io}, #20]",
            "add {p0}, r0",
            "add {p1}, r0",
            "add {p2}, r0",
            "add {p3}, r0",
            "ldr {px}, [{io}, #16]",
            "ldr {pd}, [{io}, #32]",
            "ldr r0, [{io}, #24]",
            "subs r0, #1",
            "str r0, [{io}, #24]",
            "bne 3b",
            "vpop {{d0-d15}}",
            io = in(reg) io.as_mut_ptr(),
            out = inout(reg) out.as_mut_ptr() => _,
            px = inout(reg) xq.as_ptr().wrapping_add(2) => _,
            pd = inout(reg) dx.as_ptr() => _,
            p0 = inout(reg) p0 => _,
            p1 = inout(reg) p0.wrapping_add(stride) => _,
            p2 = inout(reg) p0.wrapping_add(2 * stride) => _,
            p3 = inout(reg) p0.wrapping_add(3 * stride) => _,
            out("r0") _,
            out("r2") _,
            out("lr") _,
            // Not `nostack`: VPUSH/VPOP use the stack.
        );
    }
    true
}

/// `out[r] = dot_blocks_q8(row r, xq)` over `nb` blocks for the rows `r < 4 · groups` at
/// `stride · r` in `rows` ([`run`] over chunks of [`XCHUNK`] blocks, sums starting at
/// `+0.0`). Returns `false` (`out` unspecified) where [`run`] would.
#[inline(always)]
fn q8_rows(
    rows: &[u8],
    stride: usize,
    groups: usize,
    xq: &[u8],
    nb: usize,
    out: &mut [f32],
) -> bool {
    let Some(out) = out.get_mut(..ROWS * groups) else {
        return false;
    };
    out.fill(0.0);
    let mut dx = [0.0f32; XCHUNK];
    let mut b0 = 0;
    while b0 < nb {
        let n = XCHUNK.min(nb - b0);
        let at = b0 * Q8_0_BLOCK_BYTES;
        let (Some(r), Some(x), Some(dx)) = (rows.get(at..), xq.get(at..), dx.get_mut(..n)) else {
            return false;
        };
        x_scales(x, dx);
        if !run(r, stride, groups, x, dx, out) {
            return false;
        }
        b0 += n;
    }
    nb > 0
}

/// Blocks shared by a row and `xq`.
#[inline(always)]
fn blocks(row: &[u8], xq: &[u8]) -> usize {
    row.len().min(xq.len()) / Q8_0_BLOCK_BYTES
}

/// `Q8_0 × Q8_0` dot product of one row (same result as the scalar `dot_blocks_q8`): the
/// kernel with the row in every lane.
#[inline]
pub(crate) fn dot_q8(a: &[u8], b: &[u8]) -> f32 {
    let mut o = [0.0f32; ROWS];
    if q8_rows(a, 0, 1, b, blocks(a, b), &mut o) {
        o[0]
    } else {
        super::q8_0::dot_blocks_q8(a, b)
    }
}

/// `out[r] = dot_q8(row r, xq)`; the shorter of `rows` / `out` bounds the work.
///
/// The rows of a `ChunksExact` are consecutive chunks of one slice, so the kernel runs over
/// that slice with the chunk size as stride: all full groups of four in one call, then the
/// last four rows again (the same bits per lane) for a remainder of 1–3 rows; fewer than four
/// rows (or rows that are not one slice) run one at a time.
#[inline]
pub(crate) fn matvec_q8(mut rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    let n = out.len().min(rows.len());
    let Some(first) = rows.next() else {
        return;
    };
    let stride = first.len();
    let nb = blocks(first, xq);
    // The `n` rows as one slice: the `n`-th row must start `(n − 1) · stride` bytes after
    // the first.
    let contiguous = n >= ROWS
        && nb > 0
        && rows
            .clone()
            .nth(n - 2)
            .is_some_and(|l| l.as_ptr() == first.as_ptr().wrapping_add((n - 1) * stride));
    if !contiguous {
        for (o, r) in out.iter_mut().zip(core::iter::once(first).chain(rows)) {
            *o = dot_q8(r, xq);
        }
        return;
    }
    let span = n * stride;
    // SAFETY: `first` and the `n`-th row are chunks of one `ChunksExact` (chunks of `stride`
    // bytes, consecutive in one slice, as checked by their addresses), so the
    // `span = n · stride` bytes from `first` are that slice's, borrowed for as long as `rows`.
    let all = unsafe { core::slice::from_raw_parts(first.as_ptr(), span) };
    let Some(out) = out.get_mut(..n) else {
        return;
    };
    let mut done = q8_rows(all, stride, n / ROWS, xq, nb, out);
    let tail = n % ROWS;
    if done && tail > 0 {
        let mut o = [0.0f32; ROWS];
        let last4 = all.get((n - ROWS) * stride..).unwrap_or(&[]);
        done = q8_rows(last4, stride, 1, xq, nb, &mut o);
        for (dst, src) in out.iter_mut().rev().zip(o.iter().rev()).take(tail) {
            *dst = *src;
        }
    }
    if !done {
        for (o, r) in out.iter_mut().zip(all.chunks_exact(stride)) {
            *o = super::q8_0::dot_blocks_q8(r, xq);
        }
    }
}

/// f32 lanes of the scalar [`dot_f32`](super::row::dot_f32): lane `l` of 8 accumulates
/// `w[8i + l] · x[8i + l]` (product rounded, then sum rounded) in ascending `i`.
const LANES: usize = 8;

/// Rows per pass of the F32 kernel: 3 rows × 2 vectors of accumulators, one activation
/// vector and one temporary fill the eight q registers.
const ROWS_F32: usize = 3;

/// `lanes + tail` for one row, in the scalar [`dot_f32`](super::row::dot_f32)'s order:
/// `lanes` = the 8 lane accumulators summed in lane order, `tail = Σ w[c] · x[c]` over the
/// elements after the last full chunk of 8.
#[inline(always)]
fn finish_f32(lanes: f32, row: &[u8], x: &[f32], chunks: usize) -> f32 {
    let rt = row.get(chunks * LANES * 4..).unwrap_or(&[]);
    let xt = x.get(chunks * LANES..).unwrap_or(&[]);
    lanes + super::row::tail_f32(rt, xt)
}

/// Full chunks of 8 of a row of `B`-byte weights (F32: 4, F16: 2) with `x`, if the row is
/// exactly `B · x.len()` bytes.
#[inline(always)]
fn chunks<const B: usize>(row: &[u8], x: &[f32]) -> Option<usize> {
    let chunks = x.len() / LANES;
    (chunks > 0 && row.len() == B * x.len() && u32::try_from(row.len()).is_ok()).then_some(chunks)
}

/// The 8 lane accumulators of one row (`VLDRB` of 16 weight bytes — any alignment — then
/// `VMUL.F32` and `VADD.F32` per 4 lanes; 8 instructions per 8 MACs), summed in lane order
/// by scalar `VADD.F32` (the scalar FPU, as the scalar path's final sum).
#[inline(always)]
fn lanes_f32x1(row: &[u8], x: &[f32], chunks: usize) -> f32 {
    let mut acc = [0.0f32; 1];
    if chunks == 0 || row.len() < chunks * 32 || x.len() < chunks * LANES {
        return 0.0;
    }
    // SAFETY: `chunks ≥ 1` iterations read 32 bytes of `row` and 8 f32 of `x` each, in bounds
    // by the check above; `VLDRB` has byte elements (any alignment), `VLDRW`/`VSTR` access
    // the 4-byte aligned f32 slices `x` and `acc` (one word per row written once). q0–q7 are saved and
    // restored around their use (rustc cannot name them on this target); the counter lives
    // in LR (`DLS`/`LE`); APSR is untouched, FPSCR cumulative flags may be set.
    unsafe {
        asm!(
            "vpush {{d0-d15}}",
            "vmov.i32 q0, #0",
            "vmov.i32 q1, #0",
            "dls lr, {n}",
            "2:",
            "vldrw.u32 q6, [{px}], #16",
            "vldrb.u8 q7, [{p0}], #16",
            "vmul.f32 q7, q7, q6",
            "vadd.f32 q0, q0, q7",
            "vldrw.u32 q6, [{px}], #16",
            "vldrb.u8 q7, [{p0}], #16",
            "vmul.f32 q7, q7, q6",
            "vadd.f32 q1, q1, q7",
            "le lr, 2b",
            "vadd.f32 s0, s0, s1",
            "vadd.f32 s0, s0, s2",
            "vadd.f32 s0, s0, s3",
            "vadd.f32 s0, s0, s4",
            "vadd.f32 s0, s0, s5",
            "vadd.f32 s0, s0, s6",
            "vadd.f32 s0, s0, s7",
            "vstr s0, [{acc}]",
            "vpop {{d0-d15}}",
            acc = in(reg) acc.as_mut_ptr(),
            n = in(reg) chunks,
            px = inout(reg) x.as_ptr() => _,
            p0 = inout(reg) row.as_ptr() => _,
            out("lr") _,
            // Not `nostack`: VPUSH/VPOP use the stack.
        );
    }
    acc[0]
}

/// The summed lane accumulators of three rows sharing each activation load (20 instructions
/// per 24 MACs).
#[inline(always)]
fn lanes_f32x3(rows: [&[u8]; ROWS_F32], x: &[f32], chunks: usize) -> [f32; ROWS_F32] {
    let mut acc = [0.0f32; ROWS_F32];
    if chunks == 0 || rows.iter().any(|r| r.len() < chunks * 32) || x.len() < chunks * LANES {
        return acc;
    }
    let [r0, r1, r2] = rows.map(<[u8]>::as_ptr);
    // SAFETY: as in `lanes_f32x1`, for three rows of at least `32 · chunks` bytes each (checked
    // above); `acc` is 3 aligned f32, written once by three `VSTR`.
    unsafe {
        asm!(
            "vpush {{d0-d15}}",
            "vmov.i32 q0, #0",
            "vmov.i32 q1, #0",
            "vmov.i32 q2, #0",
            "vmov.i32 q3, #0",
            "vmov.i32 q4, #0",
            "vmov.i32 q5, #0",
            "dls lr, {n}",
            "2:",
            "vldrw.u32 q6, [{px}], #16",
            "vldrb.u8 q7, [{p0}], #16",
            "vmul.f32 q7, q7, q6",
            "vadd.f32 q0, q0, q7",
            "vldrb.u8 q7, [{p1}], #16",
            "vmul.f32 q7, q7, q6",
            "vadd.f32 q2, q2, q7",
            "vldrb.u8 q7, [{p2}], #16",
            "vmul.f32 q7, q7, q6",
            "vadd.f32 q4, q4, q7",
            "vldrw.u32 q6, [{px}], #16",
            "vldrb.u8 q7, [{p0}], #16",
            "vmul.f32 q7, q7, q6",
            "vadd.f32 q1, q1, q7",
            "vldrb.u8 q7, [{p1}], #16",
            "vmul.f32 q7, q7, q6",
            "vadd.f32 q3, q3, q7",
            "vldrb.u8 q7, [{p2}], #16",
            "vmul.f32 q7, q7, q6",
            "vadd.f32 q5, q5, q7",
            "le lr, 2b",
            "vadd.f32 s0, s0, s1",
            "vadd.f32 s0, s0, s2",
            "vadd.f32 s0, s0, s3",
            "vadd.f32 s0, s0, s4",
            "vadd.f32 s0, s0, s5",
            "vadd.f32 s0, s0, s6",
            "vadd.f32 s0, s0, s7",
            "vadd.f32 s8, s8, s9",
            "vadd.f32 s8, s8, s10",
            "vadd.f32 s8, s8, s11",
            "vadd.f32 s8, s8, s12",
            "vadd.f32 s8, s8, s13",
            "vadd.f32 s8, s8, s14",
            "vadd.f32 s8, s8, s15",
            "vadd.f32 s16, s16, s17",
            "vadd.f32 s16, s16, s18",
            "vadd.f32 s16, s16, s19",
            "vadd.f32 s16, s16, s20",
            "vadd.f32 s16, s16, s21",
            "vadd.f32 s16, s16, s22",
            "vadd.f32 s16, s16, s23",
            "vstr s0, [{acc}]",
            "vstr s8, [{acc}, #4]",
            "vstr s16, [{acc}, #8]",
            "vpop {{d0-d15}}",
            acc = in(reg) acc.as_mut_ptr(),
            n = in(reg) chunks,
            px = inout(reg) x.as_ptr() => _,
            p0 = inout(reg) r0 => _,
            p1 = inout(reg) r1 => _,
            p2 = inout(reg) r2 => _,
            out("lr") _,
            // Not `nostack`: VPUSH/VPOP use the stack.
        );
    }
    acc
}

/// F32 row dot product, bit-identical to the scalar [`dot_f32`](super::row::dot_f32) as
/// long as no product or partial sum is subnormal (|v| < 2⁻¹²⁶): the same lane order and
/// rounding steps, but QEMU 7.2's MVE flushes subnormals to zero where the scalar FPU keeps
/// them. Needs a row of exactly `4 · x.len()` bytes; anything else takes the scalar path.
#[inline]
pub(crate) fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    let Some(chunks) = chunks::<4>(row, x) else {
        return super::row::dot_f32(row, x);
    };
    finish_f32(lanes_f32x1(row, x, chunks), row, x, chunks)
}

/// `out[r] = dot_f32(row r, x)`, [`ROWS_F32`] rows per pass sharing the activation loads;
/// the shorter of `rows` / `out` bounds the work.
#[inline]
pub(crate) fn matvec_f32(mut rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
    let mut outs = out.chunks_exact_mut(ROWS_F32);
    for o in &mut outs {
        let r: [Option<&[u8]>; ROWS_F32] = core::array::from_fn(|_| rows.next());
        let [Some(r0), Some(r1), Some(r2)] = r else {
            for (o, r) in o.iter_mut().zip(r.into_iter().flatten()) {
                *o = dot_f32(r, x);
            }
            return;
        };
        let Some(chunks) = chunks::<4>(r0, x) else {
            for (o, r) in o.iter_mut().zip([r0, r1, r2]) {
                *o = super::row::dot_f32(r, x);
            }
            continue;
        };
        let acc = lanes_f32x3([r0, r1, r2], x, chunks);
        for ((o, a), r) in o.iter_mut().zip(acc).zip([r0, r1, r2]) {
            *o = finish_f32(a, r, x, chunks);
        }
    }
    for (o, r) in outs.into_remainder().iter_mut().zip(rows) {
        *o = dot_f32(r, x);
    }
}

/// Rows per pass of the F16 kernel: 2 rows × 2 vectors of accumulators, the two activation
/// vectors, the raw weights and one temporary fill the eight q registers.
const ROWS_F16: usize = 2;

/// `lanes + tail` for one F16 row, in the scalar [`dot_f16`](super::row::dot_f16)'s order.
#[inline(always)]
fn finish_f16(lanes: f32, row: &[u8], x: &[f32], chunks: usize) -> f32 {
    let rt = row.get(chunks * LANES * 2..).unwrap_or(&[]);
    let xt = x.get(chunks * LANES..).unwrap_or(&[]);
    lanes + super::row::tail_f16(rt, xt)
}

/// The summed lane accumulators of `ROWS_F16` F16 rows (`rows[1]` may equal `rows[0]`).
///
/// Per chunk of 8: `VLD20`/`VLD21` split the activations into even and odd lanes; per row one
/// `VLDRB` of 16 weight bytes (any alignment), `VCVTB.F32.F16` / `VCVTT.F32.F16` widen the
/// even / odd halfwords exactly, then `VMUL.F32` + `VADD.F32` into the even / odd lane
/// accumulators (16 instructions per 16 MACs). The final lane sum runs in lane order
/// 0, 1, …, 7 (alternating the two accumulators) with scalar `VADD.F32`.
#[inline(always)]
fn lanes_f16x2(rows: [&[u8]; ROWS_F16], x: &[f32], chunks: usize) -> [f32; ROWS_F16] {
    let mut acc = [0.0f32; ROWS_F16];
    if chunks == 0 || rows.iter().any(|r| r.len() < chunks * 16) || x.len() < chunks * LANES {
        return acc;
    }
    let [r0, r1] = rows.map(<[u8]>::as_ptr);
    // SAFETY: `chunks ≥ 1` iterations read 16 bytes of each row and 8 f32 of `x` each, in
    // bounds by the check above; `VLDRB` has byte elements (any alignment), `VLD20`/`VLD21`
    // read the 4-byte aligned f32 slice `x`, `VSTR` writes the two aligned f32 of `acc` once.
    // q0–q7 are saved and restored around their use (rustc cannot name them on this target);
    // the counter lives in LR (`DLS`/`LE`); APSR is untouched, FPSCR cumulative flags may be
    // set.
    unsafe {
        asm!(
            "vpush {{d0-d15}}",
            "vmov.i32 q0, #0",
            "vmov.i32 q1, #0",
            "vmov.i32 q2, #0",
            "vmov.i32 q3, #0",
            "dls lr, {n}",
            "2:",
            "vld20.32 {{q6, q7}}, [{px}]",
            "vld21.32 {{q6, q7}}, [{px}]!",
            "vldrb.u8 q4, [{p0}], #16",
            "vcvtb.f32.f16 q5, q4",
            "vmul.f32 q5, q5, q6",
            "vadd.f32 q0, q0, q5",
            "vcvtt.f32.f16 q5, q4",
            "vmul.f32 q5, q5, q7",
            "vadd.f32 q1, q1, q5",
            "vldrb.u8 q4, [{p1}], #16",
            "vcvtb.f32.f16 q5, q4",
            "vmul.f32 q5, q5, q6",
            "vadd.f32 q2, q2, q5",
            "vcvtt.f32.f16 q5, q4",
            "vmul.f32 q5, q5, q7",
            "vadd.f32 q3, q3, q5",
            "le lr, 2b",
            // Lanes 0..7 of row 0 are s0, s4, s1, s5, s2, s6, s3, s7; of row 1 s8, s12, ….
            "vadd.f32 s0, s0, s4",
            "vadd.f32 s0, s0, s1",
            "vadd.f32 s0, s0, s5",
            "vadd.f32 s0, s0, s2",
            "vadd.f32 s0, s0, s6",
            "vadd.f32 s0, s0, s3",
            "vadd.f32 s0, s0, s7",
            "vadd.f32 s8, s8, s12",
            "vadd.f32 s8, s8, s9",
            "vadd.f32 s8, s8, s13",
            "vadd.f32 s8, s8, s10",
            "vadd.f32 s8, s8, s14",
            "vadd.f32 s8, s8, s11",
            "vadd.f32 s8, s8, s15",
            "vstr s0, [{acc}]",
            "vstr s8, [{acc}, #4]",
            "vpop {{d0-d15}}",
            acc = in(reg) acc.as_mut_ptr(),
            n = in(reg) chunks,
            px = inout(reg) x.as_ptr() => _,
            p0 = inout(reg) r0 => _,
            p1 = inout(reg) r1 => _,
            out("lr") _,
            // Not `nostack`: VPUSH/VPOP use the stack.
        );
    }
    acc
}

/// F16 row dot product: the scalar [`dot_f16`](super::row::dot_f16)'s lane order and
/// rounding steps with the exact hardware f16 → f32 conversion, so bit-identical to it unless
/// a product or partial sum is subnormal (flushed by QEMU 7.2's MVE) or a weight is a NaN
/// (its payload may differ). Needs a row of exactly `2 · x.len()` bytes; anything else takes
/// the scalar path. A single row runs in both rows of the two-row kernel.
#[inline]
pub(crate) fn dot_f16(row: &[u8], x: &[f32]) -> f32 {
    let Some(chunks) = chunks::<2>(row, x) else {
        return super::row::dot_f16(row, x);
    };
    finish_f16(lanes_f16x2([row, row], x, chunks)[0], row, x, chunks)
}

/// `out[r] = dot_f16(row r, x)`, [`ROWS_F16`] rows per pass sharing the activation loads;
/// the shorter of `rows` / `out` bounds the work.
#[inline]
pub(crate) fn matvec_f16(mut rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
    let mut outs = out.chunks_exact_mut(ROWS_F16);
    for o in &mut outs {
        let Some(r0) = rows.next() else {
            return;
        };
        let Some(r1) = rows.next() else {
            if let Some(o) = o.first_mut() {
                *o = dot_f16(r0, x);
            }
            return;
        };
        let Some(chunks) = chunks::<2>(r0, x) else {
            for (o, r) in o.iter_mut().zip([r0, r1]) {
                *o = super::row::dot_f16(r, x);
            }
            continue;
        };
        let acc = lanes_f16x2([r0, r1], x, chunks);
        for ((o, a), r) in o.iter_mut().zip(acc).zip([r0, r1]) {
            *o = finish_f16(a, r, x, chunks);
        }
    }
    for (o, r) in outs.into_remainder().iter_mut().zip(rows) {
        *o = dot_f16(r, x);
    }
}

/// Rows per pass of the `Q8_0 × f32` kernel.
const ROWS_Q8F: usize = 2;

/// Blocks of a `Q8_0` row usable with `x` (the shorter input bounds the work, as in the
/// scalar path).
#[inline(always)]
fn blocks_q8f(row: &[u8], x: &[f32]) -> usize {
    (row.len() / Q8_0_BLOCK_BYTES).min(x.len() / QK8_0)
}

/// `Q8_0 × f32` dot products of two rows (`rows[1]` may equal `rows[0]`) over `nb` blocks, in
/// the scalar [`dot_blocks_f32`](super::q8_0::dot_blocks_f32)'s order: per block, lane `l` of
/// 8 accumulates `f32(q[8k + l]) · x[8k + l]` for `k = 0..4` (`VLDRB.S32` + `VCVT.F32.S32`,
/// exact; `VMUL.F32`, `VADD.F32`), the lanes are summed in lane order and
/// `sum += d · lanes` (scalar `VADD`/`VMUL.F32`, `VCVTB.F32.F16` for `d`). The first
/// product of each lane is not added to a zero, which can only change the sign of a zero lane
/// sum and so never the result (`sum` starts at `+0.0`, and `+0.0 + ±0.0 = +0.0`). 93
/// instructions per block of two rows (64 MACs).
#[inline(always)]
fn dot_q8f_x2(rows: [&[u8]; ROWS_Q8F], x: &[f32], nb: usize) -> [f32; ROWS_Q8F] {
    let mut acc = [0.0f32; ROWS_Q8F];
    if nb == 0 || rows.iter().any(|r| r.len() < nb * Q8_0_BLOCK_BYTES) || x.len() < nb * QK8_0 {
        return acc;
    }
    let [r0, r1] = rows.map(<[u8]>::as_ptr);
    // SAFETY: `nb ≥ 1` iterations read one 34-byte block of each row (quants at offsets
    // 2..34 by `VLDRB`, byte elements, any alignment; the scale by `LDRH`, unaligned allowed
    // with the default CCR.UNALIGN_TRP = 0) and 32 f32 of `x` (`VLDRW`, 4-byte aligned), in
    // bounds by the check above; `VSTR` writes the two aligned f32 of `acc` once. q0–q7 are
    // saved and restored around their use (rustc cannot name them on this target); the
    // counter lives in LR (`DLS`/`LE`); APSR is untouched, FPSCR cumulative flags may be set.
    // The row pointers are r1 / r2.
    unsafe {
        asm!(
            "vpush {{d0-d15}}",
            "vmov.i32 q7, #0",
            "dls lr, {n}",
            "2:",
            "vldrw.u32 q4, [{px}], #16",
            "vldrw.u32 q5, [{px}], #16",
            "vldrb.s32 q6, [r1, #2]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q0, q6, q4",
            "vldrb.s32 q6, [r1, #6]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q1, q6, q5",
            "vldrb.s32 q6, [r2, #2]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q2, q6, q4",
            "vldrb.s32 q6, [r2, #6]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q3, q6, q5",
            "vldrw.u32 q4, [{px}], #16",
            "vldrw.u32 q5, [{px}], #16",
            "vldrb.s32 q6, [r1, #10]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q4",
            "vadd.f32 q0, q0, q6",
            "vldrb.s32 q6, [r1, #14]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q5",
            "vadd.f32 q1, q1, q6",
            "vldrb.s32 q6, [r2, #10]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q4",
            "vadd.f32 q2, q2, q6",
            "vldrb.s32 q6, [r2, #14]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q5",
            "vadd.f32 q3, q3, q6",
            "vldrw.u32 q4, [{px}], #16",
            "vldrw.u32 q5, [{px}], #16",
            "vldrb.s32 q6, [r1, #18]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q4",
            "vadd.f32 q0, q0, q6",
            "vldrb.s32 q6, [r1, #22]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q5",
            "vadd.f32 q1, q1, q6",
            "vldrb.s32 q6, [r2, #18]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q4",
            "vadd.f32 q2, q2, q6",
            "vldrb.s32 q6, [r2, #22]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q5",
            "vadd.f32 q3, q3, q6",
            "vldrw.u32 q4, [{px}], #16",
            "vldrw.u32 q5, [{px}], #16",
            "vldrb.s32 q6, [r1, #26]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q4",
            "vadd.f32 q0, q0, q6",
            "vldrb.s32 q6, [r1, #30]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q5",
            "vadd.f32 q1, q1, q6",
            "vldrb.s32 q6, [r2, #26]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q4",
            "vadd.f32 q2, q2, q6",
            "vldrb.s32 q6, [r2, #30]",
            "vcvt.f32.s32 q6, q6",
            "vmul.f32 q6, q6, q5",
            "vadd.f32 q3, q3, q6",
            "vadd.f32 s0, s0, s1",
            "vadd.f32 s0, s0, s2",
            "vadd.f32 s0, s0, s3",
            "vadd.f32 s0, s0, s4",
            "vadd.f32 s0, s0, s5",
            "vadd.f32 s0, s0, s6",
            "vadd.f32 s0, s0, s7",
            "ldrh r0, [r1], #34",
            "vmov s30, r0",
            "vcvtb.f32.f16 s30, s30",
            "vmul.f32 s0, s30, s0",
            "vadd.f32 s28, s28, s0",
            "vadd.f32 s8, s8, s9",
            "vadd.f32 s8, s8, s10",
            "vadd.f32 s8, s8, s11",
            "vadd.f32 s8, s8, s12",
            "vadd.f32 s8, s8, s13",
            "vadd.f32 s8, s8, s14",
            "vadd.f32 s8, s8, s15",
            "ldrh r0, [r2], #34",
            "vmov s30, r0",
            "vcvtb.f32.f16 s30, s30",
            "vmul.f32 s8, s30, s8",
            "vadd.f32 s29, s29, s8",
            "le lr, 2b",
            "vstr s28, [{acc}]",
            "vstr s29, [{acc}, #4]",
            "vpop {{d0-d15}}",
            acc = in(reg) acc.as_mut_ptr(),
            n = in(reg) nb,
            px = inout(reg) x.as_ptr() => _,
            // Widening `VLDRB.S32` with an offset needs a low base register.
            inout("r1") r0 => _,
            inout("r2") r1 => _,
            out("r0") _,
            out("lr") _,
            // Not `nostack`: VPUSH/VPOP use the stack.
        );
    }
    acc
}

/// `Q8_0 × f32` row dot product (same result as the scalar `dot_blocks_f32` unless a product
/// or partial sum is subnormal, which QEMU 7.2's MVE flushes): the two-row kernel with the
/// row in both rows.
#[inline]
pub(crate) fn dot_q8_f32(row: &[u8], x: &[f32]) -> f32 {
    dot_q8f_x2([row, row], x, blocks_q8f(row, x))[0]
}

/// `out[r] = dot_q8_f32(row r, x)`, two rows per pass; the shorter of `rows` / `out` bounds
/// the work.
#[inline]
pub(crate) fn matvec_q8_f32(mut rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
    let mut outs = out.chunks_exact_mut(ROWS_Q8F);
    for o in &mut outs {
        let Some(r0) = rows.next() else {
            return;
        };
        let Some(r1) = rows.next() else {
            if let Some(o) = o.first_mut() {
                *o = dot_q8_f32(r0, x);
            }
            return;
        };
        let sums = dot_q8f_x2([r0, r1], x, blocks_q8f(r0, x).min(blocks_q8f(r1, x)));
        for (o, s) in o.iter_mut().zip(sums) {
            *o = s;
        }
    }
    for (o, r) in outs.into_remainder().iter_mut().zip(rows) {
        *o = dot_q8_f32(r, x);
    }
}
