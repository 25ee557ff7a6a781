//! Panics: written to the error log first, then a serving process ends.
//!
//! The binaries are built with `panic = "unwind"` (ARCHITECTURE.md, "Release
//! build and panics"). [`install_hook`] replaces Rust's panic message with one
//! error-log line, in httpd's format, written before anything else happens
//! (before any unwinding or destructor runs):
//!
//! ```text
//! [Mon Nov 23 17:18:31.123456 2026] [core:error] [pid 9500:tid 9512] panic in thread 'worker-3' at core/src/http/conn.rs:120:9: index out of bounds; the process exits (status 101)
//! ```
//!
//! It is written whatever LogLevel says, straight to ErrorLog in one
//! `write(2)`, as every error-log line is, so it is never lost or cut. Before
//! the error log is started (reading the configuration) Rust's own message
//! goes to stderr instead; with `RUST_BACKTRACE` set, Rust's message and
//! backtrace go to stderr as well.
//!
//! A process that serves connections (a child, or `-X`) calls
//! [`end_process_on_panic`]: then a panic anywhere in it ends the process
//! with [`EXIT_PANIC`] right after its line, and the parent logs the exit
//! and replaces the child as it replaces any child that dies. A thread that
//! unwound would leave its child half alive: its worker gone for good, its
//! connections and scoreboard slot stranded, and in a threaded child the
//! other threads waiting for it forever. Catching a panic at the connection
//! boundary, so that it ends only that connection, is issue 11's.

use std::any::Any;
use std::panic::PanicHookInfo;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use super::error_log;

/// The exit status of a process ended by a panic (Rust's own, for a panic
/// that leaves `main`).
pub const EXIT_PANIC: i32 = 101;

static INSTALL: Once = Once::new();
static END_PROCESS: AtomicBool = AtomicBool::new(false);

/// Installs the panic hook (once per process; later calls do nothing).
pub fn install_hook() {
    INSTALL.call_once(|| {
        let rust_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let end = END_PROCESS.load(Ordering::SeqCst);
            let logged = log_panic(info, end);
            if !logged || std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
                rust_hook(info);
            }
            if end {
                // No unwinding, no destructors, no atexit: nothing of ours
                // is buffered, and a thread of a half-dead child must not
                // run on.
                crate::process::exit_now(EXIT_PANIC);
            }
        }));
    });
}

/// Makes a panic in this process, in any thread, end the process once its
/// line is written (installing the hook if need be). Called by a child right
/// after the fork, and by `-X`.
pub fn end_process_on_panic() {
    install_hook();
    END_PROCESS.store(true, Ordering::SeqCst);
}

/// Writes the panic's error-log line; false when the error log is not
/// started or the line could not be written.
fn log_panic(info: &PanicHookInfo<'_>, ends_process: bool) -> bool {
    let thread = std::thread::current();
    let location = info.location().map(|l| (l.file(), l.line(), l.column()));
    let message = payload_text(info.payload());
    let ending = if ends_process { "; the process exits (status 101)" } else { "" };
    match location {
        Some((file, line, column)) => error_log::write_unfiltered(
            "core",
            "error",
            format_args!(
                "panic in thread '{}' at {file}:{line}:{column}: {message}{ending}",
                thread_name(&thread)
            ),
        ),
        None => error_log::write_unfiltered(
            "core",
            "error",
            format_args!("panic in thread '{}': {message}{ending}", thread_name(&thread)),
        ),
    }
}

fn thread_name(thread: &std::thread::Thread) -> &str {
    thread.name().unwrap_or("<unnamed>")
}

/// The text of `panic!("...")` (a `&str` or a `String`); other payloads
/// (`panic_any`) have none.
fn payload_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}

#[cfg(test)]
#[path = "panics_tests.rs"]
mod tests;
