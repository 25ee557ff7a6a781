//! The connection engine's cost per request, without the network: a
//! keep-alive connection answering GET for a 1 KiB static file, over an
//! in-memory transport, with a scoreboard slot and an access log as in the
//! default configuration; then the same connection freeing its buffers
//! whenever it goes idle (as the event MPM's do); the same served by the
//! second of two name-based virtual hosts (chosen per request by its Host
//! header, with its own ErrorLog and CustomLog); then the handler alone.
//! Prints allocations and time per request.
//!
//! Run: `cargo bench -p httpd-core --bench engine`. Not a test: it asserts
//! nothing and its times depend on the machine; compare runs side by side.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use httpd_core::config::{Config, LoadOptions, Source};
use httpd_core::http::{ConnInfo, Connection, Outcome, Transport};
use httpd_core::mpm::MpmKind;
use httpd_core::scoreboard::{Scoreboard, WorkerScore};
use httpd_core::server::ServerContext;

/// Counts allocations, to show whether the steady state allocates.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: defers to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's obligations pass through unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Feeds the same request forever, one per read; discards the output.
struct Loop {
    request: &'static [u8],
    pending: bool,
    written: u64,
    writes: u64,
}

impl Transport for Loop {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.pending {
            self.pending = true;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.pending = false;
        buf[..self.request.len()].copy_from_slice(self.request);
        Ok(self.request.len())
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.writes += 1;
        let n: usize = bufs.iter().map(|b| b.len()).sum();
        self.written += n as u64;
        Ok(n)
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The default configuration's per-request work: ExtendedStatus (on by
/// default) fills a scoreboard slot, and an access log line is written.
const CONF: &str = "Listen 127.0.0.1:0\nServerName localhost\nTypesConfig mime.types\n\
    MaxKeepAliveRequests 0\nErrorLog /dev/null\n\
    LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\"\" combined\n\
    CustomLog /dev/null combined\n";

/// CONF with two name-based vhosts on the bench's address; REQUEST's Host
/// names the second.
const VHOSTS: &str = "<VirtualHost *:80>\n  ServerName first.example\n</VirtualHost>\n\
    <VirtualHost *:80>\n  ServerName other.example\n  ServerAlias localhost\n  ErrorLog /dev/null\n\
    CustomLog /dev/null combined\n</VirtualHost>\n";

const REQUEST: &[u8] =
    b"GET /1k.html HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n";
const CLOSE_REQUEST: &[u8] =
    b"GET /1k.html HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nConnection: close\r\n\r\n";

fn main() {
    let root = std::env::temp_dir().join(format!("httpd-core-bench-{}", std::process::id()));
    std::fs::create_dir_all(root.join("htdocs")).unwrap();
    std::fs::write(root.join("htdocs/1k.html"), vec![b'x'; 1024]).unwrap();
    std::fs::write(root.join("mime.types"), "text/html html\n").unwrap();
    std::fs::write(root.join("httpd.conf"), CONF).unwrap();
    std::fs::write(root.join("vhosts.conf"), format!("{CONF}{VHOSTS}")).unwrap();
    let load = |file: &str| {
        let config = Config::load(&LoadOptions::new(MpmKind::Event, &root, Source::File(file.into())))
            .unwrap_or_else(|e| panic!("{}", e.render("bench")));
        ServerContext::new(&config, None).unwrap()
    };
    let ctx = load("httpd.conf");
    let vhosts = load("vhosts.conf");
    let binding = vhosts.bind("127.0.0.1:80".parse().unwrap());
    assert_eq!(vhosts.select(binding, Some("localhost")).name(), "other.example", "the bench's vhost");
    let board = Scoreboard::create(1, 1).unwrap();
    let requests: u64 = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);

