//! The engine driven step by step: by a scripted transport that blocks
//! between chunks (so every split point is exercised), and on real
//! non-blocking sockets on loopback.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::config::{Config, LoadOptions, Source};
use crate::mpm::MpmKind;
use crate::server::ServerContext;

/// A ServerRoot with `htdocs/index.html` ("hello\n") and `extra` lines of
/// configuration; removed on drop.
struct Site {
    root: PathBuf,
    ctx: ServerContext,
}

impl Site {
    fn new(extra: &str) -> Site {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "httpd-core-engine-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(root.join("htdocs")).unwrap();
        std::fs::write(root.join("htdocs/index.html"), "hello\n").unwrap();
        std::fs::write(root.join("mime.types"), "text/html html\ntext/plain txt\n").unwrap();
        let conf = format!(
            "Listen 127.0.0.1:0\nServerName localhost\nServerTokens Prod\nTypesConfig mime.types\n\
             LimitRequestBody 1000\nErrorLog /dev/null\n{extra}\n"
        );
        std::fs::write(root.join("httpd.conf"), conf).unwrap();
        let mut options = LoadOptions::new(MpmKind::Event, &root, Source::File("httpd.conf".into()));
        options.env = Vec::new();
        let config = Config::load(&options).unwrap_or_else(|e| panic!("{}", e.render("test")));
        let mut ctx = ServerContext::new(&config, None).unwrap_or_else(|e| panic!("{e}"));
        ctx.servers[0].embedded_docroot = false;
        Site { root, ctx }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn info() -> ConnInfo {
    let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    ConnInfo { remote: addr, local: "127.0.0.1:8080".parse().unwrap(), tls: None }
}

/// Delivers `chunks` one read at a time, with a WouldBlock before each, then
/// end of stream; collects what is written.
struct Script {
    chunks: VecDeque<Vec<u8>>,
    blocked: bool,
    out: Vec<u8>,
    shut: bool,
    /// After the last chunk: keep blocking (a silent client) rather than EOF.
    hold_open: bool,
}

impl Script {
    fn new(chunks: Vec<Vec<u8>>) -> Script {
        let chunks = chunks.into_iter().filter(|c| !c.is_empty()).collect();
        Script { chunks, blocked: false, out: Vec::new(), shut: false, hold_open: false }
    }
}

impl Transport for Script {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.chunks.is_empty() {
            return if self.hold_open { Err(io::ErrorKind::WouldBlock.into()) } else { Ok(0) };
        }
        if !self.blocked {
            self.blocked = true;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.blocked = false;
        let mut chunk = self.chunks.pop_front().unwrap();
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            self.chunks.push_front(chunk.split_off(n));
        }
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut n = 0;
        for b in bufs {
            self.out.extend_from_slice(b);
            n += b.len();
        }
        Ok(n)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shut = true;
        Ok(())
    }
}

/// Runs a connection over `chunks` to its end; returns the output with Date
/// values blanked, and the outcomes seen.
fn run(site: &Site, chunks: Vec<Vec<u8>>) -> (String, Vec<Outcome>) {
    let mut io = Script::new(chunks);
    let mut conn = Connection::new(info(), &site.ctx);
    let mut outcomes = Vec::new();
    for _ in 0..100_000 {
        let o = conn.step(&mut io, &site.ctx);
        outcomes.push(o);
        if o == Outcome::Close {
            return (blank_dates(&io.out), outcomes);
        }
    }
    panic!("connection never closed: {outcomes:?}");
}

fn serve(site: &Site, input: &[u8]) -> String {
    run(site, vec![input.to_vec()]).0
}

fn blank_dates(out: &[u8]) -> String {
    let text = String::from_utf8_lossy(out);
    text.split("\r\n")
        .map(|line| if line.starts_with("Date: ") { "Date: X" } else { line })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn statuses(out: &str) -> Vec<u16> {
    out.split("HTTP/1.1 ").skip(1).filter_map(|s| s.get(..3)?.parse().ok()).collect()
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let site = Site::new("");
    let out = serve(
        &site,
        b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\nPOST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /missing2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n",
    );
    assert_eq!(statuses(&out).len(), 3, "{out}");
    assert!(
        out.ends_with("Connection: close\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n")
            || out.contains("Connection: close")
    );
    assert_eq!(out.matches("Connection: close").count(), 1, "{out}");
}

#[test]
fn malformed_heads_get_httpds_status_and_a_close() {
    let site = Site::new("");
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
    let long_field = format!("GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n", "a".repeat(9000));
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_vec(), 400),
        (long_line.into_bytes(), 414),
        (long_field.into_bytes(), 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n".to_vec(), 417),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n".to_vec(), 413),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n".to_vec(), 413),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(), 400),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/1.1\nHost: x\n\n".to_vec(), 400),
    ];
    for (input, status) in cases {
        let (out, _) = run(&site, vec![input.clone()]);
        assert_eq!(statuses(&out), [status], "{}\n---\n{out}", String::from_utf8_lossy(&input));
        assert!(out.contains("Connection: close\r\n"), "{out}");
    }
}

