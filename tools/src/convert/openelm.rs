//! Apple's Hugging Face OpenELM checkpoint (`config.json` + `*.safetensors`) → GGUF
//! architecture `openelm`, as llama.cpp's `convert_hf_to_gguf.py` (`OpenELMModel`) writes it
//! (spec `openelm.md` §6, `docs/GGUF.md`).
//!
//! Metadata: `openelm.block_count`, `context_length` (`max_context_length`),
//! `embedding_length` (`model_dim`), per-layer `i32` arrays `feed_forward_length` (`I_i`),
//! `attention.head_count` (`num_query_heads`), `attention.head_count_kv` (`num_kv_heads`),
//! `rope.freq_base` (`rope_freq_constant`), `attention.layer_norm_rms_epsilon` = 1e-6,
//! `rope.dimension_count` = `attention.key_length` = `attention.value_length` = `head_dim`.
//!
//! Tensors (PyTorch `[out, in]` → GGUF dims `[in, out]`): `transformer.token_embeddings` →
//! `token_embd`, `transformer.norm` → `output_norm`, per layer `attn_norm`, `attn.qkv_proj` →
//! `attn_qkv` (fused Q|K|V, unchanged), `attn.q_norm`/`k_norm` → `attn_q_norm`/`attn_k_norm`,
//! `attn.out_proj` → `attn_output`, `ffn_norm`, `ffn.proj_1` rows `[0, I)` → `ffn_gate` and
//! rows `[I, 2I)` → `ffn_up`, `ffn.proj_2` → `ffn_down`. No `output` tensor (tied), unless
//! the checkpoint has an `lm_head.weight`.
//!
//! `I_i` is taken from `proj_1`'s shape (`rows / 2`) and cross-checked against llama.cpp's
//! `make_divisible(ffn_multipliers[i] · model_dim, ffn_dim_divisor)`; every other shape is
//! checked against `config.json` before anything is written.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

use super::{add_f32_tensor, OutType, SpmVocab};
use crate::gguf_writer::GgufWriter;

/// The `config.json` fields the conversion uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `model_dim`.
    pub d: usize,
    /// `head_dim`.
    pub head_dim: usize,
    /// `num_query_heads` per layer.
    pub q_heads: Vec<usize>,
    /// `num_kv_heads` per layer.
    pub kv_heads: Vec<usize>,
    /// `ffn_multipliers` per layer.
    pub ffn_multipliers: Vec<f64>,
    /// `ffn_dim_divisor`.
    pub ffn_dim_divisor: usize,
    /// `rope_freq_constant`.
    pub rope_theta: f64,
    /// `max_context_length`.
    pub context: usize,
}

