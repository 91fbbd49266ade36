//! `picoformer-decode-timer MODEL.gguf [N] [REPS]`: prefill token 1 (BOS), then decode `N`
//! tokens greedily (argmax, no EOS stop) on one thread, `REPS` times from a reset session.
//! Prints one JSON line per repetition: `{"backend":..,"n":..,"secs":..,"tok_s":..}`; the time
//! covers `Session::step` + `sample::greedy` of the `N` decode steps only (as llama.cpp's eval
//! of single tokens plus an argmax in compare.py).
//!
//! With `PICO_HUGEPAGES` set, the weights are copied into anonymous memory advised
//! `MADV_HUGEPAGE` (2 MiB transparent huge pages, as `pico run --huge-pages`) instead of a heap
//! buffer on 4 KiB pages. `PICO_THREADS=n` splits the large matvecs over `n` threads
//! (`Session::set_threads`; default 1).

use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::plan::Plan;
use picoformer::{quant, sample};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: picoformer-decode-timer MODEL.gguf [N] [REPS]")?;
    let n: usize = args.next().map_or(Ok(128), |s| s.parse())?;
    let reps: usize = args.next().map_or(Ok(1), |s| s.parse())?;
    // the weights: a heap buffer (4 KiB pages) or, with PICO_HUGEPAGES, anonymous memory
    // advised for huge pages, read straight into either (one copy of the file)
    let (heap, huge);
    let bytes: &[u8] = if std::env::var_os("PICO_HUGEPAGES").is_some() {
        let mut f = std::fs::File::open(&path)?;
        let mut map = memmap2::MmapMut::map_anon(usize::try_from(f.metadata()?.len())?)?;
        map.advise(memmap2::Advice::HugePage)?;
        std::io::Read::read_exact(&mut f, &mut map)?;
        huge = map;
        &huge
    } else {
        heap = std::fs::read(&path)?;
        &heap
    };
    let model = Model::new(File::parse(bytes)?)?;
    let plan = Plan::new(model.config(), n + 1)?;
    let mut scratch = vec![0f32; plan.scratch_floats()];
    let mut kv = vec![0u32; plan.kv_words()];
    let mut session = Session::new(&model, &plan, &mut scratch, &mut kv)?;
    let threads: usize = std::env::var("PICO_THREADS").map_or(Ok(1), |s| s.parse())?;
    session.set_threads(threads);
    for _ in 0..reps {
        session.reset();
        let mut next = sample::greedy(session.prefill(&[1])?)?;
        let t0 = Instant::now();
        for _ in 0..n {
            next = sample::greedy(session.step(next)?)?;
        }
        let secs = t0.elapsed().as_secs_f64();
        println!(
            r#"{{"backend":"{}","n":{n},"secs":{secs:.6},"tok_s":{:.2},"last":{next}}}"#,
            quant::simd_backend(),
            n as f64 / secs
        );
    }
    Ok(())
}
