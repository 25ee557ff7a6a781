//! The event child's listener thread: a mio `Poll` over the listening
//! sockets, the pipe of death, a `Waker`, and every connection that waits
//! for something other than a worker: the first bytes of a request (or the
//! rest of a partial head: beyond httpd, a slow client holds no worker),
//! the next request of a kept-alive connection, a socket that must drain
//! before the rest of a response can be written, a lingering close. A
//! connection goes to a worker only when its socket is ready.
//!
//! A connection's socket is registered once, edge-triggered (for reading;
//! for writing too from its first blocked write), and stays registered for
//! its whole life: no `epoll_ctl` per request. An edge that comes while a worker holds the connection would
//! not come again, so it is remembered (`Entry::pending`) and acted on when
//! the worker hands the connection back.

use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use httpd_core::http::{ConnInfo, Connection, Outcome};
use httpd_core::mpm::ChildContext;
use httpd_core::process;
use httpd_core::tls::Socket;
use mio::event::Event;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use nix::sys::resource::{Resource, getrlimit};

use httpd_core::shortage::{self, Shortage};

use crate::jobs::{Conn, Done, Job, Jobs, STALL};
use crate::timeouts::{TimeoutQueue, TimeoutQueues};

pub(crate) const WAKER: Token = Token(usize::MAX - 1);
const POD: Token = Token(usize::MAX - 2);
/// Connection tokens start here; listeners use their index below it.
const FIRST_CONN: usize = 1 << 20;
/// httpd's LINGER_NORMAL.
const LINGER: Duration = Duration::from_secs(30);
/// Readiness seen for a connection, as bits of `Entry::pending`.
const READ: u8 = 1;
const WRITE: u8 = 2;
/// Descriptors a child needs besides its connections and listeners: one
/// file open per busy worker is added to this; the rest is logs (and piped
/// logs), the pipe of death, the poll and its waker, stdio, and margin.
const FD_RESERVE: usize = 64;
/// Partial request heads a child holds: this many per worker thread, and at
/// least `HEADS_FLOOR` (see `Listener::room`).
const HEADS_PER_THREAD: usize = 64;
const HEADS_FLOOR: usize = 4096;

/// What a parked connection waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Wait {
    /// The rest of a request head, or its first byte (Timeout).
    Head,
    /// The rest of a request body (Timeout).
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

impl Wait {
    /// The readiness (`READ`, `WRITE`) that ends this wait.
    fn wants(self) -> u8 {
        match self {
            Wait::Head | Wait::Read | Wait::KeepAlive | Wait::Linger => READ,
            Wait::Write => WRITE,
            Wait::Worker => 0,
        }
    }
}

struct Entry {
    /// `None` while a worker has it.
    conn: Option<Box<Conn>>,
    wait: Wait,
    /// Set anew (`Listener::serial`) at every move, so that stale timeout
    /// entries are skipped.
    seq: u64,
    /// Readiness reported while a worker had it.
    pending: u8,
    /// Registered for writing too. Only once a write has blocked: a socket
    /// is writable as soon as it is registered, and that event would only
    /// cost a poll round.
    writing: bool,
}

