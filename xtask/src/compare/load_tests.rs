//! The load generator against tiny in-process servers, one behaviour each.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

use super::*;

/// A thread-per-connection server answering every request head with `reply`, then closing
/// the connection if `close` (or holding it, answering nothing, if `reply` is empty).
fn serve(reply: &'static [u8], close: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            std::thread::spawn(move || {
                let (mut buf, mut pending) = ([0; 4096], Vec::new());
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                    }
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        if s.write_all(reply).is_err() || close {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn plan(addr: SocketAddr, keep_alive: bool, background: Option<Background>) -> Plan {
    Plan {
        addr,
        threads: 2,
        active: Active { connections: 4, path: "/".into(), keep_alive },
        background,
        setup_limit: Duration::from_secs(2),
        warmup: Duration::from_millis(50),
        duration: Duration::from_millis(250),
        request_timeout: Duration::from_secs(2),
        keep_alive_timeout: Duration::from_secs(5),
    }
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/// Runs `plan` and returns its tally with the error kinds that were counted.
fn run(plan: Plan) -> (Tally, Vec<&'static str>) {
    let tally = start(plan).finish();
    let kinds = tally.errors.by_kind().into_iter().filter(|(_, n)| *n > 0).map(|(k, _)| k).collect();
    (tally, kinds)
}

#[test]
fn keep_alive_requests_complete() {
    let (t, errors) = run(plan(serve(OK, false), true, None));
    assert!(t.completed > 10, "{} completed", t.completed);
    assert_eq!(errors, [] as [&str; 0]);
    assert_eq!(t.body_bytes, 5 * t.completed);
    assert_eq!(t.latency.len(), t.completed);
}

#[test]
fn a_new_connection_per_request() {
    let (t, errors) = run(plan(serve(OK, true), false, None));
    assert!(t.completed > 10, "{} completed", t.completed);
    assert_eq!(errors, [] as [&str; 0]);
}

#[test]
fn errors_are_counted_by_kind() {
    let not_found = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(run(plan(serve(not_found, false), true, None)).1, ["status"]);
    let short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello";
    assert_eq!(run(plan(serve(short, true), true, None)).1, ["short_body"]);
    assert_eq!(run(plan(serve(b"", true), true, None)).1, ["reset"]);
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    assert_eq!(run(plan(closed, true, None)).1, ["connect"]);
}

#[test]
fn idle_connections_are_held_and_counted() {
    let idle = Background { kind: BackgroundKind::Idle, connections: 100, path: "/".into() };
    let (t, errors) = run(plan(serve(OK, false), true, Some(idle)));
    assert_eq!(errors, [] as [&str; 0]);
    assert_eq!((t.background.open, t.background.closed_early, t.background.never_ready), (100, 0, 0));
    let idle = Background { kind: BackgroundKind::Idle, connections: 10, path: "/".into() };
    let (t, _) = run(plan(serve(OK, true), true, Some(idle)));
    assert_eq!((t.background.open, t.background.closed_early), (0, 10), "the server closed each at once");
}

#[test]
fn slow_clients_never_finish_their_heads() {
    let slow = Background { kind: BackgroundKind::Slow, connections: 20, path: "/".into() };
    let mut p = plan(serve(OK, false), true, Some(slow));
    p.setup_limit = Duration::from_millis(100); // the probe waits this long, always
    let (t, errors) = run(p);
    assert_eq!(errors, [] as [&str; 0]);
    assert!(t.completed > 10, "the probe was answered");
    assert_eq!((t.background.open, t.background.closed_early, t.background.never_ready), (20, 0, 0));
}
