//! Malformed or inconsistent GGUF models and memory plans: every case is an error naming the
//! key or tensor, never a panic. The models are byte-patched copies of
//! `tests/golden/elm/openelm_f32.gguf` (5 layers; q heads 2,2,4,4,6; kv heads 1,2,1,2,3).

use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::plan::Plan;
use picoformer::{Error, TensorProblem};

const GGUF: &[u8] = include_bytes!("golden/elm/openelm_f32.gguf");

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{:?} not in file", String::from_utf8_lossy(needle)))
}

/// Offset just past a length-prefixed GGUF string equal to `s`.
fn after_string(bytes: &[u8], s: &str) -> usize {
    let mut pat = (s.len() as u64).to_le_bytes().to_vec();
    pat.extend_from_slice(s.as_bytes());
    find(bytes, &pat) + pat.len()
}

fn load(bytes: &[u8]) -> picoformer::Result<Model<'_>> {
    Model::new(File::parse(bytes)?)
}

#[test]
fn golden_model_loads() {
    let m = load(GGUF).unwrap();
    let heads: Vec<_> = m
        .config()
        .layers()
        .iter()
        .map(|l| (l.q_heads, l.kv_heads, l.ffn_dim))
        .collect();
    assert_eq!(
        heads,
        [(2, 1, 32), (2, 2, 64), (4, 1, 64), (4, 2, 96), (6, 3, 64)]
    );
    assert!(m.config().tied_output && m.config().qk_norm);
    assert_eq!(m.config().param_count(), m.stored_params());
}

#[test]
fn missing_key_is_named() {
    let mut b = GGUF.to_vec();
    let at = find(&b, b"openelm.block_count");
    b[at + 18] = b'x'; // openelm.block_counx
    let e = load(&b).unwrap_err();
    assert_eq!(e, Error::MissingKey { key: "block_count" });
    assert!(e.to_string().contains("block_count"));

    let mut b = GGUF.to_vec();
    let end = after_string(&b, "openelm.attention.head_count"); // exact key, not `_kv`
    b[end - 1] = b'x';
    assert_eq!(
        load(&b).unwrap_err(),
        Error::MissingKey {
            key: "attention.head_count"
        }
    );
    // without `head_count_kv` llama.cpp assumes no GQA; here that contradicts the tensors
    let mut b = GGUF.to_vec();
    let end = after_string(&b, "openelm.attention.head_count_kv");
    b[end - 1] = b'x';
    assert!(matches!(
        load(&b),
        Err(Error::Tensor { layer: Some(0), .. })
    ));
}

#[test]
fn wrong_tensor_shape_for_a_layer_is_named() {
    let mut b = GGUF.to_vec();
    let at = after_string(&b, "blk.2.attn_qkv.weight");
    assert_eq!(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()), 2); // n_dims
    let rows = at + 4 + 8;
    assert_eq!(
        u64::from_le_bytes(b[rows..rows + 8].try_into().unwrap()),
        96
    ); // (4 + 2·1)·16
    b[rows..rows + 8].copy_from_slice(&64u64.to_le_bytes());
    let e = load(&b).unwrap_err();
    assert_eq!(
        e,
        Error::Tensor {
            name: "attn_qkv.weight",
            layer: Some(2),
            problem: TensorProblem::WrongShape
        }
    );
    assert_eq!(e.to_string(), "tensor `blk.2.attn_qkv.weight`: wrong shape");
}

#[test]
fn wrong_tensor_type_is_named() {
    let mut b = GGUF.to_vec();
    let at = after_string(&b, "blk.4.ffn_down.weight");
    let ty = at + 4 + 2 * 8;
    assert_eq!(u32::from_le_bytes(b[ty..ty + 4].try_into().unwrap()), 0); // F32
    b[ty..ty + 4].copy_from_slice(&2u32.to_le_bytes()); // Q4_0: smaller, parses, unsupported
    let e = load(&b).unwrap_err();
    assert_eq!(
        e,
        Error::Tensor {
            name: "ffn_down.weight",
            layer: Some(4),
            problem: TensorProblem::WrongType
        }
    );
}

#[test]
fn missing_tensor_is_named() {
    let mut b = GGUF.to_vec();
    let at = find(&b, b"blk.3.ffn_up.weight");
    b[at + 10] = b'q'; // blk.3.ffn_uq.weight
    assert_eq!(
        load(&b).unwrap_err(),
        Error::Tensor {
            name: "ffn_up.weight",
            layer: Some(3),
            problem: TensorProblem::Missing
        }
    );
    let mut b = GGUF.to_vec();
    let at = find(&b, b"output_norm.weight");
    b[at] = b'O';
    assert_eq!(
        load(&b).unwrap_err(),
        Error::Tensor {
            name: "output_norm.weight",
            layer: None,
            problem: TensorProblem::Missing
        }
    );
}

#[test]
fn kv_heads_not_dividing_q_heads() {
    let mut b = GGUF.to_vec();
    let at = after_string(&b, "openelm.attention.head_count_kv");
    // value type ARRAY (9), element type, count 5, then the elements
    assert_eq!(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()), 9);
    let elem = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap());
    assert_eq!(elem, 5, "llama.cpp's converter writes i32 arrays");
    let x3 = at + 16 + 3 * 4;
    assert_eq!(i32::from_le_bytes(b[x3..x3 + 4].try_into().unwrap()), 2);
    b[x3..x3 + 4].copy_from_slice(&3i32.to_le_bytes()); // layer 3: q 4, kv 3
    let e = load(&b).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidParam {
            what: "head_count_kv must divide head_count"
        }
    );
    assert!(e.to_string().contains("head_count_kv"));
}

