//! Timeout queues, one per timeout value (httpd's `timeout_queue`): every
//! entry of a queue has the same timeout, so entries are in deadline order
//! and both insert and expiry are O(1), with no scan of all connections. An
//! entry whose connection moved on since is skipped when it comes up
//! (compared by a per-connection sequence number). Virtual hosts may set
//! their own Timeout and KeepAliveTimeout, so a wait is kept in
//! [`TimeoutQueues`]: a queue per value in use, as event.c keeps one per
//! distinct value its servers have.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct TimeoutQueue {
    timeout: Duration,
    entries: VecDeque<(Instant, usize, u64)>,
}

impl TimeoutQueue {
    pub(crate) fn new(timeout: Duration) -> Self {
        TimeoutQueue { timeout, entries: VecDeque::new() }
    }

    /// Queues connection `token` (at its sequence number `seq`).
    pub(crate) fn push(&mut self, now: Instant, token: usize, seq: u64) {
        self.entries.push_back((now + self.timeout, token, seq));
    }

    /// The earliest deadline, if any entry is queued.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.entries.front().map(|e| e.0)
    }

    /// Takes the entries whose deadline has passed.
    pub(crate) fn expired(&mut self, now: Instant) -> Vec<(usize, u64)> {
        let mut out = Vec::new();
        while let Some(&(deadline, token, seq)) = self.entries.front() {
            if deadline > now {
                break;
            }
            self.entries.pop_front();
            out.push((token, seq));
        }
        out
    }
}

/// The queues of one kind of wait, one per timeout value.
#[derive(Debug, Default)]
pub(crate) struct TimeoutQueues {
    queues: Vec<TimeoutQueue>,
}

impl TimeoutQueues {
    /// Queues connection `token` (at `seq`) to time out after `timeout`.
    pub(crate) fn push(&mut self, now: Instant, timeout: Duration, token: usize, seq: u64) {
        let queue = match self.queues.iter().position(|q| q.timeout == timeout) {
            Some(i) => &mut self.queues[i],
            None => {
                self.queues.push(TimeoutQueue::new(timeout));
                self.queues.last_mut().expect("just pushed")
            }
        };
        queue.push(now, token, seq);
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.queues.iter().filter_map(TimeoutQueue::next_deadline).min()
    }

    /// Takes the entries whose deadline has passed, from every queue.
    pub(crate) fn expired(&mut self, now: Instant) -> Vec<(usize, u64)> {
        let mut out = Vec::new();
        for queue in &mut self.queues {
            out.extend(queue.expired(now));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_in_order_of_insertion() {
        let mut q = TimeoutQueue::new(Duration::from_secs(5));
        let t0 = Instant::now();
        q.push(t0, 1, 10);
        q.push(t0 + Duration::from_secs(1), 2, 20);
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(5)));
        assert!(q.expired(t0 + Duration::from_secs(4)).is_empty());
        assert_eq!(q.expired(t0 + Duration::from_secs(5)), [(1, 10)]);
        assert_eq!(q.expired(t0 + Duration::from_secs(9)), [(2, 20)]);
        assert_eq!(q.next_deadline(), None);
    }

    #[test]
    fn each_timeout_value_has_its_queue() {
        let mut q = TimeoutQueues::default();
        let t0 = Instant::now();
        q.push(t0, Duration::from_secs(5), 1, 10);
        q.push(t0, Duration::from_secs(1), 2, 20);
        q.push(t0 + Duration::from_secs(1), Duration::from_secs(5), 3, 30);
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(q.expired(t0 + Duration::from_secs(2)), [(2, 20)]);
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(5)));
        assert_eq!(q.expired(t0 + Duration::from_secs(6)), [(1, 10), (3, 30)]);
        assert_eq!(q.next_deadline(), None);
    }
}
