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
//! The activation blocks are unpacked once per matvec (per chunk of [`CHUNK`] blocks, on the
//! stack): scale as f32, each quant word `w` as the i16 pairs `SXTB16(w)`, `SXTB16(w, ROR #8)`.
//! One `asm!` block then runs all groups of [`ROWS`] rows over the chunk. Inner loop, per 4
//! MACs of one row: one word load of 4 weights, `SXTB16` and `SXTB16 …, ROR #8` (even / odd
//! bytes sign-extended to two i16 lanes), two `SMLAD`s; one `LDRD` of the unpacked activation
//! pair serves 4 rows. Per block and row: `LDRH` + `VCVTB.F32.F16` of the weight scale, `VMUL`
//! by the activation scale, `VCVT.F32.S32` of the block sum and a non-fused `VMLA`. About 1.56
//! instructions per MAC on Cortex-M4F (288 × 288, `scripts/icount.sh`).

use core::arch::asm;
use core::slice::ChunksExact;

use super::q8_0::{Q8_0_BLOCK_BYTES, QK8_0};

/// Rows processed per pass, sharing each activation load: row pointers `p0`, `p1` and the row
/// stride `s` address all four (`p0`, `p1`, `p0 + 2s`, `p1 + 2s`), which with the activation
/// pointer, 4 sums and 4 temporaries fills the 12 allocatable core registers.
const ROWS: usize = 4;

/// Words (4 × i8) per block.
const WORDS: usize = QK8_0 / 4;

/// Words per pre-unpacked activation block: the scale as f32 bits, then per quant word `w`
/// the pair `SXTB16(w)`, `SXTB16(w, ROR #8)`.
const UWORDS: usize = 1 + 2 * WORDS;

/// Activation blocks unpacked per chunk (a stack buffer of `CHUNK · 68` bytes); longer rows
/// take several chunks, the row sums carried through `out`.
const CHUNK: usize = 12;

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

/// Unpacks activation blocks for [`rows4`]: per block `[f32 bits of d, SXTB16(w0),
/// SXTB16(w0, ROR #8), …]` (the scale converted by the same exact `f16_to_f32` as the scalar
/// path).
#[inline]
fn unpack(xb: &[[u8; Q8_0_BLOCK_BYTES]], buf: &mut [[u32; UWORDS]]) {
    for (x, u) in xb.iter().zip(buf) {
        let (d, words) = parts(x);
        let (head, pairs) = u.split_at_mut(1);
        if let Some(h) = head.first_mut() {
            *h = f16_to_f32(d).to_bits();
        }
        for (w, pair) in words.iter().zip(pairs.as_chunks_mut::<2>().0) {
            let w = u32::from_le_bytes(*w);
            *pair = [sxtb16(w), sxtb16_ror8(w)];
        }
    }
}

/// One word (4 quants) of one row in [`rows4`]: load it through `$addr`, sign-extend its even
/// and odd bytes and multiply-accumulate with the unpacked activation pair `{xe}`, `{xo}`
/// (`smuad` starts a block's sum).
macro_rules! row_word {
    ($addr:literal, $a:literal, first) => {
        concat!(
            "ldr {w}, ",
            $addr,
            "\n",
            "sxtb16 {t}, {w}\n",
            "smuad {",
            $a,
            "}, {t}, {xe}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {",
            $a,
            "}, {w}, {xo}, {",
            $a,
            "}\n",
        )
    };
    ($addr:literal, $a:literal) => {
        concat!(
            "ldr {w}, ",
            $addr,
            "\n",
            "sxtb16 {t}, {w}\n",
            "smlad {",
            $a,
            "}, {t}, {xe}, {",
            $a,
            "}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {",
            $a,
            "}, {w}, {xo}, {",
            $a,
            "}\n",
        )
    };
}

/// One word of all four rows: rows 2 and 3 at `p0 + 2s`, `p1 + 2s` first, then rows 0 and 1
/// with post-increment.
macro_rules! word4 {
    ($($first:ident)?) => {
        concat!(
            "ldrd {xe}, {xo}, [{px}], #8\n",
            row_word!("[{p0}, {s}, lsl #1]", "a2" $(, $first)?),
            row_word!("[{p1}, {s}, lsl #1]", "a3" $(, $first)?),
            row_word!("[{p0}], #4", "a0" $(, $first)?),
            row_word!("[{p1}], #4", "a1" $(, $first)?),
        )
    };
}

