//! The parent's signals on the real binaries, each test run against
//! prefork, worker and event: graceful restarts (USR1) under a request loop
//! fail no request, a graceful stop (WINCH) lets a slow download finish
//! whole and refuses new connections, TERM stops every child at once.
//!
//! Every wait polls a condition with a deadline ([`wait_for`],
//! [`wait_until`]); every loop is bounded in count and in time; servers are
//! signalled and stopped by pid, on ports the kernel picks.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use integration_tests::http::{IO_LIMIT, Running, connect, get, read_head, read_into, read_to_close};
use integration_tests::status::{Auto, json_number};
use integration_tests::supervised::{
    LIMIT, Loop, assert_same_bytes, error_log, graceful_restart_notice, hold_accepted, listening, pattern,
    pid_file, refused, signal, site, spares, threads, wait_children, wait_log,
};
use integration_tests::{Server, children_of, is_alive, supervised_servers, wait_for, wait_until};
use nix::sys::signal::Signal;

supervised_servers!(graceful_restarts_under_load_fail_no_request, |server| {
    let (min, max) = if server.is_threaded() { (2, 8) } else { (2, 6) };
    let root = site(server, &spares(server, 3, min, max));
    let httpd = Running::start(server, root.path(), &[]);
    let (parent, addr) = (httpd.pid(), httpd.addr);
    let first = wait_children(parent, 3);
    let notice = graceful_restart_notice(server);

    // USR1 k is sent once request 50k is made and the loop keeps going; the
    // loop waits before request 50k + 25 until the parent has logged that
    // restart, so all three land while requests flow and none merges with
    // the next (signals pending at once count as one).
    const REQUESTS: usize = 200;
    let restarts = Arc::new(AtomicUsize::new(0));
    let seen = restarts.clone();
    let requests = Loop::start(addr, REQUESTS, move |i| {
        if i % 50 == 25 && i > 50 {
            let k = (i - 25) / 50;
            wait_for(&format!("restart {k} to be logged"), LIMIT, || (seen.load(SeqCst) >= k).then_some(()));
        }
    });
    for k in 1..=3 {
        wait_for(&format!("request {}", 50 * k), LIMIT, || (requests.served() >= 50 * k).then_some(()));
        signal(parent, Signal::SIGUSR1);
        wait_log(&root, notice, k);
        restarts.store(k, SeqCst);
    }
    let (made, failures) = requests.join();
    assert_eq!(made, REQUESTS, "the loop ran out of time");
    assert!(failures.is_empty(), "{} of {made} requests failed:\n{}", failures.len(), failures.join("\n"));

    // Every child of the first generation has gone; generations moved.
    wait_until("the first generation's children to exit", LIMIT, || {
        let left: Vec<u32> = first.iter().copied().filter(|&c| is_alive(c)).collect();
        if left.is_empty() { Ok(()) } else { Err(format!("{left:?} of {first:?}")) }
    });
    let auto = Auto::get(addr);
    assert_eq!(auto.value("ParentServerMPMGeneration"), "3", "\n{}", auto.text);
    assert_eq!(auto.value("ParentServerConfigGeneration"), "4", "\n{}", auto.text);
    let json = get(addr, "/server-status?json").body_text();
    assert_eq!(json_number(&json, "ParentServerMPMGeneration"), Some(3), "\n{json}");
    assert_eq!(json_number(&json, "ParentServerConfigGeneration"), Some(4), "\n{json}");
    let log = error_log(&root);
    assert_eq!(log.matches(notice).count(), 3, "\n{log}");
});

