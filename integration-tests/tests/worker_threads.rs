//! worker-server's threads (issue 6's "Done when"): a worker thread holds
//! a whole connection, so ThreadsPerChild x children requests are served at
//! once and the next one waits in the listen backlog until a thread is
//! free; idle threads, not processes, drive maintenance: a burst forks
//! children (1, then 2 ... a pass) and, once it ends, children are retired
//! one a pass until at most MaxSpareThreads threads are idle.
//!
//! The slow requests are heads left unfinished: worker's thread waits for
//! the rest (`R`). Every wait polls a condition with a deadline; the one
//! negative check (the 21st request is not answered) is a bounded
//! observation window, not a synchronization.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use integration_tests::http::{Response, Running, connect, read_response, read_to_close};
use integration_tests::status::Auto;
use integration_tests::supervised::{
    LIMIT, error_log, hold, is_small_file, sized_site, spares, wait_children, wait_log,
};
use integration_tests::{Server, children_of, wait_until};

/// Ends a held request (see [`hold`]) with `Connection: close` and reads
/// its answer; the connection closes after it.
#[track_caller]
fn release(mut held: TcpStream) -> Response {
    held.write_all(b"Connection: close\r\n\r\n").expect("finishing a held request");
    let response = read_response(&mut held);
    let rest = read_to_close(&mut held);
    assert!(rest.is_empty(), "more after the response: {:?}", String::from_utf8_lossy(&rest));
    response
}

/// Waits until `?auto` shows `children` children with every thread started.
#[track_caller]
fn wait_threads_ready(httpd: &Running, threads: usize, children: usize) {
    wait_until(&format!("{children} children of {threads} threads ready"), LIMIT, || {
        let auto = Auto::fetch(httpd.addr)?;
        let ready = auto.occupied(threads) == children && auto.count("S") == 0;
        if ready && auto.workers() == Some((children * threads) as u64) { Ok(()) } else { Err(auto.text) }
    });
}

#[test]
fn twenty_slow_requests_are_served_at_once_and_a_21st_waits() {
    // Two children of 10 threads and no room for a third (ServerLimit 2,
    // MaxRequestWorkers 20); MinSpareThreads 1 so maintenance has nothing to
    // do until every thread is busy, and then logs that MaxRequestWorkers is
    // reached.
    let server = Server::Worker;
    let root = sized_site(server, 2, 10, &spares(server, 2, 1, 20));
    let httpd = Running::start(server, root.path(), &[]);
    wait_children(httpd.pid(), 2);
    wait_threads_ready(&httpd, 10, 2);

    // 20 slow requests. Each child's listener accepts only for an idle
    // thread, so all 20 are on threads once no thread is idle, which the
    // parent's maintenance reports (AH00286) at its next pass.
    let mut held: Vec<TcpStream> = (0..20).map(|_| hold(httpd.addr)).collect();
    let reached =
        "AH00286: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting";
    wait_log(&root, reached, 1);

    // The 21st request: a status request, which waits in the listen backlog
    // while the 20 hold every thread.
    let mut status = connect(httpd.addr);
    status
        .write_all(b"GET /server-status?auto HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("sending the 21st request");
    status.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut byte = [0u8; 1];
    match status.read(&mut byte) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        got => panic!("the 21st request was answered while 20 held every thread: {got:?}"),
    }

    // One of the 20 ends: its thread is free, takes the 21st, whose page
    // shows the other 19 still reading their heads (`R`) and itself
    // sending (`W`): 20 requests in flight together, no thread idle.
    let first = release(held.remove(0));
    assert!(is_small_file(&first), "a held request's answer: {first:?}");
    status.set_read_timeout(Some(LIMIT)).unwrap();
    let page = read_response(&mut status);
    assert_eq!(page.status, 200, "{page:?}");
    let auto = Auto::parse(&page.body_text());
    assert_eq!(auto.scoreboard().len(), 20, "2 slots of 10 threads:\n{}", auto.text);
    assert_eq!((auto.count("R"), auto.count("W")), (19, 1), "\n{}", auto.text);
    assert_eq!((auto.number("BusyWorkers"), auto.number("IdleWorkers")), (20, 0), "\n{}", auto.text);

    // The other 19 are answered whole as they end.
    for (i, held) in held.into_iter().enumerate() {
        let response = release(held);
        assert!(is_small_file(&response), "held request {}: {response:?}", i + 1);
    }
    // httpd logs reaching MaxRequestWorkers once per run.
    let log = error_log(&root);
    assert_eq!(log.matches(reached).count(), 1, "\n{log}");
}

#[test]
fn a_burst_forks_children_and_then_they_are_retired_down_to_max_spare_threads() {
    // One child of 4 threads; at least 2 and at most 7 idle threads (the
    // least MaxSpareThreads httpd allows: MinSpareThreads + ThreadsPerChild
    // + 1).
    let server = Server::Worker;
    let root = sized_site(server, 8, 4, &spares(server, 1, 2, 7));
    let httpd = Running::start(server, root.path(), &[]);
    let (parent, addr) = (httpd.pid(), httpd.addr);
    wait_children(parent, 1);
    wait_threads_ready(&httpd, 4, 1);

    // A burst of 10 clients, each holding a thread: the first child's 4
    // threads are taken, so more children are forked (1, then 2 ... a pass,
    // the rate doubling while threads are short) until at least 2 threads
    // are idle: 4 children at least, for 10 busy threads, 2 idle and the
    // status request's.
    let burst: Vec<TcpStream> = (0..10).map(|_| hold(addr)).collect();
    let auto = wait_until("children for the burst, with 2 threads idle", LIMIT, || {
        let auto = Auto::fetch(addr)?;
        let busy = auto.try_number("BusyWorkers") == Some(11) && auto.count("R") == 10;
        if busy && auto.try_number("IdleWorkers") >= Some(2) { Ok(auto) } else { Err(auto.text) }
    });
    let grown = children_of(parent);
    assert!(grown.len() >= 4, "4 children of 4 threads at least: {grown:?}\n{}", auto.text);

    // The burst ends: more than 7 threads idle, so one child is retired a
    // pass (gracefully, through the pipe of death) until at most 7 are: one
    // child of 4 threads is left.
    drop(burst);
    let started = Instant::now();
    let mut seen = vec![grown.len()];
    wait_until("the children to be retired down to MaxSpareThreads", Duration::from_secs(20), || {
        let children = children_of(parent);
        if seen.last() != Some(&children.len()) {
            seen.push(children.len());
        }
        let auto = Auto::fetch(addr)?;
        if children.len() == 1 && auto.workers() == Some(4) && auto.occupied(4) == 1 {
            Ok(())
        } else {
            Err(format!("children {children:?}, ?auto:\n{}", auto.text))
        }
    });
    // One a pass, never several at once: the children are counted every
    // 50 ms or so, a pass is a second apart.
    assert!(seen.windows(2).all(|w| w[1] + 1 == w[0]), "children over time: {seen:?}");
    let retired = seen.len() as u32 - 1;
    assert!(
        started.elapsed() >= Duration::from_secs(1) * retired.saturating_sub(1),
        "{retired} children retired within {:?}: not one a second",
        started.elapsed()
    );
}
