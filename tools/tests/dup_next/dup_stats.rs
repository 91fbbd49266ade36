//! Wilson interval (published values) and exact McNemar (exact binomial sums by Python's
//! `math.comb`: `min(1, 2*sum(comb(n,i) for i in range(min(b,c)+1))/2**n)`).

use crate::dup::method::majority;
use crate::dup::stats::{mcnemar_exact, paired_counts, wilson, Z95};

#[test]
fn wilson_matches_newcombe_1998() {
    // Newcombe (1998), Stat. Med. 17:857, Table I, method 3 (Wilson score, no continuity correction).
    for (k, n, lo, hi) in [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ] {
        let (l, h) = wilson(k, n, Z95);
        assert!(
            (l - lo).abs() < 1e-4 && (h - hi).abs() < 1e-4,
            "{k}/{n}: {l} {h}"
        );
    }
    assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
}

#[test]
fn mcnemar_exact_binomial() {
    for (b, c, p) in [
        (10, 2, 0.03857421875),
        (5, 5, 1.0),
        (0, 7, 0.015625),
        (30, 12, 0.007915897334896727),
        (300, 250, 0.036578745549102704),
    ] {
        let got = mcnemar_exact(b, c);
        assert!(
            (got - p).abs() <= 1e-12 * p.max(1e-300) + 1e-15,
            "{b},{c}: {got} vs {p}"
        );
        assert_eq!(mcnemar_exact(c, b), got, "symmetric");
    }
    assert_eq!(mcnemar_exact(0, 0), 1.0);
    assert_eq!(
        paired_counts(&[true, true, false, false], &[true, false, true, false]),
        (1, 1, 1, 1)
    );
}

#[test]
fn majority_vote_ties_go_to_first_seen() {
    let v = [Some("3"), None, Some("4"), Some("4"), Some("3")];
    assert_eq!(majority(v.iter().copied()).as_deref(), Some("3"));
    let v = [Some("5"), Some("4"), Some("4")];
    assert_eq!(majority(v.iter().copied()).as_deref(), Some("4"));
    assert_eq!(majority([None, None].iter().copied()), None);
}
