//! A prefork child: wait for a connection (or the pipe of death), accept it,
//! serve it to its end, repeat; exit when told, when a new generation runs,
//! or after MaxConnectionsPerChild connections. How children share the
//! listeners without an accept mutex is in httpd_core::accept.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use httpd_core::accept::{AcceptSet, Next};
use httpd_core::http::driver;
use httpd_core::logs::panics::contain;
use httpd_core::mpm::ChildContext;
use httpd_core::process::{EXIT_CHILDSICK, EXIT_OK};
use httpd_core::scoreboard::WorkerStatus;

/// How long a wait may last before the stop conditions are checked again
/// (prefork.c polls with 10 s for the same reason).
const RECHECK: Duration = Duration::from_secs(10);

pub(crate) fn main(child: &ChildContext<'_>) -> i32 {
    let worker = child.board.worker(child.slot, 0);
    worker.pid.store(std::process::id() as i32, Relaxed);
    worker.generation.store(child.generation, Relaxed);
    let mut waiting = match AcceptSet::new(child.listeners, child.pod) {
        Ok(set) => set,
        Err(e) => {
            log::error!(target: "mpm", "AH00144: couldn't create the child's wait set: {e}");
            return EXIT_CHILDSICK;
        }
    };
    let limit = child.server.capacity.max_connections_per_child;
    let mut served: u32 = 0;
    worker.set_status(WorkerStatus::Ready);
    loop {
        if child.should_stop() || (limit > 0 && served >= limit) {
            return EXIT_OK;
        }
        match waiting.next(child.pod, RECHECK) {
            Next::Connection(stream) => {
                served += 1;
                // A panic while serving ends that connection only.
                contain(Some(worker), || driver::serve(stream, child.server, Some(worker)));
                worker.set_status(WorkerStatus::Ready);
            }
            Next::Stop => return EXIT_OK,
            Next::Sick => return EXIT_CHILDSICK,
            Next::Nothing => {}
        }
    }
}
