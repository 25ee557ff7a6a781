//! Issue 10's "Done when" for event-server under TLS, at scale: 1,000 idle
//! TLS keep-alive connections held by two children of 25 workers while 20
//! other TLS clients are served; none is closed before KeepAliveTimeout,
//! and the scoreboard shows the workers idle (the listeners hold the
//! connections, as they hold plain ones). The children's resident memory
//! per idle TLS connection is printed, not asserted.
//!
//! Every wait polls a condition with a deadline; every loop is bounded in
//! count and in time.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use integration_tests::http::{Response, Running, has_input, read_response};
use integration_tests::status::Auto;
use integration_tests::supervised::{
    SMALL, allow_descriptors, children_rss_kib, sized_site, spares, wait_children,
};
use integration_tests::tls::{self, Authority};
use integration_tests::{Server, wait_until};
use rustls::ClientConfig;

const CHILDREN: usize = 2;
const THREADS: usize = 25;
const IDLE: usize = 1000;
/// Bounds the waits: 1,000 handshakes in a debug build take a while.
const LIMIT: Duration = Duration::from_secs(120);

/// `GET target` over TLS on a kept-alive connection.
fn get_kept_alive(conn: &mut tls::Tls, target: &str) -> Response {
    conn.write_all(format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .unwrap_or_else(|e| panic!("sending GET {target}: {e}"));
    read_response(conn)
}

/// server-status?auto, fetched over TLS.
fn auto(addr: SocketAddr, client: &Arc<ClientConfig>) -> Result<Auto, String> {
    let mut conn = tls::try_connect(addr, "localhost", client).map_err(|e| e.to_string())?;
    let response = Response::parse(&tls::exchange(
        &mut conn,
        b"GET /server-status?auto HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ));
    Ok(Auto::parse(&response.body_text()))
}

/// A client that makes TLS requests (a handshake each) until stopped.
struct Busy {
    served: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<String>>,
}

impl Busy {
    fn start(addr: SocketAddr, client: Arc<ClientConfig>) -> Busy {
        let (served, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let (count, halt) = (served.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut failures = Vec::new();
            while !halt.load(SeqCst) && started.elapsed() < LIMIT * 2 {
                let answer = tls::try_connect(addr, "localhost", &client).map(|mut conn| {
                    tls::exchange(
                        &mut conn,
                        b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                    )
                });
                match answer {
                    Ok(bytes)
                        if Response::parse_all(&bytes)
                            .first()
                            .is_some_and(|r| r.body == SMALL.as_bytes()) =>
                    {
                        count.fetch_add(1, SeqCst);
                    }
                    Ok(bytes) => failures.push(String::from_utf8_lossy(&bytes).into_owned()),
                    Err(e) => failures.push(e.to_string()),
                }
            }
            failures
        });
        Busy { served, stop, thread }
    }
}

fn wait_all_served(busy: &[Busy], what: &str) {
    let before: Vec<usize> = busy.iter().map(|b| b.served.load(SeqCst)).collect();
    wait_until(&format!("each busy client to be served {what}"), LIMIT, || {
        let now: Vec<usize> = busy.iter().map(|b| b.served.load(SeqCst)).collect();
        if now.iter().zip(&before).all(|(n, b)| n > b) {
            Ok(())
        } else {
            Err(format!("{before:?} -> {now:?}"))
        }
    });
}

#[test]
fn a_thousand_idle_tls_keep_alive_connections_beside_twenty_busy_clients() {
    allow_descriptors(IDLE as u64 + 512);
    let ca = Authority::new();
    let extra = format!(
        "{}KeepAliveTimeout 60\nSSLEngine on\nSSLCertificateFile localhost.crt\nSSLCertificateKeyFile localhost.key\n",
        spares(Server::Event, CHILDREN, 1, CHILDREN * THREADS)
    );
    let root = sized_site(Server::Event, CHILDREN, THREADS, &extra);
    ca.write(root.path(), "localhost", &["localhost"]);
    let httpd = Running::start(Server::Event, root.path(), &[]);
    wait_children(httpd.pid(), CHILDREN);
    let client = ca.default_client();
    let rss_before = children_rss_kib(httpd.pid());

    let busy: Vec<Busy> = (0..20).map(|_| Busy::start(httpd.addr, client.clone())).collect();
    let mut idle = Vec::with_capacity(IDLE);
    for i in 0..IDLE {
        let mut conn = tls::connect(httpd.addr, "localhost", &client);
        let response = get_kept_alive(&mut conn, "/small.txt");
        assert_eq!(response.body, SMALL.as_bytes(), "idle connection {i}, first request");
        idle.push(conn);
    }
    wait_all_served(&busy, "while the idle connections were opened");

    // The listeners hold the 1,000 between requests; no worker waits with one.
    let status = wait_until(&format!("?auto to count {IDLE} idle keep-alive connections"), LIMIT, || {
        let auto = auto(httpd.addr, &client)?;
        if auto.try_number("ConnsAsyncKeepAlive") >= Some(IDLE as u64) { Ok(auto) } else { Err(auto.text) }
    });
    let rss_after = children_rss_kib(httpd.pid());
    eprintln!(
        "{IDLE} idle TLS keep-alive connections: children's RSS {rss_before} KiB -> {rss_after} KiB ({:.1} KiB each)",
        rss_after.saturating_sub(rss_before) as f64 / IDLE as f64
    );
    assert!(status.number("BusyWorkers") < (CHILDREN * THREADS) as u64 / 2, "\n{}", status.text);

    wait_all_served(&busy, "beside the idle connections");
    for b in &busy {
        b.stop.store(true, SeqCst);
    }
    for (i, b) in busy.into_iter().enumerate() {
        let failures = b.thread.join().expect("a busy client");
        assert!(failures.is_empty(), "busy client {i}: {failures:?}");
    }

    // None was closed before KeepAliveTimeout, and each makes a second request.
    for (i, conn) in idle.iter().enumerate() {
        assert!(!has_input(&conn.sock), "idle connection {i} was closed or sent something while idle");
    }
    for (i, conn) in idle.iter_mut().enumerate() {
        let response = get_kept_alive(conn, "/small.txt");
        assert_eq!(response.body, SMALL.as_bytes(), "idle connection {i}, second request");
    }
}
