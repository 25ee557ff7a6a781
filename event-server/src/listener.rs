//! The event child's listener thread: a mio `Poll` over the listening
//! sockets, the pipe of death, a `Waker`, and every connection that waits
//! for something other than a worker: the first bytes of a request (or the
//! rest of a partial head: beyond httpd, a slow client holds no worker),
//! the next request of a kept-alive connection, a socket that must drain
//! before the rest of a response can be written, a lingering close. A
//! connection goes to a worker only when its socket is ready.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use httpd_core::http::{ConnInfo, Connection, Outcome};
use httpd_core::mpm::ChildContext;
use httpd_core::process;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::jobs::{Conn, Job, Jobs};
use crate::timeouts::TimeoutQueue;

pub(crate) const WAKER: Token = Token(usize::MAX - 1);
const POD: Token = Token(usize::MAX - 2);
/// Connection tokens start here; listeners use their index below it.
const FIRST_CONN: usize = 1 << 20;
/// httpd's LINGER_NORMAL.
const LINGER: Duration = Duration::from_secs(30);

/// What a parked connection waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Wait {
    /// Its first request, or the rest of a request (Timeout).
    Read,
    /// Its next request (KeepAliveTimeout).
    KeepAlive,
    /// Room to write (Timeout): write completion.
    Write,
    /// The client's FIN after ours (lingering close).
    Linger,
    /// It is with a worker.
    Worker,
}

struct Entry {
    /// `None` while a worker has it.
    conn: Option<Box<Conn>>,
    wait: Wait,
    /// Bumped at every move, so stale timeout entries are skipped.
    seq: u64,
}

pub(crate) struct Listener<'a> {
    child: &'a ChildContext<'a>,
    jobs: &'a Jobs,
    poll: Poll,
    table: Vec<Option<Entry>>,
    free: Vec<usize>,
    read: TimeoutQueue,
    keep_alive: TimeoutQueue,
    write: TimeoutQueue,
    linger: TimeoutQueue,
    accepting: bool,
    stopping: bool,
    accepted: u32,
    /// Connections this child holds (parked or with a worker).
    connections: usize,
    /// How many connections wait for each `Wait`, kept as they move (no scan).
    waiting: [usize; 5],
}

impl<'a> Listener<'a> {
    pub(crate) fn new(
        child: &'a ChildContext<'a>,
        jobs: &'a Jobs,
    ) -> std::io::Result<(Listener<'a>, Arc<Waker>)> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let pod_fd = child.pod.read_fd().as_raw_fd();
        poll.registry().register(&mut SourceFd(&pod_fd), POD, Interest::READABLE)?;
        let settings = &child.server.settings;
        let timeout = Duration::from_millis(settings.timeout);
        let mut listener = Listener {
            child,
            jobs,
            poll,
            table: Vec::new(),
            free: Vec::new(),
            read: TimeoutQueue::new(timeout),
            keep_alive: TimeoutQueue::new(Duration::from_millis(settings.keep_alive_timeout)),
            write: TimeoutQueue::new(timeout),
            linger: TimeoutQueue::new(LINGER),
            accepting: false,
            stopping: false,
            accepted: 0,
            connections: 0,
            waiting: [0; 5],
        };
        for l in child.listeners {
            l.socket.set_nonblocking(true)?;
        }
        listener.set_accepting(true);
        Ok((listener, waker))
    }

