//! `pico snapkv`: run the crate's SnapKV selection (`picoformer::kv::select`, spec
//! `snapkv.md` §3) on a JSON case and print the kept positions, votes and pooled scores.
//!
//! Input (`--input case.json`, `-` for stdin), keys already RoPE-rotated:
//! `{"q":[H][L][D], "k":[Hkv][L][D], "window":w, "capacity":C, "kernel":ks,
//!   "pool":"avg"|"max", "gqa":"repeat"|"group"}` — only the last `w` rows of `q` are used.
//!
//! Output (stdout, one JSON object): `{"kept":[[sorted kept prefix positions] per selecting
//! head], "votes":[[L−w] per head], "pooled":[[L−w] per head], "compressed":bool,
//! "retained_mass":[per head]}` (`retained_mass`: mean window-query attention mass on the rows
//! kept, prefix and window, see `picoformer::kv::retained_mass`). Selecting
//! heads are the H query heads under `repeat` (the reference) and the Hkv KV heads under
//! `group` (deviation: votes summed over each group). The window positions `L−w..L` are always
//! kept on top of `kept`; `L < C` keeps everything (`compressed: false`).

use anyhow::{bail, Context};
use picoformer::kv::{self, Buffers, Gqa, Pool, Shape, SnapKv};
use serde::{Deserialize, Serialize};

/// Arguments of `pico snapkv`.
#[derive(clap::Args)]
pub struct Args {
    /// JSON case file (`-` reads stdin).
    #[arg(long)]
    input: String,
}

/// One `pico snapkv` input case.
#[derive(Deserialize)]
pub struct Case {
    q: Vec<Vec<Vec<f32>>>,
    k: Vec<Vec<Vec<f32>>>,
    window: usize,
    capacity: usize,
    kernel: usize,
    pool: String,
    gqa: String,
}

/// `pico snapkv` output.
#[derive(Serialize, Debug)]
pub struct Output {
    kept: Vec<Vec<u32>>,
    votes: Vec<Vec<f32>>,
    pooled: Vec<Vec<f32>>,
    compressed: bool,
    retained_mass: Vec<f32>,
}

/// Flattens `[a][b][c]` after checking it is rectangular; returns `(a, b, c, flat)`.
fn flatten(x: &[Vec<Vec<f32>>], what: &str) -> anyhow::Result<(usize, usize, usize, Vec<f32>)> {
    let a = x.len();
    let b = x.first().map_or(0, Vec::len);
    let c = x.first().and_then(|r| r.first()).map_or(0, Vec::len);
    let mut flat = Vec::with_capacity(a * b * c);
    for row in x {
        if row.len() != b {
            bail!("`{what}` is not rectangular: rows of {} and {b}", row.len());
        }
        for v in row {
            if v.len() != c {
                bail!(
                    "`{what}` is not rectangular: vectors of {} and {c}",
                    v.len()
                );
            }
            flat.extend_from_slice(v);
        }
    }
    Ok((a, b, c, flat))
}

