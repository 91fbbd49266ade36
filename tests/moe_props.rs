//! MH-MoE property checks of spec `mhmoe.md` §8 (items 1–5), the bad-config errors of issue 4,
//! the streamed router against a naive softmax + sort, "only selected experts run", and the
//! `Q8_0` input-quantisation paths (exact scratch, quantised products, mixed weight types).

// These checks hold the libm build to 1e-5..1e-6 (and exact identities through softmax);
// micromath's `exp` under `fast-math` (2.4e-3 relative, BENCHMARKS.md) cannot meet them. The
// fast-math build of the same code is covered end to end by `demo_model` and `elm_llamacpp`,
// which carry fast-math bounds.
#![cfg(not(feature = "fast-math"))]

use picoformer::gguf::File;
use picoformer::moe::{
    activation_ratio, qx_floats, route, route_q8, Dispatch, MoeConfig, MoeLayer, MoeStats,
    MoeWeights, Per, Routing, K_MAX,
};
use picoformer::ops::{matvec, matvec_q8, matvec_q8_scratch_len};
use picoformer::quant::{dequantize_row_q8_0, q8_0_row_bytes, quantize_row_q8_0, DType, Matrix};
use picoformer::{Error, TensorProblem};
use proptest::prelude::*;

fn bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn m(b: &[u8], rows: usize, cols: usize) -> Matrix<'_> {
    Matrix::new(DType::F32, rows, cols, b).unwrap()
}

fn identity(n: usize) -> Vec<f32> {
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    v
}

/// Small deterministic generator (xorshift) for weights in [-a, a).
struct Rng(u64);
impl Rng {
    fn next(&mut self, a: f32) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * a
    }
    fn vec(&mut self, n: usize, a: f32) -> Vec<f32> {
        (0..n).map(|_| self.next(a)).collect()
    }
}

/// Owned weights for a layer with identity head/merge (zero biases).
struct Owned {
    cfg: MoeConfig,
    eye: Vec<u8>,
    zero: Vec<u8>,
    router: Vec<u8>,
    gate: Option<Vec<u8>>,
    up: Vec<u8>,
    down: Vec<u8>,
}

impl Owned {
    fn layer(&self) -> MoeLayer<'_> {
        let c = &self.cfg;
        let (d, sub, e, i) = (c.d, c.sub_dim(), c.experts, c.inner);
        MoeLayer::new(
            *c,
            MoeWeights {
                head: Some(m(&self.eye, d, d)),
                head_bias: Some(m(&self.zero, 1, d)),
                router: m(&self.router, e, sub),
                gate_exps: self.gate.as_ref().map(|g| m(g, e * i, sub)),
                up_exps: m(&self.up, e * i, sub),
                down_exps: m(&self.down, e * sub, i),
                merge: Some(m(&self.eye, d, d)),
                merge_bias: Some(m(&self.zero, 1, d)),
            },
        )
        .unwrap()
    }
}

/// Every expert is the identity: plain FFN with up = [I; −I], down = [I, −I]
/// (`silu(x) − silu(−x) = x`), inner = 2·(d/h).
fn identity_experts(d: usize, h: usize, e: usize, k: usize, router: Vec<f32>) -> Owned {
    let sub = d / h;
    let cfg = MoeConfig {
        glu: false,
        proj: true,
        bias: true,
        ..MoeConfig::new(d, h, e, k, 2 * sub).unwrap()
    };
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for _ in 0..e {
        for r in 0..2 * sub {
            for c in 0..sub {
                let v = if r % sub == c { 1.0 } else { 0.0 };
                up.push(if r < sub { v } else { -v });
            }
        }
        for r in 0..sub {
            for c in 0..2 * sub {
                let v = if c % sub == r { 1.0 } else { 0.0 };
                down.push(if c < sub { v } else { -v });
            }
        }
    }
    Owned {
        cfg,
        eye: bytes(&identity(d)),
        zero: bytes(&vec![0.0; d]),
        router: bytes(&router),
        gate: None,
        up: bytes(&up),
        down: bytes(&down),
    }
}

fn softmax_f64(l: &[f64]) -> Vec<f64> {
    let mx = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = l.iter().map(|v| (v - mx).exp()).sum();
    l.iter().map(|v| (v - mx).exp() / s).collect()
}

