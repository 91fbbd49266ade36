//! Kernel self-test firmware on Cortex-M55 (mps3-an547): every golden case on the device, one
//! line each over semihosting, exit status 0 iff all pass (`picoformer_fw_common::device::selftest`),
//! including fw-common's bit-exact Helium-vs-scalar checks (`Q8_0 × Q8_0`, `Q8_0 × f32`, F32,
//! F16).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use panic_semihosting as _;

#[entry]
fn main() -> ! {
    picoformer_fw_common::device::selftest("Cortex-M55 (mps3-an547)")
}