#[test]
fn context_beyond_plan_is_an_error() {
    let m = load(GGUF).unwrap();
    let plan = Plan::new(m.config(), 8).unwrap();
    let mut scratch = vec![0f32; plan.scratch_floats()];
    let mut kv = vec![0u32; plan.kv_words()];
    let mut s = Session::new(&m, &plan, &mut scratch, &mut kv).unwrap();
    let nine = [1u32; 9];
    assert!(matches!(
        s.prefill(&nine),
        Err(Error::Capacity {
            needed: 9,
            available: 8,
            ..
        })
    ));
    assert_eq!(s.pos(), 0, "nothing was run");
    s.prefill(&nine[..8]).unwrap();
    assert!(matches!(s.step(1), Err(Error::Capacity { .. })));
    assert!(
        matches!(s.step(300), Err(Error::InvalidParam { .. })),
        "token >= vocab"
    );
    assert!(s.prefill(&[]).is_err());
}

/// The forward pass touches no more memory than planned: with buffers longer than the plan,
/// everything past the planned length keeps its sentinel; one element short is an error.
/// Checked on the F32 model (the quantised-input region `qx` stays unused) and on the same
/// weights in Q8_0 (every planned float is used).
#[test]
fn forward_uses_no_more_than_planned() {
    let q8 = include_bytes!("golden/elm/openelm_q8_0.gguf");
    for (bytes, uses_qx) in [(GGUF, false), (&q8[..], true)] {
        let m = load(bytes).unwrap();
        let plan = Plan::new(m.config(), 40).unwrap();
        let (nf, nw) = (plan.scratch_floats(), plan.kv_words());
        // d 32: x, xb, xb2; qkv max (6+6)·16; att 6·16; hb, hb2 96; scores 40; normw 32;
        // rope 16; logits 300; qx: 96 inputs as Q8_0 = 3 blocks of 34 bytes = 26 floats (the
        // last)
        assert_eq!(nf, 3 * 32 + 192 + 96 + 2 * 96 + 40 + 32 + 16 + 300 + 26);
        assert_eq!(plan.scratch.qx, 26);
        assert!(plan.kv_bytes() >= 40 * 2 * (1 + 2 + 1 + 2 + 3) * 16 * 4);
        let sentinel = f32::from_bits(0x7fc0_beef);
        let mut scratch = vec![sentinel; nf + 64];
        let mut kv = vec![0xdead_beefu32; nw + 64];
        {
            let mut s = Session::new(&m, &plan, &mut scratch, &mut kv).unwrap();
            let toks: Vec<u32> = (0..40).map(|i| (i * 7 % 300) as u32).collect();
            s.prefill(&toks).unwrap();
        }
        let untouched = |x: &f32| x.to_bits() == sentinel.to_bits();
        assert!(scratch[nf..].iter().all(untouched));
        assert!(kv[nw..].iter().all(|&w| w == 0xdead_beef));
        // every planned float was used (the plan is tight): no sentinel left in the planned part
        let used = if uses_qx { nf } else { nf - 26 };
        assert!(!scratch[..used].iter().any(untouched), "uses_qx {uses_qx}");
        assert!(scratch[used..nf].iter().all(untouched));

        let mut short = vec![0f32; nf - 1];
        let mut kv = vec![0u32; nw];
        assert!(matches!(
            Session::new(&m, &plan, &mut short, &mut kv),
            Err(Error::Capacity { .. })
        ));
        let mut scratch = vec![0f32; nf];
        let mut kv_short = vec![0u32; nw - 1];
        assert!(matches!(
            Session::new(&m, &plan, &mut scratch, &mut kv_short),
            Err(Error::Capacity { .. })
        ));
    }
}

#[test]
fn plan_of_another_model_is_rejected() {
    let m = load(GGUF).unwrap();
    let other = picoformer::elm::Preset::OpenElm270M.config().unwrap();
    let plan = Plan::new(&other, 4).unwrap();
    let mut scratch = vec![0f32; plan.scratch_floats()];
    let mut kv = vec![0u32; plan.kv_words()];
    assert!(matches!(
        Session::new(&m, &plan, &mut scratch, &mut kv),
        Err(Error::Shape { .. })
    ));
    assert!(Plan::new(m.config(), 0).is_err());
}

/// Truncations and single-byte corruptions of the header, metadata and tensor table never
/// panic: they fail to load, or load and run (possibly with a numeric error).
#[test]
fn corrupted_files_never_panic() {
    let data_start = find(GGUF, b"blk.4.ffn_norm.weight") + 64;
    for cut in (0..data_start).step_by(37).chain([GGUF.len() - 1]) {
        assert!(load(&GGUF[..cut]).is_err(), "truncated at {cut}");
    }
    let mut rng = 0x1234_5678u32;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        rng
    };
    let mut b = GGUF.to_vec();
    for _ in 0..1500 {
        let at = next() as usize % data_start;
        let old = b[at];
        b[at] = next() as u8;
        if let Ok(m) = load(&b) {
            if let Ok(plan) = Plan::new(m.config(), 4) {
                if plan.scratch_floats() < 1 << 24 && plan.kv_words() < 1 << 24 {
                    let mut scratch = vec![0f32; plan.scratch_floats()];
                    let mut kv = vec![0u32; plan.kv_words()];
                    if let Ok(mut s) = Session::new(&m, &plan, &mut scratch, &mut kv) {
                        let _ = s.prefill(&[1, 2, 3]);
                    }
                }
            }
        }
        b[at] = old;
    }
}
