//! Instruction-count harness (see `scripts/icount.sh`): runs each measured kernel once between
//! the marker functions `icount_start` / `icount_end`. QEMU logs every executed instruction;
//! the script counts the log lines between the markers' addresses. The region names are printed
//! over semihosting in the same order.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use picoformer_fw_common::bench;

/// Start marker: its body differs from `icount_end` so LLVM cannot merge the two.
#[inline(never)]
#[no_mangle]
pub extern "C" fn icount_start() {
    cortex_m::asm::nop();
}

/// End marker.
#[inline(never)]
#[no_mangle]
pub extern "C" fn icount_end() {
    cortex_m::asm::nop();
    cortex_m::asm::nop();
}

#[entry]
fn main() -> ! {
    let ok = bench::run(&mut |name, macs, f: &mut dyn FnMut()| {
        hprintln!("region {} macs={}", name, macs);
        icount_start();
        f();
        icount_end();
    });
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {}
}
