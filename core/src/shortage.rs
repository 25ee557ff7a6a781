//! Running out of descriptors at accept(2) (EMFILE, ENFILE).
//!
//! httpd's children exit on it (prefork) or stop accepting until they are
//! replaced, and clients wait in the backlog with no answer; a naive loop
//! would spin, the listener staying readable. Here a child keeps one spare
//! descriptor (`/dev/null`) for the purpose, as nginx and libuv do: when
//! accept fails for want of descriptors, the spare is closed, the waiting
//! connection accepted with the freed number, answered `503 Service
//! Unavailable` with `Retry-After`, closed, and the spare taken back. The
//! connections already being served go on. When even that fails (the spare
//! could not be taken back), the caller pauses accepting for [`PAUSE`]
//! rather than spin. The condition is logged once per [`LOG_INTERVAL`] with
//! how many clients were turned away, not once per failure.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::http::status::{ErrorContext, error_page, reason};

/// How long a client is asked to wait before trying again.
pub const RETRY_AFTER_SECS: u32 = 1;
/// [`RETRY_AFTER_SECS`] as the header's value.
pub const RETRY_AFTER: &str = "1";

/// How long accepting pauses when not even a 503 can be given.
pub const PAUSE: Duration = Duration::from_millis(100);

/// At most one error-log line about the shortage per interval.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Whether `e` is accept(2) failing for want of descriptors.
pub fn is_shortage(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(nix::libc::EMFILE | nix::libc::ENFILE))
}

/// One child's (or listener thread's) handling of a descriptor shortage.
pub struct Shortage {
    spare: Option<File>,
    /// When the condition was last logged, and the clients answered 503
    /// since.
    logged_at: Option<Instant>,
    turned_away: u64,
    paused_until: Option<Instant>,
}

impl Default for Shortage {
    fn default() -> Self {
        Shortage::new()
    }
}

impl Shortage {
    /// Takes the spare descriptor.
    pub fn new() -> Shortage {
        Shortage { spare: open_spare(), logged_at: None, turned_away: 0, paused_until: None }
    }

    /// accept(2) on `listener` failed with `e`, a shortage: answers one
    /// waiting client 503 through the spare descriptor. True when a client
    /// was answered (more may wait: accept again); false when none could be
    /// and accepting should pause (see [`Shortage::paused`]).
    pub fn shed(&mut self, listener: &TcpListener, e: &io::Error) -> bool {
        let answered = match self.spare.take() {
            Some(spare) => {
                drop(spare);
                let answered = match listener.accept() {
                    Ok((stream, _)) => {
                        turn_away(stream);
                        true
                    }
                    Err(_) => false,
                };
                self.spare = open_spare();
                answered
            }
            None => {
                self.spare = open_spare();
                false
            }
        };
        if answered {
            self.turned_away += 1;
        } else {
            self.paused_until = Some(Instant::now() + PAUSE);
        }
        self.log(e);
        answered
    }

    /// Pauses accepting now, as a shed that could answer nobody does.
    #[cfg(test)]
    pub(crate) fn pause_now(&mut self) {
        self.paused_until = Some(Instant::now() + PAUSE);
    }

    /// Whether accepting is paused now; when it is, how long it still is.
    pub fn paused(&mut self) -> Option<Duration> {
        let until = self.paused_until?;
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            self.paused_until = None;
            None
        } else {
            Some(left)
        }
    }

    fn log(&mut self, e: &io::Error) {
        if self.logged_at.is_some_and(|at| at.elapsed() < LOG_INTERVAL) {
            return;
        }
        log::error!(
            target: "mpm",
            "accept: {}: out of file descriptors; {} client(s) answered 503 with Retry-After since the last such line, connections in progress go on",
            crate::logs::os_error(e),
            self.turned_away
        );
        self.logged_at = Some(Instant::now());
        self.turned_away = 0;
    }
}

/// Whether a failure to open a file for want of descriptors should be
/// logged at error now: once per [`LOG_INTERVAL`] per process (the others
/// go at debug), as for accept.
pub fn log_now() -> bool {
    use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
    static LAST: AtomicI64 = AtomicI64::new(i64::MIN);
    let now = crate::http::date::unix_now();
    let last = LAST.load(Relaxed);
    now.saturating_sub(last) >= LOG_INTERVAL.as_secs() as i64
        && LAST.compare_exchange(last, now, Relaxed, Relaxed).is_ok()
}

fn open_spare() -> Option<File> {
    File::open("/dev/null").ok()
}

/// Answers `stream` 503 with Retry-After and closes it. The request, which
/// has usually arrived with the connection, is read first, so that closing
/// with unread bytes does not reset the connection before the client reads
/// the answer.
fn turn_away(mut stream: TcpStream) {
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let _ = stream.write_all(&service_unavailable());
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.read(&mut sink);
}

/// The whole 503 response, with httpd's page.
pub fn service_unavailable() -> Vec<u8> {
    let body = error_page(503, &ErrorContext::default());
    let mut out = format!(
        "HTTP/1.1 503 {}\r\nDate: {}\r\nRetry-After: {RETRY_AFTER_SECS}\r\nContent-Length: {}\r\n\
         Connection: close\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n",
        reason(503),
        crate::http::date::format(crate::http::date::unix_now()),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_503_has_retry_after_and_httpds_page() {
        let text = String::from_utf8(service_unavailable()).unwrap();
        assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\nDate: "), "{text}");
        assert!(text.contains("\r\nRetry-After: 1\r\n"), "{text}");
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())), "{text}");
        assert!(body.contains("<title>503 Service Unavailable</title>"), "{body}");
    }

    #[test]
    fn a_waiting_client_is_answered_through_the_spare() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut shortage = Shortage::new();
        let e = io::Error::from_raw_os_error(nix::libc::EMFILE);
        assert!(shortage.shed(&listener, &e));
        assert!(shortage.paused().is_none());
        let mut answer = Vec::new();
        client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        client.read_to_end(&mut answer).unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 503 Service Unavailable\r\n"));
        // Nobody waiting: nothing answered, accepting pauses.
        listener.set_nonblocking(true).unwrap();
        assert!(!shortage.shed(&listener, &e));
        assert!(shortage.paused().is_some());
    }
}
