//! A metadata-only GGUF v3 file (no tensors) carrying an optimised schedule:
//! `general.architecture = "ays_schedule"`, `ays.sigmas` (f32 array, descending, last 0),
//! `ays.steps` (u32), `ays.klub` (f32), `ays.source` (string).

use std::io::Write;

enum Val<'a> {
    U32(u32),
    F32(f32),
    Str(&'a str),
    F32s(&'a [f32]),
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put(out: &mut Vec<u8>, key: &str, v: Val<'_>) {
    put_str(out, key);
    match v {
        Val::U32(x) => {
            out.extend_from_slice(&4u32.to_le_bytes());
            out.extend_from_slice(&x.to_le_bytes());
        }
        Val::F32(x) => {
            out.extend_from_slice(&6u32.to_le_bytes());
            out.extend_from_slice(&x.to_le_bytes());
        }
        Val::Str(s) => {
            out.extend_from_slice(&8u32.to_le_bytes());
            put_str(out, s);
        }
        Val::F32s(xs) => {
            out.extend_from_slice(&9u32.to_le_bytes());
            out.extend_from_slice(&6u32.to_le_bytes());
            out.extend_from_slice(&(xs.len() as u64).to_le_bytes());
            for x in xs {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
}

/// The file's bytes.
pub fn schedule_gguf(sigmas: &[f32], klub: f64, source: &str) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"GGUF");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&5u64.to_le_bytes());
    put(&mut out, "general.architecture", Val::Str("ays_schedule"));
    put(&mut out, "ays.sigmas", Val::F32s(sigmas));
    put(
        &mut out,
        "ays.steps",
        Val::U32(sigmas.len().saturating_sub(1) as u32),
    );
    put(&mut out, "ays.klub", Val::F32(klub as f32));
    put(&mut out, "ays.source", Val::Str(source));
    // Pad to the default alignment (the empty tensor-data section starts there).
    while out.len() % 32 != 0 {
        out.push(0);
    }
    out
}

/// Writes [`schedule_gguf`] to `path`.
pub fn write(
    path: &std::path::Path,
    sigmas: &[f32],
    klub: f64,
    source: &str,
) -> anyhow::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(&schedule_gguf(sigmas, klub, source))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_with_the_crate_reader() {
        let bytes = super::schedule_gguf(&[80.0, 1.0, 0.0], 0.5, "test");
        let f = picoformer::gguf::File::parse(&bytes).unwrap();
        assert_eq!(f.architecture(), Some("ays_schedule"));
        assert_eq!(f.get_u32("ays.steps"), Some(2));
        let v: Vec<f32> = f
            .get_array("ays.sigmas")
            .unwrap()
            .iter_f32()
            .unwrap()
            .collect();
        assert_eq!(v, [80.0, 1.0, 0.0]);
    }
}
