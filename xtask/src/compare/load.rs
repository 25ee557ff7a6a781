//! The load generator: closed loop (each active connection sends its next request as soon as
//! the last response is in), on mio, over one or more threads.
//!
//! A run has phases on one clock shared by the threads: background connections (idle keep-alive
//! clients, or slow clients dribbling request heads) are opened first, at most
//! `MAX_OPENING` at a time per thread so the listen queue does not overflow; the active clients
//! start once every idle connection has its answer, or `setup_limit` has passed (always, for
//! slow clients: the server cannot tell us it took them in, and its process model needs time
//! to grow); their responses count only after `warmup`, for `duration`.
//!
//! The connections are plain TCP, or TLS when the plan has a client for it ([`Transport`]).

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::http::{self, Fault, Progress, Response, ResponseReader};
use super::tally::Tally;
use super::tls;
use super::transport::{TlsStream, Transport};

/// Background connections a thread has opening (connecting or awaiting their one response).
const MAX_OPENING: usize = 64;
/// How often timeouts and dribbles are looked at.
const TICK: Duration = Duration::from_millis(20);
/// A slow client sends one more byte this often.
const DRIBBLE_EVERY: Duration = Duration::from_millis(250);
/// After a refused connect, wait this long before the next try (no busy loop on a dead server).
const RETRY_AFTER: Duration = Duration::from_millis(10);

pub(crate) struct Plan {
    pub(crate) addr: SocketAddr,
    pub(crate) threads: usize,
    pub(crate) active: Active,
    pub(crate) background: Option<Background>,
    /// Every connection over TLS with this client, when set.
    pub(crate) tls: Option<tls::Client>,
    pub(crate) setup_limit: Duration,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    /// An active request unanswered this long is a timeout; the connection is closed and the
    /// client starts again on a new one.
    pub(crate) request_timeout: Duration,
    /// The server's KeepAliveTimeout: an idle connection closed sooner was closed early.
    pub(crate) keep_alive_timeout: Duration,
}

pub(crate) struct Active {
    pub(crate) connections: usize,
    pub(crate) path: String,
    pub(crate) keep_alive: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BackgroundKind {
    /// One request, then the connection is held open, idle.
    Idle,
    /// A request head that never ends, one byte at a time.
    Slow,
}

pub(crate) struct Background {
    pub(crate) kind: BackgroundKind,
    pub(crate) connections: usize,
    pub(crate) path: String,
}

/// The phases, shared by the load threads and the sampler.
pub(crate) struct Clock {
    start: Instant,
    active_start: OnceLock<Instant>,
    background_ready: AtomicUsize,
    /// Start the active clients as soon as this many background connections are ready.
    ready_enough: usize,
    setup_limit: Duration,
    warmup: Duration,
    duration: Duration,
}

impl Clock {
    /// When the active clients start: fixed by the first caller to see every background
    /// connection ready, or the setup limit passed.
    pub(crate) fn active_start(&self, now: Instant) -> Option<Instant> {
        if let Some(&t) = self.active_start.get() {
            return Some(t);
        }
        let ready = self.background_ready.load(Ordering::Relaxed) >= self.ready_enough;
        (ready || now >= self.start + self.setup_limit).then(|| *self.active_start.get_or_init(|| now))
    }

