//! A prefork child: wait for a connection (or the pipe of death), accept it,
//! serve it to its end, repeat; exit when told, when a new generation runs,
//! or after MaxConnectionsPerChild connections.
//!
//! Accept serialization: httpd holds a cross-process mutex around poll and
//! accept so that one idle child wakes per connection. Here each child waits
//! in its own epoll set with the listeners registered EPOLLEXCLUSIVE: the
//! kernel wakes one waiting child per connection, which is what the mutex
//! buys, without a lock a dying child could leave held. Listeners are
//! non-blocking, so a child that loses an accept race (several listeners,
//! or a wake-up whose connection another child took) goes back to waiting
//! instead of blocking in accept().

use std::io::ErrorKind;
use std::sync::atomic::Ordering::Relaxed;

use httpd_core::http::driver;
use httpd_core::mpm::ChildContext;
use httpd_core::process::{EXIT_CHILDSICK, EXIT_OK};
use httpd_core::scoreboard::WorkerStatus;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

/// The epoll token of the pipe of death; listeners use their index.
const POD: u64 = u64::MAX;

pub(crate) fn main(child: &ChildContext<'_>) -> i32 {
    let worker = child.board.worker(child.slot, 0);
    worker.pid.store(std::process::id() as i32, Relaxed);
    worker.generation.store(child.generation, Relaxed);
    let epoll = match waiting_set(child) {
        Ok(e) => e,
        Err(e) => {
            log::error!(target: "mpm", "AH00144: couldn't create the child's wait set: {e}");
            return EXIT_CHILDSICK;
        }
    };
    let limit = child.server.capacity.max_connections_per_child;
    let mut served: u32 = 0;
    let mut events = [EpollEvent::empty(); 8];
    worker.set_status(WorkerStatus::Ready);
    loop {
        if child.should_stop() || (limit > 0 && served >= limit) {
            return EXIT_OK;
        }
        // A timeout bounds how long a missed wake-up could go unnoticed
        // (prefork.c polls with 10 s for the same reason).
        let n = match epoll.wait(&mut events, EpollTimeout::try_from(10_000u32).unwrap_or(EpollTimeout::NONE))
        {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                log::error!(target: "mpm", "AH00146: epoll_wait: {e}");
                return EXIT_CHILDSICK;
            }
        };
        for event in &events[..n] {
            if event.data() == POD {
                if child.pod.check() {
                    return EXIT_OK;
                }
                continue;
            }
            let Some(listener) = child.listeners.get(event.data() as usize) else { continue };
            match listener.socket.accept() {
                Ok((stream, _)) => {
                    served += 1;
                    driver::serve(stream, child.server, Some(worker));
                    worker.set_status(WorkerStatus::Ready);
                    break;
                }
                Err(e) if is_transient(e.kind()) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(nix::libc::EMFILE | nix::libc::ENFILE | nix::libc::ENOMEM | nix::libc::ENOBUFS)
                    ) =>
                {
                    log::error!(target: "mpm", "AH00145: accept: {e}; exiting so the parent slows down");
                    return EXIT_CHILDSICK;
                }
                Err(e) => log::debug!(target: "mpm", "accept: {e}"),
            }
        }
    }
}

/// The listeners (EPOLLEXCLUSIVE, non-blocking) and the pipe of death.
fn waiting_set(child: &ChildContext<'_>) -> nix::Result<Epoll> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    for (i, l) in child.listeners.iter().enumerate() {
        l.socket.set_nonblocking(true).map_err(|_| nix::errno::Errno::EINVAL)?;
        epoll.add(&l.socket, EpollEvent::new(EpollFlags::EPOLLIN | EpollFlags::EPOLLEXCLUSIVE, i as u64))?;
    }
    epoll.add(child.pod.read_fd(), EpollEvent::new(EpollFlags::EPOLLIN, POD))?;
    Ok(epoll)
}

/// Accept errors of the "client went away" or "someone else took it" kind.
fn is_transient(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::WouldBlock
            | ErrorKind::Interrupted
            | ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionReset
    )
}
