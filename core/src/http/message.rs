//! A request's head as the engine parsed it, and a response as a handler
//! builds it. The engine owns framing (Date, Server, Content-Length,
//! Connection, Keep-Alive, chunking); handlers fill in the rest.

use std::fs::File;
use std::net::SocketAddr;
use std::sync::Arc;

use super::headers::Headers;

/// The protocol of a request line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// `GET /path` with no protocol: the response is the body alone.
    Http09,
    Http10,
    /// HTTP/1.1, and any later 1.x or 2+ line httpd answers as 1.1.
    Http11,
}

impl Version {
    /// As `%H` logs it and the status line echoes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http09 => "HTTP/0.9",
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// A parsed request head. The engine reuses one per connection.
#[derive(Debug, Clone)]
pub struct Request {
    /// As sent (methods are case-sensitive: `get` is not `GET`).
    pub method: String,
    /// The request-target as sent, query included (`/a%20b?x=1`).
    pub target: String,
    pub version: Version,
    /// The protocol token as sent (`HTTP/1.1`, `HTTP/2.0`), for `%H`.
    pub protocol: String,
    /// The request line as sent, for `%r` and the scoreboard.
    pub line: String,
    pub headers: Headers,
}

impl Request {
    pub fn new() -> Self {
        Request {
            method: String::new(),
            target: String::new(),
            version: Version::Http11,
            protocol: String::new(),
            line: String::new(),
            headers: Headers::new(),
        }
    }

    /// A request holding no memory.
    fn empty() -> Self {
        Request {
            method: String::new(),
            target: String::new(),
            version: Version::Http11,
            protocol: String::new(),
            line: String::new(),
            headers: Headers::default(),
        }
    }

    /// Empties every field and gives its memory to this thread's pool (a
    /// connection going idle), where the next request that starts on this
    /// thread takes it back (`clear`).
    pub fn release(&mut self) {
        let mut old = std::mem::replace(self, Request::empty());
        // Every request read writes its line first: one never read holds
        // nothing worth keeping (its header storage returns on drop).
        if old.line.capacity() > 0 {
            old.clear();
            super::pool::give_request(old);
        }
    }

    /// Empties every field, keeping the allocations; a released request
    /// takes those of one released earlier on this thread, so a
    /// keep-alive connection that went idle allocates nothing to resume.
    pub fn clear(&mut self) {
        if self.line.capacity() == 0 {
            if let Some(pooled) = super::pool::take_request() {
                *self = pooled;
                return;
            }
        }
        self.method.clear();
        self.target.clear();
        self.version = Version::Http11;
        self.protocol.clear();
        self.line.clear();
        self.headers.clear();
    }

    /// The target's path, before any `?` (still percent-encoded).
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The query string after `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

impl Default for Request {
    fn default() -> Self {
        Request::new()
    }
}

/// Facts about the connection a request came on, for handlers and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    pub remote: SocketAddr,
    pub local: SocketAddr,
    /// The TLS session, once its handshake is done (`None` on plain TCP).
    pub tls: Option<TlsInfo>,
}

impl ConnInfo {
    /// `http` or `https` (httpd's `ap_http_scheme`, which mod_ssl answers).
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// The scheme's port, for a URL or signature that names none
    /// (`ap_default_port`: 443 under mod_ssl).
    pub fn default_port(&self) -> u16 {
        if self.tls.is_some() { 443 } else { 80 }
    }
}

/// A TLS session's parameters, as mod_ssl names them (`%{SSL_PROTOCOL}x`,
/// `%{SSL_CIPHER}x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.2` or `TLSv1.3`.
    pub protocol: &'static str,
    /// OpenSSL's name of the suite (`ECDHE-RSA-AES128-GCM-SHA256`).
    pub cipher: &'static str,
}

/// A response body.
#[derive(Debug)]
pub enum Body {
    Empty,
    /// Bytes made for this response (error pages, status pages).
    Bytes(Vec<u8>),
    /// Bytes shared between responses (the embedded index page, cached files).
    Shared(Arc<[u8]>),
    /// `len` bytes of a file from `offset`: sent with sendfile where the
    /// transport allows and EnableSendfile is on, else read and written.
    File {
        file: File,
        offset: u64,
        len: u64,
    },
    /// Several pieces in order (multipart/byteranges: boundaries and ranges).
    Parts(Vec<Body>),
}

impl Body {
    /// The number of bytes the body has.
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::Shared(b) => b.len() as u64,
            Body::File { len, .. } => *len,
            Body::Parts(parts) => parts.iter().map(Body::len).sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A response as a handler builds it. The engine adds Date, Server,
/// Content-Length (from the body, unless `content_length` says otherwise),
/// Connection and Keep-Alive, and drops the body for HEAD.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Headers besides the ones the engine adds.
    pub headers: Headers,
    pub body: Body,
    /// Set when the response must close the connection (httpd closes after
    /// request errors: 400, 408, 413, 414, 417, 501 ...).
    pub close: bool,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response { status, headers: Headers::new(), body: Body::Empty, close: false }
    }

    pub fn with_body(status: u16, content_type: &str, body: Body) -> Self {
        let mut r = Response::new(status);
        r.headers.push("Content-Type", content_type);
        r.body = body;
        r
    }
}