    /// The measured window: from the end of the warm-up to the end of the run.
    pub(crate) fn window(&self, now: Instant) -> Option<(Instant, Instant)> {
        let t = self.active_start(now)? + self.warmup;
        Some((t, t + self.duration))
    }
}

/// A run under way.
pub(crate) struct LoadRun {
    pub(crate) clock: Arc<Clock>,
    threads: Vec<JoinHandle<Tally>>,
}

pub(crate) fn start(plan: Plan) -> LoadRun {
    let background_total = plan.background.as_ref().map_or(0, |b| b.connections);
    let ready_enough = match &plan.background {
        Some(b) if b.kind == BackgroundKind::Slow => usize::MAX,
        _ => background_total,
    };
    let clock = Arc::new(Clock {
        start: Instant::now(),
        active_start: OnceLock::new(),
        background_ready: AtomicUsize::new(0),
        ready_enough,
        setup_limit: plan.setup_limit,
        warmup: plan.warmup,
        duration: plan.duration,
    });
    let plan = Arc::new(plan);
    let n = plan.threads.max(1);
    let share = |total: usize, i: usize| total / n + usize::from(i < total % n);
    let threads = (0..n)
        .map(|i| {
            let (plan, clock) = (Arc::clone(&plan), Arc::clone(&clock));
            let counts = (share(plan.active.connections, i), share(background_total, i));
            std::thread::spawn(move || match &plan.tls {
                Some(client) => Worker::<TlsStream>::new(&plan, &clock, client, counts).run(),
                None => Worker::<TcpStream>::new(&plan, &clock, &(), counts).run(),
            })
        })
        .collect();
    LoadRun { clock, threads }
}

impl LoadRun {
    pub(crate) fn finish(self) -> Tally {
        let mut total = Tally::new();
        for t in self.threads {
            total.merge(t.join().expect("load thread panicked"));
        }
        total
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Active,
    Idle,
    Slow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotStarted,
    Connecting,
    Writing,
    Reading,
    /// Idle after its response, or a slow client between dribbles.
    Holding,
    RetryAt(Instant),
    /// A background connection the server closed.
    Closed,
}

struct Conn<S> {
    role: Role,
    stream: Option<S>,
    state: State,
    reader: ResponseReader,
    sent: usize,
    /// When the current request began (its connect, on a new connection).
    began: Instant,
    /// Idle: when its response came. Slow: when its head started.
    ready_at: Option<Instant>,
    closed_early: bool,
}

struct Worker<'a, S: Transport> {
    plan: &'a Plan,
    clock: &'a Clock,
    connector: &'a S::Connector,
    poll: Poll,
    conns: Vec<Conn<S>>,
    request: Vec<u8>,
    background_request: Vec<u8>,
    scratch: Vec<u8>,
    tally: Tally,
    window: Option<(Instant, Instant)>,
    opening: usize,
}

impl<'a, S: Transport> Worker<'a, S> {
    fn new(
        plan: &'a Plan,
        clock: &'a Clock,
        connector: &'a S::Connector,
        (n_active, n_background): (usize, usize),
    ) -> Worker<'a, S> {
        let host = plan.addr.to_string();
        let background_role = match plan.background.as_ref().map(|b| b.kind) {
            Some(BackgroundKind::Slow) => Role::Slow,
            _ => Role::Idle,
        };
        let background_request = match &plan.background {
            Some(b) if b.kind == BackgroundKind::Slow => http::endless_head(&b.path, &host),
            Some(b) => http::get(&b.path, &host, true),
            None => vec![],
        };
        let now = Instant::now();
        let conn = |role| Conn {
            role,
            stream: None,
            state: State::NotStarted,
            reader: ResponseReader::default(),
            sent: 0,
            began: now,
            ready_at: None,
            closed_early: false,
        };
        let conns =
            (0..n_background).map(|_| conn(background_role)).chain((0..n_active).map(|_| conn(Role::Active)));
        Worker {
            plan,
            clock,
            connector,
            poll: Poll::new().expect("epoll instance"),
            conns: conns.collect(),
            request: http::get(&plan.active.path, &host, plan.active.keep_alive),
            background_request,
            scratch: vec![0; 256 * 1024],
            tally: Tally::new(),
            window: None,
            opening: 0,
        }
    }

    fn run(mut self) -> Tally {
        let mut events = Events::with_capacity(1024);
        let mut next_tick = Instant::now();
        loop {
            let now = Instant::now();
            if self.window.is_none() {
                self.window = self.clock.window(now);
                if self.window.is_some() {
                    for i in 0..self.conns.len() {
                        if self.conns[i].role == Role::Active {
                            self.begin(i, now);
                        }
                    }
                }
            }
            if self.window.is_some_and(|(_, end)| now >= end) {
                break;
            }
            self.open_background(now);
            if now >= next_tick {
                self.tick(now);
                next_tick = now + TICK;
            }
            let wake = self.window.map_or(next_tick, |(_, end)| next_tick.min(end));
            if let Err(e) = self.poll.poll(&mut events, Some(wake.saturating_duration_since(now))) {
                assert!(e.kind() == ErrorKind::Interrupted, "epoll_wait: {e}");
            }
            for event in events.iter() {
                self.drive(event.token().0, Instant::now());
            }
        }
        self.finish(Instant::now())
    }

