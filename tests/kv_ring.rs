//! KV ring cache: layout, storage types, plain-ring policy, errors.

use picoformer::kv::{Gqa, KvCache, KvConfig, KvStorage, Pool, SnapKv};
use picoformer::Error;

const RAGGED: KvConfig<'static> = KvConfig {
    q_heads: &[6, 6, 8, 10],
    kv_heads: &[3, 3, 4, 5],
    head_dim: 6,
    capacity: 5,
    storage: KvStorage::F32,
    snapkv: None,
    chunk: 1,
};

fn row(layer: usize, pos: u32, kvh: usize, hd: usize, salt: f32) -> Vec<f32> {
    (0..kvh * hd)
        .map(|i| salt + layer as f32 * 100.0 + pos as f32 + i as f32 * 0.125)
        .collect()
}

#[test]
fn words_is_const_and_matches_layout() {
    static _MEM: [u32; RAGGED.words()] = [0; RAGGED.words()];
    // 4 layers: header 8 + kv lanes × C × (1 + 2·D)
    let lane = 5 * (1 + 2 * 6);
    assert_eq!(RAGGED.words(), 4 * 8 + (3 + 3 + 4 + 5) * lane);
    assert_eq!(RAGGED.bytes(), 4 * RAGGED.words());
    assert_eq!(RAGGED.full_f32_bytes(10), (3 + 3 + 4 + 5) * 10 * 6 * 8);
    let f16 = KvConfig {
        storage: KvStorage::F16,
        head_dim: 5,
        ..RAGGED
    };
    assert_eq!(f16.lane_words(), 5 * (1 + 2 * 3));
}

#[test]
fn too_small_memory_is_an_error() {
    let mut mem = vec![0u32; RAGGED.words() - 1];
    assert!(matches!(
        KvCache::new(RAGGED, &mut mem),
        Err(Error::Capacity { .. })
    ));
}

#[test]
fn bad_configs_are_errors() {
    let mut mem = vec![0u32; 1 << 16];
    let bad = [
        KvConfig {
            capacity: 0,
            ..RAGGED
        },
        KvConfig {
            head_dim: 0,
            ..RAGGED
        },
        KvConfig {
            q_heads: &[6, 6, 8],
            ..RAGGED
        },
        KvConfig {
            q_heads: &[6, 6, 8, 11],
            ..RAGGED
        },
        KvConfig {
            kv_heads: &[],
            q_heads: &[],
            ..RAGGED
        },
    ];
    for cfg in bad {
        assert!(KvCache::new(cfg, &mut mem).is_err(), "{cfg:?}");
    }
    let snap = |window, kernel| SnapKv {
        window,
        kernel,
        pool: Pool::Avg,
        gqa: Gqa::Group,
    };
    for (s, chunk) in [
        (snap(5, 3), 1), // w == C
        (snap(6, 3), 1), // w > C
        (snap(2, 4), 1), // even kernel
        (snap(0, 3), 1), // w = 0
        (snap(2, 3), 0), // chunk 0
        (snap(2, 3), 4), // chunk > C - w
    ] {
        let cfg = KvConfig {
            snapkv: Some(s),
            chunk,
            ..RAGGED
        };
        assert!(
            matches!(KvCache::new(cfg, &mut mem), Err(Error::InvalidParam { .. })),
            "{s:?} chunk {chunk}"
        );
    }
}

#[test]
fn append_and_read_back_ragged_f32_exact() {
    let mut mem = vec![0u32; RAGGED.words()];
    let mut cache = KvCache::new(RAGGED, &mut mem).unwrap();
    let hd = 6;
    for pos in 0..3u32 {
        for (l, &kvh) in RAGGED.kv_heads.iter().enumerate() {
            cache
                .append(
                    l,
                    pos,
                    &row(l, pos, kvh, hd, 0.0),
                    &row(l, pos, kvh, hd, 0.5),
                )
                .unwrap();
        }
    }
    for (l, &kvh) in RAGGED.kv_heads.iter().enumerate() {
        let view = cache.layer(l).unwrap();
        assert_eq!(view.len(), 3);
        assert_eq!(view.lanes(), kvh);
        for h in 0..kvh {
            let head = view.head(h).unwrap();
            assert_eq!(head.positions(), &[0, 1, 2]);
            for r in 0..3 {
                let mut k = vec![0.0; hd];
                head.k_row_into(r, &mut k);
                let want = row(l, r as u32, kvh, hd, 0.0);
                assert_eq!(&k[..], &want[h * hd..(h + 1) * hd]);
                let mut v = vec![0.0; hd];
                head.v_row_into(r, &mut v);
                let want = row(l, r as u32, kvh, hd, 0.5);
                assert_eq!(&v[..], &want[h * hd..(h + 1) * hd]);
            }
        }
        assert!(view.head(kvh).is_none());
        assert_eq!(view.lane_for_query(RAGGED.q_heads[l] - 1), kvh - 1);
    }
    assert!(cache.layer(4).is_err());
    assert!(cache.append(0, 9, &[0.0; 17], &[0.0; 18]).is_err());
}

