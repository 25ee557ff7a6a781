//! What the process-model tests share: a ServerRoot sized in each MPM's own
//! directives ([`site`], [`spares`]), signals by pid, the error log,
//! waits on the children and the log, connections that hold a worker, sit
//! in the middle of a request or wait to write a response, and a request
//! loop on its own thread ([`Loop`]).
//!
//! Every wait polls a condition with a deadline ([`wait_for`],
//! [`wait_until`]); every loop is bounded in count and in time.

use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::http::{IO_LIMIT, Response, connect, read_head, read_response, try_get};
use crate::status::Auto;
use crate::{Server, TempDir, children_of, wait_until};

/// How long a condition that needs a maintenance pass or two (once a second)
/// may take before the test fails; it bounds a hang, it is not an estimate.
pub const LIMIT: Duration = Duration::from_secs(10);

/// The file the request loops fetch.
pub const SMALL: &str = "a small file\n";

/// ServerLimit in every [`site`]: the `?auto` Scoreboard line has one
/// character per slot and thread, so a small limit keeps it readable.
pub const SERVER_LIMIT: usize = 16;

/// ThreadsPerChild (and ThreadLimit) of worker and event in every [`site`]:
/// small, so that a few connections use up a child and the spare-thread
/// limits stay small numbers.
pub const THREADS_PER_CHILD: usize = 2;

/// Threads per child in a [`site`]: 1 for prefork.
pub fn threads(server: Server) -> usize {
    if server.is_threaded() { THREADS_PER_CHILD } else { 1 }
}

/// A ServerRoot whose server logs to `logs/` (the error log, PidFile, and an
/// access log of the serving process's pid, status and request line), serves
/// `htdocs/small.txt`, and answers `/server-status`; ServerLimit is
/// [`SERVER_LIMIT`], worker and event run [`THREADS_PER_CHILD`] threads a
/// child, and MaxRequestWorkers fills the scoreboard; `extra` adds
/// directives. `Listen 127.0.0.1:0` is for the `-k` runs (the harness's
/// HTTPD_LISTEN replaces it in the server itself).
pub fn site(server: Server, extra: &str) -> TempDir {
    sized_site(server, SERVER_LIMIT, threads(server), extra)
}

/// [`site`] with ServerLimit `server_limit` and, for worker and event,
/// ThreadsPerChild (and ThreadLimit) `threads_per_child`; MaxRequestWorkers
/// fills the scoreboard.
pub fn sized_site(server: Server, server_limit: usize, threads_per_child: usize, extra: &str) -> TempDir {
    let sizing = if server.is_threaded() {
        format!(
            "ThreadLimit {threads_per_child}\n\
             ThreadsPerChild {threads_per_child}\n\
             MaxRequestWorkers {}\n",
            server_limit * threads_per_child
        )
    } else {
        format!("MaxRequestWorkers {server_limit}\n")
    };
    let root = TempDir::server_root(&format!(
        "ServerName localhost\n\
         Listen 127.0.0.1:0\n\
         TypesConfig mime.types\n\
         DocumentRoot htdocs\n\
         ErrorLog logs/error_log\n\
         LogLevel info\n\
         PidFile logs/httpd.pid\n\
         LogFormat \"%P %>s %r\" pids\n\
         CustomLog logs/access_log pids\n\
         ServerLimit {server_limit}\n\
         {sizing}\
         <Location /server-status>\n\
         SetHandler server-status\n\
         </Location>\n\
         {extra}\n"
    ));
    root.write("mime.types", "text/plain txt\napplication/octet-stream bin\n");
    root.mkdir("logs");
    root.write("htdocs/small.txt", SMALL);
    root
}

/// StartServers and the spare limits in the MPM's own directives: `min` and
/// `max` count idle processes for prefork (MinSpareServers,
/// MaxSpareServers) and idle threads for worker and event (MinSpareThreads,
/// MaxSpareThreads, which httpd raises to at least MinSpareThreads +
/// ThreadsPerChild + 1: keep `max` above that). Either way: `min..=max`
/// idle threads, where a prefork child is one thread.
pub fn spares(server: Server, start: usize, min: usize, max: usize) -> String {
    if server.is_threaded() {
        format!("StartServers {start}\nMinSpareThreads {min}\nMaxSpareThreads {max}\n")
    } else {
        format!("StartServers {start}\nMinSpareServers {min}\nMaxSpareServers {max}\n")
    }
}

/// The notice the parent logs on USR1: httpd's prefork and worker/event
/// word it differently (AH00171 / AH00297 / AH00493).
pub fn graceful_restart_notice(server: Server) -> &'static str {
    match server {
        Server::Prefork => "Graceful restart requested, doing restart",
        Server::Worker | Server::Event => "SIGUSR1 received.  Doing graceful restart",
    }
}

