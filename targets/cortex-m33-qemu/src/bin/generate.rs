//! The demo LM on Cortex-M33 (mps2-an505): model in flash, static RAM only, sized exactly by `build.rs`
//! from the memory plan (`picoformer_fw_common::device::generate`).
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use cortex_m_rt::entry;
use panic_semihosting as _;

include!(concat!(env!("OUT_DIR"), "/plan.rs"));

static mut SCRATCH: [f32; SCRATCH_FLOATS] = [0.0; SCRATCH_FLOATS];
static mut KV: [u32; KV_WORDS] = [0; KV_WORDS];

#[entry]
fn main() -> ! {
    // SAFETY: the only references to the statics, taken once in a single-threaded program.
    let (scratch, kv) = unsafe { (&mut *addr_of_mut!(SCRATCH), &mut *addr_of_mut!(KV)) };
    picoformer_fw_common::device::generate("Cortex-M33 (mps2-an505)", scratch, kv)
}