/// For every group of four consecutive rows `r` of the matrix at `base` (row stride `s`
/// bytes; `sums.len() / 4` groups): `sums[r] += Σ_b f32(Σ_j qw_r[j] · qx[j]) · (d_w · d_x)`
/// over `blocks` blocks starting at byte `off` of each row, with the unpacked activations `x`
/// — the scalar path's operations in its order (exact i32 block sums, `VCVT.F32.S32` exact for
/// |sum| ≤ 2¹⁹, `VMUL` then non-fused `VMLA`, which rounds the product before the add).
///
/// # Safety
/// Rows `0 .. sums.len()` (row `i` at `base + i · s`) must each be readable for
/// `off + blocks · 34` bytes, `x` must hold at least `blocks` blocks, `blocks ≥ 1` and
/// `sums.len()` a non-zero multiple of 4.
#[inline(always)]
unsafe fn rows4(
    base: *const u8,
    s: usize,
    off: usize,
    x: &[[u32; UWORDS]],
    blocks: usize,
    sums: &mut [f32],
) {
    let px = x.as_ptr().cast::<u32>();
    // SAFETY: (caller) per group the four rows (at p0, p1, p0 + 2s, p1 + 2s) hold `blocks`
    // whole blocks from `off` and `x` at least `blocks` unpacked blocks; per block the asm
    // reads bytes 0..34 of each row block (halfword scale at 0, words at 2, 6, …, 30 —
    // `LDR`/`LDRH` allow unaligned addresses on Armv7-M/Armv8-M Mainline with the default
    // CCR.UNALIGN_TRP = 0) and the block's 17 aligned words of `x` (`VLDM`, `LDRD`: `x` is u32
    // storage). `pend = px + blocks · 68` ends the block loop after `blocks ≥ 1` iterations;
    // after it `p0`, `p1` advance by `4s − blocks · 34` to the next group and `px` returns to
    // the start; `oend` (`sums` end) ends the group loop after `sums.len() / 4 ≥ 1` groups.
    // The only memory written is `sums` (aligned f32, each group's 4 loaded before and stored
    // after its blocks) and the stack, where s0–s17 are saved and restored around their use
    // (rustc cannot name FPU registers on these targets: its `vfp2` feature is unstable).
    // `SMUAD`/`SMLAD` cannot overflow (|products| ≤ 2¹⁴, |block sum| ≤ 2¹⁹), so the Q flag is
    // untouched; `CMP` clobbers the flags and `VCVTB` may set FPSCR exception flags on a
    // signalling-NaN scale.
    unsafe {
        let p0 = base.add(off);
        let pend = px.add(blocks * UWORDS);
        let step = (4 * s).wrapping_sub(blocks * Q8_0_BLOCK_BYTES);
        let o = sums.as_mut_ptr();
        let oend = o.add(sums.len());
        asm!(
            "vpush {{s0-s17}}",
            "vmov s13, {t}",
            "vmov s14, {a0}",
            "vmov s15, {xe}",
            "vmov s16, {px}",
            "vmov s17, {xo}",
            "3:",
            "vmov {a0}, s14",
            "vldm {a0}, {{s0-s3}}",
            "2:",
            // Scales of the four row blocks → f32, times the activation scale.
            "ldrh {w}, [{p0}, {s}, lsl #1]",
            "ldrh {t}, [{p1}, {s}, lsl #1]",
            "vmov s7, s8, {w}, {t}",
            "ldrh {w}, [{p0}], #2",
            "ldrh {t}, [{p1}], #2",
            "vmov s5, s6, {w}, {t}",
            "vcvtb.f32.f16 s5, s5",
            "vcvtb.f32.f16 s6, s6",
            "vcvtb.f32.f16 s7, s7",
            "vcvtb.f32.f16 s8, s8",
            "vldmia {px}!, {{s4}}",
            "vmul.f32 s5, s5, s4",
            "vmul.f32 s6, s6, s4",
            "vmul.f32 s7, s7, s4",
            "vmul.f32 s8, s8, s4",
            word4!(first),
            word4!(),
            word4!(),
            word4!(),
            word4!(),
            word4!(),
            word4!(),
            word4!(),
            // sum_r += f32(block sum_r) · (d_r · d_x)
            "vmov s9, s10, {a0}, {a1}",
            "vmov s11, s12, {a2}, {a3}",
            "vcvt.f32.s32 s9, s9",
            "vcvt.f32.s32 s10, s10",
            "vcvt.f32.s32 s11, s11",
            "vcvt.f32.s32 s12, s12",
            "vmla.f32 s0, s9, s5",
            "vmla.f32 s1, s10, s6",
            "vmla.f32 s2, s11, s7",
            "vmla.f32 s3, s12, s8",
            "vmov {t}, s13",
            "cmp {px}, {t}",
            "bne 2b",
            // Next group of four rows.
            "vmov {a0}, s14",
            "vstmia {a0}!, {{s0-s3}}",
            "vmov s14, {a0}",
            "vmov {t}, s15",
            "add {p0}, {t}",
            "add {p1}, {t}",
            "vmov {px}, s16",
            "vmov {t}, s17",
            "cmp {a0}, {t}",
            "bne 3b",
            "vpop {{s0-s17}}",
            p0 = inout(reg) p0 => _,
            p1 = inout(reg) p0.add(s) => _,
            s = in(reg) s,
            px = inout(reg) px => _,
            a0 = inout(reg) o => _,
            a1 = out(reg) _,
            a2 = out(reg) _,
            a3 = out(reg) _,
            xe = inout(reg) step => _,
            xo = inout(reg) oend => _,
            w = out(reg) _,
            t = inout(reg) pend => _,
        );
    }
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

/// `out[r] = dot_q8(row r, xq)`: the activation blocks are unpacked once per chunk of
/// [`CHUNK`] blocks, and [`rows4`] runs every group of [`ROWS`] rows on each chunk; the
/// remaining `n % 4` rows take [`dot_q8`]. The shorter of `rows` / `out` bounds the work.
#[inline]
pub(crate) fn matvec_q8(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    let (xb, _) = xq.as_chunks::<Q8_0_BLOCK_BYTES>();
    let n = out.len().min(rows.len());
    let first = rows.clone().next().unwrap_or(&[]);
    let (base, s) = (first.as_ptr(), first.len());
    let nb = (s / Q8_0_BLOCK_BYTES).min(xb.len());
    // Rows 0 .. grouped go through `rows4`: the rows of a `ChunksExact` are consecutive
    // `s`-byte chunks of one slice, so the last one starting at `base + (grouped − 1) · s`
    // means every row in between lies within that slice too.
    let mut grouped = n / ROWS * ROWS;
    let last_ok = grouped
        .checked_sub(1)
        .and_then(|l| rows.clone().nth(l))
        .is_some_and(|r| {
            r.len() == s
                && Some(r.as_ptr() as usize)
                    == (grouped - 1)
                        .checked_mul(s)
                        .and_then(|d| (base as usize).checked_add(d))
        });
    if nb == 0 || !last_ok {
        grouped = 0;
    }
    let (head, tail) = out.split_at_mut(grouped);
    if grouped > 0 {
        head.fill(0.0);
        let xb = xb.get(..nb).unwrap_or(&[]);
        // short rows (MH-MoE experts, 2–3 blocks) get a small unpack buffer: zeroing the
        // 816-byte one took 3 % of a demo token's instructions
        if nb <= SHORT {
            // SAFETY: forwarded (see `grouped_rows`).
            unsafe { grouped_rows::<SHORT>(base, s, xb, head) };
        } else {
            // SAFETY: forwarded (see `grouped_rows`).
            unsafe { grouped_rows::<CHUNK>(base, s, xb, head) };
        }
    }
    for (o, r) in tail.iter_mut().zip(rows.skip(grouped)) {
        *o = dot_q8(r, xq);
    }
}

/// Blocks per unpack chunk for rows of at most this many blocks.
const SHORT: usize = 4;

/// The grouped rows of [`matvec_q8`]: `x`'s blocks unpacked `C` at a time into a stack buffer,
/// each chunk through [`rows4`] for all rows.
///
/// # Safety
/// `head.len()` is a non-zero multiple of 4 and rows `0 .. head.len()` start at `base + i · s`
/// and hold `s ≥ xb.len() · 34` readable bytes.
#[inline(always)]
unsafe fn grouped_rows<const C: usize>(
    base: *const u8,
    s: usize,
    xb: &[[u8; Q8_0_BLOCK_BYTES]],
    head: &mut [f32],
) {
    let mut buf = [[0u32; UWORDS]; C];
    for (c, xc) in xb.chunks(C).enumerate() {
        unpack(xc, &mut buf);
        let (ux, _) = buf.split_at(xc.len());
        // SAFETY: (caller) the rows hold `xb.len()` blocks; this chunk reads blocks
        // `c · C .. c · C + xc.len() ≤ xb.len()`, and `ux` holds `xc.len() ≥ 1` blocks.
        unsafe { rows4(base, s, c * C * Q8_0_BLOCK_BYTES, ux, xc.len(), head) };
    }
}

/// F32 row dot product with the same summation order as the scalar
/// [`dot_f32`](super::row::dot_f32) — lane `l` of 8 accumulates `w[8i + l] · x[8i + l]` in
/// ascending `i` (multiply rounded, then add rounded), then `Σ lanes` in lane order, then the
/// tail — so results are bit-identical to it.
///
/// The loop is `VLDM` of 8 activations and 8 weights and 8 `VMLA.F32` (non-fused: Armv7-M's
/// `VMLA` rounds the product before the accumulation, exactly `acc + (w · x)`), two chunks of
/// 8 per iteration. Rows that are not 4-byte aligned load their weights with unaligned `LDR`s
/// moved in pairs by `VMOV` (`VLDM` needs alignment). Needs a row of exactly `4 · x.len()`
/// bytes; anything else takes the scalar path.
#[inline]
pub(crate) fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    lanes_dot::<4>(
        row,
        x,
        lanes_aligned,
        lanes_unaligned,
        super::row::dot_f32,
        super::row::tail_f32,
    )
}

