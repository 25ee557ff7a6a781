//! An event child: ThreadsPerChild workers that run connections only while
//! there is work (a request to read and answer, a response to push), and the
//! main thread as the listener that holds every connection in between.

use httpd_core::http::Outcome;
use httpd_core::mpm::ChildContext;
use httpd_core::process::{EXIT_CHILDSICK, EXIT_OK};
use httpd_core::scoreboard::WorkerStatus;

use crate::jobs::Jobs;
use crate::listener::Listener;

pub(crate) fn main(child: &ChildContext<'_>) -> i32 {
    let jobs = Jobs::new();
    let (mut listener, waker) = match Listener::new(child, &jobs) {
        Ok(l) => l,
        Err(e) => {
            log::error!(target: "mpm", "AH00471: couldn't create the listener's pollset: {e}");
            return EXIT_CHILDSICK;
        }
    };
    jobs.set_waker(waker);
    let threads = (child.server.capacity.threads_per_child as usize).min(child.board.thread_limit());
    let stack = child.server.main().settings.thread_stack_size as usize;
    std::thread::scope(|scope| {
        for i in 0..threads {
            let mut builder = std::thread::Builder::new().name(format!("worker-{i}"));
            if stack > 0 {
                builder = builder.stack_size(stack);
            }
            let jobs = &jobs;
            if let Err(e) = builder.spawn_scoped(scope, move || worker(child, i, jobs)) {
                log::warn!(target: "mpm", "AH00480: unable to create worker thread {i}: {e}");
            }
        }
        listener.run();
        jobs.stop();
    });
    EXIT_OK
}

/// One worker: run a connection until it must wait, hand it back.
fn worker(child: &ChildContext<'_>, i: usize, jobs: &Jobs) {
    let slot = child.start_worker_thread(i);
    let ctx = child.server;
    let mut had_job = false;
    while let Some(job) = jobs.next(had_job) {
        had_job = true;
        let mut conn = job.conn;
        if std::mem::take(&mut conn.fresh) {
            conn.engine.set_slot(Some(slot), ctx);
        } else {
            conn.engine.attach_slot(Some(slot));
        }
        let outcome = if job.timed_out {
            match conn.engine.timed_out(ctx) {
                Outcome::Close => Outcome::Close,
                _ => conn.engine.step(&mut conn.stream, ctx),
            }
        } else {
            conn.engine.step(&mut conn.stream, ctx)
        };
        if matches!(outcome, Outcome::KeepAlive | Outcome::Close) {
            // Here rather than in the listener (which closes the connection
            // or parks it): the buffers go to this thread's pool, which its
            // next connection takes them from.
            conn.engine.release_buffers();
        }
        // The listener holds it from here: no worker slot to report in.
        conn.engine.attach_slot(None);
        slot.set_status(WorkerStatus::Ready);
        jobs.give_back(job.token, conn, outcome);
    }
    slot.set_status(WorkerStatus::Dead);
}