    /// Start background connections, at most MAX_OPENING at a time.
    fn open_background(&mut self, now: Instant) {
        for i in 0..self.conns.len() {
            if self.opening >= MAX_OPENING {
                return;
            }
            if self.conns[i].role != Role::Active && self.conns[i].state == State::NotStarted {
                self.opening += 1;
                self.begin(i, now);
            }
        }
    }

    /// A new connection for conn `i`, its request to follow once connected.
    fn begin(&mut self, i: usize, now: Instant) {
        let c = &mut self.conns[i];
        c.stream = None;
        c.reader.reset();
        c.sent = 0;
        c.began = Instant::now();
        match S::connect(self.plan.addr, self.connector) {
            Ok(mut s) => {
                let interest = Interest::READABLE | Interest::WRITABLE;
                self.poll.registry().register(&mut s, Token(i), interest).expect("epoll_ctl add");
                c.stream = Some(s);
                c.state = State::Connecting;
            }
            Err(_) => self.fail(i, Fault::Reset, true, now),
        }
    }

    fn drive(&mut self, i: usize, now: Instant) {
        loop {
            let step = match self.conns[i].state {
                State::Connecting => self.connected(i, now),
                State::Writing => self.write(i, now),
                State::Reading | State::Holding => self.read(i, now),
                _ => false,
            };
            if !step {
                return;
            }
        }
    }

    /// Whether the connect finished (successfully: state moves on; or not: failed).
    fn connected(&mut self, i: usize, now: Instant) -> bool {
        let Some(s) = self.conns[i].stream.as_ref().map(S::tcp) else { return false };
        match s.take_error() {
            Ok(None) => {}
            _ => {
                self.fail(i, Fault::Reset, true, now);
                return false;
            }
        }
        match s.peer_addr() {
            Ok(_) => {
                self.conns[i].state = State::Writing;
                true
            }
            Err(e) if e.kind() == ErrorKind::NotConnected => false,
            Err(_) => {
                self.fail(i, Fault::Reset, true, now);
                false
            }
        }
    }

