//! `prefork-server`: Apache httpd's prefork MPM, statically linked. A parent
//! pre-forks single-threaded children; each serves one connection at a time.
//! What differs from the other MPMs lives here: the child's accept loop
//! (`child`) and the spare-server policy (`maintain`); everything else is
//! httpd-core's.

mod child;
mod maintain;

use std::process::ExitCode;

use httpd_core::limits::Capacity;
use httpd_core::mpm::{ChildContext, Maintenance};
use httpd_core::scoreboard::Scoreboard;
use httpd_core::{Mpm, MpmKind, ProcessModel};

struct PreforkMpm;

impl Mpm for PreforkMpm {
    const KIND: MpmKind = MpmKind::Prefork;
}

impl ProcessModel for PreforkMpm {
    type State = maintain::State;

    fn child_main(child: &ChildContext<'_>) -> i32 {
        child::main(child)
    }

    fn maintain(
        board: &Scoreboard,
        capacity: &Capacity,
        generation: u32,
        state: &mut Self::State,
    ) -> Maintenance {
        maintain::maintain(board, capacity, generation, state)
    }
}

fn main() -> ExitCode {
    httpd_core::run_supervised::<PreforkMpm>()
}
