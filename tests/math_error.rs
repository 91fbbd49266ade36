//! Measured maximum error of each `picoformer::math` function against `libm`'s f64 functions
//! (a correctly-rounded-enough reference), over the ranges the kernels use. Prints a table
//! (`cargo test -p picoformer --test math_error -- --nocapture`, add `--features fast-math`
//! for the micromath approximations) and asserts the documented bounds.

use picoformer::math;

struct Row {
    name: &'static str,
    range: &'static str,
    f: fn(f32) -> f32,
    reference: fn(f64) -> f64,
    lo: f64,
    hi: f64,
    /// Measure absolute error (for functions whose outputs cross zero).
    absolute: bool,
    /// Documented bound with libm (default) and with micromath (`fast-math`).
    bound: (f64, f64),
}

fn samples(lo: f64, hi: f64) -> impl Iterator<Item = f32> {
    const N: usize = 200_001;
    (0..N).map(move |i| {
        let t = i as f64 / (N - 1) as f64;
        if lo > 0.0 && hi / lo > 1e3 {
            (lo * (hi / lo).powf(t)) as f32 // log-spaced
        } else {
            (lo + (hi - lo) * t) as f32
        }
    })
}

#[test]
fn math_error_table() {
    let fast = cfg!(feature = "fast-math");
    let rows = [
        Row {
            name: "exp",
            range: "[-87, 0] (softmax)",
            f: math::exp,
            reference: libm::exp,
            lo: -87.0,
            hi: 0.0,
            absolute: false,
            bound: (2.4e-7, 2.5e-3),
        },
        Row {
            name: "exp",
            range: "[-20, 20] (silu)",
            f: math::exp,
            reference: libm::exp,
            lo: -20.0,
            hi: 20.0,
            absolute: false,
            bound: (2.4e-7, 2.5e-3),
        },
        Row {
            name: "ln",
            range: "[1e-30, 1e30]",
            f: math::ln,
            reference: libm::log,
            lo: 1e-30,
            hi: 1e30,
            absolute: true,
            bound: (1e-5, 0.12),
        },
        Row {
            name: "sqrt",
            range: "[1e-12, 1e12]",
            f: math::sqrt,
            reference: libm::sqrt,
            lo: 1e-12,
            hi: 1e12,
            absolute: false,
            bound: (1.2e-7, 6.5e-2),
        },
        Row {
            name: "rsqrt",
            range: "[1e-12, 1e12] (rmsnorm)",
            f: math::rsqrt,
            reference: |x| 1.0 / libm::sqrt(x),
            lo: 1e-12,
            hi: 1e12,
            absolute: false,
            bound: (2.4e-7, 3.5e-2),
        },
        Row {
            name: "sin",
            range: "[-pi, pi]",
            f: math::sin,
            reference: libm::sin,
            lo: -std::f64::consts::PI,
            hi: std::f64::consts::PI,
            absolute: true,
            bound: (1.2e-7, 1.5e-3),
        },
        Row {
            name: "cos",
            range: "[-pi, pi]",
            f: math::cos,
            reference: libm::cos,
            lo: -std::f64::consts::PI,
            hi: std::f64::consts::PI,
            absolute: true,
            bound: (1.2e-7, 1.5e-3),
        },
        Row {
            name: "sin",
            range: "[0, 4096] (rope angles)",
            f: math::sin,
            reference: libm::sin,
            lo: 0.0,
            hi: 4096.0,
            absolute: true,
            bound: (1.2e-7, 1.5e-3),
        },
        Row {
            name: "cos",
            range: "[0, 4096] (rope angles)",
            f: math::cos,
            reference: libm::cos,
            lo: 0.0,
            hi: 4096.0,
            absolute: true,
            bound: (1.2e-7, 1.5e-3),
        },
        Row {
            name: "powf(1e4, y)",
            range: "y in [0, 1] (rope)",
            f: |y| math::powf(1e4, y),
            reference: |y| libm::pow(1e4, y),
            lo: 0.0,
            hi: 1.0,
            absolute: false,
            bound: (2.4e-7, 1e-3),
        },
        Row {
            name: "tanh",
            range: "[-10, 10]",
            f: math::tanh,
            reference: libm::tanh,
            lo: -10.0,
            hi: 10.0,
            absolute: true,
            bound: (1.2e-7, 1.2e-7),
        },
    ];
    println!(
        "picoformer::math vs libm f64 ({}):",
        if fast {
            "fast-math = micromath 2.1"
        } else {
            "default = libm f32"
        }
    );
    println!("| function | range | error kind | max error | at x | bound |");
    println!("|---|---|---|---|---|---|");
    let mut violations = Vec::new();
    for r in &rows {
        let (mut worst, mut at) = (0.0f64, 0.0f32);
        for x in samples(r.lo, r.hi) {
            let got = (r.f)(x) as f64;
            let want = (r.reference)(x as f64);
            let err = if r.absolute {
                (got - want).abs()
            } else {
                ((got - want) / want).abs()
            };
            if err > worst || err.is_nan() {
                worst = err;
                at = x;
            }
        }
        let bound = if fast { r.bound.1 } else { r.bound.0 };
        println!(
            "| {} | {} | {} | {:.3e} | {} | {:.1e} |",
            r.name,
            r.range,
            if r.absolute { "abs" } else { "rel" },
            worst,
            at,
            bound
        );
        if worst.is_nan() || worst > bound {
            violations.push((r.name, r.range, worst, bound));
        }
    }
    assert!(
        violations.is_empty(),
        "error bounds exceeded: {violations:?}"
    );
}
