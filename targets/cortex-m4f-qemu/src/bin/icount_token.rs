//! Instructions per generated token of the demo LM (`bash scripts/icount.sh m4f icount_token`):
//! the same static memory and model as `generate`, three decode steps measured one by one.
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use picoformer_fw_common::demo;

include!(concat!(env!("OUT_DIR"), "/plan.rs"));

static mut SCRATCH: [f32; SCRATCH_FLOATS] = [0.0; SCRATCH_FLOATS];
static mut KV: [u32; KV_WORDS] = [0; KV_WORDS];

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
    // SAFETY: the only references to the statics, taken once in a single-threaded program.
    let (scratch, kv) = unsafe { (&mut *addr_of_mut!(SCRATCH), &mut *addr_of_mut!(KV)) };
    let mut measure = |name: &'static str, macs: usize, f: &mut dyn FnMut()| {
        hprintln!("region {} macs={}", name, macs);
        icount_start();
        f();
        icount_end();
    };
    measure("empty", 0, &mut || {});
    let ok = demo::measure_steps(scratch, kv, 3, &mut measure).is_ok();
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {}
}
