//! Helium (Armv8.1-M MVE) kernel for the `Q8_0 × Q8_0` matvec on Cortex-M55/M85.
//!
//! Selected at compile time by the `picoformer_arm_mve` cfg (set by `build.rs` when the
//! rustflags select `target-cpu=cortex-m55`/`cortex-m85` on a hard-float Armv8-M Mainline
//! target: rustc has no Armv8.1-M target and `cfg(target_feature = "mve")` is unstable).
//! Bit-identical to the scalar path (checked in the QEMU firmware self-tests,
//! `targets/fw-common/src/bench.rs`: `check_q8_simd`).
//!
//! Per block of 32 and per row, the same formula as the scalar
//! [`dot_blocks_q8`](super::q8_0::dot_blocks_q8): `sum += f32(Σ_j qw_j · qx_j) · (d_w · d_x)`,
//! blocks in ascending order, starting from `sum = +0.0`. Four rows run in the four f32 lanes
//! of one vector, each lane doing exactly the scalar operations (IEEE single, round to
//! nearest, no fusion) in the scalar order:
//!
//! - `VLDRB.S8` + `VMLADAV.S8` / `VMLADAVA.S8`: the exact i32 block sum of each row
//!   (|Σ| ≤ 32 · 128² = 2¹⁹) in a general-purpose register; the two activation halves are
//!   loaded once per block for the four rows;
//! - the four row scales in one `VLDRH.U32` gather, the activation scale broadcast by a gather
//!   with equal offsets, both widened exactly by `VCVTB.F32.F16`;
//! - `VMOV` (two GPRs to two lanes) ×2, `VCVT.F32.S32` (exact: |Σ| < 2²⁴), `VMUL.F32`
//!   (`d_w · d_x`), `VMUL.F32`, `VADD.F32`.
//!
//! No subnormal f32 can arise (every non-zero product and partial sum is a multiple of 2⁻⁴⁸,
//! the square of the smallest f16 subnormal), so the result does not depend on whether the
//! vector unit flushes subnormals (QEMU 7.2's MVE does; the scalar FPU does not by default).
//!
//! 29 instructions per block of four rows (128 MACs) in the inner loop.

use core::arch::asm;
use core::slice::ChunksExact;

use super::q8_0::Q8_0_BLOCK_BYTES;

/// Rows per pass: the four f32 lanes of a vector.
const ROWS: usize = 4;