/// Runs the crate's selection on a case.
pub fn compute(case: &Case) -> anyhow::Result<Output> {
    let pool = match case.pool.as_str() {
        "avg" => Pool::Avg,
        "max" => Pool::Max,
        p => bail!("`pool` must be \"avg\" or \"max\", got {p:?}"),
    };
    let gqa = match case.gqa.as_str() {
        "repeat" => Gqa::Repeat,
        "group" => Gqa::Group,
        g => bail!("`gqa` must be \"repeat\" or \"group\", got {g:?}"),
    };
    let (h, lq, dq, q) = flatten(&case.q, "q")?;
    let (hkv, l, d, k) = flatten(&case.k, "k")?;
    if lq != l || dq != d {
        bail!("`q` is [{h}][{lq}][{dq}] but `k` is [{hkv}][{l}][{d}]: L and D must agree");
    }
    let w = case.window;
    if w > l {
        bail!("window {w} is longer than the prompt ({l})");
    }
    let mut q_window = Vec::with_capacity(h * w * d);
    for head in q.chunks_exact(l * d.max(1)) {
        q_window.extend_from_slice(&head[(l - w) * d..]);
    }
    let snap = SnapKv {
        window: w,
        kernel: case.kernel,
        pool,
        gqa,
    };
    let shape = Shape {
        q_heads: h,
        kv_heads: hkv,
        len: l,
        head_dim: d,
    };
    let heads = shape.selecting_heads(gqa);
    let lp = shape.prefix(w);
    let kn = shape.kept(w, case.capacity);
    let mut logits = vec![0.0; l];
    let mut idx = vec![0; lp];
    let mut votes = vec![0.0; heads * lp];
    let mut pooled = vec![0.0; heads * lp];
    let mut kept = vec![0; heads * kn];
    let sel = kv::select(
        &snap,
        case.capacity,
        shape,
        &q_window,
        &k,
        Buffers {
            logits: &mut logits,
            idx: &mut idx,
            votes: &mut votes,
            pooled: &mut pooled,
            kept: &mut kept,
        },
    )
    .map_err(|e| anyhow::anyhow!("snapkv: {e}"))?;
    let rows = |x: &[f32], n: usize| -> Vec<Vec<f32>> {
        (0..heads).map(|i| x[i * n..(i + 1) * n].to_vec()).collect()
    };
    Ok(Output {
        kept: (0..heads)
            .map(|i| kept[i * kn..(i + 1) * kn].to_vec())
            .collect(),
        votes: rows(&votes, lp),
        pooled: rows(&pooled, lp),
        compressed: sel.compressed,
        retained_mass: (0..heads)
            .map(|i| {
                let n = if gqa == Gqa::Group {
                    w * (h / hkv.max(1))
                } else {
                    w
                };
                kv::retained_mass(&votes[i * lp..(i + 1) * lp], &kept[i * kn..(i + 1) * kn], n)
            })
            .collect(),
    })
}

/// Runs `pico snapkv`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let text = if args.input == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(&args.input).with_context(|| format!("reading {}", args.input))?
    };
    let case: Case = serde_json::from_str(&text).context("parsing the snapkv case JSON")?;
    let out = compute(&case)?;
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/kv/");

    #[derive(Deserialize)]
    struct Expected {
        kept: Vec<Vec<u32>>,
        votes: Vec<Vec<f64>>,
        pooled: Vec<Vec<f64>>,
    }

    /// The golden case (`avg7_gqa_group`: H = 6, Hkv = 2, L = 50, C = 24, w = 8, ks = 7, avg,
    /// group; no tie at the k-th score) against the NumPy float64 reference.
    #[test]
    fn cli_case_matches_numpy_reference() {
        let case: Case =
            serde_json::from_str(&std::fs::read_to_string(format!("{DIR}cli_case.json")).unwrap())
                .unwrap();
        let want: Expected = serde_json::from_str(
            &std::fs::read_to_string(format!("{DIR}cli_expected.json")).unwrap(),
        )
        .unwrap();
        let out = compute(&case).unwrap();
        assert!(out.compressed);
        assert_eq!(out.kept, want.kept);
        for m in &out.retained_mass {
            assert!((0.0..=1.0 + 1e-6).contains(m), "{m}");
        }
        for (got, want) in [(&out.votes, &want.votes), (&out.pooled, &want.pooled)] {
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert_eq!(g.len(), w.len());
                for (a, b) in g.iter().zip(w) {
                    assert!((*a as f64 - b).abs() <= 1e-6, "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn bad_cases_are_errors() {
        let case = |pool: &str, kernel: usize, window: usize| Case {
            q: vec![vec![vec![0.5; 2]; 6]],
            k: vec![vec![vec![0.25; 2]; 6]],
            window,
            capacity: 4,
            kernel,
            pool: pool.into(),
            gqa: "repeat".into(),
        };
        assert!(compute(&case("avg", 3, 2)).is_ok());
        assert!(compute(&case("mean", 3, 2)).is_err());
        assert!(compute(&case("avg", 4, 2)).is_err());
        assert!(compute(&case("avg", 3, 4)).is_err());
        assert!(compute(&case("avg", 3, 7)).is_err());
    }
}
