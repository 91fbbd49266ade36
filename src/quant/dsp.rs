//! Arm DSP-extension (`SMLAD`) kernel for the `Q8_0 × Q8_0` matvec on Cortex-M4/M7/M33, and
//! an FPU (`VLDM` + `VMLA.F32`) F32 row dot product ([`dot_f32`]) for the same targets.
//!
//! Selected at compile time by the `picoformer_arm_dsp` cfg (set by `build.rs` for hard-float
//! Armv7E-M and Armv8-M Mainline CPUs with DSP: `cfg(target_feature = "dsp")` is unstable in
//! rustc). Both kernels are bit-identical to the scalar path (checked in the QEMU firmware
//! self-tests, `targets/fw-common/src/bench.rs`: `check_q8_simd`, `check_f32_simd`).
//!
//! Per block of 32 and per row, the same formula as the scalar
//! [`dot_blocks_q8`](super::q8_0::dot_blocks_q8) (ggml's `ggml_vec_dot_q8_0_q8_0`):
//! `sum += f32(Σ_j qw_j · qx_j) · (d_w · d_x)`, blocks in ascending order. The block sum is
//! an exact i32 (|Σ| ≤ 32 · 128² = 2¹⁹, no overflow), and the float operations are the same
//! in the same order, so results are bit-identical to the scalar path.
//!
//! Inner loop, per 4 MACs of one row: one word load of 4 weights, `SXTB16` and
//! `SXTB16 …, ROR #8` (even / odd bytes sign-extended to two i16 lanes), two `SMLAD`s against
//! the activation word unpacked the same way; the activation word is loaded and unpacked once
//! for [`ROWS`] rows.

use core::arch::asm;
use core::slice::ChunksExact;

use super::q8_0::{Q8_0_BLOCK_BYTES, QK8_0};

/// Rows processed per pass (sharing each activation word load and unpacking): 3 row pointers,
/// 1 activation pointer, 3 sums and 4 temporaries fit the registers. (4 rows fit too, in 13
/// registers, but the spills around the block cost what the shared loads save: 1.985 vs
/// 1.983 instructions/MAC on Cortex-M4F.)
const ROWS: usize = 3;

/// Words (4 × i8) per block.
const WORDS: usize = QK8_0 / 4;

