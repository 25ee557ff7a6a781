//! Waiting for connections in a child: the listeners and the pipe of death
//! in one epoll set. Shared by prefork's child loop and worker's listener
//! thread.
//!
//! Accept serialization: httpd holds a cross-process mutex around poll and
//! accept so one idle child wakes per connection. Here the listeners are
//! registered EPOLLEXCLUSIVE in each child's own epoll set, so the kernel
//! wakes one waiting child per connection, with no lock a dying child could
//! leave held; listeners are non-blocking, so a child that loses a race (a
//! wake-up whose connection another took) goes back to waiting instead of
//! blocking in accept().

use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::Duration;

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

use crate::listen::Listener;
use crate::pod::PipeOfDeath;

/// The epoll token of the pipe of death; listeners use their index.
const POD: u64 = u64::MAX;

/// What a wait found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// The pipe of death has a byte (take it with `PipeOfDeath::check`).
    PipeOfDeath,
    /// Listener `i` has a connection waiting (perhaps taken by another child).
    Listener(usize),
}

/// Why accepting failed for good.
#[derive(Debug)]
pub enum AcceptError {
    /// Out of descriptors or memory: the child should exit with CHILDSICK
    /// so the parent slows down.
    Resources(std::io::Error),
    Other(std::io::Error),
}

/// What a child's wait for work came to.
#[derive(Debug)]
pub enum Next {
    /// A connection to serve.
    Connection(TcpStream),
    /// The pipe of death chose this child: exit.
    Stop,
    /// Out of descriptors or memory (logged): exit with CHILDSICK.
    Sick,
    /// Nothing this time (a timeout, a signal, a connection taken by another
    /// child): look at the stop conditions and wait again.
    Nothing,
}

pub struct AcceptSet<'a> {
    epoll: Epoll,
    listeners: &'a [Listener],
    events: [EpollEvent; 8],
}

impl<'a> AcceptSet<'a> {
    pub fn new(listeners: &'a [Listener], pod: &PipeOfDeath) -> nix::Result<AcceptSet<'a>> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        for (i, l) in listeners.iter().enumerate() {
            l.socket.set_nonblocking(true).map_err(|_| nix::errno::Errno::EINVAL)?;
            epoll.add(
                &l.socket,
                EpollEvent::new(EpollFlags::EPOLLIN | EpollFlags::EPOLLEXCLUSIVE, i as u64),
            )?;
        }
        epoll.add(pod.read_fd(), EpollEvent::new(EpollFlags::EPOLLIN, POD))?;
        Ok(AcceptSet { epoll, listeners, events: [EpollEvent::empty(); 8] })
    }

    /// Waits up to `timeout` for a connection or the pipe of death; the
    /// loop both prefork's child and worker's listener run around it.
    pub fn next(&mut self, pod: &PipeOfDeath, timeout: Duration) -> Next {
        let ready = match self.wait(timeout) {
            Ok(ready) => ready,
            Err(e) => {
                log::error!(target: "mpm", "AH00146: epoll_wait: {e}");
                return Next::Sick;
            }
        };
        for event in ready {
            match event {
                Ready::PipeOfDeath if pod.check() => return Next::Stop,
                Ready::PipeOfDeath => {}
                Ready::Listener(i) => match self.accept(i) {
                    Ok(Some(stream)) => return Next::Connection(stream),
                    Ok(None) => {}
                    Err(AcceptError::Resources(e)) => {
                        log::error!(target: "mpm", "AH00145: accept: {e}; exiting so the parent slows down");
                        return Next::Sick;
                    }
                    Err(AcceptError::Other(e)) => log::debug!(target: "mpm", "accept: {e}"),
                },
            }
        }
        Next::Nothing
    }

    /// Waits up to `timeout`; an interrupted wait (a signal) returns nothing.
    pub fn wait(&mut self, timeout: Duration) -> nix::Result<Vec<Ready>> {
        let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        let timeout = EpollTimeout::try_from(ms).unwrap_or(EpollTimeout::NONE);
        let n = match self.epoll.wait(&mut self.events, timeout) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => 0,
            Err(e) => return Err(e),
        };
        Ok(self.events[..n]
            .iter()
            .map(|e| if e.data() == POD { Ready::PipeOfDeath } else { Ready::Listener(e.data() as usize) })
            .collect())
    }

    /// Accepts from listener `i`: `Ok(None)` when another child took the
    /// connection or the client went away.
    pub fn accept(&self, i: usize) -> Result<Option<TcpStream>, AcceptError> {
        let Some(listener) = self.listeners.get(i) else { return Ok(None) };
        match listener.socket.accept() {
            Ok((stream, _)) => Ok(Some(stream)),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock
                        | ErrorKind::Interrupted
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::ConnectionReset
                ) =>
            {
                Ok(None)
            }
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(nix::libc::EMFILE | nix::libc::ENFILE | nix::libc::ENOMEM | nix::libc::ENOBUFS)
                ) =>
            {
                Err(AcceptError::Resources(e))
            }
            Err(e) => Err(AcceptError::Other(e)),
        }
    }
}
