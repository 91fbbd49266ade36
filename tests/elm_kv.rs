//! The session over a bounded KV cache: a plain ring (sliding window) and SnapKV streaming
//! compression. Before the cache first fills, logits equal the full-cache run bit for bit;
//! afterwards the cache never exceeds its capacity and the run stays finite.

use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::kv::{Gqa, Pool, SnapKv};
use picoformer::plan::{KvOptions, Plan};

const GGUF: &[u8] = include_bytes!("golden/elm/openelm_f32.gguf");
const N: usize = 80;

fn tokens() -> Vec<u32> {
    (0..N as u32).map(|i| (i * 37 + 11) % 300).collect()
}

/// Logits of every position, plus per-layer (kept, evicted, compressions) at the end.
fn run(model: &Model<'_>, kv: KvOptions) -> (Vec<f32>, Vec<(usize, usize, usize)>) {
    let plan = Plan::with_kv(model.config(), N, kv).unwrap();
    let mut scratch = vec![0f32; plan.scratch_floats()];
    let mut mem = vec![0u32; plan.kv_words()];
    let mut s = Session::new(model, &plan, &mut scratch, &mut mem).unwrap();
    let mut out = vec![0f32; N * model.config().vocab_size];
    s.forward_all(&tokens(), &mut out).unwrap();
    let stats = (0..model.config().n_layers())
        .map(|l| {
            let st = s.kv().stats(l);
            (st.kept, st.evicted, st.compressions)
        })
        .collect();
    (out, stats)
}

#[test]
fn bounded_caches_match_full_until_full() {
    let model = Model::new(File::parse(GGUF).unwrap()).unwrap();
    let v = model.config().vocab_size;
    let (full, st) = run(&model, KvOptions::DEFAULT);
    assert!(st.iter().all(|&(kept, ev, _)| kept == N && ev == 0));

    let cap = 24;
    let ring = KvOptions {
        capacity: cap,
        ..KvOptions::DEFAULT
    };
    let (ours, st) = run(&model, ring);
    assert_eq!(ours[..cap * v], full[..cap * v]);
    assert_ne!(ours[(cap + 1) * v..], full[(cap + 1) * v..]);
    assert!(st.iter().all(|&(kept, ev, _)| kept == cap && ev == N - cap));

    let snap = KvOptions {
        capacity: cap,
        snapkv: Some(SnapKv {
            window: 8,
            kernel: 5,
            pool: Pool::Avg,
            gqa: Gqa::Group,
        }),
        chunk: 4,
        ..KvOptions::DEFAULT
    };
    let (ours, st) = run(&model, snap);
    assert_eq!(ours[..cap * v], full[..cap * v]);
    assert!(ours.iter().all(|x| x.is_finite()));
    for &(kept, ev, comp) in &st {
        assert!(kept <= cap && comp > 0 && kept + ev == N, "{st:?}");
    }
    // Top-1 agreement with the full cache after compression starts (reported, loosely bounded).
    let argmax = |r: &[f32]| {
        r.iter()
            .enumerate()
            .fold(0, |b, (i, &x)| if x > r[b] { i } else { b })
    };
    let agree = (cap..N)
        .filter(|&p| argmax(&ours[p * v..(p + 1) * v]) == argmax(&full[p * v..(p + 1) * v]))
        .count();
    println!(
        "SnapKV C={cap} w=8: top-1 agreement with the full cache {agree}/{}",
        N - cap
    );
}
