//! Measured regions for instruction counting: each kernel is run once on deterministic
//! pseudo-random data, wrapped by the caller's `measure` callback (which places the markers).

use picoformer::ops;
use picoformer::quant::{quantize_row_q8_0, DType, Matrix};

/// Largest matrix measured: 288 x 288 (the llama2.c 15M model's dim and CMSIS-NN anchor).
const R: usize = 288;
const C: usize = 288;
/// F16 is measured on fewer rows: software f16 conversion makes it ~10x slower per MAC.
const R16: usize = 32;

static mut W32: [u8; R * C * 4] = [0; R * C * 4];
static mut W16: [u8; R16 * C * 2] = [0; R16 * C * 2];
static mut WQ8: [u8; R * (C / 32) * 34] = [0; R * (C / 32) * 34];
static mut XQ8: [u8; ops::matvec_q8_scratch_len(C)] = [0; ops::matvec_q8_scratch_len(C)];

struct Rng(u32);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
    }
}

/// `measure(name, macs, kernel)` must call `kernel` exactly once between its markers.
/// Returns false if a kernel reported an error.
pub fn run(measure: &mut dyn FnMut(&'static str, usize, &mut dyn FnMut())) -> bool {
    // SAFETY: single-threaded firmware; the statics are only touched here, through these
    // exclusive references taken once.
    let (w32, w16, wq8, xq8) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(W32),
            &mut *core::ptr::addr_of_mut!(W16),
            &mut *core::ptr::addr_of_mut!(WQ8),
            &mut *core::ptr::addr_of_mut!(XQ8),
        )
    };
    let mut rng = Rng(0x1234_5678);
    let mut row = [0.0f32; C];
    for r in 0..R {
        for v in row.iter_mut() {
            *v = rng.next() * 0.1;
        }
        for (c, v) in row.iter().enumerate() {
            let i = (r * C + c) * 4;
            w32[i..i + 4].copy_from_slice(&v.to_le_bytes());
            if r < R16 {
                let j = (r * C + c) * 2;
                w16[j..j + 2].copy_from_slice(&half::f16::from_f32(*v).to_le_bytes());
            }
        }
        let rb = (C / 32) * 34;
        if quantize_row_q8_0(&row, &mut wq8[r * rb..(r + 1) * rb]).is_err() {
            return false;
        }
    }
    let mut x = [0.0f32; C];
    for v in x.iter_mut() {
        *v = rng.next();
    }
    let mut out = [0.0f32; R];
    let mut ok = true;
    let (Ok(m32), Ok(m16), Ok(mq8)) = (
        Matrix::new(DType::F32, R, C, w32),
        Matrix::new(DType::F16, R16, C, w16),
        Matrix::new(DType::Q8_0, R, C, wq8),
    ) else {
        return false;
    };
    // Calibration: marker overhead, subtracted from every region by scripts/icount.sh.
    measure("empty", 0, &mut || {});
    measure("matvec_f32_288x288", R * C, &mut || {
        ok &= ops::matvec(&mut out, &m32, &x).is_ok()
    });
    measure("matvec_f16_32x288", R16 * C, &mut || {
        ok &= ops::matvec(&mut out[..R16], &m16, &x).is_ok()
    });
    measure("matvec_q8_0_f32act_288x288", R * C, &mut || {
        ok &= ops::matvec(&mut out, &mq8, &x).is_ok()
    });
    measure("matvec_q8_0_q8act_288x288", R * C, &mut || {
        ok &= ops::matvec_q8(&mut out, &mq8, &x, xq8).is_ok()
    });
    let mut v = [0.0f32; C];
    v.copy_from_slice(&x);
    measure("rmsnorm_288", C, &mut || {
        ok &= ops::rmsnorm_inplace(&mut v, &row, 1e-6).is_ok()
    });
    measure("softmax_288", C, &mut || ok &= ops::softmax(&mut v).is_ok());
    ok
}