/// Spec §8.1: identity head/merge + identity experts, k = 1 → out_j = p_max · x_j.
#[test]
fn identity_layer_gives_pmax_times_x() {
    let (d, h, e) = (768, 4, 8);
    let sub = d / h;
    let mut rng = Rng(0x1234_5678);
    let router = rng.vec(e * sub, 0.2);
    let w = identity_experts(d, h, e, 1, router.clone());
    let layer = w.layer();
    let x = rng.vec(d, 1.0);
    let mut out = vec![0.0; d];
    let mut scratch = vec![0.0; w.cfg.scratch_len()];
    layer.forward(&x, &mut out, &mut scratch, None).unwrap();
    for j in 0..h {
        let xs = &x[j * sub..(j + 1) * sub];
        let logits: Vec<f64> = router
            .chunks_exact(sub)
            .map(|r| r.iter().zip(xs).map(|(&a, &b)| a as f64 * b as f64).sum())
            .collect();
        let pmax = softmax_f64(&logits).into_iter().fold(0.0, f64::max);
        assert!(pmax < 0.99, "router too peaked for a meaningful check");
        for (c, (&o, &xv)) in out[j * sub..(j + 1) * sub].iter().zip(xs).enumerate() {
            let want = pmax * xv as f64;
            assert!(
                (o as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "head {j} dim {c}: {o} vs {want}"
            );
        }
    }
}

fn random_glu(d: usize, h: usize, e: usize, k: usize, inner: usize, seed: u64) -> Owned {
    let sub = d / h;
    let mut rng = Rng(seed);
    let cfg = MoeConfig::new(d, h, e, k, inner).unwrap();
    Owned {
        cfg,
        eye: bytes(&identity(d)),
        zero: bytes(&vec![0.0; d]),
        router: bytes(&rng.vec(e * sub, 0.5)),
        gate: Some(bytes(&rng.vec(e * inner * sub, 0.2))),
        up: bytes(&rng.vec(e * inner * sub, 0.2)),
        down: bytes(&rng.vec(e * sub * inner, 0.2)),
    }
}

/// Spec §8.2: with identity head/merge, swapping two heads' input chunks swaps the output
/// chunks (bit-exactly: the same sub-token computation lands elsewhere).
#[test]
fn swapping_head_chunks_swaps_outputs() {
    let (d, h) = (64, 4);
    let sub = d / h;
    let w = random_glu(d, h, 8, 2, 24, 99);
    let layer = w.layer();
    let mut rng = Rng(7);
    let x = rng.vec(d, 1.0);
    let mut xs = x.clone();
    for c in 0..sub {
        xs.swap(sub + c, 3 * sub + c);
    }
    let mut scratch = vec![0.0; w.cfg.scratch_len()];
    let (mut a, mut b) = (vec![0.0; d], vec![0.0; d]);
    layer.forward(&x, &mut a, &mut scratch, None).unwrap();
    layer.forward(&xs, &mut b, &mut scratch, None).unwrap();
    assert_eq!(&a[..sub], &b[..sub]);
    assert_eq!(&a[sub..2 * sub], &b[3 * sub..]);
    assert_eq!(&a[3 * sub..], &b[sub..2 * sub]);
    assert_eq!(&a[2 * sub..3 * sub], &b[2 * sub..3 * sub]);
    assert_ne!(a, b);
}

/// One-hot router: `router[e] = 10·onehot(e)`, so a sub-token `onehot(t)` picks expert `t`.
fn onehot_router(e: usize, sub: usize) -> Vec<f32> {
    let mut r = vec![0.0; e * sub];
    for i in 0..e {
        r[i * sub + i] = 10.0;
    }
    r
}

/// Spec §8.3: batch 1, h = 4, E = 8, k = 1 → C = 1. Sub-tokens 0 and 2 pick the same expert:
/// capacity mode zeroes sub-token 2 only; dropless does not.
#[test]
fn capacity_drops_exactly_the_later_sub_token() {
    let (d, h, e) = (768, 4, 8);
    let sub = d / h;
    let w = identity_experts(d, h, e, 1, onehot_router(e, sub));
    let layer = w.layer();
    let mut x = vec![0.0; d];
    for (j, target) in [3usize, 5, 3, 1].into_iter().enumerate() {
        x[j * sub + target] = 1.0;
        x[j * sub + 100 + j] = 0.5; // makes the sub-tokens distinguishable
    }
    assert_eq!(Dispatch::Capacity.capacity(h, e, 1), 1);
    let mut scratch = vec![0.0; w.cfg.batch_scratch_len(1)];
    let (mut dropless, mut capped) = (vec![0.0; d], vec![0.0; d]);
    layer
        .forward_batch(&x, &mut dropless, Dispatch::Dropless, &mut scratch, None)
        .unwrap();
    let mut counts = [0u32; 8];
    let mut stats = MoeStats::new(&mut counts).unwrap();
    layer
        .forward_batch(
            &x,
            &mut capped,
            Dispatch::Capacity,
            &mut scratch,
            Some(&mut stats),
        )
        .unwrap();
    assert_eq!(stats.dropped, 1);
    assert_eq!(stats.routed, 3);
    assert_eq!(stats.counts(), &[0, 1, 0, 2, 0, 1, 0, 0]);
    assert_eq!(stats.divergence_sum, 3);
    for j in [0, 1, 3] {
        assert_eq!(
            &capped[j * sub..(j + 1) * sub],
            &dropless[j * sub..(j + 1) * sub]
        );
    }
    assert!(capped[2 * sub..3 * sub].iter().all(|&v| v == 0.0));
    assert!(dropless[2 * sub + 3] > 0.9, "dropless keeps sub-token 2");
    // The single-token dropless path agrees with the batch dropless path.
    let mut single = vec![0.0; d];
    let mut s1 = vec![0.0; w.cfg.scratch_len()];
    layer.forward(&x, &mut single, &mut s1, None).unwrap();
    assert_eq!(single, dropless);
}

/// Spec §8.4: 4,718,592 expert + head + merge MACs per token for the three d = 768 configs.
#[test]
fn mac_counter_parity_configs() {
    let smoe = MoeConfig {
        proj: false,
        bias: false,
        ..MoeConfig::new(768, 1, 8, 1, 2048).unwrap()
    };
    let mh2 = MoeConfig::new(768, 2, 40, 2, 768).unwrap();
    let mh3 = MoeConfig::new(768, 3, 96, 3, 512).unwrap();
    for c in [smoe, mh2, mh3] {
        let m = c.macs_per_token();
        assert_eq!(m.without_router(), 4_718_592, "{c:?}");
        assert_eq!(m.router, 768 * c.experts as u64);
        assert_eq!(m.total(), 4_718_592 + 768 * c.experts as u64);
    }
    // Weights per layer, router excluded (spec §6): 37,748,736 / 36,569,088 / 38,928,384.
    let no_router = |c: MoeConfig| {
        c.params() - (c.sub_dim() * c.experts) as u64 - if c.bias { 2 * 768 } else { 0 }
    };
    assert_eq!(no_router(smoe), 37_748_736);
    assert_eq!(no_router(mh2), 36_569_088);
    assert_eq!(no_router(mh3), 38_928_384);
}

/// The stats MAC counter agrees with `macs_per_token` (dropless).
#[test]
fn stats_macs_match_formula() {
    let w = random_glu(64, 2, 8, 2, 16, 5);
    let layer = w.layer();
    let mut counts = [0u32; 8];
    let mut stats = MoeStats::new(&mut counts).unwrap();
    let mut scratch = vec![0.0; w.cfg.scratch_len()];
    let mut out = vec![0.0; 64];
    let x = Rng(3).vec(64 * 5, 1.0);
    for xt in x.chunks_exact(64) {
        layer
            .forward(xt, &mut out, &mut scratch, Some(&mut stats))
            .unwrap();
    }
    assert_eq!(stats.macs, 5 * w.cfg.macs_per_token().total());
    assert_eq!((stats.tokens, stats.sub_tokens, stats.routed), (5, 10, 20));
    assert_eq!(stats.counts().iter().sum::<u32>(), 20);
}

/// Spec §8.5: every sub-token j routed to expert j mod E → coverage 4/8 (h = 4), 8/8 (h = 8),
/// 1/8 (h = 1); divergence = distinct experts per token; activation ratio per token/sub-token.
#[test]
fn activation_counters() {
    let (d, e, tokens) = (64, 8, 6);
    let mut rng = Rng(11);
    for (h, coverage) in [(4usize, 4usize), (8, 8), (1, 1)] {
        let sub = d / h;
        let w = identity_experts(d, h, e, 1, onehot_router(e, sub));
        let layer = w.layer();
        let mut counts = [0u32; 8];
        let mut stats = MoeStats::new(&mut counts).unwrap();
        let mut scratch = vec![0.0; w.cfg.scratch_len()];
        let mut out = vec![0.0; d];
        for _ in 0..tokens {
            let mut x = rng.vec(d, 0.05);
            for j in 0..h {
                x[j * sub + j % e] = 1.0;
            }
            layer
                .forward(&x, &mut out, &mut scratch, Some(&mut stats))
                .unwrap();
        }
        assert_eq!(stats.coverage(), coverage, "h = {h}");
        assert_eq!(stats.max_load(), tokens as u32);
        assert_eq!(stats.mean_load(), (tokens * h) as f32 / e as f32);
        assert_eq!(stats.mean_divergence(), coverage as f32);
        // c_e / T = 1 for each used expert; c_e / (T·h) = 1/h.
        assert_eq!(stats.activated(0.5, Per::Token), coverage);
        let per_sub = if h == 1 { coverage } else { 0 };
        assert_eq!(stats.activated(0.5, Per::SubToken), per_sub);
        assert_eq!(
            stats.activation_ratio(0.5, Per::Token),
            coverage as f32 / 8.0
        );
        let layers = [stats];
        assert_eq!(
            activation_ratio(&layers, 0.5, Per::Token),
            coverage as f32 / 8.0
        );
    }
}

/// Issue 4: bad configs are clear errors.
#[test]
fn bad_configs_are_errors() {
    let inv = |r: Result<MoeConfig, Error>| matches!(r, Err(Error::InvalidParam { .. }));
    assert!(inv(MoeConfig::new(768, 5, 8, 2, 2048)), "d % h");
    assert!(inv(MoeConfig::new(768, 4, 2, 3, 2048)), "k > E");
    assert!(
        inv(MoeConfig::new(768, 4, 64, K_MAX + 1, 2048)),
        "k > K_MAX"
    );
    assert!(inv(MoeConfig::new(768, 4, 8, 0, 2048)), "k = 0");
    assert!(inv(MoeConfig::new(0, 1, 8, 1, 2048)), "d = 0");
    assert!(inv(MoeConfig::new(768, 0, 8, 1, 2048)), "h = 0");
    assert!(inv(MoeConfig::new(768, 4, 0, 1, 2048)), "E = 0");
    assert!(inv(MoeConfig::new(768, 4, 8, 1, 0)), "I = 0");
    let c = MoeConfig::new(64, 2, 8, 2, 16).unwrap();
    assert!(MoeConfig { every: 0, ..c }.validate().is_err());
    assert!(
        MoeConfig { proj: false, ..c }.validate().is_err(),
        "bias without proj"
    );

    // Mis-shaped / missing tensors through the raw constructor.
    let w = random_glu(64, 2, 8, 2, 16, 1);
    let good = w.layer();
    let mut weights = MoeWeights {
        head: Some(m(&w.eye, 64, 64)),
        head_bias: Some(m(&w.zero, 1, 64)),
        router: m(&w.router, 8, 32),
        gate_exps: None,
        up_exps: m(&w.up, 8 * 16, 32),
        down_exps: m(&w.down, 8 * 32, 16),
        merge: Some(m(&w.eye, 64, 64)),
        merge_bias: Some(m(&w.zero, 1, 64)),
    };
    let err = MoeLayer::new(w.cfg, weights).unwrap_err();
    assert_eq!(
        err,
        Error::Tensor {
            name: "ffn_gate_exps.weight",
            layer: None,
            problem: TensorProblem::Missing
        }
    );
    weights.gate_exps = Some(m(w.gate.as_ref().unwrap(), 8 * 16, 32));
    weights.router = m(&w.router[..4 * 8 * 32], 4, 64);
    let err = MoeLayer::new(w.cfg, weights).unwrap_err();
    assert!(matches!(
        err,
        Error::Tensor {
            name: "ffn_gate_inp.weight",
            problem: TensorProblem::WrongShape,
            ..
        }
    ));

    // Runtime misuse.
    let mut out = vec![0.0; 64];
    let mut scratch = vec![0.0; w.cfg.scratch_len() - 1];
    assert!(matches!(
        good.forward(&[0.0; 64], &mut out, &mut scratch, None),
        Err(Error::Capacity { .. })
    ));
    let mut scratch = vec![0.0; w.cfg.scratch_len()];
    assert!(matches!(
        good.forward(&[0.0; 63], &mut out, &mut scratch, None),
        Err(Error::Shape { .. })
    ));
    let mut x = vec![0.1; 64];
    x[40] = f32::NAN;
    assert!(matches!(
        good.forward(&x, &mut out, &mut scratch, None),
        Err(Error::NonFinite { .. })
    ));
    let mut c4 = [0u32; 4];
    let mut stats = MoeStats::new(&mut c4).unwrap();
    assert!(matches!(
        good.forward(&[0.0; 64], &mut out, &mut scratch, Some(&mut stats)),
        Err(Error::Shape { .. })
    ));
    let mut bs = vec![0.0; w.cfg.batch_scratch_len(2)];
    let mut out2 = vec![0.0; 128];
    assert!(matches!(
        good.forward_batch(&[0.0; 100], &mut out2, Dispatch::Capacity, &mut bs, None),
        Err(Error::Shape { .. })
    ));
}

fn golden(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/golden/moe/{name}.gguf",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(p).unwrap()
}

fn replace(buf: &mut [u8], from: &[u8], to: &[u8]) {
    let at = buf.windows(from.len()).position(|w| w == from).unwrap();
    buf[at..at + to.len()].copy_from_slice(to);
}

/// Issue 4: a missing or mis-shaped expert tensor in a GGUF file → `Error::Tensor` naming it.
#[test]
fn gguf_missing_or_misshaped_expert_tensor() {
    let mut b = golden("d64_h2_e8_k2_ffn");
    replace(
        &mut b,
        b"blk.1.ffn_up_exps.weight",
        b"blk.1.ffn_up_exps.weighX",
    );
    let f = File::parse(&b).unwrap();
    assert_eq!(
        MoeLayer::from_gguf(&f, "openelm", 1).unwrap_err(),
        Error::Tensor {
            name: "ffn_up_exps.weight",
            layer: Some(1),
            problem: TensorProblem::Missing
        }
    );

    // Inner width 48 → 49 in the metadata: the up tensor no longer has the documented dims.
    let mut b = golden("d64_h2_e8_k2_ffn");
    let key = b"openelm.mhmoe.expert_feed_forward_length";
    let at = b.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    assert_eq!(&b[at..at + 8], &[4, 0, 0, 0, 48, 0, 0, 0]); // type u32, value 48
    b[at + 4] = 49;
    let f = File::parse(&b).unwrap();
    assert_eq!(
        MoeLayer::from_gguf(&f, "openelm", 1).unwrap_err(),
        Error::Tensor {
            name: "ffn_up_exps.weight",
            layer: Some(1),
            problem: TensorProblem::WrongShape
        }
    );

    // A SwiGLU file claiming plain experts has an unexpected gate tensor.
    let mut b = golden("d64_h1_e4_k1_glu");
    let key = b"openelm.mhmoe.glu";
    let at = b.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    assert_eq!(&b[at..at + 5], &[7, 0, 0, 0, 1]); // type bool, true
    b[at + 4] = 0;
    let f = File::parse(&b).unwrap();
    assert!(matches!(
        MoeLayer::from_gguf(&f, "openelm", 1).unwrap_err(),
        Error::Tensor {
            name: "ffn_gate_exps.weight",
            layer: Some(1),
            ..
        }
    ));
}

/// Only selected experts run: NaN weights in an expert the router never picks do not reach
/// the output.
#[test]
fn unselected_experts_are_not_computed() {
    let (d, h, e) = (64, 2, 8);
    let sub = d / h;
    let mut w = random_glu(d, h, e, 2, 16, 21);
    let mut router = onehot_router(e, sub);
    for c in 0..sub {
        router[7 * sub + c] = -100.0; // expert 7: never in the top-2 for positive inputs
    }
    w.router = bytes(&router);
    let inner = 16;
    let mut up: Vec<f32> =
        w.up.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
    for v in &mut up[7 * inner * sub..] {
        *v = f32::NAN;
    }
    w.up = bytes(&up);
    let layer = w.layer();
    let mut scratch = vec![0.0; w.cfg.scratch_len()];
    let mut out = vec![0.0; d];
    let x: Vec<f32> = Rng(5).vec(d, 1.0).into_iter().map(f32::abs).collect();
    layer.forward(&x, &mut out, &mut scratch, None).unwrap();
    assert!(out.iter().all(|v| v.is_finite()));
}

/// Ties go to the lower expert index.
#[test]
fn router_ties_prefer_lower_index() {
    let rows = bytes(&[1.0, 1.0, 2.0, 0.5, 2.0, 2.0]);
    let wg = m(&rows, 6, 1);
    let r = route(&wg, &[1.0], 3, false).unwrap();
    assert_eq!(&r.experts[..3], &[2, 4, 5]);
    let r = route(&wg, &[-1.0], 2, false).unwrap();
    assert_eq!(&r.experts[..2], &[3, 0]);
    let flat = bytes(&[0.0; 5]);
    let r = route(&m(&flat, 5, 1), &[3.0], 4, true).unwrap();
    assert_eq!(&r.experts[..4], &[0, 1, 2, 3]);
    assert!(r.gates[..4].iter().all(|&g| (g - 0.25).abs() < 1e-7));
    assert!(route(&wg, &[1.0], 7, false).is_err());
    assert!(route(&wg, &[1.0], 0, false).is_err());
}

proptest! {
    /// The streamed router equals a naive softmax over all logits + a stable sort.
    #[test]
    fn streamed_router_matches_naive(
        e in 1usize..40, k in 1usize..=K_MAX, seed in any::<u64>(), renorm in any::<bool>(),
    ) {
        let k = k.min(e);
        let sub = 8;
        let mut rng = Rng(seed | 1);
        let w = rng.vec(e * sub, 1.0);
        let x = rng.vec(sub, 2.0);
        let wb = bytes(&w);
        let r = route(&m(&wb, e, sub), &x, k, renorm).unwrap();
        let logits: Vec<f64> = w.chunks_exact(sub)
            .map(|row| row.iter().zip(&x).map(|(&a, &b)| (a * b) as f64).sum()).collect();
        let p = softmax_f64(&logits);
        let mut idx: Vec<usize> = (0..e).collect();
        idx.sort_by(|&a, &b| logits[b].partial_cmp(&logits[a]).unwrap().then(a.cmp(&b)));
        let top = &idx[..k];
        // Choices may differ only across near-ties (f32 vs f64 logits).
        for (i, (&got, &want)) in r.experts[..k].iter().zip(top).enumerate() {
            if got as usize != want {
                prop_assert!((logits[got as usize] - logits[want]).abs() < 1e-5, "rank {}", i);
            }
        }
        let norm: f64 = if renorm { top.iter().map(|&i| p[i]).sum() } else { 1.0 };
        for (g, &i) in r.gates[..k].iter().zip(&r.experts[..k]) {
            let want = p[i as usize] / norm;
            prop_assert!((*g as f64 - want).abs() <= 1e-5 * want.max(1e-3));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random shapes: the batch path in dropless mode (and with a capacity that cannot bind)
    /// equals the single-token path bit for bit; capacity mode never routes more than it
    /// selects, and drops nothing when `C ≥ S·h·k`.
    #[test]
    fn batch_paths_agree(
        h in prop::sample::select(vec![1usize, 2, 4]), e in 1usize..12, k in 1usize..4,
        inner in 1usize..20, glu in any::<bool>(), tokens in 1usize..5, seed in any::<u64>(),
    ) {
        let k = k.min(e);
        let d = 8 * h;
        let sub = d / h;
        let mut rng = Rng(seed | 1);
        let cfg = MoeConfig { glu, ..MoeConfig::new(d, h, e, k, inner).unwrap() };
        let w = Owned {
            cfg: MoeConfig { proj: true, bias: true, ..cfg },
            eye: bytes(&rng.vec(d * d, 0.3)),
            zero: bytes(&rng.vec(d, 0.3)),
            router: bytes(&rng.vec(e * sub, 1.0)),
            gate: glu.then(|| bytes(&rng.vec(e * inner * sub, 0.3))),
            up: bytes(&rng.vec(e * inner * sub, 0.3)),
            down: bytes(&rng.vec(e * sub * inner, 0.3)),
        };
        let layer = w.layer();
        let x = rng.vec(tokens * d, 1.0);
        let mut single = vec![0.0; tokens * d];
        let mut s1 = vec![0.0; w.cfg.scratch_len()];
        for (xt, ot) in x.chunks_exact(d).zip(single.chunks_exact_mut(d)) {
            layer.forward(xt, ot, &mut s1, None).unwrap();
        }
        let mut bs = vec![0.0; w.cfg.batch_scratch_len(tokens)];
        let mut batch = vec![0.0; tokens * d];
        for dispatch in [Dispatch::Dropless, Dispatch::FixedCapacity(tokens * h * k)] {
            layer.forward_batch(&x, &mut batch, dispatch, &mut bs, None).unwrap();
            prop_assert_eq!(&batch, &single);
        }
        let mut counts = vec![0u32; e];
        let mut st = MoeStats::new(&mut counts).unwrap();
        layer.forward_batch(&x, &mut batch, Dispatch::Capacity, &mut bs, Some(&mut st)).unwrap();
        prop_assert_eq!(st.routed + st.dropped, (tokens * h * k) as u64);
        let cap = Dispatch::Capacity.capacity(tokens * h, e, k);
        prop_assert!(st.routed <= (cap * e) as u64);
        prop_assert!(st.max_load() as usize <= tokens * h);
    }
}

/// Rows of `cols` values quantised to `Q8_0` (weights for the `Q8_0` paths).
fn q8_bytes(v: &[f32], cols: usize) -> Vec<u8> {
    let row = q8_0_row_bytes(cols);
    let mut out = vec![0u8; v.len() / cols * row];
    for (src, dst) in v.chunks_exact(cols).zip(out.chunks_exact_mut(row)) {
        quantize_row_q8_0(src, dst).unwrap();
    }
    out
}

/// Owned weights with a storage type per matrix (`Q8_0` or F32), head/merge with biases.
struct Mixed {
    cfg: MoeConfig,
    bufs: Vec<(DType, Vec<u8>)>, // head, head_b, router, gate, up, down, merge, merge_b
}

impl Mixed {
    /// `q8[i]`: matrix i of (head, router, gate, up, down, merge) is `Q8_0`.
    fn new(cfg: MoeConfig, q8: [bool; 6], seed: u64) -> Self {
        let (d, sub, e, i) = (cfg.d, cfg.sub_dim(), cfg.experts, cfg.inner);
        let mut rng = Rng(seed | 1);
        let mut mk = |n: usize, cols: usize, a: f32, q: bool| {
            let v = rng.vec(n, a);
            if q {
                (DType::Q8_0, q8_bytes(&v, cols))
            } else {
                (DType::F32, bytes(&v))
            }
        };
        let bufs = vec![
            mk(d * d, d, 0.3, q8[0]),
            mk(d, d, 0.3, false),
            mk(e * sub, sub, 1.0, q8[1]),
            mk(e * i * sub, sub, 0.3, q8[2]),
            mk(e * i * sub, sub, 0.3, q8[3]),
            mk(e * sub * i, i, 0.3, q8[4]),
            mk(d * d, d, 0.3, q8[5]),
            mk(d, d, 0.3, false),
        ];
        Mixed { cfg, bufs }
    }

    fn m(&self, i: usize, rows: usize, cols: usize) -> Matrix<'_> {
        let (t, b) = &self.bufs[i];
        Matrix::new(*t, rows, cols, b).unwrap()
    }

    fn layer(&self) -> MoeLayer<'_> {
        let c = &self.cfg;
        let (d, sub, e, i) = (c.d, c.sub_dim(), c.experts, c.inner);
        MoeLayer::new(
            *c,
            MoeWeights {
                head: Some(self.m(0, d, d)),
                head_bias: Some(self.m(1, 1, d)),
                router: self.m(2, e, sub),
                gate_exps: Some(self.m(3, e * i, sub)),
                up_exps: self.m(4, e * i, sub),
                down_exps: self.m(5, e * sub, i),
                merge: Some(self.m(6, d, d)),
                merge_bias: Some(self.m(7, 1, d)),
            },
        )
        .unwrap()
    }
}

/// The scratch plan is exact with `Q8_0` weights: `forward` / `forward_batch` touch nothing
/// past `scratch_len` / `batch_scratch_len`, and with every matrix `Q8_0` every planned float
/// is used (the quantised-input part included). With F32 weights that part stays untouched.
/// Shape chosen so both quantised-input layouts fill it: `q8(d) = q8(d/h) + q8(I) = 136` bytes.
#[test]
fn q8_scratch_is_exact() {
    let cfg = MoeConfig::new(128, 4, 4, 2, 96).unwrap();
    let qf = qx_floats(128, 4, 96);
    assert_eq!(qf, 34);
    assert_eq!(cfg.scratch_len(), 128 + 2 * 96 + 32 + 4 * 2 + qf);
    let sentinel = f32::from_bits(0x7fc0_beef);
    let untouched = |x: &f32| x.to_bits() == sentinel.to_bits();
    let x = Rng(77).vec(3 * 128, 1.0);
    for all_q8 in [true, false] {
        let w = Mixed::new(cfg, [all_q8; 6], 31);
        let layer = w.layer();
        let n = cfg.scratch_len();
        let mut scratch = vec![sentinel; n + 16];
        let mut out = vec![0.0; 128];
        layer
            .forward(&x[..128], &mut out, &mut scratch, None)
            .unwrap();
        assert!(scratch[n..].iter().all(untouched));
        let used = if all_q8 { n } else { n - qf };
        assert!(!scratch[..used].iter().any(untouched), "all_q8 {all_q8}");
        assert!(scratch[used..].iter().all(untouched));
        assert!(matches!(
            layer.forward(&x[..128], &mut out, &mut scratch[..n - 1], None),
            Err(Error::Capacity { .. })
        ));

        let nb = cfg.batch_scratch_len(3);
        let mut bs = vec![sentinel; nb + 16];
        let mut outb = vec![0.0; 3 * 128];
        layer
            .forward_batch(&x, &mut outb, Dispatch::Capacity, &mut bs, None)
            .unwrap();
        assert!(bs[nb..].iter().all(untouched));
        if all_q8 {
            assert!(!bs[n - qf..n].iter().any(untouched));
        } else {
            assert!(bs[n - qf..n].iter().all(untouched));
        }
    }
    // NaN reaching a Q8_0 matrix's input is rejected by the quantiser.
    let w = Mixed::new(cfg, [true; 6], 31);
    let mut xn = x[..128].to_vec();
    xn[5] = f32::NAN;
    let mut scratch = vec![0.0; cfg.scratch_len()];
    let mut out = vec![0.0; 128];
    assert!(matches!(
        w.layer().forward(&xn, &mut out, &mut scratch, None),
        Err(Error::NonFinite { .. })
    ));
}

/// A `Q8_0` layer multiplies `Q8_0`-quantised inputs: the head output equals
/// `matvec_q8` (quantise, then `Q8_0 × Q8_0`) plus the bias, bit for bit, and differs from the
/// f32-input product.
#[test]
fn q8_head_multiplies_quantised_input() {
    let cfg = MoeConfig::new(64, 2, 4, 1, 32).unwrap();
    let w = Mixed::new(cfg, [true; 6], 9);
    let layer = w.layer();
    let x = Rng(4).vec(64, 1.0);
    let mut xh = vec![0.0; 64];
    let mut routes = vec![Routing::default(); 2];
    let mut scratch = vec![0.0; cfg.scratch_len()];
    layer
        .route_token(&x, &mut xh, &mut routes, &mut scratch)
        .unwrap();
    let head = w.m(0, 64, 64);
    let mut prod = vec![0.0; 64];
    let mut qbuf = vec![0u8; matvec_q8_scratch_len(64)];
    matvec_q8(&mut prod, &head, &x, &mut qbuf).unwrap();
    let mut bias = vec![0.0; 64];
    w.m(1, 1, 64).dequant_row(0, &mut bias).unwrap();
    let want: Vec<f32> = prod.iter().zip(&bias).map(|(a, b)| b + a).collect();
    assert_eq!(xh, want);
    let mut f32_in = vec![0.0; 64];
    matvec(&mut f32_in, &head, &x).unwrap();
    assert_ne!(f32_in, prod);
    // The router is Q8_0 too: route_token routes the quantised sub-token.
    let mut xq = vec![0u8; q8_0_row_bytes(32)];
    quantize_row_q8_0(&xh[32..], &mut xq).unwrap();
    let r = route_q8(&w.m(2, 4, 32), &xq, 1, false).unwrap();
    assert_eq!(routes[1], r);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// `route_q8` on a quantised sub-token is `route` on its dequantisation up to f32
    /// summation order (ggml's per-block `f32(Σ qw·qx)·(d_w·d_x)`).
    #[test]
    fn route_q8_matches_route_on_dequantised_input(
        e in 1usize..40, k in 1usize..=K_MAX, seed in any::<u64>(), renorm in any::<bool>(),
    ) {
        let k = k.min(e);
        let sub = 64;
        let mut rng = Rng(seed | 1);
        let wq = q8_bytes(&rng.vec(e * sub, 1.0), sub);
        let wg = Matrix::new(DType::Q8_0, e, sub, &wq).unwrap();
        let x = rng.vec(sub, 2.0);
        let mut xq = vec![0u8; q8_0_row_bytes(sub)];
        quantize_row_q8_0(&x, &mut xq).unwrap();
        let mut xd = vec![0.0; sub];
        dequantize_row_q8_0(&xq, &mut xd).unwrap();
        let a = route_q8(&wg, &xq, k, renorm).unwrap();
        let b = route(&wg, &xd, k, renorm).unwrap();
        for i in 0..k {
            if a.experts[i] != b.experts[i] {
                // only across near-ties of the two logit roundings
                let l = |ex: u32| wg.dot_row(ex as usize, &xd).unwrap();
                prop_assert!((l(a.experts[i]) - l(b.experts[i])).abs() < 1e-4, "rank {}", i);
            } else {
                prop_assert!((a.gates[i] - b.gates[i]).abs() <= 1e-5 * b.gates[i].max(1e-3));
            }
        }
    }

    /// Any mix of `Q8_0` and F32 matrices: the batch path (dropless, and with a capacity that
    /// cannot bind) equals the single-token path bit for bit, and route_token gives the
    /// routing the forward pass counts.
    #[test]
    fn q8_mixed_batch_paths_agree(
        q8 in prop::array::uniform6(any::<bool>()), h in 1usize..3, e in 2usize..6,
        k in 1usize..3, tokens in 1usize..4, seed in any::<u64>(),
    ) {
        let k = k.min(e);
        let cfg = MoeConfig {
            proj: true,
            bias: true,
            ..MoeConfig::new(32 * h, h, e, k, 32).unwrap()
        };
        let w = Mixed::new(cfg, q8, seed);
        let layer = w.layer();
        let d = cfg.d;
        let x = Rng(seed ^ 0x55).vec(tokens * d, 1.0);
        let mut single = vec![0.0; tokens * d];
        let mut s1 = vec![0.0; cfg.scratch_len()];
        let mut counts = vec![0u32; e];
        let mut st = MoeStats::new(&mut counts).unwrap();
        for (xt, ot) in x.chunks_exact(d).zip(single.chunks_exact_mut(d)) {
            layer.forward(xt, ot, &mut s1, Some(&mut st)).unwrap();
        }
        let mut bs = vec![0.0; cfg.batch_scratch_len(tokens)];
        let mut batch = vec![0.0; tokens * d];
        for dispatch in [Dispatch::Dropless, Dispatch::FixedCapacity(tokens * h * k)] {
            layer.forward_batch(&x, &mut batch, dispatch, &mut bs, None).unwrap();
            prop_assert_eq!(&batch, &single);
        }
        let mut routed = vec![0u32; e];
        let mut xh = vec![0.0; d];
        let mut routes = vec![Routing::default(); h];
        for xt in x.chunks_exact(d) {
            layer.route_token(xt, &mut xh, &mut routes, &mut s1).unwrap();
            for r in &routes {
                for (ex, _) in r.choices() {
                    routed[ex] += 1;
                }
            }
        }
        prop_assert_eq!(st.counts(), &routed[..]);
    }
}
