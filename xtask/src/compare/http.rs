//! The load generator's HTTP/1.1: requests as bytes, and a response reader that is fed what
//! each read returns and knows when a response is complete (Content-Length, or close).

/// A GET request; `Connection: close` when the client will not reuse the connection.
pub(crate) fn get(path: &str, host: &str, keep_alive: bool) -> Vec<u8> {
    let connection = if keep_alive { "" } else { "Connection: close\r\n" };
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: xtask-compare\r\n{connection}\r\n")
        .into_bytes()
}

/// A request head that never ends: `slow` clients send this, then one more byte of the last
/// header's value at a time.
pub(crate) fn endless_head(path: &str, host: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: xtask-compare\r\nX-Slow: ").into_bytes()
}

/// Why a response could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The connection ended before a whole head arrived (or before any byte of it).
    Reset,
    /// The connection ended before Content-Length bytes of body arrived.
    ShortBody,
    /// The head did not parse, used a transfer coding this client does not read, or more
    /// bytes came than the response announced.
    Parse,
    /// The TLS layer failed: a handshake or record the client refused, or an alert.
    Tls,
}

/// A complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// The server will close the connection (`Connection: close`, or HTTP/1.0 without keep-alive).
    pub(crate) close: bool,
    pub(crate) body_bytes: u64,
}

#[derive(Debug, Default)]
pub(crate) struct ResponseReader {
    head: Vec<u8>,
    body: Option<Body>,
}

#[derive(Debug, Clone, Copy)]
struct Body {
    status: u16,
    close: bool,
    /// None: delimited by the end of the connection.
    remaining: Option<u64>,
    read: u64,
}

/// What one `feed` amounted to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    More,
    Done(Response),
}

impl ResponseReader {
    pub(crate) fn reset(&mut self) {
        self.head.clear();
        self.body = None;
    }

    /// Whether any byte of the current response arrived.
    pub(crate) fn started(&self) -> bool {
        !self.head.is_empty() || self.body.is_some()
    }

    pub(crate) fn feed(&mut self, mut data: &[u8]) -> Result<Progress, Fault> {
        if self.body.is_none() {
            self.head.extend_from_slice(data);
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            let head_len = match response.parse(&self.head) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) if self.head.len() < 64 * 1024 => return Ok(Progress::More),
                _ => return Err(Fault::Parse),
            };
            let status = response.code.unwrap_or(0);
            let mut close = response.version == Some(0);
            let mut remaining = None;
            for h in response.headers.iter() {
                let value = std::str::from_utf8(h.value).unwrap_or("").trim();
                if h.name.eq_ignore_ascii_case("content-length") {
                    remaining = Some(value.parse::<u64>().map_err(|_| Fault::Parse)?);
                } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(Fault::Parse);
                } else if h.name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close")
                        || (response.version == Some(0) && !value.eq_ignore_ascii_case("keep-alive"));
                }
            }
            if status == 204 || status == 304 || (100..200).contains(&status) {
                remaining = Some(0);
            }
            let already = self.head.len() - head_len;
            self.body = Some(Body { status, close, remaining, read: 0 });
            // What followed the head in this read is body; the head buffer is done with.
            let start = data.len() - already;
            data = &data[start..];
            self.head.clear();
        }
        let body = self.body.as_mut().expect("head parsed above");
        let n = data.len() as u64;
        match body.remaining {
            Some(left) if n > left => Err(Fault::Parse),
            Some(left) => {
                body.remaining = Some(left - n);
                body.read += n;
                if left == n { Ok(Progress::Done(self.take())) } else { Ok(Progress::More) }
            }
            None => {
                body.read += n;
                Ok(Progress::More)
            }
        }
    }

    /// The connection ended: complete only for a close-delimited body.
    pub(crate) fn eof(&mut self) -> Result<Response, Fault> {
        match self.body {
            None => Err(Fault::Reset),
            Some(Body { remaining: None, .. }) => {
                let mut r = self.take();
                r.close = true;
                Ok(r)
            }
            Some(_) => Err(Fault::ShortBody),
        }
    }

    fn take(&mut self) -> Response {
        let b = self.body.take().expect("a body in progress");
        self.head.clear();
        Response { status: b.status, close: b.close, body_bytes: b.read }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` in order; the outcome of the last, or of the end of the connection.
    fn check(chunks: &[&str], then_eof: bool, expected: Result<Response, Fault>) {
        let mut r = ResponseReader::default();
        let mut got = None;
        for c in chunks {
            match r.feed(c.as_bytes()) {
                Ok(Progress::More) => {}
                Ok(Progress::Done(resp)) => got = Some(Ok(resp)),
                Err(f) => got = Some(Err(f)),
            }
        }
        if then_eof {
            got = Some(r.eof());
        }
        assert_eq!(got, Some(expected), "chunks {chunks:?}");
    }

    const OK5: &str = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    #[test]
    fn responses_are_delimited() {
        let ok = |close, body_bytes| Ok(Response { status: 200, close, body_bytes });
        check(&[OK5], false, ok(false, 5));
        check(&["HTTP/1.1 200 OK\r\nContent-", "Length: 5\r\n\r", "\nhel", "lo"], false, ok(false, 5));
        check(&["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"], false, ok(true, 0));
        check(&["HTTP/1.0 200 OK\r\n\r\nabc"], true, ok(true, 3));
        check(
            &["HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"],
            false,
            Ok(Response { status: 404, close: false, body_bytes: 2 }),
        );
    }

    #[test]
    fn faults_have_kinds() {
        check(&[], true, Err(Fault::Reset));
        check(&["HTTP/1.1 200 OK\r\n"], true, Err(Fault::Reset));
        check(&["HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello"], true, Err(Fault::ShortBody));
        check(&["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nhello"], false, Err(Fault::Parse));
        check(&["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"], false, Err(Fault::Parse));
        check(&["garbage\r\n\r\n"], false, Err(Fault::Parse));
    }

    #[test]
    fn a_reader_is_reused() {
        let mut r = ResponseReader::default();
        for _ in 0..3 {
            assert!(matches!(r.feed(OK5.as_bytes()), Ok(Progress::Done(_))));
            assert!(!r.started());
        }
    }
}
