//! `pico convert` against independent references: the fixtures and the expected GGUF tensors
//! in `tests/golden/convert/` were written by `make_fixtures.py` with NumPy, `safetensors`,
//! `sentencepiece` and the `gguf` package (F16 = NumPy `astype(float16)`, Q8_0 =
//! `gguf.quants.quantize`). Every tensor of the converted file must equal the reference byte
//! for byte (type, dims and data), and the vocabulary arrays too. Tolerance: none.

use std::path::{Path, PathBuf};
use std::process::Command;

use picoformer::gguf::File;
use picoformer::tokenizer::{Symbol, Tokenizer};

fn golden(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden")
        .join(p)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pico-convert-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn pico(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pico"))
        .args(args)
        .output()
        .expect("running pico")
}

fn convert(args: &[&str]) -> Vec<u8> {
    let out = pico(args);
    assert!(
        out.status.success(),
        "pico {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o = args.iter().position(|&a| a == "-o").unwrap();
    std::fs::read(args[o + 1]).unwrap()
}

/// Every reference tensor is in `got` with identical type, dims and bytes; no extra tensors
/// except those listed in `absent_in_ref` (and vice versa for `absent_in_got`).
fn same_tensors(got: &File<'_>, reference: &File<'_>, absent_in_got: &[&str]) {
    let mut n = 0;
    for r in reference.tensors() {
        if absent_in_got.contains(&r.name) {
            assert!(got.tensor(r.name).is_none(), "{} should be absent", r.name);
            continue;
        }
        let g = got
            .tensor(r.name)
            .unwrap_or_else(|| panic!("missing {}", r.name));
        assert_eq!(g.ggml_type, r.ggml_type, "{} type", r.name);
        assert_eq!(g.shape(), r.shape(), "{} dims", r.name);
        assert!(g.data == r.data, "{} data differs", r.name);
        n += 1;
    }
    assert_eq!(
        got.tensors().count(),
        n,
        "extra tensors in the converted file"
    );
}

fn same_vocab(got: &File<'_>, reference: &File<'_>) {
    for key in [
        "tokenizer.ggml.tokens",
        "tokenizer.ggml.scores",
        "tokenizer.ggml.token_type",
    ] {
        let g = got
            .get_array(key)
            .unwrap_or_else(|| panic!("{key} missing"));
        let r = reference.get_array(key).unwrap();
        assert_eq!(g.elem_type(), r.elem_type(), "{key} element type");
        assert_eq!(g.len(), r.len(), "{key} length");
        assert!(g.bytes() == r.bytes(), "{key} differs");
    }
    assert_eq!(got.get_str("tokenizer.ggml.model"), Some("llama"));
    assert_eq!(got.get_u32("tokenizer.ggml.bos_token_id"), Some(1));
    assert_eq!(got.get_u32("tokenizer.ggml.eos_token_id"), Some(2));
    assert_eq!(got.get_u32("tokenizer.ggml.unknown_token_id"), Some(0));
}

#[test]
fn llama2c_all_types() {
    let model = golden("convert/llama2c/model.bin");
    let tok = golden("convert/llama2c/tokenizer.bin");
    for ty in ["f32", "f16", "q8_0"] {
        let out = tmp(&format!("l2c_{ty}.gguf"));
        let bytes = convert(&[
            "convert",
            "llama2c",
            model.to_str().unwrap(),
            "--tokenizer",
            tok.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--type",
            ty,
        ]);
        let got = File::parse(&bytes).unwrap();
        let rb = std::fs::read(golden(&format!("convert/llama2c/ref_{ty}.gguf"))).unwrap();
        let reference = File::parse(&rb).unwrap();
        same_tensors(&got, &reference, &[]);
        same_vocab(&got, &reference);
        assert_eq!(got.architecture(), Some("llama"));
        let u = |k: &str| got.get_u32(k);
        assert_eq!(u("llama.block_count"), Some(2));
        assert_eq!(u("llama.embedding_length"), Some(32));
        assert_eq!(u("llama.feed_forward_length"), Some(64));
        assert_eq!(u("llama.attention.head_count"), Some(4));
        assert_eq!(u("llama.attention.head_count_kv"), Some(2));
        assert_eq!(u("llama.context_length"), Some(16));
        assert_eq!(u("llama.rope.dimension_count"), Some(8));
        assert_eq!(
            u("general.file_type"),
            Some(match ty {
                "f32" => 0,
                "f16" => 1,
                _ => 7,
            })
        );
        assert_eq!(
            got.get_f32("llama.attention.layer_norm_rms_epsilon"),
            Some(1e-5)
        );
    }
}

#[test]
fn llama2c_tied_and_vocab_tokenizes_like_llama_cpp() {
    // The tied variant: positive vocab_size and no trailing wcls (48 × 32 floats).
    let mut bin = std::fs::read(golden("convert/llama2c/model.bin")).unwrap();
    bin[20..24].copy_from_slice(&48i32.to_le_bytes());
    bin.truncate(bin.len() - 48 * 32 * 4);
    let src = tmp("tied.bin");
    std::fs::write(&src, &bin).unwrap();
    let out = tmp("tied.gguf");
    let tok = golden("convert/llama2c/tokenizer.bin");
    let bytes = convert(&[
        "convert",
        "llama2c",
        src.to_str().unwrap(),
        "--tokenizer",
        tok.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let got = File::parse(&bytes).unwrap();
    let rb = std::fs::read(golden("convert/llama2c/ref_f32.gguf")).unwrap();
    same_tensors(&got, &File::parse(&rb).unwrap(), &["output.weight"]);

    // The converted vocabulary, read by the crate's tokenizer, tokenizes as llama.cpp
    // (llama-cpp-python 0.3.16 `tokenize(add_bos=True)` on this very file).
    let mut index = vec![0u32; Tokenizer::index_len(&got)];
    let t = Tokenizer::from_gguf(&got, &mut index).unwrap();
    for (text, want) in [
        ("the cat", &[1u32, 12, 15, 18, 19, 12, 41, 13][..]),
        (
            "a cat sat on the mat",
            &[
                1, 8, 12, 41, 13, 12, 16, 13, 12, 11, 12, 15, 18, 19, 12, 25, 13,
            ],
        ),
    ] {
        let mut scratch = vec![Symbol::EMPTY; Tokenizer::scratch_len(text.len())];
        let mut ids = vec![0u32; Tokenizer::max_tokens(text.len())];
        let n = t
            .encode(text.as_bytes(), true, &mut scratch, &mut ids)
            .unwrap();
        assert_eq!(&ids[..n], want, "{text:?}");
        let mut back = vec![0u8; 64];
        let m = t.decode(&ids[1..n], &mut back).unwrap();
        assert_eq!(&back[..m], text.as_bytes());
    }
}

#[test]
fn llama2c_bad_inputs_are_errors() {
    let mut bin = std::fs::read(golden("convert/llama2c/model.bin")).unwrap();
    bin.truncate(bin.len() - 4);
    let src = tmp("short.bin");
    std::fs::write(&src, &bin).unwrap();
    let out = tmp("short.gguf");
    let r = pico(&[
        "convert",
        "llama2c",
        src.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("implies"));
    // 5 heads do not divide dim 32
    let mut bin = std::fs::read(golden("convert/llama2c/model.bin")).unwrap();
    bin[12..16].copy_from_slice(&5i32.to_le_bytes());
    std::fs::write(&src, &bin).unwrap();
    let r = pico(&[
        "convert",
        "llama2c",
        src.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("n_heads"));
}

#[test]
fn openelm_all_types() {
    let dir = golden("convert/openelm");
    let tok = golden("tokenizer/tokenizer.model");
    for ty in ["f32", "f16", "q8_0"] {
        let out = tmp(&format!("oe_{ty}.gguf"));
        let bytes = convert(&[
            "convert",
            "openelm",
            dir.to_str().unwrap(),
            "--tokenizer",
            tok.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--type",
            ty,
        ]);
        let got = File::parse(&bytes).unwrap();
        let rb = std::fs::read(golden(&format!("convert/openelm/ref_{ty}.gguf"))).unwrap();
        let reference = File::parse(&rb).unwrap();
        same_tensors(&got, &reference, &[]);
        same_vocab(&got, &reference);
        assert_eq!(got.architecture(), Some("openelm"));
        let arr = |k: &str| -> Vec<u32> { got.get_array(k).unwrap().iter_u32().unwrap().collect() };
        assert_eq!(arr("openelm.feed_forward_length"), [32, 64, 96]);
        assert_eq!(arr("openelm.attention.head_count"), [2, 4, 4]);
        assert_eq!(arr("openelm.attention.head_count_kv"), [1, 2, 2]);
        for k in [
            "openelm.rope.dimension_count",
            "openelm.attention.key_length",
            "openelm.attention.value_length",
        ] {
            assert_eq!(got.get_u32(k), Some(8), "{k}");
        }
        assert_eq!(got.get_u32("openelm.block_count"), Some(3));
        assert_eq!(got.get_u32("openelm.embedding_length"), Some(32));
        assert_eq!(got.get_u32("openelm.context_length"), Some(32));
        assert_eq!(got.get_f32("openelm.rope.freq_base"), Some(10000.0));
        assert_eq!(
            got.get_f32("openelm.attention.layer_norm_rms_epsilon"),
            Some(1e-6)
        );
        assert!(got.tensor("output.weight").is_none());
    }
    // Q8_0 falls back to F16 where a row is not a multiple of 32 (layer 0 out_proj: 2·8 = 16).
    let bytes = std::fs::read(tmp("oe_q8_0.gguf")).unwrap();
    let f = File::parse(&bytes).unwrap();
    let t = f.tensor("blk.0.attn_output.weight").unwrap();
    assert_eq!(t.ggml_type as u32, 1);
    let t = f.tensor("blk.1.attn_output.weight").unwrap();
    assert_eq!(t.ggml_type as u32, 8);
}

#[test]
fn openelm_without_tokenizer_and_bad_config() {
    let dir = golden("convert/openelm");
    let out = tmp("oe_novocab.gguf");
    let bytes = convert(&[
        "convert",
        "openelm",
        dir.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let got = File::parse(&bytes).unwrap();
    assert!(got.get("tokenizer.ggml.tokens").is_none());
    let rb = std::fs::read(golden("convert/openelm/ref_f32.gguf")).unwrap();
    same_tensors(&got, &File::parse(&rb).unwrap(), &[]);

    // A config whose per-layer KV heads disagree with the tensors → a clear error.
    let bad = tmp("bad_openelm");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::copy(dir.join("model.safetensors"), bad.join("model.safetensors")).unwrap();
    let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let cfg = cfg.replacen(
        "\"num_kv_heads\": [\n    1,",
        "\"num_kv_heads\": [\n    2,",
        1,
    );
    std::fs::write(bad.join("config.json"), cfg).unwrap();
    let r = pico(&[
        "convert",
        "openelm",
        bad.to_str().unwrap(),
        "-o",
        tmp("bad.gguf").to_str().unwrap(),
    ]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("transformer.layers.0.attn.qkv_proj.weight"),
        "{err}"
    );
}

/// Half-precision checkpoints (BF16 and F16 safetensors, as some HF uploads are) convert to
/// F32 exactly (widening is exact): made here from the F32 fixture by rounding every tensor.
#[test]
fn openelm_half_precision_sources() {
    use safetensors::{serialize, Dtype, SafeTensors};
    let dir = golden("convert/openelm");
    let src = std::fs::read(dir.join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&src).unwrap();
    let rb = std::fs::read(golden("convert/openelm/ref_f32.gguf")).unwrap();
    let reference = File::parse(&rb).unwrap();
    for (dtype, round) in [
        (
            Dtype::BF16,
            (|x: f32| half::bf16::from_f32(x).to_bits()) as fn(f32) -> u16,
        ),
        (Dtype::F16, |x: f32| half::f16::from_f32(x).to_bits()),
    ] {
        let mut tensors = Vec::new();
        for (name, view) in st.tensors() {
            let data: Vec<u8> = view
                .data()
                .chunks_exact(4)
                .flat_map(|c| round(f32::from_le_bytes(c.try_into().unwrap())).to_le_bytes())
                .collect();
            tensors.push((name, view.shape().to_vec(), data));
        }
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .map(|(n, s, d)| {
                (
                    n.clone(),
                    safetensors::tensor::TensorView::new(dtype, s.clone(), d).unwrap(),
                )
            })
            .collect();
        let bytes = serialize(views, &None).unwrap();
        let out_dir = tmp(&format!("oe_{dtype:?}"));
        std::fs::create_dir_all(&out_dir).unwrap();
        std::fs::copy(dir.join("config.json"), out_dir.join("config.json")).unwrap();
        std::fs::write(out_dir.join("model.safetensors"), bytes).unwrap();
        let out = tmp(&format!("oe_{dtype:?}.gguf"));
        let conv = convert(&[
            "convert",
            "openelm",
            out_dir.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        let got = File::parse(&conv).unwrap();
        let widen = |b: u16| match dtype {
            Dtype::BF16 => half::bf16::from_bits(b).to_f32(),
            _ => half::f16::from_bits(b).to_f32(),
        };
        for r in reference.tensors() {
            let g = got.tensor(r.name).unwrap();
            let want: Vec<u8> = r
                .data
                .chunks_exact(4)
                .flat_map(|c| widen(round(f32::from_le_bytes(c.try_into().unwrap()))).to_le_bytes())
                .collect();
            assert!(g.data == want.as_slice(), "{dtype:?}: {}", r.name);
        }
    }
}
