//! The golden cases run on the device.
//!
//! Spec-derived cases (numbers quoted from `shared/spec/openelm.md` §8) are always present;
//! file-based cases read the committed NumPy goldens under `tests/golden/`.

use crate::Check;
use picoformer::ops;

fn max_abs_err(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0f32, |m, (x, y)| {
        let d = (x - y).abs();
        if d > m || d.is_nan() {
            d
        } else {
            m
        }
    })
}

fn check(name: &'static str, ok: bool, max_err: f32, tol: f32) -> Check {
    Check {
        name,
        worst: max_err / tol,
        pass: ok && max_err <= tol,
    }
}

/// Calls `f` once per case.
pub fn for_each_check(f: &mut dyn FnMut(&Check)) {
    // openelm.md §8 check 6: RMSNorm of [1,2,3,4], w = 1, eps 1e-6.
    {
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let mut y = [0.0f32; 4];
        let ok = ops::rmsnorm(&mut y, &x, &[1.0; 4], 1e-6).is_ok();
        let want = [0.36514837f32, 0.73029673, 1.0954450, 1.4605935];
        f(&check(
            "spec/rmsnorm_1234",
            ok,
            max_abs_err(&y, &want),
            1e-6,
        ));
    }
    // openelm.md §8 check 5: rotate-half RoPE of e_0 at position p gives cos p at 0, sin p at 32.
    {
        let mut x = [0.0f32; 64];
        x[0] = 1.0;
        let p = 7usize;
        let ok = ops::rope_direct(&mut x, 64, p, 10000.0, ops::RopeStyle::Neox).is_ok();
        let (c, s) = (picoformer::math::cos(7.0), picoformer::math::sin(7.0));
        let err = (x[0] - c).abs().max((x[32] - s).abs()).max(x[1].abs());
        f(&check("spec/rope_neox_e0", ok, err, 1e-6));
    }
    crate::golden_files::for_each_check(f);
    crate::bench::check_q8_simd(f);
    crate::bench::check_f32_simd(f);
    crate::bench::check_f16_simd(f);
    crate::bench::check_q8_f32_simd(f);
    crate::bench::check_kv_f16_axpy(f);
    #[cfg(feature = "ays")]
    crate::ays_check::for_each_check(f);
}