impl Config {
    /// Reads the fields from a parsed `config.json`.
    pub fn from_json(j: &Value) -> Result<Config> {
        let int = |k: &str| -> Result<usize> {
            j.get(k)
                .and_then(Value::as_u64)
                .map(|v| v as usize)
                .with_context(|| format!("config.json: `{k}` missing or not an integer"))
        };
        let list = |k: &str| -> Result<Vec<usize>> {
            j.get(k)
                .and_then(Value::as_array)
                .and_then(|a| a.iter().map(|v| v.as_u64().map(|x| x as usize)).collect())
                .with_context(|| format!("config.json: `{k}` missing or not a list of integers"))
        };
        let c = Config {
            d: int("model_dim")?,
            head_dim: int("head_dim")?,
            q_heads: list("num_query_heads")?,
            kv_heads: list("num_kv_heads")?,
            ffn_multipliers: j
                .get("ffn_multipliers")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().map(Value::as_f64).collect())
                .context("config.json: `ffn_multipliers` missing or not a list of numbers")?,
            ffn_dim_divisor: int("ffn_dim_divisor")?,
            rope_theta: j
                .get("rope_freq_constant")
                .and_then(Value::as_f64)
                .unwrap_or(10000.0),
            context: int("max_context_length")?,
        };
        let l = int("num_transformer_layers")?;
        for (k, n) in [
            ("num_query_heads", c.q_heads.len()),
            ("num_kv_heads", c.kv_heads.len()),
            ("ffn_multipliers", c.ffn_multipliers.len()),
        ] {
            ensure!(
                n == l,
                "config.json: `{k}` has {n} entries, num_transformer_layers is {l}"
            );
        }
        for (i, (&q, &kv)) in c.q_heads.iter().zip(&c.kv_heads).enumerate() {
            ensure!(
                kv > 0 && q % kv == 0,
                "config.json: layer {i}: {kv} KV heads do not divide {q} query heads"
            );
        }
        ensure!(
            c.d > 0 && c.head_dim > 0 && c.ffn_dim_divisor > 0,
            "config.json: zero dimension"
        );
        Ok(c)
    }

    /// Layers.
    pub fn n_layers(&self) -> usize {
        self.q_heads.len()
    }

    /// llama.cpp's (= Apple's) `make_divisible(ffn_multipliers[i] · d, divisor)`.
    pub fn ffn_dim(&self, i: usize) -> usize {
        let v = self.ffn_multipliers[i] * self.d as f64;
        let div = self.ffn_dim_divisor as f64;
        let mut new_v =
            div.max(((v + div / 2.0) as i64 / self.ffn_dim_divisor as i64) as f64 * div);
        if new_v < 0.9 * v {
            new_v += div;
        }
        new_v as usize
    }
}

/// The checkpoint's tensors across all `*.safetensors` files of the directory.
pub struct Tensors<'a> {
    files: Vec<SafeTensors<'a>>,
    index: HashMap<String, usize>,
}

