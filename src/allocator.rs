//! The global allocator, and the one setting a batch job changes in it.

/// mimalloc rather than glibc's malloc: `omen serve` allocates and frees many small objects
/// across threads (decoded labels, batches), where glibc spent a third of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (the same place in its v2 and v3; the
/// binding has no constant for it). A test checks that it reads the documented default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keep freed memory instead of handing it back to the system after a second.
///
/// A batch job such as `omen analyze` frees and allocates buffers of a few hundred kilobytes
/// all the time (record batches, score columns, Parquet pages) at intervals longer than the
/// default delay, so the memory went back to the system and came again as fresh pages the
/// kernel had to zero: 12 % of the CPU time. Peak memory rises by a few tens of megabytes.
/// Not for `omen serve`, whose memory figure matters more than this.
///
/// Call it before starting any thread: mimalloc's options are not thread-safe.
pub(crate) fn keep_freed_memory() {
    // SAFETY: sets a plain integer option; called before the caller starts other threads.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_where_we_think() {
        // mimalloc v3's default purge delay is 1000 ms (options.c; its header still says 10).
        // SAFETY: reads an integer option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}
