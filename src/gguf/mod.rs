//! Zero-copy GGUF v3 reader: no heap, no copies, every malformed file an [`Error`](crate::Error).
//!
//! # The format
//! GGUF (llama.cpp's `docs/gguf.md`) is a little-endian container of typed metadata and
//! tensors:
//!
//! ```text
//! offset 0   magic "GGUF"            [u8; 4]
//!        4   version                 u32          3 (2 has the same layout and is accepted)
//!        8   tensor_count            u64
//!       16   metadata_kv_count       u64
//!       24   metadata_kv_count × { key: string, value_type: u32, value }
//!            tensor_count × { name: string, n_dims: u32, dims: [u64; n_dims],
//!                             ggml_type: u32, offset: u64 }
//!            padding to a multiple of ALIGNMENT (`general.alignment`, u32, default 32)
//!            tensor data: each tensor at data_start + offset, offset % ALIGNMENT == 0
//!
//! string = len: u64, then len bytes of UTF-8 (no terminator)
//! value  = u8 | i8 | u16 | i16 | u32 | i32 | f32 | bool | string
//!          | array { elem_type: u32, count: u64, count × value } | u64 | i64 | f64
//! ```
//!
//! `dims` are innermost first: a row-major `[rows, cols]` matrix has `dims = [cols, rows]`.
//! A tensor's size is `n_elements / block_size(type) · type_size(type)` bytes
//! ([`GgmlType`]).
//!
//! # Check once, then trust
//! As in smoltcp's wire views, [`File::parse`] validates everything up front (see its docs
//! for the list); the returned [`File`] then hands out borrowed views — [`Value`],
//! [`ArrayView`], [`TensorInfo`] with `data: &'a [u8]` — by re-walking the validated tables.
//! Lookups allocate nothing and cannot fail other than with `None`. The file is never copied:
//! weights stay where the bytes are (flash, an mmap).
//!
//! Differences from llama.cpp's loader: nested arrays are accepted (up to
//! [`MAX_ARRAY_DEPTH`]), bool bytes other than 0/1 are rejected, tensor names are not limited
//! to 63 bytes, and tensors need only be aligned, in bounds and uniquely named (llama.cpp also
//! requires them to be packed in file order).
//!
//! # Example
//! ```
//! use picoformer::gguf::{File, GgmlType, Value};
//!
//! // A tiny file: one u32 key and one 2-element F32 tensor, built by hand.
//! let mut b = [0u8; 104];
//! let mut at = 0;
//! let mut put = |bytes: &[u8]| {
//!     b[at..at + bytes.len()].copy_from_slice(bytes);
//!     at += bytes.len();
//! };
//! put(b"GGUF");
//! put(&3u32.to_le_bytes()); // version
//! put(&1u64.to_le_bytes()); // tensor count
//! put(&1u64.to_le_bytes()); // metadata count
//! put(&8u64.to_le_bytes());
//! put(b"demo.dim");
//! put(&4u32.to_le_bytes()); // u32
//! put(&7u32.to_le_bytes());
//! put(&1u64.to_le_bytes());
//! put(b"w");
//! put(&1u32.to_le_bytes()); // n_dims
//! put(&2u64.to_le_bytes()); // dims[0]
//! put(&0u32.to_le_bytes()); // F32
//! put(&0u64.to_le_bytes()); // offset
//! put(&[0; 15]); // pad 81 bytes up to the default alignment, 32: data starts at 96
//! put(&1.5f32.to_le_bytes());
//! put(&(-2.0f32).to_le_bytes());
//!
//! let file = File::parse(&b)?;
//! assert_eq!(file.get("demo.dim"), Some(Value::U32(7)));
//! assert_eq!(file.get_u32("demo.dim"), Some(7));
//! let w = file.tensor("w").unwrap();
//! assert_eq!((w.ggml_type, w.n_elements(), w.data.len()), (GgmlType::F32, 2, 8));
//! let m = w.matrix()?; // 1 row × 2 cols
//! assert_eq!(m.dot_row(0, &[2.0, 1.0])?, 1.0);
//!
//! // Every malformed input is an error, never a panic: e.g. any truncation.
//! assert!(File::parse(&b[..100]).is_err());
//! # Ok::<(), picoformer::Error>(())
//! ```

mod array;
mod cursor;
mod file;
mod ggml_type;
mod header;
mod metadata;
pub(crate) mod tensor;
mod unique;
mod value;

pub use array::{ArrayIter, ArrayView, Bools, F32s, Ints, Strs};
pub use file::File;
pub use ggml_type::GgmlType;
pub use header::{HEADER_LEN, MAGIC};
pub use metadata::{MetadataIter, ALIGNMENT_KEY, DEFAULT_ALIGNMENT};
pub use tensor::{TensorInfo, TensorIter, MAX_DIMS};
pub use value::{Value, ValueType, MAX_ARRAY_DEPTH};
