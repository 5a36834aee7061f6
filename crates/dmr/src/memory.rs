//! Handing memory that was freed back to the OS. Neither allocator does it on its own at
//! idle: mimalloc purges the pages it freed only when a thread next calls into it, and
//! glibc malloc (SQLite's allocator: each connection's page cache and parsed schema) keeps
//! what its arenas freed below their top. A closed tenant store frees both kinds, so the
//! idle sweep calls this after it closed some (BENCHMARKS.md, Idle memory).

/// Returns freed pages of both allocators to the OS. Walks every glibc arena under its
/// lock: call it off the async workers, and not per request.
pub fn release_freed() {
    // SAFETY: mi_collect takes no pointer; `force` purges every page already freed.
    unsafe { libmimalloc_sys::mi_collect(true) };
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
