//! `stream [MiB]`: STREAM-like single-thread memory bandwidth, the bound for weight-streaming
//! decode (issue 9). Over a buffer far larger than the caches (default 1024 MiB), on 4 KiB
//! pages (a `Vec`) and on 2 MiB pages (anonymous memory advised `MADV_HUGEPAGE`):
//! - read: sum of all u64 words with 8 independent accumulators (what a matvec does with its
//!   weights: read once, no write);
//! - read2: the same with two streams, the two halves of each 8 MiB block read together (as
//!   the two-stream matvecs read a matrix); as fast or slightly faster on this machine;
//! - copy: `copy_from_slice` (memcpy), reported STREAM-style as 2 × bytes / time.
//!
//! Prints the median and best of 9 runs each, in GB/s (10^9 bytes).

use std::time::Instant;

fn read(words: &[u64]) -> u64 {
    let mut acc = [0u64; 8];
    for c in words.chunks_exact(8) {
        for (a, &w) in acc.iter_mut().zip(c) {
            *a = a.wrapping_add(w);
        }
    }
    acc.iter().fold(0, |s, &a| s.wrapping_add(a))
}

/// [`read`] over two streams: each 8 MiB block's two halves side by side.
fn read2(words: &[u64]) -> u64 {
    const BLOCK: usize = 1 << 20; // words
    let mut acc = [0u64; 16];
    for b in words.chunks(BLOCK) {
        let (x, y) = b.split_at(b.len() / 2);
        for (cx, cy) in x.chunks_exact(8).zip(y.chunks_exact(8)) {
            let (lo, hi) = acc.split_at_mut(8);
            for ((a, c), (&u, &v)) in lo.iter_mut().zip(hi).zip(cx.iter().zip(cy)) {
                *a = a.wrapping_add(u);
                *c = c.wrapping_add(v);
            }
        }
    }
    acc.iter().fold(0, |s, &a| s.wrapping_add(a))
}

fn time<F: FnMut()>(mut f: F) -> (f64, f64) {
    f();
    let mut t: Vec<f64> = (0..9)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[4], t[0])
}

fn report(name: &str, bytes: usize, (median, best): (f64, f64)) {
    println!(
        "{name}: {:.1} GB/s median, {:.1} GB/s best",
        bytes as f64 / median / 1e9,
        bytes as f64 / best / 1e9
    );
}

fn run(pages: &str, src: &mut [u64], dst: &mut [u64]) {
    for (i, w) in src.iter_mut().enumerate() {
        *w = i as u64;
    }
    dst.fill(1);
    let bytes = std::mem::size_of_val(src);
    let mut sink = 0u64;
    report(
        &format!("read  ({pages})"),
        bytes,
        time(|| sink ^= read(std::hint::black_box(src))),
    );
    report(
        &format!("read2 ({pages})"),
        bytes,
        time(|| sink ^= read2(std::hint::black_box(src))),
    );
    report(
        &format!("copy  ({pages})"),
        2 * bytes,
        time(|| dst.copy_from_slice(src)),
    );
    std::hint::black_box(sink);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = std::env::args().nth(1).map_or(Ok(1024), |s| s.parse())?;
    let words = mib * 1024 * 1024 / 8;
    {
        let mut src = vec![0u64; words];
        let mut dst = vec![0u64; words];
        run("4 KiB pages", &mut src, &mut dst);
    }
    let mut a = memmap2::MmapMut::map_anon(words * 8)?;
    let mut b = memmap2::MmapMut::map_anon(words * 8)?;
    a.advise(memmap2::Advice::HugePage)?;
    b.advise(memmap2::Advice::HugePage)?;
    let (pa, pb) = (a.as_mut_ptr(), b.as_mut_ptr());
    // SAFETY: both maps are page-aligned (so u64-aligned), `words * 8` bytes long, writable,
    // distinct, and outlive the slices; every bit pattern is a valid u64.
    let (src, dst) = unsafe {
        (
            std::slice::from_raw_parts_mut(pa.cast::<u64>(), words),
            std::slice::from_raw_parts_mut(pb.cast::<u64>(), words),
        )
    };
    run("2 MiB pages", src, dst);
    Ok(())
}