impl<'a> Tensors<'a> {
    /// Indexes already-mapped safetensors files.
    pub fn new(maps: &'a [memmap2::Mmap]) -> Result<Tensors<'a>> {
        let mut files = Vec::new();
        let mut index = HashMap::new();
        for (i, m) in maps.iter().enumerate() {
            let st = SafeTensors::deserialize(m).context("parsing safetensors")?;
            for name in st.names() {
                ensure!(
                    index.insert(name.clone(), i).is_none(),
                    "tensor {name} in two files"
                );
            }
            files.push(st);
        }
        Ok(Tensors { files, index })
    }

    /// Shape of tensor `name`.
    pub fn shape(&self, name: &str) -> Result<Vec<usize>> {
        let f = self
            .index
            .get(name)
            .with_context(|| format!("tensor {name} missing"))?;
        Ok(self.files[*f].tensor(name)?.shape().to_vec())
    }

    /// Whether tensor `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Rows `[r0, r1)` of tensor `name` (rows = first PyTorch dim) as f32.
    pub fn rows_f32(&self, name: &str, r0: usize, r1: usize) -> Result<Vec<f32>> {
        let f = self
            .index
            .get(name)
            .with_context(|| format!("tensor {name} missing"))?;
        let t = self.files[*f].tensor(name)?;
        let rows = t.shape().first().copied().unwrap_or(1);
        let row_len: usize = t.shape().iter().skip(1).product();
        ensure!(r0 <= r1 && r1 <= rows, "{name}: rows {r0}..{r1} of {rows}");
        let (esz, conv): (usize, fn(&[u8]) -> f32) = match t.dtype() {
            Dtype::F32 => (4, |c| f32::from_le_bytes(c.try_into().unwrap())),
            Dtype::F16 => (2, |c| {
                half::f16::from_le_bytes(c.try_into().unwrap()).to_f32()
            }),
            Dtype::BF16 => (2, |c| {
                half::bf16::from_le_bytes(c.try_into().unwrap()).to_f32()
            }),
            other => bail!("{name}: dtype {other:?} not supported (F32, F16, BF16)"),
        };
        let data = t.data();
        let s = data
            .get(r0 * row_len * esz..r1 * row_len * esz)
            .with_context(|| format!("{name}: data shorter than its shape"))?;
        Ok(s.chunks_exact(esz).map(conv).collect())
    }
}

/// Builds the GGUF. `vocab` is padded to the embedding's rows.
pub fn build<'a>(
    cfg: &Config,
    t: &'a Tensors<'a>,
    vocab: Option<&mut SpmVocab>,
    out: OutType,
) -> Result<GgufWriter<'a>> {
    let (d, hd, l) = (cfg.d, cfg.head_dim, cfg.n_layers());
    let emb = "transformer.token_embeddings.weight";
    let es = t.shape(emb)?;
    ensure!(
        es.len() == 2 && es[1] == d,
        "{emb}: shape {es:?}, expected [V, {d}]"
    );
    let nv = es[0];
    let expect = |name: &str, want: &[usize]| -> Result<()> {
        let s = t.shape(name)?;
        ensure!(
            s == want,
            "{name}: shape {s:?}, config.json implies {want:?}"
        );
        Ok(())
    };
    expect("transformer.norm.weight", &[d])?;
    let mut ffn = Vec::with_capacity(l);
    for i in 0..l {
        let (q, kv) = (cfg.q_heads[i], cfg.kv_heads[i]);
        let p = |s: &str| format!("transformer.layers.{i}.{s}");
        let p1 = t.shape(&p("ffn.proj_1.weight"))?;
        ensure!(
            p1.len() == 2 && p1[0] % 2 == 0 && p1[1] == d,
            "{}: shape {p1:?}, expected [2I, {d}]",
            p("ffn.proj_1.weight")
        );
        let ii = p1[0] / 2;
        ensure!(
            ii == cfg.ffn_dim(i),
            "layer {i}: proj_1 gives I = {ii}, make_divisible(ffn_multipliers[{i}] * model_dim) = {}",
            cfg.ffn_dim(i)
        );
        expect(&p("attn_norm.weight"), &[d])?;
        expect(&p("attn.qkv_proj.weight"), &[(q + 2 * kv) * hd, d])?;
        expect(&p("attn.q_norm.weight"), &[hd])?;
        expect(&p("attn.k_norm.weight"), &[hd])?;
        expect(&p("attn.out_proj.weight"), &[d, q * hd])?;
        expect(&p("ffn_norm.weight"), &[d])?;
        expect(&p("ffn.proj_2.weight"), &[d, ii])?;
        ffn.push(ii);
    }

    let mut w = GgufWriter::new();
    let i32s = |v: &[usize]| v.iter().map(|&x| x as i32).collect::<Vec<_>>();
    w.add_str("general.architecture", "openelm");
    w.add_str("general.name", "OpenELM");
    w.add_u32("general.file_type", out.file_type());
    w.add_u32("openelm.block_count", l as u32);
    w.add_u32("openelm.context_length", cfg.context as u32);
    w.add_u32("openelm.embedding_length", d as u32);
    w.add_i32_array("openelm.feed_forward_length", &i32s(&ffn));
    w.add_i32_array("openelm.attention.head_count", &i32s(&cfg.q_heads));
    w.add_i32_array("openelm.attention.head_count_kv", &i32s(&cfg.kv_heads));
    w.add_f32("openelm.rope.freq_base", cfg.rope_theta as f32);
    w.add_f32("openelm.attention.layer_norm_rms_epsilon", 1e-6);
    w.add_u32("openelm.rope.dimension_count", hd as u32);
    w.add_u32("openelm.attention.key_length", hd as u32);
    w.add_u32("openelm.attention.value_length", hd as u32);
    if let Some(v) = vocab {
        ensure!(
            v.tokens.len() <= nv,
            "tokenizer has {} pieces, the embedding only {nv} rows",
            v.tokens.len()
        );
        v.pad_to(nv);
        v.write(&mut w);
    }

    let u = |x: usize| x as u64;
    let mut put = |gguf: String, src: String, dims: Vec<u64>, rows: Option<(usize, usize)>| {
        add_f32_tensor(&mut w, &gguf, &dims, out, move || {
            let (r0, r1) = match rows {
                Some(r) => r,
                None => (0, t.shape(&src)?.first().copied().unwrap_or(1)),
            };
            t.rows_f32(&src, r0, r1)
        });
    };
    put(
        "token_embd.weight".into(),
        emb.into(),
        vec![u(d), u(nv)],
        None,
    );
    for (i, &ii) in ffn.iter().enumerate() {
        let (q, kv) = (cfg.q_heads[i], cfg.kv_heads[i]);
        let p = |s: &str| format!("transformer.layers.{i}.{s}");
        let b = |s: &str| format!("blk.{i}.{s}.weight");
        put(b("attn_norm"), p("attn_norm.weight"), vec![u(d)], None);
        put(
            b("attn_qkv"),
            p("attn.qkv_proj.weight"),
            vec![u(d), u((q + 2 * kv) * hd)],
            None,
        );
        put(b("attn_q_norm"), p("attn.q_norm.weight"), vec![u(hd)], None);
        put(b("attn_k_norm"), p("attn.k_norm.weight"), vec![u(hd)], None);
        put(
            b("attn_output"),
            p("attn.out_proj.weight"),
            vec![u(q * hd), u(d)],
            None,
        );
        put(b("ffn_norm"), p("ffn_norm.weight"), vec![u(d)], None);
        put(
            b("ffn_gate"),
            p("ffn.proj_1.weight"),
            vec![u(d), u(ii)],
            Some((0, ii)),
        );
        put(
            b("ffn_up"),
            p("ffn.proj_1.weight"),
            vec![u(d), u(ii)],
            Some((ii, 2 * ii)),
        );
        put(
            b("ffn_down"),
            p("ffn.proj_2.weight"),
            vec![u(ii), u(d)],
            None,
        );
    }
    put(
        "output_norm.weight".into(),
        "transformer.norm.weight".into(),
        vec![u(d)],
        None,
    );
    if t.has("lm_head.weight") {
        expect("lm_head.weight", &[nv, d])?;
        put(
            "output.weight".into(),
            "lm_head.weight".into(),
            vec![u(d), u(nv)],
            None,
        );
    }
    Ok(w)
}

