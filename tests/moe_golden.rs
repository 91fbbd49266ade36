//! MH-MoE layer vs the pure-PyTorch reference `tests/golden/moe/make_golden.py`
//! (float64, written from spec `mhmoe.md` §2–§4).
//!
//! Per case: dropless output, capacity-emulation output for the whole batch and per token,
//! expert choices (identical), gate weights, and the number of capacity drops.
//! Tolerance: `max |rust − ref| ≤ 1e-5 · max |ref|` per output (f32 kernels vs float64).
//! In the `Q8_0` cases the reference quantises every input of a `Q8_0` matrix to `Q8_0` first,
//! as the kernel (and ggml) does, so the same tolerance holds there.

// These checks hold the libm build to 1e-5..1e-6 (and exact identities through softmax);
// micromath's `exp` under `fast-math` (2.4e-3 relative, BENCHMARKS.md) cannot meet them. The
// fast-math build of the same code is covered end to end by `demo_model` and `elm_llamacpp`,
// which carry fast-math bounds.
#![cfg(not(feature = "fast-math"))]

use picoformer::gguf::File;
use picoformer::moe::{Dispatch, MoeConfig, MoeLayer, MoeStats, MoeWeights, Routing};
use picoformer::quant::{DType, Matrix};

const TOL: f32 = 1e-5;

const CASES: &[&str] = &[
    "d64_h1_e4_k1_glu",
    "d64_h1_e8_k2_glu_noproj",
    "d64_h2_e8_k2_ffn",
    "d96_h4_e8_k2_glu_renorm",
    "d128_h4_e40_k3_glu",
    "d64_h4_e4_k3_ffn_nobias",
    "d64_h2_e40_k1_ffn_renorm",
    "d64_h2_e8_k2_glu_f16",
    "d64_h2_e4_k2_glu_q8",
    "d768_h4_e8_k2_glu_hashed",
    "d64_h2_e8_k2_glu_q8_f32router",
];

fn read(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/golden/moe/{name}.gguf",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn f32s(file: &File<'_>, name: &str) -> Vec<f32> {
    let t = file
        .tensor(name)
        .unwrap_or_else(|| panic!("no tensor {name}"));
    let m = t.matrix().unwrap();
    let mut out = vec![0.0; m.rows() * m.cols()];
    for (r, row) in out.chunks_exact_mut(m.cols()).enumerate() {
        m.dequant_row(r, row).unwrap();
    }
    out
}

fn assert_close(case: &str, what: &str, got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "{case} {what}: length");
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let err = got
        .iter()
        .zip(want)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        err.is_finite() && err <= TOL * scale,
        "{case} {what}: max err {err:e} > {TOL:e} · {scale}"
    );
    err / scale
}

/// splitmix64 weights of the hashed case (mirror of make_golden.py `hashed`).
fn hashed(seed: u64, n: usize, scale: f32) -> Vec<u8> {
    (0..n as u64)
        .flat_map(|i| {
            let mut z = seed.wrapping_add(i).wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let v = ((z >> 40) as i64 - (1 << 23)) as f32 / (1u32 << 23) as f32 * scale;
            v.to_le_bytes()
        })
        .collect()
}

struct Hashed {
    bufs: Vec<(&'static str, Vec<u8>)>,
}

impl Hashed {
    fn new(file: &File<'_>, cfg: &MoeConfig) -> Self {
        let (d, sub, e, i) = (cfg.d, cfg.sub_dim(), cfg.experts, cfg.inner);
        let sizes = [
            ("head_w", d * d),
            ("head_b", d),
            ("router", e * sub),
            ("gate", e * i * sub),
            ("up", e * i * sub),
            ("down", e * sub * i),
            ("merge_w", d * d),
            ("merge_b", d),
        ];
        let bufs = sizes
            .iter()
            .map(|&(n, len)| {
                let seed = file.get_u64(&format!("test.seed.{n}")).unwrap();
                let scale = file.get_f32(&format!("test.scale.{n}")).unwrap();
                (n, hashed(seed, len, scale))
            })
            .collect();
        Hashed { bufs }
    }

    fn m(&self, name: &str, rows: usize, cols: usize) -> Matrix<'_> {
        let b = &self.bufs.iter().find(|(n, _)| *n == name).unwrap().1;
        Matrix::new(DType::F32, rows, cols, b).unwrap()
    }

    fn layer(&self, cfg: MoeConfig) -> MoeLayer<'_> {
        let (d, sub, e, i) = (cfg.d, cfg.sub_dim(), cfg.experts, cfg.inner);
        MoeLayer::new(
            cfg,
            MoeWeights {
                head: Some(self.m("head_w", d, d)),
                head_bias: Some(self.m("head_b", 1, d)),
                router: self.m("router", e, sub),
                gate_exps: Some(self.m("gate", e * i, sub)),
                up_exps: self.m("up", e * i, sub),
                down_exps: self.m("down", e * sub, i),
                merge: Some(self.m("merge_w", d, d)),
                merge_bias: Some(self.m("merge_b", 1, d)),
            },
        )
        .unwrap()
    }
}

