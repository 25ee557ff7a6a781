//! Request heads, read as httpd 2.4 reads them with `HttpProtocolOptions
//! Strict` (its default): CRLF line ends, one space between the parts of the
//! request line, LimitRequestLine / LimitRequestFieldSize / LimitRequestFields
//! checked as bytes arrive, so a hostile client cannot make us buffer more.
//!
//! The request line is split here (httparse accepts only HTTP/1.0 and 1.1,
//! and httpd answers `HTTP/1.2` or `HTTP/2.0` lines as 1.1); the header block
//! goes through `httparse::parse_headers` for token and value validation.

use super::message::{Request, Version};

/// httparse needs a fixed array; LimitRequestFields above this is still
/// enforced, in chunks.
const HEADER_SLOTS: usize = 128;

/// The limits a head is read under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// LimitRequestLine.
    pub line: usize,
    /// LimitRequestFieldSize.
    pub field_size: usize,
    /// LimitRequestFields; 0 is unlimited.
    pub fields: usize,
}

/// A request that gets an error response, and why (for the error log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    pub status: u16,
    /// A sentence httpd adds to some 400 pages.
    pub note: &'static str,
    /// The error-log message (info level, as httpd's).
    pub log: String,
}

impl RequestError {
    pub fn new(status: u16, log: impl Into<String>) -> Self {
        RequestError { status, note: "", log: log.into() }
    }

    fn bad(log: impl Into<String>) -> Self {
        RequestError::new(400, log)
    }
}

/// Tries to parse a complete head at the start of `buf` into `req`.
///
/// `Ok(None)`: more bytes are needed (and what is there is within limits).
/// `Ok(Some(n))`: the head is the first `n` bytes.
/// On error, `req.line` holds the request line if it was read.
pub fn parse_head(buf: &[u8], limits: &Limits, req: &mut Request) -> Result<Option<usize>, RequestError> {
    // httpd skips empty lines before a request line.
    let mut start = 0;
    while buf[start..].starts_with(b"\r\n") {
        start += 2;
    }
    if buf[start..].first() == Some(&b'\n') {
        return Err(RequestError::bad("request line ends with a bare LF"));
    }
    let Some(line_end) = find_lf(&buf[start..]) else {
        // httpd accepts one byte past the limit (observed: 8191 with 8190).
        if buf.len() - start > limits.line + 2 {
            return Err(line_too_long(limits));
        }
        return Ok(None);
    };
    let line = strip_cr(&buf[start..start + line_end])?;
    if line.len() > limits.line + 1 {
        return Err(line_too_long(limits));
    }
    let line = std::str::from_utf8(line).map_err(|_| RequestError::bad("request line is not valid text"))?;
    req.line.clear();
    req.line.push_str(line);
    let head_start = start + line_end + 1;
    if parse_request_line(line, req)? {
        // HTTP/0.9: the line is the whole request.
        req.headers.clear();
        return Ok(Some(head_start));
    }
    match header_block_end(&buf[head_start..], limits)? {
        None => Ok(None),
        Some(block_len) => {
            parse_headers(&buf[head_start..head_start + block_len], req)?;
            Ok(Some(head_start + block_len))
        }
    }
}

fn line_too_long(limits: &Limits) -> RequestError {
    RequestError::new(
        414,
        format!(
            "AH00565: request failed: client's request-line exceeds LimitRequestLine (longer than {})",
            limits.line
        ),
    )
}

