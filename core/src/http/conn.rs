//! The connection engine: one state machine over a connection's buffers that
//! serves both kinds of MPM.
//!
//! [`Connection::step`] runs until the connection has to wait, and says for
//! what ([`Outcome`]); it never blocks by itself. The blocking driver
//! (prefork, worker) waits with `poll` and calls `step` again; the event MPM
//! turns the outcome into a readiness interest and a timeout queue and hands
//! the connection to any worker when it is ready. A timeout is reported back
//! with [`Connection::timed_out`].
//!
//! A connection is bound to the servers of its local address when it is
//! made ([`ServerContext::bind`]); each request is served by one server,
//! chosen when its head is complete ([`ServerContext::select`]). Until then
//! (reading a head, and errors in it) the binding's default server serves.

use std::io::{self, Write};
use std::time::{Duration, Instant, SystemTime};

use super::body::{self, BodyDecoder, Framing};
use super::date;
use super::host::{host_name, host_port, valid_host};
use super::input::InputBuffer;
use super::message::{Body, ConnInfo, Request, Response, Version};
use super::output::{FileIo, Transport, WriteState, Writer};
use super::parse::{self, Limits, RequestError};
use super::short::Short;
use super::status::{self, ErrorContext};
use crate::logs::error_log;
use crate::logs::{ConnStatus, LogEntry};
use crate::scoreboard::{WorkerScore, WorkerStatus, now_micros};
use crate::server::{Server, ServerContext};
use crate::tls::plain;
use crate::vhost::Binding;

/// What a connection waits for after a step, as httpd's `conn_state_e`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Idle between requests: wait to read, for KeepAliveTimeout
    /// (CONN_STATE_KEEPALIVE).
    KeepAlive,
    /// In a request (or before the first one): wait to read, for Timeout.
    ReadBlocked,
    /// A response is partly written: wait to write, for Timeout
    /// (CONN_STATE_WRITE_COMPLETION).
    WriteBlocked,
    /// FIN sent; drain what the client still sends, then close
    /// (CONN_STATE_LINGER).
    Linger,
    /// Done: close the socket.
    Close,
}

#[derive(Debug)]
enum State {
    ReadHead,
    ReadBody(BodyDecoder),
    /// Writing; `then_body` is set while a `100 Continue` goes out before
    /// the body is read.
    Write {
        then_body: Option<BodyDecoder>,
    },
    Linger,
    Closed,
}

/// One client connection.
pub struct Connection {
    info: ConnInfo,
    /// The servers that may answer on this connection's address.
    binding: Binding,
    /// The index of the server in charge now: the binding's default while
    /// a head is read, the selected one from a complete head to the end of
    /// its response.
    server: usize,
    /// The Timeout of `server`, and the KeepAliveTimeout of the server
    /// that answered the last request (the binding's default before any).
    timeout: Duration,
    keep_alive_timeout: Duration,
    state: State,
    input: InputBuffer,
    req: Request,
    /// Whether the request in progress got any byte yet.
    started: bool,
    received_at: SystemTime,
    started_at: Instant,
    /// Requests answered on this connection (httpd's `keepalives`).
    served: u32,
    /// The response in progress: status, whether the connection stays open,
    /// the log is pending.
    status: u16,
    keep_alive: bool,
    log_pending: bool,
    response_headers: super::headers::Headers,
    writer: Writer,
    /// When the lingering close began (FIN sent).
    linger_start: Option<Instant>,
    /// The client itself asked to close after a request read whole.
    client_closes: bool,
    /// The scoreboard slot of the worker serving this connection.
    slot: Option<&'static WorkerScore>,
    /// ExtendedStatus: count requests and record request lines.
    extended: bool,
    see_request_tail: bool,
}

#[path = "conn_views.rs"]
mod views;

