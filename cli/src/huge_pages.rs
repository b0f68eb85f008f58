//! Transparent huge pages off for the `featc` process.
//!
//! mimalloc asks the kernel for huge pages on its arenas (`MADV_HUGEPAGE`) and
//! returns freed memory to it in 64 KiB to 4 MiB pieces; a job that frees and
//! reallocates as it goes (a training set's sort buffers, a Kafka round's decoded
//! batches) has the kernel zero whole 2 MiB pages again and again. At 1e7 events that
//! was about a quarter of `featc training-set`'s CPU (`clear_page_erms` under
//! `do_huge_pmd_anonymous_page`); without them Kafka ingest is faster too and reads
//! cost the same (BENCHMARKS.md, "Huge pages").

/// Turns transparent huge pages off for every later page fault of this process
/// (`PR_SET_THP_DISABLE`, which the kernel checks at each fault, so it also covers
/// arenas the allocator already asked huge pages for). A kernel that refuses leaves
/// things as they were: only speed depends on it.
#[cfg(target_os = "linux")]
pub fn disable() {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and changes
    // nothing but this process's huge page policy.
    let _refused = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

/// Elsewhere the allocator's own policy stands.
#[cfg(not(target_os = "linux"))]
pub fn disable() {}
