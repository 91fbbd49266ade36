//! Kernel self-test firmware on Cortex-M55 (mps3-an547): every golden case on the device, one
//! line each over semihosting, exit status 0 iff all pass (`picoformer_fw_common::device::selftest`),
//! including the bit-exact Helium-vs-scalar checks of fw-common (`Q8_0 × Q8_0`, F32, F16). The
//! `Q8_0 × f32` row kernel has a SIMD path only here (Helium), so its bit-exact check runs
//! first, in this crate: a mismatch prints a `FAIL` line and exits with status 1.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use picoformer::ops;
use picoformer::quant::testing::{dot_scalar, dot_simd};
use picoformer::quant::{DType, Matrix};
use picoformer_fw_common::bench::Rng;

/// The Helium `Q8_0 × f32` dot product and matvec against the scalar path, bit for bit:
/// random blocks (finite f16 scales of every exponent and both signs, random quants or all
/// -128 / 127), activations of mixed magnitude and sign, 9 blocks per row, rows at even and
/// odd addresses, 5 rows (two 2-row passes + one single row), and a row longer than `x`.
/// Returns the mismatches.
fn check_q8_f32_simd() -> Option<u32> {
    const NB: usize = 9;
    const ROWS: usize = 5;
    const RB: usize = NB * 34;
    let mut rng = Rng(0x85eb_ca6b);
    let mut mismatches = 0;
    let mut buf = [0u8; ROWS * RB + 1];
    let mut x = [0.0f32; NB * 32];
    for round in 0..8 {
        for v in x.iter_mut() {
            let r = rng.bits();
            *v = ((r >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0) * (1u32 << (r % 16)) as f32;
        }
        let off = round % 2;
        for block in buf[off..off + ROWS * RB].chunks_exact_mut(34) {
            let r = rng.bits();
            let exp = (r >> 16) % 31;
            let d = ((r & 0x8000) | (exp << 10) | (r & 0x3ff)) as u16;
            block[..2].copy_from_slice(&d.to_le_bytes());
            let kind = (r >> 24) % 4;
            for q in block[2..].iter_mut() {
                *q = match kind {
                    1 => 0x80,
                    2 => 0x7f,
                    _ => rng.bits() as u8,
                };
            }
        }
        let rows = &buf[off..off + ROWS * RB];
        for r in rows.chunks_exact(RB) {
            for n in [NB * 32, 5 * 32 + 7] {
                let got = dot_simd(DType::Q8_0, r, &x[..n])?;
                mismatches +=
                    u32::from(dot_scalar(DType::Q8_0, r, &x[..n]).to_bits() != got.to_bits());
            }
        }
        let m = Matrix::new(DType::Q8_0, ROWS, NB * 32, rows).ok()?;
        let mut out = [0.0f32; ROWS];
        ops::matvec(&mut out, &m, &x).ok()?;
        for (r, o) in rows.chunks_exact(RB).zip(out) {
            mismatches += u32::from(dot_scalar(DType::Q8_0, r, &x).to_bits() != o.to_bits());
        }
    }
    Some(mismatches)
}

/// A bit-exact check: `Some(mismatches)`, `None` if a kernel returned an error.
type Check = fn() -> Option<u32>;

#[entry]
fn main() -> ! {
    let checks: [(&str, Check); 1] = [("simd/q8_0xf32_vs_scalar_bitexact", check_q8_f32_simd)];
    for (name, check) in checks {
        match check() {
            Some(0) => hprintln!("ok   {} worst err/tol = 0", name),
            m => {
                hprintln!("FAIL {} mismatches = {:?}", name, m);
                debug::exit(debug::EXIT_FAILURE);
            }
        }
    }
    picoformer_fw_common::device::selftest("Cortex-M55 (mps3-an547)")
}