impl Connection {
    /// A new connection, bound to the servers of its local address
    /// (httpd's `ap_update_vhost_given_ip`).
    pub fn new(info: ConnInfo, ctx: &ServerContext) -> Connection {
        let binding = ctx.bind(info.local);
        let server = ctx.default_server(binding);
        Connection {
            info,
            binding,
            server: server.index,
            timeout: Duration::from_millis(server.settings.timeout),
            keep_alive_timeout: Duration::from_millis(server.settings.keep_alive_timeout),
            state: State::ReadHead,
            input: InputBuffer::default(),
            req: Request::new(),
            started: false,
            received_at: SystemTime::now(),
            started_at: Instant::now(),
            served: 0,
            status: 0,
            keep_alive: false,
            log_pending: false,
            response_headers: super::headers::Headers::new(),
            writer: Writer::default(),
            linger_start: None,
            client_closes: false,
            slot: None,
            extended: false,
            see_request_tail: false,
        }
    }

    /// Reports this connection's progress in a scoreboard slot (httpd's
    /// `ap_update_child_status`): R reading, W writing, L logging, K
    /// keep-alive, C closing; with ExtendedStatus, the request line, client,
    /// vhost and protocol, and the counters.
    pub fn set_slot(&mut self, slot: Option<&'static WorkerScore>, ctx: &ServerContext) {
        self.slot = slot;
        self.extended = ctx.main().settings.extended_status;
        self.see_request_tail = ctx.main().settings.see_request_tail;
        if let Some(slot) = slot {
            slot.conn_count.store(0, std::sync::atomic::Ordering::Relaxed);
            slot.conn_bytes.store(0, std::sync::atomic::Ordering::Relaxed);
            if self.extended {
                use std::fmt::Write as _;
                // An IPv6 address is at most 45 characters.
                let mut client = Short::<48>::default();
                let _ = write!(client, "{}", self.info.remote.ip());
                slot.client.set(client.as_str(), false);
            }
        }
    }

    fn mark(&self, status: WorkerStatus) {
        if let Some(slot) = self.slot {
            slot.set_status(status);
        }
    }

    /// Puts server `index` in charge: its Timeout, and its ErrorLog for
    /// this thread's lines.
    fn enter(&mut self, ctx: &ServerContext, index: usize) {
        let server = &ctx.servers[index];
        self.server = index;
        self.timeout = Duration::from_millis(server.settings.timeout);
        error_log::serve_for(server.error_log.as_ref());
    }

    /// For the event MPM's listener, which holds a connection whose request
    /// head came in part: reads what has arrived since, without a worker and
    /// without answering. `true` when a worker should run the connection
    /// now (the head is whole, or malformed, or too long; the client closed;
    /// the read failed; or no head was begun), `false` while the head is
    /// still unfinished and nothing more is there. The Timeout the listener
    /// started when the head began keeps running meanwhile, so a client
    /// sending a byte a second is cut off like one sending nothing.
    pub fn gather_head(&mut self, io: &mut impl Transport, ctx: &ServerContext) -> bool {
        if !matches!(self.state, State::ReadHead) || !self.started {
            return true;
        }
        let limits = head_limits(self.server(ctx));
        loop {
            // A whole head or an error: the worker's step parses it again
            // from the same bytes and answers.
            if !matches!(parse::parse_head(self.input.data(), &limits, &mut self.req), Ok(None)) {
                return true;
            }
            match self.fill(io) {
                Ok(true) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                _ => return true,
            }
        }
    }

    /// Runs the connection until it must wait, and says for what.
    pub fn step(&mut self, io: &mut impl Transport, ctx: &ServerContext) -> Outcome {
        let _lines = error_log::Serving::enter(self.server(ctx).error_log.as_ref());
        self.run(io, ctx)
    }

