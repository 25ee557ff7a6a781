//! Between the listener and the workers: a queue of connections ready for
//! work, and the way back (a list plus a `mio::Waker`, so the listener's
//! poll wakes up when a worker hands a connection back).

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use mio::Waker;

use httpd_core::http::{Connection, Outcome};

/// A connection and its socket, moved as one between threads.
pub(crate) struct Conn {
    pub(crate) engine: Connection,
    pub(crate) stream: TcpStream,
    /// Not yet seen by a worker: the first one starts its scoreboard counts.
    pub(crate) fresh: bool,
}

/// Work for a worker: run the connection, or tell it that its wait timed out.
pub(crate) struct Job {
    pub(crate) token: usize,
    pub(crate) conn: Box<Conn>,
    pub(crate) timed_out: bool,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    idle: usize,
    stopping: bool,
}

/// The workers' queue, with the count of idle workers the listener's
/// accept limit needs.
#[derive(Default)]
pub(crate) struct Jobs {
    queue: Mutex<Queue>,
    ready: Condvar,
    done: Mutex<Vec<(usize, Box<Conn>, Outcome)>>,
    /// Wakes the listener when a worker becomes idle while none was: it may
    /// be waiting for room to accept.
    waker: OnceLock<Arc<Waker>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays valid at every step, so a panicked holder does
    // not stop the others.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Jobs {
    pub(crate) fn set_waker(&self, waker: Arc<Waker>) {
        let _ = self.waker.set(waker);
    }

    pub(crate) fn push(&self, job: Job) {
        lock(&self.queue).jobs.push_back(job);
        self.ready.notify_one();
    }

    /// Worker: the next job; `None` once stopping and nothing is left.
    pub(crate) fn next(&self) -> Option<Job> {
        let mut q = lock(&self.queue);
        q.idle += 1;
        if q.idle == 1 {
            if let Some(waker) = self.waker.get() {
                let _ = waker.wake();
            }
        }
        loop {
            if let Some(job) = q.jobs.pop_front() {
                q.idle -= 1;
                return Some(job);
            }
            if q.stopping {
                q.idle -= 1;
                return None;
            }
            q = self.ready.wait(q).unwrap_or_else(|poisoned| poisoned.into_inner());
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

    /// Worker: hands a connection back to the listener.
    pub(crate) fn give_back(&self, token: usize, conn: Box<Conn>, outcome: Outcome) {
        lock(&self.done).push((token, conn, outcome));
    }

    /// Listener: what the workers handed back.
    pub(crate) fn take_done(&self) -> Vec<(usize, Box<Conn>, Outcome)> {
        std::mem::take(&mut *lock(&self.done))
    }
}
