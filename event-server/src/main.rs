//! `event-server`: Apache httpd's event MPM, statically linked. As worker,
//! but each child's listener thread also holds every connection that waits
//! for something other than a worker (keep-alive, write completion,
//! lingering close, and beyond httpd a partial request head), so an idle
//! client holds no thread. What differs from the other MPMs lives here: the
//! child (`child`, `listener`, `jobs`, `timeouts`); the spare-thread policy
//! is httpd-core's `spare_threads`, shared with worker-server.

mod child;
mod jobs;
mod listener;
mod timeouts;

use std::process::ExitCode;

use httpd_core::limits::Capacity;
use httpd_core::mpm::{ChildContext, Maintenance};
use httpd_core::scoreboard::Scoreboard;
use httpd_core::{Mpm, MpmKind, ProcessModel};

struct EventMpm;

impl Mpm for EventMpm {
    const KIND: MpmKind = MpmKind::Event;
}

impl ProcessModel for EventMpm {
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
    httpd_core::run_supervised::<EventMpm>()
}