/// The shared frame of [`dot_f32`] and [`dot_f16`] (`B` bytes per weight): the lane loop over
/// the whole chunks of 8 (`aligned` for a 4-byte aligned row, else `unaligned`), then the
/// scalar `tail`; `scalar` for anything the lane loop does not take.
#[inline(always)]
fn lanes_dot<const B: usize>(
    row: &[u8],
    x: &[f32],
    aligned: impl Fn(&[u8], &[f32], usize) -> Option<f32>,
    unaligned: impl Fn(&[u8], &[f32], usize) -> Option<f32>,
    scalar: impl Fn(&[u8], &[f32]) -> f32,
    tail: impl Fn(&[u8], &[f32]) -> f32,
) -> f32 {
    const LANES: usize = 8;
    let chunks = x.len() / LANES;
    if chunks == 0 || row.len() != B * x.len() {
        return scalar(row, x);
    }
    let lanes = if (row.as_ptr() as usize).is_multiple_of(4) {
        aligned(row, x, chunks)
    } else {
        unaligned(row, x, chunks)
    };
    let Some(lanes) = lanes else {
        return scalar(row, x);
    };
    let (rt, xt) = (
        row.get(chunks * LANES * B..).unwrap_or(&[]),
        x.get(chunks * LANES..).unwrap_or(&[]),
    );
    lanes + tail(rt, xt)
}