/// `out[k] = dot_blocks_q8(rows[k], xq)` for `k < 4` over `nb ≥ 1` blocks, bit-identical to the
/// scalar path. Returns `None` (nothing computed) unless every row and `xq` hold at least
/// `nb` blocks.
#[inline(always)]
fn dot4(rows: [&[u8]; ROWS], xq: &[u8], nb: usize) -> Option<[f32; ROWS]> {
    let need = nb.checked_mul(Q8_0_BLOCK_BYTES)?;
    if nb == 0 || xq.len() < need || rows.iter().any(|r| r.len() < need) {
        return None;
    }
    let [r0, r1, r2, r3] = rows.map(|r| r.as_ptr());
    // Byte offsets of each row's first scale from row 0's first quant (wrapping: the gather adds
    // them to the base modulo 2³²).
    let off: [u32; ROWS] = [r0, r1, r2, r3].map(|p| (p as u32).wrapping_sub((r0 as u32).wrapping_add(2)));
    let mut out = [0.0f32; ROWS];
    // SAFETY: each pointer comes from a slice of at least `nb` whole 34-byte blocks (checked
    // above) and the loop runs `nb ≥ 1` times; per block it reads, relative to the block start
    // `b` of `xq` and of each row: the scale halfword at `b` (gathers) and the 32 quant bytes
    // `b + 2 .. b + 34` (two 16-byte `VLDRB`), then advances every pointer by 34: all inside
    // the slices. `VLDRB` has byte elements (any alignment); the halfword gathers may be
    // unaligned for rows at odd addresses, allowed like `LDRH` with the default
    // CCR.UNALIGN_TRP = 0. `off` and `out` are 4-byte aligned arrays of four words, read / written
    // once by `VLDRW` / `VSTRW`. q0–q7 are saved and restored on the stack around their use
    // (rustc cannot name FPU/MVE registers on this target), so no register visible to the
    // compiler changes except the declared outputs. The loop counter lives in LR (`DLS`/`LE`).
    // Flags: `VMLADAV`/`VCVT`/`VMUL`/`VADD` do not touch APSR; FPSCR cumulative exception bits
    // may be set (inexact), hence no `preserves_flags`.
    unsafe {
        asm!(
            "vpush {{d0-d15}}",
            "vldrw.u32 q6, [{io}]",
            "vmvn.i32 q3, #1",
            "vmov.i32 q7, #0",
            "dls lr, {n}",
            "2:",
            // Scales: rows (gather, base = row 0's quants) and the activation (broadcast).
            "vldrh.u32 q5, [{p0}, q6]",
            "vldrh.u32 q2, [{px}, q3]",
            "vcvtb.f32.f16 q5, q5",
            "vcvtb.f32.f16 q2, q2",
            "vmul.f32 q5, q5, q2",
            // Activation quants, shared by the four rows.
            "vldrb.s8 q1, [{px}, #16]",
            "vldrb.s8 q0, [{px}], #34",
            "vldrb.s8 q2, [{p0}, #16]",
            "vmladav.s8 r0, q2, q1",
            "vldrb.s8 q2, [{p0}], #34",
            "vmladava.s8 r0, q2, q0",
            "vldrb.s8 q2, [{p1}, #16]",
            "vmladav.s8 r2, q2, q1",
            "vldrb.s8 q2, [{p1}], #34",
            "vmladava.s8 r2, q2, q0",
            "vldrb.s8 q2, [{p2}, #16]",
            "vmladav.s8 r4, q2, q1",
            "vldrb.s8 q2, [{p2}], #34",
            "vmladava.s8 r4, q2, q0",
            "vldrb.s8 q2, [{p3}, #16]",
            "vmladav.s8 r8, q2, q1",
            "vldrb.s8 q2, [{p3}], #34",
            "vmladava.s8 r8, q2, q0",
            // sum += f32(sumi) * (d_w * d_x), per lane. `VMOV Qd[i+2], Qd[i], Rt, Rt2` puts
            // Rt (the first register) in lane i and Rt2 in lane i + 2 (as LLVM's own
            // insert-element lowering uses it, and QEMU executes it).
            "vmov q4[2], q4[0], r0, r4",
            "vmov q4[3], q4[1], r2, r8",
            "vcvt.f32.s32 q4, q4",
            "vmul.f32 q4, q4, q5",
            "vadd.f32 q7, q7, q4",
            "le lr, 2b",
            "vstrw.32 q7, [{out}]",
            "vpop {{d0-d15}}",
            io = in(reg) off.as_ptr(),
            out = in(reg) out.as_mut_ptr(),
            n = in(reg) nb,
            px = inout(reg) xq.as_ptr().wrapping_add(2) => _,
            p0 = inout(reg) r0.wrapping_add(2) => _,
            p1 = inout(reg) r1.wrapping_add(2) => _,
            p2 = inout(reg) r2.wrapping_add(2) => _,
            p3 = inout(reg) r3.wrapping_add(2) => _,
            out("r0") _,
            out("r2") _,
            out("r4") _,
            out("r8") _,
            out("lr") _,
            options(nostack),
        );
    }
    Some(out)
}

/// Blocks shared by a row and `xq`.
#[inline(always)]
fn blocks(row: &[u8], xq: &[u8]) -> usize {
    row.len().min(xq.len()) / Q8_0_BLOCK_BYTES
}

/// `Q8_0 × Q8_0` dot product of one row (same result as the scalar `dot_blocks_q8`): the
/// four-row kernel with the row in every lane.
#[inline]
pub(crate) fn dot_q8(a: &[u8], b: &[u8]) -> f32 {
    dot4([a; ROWS], b, blocks(a, b)).map_or(0.0, |o| o[0])
}

/// `out[r] = dot_q8(row r, xq)`, [`ROWS`] rows per pass (the last pass repeats its last row in
/// the unused lanes); the shorter of `rows` / `out` bounds the work.
#[inline]
pub(crate) fn matvec_q8(mut rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    for o in out.chunks_mut(ROWS) {
        let Some(first) = rows.next() else { return };
        let mut r = [first; ROWS];
        let mut n = 1;
        for slot in r.iter_mut().take(o.len()).skip(1) {
            let Some(row) = rows.next() else { break };
            *slot = row;
            n += 1;
        }
        let sums = dot4(r, xq, blocks(first, xq)).unwrap_or([0.0; ROWS]);
        for (o, s) in o.iter_mut().zip(sums).take(n) {
            *o = s;
        }
    }
}
