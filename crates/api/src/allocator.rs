//! The allocator's settings.
//!
//! mimalloc (v3) returns freed pages to the OS only a second after they are freed, and a thread
//! purges its own pages only when it allocates again. Rows are built on the database driver's
//! threads and dropped on the runtime's, and those threads then sit idle, so pages freed after a
//! bulk request stayed resident. On SQLite, re-importing the same 50,000 staff, the service
//! stays at 87–104 MiB purging at once and 142–214 MiB with mimalloc's default, imports no
//! slower (bench/results.md, 2026-12-04, "Whole-roster reads a page at a time").
//!
//! SQLite allocates with the C library's malloc, on the thread of the connection it serves; glibc
//! gives each such thread an arena of its own and returns little of an arena's free memory. At
//! 50,000 staff on SQLite, capping glibc at two arenas kept the service at 126–132 MiB of
//! anonymous memory where it reached 149–156 with one per thread (bench/results.md, session 26).
//! Such memory was not given back between requests, though: after the year's results the service
//! kept about 200 MiB that the next requests did not need. So SQLite allocates with mimalloc too
//! ([`sqlite_allocates_with_mimalloc`]), which gives freed pages back at once as above.

use std::os::raw::{c_int, c_void};

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

/// glibc's `M_ARENA_MAX` (`malloc.h`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_ARENA_MAX: std::os::raw::c_int = -8;

/// At most this many glibc arenas, unless the operator chose a number (`MALLOC_ARENA_MAX`, read
/// by glibc itself).
const GLIBC_ARENAS: std::os::raw::c_int = 2;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" {
    fn mallopt(param: std::os::raw::c_int, value: std::os::raw::c_int) -> std::os::raw::c_int;
}

/// Cap glibc's arenas at [`GLIBC_ARENAS`] unless the operator set `MALLOC_ARENA_MAX`. (The test
/// counts the arenas rather than trusting mallopt's answer.)
fn cap_glibc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes two integers and only changes malloc's tunables; M_ARENA_MAX may be
    // set at any time (it bounds arenas created after it).
    unsafe {
        mallopt(M_ARENA_MAX, GLIBC_ARENAS);
    }
}

/// SQLite's allocation routines (`SQLITE_CONFIG_MALLOC`): mimalloc's, sized by mimalloc itself.
/// SQLite asks only for sizes above zero and needs 8-byte alignment (mimalloc gives 16).
mod sqlite_malloc {
    use super::*;
    use libmimalloc_sys::{mi_free, mi_good_size, mi_malloc, mi_realloc, mi_usable_size};

    pub unsafe extern "C" fn malloc(n: c_int) -> *mut c_void {
        mi_malloc(n as usize)
    }
    pub unsafe extern "C" fn free(p: *mut c_void) {
        mi_free(p)
    }
    pub unsafe extern "C" fn realloc(p: *mut c_void, n: c_int) -> *mut c_void {
        mi_realloc(p, n as usize)
    }
    pub unsafe extern "C" fn size(p: *mut c_void) -> c_int {
        // SQLite's allocations are under 2^31 bytes (its own limit), so the size fits.
        mi_usable_size(p) as c_int
    }
    pub unsafe extern "C" fn roundup(n: c_int) -> c_int {
        mi_good_size(n as usize).min(c_int::MAX as usize) as c_int
    }
    pub unsafe extern "C" fn init(_: *mut c_void) -> c_int {
        libsqlite3_sys::SQLITE_OK
    }
    pub unsafe extern "C" fn shutdown(_: *mut c_void) {}
}