#[test]
fn errors_end_with_a_lingering_close() {
    let site = Site::new("");
    let mut io = Script::new(vec![b"GET / HTTP/1.1\r\n\r\n".to_vec()]);
    io.hold_open = true;
    let mut conn = Connection::new(info(), &site.ctx);
    let mut o = conn.step(&mut io, &site.ctx);
    while o == Outcome::ReadBlocked {
        o = conn.step(&mut io, &site.ctx);
    }
    // FIN sent, the client's further bytes drained, then closed.
    assert_eq!(o, Outcome::Linger);
    assert!(io.shut);
    io.chunks.push_back(b"more junk".to_vec());
    io.hold_open = false;
    while conn.step(&mut io, &site.ctx) != Outcome::Close {}
}

#[test]
fn expect_continue_is_answered_before_the_body_is_read() {
    let site = Site::new("");
    let head = b"POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n";
    let (out, _) = run(&site, vec![head.to_vec(), b"abc".to_vec()]);
    assert!(out.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 "), "{out}");
}

#[test]
fn http_1_0_keep_alive_header_and_max_keep_alive_requests() {
    let site = Site::new("MaxKeepAliveRequests 2\nKeepAliveTimeout 3");
    let one = b"GET /m HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    let out = serve(&site, &[&one[..], one, one, one].concat());
    assert_eq!(statuses(&out).len(), 3, "{out}");
    assert!(out.contains("Keep-Alive: timeout=3, max=2\r\nConnection: Keep-Alive\r\n"), "{out}");
    assert!(out.contains("Keep-Alive: timeout=3, max=1\r\nConnection: Keep-Alive\r\n"), "{out}");
    assert_eq!(out.matches("Connection: close").count(), 1);
    // Plain HTTP/1.0 closes.
    let out = serve(&site, b"GET /m HTTP/1.0\r\n\r\nGET /m HTTP/1.0\r\n\r\n");
    assert_eq!(statuses(&out).len(), 1);
    assert!(out.contains("Connection: close\r\n"));
}

#[test]
fn keep_alive_off_closes_after_one_response() {
    let site = Site::new("KeepAlive Off");
    let out = serve(&site, b"GET /m HTTP/1.1\r\nHost: x\r\n\r\nGET /m HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(statuses(&out).len(), 1);
    assert!(out.contains("Connection: close\r\n"));
}

#[test]
fn http_0_9_gets_the_body_alone() {
    let site = Site::new("");
    let out = serve(&site, b"GET /missing\r\n");
    assert!(out.starts_with("<!DOCTYPE HTML"), "{out}");
}

#[test]
fn head_responses_have_length_but_no_body() {
    let site = Site::new("");
    let out = serve(&site, b"HEAD /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(out.ends_with("Content-Type: text/html; charset=iso-8859-1\r\n\r\n"), "{out}");
    assert!(out.contains("Content-Length: "));
}

#[test]
fn timeouts() {
    let site = Site::new("");
    // Mid-head: 408 with httpd's page, then close.
    let mut io = Script::new(vec![b"GET / HTTP/1.1\r\nHo".to_vec()]);
    io.hold_open = true;
    let mut conn = Connection::new(info(), &site.ctx);
    while !conn.in_request() {
        assert_eq!(conn.step(&mut io, &site.ctx), Outcome::ReadBlocked);
    }
    io.hold_open = false;
    conn.timed_out(&site.ctx);
    while conn.step(&mut io, &site.ctx) != Outcome::Close {}
    let out = blank_dates(&io.out);
    assert!(out.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{out}");
    // Before any byte, or between requests: closed without a word.
    let mut conn = Connection::new(info(), &site.ctx);
    let mut io = Script::new(Vec::new());
    io.hold_open = true;
    assert_eq!(conn.step(&mut io, &site.ctx), Outcome::ReadBlocked);
    assert_eq!(conn.timed_out(&site.ctx), Outcome::Close);
    assert!(io.out.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A valid exchange split anywhere gives the same bytes as unsplit.
    #[test]
    fn split_anywhere_gives_the_same_response(cuts in proptest::collection::vec(0usize..200, 0..8)) {
        let site = Site::new("");
        let input = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        let whole = serve(&site, input);
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c % input.len()).collect();
        points.sort_unstable();
        points.dedup();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(input[last..p].to_vec());
            last = p;
        }
        chunks.push(input[last..].to_vec());
        let (split, _) = run(&site, chunks);
        prop_assert_eq!(split, whole);
    }

    /// Arbitrary bytes never panic, and the connection ends, its output
    /// being responses (or an HTTP/0.9 body) and nothing else.
    #[test]
    fn arbitrary_bytes_end_cleanly(input in proptest::collection::vec(any::<u8>(), 0..600), split in 1usize..64) {
        let site = Site::new("");
        let chunks: Vec<Vec<u8>> = input.chunks(split).map(<[u8]>::to_vec).collect();
        let (out, outcomes) = run(&site, chunks);
        prop_assert_eq!(outcomes.last(), Some(&Outcome::Close));
        prop_assert!(out.is_empty() || out.starts_with("HTTP/1.1 ") || out.starts_with("<!DOCTYPE"), "{}", out);
    }

    /// Valid requests with bytes flipped: still no panic, still an end.
    #[test]
    fn mutated_requests_end_cleanly(at in 0usize..120, byte in any::<u8>()) {
        let site = Site::new("");
        let mut input = b"POST /a?x=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n".to_vec();
        let at = at % input.len();
        input[at] = byte;
        let (_, outcomes) = run(&site, vec![input]);
        prop_assert_eq!(outcomes.last(), Some(&Outcome::Close));
    }
}

/// The event MPM's mode: the engine on a real non-blocking socket, stepped
/// only when the socket is ready, never holding the thread while it waits.
#[test]
fn drives_a_non_blocking_socket_step_by_step() {
    let site = Site::new("");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, remote) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    let info = ConnInfo { remote, local: server.local_addr().unwrap(), tls: None };
    let mut io = server;
    let mut conn = Connection::new(info, &site.ctx);

    // Nothing sent yet: the step returns at once, waiting to read.
    assert_eq!(conn.step(&mut io, &site.ctx), Outcome::ReadBlocked);
    client.write_all(b"GET /missing HTTP/1.1\r\nHo").unwrap();
    assert!(driver::wait_for(&io, nix::poll::PollFlags::POLLIN, Duration::from_secs(10)));
    assert_eq!(conn.step(&mut io, &site.ctx), Outcome::ReadBlocked);
    assert!(conn.in_request());
    client.write_all(b"st: x\r\n\r\n").unwrap();
    assert!(driver::wait_for(&io, nix::poll::PollFlags::POLLIN, Duration::from_secs(10)));
    // The response goes out and the connection idles in keep-alive.
    assert_eq!(conn.step(&mut io, &site.ctx), Outcome::KeepAlive);
    assert!(!conn.in_request());
    let mut buf = [0u8; 4096];
    let n = Read::read(&mut client, &mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
    assert_eq!(conn.served(), 1);

    // The client closes: the next step sees it and ends the connection.
    drop(client);
    assert!(driver::wait_for(&io, nix::poll::PollFlags::POLLIN, Duration::from_secs(10)));
    assert_eq!(conn.step(&mut io, &site.ctx), Outcome::Close);
}

/// A response larger than the socket buffer: the engine reports
/// WriteBlocked and resumes where it stopped.
#[test]
fn write_completion_resumes() {
    let site = Site::new("");
    let big = "b".repeat(4 << 20);
    std::fs::write(site.root.join("htdocs/big.txt"), &big).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, remote) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    let mut conn =
        Connection::new(ConnInfo { remote, local: server.local_addr().unwrap(), tls: None }, &site.ctx);
    let mut io = server;
    client.write_all(b"GET /big.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    assert!(driver::wait_for(&io, nix::poll::PollFlags::POLLIN, Duration::from_secs(10)));
    let mut received = Vec::new();
    let mut saw_blocked = false;
    let mut buf = vec![0u8; 1 << 16];
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    loop {
        match conn.step(&mut io, &site.ctx) {
            Outcome::WriteBlocked => {
                saw_blocked = true;
                let n = Read::read(&mut client, &mut buf).unwrap();
                received.extend_from_slice(&buf[..n]);
            }
            Outcome::Linger | Outcome::Close => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    // The driver closes the socket on Close; here the test does.
    drop(io);
    client.read_to_end(&mut received).unwrap();
    assert!(saw_blocked);
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{}", &text[..text.len().min(200)]);
    let body_start = text.find("\r\n\r\n").unwrap() + 4;
    assert_eq!(received.len() - body_start, big.len());
}
