//! Core kernels vs golden vectors from NumPy / PyTorch / the `gguf` package
//! (`tests/golden/ops/make_golden.py`). The checks and tolerances live in
//! `tests/golden/ops/check.rs`, shared with the QEMU firmware.

#[allow(dead_code)] // fields read by the firmware runner and via Debug
#[path = "golden/ops/check.rs"]
mod check;

use check::{cases::CASES, check_case, tolerance, Buffers};

#[test]
fn every_golden_case_matches() {
    let fast = cfg!(feature = "fast-math");
    let mut buf = Box::new(Buffers::new());
    let mut failures = Vec::new();
    println!(
        "{:<28} {:>4} {:>10} {:>10} {:>12}",
        "case", "op", "atol", "rtol", "worst err/tol"
    );
    for &(name, bytes) in CASES {
        match check_case(name, bytes, &mut buf, fast) {
            Ok(worst) => {
                let op = check::format::Case::parse(bytes).map_or(0, |c| c.op);
                let t = tolerance(op, fast);
                println!(
                    "{name:<28} {op:>4} {:>10.1e} {:>10.1e} {worst:>12.3}",
                    t.atol, t.rtol
                );
            }
            Err(f) => {
                println!("{name:<28} FAILED: {f:?}");
                failures.push(f);
            }
        }
    }
    assert!(CASES.len() >= 40, "golden cases missing");
    assert!(
        failures.is_empty(),
        "{} golden case(s) failed: {failures:?}",
        failures.len()
    );
}

/// The comparison itself can fail: perturbing one golden output (or index) is caught.
#[test]
fn a_corrupted_golden_fails() {
    let mut buf = Box::new(Buffers::new());
    let mut tried = 0;
    for &(name, bytes) in CASES {
        let case = check::format::Case::parse(bytes).unwrap();
        let Some(arr) = case
            .get("y")
            .or_else(|| case.get("idx"))
            .or_else(|| case.get("q"))
        else {
            continue;
        };
        // perturb the element of largest magnitude (the first one for bytes and indices)
        let big = arr
            .f32s()
            .enumerate()
            .fold((0, 0.0f32), |(bi, bv), (i, v)| {
                if v.abs() > bv {
                    (i, v.abs())
                } else {
                    (bi, bv)
                }
            })
            .0;
        let at = arr.data.as_ptr() as usize - bytes.as_ptr() as usize + 4 * big;
        let mut bad = bytes.to_vec();
        // +1 on the lowest byte of the element's most significant half: a relative change
        // of about 2^-9 for f32, +65536 for an index, +1 for a Q8_0 scale byte.
        let k = if arr.ty == check::format::U8 {
            at
        } else {
            at + 2
        };
        bad[k] = bad[k].wrapping_add(1);
        let leaked: &'static [u8] = Box::leak(bad.into_boxed_slice());
        let r = check_case(name, leaked, &mut buf, false);
        assert!(r.is_err(), "{name}: corruption not detected");
        tried += 1;
    }
    assert!(tried >= 40);
}
