//! OpenELM layer-wise scaling: spec `openelm.md` §8 checks 1–3 (make_divisible cases, per-layer
//! tables of the four released models, parameter totals).

use picoformer::elm::{make_divisible_x100, Arch, Config, LayerShape, Preset, MAX_LAYERS};
use picoformer::Error;

#[test]
fn check1_make_divisible() {
    // (v × 100, divisor) → expected (spec §8 check 1)
    let cases = [
        (64_000, 256, 768),   // 640.0: half-up, then no bump
        (85_760, 256, 1024),  // 857.6: 768 < 0.9·v → bump
        (422_400, 256, 4352), // 4224.0: exact tie, half-up (half-even would give 4096)
        (448_512, 256, 4608), // 4485.12
        (473_088, 256, 4608), // 4730.88
        (89_088, 256, 1024),  // 450M Q layer 3: 890.88 → 768 → bump
        (100, 256, 256),      // min_value = divisor
    ];
    for (v100, div, want) in cases {
        assert_eq!(
            make_divisible_x100(v100, div),
            Some(want),
            "v = {}",
            v100 as f64 / 100.0
        );
    }
    assert_eq!(make_divisible_x100(1, 0), None);
    assert_eq!(make_divisible_x100(u64::MAX, 256), None);
}

fn heads(c: &Config) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    (
        c.layers().iter().map(|l| l.q_heads).collect(),
        c.layers().iter().map(|l| l.kv_heads).collect(),
        c.layers().iter().map(|l| l.ffn_dim).collect(),
    )
}

fn rep(spec: &[(usize, usize)]) -> Vec<usize> {
    spec.iter()
        .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
        .collect()
}

#[test]
fn check2_openelm_270m_table() {
    let c = Preset::OpenElm270M.config().unwrap();
    let (q, kv, ffn) = heads(&c);
    assert_eq!(
        q,
        [12, 12, 12, 12, 12, 16, 16, 16, 16, 16, 16, 16, 20, 20, 20, 20]
    );
    assert_eq!(kv, [3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5]);
    assert_eq!(
        ffn,
        [
            768, 1024, 1280, 1536, 1792, 2048, 2560, 2816, 3072, 3328, 3584, 3840, 4352, 4608,
            4864, 5120
        ]
    );
    // params/layer column of spec §4
    let per_layer: Vec<u64> = (0..16).map(|i| c.layer_param_count(i)).collect();
    assert_eq!(
        per_layer,
        [
            5409408, 6392448, 7375488, 8358528, 9341568, 11143808, 13109888, 14092928, 15075968,
            16059008, 17042048, 18025088, 20810368, 21793408, 22776448, 23759488
        ]
    );
    assert_eq!(c.kv_elems_per_token(), 8064);
    assert_eq!(c.max_qkv_dim(), 1920);
}

#[test]
fn check2_openelm_450m_table() {
    let c = Preset::OpenElm450M.config().unwrap();
    let (q, kv, ffn) = heads(&c);
    assert_eq!(q, rep(&[(12, 3), (16, 7), (20, 6), (24, 4)]));
    assert_eq!(kv, rep(&[(3, 3), (4, 7), (5, 6), (6, 4)]));
    assert_eq!(
        ffn,
        [
            768, 1024, 1280, 1536, 1792, 2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096, 4352,
            4608, 5120, 5376, 5632, 5888, 6144
        ]
    );
    assert_eq!(ffn[5], 2304);
    assert_eq!(ffn[15], 5120);
    assert_eq!(c.kv_elems_per_token(), 11648);
}

#[test]
fn check2_openelm_1_1b_table() {
    let c = Preset::OpenElm1_1B.config().unwrap();
    let (q, kv, ffn) = heads(&c);
    assert_eq!(q, rep(&[(16, 3), (20, 7), (24, 8), (28, 6), (32, 4)]));
    assert_eq!(kv, rep(&[(4, 3), (5, 7), (6, 8), (7, 6), (8, 4)]));
    assert_eq!(
        ffn,
        [
            1024, 1280, 1536, 1792, 2048, 2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096, 4608,
            4608, 5120, 5376, 5632, 5888, 6144, 6400, 6656, 6912, 7168, 7424, 7680, 7936, 8192
        ]
    );
    assert_eq!(c.kv_elems_per_token(), 21632);
}