#[test]
fn k_dot_v_axpy_scores_weighted_v_agree_f32_and_f16() {
    for storage in [KvStorage::F32, KvStorage::F16] {
        let cfg = KvConfig {
            q_heads: &[2],
            kv_heads: &[1],
            head_dim: 5,
            capacity: 4,
            storage,
            snapkv: None,
            chunk: 1,
        };
        let mut mem = vec![0u32; cfg.words()];
        let mut cache = KvCache::new(cfg, &mut mem).unwrap();
        let ks: Vec<Vec<f32>> = (0..3)
            .map(|p| (0..5).map(|i| (p * 5 + i) as f32 * 0.25 - 1.0).collect())
            .collect();
        for (p, k) in ks.iter().enumerate() {
            let v: Vec<f32> = k.iter().map(|x| x * 2.0).collect();
            cache.append(0, p as u32, k, &v).unwrap();
        }
        let view = cache.layer(0).unwrap();
        let head = view.head(0).unwrap();
        let q = [0.5, -1.0, 0.25, 2.0, 1.0];
        let mut scores = [0.0f32; 3];
        head.scores(&q, 0.5, &mut scores);
        for (r, k) in ks.iter().enumerate() {
            let exact: f32 = k.iter().zip(&q).map(|(a, b)| a * b).sum();
            // These values are exactly representable in f16.
            assert!((head.k_dot(r, &q) - exact).abs() < 1e-5, "{storage:?}");
            assert!((view.k_dot(r, 0, &q) - exact).abs() < 1e-5);
            assert!((scores[r] - 0.5 * exact).abs() < 1e-5);
        }
        let wts = [0.2f32, 0.3, 0.5];
        let mut out = [0.0f32; 5];
        head.weighted_v(&wts, &mut out);
        let mut out2 = [0.0f32; 5];
        for (r, w) in wts.iter().enumerate() {
            view.v_axpy(r, 0, *w, &mut out2);
        }
        for d in 0..5 {
            let exact: f32 = (0..3).map(|r| wts[r] * ks[r][d] * 2.0).sum();
            assert!((out[d] - exact).abs() < 1e-5);
            assert!((out2[d] - exact).abs() < 1e-5);
        }
        // Dead rows read as nothing.
        assert_eq!(head.k_dot(3, &q), 0.0);
        assert_eq!(head.pos(3), None);
    }
}

#[test]
fn f16_rounds_to_nearest() {
    let cfg = KvConfig {
        q_heads: &[1],
        kv_heads: &[1],
        head_dim: 3,
        capacity: 1,
        storage: KvStorage::F16,
        snapkv: None,
        chunk: 1,
    };
    let mut mem = vec![0u32; cfg.words()];
    let mut cache = KvCache::new(cfg, &mut mem).unwrap();
    let k = [0.1f32, -3.3, 65504.0];
    cache.append(0, 0, &k, &k).unwrap();
    let mut out = [0.0; 3];
    cache
        .layer(0)
        .unwrap()
        .head(0)
        .unwrap()
        .k_row_into(0, &mut out);
    for (a, b) in out.iter().zip(&k) {
        assert_eq!(*a, half::f16::from_f32(*b).to_f32());
    }
}

#[test]
fn plain_ring_overwrites_oldest() {
    let cfg = KvConfig {
        q_heads: &[1],
        kv_heads: &[1],
        head_dim: 2,
        capacity: 3,
        storage: KvStorage::F32,
        snapkv: None,
        chunk: 1,
    };
    let mut mem = vec![0u32; cfg.words()];
    let mut cache = KvCache::new(cfg, &mut mem).unwrap();
    for p in 0..10u32 {
        cache
            .append(0, p, &[p as f32, 0.0], &[0.0, p as f32])
            .unwrap();
        let view = cache.layer(0).unwrap();
        let head = view.head(0).unwrap();
        let mut pos: Vec<u32> = head.positions().to_vec();
        pos.sort();
        let lo = (p + 1).saturating_sub(3);
        assert_eq!(pos, (lo..=p).collect::<Vec<_>>());
        for r in 0..head.len() {
            assert_eq!(head.k_dot(r, &[1.0, 0.0]), head.pos(r).unwrap() as f32);
        }
    }
    let st = cache.stats(0);
    assert_eq!((st.kept, st.evicted, st.seen), (3, 7, 10));
    cache.reset();
    assert!(cache.is_empty(0));
    assert_eq!(cache.stats(0).seen, 0);
}

