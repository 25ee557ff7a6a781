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
use crate::shortage::{self, Shortage};

/// The epoll token of the pipe of death; listeners use their index.
const POD: u64 = u64::MAX;

/// The longest a child waits without looking at the listeners itself (see
/// `AcceptSet::next`): the most a connection whose wake-up went to a dying
/// child waits in the backlog.
const SWEEP: Duration = Duration::from_millis(200);

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
    /// Out of descriptors (answered 503 through a spare descriptor, see
    /// `shortage`) or memory (the child exits with CHILDSICK so the parent
    /// slows down).
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
    /// Out of memory, or the wait failed (logged): exit with CHILDSICK.
    Sick,
    /// Nothing this time (a timeout, a signal, a connection taken by another
    /// child): look at the stop conditions and wait again.
    Nothing,
}

pub struct AcceptSet<'a> {
    epoll: Epoll,
    listeners: &'a [Listener],
    events: [EpollEvent; 8],
    /// Out of descriptors: answer 503 through a spare, or pause accepting.
    shortage: Shortage,
    /// The listeners are out of the epoll set for a shortage pause.
    paused: bool,
}

impl<'a> AcceptSet<'a> {
    pub fn new(listeners: &'a [Listener], pod: &PipeOfDeath) -> nix::Result<AcceptSet<'a>> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        for (i, l) in listeners.iter().enumerate() {
            l.socket.set_nonblocking(true).map_err(|_| nix::errno::Errno::EINVAL)?;
            epoll.add(&l.socket, Self::listener_event(i))?;
        }
        epoll.add(pod.read_fd(), EpollEvent::new(EpollFlags::EPOLLIN, POD))?;
        Ok(AcceptSet {
            epoll,
            listeners,
            events: [EpollEvent::empty(); 8],
            shortage: Shortage::new(),
            paused: false,
        })
    }

    fn listener_event(i: usize) -> EpollEvent {
        EpollEvent::new(EpollFlags::EPOLLIN | EpollFlags::EPOLLEXCLUSIVE, i as u64)
    }

    /// Takes the listeners out of the wait set (a shortage pause), or puts
    /// them back once the pause is over. Returns how long the pause lasts.
    fn pause_listeners(&mut self) -> Option<Duration> {
        let left = self.shortage.paused();
        if left.is_some() != self.paused {
            self.paused = left.is_some();
            for (i, l) in self.listeners.iter().enumerate() {
                let _ = if self.paused {
                    self.epoll.delete(&l.socket)
                } else {
                    self.epoll.add(&l.socket, Self::listener_event(i))
                };
            }
        }
        left
    }

    /// Waits up to `timeout` for a connection or the pipe of death; the
    /// loop both prefork's child and worker's listener run around it.
    pub fn next(&mut self, pod: &PipeOfDeath, timeout: Duration) -> Next {
        let paused = self.pause_listeners();
        let timeout = paused.map_or(timeout, |left| left.min(timeout)).min(SWEEP);
        let ready = match self.wait(timeout) {
            Ok(ready) => ready,
            Err(e) => {
                log::error!(target: "mpm", "AH00146: epoll_wait: {e}");
                return Next::Sick;
            }
        };
        if ready.is_empty() && paused.is_none() {
            // A wake-up may have gone to a child killed before it could
            // accept (EPOLLEXCLUSIVE wakes one waiter per new connection,
            // and a level-triggered listener is not looked at again until
            // the next one arrives): look for such a connection ourselves.
            for i in 0..self.listeners.len() {
                if let Ok(Some(stream)) = self.accept(i) {
                    return Next::Connection(stream);
                }
            }
        }
        for event in ready {
            match event {
                Ready::PipeOfDeath if pod.check() => return Next::Stop,
                Ready::PipeOfDeath => {}
                Ready::Listener(i) => match self.accept(i) {
                    Ok(Some(stream)) => return Next::Connection(stream),
                    Ok(None) => {}
                    Err(AcceptError::Resources(e)) if shortage::is_shortage(&e) => {
                        // Every waiting client answered 503 while the
                        // shortage lasts (bounded per wake-up), then a pause.
                        for _ in 0..64 {
                            if !self.shortage.shed(&self.listeners[i].socket, &e) {
                                break;
                            }
                            match self.accept(i) {
                                Ok(Some(stream)) => return Next::Connection(stream),
                                Err(AcceptError::Resources(again)) if shortage::is_shortage(&again) => {}
                                _ => break,
                            }
                        }
                    }
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

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::time::Instant;

    use super::*;

    /// Out of descriptors with no spare to answer through, a child does not
    /// spin on its readable listener: the listeners leave the wait set for
    /// the pause, the wait returns nothing while a client waits, and the
    /// client is taken once the pause is over.
    #[test]
    fn a_shortage_pause_takes_the_listeners_out_of_the_wait() {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let listeners = [Listener { socket, addr, protocol: "http".into() }];
        let pod = PipeOfDeath::new().unwrap();
        let mut set = AcceptSet::new(&listeners, &pod).unwrap();
        let _client = TcpStream::connect(addr).unwrap();
        set.shortage.pause_now();
        // Paused: the wait ignores the waiting client, however long it is
        // asked to wait (it is cut to what is left of the pause).
        assert!(matches!(set.next(&pod, Duration::from_secs(10)), Next::Nothing));
        assert!(set.paused || set.shortage.paused().is_none());
        // The pause ends and the client is taken.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match set.next(&pod, Duration::from_millis(50)) {
                Next::Connection(_) => break,
                Next::Nothing if Instant::now() < deadline => {}
                _ => panic!("the waiting client was not taken after the pause"),
            }
        }
        assert!(!set.paused);
    }
}