    fn write(&mut self, i: usize, now: Instant) -> bool {
        let c = &mut self.conns[i];
        let request = if c.role == Role::Active { &self.request } else { &self.background_request };
        let Some(s) = c.stream.as_mut() else { return false };
        while c.sent < request.len() {
            match s.write(&request[c.sent..]) {
                Ok(n) => c.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.fail(i, Fault::Reset, false, now);
                    return false;
                }
            }
        }
        if c.role == Role::Slow {
            c.state = State::Holding;
            self.became_ready(i, now);
        } else {
            c.state = State::Reading;
        }
        true
    }

    fn read(&mut self, i: usize, now: Instant) -> bool {
        loop {
            let Some(s) = self.conns[i].stream.as_mut() else { return false };
            let outcome = match s.read(&mut self.scratch) {
                Ok(0) => Err(self.conns[i].reader.eof()),
                Ok(n) => Ok(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // Only TLS says InvalidData: a handshake or record the client refused, or an alert.
                Err(e) if e.kind() == ErrorKind::InvalidData => Err(Err(Fault::Tls)),
                Err(_) => Err(Err(Fault::Reset)),
            };
            if self.conns[i].state == State::Holding {
                // The server answered or closed a connection it was holding: either way it is
                // gone (a slow client's head is never complete, an idle one sent nothing).
                self.background_closed(i, now);
                return false;
            }
            let progress = match outcome {
                Ok(n) => self.conns[i].reader.feed(&self.scratch[..n]),
                Err(eof) => eof.map(Progress::Done),
            };
            match progress {
                Ok(Progress::More) => {}
                Ok(Progress::Done(response)) => return self.complete(i, response),
                Err(fault) => {
                    self.fail(i, fault, false, now);
                    return false;
                }
            }
        }
    }

    fn in_window(&self, now: Instant) -> bool {
        self.window.is_some_and(|(from, to)| now >= from && now < to)
    }

    /// A whole response; whether the connection goes on to its next request now.
    fn complete(&mut self, i: usize, response: Response) -> bool {
        // Read the clock afresh: a `drive` may have been descheduled between writing a request
        // and reading its answer, which its own `now` would then count as taking no time.
        let now = Instant::now();
        if self.conns[i].role == Role::Idle {
            self.conns[i].state = State::Holding;
            self.became_ready(i, now);
            // Read on to WouldBlock: a close that came with the response raises no new event.
            return true;
        }
        if self.in_window(now) {
            if response.status == 200 {
                self.tally.completed += 1;
                self.tally.body_bytes += response.body_bytes;
                if self.conns[i].stream.as_ref().is_some_and(S::resumed) {
                    self.tally.resumed += 1;
                }
                let micros = now.duration_since(self.conns[i].began).as_micros();
                self.tally.latency.saturating_record(u64::try_from(micros).unwrap_or(u64::MAX).max(1));
            } else {
                self.tally.errors.status += 1;
            }
        }
        let c = &mut self.conns[i];
        if self.plan.active.keep_alive && !response.close {
            c.reader.reset();
            c.sent = 0;
            c.began = now;
            c.state = State::Writing;
            true
        } else {
            self.begin(i, now);
            false
        }
    }

    fn became_ready(&mut self, i: usize, now: Instant) {
        self.conns[i].ready_at = Some(now);
        self.opening -= 1;
        self.clock.background_ready.fetch_add(1, Ordering::Relaxed);
    }

    fn background_closed(&mut self, i: usize, now: Instant) {
        let c = &mut self.conns[i];
        c.stream = None;
        c.state = State::Closed;
        let held = c.ready_at.map_or(Duration::ZERO, |t| now.duration_since(t));
        // Slow clients are never closed legitimately within a run: Timeout is 60 s.
        c.closed_early =
            c.role == Role::Slow || held + Duration::from_millis(500) < self.plan.keep_alive_timeout;
    }

    /// An active request failed: count it, start over on a new connection. A background
    /// connection that fails before it is ready is not retried.
    fn fail(&mut self, i: usize, fault: Fault, connecting: bool, now: Instant) {
        if self.conns[i].role != Role::Active {
            if self.conns[i].ready_at.is_some() {
                self.background_closed(i, now);
            } else {
                self.conns[i].stream = None;
                self.conns[i].state = State::Closed;
                self.opening -= 1;
            }
            return;
        }
        if self.in_window(now) {
            let e = &mut self.tally.errors;
            match fault {
                _ if connecting => e.connect += 1,
                Fault::Reset if self.conns[i].reader.started() => e.short_body += 1,
                Fault::Reset => e.reset += 1,
                Fault::ShortBody => e.short_body += 1,
                Fault::Parse => e.parse += 1,
                Fault::Tls => e.tls += 1,
            }
        }
        let c = &mut self.conns[i];
        c.stream = None;
        c.state = if connecting { State::RetryAt(now + RETRY_AFTER) } else { State::NotStarted };
        if !connecting {
            self.begin(i, now);
        }
    }

    /// Timeouts, retries after refused connects, and slow clients' next byte.
    fn tick(&mut self, now: Instant) {
        for i in 0..self.conns.len() {
            let c = &mut self.conns[i];
            match (c.role, c.state) {
                (Role::Active, State::RetryAt(t)) if now >= t => self.begin(i, now),
                (Role::Active, State::Connecting | State::Writing | State::Reading)
                    if now.duration_since(c.began) >= self.plan.request_timeout =>
                {
                    if self.in_window(now) {
                        self.tally.errors.timeout += 1;
                    }
                    self.begin(i, now);
                }
                (Role::Slow, State::Holding) => {
                    let due = c.ready_at.is_some_and(|t| {
                        let sent_since = (c.sent - self.background_request.len()) as u32 + 1;
                        now >= t + DRIBBLE_EVERY * sent_since
                    });
                    let Some(s) = c.stream.as_mut().filter(|_| due) else { continue };
                    match s.write(b"a") {
                        Ok(n) => c.sent += n,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(_) => self.background_closed(i, now),
                    }
                }
                _ => {}
            }
        }
    }

    fn finish(mut self, now: Instant) -> Tally {
        // A request still unanswered after half the measured window is as good as timed out.
        let stalled = self.plan.request_timeout.min(self.plan.duration) / 2;
        for c in &self.conns {
            match (c.role, c.state) {
                (Role::Active, State::Connecting | State::Writing | State::Reading)
                    if now.duration_since(c.began) >= stalled =>
                {
                    self.tally.errors.timeout += 1;
                }
                (Role::Active, _) => {}
                (_, State::Holding) => self.tally.background.open += 1,
                (_, State::Closed) if c.closed_early => self.tally.background.closed_early += 1,
                _ if c.ready_at.is_none() => self.tally.background.never_ready += 1,
                _ => {}
            }
        }
        self.tally
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
