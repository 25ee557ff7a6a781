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
//! other threads waiting for it forever.
//!
//! Except at the connection boundary: a worker serves each connection under
//! [`contain`], and a panic there (a bug hit by one request) is logged with
//! the request line and client its scoreboard slot shows, unwinds to that
//! boundary, which drops (closes) the connection, and the worker goes on
//! serving others. Only a panic outside any connection (a listener, the
//! child's set-up) still ends the child.

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use super::error_log;
use crate::scoreboard::WorkerScore;

/// The exit status of a process ended by a panic (Rust's own, for a panic
/// that leaves `main`).
pub const EXIT_PANIC: i32 = 101;

static INSTALL: Once = Once::new();
static END_PROCESS: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set while this thread serves a connection under [`contain`] (with the
    /// scoreboard slot that shows its request, if any).
    static SERVING: Cell<Option<Option<&'static WorkerScore>>> = const { Cell::new(None) };
}

/// Runs `serve` (one connection, to its end) so that a panic inside it ends
/// only that connection: its line is logged with the request and client
/// `slot` shows, everything `serve` owned (the socket first) is dropped as
/// the panic unwinds, and `None` is returned. The caller resets the slot.
pub fn contain<R>(slot: Option<&'static WorkerScore>, serve: impl FnOnce() -> R) -> Option<R> {
    let outer = SERVING.replace(Some(slot));
    // AssertUnwindSafe: what `serve` shares with the rest of the thread is
    // the per-thread buffer pool and the scoreboard slot; a pool buffer left
    // half written is cleared before reuse, and the caller resets the slot.
    let result = std::panic::catch_unwind(AssertUnwindSafe(serve));
    SERVING.set(outer);
    result.ok()
}

/// Installs the panic hook (once per process; later calls do nothing).
pub fn install_hook() {
    INSTALL.call_once(|| {
        let rust_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let serving = SERVING.try_with(Cell::get).ok().flatten();
            let end = END_PROCESS.load(Ordering::SeqCst) && serving.is_none();
            let logged = log_panic(info, end, serving);
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
fn log_panic(info: &PanicHookInfo<'_>, ends_process: bool, serving: Option<Option<&WorkerScore>>) -> bool {
    let thread = std::thread::current();
    let location = info.location().map(|l| (l.file(), l.line(), l.column()));
    let message = payload_text(info.payload());
    let ending = match serving {
        _ if ends_process => "; the process exits (status 101)".to_string(),
        Some(slot) => connection_ending(slot),
        None => String::new(),
    };
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

/// What a contained panic ends: the connection, with the request and client
/// its slot shows (when ExtendedStatus keeps them).
fn connection_ending(slot: Option<&WorkerScore>) -> String {
    let request = slot.map(|s| s.request.get()).unwrap_or_default();
    let client = slot.map(|s| s.client.get()).unwrap_or_default();
    match (request.is_empty(), client.is_empty()) {
        (false, false) => format!("; request \"{request}\" from {client} failed, its connection is closed"),
        (false, true) => format!("; request \"{request}\" failed, its connection is closed"),
        _ => "; its connection is closed".to_string(),
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
