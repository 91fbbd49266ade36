//! Spec `openelm.md` §8 check 7: with KV heads holding distinct constants, query head `h` reads
//! KV head `h / g` (`repeat_interleave`), not `h % kv`. Also: attention is invariant to the
//! storage order of the cached rows.

use picoformer::elm::attend;
use picoformer::kv::{KvCache, KvConfig, KvStorage};

#[test]
fn check7_gqa_query_head_reads_kv_head_h_div_g() {
    const CFG: KvConfig<'static> = KvConfig {
        q_heads: &[8],
        kv_heads: &[2],
        head_dim: 4,
        capacity: 4,
        storage: KvStorage::F32,
        snapkv: None,
        chunk: 1,
    };
    let mut mem = vec![0u32; CFG.words()];
    let mut kv = KvCache::new(CFG, &mut mem).unwrap();
    // KV head 0 holds V = 1, KV head 1 holds V = 2, at three positions
    for p in 0..3 {
        let k = [0.1 * p as f32; 8];
        let v = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0];
        kv.append(0, p, &k, &v).unwrap();
    }
    let q: Vec<f32> = (0..32).map(|i| (i as f32 * 0.37).sin()).collect();
    let mut out = [0f32; 32];
    let mut scores = [0f32; 4];
    attend(&kv.layer(0).unwrap(), &q, &mut out, &mut scores, 4, 0.5).unwrap();
    for (h, head) in out.chunks_exact(4).enumerate() {
        let want = if h / 4 == 0 { 1.0 } else { 2.0 }; // g = 4
        for &x in head {
            assert!((x - want).abs() < 1e-6, "head {h}: {head:?}");
        }
    }
    // a too-short scores buffer is an error, not a panic
    assert!(attend(
        &kv.layer(0).unwrap(),
        &q,
        &mut out,
        &mut scores[..2],
        4,
        0.5
    )
    .is_err());
}

#[test]
fn attention_is_row_order_invariant() {
    const CFG: KvConfig<'static> = KvConfig {
        q_heads: &[2],
        kv_heads: &[1],
        head_dim: 4,
        capacity: 5,
        storage: KvStorage::F32,
        snapkv: None,
        chunk: 1,
    };
    let rows: Vec<([f32; 4], [f32; 4])> = (0..5)
        .map(|r| {
            let f = |o: f32| core::array::from_fn(|i| ((r * 4 + i) as f32 * 0.7 + o).cos());
            (f(0.0), f(1.0))
        })
        .collect();
    let q: Vec<f32> = (0..8).map(|i| (i as f32).sin()).collect();
    let run = |order: &[usize]| {
        let mut mem = vec![0u32; CFG.words()];
        let mut kv = KvCache::new(CFG, &mut mem).unwrap();
        for &r in order {
            kv.append(0, r as u32, &rows[r].0, &rows[r].1).unwrap();
        }
        let mut out = [0f32; 8];
        let mut scores = [0f32; 5];
        attend(&kv.layer(0).unwrap(), &q, &mut out, &mut scores, 4, 0.5).unwrap();
        out
    };
    let a = run(&[0, 1, 2, 3, 4]);
    let b = run(&[3, 0, 4, 2, 1]);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-6);
    }
}
