//! Unbiased pass@k oracle values (spec §2.3).

use crate::next::passk::{mean_pass_at_k, pass_at_k};

#[test]
fn spec_oracles() {
    let close = |n, c, k, want: f64| {
        let got = pass_at_k(n, c, k).expect("defined");
        assert!((got - want).abs() < 1e-12, "({n},{c},{k}): {got} vs {want}");
    };
    close(32, 4, 1, 0.125);
    close(32, 4, 10, 0.796579532814238);
    close(32, 1, 10, 0.3125);
    close(32, 0, 5, 0.0);
    close(20, 3, 5, 0.6008771929824561);
    close(10, 10, 1, 1.0);
    close(32, 31, 2, 1.0);
    assert_eq!(pass_at_k(5, 6, 1), None);
    assert_eq!(pass_at_k(5, 1, 0), None);
}

#[test]
fn mean_over_tasks() {
    let m = mean_pass_at_k(&[(32, 4), (32, 1), (32, 0)], 10).expect("some");
    assert!((m - (0.796579532814238 + 0.3125) / 3.0).abs() < 1e-12);
    assert_eq!(mean_pass_at_k(&[(3, 1)], 5), None);
}
