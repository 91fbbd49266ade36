//! File-based golden cases: exactly the checks and files of the host test `tests/ops_golden.rs`
//! (`tests/golden/ops/check.rs`, included here by path), run on the device.

use crate::Check;

#[path = "../../../tests/golden/ops/check.rs"]
#[allow(dead_code, missing_docs)]
mod check;

static mut BUFFERS: check::Buffers = check::Buffers::new();

/// Calls `f` once per golden case of `tests/golden/ops/`.
pub fn for_each_check(f: &mut dyn FnMut(&Check)) {
    // SAFETY: single-threaded firmware; the buffer is only borrowed here, once per call.
    let buf = unsafe { &mut *core::ptr::addr_of_mut!(BUFFERS) };
    for &(name, bytes) in check::cases::CASES {
        let c = match check::check_case(name, bytes, buf, cfg!(feature = "fast-math")) {
            Ok(worst) => Check {
                name,
                worst,
                pass: true,
            },
            Err(_) => Check {
                name,
                worst: f32::INFINITY,
                pass: false,
            },
        };
        f(&c);
    }
}
