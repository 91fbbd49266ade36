//! The GGUF reader on malformed input: every case is an `Err` (of the documented class), never
//! a panic, and no case does work out of proportion to its size.
//!
//! - hand-built files, one per error class (a small builder below writes valid files that
//!   each case then breaks in one place);
//! - every truncation of every golden file;
//! - proptest mutations (bit flips, byte overwrites, splices) of the golden files: `Ok` or
//!   `Err`, and when `Ok`, every lookup and iteration runs and the check-once invariants hold.

use picoformer::gguf::{File, GgmlType, Value, MAX_ARRAY_DEPTH};
use picoformer::Error;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// A tiny GGUF builder.

const T_U8: u32 = 0;
const T_U32: u32 = 4;
const T_BOOL: u32 = 7;
const T_STR: u32 = 8;
const T_ARR: u32 = 9;
const T_U64: u32 = 10;

fn gstr(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

/// An encoded value: type tag + payload.
fn val(tag: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = tag.to_le_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

/// Payload of an array: element tag, count, elements.
fn arr(elem: u32, count: u64, items: &[u8]) -> Vec<u8> {
    let mut v = elem.to_le_bytes().to_vec();
    v.extend_from_slice(&count.to_le_bytes());
    v.extend_from_slice(items);
    v
}

#[derive(Clone)]
struct Ti {
    name: Vec<u8>,
    dims: Vec<u64>,
    ty: u32,
    offset: u64,
}

fn ti(name: &str, dims: &[u64], ty: u32, offset: u64) -> Ti {
    Ti {
        name: name.as_bytes().to_vec(),
        dims: dims.to_vec(),
        ty,
        offset,
    }
}

#[derive(Clone)]
struct Spec {
    magic: [u8; 4],
    version: u32,
    tensor_count: Option<u64>,
    kv_count: Option<u64>,
    kvs: Vec<(Vec<u8>, Vec<u8>)>,
    tensors: Vec<Ti>,
    /// Padding before the data section (must match `general.alignment` for a valid file).
    alignment: usize,
    data_len: usize,
}

impl Spec {
    /// A valid file: two keys, a 2×32 Q8_0 tensor and a 3-element F32 tensor.
    fn valid() -> Spec {
        Spec {
            magic: *b"GGUF",
            version: 3,
            tensor_count: None,
            kv_count: None,
            kvs: vec![
                (b"general.architecture".to_vec(), val(T_STR, &gstr(b"test"))),
                (b"x.u32".to_vec(), val(T_U32, &7u32.to_le_bytes())),
            ],
            tensors: vec![ti("a", &[32, 2], 8, 0), ti("b", &[3], 0, 96)],
            alignment: 32,
            data_len: 108,
        }
    }

    fn kv(mut self, key: &[u8], value: Vec<u8>) -> Spec {
        self.kvs.push((key.to_vec(), value));
        self
    }

    fn build(&self) -> Vec<u8> {
        let mut b = self.magic.to_vec();
        b.extend_from_slice(&self.version.to_le_bytes());
        let nt = self.tensor_count.unwrap_or(self.tensors.len() as u64);
        b.extend_from_slice(&nt.to_le_bytes());
        let nk = self.kv_count.unwrap_or(self.kvs.len() as u64);
        b.extend_from_slice(&nk.to_le_bytes());
        for (k, v) in &self.kvs {
            b.extend_from_slice(&gstr(k));
            b.extend_from_slice(v);
        }
        for t in &self.tensors {
            b.extend_from_slice(&gstr(&t.name));
            b.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                b.extend_from_slice(&d.to_le_bytes());
            }
            b.extend_from_slice(&t.ty.to_le_bytes());
            b.extend_from_slice(&t.offset.to_le_bytes());
        }
        while !b.len().is_multiple_of(self.alignment) {
            b.push(0);
        }
        b.extend((0..self.data_len).map(|i| (i % 7) as u8));
        b
    }

    fn parse_err(&self) -> Error {
        let bytes = self.build();
        match File::parse(&bytes) {
            Ok(_) => panic!("parsed a malformed file"),
            Err(e) => e,
        }
    }
}

fn malformed(what_contains: &str) -> impl Fn(Error) {
    let w = what_contains.to_string();
    move |e| match e {
        Error::Malformed { what, .. } if what.contains(&w) => {}
        other => panic!("expected Malformed({w}), got {other:?}"),
    }
}

fn unsupported(what_contains: &str, v: u64) -> impl Fn(Error) {
    let w = what_contains.to_string();
    move |e| match e {
        Error::Unsupported { what, value } if what.contains(&w) && value == v => {}
        other => panic!("expected Unsupported({w}, {v}), got {other:?}"),
    }
}

fn truncated(e: Error) {
    assert!(
        matches!(e, Error::Truncated { .. }),
        "expected Truncated, got {e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-built cases.

#[test]
fn the_builder_makes_valid_files() {
    let bytes = Spec::valid().build();
    let f = File::parse(&bytes).unwrap();
    assert_eq!(
        (f.tensor_count(), f.metadata_count(), f.alignment()),
        (2, 2, 32)
    );
    let a = f.tensor("a").unwrap();
    assert_eq!((a.ggml_type, a.data.len()), (GgmlType::Q8_0, 68));
    assert_eq!(a.matrix().unwrap().rows(), 2);
    assert_eq!(f.tensor("b").unwrap().data.len(), 12);
    // A custom alignment, honoured for the data section and the offsets.
    let mut s = Spec::valid().kv(b"general.alignment", val(T_U32, &16u32.to_le_bytes()));
    s.alignment = 16;
    s.tensors[1].offset = 80;
    s.data_len = 92;
    let bytes = s.build();
    let f = File::parse(&bytes).unwrap();
    assert_eq!(f.alignment(), 16);
    assert_eq!(f.data_offset() % 16, 0);
    // Zero tensors, zero keys.
    let mut s = Spec::valid();
    s.kvs.clear();
    s.tensors.clear();
    s.data_len = 0;
    assert!(File::parse(&s.build()).is_ok());
}

#[test]
fn bad_magic_and_version() {
    let mut s = Spec::valid();
    s.magic = *b"GGUG";
    malformed("magic")(s.parse_err());
    for v in [0, 1, 4, u32::MAX, 0x0300_0000] {
        let mut s = Spec::valid();
        s.version = v;
        unsupported("version", v.into())(s.parse_err());
    }
    for n in 0..24 {
        let e = File::parse(&Spec::valid().build()[..n]).unwrap_err();
        // Inside the header; once both counts are read, they are bounded by the bytes left.
        assert!(
            matches!(e, Error::Truncated { .. } | Error::Malformed { .. }),
            "{e:?}"
        );
    }
}

#[test]
fn huge_counts_fail_fast() {
    let start = std::time::Instant::now();
    for n in [1u64 << 60, u64::MAX, 1 << 32, 1000] {
        let mut s = Spec::valid();
        s.tensor_count = Some(n);
        malformed("tensor count")(s.parse_err());
        let mut s = Spec::valid();
        s.kv_count = Some(n);
        malformed("metadata count")(s.parse_err());
        for elem in [T_U8, T_U64, T_STR, T_ARR] {
            let s = Spec::valid().kv(b"k", val(T_ARR, &arr(elem, n, &[])));
            malformed("array count")(s.parse_err());
        }
        // A string whose length runs past the end.
        let s = Spec::valid().kv(b"k", val(T_STR, &n.to_le_bytes()));
        let e = s.parse_err();
        assert!(
            matches!(e, Error::Truncated { .. } | Error::Malformed { .. }),
            "{e:?}"
        );
    }
    // One count below the bound: walks the bytes, then runs out.
    let mut s = Spec::valid();
    s.kv_count = Some(3);
    assert!(File::parse(&s.build()).is_err());
    assert!(start.elapsed().as_millis() < 500, "{:?}", start.elapsed());
}

#[test]
fn overflowing_and_bad_dims() {
    let cases: &[&[u64]] = &[
        &[1 << 32, 1 << 32], // product 2^64
        &[1 << 62, 2],       // product 2^63 > i64::MAX
        &[1 << 63],          // dimension > i64::MAX
        &[u64::MAX, 0],      // negative as int64, even with a zero
        &[3, 1 << 40, 1 << 40, 1 << 40],
    ];
    for dims in cases {
        let mut s = Spec::valid();
        s.tensors[1].dims = dims.to_vec();
        malformed("overflow")(s.parse_err());
    }
    let mut s = Spec::valid();
    s.tensors[1].dims = vec![1, 1, 1, 1, 1];
    malformed("n_dims")(s.parse_err());
    let mut s = Spec::valid();
    s.tensors[0].dims = vec![33, 2]; // Q8_0 rows must be whole blocks
    malformed("block size")(s.parse_err());
    // A huge but representable tensor: sized with checked arithmetic, then out of bounds.
    let mut s = Spec::valid();
    s.tensors[1].dims = vec![1 << 31, 1 << 31];
    let e = s.parse_err();
    assert!(
        matches!(e, Error::Truncated { .. } | Error::Malformed { .. }),
        "{e:?}"
    );
}

#[test]
fn misaligned_and_out_of_bounds_data() {
    for off in [4u64, 95, 97, 1] {
        let mut s = Spec::valid();
        s.tensors[1].offset = off;
        malformed("multiple of the alignment")(s.parse_err());
    }
    let mut s = Spec::valid();
    s.tensors[1].offset = 128; // aligned, but 12 bytes at 128 > 108
    truncated(s.parse_err());
    let mut s = Spec::valid();
    s.tensors[1].offset = u64::MAX - 31; // aligned, overflows when added to the data start
    let e = s.parse_err();
    assert!(
        matches!(e, Error::Truncated { .. } | Error::Malformed { .. }),
        "{e:?}"
    );
    let mut s = Spec::valid();
    s.data_len = 107; // last tensor one byte short
    truncated(s.parse_err());
}

#[test]
fn unknown_ggml_types() {
    for ty in [4u32, 5, 31, 32, 33, 36, 37, 38, 40, 1000, u32::MAX] {
        let mut s = Spec::valid();
        s.tensors[1].ty = ty;
        unsupported("ggml tensor type", ty.into())(s.parse_err());
    }
}

#[test]
fn duplicates() {
    let mut s = Spec::valid();
    s.tensors[1].name = b"a".to_vec();
    malformed("duplicate tensor name")(s.parse_err());
    let s = Spec::valid().kv(b"x.u32", val(T_U32, &8u32.to_le_bytes()));
    malformed("duplicate metadata key")(s.parse_err());
    // Same key after a string array (the re-walk skips the array).
    let s = Spec::valid()
        .kv(
            b"tok",
            val(T_ARR, &arr(T_STR, 2, &[gstr(b"ab"), gstr(b"")].concat())),
        )
        .kv(b"general.architecture", val(T_U8, &[1]));
    malformed("duplicate metadata key")(s.parse_err());
}

#[test]
fn duplicates_across_check_chunks() {
    // Duplicate detection works in chunks of 64 names: pairs inside a chunk, across chunks,
    // and first/last must all be found; many distinct names must pass.
    let many = |n: usize, dup: Option<(usize, usize)>| {
        let mut s = Spec::valid();
        s.tensors.truncate(1);
        s.data_len = 68;
        s.kvs.clear();
        for i in 0..n {
            let j = match dup {
                Some((a, b)) if i == b => a,
                _ => i,
            };
            s.kvs
                .push((format!("key.{j}").into_bytes(), val(T_U8, &[1])));
            s.tensors.push(ti(&format!("t{j}"), &[0], 0, 0));
        }
        s
    };
    assert!(File::parse(&many(300, None).build()).is_ok());
    for (a, b) in [
        (0, 1),
        (3, 60),
        (10, 64),
        (63, 64),
        (0, 299),
        (100, 250),
        (298, 299),
    ] {
        let bytes = many(300, Some((a, b))).build();
        malformed("duplicate metadata key")(File::parse(&bytes).unwrap_err());
        // Keys unique, tensors not:
        let mut s = many(300, Some((a, b)));
        for (i, kv) in s.kvs.iter_mut().enumerate() {
            kv.0 = format!("key.{i}").into_bytes();
        }
        malformed("duplicate tensor name")(s.parse_err());
    }
}

#[test]
fn bad_utf8_bool_and_value_types() {
    let bad = b"ok\xff\xfe";
    malformed("key is not UTF-8")(Spec::valid().kv(bad, val(T_U8, &[1])).parse_err());
    malformed("string is not UTF-8")(Spec::valid().kv(b"s", val(T_STR, &gstr(bad))).parse_err());
    let strs = [gstr(b"fine"), gstr(b"\xc3")].concat(); // truncated 2-byte sequence
    malformed("string is not UTF-8")(
        Spec::valid()
            .kv(b"s", val(T_ARR, &arr(T_STR, 2, &strs)))
            .parse_err(),
    );
    let mut s = Spec::valid();
    s.tensors[0].name = b"\xed\xa0\x80".to_vec(); // a UTF-16 surrogate, invalid in UTF-8
    malformed("tensor name is not UTF-8")(s.parse_err());

    malformed("bool")(Spec::valid().kv(b"b", val(T_BOOL, &[2])).parse_err());
    malformed("bool")(
        Spec::valid()
            .kv(b"b", val(T_ARR, &arr(T_BOOL, 3, &[1, 0, 255])))
            .parse_err(),
    );
    malformed("value type")(Spec::valid().kv(b"v", val(13, &[0; 8])).parse_err());
    malformed("value type")(
        Spec::valid()
            .kv(b"v", val(T_ARR, &arr(77, 1, &[0; 8])))
            .parse_err(),
    );
}

#[test]
fn array_nesting_is_bounded() {
    // Depth d: d nested one-element arrays around a u8.
    let nest = |d: u32| {
        let mut payload = arr(T_U8, 1, &[5]);
        for _ in 1..d {
            payload = arr(T_ARR, 1, &payload);
        }
        Spec::valid().kv(b"n", val(T_ARR, &payload))
    };
    let bytes = nest(MAX_ARRAY_DEPTH).build();
    let f = File::parse(&bytes).unwrap();
    let mut v = f.get("n").unwrap();
    for _ in 0..MAX_ARRAY_DEPTH {
        v = v.as_array().unwrap().get(0).unwrap();
    }
    assert_eq!(v, Value::U8(5));
    unsupported("nesting", u64::from(MAX_ARRAY_DEPTH + 1))(nest(MAX_ARRAY_DEPTH + 1).parse_err());
    // A deep nest in a large buffer: rejected at the limit, no deep recursion.
    assert!(File::parse(&nest(10_000).build()).is_err());
}

#[test]
fn bad_alignment() {
    for a in [0u32, 3, 48, 1 << 31 | 1] {
        let s = Spec::valid().kv(b"general.alignment", val(T_U32, &a.to_le_bytes()));
        malformed("power of two")(s.parse_err());
    }
    let s = Spec::valid().kv(b"general.alignment", val(T_U64, &32u64.to_le_bytes()));
    malformed("not a u32")(s.parse_err());
    // A huge power of two: the data section would start past the end.
    let s = Spec::valid().kv(
        b"general.alignment",
        val(T_U32, &(1u32 << 31).to_le_bytes()),
    );
    assert!(File::parse(&s.build()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Truncations and mutations of the golden files.

fn goldens() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/gguf");
    let mut v: Vec<Vec<u8>> = ["all_types.gguf", "align64.gguf", "no_tensors.gguf"]
        .iter()
        .map(|n| std::fs::read(dir.join(n)).unwrap())
        .collect();
    v.push(Spec::valid().build());
    v
}

#[test]
fn every_truncation_is_an_error() {
    for g in goldens() {
        let full = File::parse(&g).unwrap();
        let content_end = full
            .tensors()
            .map(|t| full.data_offset() + t.offset as usize + t.data.len())
            .max();
        let mut first_ok = None;
        for n in 0..g.len() {
            match File::parse(&g[..n]) {
                Err(Error::Truncated { offset, needed }) => {
                    assert!(first_ok.is_none(), "Ok at {first_ok:?} but Err at {n}");
                    assert!(offset + needed > n, "{n}: {offset}+{needed}")
                }
                // e.g. a count bounded by the bytes left
                Err(Error::Malformed { .. }) => assert!(first_ok.is_none()),
                Err(e) => panic!("truncated at {n}: {e:?}"),
                // Only the padding after the last tensor may go: the content is unchanged.
                Ok(f) => {
                    first_ok.get_or_insert(n);
                    assert!(f.metadata().eq(full.metadata()));
                    assert!(f.tensors().eq(full.tensors()));
                }
            }
        }
        if let (Some(end), Some(ok)) = (content_end, first_ok) {
            assert_eq!(
                ok, end,
                "the first Ok truncation keeps exactly the tensor data"
            );
        }
    }
}

/// Runs every lookup and iteration on a parsed file and checks the check-once invariants.
fn exercise(f: &File<'_>) {
    let bytes = f.bytes();
    assert_eq!(f.metadata().count(), f.metadata_count());
    assert_eq!(f.tensors().count(), f.tensor_count());
    assert_eq!(f.data_offset() % f.alignment() as usize, 0);
    assert!(f.alignment().is_power_of_two());
    for (k, v) in f.metadata() {
        // (Debug, not ==: a mutated f32 may be NaN)
        assert_eq!(format!("{:?}", f.get(k)), format!("{:?}", Some(v)));
        walk(&v, 0);
        let _ = (v.as_u32(), v.as_f32(), v.as_f64(), v.as_bool(), v.as_str());
    }
    let _ = (f.architecture(), f.get_arch("block_count"));
    let names: Vec<&str> = f.tensors().map(|t| t.name).collect();
    for (i, t) in f.tensors().enumerate() {
        assert!(!names[..i].contains(&t.name), "duplicate {}", t.name);
        assert_eq!(f.tensor(t.name), Some(t));
        assert_eq!(t.offset % u64::from(f.alignment()), 0);
        let start = f.data_offset() + t.offset as usize;
        assert!(std::ptr::eq(t.data, &bytes[start..start + t.data.len()]));
        let size = t.ggml_type.bytes_for(t.n_elements()).unwrap();
        assert_eq!(t.data.len() as u64, size);
        assert!(t.n_dims <= 4 && t.n_elements() <= i64::MAX as u64);
        // (a tensor with a zero dimension may have a huge `cols` and no bytes)
        if let Ok(m) = t.matrix().and_then(|m| m.slice_rows(0, m.rows().min(4))) {
            let mut row = vec![0f32; if m.rows() > 0 { m.cols() } else { 0 }];
            for r in 0..m.rows() {
                m.dequant_row(r, &mut row).unwrap();
            }
        }
        let _ = f.tensor_blk(0, "attn_norm.weight");
    }
}

fn walk(v: &Value<'_>, depth: u32) {
    assert!(depth <= MAX_ARRAY_DEPTH);
    if let Value::Array(a) = v {
        assert_eq!(a.iter().count(), a.len());
        let _ = (
            a.iter_u32().map(|i| i.count()),
            a.iter_i64().map(|i| i.count()),
        );
        if let Some(it) = a.iter_f32() {
            assert_eq!(it.count(), a.len());
        }
        if let Some(it) = a.iter_str() {
            assert_eq!(it.count(), a.len());
        }
        if let Some(it) = a.iter_bool() {
            assert_eq!(it.count(), a.len());
        }
        let _ = a.get(a.len().saturating_sub(1));
        for e in a.iter() {
            walk(&e, depth + 1);
        }
    }
}

#[test]
fn goldens_pass_the_invariants() {
    for g in goldens() {
        exercise(&File::parse(&g).unwrap());
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        bit: u8,
    },
    Set {
        at: usize,
        byte: u8,
    },
    /// Overwrite 8 bytes with a little-endian u64 (hits counts, lengths, dims, offsets).
    SetU64 {
        at: usize,
        value: u64,
    },
    Truncate {
        at: usize,
    },
    Insert {
        at: usize,
        byte: u8,
    },
    Remove {
        at: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let small = prop_oneof![
        Just(0u64),
        Just(1),
        Just(2),
        Just(3),
        0u64..64,
        Just(u64::MAX),
        Just(1 << 63),
        Just(1 << 32),
        any::<u64>()
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (any::<usize>(), small).prop_map(|(at, value)| Mutation::SetU64 { at, value }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len().max(1);
    match *m {
        Mutation::Flip { at, bit } => {
            if let Some(b) = bytes.get_mut(at % n) {
                *b ^= 1 << bit
            }
        }
        Mutation::Set { at, byte } => {
            if let Some(b) = bytes.get_mut(at % n) {
                *b = byte
            }
        }
        Mutation::SetU64 { at, value } => {
            let at = at % n;
            for (i, b) in value.to_le_bytes().iter().enumerate() {
                if let Some(x) = bytes.get_mut(at + i) {
                    *x = *b
                }
            }
        }
        Mutation::Truncate { at } => bytes.truncate(at % n),
        Mutation::Insert { at, byte } => bytes.insert(at % n, byte),
        Mutation::Remove { at } => {
            if !bytes.is_empty() {
                bytes.remove(at % n);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_goldens_never_panic(
        which in 0usize..4,
        ms in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = goldens().swap_remove(which);
        for m in &ms {
            apply(&mut bytes, m);
        }
        if let Ok(f) = File::parse(&bytes) {
            exercise(&f);
        }
    }

    #[test]
    fn random_bodies_after_a_valid_header_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        nt in 0u64..4,
        nk in 0u64..6,
    ) {
        let mut bytes = b"GGUF".to_vec();
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(&nt.to_le_bytes());
        bytes.extend_from_slice(&nk.to_le_bytes());
        bytes.extend_from_slice(&body);
        if let Ok(f) = File::parse(&bytes) {
            exercise(&f);
        }
    }
}
