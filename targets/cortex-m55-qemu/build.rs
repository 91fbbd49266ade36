//! Linker script path, defmt's linker script (feature `defmt`) and the exact static buffer sizes
//! of the demo run: see `picoformer_fw_common::build::board`.
fn main() {
    picoformer_fw_common::build::board();
}
