//! Row-split matvec on several threads (`std` only): the SoC path of issue 9 goal 5.
//!
//! `out` is cut into `threads` contiguous row ranges of (almost) equal length; each range runs
//! the single-thread kernel ([`super::matvec`] / [`super::matvec_q8_pre`]) on its own rows in a
//! scoped thread (`std::thread::scope`), the first range on the calling thread. Every output
//! row is computed by the same kernel with the same operation order as on one thread, so the
//! result is **bit-identical** to the single-thread call; only the wall time changes.
//!
//! Cost model: one thread spawn and join per extra thread per call (tens of µs), so this pays
//! only for large matrices; the session uses it for matvecs of at least [`PAR_MIN_MACS`]
//! multiply-accumulates ([`crate::elm::Session::set_threads`]).

use super::check_len;
use crate::quant::Matrix;
use crate::{Error, Result};

/// Smallest matvec (`rows · cols`) the session splits across threads.
pub const PAR_MIN_MACS: usize = 1 << 20;

/// [`super::matvec`] with the rows split over `threads` threads (`threads ≤ 1`: on this thread).
///
/// Errors: as [`super::matvec`]; a panicking worker (not expected: the kernels do not panic)
/// is reported as [`Error::InvalidParam`].
pub fn matvec_threads(out: &mut [f32], w: &Matrix<'_>, x: &[f32], threads: usize) -> Result<()> {
    check_len("matvec input length (= cols)", w.cols(), x.len())?;
    split(out, w, threads, |o, sub| super::matvec(o, sub, x))
}

/// [`super::matvec_q8_pre`] with the rows split over `threads` threads.
///
/// Errors: as [`super::matvec_q8_pre`]; a panicking worker is [`Error::InvalidParam`].
pub fn matvec_q8_pre_threads(
    out: &mut [f32],
    w: &Matrix<'_>,
    xq: &[u8],
    threads: usize,
) -> Result<()> {
    check_len("matvec_q8 quantised input bytes", w.row_stride(), xq.len())?;
    split(out, w, threads, |o, sub| super::matvec_q8_pre(o, sub, xq))
}

fn split<F>(out: &mut [f32], w: &Matrix<'_>, threads: usize, kernel: F) -> Result<()>
where
    F: Fn(&mut [f32], &Matrix<'_>) -> Result<()> + Sync,
{
    check_len("matvec output length (= rows)", w.rows(), out.len())?;
    let rows = out.len();
    let n = threads.clamp(1, rows.max(1));
    if n == 1 {
        return kernel(out, w);
    }
    let chunk = rows.div_ceil(n);
    std::thread::scope(|s| {
        let mut parts = out.chunks_mut(chunk).enumerate();
        let first = parts.next();
        let workers: std::vec::Vec<_> = parts
            .map(|(i, o)| {
                let kernel = &kernel;
                s.spawn(move || kernel(o, &w.slice_rows(i * chunk, o.len())?))
            })
            .collect();
        let mut result = match first {
            Some((_, o)) => w.slice_rows(0, o.len()).and_then(|sub| kernel(o, &sub)),
            None => Ok(()),
        };
        for h in workers {
            let r = h.join().unwrap_or(Err(Error::InvalidParam {
                what: "matvec worker thread panicked",
            }));
            result = result.and(r);
        }
        result
    })
}
