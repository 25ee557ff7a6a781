//! Between the listener and the workers: a queue of connections ready for
//! work, and the way back (a list plus a `mio::Waker`, so the listener's
//! poll wakes up when it has something to act on).
//!
//! Each handoff costs as little as it can, since it happens once or twice a
//! request: jobs are queued a poll round at a time under one lock; a worker
//! is woken only when no worker already awake will take the job (a futex
//! wake is a syscall and, on a busy CPU, a context switch for a worker that
//! may find the queue already drained), and never more workers than there
//! are CPUs to run them; the listener is woken once for everything handed
//! back while it was not looking, and only when the hand-back needs it
//! soon.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use mio::Waker;

use httpd_core::http::{Connection, Outcome};
use httpd_core::tls::Socket;

/// A connection and its socket, moved as one between threads.
pub(crate) struct Conn {
    pub(crate) engine: Connection,
    pub(crate) stream: Socket,
    /// Not yet seen by a worker: the first one starts its scoreboard counts.
    pub(crate) fresh: bool,
}

/// Work for a worker: run the connection, or tell it that its wait timed out.
pub(crate) struct Job {
    pub(crate) token: usize,
    pub(crate) conn: Box<Conn>,
    pub(crate) timed_out: bool,
}

/// A job in the queue, since when.
struct Queued {
    job: Job,
    at: Instant,
}

/// A connection a worker hands back, with what it now waits for.
pub(crate) type Done = (usize, Box<Conn>, Outcome);

/// How long a job may wait in the queue before the listener wakes a worker
/// beyond the CPU bound (see [`Jobs::unstick`]).
pub(crate) const STALL: Duration = Duration::from_millis(10);

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Queued>,
    /// Workers inside `next`, asleep or about to look at the queue.
    idle: usize,
    /// Workers asleep on the condition variable.
    sleeping: usize,
    /// Wakeups sent and not yet taken by a waking worker. Each such worker
    /// will take a job, so a job needs a wakeup of its own only beyond
    /// these. Never above `sleeping`.
    signaled: usize,
    /// Workers running a job.
    busy: usize,
    stopping: bool,
}

#[derive(Default)]
struct Returns {
    list: Vec<Done>,
    /// The listener has been woken and has not taken the list since: a
    /// worker that finds this set need not write to the eventfd again.
    due: bool,
}

