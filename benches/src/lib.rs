//! Helpers shared by the criterion benches in `benches/`: deterministic pseudo-random data and
//! weight matrices stored in the ggml layouts the kernels read.

use picoformer::quant::{self, DType};

/// xorshift64 pseudo-random numbers (deterministic across runs and machines).
pub struct Rng(pub u64);

impl Rng {
    /// `n` values uniform in `[-a, a)`.
    pub fn vec(&mut self, n: usize, a: f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                ((self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * a
            })
            .collect()
    }
}

/// A row-major matrix `v` (`cols` per row) as F32, F16 or Q8_0 bytes (Q8_0 quantised row by
/// row with the crate's ggml-exact quantiser; `cols` must then be a multiple of 32).
pub fn store(v: &[f32], cols: usize, dtype: DType) -> Vec<u8> {
    match dtype {
        DType::F32 => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        DType::F16 => v
            .iter()
            .flat_map(|x| half::f16::from_f32(*x).to_bits().to_le_bytes())
            .collect(),
        DType::Q8_0 => v
            .chunks_exact(cols)
            .flat_map(|row| {
                let mut q = vec![0u8; quant::q8_0_row_bytes(cols)];
                quant::quantize_row_q8_0(row, &mut q).expect("quantise");
                q
            })
            .collect(),
    }
}
