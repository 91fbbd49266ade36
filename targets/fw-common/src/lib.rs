//! Firmware self-tests shared by every target crate.
//!
//! Each check runs a picoformer kernel on the same committed golden inputs as the host tests
//! (`tests/golden/`, embedded with `include_bytes!`) and compares with the reference outputs.
//! The target crate prints the report over semihosting and exits with a non-zero status on any
//! mismatch.
#![no_std]

#[cfg(feature = "ays")]
pub mod ays_check;
pub mod bench;
pub mod bench_moe;
#[cfg(feature = "build")]
extern crate std;
#[cfg(feature = "build")]
pub mod build;
pub mod demo;
#[cfg(all(feature = "device", target_os = "none"))]
pub mod device;
pub mod golden;
mod golden_files;

/// Outcome of one named check.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    /// Name of the golden case.
    pub name: &'static str,
    /// Worst `error / allowed error` over the case's elements (≤ 1 passes; exact checks give 0).
    pub worst: f32,
    /// Whether the kernel returned `Ok` and every element is within tolerance.
    pub pass: bool,
}

/// Runs every check, calling `report` for each; returns the number of failures.
pub fn run_all(report: &mut dyn FnMut(&Check)) -> usize {
    let mut failures = 0;
    golden::for_each_check(&mut |c: &Check| {
        if !c.pass {
            failures += 1;
        }
        report(c);
    });
    failures
}
