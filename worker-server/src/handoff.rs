//! The hand-off between a worker child's listener and its workers, with
//! httpd's idle-worker accounting (`ap_queue_info_wait_for_idler`): the
//! listener accepts only once a worker is idle and reserves that worker, so
//! a child never takes more connections than it can serve at once and the
//! others (other children) can take them.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

#[derive(Default)]
struct State {
    connections: VecDeque<TcpStream>,
    /// Workers waiting for a connection and not yet promised one.
    idle: usize,
    stopping: bool,
}

#[derive(Default)]
pub(crate) struct Handoff {
    state: Mutex<State>,
    /// Workers wait here for a connection.
    work: Condvar,
    /// The listener waits here for an idle worker.
    idler: Condvar,
}

impl Handoff {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked while holding the lock must not stop the
        // others: the state is a queue and counters, valid at every step.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Worker: says it is idle and waits for a connection; `None` once the
    /// child stops.
    pub(crate) fn next(&self) -> Option<TcpStream> {
        let mut s = self.lock();
        s.idle += 1;
        self.idler.notify_one();
        loop {
            if let Some(c) = s.connections.pop_front() {
                return Some(c);
            }
            if s.stopping {
                s.idle = s.idle.saturating_sub(1);
                return None;
            }
            s = self.work.wait(s).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Listener: waits (up to `timeout`) until a worker is idle.
    pub(crate) fn wait_for_idler(&self, timeout: Duration) -> bool {
        let s = self.lock();
        let (s, _) = self
            .idler
            .wait_timeout_while(s, timeout, |s| s.idle == 0 && !s.stopping)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        s.idle > 0 && !s.stopping
    }

    /// Listener: gives an accepted connection to the idle worker it waited for.
    pub(crate) fn push(&self, connection: TcpStream) {
        let mut s = self.lock();
        s.idle = s.idle.saturating_sub(1);
        s.connections.push_back(connection);
        self.work.notify_one();
    }

    /// Idle workers exit; busy ones exit after their connection.
    pub(crate) fn stop(&self) {
        let mut s = self.lock();
        s.stopping = true;
        self.work.notify_all();
        self.idler.notify_all();
    }

    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        self.lock().idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn listener_waits_for_an_idle_worker_and_reserves_it() {
        let handoff = Handoff::default();
        assert!(!handoff.wait_for_idler(Duration::from_millis(1)));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::scope(|s| {
            let worker = s.spawn(|| handoff.next().map(|c| c.peer_addr().is_ok()));
            assert!(handoff.wait_for_idler(Duration::from_secs(10)));
            let _client = TcpStream::connect(addr).unwrap();
            let (conn, _) = listener.accept().unwrap();
            handoff.push(conn);
            // The one idle worker is now promised: no more idlers.
            assert_eq!(handoff.idle(), 0);
            assert_eq!(worker.join().unwrap(), Some(true));
        });
    }

    #[test]
    fn stop_releases_idle_workers() {
        let handoff = Handoff::default();
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..3).map(|_| s.spawn(|| handoff.next().is_none())).collect();
            while handoff.idle() < 3 {
                std::thread::yield_now();
            }
            handoff.stop();
            assert!(workers.into_iter().all(|w| w.join().unwrap()));
        });
        assert!(!handoff.wait_for_idler(Duration::from_millis(1)));
    }
}