/// Route SQLite's allocations to mimalloc, unless the operator asked for glibc's
/// (`KENSHU_SQLITE_MALLOC=system`, to compare). It must run before SQLite initialises (before the
/// first connection opens), which the constructor below guarantees.
fn sqlite_allocates_with_mimalloc() {
    if std::env::var_os("KENSHU_SQLITE_MALLOC").is_some_and(|v| v == "system") {
        return;
    }
    let methods = libsqlite3_sys::sqlite3_mem_methods {
        xMalloc: Some(sqlite_malloc::malloc),
        xFree: Some(sqlite_malloc::free),
        xRealloc: Some(sqlite_malloc::realloc),
        xSize: Some(sqlite_malloc::size),
        xRoundup: Some(sqlite_malloc::roundup),
        xInit: Some(sqlite_malloc::init),
        xShutdown: Some(sqlite_malloc::shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: SQLite copies the methods; SQLite is not yet initialised (this runs before main).
    // Were it initialised, the call would answer SQLITE_MISUSE and change nothing.
    unsafe {
        libsqlite3_sys::sqlite3_config(
            libsqlite3_sys::SQLITE_CONFIG_MALLOC,
            &methods as *const libsqlite3_sys::sqlite3_mem_methods,
        );
    }
}

/// [`purge_promptly`], [`cap_glibc_arenas`] and [`sqlite_allocates_with_mimalloc`] as the process starts (an ELF constructor), as
/// the variables would: every binary that links the service (the benchmarks, the tests) runs
/// with the settings production runs with, from its first allocation on.
#[used]
#[cfg_attr(target_os = "linux", link_section = ".init_array")]
static SETTINGS_AT_START: extern "C" fn() = {
    extern "C" fn at_start() {
        purge_promptly();
        cap_glibc_arenas();
        sqlite_allocates_with_mimalloc();
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

    /// Run `test` of this module again in a process of its own with `var` set, as an operator
    /// would set it before the process starts; it must pass there.
    fn passes_again_with(test: &str, (var, value): (&str, &str)) {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &format!("allocator::tests::{test}")])
            .env(var, value)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&child.stdout);
        assert!(child.status.success() && out.contains("1 passed"), "{out}");
    }

    /// How many arenas glibc has after `threads` threads each allocated with it at once.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_arenas_after(threads: usize) -> usize {
        use std::os::raw::{c_char, c_int, c_void};
        extern "C" {
            fn malloc(size: usize) -> *mut c_void;
            fn free(p: *mut c_void);
            fn open_memstream(buf: *mut *mut c_char, size: *mut usize) -> *mut c_void;
            fn malloc_info(options: c_int, stream: *mut c_void) -> c_int;
            fn fclose(stream: *mut c_void) -> c_int;
        }
        let all_allocated = std::sync::Barrier::new(threads);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    // SAFETY: a plain allocation, freed below on the same thread.
                    let p = unsafe { malloc(4096) };
                    all_allocated.wait();
                    unsafe { free(p) };
                });
            }
        });
        let (mut buf, mut len) = (std::ptr::null_mut(), 0usize);
        // SAFETY: the stream writes into a buffer glibc allocates; it is read once closed, then
        // freed with glibc's free as open_memstream requires.
        let xml = unsafe {
            let stream = open_memstream(&mut buf, &mut len);
            assert!(!stream.is_null());
            assert_eq!(malloc_info(0, stream), 0);
            fclose(stream);
            let xml = std::ffi::CStr::from_ptr(buf).to_string_lossy().into_owned();
            free(buf.cast());
            xml
        };
        xml.matches("<heap nr=").count()
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_has_two_arenas_however_many_threads_allocate_unless_the_operator_sets_a_number() {
        match std::env::var("MALLOC_ARENA_MAX") {
            // Run again below with glibc's own default: the same threads make more arenas.
            Ok(_) => assert!(glibc_arenas_after(6) > GLIBC_ARENAS as usize),
            Err(_) => {
                assert_eq!(glibc_arenas_after(6), GLIBC_ARENAS as usize);
                passes_again_with(
                    "glibc_has_two_arenas_however_many_threads_allocate_unless_the_operator_sets_a_number",
                    ("MALLOC_ARENA_MAX", "16"),
                );
            }
        }
    }

    /// Whether memory SQLite allocates comes from mimalloc.
    fn sqlite_allocates_from_mimalloc() -> bool {
        // SAFETY: a plain allocation through SQLite's allocator, freed the same way.
        unsafe {
            let p = libsqlite3_sys::sqlite3_malloc(1000);
            assert!(!p.is_null());
            let from_mimalloc = libmimalloc_sys::mi_is_in_heap_region(p);
            libsqlite3_sys::sqlite3_free(p);
            from_mimalloc
        }
    }

    #[test]
    fn sqlite_allocates_with_mimalloc_unless_the_operator_asks_for_the_system_allocator() {
        match std::env::var("KENSHU_SQLITE_MALLOC") {
            // Run again below with the system's: the check tells the two apart.
            Ok(_) => assert!(!sqlite_allocates_from_mimalloc()),
            Err(_) => {
                assert!(sqlite_allocates_from_mimalloc());
                passes_again_with(
                    "sqlite_allocates_with_mimalloc_unless_the_operator_asks_for_the_system_allocator",
                    ("KENSHU_SQLITE_MALLOC", "system"),
                );
            }
        }
    }

    #[test]
    fn the_purge_delay_is_zero_from_the_start_unless_the_operator_sets_one() {
        match std::env::var("MIMALLOC_PURGE_DELAY") {
            // Run again below with a delay: the constant names the option mimalloc reads it into.
            Ok(delay) => assert_eq!(purge_delay_ms().to_string(), delay),
            Err(_) => {
                assert_eq!(purge_delay_ms(), 0);
                passes_again_with(
                    "the_purge_delay_is_zero_from_the_start_unless_the_operator_sets_one",
                    ("MIMALLOC_PURGE_DELAY", "777"),
                );
            }
        }
    }
}
