//! Reading an optimised schedule from GGUF metadata: the `f32` array `ays.sigmas`
//! (descending, last 0), written by `pico ays optimize --gguf` or stored in a model file.

use super::baselines::check_schedule;
use crate::gguf::File;
use crate::{Error, Result};

/// The GGUF key of a stored schedule.
pub const AYS_SIGMAS_KEY: &str = "ays.sigmas";

/// Copies `ays.sigmas` into `out`, checks it like [`check_schedule`], and returns its length.
///
/// Errors: [`Error::MissingKey`] if absent or not an `f32` array; [`Error::Capacity`] if `out`
/// is too small; the errors of [`check_schedule`].
pub fn schedule_from_gguf(file: &File<'_>, out: &mut [f32]) -> Result<usize> {
    let missing = Error::MissingKey {
        key: AYS_SIGMAS_KEY,
    };
    let arr = file.get_array(AYS_SIGMAS_KEY).ok_or(missing)?;
    let values = arr.iter_f32().ok_or(missing)?;
    let n = arr.len();
    let available = out.len();
    let dst = out.get_mut(..n).ok_or(Error::Capacity {
        what: "ays.sigmas buffer",
        needed: n,
        available,
    })?;
    for (d, v) in dst.iter_mut().zip(values) {
        *d = v;
    }
    check_schedule(dst)?;
    Ok(n)
}
