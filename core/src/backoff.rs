//! The parent's back-off on children that die soon after they start.
//!
//! A child that crashes as it starts (a bad module, a file it cannot open,
//! a bug hit on every request) would otherwise be replaced at the MPM's
//! spawn rate for ever: a fork loop that burns the machine and floods the
//! log. httpd cuts prefork's spawn rate to one a second on CHILDSICK only;
//! here any child that ends abnormally (a non-zero exit status, a crash
//! signal) within [`FAST`] of its fork counts, and forks are then spaced
//! 1, 2, 4 ... up to [`MAX_DELAY`] seconds apart, one at a time, until a
//! child lives past [`FAST`]. A child killed from outside (KILL, TERM) is
//! not a failure of its own, so a kill storm is replaced at full speed.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;

use crate::process::EXIT_OK;

/// A child that ends abnormally sooner than this after its fork failed fast.
pub const FAST: Duration = Duration::from_secs(10);

/// The longest wait between two forks while children keep failing fast.
pub const MAX_DELAY: Duration = Duration::from_secs(32);

#[derive(Debug, Default)]
pub struct Backoff {
    /// Fast failures in a row.
    failures: u32,
    /// No fork before this.
    next_fork: Option<Instant>,
}

impl Backoff {
    /// A child ended with `status` after `lived`. Returns the delay now
    /// imposed on forks when it failed fast (the caller logs it).
    pub fn child_ended(&mut self, status: &WaitStatus, lived: Duration, now: Instant) -> Option<Duration> {
        if lived >= FAST {
            self.failures = 0;
            self.next_fork = None;
            return None;
        }
        if !failed_by_itself(status) {
            return None;
        }
        self.failures = self.failures.saturating_add(1);
        let delay = Duration::from_secs(1 << (self.failures - 1).min(5)).min(MAX_DELAY);
        self.next_fork = Some(now + delay);
        Some(delay)
    }

    /// How many children may be forked now, out of `wanted`: all of them
    /// normally; while backing off, none before the delay is over and then
    /// one (the next fork starts the next delay only if it fails too).
    pub fn allowed(&mut self, wanted: usize, now: Instant) -> usize {
        if self.failures == 0 || wanted == 0 {
            return wanted;
        }
        match self.next_fork {
            Some(at) if now < at => 0,
            _ => {
                // One fork per delay: the next is allowed when this one has
                // lived past FAST or failed (and set a new delay).
                self.next_fork = Some(now + FAST);
                wanted.min(1)
            }
        }
    }

    /// A restart: a new configuration may have fixed what failed.
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

/// Whether `status` is a child ending of its own doing: a non-zero exit
/// (a panic, CHILDSICK) or a crash signal; not a signal sent to it.
fn failed_by_itself(status: &WaitStatus) -> bool {
    match status {
        WaitStatus::Exited(_, code) => *code != EXIT_OK,
        WaitStatus::Signaled(_, signal, _) => matches!(
            signal,
            Signal::SIGSEGV
                | Signal::SIGBUS
                | Signal::SIGABRT
                | Signal::SIGILL
                | Signal::SIGFPE
                | Signal::SIGSYS
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::Pid;

    fn panicked() -> WaitStatus {
        WaitStatus::Exited(Pid::from_raw(1), 101)
    }

    #[test]
    fn fast_failures_double_the_delay_up_to_the_limit() {
        let mut b = Backoff::default();
        let t = Instant::now();
        let delays: Vec<u64> =
            (0..8).map(|_| b.child_ended(&panicked(), Duration::ZERO, t).unwrap().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 32, 32]);
    }

    #[test]
    fn forks_wait_for_the_delay_then_come_one_at_a_time() {
        let mut b = Backoff::default();
        let t = Instant::now();
        assert_eq!(b.allowed(5, t), 5);
        b.child_ended(&panicked(), Duration::from_millis(5), t);
        assert_eq!(b.allowed(5, t + Duration::from_millis(500)), 0);
        assert_eq!(b.allowed(5, t + Duration::from_secs(1)), 1);
        assert_eq!(b.allowed(5, t + Duration::from_secs(2)), 0, "one fork per delay");
        // That child lived: back to full speed.
        b.child_ended(&WaitStatus::Exited(Pid::from_raw(1), 0), FAST, t + Duration::from_secs(12));
        assert_eq!(b.allowed(5, t + Duration::from_secs(12)), 5);
    }

    #[test]
    fn a_kill_from_outside_is_no_failure() {
        let mut b = Backoff::default();
        let killed = WaitStatus::Signaled(Pid::from_raw(1), Signal::SIGKILL, false);
        assert_eq!(b.child_ended(&killed, Duration::ZERO, Instant::now()), None);
        assert_eq!(b.allowed(3, Instant::now()), 3);
        let crashed = WaitStatus::Signaled(Pid::from_raw(1), Signal::SIGSEGV, true);
        assert!(b.child_ended(&crashed, Duration::ZERO, Instant::now()).is_some());
    }
}