#[test]
fn q8_rows_per_row_scale() {
    let cfg = KvConfig {
        q_heads: &[2],
        kv_heads: &[2],
        head_dim: 7,
        capacity: 3,
        storage: KvStorage::Q8,
        snapkv: None,
        chunk: 1,
    };
    assert_eq!(cfg.lane_words(), 3 * (1 + 2 * 3));
    let mut mem = vec![0u32; cfg.words()];
    let mut cache = KvCache::new(cfg, &mut mem).unwrap();
    let rows: Vec<Vec<f32>> = vec![
        (0..14).map(|i| (i as f32 * 0.37).sin() * 3.0).collect(),
        vec![0.0; 14],
        (0..14)
            .map(|i| if i == 3 { -1000.0 } else { i as f32 * 1e-3 })
            .collect(),
    ];
    for (p, r) in rows.iter().enumerate() {
        let v: Vec<f32> = r.iter().map(|x| -x).collect();
        cache.append(0, p as u32, r, &v).unwrap();
    }
    let view = cache.layer(0).unwrap();
    let q: Vec<f32> = (0..7).map(|i| 0.5 - i as f32 * 0.1).collect();
    for h in 0..2 {
        let head = view.head(h).unwrap();
        for (p, r) in rows.iter().enumerate() {
            let src = &r[h * 7..(h + 1) * 7];
            let amax = src.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let scale = amax / 127.0;
            let mut k = [0.0f32; 7];
            head.k_row_into(p, &mut k);
            for (a, b) in k.iter().zip(src) {
                assert!((a - b).abs() <= scale * 0.5 * (1.0 + 1e-5), "{a} vs {b}");
            }
            // The extreme element is exact (±127 · s).
            if amax > 0.0 {
                let i = src.iter().position(|x| x.abs() == amax).unwrap();
                assert!((k[i] - src[i]).abs() <= amax * 1e-6);
            }
            // k_dot is the dot product with the dequantised row.
            let want: f32 = k.iter().zip(&q).map(|(a, b)| a * b).sum();
            assert!((head.k_dot(p, &q) - want).abs() <= 1e-4 * (1.0 + want.abs()));
            let mut v = [0.0f32; 7];
            head.v_row_into(p, &mut v);
            for (a, b) in v.iter().zip(&k) {
                assert_eq!(*a, -*b);
            }
        }
    }
}

/// For every storage, live length 0..=11 and head dims with and without a tail after the last
/// 8-lane group: `scores` / `weighted_v` equal the row-by-row `k_dot` / `v_axpy` bit for bit,
/// and agree with an f64 reference on the stored rows within f32 rounding.
#[test]
fn scores_weighted_v_equal_row_by_row_and_f64() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    for storage in [KvStorage::F32, KvStorage::F16, KvStorage::Q8] {
        for head_dim in [4usize, 8, 13, 64] {
            let cfg = KvConfig {
                q_heads: &[1],
                kv_heads: &[1],
                head_dim,
                capacity: 11,
                storage,
                snapkv: None,
                chunk: 1,
            };
            let mut mem = vec![0u32; cfg.words()];
            let mut cache = KvCache::new(cfg, &mut mem).unwrap();
            let q: Vec<f32> = (0..head_dim).map(|_| next()).collect();
            for len in 0..=11usize {
                if len > 0 {
                    let k: Vec<f32> = (0..head_dim).map(|_| next()).collect();
                    let v: Vec<f32> = (0..head_dim).map(|_| next()).collect();
                    cache.append(0, len as u32 - 1, &k, &v).unwrap();
                }
                let view = cache.layer(0).unwrap();
                let head = view.head(0).unwrap();
                assert_eq!(head.len(), len);
                let mut scores = vec![f32::NAN; len];
                head.scores(&q, 0.125, &mut scores);
                let w: Vec<f32> = (0..len).map(|_| next()).collect();
                let mut out = vec![f32::NAN; head_dim];
                head.weighted_v(&w, &mut out);
                let mut out_rows = vec![0.0f32; head_dim];
                let (mut k_row, mut v_row) = (vec![0.0; head_dim], vec![0.0; head_dim]);
                let mut out64 = vec![0.0f64; head_dim];
                for r in 0..len {
                    let s = 0.125 * head.k_dot(r, &q);
                    assert_eq!(
                        scores[r].to_bits(),
                        s.to_bits(),
                        "{storage:?} hd {head_dim}"
                    );
                    head.v_axpy(r, w[r], &mut out_rows);
                    // f64 reference on the stored (decoded) rows
                    head.k_row_into(r, &mut k_row);
                    head.v_row_into(r, &mut v_row);
                    let s64: f64 = k_row
                        .iter()
                        .zip(&q)
                        .map(|(a, b)| *a as f64 * *b as f64)
                        .sum();
                    assert!((scores[r] as f64 - 0.125 * s64).abs() < 1e-5 * head_dim as f64);
                    for (o, x) in out64.iter_mut().zip(&v_row) {
                        *o += w[r] as f64 * *x as f64;
                    }
                }
                for d in 0..head_dim {
                    assert_eq!(out[d].to_bits(), out_rows[d].to_bits(), "{storage:?} {len}");
                    assert!((out[d] as f64 - out64[d]).abs() < 1e-5 * (len + 1) as f64);
                }
            }
        }
    }
}
