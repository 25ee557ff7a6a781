//! What a driver, the scoreboard and the event listener ask of a
//! [`Connection`]: read-only views of its state.

use std::time::Duration;

use super::{Connection, State};
use crate::http::message::ConnInfo;
use crate::server::{Server, ServerContext};
use crate::vhost::Binding;

impl Connection {
    pub fn info(&self) -> &ConnInfo {
        &self.info
    }

    /// The binding made at connection start.
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// Timeout of the server in charge now: what a driver waits for a
    /// read or a write, as the outcome says.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How long a driver may wait for a head: Timeout, except before a
    /// connection's first request has begun, when it is what remains of
    /// Timeout since the connection opened. So a TLS handshake trickling in
    /// flight by flight, each of which a worker processes and hands back, is
    /// cut off at Timeout in all, not Timeout after its last flight.
    pub fn head_timeout(&self) -> Duration {
        if self.started || self.served > 0 {
            return self.timeout;
        }
        self.timeout.saturating_sub(self.started_at.elapsed())
    }

    /// KeepAliveTimeout of the server that answered the last request: what
    /// a driver waits for the next one.
    pub fn keep_alive_timeout(&self) -> Duration {
        self.keep_alive_timeout
    }

    /// The server in charge now (see [`Connection::timeout`]).
    pub fn server<'c>(&self, ctx: &'c ServerContext) -> &'c Server {
        &ctx.servers[self.server]
    }

    /// Requests answered so far.
    pub fn served(&self) -> u32 {
        self.served
    }

    /// Whether the engine is inside a request (as opposed to idle between
    /// requests): what the scoreboard shows as `R`/`W` rather than `K`.
    pub fn in_request(&self) -> bool {
        self.started
    }

    /// Whether the engine waits for a request head (its first byte, or the
    /// rest of one begun), as opposed to a body or a response: the event
    /// MPM's flow control counts the two apart.
    pub fn reading_head(&self) -> bool {
        matches!(self.state, State::ReadHead)
    }

    /// The current (or last) request line, for the scoreboard.
    pub fn request_line(&self) -> &str {
        &self.req.line
    }

    /// How long the connection has been lingering, if it is.
    pub fn lingering_for(&self) -> Option<Duration> {
        self.linger_start.map(|t| t.elapsed())
    }
}