    fn run(&mut self, io: &mut impl Transport, ctx: &ServerContext) -> Outcome {
        loop {
            match &mut self.state {
                State::Closed => return Outcome::Close,
                State::ReadHead => {
                    if !self.input.is_empty() {
                        if !self.started {
                            self.started = true;
                            self.received_at = SystemTime::now();
                            self.started_at = Instant::now();
                            self.req.clear();
                            self.mark(WorkerStatus::BusyRead);
                            if let Some(slot) = self.slot {
                                slot.start_time.store(now_micros(), std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                        let limits = head_limits(self.server(ctx));
                        match parse::parse_head(self.input.data(), &limits, &mut self.req) {
                            Ok(Some(n)) => {
                                self.input.consume(n);
                                if self.info.tls.is_none() {
                                    // The handshake is done once a request is read.
                                    self.info.tls = io.tls();
                                }
                                self.begin_request(ctx);
                                continue;
                            }
                            Ok(None) => {}
                            Err(e) => {
                                self.fail(ctx, e);
                                continue;
                            }
                        }
                    }
                    match self.fill(io) {
                        Ok(true) => continue,
                        Ok(false) => {
                            // The client closed. Mid-request, that is an abort.
                            return self.close();
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            if !self.started && self.served == 0 && self.started_at.elapsed() >= self.timeout
                            {
                                // Nothing of a first request within Timeout of
                                // the connection's start: a TLS handshake that
                                // trickles in flight after flight ends too.
                                return self.close();
                            }
                            let wait = if self.started || self.served == 0 {
                                Outcome::ReadBlocked
                            } else {
                                Outcome::KeepAlive
                            };
                            return self.wait_read(io, wait);
                        }
                        Err(e) if plain::is_plain_http(&e) => {
                            self.plain_http_on_tls(ctx);
                            continue;
                        }
                        Err(_) => return self.close(),
                    }
                }
                State::ReadBody(decoder) => {
                    match decoder.consume(self.input.data()) {
                        Ok(n) => self.input.consume(n),
                        Err(e) => {
                            self.fail(ctx, e);
                            continue;
                        }
                    }
                    if decoder.is_done() {
                        self.respond(ctx);
                        continue;
                    }
                    match self.fill(io) {
                        Ok(true) => continue,
                        Ok(false) => return self.close(),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return self.wait_read(io, Outcome::ReadBlocked);
                        }
                        Err(_) => return self.close(),
                    }
                }
                State::Write { then_body } => match self.writer.write(io) {
                    Ok(WriteState::Blocked) => return Outcome::WriteBlocked,
                    Ok(WriteState::Done) => {
                        if let Some(decoder) = then_body.take() {
                            self.state = State::ReadBody(decoder);
                            continue;
                        }
                        self.finish(ctx);
                    }
                    Err(_) => {
                        self.log(ctx, ConnStatus::Aborted);
                        return self.close();
                    }
                },
                State::Linger => return self.drain(io),
            }
        }
    }

    /// The wait the last outcome asked for ran out. Returns what to do next:
    /// a request cut short by Timeout gets httpd's 408 (written by the next
    /// `step`); an idle connection, or a silent one, is closed.
    pub fn timed_out(&mut self, ctx: &ServerContext) -> Outcome {
        let _lines = error_log::Serving::enter(self.server(ctx).error_log.as_ref());
        match self.state {
            State::ReadHead if self.started && self.req.line.is_empty() => {
                // httpd sends nothing when the request line itself never
                // came, and logs a 408 only for a connection's first request.
                if self.served == 0 {
                    self.status = 408;
                    self.log_pending = true;
                    self.response_headers.clear();
                    self.log(ctx, ConnStatus::Close);
                }
                self.close()
            }
            State::ReadHead if self.started => {
                let e =
                    RequestError::new(408, "AH00567: request failed: timeout reading the request headers");
                self.fail(ctx, e);
                Outcome::WriteBlocked
            }
            State::ReadBody(_) => {
                let e = RequestError::new(408, "AH01382: request failed: timeout reading the request body");
                self.fail(ctx, e);
                Outcome::WriteBlocked
            }
            State::Write { .. } => {
                self.log(ctx, ConnStatus::Aborted);
                self.close()
            }
            _ => self.close(),
        }
    }

    /// A wait to read, unless the transport still holds bytes to send
    /// (TLS: a handshake flight, a session ticket, an alert): those go
    /// first, or the client, waiting for them, would never send more.
    fn wait_read(&mut self, io: &mut impl Transport, wait: Outcome) -> Outcome {
        match io.flush_pending() {
            Ok(WriteState::Done) => wait,
            Ok(WriteState::Blocked) => Outcome::WriteBlocked,
            Err(_) => self.close(),
        }
    }

    /// Plain HTTP came to a TLS port: as mod_ssl, answer a faked
    /// `GET / HTTP/1.0` with a 400 saying why, in clear text, and close.
    fn plain_http_on_tls(&mut self, ctx: &ServerContext) {
        self.started = true;
        self.received_at = SystemTime::now();
        self.started_at = Instant::now();
        self.req.clear();
        self.req.method.push_str("GET");
        self.req.target.push('/');
        self.req.version = Version::Http10;
        self.req.protocol.push_str("HTTP/1.0");
        self.req.line.push_str(plain::FAKED_REQUEST);
        // Logged by the transport (AH01996), as mod_ssl logs it.
        let mut e = RequestError::new(400, "");
        e.note = plain::REASON;
        self.fail(ctx, e);
    }

    /// Reads more input; `Ok(false)` at end of stream.
    fn fill(&mut self, io: &mut impl Transport) -> io::Result<bool> {
        self.input.read_from(io).map(|n| n > 0)
    }

    /// Frees the buffers if the connection is idle between requests, so a
    /// parked keep-alive connection holds next to nothing. They go to the
    /// calling thread's pool, from which the next request served on that
    /// thread takes them: call it on a thread that serves requests (in the
    /// event MPM, the worker, before it hands the connection back).
    pub fn release_buffers(&mut self) {
        if !self.started {
            self.input.release();
            self.writer.release();
            self.response_headers = super::headers::Headers::default();
            self.req.release();
        }
    }

    /// Points the connection at the slot of the worker now running it,
    /// without starting a new connection's counts (the event MPM moves a
    /// connection between workers).
    pub fn attach_slot(&mut self, slot: Option<&'static WorkerScore>) {
        self.slot = slot;
    }

    /// A head is parsed: choose the server, decide the body's framing, then
    /// answer or read on.
    fn begin_request(&mut self, ctx: &ServerContext) {
        // As httpd's ap_update_vhost_from_headers: the absolute URI's host,
        // else the Host header's; a malformed one (400 below) selects
        // nothing.
        let host =
            crate::handler::request_authority(&self.req.target).or_else(|| self.req.headers.get("host"));
        let selected = ctx.select(self.binding, host.filter(|h| valid_host(h))).index;
        self.enter(ctx, selected);
        // httpd shows W from the moment the head is read.
        self.mark(WorkerStatus::BusyWrite);
        if let (Some(slot), true) = (self.slot, self.extended) {
            use std::fmt::Write as _;
            slot.request.set(&self.req.line, self.see_request_tail);
            let mut protocol = Short::<16>::default();
            let _ = write!(protocol, "{}", self.req.protocol);
            protocol.make_ascii_lowercase();
            slot.protocol.set(protocol.as_str(), false);
            let mut vhost = Short::<32>::default();
            let _ = write!(vhost, "{}:{}", ctx.servers[selected].name(), self.info.local.port());
            slot.vhost.set(vhost.as_str(), false);
        }
        let req = &self.req;
        if req.version == Version::Http11 && !req.headers.contains("host") {
            return self
                .fail(ctx, RequestError::new(400, "AH00569: client sent HTTP/1.1 request without hostname"));
        }
        if req.headers.get_all("host").nth(1).is_some() {
            return self.fail(ctx, RequestError::new(400, "AH00570: client sent several Host headers"));
        }
        if let Some(host) = req.headers.get("host").filter(|h| !valid_host(h)) {
            let e = RequestError::new(400, format!("AH00550: Client sent malformed Host header: {host}"));
            return self.fail(ctx, e);
        }
        let framing = match body::framing(&req.headers, req.version) {
            Ok(f) => f,
            Err(e) => return self.fail(ctx, e),
        };
        let expect = req.headers.get("expect");
        let continue_expected = match expect {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("100-continue") => true,
            Some(v) => {
                let e = RequestError::new(
                    417,
                    format!("AH00570: client sent an unrecognized expectation value of Expect: {v}"),
                );
                return self.fail(ctx, e);
            }
        };
        let s = &ctx.servers[self.server].settings;
        let decoder = match BodyDecoder::new(
            framing,
            s.limit_request_body,
            s.limit_request_field_size as usize,
            s.limit_request_fields as usize,
        ) {
            Ok(d) => d,
            Err(e) => return self.fail(ctx, e),
        };
        if framing == Framing::None {
            return self.respond(ctx);
        }
        if continue_expected && req.version == Version::Http11 && self.input.is_empty() {
            self.writer.start(FileIo::default()).extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            self.state = State::Write { then_body: Some(decoder) };
        } else {
            self.state = State::ReadBody(decoder);
        }
    }

    /// The request is read: run the handler and start writing its response.
    fn respond(&mut self, ctx: &ServerContext) {
        let server = self.server(ctx);
        let response = crate::handler::handle(ctx, server, &self.info, &self.req);
        let response =
            crate::handler::error_document::apply(ctx, server, &self.info, &self.req, response, true);
        self.start_response(ctx, response);
    }

    /// Answers a request that could not be read, then closes (lingering).
    fn fail(&mut self, ctx: &ServerContext, e: RequestError) {
        if !e.log.is_empty() {
            log::info!(target: "core", "[client {}] {}", self.info.remote, e.log);
        }
        let server = self.server(ctx);
        let host = self.req.headers.get("host").unwrap_or("");
        let signature = if e.status == 400 || e.status == 408 || e.status == 414 {
            String::new()
        } else {
            ctx.signature(server, host_name(host, server), host_port(host, &self.info))
        };
        let cx = ErrorContext {
            method: &self.req.method,
            path: self.req.path(),
            expect: self.req.headers.get("expect").unwrap_or(""),
            note: e.note,
            signature: &signature,
            ..Default::default()
        };
        let mut response = status::error_response(e.status, &cx);
        response.close = true;
        let response =
            crate::handler::error_document::apply(ctx, server, &self.info, &self.req, response, false);
        self.start_response(ctx, response);
    }

    /// Serializes the head (httpd's header order) and queues the body.
    fn start_response(&mut self, ctx: &ServerContext, mut response: Response) {
        let s = &ctx.servers[self.server].settings;
        let req = &self.req;
        let left = i64::from(s.max_keep_alive_requests.max(0) as u32) - i64::from(self.served);
        let wants = match req.version {
            Version::Http11 => !req.headers.has_token("connection", "close"),
            Version::Http10 => req.headers.has_token("connection", "keep-alive"),
            Version::Http09 => false,
        };
        // A child told to stop (graceful restart or stop) ends keep-alive
        // after the current request, as httpd's.
        self.keep_alive = s.keep_alive
            && wants
            && !response.close
            && (s.max_keep_alive_requests == 0 || left > 0)
            && !crate::process::child_should_stop();
        self.status = response.status;
        self.client_closes = !wants && !response.close;
        let head_only = req.is_head() || matches!(response.status, 100..=199 | 204 | 304);
        let length = response.body.len();

        let out = self.writer.start(FileIo { sendfile: s.enable_sendfile, mmap: s.enable_mmap });
        if req.version != Version::Http09 {
            // io::Write on a Vec formats without allocating.
            let _ = write!(out, "HTTP/1.1 {} ", response.status);
            out.extend_from_slice(status::reason(response.status).as_bytes());
            out.extend_from_slice(b"\r\nDate: ");
            date::append_now(out);
            out.extend_from_slice(b"\r\nServer: ");
            out.extend_from_slice(ctx.banner.as_bytes());
            out.extend_from_slice(b"\r\n");
            // httpd's order: the handler's fields, Content-Length,
            // Content-Range, Keep-Alive, Connection, Content-Type.
            let late = |name: &str| {
                name.eq_ignore_ascii_case("content-type") || name.eq_ignore_ascii_case("content-range")
            };
            for (name, value) in response.headers.iter().filter(|(n, _)| !late(n)) {
                push_header(out, name, value);
            }
            if !matches!(response.status, 100..=199 | 204 | 304) {
                let _ = write!(out, "Content-Length: {length}\r\n");
            }
            if let Some(range) = response.headers.get("content-range") {
                push_header(out, "Content-Range", range);
            }
            if self.keep_alive && req.version == Version::Http10 {
                let timeout = s.keep_alive_timeout.div_ceil(1000);
                let _ = write!(out, "Keep-Alive: timeout={timeout}, max={left}\r\n");
                push_header(out, "Connection", "Keep-Alive");
            } else if !self.keep_alive {
                push_header(out, "Connection", "close");
            }
            if let Some(ct) = response.headers.get("content-type") {
                push_header(out, "Content-Type", ct);
            }
            out.extend_from_slice(b"\r\n");
        }
        // The previous response's list returns to the pool as it drops.
        self.response_headers = std::mem::take(&mut response.headers);
        self.mark(WorkerStatus::BusyWrite);
        if !head_only {
            self.writer.push_body(std::mem::replace(&mut response.body, Body::Empty));
        }
        self.log_pending = true;
        self.state = State::Write { then_body: None };
    }

    /// The response is written: log it, then keep alive or close.
    fn finish(&mut self, ctx: &ServerContext) {
        let status = if self.keep_alive { ConnStatus::KeepAlive } else { ConnStatus::Close };
        self.mark(WorkerStatus::BusyLog);
        self.log(ctx, status);
        if let Some(slot) = self.slot {
            if self.extended {
                let micros = self.started_at.elapsed().as_micros() as u64;
                slot.count_request(self.writer.body_sent, micros);
            }
            slot.stop_time.store(now_micros(), std::sync::atomic::Ordering::Relaxed);
        }
        self.served += 1;
        self.started = false;
        // The next head is read for the binding's default server; the wait
        // for it is this request's server's KeepAliveTimeout.
        self.keep_alive_timeout = Duration::from_millis(self.server(ctx).settings.keep_alive_timeout);
        let default = ctx.default_server(self.binding).index;
        if self.server != default {
            self.enter(ctx, default);
        }
        if self.keep_alive {
            self.state = State::ReadHead;
            self.mark(WorkerStatus::BusyKeepalive);
        } else if self.client_closes && self.input.is_empty() {
            // The client asked to close and sent nothing more: no data of
            // its can be in flight to turn our close into a reset, so the
            // lingering close is skipped (nginx's heuristic; httpd always
            // lingers, holding a worker for a round trip per connection).
            self.state = State::Closed;
        } else {
            self.state = State::Linger;
            self.linger_start = None;
            self.mark(WorkerStatus::Closing);
        }
    }

    fn log(&mut self, ctx: &ServerContext, conn_status: ConnStatus) {
        if !std::mem::take(&mut self.log_pending) {
            return;
        }
        let server = self.server(ctx);
        server.access_log.log(&LogEntry {
            conn: &self.info,
            request: &self.req,
            status: self.status,
            response_headers: &self.response_headers,
            body_bytes: self.writer.body_sent,
            received: self.received_at,
            duration: self.started_at.elapsed(),
            keepalives: self.served,
            conn_status,
            server_name: server.name(),
        });
    }

    /// Lingering close: FIN sent, read and drop what the client still sends
    /// until it closes (the driver bounds the time).
    fn drain(&mut self, io: &mut impl Transport) -> Outcome {
        if self.linger_start.is_none() {
            self.linger_start = Some(Instant::now());
            if io.shutdown_write().is_err() {
                return self.close();
            }
        }
        let mut scratch = [0u8; 512];
        loop {
            match io.read(&mut scratch) {
                Ok(0) => return self.close(),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Outcome::Linger,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return self.close(),
            }
        }
    }

    fn close(&mut self) -> Outcome {
        self.state = State::Closed;
        Outcome::Close
    }
}

impl Drop for Connection {
    /// A finished connection's buffers go to this thread's pool, as an idle
    /// one's do (`release_buffers`), so that a new connection per request
    /// allocates little in the steady state too. Whatever is mid-use (a
    /// request cut short) is freed instead.
    fn drop(&mut self) {
        self.input.release();
        self.writer.release();
        self.req.release();
    }
}

/// LimitRequestLine, LimitRequestFieldSize, LimitRequestFields of the
/// server reading the head (the binding's default, as in httpd, where the
/// head is read before the Host header can choose a vhost).
fn head_limits(server: &Server) -> Limits {
    let s = &server.settings;
    Limits {
        line: s.limit_request_line as usize,
        field_size: s.limit_request_field_size as usize,
        fields: s.limit_request_fields as usize,
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}
