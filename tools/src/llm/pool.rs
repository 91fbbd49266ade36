//! Bounded-concurrency map: at most `workers` std threads pull items by index.

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// A progress bar on stderr with `len` steps, hidden when `show` is false (or stderr is not a terminal).
pub fn progress(len: usize, label: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>12} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_prefix(label.to_string());
    pb
}

/// Applies `f` to every item with at most `workers` threads at a time; results keep input order.
/// The progress bar advances once per finished item.
pub fn map_bounded<T, R, F>(items: &[T], workers: usize, pb: &ProgressBar, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &T) -> R + Sync,
{
    let workers = workers.clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let r = f(i, item);
                let mut guard = match slots.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                if let Some(slot) = guard.get_mut(i) {
                    *slot = Some(r);
                }
                pb.inc(1);
            });
        }
    });
    pb.finish_and_clear();
    let slots = match slots.into_inner() {
        Ok(v) => v,
        Err(p) => p.into_inner(),
    };
    slots.into_iter().flatten().collect()
}