/// `true` if `chunks ≥ 1` chunks of 8 fit both `row` (`B` bytes per weight) and `x`.
#[inline(always)]
fn fits<const B: usize>(row: &[u8], x: &[f32], chunks: usize) -> bool {
    chunks > 0 && chunks.checked_mul(8 * B).is_some_and(|b| b <= row.len()) && chunks * 8 <= x.len()
}

/// One chunk of 8 with a 4-byte aligned row: `acc[l] += w[l] · x[l]` (s0–s7).
macro_rules! chunk_aligned {
    () => {
        concat!(
            "vldmia {x}!, {{s8-s15}}\n",
            "vldmia {w}!, {{s16-s23}}\n",
            chunk_mla!(),
        )
    };
}

/// One chunk of 8 with a row at any alignment (`LDR` pairs moved by `VMOV`).
macro_rules! chunk_unaligned {
    () => {
        concat!(
            "vldmia {x}!, {{s8-s15}}\n",
            "ldr {t0}, [{w}], #32\n",
            "ldr {t1}, [{w}, #-28]\n",
            "vmov s16, s17, {t0}, {t1}\n",
            "ldr {t0}, [{w}, #-24]\n",
            "ldr {t1}, [{w}, #-20]\n",
            "vmov s18, s19, {t0}, {t1}\n",
            "ldr {t0}, [{w}, #-16]\n",
            "ldr {t1}, [{w}, #-12]\n",
            "vmov s20, s21, {t0}, {t1}\n",
            "ldr {t0}, [{w}, #-8]\n",
            "ldr {t1}, [{w}, #-4]\n",
            "vmov s22, s23, {t0}, {t1}\n",
            chunk_mla!(),
        )
    };
}