/// `pico convert openelm`: converts the HF directory `dir` to `output`.
pub fn run(dir: &Path, tokenizer: Option<&Path>, out: OutType, output: &Path) -> Result<()> {
    let cfg_path = dir.join("config.json");
    let j: Value = serde_json::from_slice(
        &std::fs::read(&cfg_path).with_context(|| format!("reading {}", cfg_path.display()))?,
    )
    .with_context(|| format!("parsing {}", cfg_path.display()))?;
    let cfg = Config::from_json(&j)?;
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    paths.sort();
    ensure!(
        !paths.is_empty(),
        "no *.safetensors file in {}",
        dir.display()
    );
    let maps = paths
        .iter()
        .map(|p| {
            let f = std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
            // SAFETY: read-only map of a file the converter does not modify.
            Ok(unsafe { memmap2::Mmap::map(&f) }?)
        })
        .collect::<Result<Vec<_>>>()?;
    let t = Tensors::new(&maps)?;
    let tok_path = tokenizer.map(Path::to_path_buf).or_else(|| {
        let p = dir.join("tokenizer.model");
        p.exists().then_some(p)
    });
    let mut vocab = match &tok_path {
        Some(p) => Some(super::spm_model::parse(
            &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        )?),
        None => {
            eprintln!(
                "note: no --tokenizer (and no tokenizer.model in the directory): the GGUF has no \
                 vocabulary; OpenELM uses the LLaMA-2 SentencePiece tokenizer.model"
            );
            None
        }
    };
    let w = build(&cfg, &t, vocab.as_mut(), out)?;
    let n = w.write_to_path(output)?;
    eprintln!(
        "wrote {} ({n} bytes): openelm, {} layers, d {}, hd {}, q {:?}, kv {:?}",
        output.display(),
        cfg.n_layers(),
        cfg.d,
        cfg.head_dim,
        cfg.q_heads,
        cfg.kv_heads
    );
    Ok(())
}
