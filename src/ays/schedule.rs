//! AYS schedules for any step count (spec §4): the published table, log-linearly
//! interpolated, under the ComfyUI / stable-diffusion.cpp or the A1111 convention.

use super::interp::loglinear_at;
use super::precomputed;
use super::real::Real;
use super::tables::Model;
use crate::{Error, Result};

/// How a step count maps to σ values (tools disagree; spec §11.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Convention {
    /// ComfyUI `AlignYourStepsScheduler` / stable-diffusion.cpp: interpolate the table to
    /// `steps + 1` values (verbatim for 10 steps), keep the last `round(steps·denoise) + 1`
    /// (half to even), set the last to 0.
    #[default]
    Comfy,
    /// A1111/Forge `get_align_your_steps_sigmas(steps)`: the 3-decimal table (ending 0.029)
    /// interpolated to `steps` values (verbatim for 11), then 0 appended. `denoise` must be 1.
    A1111,
}

/// Options of [`ays`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AysOptions {
    /// Fraction of the schedule to run, in [0, 1] (img2img strength); 1 = full schedule.
    pub denoise: f64,
    /// Step-count convention.
    pub convention: Convention,
}

impl Default for AysOptions {
    fn default() -> Self {
        Self {
            denoise: 1.0,
            convention: Convention::Comfy,
        }
    }
}

/// Upper bound on the number of σ values [`ays`] writes for `steps` steps: `steps + 1`.
pub const fn ays_len(steps: usize) -> usize {
    steps.saturating_add(1)
}

/// Number of model steps actually run: `round_half_even(steps·denoise)` (Python `round`).
fn total_steps(steps: usize, denoise: f64) -> usize {
    if denoise >= 1.0 {
        steps
    } else {
        libm::rint(steps as f64 * denoise) as usize
    }
}

/// Largest accepted step count (ComfyUI's limit).
pub const MAX_STEPS: usize = 10_000;

fn check(steps: usize, opts: &AysOptions) -> Result<()> {
    if steps == 0 || steps > MAX_STEPS {
        return Err(Error::InvalidParam {
            what: "steps must be in 1..=10000",
        });
    }
    if !(0.0..=1.0).contains(&opts.denoise) {
        return Err(Error::InvalidParam {
            what: "denoise must be in [0, 1]",
        });
    }
    if opts.convention == Convention::A1111 && opts.denoise != 1.0 {
        return Err(Error::InvalidParam {
            what: "denoise < 1 is defined only for the Comfy convention",
        });
    }
    Ok(())
}

/// Writes the schedule in `f64` (no final cast) and returns the number of values written.
///
/// Same rules as [`ays`]; values are exactly those that [`ays`] rounds to `f32`.
pub fn ays_f64(model: Model, steps: usize, opts: AysOptions, out: &mut [f64]) -> Result<usize> {
    write(model, steps, opts, out)
}

/// Writes the AYS σ schedule for `model` and `steps` into `out` (descending, last value 0) and
/// returns the number of values written.
///
/// ComfyUI convention: `round_half_even(steps·denoise) + 1` values (`steps + 1` when
/// `denoise = 1`, none when `denoise = 0`). A1111: `steps + 1` values. For the step counts of
/// [`precomputed`](super::precomputed()) (ComfyUI, denoise 1) the committed table is copied
/// and no transcendental function runs.
///
/// Errors: `steps` outside `1..=`[`MAX_STEPS`], `denoise` outside [0, 1] or NaN, `denoise ≠ 1` with A1111
/// ([`Error::InvalidParam`]); `out` shorter than the schedule ([`Error::Capacity`]).
///
/// ```
/// use picoformer::ays::{ays, AysOptions, Model};
/// let mut s = [0f32; 11];
/// let n = ays(Model::Sd15, 10, AysOptions::default(), &mut s)?;
/// assert_eq!(n, 11);
/// assert_eq!(s[0], 14.614641);
/// assert_eq!(s[10], 0.0);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn ays(model: Model, steps: usize, opts: AysOptions, out: &mut [f32]) -> Result<usize> {
    check(steps, &opts)?;
    if opts.convention == Convention::Comfy && opts.denoise == 1.0 {
        if let Some(table) = precomputed::precomputed(model, steps) {
            let available = out.len();
            let dst = out.get_mut(..table.len()).ok_or(Error::Capacity {
                what: "ays schedule buffer",
                needed: table.len(),
                available,
            })?;
            dst.copy_from_slice(table);
            return Ok(table.len());
        }
    }
    write(model, steps, opts, out)
}

fn write<T: Real>(model: Model, steps: usize, opts: AysOptions, out: &mut [T]) -> Result<usize> {
    check(steps, &opts)?;
    if opts.denoise == 0.0 {
        return Ok(0);
    }
    // `num` values are interpolated; the output keeps `len - 1` of them from index `skip`,
    // then a 0 (ComfyUI: the tail of `steps + 1` values, last replaced; A1111: all, 0 appended).
    let (table, num, len, skip) = match opts.convention {
        Convention::Comfy => {
            let total = total_steps(steps, opts.denoise);
            (
                &model.sigmas()[..],
                steps + 1,
                total + 1,
                steps.saturating_sub(total),
            )
        }
        Convention::A1111 => (&model.a1111_sigmas()[..], steps, steps + 1, 0),
    };
    let available = out.len();
    let dst = out.get_mut(..len).ok_or(Error::Capacity {
        what: "ays schedule buffer",
        needed: len,
        available,
    })?;
    let (last, body) = match dst.split_last_mut() {
        Some(v) => v,
        None => return Ok(0),
    };
    for (i, v) in body.iter_mut().enumerate() {
        let k = skip + i;
        let s = if num == table.len() {
            table.get(k).copied().unwrap_or(0.0)
        } else {
            loglinear_at(table, num, k)
        };
        *v = T::from_f64(s);
    }
    *last = T::ZERO;
    Ok(len)
}