    println!("engine, keep-alive GET of a 1 KiB file, {requests} requests:");
    let run = measure(&ctx, board.worker(0, 0), requests, false);
    println!("  {:.0} ns/request", run.ns);
    println!("  {:.2} allocations/request", run.allocations);
    println!("  {:.2} writes/request", run.writes);
    println!("  {} bytes/response", run.bytes);
    let run = measure(&ctx, board.worker(0, 0), requests, true);
    println!("  with release_buffers whenever idle (as event-server's connections):");
    println!("    {:.0} ns/request", run.ns);
    println!("    {:.2} allocations/request", run.allocations);
    let run = measure(&vhosts, board.worker(0, 0), requests, true);
    println!("  on a name-based virtual host, releasing buffers when idle:");
    println!("    {:.0} ns/request", run.ns);
    println!("    {:.2} allocations/request", run.allocations);
    let (ns, allocations) = per_connection(&ctx, board.worker(0, 0), requests / 4);
    println!("  a new connection per request (Connection: close):");
    println!("    {ns:.0} ns/connection");
    println!("    {allocations:.2} allocations/connection");
    handler_only(&ctx);
    let _ = std::fs::remove_dir_all(&root);
}

/// Figures per request.
struct Run {
    ns: f64,
    allocations: f64,
    writes: f64,
    bytes: u64,
}

/// One connection answering `requests` requests after a warm-up that brings
/// its buffers to their working size. With `release`, it frees its buffers
/// each time it goes idle in keep-alive, as the event MPM's connections do,
/// and the next request takes them back from the thread's pool.
fn measure(ctx: &ServerContext, slot: &'static WorkerScore, requests: u64, release: bool) -> Run {
    let info = ConnInfo {
        remote: "127.0.0.1:40000".parse().unwrap(),
        local: "127.0.0.1:80".parse().unwrap(),
        tls: None,
    };
    let mut conn = Connection::new(info, ctx);
    conn.set_slot(Some(slot), ctx);
    let mut io = Loop { request: REQUEST, pending: false, written: 0, writes: 0 };
    let step = |conn: &mut Connection, io: &mut Loop| {
        if conn.step(io, ctx) == Outcome::KeepAlive && release {
            conn.release_buffers();
        }
    };
    for _ in 0..1000 {
        step(&mut conn, &mut io);
    }
    let (allocs_before, writes_before) = (ALLOCATIONS.load(Ordering::Relaxed), io.writes);
    let start = Instant::now();
    for _ in 0..requests {
        step(&mut conn, &mut io);
    }
    let elapsed = start.elapsed();
    Run {
        ns: elapsed.as_nanos() as f64 / requests as f64,
        allocations: (ALLOCATIONS.load(Ordering::Relaxed) - allocs_before) as f64 / requests as f64,
        writes: (io.writes - writes_before) as f64 / requests as f64,
        bytes: io.written / (requests + 1000),
    }
}

/// A new connection per request, closed after its response: what the close
/// scenario costs in the engine, in ns and allocations per connection.
fn per_connection(ctx: &ServerContext, slot: &'static WorkerScore, connections: u64) -> (f64, f64) {
    let info = ConnInfo {
        remote: "127.0.0.1:40000".parse().unwrap(),
        local: "127.0.0.1:80".parse().unwrap(),
        tls: None,
    };
    let one = || {
        let mut conn = Connection::new(info, ctx);
        conn.set_slot(Some(slot), ctx);
        let mut io = Loop { request: CLOSE_REQUEST, pending: false, written: 0, writes: 0 };
        // Until the engine lets go: Close (or Linger, whose drain is the
        // socket's business, not the engine's cost).
        for _ in 0..4 {
            if matches!(conn.step(&mut io, ctx), Outcome::Close | Outcome::Linger) {
                break;
            }
        }
    };
    for _ in 0..1000 {
        one();
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    for _ in 0..connections {
        one();
    }
    let ns = start.elapsed().as_nanos() as f64 / connections as f64;
    (ns, (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / connections as f64)
}

/// Where the allocations are: the handler alone, called directly.
fn handler_only(ctx: &ServerContext) {
    let info = ConnInfo {
        remote: "127.0.0.1:40000".parse().unwrap(),
        local: "127.0.0.1:80".parse().unwrap(),
        tls: None,
    };
    let mut req = httpd_core::http::Request::new();
    let limits = httpd_core::http::parse::Limits { line: 8190, field_size: 8190, fields: 100 };
    httpd_core::http::parse::parse_head(
        b"GET /1k.html HTTP/1.1\r\nHost: localhost\r\n\r\n",
        &limits,
        &mut req,
    )
    .unwrap();
    for _ in 0..100 {
        let _ = httpd_core::handler::handle(ctx, ctx.main(), &info, &req);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        let _ = httpd_core::handler::handle(ctx, ctx.main(), &info, &req);
    }
    println!(
        "  handler alone: {:.2} allocations/request",
        (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / 1000.0
    );
}
