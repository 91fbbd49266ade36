//! Loader for the `PGV1` golden-vector files written by `make_golden.py` (no_std, no alloc,
//! no unsafe; the bytes need no alignment, so `include_bytes!` data works as is).
//!
//! File: `b"PGV1"`, `u32 op`, `u32 n_arrays`, then `n_arrays` × { `[u8; 4]` name, `u32` type,
//! `u32` count, `count` elements (type 0 = f32, 1 = u8, 2 = u32), zero-padded to 4 bytes }.
//! All little-endian.

/// Element type codes.
pub const F32: u32 = 0;
/// Raw bytes.
pub const U8: u32 = 1;
/// Unsigned 32-bit integers.
pub const U32: u32 = 2;

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let c = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// One parsed case file.
#[derive(Clone, Copy)]
pub struct Case<'a> {
    /// Operation code (`OPS` in `make_golden.py`).
    pub op: u32,
    n: u32,
    body: &'a [u8],
}

/// One named array of a case.
#[derive(Clone, Copy)]
pub struct Array<'a> {
    /// Four-byte name, space padded.
    pub name: [u8; 4],
    /// Element type code.
    pub ty: u32,
    /// Element count.
    pub count: usize,
    /// The raw little-endian elements (`count · size` bytes).
    pub data: &'a [u8],
}

impl<'a> Array<'a> {
    /// The elements as f32 (empty unless `ty == F32`).
    pub fn f32s(&self) -> impl Iterator<Item = f32> + 'a {
        let d = if self.ty == F32 { self.data } else { &[] };
        d.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The elements as u32 (empty unless `ty == U32`).
    pub fn u32s(&self) -> impl Iterator<Item = u32> + 'a {
        let d = if self.ty == U32 { self.data } else { &[] };
        d.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// Copies the f32 elements into `out`; `None` if the type or count differ.
    pub fn read_f32(&self, out: &mut [f32]) -> Option<()> {
        if self.ty != F32 || self.count != out.len() {
            return None;
        }
        for (o, v) in out.iter_mut().zip(self.f32s()) {
            *o = v;
        }
        Some(())
    }
}

impl<'a> Case<'a> {
    /// Parses the file header; `None` if it is not a `PGV1` file.
    pub fn parse(bytes: &'a [u8]) -> Option<Case<'a>> {
        if bytes.get(..4)? != b"PGV1" {
            return None;
        }
        Some(Case {
            op: u32_at(bytes, 4)?,
            n: u32_at(bytes, 8)?,
            body: bytes.get(12..)?,
        })
    }

    /// The arrays in file order (stops early at a malformed entry).
    pub fn arrays(&self) -> impl Iterator<Item = Array<'a>> + 'a {
        let mut rest = self.body;
        (0..self.n).map_while(move |_| {
            let name: [u8; 4] = rest.get(..4)?.try_into().ok()?;
            let ty = u32_at(rest, 4)?;
            let count = u32_at(rest, 8)? as usize;
            let size = match ty {
                U8 => 1,
                F32 | U32 => 4,
                _ => return None,
            };
            let len = count.checked_mul(size)?;
            let data = rest.get(12..12usize.checked_add(len)?)?;
            let padded = 12 + len + (4 - len % 4) % 4;
            rest = rest.get(padded..).unwrap_or(&[]);
            Some(Array {
                name,
                ty,
                count,
                data,
            })
        })
    }

    /// The array called `name` (1–4 ASCII characters).
    pub fn get(&self, name: &str) -> Option<Array<'a>> {
        let mut key = *b"    ";
        for (k, b) in key.iter_mut().zip(name.bytes()) {
            *k = b;
        }
        self.arrays().find(|a| a.name == key)
    }
}
