//! SnapKV invariants (spec §8) as property tests, plus the constructed needle test.

use picoformer::kv::{self, Buffers, Gqa, KvCache, KvConfig, KvStorage, Pool, Shape, SnapKv};
use picoformer::Error;
use proptest::prelude::*;

/// Small deterministic PRNG (xorshift) for bulk data inside a property.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.next() * scale).collect()
    }
}

fn pool_of(b: bool) -> Pool {
    if b {
        Pool::Avg
    } else {
        Pool::Max
    }
}

fn gqa_of(b: bool) -> Gqa {
    if b {
        Gqa::Repeat
    } else {
        Gqa::Group
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Invariants 1, 3, 5: kept count, ascending, unique, in range; L == C keeps every prefix
    /// position (a permutation); L < C keeps everything.
    #[test]
    fn select_invariants(
        kv_heads in 1usize..3, n_rep in 1usize..3, d in 1usize..6,
        w in 1usize..6, extra in 1usize..10, len_off in 0usize..40,
        ks_half in 0usize..4, avg: bool, repeat: bool, seed in 1u64..u64::MAX, scale in 0.1f32..4.0,
    ) {
        let c = w + extra;
        let len = (w + len_off).max(w);
        let h = kv_heads * n_rep;
        let snap = SnapKv { window: w, kernel: 2 * ks_half + 1, pool: pool_of(avg), gqa: gqa_of(repeat) };
        let shape = Shape { q_heads: h, kv_heads, len, head_dim: d };
        let heads = shape.selecting_heads(snap.gqa);
        let lp = shape.prefix(w);
        let kn = shape.kept(w, c);
        let mut rng = Rng(seed);
        let q = rng.vec(h * w * d, scale);
        let k = rng.vec(kv_heads * len * d, scale);
        let (mut logits, mut idx) = (vec![0.0; len], vec![0; lp]);
        let (mut votes, mut pooled, mut kept) = (vec![0.0; heads * lp], vec![0.0; heads * lp], vec![0; heads * kn]);
        let sel = kv::select(&snap, c, shape, &q, &k, Buffers {
            logits: &mut logits, idx: &mut idx, votes: &mut votes, pooled: &mut pooled, kept: &mut kept,
        }).unwrap();
        prop_assert_eq!(sel.compressed, len >= c);
        // Output length: kept prefix + window = C when L >= C, L otherwise.
        prop_assert_eq!(sel.kept + w, if len >= c { c } else { len });
        for hh in 0..heads {
            let got = &kept[hh * kn..(hh + 1) * kn];
            prop_assert!(got.windows(2).all(|p| p[0] < p[1]));
            prop_assert!(got.iter().all(|&j| (j as usize) < lp));
            if len <= c {
                prop_assert_eq!(got.to_vec(), (0..lp as u32).collect::<Vec<_>>());
            }
            // Votes: each query row's probabilities sum to <= 1 over the prefix.
            let group = if repeat { 1 } else { n_rep };
            let total: f32 = votes[hh * lp..(hh + 1) * lp].iter().sum();
            prop_assert!(total <= (w * group) as f32 + 1e-4);
            prop_assert!(votes.iter().all(|v| *v >= 0.0));
        }
    }

    /// Invariants 1–3 in streaming mode, and capacity never exceeded over 10k steps; the
    /// window rows are the last w appended positions, in order; stats add up.
    #[test]
    fn streaming_never_exceeds_capacity(
        d in 1usize..5, w in 1usize..5, extra in 1usize..12, chunk_sel in 0usize..100,
        ks_half in 0usize..3, avg: bool, repeat: bool, storage_sel in 0usize..3, seed in 1u64..u64::MAX,
    ) {
        let c = w + extra;
        let chunk = 1 + chunk_sel % (c - w);
        let cfg = KvConfig {
            q_heads: &[4, 2],
            kv_heads: &[2, 1],
            head_dim: d,
            capacity: c,
            storage: [KvStorage::F32, KvStorage::F16, KvStorage::Q8][storage_sel],
            snapkv: Some(SnapKv { window: w, kernel: 2 * ks_half + 1, pool: pool_of(avg), gqa: gqa_of(repeat) }),
            chunk,
        };
        let mut mem = vec![0u32; cfg.words()];
        let mut cache = KvCache::new(cfg, &mut mem).unwrap();
        let mut rng = Rng(seed);
        let steps = 10_000u32;
        for t in 0..steps {
            for (layer, (&qh, &kvh)) in cfg.q_heads.iter().zip(cfg.kv_heads).enumerate() {
                let q = rng.vec(qh * d, 2.0);
                let k = rng.vec(kvh * d, 2.0);
                let v = rng.vec(kvh * d, 1.0);
                cache.append_with_query(layer, t, &q, &k, &v).unwrap();
                let view = cache.layer(layer).unwrap();
                prop_assert!(view.len() <= c);
                if t % 97 == 0 || t + 1 == steps {
                    for lane in 0..view.lanes() {
                        let pos = view.head(lane).unwrap().positions();
                        prop_assert!(pos.windows(2).all(|p| p[0] < p[1]));
                        let n = pos.len();
                        let wn = w.min(n);
                        let want: Vec<u32> = (t + 1 - wn as u32..=t).collect();
                        prop_assert_eq!(&pos[n - wn..], &want[..]);
                    }
                }
            }
        }
        for layer in 0..2 {
            let st = cache.stats(layer);
            prop_assert_eq!(st.seen, steps as usize);
            prop_assert_eq!(st.kept + st.evicted, st.seen);
            prop_assert!(st.ratio() > 1.0);
        }
    }
}

#[test]
fn bad_parameters_are_invalid_param() {
    let shape = Shape {
        q_heads: 1,
        kv_heads: 1,
        len: 8,
        head_dim: 2,
    };
    let q = [0.0; 2 * 2];
    let k = [0.0; 16];
    for (w, c, ks) in [(4, 4, 3), (5, 4, 3), (2, 6, 4), (2, 0, 3), (0, 6, 3)] {
        let snap = SnapKv {
            window: w,
            kernel: ks,
            pool: Pool::Avg,
            gqa: Gqa::Repeat,
        };
        let r = kv::select(
            &snap,
            c,
            shape,
            &q,
            &k,
            Buffers {
                logits: &mut [0.0; 8],
                idx: &mut [0; 8],
                votes: &mut [0.0; 8],
                pooled: &mut [0.0; 8],
                kept: &mut [0; 8],
            },
        );
        assert!(matches!(r, Err(Error::InvalidParam { .. })), "{w} {c} {ks}");
    }
    // NaN input.
    let snap = SnapKv {
        window: 2,
        kernel: 3,
        pool: Pool::Max,
        gqa: Gqa::Repeat,
    };
    let mut k_nan = k;
    k_nan[3] = f32::NAN;
    let r = kv::select(
        &snap,
        4,
        shape,
        &q,
        &k_nan,
        Buffers {
            logits: &mut [0.0; 8],
            idx: &mut [0; 6],
            votes: &mut [0.0; 6],
            pooled: &mut [0.0; 6],
            kept: &mut [0; 2],
        },
    );
    assert!(matches!(r, Err(Error::NonFinite { .. })));
    // Plain append on a SnapKV cache is refused (the query ring would be stale).
    let cfg = KvConfig {
        q_heads: &[1],
        kv_heads: &[1],
        head_dim: 2,
        capacity: 4,
        storage: KvStorage::F32,
        snapkv: Some(snap),
        chunk: 2,
    };
    let mut mem = vec![0u32; cfg.words()];
    let mut cache = KvCache::new(cfg, &mut mem).unwrap();
    assert!(cache.append(0, 0, &[1.0, 2.0], &[1.0, 2.0]).is_err());
    for p in 0..4 {
        cache
            .append_with_query(0, p, &[1.0, 0.0], &[1.0, 2.0], &[1.0, 2.0])
            .unwrap();
    }
    // Compressing below the window is refused; to >= len is a no-op.
    assert!(matches!(
        cache.compress(0, 1),
        Err(Error::InvalidParam { .. })
    ));
    cache.compress(0, 4).unwrap();
    assert_eq!(cache.len(0), 4);
}

/// Full attention of `q` over rows `(k, v)`: `softmax(q·k/√D) · v`.
fn attend(q: &[f32], keys: &[Vec<f32>], vals: &[Vec<f32>]) -> Vec<f32> {
    let d = q.len();
    let s: Vec<f64> = keys
        .iter()
        .map(|k| k.iter().zip(q).map(|(a, b)| (a * b) as f64).sum::<f64>() / (d as f64).sqrt())
        .collect();
    let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = s.iter().map(|x| (x - m).exp()).collect();
    let z: f64 = e.iter().sum();
    let mut out = vec![0.0f64; d];
    for (p, v) in e.iter().zip(vals) {
        for (o, x) in out.iter_mut().zip(v) {
            *o += p / z * *x as f64;
        }
    }
    out.into_iter().map(|x| x as f32).collect()
}

/// Attention of `q` through a cache lane's own view (`scores` + softmax + `weighted_v`).
fn attend_lane(head: &kv::HeadView<'_>, q: &[f32]) -> Vec<f32> {
    let d = q.len();
    let mut s = vec![0.0f32; head.len()];
    head.scores(q, 1.0 / (d as f32).sqrt(), &mut s);
    let m = s.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = s.iter().map(|x| (x - m).exp()).collect();
    let z: f32 = e.iter().sum();
    let p: Vec<f32> = e.iter().map(|x| x / z).collect();
    let mut out = vec![0.0f32; d];
    head.weighted_v(&p, &mut out);
    out
}

fn max_err(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

struct Needles {
    d: usize,
    keys: Vec<Vec<f32>>,
    vals: Vec<Vec<f32>>,
    dir: Vec<f32>,
    needles: [u32; 4],
}

/// L = 64 random keys (|k| ≈ 0.3·√D) with 4 needles along a direction `dir`; a query along
/// `dir` puts > 1 − 1e-9 of its attention on the needles.
fn needles() -> Needles {
    let (d, len) = (16usize, 64usize);
    let needles = [5u32, 21, 38, 50];
    let mut rng = Rng(0x5eed);
    let dir: Vec<f32> = (0..d)
        .map(|i| if i % 2 == 0 { 0.25 } else { -0.25 })
        .collect(); // |dir| = 1
    let keys = (0..len as u32)
        .map(|p| {
            if needles.contains(&p) {
                dir.iter().map(|x| x * 9.0 + rng.next() * 0.01).collect()
            } else {
                rng.vec(d, 0.3)
            }
        })
        .collect();
    let vals = (0..len).map(|_| rng.vec(d, 1.0)).collect();
    Needles {
        d,
        keys,
        vals,
        dir,
        needles,
    }
}

fn needle_query(n: &Needles, rng: &mut Rng) -> Vec<f32> {
    n.dir.iter().map(|x| x * 9.0 + rng.next() * 0.05).collect()
}

fn needle_cfg(d: usize, c: usize) -> KvConfig<'static> {
    KvConfig {
        q_heads: &[1],
        kv_heads: &[1],
        head_dim: d,
        capacity: c,
        storage: KvStorage::F32,
        snapkv: Some(SnapKv {
            window: 4,
            kernel: 3,
            pool: Pool::Max,
            gqa: Gqa::Repeat,
        }),
        chunk: 4,
    }
}

/// Needle test (issue 5, spec §8 check 12), reference mode: the prompt's last w queries look
/// for the needles; `load_prompt` compresses L = 64 to C = 16 (L/4); the next decode query's
/// attention output equals the full-cache output within 1e-5. A plain ring of the same
/// capacity loses the needles (so the test can fail).
#[test]
fn needle_output_survives_reference_compression() {
    let n = needles();
    let (d, len, w) = (n.d, n.keys.len(), 4);
    let mut rng = Rng(7);
    let cfg = needle_cfg(d, 16);
    let mut mem = vec![0u32; cfg.words()];
    let mut cache = KvCache::new(cfg, &mut mem).unwrap();
    let k: Vec<f32> = n.keys.concat();
    let v: Vec<f32> = n.vals.concat();
    let qw: Vec<f32> = (0..w).flat_map(|_| needle_query(&n, &mut rng)).collect();
    let lp = len - w;
    let mut votes = vec![0.0; lp];
    let mut kept = [0u32; 12];
    let sel = cache
        .load_prompt(
            0,
            0,
            &qw,
            &k,
            &v,
            Buffers {
                logits: &mut vec![0.0; len],
                idx: &mut vec![0; lp],
                votes: &mut votes,
                pooled: &mut vec![0.0; lp],
                kept: &mut kept,
            },
        )
        .unwrap();
    assert!(sel.compressed);
    let mass = kv::retained_mass(&votes, &kept, w);
    assert!(mass > 0.999_99 && mass <= 1.0 + 1e-6, "{mass}");
    assert!((kv::retained_mass(&votes, &[], w) - mass).abs() > 0.5);
    let view = cache.layer(0).unwrap();
    let head = view.head(0).unwrap();
    assert_eq!(head.len(), 16);
    assert_eq!(&head.positions()[12..], &[60, 61, 62, 63]);
    for p in n.needles {
        assert!(
            head.positions().contains(&p),
            "needle {p}: {:?}",
            head.positions()
        );
    }
    let st = cache.stats(0);
    assert_eq!(
        (st.kept, st.evicted, st.seen, st.compressions),
        (16, 48, 64, 1)
    );
    let q = needle_query(&n, &mut rng);
    let full = attend(&q, &n.keys, &n.vals);
    let err = max_err(&full, &attend_lane(&head, &q));
    eprintln!("needle (reference mode, C = L/4): max |full − compressed| = {err:.2e}");
    assert!(err < 1e-5, "{err}");

    let plain = KvConfig {
        snapkv: None,
        ..cfg
    };
    let mut mem2 = vec![0u32; plain.words()];
    let mut ring = KvCache::new(plain, &mut mem2).unwrap();
    for (p, (k, v)) in n.keys.iter().zip(&n.vals).enumerate() {
        ring.append(0, p as u32, k, v).unwrap();
    }
    let rv = ring.layer(0).unwrap();
    let err_ring = max_err(&full, &attend_lane(&rv.head(0).unwrap(), &q));
    assert!(err_ring > 1e-2, "{err_ring}");
}

/// Needle test, streaming mode: every query looks for the needles, the ring (C = 24, chunk 4)
/// compresses 10 times while the 64 tokens stream in; the needles survive and the decode
/// output equals the full one within 1e-5. (With C = 16 the budget of 8 prefix rows cannot
/// hold 4 needles: max pooling with ks = 3 gives each needle's neighbours the same score.)
#[test]
fn needle_output_survives_streaming_compression() {
    let n = needles();
    let mut rng = Rng(9);
    let cfg = needle_cfg(n.d, 24);
    let mut mem = vec![0u32; cfg.words()];
    let mut cache = KvCache::new(cfg, &mut mem).unwrap();
    for (p, (k, v)) in n.keys.iter().zip(&n.vals).enumerate() {
        let q = needle_query(&n, &mut rng);
        cache.append_with_query(0, p as u32, &q, k, v).unwrap();
    }
    let view = cache.layer(0).unwrap();
    let head = view.head(0).unwrap();
    for p in n.needles {
        assert!(
            head.positions().contains(&p),
            "needle {p}: {:?}",
            head.positions()
        );
    }
    assert_eq!(cache.stats(0).compressions, 10);
    let q = needle_query(&n, &mut rng);
    let full = attend(&q, &n.keys, &n.vals);
    let err = max_err(&full, &attend_lane(&head, &q));
    eprintln!("needle (streaming, C = 24): max |full − compressed| = {err:.2e}");
    assert!(err < 1e-5, "{err}");
}

/// Repeat vs Group in streaming mode: when the query heads of a group are identical, every
/// repeated lane must hold exactly what the group's lane holds (votes only double).
#[test]
fn repeat_equals_group_for_identical_group_queries() {
    let mk = |gqa| KvConfig {
        q_heads: &[4],
        kv_heads: &[2],
        head_dim: 3,
        capacity: 12,
        storage: KvStorage::F32,
        snapkv: Some(SnapKv {
            window: 3,
            kernel: 3,
            pool: Pool::Avg,
            gqa,
        }),
        chunk: 3,
    };
    let (rc, gc) = (mk(Gqa::Repeat), mk(Gqa::Group));
    let mut m1 = vec![0u32; rc.words()];
    let mut m2 = vec![0u32; gc.words()];
    let mut rep = KvCache::new(rc, &mut m1).unwrap();
    let mut grp = KvCache::new(gc, &mut m2).unwrap();
    let mut rng = Rng(77);
    for t in 0..200u32 {
        let qg = rng.vec(2 * 3, 3.0);
        // Heads 0,1 share qg[0..3]; heads 2,3 share qg[3..6].
        let q: Vec<f32> = [&qg[0..3], &qg[0..3], &qg[3..6], &qg[3..6]].concat();
        let k = rng.vec(2 * 3, 3.0);
        let v = rng.vec(2 * 3, 1.0);
        rep.append_with_query(0, t, &q, &k, &v).unwrap();
        grp.append_with_query(0, t, &q, &k, &v).unwrap();
        let (rv, gv) = (rep.layer(0).unwrap(), grp.layer(0).unwrap());
        for h in 0..4 {
            assert_eq!(
                rv.head(h).unwrap().positions(),
                gv.head(h / 2).unwrap().positions(),
                "t {t} head {h}"
            );
        }
    }
}
