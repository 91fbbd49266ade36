//! Puts memory.x on the linker search path, and computes the demo run's memory plan on the
//! host from the embedded GGUF so the firmware's static buffers have exactly the planned size.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    fs::copy("memory.x", out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    if env::var_os("CARGO_FEATURE_DEFMT").is_some() {
        println!("cargo:rustc-link-arg=-Tdefmt.x");
    }
    println!("cargo:rerun-if-changed=../../models/shakespeare-q8_0.gguf");

    use picoformer::{elm::Model, gguf::File};
    use picoformer_fw_common::demo;
    let model = Model::new(File::parse(demo::MODEL).unwrap()).unwrap();
    let plan = demo::plan(&model).unwrap();
    fs::write(
        out.join("plan.rs"),
        format!(
            "/// f32 scratch elements of the demo plan.\npub const SCRATCH_FLOATS: usize = {};\n\
             /// 32-bit KV words of the demo plan.\npub const KV_WORDS: usize = {};\n",
            plan.scratch_floats(),
            plan.kv_words()
        ),
    )
    .unwrap();
}