pub fn signal(pid: u32, sig: Signal) {
    kill(Pid::from_raw(pid as i32), sig).unwrap_or_else(|e| panic!("sending {sig} to {pid}: {e}"));
}

pub fn error_log(root: &TempDir) -> String {
    std::fs::read_to_string(root.join("logs/error_log")).unwrap_or_default()
}

pub fn pid_file(root: &TempDir) -> PathBuf {
    root.join("logs/httpd.pid")
}

/// Waits until at least `count` lines of the error log contain `needle`;
/// returns the log.
#[track_caller]
pub fn wait_log(root: &TempDir, needle: &str, count: usize) -> String {
    wait_until(&format!("{count} error-log line(s) with {needle:?}"), LIMIT, || {
        let log = error_log(root);
        if log.lines().filter(|l| l.contains(needle)).count() >= count { Ok(log) } else { Err(log) }
    })
}

/// Waits until the parent has exactly `n` live children; returns their pids.
#[track_caller]
pub fn wait_children(parent: u32, n: usize) -> Vec<u32> {
    wait_until(&format!("{n} children of {parent}"), LIMIT, || {
        let children = children_of(parent);
        if children.len() == n { Ok(children) } else { Err(format!("{children:?}")) }
    })
}

/// Waits until the parent has `n` live children, `n` slots hold a child in
/// `?auto` and no thread there is STARTING (`threads` a child): every child
/// has set its signal handlers, dropped its privileges and runs its loop.
/// Returns the children.
#[track_caller]
pub fn wait_ready(parent: u32, addr: SocketAddr, threads: usize, n: usize) -> Vec<u32> {
    wait_until(&format!("{n} children ready in ?auto"), LIMIT, || {
        let children = children_of(parent);
        let auto = Auto::fetch(addr)?;
        if children.len() == n && auto.occupied(threads) == n && auto.count("S") == 0 {
            Ok(children)
        } else {
            Err(format!("children {children:?}, ?auto:\n{}", auto.text))
        }
    })
}

/// Whether `response` is the whole of `htdocs/small.txt`.
pub fn is_small_file(response: &Response) -> bool {
    response.status == 200 && response.body == SMALL.as_bytes()
}

/// `GET /small.txt` kept alive on `stream`; panics, naming `what`, unless
/// it is answered whole.
#[track_caller]
pub fn get_small_kept_alive(stream: &mut TcpStream, what: &str) {
    stream
        .write_all(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap_or_else(|e| panic!("{what}: sending a request: {e}"));
    let response = read_response(stream);
    assert!(is_small_file(&response), "{what}: {response:?}");
}

/// Starts `GET target` (Connection: close) on a new connection and reads
/// the response head, which must be a 200; returns the connection, the
/// head, and what of the body came with it.
#[track_caller]
pub fn begin_download(addr: SocketAddr, target: &str) -> (TcpStream, String, Vec<u8>) {
    let mut stream = connect(addr);
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("sending a request");
    let (head, body) = read_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    (stream, head, body)
}

/// `GET /small.txt` on a new connection; `Err` says how it failed.
pub fn fetch_small(addr: SocketAddr) -> Result<(), String> {
    match try_get(addr, "/small.txt") {
        Ok(r) if is_small_file(&r) => Ok(()),
        Ok(r) => Err(format!("{} with body {:?}", r.status_line, r.body_text())),
        Err(e) => Err(e.to_string()),
    }
}

/// The first part of a request head, without the blank line that ends it.
pub const HALF_REQUEST: &[u8] = b"GET /small.txt HTTP/1.1\r\nHost: held\r\n";

/// A connection in the middle of a request: a head that never ends. In
/// prefork and worker the thread that accepts it waits for the rest (one
/// connection per process or thread); in event it waits in the listener and
/// holds no worker. It may still sit in the listen backlog when this
/// returns.
pub fn hold(addr: SocketAddr) -> TcpStream {
    let mut stream = connect(addr);
    stream.write_all(HALF_REQUEST).expect("writing half a request");
    stream
}

/// The file [`hold_writing`] asks for, added to a site by
/// [`add_large_file`]: larger than what a loopback connection buffers on
/// both sides (Linux's defaults let the sender's buffer grow to 4 MiB and
/// the receiver's to 6 MiB), so that a server cannot finish writing it to a
/// client that reads nothing.
pub const LARGE: &str = "/large.bin";
pub const LARGE_LEN: u64 = 64 << 20;

/// Adds `htdocs/large.bin` ([`LARGE_LEN`] bytes) to a site, as a sparse
/// file: it takes no disk, and reads as zeros.
pub fn add_large_file(root: &TempDir) {
    let file = std::fs::File::create(root.join("htdocs/large.bin")).expect("creating htdocs/large.bin");
    file.set_len(LARGE_LEN).expect("sizing htdocs/large.bin");
}

/// A connection in write completion: a whole request for [`LARGE`], whose
/// response the client never reads, so the server's writes block once the
/// socket buffers are full. In event the connection then waits in the
/// listener (httpd's CONN_STATE_WRITE_COMPLETION) and holds no worker, but
/// counts against the child's connection limit as a request in progress
/// does. It may still sit in the listen backlog when this returns.
pub fn hold_writing(addr: SocketAddr) -> TcpStream {
    let mut stream = connect(addr);
    let request = format!("GET {LARGE} HTTP/1.1\r\nHost: held\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("writing a request");
    stream
}

/// [`hold`], known to be accepted: one whole request is answered on the
/// connection first (keep-alive), then the next request's head is left
/// unfinished.
#[track_caller]
pub fn hold_accepted(addr: SocketAddr) -> TcpStream {
    let mut stream = connect(addr);
    stream.write_all(b"GET /small.txt HTTP/1.1\r\nHost: held\r\n\r\n").expect("writing a request");
    let response = read_response(&mut stream);
    assert!(is_small_file(&response), "the first request on the held connection: {response:?}");
    stream.write_all(HALF_REQUEST).expect("writing half a request");
    stream
}

/// Whether connecting to `addr` is refused; a connection that is accepted is
/// closed at once.
pub fn refused(addr: SocketAddr) -> Result<(), String> {
    match TcpStream::connect_timeout(&addr, IO_LIMIT) {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => Ok(()),
        Err(e) => Err(format!("connect failed otherwise: {e}")),
        Ok(_) => Err("connected".to_string()),
    }
}

/// Whether a TCP socket of any process listens on `port` (IPv4 or IPv6),
/// from `/proc/net/tcp` and `/proc/net/tcp6`: `local_address` is
/// `ADDR:PORT` in hex, state `0A` is LISTEN.
pub fn listening(port: u16) -> bool {
    let port = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        text.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3 && fields[1].ends_with(&port) && fields[3] == "0A"
        })
    })
}

