//! Log-linear interpolation of a schedule (spec §4, NVIDIA howto `loglinear_interp`).
//!
//! `xs = linspace(0, 1, n)`, `ys = ln(reverse(table))`, `new_xs = linspace(0, 1, num)`,
//! `new_ys = interp(new_xs, xs, ys)` (piecewise linear, numpy `np.interp` rules), result
//! `reverse(exp(new_ys))`. Everything in `f64` through `libm`, reproducing numpy's float64
//! arithmetic step by step (same `linspace` and `interp` formulas).

/// Element `i` of numpy's `linspace(start, stop, n)`: `start + i·((stop − start)/(n − 1))`,
/// the last element exactly `stop`, `n = 1` gives `start`.
pub(crate) fn linspace(start: f64, stop: f64, n: usize, i: usize) -> f64 {
    if n <= 1 {
        return start;
    }
    if i + 1 == n {
        return stop;
    }
    let step = (stop - start) / (n - 1) as f64;
    i as f64 * step + start
}

/// Element `k` of `loglinear_interp(table, num)` (descending like `table`).
///
/// `table` must be non-empty with positive entries (checked by callers; an empty table gives
/// NaN). `k < num`.
pub(crate) fn loglinear_at(table: &[f64], num: usize, k: usize) -> f64 {
    let n = table.len();
    // Ascending index into the reversed table: ys[j] = ln(table[n - 1 - j]).
    let y = |j: usize| -> f64 {
        match table.get(n.wrapping_sub(1).wrapping_sub(j)) {
            Some(&v) => libm::log(v),
            None => f64::NAN,
        }
    };
    let x = linspace(0.0, 1.0, num, num.saturating_sub(1).saturating_sub(k));
    let last = n.saturating_sub(1);
    let new_y = if x == linspace(0.0, 1.0, n, last) {
        y(last)
    } else {
        // Largest j with xs[j] <= x (x is in [0, 1)).
        let mut j = 0;
        while j + 1 < last && linspace(0.0, 1.0, n, j + 1) <= x {
            j += 1;
        }
        let (x0, x1) = (linspace(0.0, 1.0, n, j), linspace(0.0, 1.0, n, j + 1));
        let (y0, y1) = (y(j), y(j + 1));
        if x == x0 {
            y0
        } else {
            let slope = (y1 - y0) / (x1 - x0);
            slope * (x - x0) + y0
        }
    };
    libm::exp(new_y)
}
