//! Instruction-count regions of one MH-MoE layer beside a dense SwiGLU FFN of equal MACs
//! (`bash scripts/icount.sh m4f icount_moe`): d 384, h 4 (sub-token 96), E 8, k 2, SwiGLU
//! experts I_e 64, head + merge with bias (`2·d² + k·3·d·I_e` = 442,368 MACs + router `d·E`)
//! vs dense SwiGLU I 384 (`3·d·I` = 442,368 MACs), in F32 and Q8_0. Weights live in RAM
//! statics (3.5 MB at the F32 sizes; Q8_0 uses a prefix), so only the QEMU boards run it.

use picoformer::moe::{MoeConfig, MoeLayer, MoeWeights};
use picoformer::ops;
use picoformer::quant::{q8_0_row_bytes, quantize_row_q8_0, DType, Matrix};

use crate::bench::Rng;

const D: usize = 384;
const H: usize = 4;
const SUB: usize = D / H;
const E: usize = 8;
const K: usize = 2;
const IE: usize = 64;
const ID: usize = 384;

// F32 sizes (Q8_0 uses a prefix).
static mut HEAD: [u8; D * D * 4] = [0; D * D * 4];
static mut MERGE: [u8; D * D * 4] = [0; D * D * 4];
static mut HB: [u8; D * 4] = [0; D * 4];
static mut MB: [u8; D * 4] = [0; D * 4];
static mut ROUTER: [u8; E * SUB * 4] = [0; E * SUB * 4];
static mut GATE: [u8; E * IE * SUB * 4] = [0; E * IE * SUB * 4];
static mut UP: [u8; E * IE * SUB * 4] = [0; E * IE * SUB * 4];
static mut DOWN: [u8; E * SUB * IE * 4] = [0; E * SUB * IE * 4];
static mut DG: [u8; ID * D * 4] = [0; ID * D * 4];
static mut DU: [u8; ID * D * 4] = [0; ID * D * 4];
static mut DD: [u8; D * ID * 4] = [0; D * ID * 4];
static mut SCRATCH: [f32; picoformer::moe::scratch_len(D, H, K, IE)] =
    [0.0; picoformer::moe::scratch_len(D, H, K, IE)];

/// Fills `buf` with `rows × cols` random weights in `dtype`; returns the used bytes.
fn fill<'a>(
    buf: &'a mut [u8],
    rows: usize,
    cols: usize,
    dtype: DType,
    a: f32,
    rng: &mut Rng,
) -> Matrix<'a> {
    let stride = dtype.bytes_for(cols).expect("bench weights");
    let mut row = [0.0f32; 384];
    for r in 0..rows {
        for v in row[..cols].iter_mut() {
            *v = rng.next() * a;
        }
        let dst = &mut buf[r * stride..(r + 1) * stride];
        match dtype {
            DType::Q8_0 => quantize_row_q8_0(&row[..cols], dst).expect("bench weights"),
            _ => {
                for (c, v) in row[..cols].iter().enumerate() {
                    dst[c * 4..c * 4 + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    Matrix::new(dtype, rows, cols, &buf[..rows * stride]).expect("bench weights")
}

/// `measure(name, macs, kernel)` must call `kernel` exactly once between its markers.
/// Returns false if a kernel reported an error.
pub fn run(measure: &mut dyn FnMut(&'static str, usize, &mut dyn FnMut())) -> bool {
    let Ok(cfg) = MoeConfig::new(D, H, E, K, IE) else {
        return false;
    };
    let macs = cfg.macs_per_token();
    if macs.without_router() != (3 * D * ID) as u64 {
        return false; // the two regions must do equal MACs
    }
    let mut x = [0.0f32; D];
    let mut out = [0.0f32; D];
    let mut hb = [0.0f32; ID];
    let mut hb2 = [0.0f32; ID];
    let mut xq = [0u8; q8_0_row_bytes(D)];
    let mut hq = [0u8; q8_0_row_bytes(ID)];
    let mut ok = true;
    for dtype in [DType::F32, DType::Q8_0] {
        let mut rng = Rng(0x1234_5678);
        for v in x.iter_mut() {
            *v = rng.next();
        }
        // SAFETY: single-threaded firmware; each static is borrowed once per iteration.
        let (head, merge, hbias, mbias, router, gate, up, down, dg, du, dd, scratch) = unsafe {
            (
                &mut *core::ptr::addr_of_mut!(HEAD),
                &mut *core::ptr::addr_of_mut!(MERGE),
                &mut *core::ptr::addr_of_mut!(HB),
                &mut *core::ptr::addr_of_mut!(MB),
                &mut *core::ptr::addr_of_mut!(ROUTER),
                &mut *core::ptr::addr_of_mut!(GATE),
                &mut *core::ptr::addr_of_mut!(UP),
                &mut *core::ptr::addr_of_mut!(DOWN),
                &mut *core::ptr::addr_of_mut!(DG),
                &mut *core::ptr::addr_of_mut!(DU),
                &mut *core::ptr::addr_of_mut!(DD),
                &mut *core::ptr::addr_of_mut!(SCRATCH),
            )
        };
        let w = MoeWeights {
            head: Some(fill(head, D, D, dtype, 0.05, &mut rng)),
            head_bias: Some(fill(hbias, 1, D, DType::F32, 0.05, &mut rng)),
            router: fill(router, E, SUB, dtype, 0.3, &mut rng),
            gate_exps: Some(fill(gate, E * IE, SUB, dtype, 0.1, &mut rng)),
            up_exps: fill(up, E * IE, SUB, dtype, 0.1, &mut rng),
            down_exps: fill(down, E * SUB, IE, dtype, 0.1, &mut rng),
            merge: Some(fill(merge, D, D, dtype, 0.05, &mut rng)),
            merge_bias: Some(fill(mbias, 1, D, DType::F32, 0.05, &mut rng)),
        };
        let Ok(layer) = MoeLayer::new(cfg, w) else {
            return false;
        };
        let (g, u, dn) = (
            fill(dg, ID, D, dtype, 0.05, &mut rng),
            fill(du, ID, D, dtype, 0.05, &mut rng),
            fill(dd, D, ID, dtype, 0.05, &mut rng),
        );
        let q = dtype == DType::Q8_0;
        measure(
            if q {
                "mhmoe_h4_e8_k2_q8_0"
            } else {
                "mhmoe_h4_e8_k2_f32"
            },
            macs.total() as usize,
            &mut || {
                ok &= layer.forward(&x, &mut out, scratch, None).is_ok();
            },
        );
        measure(
            if q {
                "dense_swiglu_i384_q8_0"
            } else {
                "dense_swiglu_i384_f32"
            },
            3 * D * ID,
            &mut || {
                ok &= if q {
                    // as the session: each input quantised once, Q8_0 × Q8_0 matvecs
                    quantize_row_q8_0(&x, &mut xq).is_ok()
                        && ops::matvec_q8_pre(&mut hb, &g, &xq).is_ok()
                        && ops::matvec_q8_pre(&mut hb2, &u, &xq).is_ok()
                        && ops::swiglu_inplace(&mut hb, &hb2).is_ok()
                        && quantize_row_q8_0(&hb, &mut hq).is_ok()
                        && ops::matvec_q8_pre(&mut out, &dn, &hq).is_ok()
                } else {
                    ops::matvec(&mut hb, &g, &x).is_ok()
                        && ops::matvec(&mut hb2, &u, &x).is_ok()
                        && ops::swiglu_inplace(&mut hb, &hb2).is_ok()
                        && ops::matvec(&mut out, &dn, &hb).is_ok()
                };
            },
        );
    }
    ok
}
