//! A prefork child: wait for a connection (or the pipe of death), accept it,
//! serve it to its end, repeat; exit when told, when a new generation runs,
//! or after MaxConnectionsPerChild connections. How children share the
//! listeners without an accept mutex is in httpd_core::accept.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use httpd_core::accept::{AcceptError, AcceptSet, Ready};
use httpd_core::http::driver;
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
        let ready = match waiting.wait(RECHECK) {
            Ok(ready) => ready,
            Err(e) => {
                log::error!(target: "mpm", "AH00146: epoll_wait: {e}");
                return EXIT_CHILDSICK;
            }
        };
        for event in ready {
            match event {
                Ready::PipeOfDeath if child.pod.check() => return EXIT_OK,
                Ready::PipeOfDeath => {}
                Ready::Listener(i) => match waiting.accept(i) {
                    Ok(Some(stream)) => {
                        served += 1;
                        driver::serve(stream, child.server, Some(worker));
                        worker.set_status(WorkerStatus::Ready);
                        break;
                    }
                    Ok(None) => {}
                    Err(AcceptError::Resources(e)) => {
                        log::error!(target: "mpm", "AH00145: accept: {e}; exiting so the parent slows down");
                        return EXIT_CHILDSICK;
                    }
                    Err(AcceptError::Other(e)) => log::debug!(target: "mpm", "accept: {e}"),
                },
            }
        }
    }
}
