//! Instruction-count regions of the kernels on Cortex-M55 (mps3-an547) (`bash scripts/icount.sh`).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use panic_semihosting as _;

#[entry]
fn main() -> ! {
    picoformer_fw_common::device::icount_kernels()
}