#[test]
fn check2_openelm_3b_table() {
    let c = Preset::OpenElm3B.config().unwrap();
    let (q, kv, ffn) = heads(&c);
    assert_eq!(q, rep(&[(12, 4), (16, 14), (20, 12), (24, 6)]));
    assert_eq!(kv, rep(&[(3, 4), (4, 14), (5, 12), (6, 6)]));
    assert_eq!(
        ffn,
        [
            1536, 1792, 2048, 2560, 2816, 3072, 3328, 3584, 4096, 4352, 4608, 4864, 5120, 5632,
            5888, 6144, 6400, 6656, 7168, 7424, 7680, 7936, 8192, 8704, 8960, 9216, 9472, 9728,
            10240, 10496, 10752, 11008, 11264, 11776, 12032, 12288
        ]
    );
    assert_eq!((q[3], q[4], ffn[3]), (12, 16, 2560));
    assert_eq!(c.kv_elems_per_token(), 41984);
}

#[test]
fn check3_parameter_totals() {
    let want = [
        (Preset::OpenElm270M, 271_527_168u64),
        (Preset::OpenElm450M, 457_179_136),
        (Preset::OpenElm1_1B, 1_079_891_456),
        (Preset::OpenElm3B, 3_036_647_424),
    ];
    for (p, n) in want {
        assert_eq!(p.config().unwrap().param_count(), n, "{}", p.name());
    }
}

/// The table is usable in a `const` (firmware sizes static buffers from it).
const CFG_270M: Config = match Preset::OpenElm270M.config() {
    Ok(c) => c,
    Err(_) => panic!("preset must build"),
};
const MAX_QKV: usize = CFG_270M.max_qkv_dim();
static QKV_BUF: [f32; MAX_QKV] = [0.0; MAX_QKV];

#[test]
fn const_path() {
    assert_eq!(QKV_BUF.len(), 1920);
    assert_eq!(CFG_270M.max_ffn_dim(), 5120);
    assert_eq!(Preset::from_name("OpenELM-1_1B"), Some(Preset::OpenElm1_1B));
    assert_eq!(Preset::from_name("openelm-2b"), None);
}

#[test]
fn invalid_configs_are_errors() {
    let l = LayerShape {
        q_heads: 6,
        kv_heads: 4,
        ffn_dim: 64,
    };
    assert!(matches!(
        Config::uniform(Arch::Llama, 2, 64, 16, l, 100, 64),
        Err(Error::InvalidParam { .. })
    ));
    let ok = LayerShape {
        q_heads: 4,
        kv_heads: 2,
        ffn_dim: 64,
    };
    assert!(Config::uniform(Arch::Llama, 2, 64, 16, ok, 100, 64).is_ok());
    assert!(Config::uniform(Arch::Llama, MAX_LAYERS + 1, 64, 16, ok, 100, 64).is_err());
    assert!(Config::uniform(Arch::Llama, 2, 64, 15, ok, 100, 64).is_err());
    let mut s = Preset::OpenElm270M.scaling();
    s.layers = MAX_LAYERS + 1;
    assert!(Config::openelm(&s).is_err());
}

/// Spec §8 check 4: 270M tensor shapes of §6 (PyTorch `[out, in]`).
#[test]
fn check4_openelm_270m_shapes() {
    let c = Preset::OpenElm270M.config().unwrap();
    let qkv_rows = |i: usize| {
        let l = c.layer(i).unwrap();
        (l.q_heads + 2 * l.kv_heads) * c.head_dim
    };
    assert_eq!([qkv_rows(0), qkv_rows(5), qkv_rows(15)], [1152, 1536, 1920]);
    let proj1_rows = |i: usize| 2 * c.layer(i).unwrap().ffn_dim;
    assert_eq!([proj1_rows(0), proj1_rows(15)], [1536, 10240]);
    assert_eq!(c.layer(15).unwrap().q_heads * c.head_dim, 1280); // out_proj [1280, 1280]
}
