//! The 2-D toy of issue 6 item 7: an 8-Gaussian ring (std 0.25, radius 2, equal weights; the
//! data `tools/ays/train_denoiser.py` trains the MLP on), its samplers and metrics.

use picoformer::ays::{GaussianRng, MixtureDenoiser, NoiseSource};

/// Mixture components.
pub const K: usize = 8;
/// Ring radius.
pub const RADIUS: f64 = 2.0;
/// Component standard deviation.
pub const STD: f64 = 0.25;

/// The mixture parameters (weights, means row-major, variances).
pub struct Toy {
    /// π_k.
    pub weights: [f64; K],
    /// μ_k (x, y).
    pub means: [f64; 2 * K],
    /// s_k².
    pub variances: [f64; K],
}

impl Toy {
    /// The ring.
    pub fn new() -> Self {
        let mut means = [0.0; 2 * K];
        for (k, m) in means.chunks_exact_mut(2).enumerate() {
            let a = std::f64::consts::TAU * k as f64 / K as f64;
            m[0] = RADIUS * a.cos();
            m[1] = RADIUS * a.sin();
        }
        Self {
            weights: [1.0 / K as f64; K],
            means,
            variances: [STD * STD; K],
        }
    }

    /// The exact denoiser of the mixture.
    pub fn denoiser(&self) -> MixtureDenoiser<'_> {
        MixtureDenoiser::new(2, &self.weights, &self.means, &self.variances)
            .expect("valid toy mixture")
    }

    /// `n` data points (2·n values).
    pub fn sample(&self, n: usize, rng: &mut GaussianRng) -> Vec<f64> {
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let k = (rng.next_u64() % K as u64) as usize;
            for d in 0..2 {
                let z = rng.gaussian().unwrap_or(0.0);
                out.push(self.means[2 * k + d] + STD * z);
            }
        }
        out
    }

    /// Mean negative log-likelihood (nats per point) of `pts` under the data density, with its
    /// standard error.
    pub fn nll(&self, pts: &[f64]) -> (f64, f64) {
        let d = self.denoiser();
        let v: Vec<f64> = pts
            .chunks_exact(2)
            .map(|p| -d.log_density(p, 0.0))
            .collect();
        mean_se(&v)
    }
}

/// Mean and standard error.
pub fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, (var / n).sqrt())
}

/// Sliced Wasserstein-1 distance between two equal-size 2-D point sets over `n_proj` fixed
/// directions (evenly spaced angles in [0, π)): mean over directions of the 1-D W1 of the
/// sorted projections.
pub fn sliced_w1(a: &[f64], b: &[f64], n_proj: usize) -> f64 {
    let n = a.len().min(b.len()) / 2;
    let mut pa = vec![0.0; n];
    let mut pb = vec![0.0; n];
    let mut total = 0.0;
    for j in 0..n_proj {
        let th = std::f64::consts::PI * (j as f64 + 0.5) / n_proj as f64;
        let (c, s) = (th.cos(), th.sin());
        for i in 0..n {
            pa[i] = c * a[2 * i] + s * a[2 * i + 1];
            pb[i] = c * b[2 * i] + s * b[2 * i + 1];
        }
        pa.sort_by(f64::total_cmp);
        pb.sort_by(f64::total_cmp);
        total += pa.iter().zip(&pb).map(|(x, y)| (x - y).abs()).sum::<f64>() / n as f64;
    }
    total / n_proj as f64
}

/// VP time-uniform schedule for a VE σ range (EDM paper's VP: β_d = 19.9, β_min = 0.1,
/// `σ(t) = sqrt(exp(½β_d t² + β_min t) − 1)`): `n` values at uniform t between t(σ_max) and
/// t(σ_min), then 0.
pub fn vp_time_uniform(n: usize, sigma_min: f64, sigma_max: f64) -> Vec<f64> {
    let (bd, bm) = (19.9, 0.1);
    let sigma = |t: f64| ((0.5 * bd * t * t + bm * t).exp() - 1.0).sqrt();
    // Inverse: ½β_d t² + β_min t = ln(1 + σ²).
    let t_of = |s: f64| {
        let c = (1.0 + s * s).ln();
        (-bm + (bm * bm + 2.0 * bd * c).sqrt()) / bd
    };
    let (t0, t1) = (t_of(sigma_max), t_of(sigma_min));
    let mut out: Vec<f64> = (0..n)
        .map(|i| {
            if n == 1 || i == 0 {
                sigma_max
            } else if i + 1 == n {
                sigma_min
            } else {
                sigma(t0 + (t1 - t0) * i as f64 / (n - 1) as f64)
            }
        })
        .collect();
    out.push(0.0);
    out
}
