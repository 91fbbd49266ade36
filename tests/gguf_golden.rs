//! The GGUF reader against files written by the reference writer (`gguf` 0.17.1, llama.cpp's
//! gguf-py): `tests/golden/gguf/make_gguf.py` wrote the files and `manifest.txt`, the expected
//! metadata (rendered from the values given to the writer) and tensor bytes. Comparison is
//! exact: metadata values and tensor bytes byte-for-byte (Q8_0 from the reference quantiser),
//! dequantised F16/Q8_0 values bit-for-bit against `gguf.quants.dequantize`.

use std::path::PathBuf;

use picoformer::gguf::{ArrayView, File, GgmlType, Value, ValueType};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/gguf")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(golden_dir().join(name)).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn tname(t: ValueType) -> &'static str {
    match t {
        ValueType::U8 => "u8",
        ValueType::I8 => "i8",
        ValueType::U16 => "u16",
        ValueType::I16 => "i16",
        ValueType::U32 => "u32",
        ValueType::I32 => "i32",
        ValueType::F32 => "f32",
        ValueType::Bool => "bool",
        ValueType::String => "str",
        ValueType::Array => "arr",
        ValueType::U64 => "u64",
        ValueType::I64 => "i64",
        ValueType::F64 => "f64",
    }
}

/// The manifest's canonical rendering of a value.
fn render(v: &Value<'_>) -> String {
    let t = tname(v.value_type());
    match *v {
        Value::F32(x) => format!("f32:{:08x}", x.to_bits()),
        Value::F64(x) => format!("f64:{:016x}", x.to_bits()),
        Value::Bool(b) => format!("bool:{b}"),
        Value::Str(s) => format!("str:{}", hex(s.as_bytes())),
        Value::Array(a) => render_array(&a),
        _ => format!("{t}:{}", v.as_i128().unwrap()),
    }
}

fn render_array(a: &ArrayView<'_>) -> String {
    let items: Vec<String> = a.iter().map(|v| render(&v)).collect();
    assert_eq!(items.len(), a.len());
    for (i, item) in items.iter().enumerate() {
        assert_eq!(&render(&a.get(i).unwrap()), item, "random access {i}");
    }
    assert!(a.get(a.len()).is_none());
    format!("arr<{}>[{}]", tname(a.elem_type()), items.join(","))
}

struct Tensor {
    name: String,
    ggml: u32,
    dims: Vec<u64>,
    abs_offset: usize,
    bytes: String,
    deq: Option<Vec<u32>>,
}

struct Golden {
    name: String,
    alignment: u32,
    tensor_count: usize,
    metadata_count: usize,
    kvs: Vec<(String, String)>,
    tensors: Vec<Tensor>,
}

fn manifest() -> (Vec<Golden>, Vec<(u32, u64, u64)>) {
    let text = std::fs::read_to_string(golden_dir().join("manifest.txt")).unwrap();
    let mut files: Vec<Golden> = Vec::new();
    let mut quants = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "file" => {
                assert_eq!(f[2], "3");
                files.push(Golden {
                    name: f[1].into(),
                    alignment: f[3].parse().unwrap(),
                    tensor_count: f[4].parse().unwrap(),
                    metadata_count: f[5].parse().unwrap(),
                    kvs: vec![],
                    tensors: vec![],
                })
            }
            "kv" => files
                .last_mut()
                .unwrap()
                .kvs
                .push((f[1].into(), f[2].into())),
            "tensor" => files.last_mut().unwrap().tensors.push(Tensor {
                name: f[1].into(),
                ggml: f[2].parse().unwrap(),
                dims: f[3].split(',').map(|d| d.parse().unwrap()).collect(),
                abs_offset: f[4].parse().unwrap(),
                bytes: f[5].into(),
                deq: (f[6] != "-").then(|| {
                    f[6].split(',')
                        .map(|h| u32::from_str_radix(h, 16).unwrap())
                        .collect()
                }),
            }),
            "quant" => quants.push((
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )),
            other => panic!("unknown manifest record {other}"),
        }
    }
    assert_eq!(files.len(), 3);
    (files, quants)
}

