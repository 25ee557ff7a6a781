//! The closed-loop client of `cargo xtask faults`: a few threads, each sending one
//! request after another, recording when each completed and which failed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const IO_LIMIT: Duration = Duration::from_secs(10);

/// What the clients send.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mix {
    /// `GET /index.html` on a new connection each time.
    Close,
    /// Every kind of request in turn, kept alive where the server keeps the connection.
    Everything,
}

/// One kind of request and the status it must get.
struct Kind {
    request: &'static str,
    status: u16,
    /// The response has no body whatever its Content-Length says (HEAD, 304).
    no_body: bool,
}

const EVERYTHING: [Kind; 8] = [
    Kind { request: "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 200, no_body: false },
    Kind { request: "GET /missing.html HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 404, no_body: false },
    Kind {
        request: "GET /index.html HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-9,20-29\r\n\r\n",
        status: 206,
        no_body: false,
    },
    Kind {
        request: "GET /index.html HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: *\r\n\r\n",
        status: 304,
        no_body: true,
    },
    Kind { request: "HEAD /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 200, no_body: true },
    Kind { request: "BREW /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 501, no_body: false },
    Kind {
        request: "GET /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        status: 400,
        no_body: false,
    },
    Kind {
        request: "GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        status: 200,
        no_body: false,
    },
];

/// What the clients saw.
#[derive(Debug, Default)]
pub(super) struct Completions {
    /// When each successful request completed, sorted.
    times: Vec<Instant>,
    pub(super) failed: usize,
}

impl Completions {
    pub(super) fn requests(&self) -> usize {
        self.times.len() + self.failed
    }

    /// The longest stretch between `from` and `to` with no request completing.
    pub(super) fn longest_gap(&self, from: Instant, to: Instant) -> Duration {
        let mut last = from;
        let mut longest = Duration::ZERO;
        for &t in self.times.iter().filter(|&&t| t >= from && t <= to) {
            longest = longest.max(t - last);
            last = t;
        }
        longest.max(to.saturating_duration_since(last))
    }
}

pub(super) struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Completions>>,
}

impl Load {
    pub(super) fn start(addr: SocketAddr, clients: usize, mix: Mix) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..clients)
            .map(|i| {
                let stop = stop.clone();
                std::thread::spawn(move || client(addr, mix, i, &stop))
            })
            .collect();
        Load { stop, threads }
    }

    pub(super) fn stop(self) -> Completions {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Completions::default();
        for t in self.threads {
            if let Ok(c) = t.join() {
                all.times.extend(c.times);
                all.failed += c.failed;
            }
        }
        all.times.sort_unstable();
        all
    }
}

fn client(addr: SocketAddr, mix: Mix, offset: usize, stop: &AtomicBool) -> Completions {
    let mut seen = Completions::default();
    let mut conn: Option<TcpStream> = None;
    let mut i = offset;
    while !stop.load(Ordering::SeqCst) {
        let (request, status, no_body, keep) = match mix {
            Mix::Close => (
                "GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                200,
                false,
                false,
            ),
            Mix::Everything => {
                let k = &EVERYTHING[i % EVERYTHING.len()];
                (k.request, k.status, k.no_body, true)
            }
        };
        i += 1;
        let stream = match conn.take() {
            Some(s) => s,
            None => match connect(addr) {
                Ok(s) => s,
                Err(_) => {
                    seen.failed += 1;
                    continue;
                }
            },
        };
        match exchange(stream, request, no_body) {
            Ok((got, open)) if got == status => {
                seen.times.push(Instant::now());
                if keep {
                    conn = open;
                }
            }
            _ => seen.failed += 1,
        }
    }
    seen
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, IO_LIMIT)?;
    s.set_read_timeout(Some(IO_LIMIT))?;
    s.set_write_timeout(Some(IO_LIMIT))?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Sends `request` and reads its response; returns the status and the connection if the
/// server keeps it open.
fn exchange(
    mut stream: TcpStream,
    request: &str,
    no_body: bool,
) -> std::io::Result<(u16, Option<TcpStream>)> {
    stream.write_all(request.as_bytes())?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let closes = head.contains("\r\nconnection: close");
    let length: Option<usize> =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok());
    let mut have = buf.len() - head_end;
    match (no_body, length) {
        (true, _) => {}
        (false, Some(len)) => {
            while have < len {
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                have += n;
            }
        }
        (false, None) => {
            while stream.read(&mut chunk)? > 0 {}
            return Ok((status, None));
        }
    }
    Ok((status, (!closes).then_some(stream)))
}
