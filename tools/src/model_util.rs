//! Shared by `pico inspect` and `pico run`: opening a GGUF model and describing its plan.

use anyhow::{Context, Result};
use picoformer::elm::{Config, Model};
use picoformer::plan::Plan;
use std::path::Path;

/// A model file in memory: a read-only file mapping, or a private copy in anonymous memory
/// advised for transparent huge pages ([`Mapped::open_huge`]).
pub struct Mapped {
    map: Map,
}

enum Map {
    File(memmap2::Mmap),
    /// The map (at least one byte: empty maps are an error) and the file's length.
    Anon(memmap2::MmapMut, usize),
}

impl Mapped {
    /// Maps `path` read-only.
    pub fn open(path: &Path) -> Result<Mapped> {
        let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        // SAFETY: read-only map of a model file that this process does not modify; the crate
        // validates every byte it reads (a concurrent writer could only yield garbage values).
        let map = unsafe { memmap2::Mmap::map(&f) }
            .with_context(|| format!("mapping {}", path.display()))?;
        Ok(Mapped {
            map: Map::File(map),
        })
    }

    /// Reads `path` into anonymous memory advised `MADV_HUGEPAGE` (Linux; elsewhere the advice
    /// is skipped). Decoding streams every weight once per token, and with 4 KiB pages the
    /// page walks of the TLB misses cost a large share of that stream: 2 MiB pages made decode
    /// 1.1–1.7x faster on the 15M–110M benchmark models (BENCHMARKS.md §7). Costs a copy of the
    /// file in RAM (the page cache may hold another) and the read time at start-up.
    pub fn open_huge(path: &Path) -> Result<Mapped> {
        use std::io::Read;
        let mut f =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let len = usize::try_from(f.metadata()?.len()).context("model larger than memory")?;
        let mut map = memmap2::MmapMut::map_anon(len.max(1))
            .with_context(|| format!("allocating {len} bytes"))?;
        #[cfg(target_os = "linux")]
        map.advise(memmap2::Advice::HugePage)
            .context("madvise(MADV_HUGEPAGE)")?;
        // straight into the advised memory: no second copy of the file on the heap
        f.read_exact(&mut map[..len])
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(Mapped {
            map: Map::Anon(map, len),
        })
    }

    /// The file bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.map {
            Map::File(m) => m,
            Map::Anon(m, len) => m.get(..*len).unwrap_or(&[]),
        }
    }
}

/// Loads the transformer of a parsed file, naming the architecture when it is not one.
pub fn load_model<'w>(file: picoformer::gguf::File<'w>, path: &Path) -> Result<Model<'w>> {
    match file.architecture() {
        Some("openelm") | Some("llama") | None => {}
        Some(other) => anyhow::bail!(
            "{}: general.architecture is `{other}`; pico inspect/run handle `openelm` and `llama`",
            path.display()
        ),
    }
    Model::new(file).with_context(|| format!("loading {}", path.display()))
}

/// The stable `--json` shape of `pico inspect`, keys in this order:
/// `{"layers":[{"q_heads":..,"kv_heads":..,"ffn_dim":..},...],"params":N}`.
pub fn layers_json(cfg: &Config) -> String {
    let layers: Vec<String> = cfg
        .layers()
        .iter()
        .map(|l| {
            format!(
                r#"{{"q_heads":{},"kv_heads":{},"ffn_dim":{}}}"#,
                l.q_heads, l.kv_heads, l.ffn_dim
            )
        })
        .collect();
    format!(
        r#"{{"layers":[{}],"params":{}}}"#,
        layers.join(","),
        cfg.param_count()
    )
}

/// Human-readable bytes.
pub fn human_bytes(n: usize) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", n / (1024.0 * 1024.0 * 1024.0))
    } else if n >= 1024.0 * 1024.0 {
        format!("{:.2} MiB", n / (1024.0 * 1024.0))
    } else if n >= 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// One line per plan component.
pub fn describe_plan(plan: &Plan) -> String {
    let s = &plan.scratch;
    format!(
        "memory plan at ctx {ctx} (KV capacity {cap}, {st:?} rows):\n  scratch {sf} f32 = {sb} \
         (x/xb/xb2 {d}, qkv {qkv}, att {att}, ffn 2x{hb}, scores {sc}, norm {nw}, logits {lg}, moe {moe})\n  \
         KV cache {kw} words = {kb}",
        ctx = plan.ctx_len,
        cap = plan.kv.capacity,
        st = plan.kv.storage,
        sf = plan.scratch_floats(),
        sb = human_bytes(plan.scratch_bytes()),
        d = s.x,
        qkv = s.qkv,
        att = s.att,
        hb = s.hb,
        sc = s.scores,
        nw = s.normw,
        lg = s.logits,
        moe = s.moe,
        kw = plan.kv_words(),
        kb = human_bytes(plan.kv_bytes()),
    )
}