/// `acc[l] += w[l] · x[l]`: s0–s7 += s16–s23 · s8–s15.
macro_rules! chunk_mla {
    () => {
        concat!(
            "vmla.f32 s0, s16, s8\n",
            "vmla.f32 s1, s17, s9\n",
            "vmla.f32 s2, s18, s10\n",
            "vmla.f32 s3, s19, s11\n",
            "vmla.f32 s4, s20, s12\n",
            "vmla.f32 s5, s21, s13\n",
            "vmla.f32 s6, s22, s14\n",
            "vmla.f32 s7, s23, s15\n",
        )
    };
}

/// One chunk of 8 f16 weights (16 bytes) with a 4-byte aligned row: 4 words → s20–s23
/// (`VLDM`), widened to 8 f32 in s16–s23 by `VCVTB`/`VCVTT` (bottom half = the lower-addressed
/// element; each word is read before it is overwritten), then `acc[l] += w[l] · x[l]`.
macro_rules! chunk_f16_aligned {
    () => {
        concat!(
            "vldmia {x}!, {{s8-s15}}\n",
            "vldmia {w}!, {{s20-s23}}\n",
            widen_f16!(),
            chunk_mla!(),
        )
    };
}

/// [`chunk_f16_aligned`] for a row at any alignment (`LDR` pairs moved by `VMOV`).
macro_rules! chunk_f16_unaligned {
    () => {
        concat!(
            "vldmia {x}!, {{s8-s15}}\n",
            "ldr {t0}, [{w}], #16\n",
            "ldr {t1}, [{w}, #-12]\n",
            "vmov s20, s21, {t0}, {t1}\n",
            "ldr {t0}, [{w}, #-8]\n",
            "ldr {t1}, [{w}, #-4]\n",
            "vmov s22, s23, {t0}, {t1}\n",
            widen_f16!(),
            chunk_mla!(),
        )
    };
}

/// s20–s23 (8 packed f16, little-endian) → s16–s23 (8 f32), exact (binary16 → binary32 is;
/// subnormal halves too: FPSCR.FZ only flushes binary32 subnormals, and none arise).
macro_rules! widen_f16 {
    () => {
        concat!(
            "vcvtb.f32.f16 s16, s20\n",
            "vcvtt.f32.f16 s17, s20\n",
            "vcvtb.f32.f16 s18, s21\n",
            "vcvtt.f32.f16 s19, s21\n",
            "vcvtb.f32.f16 s20, s22\n",
            "vcvtt.f32.f16 s21, s22\n",
            "vcvtb.f32.f16 s22, s23\n",
            "vcvtt.f32.f16 s23, s23\n",
        )
    };
}

/// The lane loop around a chunk body: lanes start at +0.0; an odd first chunk runs alone, then
/// pairs of chunks; the result `Σ lanes` in lane order (`acc.iter().sum()`, whose -0.0 start
/// is exact: -0.0 + a = a) is left in `{t0}`. Chunks stay in ascending order.
macro_rules! lanes_asm {
    ($chunk:expr) => {
        concat!(
            "vpush {{s0-s23}}\n",
            "movs {t0}, #0\n",
            "vmov s0, s1, {t0}, {t0}\n",
            "vmov s2, s3, {t0}, {t0}\n",
            "vmov s4, s5, {t0}, {t0}\n",
            "vmov s6, s7, {t0}, {t0}\n",
            "lsrs {n}, {n}, #1\n",
            "bcc 2f\n",
            $chunk,
            "2:\n",
            // Z from `LSRS` (the chunk body sets no flags): no pairs left.
            "beq 4f\n",
            "3:\n",
            $chunk,
            $chunk,
            "subs {n}, {n}, #1\n",
            "bne 3b\n",
            "4:\n",
            "vadd.f32 s0, s0, s1\n",
            "vadd.f32 s0, s0, s2\n",
            "vadd.f32 s0, s0, s3\n",
            "vadd.f32 s0, s0, s4\n",
            "vadd.f32 s0, s0, s5\n",
            "vadd.f32 s0, s0, s6\n",
            "vadd.f32 s0, s0, s7\n",
            "vmov {t0}, s0\n",
            "vpop {{s0-s23}}\n",
        )
    };
}

