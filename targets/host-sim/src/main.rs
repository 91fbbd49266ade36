//! Host simulation of `targets/*/src/bin/generate.rs`: runs `picoformer_fw_common::demo` with
//! heap buffers of exactly the planned sizes and prints the same `token` lines as the firmware,
//! so `scripts/tests.d/40-firmware.sh` can diff the two.

use picoformer::elm::Model;
use picoformer::gguf::File;
use picoformer_fw_common::demo;

fn main() -> Result<(), picoformer::Error> {
    let model = Model::new(File::parse(demo::MODEL)?)?;
    let plan = demo::plan(&model)?;
    let mut scratch = vec![0f32; plan.scratch_floats()];
    let mut kv = vec![0u32; plan.kv_words()];
    let s = demo::generate(&mut scratch, &mut kv, &mut |id, _| println!("token {id}"))?;
    println!(
        "generated {} tokens, {} SnapKV compressions",
        s.generated, s.compressions
    );
    Ok(())
}
