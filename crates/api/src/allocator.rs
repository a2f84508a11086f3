//! The allocator's settings.
//!
//! mimalloc (v3) returns freed pages to the OS only a second after they are freed, and a thread
//! purges its own pages only when it allocates again. Rows are built on the database driver's
//! threads and dropped on the runtime's, and those threads then sit idle, so pages freed after a
//! bulk request stayed resident. On SQLite, re-importing the same 50,000 staff, the service
//! stays at 87–104 MiB purging at once and 142–214 MiB with mimalloc's default, imports no
//! slower (bench/results.md, 2026-12-04, "Whole-roster reads a page at a time").

use libmimalloc_sys::{mi_option_set, mi_option_t};

/// `mi_option_purge_delay` in the bundled mimalloc v3 (`include/mimalloc.h`); the bindings do
/// not name it.
const PURGE_DELAY: mi_option_t = 15;

/// Purge freed memory at once, unless the operator chose a delay (`MIMALLOC_PURGE_DELAY`,
/// milliseconds, read by mimalloc itself).
fn purge_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: setting an option is a plain store that mimalloc reads atomically; the value is in
    // the option's documented range (0 = purge immediately).
    unsafe { mi_option_set(PURGE_DELAY, 0) }
}

/// [`purge_promptly`] as the process starts (an ELF constructor), as the variable would: every
/// binary that links the service (the benchmarks, the tests) runs with the setting production
/// runs with, from its first allocation on.
#[used]
#[cfg_attr(target_os = "linux", link_section = ".init_array")]
static PURGE_PROMPTLY_AT_START: extern "C" fn() = {
    extern "C" fn at_start() {
        purge_promptly();
    }
    at_start
};

/// The purge delay now in effect, in milliseconds.
#[cfg(test)]
fn purge_delay_ms() -> std::os::raw::c_long {
    // SAFETY: reading an option has no preconditions.
    unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_is_zero_from_the_start_unless_the_operator_sets_one() {
        match std::env::var("MIMALLOC_PURGE_DELAY") {
            // Run again below with a delay: the constant names the option mimalloc reads it into.
            Ok(delay) => assert_eq!(purge_delay_ms().to_string(), delay),
            Err(_) => {
                assert_eq!(purge_delay_ms(), 0);
                let child = std::process::Command::new(std::env::current_exe().unwrap())
                    .args(["--exact", "allocator::tests::the_purge_delay_is_zero_from_the_start_unless_the_operator_sets_one"])
                    .env("MIMALLOC_PURGE_DELAY", "777")
                    .output()
                    .unwrap();
                let out = String::from_utf8_lossy(&child.stdout);
                assert!(child.status.success() && out.contains("1 passed"), "{out}");
            }
        }
    }
}