/// Defines the lane loops of one weight type (`$bytes` bytes per weight, chunk bodies
/// `$chunk_aligned` / `$chunk_unaligned`): `$aligned(row, x, chunks)` for a 4-byte aligned row
/// (`VLDM` weight loads), `$unaligned` for a row at any alignment (`LDR`s, unaligned allowed on
/// Armv7-M/Armv8-M Mainline with the default CCR.UNALIGN_TRP = 0). Each returns
/// `Σ_l acc[l]` (in lane order) with `acc[l] = Σ_i w[8i + l] · x[8i + l]` for `i < chunks`, or
/// `None` unless the row (and, for `$aligned`, its alignment) [`fits`].
macro_rules! lanes_fns {
    ($aligned:ident, $unaligned:ident, $chunk_aligned:ident, $chunk_unaligned:ident, $bytes:literal) => {
        #[inline(always)]
        fn $aligned(row: &[u8], x: &[f32], chunks: usize) -> Option<f32> {
            if !fits::<$bytes>(row, x, chunks) || !(row.as_ptr() as usize).is_multiple_of(4) {
                return None;
            }
            let sum: u32;
            // SAFETY: `x` holds `chunks · 8` f32 (4-byte aligned) and `row` at least
            // `chunks · 8 · $bytes` bytes, 4-byte aligned (checked just above), exactly what
            // the loop reads (`chunks ≥ 1` chunks of 8 values). Only the stack is written:
            // s0–s23 are saved and restored around their use (rustc cannot name FPU registers
            // on these targets: its `vfp2` feature is unstable). Flags are clobbered by
            // `LSRS`/`SUBS`; `VCVTB` may set FPSCR exception flags on a signalling NaN.
            unsafe {
                asm!(
                    lanes_asm!($chunk_aligned!()),
                    x = inout(reg) x.as_ptr() => _,
                    w = inout(reg) row.as_ptr() => _,
                    n = inout(reg) chunks => _,
                    t0 = out(reg) sum,
                );
            }
            Some(f32::from_bits(sum))
        }

        #[inline(always)]
        fn $unaligned(row: &[u8], x: &[f32], chunks: usize) -> Option<f32> {
            if !fits::<$bytes>(row, x, chunks) {
                return None;
            }
            let sum: u32;
            // SAFETY: as in the aligned loop, with the weights read by `LDR` (any alignment on
            // Armv7-M/Armv8-M Mainline with the default CCR.UNALIGN_TRP = 0).
            unsafe {
                asm!(
                    lanes_asm!($chunk_unaligned!()),
                    x = inout(reg) x.as_ptr() => _,
                    w = inout(reg) row.as_ptr() => _,
                    n = inout(reg) chunks => _,
                    t0 = out(reg) sum,
                    t1 = out(reg) _,
                );
            }
            Some(f32::from_bits(sum))
        }
    };
}

lanes_fns!(
    lanes_aligned,
    lanes_unaligned,
    chunk_aligned,
    chunk_unaligned,
    4
);
lanes_fns!(
    lanes_f16_aligned,
    lanes_f16_unaligned,
    chunk_f16_aligned,
    chunk_f16_unaligned,
    2
);