/// Sign-extends bytes 0 and 2 of `x` into the two i16 halves of the result.
#[inline(always)]
fn sxtb16(x: u32) -> u32 {
    let r: u32;
    // SAFETY: a register-only DSP instruction (present on every target with
    // `picoformer_arm_dsp`); no memory, stack or flags are touched.
    unsafe {
        asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x,
             options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// Sign-extends bytes 1 and 3 of `x` into the two i16 halves of the result.
#[inline(always)]
fn sxtb16_ror8(x: u32) -> u32 {
    let r: u32;
    // SAFETY: as in `sxtb16`.
    unsafe {
        asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x,
             options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// `acc + a.lo · b.lo + a.hi · b.hi` on signed i16 halves (i32 add; it would set the sticky
/// Q flag on overflow, so no `preserves_flags` — the callers' sign-extended i8 lanes and block
/// sums ≤ 2¹⁹ never overflow).
#[inline(always)]
fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: a register-only DSP instruction: no memory or stack access.
    unsafe {
        asm!("smlad {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b,
             acc = in(reg) acc, options(pure, nomem, nostack));
    }
    r
}

/// binary16 bits → f32 (the crate's exact branch-free conversion).
#[inline(always)]
fn f16_to_f32(h: u16) -> f32 {
    super::f16_to_f32(h)
}

/// The scale bits and the 8 words of quants of one block.
#[inline(always)]
fn parts(block: &[u8; Q8_0_BLOCK_BYTES]) -> (u16, &[[u8; 4]; WORDS]) {
    let (d, qs) = block
        .split_first_chunk::<2>()
        .map_or((&[0u8; 2], &[][..]), |p| p);
    let (words, _) = qs.as_chunks::<4>();
    let words: &[[u8; 4]; WORDS] = words.try_into().unwrap_or(&[[0u8; 4]; WORDS]);
    (u16::from_le_bytes(*d), words)
}

/// One word (4 quants at byte offset `$o` of the blocks) of the 3-row block kernel: the
/// activation word is unpacked once, each row's word is unpacked and multiplied with `SMLAD`.
macro_rules! word3 {
    (@row $o:literal, $p:literal, $a:literal, $first:literal) => {
        concat!(
            "ldr {w}, [{", $p, "}, #", $o, "]\n",
            "sxtb16 {t}, {w}\n",
            $first,
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {", $a, "}, {w}, {xo}, {", $a, "}\n",
        )
    };
    (@x $o:literal) => {
        concat!(
            "ldr {xo}, [{px}, #", $o, "]\n",
            "sxtb16 {xe}, {xo}\n",
            "sxtb16 {xo}, {xo}, ror #8\n",
        )
    };
    (first $o:literal) => {
        concat!(
            word3!(@x $o),
            word3!(@row $o, "p0", "a0", "smuad {a0}, {t}, {xe}\n"),
            word3!(@row $o, "p1", "a1", "smuad {a1}, {t}, {xe}\n"),
            word3!(@row $o, "p2", "a2", "smuad {a2}, {t}, {xe}\n"),
        )
    };
    ($o:literal) => {
        concat!(
            word3!(@x $o),
            word3!(@row $o, "p0", "a0", "smlad {a0}, {t}, {xe}, {a0}\n"),
            word3!(@row $o, "p1", "a1", "smlad {a1}, {t}, {xe}, {a1}\n"),
            word3!(@row $o, "p2", "a2", "smlad {a2}, {t}, {xe}, {a2}\n"),
        )
    };
}

/// Exact i32 block sums `Σ_j qw_r[j] · qx[j]` of three weight blocks with one activation
/// block, and the four blocks' scales as f32 bits (`VCVTB.F32.F16`, exact), in the order
/// `(sums, [d_x, d_w0, d_w1, d_w2])`.
#[inline(always)]
fn block_sums3(
    w: [&[u8; Q8_0_BLOCK_BYTES]; 3],
    x: &[u8; Q8_0_BLOCK_BYTES],
) -> ([i32; 3], [u32; 4]) {
    let (a0, a1, a2): (i32, i32, i32);
    let (dx, d0, d1, d2): (u32, u32, u32, u32);
    // SAFETY: every pointer comes from a reference to a whole 34-byte block; the loads read
    // bytes 0..34 of each (halfword at 0, words at 2, 6, …, 30; `LDR` allows unaligned
    // addresses on Armv7-M/Armv8-M Mainline with the default CCR.UNALIGN_TRP = 0). No memory
    // is written except s0, which is saved and restored on the stack around its use (rustc
    // cannot name FPU registers on these targets: its `vfp2` feature is unstable); every
    // hard-float Armv7E-M / Armv8-M FPU has the half-precision conversion (the module is only
    // built for `eabihf` targets). `SMUAD`/`SMLAD` cannot overflow here (|products| ≤ 2¹⁵,
    // |sum| ≤ 2¹⁹), so the Q flag is untouched; `VCVTB` may set FPSCR exception flags on a
    // signalling-NaN scale, hence no `preserves_flags`.
    unsafe {
        asm!(
            word3!(first "2"),
            word3!("6"),
            word3!("10"),
            word3!("14"),
            word3!("18"),
            word3!("22"),
            word3!("26"),
            word3!("30"),
            "vpush {{s0}}",
            "ldrh {xe}, [{px}]",
            "vmov s0, {xe}",
            "vcvtb.f32.f16 s0, s0",
            "vmov {xe}, s0",
            "ldrh {xo}, [{p0}]",
            "vmov s0, {xo}",
            "vcvtb.f32.f16 s0, s0",
            "vmov {xo}, s0",
            "ldrh {w}, [{p1}]",
            "vmov s0, {w}",
            "vcvtb.f32.f16 s0, s0",
            "vmov {w}, s0",
            "ldrh {t}, [{p2}]",
            "vmov s0, {t}",
            "vcvtb.f32.f16 s0, s0",
            "vmov {t}, s0",
            "vpop {{s0}}",
            px = in(reg) x.as_ptr(),
            p0 = in(reg) w[0].as_ptr(),
            p1 = in(reg) w[1].as_ptr(),
            p2 = in(reg) w[2].as_ptr(),
            a0 = out(reg) a0,
            a1 = out(reg) a1,
            a2 = out(reg) a2,
            xe = out(reg) dx,
            xo = out(reg) d0,
            w = out(reg) d1,
            t = out(reg) d2,
            options(pure, readonly),
        );
    }
    ([a0, a1, a2], [dx, d0, d1, d2])
}

/// Exact i32 block sum of one weight block with one activation block.
#[inline(always)]
fn block_sum1(w: &[[u8; 4]; WORDS], x: &[[u8; 4]; WORDS]) -> i32 {
    let mut acc = 0i32;
    for (ww, xw) in w.iter().zip(x) {
        let (ww, xw) = (u32::from_le_bytes(*ww), u32::from_le_bytes(*xw));
        acc = smlad(sxtb16(ww), sxtb16(xw), acc);
        acc = smlad(sxtb16_ror8(ww), sxtb16_ror8(xw), acc);
    }
    acc
}

/// Dot products of three rows with the quantised activations `xq`.
#[inline(always)]
fn dot_rows3(rows: [&[u8]; 3], xq: &[u8]) -> [f32; 3] {
    let (xb, _) = xq.as_chunks::<Q8_0_BLOCK_BYTES>();
    let [w0, w1, w2] = rows.map(|r| r.as_chunks::<Q8_0_BLOCK_BYTES>().0);
    let mut sum = [0.0f32; 3];
    for (((x, b0), b1), b2) in xb.iter().zip(w0).zip(w1).zip(w2) {
        let (acc, [dx, d0, d1, d2]) = block_sums3([b0, b1, b2], x);
        let dx = f32::from_bits(dx);
        for ((s, a), d) in sum.iter_mut().zip(acc).zip([d0, d1, d2]) {
            *s += a as f32 * (f32::from_bits(d) * dx);
        }
    }
    sum
}

/// `Q8_0 × Q8_0` dot product of one row (same result as the scalar `dot_blocks_q8`).
#[inline]
pub(crate) fn dot_q8(a: &[u8], b: &[u8]) -> f32 {
    let (ab, _) = a.as_chunks::<Q8_0_BLOCK_BYTES>();
    let (bb, _) = b.as_chunks::<Q8_0_BLOCK_BYTES>();
    let mut sum = 0.0f32;
    for (ba, bb) in ab.iter().zip(bb) {
        let ((da, qa), (db, qb)) = (parts(ba), parts(bb));
        let sumi = block_sum1(qa, qb);
        sum += sumi as f32 * (f16_to_f32(da) * f16_to_f32(db));
    }
    sum
}

/// `out[r] = dot_q8(row r, xq)`, [`ROWS`] rows per pass; the shorter of `rows` / `out` bounds
/// the work.
#[inline]
pub(crate) fn matvec_q8(mut rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    let mut outs = out.chunks_exact_mut(ROWS);
    for o in &mut outs {
        let r: [Option<&[u8]>; ROWS] = core::array::from_fn(|_| rows.next());
        if let [Some(r0), Some(r1), Some(r2)] = r {
            for (o, s) in o.iter_mut().zip(dot_rows3([r0, r1, r2], xq)) {
                *o = s;
            }
        } else {
            for (o, r) in o.iter_mut().zip(r.into_iter().flatten()) {
                *o = dot_q8(r, xq);
            }
            return;
        }
    }
    for (o, r) in outs.into_remainder().iter_mut().zip(rows) {
        *o = dot_q8(r, xq);
    }
}

/// F32 row dot product with the same summation order as the scalar
/// [`dot_f32`](super::row::dot_f32) — lane `l` of 8 accumulates `w[8i + l] · x[8i + l]` in
/// ascending `i` (multiply rounded, then add rounded), then `Σ lanes` in lane order, then the
/// tail — so results are bit-identical to it.
///
/// The loop is `VLDM` of 8 activations and 8 weights and 8 `VMLA.F32` (non-fused: Armv7-M's
/// `VMLA` rounds the product before the accumulation, exactly `acc + (w · x)`). Rows that are
/// not 4-byte aligned load their weights with unaligned `LDR`s moved in pairs by `VMOV`
/// (`VLDM` needs alignment). Needs a row of exactly `4 · x.len()` bytes; anything else takes
/// the scalar path.
#[inline]
pub(crate) fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    const LANES: usize = 8;
    let chunks = x.len() / LANES;
    if chunks == 0 || row.len() != 4 * x.len() {
        return super::row::dot_f32(row, x);
    }
    let mut acc = [0.0f32; LANES];
    if (row.as_ptr() as usize).is_multiple_of(4) {
        lanes_aligned(&mut acc, row, x, chunks);
    } else {
        lanes_unaligned(&mut acc, row, x, chunks);
    }
    let (rt, xt) = (
        row.get(chunks * LANES * 4..).unwrap_or(&[]),
        x.get(chunks * LANES..).unwrap_or(&[]),
    );
    let mut tail = 0.0f32;
    for (w, &v) in rt.chunks_exact(4).zip(xt) {
        let w = w.first_chunk::<4>().map_or(0.0, |c| f32::from_le_bytes(*c));
        tail += w * v;
    }
    acc.iter().sum::<f32>() + tail
}

/// `true` if `chunks ≥ 1` chunks of 8 fit both `row` (bytes) and `x`.
#[inline(always)]
fn fits(row: &[u8], x: &[f32], chunks: usize) -> bool {
    chunks > 0 && chunks.checked_mul(32).is_some_and(|b| b <= row.len()) && chunks * 8 <= x.len()
}

/// `acc[l] += w[8i + l] · x[8i + l]` for `i < chunks`; does nothing unless `row` is 4-byte
/// aligned and [`fits`].
#[inline(always)]
fn lanes_aligned(acc: &mut [f32; 8], row: &[u8], x: &[f32], chunks: usize) {
    if !fits(row, x, chunks) || !(row.as_ptr() as usize).is_multiple_of(4) {
        return;
    }
    // SAFETY: `x` holds `chunks · 8` f32 (4-byte aligned) and `row` at least `chunks · 32`
    // bytes, 4-byte aligned (checked just above), exactly what the loop reads (`chunks ≥ 1`
    // iterations of 8 + 8 words); `acc` is 8 aligned f32, read and written once. s0–s23 are
    // saved and restored on the stack around their use (rustc cannot name FPU registers on
    // these targets: its `vfp2` feature is unstable). Flags are clobbered by `SUBS`.
    unsafe {
        asm!(
            "vpush {{s0-s15}}",
            "vpush {{s16-s23}}",
            "vldm {acc}, {{s0-s7}}",
            "2:",
            "vldmia {x}!, {{s8-s15}}",
            "vldmia {w}!, {{s16-s23}}",
            "vmla.f32 s0, s16, s8",
            "vmla.f32 s1, s17, s9",
            "vmla.f32 s2, s18, s10",
            "vmla.f32 s3, s19, s11",
            "vmla.f32 s4, s20, s12",
            "vmla.f32 s5, s21, s13",
            "vmla.f32 s6, s22, s14",
            "vmla.f32 s7, s23, s15",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vstm {acc}, {{s0-s7}}",
            "vpop {{s16-s23}}",
            "vpop {{s0-s15}}",
            acc = in(reg) acc.as_mut_ptr(),
            x = inout(reg) x.as_ptr() => _,
            w = inout(reg) row.as_ptr() => _,
            n = inout(reg) chunks => _,
        );
    }
}

/// [`lanes_aligned`] for a row at any alignment; does nothing unless [`fits`].
#[inline(always)]
fn lanes_unaligned(acc: &mut [f32; 8], row: &[u8], x: &[f32], chunks: usize) {
    if !fits(row, x, chunks) {
        return;
    }
    // SAFETY: `x` holds `chunks · 8` f32 (4-byte aligned) and `row` at least `chunks · 32`
    // bytes (checked just above), read with `LDR` (unaligned allowed on Armv7-M/Armv8-M
    // Mainline with the default CCR.UNALIGN_TRP = 0), exactly what the loop reads (`chunks ≥ 1`
    // iterations of 8 + 8 words); `acc` is 8 aligned f32, read and written once. s0–s23 are
    // saved and restored on the stack around their use (rustc cannot name FPU registers on
    // these targets: its `vfp2` feature is unstable). Flags are clobbered by `SUBS`.
    unsafe {
        asm!(
            "vpush {{s0-s15}}",
            "vpush {{s16-s23}}",
            "vldm {acc}, {{s0-s7}}",
            "2:",
            "vldmia {x}!, {{s8-s15}}",
            "ldr {t0}, [{w}], #32",
            "ldr {t1}, [{w}, #-28]",
            "vmov s16, s17, {t0}, {t1}",
            "ldr {t0}, [{w}, #-24]",
            "ldr {t1}, [{w}, #-20]",
            "vmov s18, s19, {t0}, {t1}",
            "ldr {t0}, [{w}, #-16]",
            "ldr {t1}, [{w}, #-12]",
            "vmov s20, s21, {t0}, {t1}",
            "ldr {t0}, [{w}, #-8]",
            "ldr {t1}, [{w}, #-4]",
            "vmov s22, s23, {t0}, {t1}",
            "vmla.f32 s0, s16, s8",
            "vmla.f32 s1, s17, s9",
            "vmla.f32 s2, s18, s10",
            "vmla.f32 s3, s19, s11",
            "vmla.f32 s4, s20, s12",
            "vmla.f32 s5, s21, s13",
            "vmla.f32 s6, s22, s14",
            "vmla.f32 s7, s23, s15",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vstm {acc}, {{s0-s7}}",
            "vpop {{s16-s23}}",
            "vpop {{s0-s15}}",
            acc = in(reg) acc.as_mut_ptr(),
            x = inout(reg) x.as_ptr() => _,
            w = inout(reg) row.as_ptr() => _,
            n = inout(reg) chunks => _,
            t0 = out(reg) _,
            t1 = out(reg) _,
        );
    }
}
