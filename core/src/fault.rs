//! Fault injection for the fault suite (integration-tests/tests/faults.rs),
//! compiled into debug builds only: a release binary has none of it.
//!
//! `MPM_FAULT_PANIC_PATH=/some/path` in a debug binary's environment makes a
//! request for exactly that path panic inside the handler, as a bug would,
//! so the suite can check that the panic ends that connection only;
//! `MPM_FAULT_CHILD_PANIC=1` makes every child panic as it starts, for the
//! parent's back-off. The names do not start with `HTTPD_`, which would be
//! read as directives.

/// The environment variable naming the path whose requests panic.
pub const PANIC_PATH_VAR: &str = "MPM_FAULT_PANIC_PATH";

/// Panics when `path` is the one [`PANIC_PATH_VAR`] names (debug builds).
#[cfg(debug_assertions)]
pub fn on_request(path: &str) {
    use std::sync::OnceLock;
    static PANIC_PATH: OnceLock<Option<String>> = OnceLock::new();
    let target = PANIC_PATH.get_or_init(|| std::env::var(PANIC_PATH_VAR).ok().filter(|p| !p.is_empty()));
    if target.as_deref() == Some(path) {
        panic!("fault injected for {path} ({PANIC_PATH_VAR})");
    }
}

/// Does nothing: release builds inject no faults.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn on_request(_path: &str) {}

/// The environment variable that makes every child panic as it starts.
pub const CHILD_PANIC_VAR: &str = "MPM_FAULT_CHILD_PANIC";

/// Panics when [`CHILD_PANIC_VAR`] is set (debug builds): a child that
/// dies as it starts, for the parent's back-off.
#[cfg(debug_assertions)]
pub fn on_child_start() {
    if std::env::var_os(CHILD_PANIC_VAR).is_some_and(|v| !v.is_empty()) {
        panic!("fault injected at child start ({CHILD_PANIC_VAR})");
    }
}

/// Does nothing: release builds inject no faults.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn on_child_start() {}
