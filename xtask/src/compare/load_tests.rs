//! The load generator against tiny in-process servers, one behaviour each.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

use rustls::{HandshakeKind, ServerConnection, StreamOwned};

use super::*;

/// A thread-per-connection server answering every request head with `reply`, then closing
/// the connection if `close` (or holding it, answering nothing, if `reply` is empty).
fn serve(reply: &'static [u8], close: bool) -> SocketAddr {
    serve_with(move |mut s| answer(&mut s, reply, close))
}

/// A thread-per-connection server running `each` on every connection.
fn serve_with(each: impl Fn(std::net::TcpStream) + Clone + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(s) = stream else { return };
            let each = each.clone();
            std::thread::spawn(move || each(s));
        }
    });
    addr
}

fn answer(s: &mut impl ReadWrite, reply: &[u8], close: bool) {
    let (mut buf, mut pending) = ([0; 4096], Vec::new());
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            if s.write_all(reply).and_then(|()| s.flush()).is_err() || close {
                return;
            }
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// The same over TLS 1.3 with `certificate`, counting the handshakes that resumed a session.
fn serve_tls(certificate: &tls::Certificate, close: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let config = tls::server_config(certificate);
    let resumed = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&resumed);
    let addr = serve_with(move |s| {
        let mut tls = StreamOwned::new(ServerConnection::new(Arc::clone(&config)).unwrap(), s);
        while tls.conn.is_handshaking() {
            if tls.conn.complete_io(&mut tls.sock).is_err() {
                return;
            }
        }
        if tls.conn.handshake_kind() == Some(HandshakeKind::Resumed) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        answer(&mut tls, OK, close);
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });
    (addr, resumed)
}

fn plan(addr: SocketAddr, keep_alive: bool, background: Option<Background>) -> Plan {
    Plan {
        addr,
        threads: 2,
        active: Active { connections: 4, path: "/".into(), keep_alive },
        background,
        tls: None,
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

#[test]
fn tls_keep_alive_requests_complete() {
    let Some(cert) = tls::scratch("keepalive") else { return };
    let (addr, resumed) = serve_tls(&cert, false);
    let mut p = plan(addr, true, None);
    p.tls = Some(tls::Client::new(&cert, false).unwrap());
    let (t, errors) = run(p);
    assert!(t.completed > 10, "{} completed", t.completed);
    assert_eq!(errors, [] as [&str; 0]);
    assert_eq!(t.body_bytes, 5 * t.completed);
    assert_eq!(resumed.load(Ordering::Relaxed), 0);
}

#[test]
fn tls_a_full_handshake_per_request_or_a_resumed_one() {
    let Some(cert) = tls::scratch("close") else { return };
    for resume in [false, true] {
        let (addr, resumed) = serve_tls(&cert, true);
        let mut p = plan(addr, false, None);
        p.tls = Some(tls::Client::new(&cert, resume).unwrap());
        let (t, errors) = run(p);
        assert!(t.completed > 10, "{} completed", t.completed);
        assert_eq!(errors, [] as [&str; 0]);
        let resumed = resumed.load(Ordering::Relaxed) as u64;
        if resume {
            assert!(resumed >= t.completed, "{resumed} resumed of {} completed", t.completed);
            // The first handshake of each connection slot cannot resume: warm-up takes those.
            assert_eq!(t.resumed, t.completed, "the client saw them resumed");
        } else {
            assert_eq!((resumed, t.resumed), (0, 0), "the client offered a session");
        }
    }
}

#[test]
fn tls_failures_are_counted_as_tls() {
    let Some(cert) = tls::scratch("fail") else { return };
    // Plain HTTP where a TLS record is due.
    let plain = serve_with(|mut s| {
        let _ = s.write_all(OK);
        let _ = s.read(&mut [0; 4096]);
    });
    let mut p = plan(plain, true, None);
    p.tls = Some(tls::Client::new(&cert, false).unwrap());
    assert_eq!(run(p).1, ["tls"]);
    // A server whose certificate the client does not trust.
    let Some(other) = tls::scratch("other") else { return };
    let (addr, _) = serve_tls(&other, false);
    let mut p = plan(addr, true, None);
    p.tls = Some(tls::Client::new(&cert, false).unwrap());
    assert_eq!(run(p).1, ["tls"]);
}
