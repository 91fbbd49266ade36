//! The firmware programs themselves, shared by every board crate (feature `device`): a board's
//! `main` is its `#[entry]` plus one call into here. Output goes over semihosting; the exit
//! status (0 = pass) goes back to the host through semihosting too.

use core::ptr::addr_of;

use cortex_m_semihosting::{debug, hprint, hprintln};

use crate::{bench, demo};

#[cfg(feature = "defmt")]
use defmt_semihosting as _;

fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

/// Kernel self-test: one line per case, exit 0 iff every case passes.
pub fn selftest(board: &str) -> ! {
    hprintln!("picoformer self-test on {}", board);
    let failures = crate::run_all(&mut |c| {
        hprintln!(
            "{} {} worst err/tol = {}",
            if c.pass { "ok  " } else { "FAIL" },
            c.name,
            c.worst
        );
    });
    hprintln!("self-test: {} failures", failures);
    exit(failures == 0)
}

/// Instruction-count start marker (`scripts/icount.sh` finds it by name); its body differs from
/// [`icount_end`] so LLVM cannot merge the two.
#[inline(never)]
#[no_mangle]
pub extern "C" fn icount_start() {
    cortex_m::asm::nop();
}

/// Instruction-count end marker.
#[inline(never)]
#[no_mangle]
pub extern "C" fn icount_end() {
    cortex_m::asm::nop();
    cortex_m::asm::nop();
}

fn measure(name: &'static str, macs: usize, f: &mut dyn FnMut()) {
    hprintln!("region {} macs={}", name, macs);
    icount_start();
    f();
    icount_end();
}

/// The kernel regions of [`bench::run`], for `scripts/icount.sh`.
pub fn icount_kernels() -> ! {
    exit(bench::run(&mut measure))
}

/// The MH-MoE-vs-dense regions of [`crate::bench_moe::run`] (`scripts/icount.sh m4f icount_moe`).
pub fn icount_moe() -> ! {
    measure("empty", 0, &mut || {});
    exit(crate::bench_moe::run(&mut measure))
}

/// Three demo-LM decode steps, one region each (`scripts/icount.sh m4f icount_token`).
pub fn icount_tokens(scratch: &mut [f32], kv: &mut [u32]) -> ! {
    measure("empty", 0, &mut || {});
    exit(demo::measure_steps(scratch, kv, 3, &mut measure).is_ok())
}

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

/// The demo LM: prints the prompt and generated text, one `token <id>` line per token
/// (compared with `targets/host-sim`), then the RAM actually used: statics plus the stack
/// high-water mark measured by painting the free RAM first. `scratch` and `kv` are the board's
/// statics, sized by its `build.rs` from the memory plan.
pub fn generate(board: &str, scratch: &mut [f32], kv: &mut [u32]) -> ! {
    paint_stack();
    let (scratch_bytes, kv_bytes) = (4 * scratch.len(), 4 * kv.len());
    hprintln!("picoformer demo LM on {}", board);
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
                scratch_bytes,
                kv_bytes,
                stack,
                statics + stack
            );
            exit(true)
        }
        Err(e) => {
            hprintln!("error: {}", e);
            exit(false)
        }
    }
}