#[test]
fn golden_files_read_exactly_as_written() {
    let (files, _) = manifest();
    let mut dequantised = 0;
    for g in &files {
        let bytes = read(&g.name);
        let file = File::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", g.name));
        assert_eq!(file.version(), 3);
        assert_eq!(file.alignment(), g.alignment, "{}", g.name);
        assert_eq!(file.metadata_count(), g.kvs.len());
        assert_eq!(file.metadata_count(), g.metadata_count);
        assert_eq!(file.tensor_count(), g.tensor_count);
        assert_eq!(file.data_offset() % g.alignment as usize, 0);

        // Metadata: same keys, same order, same values; and each found by key.
        let got: Vec<(String, String)> = file
            .metadata()
            .map(|(k, v)| (k.to_string(), render(&v)))
            .collect();
        assert_eq!(got, g.kvs, "{}", g.name);
        for (k, v) in &g.kvs {
            assert_eq!(&render(&file.get(k).unwrap()), v, "{k}");
        }
        assert!(file.get("no.such.key").is_none());

        // Tensors: same names, order, types, dims, placement, bytes.
        let got: Vec<_> = file.tensors().collect();
        assert_eq!(got.len(), g.tensors.len());
        for (t, want) in got.iter().zip(&g.tensors) {
            assert_eq!(t.name, want.name);
            assert_eq!(Some(*t), file.tensor(&want.name));
            assert_eq!(t.ggml_type.id(), want.ggml, "{}", t.name);
            assert_eq!(t.shape(), &want.dims[..], "{}", t.name);
            assert!(t.dims[t.n_dims..].iter().all(|&d| d == 1));
            assert_eq!(t.n_elements(), want.dims.iter().product::<u64>());
            assert_eq!(file.data_offset() + t.offset as usize, want.abs_offset);
            assert_eq!(t.offset % u64::from(g.alignment), 0);
            assert_eq!(hex(t.data), want.bytes, "{} bytes", t.name);
            match (&want.deq, t.matrix()) {
                (Some(deq), Ok(m)) => {
                    assert_eq!(m.cols() as u64, t.dims[0]);
                    assert_eq!(m.rows() as u64, t.dims[1] * t.dims[2] * t.dims[3]);
                    let mut row = vec![0f32; m.cols()];
                    let mut bits = Vec::new();
                    for r in 0..m.rows() {
                        m.dequant_row(r, &mut row).unwrap();
                        bits.extend(row.iter().map(|x| x.to_bits()));
                    }
                    assert_eq!(&bits, deq, "{} dequantised", t.name);
                    dequantised += 1;
                }
                (None, Err(_)) => {}
                (d, m) => panic!("{}: deq {:?} matrix {:?}", t.name, d.is_some(), m.err()),
            }
        }
    }
    assert_eq!(dequantised, 8, "every F32/F16/Q8_0 tensor was compared");
}

#[test]
fn ggml_type_table_matches_gguf_py() {
    let (_, quants) = manifest();
    assert!(quants.len() >= 30);
    for &(id, block, size) in &quants {
        let t = GgmlType::from_u32(id).unwrap_or_else(|| panic!("type {id} unknown"));
        assert_eq!(
            (t.id(), t.block_size(), t.type_size()),
            (id, block, size),
            "{t}"
        );
    }
    // Ids gguf-py does not list are unknown, except MXFP4 (39), newer than gguf 0.17.1.
    for id in 0..256 {
        if !quants.iter().any(|q| q.0 == id) {
            assert_eq!(GgmlType::from_u32(id).is_some(), id == 39, "id {id}");
        }
    }
    let mx = GgmlType::from_u32(39).unwrap();
    assert_eq!(
        (mx.block_size(), mx.type_size(), mx.name()),
        (32, 17, "MXFP4")
    );
}

