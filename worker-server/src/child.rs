//! A worker child: ThreadsPerChild workers, each owning its scoreboard slot
//! and serving whole connections with the blocking driver, and the main
//! thread as the listener: it accepts only while a worker is idle, and
//! stops the child (gracefully) on USR1, the pipe of death, a new
//! generation, or after MaxConnectionsPerChild connections.

use std::time::Duration;

use httpd_core::accept::{AcceptSet, Next};
use httpd_core::http::driver;
use httpd_core::mpm::ChildContext;
use httpd_core::process::{self, EXIT_CHILDSICK, EXIT_OK};
use httpd_core::scoreboard::WorkerStatus;

use crate::handoff::Handoff;

/// How long the listener waits before looking at the stop conditions again.
const RECHECK: Duration = Duration::from_secs(1);

pub(crate) fn main(child: &ChildContext<'_>) -> i32 {
    let threads = (child.server.capacity.threads_per_child as usize).min(child.board.thread_limit());
    let stack = child.server.main().settings.thread_stack_size as usize;
    let handoff = Handoff::default();
    let mut code = EXIT_OK;
    std::thread::scope(|scope| {
        for i in 0..threads {
            let mut builder = std::thread::Builder::new().name(format!("worker-{i}"));
            if stack > 0 {
                builder = builder.stack_size(stack);
            }
            let handoff = &handoff;
            if let Err(e) = builder.spawn_scoped(scope, move || worker(child, i, handoff)) {
                log::warn!(target: "mpm", "AH00282: apr_thread_create: unable to create worker thread {i}: {e}");
            }
        }
        code = listen(child, &handoff);
        // Stop: idle workers leave now, busy ones after their connection
        // (keep-alive ends at its next idle point).
        process::request_child_stop();
        child.board.process(child.slot).set_quiescing(true);
        handoff.stop();
    });
    code
}

/// One worker thread: take a connection, serve it, be idle again.
fn worker(child: &ChildContext<'_>, i: usize, handoff: &Handoff) {
    let slot = child.start_worker_thread(i);
    while let Some(stream) = handoff.next() {
        driver::serve(stream, child.server, Some(slot));
        slot.set_status(WorkerStatus::Ready);
    }
    slot.set_status(WorkerStatus::Dead);
}

/// The listener: returns the child's exit code when it stops accepting.
fn listen(child: &ChildContext<'_>, handoff: &Handoff) -> i32 {
    let mut waiting = match AcceptSet::new(child.listeners, child.pod) {
        Ok(set) => set,
        Err(e) => {
            log::error!(target: "mpm", "AH00272: couldn't create the listener's wait set: {e}");
            return EXIT_CHILDSICK;
        }
    };
    let limit = child.server.capacity.max_connections_per_child;
    let mut accepted: u32 = 0;
    loop {
        if child.should_stop() || (limit > 0 && accepted >= limit) {
            return EXIT_OK;
        }
        if !handoff.wait_for_idler(RECHECK) {
            continue;
        }
        match waiting.next(child.pod, RECHECK) {
            Next::Connection(stream) => {
                accepted += 1;
                handoff.push(stream);
            }
            Next::Stop => return EXIT_OK,
            Next::Sick => return EXIT_CHILDSICK,
            Next::Nothing => {}
        }
    }
}
