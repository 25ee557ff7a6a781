//! What the engine tells the access log about one request.

use std::time::{Duration, SystemTime};

use crate::http::{ConnInfo, Headers, Request};

/// How the connection stood when the response was done (`%X`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnStatus {
    /// `X`: aborted before the response was completed.
    Aborted,
    /// `+`: may be kept alive after the response.
    KeepAlive,
    /// `-`: will be closed after the response.
    Close,
}

/// One request, as `%` codes see it.
#[derive(Debug, Clone, Copy)]
pub struct LogEntry<'a> {
    pub conn: &'a ConnInfo,
    /// The request as parsed; for a request line that could not be parsed,
    /// `line` holds what was read (possibly empty) and headers are empty.
    pub request: &'a Request,
    /// The final status (`%>s`; `%s` is the same: there are no internal
    /// redirects whose original status would differ).
    pub status: u16,
    pub response_headers: &'a Headers,
    /// Body bytes sent (`%b`, `%B`); 0 for HEAD.
    pub body_bytes: u64,
    /// When the request's first byte was read (`%t`).
    pub received: SystemTime,
    /// From the first byte read to the last byte written (`%D`, `%T`).
    pub duration: Duration,
    /// Requests served on this connection before this one (`%k`).
    pub keepalives: u32,
    pub conn_status: ConnStatus,
    /// ServerName (`%v`).
    pub server_name: &'a str,
}