fn find_lf(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

/// A line without its CR; a missing CR (bare LF) or a CR elsewhere is an error.
fn strip_cr(line: &[u8]) -> Result<&[u8], RequestError> {
    match line.split_last() {
        Some((b'\r', rest)) if !rest.contains(&b'\r') => Ok(rest),
        _ => Err(RequestError::bad("line not terminated by CRLF, or a bare CR")),
    }
}

/// Splits and checks the request line into `req`; true for an HTTP/0.9 line.
fn parse_request_line(line: &str, req: &mut Request) -> Result<bool, RequestError> {
    let invalid = || RequestError::bad(format!("AH02418: HTTP Request Line; Invalid request line: '{line}'"));
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().ok_or_else(invalid)?);
    let protocol = parts.next();
    if parts.next().is_some() || method.is_empty() || target.is_empty() {
        return Err(invalid());
    }
    if !method.bytes().all(is_tchar) {
        return Err(RequestError::bad(format!(
            "AH02418: HTTP Request Line; Invalid method token: '{method}'"
        )));
    }
    if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(RequestError::bad(format!(
            "AH02422: HTTP Request Line; URI must not contain control characters or spaces: '{line}'"
        )));
    }
    let target_ok = target.starts_with('/')
        || (target == "*" && method == "OPTIONS")
        || target.split_once("://").is_some_and(|(scheme, _)| {
            !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        });
    if !target_ok {
        return Err(RequestError::bad(format!(
            "AH10388: HTTP Request Line; Invalid request target '{target}'"
        )));
    }
    let version = match protocol {
        None => Version::Http09,
        Some(p) => parse_protocol(p).ok_or_else(|| {
            RequestError::bad(format!("AH02418: HTTP Request Line; Unrecognized protocol '{p}'"))
        })?,
    };
    req.method.clear();
    req.method.push_str(method);
    req.target.clear();
    req.target.push_str(target);
    req.version = version;
    req.protocol.clear();
    req.protocol.push_str(protocol.unwrap_or("HTTP/0.9"));
    Ok(version == Version::Http09)
}