/// `len` bytes of a fixed pseudo-random sequence (xorshift64), so a lost,
/// repeated or misplaced block shows as a mismatch.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Panics, naming the first differing byte, unless `got` equals `expected`.
#[track_caller]
pub fn assert_same_bytes(what: &str, expected: &[u8], got: &[u8]) {
    assert_eq!(got.len(), expected.len(), "{what}: the length differs (cut short or ran long)");
    if let Some(at) = got.iter().zip(expected).position(|(a, b)| a != b) {
        panic!("{what} differs from byte {at}");
    }
}

/// A request loop on its own thread: `GET /small.txt` on a new connection
/// each time, counting requests made and keeping every failure, until
/// `stop` is set, `max` requests are made or [`LOOP_TIME`] passes.
/// `between(i)` runs before request `i`, while no request of the loop is
/// in flight.
pub struct Loop {
    served: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<(usize, Vec<String>)>,
}

/// The longest a request loop runs.
pub const LOOP_TIME: Duration = Duration::from_secs(30);

impl Loop {
    pub fn start(addr: SocketAddr, max: usize, mut between: impl FnMut(usize) + Send + 'static) -> Loop {
        let served = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (served.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut failures = Vec::new();
            let mut made = 0;
            while made < max && !halt.load(SeqCst) && started.elapsed() < LOOP_TIME {
                between(made);
                if let Err(e) = fetch_small(addr) {
                    failures.push(format!("request {made}: {e}"));
                }
                made += 1;
                count.fetch_add(1, SeqCst);
            }
            (made, failures)
        });
        Loop { served, stop, thread }
    }

    /// Requests made so far.
    pub fn served(&self) -> usize {
        self.served.load(SeqCst)
    }

    /// Stops the loop; returns how many requests it made and its failures.
    pub fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, SeqCst);
        self.join()
    }

    /// Lets the loop run to its end (`max` requests or [`LOOP_TIME`]);
    /// returns how many requests it made and its failures.
    pub fn join(self) -> (usize, Vec<String>) {
        match self.thread.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Makes room for `needed` descriptors in this process, raising the hard
/// limit too when allowed (root); panics, saying so, when it cannot.
pub fn allow_descriptors(needed: u64) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    if soft >= needed {
        return;
    }
    setrlimit(Resource::RLIMIT_NOFILE, needed, hard.max(needed)).unwrap_or_else(|e| {
        panic!("this test needs {needed} descriptors; RLIMIT_NOFILE is {soft} (hard {hard}) and raising it failed: {e}")
    });
}

/// Resident memory of process `pid` (VmRSS), in KiB; 0 when it is gone.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resident memory of the server's children, in KiB.
pub fn children_rss_kib(parent: u32) -> u64 {
    children_of(parent).into_iter().map(rss_kib).sum()
}
