//! The demo LM on the device: the model runs from flash (`include_bytes!`), all RAM is static
//! (scratch and KV ring sized by `build.rs` from the memory plan; no heap). Prints the generated
//! text and one `token <id>` line per token over semihosting (compared with `targets/host-sim`
//! by `scripts/tests.d/40-firmware.sh`), then the RAM actually used: static buffers plus the
//! stack high-water mark measured by painting the free RAM before the run.
#![no_std]
#![no_main]

use core::ptr::{addr_of, addr_of_mut};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprint, hprintln};
#[cfg(feature = "defmt")]
use defmt_semihosting as _;
use panic_semihosting as _;
use picoformer_fw_common::demo;

include!(concat!(env!("OUT_DIR"), "/plan.rs"));

static mut SCRATCH: [f32; SCRATCH_FLOATS] = [0.0; SCRATCH_FLOATS];
static mut KV: [u32; KV_WORDS] = [0; KV_WORDS];

const PAINT: u32 = 0xC0DE_CAFE;

extern "C" {
    /// Start of RAM that no static uses (cortex-m-rt; the stack grows down towards it).
    static mut __sheap: u32;
    /// Initial stack pointer (top of RAM).
    static _stack_start: u32;
    /// Start of RAM statics (`.data`).
    static mut __sdata: u32;
}

/// Fills the free RAM between the statics and the current stack pointer with `PAINT`.
fn paint_stack() {
    let lo = addr_of!(__sheap) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let mut a = lo;
    while a + 256 < sp {
        // SAFETY: [lo, sp - 256) is RAM above every static and below the live stack frame;
        // nothing else uses it at this point (no heap, single thread, interrupts unused).
        unsafe { core::ptr::write_volatile(a as *mut u32, PAINT) };
        a += 4;
    }
}

/// Bytes of stack ever used: from the top of RAM down to the lowest overwritten word.
fn stack_high_water() -> usize {
    let lo = addr_of!(__sheap) as usize;
    let top = addr_of!(_stack_start) as usize;
    let mut a = lo;
    // SAFETY: reads of RAM words in [lo, top), all inside the RAM region.
    while a < top && unsafe { core::ptr::read_volatile(a as *const u32) } == PAINT {
        a += 4;
    }
    top - a
}

#[entry]
fn main() -> ! {
    paint_stack();
    // SAFETY: the only references to the statics, taken once in a single-threaded program.
    let (scratch, kv) = unsafe { (&mut *addr_of_mut!(SCRATCH), &mut *addr_of_mut!(KV)) };
    hprintln!("picoformer demo LM on {}", env!("CARGO_PKG_DESCRIPTION"));
    hprint!("{}", core::str::from_utf8(demo::PROMPT).unwrap_or("?"));
    let mut ids = [0u32; demo::N_TOKENS];
    let mut n = 0;
    let result = demo::generate(scratch, kv, &mut |id, bytes| {
        if let Some(slot) = ids.get_mut(n) {
            *slot = id;
        }
        n += 1;
        hprint!("{}", core::str::from_utf8(bytes).unwrap_or("?"));
    });
    hprintln!();
    match result {
        Ok(s) => {
            for id in ids.iter().take(n) {
                hprintln!("token {}", id);
                #[cfg(feature = "defmt")]
                defmt::info!("token {=u32}", *id);
            }
            hprintln!(
                "generated {} tokens, {} SnapKV compressions",
                s.generated,
                s.compressions
            );
            hprintln!("moe expert counts (layer-major): {:?}", s.expert_counts);
            let statics = addr_of!(__sheap) as usize - addr_of!(__sdata) as usize;
            let stack = stack_high_water();
            hprintln!(
                "ram: statics {} B (scratch {} B, kv {} B), stack peak {} B, total {} B",
                statics,
                SCRATCH_FLOATS * 4,
                KV_WORDS * 4,
                stack,
                statics + stack
            );
            debug::exit(debug::EXIT_SUCCESS);
        }
        Err(e) => {
            hprintln!("error: {}", e);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    loop {}
}
