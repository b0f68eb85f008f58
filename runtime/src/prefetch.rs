//! `prefetch`: asks the CPU to start loading memory that will be used soon, so that
//! several cache misses overlap instead of stalling one after another.

/// Starts loading the cache line holding `p` into every cache level; a no-op on
/// targets without a prefetch hint. Never faults, whatever `p` is.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program observes and does
    // not fault on any address, valid or not.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Starts loading every cache line of `value` (see `prefetch`).
#[inline(always)]
pub(crate) fn prefetch_lines<T: ?Sized>(value: &T) {
    let base = (value as *const T).cast::<u8>();
    let size = std::mem::size_of_val(value);
    let mut offset = 0;
    while offset < size {
        prefetch(base.wrapping_add(offset));
        offset += 64;
    }
    // The last line, when `value` does not start on a line boundary.
    prefetch(base.wrapping_add(size.saturating_sub(1)));
}

/// Starts loading every cache line of the elements of `items`.
#[inline(always)]
pub(crate) fn prefetch_slice<T>(items: &[T]) {
    if !items.is_empty() {
        prefetch_lines(items);
    }
}
