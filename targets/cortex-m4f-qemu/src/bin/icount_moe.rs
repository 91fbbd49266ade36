//! Instruction-count regions of an MH-MoE layer beside a dense SwiGLU FFN of equal MACs on
//! Cortex-M4F (mps2-an386) (`bash scripts/icount.sh m4f icount_moe`).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use panic_semihosting as _;

#[entry]
fn main() -> ! {
    picoformer_fw_common::device::icount_moe()
}
