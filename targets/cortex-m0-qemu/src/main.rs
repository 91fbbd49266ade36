//! Kernel self-test firmware for Cortex-M0 (thumbv6m) under QEMU (`microbit`, nRF51).
//!
//! Runs every picoformer kernel on the committed golden inputs, prints one line per case over
//! semihosting and exits with status 0 (all pass) or 1 (any mismatch or panic).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;

#[entry]
fn main() -> ! {
    hprintln!("picoformer self-test on Cortex-M0 (microbit)");
    let failures = picoformer_fw_common::run_all(&mut |c| {
        hprintln!(
            "{} {} worst err/tol = {}",
            if c.pass { "ok  " } else { "FAIL" },
            c.name,
            c.worst
        );
    });
    hprintln!("self-test: {} failures", failures);
    debug::exit(if failures == 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {}
}
