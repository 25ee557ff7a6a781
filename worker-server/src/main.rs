//! `worker-server`: Apache httpd's worker MPM, statically linked. A parent
//! launches children; each runs ThreadsPerChild worker threads and a
//! listener that hands each accepted connection to an idle worker, which
//! serves it to its end, keep-alive waits included. What differs from the
//! other MPMs lives here: the child (`child`, `handoff`); the spare-thread
//! policy is httpd-core's `spare_threads`, shared with event-server.

mod child;
mod handoff;

use std::process::ExitCode;

use httpd_core::limits::Capacity;
use httpd_core::mpm::{ChildContext, Maintenance};
use httpd_core::scoreboard::Scoreboard;
use httpd_core::{Mpm, MpmKind, ProcessModel};

struct WorkerMpm;

impl Mpm for WorkerMpm {
    const KIND: MpmKind = MpmKind::Worker;
}

impl ProcessModel for WorkerMpm {
    type State = httpd_core::spare_threads::State;

    fn child_main(child: &ChildContext<'_>) -> i32 {
        child::main(child)
    }

    fn maintain(
        board: &Scoreboard,
        capacity: &Capacity,
        generation: u32,
        state: &mut Self::State,
    ) -> Maintenance {
        httpd_core::spare_threads::maintain(board, capacity, generation, state)
    }
}

fn main() -> ExitCode {
    httpd_core::run_supervised::<WorkerMpm>()
}
