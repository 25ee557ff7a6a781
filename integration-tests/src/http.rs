//! Running servers: [`Running`] starts a binary on an ephemeral loopback port
//! and stops it by pid when dropped; [`exchange`] sends raw bytes and returns
//! what came back; [`Response`] splits a response into its parts;
//! [`read_response`] reads one from a connection that stays open.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{ENV_PREFIX, Server};

/// How long a server may take to say where it listens, and a request to be
/// answered; these bound a hang, they are not expectations.
pub const START_LIMIT: Duration = Duration::from_secs(30);
pub const IO_LIMIT: Duration = Duration::from_secs(30);

/// A server process started by a test.
pub struct Running {
    child: Child,
    pub addr: SocketAddr,
    /// The addresses announced after the first (more Listen lines).
    more_addrs: mpsc::Receiver<String>,
    /// What the server printed on stderr so far is collected here.
    stderr: mpsc::Receiver<String>,
}

impl Running {
    /// Starts `server` with `-d root -f httpd.conf` plus `args`, listening on
    /// 127.0.0.1 with a port the kernel picks (`HTTPD_LISTEN` replaces the
    /// file's Listen lines), and waits for its `listening on` line.
    #[track_caller]
    pub fn start(server: Server, root: &Path, args: &[&str]) -> Running {
        let mut cmd = Command::new(server.path());
        cmd.arg("-d").arg(root).args(["-f", "httpd.conf", "-DFOREGROUND"]).args(args);
        Running::spawn(cmd, server.binary_name())
    }

    /// Runs `cmd` (a server binary with its arguments) with no inherited
    /// `HTTPD_*` variable but `HTTPD_LISTEN=127.0.0.1:0` (unless `cmd` sets
    /// or removes HTTPD_LISTEN itself: removed, the file's Listen lines
    /// stand), and waits for the port it announces; `name` is for messages.
    #[track_caller]
    pub fn spawn(mut cmd: Command, name: &str) -> Running {
        let own_listen = cmd.get_envs().any(|(k, _)| k == "HTTPD_LISTEN");
        for (var, _) in std::env::vars_os() {
            let upper = var.to_string_lossy().to_ascii_uppercase();
            if upper.starts_with(ENV_PREFIX) && !(own_listen && upper == "HTTPD_LISTEN") {
                cmd.env_remove(var);
            }
        }
        if !own_listen {
            cmd.env("HTTPD_LISTEN", "127.0.0.1:0");
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let (addr_tx, addr_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) =
                    line.strip_prefix("listening on http://").and_then(|a| a.strip_suffix('/'))
                {
                    let _ = addr_tx.send(addr.to_string());
                }
            }
        });
        let (err_tx, err_rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let addr = match addr_rx.recv_timeout(START_LIMIT) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let errors: Vec<String> = err_rx.try_iter().collect();
                panic!("{name} did not start within {START_LIMIT:?}:\n{}", errors.join("\n"));
            }
        };
        Running { child, addr, more_addrs: addr_rx, stderr: err_rx }
    }

    /// The next address the server announced after `addr` (one per further
    /// Listen line, in order), waiting for it up to [`START_LIMIT`].
    #[track_caller]
    pub fn next_addr(&self) -> SocketAddr {
        match self.more_addrs.recv_timeout(START_LIMIT) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => panic!("the server announced no further address within {START_LIMIT:?}"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `request` on a new connection and reads until the server closes.
    #[track_caller]
    pub fn exchange(&self, request: &[u8]) -> Vec<u8> {
        exchange(self.addr, request)
    }

    /// Lines the server wrote to stderr so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    /// The server's exit status if it has exited (reaping it), else `None`.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("waiting for the server")
    }

    /// Waits, polling, up to `limit` for the server to exit; panics past it.
    #[track_caller]
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        crate::wait_for("the server to exit", limit, || self.try_wait())
    }
}

impl Drop for Running {
    /// TERM, then KILL past a deadline: no failed test leaks a server.
    fn drop(&mut self) {
        // Already exited and reaped (a test stopped it): its pid may be
        // another process's by now.
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut pause = Duration::from_millis(1);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(pause); // back-off between checks
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connects to `addr`, writes `request`, and reads until the server closes
/// (or [`IO_LIMIT`] passes, which fails the test).
#[track_caller]
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    stream.set_read_timeout(Some(IO_LIMIT)).unwrap();
    // The server may answer and close before taking all of a hostile request.
    let _ = stream.write_all(request);
    // Half-close, as a client done sending: the server's lingering close
    // then ends at once instead of after its 2 s read timeout.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    match stream.read_to_end(&mut out) {
        Ok(_) => out,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => out,
        Err(e) => panic!(
            "reading the answer to {:?}: {e}",
            String::from_utf8_lossy(&request[..request.len().min(200)])
        ),
    }
}

