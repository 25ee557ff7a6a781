//! The MPM boundary: which Multi-Processing Module a binary embeds.
//!
//! Each binary embeds exactly one MPM, chosen when it is built, as a statically
//! linked httpd module. Core knows the three by name (so that it can tell a user
//! which binary provides the MPM their configuration asks for); a binary hands
//! its own to [`crate::run`] through the [`Mpm`] trait, and an MPM with a
//! process model implements [`ProcessModel`] for [`crate::run_supervised`].

use crate::limits::Capacity;
use crate::listen::Listener;
use crate::pod::PipeOfDeath;
use crate::scoreboard::{Scoreboard, WorkerScore, WorkerStatus};
use crate::server::ServerContext;
use std::sync::atomic::Ordering::Relaxed;

/// The three Unix MPMs of Apache httpd 2.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MpmKind {
    Prefork,
    Worker,
    Event,
}

impl MpmKind {
    pub const ALL: [MpmKind; 3] = [MpmKind::Prefork, MpmKind::Worker, MpmKind::Event];

    /// The name mod_status and `-V` print (`Server MPM:`).
    pub fn name(self) -> &'static str {
        match self {
            MpmKind::Prefork => "prefork",
            MpmKind::Worker => "worker",
            MpmKind::Event => "event",
        }
    }

    /// The module identifier, as in `<IfModule mpm_event_module>` and `LoadModule`.
    pub fn module_id(self) -> &'static str {
        match self {
            MpmKind::Prefork => "mpm_prefork_module",
            MpmKind::Worker => "mpm_worker_module",
            MpmKind::Event => "mpm_event_module",
        }
    }

    /// The module's source file name, as in `<IfModule event.c>` and `-l`.
    pub fn source(self) -> &'static str {
        match self {
            MpmKind::Prefork => "prefork.c",
            MpmKind::Worker => "worker.c",
            MpmKind::Event => "event.c",
        }
    }

    /// The binary of this project that embeds this MPM.
    pub fn binary(self) -> &'static str {
        match self {
            MpmKind::Prefork => "prefork-server",
            MpmKind::Worker => "worker-server",
            MpmKind::Event => "event-server",
        }
    }

    /// Whether children run several worker threads (`-V`: `threaded:`).
    pub fn is_threaded(self) -> bool {
        !matches!(self, MpmKind::Prefork)
    }

    /// The module prefix httpd uses in error-log lines (`[mpm_event:notice]`).
    pub fn log_module(self) -> &'static str {
        match self {
            MpmKind::Prefork => "mpm_prefork",
            MpmKind::Worker => "mpm_worker",
            MpmKind::Event => "mpm_event",
        }
    }

    /// The MPM whose module identifier is `id`, if any.
    pub fn from_module_id(id: &str) -> Option<MpmKind> {
        MpmKind::ALL.into_iter().find(|k| k.module_id() == id)
    }
}

/// What a binary tells core about the MPM it embeds.
///
/// Static dispatch: the binary is the choice, so there is never a `dyn Mpm`.
pub trait Mpm {
    /// Which of httpd's MPMs this is.
    const KIND: MpmKind;
}

/// An MPM's process model: what differs between MPMs once core's supervisor
/// has forked a child into a slot, and the parent's once-a-second policy.
/// Core owns the parent loop (signals, reaping, generations, restarts).
pub trait ProcessModel: Mpm {
    /// What the policy remembers between passes (spawn rate, reports made).
    type State: Default;

    /// Runs in a forked child (privileges already dropped); returns its exit
    /// code (`process::EXIT_*`).
    fn child_main(child: &ChildContext<'_>) -> i32;

    /// Once a second in the parent: which slots to fork children into and
    /// how many children to retire. A pure function of the scoreboard, so it
    /// is tested on a fabricated one.
    fn maintain(
        board: &Scoreboard,
        capacity: &Capacity,
        generation: u32,
        state: &mut Self::State,
    ) -> Maintenance;
}

/// What a child gets from the supervisor.
pub struct ChildContext<'a> {
    /// Its scoreboard slot.
    pub slot: usize,
    /// The generation it belongs to.
    pub generation: u32,
    pub server: &'a ServerContext,
    pub board: &'static Scoreboard,
    pub listeners: &'a [Listener],
    pub pod: &'a PipeOfDeath,
}

impl ChildContext<'_> {
    /// Whether this child should stop taking work: told so (USR1 or the pipe
    /// of death), or a newer generation runs.
    pub fn should_stop(&self) -> bool {
        crate::process::child_should_stop()
            || self.board.global().running_generation() != self.generation
            || self.board.process(self.slot).quiescing()
    }

    /// For worker thread `i` of a threaded child, on that thread: blocks
    /// the signals the main thread handles, and takes slot `i` of this
    /// child's row (pid, tid, generation, Ready), as httpd's
    /// `ap_update_child_status` does when a worker starts.
    pub fn start_worker_thread(&self, i: usize) -> &'static WorkerScore {
        crate::process::block_signals_in_thread();
        let slot = self.board.worker(self.slot, i);
        slot.pid.store(std::process::id() as i32, Relaxed);
        slot.tid.store(nix::unistd::gettid().as_raw(), Relaxed);
        slot.generation.store(self.generation, Relaxed);
        slot.set_status(WorkerStatus::Ready);
        slot
    }
}

/// A maintenance decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maintenance {
    /// Slots to fork a child into.
    pub spawn: Vec<usize>,
    /// Children to retire through the pipe of death.
    pub retire: usize,
}
