//! The blocking driver: how prefork and worker serve a connection. The
//! socket is non-blocking like the event MPM's, and the thread waits in
//! `poll(2)` with the timeout the engine's outcome calls for, so both kinds
//! of MPM run the very same engine.

use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::conn::{Connection, Outcome};
use super::message::ConnInfo;
use crate::scoreboard::WorkerScore;
use crate::server::ServerContext;

/// httpd's lingering close for prefork and worker: each read waits at most
/// 2 s (SECONDS_TO_LINGER), the whole close at most 30 s (MAX_SECS_TO_LINGER).
const LINGER_READ: Duration = Duration::from_secs(2);
const LINGER_TOTAL: Duration = Duration::from_secs(30);

/// Serves one connection to its end on the calling thread, reporting its
/// progress in `slot` (the caller marks the slot Ready afterwards).
pub fn serve(stream: TcpStream, ctx: &ServerContext, slot: Option<&'static WorkerScore>) {
    let (Ok(remote), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else { return };
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let _ = stream.set_nodelay(true);
    let mut conn = Connection::new(ConnInfo { remote, local, tls: None }, ctx);
    conn.set_slot(slot, ctx);
    // TLS when the address's server has SSLEngine on.
    let Ok(mut io) = crate::tls::Socket::new(stream, remote, conn.binding(), ctx) else { return };
    let mut outcome = conn.step(&mut io, ctx);
    loop {
        // The server in charge decides: the binding's default while a head
        // is read, the request's server until its response is written.
        let timeout = conn.timeout();
        let (flags, wait) = match outcome {
            Outcome::Close => return,
            Outcome::KeepAlive => (PollFlags::POLLIN, conn.keep_alive_timeout()),
            Outcome::ReadBlocked if conn.reading_head() => (PollFlags::POLLIN, conn.head_timeout()),
            Outcome::ReadBlocked => (PollFlags::POLLIN, timeout),
            Outcome::WriteBlocked => (PollFlags::POLLOUT, timeout),
            Outcome::Linger => {
                let spent = conn.lingering_for().unwrap_or_default();
                if spent >= LINGER_TOTAL {
                    return;
                }
                (PollFlags::POLLIN, LINGER_READ.min(LINGER_TOTAL - spent))
            }
        };
        let ready = match outcome {
            Outcome::KeepAlive => wait_idle(&io, wait),
            _ => wait_for(&io, flags, wait),
        };
        outcome = if ready {
            conn.step(&mut io, ctx)
        } else if outcome == Outcome::Linger {
            return;
        } else {
            match conn.timed_out(ctx) {
                Outcome::Close => return,
                _ => conn.step(&mut io, ctx),
            }
        };
    }
}

/// Waits until `fd` is ready for `flags` (or has an error or hang-up, which
/// the next read or write reports); false on timeout.
pub fn wait_for(fd: &impl AsFd, flags: PollFlags, wait: Duration) -> bool {
    let deadline = std::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), flags)];
        match poll(&mut fds, timeout) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return true,
        }
    }
}

/// A keep-alive wait: as [`wait_for`] readable, but given up (false) as soon
/// as the child is asked to stop. The flag is looked at once a second, since
/// in a threaded child the signal that sets it interrupts another thread.
pub fn wait_idle(fd: &impl AsFd, wait: Duration) -> bool {
    let deadline = std::time::Instant::now() + wait;
    loop {
        if crate::process::child_should_stop() {
            return false;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        if wait_for(fd, PollFlags::POLLIN, left.min(Duration::from_secs(1))) {
            return true;
        }
    }
}