supervised_servers!(graceful_stop_finishes_a_slow_download_then_exits, |server| {
    let (min, max) = if server.is_threaded() { (2, 8) } else { (2, 4) };
    let root = site(server, &spares(server, 3, min, max));
    // Larger than every socket buffer between the child and this test, so
    // the child is still sending when WINCH comes (prefork and worker: its
    // thread is writing; event: the listener holds it in write completion).
    let big = pattern(20 << 20);
    root.write("htdocs/big.bin", &big);
    let mut httpd = Running::start(server, root.path(), &[]);
    let (parent, addr) = (httpd.pid(), httpd.addr);
    wait_children(parent, 3);

    let mut download = connect(addr);
    download.write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let (head, mut body) = read_head(&mut download);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains(&format!("\r\nContent-Length: {}", big.len())), "{head}");
    read_into(&mut download, &mut body, 1 << 20);

    // WINCH: idle children leave at once, the parent stops listening and
    // removes PidFile; the one child sending waits for this client, which
    // reads nothing until the checks below are done.
    signal(parent, Signal::SIGWINCH);
    wait_log(&root, "caught SIGWINCH, shutting down gracefully", 1);
    let sender = wait_until("the idle children to exit, leaving the one sending", LIMIT, || {
        let children = children_of(parent);
        if children.len() == 1 { Ok(children[0]) } else { Err(format!("{children:?}")) }
    });
    assert!(!pid_file(&root).exists(), "PidFile still there after WINCH");
    assert!(httpd.try_wait().is_none(), "the parent exited with a download in flight");
    // MPM-SPEC §6.2: new connections are refused as soon as WINCH is
    // handled; a stopping child closes its listening sockets, so no
    // process holds them open any more. The sender closes its copies in its
    // USR1 handler, which may run after the idle children are gone: wait
    // for the kernel to list no listening socket on the port.
    wait_until("no socket to listen on the port after WINCH", LIMIT, || {
        if listening(addr.port()) { Err(format!("port {} still listening", addr.port())) } else { Ok(()) }
    });
    if let Err(got) = refused(addr) {
        panic!(
            "a connection after WINCH, while child {sender} finishes its download: expected refused, {got}"
        );
    }

    // The rest of the download, at a bounded pace (a pause per 256 KiB, at
    // most about 0.4 s in all): the graceful stop has to wait for it.
    let pace_started = Instant::now();
    while body.len() < big.len() && pace_started.elapsed() < IO_LIMIT {
        let before = body.len();
        read_into(&mut download, &mut body, before + (256 << 10));
        if body.len() == before {
            break; // EOF
        }
        std::thread::sleep(Duration::from_millis(5)); // the client's read pace, not a synchronization
    }
    read_into(&mut download, &mut body, big.len() + 1);
    assert_same_bytes("the download of htdocs/big.bin", &big, &body);
    drop(download); // ends the child's lingering close

    let status = httpd.wait_exit(LIMIT);
    assert!(status.success(), "the server exited with {status}");
    assert!(!is_alive(sender), "child {sender} outlived the parent");
    refused(addr).unwrap_or_else(|got| panic!("a connection after the server exited: {got}"));
});

supervised_servers!(term_stops_every_child_at_once, |server| {
    // One idle thread at least: with one connection held and one answering
    // ?auto, one is still idle, so no child is forked behind the test's back.
    let (min, max) = if server.is_threaded() { (1, 8) } else { (1, 4) };
    let root = site(server, &spares(server, 3, min, max));
    let mut httpd = Running::start(server, root.path(), &[]);
    let (parent, addr) = (httpd.pid(), httpd.addr);
    wait_children(parent, 3);
    // Every child running its loop: one caught in its first moments, before
    // it sets its own signal handlers, would take TERM for the parent's
    // handler and live on until the parent's next TERM, 3 s later (as in
    // httpd, whose reclaim loop sends it again). (Every child the OS shows:
    // event-server may have forked a fourth, see event_connections.rs.)
    let threads = threads(server);
    let children = wait_until("every child ready in ?auto", LIMIT, || {
        let children = children_of(parent);
        let auto = Auto::fetch(addr)?;
        if auto.occupied(threads) == children.len() && auto.count("S") == 0 {
            Ok(children)
        } else {
            Err(format!("children {children:?}, ?auto:\n{}", auto.text))
        }
    });
    // One connection is in the middle of its second request; TERM does not
    // wait for it.
    let mut held = hold_accepted(addr);
    wait_until("?auto to show the held connection", LIMIT, || {
        let auto = Auto::fetch(addr)?;
        let shown = match server {
            // Its process or thread reads the request (`R`), and the status
            // request is the other busy one.
            Server::Prefork | Server::Worker => auto.find("BusyWorkers") == Some("2") && auto.count("R") == 1,
            // The listener holds it: no worker is busy but the status
            // request's, and it is not a keep-alive connection any more.
            Server::Event => {
                auto.find("BusyWorkers") == Some("1")
                    && auto.try_number("ConnsTotal") >= Some(1)
                    && auto.find("ConnsAsyncKeepAlive") == Some("0")
            }
        };
        if shown { Ok(()) } else { Err(auto.text) }
    });
    let children: BTreeSet<u32> = children.into_iter().chain(children_of(parent)).collect();

    signal(parent, Signal::SIGTERM);
    wait_until("every child to be gone within 2 s of TERM", Duration::from_secs(2), || {
        let left: Vec<u32> = children.iter().copied().filter(|&c| is_alive(c)).collect();
        let unknown = children_of(parent);
        if left.is_empty() && unknown.is_empty() {
            Ok(())
        } else {
            Err(format!("{left:?} of {children:?}, and children {unknown:?}"))
        }
    });
    let status = httpd.wait_exit(Duration::from_secs(2));
    assert!(status.success(), "the server exited with {status}");

    // The held request was cut, not left to its timeout: no answer, closed.
    held.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let rest = read_to_close(&mut held);
    assert!(rest.is_empty(), "the held request got {:?}", String::from_utf8_lossy(&rest));
    let log = error_log(&root);
    assert!(log.contains("caught SIGTERM, shutting down"), "\n{log}");
    // httpd does not log children ended by the TERM it sent them.
    assert!(!log.contains("exit signal"), "\n{log}");
    assert!(!pid_file(&root).exists(), "PidFile left after TERM");
});