    /// Runs until the child stops and its last connection is done.
    pub(crate) fn run(&mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            if !self.stopping && self.should_stop() {
                self.begin_stop();
            }
            if self.stopping && self.connections == 0 {
                return;
            }
            if !self.stopping {
                let room = self.has_room();
                if room != self.accepting {
                    self.set_accepting(room);
                }
            }
            let wait = self.next_deadline().map_or(Duration::from_secs(1), |d| {
                d.saturating_duration_since(Instant::now()).min(Duration::from_secs(1))
            });
            match self.poll.poll(&mut events, Some(wait)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::error!(target: "mpm", "AH00485: poll: {e}");
                    self.begin_stop();
                    continue;
                }
            }
            for event in events.iter() {
                match event.token() {
                    WAKER => {}
                    POD => {
                        if self.child.pod.check() {
                            self.begin_stop();
                        }
                    }
                    Token(i) if i < FIRST_CONN => self.accept(i),
                    Token(t) => self.ready(t - FIRST_CONN),
                }
            }
            for (index, conn, outcome) in self.jobs.take_done() {
                self.returned(index, conn, outcome);
            }
            self.expire();
            self.report();
        }
    }

    fn should_stop(&self) -> bool {
        let limit = self.child.server.capacity.max_connections_per_child;
        self.child.should_stop() || (limit > 0 && self.accepted >= limit)
    }

    /// Stops accepting; keep-alive connections close now, the others finish.
    fn begin_stop(&mut self) {
        self.stopping = true;
        process::request_child_stop();
        self.child.board.process(self.child.slot).set_quiescing(true);
        self.set_accepting(false);
        self.close_all(Wait::KeepAlive);
    }

    /// event.c's flow control: a child takes new connections only while
    /// those that need or may soon need a worker stay under ThreadsPerChild +
    /// floor(AsyncRequestWorkerFactor) x idle workers. httpd counts idle
    /// keep-alive connections too, so with default settings a child holds
    /// at most about 75 of them; here a parked keep-alive connection costs a
    /// few hundred bytes and no worker, so it is left out of the count and a
    /// child can hold thousands. httpd also closes keep-alive connections
    /// when its workers are all busy; that frees no worker (an idle
    /// connection uses none) and drops clients in a burst, so here they
    /// close only at KeepAliveTimeout or when the child stops.
    fn has_room(&self) -> bool {
        let cap = &self.child.server.capacity;
        let factor = cap.async_request_worker_factor.unwrap_or(2.0).max(1.0).floor() as usize;
        let idle = self.jobs.idle();
        let active = self.connections - self.count(Wait::Linger) - self.count(Wait::KeepAlive);
        idle > 0 && active < cap.threads_per_child as usize + factor * idle
    }

    fn set_accepting(&mut self, on: bool) {
        if self.accepting == on {
            return;
        }
        for (i, l) in self.child.listeners.iter().enumerate() {
            let fd = l.socket.as_raw_fd();
            let result = if on {
                self.poll.registry().register(&mut SourceFd(&fd), Token(i), Interest::READABLE)
            } else {
                self.poll.registry().deregister(&mut SourceFd(&fd))
            };
            if let Err(e) = result {
                // A stopping child's USR1 handler may have closed them already.
                log::debug!(target: "mpm", "listener {}: {e}", l.addr);
            }
        }
        self.accepting = on;
        self.child.board.process(self.child.slot).set_not_accepting(!on);
    }

    /// Takes every waiting connection of listener `i` (edge-triggered: until
    /// WouldBlock); another child may have taken them first.
    fn accept(&mut self, i: usize) {
        let Some(l) = self.child.listeners.get(i) else { return };
        while self.accepting && self.has_room() {
            match l.socket.accept() {
                Ok((stream, remote)) => {
                    self.accepted += 1;
                    let Ok(local) = stream.local_addr() else { continue };
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    let conn = Box::new(Conn {
                        engine: Connection::new(ConnInfo { remote, local }),
                        stream,
                        fresh: true,
                    });
                    self.connections += 1;
                    let index = self.insert();
                    // Parked until its first bytes arrive: a client that
                    // connects and says nothing holds no worker.
                    self.returned(index, conn, Outcome::ReadBlocked);
                    if self.should_stop() {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if matches!(e.kind(), ErrorKind::ConnectionAborted | ErrorKind::Interrupted) => {}
                Err(e) => {
                    log::error!(target: "mpm", "AH00488: accept: {e}");
                    break;
                }
            }
        }
    }

    fn insert(&mut self) -> usize {
        self.waiting[Wait::Worker as usize] += 1;
        let entry = Entry { conn: None, wait: Wait::Worker, seq: 0 };
        match self.free.pop() {
            Some(index) => {
                self.table[index] = Some(entry);
                index
            }
            None => {
                self.table.push(Some(entry));
                self.table.len() - 1
            }
        }
    }

    /// A parked connection's socket is ready.
    fn ready(&mut self, index: usize) {
        let Some(Some(entry)) = self.table.get(index) else { return };
        match entry.wait {
            Wait::Worker => {}
            // Draining a lingering close needs no worker.
            Wait::Linger => self.drain(index),
            _ => self.dispatch(index, false),
        }
    }

    /// Gives a parked connection to a worker.
    fn dispatch(&mut self, index: usize, timed_out: bool) {
        let Some(Some(entry)) = self.table.get_mut(index) else { return };
        let Some(conn) = entry.conn.take() else { return };
        entry.seq += 1;
        self.set_wait(index, Wait::Worker);
        self.jobs.push(Job { token: index, conn, timed_out });
    }

    /// A worker handed a connection back, with what it now waits for.
    fn returned(&mut self, index: usize, mut conn: Box<Conn>, outcome: Outcome) {
        let wait = match outcome {
            Outcome::Close => {
                self.close(index, conn);
                return;
            }
            Outcome::KeepAlive => {
                if self.stopping {
                    self.close(index, conn);
                    return;
                }
                conn.engine.release_buffers();
                Wait::KeepAlive
            }
            Outcome::ReadBlocked => Wait::Read,
            Outcome::WriteBlocked => Wait::Write,
            Outcome::Linger => Wait::Linger,
        };
        let interest = if wait == Wait::Write { Interest::WRITABLE } else { Interest::READABLE };
        let fd = conn.stream.as_raw_fd();
        let token = Token(FIRST_CONN + index);
        let registry = self.poll.registry();
        let registered = registry
            .reregister(&mut SourceFd(&fd), token, interest)
            .or_else(|_| registry.register(&mut SourceFd(&fd), token, interest));
        if registered.is_err() {
            self.close(index, conn);
            return;
        }
        let now = Instant::now();
        self.set_wait(index, wait);
        let Some(Some(entry)) = self.table.get_mut(index) else { return };
        entry.seq += 1;
        entry.conn = Some(conn);
        let seq = entry.seq;
        match wait {
            Wait::Read => self.read.push(now, index, seq),
            Wait::KeepAlive => self.keep_alive.push(now, index, seq),
            Wait::Write => self.write.push(now, index, seq),
            Wait::Linger => self.linger.push(now, index, seq),
            Wait::Worker => {}
        }
    }

    /// Lingering close in the listener: read and drop until the client closes.
    fn drain(&mut self, index: usize) {
        let Some(Some(entry)) = self.table.get_mut(index) else { return };
        let Some(mut conn) = entry.conn.take() else { return };
        let ctx = self.child.server;
        let Conn { engine, stream, .. } = &mut *conn;
        match engine.step(stream, ctx) {
            Outcome::Close => self.close(index, conn),
            _ => {
                if let Some(Some(entry)) = self.table.get_mut(index) {
                    entry.conn = Some(conn);
                }
            }
        }
    }

    fn close(&mut self, index: usize, conn: Box<Conn>) {
        let fd = conn.stream.as_raw_fd();
        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        drop(conn);
        if let Some(slot) = self.table.get_mut(index) {
            if let Some(entry) = slot.take() {
                self.waiting[entry.wait as usize] -= 1;
                self.free.push(index);
                self.connections -= 1;
            }
        }
    }

    /// Closes every connection parked for `wait`.
    fn close_all(&mut self, wait: Wait) {
        if self.count(wait) == 0 {
            return;
        }
        let indexes: Vec<usize> = self
            .table
            .iter()
            .enumerate()
            .filter(|(_, e)| e.as_ref().is_some_and(|e| e.wait == wait && e.conn.is_some()))
            .map(|(i, _)| i)
            .collect();
        for index in indexes {
            if let Some(conn) = self.table[index].as_mut().and_then(|e| e.conn.take()) {
                self.close(index, conn);
            }
        }
    }

    fn count(&self, wait: Wait) -> usize {
        self.waiting[wait as usize]
    }

    /// Moves entry `index` to `wait`, keeping the counts.
    fn set_wait(&mut self, index: usize, wait: Wait) {
        if let Some(Some(entry)) = self.table.get_mut(index) {
            self.waiting[entry.wait as usize] -= 1;
            self.waiting[wait as usize] += 1;
            entry.wait = wait;
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        [&self.read, &self.keep_alive, &self.write, &self.linger]
            .iter()
            .filter_map(|q| q.next_deadline())
            .min()
    }

    /// Acts on the waits that ran out: keep-alive and lingering connections
    /// close; a request cut short gets its 408 from a worker; a write that
    /// never drained is aborted.
    fn expire(&mut self) {
        let now = Instant::now();
        let mut expired: VecDeque<(usize, u64, Wait)> = VecDeque::new();
        for (queue, wait) in [
            (&mut self.keep_alive, Wait::KeepAlive),
            (&mut self.read, Wait::Read),
            (&mut self.write, Wait::Write),
            (&mut self.linger, Wait::Linger),
        ] {
            expired.extend(queue.expired(now).into_iter().map(|(i, s)| (i, s, wait)));
        }
        for (index, seq, wait) in expired {
            let current = matches!(self.table.get(index), Some(Some(e)) if e.seq == seq && e.wait == wait && e.conn.is_some());
            if !current {
                continue;
            }
            match wait {
                Wait::Read => self.dispatch(index, true),
                _ => {
                    let conn = self.table[index].as_mut().and_then(|e| e.conn.take());
                    if let Some(mut conn) = conn {
                        if wait == Wait::Write {
                            let ctx = self.child.server;
                            conn.engine.timed_out(ctx);
                        }
                        self.close(index, conn);
                    }
                }
            }
        }
    }

    /// The event counters of mod_status, per process.
    fn report(&self) {
        let p = self.child.board.process(self.child.slot);
        p.connections.store(self.connections as u32, Relaxed);
        p.keep_alive.store(self.count(Wait::KeepAlive) as u32, Relaxed);
        p.write_completion.store(self.count(Wait::Write) as u32, Relaxed);
        p.lingering_close.store(self.count(Wait::Linger) as u32, Relaxed);
    }
}