/// F16 row dot product with the FPU's `VCVTB`/`VCVTT.F32.F16` (one instruction per value;
/// the portable conversion takes about seven), in the scalar
/// [`dot_f16`](super::row::dot_f16)'s order — lane `l` of 8 accumulates `w[8i + l] · x[8i + l]`
/// with `VMLA` (product rounded, then sum rounded), `Σ lanes` in lane order, then the tail in
/// order ([`tail_f16`](super::row::tail_f16)) — so bit-identical to it (a NaN weight gives a
/// NaN either way). Needs a row of exactly `2 · x.len()` bytes; anything else takes the scalar
/// path. Used for F16 weights and for the F16 KV cache's `q · k`.
#[inline]
pub(crate) fn dot_f16(row: &[u8], x: &[f32]) -> f32 {
    lanes_dot::<2>(
        row,
        x,
        lanes_f16_aligned,
        lanes_f16_unaligned,
        super::row::dot_f16,
        super::row::tail_f16,
    )
}

/// `out[c] += weight · f32(v[c])` for the first `8 · ⌊min(out.len(), 2 · words.len()) / 8⌋`
/// binary16 values `v` packed two per word (low half first); returns how many it did (the
/// caller does the rest). Per 8 values: `VLDM` of 8 outputs and 4 words, `VCVTB`/`VCVTT`,
/// 8 `VMLA` (product rounded, then sum rounded: `o + weight · v` exactly as the portable
/// code), `VSTM`. The F16 KV cache's `out += p · v`.
#[inline]
pub(crate) fn axpy_f16_words(words: &[u32], weight: f32, out: &mut [f32]) -> usize {
    let chunks = (out.len() / 8).min(words.len() / 4);
    if chunks == 0 {
        return 0;
    }
    // SAFETY: `words` holds at least `4 · chunks` aligned words and `out` at least
    // `8 · chunks` aligned f32 (`chunks` is bounded by both just above), exactly what the loop
    // reads (words, out) and writes (out); `chunks ≥ 1`. The stack is written: s0–s23 are
    // saved and restored around their use (rustc cannot name FPU registers on these targets:
    // its `vfp2` feature is unstable). Flags are clobbered by `SUBS`; `VCVTB` may set FPSCR
    // exception flags on a signalling NaN.
    unsafe {
        asm!(
            "vpush {{s0-s23}}",
            "vmov s0, {wt}",
            "2:",
            "vldmia {o}, {{s8-s15}}",
            "vldmia {v}!, {{s20-s23}}",
            widen_f16!(),
            "vmla.f32 s8, s16, s0",
            "vmla.f32 s9, s17, s0",
            "vmla.f32 s10, s18, s0",
            "vmla.f32 s11, s19, s0",
            "vmla.f32 s12, s20, s0",
            "vmla.f32 s13, s21, s0",
            "vmla.f32 s14, s22, s0",
            "vmla.f32 s15, s23, s0",
            "vstmia {o}!, {{s8-s15}}",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vpop {{s0-s23}}",
            wt = in(reg) weight.to_bits(),
            o = inout(reg) out.as_mut_ptr() => _,
            v = inout(reg) words.as_ptr() => _,
            n = inout(reg) chunks => _,
        );
    }
    8 * chunks
}

/// `max_j (bits(x_j) << 1)`: twice the sign-cleared bit pattern of `max |x_j|` (the shift drops
/// the sign bit), for the activation quantiser
/// ([`quantize_row_q8_0`](super::q8_0::quantize_row_q8_0)). Per value `CMP` + `IT` + `LSL`.
#[inline]
pub(crate) fn amax2_bits(x: &[f32; QK8_0]) -> u32 {
    macro_rules! max1 {
        ($r:literal) => {
            concat!(
                "cmp {m}, ",
                $r,
                ", lsl #1\n",
                "it lo\n",
                "lsllo {m}, ",
                $r,
                ", #1\n",
            )
        };
    }
    macro_rules! max4 {
        () => {
            concat!(
                "ldm {p}!, {{r0-r3}}\n",
                max1!("r0"),
                max1!("r1"),
                max1!("r2"),
                max1!("r3"),
            )
        };
    }
    let m: u32;
    // SAFETY: reads the 32 f32 of `x` (4-byte aligned, `LDM`), nothing else; writes no memory.
    // Flags are clobbered by `CMP`.
    unsafe {
        asm!(
            "movs {m}, #0",
            max4!(),
            max4!(),
            max4!(),
            max4!(),
            max4!(),
            max4!(),
            max4!(),
            max4!(),
            m = out(reg) m,
            p = inout(reg) x.as_ptr() => _,
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            options(readonly, nostack),
        );
    }
    m
}