/// The workers' queue, with the count of idle workers the listener's
/// accept limit needs.
pub(crate) struct Jobs {
    queue: Mutex<Queue>,
    ready: Condvar,
    done: Mutex<Returns>,
    waker: OnceLock<Arc<Waker>>,
    /// Every hand-back wakes the listener (a stopping child).
    eager: AtomicBool,
    /// Workers that may run at once: the CPUs this child may use.
    cpus: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays valid at every step, so a panicked holder does
    // not stop the others.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Jobs {
    pub(crate) fn new() -> Jobs {
        // The affinity mask (taskset, cpusets) and cgroup quota count.
        Jobs::with_cpus(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    fn with_cpus(cpus: usize) -> Jobs {
        Jobs {
            queue: Mutex::default(),
            ready: Condvar::new(),
            done: Mutex::default(),
            waker: OnceLock::new(),
            eager: AtomicBool::new(false),
            cpus,
        }
    }

    pub(crate) fn set_waker(&self, waker: Arc<Waker>) {
        let _ = self.waker.set(waker);
    }

    /// Listener: queues every job of `batch` (emptied, its capacity kept)
    /// under one lock, then wakes as many sleeping workers as the queue
    /// holds jobs beyond the wakeups already sent, so that no more workers
    /// are running or about to than there are CPUs. On one CPU, one worker
    /// drains a whole round's jobs while the others sleep on.
    pub(crate) fn push_all(&self, batch: &mut Vec<Job>, now: Instant) {
        if batch.is_empty() {
            return;
        }
        let wake = {
            let mut q = lock(&self.queue);
            q.jobs.extend(batch.drain(..).map(|job| Queued { job, at: now }));
            let unclaimed = q.jobs.len().saturating_sub(q.signaled);
            let asleep = q.sleeping - q.signaled;
            let cpus_free = self.cpus.saturating_sub(q.busy + q.signaled);
            let wake = unclaimed.min(asleep).min(cpus_free);
            q.signaled += wake;
            wake
        };
        for _ in 0..wake {
            self.ready.notify_one();
        }
    }

    /// Listener, once a round: whether jobs are left queued. The CPU bound
    /// of [`push_all`](Self::push_all) assumes that a running worker comes
    /// back for the next job soon; one blocked instead (a slow disk, a full
    /// log pipe) would leave the queue waiting. So when the oldest job has
    /// waited [`STALL`], one more worker is woken, bound or not (at most
    /// one a round, and the listener's rounds are at most `STALL` apart
    /// while jobs are queued).
    pub(crate) fn unstick(&self, now: Instant) -> bool {
        let mut q = lock(&self.queue);
        let Some(oldest) = q.jobs.front().map(|queued| queued.at) else { return false };
        if now.duration_since(oldest) >= STALL && q.sleeping > q.signaled {
            q.signaled += 1;
            drop(q);
            self.ready.notify_one();
        }
        true
    }

    /// Worker: the next job; `None` once stopping and nothing is left.
    /// `had_job`: the worker comes back from running one.
    pub(crate) fn next(&self, had_job: bool) -> Option<Job> {
        let mut q = lock(&self.queue);
        if had_job {
            q.busy -= 1;
        }
        q.idle += 1;
        if q.idle == 1 {
            // A worker is idle while none was: the listener may be waiting
            // for room to accept.
            drop(q);
            self.nudge(true);
            q = lock(&self.queue);
        }
        let mut told = false;
        loop {
            if let Some(Queued { job, .. }) = q.jobs.pop_front() {
                q.idle -= 1;
                q.busy += 1;
                return Some(job);
            }
            if q.stopping {
                q.idle -= 1;
                return None;
            }
            if !told {
                // Out of work: before sleeping, have the listener take
                // what was handed back (see `give_back`).
                told = true;
                drop(q);
                self.nudge(false);
                q = lock(&self.queue);
                continue;
            }
            q.sleeping += 1;
            q = self.ready.wait(q).unwrap_or_else(|poisoned| poisoned.into_inner());
            q.sleeping -= 1;
            // Woken or not (a spurious wakeup), this worker now looks at the
            // queue: it stands for one wakeup sent.
            q.signaled = q.signaled.saturating_sub(1);
        }
    }

    /// Workers idle and not already claimed by a queued job.
    pub(crate) fn idle(&self) -> usize {
        let q = lock(&self.queue);
        q.idle.saturating_sub(q.jobs.len())
    }

    pub(crate) fn stop(&self) {
        lock(&self.queue).stopping = true;
        self.ready.notify_all();
    }

    /// Listener: from now on every hand-back wakes it (a stopping child
    /// closes what comes back at once, and exits after the last).
    pub(crate) fn set_eager(&self) {
        self.eager.store(true, Relaxed);
    }

    /// Worker: hands a connection back to the listener. The listener is
    /// woken at once only for a connection to close (its descriptor, and
    /// the accept limit, should not wait) or when the child stops. Any
    /// other connection waits for its socket, which stays registered in the
    /// listener's poll: if it becomes ready first, that event wakes the
    /// listener, which takes this list before acting on events. Otherwise
    /// the list is taken when a worker runs out of jobs (`next`) or at the
    /// listener's next round, whichever comes first: on a busy CPU, a
    /// worker serving a round's connections one after the other wakes the
    /// listener once, not once per connection.
    pub(crate) fn give_back(&self, token: usize, conn: Box<Conn>, outcome: Outcome) {
        let urgent = outcome == Outcome::Close || self.eager.load(Relaxed);
        let wake = {
            let mut done = lock(&self.done);
            done.list.push((token, conn, outcome));
            urgent && !std::mem::replace(&mut done.due, true)
        };
        if wake {
            self.wake_listener();
        }
    }

    /// Wakes the listener unless it is already due to look; `always`: even
    /// if nothing was handed back.
    fn nudge(&self, always: bool) {
        let wake = {
            let mut done = lock(&self.done);
            (always || !done.list.is_empty()) && !std::mem::replace(&mut done.due, true)
        };
        if wake {
            self.wake_listener();
        }
    }

    fn wake_listener(&self) {
        if let Some(waker) = self.waker.get() {
            if let Err(e) = waker.wake() {
                log::error!(target: "mpm", "waking the listener: {e}");
            }
        }
    }

    /// Listener: what the workers handed back, swapped into `into` (empty;
    /// both vectors keep their capacity, so this allocates nothing).
    pub(crate) fn take_done(&self, into: &mut Vec<Done>) {
        let mut done = lock(&self.done);
        // Cleared under the lock that guards the list, so a hand-back after
        // this take sees it clear and wakes the listener again if urgent.
        done.due = false;
        std::mem::swap(&mut done.list, into);
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::thread::{self, ThreadId};

    use httpd_core::http::ConnInfo;
    use httpd_core::server::{Server, ServerContext};
    use mio::{Events, Poll, Token};

    use super::*;

    fn conn() -> Box<Conn> {
        // A connection is bound to its address's servers when made.
        static CONTEXT: std::sync::OnceLock<ServerContext> = std::sync::OnceLock::new();
        let ctx = CONTEXT.get_or_init(|| {
            let settings = httpd_core::config::Settings::default();
            let main = Server::standalone(0, Default::default(), settings, Vec::new()).unwrap();
            ServerContext::single(httpd_core::MpmKind::Event, main, None)
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let info =
            ConnInfo { remote: stream.peer_addr().unwrap(), local: stream.local_addr().unwrap(), tls: None };
        Box::new(Conn { engine: Connection::new(info, ctx), stream: Socket::Plain(stream), fresh: true })
    }

    fn job(token: usize) -> Job {
        Job { token, conn: conn(), timed_out: false }
    }

    /// Polls (bounded) until `n` workers sleep on the queue.
    fn wait_sleeping(jobs: &Jobs, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while lock(&jobs.queue).sleeping != n {
            assert!(Instant::now() < deadline, "{n} workers never slept");
            thread::yield_now();
        }
    }

    /// Workers that report which thread ran each job, each job's work
    /// being `work(token)`.
    fn workers<'s>(
        scope: &'s thread::Scope<'s, '_>,
        jobs: &'s Jobs,
        n: usize,
        work: impl Fn(usize) + Send + Sync + Copy + 's,
    ) -> mpsc::Receiver<(usize, ThreadId)> {
        let (tx, rx) = mpsc::channel();
        for _ in 0..n {
            let tx = tx.clone();
            scope.spawn(move || {
                let mut had_job = false;
                while let Some(job) = jobs.next(had_job) {
                    had_job = true;
                    work(job.token);
                    tx.send((job.token, thread::current().id())).unwrap();
                    jobs.give_back(job.token, job.conn, Outcome::KeepAlive);
                }
            });
        }
        rx
    }

    #[test]
    fn on_one_cpu_one_worker_drains_a_round() {
        let jobs = Jobs::with_cpus(1);
        thread::scope(|scope| {
            let done = workers(scope, &jobs, 3, |_| {});
            wait_sleeping(&jobs, 3);
            jobs.push_all(&mut (0..4).map(job).collect(), Instant::now());
            let ran: Vec<_> = (0..4).map(|_| done.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
            assert!(ran.iter().all(|r| r.1 == ran[0].1), "more than one worker woke: {ran:?}");
            jobs.stop();
        });
    }

    #[test]
    fn with_two_cpus_two_workers_run_at_once() {
        let jobs = Jobs::with_cpus(2);
        let barrier = std::sync::Barrier::new(2);
        thread::scope(|scope| {
            // Each job waits for the other: done only if both run at once.
            let done = workers(scope, &jobs, 3, |_| {
                barrier.wait();
            });
            wait_sleeping(&jobs, 3);
            jobs.push_all(&mut (0..2).map(job).collect(), Instant::now());
            let ran: Vec<_> = (0..2).map(|_| done.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
            assert_ne!(ran[0].1, ran[1].1);
            jobs.stop();
        });
    }

    #[test]
    fn a_job_left_waiting_behind_a_blocked_worker_gets_another() {
        let jobs = Jobs::with_cpus(1);
        let (release, blocked) = mpsc::channel::<()>();
        let blocked = Mutex::new(blocked);
        thread::scope(|scope| {
            // Job 0 blocks its worker until released.
            let done = workers(scope, &jobs, 2, |token| {
                if token == 0 {
                    lock(&blocked).recv().unwrap();
                }
            });
            wait_sleeping(&jobs, 2);
            let t0 = Instant::now();
            jobs.push_all(&mut vec![job(0)], t0);
            wait_sleeping(&jobs, 1);
            jobs.push_all(&mut vec![job(1)], t0);
            // The CPU bound holds job 1 back while job 0 runs, until it has
            // waited STALL.
            assert!(jobs.unstick(t0));
            assert_eq!(lock(&jobs.queue).jobs.len(), 1);
            jobs.unstick(t0 + STALL);
            assert_eq!(done.recv_timeout(Duration::from_secs(10)).unwrap().0, 1);
            release.send(()).unwrap();
            assert_eq!(done.recv_timeout(Duration::from_secs(10)).unwrap().0, 0);
            jobs.stop();
        });
    }

    #[test]
    fn only_a_close_wakes_the_listener_and_once_until_it_looks() {
        let jobs = Jobs::with_cpus(1);
        let mut poll = Poll::new().unwrap();
        jobs.set_waker(Arc::new(Waker::new(poll.registry(), Token(0)).unwrap()));
        let mut events = Events::with_capacity(4);
        let mut woken = |poll: &mut Poll| {
            poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
            !events.is_empty()
        };
        jobs.give_back(1, conn(), Outcome::KeepAlive);
        assert!(!woken(&mut poll), "a kept-alive connection woke the listener");
        jobs.give_back(2, conn(), Outcome::Close);
        assert!(woken(&mut poll));
        jobs.give_back(3, conn(), Outcome::Close);
        assert!(!woken(&mut poll), "woken again before it looked");
        let mut taken = Vec::new();
        jobs.take_done(&mut taken);
        assert_eq!(taken.iter().map(|d| d.0).collect::<Vec<_>>(), [1, 2, 3]);
        jobs.give_back(4, conn(), Outcome::Close);
        assert!(woken(&mut poll), "not woken after it looked");
        // A stopping child's listener hears of everything.
        jobs.take_done(&mut taken);
        jobs.set_eager();
        jobs.give_back(5, conn(), Outcome::KeepAlive);
        assert!(woken(&mut poll));
    }
}