#[test]
fn typed_lookups() {
    let bytes = read("all_types.gguf");
    let f = File::parse(&bytes).unwrap();
    assert_eq!(f.get_u32("t.u8"), Some(200));
    assert_eq!(f.get_i32("t.i8"), Some(-100));
    assert_eq!(f.get_u32("t.i8"), None, "negative does not fit u32");
    assert_eq!(f.get_u32("t.u32"), Some(4_000_000_000));
    assert_eq!(f.get_i32("t.u32"), None);
    assert_eq!(f.get_u64("t.u64"), Some((1 << 63) + 5));
    assert_eq!(f.get_u32("t.u64"), None);
    assert_eq!(f.get("t.i64").unwrap().as_i64(), Some(-(1i64 << 62) - 3));
    assert_eq!(f.get_f32("t.f32"), Some(f32::from_bits(0x4049_0fd0))); // 3.14159
    assert_eq!(f.get_f32("t.f64"), None, "no silent f64 narrowing");
    assert_eq!(
        f.get("t.f64").unwrap().as_f64(),
        Some(f64::from_bits(0x4005_bf0a_8b14_5769)) // 2.718281828459045
    );
    assert_eq!(f.get_bool("t.bool_true"), Some(true));
    assert_eq!(f.get_bool("t.bool_false"), Some(false));
    assert_eq!(f.get_bool("t.u8"), None);
    assert_eq!(f.get_str("t.str"), Some("héllo wörld ✓ 日本語 🦀"));
    assert_eq!(f.get_str("t.str_empty"), Some(""));
    assert_eq!(f.get_str("t.u8"), None);
    assert_eq!(f.architecture(), Some("picotest"));
    assert_eq!(f.get_arch("block_count").and_then(|v| v.as_u32()), Some(3));
    assert_eq!(
        f.get_dotted("picotest", "rope.freq_base"),
        Some(Value::F32(10000.0))
    );
    assert_eq!(f.get_dotted("picotes", "t.rope.freq_base"), None);

    // Per-layer arrays: i32 and u32 both read as u32.
    let ffn = f
        .get_arch("feed_forward_length")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(ffn.elem_type(), ValueType::I32);
    assert_eq!(
        ffn.iter_u32().unwrap().collect::<Vec<_>>(),
        [768, 1024, 1280]
    );
    let heads = f.get_array("picotest.attention.head_count").unwrap();
    assert_eq!(heads.iter_u32().unwrap().collect::<Vec<_>>(), [4, 6, 8]);
    assert_eq!(heads.iter_i64().unwrap().count(), 3);
    assert!(heads.iter_f32().is_none());
    assert!(heads.iter_str().is_none());
    let a = f.get_array("a.i32").unwrap();
    assert!(a.iter_u32().is_none(), "-1 does not fit u32");
    assert_eq!(
        a.iter_i64().unwrap().collect::<Vec<_>>(),
        [-1, 7, 2147483647]
    );
    assert!(f.get_array("a.u32").unwrap().iter_i32().is_none());
    assert_eq!(
        f.get_array("a.u64")
            .unwrap()
            .iter_u64()
            .unwrap()
            .collect::<Vec<_>>(),
        [0, u64::MAX]
    );
    assert_eq!(
        f.get_array("a.u8")
            .unwrap()
            .iter_u32()
            .unwrap()
            .collect::<Vec<_>>(),
        [0, 1, 255]
    );
    assert_eq!(
        f.get_array("a.f32")
            .unwrap()
            .iter_f32()
            .unwrap()
            .collect::<Vec<_>>(),
        [0.5, -1.25, 1e-8, 65504.0]
    );
    assert_eq!(
        f.get_array("a.bool")
            .unwrap()
            .iter_bool()
            .unwrap()
            .collect::<Vec<_>>(),
        [true, false, true]
    );
    assert_eq!(
        f.get_array("a.str")
            .unwrap()
            .iter_str()
            .unwrap()
            .collect::<Vec<_>>(),
        ["a", "ü", "", "日本", "🦀x"]
    );
    assert!(f.get_array("a.str").unwrap().iter_u32().is_none());
    let nested = f.get_array("a.nested_str").unwrap();
    assert_eq!(nested.elem_type(), ValueType::Array);
    let inner = nested.get(0).unwrap().as_array().unwrap();
    assert_eq!(inner.iter_str().unwrap().collect::<Vec<_>>(), ["x", "ÿ"]);
    let deep = f.get_array("a.nested3").unwrap().get(1).unwrap();
    let deep = deep.as_array().unwrap().get(0).unwrap().as_array().unwrap();
    assert_eq!(deep.iter_u32().unwrap().collect::<Vec<_>>(), [2, 3]);

    // Tensors by block name, without formatting.
    let t = f.tensor_blk(10, "attn_qkv.weight").unwrap();
    assert_eq!(t.name, "blk.10.attn_qkv.weight");
    assert_eq!(t.ggml_type, GgmlType::Q8_0);
    assert!(t.is_blk(10, "attn_qkv.weight") && !t.is_blk(1, "attn_qkv.weight"));
    assert_eq!(
        f.tensor_blk(0, "attn_norm.weight").unwrap().ggml_type,
        GgmlType::F16
    );
    assert!(f.tensor_blk(1, "attn_qkv.weight").is_none());
    assert!(f.tensor_blk(10, "attn_qkv").is_none());
    assert!(f.tensor_blk(0, "attn_qkv.weight").is_none());
    assert!(f.tensor("nope").is_none());
    let q4 = f.tensor("q4_k_raw").unwrap();
    assert_eq!(
        (q4.ggml_type, q4.data.len(), q4.n_elements()),
        (GgmlType::Q4_K, 144, 256)
    );
    assert!(q4.matrix().is_err(), "Q4_K has no weight view");
}