fn check_case(case: &str, file: &File<'_>, layer: &MoeLayer<'_>) -> f32 {
    let cfg = *layer.config();
    let (d, h, k) = (cfg.d, cfg.heads, cfg.k);
    let x = f32s(file, "test.x");
    let s = x.len() / d;
    assert_eq!(file.get_u32("test.tokens"), Some(s as u32));
    let mut worst = 0.0f32;

    // Expert choices (identical) and gate weights.
    let choice = f32s(file, "test.choice");
    let gate = f32s(file, "test.gate");
    let mut xh = vec![0.0; d];
    let mut routes = vec![Routing::default(); h];
    let mut rscratch = vec![0.0; cfg.scratch_len()];
    let mut got_gate = Vec::new();
    for (t, xt) in x.chunks_exact(d).enumerate() {
        layer
            .route_token(xt, &mut xh, &mut routes, &mut rscratch)
            .unwrap();
        for (j, r) in routes.iter().enumerate() {
            let row = t * h + j;
            let want: Vec<usize> = choice[row * k..(row + 1) * k]
                .iter()
                .map(|&v| v as usize)
                .collect();
            let got: Vec<usize> = r.choices().map(|(e, _)| e).collect();
            assert_eq!(got, want, "{case}: experts of token {t} head {j}");
            got_gate.extend(r.choices().map(|(_, g)| g));
        }
    }
    worst = worst.max(assert_close(case, "gates", &got_gate, &gate));

    // Dropless, token by token.
    let mut scratch = vec![0.0; cfg.scratch_len()];
    let mut out = vec![0.0; x.len()];
    let mut counts = vec![0u32; cfg.experts];
    let mut stats = MoeStats::new(&mut counts).unwrap();
    for (xt, ot) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
        layer
            .forward(xt, ot, &mut scratch, Some(&mut stats))
            .unwrap();
    }
    worst = worst.max(assert_close(
        case,
        "dropless",
        &out,
        &f32s(file, "test.y_dropless"),
    ));
    assert_eq!(stats.routed, (s * h * k) as u64);
    assert_eq!(stats.dropped, 0);
    let dropless_counts = stats.counts().to_vec();

    // Dropless through the batch path gives the same numbers.
    let mut bscratch = vec![0.0; cfg.batch_scratch_len(s)];
    let mut out_b = vec![0.0; x.len()];
    layer
        .forward_batch(&x, &mut out_b, Dispatch::Dropless, &mut bscratch, None)
        .unwrap();
    assert_eq!(out_b, out, "{case}: forward_batch(Dropless) == forward");

    // Capacity emulation, the S tokens as one batch.
    let kept = f32s(file, "test.kept");
    let mut counts = vec![0u32; cfg.experts];
    let mut stats = MoeStats::new(&mut counts).unwrap();
    layer
        .forward_batch(
            &x,
            &mut out_b,
            Dispatch::Capacity,
            &mut bscratch,
            Some(&mut stats),
        )
        .unwrap();
    worst = worst.max(assert_close(
        case,
        "capacity",
        &out_b,
        &f32s(file, "test.y_capacity"),
    ));
    let want_dropped = kept.iter().filter(|&&v| v == 0.0).count() as u64;
    assert_eq!(stats.dropped, want_dropped, "{case}: dropped selections");
    assert_eq!(stats.routed + stats.dropped, (s * h * k) as u64);
    assert_eq!(
        stats.counts(),
        &dropless_counts[..],
        "{case}: selections counted before drops"
    );

    // Capacity emulation, each token alone (decode).
    let want1 = f32s(file, "test.y_capacity1");
    let mut scratch1 = vec![0.0; cfg.batch_scratch_len(1)];
    for (t, xt) in x.chunks_exact(d).enumerate() {
        layer
            .forward_batch(
                xt,
                &mut out[t * d..(t + 1) * d],
                Dispatch::Capacity,
                &mut scratch1,
                None,
            )
            .unwrap();
    }
    worst = worst.max(assert_close(case, "capacity1", &out, &want1));
    worst
}

#[test]
fn moe_matches_pytorch_reference() {
    for &case in CASES {
        let bytes = read(case);
        let file = File::parse(&bytes).unwrap();
        let arch = file.architecture().unwrap();
        // Layer 0 is dense (every = 2), layer 1 is the MoE layer.
        assert!(
            MoeLayer::from_gguf(&file, arch, 0).unwrap().is_none(),
            "{case}: layer 0"
        );
        let cfg = MoeConfig::from_gguf(&file, arch).unwrap().unwrap();
        assert_eq!(cfg.every, 2);
        let rel = if file.get_bool("test.hashed") == Some(true) {
            let cfg = MoeConfig {
                proj: true,
                bias: true,
                ..cfg
            };
            let w = Hashed::new(&file, &cfg);
            check_case(case, &file, &w.layer(cfg))
        } else {
            let layer = MoeLayer::from_gguf(&file, arch, 1).unwrap().unwrap();
            check_case(case, &file, &layer)
        };
        println!("{case:28} max rel err {rel:.2e}");
    }
}