/// Sends `GET target` (with `Host: addr`, `Connection: close`) on a new
/// connection and returns the one response, or why there is none: for loops
/// that count failed requests instead of stopping at the first.
pub fn try_get(addr: SocketAddr, target: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_LIMIT)?;
    stream.set_read_timeout(Some(IO_LIMIT))?;
    stream.write_all(
        format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    let mut all = Response::parse_all(&bytes);
    if all.len() != 1 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("expected one response, got {} in {:?}", all.len(), String::from_utf8_lossy(&bytes)),
        ));
    }
    Ok(all.remove(0))
}

/// [`try_get`], panicking on an I/O error.
#[track_caller]
pub fn get(addr: SocketAddr, target: &str) -> Response {
    try_get(addr, target).unwrap_or_else(|e| panic!("GET {target} from {addr}: {e}"))
}

/// Whether anything (data or EOF) can be read from `stream` without waiting.
pub fn has_input(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).expect("non-blocking");
    let mut byte = [0u8; 1];
    let ready = match stream.peek(&mut byte) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).expect("blocking");
    ready
}

/// Connects to `addr` with reads bounded by [`IO_LIMIT`].
#[track_caller]
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    stream.set_read_timeout(Some(IO_LIMIT)).expect("setting a read timeout");
    stream
}

/// Reads a response head from `stream`; returns it (without the blank line)
/// and the body bytes that came with it. Panics on EOF or an I/O error
/// before the head ends.
#[track_caller]
pub fn read_head(stream: &mut impl Read) -> (String, Vec<u8>) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = find(&bytes, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
            return (head, bytes[end + 4..].to_vec());
        }
        let n = stream.read(&mut chunk).unwrap_or_else(|e| {
            panic!("reading a response head after {:?}: {e}", String::from_utf8_lossy(&bytes))
        });
        assert!(
            n > 0 && bytes.len() < 64 * 1024,
            "no response head in {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// Reads into `body` until it holds `len` bytes (or a little more: reads
/// are not cut short) or EOF.
#[track_caller]
pub fn read_into(stream: &mut impl Read, body: &mut Vec<u8>, len: usize) {
    let mut chunk = vec![0u8; 64 * 1024];
    while body.len() < len {
        let n = stream
            .read(&mut chunk)
            .unwrap_or_else(|e| panic!("reading the body at byte {}: {e}", body.len()));
        if n == 0 {
            return;
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

/// Reads one whole response (its body framed by Content-Length, none
/// meaning empty) from a connection that stays open, as a keep-alive client
/// does; panics if more than that one response came.
#[track_caller]
pub fn read_response(stream: &mut impl Read) -> Response {
    let (head, mut body) = read_head(stream);
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(b"\r\n\r\n");
    let mut response = Response::parse(&bytes);
    let length = response.header("Content-Length").map_or(0, |v| {
        v.parse::<usize>().unwrap_or_else(|_| panic!("Content-Length {v:?} in {}", response.status_line))
    });
    read_into(stream, &mut body, length);
    assert_eq!(body.len(), length, "the body of {} ended early or ran long", response.status_line);
    response.body = body;
    response
}

/// Reads until the server closes the connection (a reset counts as closed);
/// returns what came. Panics if it stays open past the stream's read
/// timeout.
#[track_caller]
pub fn read_to_close(stream: &mut impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    match stream.read_to_end(&mut out) {
        Ok(_) => out,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => out,
        Err(e) => panic!("waiting for the server to close, after {:?}: {e}", String::from_utf8_lossy(&out)),
    }
}

/// One response, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// Splits every response in `bytes` (bodies by Content-Length; a
    /// response without one takes the rest).
    pub fn parse_all(mut bytes: &[u8]) -> Vec<Response> {
        let mut out = Vec::new();
        while let Some(end) = find(bytes, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap_or("").to_string();
            let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(": ").map(|(n, v)| (n.to_string(), v.to_string())))
                .collect();
            let rest = &bytes[end + 4..];
            let length = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse::<usize>().ok());
            let interim = (100..200).contains(&status);
            let take = if interim { 0 } else { length.unwrap_or(rest.len()).min(rest.len()) };
            out.push(Response { status, status_line, headers, body: rest[..take].to_vec() });
            bytes = &rest[take..];
        }
        out
    }

    /// The only response in `bytes`.
    #[track_caller]
    pub fn parse(bytes: &[u8]) -> Response {
        let mut all = Response::parse_all(bytes);
        assert_eq!(all.len(), 1, "expected one response, got:\n{}", String::from_utf8_lossy(bytes));
        all.remove(0)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
