//! The fault suite (issue 11), written once and run against each binary:
//! what a bug, a crash or a broken configuration does to a running server.
//! Every test asserts counts and outcomes, never timings; `cargo xtask
//! faults` reports the timings.

use std::io::Write;
use std::process::Command;

use integration_tests::http::{Running, connect, read_to_close};
use integration_tests::supervised::{error_log, get_small_kept_alive, site, spares, wait_children, wait_log};
use integration_tests::{Server, supervised_servers};

/// httpd_core::fault::PANIC_PATH_VAR: a request for this path panics in a
/// debug binary's handler, as a bug would.
const PANIC_PATH_VAR: &str = "MPM_FAULT_PANIC_PATH";
const PANIC_PATH: &str = "/injected-panic";

/// Starts `server` on `root` with requests for [`PANIC_PATH`] panicking.
fn start_with_panic_path(server: Server, root: &std::path::Path) -> Running {
    let mut cmd = Command::new(server.path());
    cmd.arg("-d").arg(root).args(["-f", "httpd.conf", "-DFOREGROUND"]).env(PANIC_PATH_VAR, PANIC_PATH);
    Running::spawn(cmd, server.binary_name())
}

supervised_servers!(a_panic_in_a_request_ends_only_its_connection, |server| {
    // One child, so that for worker and event the kept-alive connection and
    // the panicking request share it.
    let (min, max) = if server.is_threaded() { (1, 8) } else { (1, 4) };
    let root = site(server, &spares(server, 1, min, max));
    let httpd = start_with_panic_path(server, root.path());
    let parent = httpd.pid();
    let children = wait_children(parent, 1);

    let mut kept = connect(httpd.addr);
    get_small_kept_alive(&mut kept, "before the panic");

    let mut doomed = connect(httpd.addr);
    let request = format!("GET {PANIC_PATH} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    doomed.write_all(request.as_bytes()).expect("sending the request that panics");
    let answer = read_to_close(&mut doomed);
    assert!(answer.is_empty(), "the panicking request was answered: {:?}", String::from_utf8_lossy(&answer));

    let log = wait_log(&root, "panic in thread", 1);
    let line = log.lines().find(|l| l.contains("panic in thread")).unwrap_or_default();
    assert!(line.contains("[core:error]"), "{line}");
    assert!(line.contains(&format!("fault injected for {PANIC_PATH}")), "{line}");
    assert!(
        line.ends_with(&format!(
            "; request \"GET {PANIC_PATH} HTTP/1.1\" from 127.0.0.1 failed, its connection is closed"
        )),
        "the panic was not contained at the connection: {line}"
    );

    // The child lives on: its other connection is still served, and so are
    // new ones.
    if server.is_threaded() {
        get_small_kept_alive(&mut kept, "after the panic, on a connection of the same child");
    }
    let mut fresh = connect(httpd.addr);
    get_small_kept_alive(&mut fresh, "after the panic, on a new connection");
    assert!(children.iter().all(|&c| integration_tests::is_alive(c)), "a child died: {children:?}");
    assert!(!error_log(&root).contains("exit status 101"), "{}", error_log(&root));
});
