//! Host side of a board crate's `build.rs` (feature `build`): puts `memory.x` on the linker
//! search path, adds defmt's linker script when the board enables defmt, and computes the demo
//! run's memory plan from the embedded GGUF so the firmware's static buffers have exactly the
//! planned size (`OUT_DIR/plan.rs`: `SCRATCH_FLOATS`, `KV_WORDS`).

use std::{env, format, fs, path::PathBuf, println};

use picoformer::{elm::Model, gguf::File};

/// Runs the whole build script of a board crate.
///
/// # Panics
/// On I/O errors or a malformed demo model (build scripts report by panicking).
pub fn board() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=../../models/shakespeare-q8_0.gguf");
    if env::var_os("CARGO_FEATURE_DEFMT").is_some() {
        println!("cargo:rustc-link-arg=-Tdefmt.x");
    }
    let model =
        Model::new(File::parse(crate::demo::MODEL).expect("demo GGUF")).expect("demo model");
    let plan = crate::demo::plan(&model).expect("demo plan");
    fs::write(
        out.join("plan.rs"),
        format!(
            "/// f32 scratch elements of the demo plan.\npub const SCRATCH_FLOATS: usize = {};\n\
             /// 32-bit KV words of the demo plan.\npub const KV_WORDS: usize = {};\n",
            plan.scratch_floats(),
            plan.kv_words()
        ),
    )
    .expect("plan.rs");
}