pub(crate) struct Listener<'a> {
    child: &'a ChildContext<'a>,
    jobs: &'a Jobs,
    poll: Poll,
    table: Vec<Option<Entry>>,
    free: Vec<usize>,
    /// Per kind of wait; a connection waits for the Timeout or
    /// KeepAliveTimeout of the server in charge of it (see
    /// `Connection::timeout`).
    read: TimeoutQueues,
    keep_alive: TimeoutQueues,
    write: TimeoutQueues,
    linger: TimeoutQueue,
    accepting: bool,
    stopping: bool,
    accepted: u32,
    /// Connections this child holds (parked or with a worker).
    connections: usize,
    /// How many connections wait for each `Wait`, kept as they move (no scan).
    waiting: [usize; 6],
    /// The most connections this child holds, and partial heads among them.
    max_connections: usize,
    max_heads: usize,
    /// An accept stopped at its round's share with connections perhaps left
    /// in the backlog, which an edge-triggered listener is not told of again.
    backlog: bool,
    /// Jobs of this poll round, queued at its end under one lock.
    batch: Vec<Job>,
    /// What workers handed back, swapped with theirs each round.
    returns: Vec<Done>,
    /// Jobs were left queued at the end of the last round.
    queued: bool,
    /// The last `Entry::seq` given. One count for all entries: a slot of the
    /// table is reused by later connections, and a count per connection
    /// would let a stale timeout entry of an earlier one match a later one.
    serial: u64,
    /// When this poll round began: the clock read once a round, not once
    /// per connection moved (a few hundred connections may move in one).
    now: Instant,
    /// Out of descriptors at accept: 503 through a spare, or a pause.
    shortage: Shortage,
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
        let threads = child.server.capacity.threads_per_child as usize;
        // The soft limit is what accept(2) fails at; the parent raised it
        // before forking if it could.
        let nofile = getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft);
        let nofile = usize::try_from(nofile).unwrap_or(usize::MAX);
        let max_connections = nofile.saturating_sub(FD_RESERVE + threads + child.listeners.len()).max(1);
        let max_heads = (HEADS_PER_THREAD * threads).max(HEADS_FLOOR).min(max_connections);
        let mut listener = Listener {
            child,
            jobs,
            poll,
            table: Vec::new(),
            free: Vec::new(),
            read: TimeoutQueues::default(),
            keep_alive: TimeoutQueues::default(),
            write: TimeoutQueues::default(),
            linger: TimeoutQueue::new(LINGER),
            accepting: false,
            stopping: false,
            accepted: 0,
            connections: 0,
            waiting: [0; 6],
            max_connections,
            max_heads,
            backlog: false,
            batch: Vec::new(),
            returns: Vec::new(),
            queued: false,
            serial: 0,
            now: Instant::now(),
            shortage: Shortage::new(),
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
            let paused = self.shortage.paused();
            if !self.stopping {
                let room = self.room() > 0 && paused.is_none();
                if room != self.accepting {
                    self.set_accepting(room);
                }
            }
            // Not accepting, the backlog waits for the listeners to be
            // registered again, which reports it.
            self.backlog &= self.accepting;
            let mut wait = self.next_deadline().map_or(Duration::from_secs(1), |d| {
                d.saturating_duration_since(Instant::now()).min(Duration::from_secs(1))
            });
            if self.queued {
                wait = wait.min(STALL);
            }
            if let Some(left) = paused {
                wait = wait.min(left);
            }
            if self.backlog {
                wait = Duration::ZERO;
            }
            let polled = self.poll.poll(&mut events, Some(wait));
            self.now = Instant::now();
            match polled {
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
                    Token(t) => self.ready(t - FIRST_CONN, readiness(event)),
                }
            }
            if std::mem::take(&mut self.backlog) {
                // After the events: the connections accepted last round have
                // been dispatched by now, and count as they should.
                for i in 0..self.child.listeners.len() {
                    self.accept(i);
                }
            }
            // Taken after the events: an event for a connection still with a
            // worker is then pending when it comes back, not lost.
            let mut returns = std::mem::take(&mut self.returns);
            self.jobs.take_done(&mut returns);
            for (index, conn, outcome) in returns.drain(..) {
                self.returned(index, conn, outcome);
            }
            self.returns = returns;
            self.expire();
            self.jobs.push_all(&mut self.batch, self.now);
            self.queued = self.jobs.unstick(self.now);
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
        self.jobs.set_eager();
        process::request_child_stop();
        self.child.board.process(self.child.slot).set_quiescing(true);
        self.set_accepting(false);
        self.close_all(Wait::KeepAlive);
    }

    /// How many more connections this child takes now: event.c's flow
    /// control, where the connections that need or may soon need a worker
    /// stay under ThreadsPerChild + floor(AsyncRequestWorkerFactor) x idle
    /// workers, with two differences.
    ///
    /// Connections that wait for no worker are left out of the count: httpd
    /// leaves out lingering closes; here idle keep-alive connections too
    /// (httpd counts them, so with default settings a child holds at most
    /// about 75; a parked one costs a few hundred bytes and no worker, so a
    /// child can hold thousands), and connections still reading their
    /// request head. In httpd a worker reads the head, so a slow client
    /// (slowloris) holds a worker and counts; here a partial head waits in
    /// the listener, so counting it would let a thousand clients sending a
    /// byte a second fill every child's quota with connections that use no
    /// worker, and the children would stop accepting normal clients.
    /// A request body still counts, as in httpd.
    ///
    /// What a child holds is bounded instead by two caps. Every connection
    /// is a descriptor: the connections stay under RLIMIT_NOFILE less what
    /// the child needs besides (`FD_RESERVE`, one file per worker, the
    /// listeners), so accept(2) never fails for want of one. A partial head
    /// also holds its input buffer (4 KiB) and the kernel's socket buffers,
    /// some 8 KiB in all: partial heads stay under `HEADS_PER_THREAD` per
    /// worker thread, at least `HEADS_FLOOR` (so with default sizing a child
    /// holds up to 4096 of them, some 32 MiB at worst).
    ///
    /// httpd also closes keep-alive connections when its workers are all
    /// busy; that frees no worker and drops clients in a burst, so here they
    /// close only at KeepAliveTimeout or when the child stops.
    fn room(&self) -> usize {
        let cap = &self.child.server.capacity;
        let factor = cap.async_request_worker_factor.unwrap_or(2.0).max(1.0).floor() as usize;
        // This round's dispatches are not queued yet, and will each take one.
        let idle = self.jobs.idle().saturating_sub(self.batch.len());
        if idle == 0 {
            return 0;
        }
        let uncounted = self.count(Wait::Linger) + self.count(Wait::KeepAlive) + self.count(Wait::Head);
        let active = self.connections - uncounted;
        let quota = cap.threads_per_child as usize + factor * idle;
        quota
            .saturating_sub(active)
            .min(self.max_connections.saturating_sub(self.connections))
            .min(self.max_heads.saturating_sub(self.count(Wait::Head)))
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

    /// Takes the waiting connections of listener `i` (edge-triggered: until
    /// WouldBlock); another child may have taken them first. A new
    /// connection is a request head not yet begun, which `room` does not
    /// count; so that one child does not swallow a whole burst before any
    /// of it shows as work, a round takes at most what `room` allowed at
    /// its start, and the next round takes more once the first ones have
    /// been dispatched (`backlog`).
    fn accept(&mut self, i: usize) {
        let Some(l) = self.child.listeners.get(i) else { return };
        let mut share = if self.accepting { self.room() } else { 0 };
        while share > 0 {
            match l.socket.accept() {
                Ok((stream, remote)) => {
                    self.accepted += 1;
                    share -= 1;
                    self.admit(stream, remote);
                    if self.should_stop() {
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if matches!(e.kind(), ErrorKind::ConnectionAborted | ErrorKind::Interrupted) => {}
                Err(e) if shortage::is_shortage(&e) => {
                    // Out of descriptors (the system's, or ours beyond the
                    // reserve): the client gets a 503 through the spare;
                    // failing that, accepting pauses (see `run`).
                    if !self.shortage.shed(&l.socket, &e) {
                        return;
                    }
                    share -= 1;
                }
                Err(e) => {
                    log::error!(target: "mpm", "AH00488: accept: {e}");
                    return;
                }
            }
        }
        self.backlog = self.accepting;
    }

    /// A new connection: registered for its life (for reading; for writing
    /// too once needed), then parked until its first bytes arrive (a client
    /// that connects and says nothing holds no worker).
    fn admit(&mut self, stream: std::net::TcpStream, remote: std::net::SocketAddr) {
        let Ok(local) = stream.local_addr() else { return };
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let _ = stream.set_nodelay(true);
        let index = self.insert();
        let fd = stream.as_raw_fd();
        let token = Token(FIRST_CONN + index);
        if self.poll.registry().register(&mut SourceFd(&fd), token, Interest::READABLE).is_err() {
            self.remove(index);
            return;
        }
        let ctx = self.child.server;
        let engine = Connection::new(ConnInfo { remote, local, tls: None }, ctx);
        // TLS when the address's server has SSLEngine on; its handshake runs
        // in a worker as the first bytes arrive, like a request head.
        let Ok(stream) = Socket::new(stream, remote, engine.binding(), ctx) else {
            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            self.remove(index);
            return;
        };
        let conn = Box::new(Conn { engine, stream, fresh: true });
        self.returned(index, conn, Outcome::ReadBlocked);
    }

    fn insert(&mut self) -> usize {
        self.connections += 1;
        self.waiting[Wait::Worker as usize] += 1;
        self.serial += 1;
        let entry = Entry { conn: None, wait: Wait::Worker, seq: self.serial, pending: 0, writing: false };
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

    /// A connection's socket is ready (`READ`, `WRITE` bits).
    fn ready(&mut self, index: usize, ready: u8) {
        let Some(Some(entry)) = self.table.get_mut(index) else { return };
        if entry.wait == Wait::Worker {
            // Acted on when the worker hands it back.
            entry.pending |= ready;
        } else if ready & entry.wait.wants() != 0 {
            self.resume(index);
        }
    }

    /// A parked connection got what it waited for.
    fn resume(&mut self, index: usize) {
        match self.table.get(index) {
            // Draining a lingering close needs no worker.
            Some(Some(entry)) if entry.wait == Wait::Linger => self.drain(index),
            Some(Some(entry)) if entry.wait == Wait::Head => self.gather(index),
            _ => self.dispatch(index, false),
        }
    }

    /// More of a request head came: beyond httpd, whose event MPM gives a
    /// worker each read of a head, the listener reads it, and a worker gets
    /// the connection only once the head is whole (or the client closed, or
    /// the head is malformed). The entry stays as it is, its Timeout
    /// counting from when the head began: a client that sends a byte a
    /// second gets its 408 as one that sends nothing.
    fn gather(&mut self, index: usize) {
        let ctx = self.child.server;
        let Some(Some(entry)) = self.table.get_mut(index) else { return };
        let Some(conn) = entry.conn.as_mut() else { return };
        let Conn { engine, stream, .. } = &mut **conn;
        if engine.gather_head(stream, ctx) {
            self.dispatch(index, false);
        }
    }

    /// Gives a parked connection to a worker (at the end of the round).
    fn dispatch(&mut self, index: usize, timed_out: bool) {
        let Some(Some(entry)) = self.table.get_mut(index) else { return };
        let Some(conn) = entry.conn.take() else { return };
        self.serial += 1;
        entry.seq = self.serial;
        entry.pending = 0;
        self.set_wait(index, Wait::Worker);
        self.batch.push(Job { token: index, conn, timed_out });
    }

    /// A worker handed a connection back, with what it now waits for.
    fn returned(&mut self, index: usize, conn: Box<Conn>, outcome: Outcome) {
        let wait = match outcome {
            Outcome::Close => return self.close(index, conn),
            Outcome::KeepAlive if self.stopping => return self.close(index, conn),
            Outcome::KeepAlive => Wait::KeepAlive,
            Outcome::ReadBlocked if conn.engine.reading_head() => Wait::Head,
            Outcome::ReadBlocked => Wait::Read,
            Outcome::WriteBlocked => Wait::Write,
            Outcome::Linger => Wait::Linger,
        };
        let Some(Some(entry)) = self.table.get_mut(index) else { return };
        if wait == Wait::Write && !entry.writing {
            // Once per connection. A change of interest makes the kernel
            // look at the socket again, so an edge missed before is reported.
            let fd = conn.stream.as_raw_fd();
            let token = Token(FIRST_CONN + index);
            let interest = Interest::READABLE | Interest::WRITABLE;
            if self.poll.registry().reregister(&mut SourceFd(&fd), token, interest).is_err() {
                return self.close(index, conn);
            }
            entry.writing = true;
        }
        self.serial += 1;
        entry.seq = self.serial;
        let (timeout, keep_alive_timeout) = (conn.engine.timeout(), conn.engine.keep_alive_timeout());
        // Rounded up to a whole second: the queues, one per value, stay few
        // (a handshake is cut off within a second after Timeout).
        let left = conn.engine.head_timeout();
        let head_timeout = Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0));
        entry.conn = Some(conn);
        self.set_wait(index, wait);
        let Some(Some(entry)) = self.table.get_mut(index) else { return };
        let (now, seq, pending) = (self.now, entry.seq, std::mem::take(&mut entry.pending));
        // The wait's deadline first: acting on what came meanwhile may leave
        // the connection parked (a head still partial after `gather`); one
        // that goes to a worker instead gets a new `seq`, which voids it.
        match wait {
            Wait::Head => self.read.push(now, head_timeout, index, seq),
            Wait::Read => self.read.push(now, timeout, index, seq),
            Wait::KeepAlive => self.keep_alive.push(now, keep_alive_timeout, index, seq),
            Wait::Write => self.write.push(now, timeout, index, seq),
            Wait::Linger => self.linger.push(now, index, seq),
            Wait::Worker => {}
        }
        self.compact_timeouts();
        // What became ready while a worker had it: act now, as the event
        // would have made us.
        if pending & wait.wants() != 0 {
            self.resume(index);
        }
    }

    /// Drops timeout entries whose connection has moved on or gone, once
    /// they outnumber the parked connections by far. An entry is voided, not
    /// removed, when its connection moves (O(1)); under a high connection
    /// rate and a long Timeout the voided ones would pile up (tens of bytes
    /// per connection for a whole Timeout), so they are swept here, in time
    /// amortized over the pushes that made them.
    fn compact_timeouts(&mut self) {
        let queued = self.read.len() + self.keep_alive.len() + self.write.len() + self.linger.len();
        let parked = self.connections - self.count(Wait::Worker);
        if queued <= 2 * parked + 1024 {
            return;
        }
        let table = &self.table;
        let live = |token: usize, seq: u64| {
            table.get(token).and_then(Option::as_ref).is_some_and(|e| e.seq == seq && e.wait != Wait::Worker)
        };
        self.read.retain(&live);
        self.keep_alive.retain(&live);
        self.write.retain(&live);
        self.linger.retain(&live);
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
        self.remove(index);
    }

    /// Frees entry `index`.
    fn remove(&mut self, index: usize) {
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
        [self.read.next_deadline(), self.keep_alive.next_deadline(), self.write.next_deadline()]
            .into_iter()
            .chain([self.linger.next_deadline()])
            .flatten()
            .min()
    }

    /// Acts on the waits that ran out: keep-alive and lingering connections
    /// close; a request cut short gets its 408 from a worker; a write that
    /// never drained is aborted.
    fn expire(&mut self) {
        let now = self.now;
        let queues = [
            (self.keep_alive.expired(now), [Wait::KeepAlive, Wait::KeepAlive]),
            (self.read.expired(now), [Wait::Head, Wait::Read]),
            (self.write.expired(now), [Wait::Write, Wait::Write]),
            (self.linger.expired(now), [Wait::Linger, Wait::Linger]),
        ];
        let mut expired: Vec<(usize, u64, [Wait; 2])> = Vec::new();
        for (entries, waits) in queues {
            expired.extend(entries.into_iter().map(|(i, s)| (i, s, waits)));
        }
        for (index, seq, waits) in expired {
            let wait = match self.table.get(index) {
                Some(Some(e)) if e.seq == seq && waits.contains(&e.wait) && e.conn.is_some() => e.wait,
                _ => continue,
            };
            match wait {
                Wait::Head | Wait::Read => self.dispatch(index, true),
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

/// The readiness bits an event reports; an error or hang-up ends any wait
/// (the worker or the drain then meets it).
fn readiness(event: &Event) -> u8 {
    let error = event.is_error();
    let read = event.is_readable() || event.is_read_closed() || error;
    let write = event.is_writable() || event.is_write_closed() || error;
    (if read { READ } else { 0 }) | (if write { WRITE } else { 0 })
}
