//! Issue 7's "Done when", at the issue's own scale, on the real
//! event-server with ThreadsPerChild 25 and two children: 2,000 idle
//! keep-alive connections beside 20 busy clients; a client reading a 64 MiB
//! file at a few MB/s beside 50 others; 1,000 clients dribbling request
//! heads one byte a second beside normal clients. (`event_connections.rs`
//! checks the same behaviours on one child of four workers, where holding
//! a worker would show at once.)
//!
//! Each test needs a few thousand descriptors: the test raises its own
//! RLIMIT_NOFILE first (the server raises its own at start).
//!
//! Every wait polls a condition with a deadline; every loop is bounded in
//! count and in time; the clients' pauses are their pace, not a
//! synchronization.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use integration_tests::http::{Response, Running, connect, has_input, read_to_close};
use integration_tests::status::Auto;
use integration_tests::supervised::{
    LIMIT, Loop, allow_descriptors, assert_same_bytes, begin_download, children_rss_kib, fetch_small,
    get_small_kept_alive, pattern, sized_site, spares, wait_children,
};
use integration_tests::{Server, TempDir, wait_until};

const CHILDREN: usize = 2;
const THREADS: usize = 25;

/// A ServerRoot of two event children of 25 workers each, httpd's other
/// defaults (AsyncRequestWorkerFactor 2), and `extra`.
fn two_children(extra: &str) -> TempDir {
    let server = Server::Event;
    let directives = format!("{}{extra}", spares(server, CHILDREN, 1, CHILDREN * THREADS));
    sized_site(server, CHILDREN, THREADS, &directives)
}

fn start(root: &TempDir) -> Running {
    let httpd = Running::start(Server::Event, root.path(), &[]);
    wait_children(httpd.pid(), CHILDREN);
    httpd
}

/// 20 request loops, each on its own thread.
fn busy_clients(httpd: &Running) -> Vec<Loop> {
    (0..20).map(|_| Loop::start(httpd.addr, usize::MAX, |_| {})).collect()
}

/// Stops the loops; panics on any failed request.
fn stop_clients(loops: Vec<Loop>, what: &str) {
    for (i, l) in loops.into_iter().enumerate() {
        let (made, failures) = l.finish();
        assert!(failures.is_empty(), "busy client {i} {what}: {made} requests, failures {failures:?}");
    }
}

/// Waits until every loop has made more requests than it had at `before`.
fn wait_all_served(loops: &[Loop], before: &[usize], what: &str) {
    wait_until(&format!("each busy client to be served {what}"), LIMIT, || {
        let now: Vec<usize> = loops.iter().map(Loop::served).collect();
        if now.iter().zip(before).all(|(n, b)| n > b) {
            Ok(())
        } else {
            Err(format!("{before:?} -> {now:?}"))
        }
    });
}

#[test]
fn two_thousand_idle_keep_alive_connections_beside_twenty_busy_clients() {
    const IDLE: usize = 2000;
    allow_descriptors(IDLE as u64 + 512);
    let root = two_children("KeepAliveTimeout 60\n");
    let httpd = start(&root);
    let rss_before = children_rss_kib(httpd.pid());

    let loops = busy_clients(&httpd);
    let mut idle: Vec<TcpStream> = Vec::with_capacity(IDLE);
    let mark: Vec<usize> = loops.iter().map(Loop::served).collect();
    for i in 0..IDLE {
        let mut stream = connect(httpd.addr);
        get_small_kept_alive(&mut stream, &format!("idle connection {i}, first request"));
        idle.push(stream);
    }
    wait_all_served(&loops, &mark, "while the idle connections were opened");

    // The two listeners hold all 2,000 between requests.
    let auto = wait_until(&format!("?auto to count {IDLE} idle keep-alive connections"), LIMIT, || {
        let auto = Auto::fetch(httpd.addr)?;
        if auto.try_number("ConnsAsyncKeepAlive") >= Some(IDLE as u64) { Ok(auto) } else { Err(auto.text) }
    });
    let rss_after = children_rss_kib(httpd.pid());
    eprintln!(
        "{IDLE} idle keep-alive connections: children's RSS {rss_before} KiB -> {rss_after} KiB ({:.1} KiB each)",
        rss_after.saturating_sub(rss_before) as f64 / IDLE as f64
    );
    assert!(auto.number("BusyWorkers") < (CHILDREN * THREADS) as u64, "\n{}", auto.text);

    // The busy clients go on being served while the 2,000 idle.
    let mark: Vec<usize> = loops.iter().map(Loop::served).collect();
    wait_all_served(&loops, &mark, "beside the idle connections");
    stop_clients(loops, "beside 2,000 idle connections");

    // None was closed before KeepAliveTimeout, and each makes a second request.
    for (i, stream) in idle.iter().enumerate() {
        assert!(!has_input(stream), "idle connection {i} was closed or sent something while idle");
    }
    for (i, stream) in idle.iter_mut().enumerate() {
        get_small_kept_alive(stream, &format!("idle connection {i}, second request"));
    }
}

