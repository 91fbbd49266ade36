//! The KL-divergence upper bound (KLUB) of a schedule for stochastic DDIM (spec §8.2):
//! `KLUB = Σ_i ∫_{σ_{i+1}}^{σ_i} σ⁻³ · E‖D(x_σ; σ) − D(x_{σ_i}; σ_i)‖² dσ`,
//! `x_σ = x_0 + σ·ε₁`, `x_{σ_i} = x_σ + sqrt(σ_i² − σ²)·ε₂`, `x_0 ~ data`.
//!
//! Monte-Carlo estimate per interval with importance sampling in σ from the weight itself,
//! `p(σ) = σ⁻³/Z`, `Z = (σ_lo⁻² − σ_hi⁻²)/2` (inverse CDF, stratified), so each sample is
//! `Z·‖ΔD‖²` and common random numbers (the same `x_0`, ε₁, ε₂
//! and strata for every interval of one estimator), so that the estimate is a smooth function
//! of the schedule and a 1-D search on it is meaningful.

use picoformer::ays::{Denoiser, GaussianRng, NoiseSource};

/// A KLUB estimator with frozen random numbers.
pub struct Klub<'d> {
    denoiser: &'d mut dyn Denoiser<f64>,
    dim: usize,
    x0: Vec<f64>,
    e1: Vec<f64>,
    e2: Vec<f64>,
    u: Vec<f64>,
    // Scratch.
    xs: Vec<f64>,
    xh: Vec<f64>,
    ds: Vec<f64>,
    dh: Vec<f64>,
}

impl<'d> Klub<'d> {
    /// `data` holds `M` points of `dim` values (x_0 samples); `seed` draws ε₁, ε₂ and the
    /// strata offsets.
    pub fn new(denoiser: &'d mut dyn Denoiser<f64>, dim: usize, data: Vec<f64>, seed: u64) -> Self {
        let m = data.len() / dim;
        let mut rng = GaussianRng::new(seed);
        let mut g =
            |n: usize| -> Vec<f64> { (0..n).map(|_| rng.gaussian().unwrap_or(0.0)).collect() };
        let e1 = g(m * dim);
        let e2 = g(m * dim);
        let mut rng = GaussianRng::new(seed ^ 0x5EED);
        // Stratified uniforms, randomly permuted across points.
        let mut u: Vec<f64> = (0..m)
            .map(|i| (i as f64 + rng.uniform()) / m as f64)
            .collect();
        for i in (1..m).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            u.swap(i, j);
        }
        Self {
            denoiser,
            dim,
            x0: data,
            e1,
            e2,
            u,
            xs: vec![0.0; dim],
            xh: vec![0.0; m * dim],
            ds: vec![0.0; dim],
            dh: vec![0.0; m * dim],
        }
    }

    /// KLUB of the interval `[lo, hi]` (`0 < lo < hi`), summed over dimensions: (estimate,
    /// standard error).
    pub fn interval(&mut self, lo: f64, hi: f64) -> anyhow::Result<(f64, f64)> {
        let m = self.u.len();
        let n = self.dim;
        let (a, b) = (1.0 / (lo * lo), 1.0 / (hi * hi));
        let z = 0.5 * (a - b);
        let sig: Vec<f64> = self
            .u
            .iter()
            .map(|u| 1.0 / (a - u * (a - b)).sqrt())
            .collect();
        for (i, &s) in sig.iter().enumerate() {
            let r = (hi * hi - s * s).max(0.0).sqrt();
            for k in i * n..(i + 1) * n {
                self.xh[k] = self.x0[k] + s * self.e1[k] + r * self.e2[k];
            }
        }
        // D at the interval start (the frozen value), one batch call.
        self.denoiser.denoise(&self.xh, hi, &mut self.dh)?;
        let mut vals = Vec::with_capacity(m);
        for (i, &s) in sig.iter().enumerate() {
            for (d, x) in self.xs.iter_mut().enumerate() {
                let k = i * n + d;
                *x = self.x0[k] + s * self.e1[k];
            }
            self.denoiser.denoise(&self.xs, s, &mut self.ds)?;
            let dh = &self.dh[i * n..(i + 1) * n];
            let sq: f64 = self.ds.iter().zip(dh).map(|(p, q)| (p - q) * (p - q)).sum();
            vals.push(sq * z);
        }
        Ok(super::toy::mean_se(&vals))
    }

    /// KLUB of a whole schedule (descending, any final 0 ignored): per-interval estimates.
    pub fn schedule(&mut self, sigmas: &[f64]) -> anyhow::Result<Vec<f64>> {
        let pos: Vec<f64> = sigmas.iter().copied().filter(|s| *s > 0.0).collect();
        pos.windows(2)
            .map(|w| Ok(self.interval(w[1], w[0])?.0))
            .collect()
    }
}

/// Closed-form KLUB per dimension for data `N(0, c²)` on `[lo, hi]` (spec §8.3), by
/// composite Simpson quadrature in `u = ln σ` (`n` even):
/// `∫ σ⁻³ [(a(σ) − a(hi))²(c² + σ²) + a(hi)²(hi² − σ²)] dσ`, `a(σ) = c²/(c² + σ²)`.
pub fn gaussian_klub(c2: f64, lo: f64, hi: f64, n: usize) -> f64 {
    let a = |s: f64| c2 / (c2 + s * s);
    let ah = a(hi);
    // Integrand in u = ln σ: f(σ)·σ.
    let f = |u: f64| {
        let s = u.exp();
        let da = a(s) - ah;
        (da * da * (c2 + s * s) + ah * ah * (hi * hi - s * s)) / (s * s)
    };
    let n = n.max(2) & !1;
    let (ul, uh) = (lo.ln(), hi.ln());
    let h = (uh - ul) / n as f64;
    let mut acc = f(ul) + f(uh);
    for i in 1..n {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        acc += w * f(ul + i as f64 * h);
    }
    acc * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use picoformer::ays::GaussianDenoiser;

    #[test]
    fn closed_form_matches_spec_check_value() {
        let v = gaussian_klub(0.25, 1.0, 2.0, 2000);
        assert!((v - 0.0069758).abs() < 5e-8, "{v}");
    }

    #[test]
    fn monte_carlo_matches_closed_form() {
        let mut d = GaussianDenoiser { variance: 0.25 };
        let mut rng = GaussianRng::new(3);
        let data: Vec<f64> = (0..200_000)
            .map(|_| 0.5 * rng.gaussian().unwrap())
            .collect();
        let mut k = Klub::new(&mut d, 1, data, 11);
        let (v, se) = k.interval(1.0, 2.0).unwrap();
        let cf = gaussian_klub(0.25, 1.0, 2.0, 2000);
        assert!((v - cf).abs() < 4.0 * se, "MC {v} ± {se} vs {cf}");
        // A wide interval near σ_min, where the importance sampling matters.
        let (v, se) = k.interval(0.002, 0.05).unwrap();
        let cf = gaussian_klub(0.25, 0.002, 0.05, 4000);
        assert!((v - cf).abs() < 4.0 * se, "MC {v} ± {se} vs {cf}");
    }
}