#[test]
fn version_2_has_the_same_layout() {
    let mut bytes = read("align64.gguf");
    bytes[4..8].copy_from_slice(&2u32.to_le_bytes());
    let f = File::parse(&bytes).unwrap();
    assert_eq!(f.version(), 2);
    assert_eq!(f.alignment(), 64);
    assert_eq!(
        f.get_array("tokenizer.ggml.tokens")
            .unwrap()
            .iter_str()
            .unwrap()
            .collect::<Vec<_>>(),
        ["<unk>", "<s>", "</s>", "▁the", "é"]
    );
    for v in [0u32, 1, 4, 0x0300_0000] {
        bytes[4..8].copy_from_slice(&v.to_le_bytes());
        assert!(matches!(
            File::parse(&bytes),
            Err(picoformer::Error::Unsupported { value, .. }) if value == u64::from(v)
        ));
    }
}

/// Timing on any file: `GGUF_FILE=path cargo test -p picoformer --test gguf_golden --
/// --ignored --nocapture parse_timing`.
#[test]
#[ignore]
fn parse_timing() {
    let path = std::env::var("GGUF_FILE").expect("set GGUF_FILE");
    let bytes = std::fs::read(&path).unwrap();
    let t = std::time::Instant::now();
    let f = File::parse(&bytes).unwrap();
    let parse = t.elapsed();
    let t = std::time::Instant::now();
    let last_key = f.metadata().last().map(|(k, _)| k).unwrap_or("");
    assert_eq!(f.get(last_key).is_some(), f.metadata_count() > 0);
    let get_last = t.elapsed();
    let t = std::time::Instant::now();
    let last = f.tensors().last().map(|t| t.name).unwrap_or("");
    assert_eq!(f.tensor(last).is_some(), f.tensor_count() > 0);
    let tensor_last = t.elapsed();
    println!(
        "{path}: {} bytes, {} keys, {} tensors: parse {parse:?}, get(last key) {get_last:?}, \
         tensor(last) {tensor_last:?}",
        bytes.len(),
        f.metadata_count(),
        f.tensor_count()
    );
}
