//! Accuracy confidence interval and paired comparison of two methods on the same items.

/// z for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `k` successes in `n` trials:
/// `(p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`. `n = 0` gives `(0, 1)`.
pub fn wilson(k: usize, n: usize, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = p + z2 / (2.0 * n_f);
    let half = z * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    (
        ((centre - half) / denom).max(0.0),
        ((centre + half) / denom).min(1.0),
    )
}

/// Exact (binomial) McNemar test, two-sided: `b` = items only method A got right, `c` = only B.
/// `p = min(1, 2 · Σ_{i ≤ min(b,c)} C(b+c, i) / 2^(b+c))`; `b = c = 0` gives 1.
pub fn mcnemar_exact(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let m = b.min(c);
    // log C(n, i) accumulated incrementally; terms summed in f64 (n up to a few thousand).
    let ln2n = n as f64 * std::f64::consts::LN_2;
    let mut ln_c = 0.0f64; // ln C(n, 0)
    let mut sum = 0.0f64;
    for i in 0..=m {
        if i > 0 {
            ln_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        sum += (ln_c - ln2n).exp();
    }
    (2.0 * sum).min(1.0)
}

/// Paired counts of two correctness vectors: (both, only A, only B, neither).
pub fn paired_counts(a: &[bool], b: &[bool]) -> (usize, usize, usize, usize) {
    let mut t = (0, 0, 0, 0);
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (true, true) => t.0 += 1,
            (true, false) => t.1 += 1,
            (false, true) => t.2 += 1,
            (false, false) => t.3 += 1,
        }
    }
    t
}
