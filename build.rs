//! Build script: detects whether the target has the Arm DSP extension (`SMLAD`, `SXTB16`).
//!
//! `cfg(target_feature = "dsp")` is unstable on stable Rust (rustc does not expose it), so the
//! DSP kernel (`src/quant/dsp.rs`) is selected by the custom cfg `picoformer_arm_dsp`, set when
//! - the target is Armv7E-M (`thumbv7em-*`: Cortex-M4/M7, DSP is part of the architecture), or
//! - the target is Armv8-M Mainline (`thumbv8m.main-*`) and the rustflags select a CPU whose
//!   LLVM definition includes DSP (`target-cpu=cortex-m33/m35p/m55/m85`) or `+dsp`.
//!
//! Only hard-float (`*eabihf`) targets: the kernel converts block scales with the FPU's
//! `VCVTB.F32.F16`. `PICOFORMER_NO_DSP=1` forces the portable scalar path.
//!
//! The Helium (MVE) `Q8_0` kernel (`src/quant/helium.rs`) is selected by `picoformer_arm_mve`,
//! set on top of `picoformer_arm_dsp` when the rustflags select an Armv8.1-M CPU with MVE
//! including its floating-point part (`target-cpu=cortex-m55/m85`; rustc has no Armv8.1-M
//! target, and with such a CPU LLVM assembles MVE on `thumbv8m.main`), unless they disable
//! `mve`/`mve.fp`. `PICOFORMER_NO_MVE=1` keeps the DSP path.

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(picoformer_arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(picoformer_arm_mve)");
    println!("cargo::rerun-if-env-changed=PICOFORMER_NO_DSP");
    println!("cargo::rerun-if-env-changed=PICOFORMER_NO_MVE");
    println!("cargo::rerun-if-changed=build.rs");
    if env::var_os("PICOFORMER_NO_DSP").is_some() {
        return;
    }
    let target = env::var("TARGET").unwrap_or_default();
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let v8m_dsp = ["cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"]
        .iter()
        .any(|cpu| flags.contains(&format!("target-cpu={cpu}")))
        || flags.contains("+dsp");
    let dsp = target.starts_with("thumbv7em") || (target.starts_with("thumbv8m.main") && v8m_dsp);
    if dsp && target.ends_with("eabihf") {
        println!("cargo::rustc-cfg=picoformer_arm_dsp");
    } else {
        return;
    }
    let mve = ["cortex-m55", "cortex-m85"]
        .iter()
        .any(|cpu| flags.contains(&format!("target-cpu={cpu}")))
        && !flags.contains("-mve");
    if mve && env::var_os("PICOFORMER_NO_MVE").is_none() {
        println!("cargo::rustc-cfg=picoformer_arm_mve");
    }
}