/// `HTTP/major.minor` exactly (Strict: upper case, one digit each). 0.x is
/// refused; 1.0 is 1.0; anything from 1.1 up is answered as 1.1, as httpd.
fn parse_protocol(p: &str) -> Option<Version> {
    let digits = p.strip_prefix("HTTP/")?.as_bytes();
    let [major, b'.', minor] = digits else { return None };
    if !major.is_ascii_digit() || !minor.is_ascii_digit() {
        return None;
    }
    match (major - b'0', minor - b'0') {
        (0, _) => None,
        (1, 0) => Some(Version::Http10),
        _ => Some(Version::Http11),
    }
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The length of the header block (through its empty line), or `None` if
/// incomplete; every line is checked against the limits as it arrives.
fn header_block_end(buf: &[u8], limits: &Limits) -> Result<Option<usize>, RequestError> {
    let mut pos = 0;
    let mut fields = 0;
    loop {
        let Some(lf) = find_lf(&buf[pos..]) else {
            if buf.len() - pos > limits.field_size + 2 {
                return Err(field_too_long());
            }
            return Ok(None);
        };
        let line = strip_cr(&buf[pos..pos + lf])?;
        pos += lf + 1;
        if line.is_empty() {
            return Ok(Some(pos));
        }
        if line.len() > limits.field_size + 1 {
            return Err(field_too_long());
        }
        if line[0] == b' ' || line[0] == b'\t' {
            // obs-fold: httpd 2.4 joins it; an ambiguous message is refused here.
            return Err(RequestError::bad("obsolete line folding in a header (refused)"));
        }
        fields += 1;
        if limits.fields != 0 && fields > limits.fields {
            return Err(RequestError {
                status: 400,
                note: "The number of request header fields exceeds this server's limit.",
                log: "AH00563: request failed: error reading the headers".into(),
            });
        }
    }
}

fn field_too_long() -> RequestError {
    RequestError {
        status: 400,
        note: "Size of a request header field exceeds server limit.",
        log: "AH00561: Request header exceeds LimitRequestFieldSize".into(),
    }
}

/// Validates names and values with httparse and stores them in `req`.
fn parse_headers(block: &[u8], req: &mut Request) -> Result<(), RequestError> {
    req.headers.clear();
    let mut rest = block;
    loop {
        let mut slots = [httparse::EMPTY_HEADER; HEADER_SLOTS];
        match httparse::parse_headers(rest, &mut slots) {
            Ok(httparse::Status::Complete((_, parsed))) => {
                store(parsed, req)?;
                return Ok(());
            }
            Ok(httparse::Status::Partial) => {
                return Err(RequestError::bad("incomplete header block"));
            }
            Err(httparse::Error::TooManyHeaders) => {
                // Parse the first HEADER_SLOTS lines alone, then go on.
                let cut = nth_line_end(rest, HEADER_SLOTS);
                let mut chunk = rest[..cut].to_vec();
                chunk.extend_from_slice(b"\r\n");
                let mut slots = [httparse::EMPTY_HEADER; HEADER_SLOTS];
                match httparse::parse_headers(&chunk, &mut slots) {
                    Ok(httparse::Status::Complete((_, parsed))) => store(parsed, req)?,
                    _ => return Err(RequestError::bad("invalid header field")),
                }
                rest = &rest[cut..];
            }
            Err(e) => return Err(RequestError::bad(format!("invalid header field: {e}"))),
        }
    }
}

fn nth_line_end(buf: &[u8], n: usize) -> usize {
    buf.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(n - 1).map_or(buf.len(), |(i, _)| i + 1)
}

fn store(parsed: &[httparse::Header<'_>], req: &mut Request) -> Result<(), RequestError> {
    for h in parsed {
        match std::str::from_utf8(h.value) {
            Ok(v) => req.headers.push(h.name, v.trim_matches([' ', '\t'])),
            Err(_) => {
                // obs-text: keep the bytes as Latin-1, as httpd keeps bytes.
                let v: String = h.value.iter().map(|&b| b as char).collect();
                req.headers.push(h.name, v.trim_matches([' ', '\t']));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { line: 8190, field_size: 8190, fields: 100 };

    fn parse(input: &[u8]) -> Result<Option<(usize, Request)>, RequestError> {
        let mut req = Request::new();
        parse_head(input, &LIMITS, &mut req).map(|o| o.map(|n| (n, req)))
    }

    fn status(input: &[u8]) -> u16 {
        match parse(input) {
            Err(e) => e.status,
            Ok(Some(_)) => 0,
            Ok(None) => 1,
        }
    }

    #[test]
    fn simple_get() {
        let (n, req) =
            parse(b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept:  */* \r\n\r\nNEXT").unwrap().unwrap();
        assert_eq!(n, 47);
        assert_eq!(
            (req.method.as_str(), req.target.as_str(), req.version),
            ("GET", "/a?b=1", Version::Http11)
        );
        assert_eq!(req.line, "GET /a?b=1 HTTP/1.1");
        assert_eq!(req.headers.get("host"), Some("x"));
        assert_eq!(req.headers.get("accept"), Some("*/*"));
        assert_eq!((req.path(), req.query()), ("/a", Some("b=1")));
    }

    #[test]
    fn partial_heads_wait() {
        assert_eq!(status(b""), 1);
        assert_eq!(status(b"GET / HTTP/1.1"), 1);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: x\r\n"), 1);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: x\r\n\r"), 1);
    }

    #[test]
    fn protocols() {
        let version =
            |line: &str| parse(format!("{line}\r\nHost: x\r\n\r\n").as_bytes()).unwrap().unwrap().1.version;
        assert_eq!(version("GET / HTTP/1.0"), Version::Http10);
        assert_eq!(version("GET / HTTP/1.2"), Version::Http11);
        assert_eq!(version("GET / HTTP/2.0"), Version::Http11);
        let (n, req) = parse(b"GET /a.json\r\n").unwrap().unwrap();
        assert_eq!((n, req.version), (13, Version::Http09));
        for bad in ["GET / http/1.1", "GET / HTTP/0.8", "GET / HTTP/1", "GET / HTTP/1.10", "GET / FOO/1.1"] {
            assert_eq!(status(format!("{bad}\r\n\r\n").as_bytes()), 400, "{bad}");
        }
    }

    #[test]
    fn request_line_shapes() {
        let cases: &[(&[u8], u16)] = &[
            (b"GET  /a HTTP/1.1\r\n\r\n", 400),
            (b"GET /a  HTTP/1.1\r\n\r\n", 400),
            (b"GET a.json HTTP/1.1\r\n\r\n", 400),
            (b"GET * HTTP/1.1\r\n\r\n", 400),
            (b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 0),
            (b"GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n", 0),
            (b"GET /a\x01b HTTP/1.1\r\n\r\n", 400),
            (b"G(ET / HTTP/1.1\r\n\r\n", 400),
            (b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0),
            (b"GET / HTTP/1.1\n\n", 400),
            (b"\n", 400),
            (b" GET / HTTP/1.1\r\n\r\n", 400),
            (b"get / HTTP/1.1\r\nHost: x\r\n\r\n", 0),
            (b"GET /\xff HTTP/1.1\r\n\r\n", 400),
        ];
        for (input, expected) in cases {
            assert_eq!(status(input), *expected, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn header_shapes() {
        let cases: &[(&[u8], u16)] = &[
            (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nBadHeader\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nX-A: a\nHost: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nX-A: \x01\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nX-A: caf\xe9\r\n\r\n", 0),
            (b"GET / HTTP/1.1\r\nX-Empty:\r\n\r\n", 0),
        ];
        for (input, expected) in cases {
            assert_eq!(status(input), *expected, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn request_line_limit_has_httpds_boundary() {
        let line = |len: usize| format!("GET /{} HTTP/1.1", "a".repeat(len - 14));
        assert_eq!(line(8191).len(), 8191);
        assert_eq!(status(format!("{}\r\nHost: x\r\n\r\n", line(8191)).as_bytes()), 0);
        assert_eq!(status(format!("{}\r\nHost: x\r\n\r\n", line(8192)).as_bytes()), 414);
        // Without the line end yet: refused once past the limit, not later.
        assert_eq!(status(format!("GET /{}", "a".repeat(9000)).as_bytes()), 414);
    }

    #[test]
    fn field_limits() {
        let field = |len: usize| format!("X: {}", "a".repeat(len - 3));
        let req = |f: &str| format!("GET / HTTP/1.1\r\nHost: x\r\n{f}\r\n\r\n");
        assert_eq!(status(req(&field(8191)).as_bytes()), 0);
        let e = parse(req(&field(8192)).as_bytes()).unwrap_err();
        assert_eq!((e.status, e.note), (400, "Size of a request header field exceeds server limit."));
        assert_eq!(status(format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(9000)).as_bytes()), 400);
        let many = |n: usize| {
            let mut s = String::from("GET / HTTP/1.1\r\n");
            for i in 0..n {
                s.push_str(&format!("X-{i}: a\r\n"));
            }
            s + "\r\n"
        };
        assert_eq!(status(many(100).as_bytes()), 0);
        let e = parse(many(101).as_bytes()).unwrap_err();
        assert_eq!(e.note, "The number of request header fields exceeds this server's limit.");
        let mut req = Request::new();
        let unlimited = Limits { fields: 0, ..LIMITS };
        assert!(parse_head(many(300).as_bytes(), &unlimited, &mut req).unwrap().is_some());
        assert_eq!(req.headers.len(), 300);
    }

    #[test]
    fn reuse_clears_previous_request() {
        let mut req = Request::new();
        parse_head(b"POST /x HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n", &LIMITS, &mut req).unwrap();
        parse_head(b"GET /y HTTP/1.0\r\n\r\n", &LIMITS, &mut req).unwrap();
        assert_eq!((req.method.as_str(), req.target.as_str(), req.headers.len()), ("GET", "/y", 0));
    }
}