#[test]
fn a_slow_reader_of_64_mib_is_in_write_completion_while_50_others_are_served() {
    const SIZE: usize = 64 << 20;
    /// The reader's pace: 64 KiB every 12 ms, about 5 MB/s.
    const STEP: usize = 64 << 10;
    const PACE: Duration = Duration::from_millis(12);
    let root = two_children("");
    let big = pattern(SIZE);
    root.write("htdocs/big.bin", &big);
    let httpd = start(&root);

    let (mut download, head, mut body) = begin_download(httpd.addr, "/big.bin");
    assert!(head.contains(&format!("\r\nContent-Length: {SIZE}")), "{head}");

    let started = Instant::now();
    let mut chunk = vec![0u8; STEP];
    let mut others = 0;
    let mut checks = 0;
    while body.len() < SIZE && started.elapsed() < Duration::from_secs(60) {
        // Every 8 MiB the reader stops a moment: the response waits in
        // write completion, with the listener, and holds no worker; ten
        // other clients are served meanwhile.
        if body.len() >= checks * (8 << 20) && others < 50 {
            wait_until("?auto to show the download in write completion, not on a worker", LIMIT, || {
                let auto = Auto::fetch(httpd.addr)?;
                let writing = auto.try_number("ConnsAsyncWriting") >= Some(1);
                if writing && auto.try_number("BusyWorkers") == Some(1) { Ok(()) } else { Err(auto.text) }
            });
            for _ in 0..10 {
                fetch_small(httpd.addr).unwrap_or_else(|e| panic!("other client {others}: {e}"));
                others += 1;
            }
            checks += 1;
        }
        let want = STEP.min(SIZE - body.len());
        let n = download
            .read(&mut chunk[..want])
            .unwrap_or_else(|e| panic!("reading the body at byte {}: {e}", body.len()));
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
        std::thread::sleep(PACE); // the reader's pace, not a synchronization
    }
    assert_eq!(others, 50, "other clients served while the download ran");
    body.extend(read_to_close(&mut download));
    assert_same_bytes("the download of htdocs/big.bin", &big, &body);
}

/// What a slow client sends, a byte a second: its whole head from the
/// first byte, or its request line at once and then its header lines.
const DRIBBLED: &[u8] =
    b"GET /small.txt HTTP/1.1\r\nHost: slow\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const LINE_FIRST: usize = "GET /small.txt HTTP/1.1\r\n".len();

#[test]
fn a_thousand_slow_request_heads_beside_normal_clients_then_timeout() {
    const SLOW: usize = 1000;
    /// Seconds: the slow clients would send a byte a second for longer.
    const TIMEOUT: u64 = 5;
    allow_descriptors(SLOW as u64 + 512);
    let root = two_children(&format!("Timeout {TIMEOUT}\n"));
    let httpd = start(&root);

    // Even-numbered clients dribble their request line too; odd ones send
    // it whole, then dribble header bytes. `sent` counts each one's bytes.
    let mut slow: Vec<(TcpStream, Instant, usize)> = (0..SLOW)
        .map(|i| {
            let mut stream = connect(httpd.addr);
            let first = if i % 2 == 0 { 1 } else { LINE_FIRST };
            stream.write_all(&DRIBBLED[..first]).unwrap_or_else(|e| panic!("slow client {i}: {e}"));
            (stream, Instant::now(), first)
        })
        .collect();
    let mut latencies = Vec::new();
    // When each slow client first found something to read (or the close).
    let mut answered: Vec<Option<Instant>> = vec![None; SLOW];
    for second in 0..TIMEOUT * 3 {
        // One byte a second from each slow client not yet answered...
        let tick = Instant::now();
        for (i, (stream, _, sent)) in slow.iter_mut().enumerate() {
            if answered[i].is_some() {
                continue;
            }
            if has_input(stream) {
                answered[i] = Some(Instant::now());
                continue;
            }
            let _ = stream.write_all(&DRIBBLED[*sent..*sent + 1]);
            *sent += 1;
        }
        // ...while normal clients are served, none waiting for the slow ones.
        for _ in 0..5 {
            let asked = Instant::now();
            fetch_small(httpd.addr).unwrap_or_else(|e| panic!("a normal client at second {second}: {e}"));
            latencies.push(asked.elapsed());
        }
        if answered.iter().all(Option::is_some) {
            break;
        }
        std::thread::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed())); // the slow clients' pace
    }
    let slowest = latencies.iter().max().copied().unwrap_or_default();
    eprintln!("{} normal requests beside {SLOW} slow heads, the slowest in {slowest:?}", latencies.len());
    assert!(
        slowest < Duration::from_secs(TIMEOUT),
        "a normal client waited {slowest:?}, as long as the slow ones' Timeout"
    );

    // Each slow client was answered while it was still sending: Timeout
    // runs from when its head began, however often a byte comes (a byte a
    // second would otherwise hold the connection for ever). As httpd, a
    // request line that never ended gets just the close; a head cut in its
    // header lines gets the 408. Answers are looked for once a second,
    // hence the second of slack.
    for (i, ((mut stream, began, _), answered)) in slow.into_iter().zip(answered).enumerate() {
        let at = answered.unwrap_or_else(|| panic!("slow client {i} was not answered while it sent"));
        let waited = at.duration_since(began);
        assert!(waited >= Duration::from_secs(TIMEOUT - 1), "slow client {i}: answered after {waited:?}");
        let bytes = read_to_close(&mut stream);
        if i % 2 == 0 {
            assert!(bytes.is_empty(), "slow client {i}, its line cut: {:?}", String::from_utf8_lossy(&bytes));
        } else {
            let response = Response::parse(&bytes);
            assert_eq!(response.status_line, "HTTP/1.1 408 Request Timeout", "slow client {i}: {response:?}");
        }
    }
    // Still serving.
    for i in 0..5 {
        fetch_small(httpd.addr).unwrap_or_else(|e| panic!("request {i} after the slow clients: {e}"));
    }
}