/// `qs[j] = roundf(v_j)` for `v_j · 2²⁴ = x_j · ids` (`ids = id · 2²⁴`, the caller guarantees
/// `|x_j · ids| < 2³¹ − 2²³`), the same fixed-point rounding as the portable loop of
/// [`quantize_row_q8_0`](super::q8_0::quantize_row_q8_0): `t = VCVT.S32.F32(x · ids)` (toward
/// zero), `t' = t + (t >> 31)`, `q = (t' + 2²³) >> 24`. Four values per store: `PKHTB` gathers
/// the high halfwords `hi(t')` of two values, `UADD16` adds `0x80` to each (`hi(t' + 2²³)`: the
/// low halfword takes no part), `UXTB16 …, ROR #8` keeps their top bytes.
#[inline]
pub(crate) fn quantize_qs(x: &[f32; QK8_0], ids: f32, qs: &mut [u8; QK8_0]) {
    macro_rules! four {
        ($s0:literal, $s1:literal, $s2:literal, $s3:literal) => {
            concat!(
                "vmov {a}, {b}, ",
                $s0,
                ", ",
                $s1,
                "\n",
                "vmov {c}, {d}, ",
                $s2,
                ", ",
                $s3,
                "\n",
                "add {a}, {a}, {a}, asr #31\n",
                "add {b}, {b}, {b}, asr #31\n",
                "add {c}, {c}, {c}, asr #31\n",
                "add {d}, {d}, {d}, asr #31\n",
                "pkhtb {a}, {c}, {a}, asr #16\n",
                "pkhtb {b}, {d}, {b}, asr #16\n",
                "uadd16 {a}, {a}, {k}\n",
                "uadd16 {b}, {b}, {k}\n",
                "uxtb16 {a}, {a}, ror #8\n",
                "uxtb16 {b}, {b}, ror #8\n",
                "orr {a}, {a}, {b}, lsl #8\n",
                "str {a}, [{q}], #4\n",
            )
        };
    }
    macro_rules! eight {
        () => {
            concat!(
                "vldmia {p}!, {{s0-s7}}\n",
                "vmul.f32 s0, s0, s8\n",
                "vmul.f32 s1, s1, s8\n",
                "vmul.f32 s2, s2, s8\n",
                "vmul.f32 s3, s3, s8\n",
                "vmul.f32 s4, s4, s8\n",
                "vmul.f32 s5, s5, s8\n",
                "vmul.f32 s6, s6, s8\n",
                "vmul.f32 s7, s7, s8\n",
                "vcvt.s32.f32 s0, s0\n",
                "vcvt.s32.f32 s1, s1\n",
                "vcvt.s32.f32 s2, s2\n",
                "vcvt.s32.f32 s3, s3\n",
                "vcvt.s32.f32 s4, s4\n",
                "vcvt.s32.f32 s5, s5\n",
                "vcvt.s32.f32 s6, s6\n",
                "vcvt.s32.f32 s7, s7\n",
                four!("s0", "s1", "s2", "s3"),
                four!("s4", "s5", "s6", "s7"),
            )
        };
    }
    // SAFETY: reads the 32 f32 of `x` (4-byte aligned, `VLDM`) and writes the 32 bytes of `qs`
    // (word `STR`s, unaligned allowed on Armv7-M/Armv8-M Mainline with the default
    // CCR.UNALIGN_TRP = 0); s0–s8 are saved and restored on the stack around their use (rustc
    // cannot name FPU registers on these targets: its `vfp2` feature is unstable). `UADD16`
    // sets the GE flags; `VCVT` saturates (never reached: |x · ids| < 2³¹) and may set FPSCR
    // exception flags.
    unsafe {
        asm!(
            "vpush {{s0-s8}}",
            "vmov s8, {ids}",
            eight!(),
            eight!(),
            eight!(),
            eight!(),
            "vpop {{s0-s8}}",
            ids = in(reg) ids.to_bits(),
            k = in(reg) 0x0080_0080u32,
            p = inout(reg) x.as_ptr() => _,
            q = inout(reg) qs.as_mut_ptr() => _,
            a = out(reg) _,
            b = out(reg) _,
            c = out(reg) _,
            d = out(reg) _,
        );
    }
}
