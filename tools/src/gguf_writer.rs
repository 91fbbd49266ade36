//! A small GGUF v3 writer (std), the counterpart of the crate's zero-copy reader.
//!
//! Layout written (llama.cpp `docs/gguf.md`): magic `GGUF`, version 3, tensor count, metadata
//! count, the metadata key/values in insertion order, the tensor infos (name, dims innermost
//! first, ggml type, offset relative to the data section), padding to `ALIGNMENT` (32), then
//! each tensor's bytes, each padded to a multiple of `ALIGNMENT` — as the `gguf` Python
//! package writes it.
//!
//! Tensor data is produced lazily (one closure per tensor, called while writing), so a
//! converter holds at most one converted tensor in memory.

use std::io::{self, Write};

use anyhow::{bail, Context, Result};

/// Data alignment (GGUF default; `general.alignment` is not written).
pub const ALIGNMENT: u64 = 32;

/// ggml tensor types the tools write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    /// 32-bit float (ggml type 0).
    F32,
    /// IEEE half (ggml type 1).
    F16,
    /// 32-value blocks of an f16 scale and 32 i8 (ggml type 8).
    Q8_0,
}

impl GgmlType {
    /// The ggml type id.
    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q8_0 => 8,
        }
    }

    /// Bytes of `n` values (`n` a multiple of 32 for Q8_0).
    pub fn bytes_for(self, n: u64) -> u64 {
        match self {
            GgmlType::F32 => 4 * n,
            GgmlType::F16 => 2 * n,
            GgmlType::Q8_0 => n / 32 * 34,
        }
    }
}

/// GGUF metadata value type tags.
mod tag {
    pub const U32: u32 = 4;
    pub const I32: u32 = 5;
    pub const F32: u32 = 6;
    pub const BOOL: u32 = 7;
    pub const STRING: u32 = 8;
    pub const ARRAY: u32 = 9;
}

type Producer<'a> = Box<dyn FnOnce() -> Result<Vec<u8>> + 'a>;

struct Tensor<'a> {
    name: String,
    dims: Vec<u64>,
    ty: GgmlType,
    produce: Producer<'a>,
}

/// Collects metadata and tensors, then writes the file in one pass.
#[derive(Default)]
pub struct GgufWriter<'a> {
    kv: Vec<u8>,
    n_kv: u64,
    keys: Vec<String>,
    tensors: Vec<Tensor<'a>>,
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s);
}

impl<'a> GgufWriter<'a> {
    /// An empty file.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&mut self, key: &str, ty: u32) {
        assert!(
            !self.keys.iter().any(|k| k == key),
            "duplicate GGUF key {key}"
        );
        self.keys.push(key.to_owned());
        put_str(&mut self.kv, key.as_bytes());
        self.kv.extend_from_slice(&ty.to_le_bytes());
        self.n_kv += 1;
    }

    /// A `u32` value.
    pub fn add_u32(&mut self, key: &str, v: u32) {
        self.key(key, tag::U32);
        self.kv.extend_from_slice(&v.to_le_bytes());
    }

    /// An `i32` value.
    #[allow(dead_code)]
    pub fn add_i32(&mut self, key: &str, v: i32) {
        self.key(key, tag::I32);
        self.kv.extend_from_slice(&v.to_le_bytes());
    }

    /// An `f32` value.
    pub fn add_f32(&mut self, key: &str, v: f32) {
        self.key(key, tag::F32);
        self.kv.extend_from_slice(&v.to_le_bytes());
    }

    /// A `bool` value.
    pub fn add_bool(&mut self, key: &str, v: bool) {
        self.key(key, tag::BOOL);
        self.kv.push(u8::from(v));
    }

    /// A string value.
    pub fn add_str(&mut self, key: &str, v: &str) {
        self.key(key, tag::STRING);
        put_str(&mut self.kv, v.as_bytes());
    }

    fn array_head(&mut self, key: &str, elem: u32, n: usize) {
        self.key(key, tag::ARRAY);
        self.kv.extend_from_slice(&elem.to_le_bytes());
        self.kv.extend_from_slice(&(n as u64).to_le_bytes());
    }

    /// An array of `i32` (what the `gguf` package writes for a list of Python ints).
    pub fn add_i32_array(&mut self, key: &str, v: &[i32]) {
        self.array_head(key, tag::I32, v.len());
        v.iter()
            .for_each(|x| self.kv.extend_from_slice(&x.to_le_bytes()));
    }

    /// An array of `f32`.
    pub fn add_f32_array(&mut self, key: &str, v: &[f32]) {
        self.array_head(key, tag::F32, v.len());
        v.iter()
            .for_each(|x| self.kv.extend_from_slice(&x.to_le_bytes()));
    }

    /// An array of byte strings (GGUF strings are UTF-8; pieces should be too).
    pub fn add_str_array<S: AsRef<[u8]>>(&mut self, key: &str, v: &[S]) {
        self.array_head(key, tag::STRING, v.len());
        for s in v {
            put_str(&mut self.kv, s.as_ref());
        }
    }

    /// A tensor of shape `dims` (innermost first, GGUF order) whose bytes `produce` returns
    /// when the file is written (checked against the size the shape implies).
    pub fn add_tensor(
        &mut self,
        name: &str,
        dims: &[u64],
        ty: GgmlType,
        produce: impl FnOnce() -> Result<Vec<u8>> + 'a,
    ) {
        assert!(
            !self.tensors.iter().any(|t| t.name == name),
            "duplicate tensor {name}"
        );
        self.tensors.push(Tensor {
            name: name.to_owned(),
            dims: dims.to_vec(),
            ty,
            produce: Box::new(produce),
        });
    }

    /// Writes the whole file to `out`; returns the bytes written.
    pub fn write(self, out: &mut impl Write) -> Result<u64> {
        let mut head = Vec::new();
        head.extend_from_slice(b"GGUF");
        head.extend_from_slice(&3u32.to_le_bytes());
        head.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        head.extend_from_slice(&self.n_kv.to_le_bytes());
        head.extend_from_slice(&self.kv);
        let mut offset = 0u64;
        let mut sizes = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            put_str(&mut head, t.name.as_bytes());
            head.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                head.extend_from_slice(&d.to_le_bytes());
            }
            head.extend_from_slice(&t.ty.id().to_le_bytes());
            head.extend_from_slice(&offset.to_le_bytes());
            let size = t.ty.bytes_for(t.dims.iter().product());
            sizes.push(size);
            offset += size.next_multiple_of(ALIGNMENT);
        }
        let pad = |n: u64| vec![0u8; (n.next_multiple_of(ALIGNMENT) - n) as usize];
        head.extend_from_slice(&pad(head.len() as u64));
        out.write_all(&head)?;
        let mut written = head.len() as u64;
        for (t, size) in self.tensors.into_iter().zip(sizes) {
            let data = (t.produce)().with_context(|| format!("tensor {}", t.name))?;
            if data.len() as u64 != size {
                bail!(
                    "tensor {}: {} bytes produced, shape {:?} as {:?} needs {size}",
                    t.name,
                    data.len(),
                    t.dims,
                    t.ty
                );
            }
            out.write_all(&data)?;
            out.write_all(&pad(size))?;
            written += size.next_multiple_of(ALIGNMENT);
        }
        out.flush()?;
        Ok(written)
    }

    /// Writes the file to `path` (buffered).
    pub fn write_to_path(self, path: &std::path::Path) -> Result<u64> {
        let f =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut w = io::BufWriter::new(f);
        self.write(&mut w)
    }
}
