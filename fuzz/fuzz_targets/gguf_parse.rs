//! Fuzz target: `gguf::File::parse` on arbitrary bytes must return `Ok` or `Err`, never panic,
//! and when it returns `Ok`, every lookup and iteration must run without panicking and the
//! check-once invariants must hold (asserted here: a failed assert is a crash).
//!
//! Run (see fuzz/RESULTS.md):
//!   cargo +nightly fuzz run gguf_parse fuzz/corpus/gguf_parse -- -dict=fuzz/gguf.dict

#![no_main]

use libfuzzer_sys::fuzz_target;
use picoformer::gguf::{ArrayView, File, Value, MAX_ARRAY_DEPTH};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = File::parse(data) {
        exercise(&f);
    }
});

fn exercise(f: &File<'_>) {
    assert_eq!(f.metadata().count(), f.metadata_count());
    assert_eq!(f.tensors().count(), f.tensor_count());
    assert!(f.alignment().is_power_of_two());
    assert_eq!(f.data_offset() % f.alignment() as usize, 0);
    assert!(matches!(f.version(), 2 | 3));

    for (k, v) in f.metadata() {
        assert_eq!(f.get(k).map(|x| x.value_type()), Some(v.value_type()));
        walk(&v, 0);
    }
    let _ = (f.architecture(), f.get_arch("block_count"), f.get_u32("general.alignment"));
    let _ = f.get_dotted("general", "architecture");

    let bytes = f.bytes();
    for (i, t) in f.tensors().enumerate() {
        assert!(f.tensors().take(i).all(|u| u.name != t.name), "duplicate name");
        assert_eq!(f.tensor(t.name), Some(t));
        assert!(t.n_dims <= 4);
        assert!(t.dims[t.n_dims..].iter().all(|&d| d == 1));
        assert!(t.n_elements() <= i64::MAX as u64);
        assert_eq!(t.offset % u64::from(f.alignment()), 0);
        assert_eq!(
            Some(t.data.len() as u64),
            t.ggml_type.bytes_for(t.n_elements())
        );
        let start = f.data_offset() + t.offset as usize;
        assert!(core::ptr::eq(t.data, &bytes[start..start + t.data.len()]));
        let _ = (t.shape(), t.ggml_type.name());
        if let Ok(m) = t.matrix().and_then(|m| m.slice_rows(0, m.rows().min(2))) {
            if m.rows() > 0 {
                let mut row = vec![0f32; m.cols()];
                for r in 0..m.rows() {
                    m.dequant_row(r, &mut row).unwrap();
                }
            }
        }
        if let Some(rest) = t.name.strip_prefix("blk.") {
            if let Some((n, suffix)) = rest.split_once('.') {
                if let Ok(layer) = n.parse::<u32>() {
                    if layer.to_string() == n {
                        assert_eq!(f.tensor_blk(layer, suffix), Some(t));
                    }
                }
            }
        }
    }
}

fn walk(v: &Value<'_>, depth: u32) {
    assert!(depth <= MAX_ARRAY_DEPTH);
    let _ = (v.as_u32(), v.as_i64(), v.as_f32(), v.as_f64(), v.as_bool(), v.as_str());
    if let Value::Array(a) = v {
        array(a, depth + 1);
    }
}

fn array(a: &ArrayView<'_>, depth: u32) {
    assert_eq!(a.iter().count(), a.len());
    assert_eq!(a.is_empty(), a.len() == 0);
    if let Some(it) = a.iter_u32() {
        assert_eq!(it.count(), a.len());
    }
    if let Some(it) = a.iter_i64() {
        assert_eq!(it.count(), a.len());
    }
    if let Some(it) = a.iter_f32() {
        assert_eq!(it.count(), a.len());
    }
    if let Some(it) = a.iter_bool() {
        assert_eq!(it.count(), a.len());
    }
    if let Some(it) = a.iter_str() {
        assert_eq!(it.count(), a.len());
    }
    if !a.is_empty() {
        assert!(a.get(a.len() - 1).is_some());
    }
    assert!(a.get(a.len()).is_none());
    for e in a.iter() {
        walk(&e, depth);
    }
}
